"""Pictures of control as inference on small MDPs (matplotlib).

Grid MDPs (with ``shape = (rows, cols)``, e.g. ``ci.envs.gridworld``) are drawn
as cells with walls dark grey and the start, goal and pit cells lettered S, G
and X; other MDPs as bars over states.

Every function takes an optional ``ax`` (or ``fig`` for multi-panel figures),
never shows a window (no ``pyplot.show``) and never changes global settings. Single-panel
functions return their ``Axes`` (``ax.figure`` is the figure); functions that
may draw several panels return the ``Figure``; :func:`animate_marginals`
returns the path of the GIF it wrote.
"""
from ctrlinf.plot.animation import animate_marginals
from ctrlinf.plot.arrows import policy
from ctrlinf.plot.arrows import policy_arrows
from ctrlinf.plot.errors import error_curves
from ctrlinf.plot.errors import error_map
from ctrlinf.plot.heatmaps import heatmap
from ctrlinf.plot.heatmaps import state_bars
from ctrlinf.plot.messages import message_intersection
from ctrlinf.plot.modes import compare_modes
from ctrlinf.plot.modes import values_vs_temperature
from ctrlinf.plot.paths import trajectories
from ctrlinf.plot.progress import curves

__all__ = [
    "animate_marginals",
    "compare_modes",
    "curves",
    "error_curves",
    "error_map",
    "heatmap",
    "message_intersection",
    "policy",
    "policy_arrows",
    "state_bars",
    "trajectories",
    "values_vs_temperature",
]
