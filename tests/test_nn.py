"""ctrlinf.nn is the one network: deep IRL's RewardNet is an nn.MLP on a flat vector."""
import numpy as np
import scipy.sparse as sp
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf import nn


def test_reward_net_is_the_shared_mlp_with_normal_init():
    net = ci.irl.RewardNet(3, hidden=(5, 4), activation="tanh")
    flat = net.init_params(seed=7)
    mlp = nn.MLP(net.sizes, activation="tanh", output_scale=1.0, init="normal", seed=7)
    assert_allclose(np.concatenate([p.ravel() for p in mlp.params]), flat)
    x = np.random.default_rng(0).normal(size=(6, 3))
    y, cache = mlp.forward(x)
    r, cache_flat = net.forward(flat, x)
    assert_allclose(r, y[:, 0])
    g = np.random.default_rng(1).normal(size=6)
    assert_allclose(net.backward(flat, cache_flat, g),
                    np.concatenate([p.ravel() for p in mlp.backward(cache, g[:, None])]))


def test_sparse_inputs_give_the_dense_outputs_and_gradients():
    mlp = nn.MLP((4, 3, 2), activation="relu", output_scale=1.0, seed=0)
    x = np.eye(4)[[0, 2, 3]]
    y, cache = mlp.forward(x)
    y_sparse, cache_sparse = mlp.forward(sp.csr_matrix(x))
    assert_allclose(y_sparse, y)
    g = np.ones_like(y)
    for a, b in zip(mlp.backward(cache_sparse, g), mlp.backward(cache, g)):
        assert_allclose(a, b)


def test_adam_descends_a_quadratic_and_sgd_takes_plain_steps():
    # f(θ) = ½‖θ − c‖²: Adam's first step moves each coordinate by η toward c (m̂/√v̂ = sign g).
    c, theta = np.array([1.0, -2.0]), np.zeros(2)
    nn.Adam([theta], learning_rate=0.1).step([theta - c])
    assert_allclose(theta, [0.1, -0.1], rtol=1e-6)
    theta = np.zeros(2)
    nn.SGD([theta], learning_rate=0.5).step([theta - c])
    assert_allclose(theta, 0.5 * c)
