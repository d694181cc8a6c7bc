r"""The exact oracle: optimal Q, V and π of a small MDP, and exact values of anyone's policy.

An approximate agent never sees ``P`` or ``r``; the oracle does, so it can say exactly
how far an estimate is from the truth. It serves two readings of "optimal":

- ``temperature = 0`` (the default): ordinary RL. ``Q*``, ``V*`` are the hard Bellman
  solution (``mode="hard"``, Sutton & Barto 2018, eq. 3.20) and values are expected
  discounted returns. This is the reference for Q-learning, DQN, PPO, A2C, ...
- ``temperature = α > 0``: MaxEnt RL. ``Q*``, ``V*``, ``π*`` are the soft solution
  (``mode="soft"``, Levine 2018, section 4) and values include the entropy bonus
  ``−α log π`` at every step. This is the reference for soft Q-learning and SAC: pass
  the agent's α, e.g. ``Oracle.stationary(mdp, gamma, temperature=1.0)``.

Every exact quantity comes from the core (:func:`ctrlinf.solve`, :func:`ctrlinf.backup`,
:func:`ctrlinf.evaluate_policy`, :func:`ctrlinf.occupancy`,
:func:`ctrlinf.mdp.reachable_states`); the reports that score an estimate against it are
defined in :mod:`ctrlinf.bridge.scores`.

Exact at any discount
---------------------
For ``horizon=None`` value iteration alone stops at a residual, and near ``γ = 1`` it
needs millions of sweeps. The oracle starts from value iteration (at most ``max_iter``
sweeps) and finishes with policy iteration (Howard 1960; soft policy iteration,
Haarnoja et al. 2017): evaluate the policy exactly with :func:`ctrlinf.evaluate_policy`,
back it up once, repeat until the backup changes no value by more than
``tol · max(1, max|V|)``. ``Q``, ``V`` are then the exact values of a policy that no
Bellman backup improves by more than that, at any ``γ < 1``; if float64 cannot get
there, the oracle raises instead of warning.

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
some policy can enter from ``p0`` through allowed actions (at time ``t`` for a finite
horizon; :func:`ctrlinf.mdp.reachable_states`), minus the dead states when
``terminate_dead_states=True`` (the agent's episode ends there). ``states="all"`` looks
at every state.
"""
from __future__ import annotations

import functools
import warnings
from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks
from ctrlinf.bridge import scores
from ctrlinf.bridge.scores import PolicyReport
from ctrlinf.bridge.torch_threads import torch_threads_kept
from ctrlinf.inference import HARD_TIE_TOLERANCE, backup, dead_states, evaluate_policy, occupancy
from ctrlinf.inference import solve
from ctrlinf.mdp import reachable_states
from ctrlinf.trajectories import validate_policy

if TYPE_CHECKING:
    from ctrlinf.mdp import TabularMDP

STATE_SETS = ("reachable", "all")


def _soft_log_policy(Q, V, temperature, prior):
    r"""``log π = log prior + (Q − V)/α`` (..., A): the soft policy of the core's ``Q``, ``V``.

    The core's ``π = prior e^{(Q − V)/α}`` (:func:`ctrlinf.backup`) in log space, for the
    KL of :func:`~ctrlinf.bridge.scores.soft_scores`: where ``π`` underflows to 0 its log
    is still finite. ``−inf`` on forbidden actions.
    """
    with np.errstate(divide="ignore"):
        log_pi = (Q - V[..., None]) / temperature
        return log_pi if prior is None else log_pi + np.log(prior)


#: Policy-iteration steps allowed after value iteration; each is one exact evaluation.
#: Policy iteration converges in a few steps from a value-iteration start (it is
#: Newton's method on the Bellman equation); hitting this bound means ``tol`` is below
#: what float64 can resolve for these values.
POLICY_ITERATIONS = 100


class Oracle:
    r"""Exact optimal solution of an MDP, and exact evaluation of any policy in it.

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon (time-indexed arrays) or ``horizon=None`` (stationary arrays).
    temperature : float, default 0.0
        ``α >= 0``. 0 (the default everywhere: ``Oracle``, :meth:`stationary`,
        :meth:`for_model`) is ordinary RL: hard ``Q*``, ``V*``, returns without entropy.
        ``α > 0`` is the soft (MaxEnt) solution with the entropy weight ``α``, the
        reference for soft Q-learning and SAC at that α.
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
        Infinite horizon: the answer is accepted when one Bellman backup of ``V`` (the
        exact value of ``policy``) changes no state by more than
        ``tol · max(1, max|V|)``. Also value iteration's tolerance.
    max_iter : int, default 1000
        Infinite horizon: the most value-iteration sweeps before policy iteration
        takes over (a start; near ``γ = 1`` value iteration alone would need millions).
    tie_tol : float, default ``ctrlinf.inference.HARD_TIE_TOLERANCE`` (1e-9)
        Action ``a`` is optimal in ``s`` when
        ``Q*(s, a) >= V*(s) − tie_tol · max(1, |V*(s)|)`` (hard ``Q*``), the rule by
        which :func:`ctrlinf.solve` shares ties in hard mode. Also the round-off of the
        policy scores: a value or return gap within ``tie_tol · max(1, |V*|)`` of 0
        is reported as 0 (an optimal policy never reads as better than optimal).

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
        States reachable from ``p0`` through allowed actions (minus dead states when
        they terminate).
    solution : Solution
        What :func:`ctrlinf.solve` returned at this temperature (hard at 0). For
        ``horizon=None`` it is policy iteration's start: its arrays agree with ``Q``,
        ``V``, ``policy`` up to its ``residual``.

    Raises
    ------
    ValueError
        Naming ``tol`` when policy iteration cannot reach it (a ``tol`` below
        float64's resolution of these values), or for any bad argument.

    Examples
    --------
    Action 0 leads to state 0, action 1 to state 1, which pays 1 per step; γ = 0.5.
    Staying in state 1 is worth 2, moving there from state 0 is worth 0 + 0.5 · 2 = 1,
    staying in state 0 only 0 + 0.5 · 1 = 0.5.

    >>> import numpy as np, ctrlinf as ci
    >>> P = np.zeros((2, 2, 2)); P[:, 0, 0] = 1; P[:, 1, 1] = 1
    >>> mdp = ci.TabularMDP(P, r=[[0, 0], [1, 1]], p0=[1, 0], horizon=None, gamma=0.5)
    >>> orc = ci.bridge.Oracle(mdp)                       # temperature 0: returns
    >>> orc.V.tolist(), orc.Q[0].tolist()
    ([1.0, 2.0], [0.5, 1.0])
    >>> rep = orc.compare_policy(np.full((2, 2), 0.5))
    >>> round(rep.return_gap, 6), rep.optimal_action_fraction
    (0.5, 0.5)
    >>> soft = ci.bridge.Oracle(mdp, temperature=1.0)
    >>> round(soft.compare_policy(np.full((2, 2), 0.5)).normalised_value_gap, 6)
    1.0
    """

    def __init__(self, mdp: TabularMDP, temperature: float = 0.0,
                 terminate_dead_states: bool = False, tol: float = 1e-12, max_iter: int = 1000,
                 tie_tol: float = HARD_TIE_TOLERANCE) -> None:
        _checks.mdp(mdp)
        self.mdp = mdp
        self.temperature = _checks.real(temperature, "temperature", low=0.0)
        terminate_dead_states = _checks.flag(terminate_dead_states, "terminate_dead_states")
        tol = _checks.real(tol, "tol", low=0.0, low_open=True)
        max_iter = _checks.positive_int(max_iter, "max_iter")
        self.tie_tol = _checks.real(tie_tol, "tie_tol", low=0.0)
        self.dead_states = dead_states(mdp) if terminate_dead_states else \
            np.zeros(mdp.n_states, dtype=bool)
        self._prior = None
        if self.dead_states.any() and self.temperature > 0:
            # One allowed action in a dead state: V = α log exp(Q/α) = Q = 0 + γ V = 0.
            self._prior = np.ones((mdp.n_states, mdp.n_actions))
            self._prior[self.dead_states, 1:] = 0.0
        with torch_threads_kept():
            # The hard optimum needs no prior: a dead state's actions are all alike.
            hard, self.hard_Q, self.hard_V, _ = self._optimum(0.0, None, tol, max_iter)
            if self.temperature == 0:
                self.solution, self.Q, self.V = hard, self.hard_Q, self.hard_V
            else:
                self.solution, self.Q, self.V, (self.policy, self._log_policy) = \
                    self._optimum(self.temperature, self._prior, tol, max_iter)
        V = self.hard_V[..., None]
        self.optimal_actions = self.hard_Q >= V - self.tie_tol * np.maximum(1.0, np.abs(V))
        if self.temperature == 0:
            # Uniform over the optimal actions, as solve's hard mode shares ties.
            self.policy = self.optimal_actions / self.optimal_actions.sum(axis=-1, keepdims=True)
            self._log_policy = None
        self.decision_states = reachable_states(mdp, self._prior) & ~self.dead_states

    # -- the exact optimum ---------------------------------------------------
    def __repr__(self):
        # The MDP's repr carries the horizon and γ that Oracle.stationary / for_model set;
        # dead states are named only where the flag changed something.
        dead = ", terminate_dead_states=True" if self.dead_states.any() else ""
        return f"Oracle({self.mdp!r}, temperature={self.temperature:g}{dead})"

    def _optimum(self, temperature, prior, tol, max_iter):
        """``(solution, Q*, V*, (π*, log π*))`` at ``temperature`` (hard at 0: None there).

        Exact at any horizon: backward induction for a finite one, value iteration
        finished by policy iteration for ``horizon=None``.
        """
        mode = "soft" if temperature > 0 else "hard"
        with warnings.catch_warnings():
            # An unconverged start is fine: policy iteration below finishes the job.
            warnings.filterwarnings("ignore", "value iteration stopped", RuntimeWarning)
            solution = solve(self.mdp, mode=mode, temperature=temperature or 1.0,
                             action_prior=prior, tol=tol, max_iter=max_iter)
        if self.mdp.horizon is not None:
            policy = None if temperature == 0 else (
                solution.policy, _soft_log_policy(solution.Q, solution.V, temperature, prior))
            return solution, solution.Q, solution.V, policy
        if temperature == 0:
            return (solution,) + self._hard_policy_iteration(solution.policy, tol) + (None,)
        return (solution,) + self._soft_policy_iteration(solution.policy, temperature, prior,
                                                         tol)

    def _hard_policy_iteration(self, policy, tol):
        """Exact ``(Q*, V*)`` from a start policy (Howard 1960): evaluate, act greedily, repeat.

        A state switches to a greedy action only where it beats ``V^π`` by more than
        ``tol · max(1, max|V|)``, so near-ties never cycle; at the end no action does.
        """
        for _ in range(POLICY_ITERATIONS):
            Q, V = evaluate_policy(self.mdp, policy)
            step = backup(self.mdp, V, mode="hard")   # r + γ P V^π, and its max over actions
            gain = step.V - V
            better = gain > tol * max(1.0, float(np.abs(V).max()))
            if not better.any():
                return Q, V
            policy = policy.copy()
            policy[better] = np.eye(self.mdp.n_actions)[np.argmax(step.Q[better], axis=1)]
        raise self._out_of_reach(tol, float(gain.max()), V)

    def _soft_policy_iteration(self, policy, temperature, prior, tol):
        r"""Exact ``(Q*, V*, (π*, log π*))`` from a start policy (soft policy iteration).

        Evaluate ``π`` exactly, back up once: ``V' = α log Σ_a prior exp(Q^π/α)``,
        ``π' = prior exp((Q^π − V')/α)`` (Haarnoja et al. 2017), until the backup moves
        no value by more than ``tol · max(1, max|V|)``. The last ``π'`` is evaluated
        once more, so ``Q``, ``V`` are exactly its values.
        """
        for _ in range(POLICY_ITERATIONS):
            Q, V = evaluate_policy(self.mdp, policy, temperature=temperature,
                                   action_prior=prior)
            # One soft backup of V^π: r + γ P V^π, then the soft maximum and its policy.
            step = backup(self.mdp, V, mode="soft", temperature=temperature,
                          action_prior=prior)
            policy = step.policy
            residual = float(np.max(np.abs(step.V - V)))
            if residual <= tol * max(1.0, float(np.abs(V).max())):
                Q, V = evaluate_policy(self.mdp, policy, temperature=temperature,
                                       action_prior=prior)
                return Q, V, (policy, _soft_log_policy(step.Q, step.V, temperature, prior))
        raise self._out_of_reach(tol, residual, V)

    @staticmethod
    def _out_of_reach(tol, residual, V):
        return ValueError(
            f"tol={tol:g} is out of reach: after {POLICY_ITERATIONS} policy-iteration steps a "
            f"Bellman backup still changes the value by {residual:.3g} (values up to "
            f"{np.abs(V).max():.3g}); raise tol")

    # -- constructors ----------------------------------------------------------
    @classmethod
    def stationary(cls, mdp, gamma, temperature=0.0, terminate_dead_states=False, **kwargs):
        """The oracle for a stationary agent with discount ``gamma`` on ``mdp``'s dynamics.

        ``Oracle(mdp.replace(horizon=None, gamma=gamma), temperature, ...)``; see the
        module docstring for why this is the right reference for stationary agents.
        ``temperature`` defaults to 0 (ordinary RL), as for :class:`Oracle`; pass the
        agent's α for soft Q-learning or SAC.
        """
        return cls(mdp.replace(horizon=None, gamma=gamma), temperature,
                   terminate_dead_states=terminate_dead_states, **kwargs)

    @classmethod
    def for_model(cls, mdp, model, temperature=0.0, terminate_dead_states=True, **kwargs):
        """The stationary oracle for a trained agent, with the agent's own discount.

        Reads ``model.gamma`` (every Stable-Baselines3 algorithm has one), so γ is never
        restated by hand, and checks that the model's spaces are ``Discrete`` and match
        ``mdp``. Dead states terminate by default, as they do in ``ci.envs.to_gymnasium``.

        Parameters
        ----------
        mdp : TabularMDP
            The MDP the agent's environment was exported from.
        model : object with a ``gamma`` attribute
            E.g. a ``stable_baselines3`` DQN or PPO trained on
            ``ci.envs.to_gymnasium(mdp)``; its ``observation_space`` and
            ``action_space``, where it has them, must be ``Discrete(S)`` and
            ``Discrete(A)``.
        temperature : float, default 0.0
            0 for ordinary RL agents (the default, as everywhere); SAC-style agents use
            their entropy weight.

        Returns
        -------
        Oracle

        Raises
        ------
        TypeError
            Naming ``model.gamma``, ``model.observation_space`` or ``model.action_space``
            when the model has no numeric discount or a space that is not ``Discrete``
            (e.g. SAC on Pendulum, PPO on CartPole).
        ValueError
            When a space's size differs from ``mdp``'s.
        """
        gamma = getattr(model, "gamma", None)
        if not _checks.is_real_number(gamma):
            raise TypeError(f"model must have a numeric discount model.gamma, got {gamma!r} "
                            f"on {type(model).__name__}")
        for name, n, what in (("observation_space", mdp.n_states, "states"),
                              ("action_space", mdp.n_actions, "actions")):
            if getattr(model, name, None) is None:
                continue
            size = _checks.discrete_space(getattr(model, name), f"model.{name}")
            if size != n:
                raise ValueError(f"model.{name} has n={size}, but mdp has {n} {what}")
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
            ``lambda s: ci.bridge.sb3.policy_array(model)[s]``). Rows are checked by
            ``ctrlinf._checks.policy``, as in :func:`ctrlinf.evaluate_policy`.

        Returns
        -------
        ndarray, shape (T, S, A) or (S, A)
        """
        S, A, T = self.mdp.n_states, self.mdp.n_actions, self.mdp.horizon
        if callable(pi):
            pi = _checks.batched_table(pi, S, A, "pi")
        checked = validate_policy(pi, self.mdp, T, name="pi")
        pi = checked[0].copy() if not self.finite else \
            np.array(np.broadcast_to(checked, (T, S, A)))
        if self.dead_states.any():
            pi[..., self.dead_states, :] = self.policy[..., self.dead_states, :]
        return pi

    def _evaluate(self, pi, temperature):
        return evaluate_policy(self.mdp, pi, temperature=temperature, action_prior=self._prior)

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
        with torch_threads_kept():
            d = occupancy(self.mdp, pi)
        return d, d[..., None] * pi

    def _start_value(self, pi, temperature):
        """``Σ_s p0(s) V^π_0(s)`` at ``temperature``."""
        return float(self.mdp.p0 @ np.atleast_2d(self._evaluate(pi, temperature)[1])[0])

    @functools.cached_property
    def _optimal_occupancy(self):
        """:meth:`occupancy` of :attr:`policy`, computed once (read-only arrays)."""
        occupancies = self.occupancy(self.policy)
        for array in occupancies:
            array.flags.writeable = False
        return occupancies

    def _uniform_start_value(self, temperature):
        """``Σ_s p0(s) V_0(s)`` of :meth:`uniform_policy` at ``temperature``, computed once."""
        known = self.__dict__.setdefault("_uniform_start_values", {})
        if temperature not in known:
            known[temperature] = self._start_value(self.uniform_policy(), temperature)
        return known[temperature]

    def uniform_policy(self):
        """The uniform policy over allowed actions (``r > −inf``, and the dead-state prior)."""
        allowed = np.isfinite(self.mdp.r)
        if self._prior is not None:
            allowed &= self._prior > 0
        return self.policy_array(allowed / allowed.sum(axis=1, keepdims=True))

    # -- reports ------------------------------------------------------------
    def _compared(self, states, target):
        """Where an estimate of ``target`` (shape of Q or V) is scored: bool, shape of target."""
        _checks.choice(states, "states", STATE_SETS)
        mask = np.ones(self.V.shape, dtype=bool) if states == "all" else \
            np.broadcast_to(self.decision_states, self.V.shape)
        if target.ndim > mask.ndim:
            mask = mask[..., None] & np.isfinite(target)     # skip forbidden actions
        return mask

    def _estimate(self, estimate, target, name):
        """``estimate`` as a float array of ``target``'s shape, or raise naming ``name``.

        A finite horizon also accepts the stationary trailing shape, used at every t.
        """
        estimate = _checks.real_array(estimate, name)
        stationary = target.shape[1:] if self.finite else target.shape
        if estimate.shape not in (target.shape, stationary):
            raise ValueError(f"{name} has shape {estimate.shape}, expected {target.shape}"
                             + (f" or {stationary}" if self.finite else ""))
        return np.broadcast_to(estimate, target.shape)

    def _compare(self, estimate, target, weights, states, name, quantity):
        estimate = self._estimate(estimate, target, name)
        compared = self._compared(states, target)
        bad = np.argwhere(compared & ~np.isfinite(estimate))
        if bad.size:
            raise ValueError(f"{name} is not finite at index {tuple(int(i) for i in bad[0])}")
        weights = _checks.real_array(weights, "weights")
        try:
            weights = np.broadcast_to(weights, target.shape)
        except ValueError:
            raise ValueError(f"weights has shape {weights.shape}, which does not broadcast to "
                             f"{target.shape}") from None
        if not np.all(np.isfinite(weights) & (weights >= 0)) or not (weights * compared).sum() > 0:
            raise ValueError("weights must be finite and non-negative with a positive sum on "
                             "the compared states")
        return scores.estimate_error(estimate, target, compared, weights, quantity, states,
                                     self.mdp)

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
            ``print(report)`` shows a short table.
        """
        target = self.Q if pi is None else self.evaluate_q(pi)
        if weights is None:
            weights = (self._optimal_occupancy if pi is None else self.occupancy(pi))[1]
        if callable(Q_hat):
            Q_hat = _checks.batched_table(Q_hat, self.mdp.n_states, self.mdp.n_actions, "Q_hat")
        return self._compare(Q_hat, target, weights, states, "Q_hat", "Q")

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
            weights = (self._optimal_occupancy if pi is None else self.occupancy(pi))[0]
        if callable(V_hat):
            V_hat = _checks.batched_table(V_hat, self.mdp.n_states, None, "V_hat")
        return self._compare(V_hat, target, weights, states, "V_hat", "V")

    def compare_policy(self, pi_hat):
        """Score a policy: return gap and advantage loss; soft value gap and KL at α > 0.

        The return-only reading (:func:`ctrlinf.bridge.scores.return_scores`) is the
        same at every temperature; the value fields are the soft reading
        (:func:`~ctrlinf.bridge.scores.soft_scores`) at α > 0 and the return at α = 0.

        Parameters
        ----------
        pi_hat : ndarray, shape (T, S, A) or (S, A), or callable
            See :meth:`policy_array`.

        Returns
        -------
        PolicyReport
            ``print(report)`` shows a short table.
        """
        pi = self.policy_array(pi_hat)
        average = scores.VisitAverage(self.occupancy(pi)[0], self.mdp.gamma)
        returns = (self._start_value(pi, 0.0), float(self.mdp.p0 @ np.atleast_2d(self.hard_V)[0]),
                   self._uniform_start_value(0.0))
        by_return = scores.return_scores(pi, average, self.hard_Q, self.hard_V,
                                         self.optimal_actions, returns, self.tie_tol, self.mdp)
        if self.temperature == 0:
            by_value = scores.hard_value_scores(returns, self.tie_tol)
        else:
            values = (self._start_value(pi, self.temperature),
                      float(self.mdp.p0 @ np.atleast_2d(self.V)[0]),
                      self._uniform_start_value(self.temperature))
            by_value = scores.soft_scores(pi, average, self._log_policy, values,
                                          self.tie_tol)
        return PolicyReport(**by_value, **by_return, mean_entropy=average(scores.entropy(pi)))
