"""Sampled trajectories drawn over the grid (or as state against time)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colors

from ctrlinf.plot._common import (add_colorbar, color_limits, draw_grid, grid_shape, make_norm,
                                  new_axes, panel_size, state_values, visible_states)
from ctrlinf import _checks
from ctrlinf.trajectories import Trajectories

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap

    from ctrlinf._typing import ArrayLike, Seed
    from ctrlinf.mdp import TabularMDP


def demo_states(mdp, demos):
    """``(states, observed)``: the ``(N, T)`` int states of ``demos``, checked, and which are data.

    For ``Trajectories`` only the observed steps (``t < lengths[i]``) are read and
    ``observed`` marks them (padding holds state 0); an array is all data.
    """
    if isinstance(demos, Trajectories):
        steps = _checks.trajectories(demos, "demos", mdp.n_states).observed()
        states = np.zeros(demos.states.shape, dtype=np.int64)
        observed = np.zeros(demos.states.shape, dtype=bool)
        states[steps.trajectory, steps.t] = steps.state
        observed[steps.trajectory, steps.t] = True
        if states.size == 0:
            raise ValueError(f"demos.states has shape {states.shape}, expected a non-empty "
                             "(N, T) int array")
        return states, observed
    states = np.asarray(demos)
    if states.size and not np.issubdtype(states.dtype, np.integer):
        raise TypeError(f"demos must be Trajectories or an (N, T) int array of states, got "
                        f"dtype {states.dtype}")
    if states.ndim == 1:
        states = states[None]
    if states.ndim != 2 or states.size == 0 or not np.issubdtype(states.dtype, np.integer):
        raise ValueError(
            f"demos.states has shape {states.shape} and dtype {states.dtype}, expected a "
            f"non-empty (N, T) int array"
        )
    bad = (states < 0) | (states >= mdp.n_states)
    if bad.any():
        raise ValueError(
            f"demos.states contains {states[bad][0]}, expected states in 0..S-1 = "
            f"0..{mdp.n_states - 1}"
        )
    return states, np.ones(states.shape, dtype=bool)


def trajectories(mdp: TabularMDP, demos: Trajectories | ArrayLike, ax: Axes | None = None,
                 n_max: int = 20, jitter: float = 0.15, seed: Seed = 0,
                 background: ArrayLike | None = None, cmap: str | Colormap = "Greys",
                 title: str | None = None, opacity: float = 0.7) -> Axes:
    """Overlay sampled trajectories on the grid.

    Each trajectory is a line through the cell centres it visits, shifted by
    a small random offset (and per-step noise) so that trajectories sharing
    cells stay apart; a dot marks its start. Steps in states beyond the grid's
    cells are left out. Without a grid, each trajectory is drawn as its state
    against time.

    Parameters
    ----------
    mdp : GridMDP or TabularMDP
    demos : Trajectories or array_like of int, shape (N, T) or (T,)
        E.g. ``ci.sample(mdp, sol.policy, n=100, seed=0)``.
    ax : matplotlib.axes.Axes, optional
    n_max : int, default 20
        Draw at most the first ``n_max`` trajectories.
    jitter : float, default 0.15
        Largest offset, in cells (states for the non-grid view).
    seed : int, default 0
        Seed of the jitter.
    background : array_like, shape (S,), optional
        Per-state values drawn underneath (with a colour bar); grids only.
    cmap : str or matplotlib.colors.Colormap, default "Greys"
        Colour map of the background.
    title : str, optional
        By default "n of N sampled trajectories".
    opacity : float, default 0.7
        Line opacity, matplotlib's ``alpha`` (named apart from the temperature α).

    Returns
    -------
    matplotlib.axes.Axes
    """
    _checks.mdp(mdp)
    seed = _checks.seed(seed)
    states, observed = demo_states(mdp, demos)
    shown = states[:n_max]
    n, T = shown.shape
    rng = np.random.default_rng(seed)
    offset = rng.uniform(-jitter, jitter, size=(2, n, 1))
    noise = rng.uniform(-jitter / 3, jitter / 3, size=(2, n, T))
    shape = grid_shape(mdp)
    width, height = panel_size(mdp, width=4.5)
    fig, ax = new_axes(ax, figsize=(width + (1.0 if background is not None else 0.0), height))
    if shape is None:
        x = np.broadcast_to(np.arange(T), (n, T))
        y = np.where(observed[:n_max], shown + offset[1] + noise[1], np.nan)
        ax.set_xlabel("time t")
        ax.set_ylabel("state s")
    else:
        values, norm = None, colors.Normalize(0, 1)
        if background is not None:
            values = state_values(mdp, background, "background")
            norm = make_norm(color_limits([values], visible_states(mdp)))
        image = draw_grid(ax, mdp, values, norm, cmap)
        if background is not None:
            add_colorbar(fig, image, ax)
        row, col = np.divmod(shown, shape[1])
        # Padding, and states beyond the grid (an "episode over" state), are not drawn.
        off_grid = ~observed[:n_max] | (shown >= shape[0] * shape[1])
        x = np.where(off_grid, np.nan, col + offset[0] + noise[0])
        y = np.where(off_grid, np.nan, row + offset[1] + noise[1])
    for i in range(n):
        colour = f"C{i % 10}"
        ax.plot(x[i], y[i], "-", color=colour, alpha=opacity, linewidth=1.3, zorder=3)
        ax.plot(x[i][0], y[i][0], "o", color=colour, markersize=4, zorder=4)
    ax.set_title(f"{n} of {len(states)} sampled trajectories" if title is None else title)
    return ax
