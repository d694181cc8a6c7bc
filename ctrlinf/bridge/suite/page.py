r"""The report card: one self-contained HTML page of a suite run (``ctrlinf check``).

The page holds a summary table (per task, the interquartile mean over seeds of the
normalised gap with its stratified-bootstrap interval, and of the gaps in the task's own
units), the performance profile over all runs, per-task learning curves of the exact
error, per-state error maps of each task's worst seed, the per-seed numbers, the failed
cells with their messages, and the suite version. Figures are matplotlib SVGs inlined
as ``data:`` URIs and the styles are inline, so the file opens from disk with no
network. Every number comes from :func:`ctrlinf.bridge.suite.run`'s DataFrame and
:mod:`ctrlinf.bridge.suite.aggregates`; the page computes nothing. The tables' cells
carry the exact value in ``data-value`` (the text shows 4 significant digits), and the
whole table is embedded as JSON in ``<script id="ctrlinf-results">``.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import pathlib
import warnings
from typing import TYPE_CHECKING

import numpy as np

from ctrlinf.bridge.suite import aggregates
from ctrlinf.bridge.suite.runner import CURVE_COLUMNS, SCORE_COLUMNS
from ctrlinf.bridge.suite.tasks import get_task

if TYPE_CHECKING:
    import pandas as pd

    from ctrlinf._typing import PathLike

#: Significant digits shown in the tables.
DIGITS = 4
#: Per-seed columns shown on the page (all numeric scores but the per-state arrays).
SEED_COLUMNS = ("task", "seed", "steps", "temperature", "normalised_value_gap", "return_gap",
                "advantage_loss", "optimal_action_fraction", "q_error", "kl", "seconds")
SUMMARY_COLUMNS = ("task", "runs", "failed", "iqm", "iqm_low", "iqm_high", "return_gap",
                   "advantage_loss", "optimal_action_fraction", "q_error")
HEADINGS = {
    "iqm": "IQM normalised gap", "iqm_low": "95% CI low", "iqm_high": "95% CI high",
    "return_gap": "return gap", "advantage_loss": "advantage loss",
    "optimal_action_fraction": "optimal actions", "q_error": "max |Q̂ − Q*|",
    "normalised_value_gap": "normalised gap", "kl": "KL", "seconds": "seconds",
}


def format_number(value):
    """How the page prints a number: ``DIGITS`` significant digits; "–" for NaN/None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{DIGITS}g}"
    return str(value)


def report(df: pd.DataFrame, path: PathLike, title: str | None = None,
           metric: str = aggregates.METRIC) -> pathlib.Path:
    """Write the report card of a suite run to ``path`` (one HTML file, no network).

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`ctrlinf.bridge.suite.run` (one agent, one suite version).
    path : str or os.PathLike
        The HTML file to write (overwritten).
    title : str, optional
        Default: the agent's name.
    metric : str, default "normalised_value_gap"
        The score of the summary, the curves and the profile (lower is better).

    Returns
    -------
    pathlib.Path
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    aggregates.check_results(df, metric)
    agents = sorted(set(df["agent"])) if "agent" in df.columns else ["agent"]
    title = ", ".join(agents) if title is None else str(title)
    table = aggregates.summary(df, metric)
    profile = aggregates.performance_profile(df, metric)
    sections = [
        _header(df, title),
        "<h2>Summary</h2>", _summary_note(metric), _table(table, SUMMARY_COLUMNS, "summary",
                                                          _probes),
        "<h2>Performance profile</h2>", _figure("profile", _profile_figure(profile, metric),
                                                "fraction of runs with a normalised gap at "
                                                "most τ, with 95% stratified-bootstrap bands"),
        "<h2>Learning curves</h2>",
        *[_figure(f"curve-{task}", _curve_figure(rows, task, metric),
                  f"{task}: every seed (thin), their median (thick) and their range (band)")
          for task, rows in df.groupby("task", sort=False) if _has_curves(rows)],
        "<h2>Where the worst seed errs</h2>",
        *[_figure(f"map-{task}", figure, caption)
          for task, rows in df.groupby("task", sort=False)
          for figure, caption in [_worst_seed_figure(rows, task, metric)] if figure is not None],
        "<h2>Every run</h2>", _table(df, SEED_COLUMNS, "runs"),
        _failures(df),
        _data_block(df, table),
    ]
    # One pass over the template: user text never meets a placeholder.
    head, rest = PAGE.split("%%TITLE%%")
    middle, tail = rest.split("%%BODY%%")
    text = head + html.escape(f"ctrlinf check: {title}") + middle + "\n".join(sections) + tail
    path = pathlib.Path(path)
    path.write_text(text, encoding="utf-8")
    return path


# -- text pieces ----------------------------------------------------------------------
def _header(df, title):
    version = ", ".join(sorted(set(map(str, df["suite_version"])))) \
        if "suite_version" in df.columns else "?"
    temperatures = sorted(set(float(t) for t in df["temperature"])) \
        if "temperature" in df.columns else []
    seeds = sorted(set(int(s) for s in df["seed"]))
    return (f"<h1>ctrlinf check: {html.escape(title)}</h1>\n"
            f"<p class=meta>suite version <b id=suite-version>{html.escape(version)}</b> · "
            f"{df['task'].nunique()} tasks × {len(seeds)} seeds · temperature "
            f"{', '.join(format_number(t) for t in temperatures)} · scored against the "
            f"exact infinite-horizon solution with each task's γ</p>")


def _summary_note(metric):
    return (f"<p class=note>IQM: interquartile mean over seeds (over all runs in the last "
            f"row, stratified by task) of <code>{html.escape(metric)}</code>: 0 for an optimal "
            f"policy, 1 for the uniform one; 95% intervals by stratified bootstrap (Agarwal et "
            f"al. 2021). The other columns are IQMs over seeds in each task's reward units. "
            f"Lower gaps are better.</p>")


def _probes(row):
    if row["task"] == aggregates.ALL_TASKS:
        return ""
    return get_task(row["task"]).probes


def _cell(value):
    text = html.escape(format_number(value))
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f'<td data-value="{float(value)!r}">{text}</td>'
    return f"<td>{text}</td>"


def _table(df, columns, name, describe=None):
    columns = [c for c in columns if c in df.columns]
    head = "".join(f"<th>{html.escape(HEADINGS.get(c, c))}</th>" for c in columns)
    rows = []
    for _, row in df.iterrows():
        cells = "".join(_cell(row[c]) for c in columns)
        if describe is not None:
            cells += f"<td class=probe>{html.escape(describe(row))}</td>"
        rows.append(f"<tr>{cells}</tr>")
    extra = "<th>what it probes</th>" if describe is not None else ""
    return (f'<table id="{name}"><thead><tr>{head}{extra}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _failures(df):
    failed = df[df["error"].notna()] if "error" in df.columns else df.iloc[:0]
    if not len(failed):
        return '<h2>Failed runs</h2><p id="failures">none</p>'
    items = "".join(f"<li><b>{html.escape(str(r.task))}</b>, seed {int(r.seed)}: "
                    f"{html.escape(str(r.error))}</li>" for r in failed.itertuples())
    return f'<h2>Failed runs</h2><ul id="failures">{items}</ul>'


def _data_block(df, table):
    def plain(value):
        if isinstance(value, (np.floating, float)):
            return None if math.isnan(value) else float(value)
        if isinstance(value, np.integer):
            return int(value)
        return value

    columns = [c for c in (*SEED_COLUMNS, *SCORE_COLUMNS, "error") if c in df.columns]
    runs = [{c: plain(row[c]) for c in dict.fromkeys(columns)} for _, row in df.iterrows()]
    summary = [{c: plain(row[c]) for c in table.columns} for _, row in table.iterrows()]
    payload = json.dumps({"runs": runs, "summary": summary}).replace("</", "<\\/")
    return f'<script type="application/json" id="ctrlinf-results">{payload}</script>'


# -- figures --------------------------------------------------------------------------
def _new_figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _figure(name, figure, caption):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure id="{html.escape(name)}"><img alt="{html.escape(caption)}" '
            f'src="data:image/svg+xml;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _profile_figure(profile, metric):
    figure = _new_figure(4.8, 3.0)
    ax = figure.subplots()
    ax.fill_between(profile["threshold"], profile["low"], profile["high"], alpha=0.3,
                    color="C0", linewidth=0)
    ax.plot(profile["threshold"], profile["fraction"], color="C0")
    ax.set_xlabel(f"τ ({metric})")
    ax.set_ylabel("fraction of runs ≤ τ")
    ax.set_ylim(-0.02, 1.02)
    return figure


def _has_curves(rows):
    return any(isinstance(c, list) and c for c in rows["curve_step"])


def _stacked(rows, column):
    """Seeds × checkpoints array of a curve column (rows of unequal length padded NaN)."""
    curves = [list(c) if isinstance(c, list) else [] for c in rows[column]]
    width = max(len(c) for c in curves)
    return np.array([c + [np.nan] * (width - len(c)) for c in curves], dtype=float)


def _curve_figure(rows, task, metric):
    panels = [("curve_normalised_value_gap", "normalised gap")]
    if np.isfinite(_stacked(rows, "curve_q_error")).any():
        panels.append(("curve_q_error", "max |Q̂ − Q*| (reachable)"))
    figure = _new_figure(4.2 * len(panels), 2.8)
    axes = np.atleast_1d(figure.subplots(1, len(panels)))
    steps = _stacked(rows, "curve_step")
    x = np.nanmedian(steps, axis=0)
    for ax, (column, label) in zip(axes, panels):
        values = _stacked(rows, column)
        for seed_values, seed_steps in zip(values, steps):
            ax.plot(seed_steps, seed_values, color="C0", alpha=0.35, linewidth=0.8)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # all-NaN checkpoints
            ax.fill_between(x, np.nanmin(values, axis=0), np.nanmax(values, axis=0),
                            color="C0", alpha=0.15, linewidth=0)
            ax.plot(x, np.nanmedian(values, axis=0), color="C0", linewidth=2)
        ax.set_xlabel("environment steps")
        ax.set_ylabel(label)
    figure.suptitle(task, fontsize=10)
    return figure


def _worst_seed_figure(rows, task, metric):
    import ctrlinf as ci

    scores = np.asarray(rows[metric], dtype=float)
    if not np.isfinite(scores).any():
        return None, None
    worst = rows.iloc[int(np.nanargmax(scores))]
    mdp = get_task(task).mdp()
    maps = [(np.asarray(worst["state_regret"], dtype=float), "return lost per step")]
    q_errors = np.asarray(worst["state_q_error"], dtype=float)
    if np.isfinite(q_errors).any():
        maps.append((q_errors, "max |Q̂ − Q*| over actions"))
    figure = _new_figure(4.2 * len(maps), 3.2)
    axes = np.atleast_1d(figure.subplots(1, len(maps)))
    for ax, (values, label) in zip(axes, maps):
        ci.plot.error_map(mdp, values, ax=ax, label=label, title=label)
    figure.suptitle(f"{task}, seed {int(worst['seed'])} ({metric} "
                    f"{format_number(float(worst[metric]))})", fontsize=10)
    caption = (f"{task}: the worst seed ({int(worst['seed'])}); white states were not "
               f"visited (regret) or not reachable (Q error)")
    return figure, caption


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ctrlinf check">
<link rel="icon" href="data:,">
<title>%%TITLE%%</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 18px 24px;
         color: #222; background: #fff; max-width: 1300px; }
  h1 { font-size: 20px; margin: 0 0 6px; } h2 { font-size: 16px; margin: 22px 0 8px; }
  .meta, .note { color: #444; } .note { font-size: 13px; max-width: 1000px; }
  table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
  th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
  th:first-child, td:first-child, td.probe { text-align: left; }
  td.probe { color: #555; font-size: 12px; max-width: 480px; }
  tbody tr:last-child td { font-weight: 600; }
  #runs tbody tr:last-child td { font-weight: 400; }
  figure { display: inline-block; margin: 6px 16px 10px 0; vertical-align: top; }
  figure img { display: block; max-width: 100%; }
  figcaption { font-size: 12px; color: #555; max-width: 520px; }
  #failures li { color: #a00; }
</style>
</head>
<body>
%%BODY%%
</body>
</html>
"""
