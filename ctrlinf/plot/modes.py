r"""Exact inference against soft (variational) values: the optimism problem.

Exact mode backs up ``Q_t = r + α log E_{s'}[exp(V_{t+1}(s')/α)]``, which is at
least the soft backup ``r + E_{s'}[V_{t+1}(s')]`` (Jensen): inference assumes
it may also choose how the dynamics turn out (CS285, "The optimism problem").
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks
from ctrlinf.inference import solve
from ctrlinf.plot._common import (add_colorbar, at_time, color_limits, draw_states,
                                  make_norm, new_axes, new_figure, panel_size, state_values,
                                  visible_states)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

    from ctrlinf._typing import Mode
    from ctrlinf.inference import Solution
    from ctrlinf.mdp import TabularMDP


def compare_modes(mdp: TabularMDP, sol_exact: Solution, sol_soft: Solution, t: int = 0,
                  fig: Figure | None = None, cmap: str | Colormap = "viridis",
                  diff_cmap: str | Colormap = "RdBu_r") -> Figure:
    r"""``V_t`` of two solutions side by side, and their difference.

    Three panels: ``V_t`` of ``sol_exact``, ``V_t`` of ``sol_soft`` (one
    colour scale for both) and ``V_t^{exact} − V_t^{soft}`` on a diverging
    scale centred at zero. On stochastic dynamics the difference is ``>= 0``
    and largest where luck matters: exact inference is optimistic.

    Parameters
    ----------
    mdp : GridMDP or TabularMDP
    sol_exact, sol_soft : Solution
        Usually ``mode="exact"`` and ``mode="soft"`` at the same temperature;
        the titles name the modes they have.
    t : int, default 0
        Time step (ignored for infinite-horizon solutions).
    fig : matplotlib.figure.Figure, optional
        An empty figure to draw into.
    cmap, diff_cmap : str or matplotlib.colors.Colormap
        Colour maps of the values and of the difference.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _checks.mdp(mdp)
    _checks.solution(sol_exact, "sol_exact")
    _checks.solution(sol_soft, "sol_soft")
    V_exact, V_soft = (state_values(mdp, _values_at(sol, t), f"sol_{name}.V[t]")
                       for sol, name in ((sol_exact, "exact"), (sol_soft, "soft")))
    visible = visible_states(mdp)
    norm = make_norm(color_limits([V_exact, V_soft], visible))
    diff = V_exact - V_soft
    diff_norm = make_norm(color_limits([diff], visible, symmetric=True))
    width, height = panel_size(mdp, width=3.2)
    fig = new_figure(fig, figsize=(3 * width + 2.0, height + 0.8))
    axes = fig.subplots(1, 3, squeeze=False)[0]
    stationary = np.ndim(sol_exact.V) == 1
    when = "" if stationary else f"_{{{t}}}"
    for ax, V, sol in ((axes[0], V_exact, sol_exact), (axes[1], V_soft, sol_soft)):
        mappable = draw_states(ax, mdp, V, norm, cmap)
        ax.set_title(f"$V{when}(s)$, mode={sol.mode!r}")
    add_colorbar(fig, mappable, list(axes[:2]), f"$V{when}(s)$ (reward units)")
    add_colorbar(fig, draw_states(axes[2], mdp, diff, diff_norm, diff_cmap), axes[2],
                 f"$V{when}$ {sol_exact.mode} − $V{when}$ {sol_soft.mode}")
    axes[2].set_title(f"{sol_exact.mode} − {sol_soft.mode}")
    at = "" if stationary else f" at t = {t}"
    fig.suptitle(f"{sol_exact.mode} vs {sol_soft.mode} values{at} "
                 f"(temperature {sol_exact.temperature:g} and {sol_soft.temperature:g}); "
                 f"largest difference {np.nanmax(np.abs(diff[visible])):.3g}")
    return fig


def _values_at(sol, t):
    V = np.asarray(sol.V)
    return V if V.ndim == 1 else at_time(V, t, "sol.V")


def values_vs_temperature(mdp: TabularMDP, temperatures: Sequence[float],
                          modes: Sequence[Mode] = ("exact", "soft", "hard"), t: int = 0,
                          ax: Axes | None = None, state: int | None = None) -> Axes:
    r"""Value at the start against the temperature, one line per mode.

    Plots ``Σ_s p0(s) V_t(s)`` (or ``V_t(state)``) of ``ci.solve(mdp, mode, α)``
    for each α. As ``α → 0`` the soft value approaches the hard (classic) one,
    while the exact value approaches the optimistic recursion ``V_t(s) = max_a [r +
    max_{s': P(s'|s,a) > 0} V_{t+1}(s')]``, which equals the hard value only for
    deterministic dynamics; exact stays above soft at every α.

    Parameters
    ----------
    mdp : TabularMDP
        ``mode="exact"`` needs ``gamma = 1``.
    temperatures : sequence of float
        Positive; drawn on a log axis.
    modes : sequence of str, default ("exact", "soft", "hard")
    t : int, default 0
    ax : matplotlib.axes.Axes, optional
    state : int, optional
        One state instead of the ``p0`` average.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _checks.mdp(mdp)
    temperatures = _checks.real_array(temperatures, "temperatures")
    if temperatures.ndim != 1 or temperatures.size == 0:
        raise ValueError(f"temperatures must be a non-empty 1-d sequence of positive numbers, "
                         f"got {temperatures!r}")
    for i, temperature in enumerate(temperatures):
        _checks.temperature(float(temperature), f"temperatures[{i}]")
    modes = [_checks.choice(mode, f"modes[{i}]", ("exact", "soft", "hard"))
             for i, mode in enumerate(modes)]
    if state is not None:
        state = _checks.integer(state, "state", low=0, high=mdp.n_states - 1)
    weights = np.asarray(mdp.p0, dtype=float)
    if state is not None:
        weights = np.eye(mdp.n_states)[state]
    fig, ax = new_axes(ax, figsize=(5.0, 3.5))
    for mode in modes:
        values = [weights @ _values_at(solve(mdp, mode=mode, temperature=a, keep="V"), t)
                  for a in temperatures]
        ax.plot(temperatures, values, "o-", markersize=3, label=mode)
    ax.set_xscale("log")
    ax.set_xlabel("temperature")
    ax.set_ylabel(f"$V_{{{t}}}$ at state {state}" if state is not None
                  else f"$\\sum_s p_0(s) V_{{{t}}}(s)$")
    ax.legend()
    return ax
