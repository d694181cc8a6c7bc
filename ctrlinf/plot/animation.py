"""State marginals over time as a GIF."""
from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
from matplotlib.animation import PillowWriter

from ctrlinf import _checks
from ctrlinf.plot._common import (add_colorbar, color_limits, draw_states, grid_shape,
                                  make_norm, panel_size, time_values, visible_states)

if TYPE_CHECKING:
    from matplotlib.colors import Colormap

    from ctrlinf._typing import ArrayLike, PathLike
    from ctrlinf.mdp import TabularMDP


def animate_marginals(mdp: TabularMDP, marginal_states: ArrayLike, path: PathLike, fps: float = 4,
                      log: bool = False, cmap: str | Colormap = "viridis", title: str = "$p(s_t)$",
                      dpi: int = 100) -> pathlib.Path:
    """Write a GIF with one frame per time step of the state marginals.

    All frames share one colour scale (the range over every ``t``), so mass
    visibly moves instead of each frame being rescaled.

    Parameters
    ----------
    mdp : GridMDP or TabularMDP
    marginal_states : array_like, shape (T, S)
        E.g. ``ci.marginals(mdp, sol)[0]`` or ``ci.forward(mdp, sol)``.
    path : str or os.PathLike
        Output file; must end in ``.gif``.
    fps : float, default 4
        Frames per second.
    log : bool, default False
        Logarithmic colour scale.
    cmap : str or matplotlib.colors.Colormap, default "viridis"
    title : str, default "$p(s_t)$"
        Each frame's title is ``f"{title} at t = {t}"``.
    dpi : int, default 100

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    _checks.mdp(mdp)
    marginal_states = time_values(mdp, marginal_states, "marginal_states")
    path = pathlib.Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"path is {str(path)!r}, expected a file name ending in .gif")
    norm = make_norm(color_limits(marginal_states, visible_states(mdp), log), log)
    width, height = panel_size(mdp, width=4.5)
    fig, ax = plt.subplots(figsize=(width + 1.0, height + 0.4), layout="constrained")
    try:
        if grid_shape(mdp) is not None:
            add_colorbar(fig, draw_states(ax, mdp, marginal_states[0], norm, cmap), ax,
                         f"{title} ({'log' if log else 'linear'} scale)")
        writer = PillowWriter(fps=fps)
        with writer.saving(fig, path, dpi):
            for t, values in enumerate(marginal_states):
                ax.clear()
                draw_states(ax, mdp, values, norm, cmap)
                ax.set_title(f"{title} at t = {t}")
                writer.grab_frame()
    finally:
        plt.close(fig)
    return path
