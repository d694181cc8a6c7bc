r"""The forward/backward message intersection (CS285 "Control as inference";
Li & Todorov 2006): the states the agent can reach from the start (forward
messages α_t) intersected with the states from which it can still reach high
reward (backward messages β_t) give the posterior
``p(s_t | O_{0:T-1}) ∝ α_t(s) β_t(s)``.

Every row is the core's own quantity: ``ci.forward`` (α_t), the solution's values
``V_t = temperature · log β_t`` scaled as ``Solution.backward_messages`` scales them
(β_t), and ``ci.marginals`` (the posterior); the picture computes none of them again.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from ctrlinf import _checks
from ctrlinf.inference import forward
from ctrlinf.inference import marginals
from ctrlinf.plot._common import (add_colorbar, check_scale, check_times, color_limits,
                                  draw_states, make_norm, new_figure, panel_size, visible_states)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.figure import Figure

    from ctrlinf.inference import Solution
    from ctrlinf.mdp import TabularMDP

#: Row labels of :func:`message_intersection`, top to bottom.
ROW_LABELS = (
    "forward $\\alpha_t$:\nreachable from start,\noptimal so far",
    "backward $\\beta_t$:\ncan reach the goal",
    "posterior\n$p(s_t \\mid O)$",
)
#: One colour map per row: blue (forward) and red (backward) make purple (their product).
ROW_CMAPS = ("Blues", "Oranges", "Purples")
#: How the backward row can be drawn: its logarithm (V_t / temperature) or β_t itself.
BETA_SCALES = ("log", "linear")


def message_rows(mdp, sol, beta_scale="log"):
    r"""The three quantities of the picture, each ``(T, S)``, from the core.

    .. math::

        \alpha_t(s),\qquad
        \log\tilde\beta_t(s) = \log\beta_t(s) - \max_{s'}\log\beta_t(s')
            = \frac{V_t(s) - \max_{s'} V_t(s')}{\text{temperature}},\qquad
        p(s_t = s \mid O) \propto \alpha_t(s)\,\beta_t(s)

    ``α_t`` is :func:`ctrlinf.forward`, the posterior :func:`ctrlinf.marginals`
    (computed in log space there, so it stays right at any temperature), and
    ``β̃_t = β_t / c_t`` the scaled message of :meth:`Solution.backward_messages`
    (largest entry 1 at each ``t``). ``beta_scale="log"`` returns ``log β̃_t``, in
    nats: ``0`` where reaching reward is likeliest, ``−k`` where it is ``e^k`` times
    less likely; ``"linear"`` returns ``β̃_t`` itself, which underflows to 0 once
    ``V_t`` falls more than about 745 temperatures below its maximum. For soft and
    hard solutions the first and last rows are both the policy's occupancy (what
    ``ci.forward`` and ``ci.marginals`` return there) and the middle row is
    ``V_t / temperature`` of that mode.

    Returns
    -------
    alpha, beta, posterior : ndarray, shape (T, S)
    """
    if np.ndim(sol.V) != 2:
        raise ValueError(
            f"message_intersection needs a finite-horizon solution with V of shape (T, S); "
            f"got V of shape {np.shape(sol.V)} (horizon=None)"
        )
    _checks.choice(beta_scale, "beta_scale", BETA_SCALES)
    alpha = forward(mdp, sol)
    if beta_scale == "linear":
        beta = sol.backward_messages()[1]
    else:
        # log(β_t / c_t) with the scale c_t of backward_messages, without the exp/log
        # round trip that would turn a message below e^-745 into -inf.
        log_scale = sol.backward_messages()[2]
        beta = sol.V / sol.temperature - log_scale[:, None]
    posterior = marginals(mdp, sol)[0]
    return alpha, beta, posterior


def message_intersection(mdp: TabularMDP, sol: Solution, times: int | Sequence[int] | None = None,
                         fig: Figure | None = None,
                         scale: Literal["sqrt", "linear", "log"] = "sqrt",
                         beta_scale: Literal["log", "linear"] = "log") -> Figure:
    r"""Forward messages, backward messages and their product at a few time steps.

    Three rows of panels, one column per time step: forward messages
    ``α_t(s) = p(s_t | O_{0:t-1})`` ("reachable from start, optimal so far"), backward messages
    ``β_t(s) = exp(V_t(s)/temperature)`` scaled to a maximum of one per step ("can
    reach the goal"), and the posterior ``p(s_t | O_{0:T-1}) ∝ α_t β_t``. Each row
    has one colour scale and a colour bar that names the quantity and the scale.
    This is the picture of the CS285 lecture "Control as inference" (Li & Todorov
    2006); it is meant for ``mode="exact"``. For soft and hard solutions the first
    and last rows are the policy's occupancy and the middle one ``V/temperature`` of
    that mode, which the title says. Every row is the core's quantity
    (:func:`message_rows`).

    Parameters
    ----------
    mdp : TabularMDP or GridMDP
        Finite horizon.
    sol : Solution
        ``ci.solve(mdp, mode="exact")``.
    times : int or sequence of int, optional
        Time steps ``0 <= t < T``; by default up to five spread over ``0 .. T-1``.
    fig : matplotlib.figure.Figure, optional
        An empty figure to draw into.
    scale : {"sqrt", "linear", "log"}, default "sqrt"
        Colour scale of the forward and posterior rows (probabilities). The square
        root keeps the spread-out probabilities of later time steps visible next to
        the point mass of ``α_0``; the colour bars show the true values.
    beta_scale : {"log", "linear"}, default "log"
        The backward row: ``"log"`` draws ``log β_t − max_s log β_t = (V_t − max_s
        V_t)/temperature`` on a linear colour scale from the row's smallest value to 0,
        so states away from the goal are shaded by how many nats they lie below the
        best one (only the least promising fade to white); ``"linear"`` draws
        ``β_t / max_s β_t`` with ``scale``, where ``β_t`` (a probability of optimality that shrinks
        exponentially with the distance to reward) is near 0 everywhere but at the goal.

    Returns
    -------
    matplotlib.figure.Figure
        Axes ``fig.axes[:3 * len(times)]`` are the panels, row by row; then one
        colour bar per row.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> grid = ci.envs.gridworld_from_map(["S..#", ".#.G"], slip=0.1, horizon=6)
    >>> fig = ci.plot.message_intersection(grid, ci.solve(grid, mode="exact"), times=[0, 3, 5])
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['t = 0', 't = 3', 't = 5']
    """
    _checks.mdp(mdp)
    _checks.solution(sol)
    check_scale(scale)
    rows = message_rows(mdp, sol, beta_scale)
    times = check_times(times, rows[0].shape[0])
    width, height = panel_size(mdp, width=2.4)
    fig = new_figure(fig, figsize=(width * len(times) + 3.2, 3 * (height + 0.3) + 0.5))
    axes = fig.subplots(3, len(times), squeeze=False)
    visible = visible_states(mdp)
    log = scale == "log"
    for i, (quantity, label, cmap) in enumerate(zip(rows, ROW_LABELS, ROW_CMAPS)):
        if i == 1 and beta_scale == "log":       # log β̃ <= 0: its own range, up to 0
            row_scale = "linear"
            limits = color_limits([quantity[t] for t in times], visible, vmax=0.0)
        else:
            row_scale = scale
            limits = color_limits([quantity[t] for t in times], visible, log,
                                  None if log else 0.0)
        norm = make_norm(limits, row_scale)
        for j, t in enumerate(times):
            mappable = draw_states(axes[i, j], mdp, quantity[t], norm, cmap,
                                   tick_labels=(i == 2, j == 0))
            if i < 2:
                axes[i, j].set_xlabel("")
        axes[i, 0].set_ylabel(label, rotation=0, ha="right", va="center")
        colorbar = add_colorbar(fig, mappable, axes[i, :],
                                _colorbar_label(i, sol, scale, beta_scale))
        colorbar.ax.yaxis.label.set_fontsize(8)
    for j, t in enumerate(times):
        axes[0, j].set_title(f"t = {t}")
    fig.suptitle(_title(sol))
    return fig


def _colorbar_label(row, sol, scale, beta_scale):
    """What row ``row`` shows, and on which colour scale."""
    if row == 1:
        if beta_scale == "log":
            return ("$\\log\\beta_t - \\max\\,\\log\\beta_t$ (nats)\n"
                    "$= (V_t - \\max\\,V_t)$ / temperature")
        return f"$\\beta_t / \\max\\,\\beta_t$, {scale} scale"
    if sol.mode != "exact":
        return f"occupancy $d_t(s)$, {scale} scale"
    quantity = ("$\\alpha_t(s) = p(s_t \\mid O_{0:t-1})$" if row == 0
                else "$p(s_t \\mid O_{0:T-1})$")
    return f"{quantity}\n{scale} scale"


def _title(sol):
    text = (f"Forward/backward message intersection (mode={sol.mode!r}, "
            f"temperature {sol.temperature:g})")
    if sol.mode != "exact":
        text += ("\nnot exact inference: rows 1 and 3 are the policy's occupancy, "
                 "row 2 is V/temperature of this mode")
    return text
