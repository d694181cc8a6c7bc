# %% [markdown]
# # 8. Variants: discount, temperature, infinite horizon, soft → hard
#
# CS285, "Reframing control as an inference problem", slide *Summary* (variants) and
# *Backward pass summary – variational*:
#
# - discounted SOC: $Q_t(s_t, a_t) = r(s_t, a_t) + \gamma E[V_{t+1}(s_{t+1})]$
# - explicit temperature: $V_t(s_t) = \alpha \log \int \exp(\tfrac{1}{\alpha} Q_t(s_t, a_t))\, da_t$
# - soft value iteration: $Q \leftarrow r + \gamma E[V(s')]$, $V \leftarrow \text{soft max}_a Q$
#
# and, from *Benefits of soft optimality*, "can reduce to hard optimality as reward
# magnitude increases". Each variant is one argument of `ci.solve` or of the MDP;
# here we check what each one means.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import optimistic_dp, save_figure

grid = ci.envs.gridworld_from_map(["S...",
                                   "....",
                                   ".#..",
                                   "...G"], slip=0.2, horizon=10, rewards={"G": 1.0, ".": -0.1})
S, A, T = grid.n_states, grid.n_actions, grid.horizon
P = grid.transition_tensor()
start = grid.state(0, 0)

# %% [markdown]
# ## Discount: a chance of dying
#
# The soft backup with a discount, written out:

# %%
gamma = 0.9
discounted = grid.replace(gamma=gamma)
sol = ci.solve(discounted, mode="soft")
V = np.zeros(S)
for t in range(T - 1, -1, -1):
    Q = grid.r + gamma * P @ V if t < T - 1 else grid.r
    V = np.log(np.exp(Q).sum(axis=1))
    assert np.allclose(Q, sol.Q[t], rtol=0, atol=1e-12)

# %% [markdown]
# The review (Levine 2018, sec. 2.3) reads γ as a **death probability**: every step
# the agent survives with probability γ and otherwise drops into an absorbing state
# with zero reward. `mdp.with_death_state()` builds that undiscounted MDP. For value
# iteration the two are the same problem. For the soft backup they agree once the dead
# agent has no choices left (one allowed action, so no entropy to collect): an action
# prior that allows only action 0 in the death state.

# %%
mortal = discounted.with_death_state()                 # S + 1 states, gamma = 1
hard_disc = ci.solve(discounted, mode="hard")
hard_mortal = ci.solve(mortal, mode="hard")
assert np.allclose(hard_mortal.V[:, :S], hard_disc.V, rtol=0, atol=1e-12)

dead_has_one_action = np.ones((S + 1, A))
dead_has_one_action[S, 1:] = 0.0
soft_mortal = ci.solve(mortal, mode="soft", action_prior=dead_has_one_action)
assert np.allclose(soft_mortal.V[:, :S], sol.V, rtol=0, atol=1e-12)
print(f"V_0(start): discounted soft {sol.V[0, start]:.4f} = death-state soft "
      f"{soft_mortal.V[0, start]:.4f}")

# %% [markdown]
# Exact inference, though, refuses a discount. Inference on the death-state MDP does
# not keep the death coin fair: conditioning on optimality tilts each step's survival
# by how much living pays compared with being dead. How much living pays depends on
# the action measure. Under ctrlinf's counting measure every living step collects a
# bonus of $\alpha\log A$ ($\log 5 \approx 1.6$ here, far above the −0.1 step cost)
# over the dead state's single action, so the posterior is *optimistic* about survival.
# With a proper uniform prior, $p(a \mid s) = 1/A$ in every state including the dead
# one, living pays only its reward, −0.1 per step until the goal, and the same
# inference is *pessimistic*: dying looks like a way to stop paying. Neither is γ^t.

# %%
try:
    ci.solve(discounted, mode="exact")
except ValueError as error:
    print("ValueError:", error)
else:
    raise AssertionError("mode='exact' accepted a discount")
survival = {}
for name, prior in (("counting measure", dead_has_one_action),
                    ("uniform prior 1/A", np.full((S + 1, A), 1.0 / A))):
    exact_mortal = ci.solve(mortal, mode="exact", action_prior=prior)
    survival[name] = 1.0 - ci.marginals(mortal, exact_mortal)[0][:, S]
    print(f"p(alive at t | O), {name:>17}:", np.round(survival[name], 3))
print(f"{'γ^t':>37}:", np.round(gamma ** np.arange(T), 3))
assert np.all(survival["counting measure"][1:] > gamma ** np.arange(1, T))
assert np.all(survival["uniform prior 1/A"][1:] < gamma ** np.arange(1, T))

# %% [markdown]
# ## Explicit temperature is a reward scale
#
# $\alpha \log \sum_a \exp(Q/\alpha)$ with rewards $r$ is $\alpha$ times the α = 1 answer
# for rewards $r/\alpha$: the temperature only sets the units. The policy is identical.

# %%
for mode in ("exact", "soft"):
    for alpha in (0.1, 3.0):
        hot = ci.solve(grid, mode=mode, temperature=alpha)
        rescaled = ci.solve(grid.replace(r=grid.r / alpha), mode=mode)
        assert np.allclose(hot.Q, alpha * rescaled.Q, rtol=1e-12, atol=1e-12)
        assert np.allclose(hot.policy, rescaled.policy, rtol=0, atol=1e-12)
print("solve(r, α) = α · solve(r/α, 1), exact and soft")

# %% [markdown]
# ## Infinite horizon: soft value iteration
#
# `horizon=None` iterates $V \leftarrow \text{soft max}_a [r + \gamma P V]$ to a fixed
# point. It is a γ-contraction, and the finite-horizon $V_0$ with $T$ steps is $T$
# sweeps from $V = 0$, so it is within $\gamma^T \|V^\infty\|_\infty$ of the fixed point.

# %%
forever = grid.replace(horizon=None, gamma=gamma)
inf = ci.solve(forever, mode="soft")
residual = np.abs(np.log(np.exp(grid.r + gamma * P @ inf.V).sum(axis=1)) - inf.V).max()
print(f"soft value iteration: {inf.iterations} sweeps, Bellman residual {residual:.1e}")
assert inf.converged and residual < 1e-9
assert np.allclose(inf.policy, np.exp(inf.Q - inf.V[:, None]), rtol=0, atol=1e-12)
horizons = np.arange(1, 121, 4)
errors = np.array([np.abs(ci.solve(grid.replace(horizon=int(h), gamma=gamma), mode="soft",
                                   keep="V").V[0] - inf.V).max() for h in horizons])
assert np.all(errors <= gamma ** horizons * np.abs(inf.V).max() + 1e-9)

# %% [markdown]
# ## Soft → hard as α → 0
#
# Per step the soft max exceeds the max by at most $\alpha\log A$, so infinitely many
# discounted steps add at most $\alpha\log A/(1-\gamma)$:
# $V^{hard} \le V^{soft}_\alpha \le V^{hard} + \alpha\log A/(1-\gamma)$.

# %%
alphas = np.logspace(-3, 1, 17)
hard_inf = ci.solve(forever, mode="hard")
soft_gaps = np.array([ci.solve(forever, mode="soft", temperature=a).V[start] for a in alphas])
soft_gaps -= hard_inf.V[start]
assert np.all(soft_gaps >= -1e-9)
assert np.all(soft_gaps <= alphas * np.log(A) / (1 - gamma) + 1e-9)

# %% [markdown]
# On the finite, undiscounted grid the same holds for the soft backup, but **not** for
# exact inference: with slip 0.2 its α → 0 limit is the optimistic recursion of
# tutorials 2 and 6, which values every move by its luckiest outcome.

# %%
V_opt = optimistic_dp(grid)[0, start]
hard_fin = ci.solve(grid, mode="hard").V[0, start]
cold_exact = ci.solve(grid, mode="exact", temperature=1e-3).V[0, start]
cold_soft = ci.solve(grid, mode="soft", temperature=1e-3).V[0, start]
print(f"α = 0.001: exact {cold_exact:.3f} (optimistic limit {V_opt:.3f}), soft "
      f"{cold_soft:.3f} (value iteration {hard_fin:.3f})")
assert abs(cold_soft - hard_fin) <= 1e-3 * T * np.log(A)
assert abs(cold_exact - V_opt) <= 1e-3 * T * (np.log(A) - np.log(grid.P.data.min()))
assert V_opt > hard_fin + 1.0

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
ax = ci.plot.values_vs_temperature(grid, np.logspace(-3, -0.5, 11), state=start, ax=axes[0])
ax.axhline(V_opt, color="C0", ls=":", lw=1, label="optimistic limit")
ax.axhline(hard_fin, color="C2", ls=":", lw=1, label="value iteration")
ax.legend(fontsize=8)
ax.set_title(f"finite horizon T = {T}, slip 0.2: V_0(start) vs temperature")
ax = axes[1]
ax.loglog(alphas, soft_gaps, "o-", label="$V^{soft} − V^{hard}$ at start")
ax.loglog(alphas, alphas * np.log(A) / (1 - gamma), "--", label="temperature × log A / (1 − γ)")
ax.set_xlabel("temperature")
ax.set_title(f"infinite horizon, γ = {gamma}: soft → hard")
ax.legend(fontsize=8)
ax = axes[2]
ax.semilogy(horizons, errors, "o-", label="$\\max_s |V_0^{(T)} − V^\\infty|$")
ax.semilogy(horizons, gamma ** horizons * np.abs(inf.V).max(), "--",
            label="$\\gamma^T \\|V^\\infty\\|_\\infty$")
ax.set_xlabel("horizon T")
ax.set_title("finite horizon → soft value iteration")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "08_variants")

# %% [markdown]
# ## What you saw
#
# - A discount is a death probability: value iteration on the death-state MDP is
#   discounted value iteration, and the soft backup agrees once the dead have no
#   entropy to collect. Exact inference tilts the death coin instead — optimistic
#   under the counting measure (living collects α log A per step), pessimistic under a
#   proper uniform prior when living costs — so ctrlinf refuses `mode="exact"` with γ < 1.
# - The temperature is a unit: `solve(r, α) = α · solve(r/α, 1)`.
# - Infinite-horizon soft value iteration is a γ-contraction; finite horizons approach
#   it like $\gamma^T$.
# - As α → 0 soft values approach value iteration within $\alpha\log A/(1-\gamma)$, but
#   exact inference approaches the optimistic recursion, not value iteration.
