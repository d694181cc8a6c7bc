"""sample() and Trajectories: frequencies match the model, seeds reproduce, errors are clear."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import ctrlinf as ci
from ctrlinf import kernels
from ctrlinf.trajectories import feature_counts
from enumeration import random_mdp_arrays


@pytest.fixture
def mdp():
    rng = np.random.default_rng(1)
    P, r, p0 = random_mdp_arrays(rng, 4, 3, sparsity=0.3)
    return ci.TabularMDP(P, r, p0, horizon=5)


@pytest.mark.parametrize("variant", ["compiled", "py_func"])
def test_empirical_marginals_match_the_exact_occupancy(mdp, variant, monkeypatch):
    if variant == "py_func":
        monkeypatch.setattr(kernels, "sample_episodes", kernels.sample_episodes.py_func)
    sol = ci.solve(mdp, mode="soft")
    n = 40_000 if variant == "compiled" else 4_000
    demos = ci.sample(mdp, sol.policy, n=n, seed=3)
    _, exact = ci.marginals(mdp, sol)
    empirical = np.zeros_like(exact)
    for t in range(mdp.horizon):
        np.add.at(empirical[t], (demos.states[:, t], demos.actions[:, t]), 1.0 / n)
    # Each frequency is a mean of n Bernoulli draws: 5 standard errors.
    stderr = np.sqrt(exact * (1 - exact) / n)
    assert np.all(np.abs(empirical - exact) <= 5 * stderr + 1e-12)


def test_same_seed_same_trajectories(mdp):
    policy = ci.solve(mdp).policy
    a, b = ci.sample(mdp, policy, 10, seed=7), ci.sample(mdp, policy, 10, seed=7)
    assert_array_equal(a.states, b.states)
    assert_array_equal(a.actions, b.actions)
    assert not np.array_equal(a.states, ci.sample(mdp, policy, 10, seed=8).states)


def test_stationary_policy_and_infinite_horizon(mdp):
    infinite = mdp.replace(horizon=None, gamma=0.9)
    sol = ci.solve(infinite)
    demos = ci.sample(infinite, sol.policy, n=3, seed=0, length=7)
    assert demos.states.shape == (3, 7) and demos.states.dtype == np.int64
    with pytest.raises(ValueError, match="length is needed when mdp.horizon is None"):
        ci.sample(infinite, sol.policy, n=3)


def test_zero_trajectories(mdp):
    demos = ci.sample(mdp, ci.solve(mdp).policy, n=0)
    assert demos.states.shape == (0, 5) and len(demos) == 0


def test_sample_errors(mdp):
    policy = ci.solve(mdp).policy
    with pytest.raises(ValueError, match="n must be a non-negative int, got -1"):
        ci.sample(mdp, policy, n=-1)
    with pytest.raises(TypeError, match="n must be a non-negative int, got 2.5"):
        ci.sample(mdp, policy, n=2.5)
    with pytest.raises(ValueError, match=r"policy has shape \(5, 4, 2\), expected \(T, S, A\)"):
        ci.sample(mdp, policy[:, :, :2], n=1)
    bad = policy.copy()
    bad[1, 2] = [0.5, 0.2, 0.2]
    with pytest.raises(ValueError, match=r"policy\[1, 2, :\] sums to 0.9, expected 1"):
        ci.sample(mdp, bad, n=1)
    bad[1, 2] = [1.5, -0.5, 0.0]
    with pytest.raises(ValueError, match=r"policy\[1, 2, 1\] is -0.5, expected a probability"):
        ci.sample(mdp, bad, n=1)
    with pytest.raises(ValueError, match="length must be a positive int"):
        ci.sample(mdp, policy, n=1, length=0)
    with pytest.raises(TypeError, match="mdp must be a ctrlinf.TabularMDP"):
        ci.sample(None, policy, n=1)


def test_trajectories_validation_and_range_check(mdp):
    with pytest.raises(ValueError, match=r"states has shape \(3,\), expected \(N, T\)"):
        ci.Trajectories([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match=r"actions has shape \(1, 2\), expected the shape"):
        ci.Trajectories([[0, 1, 2]], [[0, 1]])
    with pytest.raises(TypeError, match="states must be an integer array"):
        ci.Trajectories([[0.5]], [[0]])
    demos = ci.Trajectories([[0, 1], [3, 4]], [[0, 0], [2, 1]])
    with pytest.raises(ValueError, match=r"states\[1, 1\] is 4, expected an index in \[0, 3\]"):
        demos.check_against(mdp)
    assert demos[0].states.tolist() == [[0, 1]]


def test_feature_counts_are_discounted_means():
    demos = ci.Trajectories([[0, 1], [1, 1]], [[0, 1], [1, 0]])
    phi = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert_allclose(feature_counts(demos, phi, gamma=0.5), [1 / 2, (0.5 + 1 + 0.5) / 2])
    phi_sa = np.arange(4.0).reshape(2, 2, 1)      # φ(s, a) = 2s + a
    assert_allclose(feature_counts(demos, phi_sa), [((0 + 3) + (3 + 2)) / 2])


def test_one_empirical_visitation_behind_feature_counts():
    rng = np.random.default_rng(3)
    demos = ci.Trajectories(rng.integers(0, 4, (6, 5)), rng.integers(0, 3, (6, 5)))
    D = ci.trajectories.visitation(demos, 4, 3, gamma=0.8)
    brute = np.zeros((4, 3))
    for s_row, a_row in zip(demos.states, demos.actions):
        for t, (s, a) in enumerate(zip(s_row, a_row)):
            brute[s, a] += 0.8 ** t / 6
    np.testing.assert_allclose(D, brute, atol=1e-15)
    phi_sa, phi_s = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 2))
    for phi in (phi_sa, phi_s):
        mu = ci.trajectories.feature_counts(demos, phi, 0.8)
        per = ci.trajectories.feature_counts(demos, phi, 0.8, per_trajectory=True)
        assert per.shape == (6, 2)
        np.testing.assert_allclose(per.mean(axis=0), mu, atol=1e-14)
    np.testing.assert_allclose(ci.trajectories.feature_counts(demos, phi_sa, 0.8),
                               np.einsum("sa,sak->k", brute, phi_sa), atol=1e-14)
