r"""Cell functions for :func:`ctrlinf.sweep.run`, and the IRL curves built on them.

A cell function takes its parameters (seeds included) as keyword arguments and returns
a dict of numbers, so the same cell gives the same numbers in any process or machine.
They live in the package so that every Dask worker can import them by name.

``irl_evd_cell`` is one point of the expected-value-difference curves of
``benchmarks/irl_evd.py`` and ``ctrlinf sweep irl-evd``; the set-up is that of
:mod:`ctrlinf.experiments.irl_evd`, after Levine, Popović & Koltun, *Nonlinear
Inverse Reinforcement Learning with Gaussian Processes* (NIPS 2011) and Wulfmeier,
Ondruska & Posner, *Maximum Entropy Deep Inverse Reinforcement Learning*
(arXiv:1507.04888).
"""
from __future__ import annotations

import functools
import os

import numpy as np

from ctrlinf import _checks

#: ``method`` names of :func:`irl_evd_cell`: (IRL mode, deep?, label for tables and plots).
METHODS = {
    "exact": ("exact", False, "MaxEnt exact (linear)"),
    "soft": ("soft", False, "MCE soft (linear)"),
    "deep": ("soft", True, "deep MaxEnt soft (MLP)"),
}
#: Seeds of the transfer worlds of training seed ``seed``: ``TRANSFER_SEED + 100 seed + j``.
TRANSFER_SEED = 10_000
QUICK = dict(demos=(2, 8, 32, 128), seeds=3, transfer=2, temperatures=(0.5, 1.0, 2.0))
FULL = dict(demos=(1, 2, 4, 8, 16, 32, 64, 128), seeds=5, transfer=3,
            temperatures=(0.25, 0.5, 1.0, 2.0, 4.0))


def gridworld_value(slip, temperature, size=6, mode="soft", horizon=20):
    """Expected start value of a square gridworld (start top-left, goal bottom-right).

    A small cell function for temperature and slip scans.

    Parameters
    ----------
    slip : float
        Probability in [0, 1] of a uniformly random move (:func:`ctrlinf.envs.gridworld`).
    temperature : float
        ``α > 0``.
    size : int, default 6
    mode : {"soft", "exact", "hard"}
    horizon : int, default 20

    Returns
    -------
    dict
        ``value``: ``p0 · V_0`` (reward units).
    """
    from ctrlinf import envs
    from ctrlinf.inference import solve

    grid = envs.gridworld((size, size), slip=slip, start=[(0, 0)],
                          goals=[(size - 1, size - 1)], horizon=horizon)
    sol = solve(grid, mode=mode, temperature=temperature, keep="V", progress=False)
    return {"value": float(grid.p0 @ sol.V[0])}


@functools.lru_cache(maxsize=16)
def _world(name, size, seed):
    """A world, its γ = 0.9 evaluation MDP and the EVD of a constant reward there.

    Cached per process: the cells of one seed share a world, and a worker that runs
    several of them builds it once (the numbers do not depend on the cache).
    """
    from ctrlinf.experiments.irl_evd import evaluation_mdp
    from ctrlinf.experiments.irl_evd import make_world
    from ctrlinf.irl.metrics import expected_value_difference

    world = make_world(name, size=size, seed=seed)
    evaluation = evaluation_mdp(world)
    return world, evaluation, expected_value_difference(evaluation, np.zeros(world.n_states))


def irl_evd_cell(world, method, n_demos, seed, size=32, expert_temperature=1.0, n_transfer=2):
    """Fit one IRL method to demos of one world; its expected value difference.

    Demos are ``n_demos`` rollouts (8 steps, uniform start) of the soft-optimal policy
    at ``expert_temperature`` of the world's true reward; sample ``seed + 1``, so the
    demos for fewer ``n_demos`` are a prefix of those for more and the curves share
    their noise. The fit runs at temperature 1
    (:func:`ctrlinf.experiments.irl_evd.fit_method`, network seed ``seed``). EVD is measured in the infinite-horizon world with γ = 0.9
    from a uniform start (:func:`ctrlinf.irl.expected_value_difference`); "transfer"
    applies the learned reward to the features of ``n_transfer`` fresh worlds of the same
    kind (seeds ``TRANSFER_SEED + 100 seed + j``).

    Parameters
    ----------
    world : {"objectworld", "binaryworld", "gridworld"}
    method : {"exact", "soft", "deep"}
        Linear MaxEnt IRL, linear maximum causal entropy IRL, deep (MLP) soft IRL.
    n_demos : int
    seed : int
        Seeds the world layout, the demos and the network.
    size : int, default 32
        Grid side.
    expert_temperature : float, default 1.0
        Temperature of the demonstrator; the learner assumes 1.
    n_transfer : int, default 2

    Returns
    -------
    dict
        ``evd``, ``evd_transfer`` (mean over the transfer worlds, NaN when
        ``n_transfer = 0``), ``evd_zero`` and ``evd_zero_transfer`` (a constant reward,
        i.e. a uniformly random policy), ``fit_seconds``, ``iterations``.
    """
    from ctrlinf.inference import solve
    from ctrlinf.experiments.irl_evd import fit_method
    from ctrlinf.irl.metrics import expected_value_difference
    from ctrlinf.trajectories import sample

    _checks.choice(method, "method", METHODS)
    mode, deep, _ = METHODS[method]
    mdp, evaluation, evd_zero = _world(world, size, seed)
    expert = solve(mdp, mode="soft", temperature=expert_temperature, progress=False)
    demos = sample(mdp, expert.policy, n=n_demos, seed=seed + 1)
    res, _, seconds = fit_method(mdp, demos, mode=mode, deep=deep, seed=seed)
    transfer, transfer_zero = [], []
    for j in range(n_transfer):
        other, other_eval, other_zero = _world(world, size, TRANSFER_SEED + 100 * seed + j)
        transfer.append(expected_value_difference(other_eval, res.reward_for(other.features)))
        transfer_zero.append(other_zero)
    return {"evd": expected_value_difference(evaluation, res.reward),
            "evd_transfer": float(np.mean(transfer)) if transfer else float("nan"),
            "evd_zero": evd_zero,
            "evd_zero_transfer": float(np.mean(transfer_zero)) if transfer else float("nan"),
            "fit_seconds": seconds, "iterations": int(res.n_iter)}


def irl_evd_grid(worlds=("objectworld", "binaryworld"), methods=("exact", "soft", "deep"),
                 demos=QUICK["demos"], seeds=QUICK["seeds"], size=32,
                 transfer=QUICK["transfer"], temperatures=QUICK["temperatures"]):
    """The cells of the EVD curves: methods × demo counts × seeds × worlds at expert
    temperature 1, plus a scan of the expert's temperature at the largest demo count.

    Returns
    -------
    list of dict
        Parameters of :func:`irl_evd_cell`.
    """
    cells = []
    for world in worlds:
        for seed in range(seeds):
            base = dict(world=world, seed=seed, size=size, n_transfer=transfer)
            cells += [dict(base, method=m, n_demos=n, expert_temperature=1.0)
                      for n in demos for m in methods]
            cells += [dict(base, method=m, n_demos=max(demos), expert_temperature=float(t))
                      for t in temperatures if float(t) != 1.0 for m in methods]
    return cells


#: Fewest seeds per point for which the tables and figures give an interval; with fewer,
#: they give each seed's value (a 95% interval from 2 to 4 values says little).
MIN_SEEDS_FOR_INTERVAL = 5
#: Resamples of the bootstrap, and the seed that makes its intervals reproducible.
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0


def mean_and_interval(values):
    """Mean and 95% bootstrap percentile interval of the mean of ``values``.

    The interval is the 2.5 and 97.5 percentiles of the means of
    ``BOOTSTRAP_RESAMPLES`` resamples (with replacement, seed ``BOOTSTRAP_SEED``;
    Efron & Tibshirani 1993, ch. 13). Every resampled mean lies between the
    smallest and the largest value, so the interval respects the quantity's range:
    an EVD, which is never negative, never gets a negative bound (a t interval,
    mean ± t·s/√n, does with few seeds). NaN bounds for fewer than
    ``MIN_SEEDS_FOR_INTERVAL`` values.

    Returns
    -------
    (float, float, float)
        ``(mean, low, high)``.
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if values.size < MIN_SEEDS_FOR_INTERVAL:
        return mean, float("nan"), float("nan")
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    resampled = values[rng.integers(values.size, size=(BOOTSTRAP_RESAMPLES, values.size))]
    low, high = np.percentile(resampled.mean(axis=1), [2.5, 97.5])
    return mean, float(low), float(high)


def summarise(table):
    """Mean and 95% bootstrap interval over seeds of each (world, method, n_demos, temperature).

    Parameters
    ----------
    table : pandas.DataFrame
        What :func:`ctrlinf.sweep.run` returned for :func:`irl_evd_cell`; failed cells
        are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``world, method, n_demos, expert_temperature, seeds``, then
        ``evd, evd_low, evd_high, evd_transfer, evd_transfer_low, evd_transfer_high,
        evd_zero, evd_zero_transfer, fit_seconds``: means over seeds, and the bounds of
        :func:`mean_and_interval` (NaN under ``MIN_SEEDS_FOR_INTERVAL`` seeds).
    """
    import pandas as pd

    done = table[table["error"].isna()]
    keys = ["world", "method", "n_demos", "expert_temperature"]
    rows = []
    for values, group in done.groupby(keys, sort=True):
        row = dict(zip(keys, values), seeds=len(group))
        for key in ("evd", "evd_transfer"):
            row[key], row[f"{key}_low"], row[f"{key}_high"] = mean_and_interval(group[key])
        rows.append(dict(row, evd_zero=group["evd_zero"].mean(),
                         evd_zero_transfer=group["evd_zero_transfer"].mean(),
                         fit_seconds=group["fit_seconds"].mean()))
    order = {method: i for i, method in enumerate(METHODS)}
    rows.sort(key=lambda row: (row["world"], order.get(row["method"], len(order)),
                               row["expert_temperature"] != 1.0, row["n_demos"],
                               row["expert_temperature"]))
    return pd.DataFrame(rows, columns=[*keys, "seeds", "evd", "evd_low", "evd_high",
                                       "evd_transfer", "evd_transfer_low", "evd_transfer_high",
                                       "evd_zero", "evd_zero_transfer", "fit_seconds"])


def plot_evd(summary, world, cells=None):
    """EVD against demos (training and transfer worlds) and against the expert's temperature.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`summarise`.
    world : str
        Which world's rows to draw.
    cells : pandas.DataFrame, optional
        The table of cells the summary came from; under ``MIN_SEEDS_FOR_INTERVAL``
        seeds each seed's value is drawn as a dot from it.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: means over seeds, with the 95% bootstrap intervals of
        :func:`mean_and_interval` as bands, or each seed's value as a dot when there
        are too few seeds for an interval.
    """
    from matplotlib.figure import Figure

    rows = summary[summary["world"] == world]
    seeds = int(rows["seeds"].max()) if len(rows) else 0
    dots = seeds < MIN_SEEDS_FOR_INTERVAL
    if cells is not None:
        cells = cells[(cells["world"] == world) & cells["error"].isna()]
    curves = rows[rows["expert_temperature"] == 1.0]
    fig = Figure(figsize=(14, 4), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    panels = ((axes[0], curves, "n_demos", "evd", "evd_zero", "training world"),
              (axes[1], curves, "n_demos", "evd_transfer", "evd_zero_transfer",
               "transfer worlds"))
    n_max = int(rows["n_demos"].max())
    scan = rows[rows["n_demos"] == n_max]
    panels += ((axes[2], scan, "expert_temperature", "evd", "evd_zero",
                f"expert temperature ({n_max} demos)"),)
    for ax, data, x, key, zero, title in panels:
        for i, (method, (_, _, label)) in enumerate(METHODS.items()):
            line = data[data["method"] == method].sort_values(x)
            if line.empty:
                continue
            ax.plot(line[x], line[key], "o-", color=f"C{i}", label=label)
            if not dots:
                ax.fill_between(line[x], line[f"{key}_low"], line[f"{key}_high"],
                                color=f"C{i}", alpha=0.2)
            elif cells is not None:
                mine = cells[(cells["method"] == method)
                             & cells[x].isin(line[x])
                             & ((cells["expert_temperature"] == 1.0) if x == "n_demos"
                                else (cells["n_demos"] == n_max))]
                ax.plot(mine[x], mine[key], ".", color=f"C{i}", alpha=0.5)
        if not data.empty:
            ax.axhline(data[zero].mean(), color="grey", ls="--", label="constant reward")
        ax.set_xscale("log", base=2)
        ax.set_title(title)
    axes[0].set_xlabel("demonstrations (8 steps each)")
    axes[1].set_xlabel("demonstrations (8 steps each)")
    axes[2].set_xlabel("temperature of the demonstrator (learner assumes 1)")
    axes[0].set_ylabel("expected value difference")
    axes[0].legend(fontsize=8)
    spread = "each seed a dot" if dots else "95% bootstrap intervals"
    fig.suptitle(f"{world}: expected value difference, mean of {seeds} seeds ({spread})")
    return fig


def irl_evd(store, worlds=("objectworld", "binaryworld"), methods=("exact", "soft", "deep"),
            demos=QUICK["demos"], seeds=QUICK["seeds"], size=32, transfer=QUICK["transfer"],
            temperatures=QUICK["temperatures"], scheduler=None, n_workers=None, out=None,
            plot=True, progress=None, stream=print):
    """Run (or complete) the EVD sweep in ``store``; print tables, write CSVs and figures.

    Parameters
    ----------
    store : str or os.PathLike
        The sweep's store (see :func:`ctrlinf.sweep.run`).
    worlds, methods, demos, seeds, size, transfer, temperatures
        See :func:`irl_evd_grid`.
    scheduler, n_workers, progress
        Passed to :func:`ctrlinf.sweep.run`.
    out : str or os.PathLike, optional
        Directory for ``irl_evd_cells.csv``, ``irl_evd_summary.csv`` and
        ``irl_<world>_evd.png`` (see :func:`plot_evd`); default ``store``.
    plot : bool, default True
        Write the figures.
    stream : callable, default print
        Receives the lines of the tables.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The table of cells and its :func:`summarise`.
    """
    from ctrlinf import sweep

    grid = irl_evd_grid(worlds, methods, demos, seeds, size, transfer, temperatures)
    table = sweep.run(irl_evd_cell, grid, store, scheduler=scheduler, n_workers=n_workers,
                      progress=progress)
    summary = summarise(table)
    folder = os.fspath(store if out is None else out)
    os.makedirs(folder, exist_ok=True)
    table.to_csv(os.path.join(folder, "irl_evd_cells.csv"), index=False)
    summary.to_csv(os.path.join(folder, "irl_evd_summary.csv"), index=False)
    for world in worlds:
        rows = summary[summary["world"] == world]
        seeds = int(rows["seeds"].max()) if len(rows) else 0
        spread = ("[95% bootstrap interval]" if seeds >= MIN_SEEDS_FOR_INTERVAL else
                  f"(too few seeds for an interval; each seed's EVD is in irl_evd_cells.csv)")
        stream(f"\n{world} {size}x{size}: EVD (γ = 0.9, hard-optimal policies), mean over "
               f"{seeds} seeds {spread}; a constant reward scores "
               f"{rows['evd_zero'].mean():.3f} (training) and "
               f"{rows['evd_zero_transfer'].mean():.3f} (transfer)")
        stream(f"{'method':24s} {'demos':>5s} {'expert τ':>8s} {'EVD train':>23s} "
               f"{'EVD transfer':>23s} {'fit s':>7s}")
        for row in rows.itertuples():
            train = _band(row.evd, row.evd_low, row.evd_high)
            transfer = _band(row.evd_transfer, row.evd_transfer_low, row.evd_transfer_high)
            stream(f"{METHODS[row.method][2]:24s} {row.n_demos:5d} "
                   f"{row.expert_temperature:8.3g} {train:>23s} {transfer:>23s} "
                   f"{row.fit_seconds:7.2f}")
        if plot and len(rows):
            path = os.path.join(folder, f"irl_{world}_evd.png")
            plot_evd(summary, world, cells=table).savefig(path, dpi=110)
            stream(f"wrote {path}")
    return table, summary


def _band(mean, low, high):
    return f"{mean:7.3f} [{low:6.3f}, {high:6.3f}]" if np.isfinite(low) else f"{mean:7.3f}"
