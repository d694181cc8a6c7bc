# %% [markdown]
# # 6. The optimism problem: exact inference buys lottery tickets
#
# CS285, "Reframing control as an inference problem", slides *The optimism problem*
# and *Addressing the optimism problem*. Exact inference backs up
#
# $$Q_t(s_t, a_t) = r(s_t, a_t) + \log E[\exp(V_{t+1}(s_{t+1}))],$$
#
# an "optimistic" transition ("not a good idea!"): $\log E[e^V]$ is dominated by the
# best outcome. Why? The inference problem is $p(s_{1:T}, a_{1:T} \mid \mathcal{O}_{1:T})$;
# marginalising and conditioning gives the policy $p(a_t \mid s_t, \mathcal{O}_{1:T})$ —
# "given that you obtained high reward, what was your action probability?" — but also
#
# $$p(s_{t+1} \mid s_t, a_t, \mathcal{O}_{1:T}) \ne p(s_{t+1} \mid s_t, a_t):$$
#
# "given that you obtained high reward, what was your transition probability?"
# A gamble makes the difference impossible to miss.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import enumerate_trajectories, save_figure

# %% [markdown]
# ## The gamble MDP
#
# From the start the agent either plays **safe** (reach "ok", reward 0 per step) or
# **gambles**: with probability $p = 1\%$ it hits the jackpot (+5 per step), otherwise it
# goes bust (−1 per step). The outcome states are absorbing, and the agent spends the
# remaining two steps there ($T = 3$). Gambling loses $2(0.99 - 5 \cdot 0.01) = 1.88$ in
# expectation.

# %%
START, OK, JACKPOT, BUST = range(4)
SAFE, GAMBLE = range(2)
NAMES = ["start", "ok", "jackpot", "bust"]


def gamble_mdp(p_jackpot):
    P = np.zeros((4, 2, 4))
    P[START, SAFE, OK] = 1.0
    P[START, GAMBLE, JACKPOT] = p_jackpot
    P[START, GAMBLE, BUST] = 1.0 - p_jackpot
    for s in (OK, JACKPOT, BUST):
        P[s, :, s] = 1.0
    r = np.array([0.0, 0.0, 5.0, -1.0])
    return ci.TabularMDP(P, r, p0=np.eye(4)[START], horizon=3)


mdp = gamble_mdp(0.01)
sols = {mode: ci.solve(mdp, mode=mode) for mode in ("exact", "soft", "hard")}
for mode, sol in sols.items():
    print(f"{mode:>5}: Q_0(start) = {np.round(sol.Q[0, START], 3)}, "
          f"π_0(gamble | start) = {sol.policy[0, START, GAMBLE]:.4f}")
assert sols["exact"].policy[0, START, GAMBLE] > 0.99
assert sols["soft"].policy[0, START, SAFE] > 0.8
assert sols["hard"].policy[0, START, SAFE] == 1.0

# %% [markdown]
# The exact agent gambles with probability 0.995. The gap between the two backups is
# exactly the Jensen gap of the next value, $\log E[e^{V}] - E[V] \ge 0$:

# %%
V1 = sols["exact"].V[1]
P = mdp.transition_tensor()
jensen = np.log(P[START, GAMBLE] @ np.exp(V1)) - P[START, GAMBLE] @ V1
q_gap = sols["exact"].Q[0, START, GAMBLE] - sols["soft"].Q[0, START, GAMBLE]
assert np.isclose(q_gap, jensen)   # from t = 1 on the world is deterministic: same V_1
print(f"Q_exact − Q_soft at (start, gamble) = {q_gap:.3f} = log E e^V − E V")

# %% [markdown]
# ## Posterior dynamics
#
# Condition the enumerated trajectory posterior on $(s_0, a_0) =$ (start, gamble) and
# read off where it goes next. The answer is the slide's formula
#
# $$p(s_{t+1} \mid s_t, a_t, \mathcal{O}_{1:T}) = \frac{p(s_{t+1} \mid s_t, a_t)\,\beta_{t+1}(s_{t+1})}
#   {\sum_{s'} p(s' \mid s_t, a_t)\,\beta_{t+1}(s')},$$
#
# and it says: given that the episode was optimal, you almost surely won.

# %%
def posterior_dynamics(mdp, sol):
    """p(s_{t+1} | s_t, a_t, O) ∝ P(s_{t+1}|s_t,a_t) β_{t+1}(s_{t+1}), shape (T-1, S, A, S)."""
    P = mdp.transition_tensor()
    beta_next = np.exp(sol.V[1:] - sol.V[1:].max(axis=1, keepdims=True))   # (T-1, S)
    weighted = P[None] * beta_next[:, None, None, :]
    return weighted / weighted.sum(axis=3, keepdims=True)


trajs = enumerate_trajectories(mdp)
post, _ = trajs.posterior()
chosen = (trajs.states[:, 0] == START) & (trajs.actions[:, 0] == GAMBLE)
enumerated = np.bincount(trajs.states[chosen, 1], weights=post[chosen], minlength=4)
enumerated /= enumerated.sum()
P_post = posterior_dynamics(mdp, sols["exact"])
print("                           ", "  ".join(f"{n:>7}" for n in NAMES))
print("p(s_1 | start, gamble)     ", "  ".join(f"{v:7.4f}" for v in P[START, GAMBLE]))
print("p(s_1 | start, gamble, O)  ", "  ".join(f"{v:7.4f}" for v in enumerated))
assert np.allclose(enumerated, P_post[0, START, GAMBLE], rtol=0, atol=1e-12)
assert P_post[0, START, GAMBLE, JACKPOT] > 0.999

# %% [markdown]
# The posterior over trajectories *is* a policy plus these bent dynamics, started from
# $p(s_0 \mid \mathcal{O})$: rolling the exact policy out under the posterior dynamics
# reproduces `ci.marginals`; under the real dynamics it does not.

# %%
def rollout(policy, d0, P_t):
    """d_{t+1}(s') = Σ_{s,a} d_t(s) π_t(a|s) P_t(s'|s,a) with time-dependent dynamics."""
    d = [d0]
    for t in range(len(P_t)):
        d.append(np.einsum("s,sa,sap->p", d[-1], policy[t], P_t[t]))
    return np.array(d)


marg, _ = ci.marginals(mdp, sols["exact"])
assert np.allclose(rollout(sols["exact"].policy, marg[0], P_post), marg, rtol=0, atol=1e-12)
real = ci.occupancy(mdp, sols["exact"].policy)        # the same policy in the real world
print(f"p(jackpot at t=1): posterior {marg[1, JACKPOT]:.4f}, real rollout {real[1, JACKPOT]:.4f}")
assert real[1, JACKPOT] < 0.011

# %% [markdown]
# ## What the optimism costs
#
# Evaluate each policy under the **real** dynamics: expected return
# $\sum_t E[r(s_t, a_t)]$. The exact-inference policy pays for its lottery tickets.

# %%
def expected_return(mdp, policy):
    d = ci.occupancy(mdp, policy)
    return float(np.einsum("ts,tsa,sa->", d, policy, mdp.r))


returns = {mode: expected_return(mdp, sol.policy) for mode, sol in sols.items()}
print("expected return:", ", ".join(f"{k} {v:.3f}" for k, v in returns.items()))
assert returns["exact"] < returns["soft"] - 1.5 and returns["hard"] == 0.0

# %% [markdown]
# ## As α → 0 it gets worse, not better
#
# Lowering the temperature turns $\alpha \log E[e^{V/\alpha}]$ into the **best
# reachable** outcome, $\max_{s'} V(s')$ (the review talk's "BAD!"). The soft backup goes
# to value iteration instead (tutorial 2).

# %%
cold = ci.solve(mdp, mode="exact", temperature=0.01)
print(f"α = 0.01: Q_0(start, gamble) = {cold.Q[0, START, GAMBLE]:.3f} (jackpot twice = 10)")
# α log E e^{V/α} lies within α (T-1) log A + α |log p| of the best outcome
assert abs(cold.Q[0, START, GAMBLE] - 10.0) <= 0.01 * (2 * np.log(2) - np.log(0.01))

# %% [markdown]
# ## How small may the odds be?
#
# Sweep the jackpot probability $p$. Gambling has the higher expected return for
# $p > 1/6$. The soft and hard agents switch there; the exact agent gambles as soon as
# $p\,e^{10} + (1-p)\,e^{-2} > 1$, i.e. for odds as long as 1 in 25 000.

# %%
ps = np.logspace(-5, np.log10(0.5), 60)
curves = {mode: [ci.solve(gamble_mdp(p), mode=mode).policy[0, START, GAMBLE] for p in ps]
          for mode in ("exact", "soft", "hard")}
p_exact = (1 - np.exp(-2)) / (np.exp(10) - np.exp(-2))
i_mid = np.searchsorted(ps, p_exact)
assert curves["exact"][i_mid - 1] < 0.5 < curves["exact"][i_mid + 1]
assert curves["hard"][np.searchsorted(ps, 1 / 6) - 1] == 0.0
# Soft and hard switch at p = 1/6: the entropy bonuses of the three outcome states are
# equal, so soft Q(gamble) − Q(safe) = 12 p − 2 exactly, as for the expected return.
for mode in ("soft", "hard"):
    below, at, above = (ci.solve(gamble_mdp(p), mode=mode).policy[0, START, GAMBLE]
                        for p in (1 / 6 - 1e-3, 1 / 6, 1 / 6 + 1e-3))
    assert below < 0.5 and np.isclose(at, 0.5, rtol=0, atol=1e-9) and above > 0.5
print("soft and hard agents: π_0(gamble | start) = 1/2 exactly at p = 1/6")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.4, 1]})
ax = axes[0]
for mode, values in curves.items():
    ax.semilogx(ps, values, label=mode)
ax.axvline(1 / 6, color="grey", ls="--", lw=1)
ax.text(1 / 6, 0.5, " EV break-even\n p = 1/6", fontsize=8)
ax.axvline(p_exact, color="C0", ls=":", lw=1)
ax.text(p_exact, 0.2, " exact's break-even\n p ≈ 1/25 000", fontsize=8, color="C0")
ax.set_xlabel("jackpot probability p")
ax.set_ylabel("π_0(gamble | start)")
ax.set_title("exact inference is optimistic about the dice")
ax.legend(loc="upper left")
ax = axes[1]
x = np.arange(1, 4)
ax.bar(x - 0.2, P[START, GAMBLE, 1:], width=0.4, label="$p(s_1 \\mid$ start, gamble)")
ax.bar(x + 0.2, P_post[0, START, GAMBLE, 1:], width=0.4,
       label="$p(s_1 \\mid$ start, gamble, $O)$")
ax.set_xticks(x, NAMES[1:])
ax.set_ylabel("probability")
ax.set_title("real vs posterior dynamics (p = 0.01)")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "06_optimism")

# %% [markdown]
# ## What you saw
#
# - With a 1 % jackpot the exact-inference policy gambles 99.5 % of the time although
#   gambling loses 1.88 in expectation; soft and hard agents play safe.
# - The reason is the posterior dynamics $p(s' \mid s, a, \mathcal{O}) \propto P\,\beta_{t+1}$:
#   conditioned on optimality, the jackpot has probability 0.9994 instead of 0.01.
#   Exact inference is the policy *plus* these dynamics; the real world keeps $P$.
# - Colder is worse: as α → 0 the exact backup values an action by its best
#   reachable outcome. The fix — keep $P$ and only infer the policy — is variational
#   inference, tutorial 7.
