"""Time one IRL iteration (exact value and gradient) on objectworld 32x32 and a 256x256 gridworld.

Run from the repository root::

    python benchmarks/irl_speed.py            # --quick: horizons 8 and 32, 3 repeats
    python benchmarks/irl_speed.py --full     # also horizon 128, 7 repeats

One iteration of ``ci.irl.fit`` is one call of the objective: a copy of the MDP with
the new reward (``TabularMDP.replace``, which validates it), ``ci.solve(keep="all")``,
``ci.marginals``, and the contraction with the features. The table splits the median
time into those parts, for both modes and for 1 and 2 numba threads; "deep" adds the
forward and backward pass of a 32-32 MLP reward. Worlds: ``ci.experiments.irl_evd.make_world``
(objectworld with K = 128 features; the gridworld with K = 3 goal/pit/other
indicators, 5 actions, slip 0.1). Nothing is asserted; the load average is printed
because the machine is shared.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see benchmarks/irl_evd.py

import argparse  # noqa: E402
import time  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

import ctrlinf as ci  # noqa: E402
from ctrlinf.irl.deep import NetModel  # noqa: E402
from ctrlinf.irl.objectives import contract  # noqa: E402
from ctrlinf.irl.objectives import model_visitation  # noqa: E402

WORLDS = (("objectworld", 32), ("gridworld", 256))


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
    reward = world.features @ theta
    parts = {}
    parts["replace"] = median_time(lambda: world.replace(r=reward), repeats)
    mdp = world.replace(r=reward)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="the default")
    group.add_argument("--full", action="store_true")
    args = parser.parse_args(argv)
    horizons = (8, 32, 128) if args.full else (8, 32)
    repeats = 7 if args.full else 3
    print(f"load average {os.getloadavg()}; OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']}; median of {repeats}")
    header = (f"{'world':16s} {'S':>6s} {'T':>4s} {'mode':>5s} {'thr':>3s} {'replace':>8s} "
              f"{'solve':>8s} {'marg.':>8s} {'feat.':>8s} {'total ms':>9s}")
    print(header)
    for name, size in WORLDS:
        for horizon in horizons:
            world = ci.experiments.irl_evd.make_world(name, size=size, seed=0, horizon=horizon)
            ci.solve(world, progress=False)          # compile / load the kernels once
            for mode in ("soft", "exact"):
                for threads in (1, 2):
                    numba.set_num_threads(threads)
                    parts = time_iteration(world, mode, repeats)
                    cells = " ".join(f"{1e3 * parts[k]:8.2f}" for k in
                                     ("replace", "solve", "marginals", "features"))
                    print(f"{name:16s} {world.n_states:6d} {horizon:4d} {mode:>5s} "
                          f"{threads:3d} {cells} {1e3 * sum(parts.values()):9.2f}", flush=True)
        numba.set_num_threads(1)
        print(f"{name:16s} deep 32-32 forward + backward: "
              f"{1e3 * time_deep(world, repeats):.2f} ms per iteration")


if __name__ == "__main__":
    main()
