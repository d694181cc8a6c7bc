"""Exact-mode IRL gradients when the rewards are large.

IRL runs at temperature 1, so rewards of size 1e3 are what temperature 1e-3 is to
rewards of size 1: p(τ | O) is nearly a point mass and exp(Σ r) overflows. The
references here are a log-space enumeration of every trajectory (tests/enumeration.py
``log_posterior``: weights kept as logarithms) and central finite differences of the value.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from enumeration import all_trajectories
from enumeration import dynamics_probability
from enumeration import log_posterior
from enumeration import random_mdp_arrays
from test_irl_objective import finite_difference
from test_irl_objective import serial_numba  # noqa: F401  (autouse fixture)


def enumerated_objective(mdp, phi, demos, theta):
    """θ·μ_E − log Z and μ_E − Σ_t Σ_{s,a} p(s_t, a_t | O) φ(s, a), by enumeration."""
    r = phi @ theta
    log_Z, _, state_action, _ = log_posterior(mdp.transition_tensor(), r, mdp.p0, mdp.horizon)
    t = np.arange(demos.length)
    mu_E = phi[demos.states[:, t], demos.actions[:, t]].sum(axis=1).mean(axis=0)
    return theta @ mu_E - log_Z, mu_E - np.einsum("tsa,sak->k", state_action, phi)


def chain():
    """Issue 9's chain: from state 0 action 0 goes to state 1, action 1 to state 2;
    states 1 and 2 absorb. p0 = state 0, T = 2, one indicator per state-action pair."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[0, 1, 2] = 1.0
    P[1, :, 1] = P[2, :, 2] = 1.0
    mdp = ci.TabularMDP(P, np.zeros((3, 2)), p0=[1.0, 0.0, 0.0], horizon=2)
    return mdp, np.eye(6).reshape(3, 2, 6)


def test_exact_gradient_on_the_chain_with_rewards_of_a_thousand():
    # r = 1000 [[1, 0], [0, 0], [2, 2]]: 0 -> 2 earns 2000, 0 -> 1 earns 1000, so the
    # posterior is in state 2 at t = 1 and takes either action there; the demo goes
    # 0 -> 2 and takes action 0. Linear-space messages gave [0, 0, -.5, -.5, 1, 0].
    mdp, phi = chain()
    theta = 1000.0 * np.array([1.0, 0.0, 0.0, 0.0, 2.0, 2.0])
    demos = ci.Trajectories([[0, 2]], [[1, 0]])
    value, grad = ci.irl.objective(mdp, phi, demos, theta, mode="exact")
    expected_value, expected_grad = enumerated_objective(mdp, phi, demos, theta)
    assert_allclose(value, expected_value, rtol=1e-12)
    assert_allclose(grad, [0.0, 0.0, 0.0, 0.0, 0.5, -0.5], atol=1e-9)
    assert_allclose(grad, expected_grad, atol=1e-9)
    numeric = finite_difference(
        lambda x: ci.irl.objective(mdp, phi, demos, x, mode="exact")[0], theta, h=1e-4)
    assert_allclose(grad, numeric, atol=1e-6)


@pytest.mark.parametrize("deterministic, seed", [(True, 0), (True, 1), (False, 0)])
def test_exact_gradient_matches_log_space_enumeration_for_large_random_rewards(deterministic,
                                                                                 seed):
    # Random MDPs (deterministic, or sparse stochastic), rewards ~ 1e3 (temperature-1e-3
    # scale), state-action features. Linear-space forward messages were off by up to 1.7
    # in the deterministic cases.
    rng = np.random.default_rng(seed)
    S, A, T, K = 3, 2, 3, 4
    P, _, p0 = random_mdp_arrays(rng, S, A, deterministic=deterministic, sparsity=0.5)
    mdp = ci.TabularMDP(P, np.zeros((S, A)), p0, horizon=T)
    phi = rng.normal(size=(S, A, K))
    theta = 1000.0 * rng.normal(size=K)
    demos = ci.sample(mdp, ci.solve(mdp.replace(r=phi @ theta / 1000.0)).policy, n=5,
                      seed=seed)
    value, grad = ci.irl.objective(mdp, phi, demos, theta, mode="exact")
    expected_value, expected_grad = enumerated_objective(mdp, phi, demos, theta)
    assert_allclose(value, expected_value, rtol=1e-12)
    assert_allclose(grad, expected_grad, atol=1e-6)
    numeric = finite_difference(
        lambda x: ci.irl.objective(mdp, phi, demos, x, mode="exact")[0], theta, h=1e-4)
    assert_allclose(grad, numeric, atol=1e-5)


def enumerated_prefix_objective(mdp, phi, demos, theta):
    """The truncated-demos objective and its gradient by log-space enumeration.

    Demo ``i`` scores ``log Σ_{τ ⊇ prefix_i} p(τ) e^{R(τ)} − log Z − log p(prefix_i)``
    (every continuation of what was observed), whose gradient in θ is
    ``E[Φ(τ) | prefix_i, O] − E[Φ(τ) | O]``; ``R = −inf`` where ``mdp.r`` forbids.
    """
    r = np.where(np.isneginf(mdp.r), -np.inf, phi @ theta)
    P, p0, T = mdp.transition_tensor(), mdp.p0, mdp.horizon
    logs, feats, paths = [], [], []
    for states, actions in all_trajectories(mdp.n_states, mdp.n_actions, T):
        dyn = dynamics_probability(P, p0, states, actions)
        R = r[states, actions].sum()
        if dyn > 0 and R > -np.inf:
            logs.append(np.log(dyn) + R)
            feats.append(phi[states, actions].sum(axis=0))
            paths.append((states, actions))
    logs, feats = np.array(logs), np.array(feats)

    def mean_features(keep):
        w = np.exp(logs[keep] - logs[keep].max())
        return (w / w.sum()) @ feats[keep]

    log_Z, everything = np.logaddexp.reduce(logs), mean_features(slice(None))
    value, grad = 0.0, np.zeros(phi.shape[-1])
    for i in range(demos.n_trajectories):
        L = demos.lengths[i]
        s_i, a_i = demos.states[i, :L], demos.actions[i, :L]
        keep = np.array([np.array_equal(s[:L], s_i) and np.array_equal(a[:L], a_i)
                         for s, a in paths])
        value += (np.logaddexp.reduce(logs[keep]) - log_Z
                  - np.log(dynamics_probability(P, p0, s_i, a_i)))
        grad += mean_features(keep) - everything
    return value / demos.n_trajectories, grad / demos.n_trajectories


@pytest.mark.parametrize("seed, scale, masked", [(3, 1e150, False), (9, 1e150, False),
                                                 (5, 300.0, True), (8, 300.0, True)])
def test_exact_gradient_of_truncated_demos_is_finite_at_any_reward_scale(seed, scale, masked):
    # Issue 18: θ ≈ 1e150 (no mask), or θ = 300 with a forbidden action, and truncated
    # demos gave NaN gradients: exp(V − (Q − r)) overflowed in the continuation (Q − r
    # cancels at r ≈ 1e150; at a forbidden pair it was 0), then inf · 0.
    rng = np.random.default_rng(seed)
    S, A, T = 3, 2, 3
    P, _, p0 = random_mdp_arrays(rng, S, A, deterministic=seed % 2 == 0, sparsity=0.5)
    r = np.zeros((S, A))
    if masked:
        r[rng.integers(S), rng.integers(A)] = -np.inf
    mdp = ci.TabularMDP(P, r, p0, horizon=T)
    phi = rng.normal(size=(S, A, 4))
    theta = scale * rng.normal(size=4)
    full = ci.sample(mdp, ci.solve(mdp).policy, n=4, seed=seed)
    demos = ci.Trajectories(full.states, full.actions, lengths=[1, 2, 3, 1])
    value, grad = ci.irl.objective(mdp, phi, demos, theta, mode="exact")
    expected_value, expected_grad = enumerated_prefix_objective(mdp, phi, demos, theta)
    assert np.all(np.isfinite(grad))
    assert_allclose(value, expected_value, rtol=1e-9)
    assert_allclose(grad, expected_grad, atol=1e-9)
