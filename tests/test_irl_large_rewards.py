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
