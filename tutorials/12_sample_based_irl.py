# %% [markdown]
# # 12. Sample-based IRL: importance sampling and the GAN view
#
# CS285 lecture 20 (inverse RL), *Unknown Dynamics & Large State/action Spaces*,
# *Importance Sampling*, *Inverse RL as a GAN*. MaxEnt IRL's gradient
#
# $$\nabla_\psi L = E_{\tau \sim \pi^*}[\nabla_\psi r_\psi(\tau)]
#   - E_{\tau \sim p(\tau \mid \mathcal{O}, \psi)}[\nabla_\psi r_\psi(\tau)]$$
#
# needs the second expectation. Without the dynamics we cannot run the messages of
# tutorial 10; we can only sample trajectories $\tau_j$ from some policy π and
# reweight them:
#
# $$w_j = \frac{p(\tau_j)\exp(r_\psi(\tau_j))}{\pi(\tau_j)}
#   = \frac{\exp(\sum_t r_\psi(s_t, a_t))}{\prod_t \pi(a_t \mid s_t)}, \qquad
#   \nabla_\psi L \approx \frac1N\sum_i \nabla_\psi r_\psi(\tau_i)
#   - \frac{1}{\sum_j w_j}\sum_j w_j \nabla_\psi r_\psi(\tau_j)$$
#
# — the dynamics cancel. On a tiny MDP we can enumerate every trajectory and check
# the estimator, the best sampling distribution, and the optimal discriminator of the
# GAN view, exactly.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import elbo, enumerate_trajectories, logsumexp, save_figure

# %% [markdown]
# ## A tiny MDP, an expert, a current reward
#
# 3 states, 2 actions, 4 steps, two successors per (s, a), one start state. Reward
# features $\phi(s, a) \in \mathbb{R}^2$; the expert is the MaxEnt posterior of
# $\psi^* = (1, -0.5)$, the learner's current reward is $\psi = (0.2, 0.3)$.
# Trajectory features $\phi(\tau) = \sum_t \phi(s_t, a_t)$.

# %%
rng = np.random.default_rng(3)
base = ci.envs.random_mdp(3, 2, branching=2, seed=8, horizon=4).replace(p0=[1.0, 0.0, 0.0])
phi = rng.normal(size=(3, 2, 2))                      # (S, A, K)
psi_star, psi = np.array([1.0, -0.5]), np.array([0.2, 0.3])


def with_reward(mdp, psi):
    return mdp.replace(r=phi @ psi)


trajs = enumerate_trajectories(base)
t_idx = np.arange(base.horizon)
phi_tau = phi[trajs.states, trajs.actions].sum(axis=1)          # (N_τ, K)
print(f"{len(trajs)} trajectories")


def posterior(mdp, psi):
    """p(τ | O, ψ) over the enumerated trajectories, and log Z(ψ)."""
    log_w = trajs.log_p + phi_tau @ psi
    log_Z = logsumexp(log_w)
    return np.exp(log_w - log_Z), log_Z


p_expert, _ = posterior(base, psi_star)
p_model, log_Z = posterior(base, psi)
mu_E = p_expert @ phi_tau
exact_grad = mu_E - p_model @ phi_tau

model = with_reward(base, psi)
exact_sol = ci.solve(model, mode="exact")
_, marginal_sa = ci.marginals(model, exact_sol)
assert np.isclose(log_Z, ci.log_evidence(model, exact_sol))
assert np.allclose(p_model @ phi_tau, np.einsum("tsa,sak->k", marginal_sa, phi))
print("exact gradient μ_E − μ_ψ =", np.round(exact_grad, 4), "(enumeration = messages)")

# %% [markdown]
# ## Importance weights
#
# Sampling $\tau \sim q(\tau) = p(\tau)\prod_t\pi(a_t \mid s_t)$ and weighting by $w$ is
# unbiased for the partition function, $E_q[w] = \sum_\tau p(\tau)e^{r_\psi(\tau)} = Z$
# (exactly, by enumeration). Sampling without the weights — "lazy" policy
# optimisation with a policy that is not (yet) the soft-optimal one — estimates
# $E_q[\phi]$ instead of $E_{p(\tau|\mathcal{O})}[\phi]$: "wrong distribution, estimator
# is now biased".

# %%
samplers = {
    "uniform policy": np.full((base.horizon, 3, 2), 0.5),
    "soft policy of ψ": ci.solve(model, mode="soft").policy,
    "exact policy of ψ": exact_sol.policy,
}
for name, policy in samplers.items():
    log_q = trajs.log_p + trajs.log_policy(policy)
    log_weights = phi_tau @ psi - trajs.log_policy(policy)
    assert np.isclose(np.exp(log_q) @ np.exp(log_weights), np.exp(log_Z))
    bias = np.exp(log_q) @ phi_tau - p_model @ phi_tau
    print(f"{name:>18}: E_q[w] = Z = {np.exp(log_Z):.4f}; unweighted estimator biased by "
          f"{np.round(bias, 3)}")
assert np.abs(np.exp(trajs.log_p + trajs.log_policy(samplers["uniform policy"])) @ phi_tau
              - p_model @ phi_tau).max() > 0.1

# %% [markdown]
# ## The self-normalised estimator, by sampling
#
# Draw M trajectories with `ci.sample`, weight them, estimate the gradient; repeat 200
# times and measure the RMS error against the exact gradient. Its error falls like
# $M^{-1/2}$, and the sampler matters. The slides: "the optimal π is
# $\pi(\tau) \propto \exp(r_\psi(\tau))$, the max-ent optimal policy for $r_\psi$" — true for
# the partition function $Z$ (every weight then equals $Z$: zero variance), and a good
# sampler for the gradient, but not the optimal one; see below.

# %%
def is_gradient(demos, policy):
    log_pi = np.log(policy[t_idx, demos.states, demos.actions]).sum(axis=1)
    r_tau = phi[demos.states, demos.actions].sum(axis=1)            # (M, K)
    log_w = r_tau @ psi - log_pi
    w = np.exp(log_w - log_w.max())
    return mu_E - (w @ r_tau) / w.sum(), w / w.sum()


sample_sizes = np.array([10, 30, 100, 300, 1000])
rms = {name: [] for name in samplers}
ess = {}
for name, policy in samplers.items():
    for M in sample_sizes:
        demos = ci.sample(model, policy, n=200 * M, seed=int(M))
        errors = [is_gradient(demos[k * M:(k + 1) * M], policy)[0] - exact_grad
                  for k in range(200)]
        rms[name].append(np.sqrt(np.mean(np.sum(np.square(errors), axis=1))))
    _, w = is_gradient(ci.sample(model, policy, n=5000, seed=1), policy)
    ess[name] = 1.0 / np.sum(w ** 2) / 5000
    print(f"{name:>18}: RMS error {rms[name][0]:.3f} (M=10) → {rms[name][-1]:.4f} (M=1000); "
          f"effective sample size {100 * ess[name]:.0f} %")
rms = {k: np.array(v) for k, v in rms.items()}
for name in samplers:
    slope = np.polyfit(np.log(sample_sizes), np.log(rms[name]), 1)[0]
    assert -0.65 < slope < -0.35, (name, slope)
assert ess["exact policy of ψ"] > ess["uniform policy"]
assert rms["exact policy of ψ"][-1] < rms["uniform policy"][-1]

# %% [markdown]
# **Optimal for Z, not for the gradient.** The self-normalised estimate of one
# component $E_p[\phi_k]$, $p = p(\tau \mid \mathcal{O}, \psi)$, has asymptotic variance
# $\frac1M \sum_\tau \frac{p(\tau)^2}{q(\tau)} (\phi_k(\tau) - \mu_k)^2$. For $q = p$ that
# is $\mathrm{Var}_p(\phi_k)/M$; the sampling distribution that minimises it is
# $q_k^* \propto p\,|\phi_k - \mu_k|$ (Hesterberg 1988; Owen 2013, *Monte Carlo theory,
# methods and examples*, ch. 9), with variance $(E_p|\phi_k - \mu_k|)^2/M$ — smaller, by
# Jensen, whenever $|\phi_k - \mu_k|$ is not constant.

# %%
mu_model = p_model @ phi_tau
for k in range(phi_tau.shape[1]):
    deviation = np.abs(phi_tau[:, k] - mu_model[k])
    var_posterior = p_model @ deviation ** 2             # M × variance with q = p
    var_best = (p_model @ deviation) ** 2                # M × variance, q ∝ p |φ_k − μ_k|
    q_best = p_model * deviation / (p_model @ deviation)
    support = q_best > 0
    assert np.isclose(var_best, (p_model[support] ** 2 / q_best[support]
                                 * deviation[support] ** 2).sum())
    print(f"gradient component {k}: M·variance {var_posterior:.3f} sampling the posterior, "
          f"{var_best:.3f} sampling ∝ p |φ_k − μ_k|")
    assert var_best < 0.9 * var_posterior

# %% [markdown]
# With stochastic dynamics even the exact-inference policy does not give equal
# weights, because no policy can reproduce the posterior's bent dynamics (tutorial 6).
# With **deterministic** dynamics (and one start state) it can: every weight equals
# $Z$, a zero-variance estimator.

# %%
det = with_reward(ci.envs.random_mdp(3, 2, branching=1, seed=8, horizon=4).replace(
    p0=[1.0, 0.0, 0.0]), psi)
det_sol = ci.solve(det, mode="exact")
det_demos = ci.sample(det, det_sol.policy, n=50, seed=0)
log_w = (det.r[det_demos.states, det_demos.actions].sum(axis=1)
         - np.log(det_sol.policy[t_idx, det_demos.states, det_demos.actions]).sum(axis=1))
assert np.allclose(log_w, ci.log_evidence(det, det_sol), rtol=0, atol=1e-12)
print(f"deterministic dynamics, exact policy: all 50 log-weights = log Z = {log_w[0]:.6f}")

# %% [markdown]
# ## IRL as a GAN: the optimal discriminator
#
# A discriminator $D(\tau)$ trained to tell expert trajectories ($p^*$) from policy
# samples ($q$) minimises $E_{p^*}[-\log D] + E_q[-\log(1 - D)]$, which is optimal at
# $D^*(\tau) = p^*(\tau) / (p^*(\tau) + q(\tau))$. We fit a free logit per trajectory by
# gradient descent on the exact (enumerated) loss and compare. The loss is a sum of one
# term per trajectory, of size $p^* + q$, so each logit's step is scaled by $1/(p^* + q)$.

# %%
q_policy = samplers["soft policy of ψ"]
q = np.exp(trajs.log_p + trajs.log_policy(q_policy))
D_star = p_expert / (p_expert + q)
logits = np.zeros(len(trajs))
for step in range(20_000):
    D = 1.0 / (1.0 + np.exp(-logits))
    grad = -p_expert * (1 - D) + q * D                 # d loss / d logit
    logits -= 2.0 * grad / (p_expert + q)              # one term per τ: scale each step
D_fit = 1.0 / (1.0 + np.exp(-logits))
print(f"trained discriminator vs p*/(p* + q): max difference {np.abs(D_fit - D_star).max():.1e}")
assert np.allclose(D_fit, D_star, atol=1e-4)

# %% [markdown]
# The IRL discriminator is not a free classifier but built from the reward and the
# policy: $D_\psi(\tau) = \frac{\frac1Z e^{r_\psi(\tau)}}{\frac1Z e^{r_\psi(\tau)} + \prod_t \pi(a_t \mid s_t)}$
# (the dynamics cancel again). With the expert's own reward ψ* and its $Z$ it *is* the
# optimal discriminator, for any policy:

# %%
_, log_Z_star = posterior(base, psi_star)
for policy in samplers.values():
    q_tau = np.exp(trajs.log_p + trajs.log_policy(policy))
    expert_part = np.exp(phi_tau @ psi_star - log_Z_star)
    D_psi = expert_part / (expert_part + np.exp(trajs.log_policy(policy)))
    assert np.allclose(D_psi, p_expert / (p_expert + q_tau), rtol=0, atol=1e-12)
print("D_ψ*(τ) = p*(τ) / (p*(τ) + q(τ)) exactly, for all three policies")

# %% [markdown]
# **The generator.** Its loss $E_q[\log(1 - D_\psi) - \log D_\psi] = E_q[\log\prod_t\pi + \log Z - r_\psi]$
# is $\log Z$ minus the ELBO of tutorial 7, i.e. $D_{KL}(q \| p(\tau \mid \mathcal{O}, \psi))$:
# the generator does MaxEnt RL on $r_\psi$. Its optimum (reachable by a policy with
# deterministic dynamics) is $q = p(\tau \mid \mathcal{O}, \psi)$, the posterior of the
# *current* reward; there the IRL discriminator $D_\psi$ is $1/2$ everywhere, whatever ψ.
# That $q$ equals the expert's $p^*$ only at $\psi = \psi^*$: only then does the free
# optimal discriminator $p^*/(p^* + q)$ "know nothing" too.

# %%
for name, policy in samplers.items():
    q_tau = np.exp(trajs.log_p + trajs.log_policy(policy))
    D_psi = 1.0 / (1.0 + np.exp(trajs.log_policy(policy) + log_Z - phi_tau @ psi))
    support = q_tau > 0
    generator_loss = q_tau[support] @ (np.log(1 - D_psi) - np.log(D_psi))[support]
    assert np.isclose(generator_loss, log_Z - elbo(model, policy), rtol=0, atol=1e-10)
det_trajs = enumerate_trajectories(det)
det_logits = det_trajs.log_policy(det_sol.policy) + ci.log_evidence(det, det_sol) \
    - det_trajs.returns
D_at_optimum = 1.0 / (1.0 + np.exp(det_logits))
assert np.allclose(D_at_optimum, 0.5, rtol=0, atol=1e-12)
det_phi = phi[det_trajs.states, det_trajs.actions].sum(axis=1)
det_expert = np.exp(det_phi @ psi_star - logsumexp(det_phi @ psi_star))   # p* on det
for name, reward in (("ψ", psi), ("ψ*", psi_star)):
    q_opt = np.exp(det_phi @ reward - logsumexp(det_phi @ reward))        # generator optimum
    D_free = det_expert / (det_expert + q_opt)
    print(f"generator at its optimum for {name}: p*/(p* + q) ranges over "
          f"[{D_free.min():.3f}, {D_free.max():.3f}]")
    assert (np.allclose(D_free, 0.5, rtol=0, atol=1e-12) if name == "ψ*"
            else np.abs(D_free - 0.5).max() > 0.1)
print("generator loss = log Z − ELBO(π); at the generator's optimum D_ψ ≡ 1/2 for any ψ, "
      "p*/(p* + q) ≡ 1/2 only at ψ = ψ*")

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
ax = axes[0]
for name in samplers:
    ax.loglog(sample_sizes, rms[name], "o-", label=f"{name} (ESS {100 * ess[name]:.0f} %)")
ax.loglog(sample_sizes, rms["uniform policy"][0] * np.sqrt(sample_sizes[0] / sample_sizes),
          "k:", lw=1, label="∝ $M^{-1/2}$")
ax.set_xlabel("samples M")
ax.set_ylabel("RMS error of the IS gradient")
ax.set_title("importance-sampled partition-function gradient")
ax.legend(fontsize=8)
ax = axes[1]
for name, policy in samplers.items():
    log_weights = phi_tau @ psi - trajs.log_policy(policy) - log_Z
    q_tau = np.exp(trajs.log_p + trajs.log_policy(policy))
    ax.hist(log_weights, bins=30, weights=q_tau, alpha=0.5, label=name)
ax.set_xlabel("log (w / Z) under the sampler")
ax.set_ylabel("probability")
ax.set_title("importance weights (0 = perfect sampler)")
ax.legend(fontsize=8)
ax = axes[2]
ax.plot(D_star, D_fit, "o", mfc="none", label="trained free discriminator")
expert_part = np.exp(phi_tau @ psi_star - log_Z_star)
D_from_reward = expert_part / (expert_part + np.exp(trajs.log_policy(q_policy)))
ax.plot(D_star, D_from_reward, ".", label="$D_{\\psi^*}$ from $r_{\\psi^*}$, Z and π")
ax.plot([0, 1], [0, 1], "k--", lw=0.8)
ax.set_xlabel("$D^*(\\tau) = p^*/(p^* + q)$")
ax.set_ylabel("discriminator")
ax.set_title("optimal discriminator, computed exactly")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "12_sample_based_irl")

# %% [markdown]
# ## What you saw
#
# - Importance weights $e^{r_\psi(\tau)}/\prod_t\pi(a_t|s_t)$ need no dynamics, are unbiased
#   for $Z$, and the self-normalised gradient estimate converges to the exact
#   $\mu_E - \mu_\psi$ like $M^{-1/2}$; unweighted samples from the wrong policy are biased.
# - The better the sampler approximates $p(\tau|\mathcal{O},\psi)$, the larger the
#   effective sample size; with deterministic dynamics the exact-inference policy
#   gives identical weights (zero variance), with stochastic dynamics no policy can.
# - The optimal discriminator is $p^*/(p^* + q)$; the IRL discriminator built from
#   $r_{\psi^*}$, $Z$ and π equals it exactly, and the generator's loss is
#   $D_{KL}(q \| p(\tau|\mathcal{O},\psi))$ — at its optimum $D_\psi \equiv 1/2$, and the
#   expert is matched ($q = p^*$) only when ψ = ψ*.
# - $\pi \propto \exp(r_\psi(\tau))$ is the zero-variance sampler for $Z$; for the
#   gradient the best sampler weights the posterior by $|\phi_k - \mu_k|$.
