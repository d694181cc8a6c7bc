r"""Sample-based MaxEnt IRL: the importance-sampled gradient (guided cost learning).

MaxEnt IRL (Ziebart 2008) models demonstrations as ``p_θ(τ) = p(τ) exp(R_θ(τ)) / Z``
with ``p(τ) = p0(s_0) Π_t P(s_{t+1}|s_t, a_t)`` and ``R_θ(τ) = Σ_t θ·φ(s_t, a_t)``;
the log-likelihood gradient is ``μ_E − E_{p_θ}[Φ(τ)]`` with ``Φ(τ) = Σ_t φ(s_t, a_t)``.
The exact expectation is what ``ci.marginals`` of the ``mode="exact"`` solution gives;
guided cost learning (Finn, Levine & Abbeel 2016) estimates it from trajectories of a
sampler policy ``π`` by importance sampling (course slides, "Guided Cost Learning"):

.. math::

    w_j = \frac{p(\tau_j) \exp R_\theta(\tau_j)}{p(\tau_j) \prod_t \pi(a_t|s_t)}
        = \frac{\exp R_\theta(\tau_j)}{\prod_t \pi(a_t|s_t)},
    \qquad \mathbb{E}_{p_\theta}[\Phi] \approx \frac{\sum_j w_j \Phi(\tau_j)}{\sum_j w_j};

the dynamics cancel, so no ``P`` is needed. ``E_π[w] = Z`` exactly, so with a known
``log Z`` the unnormalised mean is unbiased; the self-normalised ratio (what GCL uses,
``Z`` being unknown) has an ``O(1/n)`` bias.

The exact gradient (:func:`exact_maxent_gradient`) is ``ci.irl.objective(mode="exact")``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks
from ctrlinf.irl import objective
from ctrlinf.trajectories import Trajectories, feature_counts, sample

if TYPE_CHECKING:
    from ctrlinf._typing import ArrayLike, FloatArray, Seed
    from ctrlinf.mdp import TabularMDP


# -- trajectory quantities ----------------------------------------------------
def trajectory_features(mdp, features, trajectories):
    """``Φ(τ) = Σ_t φ(s_t, a_t)`` over each trajectory's observed steps, shape (N, K)."""
    _checks.mdp(mdp)
    phi = _checks.state_action_features(features, mdp.n_states, mdp.n_actions)
    return summed_features(phi, trajectories, "trajectories")


def summed_features(phi, trajectories, name):
    """``Σ_t phi[s_t, a_t]`` per trajectory for checked (S, A, K) features, shape (N, K).

    Checks ``trajectories`` (naming the argument ``name``) against ``phi``'s sizes; the
    features are the caller's to check. Shared with :mod:`ctrlinf.bridge.discriminators`.
    """
    S, A = phi.shape[:2]
    _checks.trajectories(trajectories, name, S, A)
    return feature_counts(trajectories, phi, per_trajectory=True)


def policy_log_probability(policy, trajectories):
    """``Σ_t log π_t(a_t|s_t)`` over each trajectory's observed steps, shape (N,).

    Parameters
    ----------
    policy : ndarray, shape (T, S, A) or (S, A)
    trajectories : Trajectories
        Their padding (steps ``t >= lengths[i]``) is not read.
    """
    _checks.trajectories(trajectories, "trajectories")
    array = _checks.real_array(policy, "policy")
    if array.ndim not in (2, 3):
        raise ValueError(f"policy has shape {array.shape}, expected (T, S, A) or (S, A)")
    S, A = array.shape[-2:]
    if S == 0 or A == 0:
        raise ValueError(f"policy has shape {array.shape}, expected at least one state and "
                         "action")
    policy = _checks.policy(policy, S, A, trajectories.length)        # rows renormalised
    steps = _checks.trajectories(trajectories, "trajectories", S, A,
                                 sizes_from="policy").observed()
    picked = policy[0 if policy.shape[0] == 1 else steps.t, steps.state, steps.action]
    with np.errstate(divide="ignore"):
        return np.bincount(steps.trajectory, weights=np.log(picked),
                           minlength=trajectories.n_trajectories)


def exact_maxent_gradient(mdp: TabularMDP, features: ArrayLike, demos: Trajectories,
                          theta: ArrayLike) -> tuple[FloatArray, float]:
    r"""The exact MaxEnt IRL gradient ``μ_E − E_{p_θ}[Φ]`` and ``log Z(θ)``.

    ``ci.irl.objective(mode="exact")`` with its checks, read in the trajectory
    language of this module: its value is ``θ·μ_E − log Z(θ)``, its gradient
    ``μ_E − E_{p_θ}[Φ]``.

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon, ``gamma = 1``.
    features : ndarray, shape (S, K) or (S, A, K)
    demos : Trajectories
    theta : ndarray, shape (K,)

    Returns
    -------
    gradient : ndarray, shape (K,)
    log_partition : float
        ``log Z(θ) = log Σ_τ p(τ) exp R_θ(τ)`` (``ci.log_evidence``).
    """
    value, gradient = objective(mdp, features, demos, theta, mode="exact")
    expert = feature_counts(demos, _checks.state_action_features(features, mdp.n_states,
                                                                  mdp.n_actions))
    return gradient, float(np.asarray(theta, dtype=np.float64) @ expert - value)


# -- importance-sampled gradient ---------------------------------------------------
@dataclass(frozen=True)
class SampledGradient:
    r"""An importance-sampled MaxEnt IRL gradient; ``np.asarray(result)`` is the gradient.

    Attributes
    ----------
    gradient : ndarray, shape (K,)
        ``μ_E − Ê_{p_θ}[Φ]``.
    standard_error : ndarray, shape (K,)
        Its Monte-Carlo standard error (delta method for the self-normalised ratio).
    model_features : ndarray, shape (K,)
        ``Ê_{p_θ}[Φ]``.
    expert_features : ndarray, shape (K,)
        ``μ_E``.
    weights : ndarray, shape (n_samples,)
        Normalised importance weights ``w_j / Σ w``.
    effective_sample_size : float
        ``(Σ w)^2 / Σ w^2``, from 1 (one sample dominates) to ``n_samples``.
    log_partition_estimate : float
        ``log mean_j w_j``, an estimate of ``log Z`` (unbiased before the log).
    samples : Trajectories
    """

    gradient: np.ndarray
    standard_error: np.ndarray
    model_features: np.ndarray
    expert_features: np.ndarray
    weights: np.ndarray
    effective_sample_size: float
    log_partition_estimate: float
    samples: Trajectories

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.gradient, dtype=dtype)


def irl_gradient_importance_sampled(mdp: TabularMDP, features: ArrayLike, demos: Trajectories,
                                    theta: ArrayLike, sampler_policy: ArrayLike, n_samples: int,
                                    seed: Seed = None,
                                    log_partition: float | None = None) -> SampledGradient:
    r"""The MaxEnt IRL gradient estimated from a sampler policy's trajectories (GCL).

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon, ``gamma = 1``; used only to *sample* trajectories (the
        importance weights never read ``P``).
    features : ndarray, shape (S, K) or (S, A, K)
        ``r_θ = φ · θ``.
    demos : Trajectories
        Expert demonstrations, length ``T``.
    theta : ndarray, shape (K,)
    sampler_policy : ndarray, shape (T, S, A) or (S, A)
        ``π`` with ``π(a|s) > 0`` everywhere (else the weights miss trajectories that
        ``p_θ`` reaches and the estimate is biased).
    n_samples : int
    seed : int or numpy.random.Generator, optional
    log_partition : float, optional
        The exact ``log Z(θ)`` (e.g. from :func:`exact_maxent_gradient`); with it the
        estimate is the unbiased ``mean_j (w_j / Z) Φ(τ_j)``; without it (what an
        algorithm can do) the self-normalised ratio.

    Returns
    -------
    SampledGradient

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=3)
    >>> features = np.eye(3)
    >>> demos = ci.sample(mdp, np.full((3, 2), 0.5), 20, seed=1)
    >>> g = irl_gradient_importance_sampled(mdp, features, demos, np.zeros(3),
    ...                                     np.full((3, 2), 0.5), 5000, seed=0)
    >>> exact, _ = exact_maxent_gradient(mdp, features, demos, np.zeros(3))
    >>> bool(np.all(np.abs(np.asarray(g) - exact) < 4 * g.standard_error + 1e-12))
    True
    """
    _checks.maxent_mdp(mdp)
    n = _checks.positive_int(n_samples, "n_samples")
    phi = _checks.feature_scale(
        _checks.state_action_features(features, mdp.n_states, mdp.n_actions), mdp.horizon)
    theta = _checks.real_array(theta, "theta")
    if theta.shape != (phi.shape[2],):
        raise ValueError(f"theta has shape {theta.shape}, expected (K,) = ({phi.shape[2]},) "
                         "to match the features")
    _checks.finite(theta, "theta")
    _checks.trajectories(demos, "demos", mdp.n_states, mdp.n_actions, nonempty=True)
    if demos.length != mdp.horizon:
        raise ValueError(f"demos have length {demos.length}, expected the horizon {mdp.horizon}")
    policy = _checks.policy(sampler_policy, mdp.n_states, mdp.n_actions, mdp.horizon,
                            "sampler_policy")
    policy = policy[0] if policy.shape[0] == 1 else policy    # as given: (S, A) or (T, S, A)
    if np.any(policy <= 0):
        index = tuple(int(i) for i in np.argwhere(policy <= 0)[0])
        raise ValueError(
            f"sampler_policy{list(index)} is {policy[index]:g}; importance sampling needs "
            "π(a|s) > 0 for every action, or trajectories p_θ reaches are never drawn"
        )
    samples = sample(mdp, policy, n, seed=seed)
    Phi = summed_features(phi, samples, "samples")
    log_w = Phi @ theta - policy_log_probability(policy, samples)
    shift = log_w.max()
    w = np.exp(log_w - shift)
    normalised = w / w.sum()
    expert = feature_counts(demos, phi)
    if log_partition is not None:
        log_partition = _checks.real(log_partition, "log_partition")
    if log_partition is None:
        model = normalised @ Phi
        # Delta method for a ratio of means: Var ≈ Σ_j w̃_j² (Φ_j − μ̂)².
        standard_error = np.sqrt((normalised[:, None] ** 2 * (Phi - model) ** 2).sum(axis=0))
    else:
        terms = np.exp(log_w - float(log_partition))[:, None] * Phi
        model = terms.mean(axis=0)
        standard_error = terms.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else \
            np.full(model.shape, np.inf)
    return SampledGradient(
        gradient=expert - model, standard_error=standard_error, model_features=model,
        expert_features=expert, weights=normalised,
        effective_sample_size=float(w.sum() ** 2 / (w ** 2).sum()),
        log_partition_estimate=float(shift + np.log(w.mean())), samples=samples,
    )
