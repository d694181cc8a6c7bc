# %% [markdown]
# # 22. What demonstrations can tell about a reward: shaping and identifiability
#
# CS285 lecture 20, *Inverse Reinforcement Learning* (Levine;
# https://rail.eecs.berkeley.edu/deeprlcourse/) notes that IRL is underdefined: many
# rewards explain the same behaviour. Two papers make this exact.
# Ng, Harada & Russell 1999, *Policy invariance under reward transformations*: adding
# $\gamma \sum_{s'} P(s'|s,a)\Phi(s') - \Phi(s)$ to the reward changes no optimal policy.
# Cao, Cohen & Szpruch 2021, *Identifiability in inverse reinforcement learning*: for
# entropy-regularised (soft) agents, that is *all* one dynamics leaves open, and
# watching the same reward under a second, sufficiently different dynamics pins it down
# up to a constant.
# The soft Bellman equation read backwards says why: for any $V$,
#
# $$r(s, a) = \alpha\log\pi(a|s) + V(s) - \gamma \sum_{s'} P(s'|s, a)\,V(s')$$
#
# is a reward whose soft-optimal policy is π. `ci.irl.shape_reward` and
# `ci.irl.reward_from_soft_policies` compute both sides.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import save_figure

# %% [markdown]
# ## Potential shaping leaves the soft policy unchanged (infinite horizon)
#
# A random MDP with 6 states, 3 actions, γ = 0.9, temperature 1; a random potential Φ.

# %%
SEED = 0
rng = np.random.default_rng(SEED)
S, A = 6, 3
world = ci.envs.random_mdp(S, A, seed=SEED, horizon=None, gamma=0.9)
potential = rng.normal(scale=2.0, size=S)
shaped = world.replace(r=ci.irl.shape_reward(world, potential))
sol, sol_shaped = ci.solve(world), ci.solve(shaped)
policy_change = np.abs(sol.policy - sol_shaped.policy).max()
print(f"reward changed by up to {np.abs(shaped.r - world.r).max():.2f}; "
      f"policy changed by {policy_change:.1e}; V' − (V − Φ) = "
      f"{np.abs(sol_shaped.V - (sol.V - potential)).max():.1e}")
assert np.abs(shaped.r - world.r).max() > 1.0
assert policy_change < 1e-8
assert np.allclose(sol_shaped.V, sol.V - potential, atol=1e-8)

# %% [markdown]
# **Finite-horizon caveat.** With horizon T the last step's $Q_{T-1} = r$ keeps the
# $\gamma P\Phi$ term that no later $-\Phi$ cancels, so a stationary potential is no
# longer an equivalence (the "Identifiability" note of `ctrlinf/irl/objectives.py`).

# %%
finite = world.replace(horizon=10, gamma=1.0)
finite_shaped = finite.replace(r=ci.irl.shape_reward(finite, potential))
gap_last = np.abs(ci.solve(finite).policy[-1] - ci.solve(finite_shaped).policy[-1]).max()
print(f"T = 10: the shaped reward's last-step policy differs by {gap_last:.2f}")
assert gap_last > 0.1

# %% [markdown]
# ## One dynamics: an S-dimensional family of rewards, indistinguishable
#
# From the expert's exact soft policy in this world, the system above has an
# $S$-dimensional set of solutions for the reward: every shaped reward. They give the
# *same* policy here, so no amount of demonstrations separates them — yet moved to a
# second world with other dynamics they behave differently.

# %%
expert = sol.policy
one = ci.irl.reward_from_soft_policies([world], [expert])
print(f"one dynamics: {one.reward_nullity} free reward directions (S = {S})")
assert one.reward_nullity == S and one.residual < 1e-9
other = ci.envs.random_mdp(S, A, seed=SEED + 1000, horizon=None, gamma=0.9).replace(r=world.r)
in_other_true = ci.solve(other).policy
tv_other = []
for k in range(20):
    candidate = ci.irl.shape_reward(world, rng.normal(scale=2.0, size=S))
    assert np.abs(ci.solve(world.replace(r=candidate)).policy - expert).max() < 1e-8
    moved = ci.solve(other.replace(r=candidate)).policy
    tv_other.append(0.5 * np.abs(moved - in_other_true).sum(axis=1).max())
print(f"20 shaped rewards, all with the expert's policy here; in the other world their "
      f"policies differ from the truth's by TV up to {max(tv_other):.2f} "
      f"(median {np.median(tv_other):.2f})")
assert min(tv_other) > 0.02 and max(tv_other) > 0.2

# %% [markdown]
# ## Two dynamics: the reward up to a constant
#
# Add the expert's soft policy in the second world (same reward, other $P$). Now the
# stacked system leaves one direction: $r + (1-\gamma)c$, $V_i + c$. The recovered
# reward equals the true one up to that constant, and so transfers to a third world.

# %%
two = ci.irl.reward_from_soft_policies([world, other], [expert, in_other_true])
offset = two.reward - world.r
print(f"two dynamics: {two.reward_nullity} free reward direction; recovered − true is "
      f"constant to {np.ptp(offset):.1e}")
assert two.reward_nullity == 1 and np.ptp(offset) < 1e-7
third = ci.envs.random_mdp(S, A, seed=SEED + 2000, horizon=None, gamma=0.9).replace(r=world.r)
transfer = np.abs(ci.solve(third.replace(r=two.reward)).policy - ci.solve(third).policy).max()
print(f"re-solved in a third world: policy within {transfer:.1e} of the truth's")
assert transfer < 1e-7

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
limits = dict(vmin=-4, vmax=4, cmap="RdBu_r", aspect="auto")
axes[0].imshow((world.r - world.r.mean()).T, **limits)
axes[0].set_title("true reward r(s, a) (centred)")
axes[1].imshow((shaped.r - shaped.r.mean()).T, **limits)
axes[1].set_title("shaped: same policy in world 1")
image = axes[2].imshow((two.reward - two.reward.mean()).T, **limits)
axes[2].set_title("recovered from worlds 1 + 2 (centred)")
for ax in axes:
    ax.set_xlabel("state s")
    ax.set_xticks(range(S))
    ax.set_yticks(range(A))
axes[0].set_ylabel("action a")
fig.colorbar(image, ax=axes, shrink=0.8, label="r(s, a) − mean of r (reward units)")
save_figure(fig, "22_reward_identifiability")

# %% [markdown]
# ## What you saw
#
# - Potential shaping $r + \gamma P\Phi - \Phi$ leaves the infinite-horizon soft policy
#   unchanged ($V' = V - \Phi$); with a finite horizon a stationary potential does not.
# - Demonstrations in one dynamics determine the reward only up to those $S$ directions,
#   and the rewards they cannot separate act differently once the dynamics change.
# - The same expert watched in two dynamics fixes the reward up to a constant (Cao et
#   al. 2021), and the recovered reward then transfers to a third world exactly.
