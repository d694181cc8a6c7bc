# %% [markdown]
# # 2. Backward messages are soft Q and V
#
# CS285, "Reframing control as an inference problem", slides *Backward messages* and
# *A closer look at the backward pass*. The backward message
#
# $$\beta_t(s_t, a_t) = p(\mathcal{O}_{t:T} \mid s_t, a_t)$$
#
# is "the probability that we can be optimal at steps t through T given that we take
# action $a_t$ in state $s_t$". It obeys, for $t = T-1$ down to 1,
#
# $$\beta_t(s_t, a_t) = p(\mathcal{O}_t \mid s_t, a_t)\,
#   E_{s_{t+1} \sim p(s_{t+1} \mid s_t, a_t)}[\beta_{t+1}(s_{t+1})], \qquad
#   \beta_t(s_t) = E_{a_t \sim p(a_t \mid s_t)}[\beta_t(s_t, a_t)].$$
#
# Take logs, $V_t = \log \beta_t(s_t)$, $Q_t = \log \beta_t(s_t, a_t)$:
#
# $$Q_t = r + \log E[\exp(V_{t+1}(s_{t+1}))], \qquad V_t = \log \textstyle\sum_a \exp(Q_t),$$
#
# a "soft" value iteration: $V_t \to \max_a Q_t$ as Q gets bigger. In ctrlinf's
# counting measure the expectation over actions is a plain sum (tutorial 5 explains
# why that loses nothing), and with a temperature α everything is measured in reward
# units: $Q_t = \alpha \log \beta_t(s, a)$.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import enumerate_trajectories, optimistic_dp, save_figure

# %% [markdown]
# ## The lecture's loop, in probabilities
#
# A random MDP with 5 states, 3 actions, 2 possible successors per (s, a), horizon 6.
# We run the recursion exactly as written on the slide, multiplying probabilities.

# %%
S, A, T = 5, 3, 6
mdp = ci.envs.random_mdp(S, A, branching=2, seed=4, horizon=T)
P, r = mdp.transition_tensor(), mdp.r

beta_sa = np.empty((T, S, A))
beta_s = np.empty((T, S))
beta_sa[T - 1] = np.exp(r)                          # β_T(s, a) = p(O_T | s, a)
beta_s[T - 1] = beta_sa[T - 1].sum(axis=1)
for t in range(T - 2, -1, -1):
    beta_sa[t] = np.exp(r) * (P @ beta_s[t + 1])    # p(O_t|s,a) E_{s'}[β_{t+1}(s')]
    beta_s[t] = beta_sa[t].sum(axis=1)

sol = ci.solve(mdp, mode="exact", temperature=1.0)
print("log β_0(s)  :", np.round(np.log(beta_s[0]), 4))
print("ctrlinf V_0 :", np.round(sol.V[0], 4))
assert np.allclose(np.log(beta_sa), sol.Q, rtol=0, atol=1e-12)
assert np.allclose(np.log(beta_s), sol.V, rtol=0, atol=1e-12)

# %% [markdown]
# ctrlinf never forms $\beta$ itself: for large rewards or long horizons it under- or
# overflows, so it runs the same recursion on $Q$ and $V$ in log space.
# `sol.backward_messages()` hands back $\beta$ rescaled per step when you want it.

# %%
b_sa, b_s, log_scale = sol.backward_messages()
assert np.allclose(b_s * np.exp(log_scale)[:, None], beta_s)
assert np.allclose(b_sa * np.exp(log_scale)[:, None, None], beta_sa)

# %% [markdown]
# ## What β means, by brute force
#
# $\beta_0(s) = p(\mathcal{O}_{0:T-1} \mid s_0 = s)$: start every trajectory in $s$,
# weigh it by $p(\tau) e^{R(\tau)}$ and add up $(3 \cdot 2)^5 \cdot 3$ = 23 328 terms.

# %%
for s in range(S):
    trajs = enumerate_trajectories(mdp.replace(p0=np.eye(S)[s]))
    _, log_Z = trajs.posterior()
    assert np.isclose(log_Z, sol.V[0, s], rtol=0, atol=1e-10)
print(f"β_0(s) = p(O | s_0 = s) checked by enumerating {len(trajs)} trajectories per state")

# %% [markdown]
# ## Comparison with value iteration
#
# Value iteration sets $Q \leftarrow r + E[V(s')]$, $V \leftarrow \max_a Q$ (`mode="hard"`).
# The message recursion differs in two places:
#
# 1. $V$ is a **soft max** $\log\sum_a e^{Q}$, which lies between $\max_a Q$ and
#    $\max_a Q + \log A$;
# 2. the backup is $\log E[e^{V}]$, which equals $E[V]$ only for **deterministic**
#    transitions (otherwise it is larger: "optimistic", tutorial 6).
#
# `mode="soft"` keeps (1) and replaces (2) by the ordinary expectation. On deterministic
# dynamics exact inference and the soft backup agree exactly.

# %%
det = ci.envs.random_mdp(S, A, branching=1, seed=4, horizon=T)
exact_det = ci.solve(det, mode="exact")
soft_det = ci.solve(det, mode="soft")
print("deterministic: max |Q_exact - Q_soft| =", np.abs(exact_det.Q - soft_det.Q).max())
assert np.allclose(exact_det.Q, soft_det.Q, rtol=0, atol=1e-12)

soft = ci.solve(mdp, mode="soft")
hard = ci.solve(mdp, mode="hard")
gap = soft.V - hard.V
steps_left = (T - np.arange(T))[:, None]
print("soft - hard V_t(s), max over s, t = 0..5:", np.round(gap.max(axis=1), 3))
print("bound (T - t) log A                      :", np.round((T - np.arange(T)) * np.log(A), 3))
assert np.all(gap >= -1e-12) and np.all(gap <= steps_left * np.log(A) + 1e-12)
assert np.all(sol.V >= soft.V - 1e-12)      # log E exp ≥ E (Jensen): exact ≥ soft

# %% [markdown]
# ## Bigger rewards: soft max becomes max
#
# Multiply every reward by $c$ (equivalently, divide the temperature by $c$). The soft
# value in reward units, $V^{soft}_c / c$, stays within $T \log A / c$ of the hard one,
# so it converges to value iteration at least at rate $1/c$ — and exponentially fast when
# the best action beats the others by a margin: if every state's best hard `Q_t` beats
# the runner-up by at least Δ, each step's soft max exceeds the max by at most
# $\frac{1}{c}\log(1 + (A-1)e^{-c\Delta}) \le (A-1)e^{-c\Delta}/c$, and the errors add up to
# $|V^{soft}_c/c - V^{hard}| \le T e^{-c\Delta} / c$. Exact inference converges
# too — but to the **optimistic** recursion $Q = r + \max_{s' : P(s'|s,a) > 0} V(s')$ (the
# review talk's "BAD!" slide; `optimistic_dp` in `_common.py`), which on stochastic
# dynamics is not value iteration.

# %%
V_opt = optimistic_dp(mdp)
p_min = mdp.P.data.min()
scales = np.logspace(0, 3, 13)
err_soft, err_exact = [], []
for c in scales:
    scaled = mdp.replace(r=c * mdp.r)
    err_soft.append(np.abs(ci.solve(scaled, mode="soft").V[0] / c - hard.V[0]).max())
    err_exact.append(np.abs(ci.solve(scaled, mode="exact").V[0] / c - V_opt[0]).max())
err_soft, err_exact = np.array(err_soft), np.array(err_exact)
assert np.all(err_soft <= T * np.log(A) / scales + 1e-9)
# The action gap Δ: best minus second-best hard Q over every (t, s).
sorted_Q = np.sort(hard.Q, axis=2)
delta = (sorted_Q[..., -1] - sorted_Q[..., -2]).min()
exp_bound = T * (A - 1) * np.exp(-scales * delta) / scales
assert delta > 0 and np.all(err_soft <= exp_bound * (1 + 1e-9) + 1e-12)
tail = (scales >= 10) & (err_soft > 1e-13)      # in the exponential regime, above round-off
slope = np.polyfit(scales[tail], np.log(err_soft[tail] * scales[tail]), 1)[0]
print(f"action gap Δ = {delta:.3f}: log(c · error) falls with slope {slope:.3f} per unit of c "
      f"(bound: −Δ)")
assert slope <= -delta
assert np.all(err_exact <= T * (np.log(A) - np.log(p_min)) / scales + 1e-9)
print(f"c = 1000: soft/c is {err_soft[-1]:.1e} from value iteration, exact/c is "
      f"{err_exact[-1]:.1e} from the optimistic recursion")
print("value iteration V_0      :", np.round(hard.V[0], 3))
print("optimistic recursion V_0 :", np.round(V_opt[0], 3))
assert np.any(V_opt[0] > hard.V[0] + 0.1)   # the optimistic limit really is different

# %%
fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.8))
ax = axes[0]
ax.loglog(scales, err_soft, "o-", label="soft: |V/c − V_hard|")
ax.loglog(scales, T * np.log(A) / scales, "--", color="C0", label="bound T log A / c")
ax.loglog(scales, err_exact, "s-", label="exact: |V/c − V_optimistic|")
ax.loglog(scales, T * (np.log(A) - np.log(p_min)) / scales, "--", color="C1",
          label="bound T (log A − log p_min) / c")
ax.set_xlabel("reward scale c")
ax.set_ylabel("max over states at t = 0")
ax.set_title("scaling rewards turns soft max into max")
ax.legend(fontsize=8)
ax = axes[1]
x = np.arange(S)
for i, (label, values) in enumerate((("hard (value iteration)", hard.V[0]),
                                     ("soft, c = 1", soft.V[0]),
                                     ("exact, c = 1", sol.V[0]),
                                     ("optimistic recursion", V_opt[0]))):
    ax.bar(x + (i - 1.5) * 0.2, values, width=0.2, label=label)
ax.set_xticks(x)
ax.set_xlabel("state s")
ax.set_ylabel("$V_0(s)$")
ax.set_title("hard ≤ soft ≤ exact (Jensen); exact → optimistic as c → ∞")
ax.set_ylim(0, 1.4 * V_opt[0].max())
ax.legend(fontsize=8, ncol=2, loc="upper center")
fig.tight_layout()
save_figure(fig, "02_soft_max_to_max")

# %% [markdown]
# ## What you saw
#
# - The lecture's backward recursion, run literally on probabilities, gives
#   $\log\beta =$ ctrlinf's `Q` and `V` (exact mode), and $\beta_0(s)$ is the
#   enumerated probability of being optimal from $s$.
# - On deterministic dynamics $Q_t = r + V_{t+1}(s')$: exact inference *is* soft
#   value iteration. On stochastic dynamics exact ≥ soft (Jensen).
# - $\max_a Q \le V^{soft} \le \max_a Q + \alpha\log A$ per step, so scaling rewards by
#   $c$ brings soft values to value iteration at rate $T\log A/c$, and like
#   $T(A-1)e^{-c\Delta}/c$ once the action gap Δ shows — while exact inference goes to
#   an optimistic recursion that maximises over outcomes.
