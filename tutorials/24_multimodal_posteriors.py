# %% [markdown]
# # 24. Multimodal posteriors: track both hypotheses
#
# CS285 lecture 19, *Reframing control as an inference problem* (Levine; slides at
# https://rail.eecs.berkeley.edu/deeprlcourse/), and Levine 2018 (arXiv:1805.00909),
# section 2: the posterior over trajectories $p(\tau \mid \mathcal{O}) \propto p(\tau)
# e^{\sum_t r}$ keeps *every* good plan, weighted by how good it is. When two routes are
# equally good, a soft-optimal agent keeps both; a hard-optimal one commits (or, on an
# exact tie, ctrlinf's `mode="hard"` shares the probability equally among the tied
# actions). Haarnoja et al. 2017 (*Reinforcement Learning with Deep Energy-Based
# Policies*) give the practical argument: a policy that still covers the second route
# is a better starting point when the first one gets blocked.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ctrlinf as ci
from _common import enumerate_trajectories, save_figure

# %% [markdown]
# ## Two routes around a wall
#
# The start `S` is left of a wall, the goal `G` right of it; going over the top and
# going under the bottom both take 6 moves. The goal pays 5 per step spent there,
# every other step costs 1, T = 8 steps, deterministic moves (so exact inference and
# the soft backup agree, tutorial 7). `ε` makes the top route's middle cell a little
# better, so that hard control has a unique choice.

# %%
LAYOUT = [".....",
          "S###G",
          "....."]
T = 8
TOP, BOTTOM = (0, 2), (2, 2)            # the middle cell of each route


def world(eps=0.0, blocked_wall=None):
    """The map; ``eps`` more reward on the top route; ``blocked_wall`` turns a cell into a wall."""
    layout = [list(row) for row in LAYOUT]
    if blocked_wall is not None:
        layout[blocked_wall[0]][blocked_wall[1]] = "#"
    return ci.envs.gridworld_from_map(["".join(row) for row in layout], horizon=T,
                                      rewards={"G": 5.0, ".": -1.0, TOP: -1.0 + eps})


grid = world()
start = grid.state(1, 0)
UP, DOWN = grid.action_names.index("up"), grid.action_names.index("down")


def first_move(sol):
    """π_0(up | S), π_0(down | S)."""
    return sol.policy[0, start, UP], sol.policy[0, start, DOWN]


soft = ci.solve(grid, mode="soft")
hard = ci.solve(grid, mode="hard")
print("exact tie:   soft π_0(up, down | S) = (%.3f, %.3f)" % first_move(soft),
      "  hard = (%.3f, %.3f)" % first_move(hard))
assert np.isclose(*first_move(soft), rtol=1e-12) and first_move(soft)[0] > 0.4
assert np.allclose(first_move(hard), 0.5)            # ties shared equally

eps = 0.01
soft_eps, hard_eps = ci.solve(world(eps), mode="soft"), ci.solve(world(eps), mode="hard")
print("ε = 0.01:    soft π_0(up, down | S) = (%.3f, %.3f)" % first_move(soft_eps),
      "  hard = (%.3f, %.3f)" % first_move(hard_eps))
up, down = first_move(soft_eps)
# Soft: the odds are the ratio of the routes' exponentiated values, here e^{0.99 ε}.
print(f"soft odds up/down = {up / down:.4f} = exp({np.log(up / down) / eps:.3f} ε)")
assert abs(np.log(up / down) / eps - 0.99) < 0.005 and down > 0.4
assert first_move(hard_eps) == (1.0, 0.0)

# %% [markdown]
# ## The posterior is a mixture of the two routes
#
# Enumerating all $5^8$ action sequences (the moves are deterministic): the posterior
# mass of trajectories through the top cell and through the bottom cell. The soft
# policy's rollout puts the same mass on each (for deterministic dynamics the soft
# policy samples exactly from $p(\tau \mid \mathcal{O})$).

# %%
enum = enumerate_trajectories(grid)
post, log_Z = enum.posterior()
via_top = (enum.states == grid.state(*TOP)).any(axis=1)
via_bottom = (enum.states == grid.state(*BOTTOM)).any(axis=1)
print(f"p(top route | O) = {post[via_top].sum():.3f}, p(bottom route | O) = "
      f"{post[via_bottom].sum():.3f}, both: {post[via_top & via_bottom].sum():.1e}")
assert np.isclose(post[via_top].sum(), post[via_bottom].sum(), rtol=1e-10)
assert post[via_top].sum() > 0.45 and not (via_top & via_bottom).any()
assert np.isclose(log_Z, ci.log_evidence(grid, ci.solve(grid, mode="exact")), rtol=1e-10)
# The soft policy's rollout: p(τ) Π_t π_t(a_t | s_t) is the posterior of every trajectory.
assert np.allclose(np.exp(enum.log_p + enum.log_policy(soft.policy)), post, rtol=0, atol=1e-12)

# %% [markdown]
# ## The top route gets blocked
#
# Two questions. **(a) No time to re-plan:** the top cell becomes a wall and the agent
# runs its old policy (a move into the wall leaves it where it is). **(b) Re-plan:**
# forbid entering the top cell, `r[s, a] = -inf` for the two moves into it (ctrlinf
# treats `-inf` as an action mask in every mode), and solve again.

# %%
blocked = world(eps, blocked_wall=TOP)
goal = blocked.state(1, 4)


def success(policy):
    """Probability of standing on the goal at the last step (goals are absorbing)."""
    return ci.occupancy(blocked, policy)[-1, goal]


ok_soft, ok_hard = success(soft_eps.policy), success(hard_eps.policy)
print(f"(a) old policy, top blocked: soft reaches the goal with p = {ok_soft:.3f}, "
      f"hard with p = {ok_hard:.3f}")
assert ok_hard == 0.0 and ok_soft > 0.45

masked = world(eps)
r = masked.r.copy()
RIGHT, LEFT = masked.action_names.index("right"), masked.action_names.index("left")
r[masked.state(0, 1), RIGHT] = -np.inf
r[masked.state(0, 3), LEFT] = -np.inf
masked = masked.replace(r=r)
soft_new, hard_new = ci.solve(masked, mode="soft"), ci.solve(masked, mode="hard")
print("(b) re-solved: soft π_0(up, down | S) = (%.3f, %.3f)" % first_move(soft_new),
      "  hard = (%.3f, %.3f)" % first_move(hard_new))
assert first_move(hard_new) == (0.0, 1.0)

# %% [markdown]
# With deterministic dynamics the re-planned posterior is the old one *conditioned* on
# avoiding the top cell: forbidding actions only deletes trajectories, so
# $Z_{\text{new}} / Z_{\text{old}} = p_{\text{old}}(\tau \text{ never moves into the top}
# \mid \mathcal{O})$ — the soft agent's old beliefs already held the new plan, and the
# log-evidence says how much of its mass it loses.

# %%
enum_eps = enumerate_trajectories(world(eps))
post_eps, log_Z_old = enum_eps.posterior()
# "Avoids the top": never takes one of the two forbidden moves (a move into the top
# cell at the last step also counts, though the trajectory ends before arriving).
avoid = ~np.isneginf(r[enum_eps.states, enum_eps.actions]).any(axis=1)
log_Z_new = ci.log_evidence(masked, ci.solve(masked, mode="exact"))
print(f"Z_new / Z_old = {np.exp(log_Z_new - log_Z_old):.4f} = p_old(avoid top | O) = "
      f"{post_eps[avoid].sum():.4f}")
assert np.isclose(np.exp(log_Z_new - log_Z_old), post_eps[avoid].sum(), rtol=1e-10)
# The new soft policy = the old posterior restricted to the bottom route.
d_new = ci.occupancy(masked, soft_new.policy)
d_cond = np.zeros_like(d_new)
for t in range(T):
    np.add.at(d_cond[t], enum_eps.states[avoid, t], post_eps[avoid] / post_eps[avoid].sum())
assert np.allclose(d_new, d_cond, atol=1e-12)

# %%
fig, axes = plt.subplots(1, 4, figsize=(17, 2.6), layout="constrained")
visits = lambda mdp, sol: ci.occupancy(mdp, sol.policy).sum(axis=0)   # noqa: E731
panels = [(world(eps), soft_eps, "soft, ε = 0.01: keeps both routes"),
          (world(eps), hard_eps, "hard, ε = 0.01: commits to the top"),
          (blocked, soft_eps, f"top blocked, old soft policy: goal p = {ok_soft:.2f}"),
          (blocked, hard_eps, f"top blocked, old hard policy: goal p = {ok_hard:.2f}")]
for ax, (mdp, sol, title) in zip(axes, panels):
    ci.plot.heatmap(mdp, visits(mdp, sol), ax=ax, title=title, vmin=0, vmax=3, colorbar=False)
fig.colorbar(axes[-1].images[0], ax=axes, shrink=0.9, extend="max",   # a stuck cell: > 3
             label=f"expected visits in T = {T} steps\n(linear scale, cut at 3)")
assert visits(blocked, hard_eps).max() > 3
save_figure(fig, "24_multimodal_posteriors")

# %% [markdown]
# ## What you saw
#
# - With two equally good routes the soft policy (= the trajectory posterior, for
#   deterministic moves) puts equal mass on both; hard control shares an exact tie
#   equally but commits entirely to a route that is better by ε = 0.01, where the soft
#   odds barely move ($e^{0.99\varepsilon} = 1.0100$).
# - When the committed route is blocked and there is no time to re-plan, the old hard
#   policy never reaches the goal; the old soft policy still does about half the time.
# - Re-planning with the route forbidden (`r = -inf`) gives the old posterior
#   conditioned on the other route, with $Z_{\text{new}}/Z_{\text{old}}$ the old
#   probability of avoiding the block, checked by enumerating every trajectory.
