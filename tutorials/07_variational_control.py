# %% [markdown]
# # 7. Control as variational inference
#
# CS285, "Reframing control as an inference problem", slides *Control via variational
# inference*, *The variational lower bound*, *Optimizing the variational lower bound*.
# Tutorial 6 showed that exact inference also "infers" the dynamics. The fix: find a
# distribution close to $p(\tau \mid \mathcal{O})$ that keeps the real dynamics,
#
# $$q(s_{1:T}, a_{1:T}) = p(s_1) \prod_t p(s_{t+1} \mid s_t, a_t)\, q(a_t \mid s_t),$$
#
# where the policy $q(a_t \mid s_t) = \pi$ is "the only new thing". With
# $x = \mathcal{O}_{1:T}$, $z = (s_{1:T}, a_{1:T})$ the evidence lower bound is
#
# $$\log p(\mathcal{O}_{1:T}) \ge E_q[\log p(x, z) - \log q(z)]
#   = \sum_t E_{(s_t, a_t) \sim q}\big[r(s_t, a_t) + \mathcal{H}(q(a_t \mid s_t))\big]$$
#
# — "maximize reward and maximize action entropy" — and the gap is
# $D_{KL}(q \,\|\, p(\tau \mid \mathcal{O}))$. Maximising it backwards in time gives the
# regular ("not optimistic") soft Bellman backup $Q = r + E[V(s')]$,
# $V = \log\sum_a e^{Q}$: ctrlinf's `mode="soft"`.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import elbo, enumerate_trajectories, save_figure, wall_grid

# %% [markdown]
# ## The ELBO two ways, and the gap is a KL
#
# On a small stochastic MDP (3 states, 2 actions, $T = 4$, start in state 0) we compute
# the bound of a policy by enumerating $q(\tau)$, and from the policy's occupancy
# without enumeration (`elbo` in `_common.py`, $\sum_t E[r + \mathcal{H}]$).

# %%
mdp = ci.envs.random_mdp(3, 2, branching=2, seed=11, horizon=4).replace(p0=[1.0, 0, 0])
trajs = enumerate_trajectories(mdp)
post, log_evidence = trajs.posterior()
assert np.isclose(log_evidence, ci.log_evidence(mdp, ci.solve(mdp, mode="exact")))


def elbo_and_kl_by_enumeration(policy):
    log_q = trajs.log_p + trajs.log_policy(policy)          # q(τ) = p(τ) Π π(a|s)
    q = np.exp(log_q)
    assert np.isclose(q.sum(), 1.0)
    support = q > 0
    bound = np.sum(q[support] * (trajs.returns[support] - trajs.log_policy(policy)[support]))
    kl = np.sum(q[support] * (log_q[support] - np.log(post[support])))
    return bound, kl


rng = np.random.default_rng(0)
T, S, A = mdp.horizon, mdp.n_states, mdp.n_actions
for _ in range(5):
    policy = rng.dirichlet(np.ones(A), size=(T, S))
    bound, kl = elbo_and_kl_by_enumeration(policy)
    assert np.isclose(bound, elbo(mdp, policy), rtol=0, atol=1e-12)
    assert np.isclose(log_evidence - bound, kl, rtol=0, atol=1e-12) and kl > 0
print(f"log p(O) = {log_evidence:.4f}; for random policies ELBO = Σ E[r + H] and "
      f"log p(O) − ELBO = KL(q || p(τ|O))")

# %% [markdown]
# ## The soft backup maximises the bound
#
# At the soft solution the bound equals $E_{p_0}[V^{soft}_0(s_0)]$ (the base case of the
# slide, $E_q[r - \log q] = V$, applied at every step). No random policy and no small
# perturbation of it does better.

# %%
soft = ci.solve(mdp, mode="soft")
exact = ci.solve(mdp, mode="exact")
best = elbo(mdp, soft.policy)
assert np.isclose(best, mdp.p0 @ soft.V[0], rtol=0, atol=1e-12)
random_bounds = np.array([elbo(mdp, rng.dirichlet(np.ones(A), size=(T, S)))
                          for _ in range(500)])
assert random_bounds.max() < best
logits = np.log(soft.policy)
for _ in range(50):
    nudged = np.exp(logits + 1e-3 * rng.standard_normal(logits.shape))
    assert elbo(mdp, nudged / nudged.sum(axis=2, keepdims=True)) <= best + 1e-12
print(f"max ELBO (soft policy) {best:.4f}; best of 500 random policies "
      f"{random_bounds.max():.4f}; the exact-inference policy {elbo(mdp, exact.policy):.4f}")
assert elbo(mdp, exact.policy) < best

# %% [markdown]
# ## When is the bound tight?
#
# The best bound misses $\log p(\mathcal{O})$ by $D_{KL}(q^* \| p(\tau \mid \mathcal{O}))$,
# which vanishes only if the posterior itself has the form of $q$: real dynamics and
# real start distribution. So:
#
# - **deterministic dynamics, one start state**: gap 0 — exact inference was never
#   optimistic (tutorial 2: the backups coincide);
# - **deterministic dynamics, several start states**: the posterior also moves the
#   start (tutorial 4), and the gap is exactly $D_{KL}(p_0 \,\|\, p(s_0 \mid \mathcal{O}))$;
# - **stochastic dynamics**: gap > 0, the price of refusing to bend the dynamics.

# %%
def best_gap(mdp):
    return ci.log_evidence(mdp, ci.solve(mdp, mode="exact")) - mdp.p0 @ ci.solve(mdp).V[0]


det = ci.envs.random_mdp(3, 2, branching=1, seed=11, horizon=4)
det_point = det.replace(p0=[1.0, 0, 0])
print(f"deterministic, one start : gap {best_gap(det_point):.2e}")
assert abs(best_gap(det_point)) < 1e-12

p_s0, _ = ci.marginals(det, ci.solve(det, mode="exact"))
kl_start = np.sum(det.p0 * np.log(det.p0 / p_s0[0]))
print(f"deterministic, p0 spread : gap {best_gap(det):.4f} = KL(p0 || p(s_0|O)) "
      f"{kl_start:.4f}")
assert np.isclose(best_gap(det), kl_start, rtol=0, atol=1e-12)

_, kl_star = elbo_and_kl_by_enumeration(soft.policy)
print(f"stochastic, one start    : gap {best_gap(mdp):.4f} = KL(q* || p(τ|O)) {kl_star:.4f}")
assert np.isclose(best_gap(mdp), kl_star, rtol=0, atol=1e-12) and kl_star > 1e-3

# %% [markdown]
# ## The gap grows with the noise
#
# On the gridworld of tutorial 4 (one start), the gap between $\log p(\mathcal{O})$ and the
# best ELBO is zero without slip and grows as moves become unreliable.

# %%
slips = np.concatenate([[0.0, 0.0025, 0.005, 0.01, 0.02, 0.03], np.linspace(0.05, 0.5, 10)])
gaps = np.array([best_gap(wall_grid(slip)) for slip in slips])
print("gap vs slip:", np.round(gaps, 3))
assert abs(gaps[0]) < 1e-9 and np.all(gaps[1:] > 1e-3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
ax = axes[0]
ax.hist(random_bounds, bins=30, color="grey", alpha=0.7, label="500 random policies")
ax.axvline(best, color="C1", lw=2, label="soft policy (max ELBO)")
ax.axvline(log_evidence, color="C0", lw=2, ls="--", label="log p(O)")
ax.axvline(elbo(mdp, exact.policy), color="C2", lw=1.5, ls=":", label="exact-inference policy")
ax.set_xlabel("ELBO = Σ_t E[r + H(π)]")
ax.set_title("random 3-state MDP, stochastic dynamics")
ax.legend(fontsize=8)
ax = axes[1]
ax.plot(slips, gaps, "o-")
ax.set_xlabel("slip probability")
ax.set_ylabel("log p(O) − max ELBO  =  KL(q* || p(τ|O))")
ax.set_title("gridworld: the bound is tight only without noise")
fig.tight_layout()
save_figure(fig, "07_elbo_gap")

# %% [markdown]
# ## What you saw
#
# - For any policy, $\sum_t E_q[r + \mathcal{H}(\pi)]$ equals the enumerated
#   $E_q[\log p(\mathcal{O}, \tau) - \log q(\tau)]$, and $\log p(\mathcal{O})$ minus it is
#   $D_{KL}(q \| p(\tau \mid \mathcal{O})) \ge 0$.
# - The soft Bellman backup's policy attains the largest bound, $E_{p_0}[V_0^{soft}]$;
#   random and perturbed policies, and the optimistic exact-inference policy, do worse.
# - The best bound is tight for deterministic dynamics from a single start; a spread
#   start costs exactly $D_{KL}(p_0 \| p(s_0 \mid \mathcal{O}))$, noise in the dynamics
#   costs more the noisier they are.
