r"""The exact oracle: optimal Q, V and π of a small MDP, and exact scores of anyone's estimates.

An approximate agent never sees ``P`` or ``r``; the oracle does, so it can say exactly
how far an estimate is from the truth. It serves two readings of "optimal":

- ``temperature = 0``: ordinary RL. ``Q*``, ``V*`` are the hard Bellman solution
  (``mode="hard"``, Sutton & Barto 2018, eq. 3.20) and values are expected discounted
  returns. This is the reference for Q-learning, DQN, PPO, A2C, ...
- ``temperature = α > 0``: MaxEnt RL. ``Q*``, ``V*``, ``π*`` are the soft solution
  (``mode="soft"``, Levine 2018, section 4) and values include the entropy bonus
  ``−α log π`` at every step. This is the reference for soft Q-learning and SAC.

Whatever the temperature, every :class:`PolicyReport` also carries the return-only
numbers (``return_value``, ``optimal_return``, ``return_gap``) measured against the hard
optimum, and the advantage-based numbers that stay meaningful for near-deterministic
policies.

Two exact facts the reports rest on, for any policy ``π``. The soft value gap is a
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

Stationary agents and finite horizons
-------------------------------------
A stationary agent with discount ``γ`` (everything in :mod:`ctrlinf.bridge`, and
Stable-Baselines3's DQN and PPO) learns one ``Q(s, a)`` whose fixed point is the
solution of the *infinite-horizon* MDP with that ``γ``, whatever episode length the
environment uses, as long as a time-limit truncation is bootstrapped rather than treated
as termination. Compare such agents with ``Oracle.stationary(mdp, gamma)``, i.e.
``Oracle(mdp.replace(horizon=None, gamma=gamma))``, or :meth:`Oracle.for_model`, which
reads ``γ`` from the model; resets to ``p0`` only change which states are sampled most.

Reachable states
----------------
An agent learns nothing about states it never reaches. :meth:`Oracle.compare_q` and
:meth:`Oracle.compare_v` therefore look, by default, only at *decision states*: states
reachable from ``p0`` under some policy (at time ``t`` for a finite horizon), minus the
dead states when ``terminate_dead_states=True`` (the agent's episode ends there).
``states="all"`` looks at every state.
"""
from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

import ctrlinf as ci
from ctrlinf import _checks
from ctrlinf.inference import dead_states  # the bridge's name for the core's helper

#: Default tolerance for "an optimal action": ``Q*(s, a) >= V*(s) − tie_tol · (1 + |V*(s)|)``.
TIE_TOLERANCE = 1e-9

STATE_SETS = ("reachable", "all")


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
    """

    max_abs_error: float
    weighted_abs_error: float
    worst: tuple
    worst_state: int
    states: str
    n_states: int
    state_error: np.ndarray = field(repr=False, compare=False)


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


def reachable_states(mdp):
    """States reachable from ``p0`` under some policy: (T, S) bool per time step, or (S,).

    ``reach_0 = {p0 > 0}``, ``reach_{t+1}`` = every successor of ``reach_t`` under any
    action; for an infinite horizon the closure of that.
    """
    S, A = mdp.n_states, mdp.n_actions
    blocks = sp.kron(sp.identity(S, format="csr"), np.ones((1, A)), format="csr")
    step = (blocks @ (mdp.P != 0).astype(np.float64)).T.tocsr()     # (S', S) adjacency
    current = mdp.p0 > 0
    if mdp.horizon is not None:
        reach = np.empty((mdp.horizon, S), dtype=bool)
        for t in range(mdp.horizon):
            reach[t] = current
            current = (step @ current.astype(np.float64)) > 0
        return reach
    while True:
        grown = current | ((step @ current.astype(np.float64)) > 0)
        if (grown == current).all():
            return current
        current = grown


@contextlib.contextmanager
def _torch_threads_kept():
    """Restore torch's thread count after numba kernels ran.

    numba's OpenMP layer and torch share one OpenMP runtime; switching numba's thread
    count (as :func:`ctrlinf.solve` does for small MDPs) resets the count torch uses on
    this thread, and a torch that was set to one thread then runs small networks on
    all cores, many times slower (measured: PPO on FrozenLake 4x slower in CPU time).
    """
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    try:
        yield
    finally:
        if threads is not None and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def _batched(function, n_states, width, name):
    """``function(np.arange(S))`` as a float (S, width) array, or raise naming ``name``."""
    out = _checks.real_array(function(np.arange(n_states)), f"{name}(states)")
    if out.shape != (n_states, width):
        raise ValueError(
            f"{name}(states) returned shape {out.shape}, expected (S, A) = ({n_states}, "
            f"{width}); a callable {name} is called once with the array of all states "
            "0..S-1 and returns one row per state"
        )
    return out


class Oracle:
    r"""Exact optimal solution of an MDP, and exact evaluation of any policy in it.

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon (time-indexed arrays) or ``horizon=None`` (stationary arrays).
    temperature : float, default 1.0
        ``α >= 0``. 0 is ordinary RL (hard ``Q*``, ``V*``, returns without entropy);
        ``α > 0`` the soft (MaxEnt) solution with the entropy weight ``α``.
    terminate_dead_states : bool, default False
        Treat *dead* states (every action stays put with probability one and pays 0)
        as the end of the episode, with ``V = 0``, and leave them out of
        :meth:`compare_q`. Under the counting measure an absorbing state still earns the
        entropy bonus ``α log A`` per step, while an environment that reports
        ``terminated=True`` on entering it (as ``ci.envs.to_gymnasium`` does, e.g. for
        the terminal state of ``ci.envs.from_gymnasium`` MDPs) ends the agent's backup
        there. With this flag the oracle solves with an action prior allowing one action
        in dead states, so both sides agree; policies are then ignored in dead states.
    tol : float, default 1e-12
        Infinite horizon: value-iteration tolerance passed to :func:`ctrlinf.solve`.
    tie_tol : float, default 1e-9
        Action ``a`` is optimal in ``s`` when ``Q*(s, a) >= V*(s) − tie_tol (1 + |V*(s)|)``
        (hard ``Q*``).

    Attributes
    ----------
    Q, V, policy : ndarray
        The optimal solution at this temperature (hard at 0, soft otherwise):
        (T, S, A), (T, S), (T, S, A), or (S, A), (S,), (S, A) for ``horizon=None``.
        At temperature 0 the policy is uniform over the optimal actions.
    hard_Q, hard_V : ndarray
        The hard (return-only) ``Q*`` and ``V*``, at every temperature.
    optimal_actions : ndarray of bool, shape of Q
        Where ``hard_Q`` is within the tie tolerance of ``hard_V``.
    decision_states : ndarray of bool, shape (T, S) or (S,)
        States reachable from ``p0`` (minus dead states when they terminate).
    solution : Solution
        The underlying solution.

    Examples
    --------
    Action 0 leads to state 0, action 1 to state 1, which pays 1 per step; γ = 0.5.
    Staying in state 1 is worth 2, moving there from state 0 is worth 0 + 0.5 · 2 = 1,
    staying in state 0 only 0 + 0.5 · 1 = 0.5.

    >>> import numpy as np, ctrlinf as ci
    >>> P = np.zeros((2, 2, 2)); P[:, 0, 0] = 1; P[:, 1, 1] = 1
    >>> mdp = ci.TabularMDP(P, r=[[0, 0], [1, 1]], p0=[1, 0], horizon=None, gamma=0.5)
    >>> orc = ci.bridge.Oracle(mdp, temperature=0.0)
    >>> orc.V.tolist(), orc.Q[0].tolist()
    ([1.0, 2.0], [0.5, 1.0])
    >>> rep = orc.compare_policy(np.full((2, 2), 0.5))
    >>> round(rep.return_gap, 6), rep.optimal_action_fraction
    (0.5, 0.5)
    >>> soft = ci.bridge.Oracle(mdp, temperature=1.0)
    >>> round(soft.compare_policy(np.full((2, 2), 0.5)).normalised_value_gap, 6)
    1.0
    """

    def __init__(self, mdp, temperature=1.0, terminate_dead_states=False, tol=1e-12,
                 tie_tol=TIE_TOLERANCE):
        _checks.mdp(mdp)
        self.mdp = mdp
        self.tie_tol = _checks.real(tie_tol, "tie_tol", low=0.0)
        self.temperature = _checks.real(temperature, "temperature", low=0.0)
        self.dead_states = dead_states(mdp) if terminate_dead_states else \
            np.zeros(mdp.n_states, dtype=bool)
        self._prior = None
        if self.dead_states.any() and self.temperature > 0:
            # One allowed action in a dead state: V = α log exp(Q/α) = Q = 0 + γ V = 0.
            self._prior = np.ones((mdp.n_states, mdp.n_actions))
            self._prior[self.dead_states, 1:] = 0.0
        with _torch_threads_kept():
            self._solve(mdp, tol)
        V = self.hard_V[..., None]
        self.optimal_actions = self.hard_Q >= V - tie_tol * (1.0 + np.abs(V))
        self.decision_states = reachable_states(mdp) & ~self.dead_states
        # log π* = (Q − V)/α exactly, without the underflow of log(policy).
        self._log_policy = None if self.temperature == 0 else \
            (self.Q - self.V[..., None]) / self.temperature

    def _solve(self, mdp, tol):
        self.hard = ci.solve(mdp, mode="hard", tol=tol)
        self.hard_Q, self.hard_V = self.hard.Q, self.hard.V
        if mdp.horizon is None:
            # One exact evaluation of the greedy policy (a policy-iteration step) removes
            # value iteration's residual error, ~tol/(1 − γ), from Q* and V*.
            self.hard_Q, self.hard_V = ci.evaluate_policy(mdp, self.hard.policy)
        if self.temperature == 0:
            self.solution = self.hard
            self.Q, self.V = self.hard_Q, self.hard_V
        else:
            self.solution = ci.solve(mdp, mode="soft", temperature=self.temperature,
                                     action_prior=self._prior, tol=tol)
            self.Q, self.V = self.solution.Q, self.solution.V
        self.policy = self.solution.policy

    @classmethod
    def stationary(cls, mdp, gamma, temperature=1.0, terminate_dead_states=False, **kwargs):
        """The oracle for a stationary agent with discount ``gamma`` on ``mdp``'s dynamics.

        ``Oracle(mdp.replace(horizon=None, gamma=gamma), temperature, ...)``; see the
        module docstring for why this is the right reference for stationary agents.
        """
        return cls(mdp.replace(horizon=None, gamma=gamma), temperature,
                   terminate_dead_states=terminate_dead_states, **kwargs)

    @classmethod
    def for_model(cls, mdp, model, temperature=0.0, terminate_dead_states=True, **kwargs):
        """The stationary oracle for a trained agent, with the agent's own discount.

        Reads ``model.gamma`` (every Stable-Baselines3 algorithm has one), so γ is never
        restated by hand, and checks that the model's Discrete spaces match ``mdp``.
        Dead states terminate by default, as they do in ``ci.envs.to_gymnasium``.

        Parameters
        ----------
        mdp : TabularMDP
            The MDP the agent's environment was exported from.
        model : object with a ``gamma`` attribute
            E.g. a ``stable_baselines3`` DQN or PPO.
        temperature : float, default 0.0
            0 for ordinary RL agents; SAC-style agents use their entropy weight.

        Returns
        -------
        Oracle
        """
        gamma = getattr(model, "gamma", None)
        if not _checks.is_real_number(gamma):
            raise TypeError(f"model must have a numeric discount model.gamma, got {gamma!r} "
                            f"on {type(model).__name__}")
        for name, n in (("observation_space", mdp.n_states), ("action_space", mdp.n_actions)):
            space = getattr(model, name, None)
            if space is not None and getattr(space, "n", n) != n:
                raise ValueError(f"model.{name} has n={space.n}, but mdp has {n} "
                                 f"{'states' if name[0] == 'o' else 'actions'}")
        return cls.stationary(mdp, float(gamma), temperature,
                              terminate_dead_states=terminate_dead_states, **kwargs)

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
            A stationary (S, A) array is used at every time step. A callable is
            *batched*: called once with the array of all states ``0..S-1``, it returns
            their action probabilities, shape (S, A) (e.g.
            ``lambda s: ci.bridge.sb3.policy_array(model)[s]``).

        Returns
        -------
        ndarray, shape (T, S, A) or (S, A)
        """
        S, A = self.mdp.n_states, self.mdp.n_actions
        if callable(pi):
            pi = _batched(pi, S, A, "pi")
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

    def _evaluate(self, pi, temperature):
        return ci.evaluate_policy(self.mdp, pi, temperature=temperature,
                                  action_prior=self._prior)

    def evaluate_q(self, pi):
        r"""Exact ``Q^π = r + γ Σ_{s'} P V^π_{next}`` (soft at α > 0), shape of :attr:`Q`."""
        return self._evaluate(self.policy_array(pi), self.temperature)[0]

    def evaluate(self, pi):
        r"""Exact value ``V^π`` of a policy at the oracle's temperature, shape of :attr:`V`.

        .. math::

            V^\pi_t(s) = \textstyle\sum_a \pi_t(a|s)\big(r(s,a) - \alpha\log\pi_t(a|s)
                         + \gamma \sum_{s'} P(s'|s,a) V^\pi_{t+1}(s')\big)

        (:func:`ctrlinf.evaluate_policy`); at temperature 0 the expected discounted
        return, with no entropy term.

        Parameters
        ----------
        pi : ndarray, shape (T, S, A) or (S, A), or callable
            See :meth:`policy_array`.

        Returns
        -------
        ndarray, shape (T, S), or (S,) for an infinite horizon
        """
        return self._evaluate(self.policy_array(pi), self.temperature)[1]

    def evaluate_return(self, pi):
        """Expected discounted return ``V^π`` without entropy, whatever the temperature."""
        return self._evaluate(self.policy_array(pi), 0.0)[1]

    def occupancy(self, pi):
        r"""State and state-action occupancy of ``pi`` rolled out from ``p0``.

        :func:`ctrlinf.occupancy`: ``d_0 = p0``, ``d_{t+1}(s') = Σ d_t(s) π_t(a|s)
        P(s'|s,a)``; infinite horizon: the normalised discounted occupancy
        ``(1 − γ) Σ_t γ^t d_t``.

        Returns
        -------
        state : ndarray, shape (T, S) or (S,)
        state_action : ndarray, shape (T, S, A) or (S, A)
        """
        pi = self.policy_array(pi)
        with _torch_threads_kept():
            d = ci.occupancy(self.mdp, pi)
        return d, d[..., None] * pi

    def _time_weights(self):
        """``w_t = γ^t / Σ_k γ^k`` (None if infinite) and ``Σ_t γ^t`` (``1/(1−γ)`` if infinite)."""
        gamma = self.mdp.gamma
        if not self.finite:
            return None, 1.0 / (1.0 - gamma)
        w = gamma ** np.arange(self.mdp.horizon)
        return w / w.sum(), float(w.sum())

    def _average(self, occupancy, per_state):
        """``Σ_t w_t Σ_s d_t(s) x_t(s)`` (``Σ_s d(s) x(s)`` for an infinite horizon)."""
        w, _ = self._time_weights()
        if w is None:
            return float(occupancy @ per_state)
        return float((w * (occupancy * per_state).sum(axis=1)).sum())

    # -- reports ------------------------------------------------------------
    def _state_mask(self, states):
        if states not in STATE_SETS:
            raise ValueError(f"states must be one of {STATE_SETS}, got {states!r}")
        if states == "all":
            return np.ones(self.V.shape, dtype=bool)
        return np.broadcast_to(self.decision_states, self.V.shape)

    def _compare(self, estimate, target, weights, states, name):
        """QReport for ``estimate`` against ``target`` on ``states``.

        ``target`` has the shape of :attr:`Q` or of :attr:`V`; ``estimate`` that shape
        or its stationary trailing part.
        """
        S = self.mdp.n_states
        estimate = _checks.real_array(estimate, name)
        stationary = target.shape[1:] if self.finite else target.shape
        if estimate.shape not in (target.shape, stationary):
            raise ValueError(f"{name} has shape {estimate.shape}, expected {target.shape}"
                             + (f" or {stationary}" if self.finite else ""))
        mask = self._state_mask(states)
        if target.ndim > mask.ndim:
            mask = mask[..., None] & np.isfinite(target)     # skip forbidden actions
        full = np.broadcast_to(estimate, target.shape)
        bad = np.argwhere(mask & ~np.isfinite(full))
        if bad.size:
            raise ValueError(f"{name} is not finite at index {tuple(int(i) for i in bad[0])}")
        weights = np.broadcast_to(_checks.real_array(weights, "weights"), target.shape)
        if np.any(weights < 0) or not (weights * mask).sum() > 0:
            raise ValueError("weights must be non-negative with a positive sum on the "
                             "compared states")
        # Forbidden actions (target −inf) and uncompared states count as error 0.
        error = np.abs(np.where(mask, full, 0.0) - np.where(mask, target, 0.0))
        worst = tuple(int(i) for i in np.unravel_index(
            np.argmax(np.where(mask, error, -1.0)), error.shape))
        # Per state: the largest error over time steps and actions, NaN where none compared.
        axis = self.V.ndim - 1
        mask_s = np.moveaxis(mask, axis, 0).reshape(S, -1)
        compared = mask_s.any(axis=1)
        state_error = np.where(compared, np.moveaxis(error, axis, 0).reshape(S, -1).max(axis=1),
                               np.nan)
        return QReport(
            max_abs_error=float(error[mask].max()),
            weighted_abs_error=float((weights * error).sum() / (weights * mask).sum()),
            worst=worst, worst_state=worst[self.V.ndim - 1], states=states,
            n_states=int(compared.sum()), state_error=state_error)

    def compare_q(self, Q_hat, weights=None, states="reachable", pi=None):
        """Compare a Q estimate with the exact ``Q*`` (or with ``Q^π``).

        Parameters
        ----------
        Q_hat : ndarray, shape (T, S, A) or (S, A), or callable
            A stationary (S, A) estimate is compared with every ``Q_t``. A callable is
            batched: ``Q_hat(np.arange(S))`` returns (S, A).
        weights : ndarray, optional
            Non-negative weights broadcastable to :attr:`Q`; default the state-action
            occupancy of the optimal policy (of ``pi`` when given).
        states : {"reachable", "all"}, default "reachable"
            Compare on the decision states (:attr:`decision_states`) or on all states.
        pi : policy, optional
            Compare with ``Q^π`` (:meth:`evaluate_q`) instead of ``Q*``: the error of a
            critic that estimates the value of its own actor.

        Returns
        -------
        QReport
        """
        target = self.Q if pi is None else self.evaluate_q(pi)
        if weights is None:
            weights = self.occupancy(self.policy if pi is None else pi)[1]
        if callable(Q_hat):
            Q_hat = _batched(Q_hat, self.mdp.n_states, self.mdp.n_actions, "Q_hat")
        return self._compare(Q_hat, target, weights, states, "Q_hat")

    def compare_v(self, V_hat, pi=None, weights=None, states="reachable"):
        """Compare a state-value estimate with ``V*`` (or with ``V^π``, for a critic).

        Parameters
        ----------
        V_hat : ndarray, shape (T, S) or (S,), or callable
            A callable is batched: ``V_hat(np.arange(S))`` returns (S,) or (S, 1).
        pi : policy, optional
            Compare with ``V^π`` (:meth:`evaluate`, the return at temperature 0): e.g.
            PPO's critic against the value of PPO's own policy.
        weights, states
            As in :meth:`compare_q`, with state occupancies.

        Returns
        -------
        QReport
            ``worst`` is ``(s,)`` or ``(t, s)``.
        """
        target = self.V if pi is None else self.evaluate(pi)
        if weights is None:
            weights = self.occupancy(self.policy if pi is None else pi)[0]
        if callable(V_hat):
            function = V_hat
            V_hat = _checks.real_array(function(np.arange(self.mdp.n_states)), "V_hat(states)")
            V_hat = V_hat[:, 0] if V_hat.ndim == 2 and V_hat.shape[1] == 1 else V_hat
        return self._compare(V_hat, target, weights, states, "V_hat")

    def compare_policy(self, pi_hat):
        """Score a policy: soft value gap and KL (α > 0), return gap and advantage loss.

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

        def start(V):
            return float(p0 @ np.atleast_2d(V)[0])

        allowed = np.isfinite(self.mdp.r) if self._prior is None else \
            np.isfinite(self.mdp.r) & (self._prior > 0)
        uniform = self.policy_array(allowed / allowed.sum(axis=1, keepdims=True))
        occupancy = self.occupancy(pi)[0]
        taken = pi > 0
        safe = np.where(taken, pi, 1.0)
        entropy = -(pi * np.log(safe)).sum(axis=-1)
        return_value = start(self._evaluate(pi, 0.0)[1])
        optimal_return = start(self.hard_V)
        uniform_return = start(self._evaluate(uniform, 0.0)[1])
        return_spread = optimal_return - uniform_return
        if self.temperature == 0:
            value, optimal, uniform_value, kl = return_value, optimal_return, uniform_return, None
        else:
            value = start(self._evaluate(pi, self.temperature)[1])
            optimal = start(self.V)
            uniform_value = start(self._evaluate(uniform, self.temperature)[1])
            kl_state = np.where(taken, pi * (np.log(safe) - np.where(
                taken, self._log_policy, 0.0)), 0.0).sum(axis=-1)
            kl = self._average(occupancy, kl_state)
        # Regret against the hard solution; 0·(−inf) = 0 at forbidden actions π never takes.
        q_pi = np.where(taken, pi * np.where(taken, self.hard_Q, 0.0), 0.0).sum(axis=-1)
        regret = self.hard_V - q_pi
        # Round-off below the tie tolerance is no regret (an optimal policy has none).
        regret = np.where(regret > self.tie_tol * (1.0 + np.abs(self.hard_V)), regret, 0.0)
        contribution = occupancy * regret
        w, total = self._time_weights()
        if w is not None:
            contribution = contribution * w[:, None]
        best = np.unravel_index(np.argmax(contribution), contribution.shape)
        worst_state = None
        if contribution[best] > 0:
            worst_state = tuple(int(i) for i in best) if self.finite else int(best[0])
        if self.finite:
            weight_s = (occupancy * w[:, None]).sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                state_regret = np.where(weight_s > 0, contribution.sum(axis=0) / weight_s,
                                        np.nan)
        else:
            state_regret = np.where(occupancy > 0, regret, np.nan)
        gap = optimal - value
        spread = optimal - uniform_value
        return PolicyReport(
            kl=kl, value_gap=gap,
            relative_value_gap=gap / abs(optimal) if optimal != 0 else float("nan"),
            normalised_value_gap=gap / spread if spread > 0 else float("nan"),
            value=value, optimal_value=optimal, uniform_value=uniform_value,
            return_value=return_value, optimal_return=optimal_return,
            return_gap=optimal_return - return_value, uniform_return=uniform_return,
            normalised_return_gap=(optimal_return - return_value) / return_spread
            if return_spread > 0 else float("nan"),
            advantage_loss=self._average(occupancy, regret),
            optimal_action_fraction=self._average(
                occupancy, (pi * self.optimal_actions).sum(axis=-1)),
            mean_entropy=self._average(occupancy, entropy),
            worst_state=worst_state,
            worst_state_regret=float(regret[best]) if worst_state is not None else 0.0,
            state_regret=state_regret,
        )
