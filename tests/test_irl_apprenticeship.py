"""Abbeel & Ng's projection algorithm, exact feature expectations, mixture policies."""
import itertools

import numpy as np
import pytest

import ctrlinf as ci


def _world():
    return ci.envs.random_mdp(3, 2, seed=0, horizon=3, gamma=0.9)


def test_feature_expectations_match_enumeration():
    mdp = _world()
    rng = np.random.default_rng(0)
    policy = rng.dirichlet(np.ones(2), size=(3, 3))
    phi = rng.normal(size=(3, 2, 2))
    P = mdp.transition_tensor()
    expected = np.zeros(2)
    for states in itertools.product(range(3), repeat=3):
        for actions in itertools.product(range(2), repeat=3):
            p = mdp.p0[states[0]]
            for t in range(3):
                p *= policy[t, states[t], actions[t]]
                if t < 2:
                    p *= P[states[t], actions[t], states[t + 1]]
            expected += p * sum(0.9 ** t * phi[states[t], actions[t]] for t in range(3))
    np.testing.assert_allclose(ci.irl.feature_expectations(mdp, policy, phi), expected,
                               atol=1e-12)


def test_mixture_policy_has_the_mixtures_occupancy():
    mdp = _world()
    rng = np.random.default_rng(1)
    policies = [rng.dirichlet(np.ones(2), size=(3, 3)) for _ in range(3)]
    weights = np.array([0.2, 0.5, 0.3])
    mixed = ci.irl.mixture_policy(mdp, policies, weights)
    expected = sum(w * ci.occupancy(mdp, p)[..., None] * p for w, p in zip(weights, policies))
    np.testing.assert_allclose(ci.occupancy(mdp, mixed)[..., None] * mixed, expected, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_projection_reaches_the_expert_features_with_a_convex_mixture(seed):
    mdp = ci.envs.random_mdp(4, 3, seed=seed, horizon=4)
    phi = np.eye(4)
    mu_E = ci.irl.feature_expectations(mdp, ci.solve(mdp).policy, phi)
    result = ci.irl.apprenticeship_projection(mdp, phi, mu_E, epsilon=1e-3)
    assert result.distances[-1] <= 1e-3
    assert np.all(np.diff(result.distances) <= 1e-12)
    assert np.all(result.weights >= 0) and np.isclose(result.weights.sum(), 1.0)
    np.testing.assert_allclose(result.weights @ result.feature_expectations, result.mu_bar,
                               atol=1e-10)
    mixed = ci.irl.mixture_policy(mdp, result.policies, result.weights)
    np.testing.assert_allclose(ci.irl.feature_expectations(mdp, mixed, phi), result.mu_bar,
                               atol=1e-10)


def test_errors():
    mdp = _world()
    with pytest.raises(ValueError, match="features has shape"):
        ci.irl.feature_expectations(mdp, np.full((3, 2), 0.5), np.ones((4, 1)))
    with pytest.raises(ValueError, match="finite horizon"):
        ci.irl.mixture_policy(mdp.replace(horizon=None), [np.full((3, 2), 0.5)], [1.0])
    with pytest.raises(ValueError, match="weights must be >= 0"):
        ci.irl.mixture_policy(mdp, [np.full((3, 2), 0.5)], [2.0])
    with pytest.raises(ValueError, match="features"):
        ci.irl.feature_expectations(mdp, np.full((3, 2), 0.5), np.full((3, 1), np.nan))
    with pytest.raises(ValueError, match="mu_expert"):
        ci.irl.apprenticeship_projection(mdp, np.eye(3), np.full(3, np.nan))
    with pytest.raises(ValueError, match="finite horizon"):
        ci.irl.apprenticeship_projection(mdp.replace(horizon=None), np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match="epsilon"):
        ci.irl.apprenticeship_projection(mdp, np.eye(3), np.zeros(3), epsilon=0)
    with pytest.raises(ValueError, match="mu_expert"):
        ci.irl.apprenticeship_projection(mdp, np.eye(3), np.zeros(2))
