"""Soft Q-learning: error against the exact soft Q* as the number of samples grows.

Run from the repository root::

    python benchmarks/bridge_soft_q.py --quick   # 3 budgets, 2 seeds (~1 min)
    python benchmarks/bridge_soft_q.py           # 6 budgets, 4 seeds (~6 min)

Set-up: the 5-state, 2-action random MDP of the tests (2 successors per (s, a)),
``ci.envs.to_gymnasium`` truncating episodes at T = 20, α = 1, γ = 0.9, the documented
defaults (replay, batch 128 every 4 steps, Polyak 0.99, learning rate decayed to 0 over
each run). Each point is a separate run with that many environment steps (the schedule
depends on the budget). Errors: max over (s, a) of |Q − Q*| and its occupancy-weighted
mean, against ``Oracle.stationary(mdp, 0.9, temperature=1.0)``. Table and ``figures/bridge_soft_q.png``.
"""
import numpy as np

import ctrlinf as ci
from bridge_common import agent_mdp, parse, plot, sweep, table

QUICK = dict(budgets=(2500, 10_000, 40_000), seeds=2, approximators=("tabular", "mlp"))
FULL = dict(budgets=(2500, 5000, 10_000, 20_000, 40_000, 80_000), seeds=4,
            approximators=("tabular", "linear", "mlp"))


def main():
    args = parse(__doc__.splitlines()[0], "3 budgets, 2 seeds")
    config = QUICK if args.quick else FULL
    seeds = args.seeds or config["seeds"]
    mdp = agent_mdp(n_actions=2)
    oracle = ci.bridge.Oracle.stationary(mdp, gamma=0.9, temperature=1.0)
    max_curves, weighted_curves = {}, {}
    for approximator in config["approximators"]:
        features = np.eye(mdp.n_states) if approximator == "linear" else None
        reports = {}

        def measure(n_steps, seed):
            res = ci.bridge.soft_q_learning(ci.envs.to_gymnasium(mdp), n_steps, gamma=0.9,
                                            approximator=approximator, features=features,
                                            seed=seed, progress=False)
            reports[n_steps, seed] = oracle.compare_q(res.Q)
            return reports[n_steps, seed].max_abs_error

        max_curves[approximator] = sweep(measure, config["budgets"], seeds, approximator)
        weighted_curves[approximator] = np.array(
            [[reports[n, s].weighted_abs_error for s in range(seeds)]
             for n in config["budgets"]])
    table("max |Q - Q*|", "steps", config["budgets"], max_curves)
    table("occupancy-weighted |Q - Q*|", "steps", config["budgets"], weighted_curves)
    if not args.no_figure:
        plot("soft_q", [
            ("soft Q-learning: max error", "environment steps", "max |Q − Q*|",
             config["budgets"], max_curves),
            ("soft Q-learning: weighted error", "environment steps", "weighted |Q − Q*|",
             config["budgets"], weighted_curves),
        ])


if __name__ == "__main__":
    main()
