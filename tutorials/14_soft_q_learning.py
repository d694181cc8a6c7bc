# %% [markdown]
# # 14. Soft Q-learning, checked against the exact soft Q*
#
# CS285, *Q-learning with soft optimality*: replace the max of Q-learning by a soft max
# and learn from samples,
#
# $$y_j = r_j + \gamma\,\alpha \log \sum_{a'} \exp\big(Q_{\phi'}(s'_j, a')/\alpha\big),
# \qquad \phi \leftarrow \phi - \eta \sum_j \nabla_\phi Q_\phi(s_j, a_j)\,(Q_\phi(s_j, a_j) - y_j),$$
#
# with a replay buffer, mini-batches and a target network $\phi'$ (Haarnoja et al. 2017).
# `ci.bridge.soft_q_learning` does exactly that, talking to the MDP only through a
# gymnasium env. The exact answer is one call away, so we can watch the error itself
# rather than the return.

# %%
import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import save_figure

# %% [markdown]
# ## The world, the agent, the oracle
#
# A random MDP with 5 states, 2 actions and 2 possible successors per (s, a); its
# gymnasium env truncates episodes after T = 20 steps. The agent learns one stationary
# $Q(s, a)$ with discount γ = 0.9. Its fixed point is the soft Bellman equation of the
# *infinite-horizon* discounted MDP — a truncation is a time limit, not the end of the
# world, so the agent bootstraps through it — hence the reference is
# `Oracle.stationary(mdp, gamma=0.9, temperature=1.0)` (the agent's α; the oracle's
# default, temperature 0, is ordinary RL), not the 20-step finite-horizon solution.

# %%
mdp = ci.envs.random_mdp(5, 2, branching=2, seed=5, horizon=20)
oracle = ci.bridge.Oracle.stationary(mdp, gamma=0.9, temperature=1.0)
print("exact soft Q*:\n", np.round(oracle.Q, 3))

curve = {"step": [], "max": [], "weighted": []}


def record(step, snapshot):
    report = oracle.compare_q(snapshot.Q)
    curve["step"].append(step)
    curve["max"].append(report.max_abs_error)
    curve["weighted"].append(report.weighted_abs_error)


result = ci.bridge.soft_q_learning(ci.envs.to_gymnasium(mdp), 40_000, gamma=0.9, seed=0,
                                   log_every=1000, callback=record, progress=False)
final = oracle.compare_q(result.Q)
gap = oracle.compare_policy(result.policy)
print(f"after 40 000 steps: max |Q − Q*| = {final.max_abs_error:.3f}, "
      f"occupancy-weighted {final.weighted_abs_error:.3f}")
print(f"policy exp((Q − V)/α): value gap {gap.value_gap:.4f} "
      f"({100 * gap.normalised_value_gap:.2f} % of the uniform policy's)")
assert final.max_abs_error < 0.05
assert gap.normalised_value_gap < 0.01

# %% [markdown]
# ## Truncation is not termination
#
# Suppose an agent read every time limit as the end of the MDP (a common bug: using
# `terminated or truncated` as "done"). Its target would drop the bootstrap at every
# 20th step, and it would learn a different, smaller Q. We fake that agent with a
# wrapper that reports each truncation as a termination.

# %%
class TruncationAsTermination(gym.Wrapper):
    def step(self, action):
        s, r, terminated, truncated, info = self.env.step(action)
        return s, r, terminated or truncated, False, info


wrong = ci.bridge.soft_q_learning(TruncationAsTermination(ci.envs.to_gymnasium(mdp)), 40_000,
                                  gamma=0.9, seed=0, progress=False)
wrong_error = oracle.compare_q(wrong.Q).max_abs_error
print(f"treating truncation as termination: max |Q − Q*| = {wrong_error:.3f}")
assert wrong_error > 10 * final.max_abs_error

# %% [markdown]
# ## Pictures

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
ax = axes[0]
ax.semilogy(curve["step"], curve["max"], label="max |Q − Q*|")
ax.semilogy(curve["step"], curve["weighted"], label="occupancy-weighted")
ax.axhline(wrong_error, color="C3", ls="--", lw=1, label="truncation read as termination")
ax.set_xlabel("environment steps")
ax.set_ylabel("error against the exact soft Q*")
ax.set_title("soft Q-learning (tabular)")
ax.legend(fontsize=8)
ax = axes[1]
ax.plot(oracle.Q.ravel(), result.Q.ravel(), "o", label="bootstrapped truncation")
ax.plot(oracle.Q.ravel(), wrong.Q.ravel(), "x", color="C3", label="truncation as termination")
low, high = oracle.Q.min() - 1, oracle.Q.max() + 0.5
ax.plot([low, high], [low, high], "k--", lw=0.8)
ax.set_xlabel("exact soft Q*(s, a)")
ax.set_ylabel("learned Q(s, a)")
ax.set_title("every (s, a)")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "14_soft_q_learning")

# %% [markdown]
# ## What you saw
#
# - Soft Q-learning from samples reaches the exact soft $Q^*$ to a few hundredths in
#   40 000 steps; the remaining error is the sampling noise of the transitions it saw.
# - A stationary discounted agent solves the infinite-horizon problem: compare it with
#   `Oracle.stationary(mdp, γ, temperature=α)`. Bootstrapping through time limits is
#   what makes the episode length irrelevant; reading truncation as termination learns
#   a different Q.
