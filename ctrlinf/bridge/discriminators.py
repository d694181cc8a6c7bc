r"""Discriminators of sample-based IRL and their exact optimum.

The GAN view (Finn, Christiano, Abbeel & Levine 2016; Ho & Ermon 2016): the best
discriminator between data ``p`` and generator ``q`` is ``D*(x) = p(x) / (p(x) + q(x))``.
GCL gives its discriminator that form on trajectories,
``D_θ(τ) = exp(R_θ(τ))/Z / (exp(R_θ(τ))/Z + Π_t π(a_t|s_t))``, so fitting it recovers
the reward and ``log Z``; a plain GAIL classifier ``D(s, a)`` on state-action pairs
reaches ``ρ_E(s, a) / (ρ_E(s, a) + ρ_π(s, a))`` of the occupancies instead. Both are
compared with the exact optimum on tiny MDPs through
:func:`~ctrlinf.bridge.enumerate_trajectories`.
Discriminators here output the probability of *expert* (GAIL's paper uses the opposite
label; only the sign convention differs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from ctrlinf import _checks
from ctrlinf.bridge.approximators import all_states, make_approximator, make_optimizer
from ctrlinf.bridge.importance_sampling import policy_log_probability
from ctrlinf.bridge.importance_sampling import summed_features
from ctrlinf.bridge.visitation import exact_visitation
from ctrlinf.trajectories import visitation

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ctrlinf._typing import ArrayLike, FloatArray, Seed
    from ctrlinf.mdp import TabularMDP
    from ctrlinf.trajectories import Trajectories


def optimal_discriminator(log_p: ArrayLike, log_q: ArrayLike) -> FloatArray:
    r"""``D*(x) = p(x) / (p(x) + q(x))`` from log densities, computed stably.

    Parameters
    ----------
    log_p, log_q : array_like
        Log densities of the data (expert) and of the generator (policy), same shape.

    Returns
    -------
    ndarray
        ``σ(log p − log q)``; NaN where both densities are 0.
    """
    log_p, log_q = np.asarray(log_p, dtype=np.float64), np.asarray(log_q, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        logit = log_p - log_q
    return sigmoid(logit)


def sigmoid(x):
    """``σ(x) = 1 / (1 + e^{−x})`` elementwise, without overflow for any float ``x``.

    Shared with :mod:`ctrlinf.bridge.adversarial_imitation` (not checked: ``x`` is the
    caller's logits).
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    positive = x >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
    e = np.exp(x[~positive])
    out[~positive] = e / (1.0 + e)
    return out


# -- GCL discriminator (trajectories) ----------------------------------------------
@dataclass(frozen=True)
class GCLDiscriminator:
    r"""``D(τ) = exp(R_θ(τ))/Z / (exp(R_θ(τ))/Z + Π_t π(a_t|s_t))``, fitted.

    Attributes
    ----------
    theta : ndarray, shape (K,)
        Reward weights.
    log_partition : float
        The fitted ``log Z``.
    iterations : int
        Newton steps taken.
    """

    theta: np.ndarray
    log_partition: float
    iterations: int
    _features: np.ndarray
    _sampler_policy: np.ndarray

    def logit(self, trajectories):
        r"""``R_θ(τ) − log Z − Σ_t log π(a_t|s_t)`` per trajectory, shape (N,)."""
        return (summed_features(self._features, trajectories, "trajectories") @ self.theta
                - self.log_partition
                - policy_log_probability(self._sampler_policy, trajectories))

    def __call__(self, trajectories):
        """``D(τ)`` per trajectory, shape (N,)."""
        return sigmoid(self.logit(trajectories))


def gcl_discriminator(mdp: TabularMDP, features: ArrayLike, demos: Trajectories,
                      samples: Trajectories, sampler_policy: ArrayLike, max_iter: int = 100,
                      tol: float = 1e-10) -> GCLDiscriminator:
    r"""Fit the GCL-form discriminator by logistic regression (Finn et al. 2016).

    Maximises ``mean_demos log D(τ) + mean_samples log(1 − D(τ))`` over ``(θ, log Z)``.
    The logit ``θ·Φ(τ) − log Z − log Π π(a|s)`` is linear in ``(θ, log Z)``, so the
    problem is convex; Newton's method solves it. With the two means weighted equally
    the population optimum is ``D* = p/(p + q)``, which this form reaches exactly when
    the demos are MaxEnt-distributed for a reward linear in the features.

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon, ``gamma = 1`` (only its sizes are read).
    features : ndarray, shape (S, K) or (S, A, K)
    demos : Trajectories
        Expert trajectories (label 1).
    samples : Trajectories
        Trajectories of ``sampler_policy`` (label 0).
    sampler_policy : ndarray, shape (T, S, A) or (S, A)
    max_iter : int, default 100
    tol : float, default 1e-10
        Stop when the Newton step's largest entry is below this.

    Returns
    -------
    GCLDiscriminator
    """
    _checks.maxent_mdp(mdp)
    phi = _checks.feature_scale(
        _checks.state_action_features(features, mdp.n_states, mdp.n_actions), mdp.horizon)
    max_iter = _checks.positive_int(max_iter, "max_iter")
    tol = _checks.real(tol, "tol", low=0.0)
    policy = _checks.policy(sampler_policy, mdp.n_states, mdp.n_actions, mdp.horizon,
                            "sampler_policy")
    policy = policy[0] if policy.shape[0] == 1 else policy
    groups = []
    for name, trajectories, label in (("demos", demos, 1.0), ("samples", samples, 0.0)):
        _checks.trajectories(trajectories, name, nonempty=True)
        Phi = summed_features(phi, trajectories, name)
        # Columns (Φ, −1) multiply (θ, log Z); the log π term is a fixed offset.
        X = np.hstack([Phi, -np.ones((Phi.shape[0], 1))])
        offset = -policy_log_probability(policy, trajectories)
        groups.append((X, offset, label, 1.0 / Phi.shape[0]))
    def loss_grad_hess(params):
        loss, grad = 0.0, np.zeros_like(params)
        hess = np.zeros((params.size, params.size))
        for X, offset, label, weight in groups:
            logit = X @ params + offset
            D = sigmoid(logit)
            loss -= weight * log_sigmoid(logit if label else -logit).sum()
            grad -= weight * X.T @ (label - D)
            hess += weight * (X * (D * (1.0 - D))[:, None]).T @ X
        return loss, grad, hess

    params = np.zeros(phi.shape[2] + 1)
    loss, grad, hess = loss_grad_hess(params)
    iterations = 0
    for iterations in range(1, max_iter + 1):
        # A tiny ridge keeps the step defined when features are collinear.
        step = -np.linalg.solve(hess + 1e-10 * np.eye(params.size), grad)
        # Backtrack: a full Newton step can overshoot far from the optimum.
        size = 1.0
        while True:
            trial = loss_grad_hess(params + size * step)
            if trial[0] <= loss or size < 1e-8:
                break
            size *= 0.5
        params = params + size * step
        loss, grad, hess = trial
        if np.max(np.abs(size * step)) < tol:
            break
    return GCLDiscriminator(theta=params[:-1].copy(), log_partition=float(params[-1]),
                            iterations=iterations, _features=phi, _sampler_policy=policy)


# -- GAIL classifier (state-action pairs) ---------------------------------------------
@dataclass(frozen=True)
class GAILDiscriminator:
    """A state-action classifier ``D(s, a)`` = P(expert | s, a).

    Attributes
    ----------
    D : ndarray, shape (S, A)
        The classifier's output at every pair.
    history : dict of lists
        ``iteration`` and ``loss`` (the mean binary cross-entropy of the two classes).
    """

    D: np.ndarray
    history: dict


def gail_discriminator(mdp: TabularMDP, demos: Trajectories, samples: Trajectories,
                       approximator: Literal["tabular", "linear", "mlp"] = "tabular",
                       features: ArrayLike | None = None, n_iterations: int = 2000,
                       learning_rate: float = 0.05, hidden: Sequence[int] = (32,),
                       seed: Seed = None) -> GAILDiscriminator:
    r"""Train a plain GAIL classifier on state-action pairs (Ho & Ermon 2016).

    Minimises ``mean_{(s,a) ∈ demos} −log D(s, a) + mean_{(s,a) ∈ samples}
    −log(1 − D(s, a))`` by full-batch Adam. ``D(s, a) = σ(f(s)_a)`` with ``f`` a table,
    linear in ``features`` or an MLP. Its population optimum is
    ``ρ_E(s, a) / (ρ_E(s, a) + ρ_π(s, a))`` over the (time-averaged) occupancies:
    compare with :func:`exact_gail_optimum`.

    Parameters
    ----------
    mdp : TabularMDP
        Only its sizes are read.
    demos, samples : Trajectories
        Expert pairs (label 1) and policy pairs (label 0).
    approximator : {"tabular", "linear", "mlp"}
    features : ndarray, shape (S, K) or (S, A, K), optional
    n_iterations : int, default 2000
    learning_rate : float, default 0.05
    hidden : sequence of int, default (32,)
    seed : int or numpy.random.Generator, optional
        The MLP's initial weights (a table or linear map starts at 0 whatever the seed).

    Returns
    -------
    GAILDiscriminator
    """
    S, A = _checks.mdp(mdp).n_states, mdp.n_actions
    n_iterations = _checks.positive_int(n_iterations, "n_iterations")
    rng = np.random.default_rng(_checks.seed(seed))
    f = make_approximator(approximator, S, A, features, hidden, "tanh", seed=rng)
    optimizer = make_optimizer("adam", f)
    # Count each distinct pair once, weighted by its frequency: the loss is unchanged.
    # The empirical visitation reads the observed steps only (never padding).
    weights = np.zeros((2, S * A))
    for row, (name, trajectories) in enumerate((("demos", demos), ("samples", samples))):
        _checks.trajectories(trajectories, name, S, A, nonempty=True)
        counts = visitation(trajectories, S, A).ravel()
        weights[row] = counts / counts.sum()
    states = np.repeat(np.arange(S), A)
    actions = np.tile(np.arange(A), S)
    rows = np.arange(S * A)
    history = {"iteration": [], "loss": []}
    log_every = max(1, n_iterations // 100)
    for iteration in range(n_iterations):
        out, cache = f.forward(states)
        logit = out[rows, actions]
        D = sigmoid(logit)
        # d/dlogit of −w_E log σ − w_π log(1 − σ) is w_π σ − w_E (1 − σ).
        grad = np.zeros_like(out)
        grad[rows, actions] = weights[1] * D - weights[0] * (1.0 - D)
        optimizer.step(f.backward(cache, grad), learning_rate)
        if (iteration + 1) % log_every == 0:
            loss = -(weights[0] * log_sigmoid(logit) + weights[1] * log_sigmoid(-logit)).sum()
            history["iteration"].append(iteration + 1)
            history["loss"].append(float(loss))
    return GAILDiscriminator(D=sigmoid(all_states(f)), history=history)


def log_sigmoid(x):
    """``log σ(x) = −log(1 + e^{−x})`` elementwise, finite for every finite ``x``.

    Shared with :mod:`ctrlinf.bridge.adversarial_imitation`.
    """
    return -np.logaddexp(0.0, -x)


def exact_gail_optimum(mdp: TabularMDP, expert_state_action: ArrayLike,
                       policy: ArrayLike) -> FloatArray:
    r"""``ρ_E / (ρ_E + ρ_π)`` per (s, a), with time-averaged occupancies.

    Parameters
    ----------
    mdp : TabularMDP
    expert_state_action : ndarray, shape (T, S, A), or (S, A) for an infinite horizon
        The expert's exact state-action marginals (e.g. ``ci.marginals`` of an exact
        solution).
    policy : ndarray, shape (T, S, A) or (S, A)
        The generator policy; its occupancy comes from :func:`exact_visitation`.

    Returns
    -------
    ndarray, shape (S, A)
        NaN where neither visits the pair.
    """
    _checks.mdp(mdp)
    S, A, T = mdp.n_states, mdp.n_actions, mdp.horizon
    policy = _checks.policy(policy, S, A, T)                       # rows renormalised
    expert = _checks.real_array(expert_state_action, "expert_state_action",
                                shape=(S, A) if T is None else (T, S, A))
    _checks.finite(expert, "expert_state_action")
    rho_policy = exact_visitation(mdp, policy[0] if policy.shape[0] == 1 else policy)[1]
    # Time-averaged occupancies (an infinite horizon's are stationary already).
    rho_expert = expert if T is None else expert.mean(axis=0)
    rho_policy = rho_policy if T is None else rho_policy.mean(axis=0)
    with np.errstate(divide="ignore"):
        return optimal_discriminator(np.log(rho_expert), np.log(rho_policy))
