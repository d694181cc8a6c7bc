"""The oracle: exact soft solution, exact policy evaluation, and the reports built on them."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf.bridge import Oracle
from enumeration import all_trajectories, dynamics_probability


def random_policy(rng, shape):
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


def enumerated_soft_return(mdp, policy, temperature):
    """Σ_τ p_π(τ) Σ_t γ^t (r − α log π_t): the definition of Σ_s p0(s) V^π_0(s)."""
    P, r, T, g = mdp.transition_tensor(), mdp.r, mdp.horizon, mdp.gamma
    total = 0.0
    for states, actions in all_trajectories(mdp.n_states, mdp.n_actions, T):
        pi = policy[np.arange(T), states, actions]
        prob = dynamics_probability(P, mdp.p0, states, actions) * pi.prod()
        if prob > 0:
            total += prob * np.sum(g ** np.arange(T) * (r[states, actions]
                                                        - temperature * np.log(pi)))
    return total


@pytest.mark.parametrize("horizon", [3, None])
@pytest.mark.parametrize("temperature", [1.0, 0.3])
def test_oracle_is_the_soft_solution(horizon, temperature):
    mdp = ci.envs.random_mdp(4, 3, seed=1, horizon=horizon, gamma=0.9)
    orc = Oracle(mdp, temperature=temperature)
    sol = ci.solve(mdp, mode="soft", temperature=temperature)
    assert_allclose(orc.Q, sol.Q, atol=1e-9)
    assert_allclose(orc.V, sol.V, atol=1e-9)
    assert_allclose(orc.policy, sol.policy, atol=1e-12)
    # The optimal policy is its own evaluation: V^{π*} = V*, Q^{π*} = Q*.
    assert_allclose(orc.evaluate(orc.policy), orc.V, atol=1e-8)
    assert_allclose(orc.evaluate_q(orc.policy), orc.Q, atol=1e-8)


@pytest.mark.parametrize("gamma", [1.0, 0.8])
def test_evaluate_equals_enumeration(gamma):
    mdp = ci.envs.random_mdp(3, 2, seed=4, horizon=3, gamma=gamma)
    rng = np.random.default_rng(0)
    policy = random_policy(rng, (3, 3, 2))
    orc = Oracle(mdp, temperature=0.7)
    V = orc.evaluate(policy)
    assert V.shape == (3, 3)
    assert_allclose(mdp.p0 @ V[0], enumerated_soft_return(mdp, policy, 0.7), rtol=1e-12)


def test_evaluate_infinite_horizon_equals_iterated_backup():
    mdp = ci.envs.random_mdp(5, 3, seed=2, horizon=None, gamma=0.8)
    policy = random_policy(np.random.default_rng(1), (5, 3))
    orc = Oracle(mdp, temperature=0.5)
    P = mdp.transition_tensor()
    entropy_reward = (policy * (mdp.r - 0.5 * np.log(policy))).sum(axis=1)
    V = np.zeros(5)
    for _ in range(400):   # contraction 0.8^400 ~ 1e-39
        V = entropy_reward + 0.8 * (policy * (P @ V)).sum(axis=1)
    assert_allclose(orc.evaluate(policy), V, atol=1e-10)
    assert_allclose(orc.evaluate_q(policy), mdp.r + 0.8 * P @ V, atol=1e-10)


def test_zero_probability_actions_contribute_nothing():
    # 0 log 0 = 0: a deterministic policy's soft value is its plain return.
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=4)
    greedy = np.zeros((3, 2))
    greedy[:, 1] = 1.0
    orc = Oracle(mdp)
    hard = Oracle(mdp, temperature=1e-3).evaluate(greedy)
    assert_allclose(orc.evaluate(greedy), hard, atol=1e-12)
    assert np.all(np.isfinite(orc.compare_policy(greedy).kl))


@pytest.mark.parametrize("horizon", [5, None])
def test_value_gap_is_alpha_times_discounted_kl(horizon):
    # V*_0 − V^π_0 = α E_π Σ_t γ^t KL(π_t ‖ π*_t): the identity the report rests on.
    gamma, alpha = 0.9, 0.6
    mdp = ci.envs.random_mdp(6, 3, seed=5, horizon=horizon, gamma=gamma)
    orc = Oracle(mdp, temperature=alpha)
    rng = np.random.default_rng(3)
    for _ in range(3):
        pi = random_policy(rng, (6, 3) if horizon is None else (5, 6, 3))
        rep = orc.compare_policy(pi)
        total = 1 / (1 - gamma) if horizon is None else np.sum(gamma ** np.arange(5))
        assert rep.value_gap > 0 and rep.kl > 0
        assert_allclose(rep.value_gap, alpha * total * rep.kl, rtol=1e-9)
        assert_allclose(rep.value, mdp.p0 @ np.atleast_2d(orc.evaluate(pi))[0])
        assert_allclose(rep.relative_value_gap, rep.value_gap / abs(rep.optimal_value))
    best = orc.compare_policy(orc.policy)
    assert abs(best.value_gap) < 1e-9 and abs(best.kl) < 1e-12
    uniform = orc.compare_policy(np.full((6, 3), 1 / 3))
    assert_allclose(uniform.normalised_value_gap, 1.0)


def test_callable_policy_matches_array():
    mdp = ci.envs.random_mdp(4, 2, seed=7, horizon=6)
    pi = random_policy(np.random.default_rng(0), (4, 2))
    orc = Oracle(mdp)
    assert orc.compare_policy(lambda s: pi[s]) == orc.compare_policy(pi)
    # A stationary policy is used at every time step of a finite horizon.
    assert_allclose(orc.evaluate(pi), orc.evaluate(np.broadcast_to(pi, (6, 4, 2))))


@pytest.mark.parametrize("horizon", [4, None])
def test_occupancy_equals_marginals_of_the_optimal_policy(horizon):
    mdp = ci.envs.random_mdp(5, 2, seed=3, horizon=horizon, gamma=0.9)
    orc = Oracle(mdp)
    state, state_action = orc.occupancy(orc.policy)
    expected_state, expected_state_action = ci.marginals(mdp, orc.solution)
    assert_allclose(state, expected_state, atol=1e-12)
    assert_allclose(state_action, expected_state_action, atol=1e-12)


def test_compare_q():
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=4)
    orc = Oracle(mdp)
    Q_hat = orc.Q.copy()
    Q_hat[2, 1, 0] += 0.5
    rep = orc.compare_q(Q_hat)
    assert rep.max_abs_error == pytest.approx(0.5) and rep.worst == (2, 1, 0)
    weights = orc.occupancy(orc.policy)[1]
    assert rep.weighted_abs_error == pytest.approx(0.5 * weights[2, 1, 0] / weights.sum())
    # A stationary estimate is compared with every Q*_t; custom weights are normalised.
    flat = orc.compare_q(orc.Q[0], weights=np.ones((3, 2)))
    assert flat.max_abs_error == pytest.approx(np.abs(orc.Q - orc.Q[0]).max())
    assert flat.weighted_abs_error == pytest.approx(np.abs(orc.Q - orc.Q[0]).mean())


def test_stationary_oracle_is_the_infinite_horizon_one():
    mdp = ci.envs.random_mdp(4, 2, seed=0, horizon=10)
    orc = Oracle.stationary(mdp, gamma=0.9, temperature=0.5)
    assert orc.mdp.horizon is None and orc.mdp.gamma == 0.9 and orc.Q.shape == (4, 2)
    assert_allclose(orc.V, ci.solve(mdp.replace(horizon=None, gamma=0.9), temperature=0.5).V)


@pytest.mark.parametrize("call, error, message", [
    (lambda o: Oracle("mdp"), TypeError, "mdp must be a ctrlinf.TabularMDP"),
    (lambda o: Oracle(o.mdp, temperature=0), ValueError, "temperature must be a positive"),
    (lambda o: o.evaluate(np.full((3, 3), 1 / 3)), ValueError,
     r"pi has shape \(3, 3\), expected \(T, S, A\) = \(4, 3, 2\) or \(S, A\) = \(3, 2\)"),
    (lambda o: o.evaluate(np.array([[1.5, -0.5]] * 3)), ValueError,
     r"pi\[0, 0, 1\] is -0.5, expected a probability"),
    (lambda o: o.evaluate(np.full((3, 2), 0.4)), ValueError,
     r"pi\[0, 0\] sums to 0.8, expected 1"),
    (lambda o: o.evaluate(lambda s: [1.0]), ValueError,
     r"pi\(0\) returned shape \(1,\), expected \(2,\)"),
    (lambda o: o.compare_q(np.zeros((3, 3))), ValueError, r"Q_hat has shape \(3, 3\)"),
    (lambda o: o.compare_q(np.zeros(2)), ValueError, r"Q_hat has shape \(2,\)"),
    (lambda o: o.compare_q(o.Q, weights=-np.ones((3, 2))), ValueError,
     "weights must be non-negative"),
])
def test_errors(call, error, message):
    orc = Oracle(ci.envs.random_mdp(3, 2, seed=0, horizon=4))
    with pytest.raises(error, match=message):
        call(orc)


def test_infinite_horizon_rejects_time_indexed_policies():
    orc = Oracle(ci.envs.random_mdp(3, 2, seed=0, horizon=None, gamma=0.5))
    with pytest.raises(ValueError, match=r"expected \(S, A\) = \(3, 2\)$"):
        orc.evaluate(np.full((4, 3, 2), 0.5))
