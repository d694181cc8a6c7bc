# %% [markdown]
# # 19. GAIL as an algorithm, and why its discriminator is not a reward
#
# CS285 lecture 20, *Inverse Reinforcement Learning* (Levine; slides at
# https://rail.eecs.berkeley.edu/deeprlcourse/), the part "Inverse RL as a GAN", after
# Ho & Ermon 2016, *Generative Adversarial Imitation Learning*: a classifier $D(s, a)$
# learns to tell the expert's state-action pairs from the policy's, and the policy is
# trained to fool it,
#
# $$\min_\pi \max_D\; E_{\rho_E}[\log D] + E_{\rho_\pi}[\log(1 - D)] - \lambda \bar H(\pi).$$
#
# For a fixed policy the best classifier is $D^* = \rho_E / (\rho_E + \rho_\pi)$ on the
# discounted occupancies; the policy's step is RL with reward $-\log(1 - D)$ (Ho & Ermon's
# cost $\log D$ with the labels swapped). The slide that asks "Can we just use a
# regular discriminator?" (a plain classifier, as in GAIL, instead of one built from a
# reward) lists two drawbacks: the *discriminator knows nothing at convergence*
# ($D = ½$), and one *generally cannot re-optimise the "reward"*. Here the world is
# tiny, so the policy's RL step is exact (one soft solve with a KL step penalty,
# `ci.bridge.gail`) and both remarks become numbers.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import save_figure

# %% [markdown]
# ## The world and the expert
#
# A 4×5 grid with walls, slip 0.1, discount γ = 0.9 and no end (`horizon=None`); the goal
# `G` pays 1 per step, other cells cost 0.05. The expert is soft-optimal at temperature
# 0.1; we get 300 of its trajectories of 40 steps (γ^40 ≈ 0.015: the tail is negligible).

# %%
SEED = 0
LAYOUT = ["S....",
          ".##..",
          "...#.",
          "#...G"]
REWARDS = {"G": 1.0, ".": -0.05}


def grid(layout):
    return ci.envs.gridworld_from_map(layout, slip=0.1, horizon=None, gamma=0.9,
                                      rewards=REWARDS, absorbing=False)


def occupancy(mdp, policy):
    """Normalised discounted state-action occupancy ρ(s, a) = d(s) π(a|s)."""
    return ci.occupancy(mdp, policy)[:, None] * policy


world = grid(LAYOUT)
expert = ci.solve(world, mode="soft", temperature=0.1)
demos = ci.sample(world, expert.policy, 300, seed=SEED, length=40)
rho_E = occupancy(world, expert.policy)
assert abs(world.gamma ** 40 - 0.015) < 0.001

# %% [markdown]
# ## The adversarial loop
#
# Each iteration: 200 rollouts of the current policy; 50 gradient steps on the table of
# logits of $D$ (warm-started); then the generator's exact step: the soft-optimal policy
# for $-\log(1 - D) + \tau \log \pi_k$ at temperature $\lambda + \tau$ (λ = 0.01, τ = 2),
# i.e. entropy-regularised RL on the discriminator's reward with a KL trust region.
# The history records, before each step, the total variation between the policy's exact
# occupancy and the demos', and how far the learned $D$ is from the exact optimum
# $\hat\rho_E / (\hat\rho_E + \rho_\pi)$.

# %%
result = ci.bridge.gail(world, demos, n_iterations=60, entropy=0.01, kl=2.0, n_rollouts=200,
                        seed=SEED + 100)
history = result.history
rho_G = occupancy(world, result.policy)
uniform = np.full((world.n_states, world.n_actions), 1.0 / world.n_actions)
tv_start = 0.5 * np.abs(occupancy(world, uniform) - rho_E).sum()
tv_end = 0.5 * np.abs(rho_G - rho_E).sum()
tv_demos = 0.5 * np.abs(result.expert_occupancy - rho_E).sum()
print(f"TV(ρ_π, ρ_E): uniform start {tv_start:.3f} -> after 60 iterations {tv_end:.3f} "
      f"(the demos themselves are {tv_demos:.3f} from ρ_E)")
assert tv_start > 0.6
assert tv_end < 0.08 and tv_end < tv_demos + 0.03

# %% [markdown]
# ## The learned discriminator against the exact optimum
#
# The classifier saw only samples; the exact optimum for the final policy uses the
# exact occupancies (`ci.bridge.optimal_discriminator` is $\sigma(\log p - \log q)$).
# On the pairs the expert visits, the learned $D$ is within a few hundredths of it, and
# both sit at ½: at convergence the discriminator knows nothing.

# %%
rho_hat = result.expert_occupancy
with np.errstate(divide="ignore"):
    D_star = ci.bridge.optimal_discriminator(np.log(rho_hat), np.log(rho_G))
visited = rho_hat > 0
error = (rho_hat[visited] * np.abs(result.D - D_star)[visited]).sum()
mean_D = (rho_hat * result.D).sum()
mean_D_star = (rho_hat[visited] * D_star[visited]).sum()
print(f"E_ρ̂E |D − D*| = {error:.3f};  E_ρ̂E[D] = {mean_D:.3f} (learned), "
      f"{mean_D_star:.3f} (exact optimum)")
assert error < 0.05
assert abs(mean_D - 0.5) < 0.03 and abs(mean_D_star - 0.5) < 0.03
assert history["discriminator_mean"][0] > 0.7          # at the start it could tell them apart

# %% [markdown]
# ## Re-optimising the discriminator's reward in new dynamics
#
# Move the walls (same cells, same goal). The expert, re-planning with its true reward,
# still reaches the goal (discounted time at G above 0.35). Re-solving the GAIL
# "reward" $-\log(1 - D)$ (or $\log D$) in the new world gives a policy that almost
# never gets there (below 0.05): $D ≈ ½$ wherever the expert
# went, so the reward is ≈ log 2 on the expert's pairs, at the goal as on the way
# there — it encodes "look like the demos in the old world", not "reach G". The learned
# policy itself, carried over, does no better.

# %%
NEW_LAYOUT = ["S..#.",
              "..#..",
              "#....",
              "..#.G"]
new_world = grid(NEW_LAYOUT)
goal = new_world.state(3, 4)


def time_at_goal(policy):
    return ci.occupancy(new_world, policy)[goal]


def true_return(policy):
    return float((occupancy(new_world, policy) * new_world.r).sum() / (1 - new_world.gamma))


def resolved(reward, temperature):
    return ci.solve(new_world.replace(r=reward), mode="soft", temperature=temperature).policy


policies = {
    "expert (true reward, re-solved)": resolved(new_world.r, 0.1),
    "GAIL reward −log(1−D), re-solved": resolved(result.reward, 0.01),
    "GAIL reward log D, re-solved": resolved(np.log(result.D), 0.01),
    "GAIL policy, carried over": result.policy,
    "uniform": np.full((new_world.n_states, new_world.n_actions), 0.2),
}
scores = {name: (time_at_goal(p), true_return(p)) for name, p in policies.items()}
old_goal_state = world.state(3, 4)
off_log2 = (rho_hat * np.abs(result.reward - np.log(2))).sum()
at_goal = rho_hat[old_goal_state]
at_goal_reward = at_goal @ result.reward[old_goal_state] / at_goal.sum()
print(f"−log(1−D) on the expert's pairs: mean |r_D − log 2| = {off_log2:.3f}; at the goal "
      f"{at_goal_reward:.3f} (log 2 = {np.log(2):.3f}; the true reward is 1 there, "
      f"−0.05 on other open cells)")
assert off_log2 < 0.08 and abs(at_goal_reward - np.log(2)) < 0.08
for name, (at_goal, ret) in scores.items():
    print(f"{name:34s} discounted time at G {at_goal:.3f}   true return {ret:7.3f}")
expert_goal, expert_return = scores["expert (true reward, re-solved)"]
assert expert_goal > 0.35
for name in list(policies)[1:4]:
    assert scores[name][0] < 0.05 and scores[name][1] < expert_return - 3.0
old_goal = ci.occupancy(world, result.policy)[world.state(3, 4)]
assert abs(old_goal - ci.occupancy(world, expert.policy)[world.state(3, 4)]) < 0.05

# %%
fig, axes = plt.subplots(1, 4, figsize=(17, 3.6))
ax = axes[0]
ax.semilogy(history["iteration"], history["total_variation"], label="TV(ρ_π, ρ̂_E)")
ax.semilogy(history["iteration"], history["discriminator_error"], label="E|D − D*|")
ax.set_xlabel("GAIL iteration")
ax.set_title("generator matches the demos")
ax.legend()
ax = axes[1]
ax.plot(history["iteration"], history["discriminator_mean"])
ax.axhline(0.5, color="grey", ls=":")
ax.set_xlabel("GAIL iteration")
ax.set_ylabel("E_ρ̂E[D]")
ax.set_title("the discriminator ends knowing nothing")
ci.plot.heatmap(world, result.reward.max(axis=1), ax=axes[2], label="max_a −log(1 − D(s, a))",
                title="−log(1−D), best action (old walls)")
names = list(scores)
axes[3].barh(range(len(names)), [scores[n][0] for n in names])
axes[3].set_yticks(range(len(names)), [n.split(",")[0] for n in names], fontsize=8)
axes[3].invert_yaxis()
axes[3].set_xlabel("discounted time at G, new walls")
axes[3].set_title("re-optimising in new dynamics")
fig.tight_layout()
save_figure(fig, "19_gail")

# %% [markdown]
# ## What you saw
#
# - GAIL's loop with an exact entropy-regularised inner step drives the policy's
#   occupancy from 0.7 total variation to the demos' own sampling error.
# - The learned classifier is within a few hundredths of the exact optimum
#   $\hat\rho_E / (\hat\rho_E + \rho_\pi)$, and at convergence it says ½ on the expert's
#   pairs: it knows nothing.
# - Its output is therefore no reward: re-solved in dynamics with moved walls it almost
#   never reaches the goal (nor does the imitating policy), while the true reward does.
#   Learning a reward that transfers is what IRL is for (tutorials 10, 21, 22).
