r"""The exact oracle: soft-optimal Q, V and π of a small MDP, and exact scores of estimates.

The bridge's approximate agents never see ``P`` or ``r``; the oracle does, so it can
say exactly how far an estimate is from the truth (soft backups, ``mode="soft"``, the
variational / MaxEnt-RL solution; Levine 2018, section 4).

Two exact facts the reports rest on, for any policy ``π`` (Levine 2018, eq. 15 ff.):

.. math::

    V^\pi_t(s) = \mathbb{E}_\pi\Big[\textstyle\sum_{k \ge t} \gamma^{k-t}
                 \big(r(s_k, a_k) - \alpha \log \pi_k(a_k|s_k)\big) \,\Big|\, s_t = s\Big],

    V^*_0(s) - V^\pi_0(s) = \alpha\, \mathbb{E}_\pi\Big[\textstyle\sum_t \gamma^t\,
                 \mathrm{KL}\big(\pi_t(\cdot|s_t) \,\|\, \pi^*_t(\cdot|s_t)\big)\Big] \ge 0.

The second holds because ``Q^* − α log π^* = V^*`` for every action, so one step of
``π`` loses exactly ``α KL(π ‖ π*)`` against ``π*``. Hence :meth:`Oracle.compare_policy`
reports ``value_gap = α · (Σ_t γ^t) · kl``, with ``kl`` weighted by ``π``'s own
(discount-normalised) occupancy.

Stationary agents and finite horizons
-------------------------------------
The agents in :mod:`ctrlinf.bridge` learn one stationary, discounted ``Q(s, a)``. Their
fixed point is the soft solution of the *infinite-horizon* MDP with their discount
``γ``, whatever episode length the environment uses, as long as a time-limit truncation
is bootstrapped rather than treated as termination (the agents do that). Compare them
with ``Oracle.stationary(mdp, gamma)``, i.e. ``Oracle(mdp.replace(horizon=None,
gamma=gamma))``; resets to ``p0`` only change which states are sampled most.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import ctrlinf as ci
from ctrlinf import _checks
from ctrlinf.bridge._common import check_temperature
from ctrlinf.bridge.visitation import exact_visitation, policy_transition


@dataclass(frozen=True)
class QReport:
    """How far a Q estimate is from the oracle's soft ``Q*``.

    Attributes
    ----------
    max_abs_error : float
        ``max |Q̂ − Q*|`` over every time, state and action.
    weighted_abs_error : float
        ``Σ w |Q̂ − Q*| / Σ w`` with ``w`` the optimal policy's state-action occupancy
        (or the weights given to :meth:`Oracle.compare_q`).
    worst : tuple of int
        Index of the largest error, ``(s, a)`` or ``(t, s, a)``.
    """

    max_abs_error: float
    weighted_abs_error: float
    worst: tuple


@dataclass(frozen=True)
class PolicyReport:
    r"""How good a policy is against the soft-optimal one.

    Attributes
    ----------
    kl : float
        Occupancy-weighted ``KL(π̂ ‖ π*)``: ``Σ_t w_t Σ_s d_t(s) KL_t(s)`` with ``d_t``
        the occupancy of ``π̂`` and ``w_t = γ^t / Σ_k γ^k`` (infinite horizon: the
        normalised discounted occupancy).
    value_gap : float
        ``Σ_s p0(s) (V*_0(s) − V^π̂_0(s)) ≥ 0`` (reward units, entropy included);
        equals ``α · (Σ_t γ^t) · kl``.
    relative_value_gap : float
        ``value_gap / |Σ p0 V*_0|`` (NaN when the optimal value is 0).
    normalised_value_gap : float
        ``value_gap / (Σ p0 V*_0 − Σ p0 V^uniform_0)``: 0 for π*, 1 for the uniform
        policy; unlike the relative gap it does not change when a constant is added to r.
    value, optimal_value, uniform_value : float
        ``Σ p0 V_0`` of π̂, π* and the uniform policy.
    """

    kl: float
    value_gap: float
    relative_value_gap: float
    normalised_value_gap: float
    value: float
    optimal_value: float
    uniform_value: float


def dead_states(mdp):
    """States where every action stays put with probability one and pays 0, shape (S,) bool."""
    S, A = mdp.n_states, mdp.n_actions
    P = mdp.P
    single = np.diff(P.indptr) == 1
    first = P.indices[np.minimum(P.indptr[:-1], max(P.nnz - 1, 0))]
    stays = (single & (first == np.repeat(np.arange(S), A))).reshape(S, A)
    return stays.all(axis=1) & (mdp.r == 0).all(axis=1)


def _entropy_term(policy, temperature):
    """``−α Σ_a π log π`` per state (0 log 0 = 0), shape ``policy.shape[:-1]``."""
    safe = np.where(policy > 0, policy, 1.0)
    return -temperature * (policy * np.log(safe)).sum(axis=-1)


class Oracle:
    r"""Exact soft solution of an MDP, and exact evaluation of any policy in it.

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon (time-indexed arrays) or ``horizon=None`` (stationary arrays).
    temperature : float, default 1.0
        ``α``, the entropy weight.
    terminate_dead_states : bool, default False
        Treat *dead* states (every action stays put with probability one and pays 0)
        as the end of the episode, with ``V = 0``. Under the counting measure an
        absorbing state still earns the entropy bonus ``α log A`` per step, while an
        environment that reports ``terminated=True`` on entering it (as
        ``ci.envs.to_gymnasium`` does, e.g. for the terminal state of
        ``ci.envs.from_gymnasium`` MDPs) ends the agent's backup there. With this flag
        the oracle solves with an action prior allowing one action in dead states, so
        both sides agree; policies are then ignored in dead states.
    tol : float, default 1e-12
        Infinite horizon: value-iteration tolerance passed to :func:`ctrlinf.solve`.

    Attributes
    ----------
    Q, V, policy : ndarray
        As ``ci.solve(mdp, mode="soft", temperature=temperature)`` gives them:
        (T, S, A), (T, S), (T, S, A), or (S, A), (S,), (S, A) for ``horizon=None``.
    solution : Solution
        The underlying solution.

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> P = np.zeros((2, 2, 2)); P[:, 0, 0] = 1; P[:, 1, 1] = 1
    >>> mdp = ci.TabularMDP(P, r=[[0, 0], [1, 1]], p0=[1, 0], horizon=None, gamma=0.5)
    >>> orc = ci.bridge.Oracle(mdp)
    >>> rep = orc.compare_policy(np.full((2, 2), 0.5))
    >>> bool(rep.value_gap > 0), round(rep.normalised_value_gap, 6)
    (True, 1.0)
    >>> orc.compare_policy(orc.policy).value_gap < 1e-9
    True
    """

    def __init__(self, mdp, temperature=1.0, terminate_dead_states=False, tol=1e-12):
        if not isinstance(mdp, ci.TabularMDP):
            raise TypeError(f"mdp must be a ctrlinf.TabularMDP, got {type(mdp).__name__}")
        self.mdp = mdp
        self.temperature = check_temperature(temperature)
        self.dead_states = dead_states(mdp) if terminate_dead_states else \
            np.zeros(mdp.n_states, dtype=bool)
        prior = None
        if self.dead_states.any():
            # One allowed action in a dead state: V = α log exp(Q/α) = Q = 0 + γ V = 0.
            prior = np.ones((mdp.n_states, mdp.n_actions))
            prior[self.dead_states, 1:] = 0.0
        self.solution = ci.solve(mdp, mode="soft", temperature=self.temperature,
                                 action_prior=prior, tol=tol)
        self.Q, self.V, self.policy = self.solution.Q, self.solution.V, self.solution.policy
        # log π* = (Q − V)/α exactly, without the underflow of log(policy).
        self._log_policy = (self.Q - self.V[..., None]) / self.temperature

    @classmethod
    def stationary(cls, mdp, gamma, temperature=1.0, terminate_dead_states=False):
        """The oracle for a stationary agent with discount ``gamma`` on ``mdp``'s dynamics.

        ``Oracle(mdp.replace(horizon=None, gamma=gamma), temperature, ...)``; see the
        module docstring for why this is the right reference for the bridge's agents.
        """
        return cls(mdp.replace(horizon=None, gamma=gamma), temperature,
                   terminate_dead_states=terminate_dead_states)

    @property
    def finite(self):
        """bool: True for a finite horizon (time-indexed arrays)."""
        return self.mdp.horizon is not None

    # -- policies -----------------------------------------------------------
    def policy_array(self, pi):
        """``pi`` as an array of the oracle's policy shape.

        Parameters
        ----------
        pi : ndarray, shape (T, S, A) or (S, A), or callable
            A stationary (S, A) array is used at every time step. A callable maps a
            state (int) to its action probabilities (length A), e.g. a wrapper around
            a Stable-Baselines3 model; it is called once per state.

        Returns
        -------
        ndarray, shape (T, S, A) or (S, A)
        """
        S, A = self.mdp.n_states, self.mdp.n_actions
        if callable(pi):
            rows = []
            for s in range(S):
                row = _checks.real_array(pi(s), f"pi({s})").ravel()
                if row.shape != (A,):
                    raise ValueError(
                        f"pi({s}) returned shape {row.shape}, expected ({A},) action "
                        "probabilities"
                    )
                rows.append(row)
            pi = np.stack(rows)
        pi = _checks.real_array(pi, "pi")
        T = self.mdp.horizon
        if pi.shape == (S, A):
            if self.finite:
                pi = np.broadcast_to(pi, (T, S, A))
        elif not (self.finite and pi.shape == (T, S, A)):
            expected = f"(S, A) = ({S}, {A})"
            if self.finite:
                expected = f"(T, S, A) = ({T}, {S}, {A}) or {expected}"
            raise ValueError(f"pi has shape {pi.shape}, expected {expected}")
        if not np.all(np.isfinite(pi)) or np.any(pi < 0):
            index = tuple(int(i) for i in np.argwhere(~(np.isfinite(pi) & (pi >= 0)))[0])
            raise ValueError(f"pi{list(index)} is {pi[index]}, expected a probability")
        sums = pi.sum(axis=-1)
        bad = np.argwhere(np.abs(sums - 1.0) > 1e-6)
        if bad.size:
            index = tuple(int(i) for i in bad[0])
            raise ValueError(f"pi{list(index)} sums to {sums[index]:.10g}, expected 1")
        pi = pi / sums[..., None]
        if self.dead_states.any():
            pi[..., self.dead_states, :] = self.policy[..., self.dead_states, :]
        return pi

    def evaluate_q(self, pi):
        r"""Exact soft ``Q^π``: ``r + γ Σ_{s'} P V^π_{next}``, shape of :attr:`Q`."""
        return self._evaluate(self.policy_array(pi))[0]

    def evaluate(self, pi):
        r"""Exact soft value ``V^π`` of a policy, shape of :attr:`V`.

        .. math::

            V^\pi_t(s) = \textstyle\sum_a \pi_t(a|s)\big(r(s,a) - \alpha\log\pi_t(a|s)
                         + \gamma \sum_{s'} P(s'|s,a) V^\pi_{t+1}(s')\big)

        by a backward pass (finite horizon, ``V^π_T = 0``) or the linear solve
        ``(I − γ P_π) V^π = Σ_a π (r − α log π)`` (infinite horizon).

        Parameters
        ----------
        pi : ndarray, shape (T, S, A) or (S, A), or callable
            See :meth:`policy_array`.

        Returns
        -------
        ndarray, shape (T, S), or (S,) for an infinite horizon
        """
        return self._evaluate(self.policy_array(pi))[1]

    def _evaluate(self, pi):
        mdp, alpha = self.mdp, self.temperature
        S, A, gamma = mdp.n_states, mdp.n_actions, mdp.gamma
        if not self.finite:
            reward_pi = (pi * mdp.r).sum(axis=1) + _entropy_term(pi, alpha)
            system = sp.identity(S, format="csc") - gamma * policy_transition(mdp, pi).tocsc()
            V = spla.spsolve(system.tocsc(), reward_pi)
            Q = mdp.r + gamma * (mdp.P @ V).reshape(S, A)
            return Q, V
        T = mdp.horizon
        Q, V = np.empty((T, S, A)), np.empty((T, S))
        V_next = np.zeros(S)
        for t in range(T - 1, -1, -1):
            Q[t] = mdp.r + gamma * (mdp.P @ V_next).reshape(S, A)
            V[t] = (pi[t] * Q[t]).sum(axis=1) + _entropy_term(pi[t], alpha)
            V_next = V[t]
        return Q, V

    def occupancy(self, pi):
        r"""State and state-action occupancy of ``pi`` rolled out from ``p0``.

        Finite horizon: ``d_0 = p0``, ``d_{t+1}(s') = Σ d_t(s) π_t(a|s) P(s'|s,a)``;
        infinite horizon: the normalised discounted occupancy ``(1 − γ) Σ_t γ^t d_t``,
        from the linear solve ``(I − γ P_π^T) d = (1 − γ) p0`` (the shapes and meaning
        of :func:`ctrlinf.marginals` for a soft solution).

        Returns
        -------
        state : ndarray, shape (T, S) or (S,)
        state_action : ndarray, shape (T, S, A) or (S, A)
        """
        return exact_visitation(self.mdp, self.policy_array(pi))

    def _time_weights(self):
        """``γ^t`` per time step (finite) and their sum ``Σ_t γ^t`` (``1/(1−γ)`` if infinite)."""
        gamma = self.mdp.gamma
        if not self.finite:
            return None, 1.0 / (1.0 - gamma)
        w = gamma ** np.arange(self.mdp.horizon)
        return w, float(w.sum())

    # -- reports ------------------------------------------------------------
    def compare_q(self, Q_hat, weights=None):
        """Compare a Q estimate with the exact soft ``Q*``.

        Parameters
        ----------
        Q_hat : ndarray, shape (T, S, A) or (S, A)
            A stationary (S, A) estimate is compared with every ``Q*_t``.
        weights : ndarray, optional
            Non-negative weights broadcastable to :attr:`Q`; default the optimal
            policy's state-action occupancy (:meth:`occupancy` of :attr:`policy`).

        Returns
        -------
        QReport
        """
        Q_hat = _checks.real_array(Q_hat, "Q_hat")
        _checks.finite(Q_hat, "Q_hat")
        try:
            Q_hat_full = np.broadcast_to(Q_hat, self.Q.shape)
        except ValueError:
            raise ValueError(f"Q_hat has shape {Q_hat.shape}, expected {self.Q.shape} "
                             f"or {self.Q.shape[-2:]}") from None
        if Q_hat.ndim < 2 or Q_hat.shape[-2:] != self.Q.shape[-2:]:
            raise ValueError(f"Q_hat has shape {Q_hat.shape}, expected {self.Q.shape} "
                             f"or {self.Q.shape[-2:]}")
        if weights is None:
            weights = self.occupancy(self.policy)[1]
        weights = np.broadcast_to(_checks.real_array(weights, "weights"), self.Q.shape)
        if np.any(weights < 0) or not weights.sum() > 0:
            raise ValueError("weights must be non-negative with a positive sum")
        error = np.abs(Q_hat_full - self.Q)
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(error), error.shape))
        return QReport(max_abs_error=float(error.max()),
                       weighted_abs_error=float((weights * error).sum() / weights.sum()),
                       worst=worst)

    def compare_policy(self, pi_hat):
        """Score a policy against the soft-optimal one.

        Parameters
        ----------
        pi_hat : ndarray, shape (T, S, A) or (S, A), or callable
            See :meth:`policy_array`.

        Returns
        -------
        PolicyReport
        """
        pi = self.policy_array(pi_hat)
        p0 = self.mdp.p0
        V_pi = self._evaluate(pi)[1]
        V_uniform = self._evaluate(self.policy_array(
            np.full(pi.shape[-2:], 1.0 / self.mdp.n_actions)))[1]
        value = float(p0 @ np.atleast_2d(V_pi)[0])
        optimal = float(p0 @ np.atleast_2d(self.V)[0])
        uniform_value = float(p0 @ np.atleast_2d(V_uniform)[0])

        safe = np.where(pi > 0, pi, 1.0)
        kl_state = (pi * (np.log(safe) - self._log_policy)).sum(axis=-1)
        occupancy = self.occupancy(pi)[0]
        time_weights, total = self._time_weights()
        if time_weights is None:
            kl = float(occupancy @ kl_state)
        else:
            kl = float((time_weights * (occupancy * kl_state).sum(axis=1)).sum() / total)
        gap = optimal - value
        spread = optimal - uniform_value
        return PolicyReport(
            kl=kl, value_gap=gap,
            relative_value_gap=gap / abs(optimal) if optimal != 0 else float("nan"),
            normalised_value_gap=gap / spread if spread > 0 else float("nan"),
            value=value, optimal_value=optimal, uniform_value=uniform_value,
        )
