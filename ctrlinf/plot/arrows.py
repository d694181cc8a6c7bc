"""Policies on a grid: one arrow per (cell, move) scaled by ``π_t(a | s)``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from matplotlib import colors
from matplotlib.collections import EllipseCollection

from ctrlinf import _checks
from ctrlinf.plot._common import (add_colorbar, check_times, color_limits, draw_grid,
                                  grid_shape, make_norm, new_axes, new_figure, panel_size,
                                  state_values, time_values, visible_states)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

    from ctrlinf._typing import ArrayLike
    from ctrlinf.inference import Solution
    from ctrlinf.mdp import TabularMDP

#: ``(drow, dcol)`` of up, right, down, left, stay: the gridworld action order.
DEFAULT_DELTAS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1], [0, 0]])
#: Arrow and dot colour.
ARROW_COLOUR = "black"
#: Opacity of the background heatmap, faded so that black arrows read on its dark end.
BACKGROUND_ALPHA = 0.55


def action_deltas(mdp):
    """``(A, 2)`` int array of ``(drow, dcol)`` per action; the gridworld order when absent."""
    deltas = getattr(mdp, "action_deltas", None)
    A = mdp.n_actions
    if deltas is None:
        if A not in (4, 5):
            raise ValueError(
                f"policy arrows need mdp.action_deltas, shape (A, 2) = ({A}, 2), for an MDP "
                f"with {A} actions (only 4 or 5 grid actions have a default order)"
            )
        return DEFAULT_DELTAS[:A]
    deltas = np.asarray(deltas)
    if deltas.shape != (A, 2):
        raise ValueError(f"mdp.action_deltas has shape {deltas.shape}, expected (A, 2) = ({A}, 2)")
    return deltas


def policy_arrows(mdp: TabularMDP, policy_t: ArrayLike, ax: Axes | None = None,
                  scale: float = 0.45, background: ArrayLike | None = None,
                  cmap: str | Colormap = "viridis", colorbar: bool = True,
                  title: str | None = None, label: str | None = None, vmin: float | None = None,
                  vmax: float | None = None, min_prob: float = 0.01) -> Axes:
    """Draw one policy ``π_t(a | s)`` as arrows on the grid.

    From each cell centre an arrow points along each move, with length
    ``scale * π(a|s)`` cells and opacity rising with ``π(a|s)``; the stay
    action is a dot whose area grows with its probability. An optional
    background heatmap (e.g. ``sol.V[t]``) sits underneath. MDPs without a
    grid get the ``(S, A)`` matrix of probabilities as an image instead.

    Parameters
    ----------
    mdp : GridMDP or TabularMDP
        Directions come from ``mdp.action_deltas`` (``(drow, dcol)`` per action);
        without it, 4 or 5 actions are read as up, right, down, left(, stay).
    policy_t : array_like, shape (S, A)
        Action probabilities at one time step, e.g. ``sol.policy[t]``.
    ax : matplotlib.axes.Axes, optional
    scale : float, default 0.45
        Arrow length, in cells, of an action taken with probability one.
    background : array_like, shape (S,), optional
        Per-state values drawn as a heatmap under the arrows.
    cmap : str or matplotlib.colors.Colormap, default "viridis"
        Colour map of the background.
    colorbar : bool, default True
        Colour bar for the background.
    title, label : str, optional
        Axes title; colour-bar label.
    vmin, vmax : float, optional
        Background colour limits.
    min_prob : float, default 0.01
        Moves less likely than this get no arrow.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _checks.mdp(mdp)
    policy_t = _checks.real_array(policy_t, "policy_t")
    S, A = mdp.n_states, mdp.n_actions
    if policy_t.shape != (S, A):
        raise ValueError(f"policy_t has shape {policy_t.shape}, expected (S, A) = ({S}, {A})")
    if grid_shape(mdp) is None:
        return _policy_matrix(mdp, policy_t, ax, title)
    deltas = action_deltas(mdp)
    width, height = panel_size(mdp, width=4.5)
    fig, ax = new_axes(ax, figsize=(width + (1.0 if background is not None else 0.0), height))
    if background is None:
        draw_grid(ax, mdp, None, colors.Normalize(0, 1), cmap)
    else:
        background = state_values(mdp, background, "background")
        norm = make_norm(color_limits([background], visible_states(mdp), vmin=vmin, vmax=vmax))
        image = draw_grid(ax, mdp, background, norm, cmap, alpha=BACKGROUND_ALPHA)
        if colorbar:
            add_colorbar(fig, image, ax, label)
    draw_arrows(ax, mdp, policy_t, deltas, scale, min_prob)
    if title is not None:
        ax.set_title(title)
    return ax


def draw_arrows(ax, mdp, policy_t, deltas, scale, min_prob):
    """Arrows (moves) and dots (stay) for ``policy_t`` ``(S, A)`` on a grid axes."""
    cols = grid_shape(mdp)[1]
    row, col = np.divmod(np.arange(mdp.n_states), cols)
    shown = visible_states(mdp)[:, None] & (policy_t > min_prob)
    s, a = np.nonzero(shown)
    p = policy_t[s, a]
    rgba = np.array([colors.to_rgba(ARROW_COLOUR)] * len(p))
    rgba[:, 3] = 0.3 + 0.7 * p
    moves = np.any(deltas[a] != 0, axis=1)
    drow, dcol = deltas[a[moves]].T
    length = scale * p[moves]
    ax.quiver(col[s[moves]], row[s[moves]], dcol * length, drow * length, color=rgba[moves],
              angles="xy", scale_units="xy", scale=1, units="xy", width=0.05,
              headwidth=3.5, headlength=3.5, headaxislength=3, minlength=0, zorder=3)
    diameter = scale * np.sqrt(p[~moves])
    ax.add_collection(EllipseCollection(
        diameter, diameter, np.zeros(diameter.size), units="xy",
        offsets=np.column_stack([col[s[~moves]], row[s[~moves]]]),
        offset_transform=ax.transData, facecolors=rgba[~moves], edgecolors="none", zorder=3))


def _policy_matrix(mdp, policy_t, ax, title):
    """The non-grid view: ``π(a | s)`` as an ``(S, A)`` image."""
    S, A = policy_t.shape
    fig, ax = new_axes(ax, figsize=(2.0 + 0.5 * A, min(8.0, 1.5 + 0.25 * S)))
    image = ax.imshow(policy_t, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto",
                      interpolation="nearest")
    names = getattr(mdp, "action_names", None)
    ax.set_xticks(np.arange(A), labels=list(names) if names is not None else None)
    ax.set_xlabel("action a")
    ax.set_ylabel("state s")
    add_colorbar(fig, image, ax, "π(a | s)")
    if title is not None:
        ax.set_title(title)
    return ax


def policy(mdp: TabularMDP, sol: Solution, times: int | Sequence[int] | None = None,
           fig: Figure | None = None, background: Literal["V"] | ArrayLike | None = "V",
           scale: float = 0.45, cmap: str | Colormap = "viridis") -> Figure:
    """A row of :func:`policy_arrows` panels, one per time step.

    Parameters
    ----------
    mdp : GridMDP or TabularMDP
    sol : Solution
        Any mode; an infinite-horizon (stationary) solution gives one panel.
    times : int or sequence of int, optional
        Time steps; by default up to five spread over ``0 .. T-1``.
    fig : matplotlib.figure.Figure, optional
        An empty figure to draw into.
    background : "V", None, or array_like of shape (T, S)
        ``"V"`` draws ``sol.V[t]`` under the arrows, None nothing; an array
        (e.g. the state marginals) is indexed by time. One colour scale for all panels.
    scale : float, default 0.45
        Arrow length, in cells, of a sure action.
    cmap : str or matplotlib.colors.Colormap, default "viridis"

    Returns
    -------
    matplotlib.figure.Figure
    """
    _checks.mdp(mdp)
    _checks.solution(sol)
    stationary = np.ndim(sol.V) == 1
    T = 1 if stationary else np.shape(sol.V)[0]
    times = [0] if stationary else check_times(times, T)
    if isinstance(background, str):
        if background != "V":
            raise ValueError(f"background is {background!r}, expected 'V', None or a (T, S) array")
        background, label = np.reshape(sol.V, (T, -1)), "$V_t(s)$ (reward units)"
    elif background is not None:
        label = None
        if stationary:
            background = state_values(mdp, background, "background")[None]
        else:
            background = time_values(mdp, background, "background", T)
    norm_limits = (None, None)
    if background is not None:
        norm_limits = color_limits([background[t] for t in times], visible_states(mdp))
    width, height = panel_size(mdp, width=3.2)
    fig = new_figure(fig, figsize=(width * len(times) + 1.2, height + 0.6))
    axes = fig.subplots(1, len(times), squeeze=False)[0]
    for ax, t in zip(axes, times):
        policy_t = sol.policy_at(t) if hasattr(sol, "policy_at") else sol.policy[t]
        policy_arrows(mdp, policy_t, ax=ax, scale=scale, cmap=cmap, colorbar=False,
                      background=None if background is None else background[t],
                      vmin=norm_limits[0], vmax=norm_limits[1],
                      title="stationary" if stationary else f"t = {t}")
    if background is not None and grid_shape(mdp) is not None:
        image = axes[-1].images[0]
        add_colorbar(fig, image, list(axes), label)
    fig.suptitle(f"Policy $\\pi_t(a \\mid s)$, mode={sol.mode!r}, "
                 f"temperature {sol.temperature:g}")
    return fig
