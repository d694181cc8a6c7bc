r"""Aggregates that respect uncertainty: IQM, stratified bootstrap CIs, profiles, comparisons.

A few seeds per task make point estimates noisy; following Agarwal, Schwarzer, Castro,
Courville & Bellemare (2021), *Deep Reinforcement Learning at the Edge of the
Statistical Precipice* (NeurIPS), every aggregate here comes with a confidence interval
from a **stratified bootstrap**: each resample draws, within every task separately, as
many runs as that task has (with replacement), and recomputes the statistic on the
union, so that every task keeps its weight. The interval is the percentile interval
of the resampled statistic. The point statistic is the **interquartile mean** (IQM): the
mean of the middle 50% of the runs (``scipy.stats.trim_mean(x, 0.25)``), robust to an
outlying seed yet using more of the data than the median. Performance profiles give
the fraction of runs whose score is at most ``τ`` for every threshold ``τ``, and the
probability of improvement ``P(X < Y)`` compares two agents run by run.

The scores are gaps, so **lower is better**; the default,
``normalised_value_gap``, is 0 for the optimal policy and 1 for the uniform one on
every task (the return gap at temperature 0, the soft value gap at α > 0), so tasks
can be pooled. The same method is in the ``rliable`` package; it is written out here
(a few lines of numpy) to keep the dependencies small.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pandas as pd

    from ctrlinf._typing import ArrayLike, FloatArray

#: The default score: 0 optimal, 1 uniform policy, on every task.
METRIC = "normalised_value_gap"
#: Fraction cut at each end by the interquartile mean.
IQM_CUT = 0.25
N_RESAMPLES = 2000
CONFIDENCE = 0.95
#: The pooled row of :func:`summary` and :func:`compare`.
ALL_TASKS = "all tasks"
#: Columns :func:`summary` reports per task (IQM over seeds), in their own units.
UNIT_COLUMNS = ("return_gap", "advantage_loss", "optimal_action_fraction", "q_error")


def iqm(values: ArrayLike, axis: int | None = None) -> float | FloatArray:
    r"""Interquartile mean: the mean of the values between the 25th and 75th percentiles.

    ``scipy.stats.trim_mean(values, 0.25, axis)``: ``⌊n/4⌋`` values are dropped at each
    end of the sorted sample (none when ``n < 4``, so the IQM of 2 or 3 values is their
    mean). NaN values must be removed first.

    Examples
    --------
    >>> iqm([1.0, 2.0, 3.0, 100.0])                # drops 1 and 100
    2.5
    """
    from scipy.stats import trim_mean

    values = np.asarray(values, dtype=float)
    return trim_mean(values, IQM_CUT, axis=axis) if axis is not None else \
        float(trim_mean(values, IQM_CUT, axis=None))


def _pooled_iqm(samples):
    """IQM of the union of the strata, per resample: ``samples`` is a list of (B, n_t)."""
    return iqm(np.concatenate(samples, axis=1), axis=1)


def stratified_bootstrap(
        strata: Sequence[ArrayLike],
        statistic: Callable[[list[FloatArray]], FloatArray] = _pooled_iqm,
        n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE, seed: int = 0,
) -> tuple[float | FloatArray, float | FloatArray, float | FloatArray]:
    r"""Point estimate and percentile confidence interval by stratified bootstrap.

    Parameters
    ----------
    strata : sequence of array_like
        One 1-D sample per stratum (task): the per-seed scores.
    statistic : callable, default the IQM of the pooled runs
        ``statistic(samples)`` with ``samples`` a list of ``(B, n_t)`` arrays (``B``
        resamples of each stratum) returns shape ``(B,)`` or ``(B, K)``.
    n_resamples : int, default 2000
    confidence : float, default 0.95
    seed : int, default 0
        The resampling is seeded, so a report is reproducible.

    Returns
    -------
    point, low, high : float or ndarray (K,)
        ``statistic`` on the data, and the ``(1 ∓ confidence)/2`` quantiles of its
        resampled values (Agarwal et al. 2021; Efron & Tibshirani 1993, ch. 13).
    """
    strata = [np.asarray(s, dtype=float) for s in strata]
    if not strata or any(s.ndim != 1 or s.size == 0 for s in strata):
        raise ValueError("strata must be a non-empty list of non-empty 1-D samples")
    if any(not np.all(np.isfinite(s)) for s in strata):
        raise ValueError("strata must hold finite scores (drop failed runs first)")
    n_resamples = _checks.positive_int(n_resamples, "n_resamples")
    confidence = _checks.real(confidence, "confidence", low=0.0, high=1.0, low_open=True,
                              high_open=True)
    rng = np.random.default_rng(_checks.seed(seed))
    point = statistic([s[None, :] for s in strata])[0]
    resampled = [s[rng.integers(0, s.size, size=(n_resamples, s.size))] for s in strata]
    values = statistic(resampled)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail], axis=0)
    return point, low, high


def _scores(df, metric):
    """``{task: finite per-seed scores}`` in task order, and the failed count per task."""
    check_results(df, metric)
    strata, failed = {}, {}
    for task, rows in df.groupby("task", sort=False):
        values = np.asarray(rows[metric], dtype=float)
        strata[task] = values[np.isfinite(values)]
        failed[task] = int(np.count_nonzero(~np.isfinite(values)))
    return strata, failed


def check_results(df, metric):
    """Raise a ValueError unless ``df`` is a suite result with ``metric``, one suite version."""
    for name in ("task", "seed", metric):
        if name not in getattr(df, "columns", ()):
            raise ValueError(f"results must be a DataFrame of ci.bridge.suite.run with a "
                             f"{name!r} column")
    versions = set(df["suite_version"]) if "suite_version" in df.columns else set()
    if len(versions) > 1:
        raise ValueError(f"results mix suite versions {sorted(versions)}; compare like with "
                         f"like")


def summary(df: pd.DataFrame, metric: str = METRIC, n_resamples: int = N_RESAMPLES,
            confidence: float = CONFIDENCE, seed: int = 0) -> pd.DataFrame:
    """Per task and over all tasks: the IQM of ``metric`` with a bootstrap CI.

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`ctrlinf.bridge.suite.run`.
    metric : str, default "normalised_value_gap"
        A score column (lower is better).
    n_resamples, confidence, seed
        Of the bootstrap (:func:`stratified_bootstrap`).

    Returns
    -------
    pandas.DataFrame
        A row per task and a last row ``"all tasks"`` (the pooled runs, stratified by
        task), columns ``task``, ``runs`` (finite scores), ``failed``, ``iqm``,
        ``iqm_low``, ``iqm_high``, and the IQM over seeds of ``return_gap``,
        ``advantage_loss``, ``optimal_action_fraction`` and ``q_error`` (per task only:
        their units differ between tasks).
    """
    import pandas as pd

    strata, failed = _scores(df, metric)
    rows = []
    for task, scores in strata.items():
        row = {"task": task, "runs": int(scores.size), "failed": failed[task]}
        row.update(_iqm_interval([scores], n_resamples, confidence, seed))
        task_rows = df[df["task"] == task]
        for name in UNIT_COLUMNS:
            values = np.asarray(task_rows[name], dtype=float) if name in df.columns else []
            values = values[np.isfinite(values)] if len(values) else values
            row[name] = iqm(values) if len(values) else np.nan
        rows.append(row)
    pooled = [s for s in strata.values() if s.size]
    row = {"task": ALL_TASKS, "runs": int(sum(s.size for s in pooled)),
           "failed": int(sum(failed.values()))}
    row.update(_iqm_interval(pooled, n_resamples, confidence, seed))
    row.update({name: np.nan for name in UNIT_COLUMNS})
    rows.append(row)
    return pd.DataFrame(rows)


def _iqm_interval(strata, n_resamples, confidence, seed):
    strata = [s for s in strata if s.size]
    if not strata:
        return {"iqm": np.nan, "iqm_low": np.nan, "iqm_high": np.nan}
    point, low, high = stratified_bootstrap(strata, n_resamples=n_resamples,
                                            confidence=confidence, seed=seed)
    return {"iqm": float(point), "iqm_low": float(low), "iqm_high": float(high)}


def performance_profile(df: pd.DataFrame, metric: str = METRIC,
                        thresholds: ArrayLike | None = None, n_resamples: int = N_RESAMPLES,
                        confidence: float = CONFIDENCE, seed: int = 0) -> pd.DataFrame:
    r"""The fraction of runs with ``metric <= τ``, for each threshold τ, with bootstrap bands.

    ``F(τ) = (1/M) Σ_tasks (1/N_m) Σ_seeds [x_{m,n} ≤ τ]`` (each task weighs the
    same; Agarwal et al. 2021, "performance profiles", here for gaps, lower better).
    A curve that rises sooner is better; the area above it up to 1, integrated over τ,
    is the mean score.

    Parameters
    ----------
    df : pandas.DataFrame
    metric : str, default "normalised_value_gap"
    thresholds : array_like, optional
        Default 101 points from 0 to 1 (the normalised gaps of the optimal and the
        uniform policy).

    Returns
    -------
    pandas.DataFrame
        Columns ``threshold``, ``fraction``, ``low``, ``high``.
    """
    import pandas as pd

    strata, _ = _scores(df, metric)
    strata = [s for s in strata.values() if s.size]
    thresholds = np.linspace(0.0, 1.0, 101) if thresholds is None else \
        _checks.real_array(thresholds, "thresholds", shape=(None,))

    def fraction_below(samples):
        return np.mean([(s[:, :, None] <= thresholds).mean(axis=1) for s in samples], axis=0)

    if not strata:
        nan = np.full(thresholds.shape, np.nan)
        return pd.DataFrame({"threshold": thresholds, "fraction": nan, "low": nan, "high": nan})
    point, low, high = stratified_bootstrap(strata, fraction_below, n_resamples, confidence,
                                            seed)
    return pd.DataFrame({"threshold": thresholds, "fraction": point, "low": low,
                         "high": high})


def probability_of_improvement(df_x: pd.DataFrame, df_y: pd.DataFrame, metric: str = METRIC,
                               n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE,
                               seed: int = 0) -> tuple[float, float, float]:
    r"""``P(X < Y)``: how likely a run of agent X has a lower gap than a run of agent Y.

    Per task, the Mann–Whitney statistic ``(1/(N K)) Σ_{n,k} ([x_n < y_k] + ½[x_n = y_k])``
    over all pairs of runs; averaged over the tasks both agents completed (Agarwal et
    al. 2021). 0.5 means no difference; the interval resamples the seeds of X and Y
    independently within each task.

    Returns
    -------
    point, low, high : float
    """
    strata_x, _ = _scores(df_x, metric)
    strata_y, _ = _scores(df_y, metric)
    _check_same_version(df_x, df_y)
    tasks = [t for t in strata_x if t in strata_y and strata_x[t].size and strata_y[t].size]
    if not tasks:
        raise ValueError("the two results share no task with finite scores")
    n = len(tasks)

    def improvement(samples):
        xs, ys = samples[:n], samples[n:]
        per_task = [((x[:, :, None] < y[:, None, :]) + 0.5 * (x[:, :, None] == y[:, None, :]))
                    .mean(axis=(1, 2)) for x, y in zip(xs, ys)]
        return np.mean(per_task, axis=0)

    strata = [strata_x[t] for t in tasks] + [strata_y[t] for t in tasks]
    point, low, high = stratified_bootstrap(strata, improvement, n_resamples, confidence, seed)
    return float(point), float(low), float(high)


def _check_same_version(df_x, df_y):
    versions = set(df_x.get("suite_version", [])) | set(df_y.get("suite_version", []))
    if len(versions) > 1:
        raise ValueError(f"the results come from suite versions {sorted(versions)}; compare "
                         f"like with like")


def compare(df_x: pd.DataFrame, df_y: pd.DataFrame, metric: str = METRIC,
            n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE,
            seed: int = 0) -> pd.DataFrame:
    """Two agents' results side by side: IQMs, their difference, ``P(X < Y)``, per task.

    Returns
    -------
    pandas.DataFrame
        A row per task both ran, and ``"all tasks"``: ``iqm_x``, ``iqm_y``,
        ``difference`` (``iqm_x − iqm_y``; negative: X is better) with ``difference_low``
        and ``difference_high`` (X's and Y's runs resampled independently, stratified by
        task), and ``p_improvement`` (:func:`probability_of_improvement`) with its
        ``p_low`` and ``p_high``.
    """
    import pandas as pd

    _check_same_version(df_x, df_y)
    strata_x, _ = _scores(df_x, metric)
    strata_y, _ = _scores(df_y, metric)
    tasks = [t for t in strata_x if t in strata_y and strata_x[t].size and strata_y[t].size]
    if not tasks:
        raise ValueError("the two results share no task with finite scores")
    rows = []
    for name, chosen in [(t, [t]) for t in tasks] + [(ALL_TASKS, tasks)]:
        n = len(chosen)

        def difference(samples, n=n):
            return _pooled_iqm(samples[:n]) - _pooled_iqm(samples[n:])

        strata = [strata_x[t] for t in chosen] + [strata_y[t] for t in chosen]
        point, low, high = stratified_bootstrap(strata, difference, n_resamples, confidence,
                                                seed)
        p, p_low, p_high = probability_of_improvement(
            df_x[df_x["task"].isin(chosen)], df_y[df_y["task"].isin(chosen)], metric,
            n_resamples, confidence, seed)
        rows.append({"task": name,
                     "iqm_x": iqm(np.concatenate([strata_x[t] for t in chosen])),
                     "iqm_y": iqm(np.concatenate([strata_y[t] for t in chosen])),
                     "difference": float(point), "difference_low": float(low),
                     "difference_high": float(high), "p_improvement": p, "p_low": p_low,
                     "p_high": p_high})
    return pd.DataFrame(rows)
