# %% [markdown]
# # 4. Forward messages and the message intersection
#
# CS285, "Reframing control as an inference problem", slides *Forward messages* and
# *Forward/backward message intersection* (the picture from Li & Todorov 2006).
# The forward message is the probability of a state given optimality **so far**:
#
# $$\alpha_1(s_1) = p(s_1), \qquad \alpha_t(s_t) = p(s_t \mid \mathcal{O}_{1:t-1})
#   = \sum_{s_{t-1}, a_{t-1}} p(s_t \mid s_{t-1}, a_{t-1})\,
#     p(a_{t-1} \mid s_{t-1}, \mathcal{O}_{t-1})\, p(s_{t-1} \mid \mathcal{O}_{1:t-1}),$$
#
# where $p(a \mid s, \mathcal{O}_{t-1}) \propto e^{r(s, a)}$ and
# $p(s_{t-1} \mid \mathcal{O}_{1:t-1}) \propto p(\mathcal{O}_{t-1} \mid s_{t-1})\,\alpha_{t-1}(s_{t-1})$.
# Together: $\alpha_t(s') \propto \sum_{s,a} P(s' \mid s, a)\, e^{r(s,a)}\, \alpha_{t-1}(s)$.
# Multiplying with the backward message gives the state marginal of the posterior:
#
# $$p(s_t \mid \mathcal{O}_{1:T}) \propto \beta_t(s_t)\, \alpha_t(s_t):$$
#
# "states with high probability of being reached from the initial state (with high
# reward)" intersected with "states with high probability of reaching the goal".

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import enumerate_trajectories, save_figure, wall_grid

# %% [markdown]
# ## A grid with a wall between start and goal
#
# ```
# ........
# ...#....
# S..#...G
# ...#....
# ........
# ```
#
# The goal pays 3 per step spent in it, every other cell costs 0.1; the agent has 16
# decisions and the shortest way round the wall takes 11 moves, over the top or
# along the bottom (`wall_grid` in `_common.py`; tutorial 7 uses it again).

# %%
grid = wall_grid()
sol = ci.solve(grid, mode="exact")
T, S = grid.horizon, grid.n_states

# %% [markdown]
# ## The lecture's forward recursion, by hand
#
# One line per step; we normalise each $\alpha_t$ (the normaliser is
# $p(\mathcal{O}_{t-1} \mid \mathcal{O}_{1:t-2})$, which the posterior does not need).

# %%
P, r = grid.transition_tensor(), grid.r
alpha = np.empty((T, S))
alpha[0] = grid.p0
for t in range(1, T):
    unnormalised = np.einsum("sap,sa,s->p", P, np.exp(r), alpha[t - 1])
    alpha[t] = unnormalised / unnormalised.sum()
assert np.allclose(alpha, ci.forward(grid, sol), rtol=0, atol=1e-12)

beta = np.exp(sol.V - sol.V.max(axis=1, keepdims=True))   # β_t(s) up to a constant per t
posterior = alpha * beta / (alpha * beta).sum(axis=1, keepdims=True)
state_marginals, _ = ci.marginals(grid, sol)
assert np.allclose(posterior, state_marginals, rtol=0, atol=1e-12)
print(f"p(goal at t = T-1 | O) = {posterior[-1, grid.state(2, 7)]:.3f}")
print("p(s_6 | O) on the grid:\n", np.round(grid.to_grid(posterior[6]), 2))

# %% [markdown]
# ## What α_t means, by enumeration on a small grid
#
# $\alpha_t(s) = p(s_t = s \mid \mathcal{O}_{0:t-1})$ conditions only on the optimality
# of the first $t$ steps. On a 2×2 grid with $T = 4$ we can check that against all
# trajectories: weigh each by $p(\tau)\prod_{k<t} e^{r(s_k, a_k)}$ and count where it is
# at time $t$.

# %%
small = ci.envs.gridworld_from_map(["S.", ".G"], horizon=4, rewards={"G": 1.0, ".": -0.5})
trajs = enumerate_trajectories(small)
small_sol = ci.solve(small, mode="exact")
enumerated = np.zeros((small.horizon, small.n_states))
for t in range(small.horizon):
    partial = trajs.log_p + small.r[trajs.states[:, :t], trajs.actions[:, :t]].sum(axis=1)
    np.add.at(enumerated[t], trajs.states[:, t], np.exp(partial))
enumerated /= enumerated.sum(axis=1, keepdims=True)
assert np.allclose(enumerated, ci.forward(small, small_sol), rtol=0, atol=1e-12)
print(f"α_t = p(s_t | O_0:t-1) checked on {len(trajs)} trajectories")

# %%
fig = ci.plot.message_intersection(grid, sol, times=[0, 2, 4, 6, 8, 10, 15])
save_figure(fig, "04_message_intersection")

# %% [markdown]
# ## Why p(s_1 | O) ≠ p(s_1), and why the agent still starts at p0
#
# Put a second start cell next to the goal and let $p_0$ be uniform over the two
# starts. The posterior at $t = 0$ is $p(s_0 \mid \mathcal{O}) \propto p_0(s)\,\beta_0(s)$:
# *given that the episode went well*, it most likely started near the goal. That is
# correct inference, and useless for control: the agent cannot choose where it starts.
# What control needs is the policy $\pi_t(a \mid s) = \beta_t(s, a) / \beta_t(s)$, which
# does not depend on $p_0$ at all, rolled out from the true $p_0$:
# $d_0 = p_0$, $d_{t+1}(s') = \sum_{s,a} d_t(s)\,\pi_t(a \mid s)\,P(s' \mid s, a)$
# (`ci.occupancy(mdp, policy)`).
#
# On deterministic dynamics the posterior marginals are exactly that rollout started
# from $p(s_0 \mid \mathcal{O})$ instead of $p_0$. (With stochastic dynamics not even
# that: the posterior also bends the dynamics, tutorial 6.)

# %%
two_starts = wall_grid(extra_start=(4, 6))
sol2 = ci.solve(two_starts, mode="exact")
post2, _ = ci.marginals(two_starts, sol2)
far, near = two_starts.state(2, 0), two_starts.state(4, 6)
print(f"p0:        far start {two_starts.p0[far]:.3f}, near start {two_starts.p0[near]:.3f}")
print(f"p(s_0|O):  far start {post2[0, far]:.3f}, near start {post2[0, near]:.3f}")
prior_times_beta = two_starts.p0 * np.exp(sol2.V[0] - sol2.V[0].max())
assert np.allclose(post2[0], prior_times_beta / prior_times_beta.sum(), rtol=0, atol=1e-12)
assert post2[0, near] > 0.99 and two_starts.p0[near] == 0.5

from_p0 = ci.occupancy(two_starts, sol2.policy)
from_posterior = ci.occupancy(two_starts.replace(p0=post2[0]), sol2.policy)
assert np.allclose(from_posterior, post2, rtol=0, atol=1e-12)     # deterministic dynamics
assert np.allclose(from_p0[0], two_starts.p0)
print(f"the agent (rollout from p0) is at the goal at T-1 with probability "
      f"{from_p0[-1, two_starts.state(2, 7)]:.3f}; the posterior says "
      f"{post2[-1, two_starts.state(2, 7)]:.3f}")

# With slip the rollout from p(s_0 | O) no longer reproduces the posterior.
slippery = wall_grid(slip=0.2)
sol_slip = ci.solve(slippery, mode="exact")
post_slip, _ = ci.marginals(slippery, sol_slip)
gap = np.abs(ci.occupancy(slippery.replace(p0=post_slip[0]), sol_slip.policy) - post_slip).max()
print(f"slip 0.2: rollout from p(s_0|O) is up to {gap:.3f} away from p(s_t|O)")
assert gap > 1e-2

# %%
fig, axes = plt.subplots(1, 4, figsize=(16, 3))
panels = ((two_starts.p0, "$p_0(s)$"),
          (post2[0], "$p(s_0 \\mid O) \\propto p_0\\,\\beta_0$"),
          (from_p0[8], "agent: policy rolled out from $p_0$, t = 8"),
          (post2[8], "posterior $p(s_8 \\mid O)$"))
for ax, (values, title) in zip(axes, panels):
    ci.plot.heatmap(two_starts, values, ax=ax, title=title, cmap="Purples", vmin=0, vmax=1)
fig.tight_layout()
save_figure(fig, "04_posterior_start")

# %% [markdown]
# ## What you saw
#
# - The forward recursion of the slide, written out by hand, is `ci.forward` in exact
#   mode, and $\alpha_t$ is the enumerated $p(s_t \mid \mathcal{O}_{0:t-1})$.
# - $\alpha_t\beta_t$, normalised, is the posterior state marginal: on the grid it is
#   the tube of states that are both reachable and lead to the goal.
# - Conditioning on the whole episode's optimality also conditions the start:
#   $p(s_0 \mid \mathcal{O}) \propto p_0\beta_0 \ne p_0$. The agent rolls its policy out
#   from $p_0$; on deterministic dynamics the posterior is that same policy rolled out
#   from $p(s_0 \mid \mathcal{O})$, on stochastic dynamics not even that.
