"""One per-state quantity: a heatmap on a grid, bars over states otherwise."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ctrlinf import _checks
from ctrlinf.plot._common import (add_colorbar, color_limits, draw_bars, draw_grid, grid_shape,
                                  make_norm, new_axes, panel_size, state_values,
                                  visible_states)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap

    from ctrlinf._typing import ArrayLike
    from ctrlinf.mdp import TabularMDP


def heatmap(mdp: TabularMDP, values: ArrayLike, ax: Axes | None = None, title: str | None = None,
            log: bool = False, cmap: str | Colormap = "viridis", colorbar: bool = True,
            mark_start: bool = True, label: str | None = None, vmin: float | None = None,
            vmax: float | None = None) -> Axes:
    """Draw a per-state quantity on the MDP's grid.

    Walls are dark grey, and the start (``p0 > 0``; not marked when it covers more
    than half of the cells), goal and pit cells carry the letters S, G and X. An MDP
    without a grid ``shape`` is drawn by :func:`state_bars` instead.

    Parameters
    ----------
    mdp : TabularMDP or GridMDP
        Grid MDPs have ``shape = (rows, cols)`` and state ``s = row * cols + col``.
    values : array_like, shape (S,)
        One number per state, e.g. ``sol.V[t]`` or ``ci.marginals(mdp, sol)[0][t]``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
    log : bool, default False
        Logarithmic colour scale; values <= 0 are drawn white. The scale spans
        at most ``LOG_RANGE`` (1e-8) below the largest value unless ``vmin`` is given.
    cmap : str or matplotlib.colors.Colormap, default "viridis"
    colorbar : bool, default True
    mark_start : bool, default True
        Letter the start states S.
    label : str, optional
        Colour-bar label (or y-axis label of the bar view).
    vmin, vmax : float, optional
        Colour limits; by default the range of the values outside walls.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``values`` is not ``(S,)``, or ``log=True`` and no value is positive.

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> P = np.zeros((4, 1, 4)); P[:, 0, 0] = 1
    >>> mdp = ci.TabularMDP(P, r=np.zeros(4), p0=[1, 0, 0, 0], horizon=2)
    >>> ax = ci.plot.heatmap(mdp, [0.1, 0.2, 0.3, 0.4])   # no grid: bars over states
    """
    _checks.mdp(mdp)
    values = state_values(mdp, values)
    if grid_shape(mdp) is None:
        return state_bars(mdp, values, ax=ax, title=title, log=log, cmap=cmap,
                          mark_start=mark_start, label=label, vmin=vmin, vmax=vmax)
    width, height = panel_size(mdp, width=4.5)
    fig, ax = new_axes(ax, figsize=(width + 1.0, height))
    norm = make_norm(color_limits([values], visible_states(mdp), log, vmin, vmax), log)
    image = draw_grid(ax, mdp, values, norm, cmap, mark_start)
    if colorbar:
        add_colorbar(fig, image, ax, label)
    if title is not None:
        ax.set_title(title)
    return ax


def state_bars(mdp: TabularMDP, values: ArrayLike, ax: Axes | None = None,
               title: str | None = None, log: bool = False, cmap: str | Colormap = "viridis",
               mark_start: bool = True, label: str | None = None, vmin: float | None = None,
               vmax: float | None = None) -> Axes:
    """Draw a per-state quantity as bars over states ``0 .. S-1``.

    The view for MDPs without a grid. Bars are coloured by value with ``cmap``;
    start states (``p0 > 0``; not marked when they are more than half of the states)
    get a triangle on the axis.

    Parameters
    ----------
    mdp : TabularMDP
    values : array_like, shape (S,)
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    log : bool, default False
        Logarithmic y axis (and colours).
    cmap : str or matplotlib.colors.Colormap, default "viridis"
    mark_start : bool, default True
    label : str, optional
        y-axis label.
    vmin, vmax : float, optional
        Colour limits.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _checks.mdp(mdp)
    values = state_values(mdp, values)
    fig, ax = new_axes(ax, figsize=(min(10.0, 3.0 + 0.15 * mdp.n_states), 3.0))
    norm = make_norm(color_limits([values], visible_states(mdp), log, vmin, vmax), log)
    draw_bars(ax, mdp, values, norm, cmap, mark_start)
    if label is not None:
        ax.set_ylabel(label)
    if title is not None:
        ax.set_title(title)
    return ax
