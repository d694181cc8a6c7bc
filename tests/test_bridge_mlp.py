"""Hand-written backprop against finite differences; optimisers; the replay buffer."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from ctrlinf.bridge import MLP, SGD, Adam, ReplayBuffer
from ctrlinf.bridge.approximators import (Linear, Network, Tabular, load_params,
                                          make_approximator, make_optimizer, polyak_update)


def numerical_gradient(loss, params, eps=1e-6):
    """Central differences of ``loss()`` with respect to every entry of every array."""
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            saved = p[i]
            p[i] = saved + eps
            up = loss()
            p[i] = saved - eps
            down = loss()
            p[i] = saved
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def check_gradient(approximator, states, seed=0):
    """Loss L = Σ c ⊙ f(states) for a fixed random c, so ∂L/∂f = c."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=approximator(states).shape)
    _, cache = approximator.forward(states)
    analytic = approximator.backward(cache, c)
    numeric = numerical_gradient(lambda: float((c * approximator(states)).sum()),
                                 approximator.params)
    assert [g.shape for g in analytic] == [p.shape for p in approximator.params]
    for a, n in zip(analytic, numeric):
        assert_allclose(a, n, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("sizes", [(3, 2), (4, 5, 3), (3, 6, 4, 2)])
def test_mlp_backward_matches_finite_differences(activation, sizes):
    net = MLP(sizes, activation=activation, output_scale=1.0, seed=1)
    # Gaussian inputs put no relu pre-activation within eps of its kink (almost surely).
    x = np.random.default_rng(2).normal(size=(7, sizes[0]))
    rng = np.random.default_rng(3)
    c = rng.normal(size=(7, sizes[-1]))
    _, cache = net.forward(x)
    analytic = net.backward(cache, c)
    numeric = numerical_gradient(lambda: float((c * net(x)).sum()), net.params)
    for a, n in zip(analytic, numeric):
        assert_allclose(a, n, rtol=1e-5, atol=1e-7)


def test_mlp_copy_is_independent_and_seeded():
    a, b = MLP((3, 4, 2), seed=5), MLP((3, 4, 2), seed=5)
    for p, q in zip(a.params, b.params):
        assert_allclose(p, q)
    clone = a.copy()
    assert_allclose(clone(np.eye(3)), a(np.eye(3)))
    clone.params[0] += 1.0
    assert_allclose(a.params[0], b.params[0])   # the original did not move
    assert not np.allclose(clone(np.eye(3)), a(np.eye(3)))


@pytest.mark.parametrize("make", [
    lambda: Tabular(4, 3, init=0.5),
    lambda: Linear(np.random.default_rng(0).normal(size=(4, 5)), 3),
    lambda: Linear(np.random.default_rng(0).normal(size=(4, 3, 5)), 3),
    lambda: Network(np.eye(4), 3, hidden=(6,), seed=0),
    lambda: Network(np.random.default_rng(0).normal(size=(4, 3, 2)), 3, hidden=(5, 4),
                    activation="relu", seed=0),
])
def test_approximator_gradients(make):
    approximator = make()
    for p in approximator.params:   # non-zero weights, so every path carries gradient
        p += np.random.default_rng(9).normal(size=p.shape) * 0.3
    # Repeated states check that the gradient accumulates over the batch.
    check_gradient(approximator, np.array([0, 2, 2, 3, 0, 1]))


def test_tabular_is_linear_in_one_hot_features():
    states = np.array([0, 1, 1, 3])
    table, linear = Tabular(4, 2), Linear(np.eye(4), 2)
    table.params[0][:] = linear.params[0][:] = np.arange(8.0).reshape(4, 2)
    grad = np.ones((4, 2))
    assert_allclose(table(states), linear(states))
    assert_allclose(table.backward(table.forward(states)[1], grad)[0],
                    linear.backward(linear.forward(states)[1], grad)[0])


def test_target_updates():
    online, target = Tabular(2, 2, init=1.0), Tabular(2, 2, init=0.0)
    polyak_update(target, online, 0.75)
    assert_allclose(target.params[0], 0.25)
    load_params(target, online)
    assert_allclose(target.params[0], 1.0)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_optimizers_minimise_a_quadratic(optimizer):
    # f(w) = ½ |w − w*|², gradient w − w*.
    approximator = Tabular(1, 3)
    target = np.array([[1.0, -2.0, 0.5]])
    opt = make_optimizer(optimizer, approximator)
    for _ in range(2000):
        opt.step([approximator.params[0] - target], 0.05)
    assert_allclose(approximator.params[0], target, atol=1e-3)


def test_adam_first_step_has_the_learning_rate_as_size():
    # With bias correction, Adam's first step is lr * g/|g| per entry.
    w = np.zeros(3)
    Adam([w], learning_rate=0.1).step([np.array([2.0, -0.5, 1e-3])])
    assert_allclose(w, [-0.1, 0.1, -0.1], rtol=1e-4)
    v = np.ones(2)
    SGD([v], learning_rate=0.5).step([np.array([1.0, -2.0])])
    assert_allclose(v, [0.5, 2.0])


def test_replay_buffer_ring_and_sampling():
    buffer = ReplayBuffer(3)
    for t in range(5):
        buffer.add(t, t % 2, float(t), t + 1, t == 4)
    assert len(buffer) == 3
    assert sorted(buffer.states.tolist()) == [2, 3, 4]
    batch = buffer.sample(200, seed=0)
    assert set(batch.states.tolist()) == {2, 3, 4}
    assert_allclose(batch.rewards, batch.states)
    assert_allclose(batch.next_states, batch.states + 1)
    assert np.all(batch.terminated == (batch.states == 4))
    again = buffer.sample(200, seed=0)
    assert np.array_equal(batch.states, again.states)


@pytest.mark.parametrize("call, error, message", [
    (lambda: ReplayBuffer(2.5), TypeError, "capacity must be a positive int, got 2.5"),
    (lambda: ReplayBuffer(True), TypeError, "capacity must be a positive int"),
    (lambda: ReplayBuffer(2).add(-1, 0, 0.0, 1, False), ValueError,
     "state must be a non-negative int, got -1"),   # would be read back as the last state
    (lambda: ReplayBuffer(2).add(0, 1.5, 0.0, 1, False), TypeError, "action must be a non-neg"),
    (lambda: ReplayBuffer(2).add(0, 0, "1", 1, False), TypeError, "reward must be a finite"),
    (lambda: ReplayBuffer(2).add(0, 0, float("nan"), 1, False), ValueError,
     "reward must be a finite real number, got nan"),
    (lambda: ReplayBuffer(2).add(0, 0, 0.0, "1", False), TypeError, "next_state must be"),
    (lambda: ReplayBuffer(2).add(0, 0, 0.0, 1, "False"), TypeError,
     "terminated must be a bool"),   # "False" would be stored as True
    (lambda: ReplayBuffer(2).sample(0), ValueError, "batch_size must be a positive int"),
    (lambda: make_approximator(3, 3, 2), TypeError, "approximator must be one of"),
    (lambda: make_approximator("mlp", 3, 2, features=[["a", "b"]] * 3), TypeError,
     "features must be an array of real numbers"),
    (lambda: make_optimizer(None, Tabular(1, 1)), TypeError, "optimizer must be one of"),
])
def test_wrong_types_and_bad_transitions_are_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: ReplayBuffer(0), "capacity must be a positive int"),
    (lambda: ReplayBuffer(2).sample(1), "empty replay buffer"),
    (lambda: MLP((3,)), r"sizes must be a sequence of positive ints .* with at least 2 entries"),
    (lambda: MLP((3, 0, 2)), r"sizes\[1\] must be a positive int, got 0"),
    (lambda: MLP((3, 2), activation="sigmoid"), "activation must be one of"),
    (lambda: Adam([np.zeros(1)], learning_rate=0), "learning_rate must be a positive"),
    (lambda: SGD([np.zeros(1)], learning_rate=-1), "learning_rate must be a positive"),
    (lambda: make_approximator("kernel", 3, 2), "approximator must be one of"),
    (lambda: make_approximator("linear", 3, 2), "needs features"),
    (lambda: make_approximator("mlp", 3, 2, features=np.ones((4, 2))), "features has shape"),
    (lambda: make_approximator("mlp", 3, 2, features=np.full((3, 2), np.nan)),
     r"features\[0, 0\] is nan, expected a finite number"),
    (lambda: make_approximator("linear", 3, 2, features=np.zeros((3, 0))),
     "features has K = 0 columns"),
    (lambda: Linear(np.ones((3, 4, 2)), 2), "expected .S, A, K. with A = 2"),
    (lambda: Linear(np.ones((3, 2)), 2, init=1.0), "starts at zero weights"),
    (lambda: make_optimizer("rmsprop", Tabular(1, 1)), "optimizer must be one of"),
])
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
