r"""State-action visitation: exact (forward recursion) against sampled (Monte Carlo).

Sample-based IRL and policy-gradient estimators replace the exact visitation
``d_t(s) π_t(a|s)`` by counts over sampled trajectories. For a finite horizon the
counts are unbiased, with a variance that falls as ``1/N`` in the number of
trajectories; for an infinite horizon the rollouts must stop somewhere, which leaves a
truncation bias of at most ``γ^L`` in total mass for rollouts of length ``L`` (the
estimate here is renormalised, so the bias shows as ``≤ 2 γ^L`` in L1). The exact side
is what :func:`ctrlinf.marginals` gives for a soft solution, for any policy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks
from ctrlinf.bridge._common import effective_horizon
from ctrlinf.inference import occupancy
from ctrlinf.trajectories import sample, validate_policy
from ctrlinf.trajectories import visitation

if TYPE_CHECKING:
    from ctrlinf._typing import ArrayLike, FloatArray, Seed
    from ctrlinf.mdp import TabularMDP


def _checked_policy(mdp: TabularMDP, policy: ArrayLike) -> FloatArray:
    """``policy`` validated with renormalised rows: (S, A) if stationary, else (T, S, A)."""
    _checks.mdp(mdp)
    checked = validate_policy(policy, mdp, mdp.horizon)
    return checked[0] if checked.shape[0] == 1 else checked


def exact_visitation(mdp: TabularMDP, policy: ArrayLike) -> tuple[FloatArray, FloatArray]:
    r"""The exact state and state-action occupancy of ``policy`` rolled out from ``p0``.

    Finite horizon: ``d_0 = p0``, ``d_{t+1}(s') = Σ_{s,a} d_t(s) π_t(a|s) P(s'|s,a)``.
    Infinite horizon: the normalised discounted occupancy ``(1 − γ) Σ_t γ^t d_t``, the
    solution of ``(I − γ P_π^T) d = (1 − γ) p0``. Both from :func:`ctrlinf.occupancy`.

    Parameters
    ----------
    mdp : TabularMDP
    policy : ndarray, shape (T, S, A) or (S, A)

    Returns
    -------
    state : ndarray, shape (T, S), or (S,) for an infinite horizon
    state_action : ndarray, shape (T, S, A), or (S, A)
    """
    policy = _checked_policy(mdp, policy)
    d = occupancy(mdp, policy)
    return d, d[..., None] * policy


def sampled_visitation(mdp: TabularMDP, policy: ArrayLike, n_trajectories: int, seed: Seed = None,
                       length: int | None = None) -> tuple[FloatArray, FloatArray]:
    r"""Monte-Carlo estimate of :func:`exact_visitation` from ``n_trajectories`` rollouts.

    Parameters
    ----------
    mdp : TabularMDP
    policy : ndarray, shape (T, S, A) or (S, A)
    n_trajectories : int
    seed : int or numpy.random.Generator, optional
    length : int, optional
        Infinite horizon only: rollout length ``L``; default ``ceil(log(1e-3)/log γ)``.
        Step ``t`` gets weight ``γ^t / Σ_{k<L} γ^k``.

    Returns
    -------
    state : ndarray, shape (T, S) or (S,)
        Finite horizon: the fraction of trajectories in each state at each step.
    state_action : ndarray, shape (T, S, A) or (S, A)

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=4)
    >>> uniform = np.full((3, 2), 0.5)
    >>> state, state_action = sampled_visitation(mdp, uniform, 100, seed=0)
    >>> state.shape, state_action.shape, np.allclose(state.sum(axis=1), 1)
    ((4, 3), (4, 3, 2), True)
    """
    policy = _checked_policy(mdp, policy)
    n = _checks.positive_int(n_trajectories, "n_trajectories")
    S, A = mdp.n_states, mdp.n_actions
    if mdp.horizon is None:
        L = effective_horizon(mdp.gamma) if length is None else _checks.positive_int(
            length, "length")
        demos = sample(mdp, policy, n, seed=seed, length=L)
        # The demos' discounted visitation, renormalised per trajectory to mass 1.
        state_action = visitation(demos, S, A, mdp.gamma) / np.sum(mdp.gamma ** np.arange(L))
        return state_action.sum(axis=1), state_action
    if length is not None:
        raise ValueError("length is only for infinite-horizon MDPs; a finite one uses T")
    T = mdp.horizon
    steps = sample(mdp, policy, n, seed=seed).observed()
    flat = (steps.t * S + steps.state) * A + steps.action
    state_action = np.bincount(flat, minlength=T * S * A).reshape(T, S, A) / n
    return state_action.sum(axis=2), state_action


@dataclass(frozen=True)
class VisitationError:
    """Bias and variance of :func:`sampled_visitation` over repeated seeds.

    Attributes
    ----------
    bias : float
        L1 norm of the mean error, ``Σ |mean_seeds(d̂) − d|`` over every (t,) s, a,
        divided by ``T`` for a finite horizon (so it is per time step).
    variance : float
        Summed per-entry variance across seeds (per time step for a finite horizon).
    l1_error : float
        Mean over seeds of ``Σ |d̂ − d|`` (per time step).
    bias_standard_error : float
        Standard error of ``bias`` if the estimator were unbiased:
        ``sqrt(variance / n_repeats)`` summed per entry (a scale for judging ``bias``).
    """

    bias: float
    variance: float
    l1_error: float
    bias_standard_error: float


def visitation_error(mdp: TabularMDP, policy: ArrayLike, n_trajectories: int, n_repeats: int = 20,
                     seed: Seed = None, length: int | None = None) -> VisitationError:
    """Measure the bias and variance of :func:`sampled_visitation` against the exact one.

    Parameters
    ----------
    mdp : TabularMDP
    policy : ndarray, shape (T, S, A) or (S, A)
    n_trajectories : int
        Trajectories per estimate.
    n_repeats : int, default 20
        Independent estimates (seeds drawn from ``seed``).
    seed : int, optional
    length : int, optional
        See :func:`sampled_visitation`.

    Returns
    -------
    VisitationError
    """
    n_repeats = _checks.positive_int(n_repeats, "n_repeats")
    exact = exact_visitation(mdp, policy)[1]
    rng = np.random.default_rng(_checks.seed(seed))
    estimates = np.stack([sampled_visitation(mdp, policy, n_trajectories, seed=rng,
                                             length=length)[1]
                          for _ in range(n_repeats)])
    per_step = 1.0 if mdp.horizon is None else float(mdp.horizon)
    mean_error = estimates.mean(axis=0) - exact
    variance = estimates.var(axis=0, ddof=1) if n_repeats > 1 else np.zeros_like(exact)
    l1 = np.abs(estimates - exact).reshape(n_repeats, -1).sum(axis=1)
    return VisitationError(
        bias=float(np.abs(mean_error).sum() / per_step),
        variance=float(variance.sum() / per_step),
        l1_error=float(l1.mean() / per_step),
        bias_standard_error=float(np.sqrt(variance / n_repeats).sum() / per_step),
    )
