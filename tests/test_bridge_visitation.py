"""Monte-Carlo visitation against the exact forward recursion: bias and variance."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf.bridge import exact_visitation, sampled_visitation, visitation_error


def random_policy(shape, seed=0):
    return np.random.default_rng(seed).dirichlet(np.ones(shape[-1]), size=shape[:-1])


@pytest.mark.parametrize("horizon", [6, None])
def test_exact_visitation_is_the_soft_marginals(horizon):
    mdp = ci.envs.random_mdp(5, 3, branching=2, seed=1, horizon=horizon, gamma=0.9)
    sol = ci.solve(mdp, mode="soft")
    state, state_action = exact_visitation(mdp, sol.policy)
    expected_state, expected_state_action = ci.marginals(mdp, sol)
    assert_allclose(state, expected_state, atol=1e-12)
    assert_allclose(state_action, expected_state_action, atol=1e-12)


def test_sampled_visitation_is_unbiased_with_variance_one_over_n():
    mdp = ci.envs.random_mdp(4, 2, seed=2, horizon=5)
    policy = random_policy((5, 4, 2))
    small = visitation_error(mdp, policy, 100, n_repeats=200, seed=0)
    large = visitation_error(mdp, policy, 400, n_repeats=200, seed=1)
    # Unbiased: Σ|mean error| is about 0.8 Σ SE_i (a half-normal's mean) for noise alone.
    for err in (small, large):
        assert err.bias < 1.5 * err.bias_standard_error
    # Counts of N independent trajectories: variance ∝ 1/N, L1 error ∝ 1/√N.
    assert small.variance / large.variance == pytest.approx(4.0, rel=0.2)
    assert small.l1_error / large.l1_error == pytest.approx(2.0, rel=0.15)


def test_sampled_counts_are_frequencies():
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=4)
    demos = ci.sample(mdp, np.full((3, 2), 0.5), 50, seed=7)
    state, state_action = sampled_visitation(mdp, np.full((3, 2), 0.5), 50, seed=7)
    for t in range(4):
        assert_allclose(state[t], np.bincount(demos.states[:, t], minlength=3) / 50)
    assert_allclose(state_action.sum(axis=2), state)


def test_infinite_horizon_truncation_bias():
    # Rollouts of length L miss the discounted tail: the renormalised estimate over-weights
    # early steps, an L1 bias of at most 2 γ^L that the exact truncated sum predicts.
    gamma, L = 0.8, 4
    mdp = ci.envs.random_mdp(4, 2, seed=3, horizon=None, gamma=gamma)
    policy = random_policy((4, 2), seed=1)
    exact = exact_visitation(mdp, policy)[1]
    rollout = exact_visitation(mdp.replace(horizon=L, gamma=1.0), policy)[1]
    weights = gamma ** np.arange(L) / np.sum(gamma ** np.arange(L))
    predicted = np.abs(np.einsum("t,tsa->sa", weights, rollout) - exact).sum()
    err = visitation_error(mdp, policy, 2000, n_repeats=50, seed=0, length=L)
    assert 0 < predicted <= 2 * gamma ** L
    assert err.bias == pytest.approx(predicted, abs=3 * err.bias_standard_error)
    long = visitation_error(mdp, policy, 2000, n_repeats=50, seed=0, length=60)
    assert long.bias < 1.5 * long.bias_standard_error


@pytest.mark.parametrize("call, message", [
    (lambda m: sampled_visitation(m, np.full((3, 3), 1 / 3), 10), r"policy has shape \(3, 3\)"),
    (lambda m: sampled_visitation(m, np.full((3, 2), 0.5), 0), "n_trajectories must be"),
    (lambda m: sampled_visitation(m, np.full((3, 2), 0.5), 5, length=3),
     "length is only for infinite-horizon MDPs"),
    (lambda m: visitation_error(m, np.full((3, 2), 0.5), 5, n_repeats=0), "n_repeats must be"),
    (lambda m: exact_visitation(m, np.full((5, 3, 2), 0.5)), r"\(T, S, A\) = \(4, 3, 2\)"),
])
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(ci.envs.random_mdp(3, 2, seed=0, horizon=4))


@pytest.mark.parametrize("call, message", [
    (lambda m: exact_visitation(m, [["a", "b"]] * 3), "policy must be an array of real numbers"),
    (lambda m: sampled_visitation("mdp", np.full((3, 2), 0.5), 10),
     "mdp must be a ctrlinf.TabularMDP"),
])
def test_wrong_types_are_type_errors(call, message):
    with pytest.raises(TypeError, match=message):
        call(ci.envs.random_mdp(3, 2, seed=0, horizon=4))


@pytest.mark.parametrize("horizon", [5, None])
def test_exact_visitation_uses_the_renormalised_policy(horizon):
    # Rows within tolerance of 1 are renormalised by the core; the state-action
    # occupancy must use the same rows, so that it sums over actions to the state one.
    mdp = ci.envs.random_mdp(4, 3, seed=2, horizon=horizon, gamma=0.9)
    policy = np.full((4, 3), (1 + 6e-7) / 3)
    state, state_action = exact_visitation(mdp, policy)
    assert_allclose(state_action.sum(axis=-1), state, rtol=1e-15, atol=0)
