"""Monte-Carlo state-action visitation against the exact forward recursion.

Run from the repository root::

    python benchmarks/bridge_visitation.py --quick   # 4 budgets, 20 repeats (~5 s)
    python benchmarks/bridge_visitation.py           # 7 budgets, 100 repeats (~30 s)

Set-up: a 20-state, 3-action random MDP (3 successors per (s, a)) and a fixed random
policy. Left: the mean per-step L1 error Σ|d̂_t − d_t| / T against the number of
trajectories, for horizons T = 5, 20, 80 (unbiased: the error is all variance and falls
as 1/√N; longer horizons spread the same trajectories over more steps). Right: the
infinite-horizon (γ = 0.9) estimate from rollouts of length L, whose bias (the L1 norm
of the mean error over repeats) stops falling at a truncation floor (at most 2 γ^L).
Table and ``figures/bridge_visitation.png``.
"""
import numpy as np

import ctrlinf as ci
from bridge_common import parse, plot, sweep, table

QUICK = dict(budgets=(10, 100, 1000, 10_000), repeats=20)
FULL = dict(budgets=(10, 30, 100, 300, 1000, 3000, 10_000), repeats=100)


def main():
    args = parse(__doc__.splitlines()[0], "4 budgets, 20 repeats")
    config = QUICK if args.quick else FULL
    repeats = args.seeds or config["repeats"]
    bridge = ci.bridge
    policy = np.random.default_rng(0).dirichlet(np.ones(3), size=20)
    l1_curves = {}
    for T in (5, 20, 80):
        mdp = ci.envs.random_mdp(20, 3, branching=3, seed=1, horizon=T)

        def measure(n, seed):
            return bridge.visitation_error(mdp, policy, n, n_repeats=1, seed=seed).l1_error

        l1_curves[f"T = {T}"] = sweep(measure, config["budgets"], repeats, f"T={T}")
    bias_curves = {}
    infinite = ci.envs.random_mdp(20, 3, branching=3, seed=1, horizon=None, gamma=0.9)
    for L in (5, 20, 66):
        err = [bridge.visitation_error(infinite, policy, n, n_repeats=repeats, seed=n,
                                       length=L) for n in config["budgets"]]
        # One "seed" column: the bias is already an average over the repeats.
        bias_curves[f"L = {L} (bound 2γ^L = {2 * 0.9 ** L:.2g})"] = \
            np.array([[e.bias] for e in err])
    table("per-step L1 error of the sampled visitation", "trajectories", config["budgets"],
          l1_curves)
    table("bias (L1 of the mean error), infinite horizon", "trajectories", config["budgets"],
          bias_curves)
    if not args.no_figure:
        plot("visitation", [
            ("finite horizon: L1 error per step", "trajectories", "mean Σ|d̂ − d| / T",
             config["budgets"], l1_curves),
            ("infinite horizon, rollouts of length L: bias", "trajectories per estimate",
             "Σ|mean d̂ − d|", config["budgets"], bias_curves),
        ])


if __name__ == "__main__":
    main()
