r"""The bridge agents' losses and their gradients, one pure function each.

Each function maps arrays to arrays (no networks, no state), so it can be checked
against finite differences or a closed form on its own (``tests/test_bridge_losses.py``)
and the agents only wire them to their approximators. Gradients are with respect to
the network outputs (Q-values, logits, values); the approximator's ``backward``
carries them to the parameters. Batches have ``B`` rows, ``A`` actions; ``α > 0`` is
the temperature, ``γ`` the discount. References: Haarnoja et al. 2017 (soft
Q-learning), Christodoulou 2019 (*Soft Actor-Critic for Discrete Action Settings*,
arXiv:1910.07207), Haarnoja et al. 2018 (*Soft Actor-Critic Algorithms and
Applications*, arXiv:1812.05905, the temperature loss), Levine 2018 (arXiv:1805.00909,
section 4.2, the entropy-regularised policy gradient).
"""
from __future__ import annotations

import math

import numpy as np

from ctrlinf.bridge._common import log_softmax_rows, logsumexp_rows


def soft_q_target(rewards, next_q, terminated, gamma, alpha):
    r"""Soft Bellman target ``y = r + γ (1 − d) α log Σ_a' exp(Q'(s', a')/α)``.

    Parameters
    ----------
    rewards : ndarray, shape (B,)
    next_q : ndarray, shape (B, A)
        Target network's ``Q'(s', ·)``.
    terminated : ndarray of bool, shape (B,)
        ``d``: the MDP ended at ``s'`` (no bootstrap); truncations are not terminations.
    gamma, alpha : float

    Returns
    -------
    ndarray, shape (B,)
    """
    v_next = alpha * logsumexp_rows(next_q / alpha)
    return rewards + gamma * np.where(terminated, 0.0, v_next)


def sac_critic_target(rewards, next_logits, next_q, terminated, gamma, alpha):
    r"""Discrete SAC critic target, the exact expectation over ``a' ~ π(·|s')``:

    .. math:: y = r + γ (1 − d) \sum_{a'} π(a'|s') \big(Q'(s', a') − α \log π(a'|s')\big),

    with ``π = softmax(next_logits)`` and ``Q'`` the minimum of the two target critics.

    Parameters
    ----------
    rewards : ndarray, shape (B,)
    next_logits, next_q : ndarray, shape (B, A)
    terminated : ndarray of bool, shape (B,)
    gamma, alpha : float

    Returns
    -------
    ndarray, shape (B,)
    """
    log_pi = log_softmax_rows(next_logits)
    v_next = (np.exp(log_pi) * (next_q - alpha * log_pi)).sum(axis=1)
    return rewards + gamma * np.where(terminated, 0.0, v_next)


def td_loss(q, actions, targets):
    r"""Squared TD loss ``L = (1/2B) Σ_b (Q(s_b, a_b) − y_b)²`` and ``∂L/∂Q``.

    Parameters
    ----------
    q : ndarray, shape (B, A)
        Online network's outputs at the batch states (``A = 1`` for a state value).
    actions : ndarray of int, shape (B,)
    targets : ndarray, shape (B,)
        ``y``, held fixed (no gradient through the target).

    Returns
    -------
    td : ndarray, shape (B,)
        ``Q(s_b, a_b) − y_b``.
    grad_q : ndarray, shape (B, A)
        ``td_b / B`` at ``(b, a_b)``, zero elsewhere.
    """
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
    logits : ndarray, shape (B, A)
    q : ndarray, shape (B, A)
        Critic values (the minimum of the two critics), held fixed.
    alpha : float

    Returns
    -------
    loss : float
    grad_z : ndarray, shape (B, A)
    """
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
    """
    loss = math.exp(log_alpha) * (entropy - target_entropy)
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
    logits : ndarray, shape (B, A)
    actions : ndarray of int, shape (B,)
    weights : ndarray, shape (B,)
        Held fixed (no gradient through the returns or the baseline).

    Returns
    -------
    loss : float
    grad_z : ndarray, shape (B, A)
    """
    log_pi = log_softmax_rows(logits)
    rows = np.arange(logits.shape[0])
    grad_log_pi = -np.exp(log_pi)
    grad_log_pi[rows, actions] += 1.0
    loss = -float((weights * log_pi[rows, actions]).sum())
    return loss, -weights[:, None] * grad_log_pi
