"""Each bridge loss against finite differences of itself or a closed form."""
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from ctrlinf.bridge import losses


def finite_difference(f, x, eps=1e-6):
    """Central differences of the scalar ``f`` at every entry of ``x``."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up) - f(down)) / (2 * eps)
    return g


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    B, A = 6, 3
    return dict(logits=rng.normal(size=(B, A)), q=rng.normal(size=(B, A)),
                actions=rng.integers(A, size=B), rewards=rng.normal(size=B),
                terminated=np.array([False, True, False, False, True, False]))


def test_soft_q_target_is_the_soft_bellman_backup(batch):
    alpha, gamma = 0.7, 0.9
    y = losses.soft_q_target(batch["rewards"], batch["q"], batch["terminated"], gamma, alpha)
    for b in range(6):
        v = alpha * math.log(sum(math.exp(q / alpha) for q in batch["q"][b]))
        expected = batch["rewards"][b] + (0.0 if batch["terminated"][b] else gamma * v)
        assert y[b] == pytest.approx(expected, rel=1e-12)


def test_sac_critic_target_is_the_expected_soft_value(batch):
    alpha, gamma = 0.5, 0.8
    y = losses.sac_critic_target(batch["rewards"], batch["logits"], batch["q"],
                                 batch["terminated"], gamma, alpha)
    pi = np.exp(batch["logits"]) / np.exp(batch["logits"]).sum(axis=1, keepdims=True)
    v = (pi * (batch["q"] - alpha * np.log(pi))).sum(axis=1)
    assert_allclose(y, batch["rewards"] + gamma * np.where(batch["terminated"], 0.0, v))


def test_sac_critic_target_at_the_softmax_policy_is_the_soft_q_target(batch):
    """π = softmax(Q/α) attains the maximum: Σ π (Q − α log π) = α log Σ exp(Q/α)."""
    args = (batch["rewards"], batch["q"], batch["terminated"], 0.9, 0.6)
    assert_allclose(losses.sac_critic_target(batch["rewards"], batch["q"] / 0.6, *args[1:]),
                    losses.soft_q_target(*args))


def test_td_loss_gradient(batch):
    y = batch["rewards"]

    def loss(q):
        return 0.5 * np.mean((q[np.arange(6), batch["actions"]] - y) ** 2)

    td, grad = losses.td_loss(batch["q"], batch["actions"], y)
    assert_allclose(td, batch["q"][np.arange(6), batch["actions"]] - y)
    assert_allclose(grad, finite_difference(loss, batch["q"]), atol=1e-8)


def test_sac_actor_loss_gradient(batch):
    def loss(z):
        return losses.sac_actor_loss(z, batch["q"], 0.4)[0]

    _, grad = losses.sac_actor_loss(batch["logits"], batch["q"], 0.4)
    assert_allclose(grad, finite_difference(loss, batch["logits"]), atol=1e-8)


def test_sac_actor_loss_is_smallest_at_softmax_q_over_alpha(batch):
    """Its minimum over π is −α log Σ exp(Q/α) per state, reached at π ∝ exp(Q/α)."""
    alpha = 0.4
    loss, grad = losses.sac_actor_loss(batch["q"] / alpha, batch["q"], alpha)
    assert_allclose(grad, 0.0, atol=1e-12)
    lse = alpha * np.log(np.exp(batch["q"] / alpha).sum(axis=1))
    assert loss == pytest.approx(-lse.mean(), rel=1e-12)
    assert losses.sac_actor_loss(batch["logits"], batch["q"], alpha)[0] > loss


def test_temperature_loss_gradient():
    loss, grad = losses.temperature_loss(0.3, 1.0, 0.6)
    assert loss == pytest.approx(math.exp(0.3) * 0.4)
    numeric = (losses.temperature_loss(0.3 + 1e-6, 1.0, 0.6)[0]
               - losses.temperature_loss(0.3 - 1e-6, 1.0, 0.6)[0]) / 2e-6
    assert grad == pytest.approx(numeric, rel=1e-8)
    assert losses.temperature_loss(0.3, 0.5, 0.6)[1] < 0   # too little entropy: α grows


def test_policy_gradient_loss_gradient(batch):
    w = np.random.default_rng(1).normal(size=6)

    def loss(z):
        return losses.policy_gradient_loss(z, batch["actions"], w)[0]

    _, grad = losses.policy_gradient_loss(batch["logits"], batch["actions"], w)
    assert_allclose(grad, finite_difference(loss, batch["logits"]), atol=1e-8)
    assert_allclose(grad.sum(axis=1), 0.0, atol=1e-12)   # softmax logits shift-invariant
