"""Time one IRL iteration (exact value and gradient) on objectworld 32x32 and a 256x256 gridworld.

Run from the repository root::

    python benchmarks/irl_speed.py            # --quick: horizons 8 and 32, 3 repeats
    python benchmarks/irl_speed.py --full     # also horizon 128, 7 repeats
    python benchmarks/irl_speed.py --overhead # only the overhead table below, 30 repeats

The overhead table (``--overhead``; printed after the parts table otherwise) asks
what one evaluation of ``ci.irl.objective`` costs beyond the ``ci.solve`` +
``ci.marginals`` it wraps: soft, ``T = 20``, objectworld 16x16 and 32x32
(S = 256 and 1024, K = 64 and 128 features), 32 expert demos. In one loop, back
to back, it times the bare ``solve`` + ``marginals`` of the reward ``φ θ``, the
objective with the expert visitation passed as an array and with the demos, one
evaluation inside ``ci.irl.fit`` (plain gradient ascent, one evaluation per
iteration, read from ``history["time"]``), and the imitation-style dense einsum
partition function + occupancy of ``_baselines.py`` (baseline (c) of
``backward.py``). Ratios are of the medians and of the minima of the same loop, and
"paired" is the median over repeats of each time divided by the bare time of the same
repeat, the figure least moved by other processes on a shared machine.

One iteration of ``ci.irl.fit`` is one evaluation of the objective: the MDP with the
new reward (``Problem.reward_mdp``: the mask and a check of the reward, nothing of
``P`` or ``p0`` again), ``ci.solve(keep="all")``, ``ci.marginals``, and the
contraction with the features. The table splits the median time into those parts,
for both modes and for 1 and 2 numba threads (when numba has 2); "deep" adds the
forward and backward pass of a 32-32 MLP reward. Worlds: ``ci.experiments.irl_evd.make_world``
(objectworld with K = 128 features; the gridworld with K = 3 goal/pit/other
indicators, 5 actions, slip 0.1). Nothing is asserted; the load average is printed
because the machine is shared.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see benchmarks/irl_evd.py

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ctrlinf as ci  # noqa: E402
from ctrlinf.irl.deep import NetModel  # noqa: E402
from ctrlinf.irl.objectives import Problem  # noqa: E402
from ctrlinf.irl.objectives import contract  # noqa: E402
from ctrlinf.irl.objectives import linear_reward  # noqa: E402
from ctrlinf.irl.objectives import model_visitation  # noqa: E402
from _baselines import einsum_occupancy, einsum_partition  # noqa: E402

WORLDS = (("objectworld", 32), ("gridworld", 256))
#: (objectworld side, horizon, demos) of the overhead table: S = 256 and 1024.
OVERHEAD_SIZES = (16, 32)
OVERHEAD_HORIZON = 20
OVERHEAD_DEMOS = 32
#: Iterations of each short fit in the overhead loop (each gives that many evaluation times).
FIT_ITERATIONS = 2


def median_time(f, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def time_iteration(world, mode, repeats):
    """Median seconds of the parts of one objective evaluation."""
    theta = np.random.default_rng(0).normal(size=world.features.shape[-1])
    reward = linear_reward(world.features, theta, world.n_actions)
    problem = Problem(world, np.zeros_like(reward), mode)   # the data do not enter here
    parts = {}
    parts["reward"] = median_time(lambda: problem.reward_mdp(reward), repeats)
    mdp = problem.reward_mdp(reward)
    parts["solve"] = median_time(lambda: ci.solve(mdp, mode=mode, progress=False), repeats)
    sol = ci.solve(mdp, mode=mode, progress=False)
    parts["marginals"] = median_time(lambda: model_visitation(mdp, sol), repeats)
    D = model_visitation(mdp, sol)
    parts["features"] = median_time(lambda: contract(world.features, D), repeats)
    return parts


def time_deep(world, repeats):
    net = ci.irl.RewardNet(world.features.shape[-1], hidden=(32, 32))
    model = NetModel(net, world.features, world.n_actions)
    params = net.init_params(0)
    grad_r = np.ones((world.n_states, world.n_actions))

    def forward_backward():
        _, pull_back = model(params)
        pull_back(grad_r)

    return median_time(forward_backward, repeats)


def fit_evaluation_times(world, demos, iterations):
    """Seconds of each evaluation inside ``ci.irl.fit`` (gradient ascent: one per iteration).

    ``history["time"][0]`` holds the fit's set-up and first evaluation; every later
    entry is one iteration: one evaluation and one step.
    """
    res = ci.irl.fit(world, world.features, demos, optimizer="gradient", learning_rate=1e-3,
                     max_iter=iterations, gtol=None, progress=False)
    assert res.history["evaluations"][-1] == iterations + 1   # one evaluation per iteration
    return res.history["time"][1:]


def time_overhead(size, repeats, baseline=True):
    """Back-to-back times (s, per repeat) of the bare solve + marginals and what wraps them."""
    world = ci.experiments.irl_evd.make_world("objectworld", size=size, seed=0,
                                              horizon=OVERHEAD_HORIZON)
    demos = ci.experiments.irl_evd.expert_demos(world, OVERHEAD_DEMOS, seed=1)
    D_E = ci.irl.expert_visitation(world, demos)
    features = world.features
    theta = 0.1 * np.random.default_rng(0).normal(size=features.shape[-1])
    mdp = world.replace(r=features @ theta)
    P_dense, reward = mdp.transition_tensor(), np.array(mdp.r)

    def bare():
        ci.marginals(mdp, ci.solve(mdp, keep="all", progress=False))

    def imitation_style():
        _, _, policy = einsum_partition(P_dense, reward, OVERHEAD_HORIZON)
        einsum_occupancy(P_dense, policy, mdp.p0)

    calls = {"solve+marg.": bare,
             "obj. array": lambda: ci.irl.objective(world, features, D_E, theta),
             "obj. demos": lambda: ci.irl.objective(world, features, demos, theta)}
    if baseline:
        calls["imitation"] = imitation_style
    for f in calls.values():
        f()                                                   # compile / warm up
    times = {name: [] for name in (*calls, "in fit")}
    for _ in range(repeats):
        for name, f in calls.items():
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
        times["in fit"] += fit_evaluation_times(world, demos, FIT_ITERATIONS)
    return world, {name: np.array(t) for name, t in times.items()}


def overhead_table(repeats, baseline=True):
    print(f"\nOverhead of one soft objective evaluation (T={OVERHEAD_HORIZON}, objectworld, "
          f"{OVERHEAD_DEMOS} demos), NUMBA_NUM_THREADS={numba.get_num_threads()}; "
          f"median / min of {repeats}, load average {os.getloadavg()}")
    print(f"{'S':>5s} {'K':>4s} {'call':>12s} {'median ms':>10s} {'min ms':>8s} "
          f"{'/ bare: med.':>12s} {'min':>5s} {'paired':>6s}")
    for size in OVERHEAD_SIZES:
        world, times = time_overhead(size, repeats, baseline)
        bare = times["solve+marg."]
        for name, t in times.items():
            paired = t.reshape(repeats, -1) / bare[:, None]     # "in fit": several per repeat
            print(f"{world.n_states:5d} {world.features.shape[-1]:4d} {name:>12s} "
                  f"{1e3 * np.median(t):10.3f} {1e3 * t.min():8.3f} "
                  f"{np.median(t) / np.median(bare):12.2f} {t.min() / bare.min():5.2f} "
                  f"{np.median(paired):6.2f}", flush=True)
    print(f"load average after: {os.getloadavg()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="the default")
    group.add_argument("--full", action="store_true")
    group.add_argument("--overhead", action="store_true",
                       help="only the overhead table of ci.irl.objective and ci.irl.fit")
    parser.add_argument("--repeats", type=int, default=30,
                        help="repeats of the overhead table (default 30)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="leave the imitation-style einsum out of the overhead table")
    args = parser.parse_args(argv)
    if args.overhead:
        overhead_table(args.repeats, not args.no_baseline)
        return
    horizons = (8, 32, 128) if args.full else (8, 32)
    repeats = 7 if args.full else 3
    print(f"load average {os.getloadavg()}; OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']}; median of {repeats}")
    header = (f"{'world':16s} {'S':>6s} {'T':>4s} {'mode':>5s} {'thr':>3s} {'reward':>8s} "
              f"{'solve':>8s} {'marg.':>8s} {'feat.':>8s} {'total ms':>9s}")
    print(header)
    for name, size in WORLDS:
        for horizon in horizons:
            world = ci.experiments.irl_evd.make_world(name, size=size, seed=0, horizon=horizon)
            ci.solve(world, progress=False)          # compile / load the kernels once
            for mode in ("soft", "exact"):
                for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
                    numba.set_num_threads(threads)
                    parts = time_iteration(world, mode, repeats)
                    cells = " ".join(f"{1e3 * parts[k]:8.2f}" for k in
                                     ("reward", "solve", "marginals", "features"))
                    print(f"{name:16s} {world.n_states:6d} {horizon:4d} {mode:>5s} "
                          f"{threads:3d} {cells} {1e3 * sum(parts.values()):9.2f}", flush=True)
        numba.set_num_threads(1)
        print(f"{name:16s} deep 32-32 forward + backward: "
              f"{1e3 * time_deep(world, repeats):.2f} ms per iteration")
    overhead_table(args.repeats, not args.no_baseline)


if __name__ == "__main__":
    main()
