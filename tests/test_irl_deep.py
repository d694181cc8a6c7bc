"""Deep MaxEnt IRL: the network's backpropagation and the IRL gradient through it."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import ctrlinf as ci
from enumeration import random_mdp_arrays
from test_irl_objective import finite_difference
from test_irl_objective import relative_error
from test_irl_objective import serial_numba  # noqa: F401  (autouse fixture)

S, A, K = 5, 3, 4


def problem(seed=0, horizon=4, gamma=1.0, state_features=True, n_demos=30):
    rng = np.random.default_rng(seed)
    P, r, p0 = random_mdp_arrays(rng, S, A)
    mdp = ci.TabularMDP(P, r, p0, horizon=horizon, gamma=gamma)
    if state_features == "sparse":
        phi = sp.random(S, K, density=0.5, random_state=seed, format="csr")
    else:
        phi = rng.normal(size=(S, K) if state_features else (S, A, K))
    demos = ci.sample(mdp, ci.solve(mdp).policy, n=n_demos, seed=seed,
                      length=horizon or 40)
    return mdp, phi, demos


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_backward_is_the_gradient_of_a_weighted_sum_of_outputs(activation):
    net = ci.irl.RewardNet(K, hidden=(6, 5), activation=activation)
    rng = np.random.default_rng(0)
    params, X, weights = net.init_params(seed=1), rng.normal(size=(7, K)), rng.normal(size=7)
    out, cache = net.forward(params, X)
    numeric = finite_difference(lambda p: net.forward(p, X)[0] @ weights, params)
    assert relative_error(net.backward(params, cache, weights), numeric) < 1e-6


def test_network_layout_and_initialisation():
    net = ci.irl.RewardNet(K, hidden=(3,))
    params = net.init_params(seed=0)
    (W1, b1), (W2, b2) = net.layers(params)
    assert (W1.shape, b1.shape, W2.shape, b2.shape) == ((K, 3), (3,), (3, 1), (1,))
    assert net.n_params == K * 3 + 3 + 3 + 1
    assert not b1.any() and not b2.any()
    assert np.array_equal(net.init_params(seed=0), params)
    assert net.weight_mask().sum() == K * 3 + 3
    # No hidden layer: a linear reward with a bias.
    linear = ci.irl.RewardNet(K, hidden=())
    w = linear.init_params(seed=0)
    X = np.eye(K)
    assert_allclose(linear.forward(w, X)[0], w[:K] + w[K])


@pytest.mark.parametrize("mode, horizon, gamma, state_features", [
    ("soft", 4, 1.0, True), ("soft", 4, 1.0, False), ("soft", 4, 0.8, True),
    ("soft", None, 0.6, False), ("exact", 4, 1.0, True), ("exact", 4, 1.0, False),
    ("soft", 4, 1.0, "sparse"),
])
def test_deep_irl_gradient_matches_finite_differences(mode, horizon, gamma, state_features):
    mdp, phi, demos = problem(horizon=horizon, gamma=gamma, state_features=state_features)
    net = ci.irl.RewardNet(K, hidden=(5, 4), activation="tanh")
    params = net.init_params(seed=2)
    _, grad = ci.irl.deep_objective(mdp, phi, demos, net, params, mode=mode)
    numeric = finite_difference(
        lambda p: ci.irl.deep_objective(mdp, phi, demos, net, p, mode=mode)[0], params)
    assert relative_error(grad, numeric) < 1e-6


def test_deep_objective_equals_reward_objective_of_the_network_reward():
    mdp, phi, demos = problem(state_features=False)
    net = ci.irl.RewardNet(K, hidden=(4,))
    params = net.init_params(seed=0)
    reward = net.forward(params, phi.reshape(-1, K))[0].reshape(S, A)
    value, _ = ci.irl.deep_objective(mdp, phi, demos, net, params)
    assert_allclose(value, ci.irl.reward_objective(mdp, reward, demos)[0], rtol=1e-12)


def test_fit_deep_raises_the_objective_and_is_reproducible():
    mdp, phi, demos = problem(n_demos=50)
    a = ci.irl.fit_deep(mdp, phi, demos, hidden=(8,), max_iter=60, seed=3, gtol=None,
                        progress=False)
    b = ci.irl.fit_deep(mdp, phi, demos, hidden=(8,), max_iter=60, seed=3, gtol=None,
                        progress=False)
    assert np.array_equal(a.theta, b.theta)
    assert a.history["objective"][-1] > a.history["objective"][0]
    assert a.net.hidden == (8,) and a.theta.shape == (a.net.n_params,)
    assert_allclose(a.reward, np.repeat(a.reward_for(phi)[:, None], A, axis=1))
    # The L2 term counts weights, not biases.
    value, _ = ci.irl.deep_objective(mdp, phi, demos, a.net, a.theta)
    weights = a.theta[a.net.weight_mask()]
    assert_allclose(a.history["objective"][-1], value - 0.1 / 2 * weights @ weights, rtol=1e-10)


def test_fit_deep_with_lbfgs_reaches_a_stationary_point():
    mdp, phi, demos = problem(n_demos=50, state_features=False)
    res = ci.irl.fit_deep(mdp, phi, demos, hidden=(6,), activation="tanh", l2=1.0,
                          optimizer="lbfgs", gtol=1e-6, max_iter=500, progress=False)
    assert res.converged and res.history["grad_norm"][-1] <= 1e-6


def test_reward_for_evaluates_the_network_on_a_transfer_world():
    mdp, phi, demos = problem(state_features=False, n_demos=10)
    res = ci.irl.fit_deep(mdp, phi, demos, hidden=(4,), max_iter=5, gtol=None,
                          progress=False)
    other = np.random.default_rng(1).normal(size=(9, A, K))
    reward = res.reward_for(other)
    assert reward.shape == (9, A)
    assert_allclose(reward.ravel(), res.net.forward(res.theta, other.reshape(-1, K))[0])
