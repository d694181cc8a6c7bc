r"""A complete IRL experiment on a benchmark world: what ``ctrlinf irl WORLD`` runs.

Demos are sampled from the soft-optimal policy (temperature 1) of the world's true
reward, with ``DEMO_LENGTH = 8`` steps from a uniform start as in the objectworld
experiments of Levine, Popović & Koltun (2011); the model's horizon is the demo
length, and its ``p0`` the demos' start distribution. The learned reward is scored
by the expected value difference in the infinite-horizon version of the world with
``γ = EVAL_GAMMA = 0.9`` (the discount of those experiments), with hard-optimal
policies, from a uniform start.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ctrlinf import _checks, envs
from ctrlinf.inference import solve
from ctrlinf.irl.deep import fit_deep
from ctrlinf.irl.demos import expert_visitation
from ctrlinf.irl.demos import start_distribution
from ctrlinf.irl.fitting import fit
from ctrlinf.irl.metrics import expected_value_difference
from ctrlinf.irl.objectives import contract
from ctrlinf.irl.objectives import model_visitation
from ctrlinf.trajectories import sample

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ctrlinf._typing import ArrayLike, PathLike, Seed
    from ctrlinf.envs.grid import GridMDP
    from ctrlinf.irl.fitting import IRLResult
    from ctrlinf.trajectories import Trajectories

WORLDS = ("objectworld", "binaryworld", "gridworld")
DEMO_LENGTH = 8
EVAL_GAMMA = 0.9
DEFAULT_SIZE = {"objectworld": 32, "binaryworld": 32, "gridworld": 10}

#: Default regularisation of run_demo: small enough not to bias, large enough that
#: θ stays finite when a handful of demos leaves μ_E on the boundary.
LINEAR_L2 = 0.01
DEEP_L2 = 0.1
#: Adam steps of each deep fit: a fixed budget, so that the deep fits of a sweep cost
#: the same and none warns that it stopped short of a gradient tolerance (the linear
#: fits run L-BFGS to convergence).
DEEP_STEPS = 300


#: Smallest grid side of the benchmark worlds: a 1x1 world has a single state, where
#: every reward is optimal (each EVD is 0), and gridworld places 2 goals and 2 pits in
#: distinct cells.
MIN_SIZE = 2


def check_size(name: str, size: int) -> int:
    """Return ``size`` if ``make_world(name, size)`` can build a world worth learning in.

    Raises
    ------
    ValueError
        ``name`` is not one of :data:`WORLDS`, or ``size`` is below :data:`MIN_SIZE`.
    TypeError
        ``size`` is not an int.
    """
    if name not in WORLDS:
        raise ValueError(f"world must be one of {WORLDS}, got {name!r}")
    size = _checks.integer(size, "size", low=1)
    if size < MIN_SIZE:
        why = ("it places 2 goals and 2 pits in distinct cells" if name == "gridworld" else
               "a 1x1 world has one state, where every reward is optimal and every EVD is 0")
        raise ValueError(f"size {size} is too small for {name}: {why} (size >= {MIN_SIZE})")
    return size


def make_world(name: Literal["objectworld", "binaryworld", "gridworld"], size: int | None = None,
               seed: Seed = None, horizon: int | None = DEMO_LENGTH) -> GridMDP:
    """Build a benchmark world with reward features; a ``GridMDP`` with ``.features``.

    ``"objectworld"``: Levine et al. 2011 (``colours=(2, 2)``, wind 0.3, the discrete
    "closer than d" features). ``"binaryworld"``: Wulfmeier et al. 2015 (wind 0.3,
    3x3 neighbourhood colours). ``"gridworld"``: goals (+1), pits (−1) and a step cost
    (−0.01) placed at random, with the three indicator features "goal", "pit", "other",
    so the true reward is linear in them. The start is uniform over all cells.

    Parameters
    ----------
    name : {"objectworld", "binaryworld", "gridworld"}
    size : int, optional
        Side of the square grid, at least :data:`MIN_SIZE`; defaults 32, 32 and 10.
    seed : int or numpy.random.Generator, optional
        Seeds the layout (None: fresh entropy).
    horizon : int or None, default 8
    """
    size = check_size(name, DEFAULT_SIZE.get(name, MIN_SIZE) if size is None else size)
    if name == "objectworld":
        return envs.objectworld(size=size, colours=(2, 2), wind=0.3, seed=seed,
                                horizon=horizon)
    if name == "binaryworld":
        return envs.binaryworld(size=size, seed=seed, wind=0.3, horizon=horizon)
    rng = np.random.default_rng(_checks.seed(seed))
    cells = rng.choice(size * size, size=4, replace=False)
    goals, pits = [divmod(int(c), size) for c in cells[:2]], [divmod(int(c), size)
                                                               for c in cells[2:]]
    base = envs.gridworld((size, size), slip=0.1, goals=goals, pits=pits, horizon=horizon,
                          start=np.ones((size, size), dtype=bool))
    kinds = np.stack([base.goals.ravel(), base.pits.ravel(),
                      ~(base.goals | base.pits).ravel()], axis=1).astype(np.float64)
    return envs.gridworld((size, size), slip=0.1, goals=goals, pits=pits, horizon=horizon,
                          start=np.ones((size, size), dtype=bool), features=kinds)


def evaluation_mdp(world: GridMDP) -> GridMDP:
    """The world with an infinite horizon and ``γ = EVAL_GAMMA``, where EVD is measured."""
    return world.replace(horizon=None, gamma=EVAL_GAMMA)


def expert_demos(world: GridMDP, n_demos: int, seed: Seed = None) -> Trajectories:
    """``n_demos`` rollouts of the soft-optimal policy (temperature 1) of the world's reward."""
    expert = solve(world, mode="soft", progress=False)
    return sample(world, expert.policy, n=n_demos, seed=seed)


def fit_method(world: GridMDP, demos: Trajectories, mode: Literal["soft", "exact"], deep: bool,
               seed: Seed = None,
               progress: bool | None = None) -> tuple[IRLResult, GridMDP, float]:
    """Fit a linear or deep reward to ``demos`` on ``world.features``.

    The training MDP is the world with ``p0`` set to the demos' start distribution
    (see :func:`~ctrlinf.irl.start_distribution`); regularisation ``LINEAR_L2`` or
    ``DEEP_L2``; a deep fit takes ``DEEP_STEPS`` steps. Returns ``(IRLResult, training mdp, seconds)``.
    """
    train = world.replace(p0=start_distribution(demos, world.n_states))
    start = time.perf_counter()
    if deep:
        res = fit_deep(train, world.features, demos, mode=mode, l2=DEEP_L2, seed=seed,
                       max_iter=DEEP_STEPS, gtol=None, progress=progress)
    else:
        res = fit(train, world.features, demos, mode=mode, l2=LINEAR_L2, progress=progress)
    return res, train, time.perf_counter() - start


def run_demo(world: Literal["objectworld", "binaryworld", "gridworld"] = "objectworld",
             n_demos: int = 32, mode: Literal["soft", "exact"] = "soft", deep: bool = False,
             plot: PathLike | None = None, seed: int | None = None, size: int | None = None,
             progress: bool | None = None) -> dict[str, Any]:
    """Sample demos in a world, fit a reward, and report how good it is.

    Parameters
    ----------
    world : {"objectworld", "binaryworld", "gridworld"}
    n_demos : int, default 32
        Demonstrations of ``DEMO_LENGTH`` steps.
    mode : {"soft", "exact"}
    deep : bool, default False
        Fit an MLP reward (:func:`~ctrlinf.irl.fit_deep`) instead of a linear one.
    plot : str or os.PathLike, optional
        Write the true and the learned reward side by side to this image file.
    seed : int, optional
        Seeds the world, the demos and the network; None draws one (reported as
        ``seed``), so every run can be repeated.
    size : int, optional
        Grid side (see :func:`make_world`).
    progress : bool or None
        Progress bar of the fit; None shows one for long fits only.

    Returns
    -------
    dict
        ``world``, ``mode``, ``deep``, ``n_demos``; ``evd`` (of the learned reward) and
        ``evd_zero`` (of a constant reward, i.e. a uniformly random policy) in the
        ``γ = 0.9`` world; ``feature_gap`` ``‖μ_E − μ_θ‖_∞`` on the world's features;
        ``fit_time`` (s), ``n_iter``, ``converged`` and the ``seed`` used.
    """
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    seed = _checks.integer(seed, "seed", low=0)
    mdp = make_world(world, size=size, seed=seed)
    demos = expert_demos(mdp, n_demos, seed=seed + 1)
    res, train, fit_time = fit_method(mdp, demos, mode, deep, seed=seed, progress=progress)
    gap = contract(mdp.features, expert_visitation(train, demos)
                   - model_visitation(train.replace(r=res.reward), res.solution))
    evaluation = evaluation_mdp(mdp)
    report = {
        "world": world, "mode": mode, "deep": bool(deep), "n_demos": int(n_demos),
        "evd": expected_value_difference(evaluation, res.reward),
        "evd_zero": expected_value_difference(evaluation, np.zeros(mdp.n_states)),
        "feature_gap": float(np.max(np.abs(gap))),
        "fit_time": fit_time, "n_iter": res.n_iter, "converged": res.converged,
        "seed": seed,
    }
    if plot is not None:
        plot_rewards(mdp, res.reward, plot, title=f"{world}: {n_demos} demos, "
                     f"{'deep' if deep else 'linear'} {mode}, EVD {report['evd']:.3g}")
    return report


def plot_rewards(mdp: GridMDP, learned: ArrayLike, path: PathLike,
                 title: str | None = None) -> Figure:
    """Save the true reward and the learned one (mean over actions) side by side."""
    from matplotlib.figure import Figure

    from ctrlinf import plot

    fig = Figure(figsize=(9.5, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    plot.heatmap(mdp, mdp.r.mean(axis=1), ax=left, title="true reward", mark_start=False)
    plot.heatmap(mdp, np.asarray(learned).reshape(mdp.n_states, -1).mean(axis=1), ax=right,
                 title="learned reward (up to a constant)", mark_start=False)
    if title is not None:
        fig.suptitle(title)
    fig.savefig(path, dpi=110)
    return fig
