# %% [markdown]
# # 20. Feature matching: apprenticeship learning vs MaxEnt IRL
#
# CS285 lecture 20, *Inverse Reinforcement Learning* (Levine;
# https://rail.eecs.berkeley.edu/deeprlcourse/), slide "Feature matching IRL", after
# Abbeel & Ng 2004, *Apprenticeship learning via inverse reinforcement learning*: with a
# linear reward $r = w\cdot\phi$, any policy whose feature expectations
# $\mu(\pi) = E_\pi[\sum_t \phi(s_t, a_t)]$ equal the expert's has the expert's return
# for *every* such $w$. Matching alone does not single out a reward or a policy; the
# slides' next step, a maximum margin between the expert and every other policy, is
# one way to choose, and they list its problems ("maximizing the margin is a bit
# arbitrary"). Abbeel & Ng's *projection* algorithm, the one used here, chooses no
# reward at all: it returns a mixture of policies whose feature expectations match,
# calling RL in a loop. Here the RL step is the exact hard solution and $\mu$ the exact
# occupancy (`ci.irl.apprenticeship_projection`). MaxEnt IRL (tutorial 10) chooses
# differently, the matching policy of largest entropy; we put the two side by side.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from ctrlinf.trajectories import feature_counts
from _common import save_figure

# %% [markdown]
# ## The world of tutorial 10
#
# A deterministic 6×6 grid, T = 16; features goal / water / grass, true θ* = (3, −2, 1);
# a MaxEnt expert and 300 demonstrations; μ_E their mean feature counts.

# %%
SEED = 1
layout = np.array([list(row) for row in ["S.....",
                                         ".~~...",
                                         ".~~.g.",
                                         "....g.",
                                         "..~~..",
                                         ".....G"]])
phi = np.stack([(layout == c).ravel().astype(float) for c in "G~g"], axis=1)   # (S, K)
world = ci.envs.gridworld((6, 6), rewards=(phi @ np.array([3.0, -2.0, 1.0])).reshape(6, 6),
                          start=(0, 0), goals=[(5, 5)], absorbing=False, horizon=16,
                          features=phi)
expert = ci.solve(world, mode="exact")
demos = ci.sample(world, expert.policy, n=300, seed=SEED)
mu_E = feature_counts(demos, phi)
print("μ_E (goal, water, grass steps per episode):", np.round(mu_E, 3))

# %% [markdown]
# ## The projection algorithm
#
# Start from the uniform policy; each step hands $w = \mu_E - \bar\mu$ to the exact
# RL solver, and projects $\mu_E$ onto the segment between $\bar\mu$ and the new
# policy's $\mu$. The distance $\|\mu_E - \bar\mu\|$ never increases; we stop at 0.05.
# The result is a mixture (draw one policy per episode) of the uniform policy π₀ the
# algorithm starts from and the optimal policies of the linear rewards $w_i$ it handed to
# RL; the Markov policy with the same occupancy (`ci.irl.mixture_policy`) has the same μ
# exactly.

# %%
result = ci.irl.apprenticeship_projection(world, phi, mu_E, epsilon=0.05)
n_used = int((result.weights > 1e-9).sum())
print(f"{len(result.distances) - 1} RL calls: ‖μ_E − μ̄‖ from {result.distances[0]:.2f} "
      f"to {result.distances[-1]:.3f}; mixture of {n_used} policies, weights "
      f"{np.round(result.weights, 3)} (π₀ first)")
assert result.distances[-1] <= 0.05 and result.distances[0] > 3.0
assert result.weights[0] > 0.01                  # π₀ is part of the mixture
assert np.all(np.diff(result.distances) <= 1e-12)
mixed = ci.irl.mixture_policy(world, result.policies, result.weights)
mu_mixed = ci.irl.feature_expectations(world, mixed, phi)
assert np.allclose(mu_mixed, result.mu_bar, atol=1e-9)

# %% [markdown]
# ## MaxEnt IRL on the same demonstrations
#
# `ci.irl.fit` (exact mode) matches the features too: its gradient is $\mu_E - \mu_\theta$.

# %%
fit = ci.irl.fit(world, phi, demos, mode="exact", progress=False)
maxent = ci.solve(world.replace(r=phi @ fit.theta), mode="exact").policy
mu_maxent = ci.irl.feature_expectations(world, maxent, phi)
print(f"MaxEnt θ̂ = {np.round(fit.theta, 2)}; "
      f"‖μ_E − μ_θ‖ = {np.linalg.norm(mu_E - mu_maxent):.1e}")
assert np.linalg.norm(mu_E - mu_maxent) < 1e-3

# %% [markdown]
# ## Same features, different behaviour
#
# Both policies reproduce μ_E (the mixture to within 0.05), so both have (nearly) the
# demonstrations' mean return under any reward in the span of the features. But they
# are different policies: the causal entropy
# $\sum_t E_{d_t}[H(\pi_t(\cdot|s))]$ of the MaxEnt policy is larger by more than a nat
# (it puts probability on every path, not only on paths with the right counts; the
# mixture only randomises among π₀, a few optimal policies of linear rewards and their
# tied actions), and their state visitations differ.

# %%
def causal_entropy(policy):
    d = ci.occupancy(world, policy)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(policy > 0, policy * np.log(policy), 0.0).sum(axis=-1)
    return float((d * h).sum())


H_mixed, H_maxent = causal_entropy(mixed), causal_entropy(maxent)
visits_mixed = ci.occupancy(world, mixed).sum(axis=0)
visits_maxent = ci.occupancy(world, maxent).sum(axis=0)
tv_visits = 0.5 * np.abs(visits_mixed - visits_maxent).sum() / world.horizon
print(f"causal entropy: projection mixture {H_mixed:.2f} nats, MaxEnt {H_maxent:.2f} nats; "
      f"time-averaged state visitation differs by TV {tv_visits:.2f}")
assert H_maxent > H_mixed + 1.0
assert maxent.min() > 0                          # every action, so every path, has p > 0
assert tv_visits > 0.05

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
axes[0].semilogy(result.distances, marker="o")
axes[0].set_xlabel("RL calls")
axes[0].set_ylabel("‖μ_E − μ̄‖")
axes[0].set_title("projection algorithm")
axes[0].set_xticks(range(len(result.distances)))
ci.plot.heatmap(world, visits_maxent, ax=axes[1], label="expected visits in T = 16 steps",
                title=f"MaxEnt IRL: expected visits (H = {H_maxent:.1f})")
limit = np.abs(visits_maxent - visits_mixed).max()
ci.plot.heatmap(world, visits_maxent - visits_mixed, ax=axes[2], cmap="RdBu_r",
                vmin=-limit, vmax=limit, label="expected visits, MaxEnt − mixture",
                title=f"visits: MaxEnt − mixture (mixture H = {H_mixed:.1f})")
fig.tight_layout()
save_figure(fig, "20_feature_matching")

# %% [markdown]
# ## What you saw
#
# - Abbeel & Ng's projection algorithm, with an exact RL step, reaches the expert's
#   feature counts to within 0.05 with a mixture of a few policies: its uniform start
#   and the optimal policies of the linear rewards it tried.
# - MaxEnt IRL matches the same counts with a single stochastic policy.
# - Matching features does not determine behaviour: the two visit the grid differently,
#   and MaxEnt's policy has the larger entropy — the principled tie-break
#   between the many policies that match.
