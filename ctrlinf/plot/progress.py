"""Learning-progress curves (e.g. the history of ``ci.irl.fit``)."""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from ctrlinf.plot._common import new_figure

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ctrlinf._typing import History


def history_columns(history):
    """``{key: float array}`` of the scalar entries of a history.

    ``history`` is a dict of lists, a list of dicts (a missing entry becomes
    NaN), or an object with a ``history`` attribute holding either.
    Entries that are not real scalars (e.g. parameter vectors) are left out.
    """
    history = getattr(history, "history", history)
    if not isinstance(history, (dict, list, tuple)):
        raise TypeError("history must be a dict of lists or a list of dicts, got "
                        f"{type(history).__name__}")
    if isinstance(history, dict):
        columns = {key: list(column) for key, column in history.items()}
    else:
        rows = list(history)
        if not all(isinstance(row, dict) for row in rows):
            raise TypeError("history must be a dict of lists or a list of dicts")
        keys = list(dict.fromkeys(key for row in rows for key in row))
        columns = {key: [row.get(key, np.nan) for row in rows] for key in keys}
    return {key: np.asarray(column, dtype=float) for key, column in columns.items()
            if column and all(isinstance(v, numbers.Real) for v in column)}


def curves(history: History, keys: Sequence[str] | None = None,
           ax: Axes | Sequence[Axes] | None = None, logy: bool | Collection[str] = False,
           title: str | None = None, xlabel: str = "iteration") -> Figure:
    """Plot learning-progress curves, one panel per key.

    Parameters
    ----------
    history : dict of lists, list of dicts, or object with ``.history``
        E.g. ``res.history`` of ``ci.irl.fit`` with ``'objective'`` and ``'grad_norm'``.
    keys : sequence of str, optional
        What to draw; by default every key whose entries are real numbers.
    ax : matplotlib.axes.Axes or sequence of Axes, optional
        One Axes draws every key on it (with a legend); a sequence gives one
        Axes per key; by default a new figure with one panel per key.
    logy : bool or collection of str, default False
        Logarithmic y axis for every key (True) or for the keys named.
    title : str, optional
        Figure title.
    xlabel : str, default "iteration"

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If a key is missing, the history is empty, or a log axis gets values <= 0.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> fig = ci.plot.curves({"objective": [-3.0, -2.0, -1.8], "grad_norm": [1.0, 0.3, 0.1]},
    ...                      logy=["grad_norm"])
    >>> len(fig.axes)
    2
    """
    columns = history_columns(history)
    keys = list(columns) if keys is None else [keys] if isinstance(keys, str) else list(keys)
    if not keys:
        raise ValueError("history has no numeric entries to plot")
    for key in keys:
        if key not in columns:
            raise ValueError(f"history has no numeric key {key!r}; it has {sorted(columns)}")
    log_keys = set(keys) if logy is True else set() if logy is False else set(logy)
    for key in log_keys & set(keys):
        if np.nanmin(columns[key]) <= 0:
            raise ValueError(f"logy needs positive values, but {key!r} has minimum "
                             f"{np.nanmin(columns[key]):g}")
    if ax is None:
        fig = new_figure(None, figsize=(3.6 * len(keys), 3.0))
        axes = list(fig.subplots(1, len(keys), squeeze=False)[0])
    else:
        axes = [ax] * len(keys) if hasattr(ax, "plot") else list(ax)
        if len(axes) != len(keys):
            raise ValueError(f"ax holds {len(axes)} Axes for {len(keys)} keys {keys}")
        fig = axes[0].figure
    for i, (key, axis) in enumerate(zip(keys, axes)):
        axis.plot(np.arange(len(columns[key])), columns[key], color=f"C{i % 10}", label=key)
        if key in log_keys:
            axis.set_yscale("log")
        axis.set_xlabel(xlabel)
        if len(set(map(id, axes))) == len(axes):
            axis.set_ylabel(key)
    if len(set(map(id, axes))) < len(axes):
        axes[0].legend()
    if title is not None:
        fig.suptitle(title)
    return fig
