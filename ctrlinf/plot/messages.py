r"""The forward/backward message intersection (CS285 "Control as inference";
Li & Todorov 2006): the states the agent can reach from the start (forward
messages α_t) intersected with the states from which it can still reach high
reward (backward messages β_t) give the posterior
``p(s_t | O_{0:T-1}) ∝ α_t(s) β_t(s)``.
"""
import numpy as np

from ctrlinf import _checks
from ctrlinf.inference import forward
from ctrlinf.plot._common import (add_colorbar, check_scale, check_times, color_limits,
                                  draw_states, make_norm, new_figure, panel_size, visible_states)

#: Row labels of :func:`message_intersection`, top to bottom.
ROW_LABELS = (
    "forward $\\alpha_t$:\nreachable from start",
    "backward $\\beta_t$:\ncan reach the goal",
    "posterior\n$p(s_t \\mid O)$",
)
#: One colour map per row: blue (forward) and red (backward) make purple (their product).
ROW_CMAPS = ("Blues", "Oranges", "Purples")


def message_rows(mdp, sol):
    r"""The three quantities of the picture, each ``(T, S)``.

    .. math::

        \alpha_t(s),\qquad
        \tilde\beta_t(s) = \exp\big(V_t(s)/α - \max_{s'} V_t(s')/α\big),\qquad
        p(s_t = s \mid O) = \frac{\alpha_t(s)\,\beta_t(s)}{\sum_{s'} \alpha_t(s')\,\beta_t(s')}

    The maximum runs over states outside walls; the product is formed in log
    space so large rewards or small temperatures do not overflow. In exact
    mode the last row equals ``ci.marginals(mdp, sol)[0]``.

    Returns
    -------
    alpha, beta, posterior : ndarray, shape (T, S)
    """
    if np.ndim(sol.V) != 2:
        raise ValueError(
            f"message_intersection needs a finite-horizon solution with V of shape (T, S); "
            f"got V of shape {np.shape(sol.V)} (horizon=None)"
        )
    alpha = forward(mdp, sol)
    log_beta = sol.V / sol.temperature
    visible = visible_states(mdp)
    beta = np.exp(log_beta - log_beta[:, visible].max(axis=1, keepdims=True))
    with np.errstate(divide="ignore"):
        log_post = np.log(alpha) + log_beta
    log_post -= log_post.max(axis=1, keepdims=True)
    posterior = np.exp(log_post)
    posterior /= posterior.sum(axis=1, keepdims=True)
    return alpha, beta, posterior


def message_intersection(mdp, sol, times=None, fig=None, scale="sqrt"):
    r"""Forward messages, backward messages and their product at a few time steps.

    Three rows of panels, one column per time step: forward messages
    ``α_t(s) = p(s_t | O_{0:t-1})`` ("reachable from start"), backward messages
    ``β_t(s) = exp(V_t(s)/α)`` normalised by their maximum ("can reach the
    goal"), and the posterior ``p(s_t | O_{0:T-1}) ∝ α_t β_t``. Each row has
    one colour scale and colour bar. This is the picture of the CS285 lecture
    "Control as inference" (Li & Todorov 2006); it is meant for
    ``mode="exact"``. For soft and hard solutions the first row is the
    policy's occupancy and β is ``exp(V/α)`` of that mode, which the title says.

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
        Colour scale of every row. The square root keeps the spread-out
        probabilities of later time steps visible next to the point mass of
        ``α_0``; the colour bars show the true values.

    Returns
    -------
    matplotlib.figure.Figure
        Axes ``fig.axes[:3 * len(times)]`` are the panels, row by row.

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
    rows = message_rows(mdp, sol)
    times = check_times(times, rows[0].shape[0])
    width, height = panel_size(mdp, width=2.4)
    fig = new_figure(fig, figsize=(width * len(times) + 2.6, 3 * (height + 0.3) + 0.5))
    axes = fig.subplots(3, len(times), squeeze=False)
    visible = visible_states(mdp)
    log = scale == "log"
    for i, (quantity, label, cmap) in enumerate(zip(rows, ROW_LABELS, ROW_CMAPS)):
        limits = color_limits([quantity[t] for t in times], visible, log, None if log else 0.0)
        norm = make_norm(limits, scale)
        for j, t in enumerate(times):
            mappable = draw_states(axes[i, j], mdp, quantity[t], norm, cmap)
            axes[i, j].tick_params(labelleft=j == 0, labelbottom=i == 2)
            if i < 2:
                axes[i, j].set_xlabel("")
        axes[i, 0].set_ylabel(label, rotation=0, ha="right", va="center")
        add_colorbar(fig, mappable, axes[i, :])
    for j, t in enumerate(times):
        axes[0, j].set_title(f"t = {t}")
    fig.suptitle(_title(sol))
    return fig


def _title(sol):
    text = (f"Forward/backward message intersection (mode={sol.mode!r}, "
            f"temperature α={sol.temperature:g})")
    if sol.mode != "exact":
        text += ("\nnot exact inference: row 1 is the policy's occupancy, "
                 "row 2 exp(V/α) of this mode")
    return text
