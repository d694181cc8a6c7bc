r"""Which rewards a soft-optimal policy determines: potential shaping and two dynamics.

For an infinite-horizon discounted MDP at temperature ``α`` the soft-optimal policy of
a reward ``r`` is ``π(a|s) = exp((Q(s, a) − V(s))/α)`` with ``Q = r + γ P V``, so

.. math:: r(s, a) = \alpha \log \pi(a \mid s) + V(s) - \gamma \sum_{s'} P(s' \mid s, a)\, V(s').

Read backwards: *every* ``V`` gives a reward with the same policy. These are exactly
the potential-shaped rewards ``r + γ P Φ − Φ`` (Ng, Harada & Russell 1999, *Policy
invariance under reward transformations*), an ``S``-dimensional family, so demonstrations
in one dynamics cannot tell them apart. Demonstrations of the same reward under two
dynamics ``P_1, P_2`` must satisfy the equation with the same ``r`` for both; Cao, Cohen
& Szpruch 2021 (*Identifiability in inverse reinforcement learning*) show that this
generically pins ``r`` down up to a constant. :func:`reward_from_soft_policies` solves
the stacked linear system and reports its null space.

A stationary potential is an exact equivalence only for ``horizon=None``: with a finite
horizon the last step's ``γ P Φ`` is not cancelled by a later ``−Φ``, so the policy
changes (see :mod:`ctrlinf.irl.objectives`, "Identifiability").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks
from ctrlinf.inference import backup

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ctrlinf._typing import ArrayLike, FloatArray
    from ctrlinf.mdp import TabularMDP


def shape_reward(mdp: TabularMDP, potential: ArrayLike) -> FloatArray:
    r"""The potential-shaped reward ``r'(s, a) = r(s, a) + γ Σ_{s'} P(s'|s, a) Φ(s') − Φ(s)``.

    With ``horizon=None`` the soft and hard solutions of ``r'`` have ``Q' = Q − Φ``,
    ``V' = V − Φ`` and the same policy (Ng, Harada & Russell 1999). For a finite
    horizon the policy changes (the last step keeps ``γ P Φ``).

    Parameters
    ----------
    mdp : TabularMDP
        Its ``P``, ``r`` and ``γ`` are read (``γ = 1`` for a finite horizon is fine).
    potential : array_like, shape (S,)
        ``Φ(s)``, finite.

    Returns
    -------
    ndarray, shape (S, A)

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.envs.random_mdp(4, 2, seed=0, horizon=None, gamma=0.9)
    >>> shaped = mdp.replace(r=shape_reward(mdp, np.arange(4.0)))
    >>> pi, pi_shaped = ci.solve(mdp).policy, ci.solve(shaped).policy
    >>> bool(np.abs(pi - pi_shaped).max() < 1e-8)
    True
    """
    _checks.mdp(mdp)
    phi = _checks.next_values(potential, mdp, 1.0, "hard", name="potential")
    # r + γ Σ_s' P(s'|s, a) Φ(s') is the backup's Q with Φ in place of V_{t+1}.
    return backup(mdp, phi, mode="hard").Q - phi[:, None]


@dataclass(frozen=True)
class IdentifiedReward:
    """What :func:`reward_from_soft_policies` returns.

    Attributes
    ----------
    reward : ndarray, shape (S, A)
        The minimum-norm reward consistent with every (dynamics, policy) pair.
    values : ndarray, shape (n, S)
        The matching soft values ``V_i`` (one per dynamics).
    nullity : int
        Dimension of the set of ``(r, V_1, …, V_n)`` consistent with the policies:
        ``S`` for one dynamics (potential shaping), 1 when only a constant is left
        (``r + (1 − γ) c``, ``V_i + c``).
    reward_nullity : int
        Dimension of that set projected on ``r`` (how many reward directions the
        policies leave free).
    residual : float
        Largest absolute residual of the equations (0 up to round-off when the
        policies are soft-optimal for one reward).
    """

    reward: np.ndarray
    values: np.ndarray
    nullity: int
    reward_nullity: int
    residual: float


def reward_from_soft_policies(mdps: Sequence[TabularMDP], policies: Sequence[ArrayLike],
                              temperature: float = 1.0, rtol: float = 1e-9) -> IdentifiedReward:
    r"""Every reward whose soft-optimal policy in each ``mdps[i]`` is ``policies[i]``.

    Solves, for the unknowns ``r`` (S·A) and ``V_i`` (S each), the linear system

    .. math:: r(s, a) - V_i(s) + \gamma_i \sum_{s'} P_i(s' \mid s, a)\, V_i(s')
              = \alpha \log \pi_i(a \mid s) \qquad \text{for all } i, s, a

    (the soft Bellman equation read backwards) by least squares, and measures its
    null space with the singular values. One dynamics leaves ``S`` reward directions
    free (potential shaping, Ng et al. 1999); two generic dynamics leave one, the
    constant (Cao, Cohen & Szpruch 2021).

    Parameters
    ----------
    mdps : sequence of TabularMDP
        Infinite horizon (``horizon=None``), ``γ < 1``, all with the same ``S`` and ``A``
        (their rewards are not read).
    policies : sequence of array_like, shape (S, A)
        ``π_i``, positive (a soft-optimal policy is).
    temperature : float, default 1.0
        ``α``.
    rtol : float, default 1e-9
        Singular values below ``rtol`` times the largest count as zero.

    Returns
    -------
    IdentifiedReward

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> a = ci.envs.random_mdp(3, 2, seed=0, horizon=None, gamma=0.9)
    >>> b = ci.envs.random_mdp(3, 2, seed=1, horizon=None, gamma=0.9).replace(r=a.r)
    >>> one = reward_from_soft_policies([a], [ci.solve(a).policy])
    >>> two = reward_from_soft_policies([a, b], [ci.solve(a).policy, ci.solve(b).policy])
    >>> one.reward_nullity, two.reward_nullity
    (3, 1)
    >>> offset = two.reward - a.r
    >>> bool(np.ptp(offset) < 1e-8)
    True
    """
    mdps, policies = _checks.sequence(mdps, "mdps"), _checks.sequence(policies, "policies")
    if not mdps:
        raise ValueError("mdps is empty; give at least one dynamics")
    for i, mdp in enumerate(mdps):
        _checks.mdp(mdp, f"mdps[{i}]")
        if mdp.horizon is not None:
            raise ValueError(f"mdps[{i}] has horizon={mdp.horizon}; the inversion needs "
                             "horizon=None (a stationary soft policy)")
    if len(policies) != len(mdps):
        raise ValueError(f"policies has {len(policies)} entries, expected one per mdp "
                         f"({len(mdps)})")
    temperature = _checks.temperature(temperature)
    rtol = _checks.real(rtol, "rtol", low=0.0, high=1.0, low_open=True)
    S, A = mdps[0].n_states, mdps[0].n_actions
    n = len(mdps)
    rows = []
    rhs = []
    expand = np.repeat(np.eye(S), A, axis=0)                   # (S*A, S): V(s) per row (s, a)
    for i, (mdp, pi) in enumerate(zip(mdps, policies)):
        if (mdp.n_states, mdp.n_actions) != (S, A):
            raise ValueError(f"mdps[{i}] has (S, A) = ({mdp.n_states}, {mdp.n_actions}), "
                             f"expected ({S}, {A}) as mdps[0]")
        pi = _checks.policy(pi, S, A, None, f"policies[{i}]")[0]     # rows renormalised
        if np.any(pi <= 0):
            raise ValueError(f"policies[{i}] has entries <= 0; a soft-optimal policy is "
                             "positive everywhere")
        block = np.zeros((S * A, S * A + n * S))
        block[:, :S * A] = np.eye(S * A)
        block[:, S * A + i * S:S * A + (i + 1) * S] = mdp.gamma * mdp.P.toarray() - expand
        rows.append(block)
        rhs.append(temperature * np.log(pi).ravel())
    M, b = np.vstack(rows), np.concatenate(rhs)
    x, *_ = np.linalg.lstsq(M, b, rcond=None)
    _, singular, vt = np.linalg.svd(M)
    rank = int((singular > rtol * singular[0]).sum())
    null_basis = vt[rank:]                                     # rows span the null space
    reward_part = null_basis[:, :S * A]
    if reward_part.size:
        rs = np.linalg.svd(reward_part, compute_uv=False)
        reward_nullity = int((rs > rtol * max(1.0, rs[0])).sum())
    else:
        reward_nullity = 0
    return IdentifiedReward(reward=x[:S * A].reshape(S, A), values=x[S * A:].reshape(n, S),
                            nullity=M.shape[1] - rank, reward_nullity=reward_nullity,
                            residual=float(np.abs(M @ x - b).max()))
