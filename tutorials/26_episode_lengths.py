# %% [markdown]
# # 26. Episodes of different lengths: terminated or truncated?
#
# Real demonstrations rarely all have the horizon's length, and IRL libraries often get
# asked what to do with the short ones (Snoswell, Singh & Ye 2020, *Revisiting Maximum
# Entropy Inverse Reinforcement Learning: New Perspectives and Algorithms*, discuss
# the likelihoods MaxEnt IRL implies for them). A short episode can mean two things:
#
# - **terminated**: it ended because the expert reached a terminal state; the rest of
#   the horizon is known — the expert sits in an absorbing state. Model that state in
#   the MDP and pad the episode with it as *data* (`ci.irl.pad_episodes`).
# - **truncated**: the log was cut (a time limit, a recorder that stopped); the rest is
#   *unobserved*. The likelihood of what was seen sums over every continuation,
#   $p(\tau_{0:L-1} \mid \mathcal{O}) = \sum_{\tau_{L:T-1}} p(\tau \mid \mathcal{O})$;
#   `ci.Trajectories(states, actions, lengths=...)` says so, and `ci.irl` marginalises.
#
# For the trajectory posterior of CS285 lecture 20 (*Inverse Reinforcement Learning*,
# https://rail.eecs.berkeley.edu/deeprlcourse/; Levine 2018, arXiv:1805.00909) the sum
# has a closed form: with $Q_t(s, a) = r(s, a) + \log \sum_{s'} P(s' \mid s, a)\,
# e^{V_{t+1}(s')}$ (exact mode),
#
# $$\log p(\tau_{0:L-1} \mid \mathcal{O}) = \log p(\tau_{0:L-1}) + \sum_{t < L-1} r(s_t, a_t)
#   + Q_{L-1}(s_{L-1}, a_{L-1}) - \log Z ,$$
#
# so the gradient adds, after each demo's end, the model's own visitation of the unseen
# steps. Soft (maximum causal entropy) IRL uses the same formula with the soft $Q$.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import enumerate_trajectories, save_figure

# %% [markdown]
# ## Which likelihood each reading implies, by enumeration
#
# A game with two states: in state 0 the player can *play* (stay in 0, the feature
# "played" is 1) or *quit* into state 1, which is absorbing with a single allowed
# action (the others are forbidden, `r = -inf`) and no features. T = 4 steps, reward θ
# per play. Two records of two steps each: a player who played once and quit, and a
# log that was cut while the player was still playing.

# %%
T = 4
P = np.zeros((2, 2, 2))
P[0, 0, 0] = P[0, 1, 1] = 1.0            # play: stay; quit: go to the absorbing state
P[1, :, 1] = 1.0
phi = np.zeros((2, 2, 1))
phi[0, 0, 0] = 1.0                        # "played"
game = ci.TabularMDP(P, r=[[0.0, 0.0], [0.0, -np.inf]], p0=[1.0, 0.0], horizon=T)
theta = np.array([0.5])
PLAY, QUIT = 0, 1

quit_episode = ci.irl.pad_episodes([([0, 0], [PLAY, QUIT])], T, pad_state=1, pad_action=0)
quit_truncated = ci.Trajectories(quit_episode.states, quit_episode.actions, lengths=[2])
cut_log = ci.Trajectories([[0, 0, 0, 0]], [[PLAY, PLAY, 0, 0]], lengths=[2])

enum = enumerate_trajectories(game.replace(r=np.where(np.isinf(game.r), -np.inf,
                                                      phi[..., 0] * theta)))
posterior, _ = enum.posterior()


def enumerated(states, actions, enum=enum, posterior=posterior):
    """p(τ_{0:L-1} | O): the posterior mass of every trajectory that starts this way."""
    L = len(states)
    match = ((enum.states[:, :L] == states).all(axis=1)
             & (enum.actions[:, :L] == actions).all(axis=1))
    return posterior[match].sum()


p_terminated = enumerated([0, 0, 1, 1], [PLAY, QUIT, 0, 0])
p_truncated_quit = enumerated([0, 0], [PLAY, QUIT])
p_cut = enumerated([0, 0], [PLAY, PLAY])
objective = {name: ci.irl.objective(game, phi, demos, theta, mode="exact")[0]
             for name, demos in [("terminated", quit_episode), ("quit, truncated", quit_truncated),
                                 ("cut log", cut_log)]}
print(f"quit episode read as terminated: p = {p_terminated:.4f}; read as truncated: "
      f"p = {p_truncated_quit:.4f}; cut log, truncated: p = {p_cut:.4f}")
print("ci.irl.objective (exact mode) = log p:",
      {k: round(float(np.exp(v)), 4) for k, v in objective.items()})
# Deterministic moves from one start: log p(τ) = 0, so the objective is log p(· | O).
assert np.isclose(objective["terminated"], np.log(p_terminated), rtol=1e-12)
assert np.isclose(objective["quit, truncated"], np.log(p_truncated_quit), rtol=1e-12)
assert np.isclose(objective["cut log"], np.log(p_cut), rtol=1e-12)
# The quit is observed and the absorbing state has one action: both readings agree.
assert np.isclose(p_terminated, p_truncated_quit, rtol=1e-12)

# %% [markdown]
# Both conditions matter. Allow *two* actions in the absorbing state (same features,
# zero reward): the padded steps then claim the expert chose action 0 there twice, each
# a choice of probability ½ under the posterior, so the terminated reading is a quarter
# of the truncated one, which sums over both.

# %%
two_actions = game.replace(r=[[0.0, 0.0], [0.0, 0.0]])
enum_two = enumerate_trajectories(two_actions.replace(r=phi[..., 0] * theta))
posterior_two, _ = enum_two.posterior()
p_terminated_two = enumerated([0, 0, 1, 1], [PLAY, QUIT, 0, 0], enum_two, posterior_two)
p_truncated_two = enumerated([0, 0], [PLAY, QUIT], enum_two, posterior_two)
print(f"two actions in the absorbing state: terminated p = {p_terminated_two:.4f}, "
      f"truncated p = {p_truncated_two:.4f}")
assert np.isclose(p_terminated_two, p_truncated_two / 4, rtol=1e-12)
assert np.isclose(ci.irl.objective(two_actions, phi, quit_episode, theta, mode="exact")[0],
                  np.log(p_terminated_two), rtol=1e-12)

# %% [markdown]
# Reading the cut log as *terminated* would claim a quit nobody saw; ctrlinf refuses
# it, because the padding would be a step the dynamics cannot take:

# %%
try:
    ci.irl.objective(game, phi, ci.irl.pad_episodes([([0, 0], [PLAY, PLAY])], T, pad_state=1,
                                                     pad_action=0), theta, mode="exact")
except ValueError as error:
    print("ValueError:", error)
else:
    raise AssertionError("a padded step of probability zero was accepted")

# %% [markdown]
# The gradients of both readings are exact; a finite-difference check on the three
# records together:

# %%
mixed = ci.Trajectories([[0, 0, 1, 1], [0, 0, 0, 0]], [[PLAY, QUIT, 0, 0], [PLAY, PLAY, 0, 0]],
                        lengths=[4, 2])
value, grad = ci.irl.objective(game, phi, mixed, theta, mode="exact")
h = 1e-6
numeric = (ci.irl.objective(game, phi, mixed, theta + h, mode="exact")[0]
           - ci.irl.objective(game, phi, mixed, theta - h, mode="exact")[0]) / (2 * h)
print(f"gradient {grad[0]:.6f}, finite differences {numeric:.6f}")
assert np.isclose(grad[0], numeric, rtol=1e-6, atol=1e-8)

# %% [markdown]
# ## What goes wrong with the wrong reading
#
# Tutorial 10's grid (goal `G`, water `~`, grass `g`; true θ* = (3, −2, 1) per step,
# T = 16, deterministic moves). 300 expert episodes, each cut by the recorder after a
# random number of steps, uniform in 4 … 16 — the cut is independent of what the
# expert does. Three fits of maximum causal entropy IRL (`mode="soft"`):
#
# 1. the full episodes (what we would like to have);
# 2. the cut logs with `lengths` — the truncated reading;
# 3. the cut logs padded with their last cell and the *stay* action, as if the expert
#    had stopped there (a common quick fix: it turns "we stopped watching" into
#    "the expert chose to stay").

# %%
layout = np.array([list(row) for row in ["S.....", ".~~...", ".~~.g.", "....g.", "..~~..",
                                         ".....G"]])
features = np.stack([(layout == c).ravel().astype(float) for c in "G~g"], axis=1)
theta_true = np.array([3.0, -2.0, 1.0])
H = 16


def world(theta):
    return ci.envs.gridworld((6, 6), rewards=(features @ theta).reshape(6, 6), start=(0, 0),
                             goals=[(5, 5)], absorbing=False, horizon=H, features=features)


expert_world = world(theta_true)
STAY = expert_world.action_names.index("stay")
expert = ci.solve(expert_world, mode="soft")
full = ci.sample(expert_world, expert.policy, n=300, seed=0)
lengths = np.random.default_rng(1).integers(4, H + 1, size=300)
cut = ci.Trajectories(full.states, full.actions, lengths=lengths)
stopped = ci.irl.pad_episodes(
    [(full.states[i, :L], np.r_[full.actions[i, :L - 1], STAY]) for i, L in enumerate(lengths)],
    H, pad_state="last", pad_action=STAY)
fits = {name: ci.irl.fit(world(np.zeros(3)), features, demos, mode="soft", progress=False).theta
        for name, demos in [("full episodes", full), ("cut, truncated (lengths)", cut),
                            ("cut, padded with 'stay'", stopped)]}
for name, fitted in fits.items():
    print(f"{name:26s} θ = {np.round(fitted, 2)}   max |θ − θ*| = "
          f"{np.abs(fitted - theta_true).max():.2f}")
print(f"the cut logs hold {cut.mask.sum() / full.mask.sum():.0%} of the full episodes' steps")
assert np.abs(fits["cut, truncated (lengths)"] - theta_true).max() < 0.4
assert np.abs(fits["full episodes"] - theta_true).max() < 0.4
errors = {name: np.abs(fitted - theta_true).max() for name, fitted in fits.items()}
assert abs(errors["cut, truncated (lengths)"] - errors["full episodes"]) < 0.1   # about as well
assert fits["cut, padded with 'stay'"][0] < 2.3              # the goal looks far less valuable

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
ax = axes[0]
labels = ["θ_goal", "θ_water", "θ_grass"]
width = 0.2
for k, (name, fitted) in enumerate([("true θ*", theta_true), *fits.items()]):
    ax.bar(np.arange(3) + (k - 1.5) * width, fitted, width, label=name)
ax.set_xticks(range(3), labels)
ax.axhline(0, color="k", lw=0.5)
ax.legend(fontsize=8)
ax.set_title("recovered reward weights (300 demos)")
ax = axes[1]
ax.hist(lengths, bins=np.arange(3.5, H + 1.5), color="C1")
ax.set_xlabel("steps the recorder kept (of T = 16)")
ax.set_ylabel("demos")
ax.set_title("where the logs were cut")
fig.tight_layout()
save_figure(fig, "26_episode_lengths")

# %% [markdown]
# ## What you saw
#
# - A terminated episode padded with its absorbing state and the same episode read as
#   truncated have the same likelihood when the terminating step is observed and the
#   absorbing state allows a single action (with two, the padding's choices count); a log
#   cut mid-play can only be read as truncated (padding it is refused). ctrlinf's
#   objective is the exact log-probability of each reading, checked by enumerating
#   every trajectory, and its gradient matches finite differences.
# - Logs cut independently of the expert's behaviour, read as truncated (`lengths`),
#   recover θ* about as well as the full episodes; padding them with "stay" reads the
#   cut as a choice and shrinks the goal's weight from 3 to below 2.3.
