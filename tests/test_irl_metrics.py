"""Expected value difference and held-out log-likelihood against direct computations."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from enumeration import policy_expectation
from enumeration import random_mdp_arrays
from test_irl_objective import serial_numba  # noqa: F401  (autouse fixture)

S, A = 4, 3


def world(seed=0, horizon=3, gamma=1.0):
    P, r, p0 = random_mdp_arrays(np.random.default_rng(seed), S, A)
    return ci.TabularMDP(P, r, p0, horizon=horizon, gamma=gamma)


@pytest.mark.parametrize("policy", ["hard", "soft"])
def test_evd_of_the_true_reward_is_zero(policy):
    mdp = world()
    assert_allclose(ci.irl.expected_value_difference(mdp, mdp.r, policy=policy), 0.0, atol=1e-12)


def test_evd_is_the_return_gap_of_optimal_policies_by_enumeration():
    mdp = world(gamma=0.9)
    learned = np.random.default_rng(1).normal(size=(S, A))
    P = mdp.transition_tensor()

    def true_return(policy):
        return policy_expectation(P, mdp.p0, policy, mdp.horizon,
                                  lambda t, s, a: 0.9**t * mdp.r[s, a])

    best = true_return(ci.solve(mdp, mode="hard").policy)
    mine = true_return(ci.solve(mdp.replace(r=learned), mode="hard").policy)
    evd = ci.irl.expected_value_difference(mdp, learned)
    assert_allclose(evd, best - mine, rtol=1e-12)
    assert evd > 0


def test_evd_ignores_reward_transformations_that_keep_the_optimal_policy():
    mdp = world(seed=2)
    learned = np.random.default_rng(2).normal(size=(S, A))
    evd = ci.irl.expected_value_difference(mdp, learned)
    assert_allclose(ci.irl.expected_value_difference(mdp, 3.0 * learned + 7.0), evd, rtol=1e-12)


def test_infinite_horizon_evd_matches_linear_policy_evaluation():
    mdp = world(seed=3, horizon=None, gamma=0.8)
    learned = np.random.default_rng(3).normal(size=(S, A))
    P = mdp.transition_tensor()

    def value(policy):                      # V^π = (I − γ P_π)^{-1} r_π, then E_p0
        P_pi = np.einsum("sa,sax->sx", policy, P)
        r_pi = np.sum(policy * mdp.r, axis=1)
        return mdp.p0 @ np.linalg.solve(np.eye(S) - 0.8 * P_pi, r_pi)

    for mode in ("hard", "soft"):
        expected = (value(ci.solve(mdp, mode=mode).policy)
                    - value(ci.solve(mdp.replace(r=learned), mode=mode).policy))
        assert_allclose(ci.irl.expected_value_difference(mdp, learned, policy=mode), expected,
                        rtol=1e-8)


@pytest.mark.parametrize("horizon, gamma", [(3, 1.0), (None, 0.5)])
def test_log_likelihood_sums_log_soft_policy_along_each_demo(horizon, gamma):
    mdp = world(seed=4, horizon=horizon, gamma=gamma)
    reward = np.random.default_rng(4).normal(size=(S, A))
    demos = ci.sample(mdp, ci.solve(mdp).policy, n=6, seed=0, length=3)
    policy = ci.solve(mdp.replace(r=reward)).policy
    if horizon is None:
        policy = np.broadcast_to(policy, (3, S, A))
    t = np.arange(3)
    expected = np.log(policy[t, demos.states, demos.actions]).sum(axis=1)
    assert_allclose(ci.irl.log_likelihood(mdp, reward, demos), expected, rtol=1e-12)


def test_log_likelihood_of_an_unlikely_action_stays_finite():
    mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=np.zeros((1, 2)), p0=[1.0], horizon=1)
    ll = ci.irl.log_likelihood(mdp, [[0.0, 2000.0]], ci.Trajectories([[0]], [[0]]))
    assert_allclose(ll, [-2000.0])
