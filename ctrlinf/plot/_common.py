"""Pieces every plot shares: the grid an MDP lives on, shape checks, colour scales,
and drawing one per-state quantity either as grid cells or as bars over states.

A *grid* MDP has an attribute ``shape = (rows, cols)`` with ``rows * cols <= S``
and state ``s = row * cols + col`` (``ctrlinf.envs.GridMDP``); states after the
``rows * cols`` cells (e.g. an "episode over" state) are not drawn. It may also have
boolean ``(rows, cols)`` arrays ``walls``, ``goals`` and ``pits`` and an
``(A, 2)`` array ``action_deltas`` of ``(drow, dcol)``. Everything is read with
``getattr``, so a plain ``TabularMDP`` works and is drawn as bars over states.
"""
import numbers

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors, patheffects

from ctrlinf import _checks

#: Colour of wall cells; dark so it never looks like a low value of the light colour maps.
WALL_COLOUR = "#3a3a3a"
#: Colour of non-wall cells with nothing to draw (NaN, or a value <= 0 on a log scale).
MISSING_COLOUR = "white"
#: A log colour scale spans at most this factor below its maximum.
LOG_RANGE = 1e-8
#: Grids larger than this (in either direction) get no tick labels or cell borders.
_DETAILED_GRID = 16


def grid_shape(mdp):
    """``(rows, cols)`` if the first ``rows * cols`` states are the cells of a grid, else None."""
    shape = getattr(mdp, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] * shape[1] > mdp.n_states:
        return None
    return int(shape[0]), int(shape[1])


def cell_mask(mdp, name):
    """Boolean ``(rows, cols)`` grid attribute ``name`` ("walls", "goals", "pits") or all False."""
    shape = grid_shape(mdp)
    mask = getattr(mdp, name, None)
    if mask is None:
        return np.zeros(shape, dtype=bool)
    return np.asarray(mask, dtype=bool).reshape(shape)


def visible_states(mdp):
    """Boolean ``(S,)``: the states a plot shows (all; on a grid, the cells but walls)."""
    if grid_shape(mdp) is None:
        return np.ones(mdp.n_states, dtype=bool)
    visible = np.zeros(mdp.n_states, dtype=bool)
    cells = ~cell_mask(mdp, "walls").ravel()
    visible[:cells.size] = cells
    return visible


def state_values(mdp, values, name="values"):
    """Return ``values`` as a float ``(S,)`` array or raise (NaN is drawn as missing)."""
    values = _checks.real_array(values, name)
    S = mdp.n_states
    if values.shape != (S,):
        raise ValueError(f"{name} has shape {values.shape}, expected (S,) = ({S},)")
    return values


def time_values(mdp, values, name="values", T=None):
    """Return ``values`` as a float ``(T, S)`` array or raise (NaN is drawn as missing)."""
    values = _checks.real_array(values, name)
    S = mdp.n_states
    if values.ndim != 2 or values.shape[1] != S or T is not None and values.shape[0] != T:
        raise ValueError(
            f"{name} has shape {values.shape}, expected (T, S) = ({'T' if T is None else T}, {S})"
        )
    return values


def check_times(times, T, default=5):
    """Time steps to draw: ``default`` of them spread over ``0 .. T-1`` when None."""
    if times is None:
        return [int(t) for t in np.unique(np.round(np.linspace(0, T - 1, min(default, T))))]
    times = [times] if isinstance(times, numbers.Integral) else list(times)
    if not times:
        raise ValueError("times is empty, expected at least one time step")
    for t in times:
        if not isinstance(t, numbers.Integral) or not 0 <= t < T:
            raise ValueError(f"times contains {t!r}, expected ints 0 <= t < T = {T}")
    return [int(t) for t in times]


def at_time(array, t, name):
    """``array[t]`` of a finite-horizon ``(T, ...)`` result; a stationary one needs ``t == 0``."""
    if t is None:
        return array
    if not isinstance(t, numbers.Integral) or not 0 <= t < len(array):
        raise ValueError(f"t is {t!r}, expected an int 0 <= t < T = {len(array)} for {name}")
    return array[t]


def color_limits(arrays, visible, log=False, vmin=None, vmax=None, symmetric=False):
    """Colour limits shared by ``arrays`` (each ``(S,)``), looking only at visible states.

    ``symmetric`` centres the scale on zero (for differences); ``log`` keeps the
    lower limit positive and at most ``LOG_RANGE`` below the upper one.
    """
    vmin = None if vmin is None else _checks.real(vmin, "vmin")
    vmax = None if vmax is None else _checks.real(vmax, "vmax")
    shown = np.concatenate([np.asarray(a)[visible] for a in arrays])
    shown = shown[np.isfinite(shown)]
    if log:
        shown = shown[shown > 0]
        if shown.size == 0:
            raise ValueError("log=True needs positive values, but none of the shown values is > 0")
    if shown.size == 0:
        shown = np.zeros(1)
    if symmetric:
        top = np.abs(shown).max() if vmax is None else vmax
        top = top if top > 0 else 1.0
        return -top, top
    lo = shown.min() if vmin is None else vmin
    hi = shown.max() if vmax is None else vmax
    if log and vmin is None:
        lo = max(lo, hi * LOG_RANGE)
    if lo == hi:  # a constant map still needs a non-empty range
        lo, hi = (lo / 2, lo * 2) if log else (lo - 0.5, hi + 0.5)
    return lo, hi


#: Colour scales :func:`make_norm` knows; "sqrt" shows small probabilities next to large ones.
SCALES = ("linear", "sqrt", "log")


def check_scale(scale):
    if scale not in SCALES:
        raise ValueError(f"scale is {scale!r}, expected one of {SCALES}")
    return scale


def make_norm(limits, scale="linear"):
    """A norm over ``limits = (vmin, vmax)``; ``scale`` is one of ``SCALES`` or a bool (log)."""
    scale = check_scale({True: "log", False: "linear"}.get(scale, scale))
    if scale == "log":
        return colors.LogNorm(*limits)
    if scale == "sqrt":
        return colors.PowerNorm(0.5, *limits)
    return colors.Normalize(*limits)


def make_cmap(cmap):
    """A copy of ``cmap`` that paints NaN and masked cells in ``MISSING_COLOUR``."""
    return matplotlib.colormaps.get_cmap(cmap).with_extremes(bad=MISSING_COLOUR)


def new_axes(ax, figsize=None):
    """``(figure, axes)``: the given ``ax`` and its figure, or a new single-panel figure."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def new_figure(fig, figsize):
    """The given figure, or a new constrained-layout one of ``figsize`` inches."""
    if fig is not None:
        return fig
    return plt.figure(figsize=figsize, layout="constrained")


def panel_size(mdp, width=2.6):
    """``(width, height)`` in inches of one map panel, following the grid's aspect."""
    shape = grid_shape(mdp)
    if shape is None:
        return width, width * 0.7
    return width, float(np.clip(width * shape[0] / shape[1], 1.2, 2 * width))


def draw_states(ax, mdp, values, norm, cmap, mark_start=True, tick_labels=(True, True)):
    """Draw ``values`` (``(S,)``, or None for an empty grid) on ``ax``; return the colour mappable.

    Grid MDPs get cells (:func:`draw_grid`, which takes ``tick_labels``), others
    bars (:func:`draw_bars`).
    """
    if grid_shape(mdp) is None:
        return draw_bars(ax, mdp, values, norm, cmap, mark_start)
    return draw_grid(ax, mdp, values, norm, cmap, mark_start, tick_labels=tick_labels)


def draw_grid(ax, mdp, values, norm, cmap, mark_start=True, alpha=None, tick_labels=(True, True)):
    """Cells coloured by ``values`` (white where None/NaN), walls dark, S/G/X lettered.

    ``tick_labels = (columns, rows)``: whether the column numbers (below) and the
    row numbers (left) are shown; a panel inside a grid of panels shows neither.
    """
    shape = grid_shape(mdp)
    if values is None:
        grid = np.full(shape, np.nan)
    else:
        cells = values[:shape[0] * shape[1]].reshape(shape)
        grid = np.where(cell_mask(mdp, "walls"), np.nan, cells)
    image = ax.imshow(grid, cmap=make_cmap(cmap), norm=norm, interpolation="nearest",
                      alpha=alpha)
    _draw_walls(ax, mdp)
    _style_grid_axes(ax, shape, tick_labels)
    _mark_cells(ax, mdp, mark_start)
    return image


def draw_bars(ax, mdp, values, norm, cmap, mark_start=True):
    """Bars over states coloured like grid cells would be; start states get a triangle."""
    cmap = make_cmap(cmap)
    if values is not None:
        ax.bar(np.arange(mdp.n_states), values, width=0.85, color=cmap(norm(values)),
               edgecolor="none")
        if isinstance(norm, colors.LogNorm):
            ax.set_yscale("log")
            ax.set_ylim(norm.vmin, norm.vmax * 1.5)
        else:  # y limits follow the colour limits, so panels sharing a norm share a scale
            lo, hi = min(norm.vmin, 0.0), max(norm.vmax, 0.0)
            pad = 0.05 * (hi - lo)
            ax.set_ylim(lo - pad * (lo < 0), hi + pad * (hi > 0))
    ax.set_xlabel("state s")
    ax.set_xlim(-0.6, mdp.n_states - 0.4)
    if mark_start:
        starts = start_states(mdp)
        if starts.size:
            ax.plot(starts, np.zeros(starts.size), "^", color="black", markersize=6,
                    clip_on=False, transform=ax.get_xaxis_transform(), label="start")
    return matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)


def _draw_walls(ax, mdp):
    walls = cell_mask(mdp, "walls")
    if walls.any():
        ax.imshow(np.where(walls, 1.0, np.nan), cmap=colors.ListedColormap([WALL_COLOUR]),
                  vmin=0.0, vmax=1.0, interpolation="nearest")


#: Colour of the cell borders of a grid.
GRID_LINE_COLOUR = "#b0b0b0"


def _style_grid_axes(ax, shape, tick_labels=(True, True)):
    rows, cols = shape
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    detailed = max(shape) <= _DETAILED_GRID
    # No tick at all where no number is shown (ticks have length 0 here): each tick is
    # a few artists to create and for the layout to measure (hidden labels of ticks
    # made the demo's message picture ~10% slower than no ticks).
    ax.set_xticks(np.arange(cols) if detailed and tick_labels[0] else [])
    ax.set_yticks(np.arange(rows) if detailed and tick_labels[1] else [])
    if not detailed:
        return
    # Cell borders as two line collections, not as minor ticks with a grid: each tick
    # is an artist that layout measures, which made a demo's figures 15% slower.
    ax.vlines(np.arange(cols + 1) - 0.5, -0.5, rows - 0.5, color=GRID_LINE_COLOUR,
              linewidth=0.5)
    ax.hlines(np.arange(rows + 1) - 0.5, -0.5, cols - 0.5, color=GRID_LINE_COLOUR,
              linewidth=0.5)
    ax.tick_params(length=0, labelsize=7)


#: Start states are marked only if they are at most this share of the shown states; a
#: start spread wider (``gridworld``'s default: every cell but the goals) is no landmark,
#: and lettering every cell "S" would hide the values.
MAX_MARKED_START_SHARE = 0.5


def start_states(mdp):
    """States with ``p0 > 0``, or none when they are more than half of the shown states."""
    p0 = np.asarray(getattr(mdp, "p0", np.zeros(mdp.n_states)))
    visible = visible_states(mdp)
    starts = (p0 > 0) & visible
    if starts.sum() > MAX_MARKED_START_SHARE * visible.sum():
        return np.array([], dtype=int)
    return np.flatnonzero(starts)


def _mark_cells(ax, mdp, mark_start):
    """Letter the start (S), goal (G) and pit (X) cells in their top-left corner."""
    rows, cols = grid_shape(mdp)
    bbox = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    cell_points = 72 * min(bbox.width * fig_w / cols, bbox.height * fig_h / rows)
    size = float(np.clip(0.35 * cell_points, 4, 11))
    letters = [("G", cell_mask(mdp, "goals")), ("X", cell_mask(mdp, "pits"))]
    if mark_start:
        start = np.zeros(rows * cols, dtype=bool)
        start[start_states(mdp)] = True
        letters.insert(0, ("S", start.reshape(rows, cols)))
    outline = [patheffects.withStroke(linewidth=2, foreground="black")]
    for letter, mask in letters:
        for r, c in zip(*np.nonzero(mask)):
            # Inside the axes, so left out of the layout, which would measure each letter.
            ax.text(c - 0.42, r - 0.42, letter, ha="left", va="top", fontsize=size,
                    fontweight="bold", color="white", path_effects=outline,
                    in_layout=False)


def add_colorbar(fig, mappable, ax, label=None):
    """A colour bar beside ``ax`` (one Axes, or several that share it)."""
    several = np.ndim(ax) > 0 and len(ax) > 1
    return fig.colorbar(mappable, ax=ax, label=label, shrink=0.9, pad=0.01 if several else 0.03)
