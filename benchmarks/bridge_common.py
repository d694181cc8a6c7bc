"""Shared pieces of the ``bridge_*`` benchmarks: problems, the sweep, the table, the plot.

Each benchmark measures an error against the exact oracle at several sample budgets
and several seeds, prints a table (median and range over seeds) with the log-log slope
of the median, and draws the curves on log-log axes into ``figures/bridge_<name>.png``.
Nothing is asserted: the tests hold the pass/fail bars.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small problems: threads only contend

import argparse  # noqa: E402
import time  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import ctrlinf as ci  # noqa: E402

FIGURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "figures")


def agent_mdp(n_actions=3):
    """The agents' benchmark MDP: 5 states, 2 successors per (s, a), episodes of T = 20.

    The agents are stationary and discounted (γ = 0.9), so their reference is
    ``Oracle.stationary(mdp, 0.9, temperature=1.0)`` (α = 1); the tests use the same worlds.
    """
    seed = 5 if n_actions == 2 else 0
    return ci.envs.random_mdp(5, n_actions, branching=2, seed=seed, horizon=20)


def parse(description, quick_help):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--seeds", type=int, default=None, help="seeds per point")
    parser.add_argument("--no-figure", action="store_true", help="print the table only")
    return parser.parse_args()


def sweep(measure, budgets, seeds, label):
    """``measure(budget, seed) -> error`` for every budget and seed, shape (len(budgets), seeds)."""
    errors = np.empty((len(budgets), seeds))
    start = time.perf_counter()
    for i, budget in enumerate(budgets):
        for seed in range(seeds):
            errors[i, seed] = measure(budget, seed)
    print(f"  {label}: {time.perf_counter() - start:.1f} s")
    return errors


def slope(budgets, errors):
    """Least-squares slope of log(median error) against log(budget)."""
    median = np.median(errors, axis=1)
    keep = median > 0
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(np.asarray(budgets)[keep]), np.log(median[keep]), 1)[0])


def table(title, x_name, budgets, curves):
    """Print one row per budget and one column (median [min, max]) per curve."""
    print(f"\n{title}")
    header = f"{x_name:>10}" + "".join(f"  {name:>30}" for name in curves)
    print(header)
    for i, budget in enumerate(budgets):
        cells = "".join(
            f"  {np.median(e[i]):10.4g} [{e[i].min():8.3g}, {e[i].max():8.3g}]"
            for e in curves.values())
        print(f"{budget:>10}" + cells)
    print(f"{'slope':>10}" + "".join(f"  {slope(budgets, e):30.2f}" for e in curves.values()))


def plot(path_name, panels, reference=-0.5):
    """One log-log panel per ``(title, x_label, y_label, budgets, {name: errors})``.

    Each curve is the median over seeds with a band from the minimum to the maximum;
    a dotted line of slope ``reference`` (the Monte-Carlo rate) is drawn for scale.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.6), squeeze=False)
    for ax, (title, x_label, y_label, budgets, curves) in zip(axes[0], panels):
        budgets = np.asarray(budgets, dtype=float)
        for k, (name, errors) in enumerate(curves.items()):
            median = np.median(errors, axis=1)
            ax.plot(budgets, median, "o-", color=f"C{k}", label=name, ms=3)
            ax.fill_between(budgets, errors.min(axis=1), errors.max(axis=1), color=f"C{k}",
                            alpha=0.2, lw=0)
        if reference is not None:
            first = np.median(next(iter(curves.values())), axis=1)[0]
            ax.plot(budgets, first * (budgets / budgets[0]) ** reference, ":", color="0.5",
                    label=f"slope {reference:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(FIGURES, exist_ok=True)
    path = os.path.join(FIGURES, f"bridge_{path_name}.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"figure: {path}")
