"""Train a Stable-Baselines3 agent on an exported MDP and score it with the exact oracle.

Run from the repository root (needs the optional extra: ``pip install ctrlinf[sb3]``,
i.e. stable-baselines3 and torch)::

    python examples/sb3_frozenlake.py                  # PPO, 100 000 steps (~2 min on CPU)
    python examples/sb3_frozenlake.py --steps 20000 --seed 1

The round trip: gymnasium's FrozenLake (4x4, slippery) becomes an exact ctrlinf MDP
(``ci.envs.from_gymnasium``, 16 cells plus an absorbing "episode over" state), which
is exported back as a gymnasium env (``ci.envs.to_gymnasium``) for SB3 to train on.
The agent never sees P or r; the oracle knows both, so it can say exactly how good the
learned policy is:

- PPO maximises the discounted return (γ = 0.9) with a small entropy bonus. A
  near-hard reference suits it: the oracle's temperature is α = 0.01, so soft values
  are expected returns plus a negligible entropy term.
- The episode ends on entering the absorbing state; ``terminate_dead_states=True``
  makes the oracle agree (V = 0 there instead of α log A per step forever).
- The agent is stationary, the MDP infinite-horizon with γ = 0.9:
  ``Oracle.stationary(mdp, 0.9, ...)``.

``main()`` returns the :class:`ctrlinf.bridge.PolicyReport`; the test
``tests/test_bridge_sb3.py`` runs it with a tiny budget when SB3 is installed.
"""
import argparse

import gymnasium as gym
import numpy as np

import ctrlinf as ci


def sb3_policy(model):
    """``state -> action probabilities`` of an SB3 on-policy model (PPO, A2C)."""
    import torch

    def probabilities(state):
        obs, _ = model.policy.obs_to_tensor(np.array(state))
        with torch.no_grad():
            dist = model.policy.get_distribution(obs)
        return dist.distribution.probs.cpu().numpy()[0]

    return probabilities


def main(total_timesteps=100_000, seed=0, temperature=0.01, verbose=True):
    """Train PPO on exported FrozenLake and return the oracle's report on it."""
    from stable_baselines3 import PPO

    mdp = ci.envs.from_gymnasium(gym.make("FrozenLake-v1"), horizon=100, gamma=1.0)
    env = ci.envs.to_gymnasium(mdp, seed=seed)        # truncates at 100 steps, like gym
    model = PPO("MlpPolicy", env, gamma=0.9, ent_coef=0.01, seed=seed, verbose=0)
    model.learn(total_timesteps=total_timesteps)

    oracle = ci.bridge.Oracle.stationary(mdp, gamma=0.9, temperature=temperature,
                                         terminate_dead_states=True)
    report = oracle.compare_policy(sb3_policy(model))
    if verbose:
        print(f"PPO after {total_timesteps} steps on FrozenLake 4x4 (slippery), γ = 0.9:")
        print(f"  value of the learned policy  {report.value:.4f}")
        print(f"  optimal value                {report.optimal_value:.4f}")
        print(f"  uniform policy               {report.uniform_value:.4f}")
        print(f"  value gap                    {report.value_gap:.4f} "
              f"({100 * report.relative_value_gap:.1f} % of optimal, "
              f"{100 * report.normalised_value_gap:.1f} % of the uniform policy's gap)")
        print(f"  occupancy-weighted KL(π‖π*)  {report.kl:.3f} nats "
              f"(π* at α = {temperature:g} is nearly greedy)")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000, help="PPO environment steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.steps, args.seed)
