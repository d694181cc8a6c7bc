r"""How far an estimate is from the exact truth: the oracle's reports and their definitions.

:class:`~ctrlinf.bridge.Oracle` holds the exact quantities (``Q*``, ``V*``, policy values,
occupancies, all from the core); the functions here turn them into scores, one reading
per function, each written as its definition:

- :func:`estimate_error`: ``|Q̂ − Q|`` (or ``|V̂ − V|``) on the compared states,
  its maximum and its weighted mean (:class:`QReport`).
- :func:`return_scores`: the return-only reading of a policy, at every temperature:
  return gap, advantage loss, fraction of optimal actions, worst state.
- :func:`soft_scores`: the MaxEnt reading at ``α > 0``: soft value gap and ``KL(π ‖ π*)``;
  :func:`hard_value_scores` the same fields at ``α = 0``, where the value is the return.

Two exact facts the policy scores rest on, for any policy ``π``. The soft value gap is a
discounted KL (Levine 2018, eq. 15 ff.; ``Q* − α log π* = V*`` for every action):

.. math::

    V^*_0(s) - V^\pi_0(s) = \alpha\, \mathbb{E}_\pi\Big[\textstyle\sum_t \gamma^t\,
                 \mathrm{KL}\big(\pi_t(\cdot|s_t) \,\|\, \pi^*_t(\cdot|s_t)\big)\Big] \ge 0,

and the return gap is a discounted advantage loss (the performance-difference lemma,
Kakade & Langford 2002, with the hard ``Q*``, ``V*``):

.. math::

    V^*_0(s) - V^\pi_0(s) = \mathbb{E}_\pi\Big[\textstyle\sum_t \gamma^t\,
                 \big(V^*_t(s_t) - \textstyle\sum_a \pi_t(a|s_t) Q^*_t(s_t, a)\big)\Big] \ge 0.

At small ``α`` the KL explodes for a policy that is nearly greedy but not exactly
``π*`` (``π*`` puts ``e^{−ΔQ/α}`` on worse actions, and ties are shared), while the
advantage loss stays the return that the policy gives up: read ``advantage_loss`` and
``return_gap`` for deterministic agents.

Averages over visits
--------------------
Per-state quantities ``x_t(s)`` are averaged over the policy's occupancy ``d_t`` with
time weights ``w_t = γ^t / Σ_k γ^k`` (:class:`VisitAverage`), so the weights sum to one;
for an infinite horizon ``d`` is already the normalised discounted occupancy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Row labels of the printed reports are padded to this width.
_LABEL_WIDTH = 18


def _row(label, text):
    return f"  {label:<{_LABEL_WIDTH}}{text}"


def _cell_text(cell):
    return "" if cell is None else f", cell {tuple(cell)}"


@dataclass(frozen=True)
class QReport:
    """How far a Q (or V) estimate is from the oracle's.

    Attributes
    ----------
    max_abs_error : float
        ``max |Q̂ − Q|`` over the compared states (see ``states``), every time step and
        every allowed action (``Q = −inf`` marks a forbidden action; it is skipped).
    weighted_abs_error : float
        ``Σ w |Q̂ − Q| / Σ w`` with ``w`` a state-action occupancy (default: the
        optimal policy's, or that of the evaluated policy) or the weights given.
    worst : tuple of int
        Index of the largest error: ``(s, a)`` or ``(t, s, a)`` (``(s,)`` or ``(t, s)``
        for values).
    worst_state : int
        The state of ``worst``.
    states : str
        ``"reachable"`` (decision states only) or ``"all"``.
    n_states : int
        How many states were compared (at any time step).
    state_error : ndarray, shape (S,)
        ``max_{t, a} |Q̂ − Q|`` per state, NaN for states not compared (for
        :func:`ctrlinf.plot.error_map`).
    quantity : {"Q", "V"}
        What was compared: state-action values or state values.
    worst_cell : tuple of int or None
        ``(row, col)`` of ``worst_state`` on a grid (an MDP with ``coords``, such as
        :class:`ctrlinf.envs.GridMDP`), else None.

    ``print(report)`` shows a short table; ``repr`` lists the fields.
    """

    max_abs_error: float
    weighted_abs_error: float
    worst: tuple
    worst_state: int
    states: str
    n_states: int
    state_error: np.ndarray = field(repr=False, compare=False)
    quantity: str = "Q"
    worst_cell: tuple | None = None

    def __str__(self):
        time = len(self.worst) == (3 if self.quantity == "Q" else 2)
        axes = ("t, " if time else "") + ("s, a" if self.quantity == "Q" else "s")
        at = f"({axes}) = {self.worst}" if len(self.worst) > 1 else f"s = {self.worst[0]}"
        where = "decision states" if self.states == "reachable" else "states"
        return "\n".join([
            f"{self.quantity} error on {self.n_states} {where}",
            _row("max |error|", f"{self.max_abs_error:.4g} at {at}{_cell_text(self.worst_cell)}"),
            _row("weighted |error|", f"{self.weighted_abs_error:.4g}"),
        ])


@dataclass(frozen=True)
class PolicyReport:
    r"""How good a policy is: the soft reading (at α > 0) and the return-only reading.

    Time weights: ``w_t = γ^t / Σ_k γ^k`` over the occupancy ``d_t`` of the policy
    (infinite horizon: the normalised discounted occupancy), so ``Σ_t w_t Σ_s d_t = 1``.

    Attributes
    ----------
    value_gap : float
        ``Σ_s p0(s) (V*_0(s) − V^π_0(s)) ≥ 0`` in reward units, with the entropy
        term at α > 0 (equals ``α · (Σ_t γ^t) · kl``); the return gap at α = 0.
    kl : float or None
        ``Σ_t w_t Σ_s d_t(s) KL(π_t(·|s) ‖ π*_t(·|s))``; None at temperature 0, where
        ``π*`` is greedy and the KL of any other policy is infinite.
    relative_value_gap : float
        ``value_gap / |Σ p0 V*_0|`` (NaN when the optimal value is 0).
    normalised_value_gap : float
        ``value_gap / (Σ p0 V*_0 − Σ p0 V^uniform_0)``: 0 for π*, 1 for the uniform
        policy (over allowed actions); unchanged when a constant is added to r.
    value, optimal_value, uniform_value : float
        ``Σ p0 V_0`` of π, π* and the uniform policy (soft at α > 0).
    return_value : float
        ``Σ p0 V^π_0`` without entropy: the expected discounted return of π.
    optimal_return : float
        The largest expected discounted return, ``Σ p0 V*_0`` of the hard solution
        (at α > 0 more than the soft-optimal policy's return).
    return_gap : float
        ``optimal_return − return_value ≥ 0``; equals ``(Σ_t γ^t) · advantage_loss``.
    uniform_return : float
        The expected discounted return of the uniform policy (over allowed actions).
    normalised_return_gap : float
        ``return_gap / (optimal_return − uniform_return)``: 0 for an optimal policy,
        1 for the uniform one (NaN if they are equal).
    advantage_loss : float
        ``Σ_t w_t Σ_s d_t(s) (V*_t(s) − Σ_a π_t(a|s) Q*_t(s, a))`` with the hard ``Q*``,
        ``V*``: the return given up per step, on the states π visits.
    optimal_action_fraction : float
        ``Σ_t w_t Σ_s d_t(s) Σ_{a optimal} π_t(a|s)``: the probability that π takes an
        optimal action (hard ``Q*`` within the tie tolerance of ``V*``) on the states it
        visits; for a deterministic π the weighted fraction of visited states where it
        acts optimally.
    mean_entropy : float
        ``Σ_t w_t Σ_s d_t(s) H(π_t(·|s))`` in nats (``log A`` for the uniform policy).
    worst_state : int or tuple of int or None
        The state (``(t, s)`` for a finite horizon) that contributes most to
        ``advantage_loss``; None when π is optimal on every state it visits.
    worst_state_regret : float
        ``V*(s) − Σ_a π(a|s) Q*(s, a)`` at ``worst_state`` (0 if None).
    state_regret : ndarray, shape (S,)
        Per state, the occupancy-weighted mean over time of that regret; NaN for
        states π never visits (for :func:`ctrlinf.plot.error_map`).
    worst_cell : tuple of int or None
        ``(row, col)`` of the worst state on a grid (an MDP with ``coords``, such as
        :class:`ctrlinf.envs.GridMDP`), else None.

    ``print(report)`` shows a short table; ``repr`` lists the fields.
    """

    kl: float | None
    value_gap: float
    relative_value_gap: float
    normalised_value_gap: float
    value: float
    optimal_value: float
    uniform_value: float
    return_value: float
    optimal_return: float
    return_gap: float
    uniform_return: float
    normalised_return_gap: float
    advantage_loss: float
    optimal_action_fraction: float
    mean_entropy: float
    worst_state: object
    worst_state_regret: float
    state_regret: np.ndarray = field(repr=False, compare=False)
    worst_cell: tuple | None = None

    def __str__(self):
        soft = self.kl is not None
        lines = [
            "policy report (" + ("soft, temperature > 0" if soft else
                                 "temperature 0: returns, no entropy") + ")",
            _row("return", f"{self.return_value:.4g} of optimal {self.optimal_return:.4g} "
                 f"(uniform policy {self.uniform_return:.4g})"),
            _row("return gap", f"{self.return_gap:.4g}, normalised "
                 f"{self.normalised_return_gap:.4g} (0 optimal, 1 uniform)"),
        ]
        if soft:
            lines += [
                _row("soft value", f"{self.value:.4g} of optimal {self.optimal_value:.4g} "
                     f"(uniform policy {self.uniform_value:.4g})"),
                _row("soft value gap", f"{self.value_gap:.4g}, normalised "
                     f"{self.normalised_value_gap:.4g}; KL(π ‖ π*) {self.kl:.4g} per step"),
            ]
        lines += [
            _row("advantage loss", f"{self.advantage_loss:.4g} per step"),
            _row("optimal actions", f"{100 * self.optimal_action_fraction:.1f} % of visits"),
            _row("mean entropy", f"{self.mean_entropy:.3g} nats"),
            _row("worst state", "none: optimal on every visited state"
                 if self.worst_state is None else
                 f"{self.worst_state}{_cell_text(self.worst_cell)}, regret "
                 f"{self.worst_state_regret:.4g}"),
        ]
        return "\n".join(lines)


def grid_cell(mdp, state):
    """``mdp.coords(state)`` as a tuple of ints on a grid MDP, else None.

    None too for a state that is no cell (the extra end state of a grid made by
    ``ci.envs.from_gymnasium``, which ``coords`` refuses).
    """
    coords = getattr(mdp, "coords", None)
    if state is None or not callable(coords):
        return None
    try:
        return tuple(int(i) for i in coords(int(state)))
    except ValueError:
        return None


# -- estimates -------------------------------------------------------------------------
def estimate_error(estimate, target, compared, weights, quantity, states, mdp):
    r"""``|estimate − target|`` on the compared entries, as a :class:`QReport`.

    Parameters
    ----------
    estimate, target : ndarray, same shape
        ``(T, S, A)``, ``(S, A)``, ``(T, S)`` or ``(S,)``; the state axis is the one
        before the action axis (``quantity="Q"``) or the last (``"V"``).
    compared : ndarray of bool, shape of target
        Entries that count (decision states, allowed actions); every entry where
        ``compared`` is True must be finite in both arrays.
    weights : ndarray, shape of target
        Non-negative, with a positive sum over the compared entries.
    quantity : {"Q", "V"}
    states : {"reachable", "all"}
        Which states ``compared`` holds, for the report.
    mdp : TabularMDP
        For the grid cell of the worst state.
    """
    state_axis = target.ndim - (2 if quantity == "Q" else 1)
    error = np.abs(np.where(compared, estimate, 0.0) - np.where(compared, target, 0.0))
    worst = tuple(int(i) for i in np.unravel_index(
        np.argmax(np.where(compared, error, -1.0)), error.shape))
    # Per state: the largest error over time steps and actions, NaN where none is compared.
    by_state = np.moveaxis(error, state_axis, 0).reshape(error.shape[state_axis], -1)
    compared_states = np.moveaxis(compared, state_axis, 0).reshape(by_state.shape).any(axis=1)
    state_error = np.where(compared_states, by_state.max(axis=1), np.nan)
    compared_weights = weights * compared
    return QReport(
        max_abs_error=float(error[compared].max()),
        weighted_abs_error=float((compared_weights * error).sum() / compared_weights.sum()),
        worst=worst, worst_state=worst[state_axis], states=states,
        n_states=int(compared_states.sum()), state_error=state_error, quantity=quantity,
        worst_cell=grid_cell(mdp, worst[state_axis]))


# -- policies --------------------------------------------------------------------------
class VisitAverage:
    r"""``x ↦ Σ_t w_t Σ_s d_t(s) x_t(s)``: a per-state quantity averaged over the visits.

    Parameters
    ----------
    occupancy : ndarray, shape (T, S) or (S,)
        ``d_t`` from :func:`ctrlinf.occupancy` (for ``horizon=None`` the normalised
        discounted occupancy, whose weights already sum to one).
    gamma : float
    """

    def __init__(self, occupancy, gamma):
        self.occupancy = occupancy
        self.finite = occupancy.ndim == 2
        discounts = gamma ** np.arange(occupancy.shape[0]) if self.finite else None
        #: ``Σ_t γ^t`` (``1/(1 − γ)`` for an infinite horizon): value gap per unit of average.
        self.total = float(discounts.sum()) if self.finite else 1.0 / (1.0 - gamma)
        #: ``w_t d_t(s)``: the weight of each visit, shape of ``occupancy``.
        self.visit_weights = occupancy * (discounts / self.total)[:, None] if self.finite \
            else occupancy

    def __call__(self, per_state):
        return float((self.visit_weights * per_state).sum())


def entropy(pi):
    """``H(π_t(·|s)) = −Σ_a π log π`` in nats, shape of ``pi`` without the action axis."""
    taken = pi > 0
    return -(pi * np.log(np.where(taken, pi, 1.0))).sum(axis=-1)


def gap_scores(value, optimal, uniform, tol):
    """``(optimal − value, relative gap, normalised gap)``; NaN where undefined.

    A gap within ``tol · max(1, |optimal|)`` of 0 is round-off (the two values come from
    different computations) and is reported as 0, so that an optimal policy never reads
    as better than optimal.
    """
    gap = optimal - value
    if abs(gap) <= tol * max(1.0, abs(optimal)):
        gap = 0.0
    spread = optimal - uniform
    return (gap, gap / abs(optimal) if optimal != 0 else float("nan"),
            gap / spread if spread > 0 else float("nan"))


def return_scores(pi, average, hard_Q, hard_V, optimal_actions, returns, tie_tol, mdp):
    r"""The return-only reading of ``pi``, a dict of :class:`PolicyReport` fields.

    Parameters
    ----------
    pi : ndarray, shape of ``hard_Q``
    average : VisitAverage
        Over ``pi``'s occupancy.
    hard_Q, hard_V : ndarray
        The hard ``Q*``, ``V*`` (time-indexed for a finite horizon).
    optimal_actions : ndarray of bool, shape of ``hard_Q``
    returns : tuple of float
        ``Σ p0 V_0`` without entropy of ``pi``, of the optimum and of the uniform policy.
    tie_tol : float
        A regret below ``tie_tol · max(1, |V*|)`` is round-off, not regret.
    mdp : TabularMDP
        For the grid cell of the worst state.
    """
    return_value, optimal_return, uniform_return = returns
    return_gap, _, normalised_return_gap = gap_scores(return_value, optimal_return,
                                                      uniform_return, tie_tol)
    # regret_t(s) = V*_t(s) − Σ_a π_t(a|s) Q*_t(s, a); 0·(−inf) = 0 where π never acts.
    taken = pi > 0
    regret = hard_V - (pi * np.where(taken, hard_Q, 0.0)).sum(axis=-1)
    regret = np.where(regret > tie_tol * np.maximum(1.0, np.abs(hard_V)), regret, 0.0)
    contribution = average.visit_weights * regret
    best = np.unravel_index(np.argmax(contribution), contribution.shape)
    worst_state = None
    if contribution[best] > 0:
        worst_state = tuple(int(i) for i in best) if average.finite else int(best[0])
    visits = average.visit_weights.sum(axis=0) if average.finite else average.visit_weights
    with np.errstate(invalid="ignore", divide="ignore"):
        per_state = contribution.sum(axis=0) / visits if average.finite else regret
    return dict(
        return_value=return_value, optimal_return=optimal_return,
        uniform_return=uniform_return, return_gap=return_gap,
        normalised_return_gap=normalised_return_gap,
        advantage_loss=average(regret),
        optimal_action_fraction=average((pi * optimal_actions).sum(axis=-1)),
        worst_state=worst_state,
        worst_state_regret=float(regret[best]) if worst_state is not None else 0.0,
        state_regret=np.where(visits > 0, per_state, np.nan),
        worst_cell=grid_cell(mdp, None if worst_state is None else best[-1]),
    )


def soft_scores(pi, average, log_optimal_policy, values, tie_tol):
    r"""The MaxEnt reading of ``pi`` at ``α > 0``, a dict of :class:`PolicyReport` fields.

    Parameters
    ----------
    pi : ndarray
    average : VisitAverage
    log_optimal_policy : ndarray, shape of ``pi``
        ``log π* = (Q* − V*)/α`` (``−inf`` on forbidden actions).
    values : tuple of float
        Soft ``Σ p0 V_0`` of ``pi``, of the optimum and of the uniform policy.
    tie_tol : float
        A value gap below ``tie_tol · max(1, |V*|)`` is round-off (:func:`gap_scores`).
    """
    value, optimal, uniform = values
    gap, relative, normalised = gap_scores(value, optimal, uniform, tie_tol)
    taken = pi > 0
    log_pi = np.log(np.where(taken, pi, 1.0))
    kl = np.where(taken, pi * (log_pi - np.where(taken, log_optimal_policy, 0.0)), 0.0)
    return dict(kl=average(kl.sum(axis=-1)), value_gap=gap, relative_value_gap=relative,
                normalised_value_gap=normalised, value=value, optimal_value=optimal,
                uniform_value=uniform)


def hard_value_scores(returns, tie_tol):
    """The value fields at ``α = 0``: the value is the return and there is no KL."""
    value, optimal, uniform = returns
    gap, relative, normalised = gap_scores(value, optimal, uniform, tie_tol)
    return dict(kl=None, value_gap=gap, relative_value_gap=relative,
                normalised_value_gap=normalised, value=value, optimal_value=optimal,
                uniform_value=uniform)
