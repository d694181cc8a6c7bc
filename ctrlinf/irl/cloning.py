r"""Behaviour cloning: the policy read off the demonstrations, no reward involved.

The tabular maximum-likelihood policy of demonstrations (CS285 lecture 2, "Supervised
learning of behaviors"; the "alternative: directly mimic the expert" of lecture 20):

.. math:: \hat\pi(a \mid s) = \frac{\sum_i \sum_t [s_{it} = s,\ a_{it} = a]}
                                  {\sum_i \sum_t [s_{it} = s]},

uniform in states the demonstrations never visit. It maximises the demos'
log-likelihood ``Σ_i Σ_t log π(a_it | s_it)`` over stationary policies. Weighting step
``t`` by ``γ^t`` instead gives the *discounted* clone ``D_E(s, a) / Σ_b D_E(s, b)``
(``D_E`` from :func:`~ctrlinf.irl.expert_visitation`), the maximiser of the
discounted log-likelihood, which is what infinite-horizon soft IRL with one
indicator feature per ``(s, a)`` learns (:mod:`ctrlinf.irl.objectives`, tutorial 21).
Its errors compound: a mistake leads to states the expert rarely visited, where the
clone is worse still (Ross & Bagnell 2010, *Efficient reductions for imitation
learning*: the return gap can grow as ``T² ε``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks
from ctrlinf.trajectories import visitation

if TYPE_CHECKING:
    from ctrlinf._typing import BoolArray, FloatArray
    from ctrlinf.trajectories import Trajectories


def behaviour_cloning(demos: Trajectories, n_states: int, n_actions: int,
                      pseudocount: float = 0.0) -> tuple[FloatArray, BoolArray]:
    r"""The empirical action frequencies per state, a stationary policy.

    Parameters
    ----------
    demos : Trajectories
        ``N`` demonstrations; only their observed steps count (not the padding
        beyond ``demos.lengths``).
    n_states, n_actions : int
        ``S`` and ``A``.
    pseudocount : float, default 0.0
        Added to every ``(s, a)`` count (``> 0`` gives every action positive
        probability, a Dirichlet prior). States with no count at all get the uniform
        policy.

    Returns
    -------
    policy : ndarray, shape (S, A)
        Rows sum to 1.
    visited : ndarray of bool, shape (S,)
        The states some demonstration visits.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> demos = ci.Trajectories([[0, 1, 0], [0, 0, 1]], [[1, 0, 1], [0, 1, 1]])
    >>> policy, visited = behaviour_cloning(demos, 3, 2)
    >>> policy.round(3).tolist(), visited.tolist()
    ([[0.25, 0.75], [0.5, 0.5], [0.5, 0.5]], [True, True, False])
    """
    S = _checks.positive_int(n_states, "n_states")
    A = _checks.positive_int(n_actions, "n_actions")
    pseudocount = _checks.real(pseudocount, "pseudocount", low=0.0)
    # The undiscounted visitation counts only observed steps (never padding); ×N
    # turns its per-demo mean back into counts.
    counts = visitation(demos, S, A) * demos.n_trajectories
    visited = counts.sum(axis=1) > 0
    counts += pseudocount
    totals = counts.sum(axis=1, keepdims=True)
    policy = np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), 1.0 / A)
    return policy, visited
