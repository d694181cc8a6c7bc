# %% [markdown]
# # 13. Variational inference refresher: ELBO, KL, amortised inference
#
# The CS285 lectures on control as inference open with variational inference
# (lecture 18, *Variational Inference* … *Amortized variational inference*), because
# control as inference (tutorial 7) is one instance of it. A latent variable model
#
# $$p(x) = \sum_z p(x \mid z)\, p(z), \qquad p(z \mid x) = \frac{p(x, z)}{p(x)},$$
#
# and any distribution $q(z)$ give the **evidence lower bound** (Jensen,
# $\log E[y] \ge E[\log y]$)
#
# $$\log p(x_i) \ge \mathcal{L}_i(p, q_i) = E_{z \sim q_i}[\log p(x_i \mid z) + \log p(z)] + \mathcal{H}(q_i),$$
#
# and exactly $\log p(x_i) = D_{KL}(q_i(z) \| p(z \mid x_i)) + \mathcal{L}_i(p, q_i)$: maximising
# the ELBO over $q_i$ minimises the KL. Here $z$ takes 3 values and $x$ is 4 bits, so
# every sum is a short loop and every claim can be checked exactly.

# %%
import itertools

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import minimize

from _common import logsumexp, save_figure

rng = np.random.default_rng(0)
K, D = 3, 4                                           # latent values, bits
X = np.array(list(itertools.product([0, 1], repeat=D)))   # all 16 observations

# %% [markdown]
# ## Two models
#
# - **mixture of Bernoullis**: $p(x \mid z) = \prod_j \mu_{zj}^{x_j}(1 - \mu_{zj})^{1 - x_j}$;
# - **arbitrary table**: $p(x \mid z)$ any distribution over the 16 bit patterns.
#
# Both have the prior $p(z) = (0.5, 0.3, 0.2)$. `log_joint[x, z]` $= \log p(x, z)$.

# %%
log_prior = np.log([0.5, 0.3, 0.2])
mu = rng.uniform(0.1, 0.9, size=(K, D))
log_lik_bernoulli = X @ np.log(mu).T + (1 - X) @ np.log(1 - mu).T      # (16, K)
log_lik_table = np.log(rng.dirichlet(0.5 * np.ones(len(X)), size=K).T)  # (16, K)
models = {"Bernoulli mixture": log_lik_bernoulli + log_prior,
          "arbitrary table": log_lik_table + log_prior}
for name, log_joint in models.items():
    assert np.isclose(logsumexp(log_joint), 0.0)      # Σ_x Σ_z p(x, z) = 1


def elbo(log_joint_x, q):
    """L = E_q[log p(x, z)] + H(q) for one x."""
    return float(q @ (log_joint_x - np.log(q)))


def kl(q, p):
    return float(q @ (np.log(q) - np.log(p)))

# %% [markdown]
# ## log p(x) = ELBO + KL, for every q
#
# Also the two other ways the slides write the same quantities:
# $D_{KL}(q \| p) = -E_q[\log p] - \mathcal{H}(q)$ and
# $\mathcal{L} = E_q[\log p(x \mid z)] - D_{KL}(q(z) \| p(z))$ (the VAE form).

# %%
log_joint = models["arbitrary table"]
log_px = logsumexp(log_joint, axis=1)                  # (16,)
posterior = np.exp(log_joint - log_px[:, None])        # p(z | x), (16, K)
for _ in range(20):
    i = rng.integers(len(X))
    q = rng.dirichlet(np.ones(K))
    bound = elbo(log_joint[i], q)
    assert bound <= log_px[i]
    assert np.isclose(log_px[i], bound + kl(q, posterior[i]), rtol=0, atol=1e-12)
    entropy = -q @ np.log(q)
    assert np.isclose(kl(q, posterior[i]), -q @ np.log(posterior[i]) - entropy)
    assert np.isclose(bound, q @ log_lik_table[i] - kl(q, np.exp(log_prior)))
print("log p(x) = ELBO(q) + KL(q || p(z|x)) for 20 random (x, q)")

# %% [markdown]
# ## Maximising the ELBO over q_i recovers the posterior
#
# Parametrise $q_i = \text{softmax}(u)$. The gradient of $\mathcal{L}$ with respect to the
# logits is $q \odot (f - E_q[f])$ with $f = \log p(x_i, z) - \log q(z)$. Plain gradient
# ascent closes the gap to $\log p(x_i)$.

# %%
def elbo_gradient_logits(log_joint_x, u):
    q = np.exp(u - logsumexp(u))
    f = log_joint_x - np.log(q)
    return q * (f - q @ f), q


i = 5
u = np.zeros(K)
trace = []
for step in range(300):
    grad, q = elbo_gradient_logits(log_joint[i], u)
    trace.append(elbo(log_joint[i], q))
    u += 1.0 * grad
q_fit = np.exp(u - logsumexp(u))
print(f"x = {X[i]}: ELBO {trace[0]:.4f} → {trace[-1]:.6f}, log p(x) = {log_px[i]:.6f}")
assert np.all(np.diff(trace) >= -1e-12)                # ascent never goes down here
assert kl(q_fit, posterior[i]) < 1e-8

# %% [markdown]
# ## Amortised inference
#
# One $q_i$ per data point is "too many parameters": $|\theta| + (|\mu_i| + |\sigma_i|) \times N$.
# Amortised inference learns one network $q_\phi(z \mid x)$ for all $x$. Ours is linear:
# $q_\phi(z \mid x) = \text{softmax}(W x + b)$, fitted by maximising $\sum_i \mathcal{L}_i$
# on 500 samples. The **amortisation gap** $\sum_i \log p(x_i) - \sum_i \mathcal{L}_i
# = \sum_i D_{KL}(q_\phi(z|x_i) \| p(z|x_i))$ is zero only if the encoder family contains
# every posterior. For the Bernoulli mixture it does — $\log p(z \mid x)$ is linear in $x$
# — for the arbitrary table it does not.

# %%
def fit_encoder(log_joint, data):
    """Maximise Σ_i ELBO_i over (W, b) with exact gradients; return q_φ(z | x) for all x."""
    features = np.hstack([X, np.ones((len(X), 1))])            # x and a bias, (16, D+1)
    counts = np.bincount(data, minlength=len(X))

    def loss_and_grad(flat):
        phi = flat.reshape(D + 1, K)
        logits = features @ phi
        log_q = logits - logsumexp(logits, axis=1)[:, None]
        q = np.exp(log_q)
        f = log_joint - log_q
        per_x = (q * f).sum(axis=1)
        grad_logits = q * (f - per_x[:, None]) * counts[:, None]
        return -counts @ per_x, -(features.T @ grad_logits).ravel()

    res = minimize(loss_and_grad, np.zeros((D + 1) * K), jac=True, method="L-BFGS-B",
                   options={"maxiter": 2000, "gtol": 1e-10, "ftol": 1e-15})
    logits = features @ res.x.reshape(D + 1, K)
    return np.exp(logits - logsumexp(logits, axis=1)[:, None])


gaps = {}
for name, lj in models.items():
    lp = logsumexp(lj, axis=1)
    post = np.exp(lj - lp[:, None])
    data = rng.choice(len(X), size=500, p=np.exp(lp))
    q_phi = fit_encoder(lj, data)
    bounds = np.array([elbo(lj[x], q_phi[x]) for x in data])
    gap = lp[data].sum() - bounds.sum()
    assert np.isclose(gap, sum(kl(q_phi[x], post[x]) for x in data), rtol=1e-9, atol=1e-9)
    gaps[name] = (gap / len(data), q_phi, post)
    print(f"{name:>17}: mean log p(x) {lp[data].mean():.4f}, mean ELBO "
          f"{bounds.mean():.4f}, amortisation gap {gap / len(data):.2e} nats per point")
assert gaps["Bernoulli mixture"][0] < 1e-6
assert gaps["arbitrary table"][0] > 1e-2

# %% [markdown]
# ## The gradient of the encoder: "just use the policy gradient!"
#
# With $r(x_i, z) = \log p(x_i \mid z) + \log p(z)$ the ELBO is
# $J(\phi) = E_{z \sim q_\phi}[r(x_i, z)] + \mathcal{H}(q_\phi)$, and the first term has the
# score-function (REINFORCE) gradient $\frac1M\sum_j \nabla_\phi \log q_\phi(z_j)\, r(x_i, z_j)$
# — unbiased (checked exactly by summing over $z$) but noisy; subtracting a baseline
# keeps it unbiased and cuts the variance. The reparameterisation trick of the slides
# needs a continuous $z$; with a discrete one this is the tool, and it is exactly the
# policy gradient of RL.

# %%
r_i = log_joint[i]
u = np.log(np.array([0.2, 0.5, 0.3]))
q = np.exp(u - logsumexp(u))
exact_grad = q * (r_i - q @ r_i)                       # ∇_u E_q[r]
score = np.eye(K) - q                                  # row z: ∇_u log q(z) = e_z − q
assert np.allclose(q @ (score * r_i[:, None]), exact_grad)            # unbiased
assert np.allclose(q @ (score * (r_i - q @ r_i)[:, None]), exact_grad)  # with a baseline
sample_sizes = np.array([1, 4, 16, 64, 256, 1024])
errors = {"no baseline": [], "baseline E_q[r]": []}
for M in sample_sizes:
    z = rng.choice(K, size=(2000, M), p=q)             # 2000 repeated estimates
    for name, b in (("no baseline", 0.0), ("baseline E_q[r]", q @ r_i)):
        estimates = (score[z] * (r_i[z] - b)[..., None]).mean(axis=1)
        errors[name].append(np.sqrt(((estimates - exact_grad) ** 2).sum(axis=1).mean()))
errors = {k: np.array(v) for k, v in errors.items()}
assert np.all(errors["baseline E_q[r]"] < errors["no baseline"])
slope = np.polyfit(np.log(sample_sizes), np.log(errors["no baseline"]), 1)[0]
print(f"score-function gradient error ∝ M^{slope:.2f} (expected −1/2)")
assert abs(slope + 0.5) < 0.1

# %% [markdown]
# ## Learning the model through the bound
#
# With $q_i$ equal to the posterior the bound is tight, and its gradient with respect
# to the model parameters equals that of $\log p(x_i)$ (EM's E-step makes the M-step
# exact). We check it on the prior logits by finite differences.

# %%
def log_px_of(prior_logits, x):
    lp = prior_logits - logsumexp(prior_logits)
    return logsumexp(log_lik_table[x] + lp)


def elbo_of(prior_logits, x, q):
    lp = prior_logits - logsumexp(prior_logits)
    return elbo(log_lik_table[x] + lp, q)


theta, eps = log_prior.copy(), 1e-6
q_star = posterior[i]                                  # fixed at the current posterior
for k in range(K):
    bump = np.eye(K)[k] * eps
    d_log_px = (log_px_of(theta + bump, i) - log_px_of(theta - bump, i)) / (2 * eps)
    d_elbo = (elbo_of(theta + bump, i, q_star) - elbo_of(theta - bump, i, q_star)) / (2 * eps)
    assert np.isclose(d_log_px, d_elbo, rtol=0, atol=1e-8)
print("∇_θ ELBO(q = p(z|x)) = ∇_θ log p(x), checked by finite differences")

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
ax = axes[0]
ax.semilogy(log_px[i] - np.array(trace))
ax.set_xlabel("gradient step")
ax.set_ylabel("log p($x_i$) − ELBO = KL(q || p(z | $x_i$))")
ax.set_title(f"per-datapoint VI, x = {X[i]}")
ax = axes[1]
_, q_phi, post = gaps["arbitrary table"]
shown = np.argsort(-np.abs(q_phi - post).sum(axis=1))[:4]
for j, x in enumerate(shown):
    ax.bar(np.arange(K) + 4 * j - 0.2, post[x], width=0.4, color="C0",
           label="p(z | x)" if j == 0 else None)
    ax.bar(np.arange(K) + 4 * j + 0.2, q_phi[x], width=0.4, color="C1",
           label="$q_\\phi(z \\mid x)$" if j == 0 else None)
ax.set_xticks([4 * j + 1 for j in range(len(shown))], [str(X[x]) for x in shown])
ax.set_xlabel("x (z = 0, 1, 2 within each group)")
ax.set_title(f"amortisation gap {gaps['arbitrary table'][0]:.3f} nats (table model)")
ax.legend(fontsize=8)
ax = axes[2]
for name, values in errors.items():
    ax.loglog(sample_sizes, values, "o-", label=name)
ax.set_xlabel("samples M")
ax.set_ylabel("RMS error of the gradient")
ax.set_title("score-function gradient of $E_q[r]$")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "13_variational_inference")

# %% [markdown]
# ## What you saw
#
# - $\log p(x) = \mathcal{L}(q) + D_{KL}(q \| p(z \mid x))$ for every $q$; the ELBO's three
#   forms on the slides agree, and maximising it over $q_i$ returns the posterior.
# - An amortised encoder pays $\sum_i D_{KL}(q_\phi(z|x_i) \| p(z|x_i))$ — nothing when its
#   family contains every posterior (Bernoulli mixture, linear encoder), something
#   when it does not.
# - The score-function gradient is unbiased with error $\propto M^{-1/2}$, and a
#   baseline reduces it: the policy gradient, seen from inference.
# - With $q$ at the posterior the bound's model gradient is the likelihood's.
#   Control as inference (tutorial 7) is this picture with $x = \mathcal{O}_{1:T}$,
#   $z = \tau$ and $q$ restricted to keep the real dynamics.
