"""Reference report cards of the exact suite: one command per agent.

    python benchmarks/suite_cards.py q_learning          # writes suite-cards/q_learning.html
    python benchmarks/suite_cards.py soft_q_learning sac_discrete
    python benchmarks/suite_cards.py all --workers 2
    python benchmarks/suite_cards.py sb3_dqn sb3_ppo     # needs torch==2.13.0 and the sb3 extra

Each card is what ``ctrlinf check AGENT --out CARD.html --seeds 5 [--temperature low]``
writes (the same runner and page); finished runs are kept in ``--store`` (default
``suite-cards/runs/NAME``), so an interrupted card resumes and a finished one is redrawn
without training again (only its failed runs are retried, as ``ci.sweep.run`` does).
After the cards, a Markdown table of the interquartile mean of the normalised gap per
task (95% stratified-bootstrap interval) is printed, with each card's seeds × steps and
wall time: the table in README's "Report cards" section; then every statement README
makes about the cards is asserted on the cards just made. Times depend on the machine
and on what else runs on it; nothing here asserts them.
"""
from __future__ import annotations

import argparse
import pathlib
import re
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


def budget(table):
    """A card's seeds × steps: ``"5 × task's"`` (each task's budget) or ``"3 × 10 000"``."""
    from ctrlinf.bridge import suite

    seeds = table["seed"].nunique()
    own = all((rows["steps"] == suite.get_task(task).steps).all()
              for task, rows in table.groupby("task"))
    if own:
        return f"{seeds} × task's"
    return f"{seeds} × " + " / ".join(f"{int(n):,}".replace(",", " ")
                                      for n in sorted(table["steps"].unique()))


def markdown(results):
    """One row per card: IQM [95% CI] of the normalised gap per task and over all tasks."""
    first = next(iter(results.values()))[1]
    tasks = list(first["task"])
    lines = ["| agent | seeds × steps | " + " | ".join(tasks) + " | wall time |",
             "|---|---|" + "---|" * (len(tasks) + 1)]
    for name, (table, summary, seconds) in results.items():
        cells = [budget(table)]
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


#: What a forbidden-action failure says (``ctrlinf.bridge.suite.runner.score``).
LEAK = re.compile(r"agent\.policy\(\) at step (\d+) puts probability (\S+) on action \d+ "
                  r"in state \d+, which is forbidden")


def first_update(name):
    """The environment step of an SB3 agent's first gradient update (before it, the
    network is the untrained one): DQN's ``learning_starts``, PPO's ``n_steps``."""
    if name == "sb3_dqn":
        from ctrlinf.bridge.suite.agents import DQN_OPTIONS

        return DQN_OPTIONS["learning_starts"]
    import inspect

    import stable_baselines3

    return inspect.signature(stable_baselines3.PPO).parameters["n_steps"].default


def masks_claims(name, table, masked, claim):
    """README's "Masks" bullet, for card ``name``: which masked_grid runs fail, and how.

    ``masked`` is the card's summary row of masked_grid. A run fails when its final
    policy gives a forbidden move probability; at an earlier checkpoint that point of its
    curve is NaN (``ctrlinf.bridge.suite.runner.score``).
    """
    from ctrlinf.bridge import suite

    task = suite.get_task("masked_grid")
    rows = table[table["task"] == "masked_grid"]
    leaks = [LEAK.search(str(error)) for error in rows["error"].dropna()]
    assert all(leaks), f"{name}: a masked_grid run failed for another reason: {rows['error']}"
    at_end = {int(leak[1]) for leak in leaks} <= set(rows["steps"])
    probability = np.array([float(leak[2]) for leak in leaks])
    scored = rows[rows["error"].isna()]
    gaps = np.array([np.asarray(c, dtype=float) for c in scored["curve_normalised_value_gap"]])
    steps = np.array([np.asarray(c, dtype=float) for c in scored["curve_step"]])
    early = np.isnan(gaps).any(axis=1) if len(scored) else np.zeros(0, dtype=bool)
    if name == "q_learning":
        claim("Q-learning reads the masks and solves masked_grid in every run (IQM < 0.01)",
              not leaks and masked["iqm"] < 0.01 and not early.any())
    elif name == "soft_q_learning":
        from ctrlinf.bridge._common import softmax_rows

        alpha = float(rows["temperature"].iloc[0])
        claim("soft Q-learning's policy is exactly 0 on a move more than 746 alpha below the "
              "best (alpha = 0.005 on masked_grid)", alpha == 0.005
              and softmax_rows(np.array([0.0, -746 * alpha]) / alpha)[1] == 0)
        claim("soft Q-learning: every masked_grid run is scored, IQM between 0.5 and 0.7; "
              "3 of 5 gave a forbidden move probability up to step 4000 (NaN there), "
              "not after",
              not leaks and 0.5 < masked["iqm"] < 0.7 and early.sum() == 3
              and (steps[np.isnan(gaps)] <= 4000).all())
    elif name == "sac_discrete":
        claim("SAC: every masked_grid run fails, its final policy giving a forbidden move "
              "about 1e-7 (between 1e-8 and 1e-6)",
              len(scored) == 0 and at_end and 1e-8 < probability.min()
              and probability.max() < 1e-6)
    elif name in ("sb3_dqn", "sb3_ppo"):
        # A greedy path that never reaches the goal is paid -0.01 per step, forever.
        never = task.answer()["optimal_return"] + 0.01 / (1 - task.gamma)
        runs = {"sb3_dqn": 2, "sb3_ppo": 3}[name]
        claim(f"{name}: every masked_grid run is scored; its greedy policy never reaches the "
              f"goal (return -0.01/(1 - gamma)), normalised gap 1.00; its untrained network "
              f"takes a forbidden move (NaN) in {runs} of 3 runs, never after its first "
              f"update",
              not leaks and len(scored) == 3
              and np.allclose(scored["return_gap"], never, rtol=0, atol=1e-9)
              and np.all(np.abs(scored["normalised_value_gap"] - 1) < 0.005)
              and early.sum() == runs and (steps[np.isnan(gaps)] <= first_update(name)).all())


def check_claims(results):
    """Assert what README says about the cards, on the cards just made; return the checks.

    Each statement is checked only for the cards that were made in this call.
    """
    checked = []

    def claim(text, holds):
        assert holds, f"README's card claim no longer holds: {text}"
        checked.append(text)

    from ctrlinf.bridge import suite

    claim("a forbidden move on masked_grid ends the episode with reward -51",
          suite.get_task("masked_grid").env(seed=0).forbidden_reward == -51.0)
    for name, (table, summary, _) in results.items():
        by_task = summary.set_index("task")
        masks_claims(name, table, by_task.loc["masked_grid"], claim)
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
