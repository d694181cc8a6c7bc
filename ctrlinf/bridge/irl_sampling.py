r"""Sample-based MaxEnt IRL: the importance-sampled gradient and the GAN view.

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

The GAN view (Finn, Christiano, Abbeel & Levine 2016; Ho & Ermon 2016): the best
discriminator between data ``p`` and generator ``q`` is ``D*(x) = p(x) / (p(x) + q(x))``.
GCL gives its discriminator that form on trajectories,
``D_θ(τ) = exp(R_θ(τ))/Z / (exp(R_θ(τ))/Z + Π_t π(a_t|s_t))``, so fitting it recovers
the reward and ``log Z``; a plain GAIL classifier ``D(s, a)`` on state-action pairs
reaches ``ρ_E(s, a) / (ρ_E(s, a) + ρ_π(s, a))`` of the occupancies instead. Both are
compared with the exact optimum on tiny MDPs through :func:`enumerate_trajectories`.
Discriminators here output the probability of *expert* (GAIL's paper uses the opposite
label; only the sign convention differs).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import ctrlinf as ci
from ctrlinf import _checks
from ctrlinf.bridge.approximators import all_states, make_approximator, make_optimizer
from ctrlinf.bridge.visitation import exact_visitation
from ctrlinf.trajectories import feature_counts

#: enumerate_trajectories refuses MDPs with more candidate trajectories than this.
MAX_ENUMERATED = 2_000_000


# -- trajectory quantities ----------------------------------------------------
def _reward_features(mdp, features):
    """Features as a (S, A, K) array (state features broadcast over actions)."""
    features = np.asarray(features, dtype=np.float64)
    S, A = mdp.n_states, mdp.n_actions
    if features.ndim == 2 and features.shape[0] == S:
        return np.repeat(features[:, None, :], A, axis=1)
    if features.ndim == 3 and features.shape[:2] == (S, A):
        return features
    raise ValueError(f"features has shape {features.shape}, expected (S, K) = ({S}, K) or "
                     f"(S, A, K) = ({S}, {A}, K)")


def trajectory_features(mdp, features, trajectories):
    """``Φ(τ) = Σ_t φ(s_t, a_t)`` per trajectory, shape (N, K)."""
    return _summed(_reward_features(mdp, features), trajectories)


def _summed(phi, trajectories):
    """``Σ_t phi[s_t, a_t]`` per trajectory for a (S, A, K) array."""
    return feature_counts(trajectories, phi, per_trajectory=True)


def policy_log_probability(policy, trajectories):
    """``Σ_t log π_t(a_t|s_t)`` per trajectory, shape (N,); policy (T, S, A) or (S, A)."""
    policy = np.asarray(policy, dtype=np.float64)
    T = trajectories.length
    if policy.ndim == 2:
        picked = policy[trajectories.states, trajectories.actions]
    else:
        picked = policy[np.arange(T)[None, :], trajectories.states, trajectories.actions]
    with np.errstate(divide="ignore"):
        return np.log(picked).sum(axis=1)


def _check_maxent_mdp(mdp):
    if not isinstance(mdp, ci.TabularMDP):
        raise TypeError(f"mdp must be a ctrlinf.TabularMDP, got {type(mdp).__name__}")
    if mdp.horizon is None or mdp.gamma != 1.0:
        raise ValueError(
            f"MaxEnt IRL's trajectory distribution p(τ) exp(R(τ))/Z needs a finite horizon "
            f"and gamma=1, got horizon={mdp.horizon}, gamma={mdp.gamma:g}"
        )


def exact_maxent_gradient(mdp, features, demos, theta):
    r"""The exact MaxEnt IRL gradient ``μ_E − E_{p_θ}[Φ]`` (``mode="exact"`` marginals).

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
    _check_maxent_mdp(mdp)
    phi = _reward_features(mdp, features)
    reward_mdp = mdp.replace(r=phi @ np.asarray(theta, dtype=np.float64))
    sol = ci.solve(reward_mdp, mode="exact")
    state_action = ci.marginals(reward_mdp, sol)[1]
    model = np.einsum("tsa,sak->k", state_action, phi)
    expert = feature_counts(demos, phi)
    return expert - model, ci.log_evidence(reward_mdp, sol)


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
    samples: ci.Trajectories

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.gradient, dtype=dtype)


def irl_gradient_importance_sampled(mdp, features, demos, theta, sampler_policy, n_samples,
                                    seed=None, log_partition=None):
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
    _check_maxent_mdp(mdp)
    n = _checks.positive_int(n_samples, "n_samples")
    theta = np.asarray(theta, dtype=np.float64)
    phi = _reward_features(mdp, features)
    if theta.shape != (phi.shape[2],):
        raise ValueError(f"theta has shape {theta.shape}, expected (K,) = ({phi.shape[2]},)")
    if not isinstance(demos, ci.Trajectories):
        raise TypeError(f"demos must be ctrlinf.Trajectories, got {type(demos).__name__}")
    if demos.length != mdp.horizon:
        raise ValueError(f"demos have length {demos.length}, expected the horizon {mdp.horizon}")
    demos.check_against(mdp)
    policy = np.asarray(sampler_policy, dtype=np.float64)
    if np.any(policy <= 0):
        index = tuple(int(i) for i in np.argwhere(policy <= 0)[0])
        raise ValueError(
            f"sampler_policy{list(index)} is {policy[index]:g}; importance sampling needs "
            "π(a|s) > 0 for every action, or trajectories p_θ reaches are never drawn"
        )
    samples = ci.sample(mdp, policy, n, seed=seed)
    Phi = _summed(phi, samples)
    log_w = Phi @ theta - policy_log_probability(policy, samples)
    shift = log_w.max()
    w = np.exp(log_w - shift)
    normalised = w / w.sum()
    expert = feature_counts(demos, phi)
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


# -- exact trajectory distributions on tiny MDPs ------------------------------------
@dataclass(frozen=True)
class TrajectorySet:
    """Every trajectory of a tiny MDP that the dynamics allow.

    Attributes
    ----------
    trajectories : Trajectories
        All ``(s_0, a_0, ..., s_{T-1}, a_{T-1})`` with ``p(τ) > 0``.
    log_dynamics : ndarray, shape (N,)
        ``log p(τ) = log p0(s_0) + Σ_t log P(s_{t+1}|s_t, a_t)`` (no action terms).
    """

    trajectories: ci.Trajectories
    log_dynamics: np.ndarray

    def log_probability(self, policy):
        """``log p(τ) + Σ_t log π_t(a_t|s_t)``: the trajectory distribution of ``policy``."""
        return self.log_dynamics + policy_log_probability(policy, self.trajectories)

    def log_maxent(self, reward):
        """``log p(τ) + R(τ) − log Z``: the MaxEnt distribution for ``reward`` (S, A)."""
        traj = self.trajectories
        logits = self.log_dynamics + np.asarray(reward)[traj.states, traj.actions].sum(axis=1)
        shift = logits.max()
        return logits - (shift + np.log(np.exp(logits - shift).sum()))


def enumerate_trajectories(mdp):
    """Enumerate every trajectory with positive dynamics probability (tiny MDPs only).

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon ``T``; at most ``(S A)^T`` = 2 000 000 candidates.

    Returns
    -------
    TrajectorySet

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.envs.random_mdp(2, 2, seed=0, horizon=3)
    >>> found = enumerate_trajectories(mdp)
    >>> uniform = np.full((2, 2), 0.5)
    >>> float(np.round(np.exp(found.log_probability(uniform)).sum(), 12))
    1.0
    """
    if not isinstance(mdp, ci.TabularMDP) or mdp.horizon is None:
        raise ValueError("enumerate_trajectories needs a ctrlinf.TabularMDP with a finite horizon")
    S, A, T = mdp.n_states, mdp.n_actions, mdp.horizon
    if float(S * A) ** T > MAX_ENUMERATED:
        raise ValueError(f"(S*A)^T = ({S}*{A})^{T} trajectories is more than "
                         f"{MAX_ENUMERATED}; enumerate only tiny MDPs")
    P = mdp.transition_tensor()
    with np.errstate(divide="ignore"):
        log_P, log_p0 = np.log(P), np.log(mdp.p0)
    start = np.flatnonzero(mdp.p0 > 0)
    states = start[:, None]
    log_prob = log_p0[start]
    actions = np.empty((start.size, 0), dtype=np.int64)
    for t in range(T):
        # Branch every partial trajectory on a_t, then (before the last step) on s_{t+1}.
        n = states.shape[0]
        states = np.repeat(states, A, axis=0)
        log_prob = np.repeat(log_prob, A)
        actions = np.hstack([np.repeat(actions, A, axis=0), np.tile(np.arange(A), n)[:, None]])
        if t == T - 1:
            break
        n = states.shape[0]
        step = log_P[states[:, -1], actions[:, -1]]          # (n, S)
        keep = np.isfinite(step)
        rows, nxt = np.nonzero(keep)
        states = np.hstack([states[rows], nxt[:, None]])
        actions = actions[rows]
        log_prob = log_prob[rows] + step[rows, nxt]
    return TrajectorySet(ci.Trajectories(states, actions), log_prob)


def optimal_discriminator(log_p, log_q):
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
    return _sigmoid(logit)


def _sigmoid(x):
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
        return (_summed(self._features, trajectories) @ self.theta - self.log_partition
                - policy_log_probability(self._sampler_policy, trajectories))

    def __call__(self, trajectories):
        """``D(τ)`` per trajectory, shape (N,)."""
        return _sigmoid(self.logit(trajectories))


def gcl_discriminator(mdp, features, demos, samples, sampler_policy, max_iter=100, tol=1e-10):
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
    _check_maxent_mdp(mdp)
    phi = _reward_features(mdp, features)
    policy = np.asarray(sampler_policy, dtype=np.float64)
    groups = []
    for trajectories, label in ((demos, 1.0), (samples, 0.0)):
        Phi = _summed(phi, trajectories)
        # Columns (Φ, −1) multiply (θ, log Z); the log π term is a fixed offset.
        X = np.hstack([Phi, -np.ones((Phi.shape[0], 1))])
        offset = -policy_log_probability(policy, trajectories)
        groups.append((X, offset, label, 1.0 / Phi.shape[0]))
    def loss_grad_hess(params):
        loss, grad = 0.0, np.zeros_like(params)
        hess = np.zeros((params.size, params.size))
        for X, offset, label, weight in groups:
            logit = X @ params + offset
            D = _sigmoid(logit)
            loss -= weight * _log_sigmoid(logit if label else -logit).sum()
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


def gail_discriminator(mdp, demos, samples, approximator="tabular", features=None,
                       n_iterations=2000, learning_rate=0.05, hidden=(32,), seed=0):
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
    seed : int, default 0

    Returns
    -------
    GAILDiscriminator
    """
    S, A = mdp.n_states, mdp.n_actions
    n_iterations = _checks.positive_int(n_iterations, "n_iterations")
    rng = np.random.default_rng(_checks.seed(seed))
    f = make_approximator(approximator, S, A, features, hidden, "tanh", seed=rng)
    optimizer = make_optimizer("adam", f)
    # Count each distinct pair once, weighted by its frequency: the loss is unchanged.
    weights = np.zeros((2, S * A))
    for row, trajectories in enumerate((demos, samples)):
        flat = (trajectories.states * A + trajectories.actions).ravel()
        weights[row] = np.bincount(flat, minlength=S * A) / flat.size
    states = np.repeat(np.arange(S), A)
    actions = np.tile(np.arange(A), S)
    rows = np.arange(S * A)
    history = {"iteration": [], "loss": []}
    log_every = max(1, n_iterations // 100)
    for iteration in range(n_iterations):
        out, cache = f.forward(states)
        logit = out[rows, actions]
        D = _sigmoid(logit)
        # d/dlogit of −w_E log σ − w_π log(1 − σ) is w_π σ − w_E (1 − σ).
        grad = np.zeros_like(out)
        grad[rows, actions] = weights[1] * D - weights[0] * (1.0 - D)
        optimizer.step(f.backward(cache, grad), learning_rate)
        if (iteration + 1) % log_every == 0:
            loss = -(weights[0] * _log_sigmoid(logit) + weights[1] * _log_sigmoid(-logit)).sum()
            history["iteration"].append(iteration + 1)
            history["loss"].append(float(loss))
    return GAILDiscriminator(D=_sigmoid(all_states(f)), history=history)


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def exact_gail_optimum(mdp, expert_state_action, policy):
    r"""``ρ_E / (ρ_E + ρ_π)`` per (s, a), with time-averaged occupancies.

    Parameters
    ----------
    mdp : TabularMDP
    expert_state_action : ndarray, shape (T, S, A)
        The expert's exact state-action marginals (e.g. ``ci.marginals`` of an exact
        solution).
    policy : ndarray, shape (T, S, A) or (S, A)
        The generator policy; its occupancy comes from :func:`exact_visitation`.

    Returns
    -------
    ndarray, shape (S, A)
        NaN where neither visits the pair.
    """
    rho_expert = np.asarray(expert_state_action).mean(axis=0)
    rho_policy = exact_visitation(mdp, policy)[1].mean(axis=0)
    with np.errstate(divide="ignore"):
        return optimal_discriminator(np.log(rho_expert), np.log(rho_policy))

