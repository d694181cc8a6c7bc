"""Reference report cards of the exact suite: one command per agent.

    python benchmarks/suite_cards.py q_learning          # writes suite-cards/q_learning.html
    python benchmarks/suite_cards.py soft_q_learning sac_discrete
    python benchmarks/suite_cards.py all --workers 2
    python benchmarks/suite_cards.py sb3_dqn sb3_ppo     # needs pip install -e ".[sb3]"

Each card is what ``ctrlinf check AGENT --out CARD.html --seeds 5 [--temperature low]``
writes (the same runner and page); finished runs are kept in ``--store`` (default
``suite-cards/runs/NAME``), so an interrupted card resumes and a finished one is redrawn
without training again (only its failed runs are retried, as ``ci.sweep.run`` does). After the cards, a Markdown table of the interquartile mean of the normalised
gap per task (95% stratified-bootstrap interval) is printed, with the wall time of
each card: the table in README's "Report cards" section. Times depend on the machine
and on what else runs on it; nothing here asserts them.
"""
from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np

#: Card name -> (make_agent, temperature it is scored and trained at).
CARDS = {
    "q_learning": ("ctrlinf.bridge.suite.agents:q_learning", 0.0),
    "soft_q_learning": ("ctrlinf.bridge.suite.agents:soft_q_learning", "low"),
    "sac_discrete": ("ctrlinf.bridge.suite.agents:sac_discrete", "low"),
    "sb3_dqn": ("ctrlinf.bridge.suite.agents:sb3_dqn", 0.0),
    "sb3_ppo": ("ctrlinf.bridge.suite.agents:sb3_ppo", 0.0),
}


def card(name, out, store, seeds, n_workers, steps=None):
    """Run (or resume) one card, write its page, return ``(table, summary, seconds)``."""
    from ctrlinf.bridge import suite

    spec, temperature = CARDS[name]
    start = time.perf_counter()
    table = suite.run(spec, seeds=seeds, steps=steps, temperature=temperature,
                      store=store / name, n_workers=n_workers, progress=True)
    seconds = time.perf_counter() - start
    suite.report(table, out / f"{name}.html", title=f"{name} (temperature {temperature})")
    return table, suite.summary(table), seconds


def markdown(results):
    """One row per card: IQM [95% CI] of the normalised gap per task and over all tasks."""
    first = next(iter(results.values()))[1]
    tasks = list(first["task"])
    lines = ["| agent | " + " | ".join(tasks) + " | wall time |",
             "|---|" + "---|" * (len(tasks) + 1)]
    for name, (table, summary, seconds) in results.items():
        cells = []
        for task in tasks:
            row = summary[summary["task"] == task].iloc[0]
            if row["runs"] == 0:
                cells.append("failed")
            else:
                low, mid, high = (f"{round(row[k], 2) + 0.0:.2f}"      # no "-0.00"
                                  for k in ("iqm_low", "iqm", "iqm_high"))
                cells.append(f"{mid} [{low}, {high}]")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {seconds / 60:.0f} min |")
    return "\n".join(lines)


def check_claims(results):
    """Assert what README says about the cards, on the cards just made; return the checks.

    Each statement is checked only for the cards that were made in this call.
    """
    checked = []

    def claim(text, holds):
        assert holds, f"README's card claim no longer holds: {text}"
        checked.append(text)

    for name, (table, summary, _) in results.items():
        by_task = summary.set_index("task")
        masked = by_task.loc["masked_grid"]
        if name == "q_learning":
            claim("Q-learning respects the masks and solves masked_grid",
                  masked["failed"] == 0 and masked["iqm"] < 0.01)
        else:
            claim(f"{name} takes forbidden actions: every masked_grid run fails",
                  masked["runs"] == 0)
        claim(f"{name} settles on the near reward of long_horizon (IQM > 0.5)",
              by_task.loc["long_horizon", "iqm"] > 0.5)
        q_error = by_task.loc["long_horizon", "q_error"]
        if np.isfinite(q_error):
            claim(f"{name}'s Q error on long_horizon is about the far goal's value 100",
                  80 < q_error < 110)
        solved = {task: int((rows["normalised_value_gap"] < 0.05).sum())
                  for task, rows in table.groupby("task")}
        runs = table.groupby("task").size()
        expected = {"q_learning": 2, "soft_q_learning": 0, "sac_discrete": 0,
                    "sb3_dqn": runs["deep_chain"]}
        if name in expected:
            claim(f"{name} finds deep_chain's reward in {expected[name]} of "
                  f"{runs['deep_chain']} seeds", solved["deep_chain"] == expected[name])
        if name in ("soft_q_learning", "sac_discrete"):
            claim(f"{name} reaches two_routes' goal in 3 of 5 seeds", solved["two_routes"] == 3)
        if name in ("q_learning", "soft_q_learning", "sac_discrete"):
            claim(f"{name} solves slippery_cliff (IQM < 0.001)",
                  by_task.loc["slippery_cliff", "iqm"] < 1e-3)
    return checked


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cards", nargs="+", choices=[*CARDS, "all"])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("suite-cards"))
    parser.add_argument("--store", type=pathlib.Path, default=None,
                        help="default: OUT/runs")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None,
                        help="override every task's budget (default: the tasks' own)")
    args = parser.parse_args()
    names = list(CARDS) if "all" in args.cards else list(dict.fromkeys(args.cards))
    args.out.mkdir(parents=True, exist_ok=True)
    store = args.store or args.out / "runs"
    results = {}
    for name in names:
        results[name] = card(name, args.out, store, args.seeds, args.workers, args.steps)
        table, summary, seconds = results[name]
        print(f"\n{name}: {seconds:.0f} s, {int(table['error'].notna().sum())} failed runs")
        print(summary.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    print()
    print(markdown(results))
    for text in check_claims(results):
        print("claim holds:", text)


if __name__ == "__main__":
    main()
