r"""Exact inference in the graphical model of control: solve, forward, marginals, evidence.

The three backups (Levine 2018, sections 2.3-4; CS285 "Reframing control as an
inference problem"), for ``t < T-1`` and with ``Q_{T-1} = r``:

.. math::

    \text{exact:}\quad Q_t &= r + \alpha \log \textstyle\sum_{s'} P(s'|s,a)\, e^{V_{t+1}(s')/\alpha}
    \quad\text{(inference; optimistic about the dynamics)}\\
    \text{soft:}\quad Q_t &= r + \gamma \textstyle\sum_{s'} P(s'|s,a)\, V_{t+1}(s')
    \quad\text{(variational inference / MaxEnt RL)}\\
    \text{hard:}\quad Q_t &= r + \gamma \textstyle\sum_{s'} P(s'|s,a)\, V_{t+1}(s'),
    \quad V_t = \max_a Q_t

and for exact and soft ``V_t = α log Σ_a prior(a|s) exp(Q_t/α)``,
``π_t(a|s) = prior(a|s) exp((Q_t − V_t)/α)`` (the counting measure, prior = 1,
unless ``action_prior`` is given). In exact mode ``Q_t = α log β_t(s, a)`` and
``V_t = α log β_t(s)``.

Besides the public functions (``ctrlinf.__all__``), :func:`policy_transition`,
:func:`discount_sum`, :func:`discounted_occupancy` and :func:`dead_states` serve the
rest of the package without checking their arguments, and :func:`compile_forward_kernels`
lets another process compile the forward kernels; they are not public API.
"""
from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from ctrlinf import _checks, _threads, kernels
from ctrlinf._progress import progress_bar as _progress_bar
from ctrlinf._progress import shows_bar
from ctrlinf.trajectories import validate_policy

if TYPE_CHECKING:
    from ctrlinf._typing import ArrayLike, BoolArray, CSRMatrix, FloatArray, Keep, Mode
    from ctrlinf.mdp import TabularMDP

MODES = {"exact": kernels.MODE_EXACT, "soft": kernels.MODE_SOFT, "hard": kernels.MODE_HARD}
KEEP_OPTIONS = ("all", "V")

#: Hard mode shares the policy among actions whose Q is within this relative
#: tolerance of the maximum, so floating-point noise does not break ties.
HARD_TIE_TOLERANCE = 1e-9

_DUMMY = np.ones((1, 1))
#: What the backward kernel takes for "no action prior" (the counting measure).
_NO_PRIOR = np.empty((0, 0))

#: Large MDPs choose their thread count again (:mod:`ctrlinf._threads`) after about
#: this many stored transitions' work, but no more often than every _STEPS_PER_CHOICE
#: steps, so that a pass adapts when other work starts or stops; choosing reads /proc
#: (0.02-0.3 ms), too much to do at every step of a mid-sized MDP.
_WORK_PER_CHOICE = 2**25
_STEPS_PER_CHOICE = 8


def _push_forward(mdp: TabularMDP, weights: FloatArray, out: FloatArray, threads: int) -> None:
    """out[s'] = Σ_{s,a} weights[s, a] P(s'|s, a), on ``threads`` threads (from _threads_now)."""
    indptr, indices, data = mdp.kernel_arrays()
    if threads > 1:
        kernels.push_forward_parallel(indptr, indices, data, weights,
                                      kernels.push_forward_parts(data.shape[0]), out)
    else:
        kernels.push_forward(indptr, indices, data, weights, 1, out)


def _steps_per_choice(mdp: TabularMDP) -> int:
    """Steps of a pass between two choices of the thread count (see _WORK_PER_CHOICE)."""
    return max(_STEPS_PER_CHOICE, _WORK_PER_CHOICE // mdp.P.nnz)


def _threads_now(mdp: TabularMDP, step: int, threads: int) -> int:
    """The thread count for step ``step`` of a pass: ``threads``, or chosen again."""
    return _threads.threads_for(mdp.P.nnz) if step % _steps_per_choice(mdp) == 0 else threads


def _validate_mode(mode: str, mdp: TabularMDP) -> None:
    _checks.choice(mode, "mode", tuple(MODES))
    if mode == "exact" and mdp.gamma != 1.0:
        raise ValueError(
            f"mode='exact' needs gamma=1, got gamma={mdp.gamma:g}; a discount is a death "
            "state (see TabularMDP.with_death_state)"
        )


class Solution:
    r"""The backward messages of an MDP in one mode, and the policy they give.

    Attributes
    ----------
    Q : ndarray, shape (T, S, A), or (S, A) for an infinite horizon
        ``Q_t(s, a)`` in reward units (``α log β_t(s, a)`` in exact mode).
    V : ndarray, shape (T, S), or (S,)
        ``V_t(s)`` (``α log β_t(s)`` in exact mode).
    policy : ndarray, shape (T, S, A), or (S, A)
        ``π_t(a | s)``; every row sums to one.
    mode, temperature, gamma, horizon, action_prior
        What was solved.
    iterations : int
        Backward steps taken (``T``, or the value-iteration sweeps).
    residual : float
        Infinite horizon: sup-norm Bellman residual ``‖V_k − V_{k-1}‖_∞`` at
        the last sweep; 0 for a finite horizon.
    converged : bool
        Whether the residual met the tolerance (always True for finite horizons).
    """

    def __init__(self, mdp: TabularMDP, mode: Mode, temperature: float,
                 action_prior: FloatArray | None, V: FloatArray | None,
                 Q: FloatArray | None = None, policy: FloatArray | None = None,
                 iterations: int = 0, residual: float = 0.0, converged: bool = True) -> None:
        self._mdp = mdp
        self.mode = mode
        self.temperature = temperature
        self.gamma = mdp.gamma
        self.horizon = mdp.horizon
        self.action_prior = action_prior
        self.iterations = iterations
        self.residual = residual
        self.converged = converged
        self._V = V
        self._Q = Q
        self._policy = policy

    @property
    def keep(self) -> Keep:
        """``"all"`` if Q and the policy are stored, ``"V"`` if they are derived on demand."""
        return "all" if self._Q is not None else "V"

    @property
    def V(self) -> FloatArray:
        assert self._V is not None  # solve() stores V before it returns the Solution
        return self._V

    @property
    def Q(self) -> FloatArray:
        if self._Q is None:
            assert self.horizon is not None  # keep="V" is for a finite horizon only
            return np.stack([self.q_at(t) for t in range(self.horizon)])
        return self._Q

    @property
    def policy(self) -> FloatArray:
        if self._policy is None:
            assert self.horizon is not None  # keep="V" is for a finite horizon only
            return np.stack([self.policy_at(t) for t in range(self.horizon)])
        return self._policy

    def _step_at(self, t: int) -> tuple[FloatArray, FloatArray]:
        """(Q_t, π_t) recomputed from V_{t+1} (used when keep="V")."""
        mdp = self._mdp
        assert self.horizon is not None  # keep="V" is for a finite horizon only
        V_next = self.V[t + 1] if t + 1 < self.horizon else np.zeros(mdp.n_states)
        Q_t = np.empty((1, mdp.n_states, mdp.n_actions))
        pi_t = np.empty_like(Q_t)
        _run_steps(mdp, self.mode, self.temperature, self.action_prior, V_next,
                   t + 1 == self.horizon, np.empty((1, mdp.n_states)), Q_t, pi_t)
        return Q_t[0], pi_t[0]

    def _check_time(self, t: int) -> None:
        if self.horizon is None:
            return
        _checks.integer(t, "t", low=0, high=self.horizon - 1)

    def q_at(self, t: int) -> FloatArray:
        """Q_t, shape (S, A) (ignores ``t`` for an infinite horizon)."""
        self._check_time(t)
        if self._Q is not None:
            return self._Q if self.horizon is None else self._Q[t]
        return self._step_at(t)[0]

    def policy_at(self, t: int) -> FloatArray:
        """π_t, shape (S, A) (ignores ``t`` for an infinite horizon)."""
        self._check_time(t)
        if self._policy is not None:
            return self._policy if self.horizon is None else self._policy[t]
        return self._step_at(t)[1]

    def backward_messages(self) -> tuple[FloatArray, FloatArray, FloatArray | float]:
        r"""The messages as probabilities, normalised per time step.

        Returns
        -------
        beta_sa : ndarray, shape (T, S, A)
            ``β_t(s, a) / c_t`` with ``β_t(s, a) = exp(Q_t(s, a)/α)``.
        beta_s : ndarray, shape (T, S)
            ``β_t(s) / c_t``, so the largest entry at each t is 1.
        log_scale : ndarray, shape (T,)
            ``log c_t = max_s V_t(s)/α``; ``β_t = beta_t * exp(log_scale[t])``.

        For an infinite horizon there is no time axis: shapes (S, A), (S,) and a float.

        In exact mode these are ``p(O_{t:T-1} | s_t, a_t)`` and
        ``p(O_{t:T-1} | s_t)``; kept scaled because they under- or overflow
        for large rewards or small temperatures.
        """
        V = np.atleast_2d(self.V) / self.temperature
        Q = self.Q.reshape(V.shape + (-1,)) / self.temperature
        log_scale = V.max(axis=1)
        beta_s = np.exp(V - log_scale[:, None])
        beta_sa = np.exp(Q - log_scale[:, None, None])
        if self.horizon is None:
            return beta_sa[0], beta_s[0], log_scale[0]
        return beta_sa, beta_s, log_scale

    def __repr__(self) -> str:
        T = "inf" if self.horizon is None else self.horizon
        return (f"Solution(mode={self.mode!r}, temperature={self.temperature:g}, "
                f"horizon={T}, gamma={self.gamma:g}, keep={self.keep!r}, "
                f"iterations={self.iterations})")


def _run_steps(mdp: TabularMDP, mode: str, temperature: float, prior: FloatArray | None,
               V_after: FloatArray, from_last: bool, V: FloatArray, Q: FloatArray | None = None,
               policy: FloatArray | None = None, threads: int | None = None) -> None:
    """Backward steps into ``V`` (K, S), and ``Q``, ``policy`` (K, S, A) if given.

    ``V[K-1]`` is backed up from ``V_after`` (or is the last decision, ``Q = r``,
    if ``from_last``), ``V[k]`` from ``V[k+1]``. Every backup of the package runs
    here: :func:`backup`, both paths of :func:`solve`, and ``keep="V"`` solutions.
    ``threads``: from :func:`_threads_now`, or chosen here.
    """
    indptr, indices, data = mdp.kernel_arrays()
    if Q is None:
        Q = policy = np.empty((V.shape[0], 0, 0))  # (K, 0, 0): not kept
    if threads is None:
        threads = _threads.threads_for(mdp.P.nnz)
    kernel = kernels.backward_steps if threads == 1 else kernels.backward_steps_parallel
    kernel(indptr, indices, data, mdp.r, _NO_PRIOR if prior is None else prior,
           mdp.gamma, temperature, MODES[mode], HARD_TIE_TOLERANCE,
           V_after, from_last, V, Q, policy, threads)


class Backup(NamedTuple):
    """What :func:`backup` returns: ``Q`` (S, A), ``V`` (S,) and ``policy`` (S, A) at one t."""

    Q: FloatArray
    V: FloatArray
    policy: FloatArray


def backup(mdp: TabularMDP, V_next: ArrayLike | None, mode: Mode = "soft",
           temperature: float = 1.0, action_prior: ArrayLike | None = None) -> Backup:
    r"""One backup step: ``Q_t`` from ``V_{t+1}``, and the ``V_t`` and ``π_t`` it gives.

    The operator that :func:`solve` applies ``T`` times (finite horizon) or
    until it reaches its fixed point (value iteration); the same kernels run
    both (Levine 2018, sections 2.3-4):

    .. math::

        \text{exact:}\quad Q_t(s,a) &= r(s,a) + \alpha \log \textstyle\sum_{s'}
            P(s'|s,a)\, e^{V_{t+1}(s')/\alpha}\\
        \text{soft, hard:}\quad Q_t(s,a) &= r(s,a) + \gamma \textstyle\sum_{s'}
            P(s'|s,a)\, V_{t+1}(s')\\
        \text{exact, soft:}\quad V_t(s) &= \alpha \log \textstyle\sum_a
            \mathrm{prior}(a|s)\, e^{Q_t(s,a)/\alpha},\quad
            \pi_t(a|s) = \mathrm{prior}(a|s)\, e^{(Q_t(s,a) - V_t(s))/\alpha}\\
        \text{hard:}\quad V_t(s) &= \max_a Q_t(s,a)

    and in hard mode ``π_t`` is uniform over the maximising actions (ties
    within a relative 1e-9 shared; with a prior, in proportion to it). Actions
    with ``r = -inf`` or ``prior = 0`` get ``π_t = 0``.

    Parameters
    ----------
    mdp : TabularMDP
        Its ``P``, ``r`` and ``gamma``; the horizon is not used.
    V_next : array_like, shape (S,), or None
        ``V_{t+1}`` in reward units, finite. ``None`` backs up the last
        decision, ``t = T-1``, where ``Q_{T-1} = r``.
    mode : {"soft", "exact", "hard"}
        As in :func:`solve` (``"exact"`` needs ``gamma = 1``).
    temperature : float, default 1.0
        ``α > 0``. Ignored in hard mode.
    action_prior : array_like, shape (S, A) or (A,), optional
        As in :func:`solve`; None is the counting measure.

    Returns
    -------
    Backup
        The named tuple ``(Q, V, policy)``: ``Q_t`` (S, A), ``V_t`` (S,),
        ``π_t`` (S, A) with rows summing to one.

    Raises
    ------
    TypeError
        For an argument of the wrong type, naming it.
    ValueError
        For a bad value, naming it (``V_next`` of the wrong shape, not finite, or
        so large that the backup overflows).

    Examples
    --------
    Two steps by hand are the two-step solution: one state, actions paying 0 and 1.

    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=[[0.0, 1.0]], p0=[1.0], horizon=2)
    >>> last = ci.backup(mdp, None, mode="exact")        # t = T-1: Q = r
    >>> float(np.round(last.V[0], 6))                     # log(1 + e)
    1.313262
    >>> first = ci.backup(mdp, last.V, mode="exact")      # t = 0
    >>> bool(np.allclose(first.Q, ci.solve(mdp, mode="exact").Q[0], rtol=1e-12))
    True
    """
    _checks.mdp(mdp)
    _validate_mode(mode, mdp)
    temperature = _checks.temperature(temperature)
    prior = _checks.action_prior(action_prior, mdp.n_states, mdp.n_actions)
    S, A = mdp.n_states, mdp.n_actions
    final = V_next is None
    V_next = np.zeros(S) if final else _checks.next_values(V_next, mdp, temperature, mode)
    Q, V, policy = np.empty((1, S, A)), np.empty((1, S)), np.empty((1, S, A))
    _run_steps(mdp, mode, temperature, prior, V_next, final, V, Q, policy)
    return Backup(Q[0], V[0], policy[0])


def _progress(total: int, enabled: bool | None, work: float, desc: str) -> Any:
    """A bar over ``total`` steps; ``enabled=None`` shows it for ``work`` transitions enough."""
    return _progress_bar(total, shows_bar(enabled, work, "transitions"), desc)


def solve(mdp: TabularMDP, mode: Mode = "soft", temperature: float = 1.0,
          action_prior: ArrayLike | None = None, keep: Keep = "all", tol: float = 1e-10,
          max_iter: int = 1_000_000, progress: bool | None = None) -> Solution:
    r"""Compute the backward messages (soft Q and V) and the policy of an MDP.

    Parameters
    ----------
    mdp : TabularMDP
    mode : {"soft", "exact", "hard"}
        ``"exact"``: inference in the graphical model (needs ``gamma = 1``);
        ``"soft"``: the variational (MaxEnt RL) backup; ``"hard"``: classic DP.
    temperature : float, default 1.0
        ``α > 0``; ``p(O | s, a) = exp(r(s, a)/α)``. Ignored in hard mode.
    action_prior : array_like, shape (S, A) or (A,), optional
        ``prior(a | s) >= 0`` multiplying inside the sum over actions; None is
        the counting measure (prior = 1), which equals the proper uniform prior
        ``1/A`` with ``α log A`` added to every reward: ``r + α log A``.
    keep : {"all", "V"}
        ``"V"`` stores only ``V_t`` and recomputes ``Q_t`` and ``π_t`` on
        demand, for problems where ``(T, S, A)`` arrays do not fit.
    tol : float, default 1e-10
        Infinite horizon: stop when ``‖V_k − V_{k−1}‖_∞ < tol``.
    max_iter : int
        Infinite horizon: the most sweeps; a ``RuntimeWarning`` is raised and
        ``converged`` is False if the tolerance was not met.
    progress : bool or None
        Show a tqdm bar; None shows one for long solves only.

    Returns
    -------
    Solution
        ``Q`` (T, S, A), ``V`` (T, S), ``policy`` (T, S, A); (S, A), (S,), (S, A)
        when ``mdp.horizon`` is None.

    Raises
    ------
    TypeError
        For an argument of the wrong type, naming it.
    ValueError
        For a bad value, naming it: the values would overflow float64 (naming ``r``
        and ``temperature``), or the ``(T, S, A)`` arrays cannot fit in memory
        (naming ``horizon``; ``keep="V"`` needs only ``(T, S)``).

    Examples
    --------
    One state, two actions paying 0 and 1, one step: ``V = log(1 + e)``.

    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=[[0.0, 1.0]], p0=[1.0], horizon=1)
    >>> sol = ci.solve(mdp, mode="exact")
    >>> float(np.round(sol.V[0, 0], 6)), np.round(sol.policy[0, 0], 4).tolist()
    (1.313262, [0.2689, 0.7311])
    """
    _checks.mdp(mdp)
    _validate_mode(mode, mdp)
    temperature = _checks.temperature(temperature)
    prior = _checks.action_prior(action_prior, mdp.n_states, mdp.n_actions)
    _checks.choice(keep, "keep", KEEP_OPTIONS)
    _checks.value_range(mdp, temperature, mode)
    progress = _checks.flag(progress, "progress", allow_none=True)
    if mdp.horizon is not None:
        S, A = mdp.n_states, mdp.n_actions
        per_step = S * (2 * A + 1) if keep == "all" else S
        _checks.allocation(8 * mdp.horizon * per_step, "horizon",
                           "V" if keep == "V" else "Q, V and the policy over T steps")
    sol = Solution(mdp, mode, temperature, prior, V=None)
    if mdp.horizon is None:
        _value_iteration(mdp, sol, tol, max_iter, progress)
    else:
        _backward_pass(mdp, sol, keep, progress)
    return sol


def _backward_pass(mdp: TabularMDP, sol: Solution, keep: Keep, progress: bool | None) -> None:
    T, S, A = mdp.horizon, mdp.n_states, mdp.n_actions
    assert T is not None  # solve() passes infinite horizons to _value_iteration
    # Aligned: the kernels read V_{t+1} in long runs (see ctrlinf.kernels).
    V = kernels.aligned_empty((T, S))
    keep_all = keep == "all"
    Q = np.empty((T, S, A)) if keep_all else None
    policy = np.empty((T, S, A)) if keep_all else None
    zeros = kernels.aligned_zeros(S)
    with _progress(T, progress, T * mdp.P.nnz, f"backward ({sol.mode})") as bar:
        # All steps in one kernel call, unless a progress bar wants one per step or the
        # MDP is large enough to re-choose its threads now and then.
        chunk = 1 if not bar.disable else (
            T if mdp.P.nnz < _threads.PARALLEL_MIN_NNZ else _steps_per_choice(mdp))
        threads = 0
        for stop in range(T, 0, -chunk):
            start = max(0, stop - chunk)
            # Chosen at most every _steps_per_choice steps, also when a bar asks for
            # one call per step (reading /proc at every step would cost more than it saves).
            threads = _threads_now(mdp, T - stop, threads)
            _run_steps(mdp, sol.mode, sol.temperature, sol.action_prior,
                       V[stop] if stop < T else zeros, stop == T, V[start:stop],
                       Q[start:stop] if Q is not None else None,
                       policy[start:stop] if policy is not None else None, threads)
            bar.update(stop - start)
    sol._V, sol._Q, sol._policy = V, Q, policy
    sol.iterations = T


def _value_iteration(mdp: TabularMDP, sol: Solution, tol: float, max_iter: int,
                     progress: bool | None) -> None:
    tol = _checks.real(tol, "tol", low=0.0, low_open=True)
    max_iter = _checks.positive_int(max_iter, "max_iter")
    S, A = mdp.n_states, mdp.n_actions
    V, V_new = kernels.aligned_zeros(S), kernels.aligned_empty(S)   # see _backward_pass
    residual = np.inf
    iterations = threads = 0
    # Contraction at rate γ: about log(tol / scale) / log γ sweeps.
    expected = int(min(max_iter, math.log(tol / (1.0 + mdp.reward_scale)) / math.log(mdp.gamma)))
    with _progress(expected, progress, expected * mdp.P.nnz, f"value iteration ({sol.mode})") as bar:
        while iterations < max_iter:
            threads = _threads_now(mdp, iterations, threads)
            _run_steps(mdp, sol.mode, sol.temperature, sol.action_prior, V, False, V_new[None],
                       threads=threads)
            residual = float(np.max(np.abs(V_new - V)))
            if not math.isfinite(residual):
                # _checks.value_range rules this out; never loop on NaN silently.
                raise ValueError(f"value iteration diverged (residual {residual}); rescale r")
            V, V_new = V_new, V
            iterations += 1
            bar.update()
            if residual < tol:
                break
    converged = residual < tol
    if not converged:
        warnings.warn(
            f"value iteration stopped after max_iter={max_iter} sweeps with Bellman residual "
            f"{residual:.3g} >= tol={tol:g}; the solution is not converged",
            RuntimeWarning, stacklevel=3,
        )
    # One more backup from the final V gives Q, V and π that agree with each other.
    Q, policy = np.empty((S, A)), np.empty((S, A))
    V_final = np.empty(S)
    _run_steps(mdp, sol.mode, sol.temperature, sol.action_prior, V, False, V_final[None],
               Q[None], policy[None])
    sol._V, sol._Q, sol._policy = V_final, Q, policy
    sol.iterations, sol.residual, sol.converged = iterations, residual, converged


def _validate_solution(mdp: TabularMDP, sol: Solution) -> None:
    """Raise unless ``sol`` came from ``solve(mdp, ...)`` (or from an identical MDP).

    A Solution used with another MDP would give numbers that mean nothing (and, with
    another action count, read past its arrays), so every field is compared and the
    first difference named. The same object passes at once; a copy costs one
    comparison of its arrays.
    """
    _checks.mdp(mdp)
    _checks.solution(sol)
    solved = sol._mdp
    if solved is mdp:
        return
    P, Q = solved.P, mdp.P
    differences = (
        ("number of states", solved.n_states != mdp.n_states),
        ("number of actions", solved.n_actions != mdp.n_actions),
        ("horizon", solved.horizon != mdp.horizon),
        ("gamma", solved.gamma != mdp.gamma),
        ("reward r", lambda: not np.array_equal(solved.r, mdp.r)),
        ("initial distribution p0", lambda: not np.array_equal(solved.p0, mdp.p0)),
        ("dynamics P", lambda: P is not Q and not (
            np.array_equal(P.indptr, Q.indptr) and np.array_equal(P.indices, Q.indices)
            and np.array_equal(P.data, Q.data))),
    )
    for what, differs in differences:
        if differs if isinstance(differs, bool) else differs():
            raise ValueError(
                f"sol was solved for another MDP: its {what} differs from mdp's; "
                f"solve this mdp first (ci.solve(mdp, mode={sol.mode!r}, ...))")


def forward(mdp: TabularMDP, sol: Solution) -> FloatArray:
    r"""Forward messages (exact mode) or the policy's state occupancy (soft, hard).

    exact: ``α_0 = p0`` and ``α_{t+1}(s') ∝ Σ_{s,a} α_t(s) prior(a|s)
    exp(r(s,a)/α) P(s'|s,a)``, so ``α_t(s) = p(s_t = s | O_{0:t-1})``.
    soft/hard: ``d_0 = p0``, ``d_{t+1}(s') = Σ_{s,a} d_t(s) π_t(a|s) P(s'|s,a)``.
    Infinite horizon: the normalised discounted occupancy
    ``(1 − γ) Σ_t γ^t d_t``, from a sparse linear solve.

    Parameters
    ----------
    mdp : TabularMDP
    sol : Solution
        From ``solve(mdp, ...)``.

    Returns
    -------
    ndarray, shape (T, S), or (S,) for an infinite horizon
        Each row sums to one.
    """
    _validate_solution(mdp, sol)
    if sol.mode != "exact":
        if mdp.horizon is None:
            return _rollout(mdp, sol.policy)
        # A kept policy is read directly: policy_at would check t at every step (~10%
        # of a 256-state, T = 20 IRL evaluation), and t is in range here.
        kept = sol._policy
        return _rollout(mdp, sol.policy_at if kept is None else kept.__getitem__)
    return np.exp(_exact_log_forward(mdp, sol))


def _exact_log_forward(mdp: TabularMDP, sol: Solution) -> FloatArray:
    """``log α_t(s)``, shape (T, S), each row normalised (``-inf`` where ``α_t(s) = 0``).

    Kept in log space because at low temperature ``α_t`` spans more than the float
    range within one step (``e^-1000`` beside 1), and the posterior multiplies it
    by ``β_t``, which may be ``e^2000``: a linear α would round the former to 0.
    """
    T, S, A = mdp.horizon, mdp.n_states, mdp.n_actions
    assert T is not None  # exact mode needs gamma = 1, hence a finite horizon
    indptr, indices, data = mdp.kernel_arrays()
    log_alpha = np.empty((T, S))
    with np.errstate(divide="ignore"):
        log_alpha[0] = np.log(mdp.p0)
    weights = np.empty((S, A))
    pushed = kernels.aligned_empty(S)    # dense rows add into it in long runs
    prior = sol.action_prior
    prior_args = (_DUMMY if prior is None else prior, prior is not None)
    # No product weight · P(s'|s,a) can fall below the kernels' underflow guard while
    # every log-weight is above this (P's smallest entry counted): then the sums are exact.
    with np.errstate(divide="ignore"):
        log_guard = np.log(kernels.UNDERFLOW_GUARD) - np.log(mdp.P.data.min())
        top_action = np.argmax(mdp.r if prior is None else mdp.r + sol.temperature * np.log(prior),
                               axis=1)
    threads = 1
    for t in range(T - 1):
        shift, smallest = kernels.exact_forward_weights(log_alpha[t], mdp.r, *prior_args,
                                                        sol.temperature, top_action, weights)
        threads = _threads_now(mdp, t, threads)
        _push_forward(mdp, weights, pushed, threads)
        if kernels.exact_forward_finish(pushed, smallest > log_guard, log_alpha[t + 1]):
            kernels.exact_forward_redo(indptr, indices, data, log_alpha[t], mdp.r, *prior_args,
                                       sol.temperature, shift, pushed, log_alpha[t + 1])
    return log_alpha


def _rollout(mdp: TabularMDP, policy_at: Any,
             start: FloatArray | None = None) -> FloatArray:
    """d_0 = start (p0), d_{t+1} = Σ d_t π_t P; ``policy_at``: t -> (S, A), or a stationary array.

    Infinite horizon: ``(1 − γ) Σ_t γ^t d_t``, normalised when ``start`` is ``p0``.
    """
    if mdp.horizon is None:
        if start is None:
            d = discounted_occupancy(mdp, policy_at, (1.0 - mdp.gamma) * mdp.p0)
            d = np.maximum(d, 0.0)  # round-off can leave -1e-17 where the occupancy is 0
            return d / d.sum()
        return discounted_occupancy(mdp, policy_at, (1.0 - mdp.gamma) * start)
    T, S, A = mdp.horizon, mdp.n_states, mdp.n_actions
    out = kernels.aligned_empty((T, S))    # dense rows add into it in long runs
    out[0] = mdp.p0 if start is None else start
    weights = np.empty((S, A))
    threads = 1
    for t in range(T - 1):
        np.multiply(out[t][:, None], policy_at(t), out=weights)
        threads = _threads_now(mdp, t, threads)
        _push_forward(mdp, weights, out[t + 1], threads)
    return out


def occupancy(mdp: TabularMDP, policy: ArrayLike, start: ArrayLike | None = None) -> FloatArray:
    r"""State occupancy of any policy rolled out in the true dynamics from ``p0`` (or ``start``).

    ``d_0 = p0``, ``d_{t+1}(s') = Σ_{s,a} d_t(s) π_t(a|s) P(s'|s,a)``; for an
    infinite horizon the normalised discounted occupancy ``(1 − γ) Σ_t γ^t d_t``.
    Unlike :func:`forward` in exact mode this never conditions on optimality, so
    ``occupancy(mdp, exact_solution.policy)`` shows what the (optimistic)
    posterior policy really does. The state-action occupancy is
    ``d[..., None] * policy``; :func:`discounted_visitation` sums it over time.

    Parameters
    ----------
    mdp : TabularMDP
    policy : array_like, shape (T, S, A) or (S, A)
        ``π_t(a | s)``; an (S, A) array is used at every step.
    start : array_like, shape (S,), optional
        ``d_0`` in place of ``p0``: any finite vector, even a signed one (the
        occupancy is linear in it, so a signed start gives the difference of two
        occupancies). Only ``start=None`` is renormalised.

    Returns
    -------
    ndarray, shape (T, S), or (S,) for an infinite horizon

    Examples
    --------
    Two states; action 1 moves to state 1, which keeps the agent; γ = 1/2:

    >>> import numpy as np, ctrlinf as ci
    >>> P = np.zeros((2, 2, 2)); P[0, 0, 0] = P[0, 1, 1] = P[1, :, 1] = 1
    >>> mdp = ci.TabularMDP(P, r=np.zeros((2, 2)), p0=[1.0, 0.0], horizon=None, gamma=0.5)
    >>> ci.occupancy(mdp, [[0.0, 1.0], [0.5, 0.5]]).tolist()    # (1 − γ)(1, γ + γ² + ...)
    [0.5, 0.5]
    """
    _checks.mdp(mdp)
    return _occupancy(mdp, validate_policy(policy, mdp, mdp.horizon), _checked_start(mdp, start))


def compile_forward_kernels() -> None:
    """Run the forward kernels once on a two-state MDP, so that numba compiles and caches them.

    The calls that :func:`marginals` (exact mode), :func:`forward` and :func:`occupancy`
    make, through the same code, so with the argument types those make for any MDP
    whose CSR indices are 32-bit (scipy's choice below 2^31 stored entries) and no
    action prior. A process that has run this leaves those kernels nothing to compile
    in any process sharing its numba cache: a first ``ctrlinf demo`` runs it in a
    second process while it compiles the backward kernel itself
    (:mod:`ctrlinf._compile_ahead`).
    """
    from ctrlinf.mdp import TabularMDP

    P = np.zeros((2, 2, 2))
    P[:, :, 0] = 1.0
    mdp = TabularMDP(P, np.zeros((2, 2)), np.array([1.0, 0.0]), horizon=2)
    _exact_log_forward(mdp, Solution(mdp, "exact", 1.0, None, V=np.zeros((2, 2))))
    _occupancy(mdp, np.full((2, 2, 2), 0.5), None)


def _checked_start(mdp: TabularMDP, start: ArrayLike | None) -> FloatArray | None:
    """``start`` of :func:`occupancy` as a float (S,) array of finite entries, or None."""
    if start is None:
        return None
    start = _checks.real_array(start, "start", shape=(mdp.n_states,))
    if not np.all(np.isfinite(start)):
        raise ValueError("start has an entry that is not finite")
    return start


def _occupancy(mdp: TabularMDP, policy: FloatArray, start: FloatArray | None) -> FloatArray:
    """:func:`occupancy` of a validated (T, S, A) or (1, S, A) policy and start."""
    if mdp.horizon is None:
        return _rollout(mdp, policy[0], start)
    stationary = policy.shape[0] == 1
    return _rollout(mdp, lambda t: policy[0 if stationary else t], start)


def discounted_visitation(mdp: TabularMDP, policy: ArrayLike,
                          start: ArrayLike | None = None) -> FloatArray:
    r"""``D(s, a) = Σ_t γ^t d_t(s) π_t(a|s)`` of a policy from ``p0`` (or ``start``), (S, A).

    The time sum of :func:`occupancy` times the policy: over the horizon for a
    finite one, ``1/(1 − γ)`` times the state-action occupancy for ``horizon=None``
    (total mass ``Σ_t γ^t`` for a probability start). The quantity IRL matches
    against the demos' visitation (:func:`ctrlinf.trajectories.visitation`).

    Parameters
    ----------
    mdp : TabularMDP
    policy : array_like, shape (T, S, A) or (S, A)
    start : array_like, shape (S,), optional
        See :func:`occupancy`.

    Returns
    -------
    ndarray, shape (S, A)
    """
    _checks.mdp(mdp)
    policy = validate_policy(policy, mdp, mdp.horizon)      # renormalised rows
    d = _occupancy(mdp, policy, _checked_start(mdp, start))
    return discount_sum(mdp, d[..., None] * (policy[0] if mdp.horizon is None else policy))


def discount_sum(mdp: TabularMDP, per_step: FloatArray,
                 discounts: FloatArray | None = None) -> FloatArray:
    """``Σ_t γ^t per_step[t]`` for a (T, ...) array; ``per_step / (1 − γ)`` if ``horizon=None``.

    ``discounts``: ``γ^t`` for ``t < T``, if the caller keeps them (an IRL fit sums
    at every evaluation). No validation: the caller has checked ``mdp`` and ``per_step``.
    """
    if mdp.horizon is None:
        return per_step / (1.0 - mdp.gamma)
    weights = np.power(mdp.gamma, np.arange(mdp.horizon)) if discounts is None else discounts
    # One matrix-vector product over the flattened steps (np.tensordot's, without its
    # Python set-up, which an IRL fit would pay at every evaluation).
    steps = per_step.shape[0]
    return np.dot(weights, per_step.reshape(steps, -1)).reshape(per_step.shape[1:])


def policy_transition(mdp: TabularMDP, policy: ArrayLike) -> CSRMatrix:
    r"""``P_π[s, s'] = Σ_a π(a|s) P(s'|s,a)``, a CSR (S, S) matrix, for a stationary π (S, A).

    No validation (a helper of :func:`occupancy` and the bridge's evaluation).
    """
    S, A = mdp.n_states, mdp.n_actions
    pick = sp.csr_matrix((np.ravel(policy), (np.repeat(np.arange(S), A), np.arange(S * A))),
                         shape=(S, S * A))
    return (pick @ mdp.P).tocsr()


def _sparse_solve(system: Any, b: FloatArray) -> FloatArray:
    """``system⁻¹ b`` for a sparse CSC ``system`` (scipy's direct solver).

    ``scipy.sparse.linalg`` is imported here, not with this module: it adds ~40 ms
    to every ``import ctrlinf``, and only infinite-horizon evaluations need it.
    """
    from scipy.sparse import linalg

    return linalg.spsolve(system, b)


def discounted_occupancy(mdp: TabularMDP, policy: FloatArray,
                         start: FloatArray) -> FloatArray:
    r"""``Σ_t γ^t d_t`` from ``d_0 = start`` (any sign): solve ``(I − γ P_π^T) d = start``.

    The one sparse solve behind every infinite-horizon occupancy (needs ``γ < 1``). No
    validation: the caller has checked its arguments.
    """
    P_pi = policy_transition(mdp, policy)
    system = (sp.identity(mdp.n_states, format="csc") - mdp.gamma * P_pi.T.tocsc()).tocsc()
    return _sparse_solve(system, start)


def dead_states(mdp: TabularMDP) -> BoolArray:
    """States where every action stays put with probability one and pays 0, bool (S,).

    An absorbing end of an episode written into the MDP (gymnasium's terminal
    states, a death state): the bridge's oracle and ``to_gymnasium`` stop there.
    """
    S, A = mdp.n_states, mdp.n_actions
    P = mdp.P
    single = np.diff(P.indptr) == 1
    # Rows with no entries are not "single"; the clip only keeps the read in bounds.
    first = P.indices[np.minimum(P.indptr[:-1], max(P.nnz - 1, 0))]
    stays = (single & (first == np.repeat(np.arange(S), A))).reshape(S, A)
    return stays.all(axis=1) & (mdp.r == 0).all(axis=1)


def marginals(mdp: TabularMDP, sol: Solution) -> tuple[FloatArray, FloatArray]:
    r"""State and state-action marginals.

    exact: the posterior ``p(s_t | O_{0:T-1}) ∝ α_t(s) β_t(s)`` and
    ``p(s_t, a_t | O_{0:T-1}) = p(s_t | O) π_t(a_t | s_t)``
    (``∝ α_t(s) prior(a|s) β_t(s, a)``).
    soft/hard: the rollout occupancy ``d_t(s)`` and ``d_t(s) π_t(a|s)``.
    Infinite horizon: the normalised discounted occupancy and ``d(s) π(a|s)``.

    Parameters
    ----------
    mdp : TabularMDP
    sol : Solution

    Returns
    -------
    state : ndarray, shape (T, S), or (S,)
    state_action : ndarray, shape (T, S, A), or (S, A)
        Each time slice sums to one.
    """
    _validate_solution(mdp, sol)
    if sol.mode == "exact":
        # p(s_t | O) ∝ α_t(s) β_t(s), in log space (see _exact_log_forward).
        log_post = _exact_log_forward(mdp, sol) + sol.V / sol.temperature
        log_post -= log_post.max(axis=1, keepdims=True)
        state = np.exp(log_post)
        state /= state.sum(axis=1, keepdims=True)
    else:
        state = forward(mdp, sol)
    policy = sol.policy
    return state, state[..., None] * policy


def log_evidence(mdp: TabularMDP, sol: Solution) -> float:
    r"""``log p(O_{0:T-1})`` under the counting measure over actions.

    .. math:: \log p(\mathcal{O}_{0:T-1}) = \log \textstyle\sum_s p_0(s)\, e^{V_0(s)/\alpha}

    With a proper uniform action prior ``1/A`` subtract ``T log A`` (or pass
    ``action_prior`` to :func:`solve`, which then gives the evidence under it).

    Parameters
    ----------
    mdp : TabularMDP
    sol : Solution
        Must have ``mode="exact"``.

    Returns
    -------
    float
    """
    _validate_solution(mdp, sol)
    if sol.mode != "exact":
        raise ValueError(
            f"log_evidence needs a solution with mode='exact', got mode={sol.mode!r}; "
            "soft and hard values are not log-probabilities of optimality"
        )
    v = sol.V[0] / sol.temperature
    support = mdp.p0 > 0
    logs = np.log(mdp.p0[support]) + v[support]
    shift = logs.max()
    return float(shift + np.log(np.exp(logs - shift).sum()))


# -- exact policy evaluation ------------------------------------------------------
def evaluate_policy(mdp: TabularMDP, policy: ArrayLike, temperature: float = 0.0,
                    action_prior: ArrayLike | None = None) -> tuple[FloatArray, FloatArray]:
    r"""Exact ``Q^π`` and ``V^π`` of any policy, with or without the entropy term.

    Finite horizon, backward from ``V^π_T = 0``:

    .. math::

        Q^\pi_t(s, a) &= r(s, a) + \gamma \textstyle\sum_{s'} P(s'|s,a)\, V^\pi_{t+1}(s'),\\
        V^\pi_t(s) &= \textstyle\sum_a \pi_t(a|s)\,\big(Q^\pi_t(s, a)
                      - \alpha \log \tfrac{\pi_t(a|s)}{\mathrm{prior}(a|s)}\big).

    Infinite horizon: the same equations at their fixed point, one sparse linear solve
    ``(I − γ P_π) V^π = Σ_a π (r − α log(π/prior))``. At ``temperature = 0`` this is
    ordinary policy evaluation, the expected discounted return (Sutton & Barto 2018,
    eq. 4.4); at ``α > 0`` it is the soft value whose maximum over ``π`` is the
    ``mode="soft"`` solution of :func:`solve` (Levine 2018, section 4). Terms with
    ``π(a|s) = 0`` contribute nothing (``0 log 0 = 0``), so a forbidden action
    (``r = −inf`` or ``prior = 0``) is fine as long as the policy never takes it.

    Parameters
    ----------
    mdp : TabularMDP
    policy : array_like, shape (T, S, A) or (S, A)
        ``π_t(a | s)``; an (S, A) array is used at every step. An infinite horizon
        needs a stationary (S, A) policy. Each row must sum to one within 1e-6 (or the
        rounding of its dtype, e.g. float32) and is renormalised: near ``γ = 1`` even
        rounding in a row sum would change the value noticeably.
    temperature : float, default 0.0
        ``α >= 0``, the weight of the entropy term.
    action_prior : array_like, shape (S, A) or (A,), optional
        ``prior(a | s)`` of the entropy term (``KL(π ‖ prior)`` instead of ``−H(π)``);
        None is the counting measure, as in :func:`solve`.

    Returns
    -------
    Q : ndarray, shape (T, S, A), or (S, A) for an infinite horizon
        ``−inf`` exactly where ``r`` is.
    V : ndarray, shape (T, S), or (S,)

    Raises
    ------
    ValueError
        If the policy puts probability on a forbidden action (its value would be
        ``−inf``), if the values would leave the float64 range (naming ``r`` and
        ``temperature``), or on malformed arguments.

    Examples
    --------
    Staying put pays 1 per step, so with γ = 0.5 it is worth 1/(1 − 0.5) = 2.

    >>> import numpy as np, ctrlinf as ci
    >>> P = np.zeros((2, 2, 2)); P[:, 0, 0] = 1; P[:, 1, 1] = 1
    >>> mdp = ci.TabularMDP(P, r=[[1, 0], [1, 0]], p0=[1, 0], horizon=None, gamma=0.5)
    >>> Q, V = ci.evaluate_policy(mdp, [[1, 0], [1, 0]])
    >>> V.tolist(), Q[0].tolist()
    ([2.0, 2.0], [2.0, 1.0])
    >>> round(float(ci.evaluate_policy(mdp, np.full((2, 2), 0.5), temperature=1)[1][0]), 6)
    2.386294
    """
    _checks.mdp(mdp)
    alpha = _checks.real(temperature, "temperature", low=0.0)
    S, A, T, gamma = mdp.n_states, mdp.n_actions, mdp.horizon, mdp.gamma
    prior = _checks.action_prior(action_prior, S, A)
    policy = _checks.policy(policy, S, A, T)        # rows renormalised to sum to one
    _checks.policy_respects_mask(policy, mdp.r, prior=prior)   # its value would be -inf
    r = mdp.r
    # Per-state expected reward minus α KL(π ‖ prior); np.where keeps 0·(−inf) and 0 log 0 at 0.
    taken = policy > 0
    safe_pi = np.where(taken, policy, 1.0)
    log_ratio = np.log(safe_pi) if prior is None else np.log(safe_pi) - np.log(
        np.where(taken, prior, 1.0))
    # π·log(π/prior) before α multiplies it: α log π alone can overflow where π is tiny.
    kl = (policy * np.where(taken, log_ratio, 0.0)).sum(axis=2)          # (T or 1, S)
    expected_r = (policy * np.where(taken, r[None], 0.0)).sum(axis=2)
    _checks.policy_value_range(mdp, alpha, float(np.abs(kl).max()))
    reward_pi = expected_r - alpha * kl
    if T is None:
        P_pi = policy_transition(mdp, policy[0])
        system = (sp.identity(S, format="csc") - gamma * P_pi.tocsc()).tocsc()
        V = np.atleast_1d(_sparse_solve(system, reward_pi[0]))
        Q = r + gamma * (mdp.P @ V).reshape(S, A)
        return Q, V
    Q, V = np.empty((T, S, A)), np.empty((T, S))
    V_next = np.zeros(S)
    stationary = policy.shape[0] == 1
    for t in range(T - 1, -1, -1):
        k = 0 if stationary else t
        continuation = (mdp.P @ V_next).reshape(S, A)    # finite: V_next is
        Q[t] = r + gamma * continuation
        V[t] = reward_pi[k] + gamma * (policy[k] * continuation).sum(axis=1)
        V_next = V[t]
    return Q, V


_checks.register_type("solution", Solution)
