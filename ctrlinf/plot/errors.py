"""How far an estimate is from the exact answer: per-state error maps and learning curves."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ctrlinf.plot._common import grid_shape, new_axes, state_values
from ctrlinf.plot.heatmaps import heatmap
from ctrlinf.plot.progress import history_columns

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap

    from ctrlinf._typing import ArrayLike, History
    from ctrlinf.bridge.scores import PolicyReport, QReport
    from ctrlinf.mdp import TabularMDP


#: Colour-bar labels of :func:`error_map` for the oracle's reports.
ERROR_LABEL = "largest |error| per state\n(over time steps and actions)"
REGRET_LABEL = "regret per step: $V^*(s) - E_\\pi Q^*(s, a)$\n(return lost where π visits)"


def error_map(mdp: TabularMDP, errors: ArrayLike | QReport | PolicyReport, ax: Axes | None = None,
              title: str | None = None, label: str | None = None, cmap: str | Colormap = "magma_r",
              log: bool = False, mark_worst: bool = True) -> Axes:
    """Draw a per-state error on the MDP's grid, white where nothing was compared.

    Parameters
    ----------
    mdp : TabularMDP or GridMDP
    errors : array_like, shape (S,), or an oracle report
        One non-negative number per state, NaN for states not compared; or the
        report itself: ``oracle.compare_q(Q_hat)`` / ``compare_v`` (draws its
        ``state_error``, the largest ``|Q̂ − Q*|`` per reachable state) or
        ``oracle.compare_policy(pi)`` (draws its ``state_regret``, the return lost
        per step where π visits), each with a colour-bar label that says which.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    label : str, optional
        Colour-bar label; by default the report's quantity (``ERROR_LABEL`` or
        ``REGRET_LABEL``), or "error" for an array.
    cmap : str, default "magma_r"
        Dark means large error.
    log : bool, default False
        Logarithmic colour scale (zeros drawn white).
    mark_worst : bool, default True
        Circle the state with the largest error (grids only).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``errors`` is not ``(S,)`` or holds a negative number.

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> grid = ci.envs.gridworld((2, 3), goals=[(0, 2)], start=(1, 0), horizon=None, gamma=0.9)
    >>> oracle = ci.bridge.Oracle(grid, temperature=0.0)
    >>> ax = ci.plot.error_map(grid, oracle.compare_q(oracle.Q + 0.1), title="|Q̂ − Q*|")
    >>> ax.figure.axes[-1].get_ylabel() == ci.plot.errors.ERROR_LABEL
    True
    """
    if hasattr(errors, "state_regret"):            # a PolicyReport
        errors, default_label = errors.state_regret, REGRET_LABEL
    elif hasattr(errors, "state_error"):           # a QReport (compare_q, compare_v)
        errors, default_label = errors.state_error, ERROR_LABEL
    else:
        default_label = "error"
    label = default_label if label is None else label
    errors = state_values(mdp, errors, "errors")
    if np.any(errors < 0):
        raise ValueError(f"errors[{int(np.flatnonzero(errors < 0)[0])}] is negative; "
                         "expected absolute errors (NaN where not compared)")
    ax = heatmap(mdp, errors, ax=ax, title=title, log=log, cmap=cmap, label=label)
    shape = grid_shape(mdp)
    shown = np.where(np.isfinite(errors[:shape[0] * shape[1]]), errors[:shape[0] * shape[1]],
                     -np.inf) if shape is not None else None
    if mark_worst and shape is not None and np.isfinite(shown).any() and shown.max() > 0:
        row, col = divmod(int(np.argmax(shown)), shape[1])
        ax.add_patch(_circle((col, row)))
    return ax


def _circle(center):
    from matplotlib.patches import Circle
    return Circle(center, 0.42, fill=False, edgecolor="#00b4d8", linewidth=2.0)


def error_curves(history: History, keys: Sequence[str] | None = None, x: str = "step",
                 ax: Axes | None = None, logy: bool = False, title: str | None = None,
                 xlabel: str = "environment steps") -> Axes:
    """Errors against training steps, all on one Axes (e.g. an SB3 ``OracleCallback``).

    Parameters
    ----------
    history : dict of lists, list of dicts, or object with ``.history``
        Must hold the x column ``x``; e.g. ``ci.bridge.sb3.OracleCallback(...).history``.
    keys : sequence of str, optional
        Columns to draw; default every numeric column but ``x`` that has a finite value.
    x : str, default "step"
    ax : matplotlib.axes.Axes, optional
    logy : bool, default False
        Logarithmic y axis; values <= 0 are left out of a log plot.
    title : str, optional
    xlabel : str, default "environment steps"

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``x`` or a key is missing, or nothing is left to draw.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> ax = ci.plot.error_curves({"step": [0, 1000, 2000], "return_gap": [5.0, 0.4, 0.01]},
    ...                           logy=True)
    >>> [line.get_label() for line in ax.get_lines()]
    ['return_gap']
    """
    columns = history_columns(history)
    if x not in columns:
        raise ValueError(f"history has no numeric column x={x!r}; it has {sorted(columns)}")
    if keys is None:
        keys = [key for key in columns if key != x and np.isfinite(columns[key]).any()]
    keys = [keys] if isinstance(keys, str) else list(keys)
    for key in keys:
        if key not in columns:
            raise ValueError(f"history has no numeric key {key!r}; it has {sorted(columns)}")
    if not keys:
        raise ValueError("history has nothing to draw besides the x column")
    _, ax = new_axes(ax, figsize=(5.0, 3.2))
    for key in keys:   # colours follow the Axes' cycle, so repeated calls differ
        y = columns[key]
        if logy:
            y = np.where(y > 0, y, np.nan)
        ax.plot(columns[x], y, marker="o", markersize=3, label=key)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=8)
    if title is not None:
        ax.set_title(title)
    return ax
