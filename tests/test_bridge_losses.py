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


# -- rank and shape checks (rlax's chex asserts): a wrong shape never broadcasts --------
B, A = 4, 3
GOOD = dict(rewards=np.zeros(B), next_q=np.zeros((B, A)), next_logits=np.zeros((B, A)),
            terminated=np.zeros(B, bool), q=np.zeros((B, A)), logits=np.zeros((B, A)),
            actions=np.zeros(B, int), targets=np.zeros(B), weights=np.zeros(B))
LOSSES = {
    "soft_q_target": (losses.soft_q_target, ("rewards", "next_q", "terminated"), (0.9, 1.0)),
    "sac_critic_target": (losses.sac_critic_target,
                          ("rewards", "next_logits", "next_q", "terminated"), (0.9, 1.0)),
    "td_loss": (losses.td_loss, ("q", "actions", "targets"), ()),
    "sac_actor_loss": (losses.sac_actor_loss, ("logits", "q"), (1.0,)),
    "policy_gradient_loss": (losses.policy_gradient_loss, ("logits", "actions", "weights"), ()),
}


def call_with(name, **changes):
    loss, arguments, scalars = LOSSES[name]
    return loss(*(changes.get(a, GOOD[a]) for a in arguments), *scalars)


def test_a_column_of_terminations_is_refused_not_broadcast_to_b_by_b():
    """The case of issue 18: ``terminated`` of shape (B, 1) gave a (B, B) target."""
    with pytest.raises(ValueError, match=r"terminated has shape \(4, 1\), expected \(B,\) = "
                                         r"\(4,\) as in rewards"):
        losses.soft_q_target(np.arange(4.0), np.zeros((4, 3)), np.zeros((4, 1), bool), 0.9, 1.0)


@pytest.mark.parametrize("name, argument", [(name, argument) for name, (_, arguments, _)
                                            in LOSSES.items() for argument in arguments])
def test_every_batch_argument_of_wrong_rank_or_length_is_named(name, argument):
    good = GOOD[argument]
    wrong_rank = good[:, None] if good.ndim == 1 else good[:, :, None]
    with pytest.raises(ValueError, match=rf"^{argument} has shape \({B}, .*\), expected \("):
        call_with(name, **{argument: wrong_rank})
    if argument != LOSSES[name][1][0]:   # the first argument fixes B for the others
        with pytest.raises(ValueError, match=rf"^{argument} has shape \({B + 1}\b.*= \({B}"):
            call_with(name, **{argument: np.concatenate([good, good[:1]])})


@pytest.mark.parametrize("name", ["td_loss", "policy_gradient_loss"])
@pytest.mark.parametrize("actions, error, match", [
    ([0, 1, 2, 3], ValueError, r"actions\[3\] is 3, expected an action in \[0, 3\)"),
    ([0, -1, 0, 0], ValueError, r"actions\[1\] is -1"),   # would silently pick the last action
    ([0.0, 1.0, 0.0, 0.0], TypeError, "actions must be an integer array"),
])
def test_actions_outside_the_action_range_are_refused(name, actions, error, match):
    with pytest.raises(error, match=match):
        call_with(name, actions=np.array(actions))


@pytest.mark.parametrize("bad, error, match", [
    (np.array([0.0, np.nan, 0.0, 0.0]), ValueError, r"rewards\[1\] is nan, expected a finite"),
    (np.array(["a"] * 4), TypeError, "rewards must be an array of real numbers"),
    (np.zeros(0), ValueError, r"rewards has shape \(0,\), expected \(B,\) with every length"),
])
def test_rewards_must_be_finite_real_and_non_empty(bad, error, match):
    with pytest.raises(error, match=match):
        losses.soft_q_target(bad, np.zeros((bad.shape[0], 2)), np.zeros(bad.shape[0], bool),
                             0.9, 1.0)


@pytest.mark.parametrize("gamma, alpha, error, match", [
    (1.5, 1.0, ValueError, r"gamma must be in \[0, 1\]"),
    ("0.9", 1.0, TypeError, "gamma must be"),
    (0.9, 0.0, ValueError, "alpha must be a positive"),
])
def test_scalars_are_checked(gamma, alpha, error, match):
    with pytest.raises(error, match=match):
        losses.soft_q_target(np.zeros(2), np.zeros((2, 2)), np.zeros(2, bool), gamma, alpha)


def test_termination_folds_into_the_discount():
    """``y = r + γ (1 − d) v``: one path, whatever ``terminated`` holds (bool or 0/1)."""
    r, v = np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])
    discounts = losses.termination_discount([False, True, 1], 0.5)
    assert_allclose(discounts, [0.5, 0.0, 0.0])
    assert_allclose(losses.bootstrap_target(r, discounts, v), [6.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"terminated\[0\] is 2, expected a bool \(or 0 or 1\)"):
        losses.termination_discount([2, 0], 0.5)
    with pytest.raises(ValueError, match=r"discounts\[0\] is 1.5, expected a discount in"):
        losses.bootstrap_target(r, [1.5, 0, 0], v)


def test_temperature_loss_refuses_overflow():
    with pytest.raises(ValueError, match="log_alpha must be a finite number <= 709"):
        losses.temperature_loss(1e4, 1.0, 0.5)
    with pytest.raises(ValueError, match="overflow"):
        losses.temperature_loss(709.0, 1e300, -1e300)
    with pytest.raises(TypeError, match="entropy must be"):
        losses.temperature_loss(0.0, "1", 0.5)
