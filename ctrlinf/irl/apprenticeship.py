r"""Apprenticeship learning by feature matching (Abbeel & Ng 2004), with an exact RL oracle.

Abbeel & Ng 2004, *Apprenticeship learning via inverse reinforcement learning*: for a
linear reward ``r = φ · w``, a policy whose discounted feature expectations
``μ(π) = E_π[Σ_t γ^t φ(s_t, a_t)]`` are within ``ε`` of the expert's has a return
within ``ε ‖w‖`` of the expert's for every such reward. The *projection* algorithm finds a
mixture of policies that does it, calling an RL solver as its inner step:

.. math::

    w_{i} = \mu_E - \bar\mu_{i-1}, \quad \pi_i = \arg\max_\pi\, w_i \cdot \mu(\pi), \quad
    \bar\mu_i = \bar\mu_{i-1}
        + \frac{(\mu_i - \bar\mu_{i-1})\cdot(\mu_E - \bar\mu_{i-1})}
               {\|\mu_i - \bar\mu_{i-1}\|^2}\,(\mu_i - \bar\mu_{i-1}),

stopping when ``‖μ_E − μ̄_i‖ ≤ ε``. With the step's coefficient clipped to ``[0, 1]``
(Abbeel & Ng project on the line) ``μ̄_i`` is the orthogonal projection of ``μ_E`` on
the segment ``[μ̄_{i−1}, μ_i]``, so it is a convex combination of the ``μ_j``; the
returned ``weights`` are its coefficients. Here the inner step is the exact hard
solution (``ci.solve(mode="hard")``) and ``μ(π)`` comes from the exact occupancy
(``ci.occupancy``), so only the algorithm's own approximations remain. The slides
(CS285 lecture 20, "Feature matching IRL") note the catch: many policies and mixtures
match the features; MaxEnt IRL picks the one of largest entropy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import ctrlinf as ci
from ctrlinf import _checks
from ctrlinf.inference import discounted_visitation

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ctrlinf._typing import ArrayLike, FloatArray
    from ctrlinf.mdp import TabularMDP


def _features3(mdp, features):
    return _checks.state_action_features(features, mdp.n_states, mdp.n_actions)


def feature_expectations(mdp: TabularMDP, policy: ArrayLike, features: ArrayLike) -> FloatArray:
    r"""``μ(π) = Σ_t γ^t Σ_{s,a} d_t(s) π_t(a|s) φ(s, a)``, exactly, shape (K,).

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon (``horizon=None``: ``Σ_{s,a} ρ(s, a) φ(s, a) / (1 − γ)`` with the
        normalised discounted occupancy ``ρ``).
    policy : ndarray, shape (T, S, A) or (S, A)
    features : ndarray, shape (S, K) or (S, A, K)

    Returns
    -------
    ndarray, shape (K,)

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=4)
    >>> feature_expectations(mdp, np.full((3, 2), 0.5), np.ones((3, 1))).tolist()
    [4.0]
    """
    _checks.mdp(mdp)
    phi = _features3(mdp, features)
    # Σ_t γ^t d_t(s) π_t(a|s): the core's discounted visitation, contracted with φ.
    return np.einsum("sa,sak->k", discounted_visitation(mdp, policy), phi)


def mixture_policy(mdp: TabularMDP, policies: Sequence[ArrayLike],
                   weights: ArrayLike) -> FloatArray:
    r"""The Markov policy with the same state-action occupancy as a mixture of policies.

    Drawing policy ``j`` with probability ``λ_j`` once per episode and following it gives
    ``d_t(s, a) = Σ_j λ_j d^j_t(s) π^j_t(a|s)``; the Markov policy
    ``π_t(a|s) = Σ_j λ_j d^j_t(s) π^j_t(a|s) / Σ_j λ_j d^j_t(s)`` (uniform where no
    ``d^j_t(s) > 0``) has exactly these occupancies, hence the same feature expectations
    (a standard fact, e.g. Syed, Bowling & Schapire 2008).

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon.
    policies : sequence of ndarray, shape (T, S, A) or (S, A)
    weights : array_like, shape (n,)
        ``λ ≥ 0`` summing to 1.

    Returns
    -------
    ndarray, shape (T, S, A)

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=3)
    >>> left, right = np.tile([1.0, 0.0], (3, 1)), np.tile([0.0, 1.0], (3, 1))
    >>> mixed = mixture_policy(mdp, [left, right], [0.25, 0.75])
    >>> mixed[0, 0].tolist()
    [0.25, 0.75]
    """
    _checks.mdp(mdp)
    if mdp.horizon is None:
        raise ValueError("mixture_policy needs a finite horizon")
    T, S, A = mdp.horizon, mdp.n_states, mdp.n_actions
    policies = _checks.sequence(policies, "policies")
    if not policies:
        raise ValueError("policies is empty; a mixture needs at least one policy")
    policies = [np.broadcast_to(_checks.policy(pi, S, A, T, f"policies[{j}]"), (T, S, A))
                for j, pi in enumerate(policies)]
    weights = _checks.real_array(weights, "weights")
    if weights.shape != (len(policies),):
        raise ValueError(f"weights has shape {weights.shape}, expected ({len(policies)},): one "
                         "per entry of policies")
    _checks.finite(weights, "weights")
    if np.any(weights < 0) or not np.isclose(weights.sum(), 1.0):
        raise ValueError(f"weights must be >= 0 and sum to 1, got {weights.tolist()}")
    joint = np.zeros((T, S, A))
    for lam, pi in zip(weights / weights.sum(), policies):
        joint += lam * ci.occupancy(mdp, pi)[..., None] * pi
    state = joint.sum(axis=2, keepdims=True)
    return np.where(state > 0, joint / np.where(state > 0, state, 1.0), 1.0 / A)


@dataclass(frozen=True)
class ApprenticeshipResult:
    """What :func:`apprenticeship_projection` returns.

    Attributes
    ----------
    policies : list of ndarray, shape (T, S, A)
        ``π_0`` (uniform) and each inner step's optimal policy.
    feature_expectations : ndarray, shape (n, K)
        ``μ(π_j)``.
    weights : ndarray, shape (n,)
        Mixture coefficients: ``μ̄ = weights @ feature_expectations``.
    mu_bar : ndarray, shape (K,)
    distances : list of float
        ``‖μ_E − μ̄_i‖`` per iteration (non-increasing).
    reward_weights : list of ndarray, shape (K,)
        The ``w_i`` handed to the inner step.
    """

    policies: list
    feature_expectations: np.ndarray
    weights: np.ndarray
    mu_bar: np.ndarray
    distances: list
    reward_weights: list


def apprenticeship_projection(mdp: TabularMDP, features: ArrayLike, mu_expert: ArrayLike,
                              epsilon: float = 1e-2, max_iter: int = 200) -> ApprenticeshipResult:
    r"""Abbeel & Ng's projection algorithm with the exact hard solution as RL step.

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon; its reward is not read.
    features : ndarray, shape (S, K) or (S, A, K)
    mu_expert : array_like, shape (K,)
        ``μ_E``, e.g. :func:`~ctrlinf.trajectories.feature_counts` of the demos.
    epsilon : float, default 1e-2
        Stop when ``‖μ_E − μ̄‖ ≤ ε``.
    max_iter : int, default 200

    Returns
    -------
    ApprenticeshipResult

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.envs.random_mdp(4, 2, seed=0, horizon=5)
    >>> phi = np.eye(4)
    >>> mu_E = feature_expectations(mdp, ci.solve(mdp).policy, phi)
    >>> result = apprenticeship_projection(mdp, phi, mu_E, epsilon=1e-3)
    >>> bool(np.linalg.norm(result.weights @ result.feature_expectations - mu_E) <= 1e-3)
    True
    """
    _checks.mdp(mdp)
    if mdp.horizon is None:
        raise ValueError("apprenticeship_projection needs a finite horizon (horizon=None given)")
    # The inner rewards φ·w have w ~ μ ~ φ T: their size is that of a squared gradient.
    phi = _checks.feature_scale(_features3(mdp, features), mdp.horizon)
    K = phi.shape[2]
    mu_E = _checks.real_array(mu_expert, "mu_expert")
    if mu_E.shape != (K,):
        raise ValueError(f"mu_expert has shape {mu_E.shape}, expected (K,) = ({K},) to match "
                         "the features")
    _checks.finite(mu_E, "mu_expert")
    epsilon = _checks.real(epsilon, "epsilon", low=0.0, low_open=True)
    max_iter = _checks.positive_int(max_iter, "max_iter")
    uniform = np.full((mdp.horizon, mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    policies = [uniform]
    mus = [feature_expectations(mdp, uniform, phi)]
    weights = [1.0]
    mu_bar = mus[0].copy()
    distances = [float(np.linalg.norm(mu_E - mu_bar))]
    reward_weights = []
    for _ in range(max_iter):
        if distances[-1] <= epsilon:
            break
        w = mu_E - mu_bar
        reward_weights.append(w)
        pi = ci.solve(mdp.replace(r=phi @ w), mode="hard").policy
        mu = feature_expectations(mdp, pi, phi)
        step = mu - mu_bar
        denominator = float(step @ step)
        if denominator == 0.0:
            # μ = μ̄ although ‖μ_E − μ̄‖ > ε: no policy gets further along w than μ̄
            # (w·μ(π) <= w·μ̄ for all π), so μ̄ is the attainable point nearest μ_E and
            # μ_E is not attainable (e.g. counts from finitely many demos): stop.
            break
        beta = float(np.clip(step @ (mu_E - mu_bar) / denominator, 0.0, 1.0))
        weights = [lam * (1.0 - beta) for lam in weights] + [beta]
        policies.append(pi)
        mus.append(mu)
        mu_bar = mu_bar + beta * step
        distances.append(float(np.linalg.norm(mu_E - mu_bar)))
    return ApprenticeshipResult(policies=policies, feature_expectations=np.array(mus),
                                weights=np.array(weights), mu_bar=mu_bar, distances=distances,
                                reward_weights=reward_weights)
