"""Train a Stable-Baselines3 agent on an exported MDP and score it with the exact oracle.

Run from the repository root (needs the CPU build of torch and the optional extra:
``pip install torch==2.13.0``, then ``pip install -e ".[sb3]"``)::

    python examples/sb3_frozenlake.py                  # PPO, 100 000 steps
    python examples/sb3_frozenlake.py --steps 20000 --seed 1

The round trip: gymnasium's FrozenLake (4x4, slippery) becomes an exact ctrlinf MDP
(``ci.envs.from_gymnasium``, 16 cells plus an absorbing "episode over" state), which
is exported back as a gymnasium env (``ci.envs.to_gymnasium``) for SB3 to train on.
The agent never sees P or r; the oracle knows both, so it can say exactly how good the
learned policy is:

- PPO maximises the expected discounted return (γ = 0.9). That is ordinary RL, so the
  reference is the temperature-0 oracle: hard ``Q*``, ``V*``, values are expected
  returns. PPO's ``ent_coef`` is not a temperature α: it weighs the policy's entropy in
  the loss next to advantages that SB3 normalises per batch, not a reward term. (The
  soft oracle at α = 0.01 would be a poor reference: with rewards this small its
  optimal policy keeps 0.64 nats of entropy per step (uniform: log 4 = 1.39) and gives
  up a quarter of the best return (0.052 against 0.069), and the greedy optimal policy
  scores below the uniform one on its soft measure.)
- The agent is stationary and discounted: ``Oracle.for_model(mdp, model)`` builds the
  infinite-horizon oracle with the model's own ``gamma``; SB3 bootstraps through the
  100-step time limit, so the episode length does not enter.
- The episode ends on entering the absorbing state; ``for_model`` treats such dead
  states as terminal and leaves them out of the error reports.

``main()`` returns the :class:`ctrlinf.bridge.PolicyReport`; the test
``tests/test_bridge_sb3.py`` runs it with a tiny budget when SB3 is installed.
"""
import argparse

import gymnasium as gym
import torch

import ctrlinf as ci
from ctrlinf.bridge import sb3

# Small networks: torch's thread pool costs far more than it gives (see ctrlinf.bridge.sb3).
torch.set_num_threads(1)


def main(total_timesteps=100_000, seed=0, verbose=True):
    """Train PPO on exported FrozenLake and return the temperature-0 oracle's report."""
    from stable_baselines3 import PPO

    mdp = ci.envs.from_gymnasium(gym.make("FrozenLake-v1"), horizon=100, gamma=1.0)
    env = ci.envs.to_gymnasium(mdp, seed=seed)        # truncates at 100 steps, like gym
    model = PPO("MlpPolicy", env, gamma=0.9, seed=seed, verbose=0)
    model.learn(total_timesteps=total_timesteps)

    oracle = ci.bridge.Oracle.for_model(mdp, model)   # temperature 0, γ = model.gamma
    policy = sb3.policy_array(model, kind="stochastic")
    report = oracle.compare_policy(policy)
    greedy = oracle.compare_policy(sb3.policy_array(model, kind="greedy"))
    critic = oracle.compare_v(sb3.value_table(model), pi=policy)
    if verbose:
        print(f"PPO after {total_timesteps} steps on FrozenLake 4x4 (slippery), "
              f"γ = {model.gamma}:")
        print(f"  expected discounted return  {report.return_value:.4f} "
              f"(greedy actions: {greedy.return_value:.4f})")
        print(f"  optimal                     {report.optimal_return:.4f}")
        print(f"  uniform policy              {report.uniform_return:.4f}")
        print(f"  return gap                  {report.return_gap:.4f} "
              f"({100 * report.normalised_return_gap:.1f} % of the uniform policy's gap)")
        print(f"  optimal actions taken       {100 * report.optimal_action_fraction:.1f} % "
              f"(occupancy-weighted)")
        print(f"  worst state                 {report.worst_state} "
              f"(gives up {report.worst_state_regret:.4f} per visit)")
        print(f"  critic max |V − V^π|        {critic.max_abs_error:.4f} at state "
              f"{critic.worst_state} ({critic.n_states} reachable states compared)")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000, help="PPO environment steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.steps, args.seed)
