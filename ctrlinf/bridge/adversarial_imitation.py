r"""Generative adversarial imitation learning (Ho & Ermon 2016) with an exact generator step.

GAIL plays a game between a policy ``π`` (the generator) and a classifier ``D(s, a)``
that tells the expert's state-action pairs from the policy's:

.. math::

    \min_\pi \max_D\; \mathbb{E}_{\rho_E}[\log D(s, a)] + \mathbb{E}_{\rho_\pi}[\log(1 - D(s, a))]
        - \lambda\, \bar H(\pi),

with ``ρ`` the normalised discounted occupancies ``(1 − γ) Σ_t γ^t P(s_t = s, a_t = a)``
and ``H̄`` the discounted causal entropy. ``D`` here is the probability of *expert*
(Ho & Ermon label the other class; only the sign convention differs). For a fixed
``π`` the best ``D`` is ``ρ_E / (ρ_E + ρ_π)``
(:func:`~ctrlinf.bridge.optimal_discriminator`); then the outer problem is
``2 JS(ρ_E ‖ ρ_π) − log 4 − λ H̄(π)``, whose gradient in ``ρ_π`` is that of the
reward ``r_D(s, a) = −log(1 − D(s, a))`` (Ho & Ermon's cost ``log D``), so the
generator is an entropy-regularised RL step on ``r_D``.

Here every ingredient is small and tabular, so the inner RL step is exact: the
generator takes a KL-regularised soft step (mirror descent on the policy; CS285,
"Generative Adversarial Imitation Learning"; the trust region of TRPO in Ho & Ermon)

.. math::

    \pi_{k+1} = \arg\max_\pi \mathbb{E}_\pi\Big[\sum_t \gamma^t \big(r_{D_k}(s_t, a_t)
        + \lambda H(\pi(\cdot|s_t))
        - \tau\, \mathrm{KL}(\pi(\cdot|s_t) \,\|\, \pi_k(\cdot|s_t))\big)\Big],

which is one call of ``ci.solve(mode="soft")`` with reward ``r_{D_k} + τ log π_k`` at
temperature ``λ + τ``. The discriminator is a table of logits trained by gradient
steps on sampled pairs (expert demonstrations against fresh rollouts of ``π_k``, each
pair weighted ``(1 − γ) γ^t``), as an algorithm would, so it can be compared with the
exact optimum on the exact occupancies.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks
from ctrlinf.bridge.discriminators import log_sigmoid
from ctrlinf.bridge.discriminators import sigmoid
from ctrlinf.bridge.visitation import exact_visitation
from ctrlinf.inference import solve
from ctrlinf.trajectories import sample, visitation

if TYPE_CHECKING:
    from collections.abc import Callable

    from ctrlinf._typing import FloatArray, Seed
    from ctrlinf.mdp import TabularMDP
    from ctrlinf.trajectories import Trajectories


@dataclass(frozen=True)
class GAILResult:
    """What :func:`gail` returns.

    Attributes
    ----------
    policy : ndarray, shape (S, A)
        The final generator ``π``.
    D : ndarray, shape (S, A)
        The final discriminator, the probability that ``(s, a)`` came from the expert.
    reward : ndarray, shape (S, A)
        ``−log(1 − D)``, the reward the generator optimised last.
    history : dict of lists
        Per iteration: ``iteration``, ``total_variation`` ``½ Σ |ρ_π − ρ̂_E|`` of the
        exact occupancy against the demos' (before the iteration's step),
        ``discriminator_error`` (``Σ ρ̂_E |D − D*|``, ``D* = ρ̂_E/(ρ̂_E + ρ_π)`` exact),
        ``discriminator_mean`` (``Σ ρ̂_E D``, how sure it is on expert pairs).
    expert_occupancy : ndarray, shape (S, A)
        ``ρ̂_E``, the demos' normalised discounted visitation.
    """

    policy: np.ndarray
    D: np.ndarray
    reward: np.ndarray
    history: dict
    expert_occupancy: np.ndarray


def discounted_pair_weights(trajectories: Trajectories, n_states: int, n_actions: int,
                            gamma: float) -> FloatArray:
    r"""The normalised discounted visitation of trajectories, shape (S, A).

    .. math:: \hat\rho(s, a) = \frac{\sum_i \sum_t \gamma^t [s_{it} = s, a_{it} = a]}
                                   {\sum_i \sum_t \gamma^t}

    For rollouts of length ``L`` from ``p0`` its expectation is the occupancy of the
    first ``L`` steps, renormalised: within ``2 γ^L`` (L1) of ``ρ_π``.

    Parameters
    ----------
    trajectories : Trajectories
        ``N`` trajectories of length ``L``.
    n_states, n_actions : int
    gamma : float
        In ``[0, 1]``.

    Returns
    -------
    ndarray, shape (S, A)
        Sums to 1.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> demos = ci.Trajectories([[0, 1]], [[1, 0]])
    >>> discounted_pair_weights(demos, 2, 2, gamma=0.5).round(3).tolist()
    [[0.0, 0.667], [0.333, 0.0]]
    """
    S = _checks.positive_int(n_states, "n_states")
    A = _checks.positive_int(n_actions, "n_actions")
    _checks.trajectories(trajectories, "trajectories", S, A, nonempty=True)
    gamma = _checks.real(gamma, "gamma", low=0.0, high=1.0)
    # The core's empirical visitation, normalised to a distribution.
    weights = visitation(trajectories, S, A, gamma)
    return weights / weights.sum()


def _check_infinite(mdp):
    _checks.mdp(mdp)
    if mdp.horizon is not None:
        raise ValueError(f"gail needs an infinite-horizon MDP (horizon=None, gamma < 1) so that "
                         f"occupancies and D(s, a) are stationary, got horizon={mdp.horizon}")


def gail(mdp: TabularMDP, demos: Trajectories, n_iterations: int = 60, entropy: float = 0.1,
         kl: float = 1.0, n_rollouts: int = 200, rollout_length: int | None = None,
         discriminator_steps: int = 50, discriminator_rate: float = 5.0, seed: Seed = None,
         callback: Callable[[int, FloatArray, FloatArray], object] | None = None) -> GAILResult:
    r"""Run tabular GAIL with an exact KL-regularised soft generator step.

    Each iteration: (1) roll out ``n_rollouts`` trajectories of ``π_k``; (2) take
    ``discriminator_steps`` gradient-ascent steps on the discriminator's logits
    ``f(s, a)``, ``D = σ(f)``, for ``Σ ρ̂_E log D + Σ ρ̂_π log(1 − D)`` (warm-started;
    the gradient in ``f`` is ``ρ̂_E (1 − D) − ρ̂_π D``); (3) set ``π_{k+1}`` to the
    soft-optimal policy for ``−log(1 − D) + τ log π_k`` at temperature ``λ + τ``.

    Parameters
    ----------
    mdp : TabularMDP
        Infinite horizon (``horizon=None``), ``γ < 1``; its reward is never read.
    demos : Trajectories
        Expert trajectories from ``p0``.
    n_iterations : int, default 60
    entropy : float, default 0.1
        ``λ > 0``, the causal-entropy weight.
    kl : float, default 1.0
        ``τ > 0``, the KL step penalty (larger: smaller steps).
    n_rollouts : int, default 200
        Generator trajectories per iteration.
    rollout_length : int, optional
        Their length; default ``demos.length``.
    discriminator_steps : int, default 50
    discriminator_rate : float, default 5.0
        Step size on the logits (the loss is in units of probability mass).
    seed : int, optional
    callback : callable, optional
        ``callback(k, policy, D)`` after each iteration's discriminator update.

    Returns
    -------
    GAILResult

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> world = ci.envs.random_mdp(3, 2, seed=0, horizon=None, gamma=0.8)
    >>> expert = ci.solve(world, mode="soft", temperature=0.1)
    >>> demos = ci.sample(world, expert.policy, 500, seed=1, length=20)
    >>> result = gail(world, demos, n_iterations=30, seed=2)
    >>> bool(result.history["total_variation"][-1] < result.history["total_variation"][0])
    True
    """
    _check_infinite(mdp)
    n_iterations = _checks.positive_int(n_iterations, "n_iterations")
    entropy = _checks.real(entropy, "entropy", low=0.0, low_open=True)
    kl = _checks.real(kl, "kl", low=0.0, low_open=True)
    n_rollouts = _checks.positive_int(n_rollouts, "n_rollouts")
    discriminator_steps = _checks.positive_int(discriminator_steps, "discriminator_steps")
    discriminator_rate = _checks.real(discriminator_rate, "discriminator_rate", low=0.0,
                                      low_open=True)
    _checks.trajectories(demos, "demos", mdp.n_states, mdp.n_actions, nonempty=True)
    length = demos.length if rollout_length is None else _checks.positive_int(
        rollout_length, "rollout_length")
    S, A, gamma = mdp.n_states, mdp.n_actions, mdp.gamma
    rng = np.random.default_rng(_checks.seed(seed))
    rho_E = discounted_pair_weights(demos, S, A, gamma)
    policy = np.full((S, A), 1.0 / A)
    logits = np.zeros((S, A))
    history = {"iteration": [], "total_variation": [], "discriminator_error": [],
               "discriminator_mean": []}
    for k in range(n_iterations):
        rollouts = sample(mdp, policy, n_rollouts, seed=rng, length=length)
        rho_pi = discounted_pair_weights(rollouts, S, A, gamma)
        for _ in range(discriminator_steps):
            D = sigmoid(logits)
            logits += discriminator_rate * (rho_E * (1.0 - D) - rho_pi * D)
        D = sigmoid(logits)
        exact = exact_visitation(mdp, policy)[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            D_star = np.where(rho_E + exact > 0, rho_E / (rho_E + exact), 0.5)
        history["iteration"].append(k)
        history["total_variation"].append(0.5 * float(np.abs(exact - rho_E).sum()))
        history["discriminator_error"].append(float((rho_E * np.abs(D - D_star)).sum()))
        history["discriminator_mean"].append(float((rho_E * D).sum()))
        if callback is not None:
            callback(k, policy, D)
        # -log(1 - D) = log(1 + e^f): finite for every logit.
        # (A soft policy is positive; the floor only guards against underflow.)
        reward = -log_sigmoid(-logits) + kl * np.log(np.maximum(policy, 1e-300))
        sol = solve(mdp.replace(r=reward), mode="soft", temperature=entropy + kl)
        policy = sol.policy
    D = sigmoid(logits)
    return GAILResult(policy=policy, D=D, reward=-log_sigmoid(-logits), history=history,
                      expert_occupancy=rho_E)

