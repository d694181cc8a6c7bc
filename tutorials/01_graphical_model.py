# %% [markdown]
# # 1. The graphical model of decision making, by enumeration
#
# CS285, "Reframing control as an inference problem", slide *A probabilistic graphical
# model of decision making*: instead of assuming the agent is optimal, we add a binary
# **optimality variable** $\mathcal{O}_t$ to every time step with
#
# $$p(\mathcal{O}_t \mid s_t, a_t) = \exp(r(s_t, a_t)),$$
#
# and ask what trajectories look like *given* that the agent was optimal:
#
# $$p(\tau \mid \mathcal{O}_{1:T}) = \frac{p(\tau, \mathcal{O}_{1:T})}{p(\mathcal{O}_{1:T})}
#   \propto p(\tau) \exp\Big(\sum_t r(s_t, a_t)\Big).$$
#
# Here $p(\tau) = p(s_1) \prod_t p(s_{t+1} \mid s_t, a_t)$ makes "no assumption of optimal
# behaviour". On a tiny MDP we can list **every** trajectory and check the lecture's
# claims directly: the most likely trajectory is the optimal one, worse ones are
# exponentially rarer, and stochastic behaviour is explained without being "wrong".
#
# Conventions (ctrlinf, `ctrlinf/mdp.py`): time runs `t = 0 … T-1` (the lecture's `1 … T`),
# the temperature α sets `p(O_t | s, a) = exp(r(s, a)/α)`, and actions carry the
# counting measure (a uniform action prior would only multiply every trajectory by
# the same constant `A^{-T}`).

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import enumerate_trajectories, save_figure

# %% [markdown]
# ## A four-cell corridor
#
# States 0–3 in a row, actions `0 = left`, `1 = right` (bumping into the end stays put).
# Being in cell 3 pays 1 per step; moving right costs 0.1 (effort). The agent starts in
# cell 0 and takes `T = 4` decisions, so there are $2^4 = 16$ action sequences and, with
# deterministic moves, 16 trajectories.

# %%
S, A, T = 4, 2, 4
LEFT, RIGHT = 0, 1


def corridor(slip=0.0):
    """P[s, a, s']: the intended move happens with probability 1 - slip, else stay."""
    P = np.zeros((S, A, S))
    for s in range(S):
        for a, step in ((LEFT, -1), (RIGHT, +1)):
            target = min(max(s + step, 0), S - 1)
            P[s, a, target] += 1.0 - slip
            P[s, a, s] += slip
    r = np.zeros((S, A))
    r[S - 1, :] += 1.0          # the goal cell
    r[:, RIGHT] -= 0.1          # effort
    return ci.TabularMDP(P, r, p0=np.eye(S)[0], horizon=T)


mdp = corridor()
trajs = enumerate_trajectories(mdp)
print(f"{len(trajs)} trajectories with p(τ) > 0")
assert len(trajs) == A ** T

# %% [markdown]
# ## The posterior over trajectories
#
# `trajs.posterior(α)` multiplies the factors of the graphical model along each
# trajectory, $p(\tau)\exp(R(\tau)/\alpha)$, and normalises by
# $Z = p(\mathcal{O}_{0:T-1}) = \sum_\tau p(\tau) \exp(R(\tau)/\alpha)$.
# ctrlinf gets the same normaliser from the backward messages without enumerating
# anything (`ci.log_evidence`), which we check first.

# %%
alpha = 1.0
post, log_Z = trajs.posterior(alpha)
sol = ci.solve(mdp, mode="exact", temperature=alpha)
print(f"log p(O) by enumeration {log_Z:.10f}, by ctrlinf {ci.log_evidence(mdp, sol):.10f}")
assert np.isclose(log_Z, ci.log_evidence(mdp, sol), rtol=0, atol=1e-12)

order = np.argsort(-post)
names = np.array(["L", "R"])
print("\n p(τ|O)   R(τ)  states      actions")
for i in order[:6]:
    print(f" {post[i]:.4f}  {trajs.returns[i]:5.2f}  {trajs.states[i]}  "
          f"{''.join(names[trajs.actions[i]])}")

# %% [markdown]
# **The most likely trajectory is the optimal one.** With deterministic dynamics
# $p(\tau)$ is 1 on every feasible trajectory, so $\log p(\tau \mid \mathcal{O}) =
# R(\tau)/\alpha - \log Z$: the posterior ranks trajectories exactly by return, and its
# mode is the plan classic dynamic programming finds (`mode="hard"`).
#
# ctrlinf never lists trajectories: it returns a policy $\pi_t(a \mid s)$. With
# deterministic moves from one start, the posterior of a trajectory is the product of
# that policy's probabilities along it — a check of ctrlinf's backward messages
# against all 16 enumerated trajectories.

# %%
best = order[0]
hard = ci.solve(mdp, mode="hard")
print(f"most likely: actions {''.join(names[trajs.actions[best]])}, return "
      f"{trajs.returns[best]:.2f}; hard value iteration V_0(s_0) = {hard.V[0, 0]:.2f}")
assert np.isclose(trajs.returns[best], trajs.returns.max())
assert np.isclose(trajs.returns[best], hard.V[0, 0])
assert np.sum(np.isclose(trajs.returns, trajs.returns.max())) == 1   # a unique optimum
assert np.allclose(trajs.log_policy(sol.policy), np.log(post), rtol=0, atol=1e-12)

# %% [markdown]
# **Worse trajectories are exponentially rarer**: a trajectory that loses ΔR of return
# is $e^{-\Delta R/\alpha}$ times less likely than the best one. The temperature sets
# how harshly mistakes are punished; "some mistakes matter more than others". We read
# the odds off ctrlinf's policy at each temperature, not off the formula.

# %%
for a in (1.0, 0.3, 0.1):
    log_p_a = trajs.log_policy(ci.solve(mdp, mode="exact", temperature=a).policy)
    ratio = np.exp(log_p_a - log_p_a[best])
    assert np.allclose(ratio, np.exp((trajs.returns - trajs.returns[best]) / a),
                       rtol=1e-10, atol=0)
    p_a, _ = trajs.posterior(a)
    print(f"α = {a:<4}: p(τ*|O) = {p_a[best]:.3f}; a trajectory 1 reward unit worse is "
          f"{np.exp(1 / a):.3g}× rarer")
assert trajs.posterior(0.1)[0][best] > trajs.posterior(0.3)[0][best] > post[best]

# %% [markdown]
# ## `exp(r)` needs `r ≤ 0` — and it does not matter
#
# Strictly, $\exp(r)$ is a probability only for $r \le 0$. Subtracting a constant $c$ from
# every reward multiplies every $p(\tau, \mathcal{O})$ by the same $e^{-Tc/\alpha}$ (every
# trajectory has exactly $T$ steps), so the posterior does not change.

# %%
shifted = mdp.replace(r=mdp.r - mdp.r.max())
post_shifted, log_Z_shifted = enumerate_trajectories(shifted).posterior(alpha)
assert np.allclose(post_shifted, post, rtol=0, atol=1e-14)
assert np.isclose(log_Z_shifted, log_Z - T * mdp.r.max() / alpha)
print(f"rewards shifted by {-mdp.r.max():g}: same posterior, log Z moved by "
      f"{log_Z_shifted - log_Z:.2f} = -T·max r")

# %% [markdown]
# ## Marginals: what the messages will compute
#
# Summing the posterior over everything except $s_t$ gives $p(s_t \mid \mathcal{O})$.
# The next tutorials compute this with backward and forward messages; `ci.marginals`
# already agrees with the enumeration.

# %%
marg = np.zeros((T, S))
for t in range(T):
    np.add.at(marg[t], trajs.states[:, t], post)
state_marginals, _ = ci.marginals(mdp, sol)
print("p(s_t | O), rows t = 0..3:\n", np.round(marg, 3))
assert np.allclose(marg, state_marginals, rtol=0, atol=1e-12)

# %% [markdown]
# ## Stochastic dynamics: p(τ) joins in
#
# With a 30 % chance that a move fails, trajectories also differ in how likely the
# world makes them. The posterior is still $p(\tau)\,e^{R(\tau)/\alpha}/Z$: among
# trajectories with the same return, the ones the dynamics favour are more likely.
#
# Now the policy alone no longer gives $p(\tau \mid \mathcal{O})$: the posterior also
# bends the dynamics towards reward (tutorial 6),
# $p(s_{t+1} \mid s_t, a_t, \mathcal{O}) = P(s_{t+1} \mid s_t, a_t)\, e^{V_{t+1}(s_{t+1})}
# / e^{Q_t(s_t, a_t) - r(s_t, a_t)}$. Policy times bent dynamics, from ctrlinf's `Q` and
# `V`, reproduces every enumerated posterior probability.

# %%
slippery = corridor(slip=0.3)
trajs_s = enumerate_trajectories(slippery)
post_s, log_Z_s = trajs_s.posterior(alpha)
sol_s = ci.solve(slippery, mode="exact", temperature=alpha)
assert np.isclose(log_Z_s, ci.log_evidence(slippery, sol_s), rtol=0, atol=1e-12)
P_s, steps = slippery.transition_tensor(), np.arange(T - 1)
now_s, now_a, nxt = trajs_s.states[:, :-1], trajs_s.actions[:, :-1], trajs_s.states[:, 1:]
log_bent = (np.log(P_s[now_s, now_a, nxt]) + sol_s.V[steps + 1, nxt]
            - (sol_s.Q[steps, now_s, now_a] - slippery.r[now_s, now_a])).sum(axis=1)
assert np.allclose(trajs_s.log_policy(sol_s.policy) + log_bent, np.log(post_s),
                   rtol=0, atol=1e-12)
# Same return, the likelier dynamics wins: compare every pair with equal R(τ).
same_R = np.isclose(trajs_s.returns[:, None], trajs_s.returns[None, :])
more_likely = trajs_s.log_p[:, None] > trajs_s.log_p[None, :] + 1e-12
assert np.all(post_s[:, None] > post_s[None, :], where=same_R & more_likely)
print(f"{len(trajs_s)} trajectories with p(τ) > 0 under slip 0.3; "
      f"the most likely has return {trajs_s.returns[np.argmax(post_s)]:.2f}")

# %% [markdown]
# Enumeration already has to list more trajectories than the messages do work: the
# backward pass touches each nonzero $P(s' \mid s, a)$ once per step, $T \cdot
# \mathrm{nnz}(P)$ operations.

# %%
print(f"enumeration: {len(trajs_s)} trajectories of {T} steps; messages: "
      f"T · nnz(P) = {T * slippery.P.nnz} multiply-adds")
assert len(trajs_s) * T > T * slippery.P.nnz

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
grid_R = np.linspace(trajs.returns.min(), trajs.returns.max(), 50)
for i, (a, marker) in enumerate(((1.0, "o"), (0.3, "s"))):
    p_a, log_Z_a = trajs.posterior(a)
    axes[0].plot(trajs.returns, p_a, marker, color=f"C{i}", alpha=0.7, label=f"temperature {a}")
    axes[0].plot(grid_R, np.exp(grid_R / a - log_Z_a), "--", color=f"C{i}", linewidth=0.8)
axes[0].set_yscale("log")
axes[0].set_xlabel("return R(τ)")
axes[0].set_ylabel("p(τ | O)")
axes[0].set_title("deterministic corridor: p(τ|O) ∝ exp(R(τ) / temperature)")
axes[0].legend()
points = axes[1].scatter(trajs_s.returns, post_s, c=trajs_s.log_p, cmap="viridis", s=14)
axes[1].set_yscale("log")
axes[1].set_xlabel("return R(τ)")
axes[1].set_title("slip 0.3: p(τ|O) ∝ p(τ) exp(R(τ)), temperature 1")
fig.colorbar(points, ax=axes[1], label="log p(τ)")
fig.tight_layout()
save_figure(fig, "01_trajectory_posterior")

# %% [markdown]
# ## What you saw
#
# - Conditioning on optimality turns rewards into likelihoods:
#   $p(\tau \mid \mathcal{O}) \propto p(\tau) e^{R(\tau)/\alpha}$, checked on all 16 (and
#   all slippery) trajectories, and its normaliser is `ci.log_evidence`.
# - With deterministic dynamics the posterior's mode is the optimal plan, and a
#   trajectory worse by ΔR is $e^{-\Delta R/\alpha}$ times rarer; lower α, harsher.
# - Shifting rewards changes nothing, so "r ≤ 0" is no restriction.
# - Enumeration does not scale (up to $(AS)^T$ trajectories); the backward and forward
#   messages of tutorials 2–4 compute the same numbers in $O(T \cdot \mathrm{nnz}(P))$
#   work, one multiply-add per nonzero transition $P(s' \mid s, a)$ per step — between
#   $O(TSA)$ for deterministic moves and $O(TS^2A)$ for dense dynamics.
