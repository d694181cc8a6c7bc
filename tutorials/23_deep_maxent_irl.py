# %% [markdown]
# # 23. Deep MaxEnt IRL: when a linear reward cannot say it
#
# Wulfmeier, Ondruska & Posner 2015, *Maximum Entropy Deep Inverse Reinforcement
# Learning*; CS285 lecture 20, *Inverse Reinforcement Learning* ("MaxEnt IRL with
# neural networks", https://rail.eecs.berkeley.edu/deeprlcourse/). The MaxEnt IRL
# gradient with respect to the reward of each state is expert minus model visitation,
# $\partial L / \partial r(s) = D_E(s) - D_r(s)$ (tutorial 10), so a reward network
# $r_w = f_w(\phi(s))$ trains by backpropagating that difference:
# $\nabla_w L = \sum_s (D_E(s) - D_r(s))\, \nabla_w f_w(\phi(s))$. `ci.irl.fit_deep`
# does exactly this with the exact messages (no sampling), so the only error left is
# the reward model's and the data's.
#
# The test bed is Levine, Popović & Koltun 2011's *objectworld*: the reward is +1 near
# objects of both outer colours, −1 near colour 0 only, 0 elsewhere — an AND of two
# distance thresholds. The features are the thresholds themselves ("closer than d to
# colour c"), so a linear reward $\phi\theta$ can express each threshold but not their
# AND. Expected value difference (EVD): true return of the optimal policy minus true
# return of the policy that is optimal for the learned reward (γ = 0.9).

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import save_figure

# %% [markdown]
# ## The world, and what a linear reward can represent
#
# A 10×10 objectworld (wind 0.3,
# `ci.experiments.irl_evd.make_world("objectworld", size=10, seed=1)`); demos are 8
# steps from a uniform start, sampled from the soft-optimal policy of the true reward.
# Before any IRL: the best a linear reward can do is the least-squares fit of the true
# reward on the features (plus a constant).

# %%
world = ci.experiments.irl_evd.make_world("objectworld", size=10, seed=1)
true_r = world.r[:, 0]
X = np.c_[world.features, np.ones(world.n_states)]
coef, *_ = np.linalg.lstsq(X, true_r, rcond=None)
best_linear = X @ coef
print(f"{world.n_states} states, {world.features.shape[1]} features; cells with reward "
      f"+1: {(true_r == 1).sum()}, −1: {(true_r == -1).sum()}")
print(f"best linear fit of the true reward: max error {np.abs(best_linear - true_r).max():.2f}, "
      f"on the +1 cells it predicts {np.round(best_linear[true_r == 1], 2)}")
assert np.abs(best_linear - true_r).max() > 1.0          # the AND is out of reach
assert best_linear[true_r == 1].max() < 0.5

# %% [markdown]
# ## EVD against the number of demonstrations
#
# For each number of demos: linear MaxEnt IRL (`ci.irl.fit`, L2 0.01) and deep MaxEnt
# IRL (`ci.irl.fit_deep`, two hidden layers of 32 ReLUs, weight decay 0.1, Adam), both
# maximum causal entropy (`mode="soft"`) with `p0` set to the demos' starts.

# %%
evaluation = world.replace(horizon=None, gamma=0.9)
expert = ci.solve(world, mode="soft")
evd_random = ci.irl.expected_value_difference(evaluation, np.zeros(world.n_states))
N_DEMOS = [8, 32, 128, 512]
SEED = 0
evd = {"linear": [], "deep": []}
learned = {}
for n in N_DEMOS:
    demos = ci.sample(world, expert.policy, n=n, seed=100 * SEED + n)
    train = world.replace(p0=ci.irl.start_distribution(demos, world.n_states))
    linear = ci.irl.fit(train, world.features, demos, mode="soft", l2=0.01, progress=False)
    deep = ci.irl.fit_deep(train, world.features, demos, mode="soft", l2=0.1, seed=SEED,
                           progress=False)
    for name, res in (("linear", linear), ("deep", deep)):
        evd[name].append(ci.irl.expected_value_difference(evaluation, res.reward))
        learned[name] = res.reward[:, 0]
    print(f"{n:4d} demos: EVD linear {evd['linear'][-1]:.2f}, deep {evd['deep'][-1]:.2f}  "
          f"(random policy {evd_random:.2f})")
evd = {k: np.array(v) for k, v in evd.items()}
assert evd["deep"][-1] < 0.6                  # deep: close to the expert with enough data
assert evd["linear"][-1] > 2.0                # linear: stuck far away however many demos
assert evd["linear"][-1] > 4 * evd["deep"][-1]
assert min(evd["linear"][0], evd["deep"][0]) > 1.5   # 8 demos: too few for either

# %%
fig, axes = plt.subplots(1, 4, figsize=(17, 3.7))
limits = dict(vmin=-1.2, vmax=1.2, cmap="RdBu_r")


def centred(r):
    """A reward is only known up to a constant: shift each by its median (0 for the truth)."""
    return r - np.median(r)


ci.plot.heatmap(world, true_r, ax=axes[0], title="true reward", **limits)
ci.plot.heatmap(world, centred(learned["linear"]), ax=axes[1],
                title=f"linear IRL, {N_DEMOS[-1]} demos", **limits)
ci.plot.heatmap(world, centred(learned["deep"]), ax=axes[2],
                title=f"deep IRL, {N_DEMOS[-1]} demos", **limits)
ax = axes[3]
ax.plot(N_DEMOS, evd["linear"], "o-", label="linear reward")
ax.plot(N_DEMOS, evd["deep"], "s-", label="deep reward (MLP)")
ax.axhline(evd_random, color="gray", ls=":", label="random policy")
ax.set_xscale("log")
ax.set_xlabel("demonstrations")
ax.set_ylabel("EVD (γ = 0.9)")
ax.set_title("expected value difference")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "23_deep_maxent_irl")

# %% [markdown]
# ## What you saw
#
# - Objectworld's reward is an AND of two distance thresholds: the best linear function
#   of the threshold features misses it by more than 1 and predicts less than 0.5 on
#   every +1 cell, so no amount of data can help linear IRL.
# - With 512 demos deep MaxEnt IRL, trained by the exact gradient pushed through the
#   network, gets EVD below 0.6, while linear IRL stays above 2 — more than four times
#   worse. With 8 demos both are far from the expert (EVD above 1.5): too little data.
