# %% [markdown]
# # 5. The action prior folds into the reward
#
# CS285, "Reframing control as an inference problem", slide *The action prior*. The
# backward message sums over next actions weighted by an action prior
# $p(a_{t+1} \mid s_{t+1})$, which we "assume uniform for now". What if it is not?
#
# $$V(s_t) = \log \int \exp\big(Q(s_t, a_t) + \log p(a_t \mid s_t)\big)\, da_t,
#   \qquad Q(s_t, a_t) = r(s_t, a_t) + \log E[\exp(V(s_{t+1}))].$$
#
# Let $\tilde Q = r + \log p(a_t \mid s_t) + \log E[\exp(V(s_{t+1}))]$; then
# $V = \log \int \exp(\tilde Q)\, da$: the same recursion with reward
# $\tilde r = r + \log p(a \mid s)$. "Can **always** fold the action prior into the
# reward! Uniform action prior can be assumed without loss of generality."
#
# ctrlinf takes both routes: `ci.solve(..., action_prior=prior)` multiplies the prior
# inside the sum over actions, and a plain solve of the MDP with reward
# `r + α log prior` folds it. With a temperature the fold is $\alpha\log p(a \mid s)$.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import save_figure

# %% [markdown]
# ## A habit: the agent prefers to move down
#
# A 4×5 grid with the goal top-right. A priori the agent moves down with probability
# 0.6 and picks each of the other four actions with probability 0.1 (a habit, or a
# controller that is cheap to run downwards).

# %%
grid = ci.envs.gridworld_from_map(["....G",
                                   ".....",
                                   ".#...",
                                   "S...."], horizon=10, rewards={"G": 1.0, ".": -0.1})
S, A, T = grid.n_states, grid.n_actions, grid.horizon
DOWN = grid.action_names.index("down")
prior = np.full((S, A), 0.1)
prior[:, DOWN] = 0.6

for mode in ("exact", "soft"):
    for alpha in (1.0, 0.5):
        with_prior = ci.solve(grid, mode=mode, temperature=alpha, action_prior=prior)
        folded_mdp = grid.replace(r=grid.r + alpha * np.log(prior))
        folded = ci.solve(folded_mdp, mode=mode, temperature=alpha)
        assert np.allclose(folded.V, with_prior.V, rtol=0, atol=1e-10)
        assert np.allclose(folded.policy, with_prior.policy, rtol=0, atol=1e-12)
        # the folded Q is the lecture's Q-tilde = Q + α log p(a|s)
        assert np.allclose(folded.Q, with_prior.Q + alpha * np.log(prior), rtol=0, atol=1e-10)
        if mode == "exact":
            assert np.isclose(ci.log_evidence(folded_mdp, folded),
                              ci.log_evidence(grid, with_prior))
print("action prior inside the sum == reward r + α log p(a|s): same V, policy, evidence "
      "(exact and soft, α = 1 and 0.5)")

# %% [markdown]
# ## The uniform prior versus the counting measure
#
# ctrlinf's default is the counting measure, $\sum_a \exp(Q)$, not the average
# $\frac{1}{A}\sum_a \exp(Q)$ of a proper uniform prior. Folding the uniform prior adds
# $-\alpha\log A$ to every reward: a constant per step, so the policy is identical and
# values shift by $(T - t)\,\alpha\log A$; the evidence by $T\log A$.

# %%
uniform = ci.solve(grid, mode="exact", action_prior=np.full((S, A), 1.0 / A))
counting = ci.solve(grid, mode="exact")
shift = (T - np.arange(T))[:, None] * np.log(A)
assert np.allclose(counting.policy, uniform.policy, rtol=0, atol=1e-12)
assert np.allclose(counting.V - uniform.V, shift, rtol=0, atol=1e-10)
assert np.isclose(ci.log_evidence(grid, counting) - ci.log_evidence(grid, uniform), T * np.log(A))
print(f"log p(O): counting measure {ci.log_evidence(grid, counting):.4f}, uniform prior "
      f"{ci.log_evidence(grid, uniform):.4f} (difference T log A = {T * np.log(A):.4f})")

# %% [markdown]
# ## Forbidden actions: a prior of zero is a reward of −∞
#
# Folding needs $\log p(a \mid s)$, so an action with prior probability zero becomes a
# reward of $-\infty$, which a finite MDP cannot hold (ctrlinf refuses non-finite
# rewards). A large finite penalty $-M$ gets as close as we like: the forbidden action
# keeps probability of order $e^{-M/\alpha}$.

# %%
STAY = grid.action_names.index("stay")
no_stay = prior.copy()
no_stay[:, STAY] = 0.0
no_stay /= no_stay.sum(axis=1, keepdims=True)
exact_forbidden = ci.solve(grid, mode="soft", action_prior=no_stay)
for M in (5.0, 15.0, 30.0):
    penalised = np.log(np.where(no_stay > 0, no_stay, 1.0)) - M * (no_stay == 0)
    approx = ci.solve(grid.replace(r=grid.r + penalised), mode="soft")
    err = np.abs(approx.policy - exact_forbidden.policy).max()
    print(f"M = {M:4.0f}: max |π_penalty − π_prior| = {err:.2e}")
assert err < 1e-9
assert np.all(exact_forbidden.policy[:, :, STAY] == 0.0)

# %%
with_prior = ci.solve(grid, mode="exact", action_prior=prior)
folded = ci.solve(grid.replace(r=grid.r + np.log(prior)), mode="exact")
fig, axes = plt.subplots(1, 3, figsize=(14, 3.4))
for ax, (sol, title) in zip(axes, ((counting, "no prior (counting measure)"),
                                   (with_prior, "prior: down 0.6, others 0.1"),
                                   (folded, "prior folded: r + log p(a|s)"))):
    ci.plot.policy_arrows(grid, sol.policy[0], ax=ax, scale=0.8, background=sol.V[0],
                          title=f"π_0, {title}", label="$V_0$")
fig.tight_layout()
save_figure(fig, "05_action_prior")

# %% [markdown]
# The last two panels (exact mode, α = 1) have identical arrows and identical $V_0$;
# the habit visibly bends the route compared with the first panel.
#
# ## What you saw
#
# - An action prior inside the soft max and the reward $r + \alpha\log p(a \mid s)$ give
#   the same values, policy and evidence; the folded $Q$ is the lecture's $\tilde Q$.
# - The uniform prior is a constant reward shift: same policy, values moved by
#   $(T-t)\,\alpha\log A$ — which is why ctrlinf can use the counting measure.
# - "Without loss of generality" has one fine print: a forbidden action needs reward
#   $-\infty$; a large penalty approximates it to $e^{-M/\alpha}$.
