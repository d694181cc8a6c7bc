# %% [markdown]
# # 3. The policy: exp(Q − V), temperature, Boltzmann exploration
#
# CS285, "Reframing control as an inference problem", slides *Policy computation* and
# *Policy computation summary*. The optimal policy is the posterior over the action
# given the state and optimality:
#
# $$\pi(a_t \mid s_t) = p(a_t \mid s_t, \mathcal{O}_{1:T}) = p(a_t \mid s_t, \mathcal{O}_{t:T})
#   = \frac{\beta_t(s_t, a_t)}{\beta_t(s_t)} = \exp(Q_t - V_t) = \exp(A_t(s_t, a_t)),$$
#
# and with a temperature $\pi = \exp(\tfrac{1}{\alpha} A_t)$. The slide lists four
# properties: better actions are more probable, random tie-breaking, analogous to
# Boltzmann exploration, approaches the greedy policy as the temperature decreases.
# We check each one, and find that "random tie-breaking" is not uniform.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import boltzmann, enumerate_trajectories, save_figure

# %% [markdown]
# ## π = β(s,a) / β(s) = exp(Q − V)

# %%
mdp = ci.envs.random_mdp(4, 3, branching=2, seed=7, horizon=4)
sol = ci.solve(mdp, mode="exact")
b_sa, b_s, _ = sol.backward_messages()
assert np.allclose(sol.policy, b_sa / b_s[..., None], rtol=0, atol=1e-12)
assert np.allclose(sol.policy, np.exp(sol.Q - sol.V[..., None]), rtol=0, atol=1e-12)
assert np.allclose(sol.policy.sum(axis=2), 1.0)
print("π_0(a | s=0) =", np.round(sol.policy[0, 0], 4), " A_0(0, a) =",
      np.round(sol.Q[0, 0] - sol.V[0, 0], 4))

# %% [markdown]
# ## It really is p(a_t | s_t, O): condition the enumerated posterior
#
# Take all trajectories, weigh them by $p(\tau)e^{R(\tau)}$, keep those with $s_t = s$ and
# read off the frequency of each $a_t$. The slide's derivation says the result depends
# only on the future ($\mathcal{O}_{t:T}$), so it must not change if we start elsewhere.

# %%
def conditional_action_probs(mdp):
    """p(a_t | s_t, O_{0:T-1}) by enumeration; NaN where p(s_t | O) = 0."""
    trajs = enumerate_trajectories(mdp)
    post, _ = trajs.posterior()
    T, S, A = mdp.horizon, mdp.n_states, mdp.n_actions
    joint = np.zeros((T, S, A))
    for t in range(T):
        np.add.at(joint[t], (trajs.states[:, t], trajs.actions[:, t]), post)
    with np.errstate(invalid="ignore"):
        return joint / joint.sum(axis=2, keepdims=True)


for p0 in (mdp.p0, np.eye(mdp.n_states)[2]):
    enumerated = conditional_action_probs(mdp.replace(p0=p0))
    seen = ~np.isnan(enumerated)
    assert np.allclose(enumerated[seen], sol.policy[seen], rtol=0, atol=1e-12)
print("p(a_t | s_t, O) by enumeration = exp(Q_t - V_t), for two different p0")

# %% [markdown]
# ## Temperature on a gridworld
#
# A 4×4 grid, start top-left, goal bottom-right (paying 1 per step spent there), every
# other cell costs 0.1 per step; 5 actions (up, right, down, left, stay), $T = 8$.
# $\alpha \to \infty$ makes every action equally likely; small α concentrates the policy
# on the shortest paths.

# %%
grid = ci.envs.gridworld_from_map(["S...", "....", "....", "...G"], horizon=8,
                                  rewards={".": -0.1, "G": 1.0})
hard = ci.solve(grid, mode="hard")
temperatures = np.logspace(-2.5, 1.5, 25)
policies = {a: ci.solve(grid, mode="soft", temperature=a).policy for a in temperatures}
hot = ci.solve(grid, mode="soft", temperature=1e4).policy
assert np.allclose(hot, 1.0 / grid.n_actions, atol=1e-3)

# %% [markdown]
# ## "Random tie-breaking" counts futures
#
# From cell (0, 2) the goal is 1 step right and 3 down. Value iteration's ties are
# shared equally (ctrlinf's `mode="hard"` splits ties uniformly): right and down each
# 1/2. The soft policy at small α does **not** converge to that: since
# $\beta_t(s, a) = \sum_\tau e^{R(\tau)/\alpha} \approx N^*(s, a)\, e^{R^*/\alpha}$, it
# weighs each action by the number $N^*$ of optimal trajectories that start with it.
# Going right leaves 1 shortest path (down, down, down); going down leaves 3.

# %%
def optimal_path_counts(mdp, hard):
    """N_t(s, a): optimal continuations that start with a in s (deterministic dynamics)."""
    P = mdp.transition_tensor()
    nxt = P.argmax(axis=2)
    assert np.all(P.max(axis=2) == 1.0), "needs deterministic dynamics"
    T = mdp.horizon
    N = np.zeros((T, mdp.n_states, mdp.n_actions))
    N_next = np.ones(mdp.n_states)
    for t in range(T - 1, -1, -1):
        optimal = np.isclose(hard.Q[t], hard.V[t][:, None], rtol=0, atol=1e-9)
        N[t] = optimal * N_next[nxt]
        N_next = N[t].sum(axis=1)
    return N


N = optimal_path_counts(grid, hard)
counted = N / N.sum(axis=2, keepdims=True)
cold = policies[temperatures[0]]
s = grid.state(0, 2)
print(f"cell (0, 2), t = 0 (up, right, down, left, stay):\n"
      f"  value iteration     {np.round(hard.policy[0, s], 3)}\n"
      f"  soft, α = {temperatures[0]:.4f} {np.round(cold[0, s], 3)}\n"
      f"  N*(s,a) / N*(s)     {np.round(counted[0, s], 3)}")
assert np.allclose(hard.policy[0, s], [0, 0.5, 0.5, 0, 0])
assert np.allclose(cold, counted, rtol=0, atol=1e-6)

# %% [markdown]
# ## Boltzmann exploration, with which Q?
#
# $\pi \propto \exp(Q/\alpha)$ looks like Boltzmann exploration, but over the **soft**
# Q of the same temperature. Boltzmann exploration over value iteration's Q,
# $\pi_B \propto \exp(Q^{hard}/\alpha)$, is a different policy: at small α it splits the
# tie at (0, 2) equally, at large α it ignores that some futures have more options.
# (`boltzmann(Q, α)` in `_common.py` is the softmax of Q/α over actions.)

# %%
for a in (temperatures[0], 1.0):
    pi_soft = ci.solve(grid, mode="soft", temperature=a).policy
    pi_b = boltzmann(hard.Q, a)
    print(f"α = {a:.4f}: soft {np.round(pi_soft[0, s], 3)}, Boltzmann(Q_hard) "
          f"{np.round(pi_b[0, s], 3)}")
assert np.allclose(boltzmann(hard.Q, temperatures[0])[0, s], [0, 0.5, 0.5, 0, 0], atol=1e-6)
assert np.abs(pi_soft - pi_b).max() > 0.1          # at α = 1 (the last loop pass)

# %% [markdown]
# ## Sampling the policy
#
# `ci.sample` draws actions from $\pi_t(a \mid s)$ and next states from $P$. The action
# frequencies at $t = 0$ match $\pi_0(a \mid s_0)$ within sampling error.

# %%
alpha = 0.3
pi = policies[temperatures[np.argmin(np.abs(temperatures - alpha))]]
demos = ci.sample(grid, pi, n=20_000, seed=0)
freq = np.bincount(demos.actions[:, 0], minlength=grid.n_actions) / demos.n_trajectories
expected = pi[0, grid.state(0, 0)]
stderr = np.sqrt(expected * (1 - expected) / demos.n_trajectories)
print("empirical p(a_0 | s_0):", np.round(freq, 3), " π_0:", np.round(expected, 3))
assert np.all(np.abs(freq - expected) <= 5 * stderr + 1e-12)

# %%
fig = plt.figure(figsize=(14, 3.6))
axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 1.3]})
for ax, a in zip(axes[:3], (temperatures[0], 0.3, 3.0)):
    pi_a = ci.solve(grid, mode="soft", temperature=a).policy
    ci.plot.policy_arrows(grid, pi_a[0], ax=ax, scale=0.8, colorbar=False,
                          title=f"π_0, temperature {a:.3g}")
ax = axes[3]
probs = np.array([policies[a][0, s] for a in temperatures])
for k, name in enumerate(grid.action_names):
    ax.semilogx(temperatures, probs[:, k], label=name)
ax.axhline(0.75, color="grey", ls=":", lw=1)
ax.axhline(0.25, color="grey", ls=":", lw=1)
ax.set_xlabel("temperature")
ax.set_ylabel("π_0(a | cell (0, 2))")
ax.set_title("temperature → 0: down 3/4, right 1/4 (path counts)")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "03_policy_temperature")

# %% [markdown]
# ## What you saw
#
# - $\pi = \beta_t(s,a)/\beta_t(s) = \exp(Q_t - V_t)$, and it equals the enumerated
#   $p(a_t \mid s_t, \mathcal{O})$ whatever the start distribution.
# - Large α: uniform; small α: greedy. But the tie-breaking is not uniform: it is
#   proportional to the number of optimal futures each action keeps open.
# - The policy is Boltzmann exploration over the *soft* Q; Boltzmann over value
#   iteration's Q is a different policy.
