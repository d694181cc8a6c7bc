"""Discrete SAC: value gap to the exact soft-optimal policy as the number of samples grows.

Run from the repository root::

    python benchmarks/bridge_sac.py --quick   # 3 budgets, 2 seeds (~1 min)
    python benchmarks/bridge_sac.py           # 5 budgets, 4 seeds (~5 min)

Set-up: the 5-state, 3-action random MDP of the tests, ``ci.envs.to_gymnasium``
truncating episodes at T = 20, α = 1 fixed, γ = 0.9, the documented defaults (twin
critics, Polyak 0.99, one update per step, rates decayed to 0 over each run); tabular
and MLP (64 tanh units) actor and critics. Errors against ``Oracle.stationary(mdp,
0.9, temperature=1.0)``: the normalised value gap (0 for π*, 1 for the uniform policy) and the
occupancy-weighted KL(π ‖ π*). Table and ``figures/bridge_sac.png``.
"""
import numpy as np

import ctrlinf as ci
from bridge_common import agent_mdp, parse, plot, sweep, table

QUICK = dict(budgets=(1000, 4000, 16_000), seeds=2, approximators=("tabular", "mlp"))
FULL = dict(budgets=(1000, 2000, 4000, 8000, 16_000), seeds=4,
            approximators=("tabular", "mlp"))


def main():
    args = parse(__doc__.splitlines()[0], "3 budgets, 2 seeds")
    config = QUICK if args.quick else FULL
    seeds = args.seeds or config["seeds"]
    mdp = agent_mdp()
    oracle = ci.bridge.Oracle.stationary(mdp, gamma=0.9, temperature=1.0)
    gaps, kls = {}, {}
    for approximator in config["approximators"]:
        reports = {}

        def measure(n_steps, seed):
            res = ci.bridge.sac_discrete(ci.envs.to_gymnasium(mdp), n_steps, gamma=0.9,
                                         approximator=approximator, seed=seed, progress=False)
            reports[n_steps, seed] = oracle.compare_policy(res.policy)
            return reports[n_steps, seed].normalised_value_gap

        gaps[approximator] = sweep(measure, config["budgets"], seeds, approximator)
        kls[approximator] = np.array([[reports[n, s].kl for s in range(seeds)]
                                      for n in config["budgets"]])
    table("normalised value gap", "steps", config["budgets"], gaps)
    table("occupancy-weighted KL(pi || pi*)", "steps", config["budgets"], kls)
    if not args.no_figure:
        plot("sac", [
            ("discrete SAC: value gap", "environment steps", "normalised value gap",
             config["budgets"], gaps),
            ("discrete SAC: KL to π*", "environment steps", "KL(π ‖ π*)", config["budgets"],
             kls),
        ], reference=-1.0)


if __name__ == "__main__":
    main()
