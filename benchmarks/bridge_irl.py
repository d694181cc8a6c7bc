"""Sample-based MaxEnt IRL: importance-sampled gradient and discriminators vs exact answers.

Run from the repository root::

    python benchmarks/bridge_irl.py --quick   # 4 budgets, 5 seeds (~10 s)
    python benchmarks/bridge_irl.py           # 7 budgets, 20 seeds (~1 min)

Set-up: a 3-state, 2-action random MDP with T = 3, γ = 1, two random state-action
features, expert demos drawn exactly from the MaxEnt distribution of θ* = (1, −0.5)
(enumerating all 216 trajectories). Curves, against the number of sampled
trajectories n:

- left: ‖ĝ − g‖ of the importance-sampled gradient at θ = (0.3, 0.2), g exact
  (``exact_maxent_gradient``), for a uniform sampler and for the sampler GCL would use
  (the exact-mode policy of r_θ), self-normalised (GCL) and with the exact log Z;
- right: max |D − D*| over all trajectories for the GCL-form discriminator fitted on n
  demos and n uniform-sampler trajectories (D* = p/(p+q), exact), and max |D − D*| over
  state-action pairs for a tabular GAIL classifier (D* = ρ_E/(ρ_E + ρ_π)).

Table and ``figures/bridge_irl.png``.
"""
import numpy as np

import ctrlinf as ci
from bridge_common import parse, plot, sweep, table

QUICK = dict(budgets=(100, 1000, 10_000, 100_000), seeds=5)
FULL = dict(budgets=(30, 100, 300, 1000, 3000, 10_000, 100_000), seeds=20)
THETA_TRUE, THETA = np.array([1.0, -0.5]), np.array([0.3, 0.2])


def main():
    args = parse(__doc__.splitlines()[0], "4 budgets, 5 seeds")
    config = QUICK if args.quick else FULL
    seeds = args.seeds or config["seeds"]
    bridge = ci.bridge
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=3)
    features = np.random.default_rng(0).normal(size=(3, 2, 2))
    found = bridge.enumerate_trajectories(mdp)
    log_p = found.log_maxent(features @ THETA_TRUE)
    traj = found.trajectories

    def demos(n, seed):
        index = np.random.default_rng(seed).choice(log_p.size, size=n, p=np.exp(log_p))
        return ci.Trajectories(traj.states[index], traj.actions[index])

    expert = demos(50, 12345)
    exact, log_z = bridge.exact_maxent_gradient(mdp, features, expert, THETA)
    uniform = np.full((3, 2), 0.5)
    guided = ci.solve(mdp.replace(r=features @ THETA), mode="exact").policy
    gradient_curves = {}
    for name, sampler, partition in (("uniform, self-normalised", uniform, None),
                                     ("uniform, exact log Z", uniform, log_z),
                                     ("MaxEnt policy, self-normalised", guided, None)):
        def measure(n, seed):
            g = bridge.irl_gradient_importance_sampled(mdp, features, expert, THETA, sampler,
                                                       n, seed=seed, log_partition=partition)
            return np.linalg.norm(np.asarray(g) - exact)

        gradient_curves[name] = sweep(measure, config["budgets"], seeds, name)

    reward_mdp = mdp.replace(r=features @ THETA_TRUE)
    expert_marginals = ci.marginals(reward_mdp, ci.solve(reward_mdp, mode="exact"))[1]
    d_star_traj = bridge.optimal_discriminator(log_p, found.log_probability(uniform))
    d_star_pairs = bridge.exact_gail_optimum(mdp, expert_marginals, uniform)

    def gcl_error(n, seed):
        samples = ci.sample(mdp, uniform, n, seed=seed + 1000)
        disc = bridge.gcl_discriminator(mdp, features, demos(n, seed), samples, uniform)
        return np.max(np.abs(disc(traj) - d_star_traj))

    def gail_error(n, seed):
        samples = ci.sample(mdp, uniform, n, seed=seed + 1000)
        gail = bridge.gail_discriminator(mdp, demos(n, seed), samples, n_iterations=1500)
        return np.nanmax(np.abs(gail.D - d_star_pairs))

    disc_curves = {"GCL D(τ) vs p/(p+q)": sweep(gcl_error, config["budgets"], seeds, "GCL"),
                   "GAIL D(s,a) vs ρE/(ρE+ρπ)": sweep(gail_error, config["budgets"], seeds,
                                                       "GAIL")}
    table("|| g_IS - g_exact ||", "samples", config["budgets"], gradient_curves)
    table("max |D - D*|", "samples", config["budgets"], disc_curves)
    if not args.no_figure:
        plot("irl", [
            ("importance-sampled IRL gradient", "sampled trajectories", "‖ĝ − g‖",
             config["budgets"], gradient_curves),
            ("discriminators vs the exact optimum", "demos = samples", "max |D − D*|",
             config["budgets"], disc_curves),
        ])


if __name__ == "__main__":
    main()
