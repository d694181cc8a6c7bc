"""Entropy-regularised policy gradient: value gap to π* as the number of samples grows.

Run from the repository root::

    python benchmarks/bridge_policy_gradient.py --quick   # 3 budgets, 2 seeds (~1 min)
    python benchmarks/bridge_policy_gradient.py           # 5 budgets, 4 seeds (~4 min)

Set-up: the 5-state, 3-action random MDP of the tests, ``ci.envs.to_gymnasium``
truncating episodes at T = 20 (so every episode is 20 steps and the value function
bootstraps at the cut), α = 1, γ = 0.9, 10 episodes per iteration, the documented
defaults (tabular softmax policy, rates decayed to 0 over each run). Curves:
REINFORCE with reward-to-go and a learned baseline, and the actor-critic (TD) variant;
x axis: environment steps (iterations × 10 × 20). Error: the normalised value gap
against ``Oracle.stationary(mdp, 0.9, temperature=1.0)``. Table and
``figures/bridge_policy_gradient.png``.
"""
import ctrlinf as ci
from bridge_common import agent_mdp, parse, plot, sweep, table

QUICK = dict(iterations=(50, 200, 800), seeds=2)
FULL = dict(iterations=(50, 100, 200, 400, 800), seeds=4)
STEPS_PER_ITERATION = 10 * 20


def main():
    args = parse(__doc__.splitlines()[0], "3 budgets, 2 seeds")
    config = QUICK if args.quick else FULL
    seeds = args.seeds or config["seeds"]
    mdp = agent_mdp()
    oracle = ci.bridge.Oracle.stationary(mdp, gamma=0.9, temperature=1.0)
    steps = [n * STEPS_PER_ITERATION for n in config["iterations"]]
    gaps = {}
    for advantage in ("reward_to_go", "td"):
        def measure(n_steps, seed):
            res = ci.bridge.entropy_policy_gradient(
                ci.envs.to_gymnasium(mdp), n_steps // STEPS_PER_ITERATION, gamma=0.9,
                advantage=advantage, seed=seed, progress=False)
            return oracle.compare_policy(res.policy).normalised_value_gap

        gaps[advantage] = sweep(measure, steps, seeds, advantage)
    table("normalised value gap", "steps", steps, gaps)
    if not args.no_figure:
        plot("policy_gradient", [("entropy-regularised PG: value gap", "environment steps",
                                  "normalised value gap", steps, gaps)], reference=-1.0)


if __name__ == "__main__":
    main()
