# %% [markdown]
# # 9. Compositionality: is Q₁ + Q₂ the soft Q of r₁ + r₂?
#
# The ICML 2017 tutorial (Levine & Finn, *Benefits of soft optimality*) lists
# "compositionality": with $Q_1$ the soft Q-function of $r_1$ and $Q_2$ that of $r_2$,
#
# > $Q_1 + Q_2$ is *not* the Q-function for $r_1 + r_2$ under conventional (hard)
# > optimality … turns out that $Q_1 + Q_2$ is the (soft) Q-function for $r_1 + r_2$,
#
# motivated by products of trajectory distributions,
# $\pi_1(\tau)\pi_2(\tau) = \exp(\log p_1(\tau) + \log p_2(\tau))$ (Haarnoja et al. 2018,
# *Composable deep RL for robotic manipulation*). Instead of taking this on trust we
# measure it exactly, and find: the claim holds **for trajectory distributions under
# deterministic dynamics**, and never exactly for per-step Q-functions — with an exact
# formula for the error.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import boltzmann, enumerate_trajectories, logsumexp, save_figure

# %% [markdown]
# ## Per-step Q: an exact formula for the error
#
# Let $D_t = Q_{1,t} + Q_{2,t} - Q_{12,t}$ for the soft backup (any dynamics). At the
# last step $Q = r$, so $D_{T-1} = 0$. One step earlier, with $\pi_i = e^{(Q_i - V_i)/\alpha}$,
#
# $$V_1 + V_2 - V_{12} = -\alpha \log \sum_a \pi_1(a \mid s)\, \pi_2(a \mid s)\, e^{-D(s, a)/\alpha},
#   \qquad D_t(s, a) = E_{s' \sim P(\cdot \mid s, a)}\big[(V_1 + V_2 - V_{12})_{t+1}(s')\big].$$
#
# Since $\sum_a \pi_1\pi_2 \le 1$, the composite overestimates: $D \ge 0$, and it is zero
# only where both policies are deterministic and agree — which soft policies never are.
# The sum $\sum_a \pi_1\pi_2$ is the probability that the two policies pick the same action.

# %%
def composition_error(mdp, r1, r2, mode="soft", alpha=1.0, weight=1.0):
    """D = w (Q1 + Q2) − Q_C for the reward r_C = w (r1 + r2), and the three solutions."""
    rewards = (r1, r2, weight * (r1 + r2))
    sols = [ci.solve(mdp.replace(r=r), mode=mode, temperature=alpha) for r in rewards]
    return weight * (sols[0].Q + sols[1].Q) - sols[2].Q, sols


def predicted_error(mdp, sol1, sol2, alpha=1.0, weight=1.0):
    """The recursion above, from the two component policies alone (π1 π2 → (π1 π2)^w)."""
    P = mdp.transition_tensor()
    T = mdp.horizon
    D = np.zeros_like(sol1.Q)
    for t in range(T - 2, -1, -1):
        agree = (sol1.policy[t + 1] * sol2.policy[t + 1]) ** weight * np.exp(-D[t + 1] / alpha)
        D[t] = P @ (-alpha * np.log(agree.sum(axis=1)))
    return D


rng = np.random.default_rng(0)
rows = []
for label, branching in (("deterministic", 1), ("stochastic", 3)):
    mdp = ci.envs.random_mdp(4, 3, branching=branching, seed=2, horizon=5)
    r1, r2 = rng.normal(size=(2, 4, 3))
    for alpha in (1.0, 0.2):
        D, (sol1, sol2, sol12) = composition_error(mdp, r1, r2, alpha=alpha)
        assert np.allclose(D[-1], 0.0, atol=1e-12)                      # last step: Q = r
        assert np.all(D >= -1e-12)                                      # Q12 ≤ Q1 + Q2
        assert np.allclose(D, predicted_error(mdp, sol1, sol2, alpha), rtol=0, atol=1e-10)
        D_hard, _ = composition_error(mdp, r1, r2, mode="hard")
        rows.append((label, alpha, D[0].max(), D_hard[0].max()))
        assert D[0].max() > 1e-3 and D_hard[0].max() > 1e-3
print(f"{'dynamics':>13} {'α':>4}  max(Q1+Q2−Q12) at t=0: soft   hard")
for label, alpha, soft_err, hard_err in rows:
    print(f"{label:>13} {alpha:4.1f}  {soft_err:27.3f} {hard_err:6.3f}")

# %% [markdown]
# So per-step composition fails for soft *and* hard optimality, with deterministic
# *and* stochastic dynamics. The recursion predicts the error exactly from the two
# component policies; the error is large where the components disagree.
#
# ## Trajectory distributions: exact, for deterministic dynamics
#
# The argument on the slide is about whole trajectories. Under exact inference
# $p_i(\tau \mid \mathcal{O}) \propto p(\tau)\, e^{R_i(\tau)/\alpha}$, so
#
# $$p_1(\tau \mid \mathcal{O})\, p_2(\tau \mid \mathcal{O}) \propto p(\tau)^2\, e^{(R_1 + R_2)/\alpha},$$
#
# which is $p_{12}(\tau \mid \mathcal{O})$ exactly when $p(\tau)$ is constant on the
# feasible trajectories — deterministic dynamics from one start. With stochastic
# dynamics $p(\tau)$ is counted twice.

# %%
def product_vs_composite(mdp, r1, r2):
    """Total variation between normalised p1(τ|O) p2(τ|O) and p12(τ|O)."""
    posts = [enumerate_trajectories(mdp.replace(r=r)).posterior() for r in (r1, r2, r1 + r2)]
    log_product = np.log(posts[0][0]) + np.log(posts[1][0])
    product = np.exp(log_product - logsumexp(log_product))
    return 0.5 * np.abs(product - posts[2][0]).sum(), product, posts[2][0]


tv = {}
for label, branching in (("deterministic", 1), ("stochastic", 3)):
    mdp = ci.envs.random_mdp(4, 3, branching=branching, seed=2, horizon=5).replace(
        p0=[1.0, 0, 0, 0])
    r1, r2 = np.random.default_rng(5).normal(size=(2, 4, 3))
    tv[label] = product_vs_composite(mdp, r1, r2)
    print(f"{label:>13}: TV(p1·p2 / Z, p12) = {tv[label][0]:.2e}")
assert tv["deterministic"][0] < 1e-12
assert tv["stochastic"][0] > 0.05

# %% [markdown]
# ## On a grid: two goals
#
# Task 1 rewards the top-right cell, task 2 the bottom-right cell (1 per step spent
# there; cells are not absorbing, so the composite task can collect both), α = 0.3.
# Acting by $\exp(Q_1 + Q_2)$ — "composing" — versus solving $r_1 + r_2$.

# %%
def two_goal_grid(cells):
    rewards = np.full((5, 5), -0.05)
    for cell in cells:
        rewards[cell] = 1.0
    return ci.envs.gridworld((5, 5), rewards=rewards, start=(2, 0), horizon=10,
                             absorbing=False)


task1, task2, both = (two_goal_grid(c) for c in ([(0, 4)], [(4, 4)], [(0, 4), (4, 4)]))
assert np.allclose(both.r, task1.r + task2.r + 0.05)   # the −0.05 step cost counted once
r1, r2 = task1.r, task2.r + 0.05                         # so split it: r1 + r2 = both.r
alpha = 0.3
D, (sol1, sol2, sol12) = composition_error(task1, r1, r2, alpha=alpha)
composed = boltzmann(sol1.Q + sol2.Q, alpha)
print(f"grid: max error of Q1 + Q2 at t = 0: {D[0].max():.3f}; "
      f"max |π_composed − π_12| = {np.abs(composed - sol12.policy)[0].max():.3f}")
assert np.allclose(D, predicted_error(task1, sol1, sol2, alpha), rtol=0, atol=1e-10)

# %% [markdown]
# Most of that error is the entropy bonus counted twice: for near-uniform policies
# $\sum_a \pi_1\pi_2 \approx 1/A$, an error of about $\alpha\log A$ per remaining step.
# Haarnoja et al. (2018) therefore *average*: $r_C = \tfrac12(r_1 + r_2)$ and
# $Q_\Sigma = \tfrac12(Q_1 + Q_2)$. The same derivation gives the per-step term
# $-\alpha\log\sum_a \sqrt{\pi_1\pi_2}\,e^{-D/\alpha}$, a Bhattacharyya distance that
# vanishes where the two policies agree: their bound $Q_\Sigma \ge Q_C$, here exactly.

# %%
D_avg, (_, _, sol_avg) = composition_error(task1, r1, r2, alpha=alpha, weight=0.5)
assert np.allclose(D_avg, predicted_error(task1, sol1, sol2, alpha, weight=0.5),
                   rtol=0, atol=1e-10)
assert np.all(D_avg >= -1e-12) and D_avg[0].max() < D[0].max() / 2
print(f"averaged composition: max error at t = 0 is {D_avg[0].max():.3f} "
      f"(summed: {D[0].max():.3f})")

# %%
fig, axes = plt.subplots(1, 4, figsize=(17, 3.6), gridspec_kw={"width_ratios": [1, 1, 1, 1.1]})
composed_avg = boltzmann(0.5 * (sol1.Q + sol2.Q), alpha)
ci.plot.policy_arrows(both, composed_avg[0], ax=axes[0], scale=0.8,
                      title="composed: π ∝ exp((Q1 + Q2)/2), t = 0")
ci.plot.policy_arrows(both, sol_avg.policy[0], ax=axes[1], scale=0.8,
                      title="solved: soft policy of (r1 + r2)/2, t = 0")
ci.plot.heatmap(both, D_avg[0].max(axis=1), ax=axes[2], cmap="Reds",
                title="averaged: max_a (Q_Σ − Q_C) at t = 0", label="error")
ax = axes[3]
_, product, p12 = tv["stochastic"]
ax.loglog(p12, product, ".", alpha=0.5, label="stochastic dynamics")
_, product_d, p12_d = tv["deterministic"]
ax.loglog(p12_d, product_d, "o", mfc="none", label="deterministic dynamics")
lims = [min(p12.min(), p12_d.min()), 1]
ax.plot(lims, lims, "k--", lw=0.8)
ax.set_xlabel("$p_{12}(\\tau \\mid O)$")
ax.set_ylabel("$p_1(\\tau \\mid O)\\,p_2(\\tau \\mid O)$ / Z")
ax.set_title("trajectory level (random 4-state MDP)")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "09_compositionality")

# %% [markdown]
# ## What you saw
#
# - $Q_1 + Q_2$ is **not** the soft Q-function of $r_1 + r_2$ (nor the hard one), except
#   at the last step. The error obeys an exact recursion,
#   $D_t = E_{s'}[-\alpha\log\sum_a \pi_1\pi_2 e^{-D_{t+1}/\alpha}] \ge 0$: the
#   composite always overestimates, most where the two policies disagree; summing
#   also counts the entropy bonus twice, averaging (Haarnoja et al.) does not.
# - What does compose is the trajectory posterior: $p_1(\tau|\mathcal{O})\,p_2(\tau|\mathcal{O})
#   \propto p_{12}(\tau|\mathcal{O})$ exactly under deterministic dynamics from one
#   start, and not under stochastic dynamics, where $p(\tau)$ enters twice.
# - So "compose by adding Q-functions" is a heuristic whose error you can compute, not
#   an identity.
