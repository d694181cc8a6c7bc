r"""The bridge agents' losses and their gradients, one pure function each.

Each function maps arrays to arrays (no networks, no state), so it can be checked
against finite differences or a closed form on its own (``tests/test_bridge_losses.py``)
and the agents only wire them to their approximators. Gradients are with respect to
the network outputs (Q-values, logits, values); the approximator's ``backward``
carries them to the parameters. Batches have ``B`` rows, ``A`` actions; ``α > 0`` is
the temperature, ``γ`` the discount.

Every function first checks the ranks and shapes of its inputs (as rlax's losses open
with ``chex.assert_rank``): a ``terminated`` of shape ``(B, 1)`` next to rewards of
shape ``(B,)`` is a ValueError naming both shapes, never a silent ``(B, B)`` broadcast.
Termination is folded into the discount, ``discount_t = γ (1 − terminated_t)``, so one
expression, ``y = r + discount_t · v(s')`` (:func:`bootstrap_target`), serves ongoing
and terminated transitions alike. References: Haarnoja et al. 2017 (soft
Q-learning), Christodoulou 2019 (*Soft Actor-Critic for Discrete Action Settings*,
arXiv:1910.07207), Haarnoja et al. 2018 (*Soft Actor-Critic Algorithms and
Applications*, arXiv:1812.05905, the temperature loss), Levine 2018 (arXiv:1805.00909,
section 4.2, the entropy-regularised policy gradient).
"""
from __future__ import annotations

import math

import numpy as np

from ctrlinf import _checks
from ctrlinf.bridge._common import log_softmax_rows, logsumexp_rows


def termination_discount(terminated, gamma):
    r"""``discount_t = γ (1 − terminated_t)``: no bootstrap after the MDP ended.

    Parameters
    ----------
    terminated : array_like of bool (or 0/1), shape (B,)
        The MDP ended at ``s'``; time-limit truncations are not terminations.
    gamma : float
        ``γ`` in [0, 1].

    Returns
    -------
    ndarray, shape (B,)
    """
    (terminated,) = _checks.batch(terminated=(terminated, "B", "flag"))
    return _discount(terminated, _checks.real(gamma, "gamma", low=0.0, high=1.0))


def bootstrap_target(rewards, discounts, v_next):
    r"""The one-step target ``y_t = r_t + discount_t · v(s_{t+1})`` (rlax's ``td_learning``).

    Parameters
    ----------
    rewards : array_like, shape (B,)
    discounts : array_like, shape (B,)
        ``γ (1 − terminated)`` (:func:`termination_discount`), each in [0, 1].
    v_next : array_like, shape (B,)
        The value of the next state, any estimate.

    Returns
    -------
    ndarray, shape (B,)
    """
    rewards, discounts, v_next = _checks.batch(
        rewards=(rewards, "B", "real"), discounts=(discounts, "B", "real"),
        v_next=(v_next, "B", "real"))
    outside = (discounts < 0) | (discounts > 1)
    if np.any(outside):
        i = int(np.flatnonzero(outside)[0])
        raise ValueError(f"discounts[{i}] is {discounts[i]:g}, expected a discount in [0, 1]")
    return rewards + discounts * v_next


def _discount(terminated, gamma):
    return gamma * (1.0 - terminated)


def _scalars(gamma, alpha):
    return (_checks.real(gamma, "gamma", low=0.0, high=1.0),
            _checks.temperature(alpha, "alpha"))


def soft_q_target(rewards, next_q, terminated, gamma, alpha):
    r"""Soft Bellman target ``y = r + γ (1 − d) α log Σ_a' exp(Q'(s', a')/α)``.

    Parameters
    ----------
    rewards : array_like, shape (B,)
    next_q : array_like, shape (B, A)
        Target network's ``Q'(s', ·)``.
    terminated : array_like of bool (or 0/1), shape (B,)
        ``d``: the MDP ended at ``s'`` (no bootstrap); truncations are not terminations.
    gamma : float
        In [0, 1].
    alpha : float
        ``α > 0``.

    Returns
    -------
    ndarray, shape (B,)

    Raises
    ------
    ValueError
        If a shape disagrees (``terminated`` of shape ``(B, 1)``, ...) or a number is not
        finite. TypeError for non-numeric input.

    Examples
    --------
    >>> import numpy as np
    >>> soft_q_target(np.array([1.0, 1.0]), np.zeros((2, 2)), np.array([False, True]),
    ...               gamma=0.5, alpha=1.0)      # 1 + 0.5 log 2, and 1 (terminated)
    array([1.34657359, 1.        ])
    """
    rewards, next_q, terminated = _checks.batch(
        rewards=(rewards, "B", "real"), next_q=(next_q, "BA", "real"),
        terminated=(terminated, "B", "flag"))
    gamma, alpha = _scalars(gamma, alpha)
    v_next = alpha * logsumexp_rows(next_q / alpha)
    return rewards + _discount(terminated, gamma) * v_next


def sac_critic_target(rewards, next_logits, next_q, terminated, gamma, alpha):
    r"""Discrete SAC critic target, the exact expectation over ``a' ~ π(·|s')``:

    .. math:: y = r + γ (1 − d) \sum_{a'} π(a'|s') \big(Q'(s', a') − α \log π(a'|s')\big),

    with ``π = softmax(next_logits)`` and ``Q'`` the minimum of the two target critics.

    Parameters
    ----------
    rewards : array_like, shape (B,)
    next_logits, next_q : array_like, shape (B, A)
    terminated : array_like of bool (or 0/1), shape (B,)
    gamma : float
        In [0, 1].
    alpha : float
        ``α > 0``.

    Returns
    -------
    ndarray, shape (B,)
    """
    rewards, next_logits, next_q, terminated = _checks.batch(
        rewards=(rewards, "B", "real"), next_logits=(next_logits, "BA", "real"),
        next_q=(next_q, "BA", "real"), terminated=(terminated, "B", "flag"))
    gamma, alpha = _scalars(gamma, alpha)
    log_pi = log_softmax_rows(next_logits)
    v_next = (np.exp(log_pi) * (next_q - alpha * log_pi)).sum(axis=1)
    return rewards + _discount(terminated, gamma) * v_next


def td_loss(q, actions, targets):
    r"""Squared TD loss ``L = (1/2B) Σ_b (Q(s_b, a_b) − y_b)²`` and ``∂L/∂Q``.

    Parameters
    ----------
    q : array_like, shape (B, A)
        Online network's outputs at the batch states (``A = 1`` for a state value).
    actions : array_like of int, shape (B,)
        Each in ``[0, A)``.
    targets : array_like, shape (B,)
        ``y``, held fixed (no gradient through the target).

    Returns
    -------
    td : ndarray, shape (B,)
        ``Q(s_b, a_b) − y_b``.
    grad_q : ndarray, shape (B, A)
        ``td_b / B`` at ``(b, a_b)``, zero elsewhere.
    """
    q, actions, targets = _checks.batch(q=(q, "BA", "real"), actions=(actions, "B", "action"),
                                        targets=(targets, "B", "real"))
    rows = np.arange(q.shape[0])
    td = q[rows, actions] - targets
    grad_q = np.zeros_like(q)
    grad_q[rows, actions] = td / q.shape[0]
    return td, grad_q


def sac_actor_loss(logits, q, alpha):
    r"""Discrete SAC actor loss and its gradient with respect to the logits ``z``.

    .. math::

        L = \frac1B \sum_b \sum_a π_{ba} f_{ba}, \qquad f = α \log π − Q, \qquad
        \frac{∂L}{∂z_{ba}} = \frac1B π_{ba} \Big(f_{ba} − \sum_{a'} π_{ba'} f_{ba'}\Big)

    (the ``Σ_a π_a ∂f_a/∂z = α Σ_a ∂π_a/∂z = 0`` term vanishes). Minimising ``L`` moves
    ``π(·|s)`` toward ``softmax(Q(s, ·)/α)``, the KL projection of the lecture.

    Parameters
    ----------
    logits : array_like, shape (B, A)
    q : array_like, shape (B, A)
        Critic values (the minimum of the two critics), held fixed.
    alpha : float
        ``α > 0``.

    Returns
    -------
    loss : float
    grad_z : ndarray, shape (B, A)
    """
    logits, q = _checks.batch(logits=(logits, "BA", "real"), q=(q, "BA", "real"))
    alpha = _checks.temperature(alpha, "alpha")
    log_pi = log_softmax_rows(logits)
    pi = np.exp(log_pi)
    f = alpha * log_pi - q
    loss = float((pi * f).sum()) / logits.shape[0]
    return loss, pi * (f - (pi * f).sum(axis=1, keepdims=True)) / logits.shape[0]


def temperature_loss(log_alpha, entropy, target_entropy):
    r"""SAC's automatic-temperature loss ``J(log α) = α (H − H̄)`` and ``dJ/d log α``.

    ``H`` is the policy's mean entropy on the batch, ``H̄`` the target. Descending
    ``J`` raises ``α`` when the policy is less random than ``H̄`` and lowers it
    otherwise (Haarnoja et al. 2018, eq. 18, in ``log α`` so ``α`` stays positive).
    The derivative is ``J`` itself: ``d(e^x c)/dx = e^x c``.

    Parameters
    ----------
    log_alpha, entropy, target_entropy : float

    Returns
    -------
    loss, gradient : float

    Raises
    ------
    ValueError
        If an argument is not finite, ``log_alpha`` exceeds 709 (``α`` would overflow)
        or the loss overflows.
    """
    # exp overflows the float64 range just above 709.78.
    log_alpha = _checks.real(log_alpha, "log_alpha", high=709.0)
    difference = (_checks.real(entropy, "entropy")
                  - _checks.real(target_entropy, "target_entropy"))
    loss = math.exp(log_alpha) * difference
    if not math.isfinite(loss):
        raise ValueError(f"log_alpha={log_alpha:g} makes α (H − H̄) overflow; the temperature "
                         "has left the float64 range")
    return loss, loss


def policy_gradient_loss(logits, actions, weights):
    r"""Score-function surrogate ``L = −Σ_b w_b \log π(a_b|s_b)`` and ``∂L/∂z``.

    Descending ``L`` ascends the entropy-regularised objective ``J`` when
    ``w_b = γ^{t_b} (Ĝ_b − b(s_b)) / N`` (``N`` episodes; :mod:`.policy_gradient`):
    ``∇ J = Σ_b w_b ∇ \log π(a_b|s_b)`` and ``∂ \log π(a|s)/∂z = \mathrm{onehot}(a) − π``,
    so

    .. math:: \frac{∂L}{∂z_b} = −w_b \big(\mathrm{onehot}(a_b) − π(·|s_b)\big).

    Parameters
    ----------
    logits : array_like, shape (B, A)
    actions : array_like of int, shape (B,)
        Each in ``[0, A)``.
    weights : array_like, shape (B,)
        Held fixed (no gradient through the returns or the baseline).

    Returns
    -------
    loss : float
    grad_z : ndarray, shape (B, A)
    """
    logits, actions, weights = _checks.batch(
        logits=(logits, "BA", "real"), actions=(actions, "B", "action"),
        weights=(weights, "B", "real"))
    log_pi = log_softmax_rows(logits)
    rows = np.arange(logits.shape[0])
    grad_log_pi = -np.exp(log_pi)
    grad_log_pi[rows, actions] += 1.0
    loss = -float((weights * log_pi[rows, actions]).sum())
    return loss, -weights[:, None] * grad_log_pi
