r"""How good is a learned reward: expected value difference and held-out log-likelihood."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from ctrlinf import _checks
from ctrlinf.inference import discounted_visitation
from ctrlinf.inference import solve
from ctrlinf.irl.demos import check_demos
from ctrlinf.irl.objectives import check_reward
from ctrlinf.irl.objectives import value_iteration_tol

if TYPE_CHECKING:
    from ctrlinf._typing import ArrayLike, FloatArray
    from ctrlinf.mdp import TabularMDP
    from ctrlinf.trajectories import Trajectories

POLICIES = ("hard", "soft")


def policy_return(mdp, sol):
    r"""Expected return ``E[Σ_t γ^t r(s_t, a_t)]`` of ``sol.policy`` in ``mdp``, from ``p0``.

    Uses ``mdp.r``, whatever reward ``sol`` was solved for; ``sol`` only has to share
    the horizon, discount and number of states and actions.
    """
    visitation = discounted_visitation(mdp, sol.policy)    # Σ_t γ^t d_t(s) π_t(a|s)
    # Forbidden actions (r = -inf) have probability 0 and contribute nothing.
    return float(np.sum(visitation * np.where(visitation > 0, mdp.r, 0.0)))


def expected_value_difference(mdp_true: TabularMDP, reward: ArrayLike,
                              policy: Literal["hard", "soft"] = "hard") -> float:
    r"""Expected value difference (Levine, Popović & Koltun 2011).

    .. math:: \mathrm{EVD} = \mathbb{E}_{\pi^*}\Big[\sum_t \gamma^t r^*(s_t, a_t)\Big]
              - \mathbb{E}_{\hat\pi}\Big[\sum_t \gamma^t r^*(s_t, a_t)\Big]

    ``r* = mdp_true.r``; ``π*`` is the optimal policy for ``r*`` and ``π̂`` the optimal
    policy for the learned ``reward``, both in ``mdp_true``'s dynamics, horizon and
    discount, started from its ``p0``. "How much true reward is lost by acting
    optimally for the learned reward."

    Parameters
    ----------
    mdp_true : TabularMDP
        The world with its true reward; where it is ``-inf`` the action is
        forbidden for both policies.
    reward : array_like, shape (S, A) or (S,)
        The learned reward (finite where ``mdp_true.r`` is).
    policy : {"hard", "soft"}, default "hard"
        Which optimal policy: ``"hard"`` the classic optimal policy of dynamic
        programming (greedy in Q; tied actions share the probability), the paper's
        notion, for which EVD >= 0; ``"soft"`` the soft-optimal (MaxEnt, temperature
        1) policy of each reward, scored by its return alone (no entropy bonus), which
        can make EVD negative.

    Returns
    -------
    float

    Examples
    --------
    Two actions in one state; the learned reward prefers the wrong one:

    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=[[0.0, 1.0]], p0=[1.0], horizon=3)
    >>> ci.irl.expected_value_difference(mdp, [[1.0, 0.0]])
    3.0
    """
    _checks.mdp(mdp_true, "mdp_true")
    if not isinstance(policy, str):
        _checks.choice(policy, "policy", POLICIES)  # a TypeError naming policy
    if policy not in POLICIES:
        raise ValueError(f"policy must be 'hard' (optimal) or 'soft' (soft-optimal), "
                         f"got {policy!r}")
    learned = mdp_true.replace(r=check_reward(mdp_true, reward))
    best = policy_return(mdp_true, solve(mdp_true, mode=policy, progress=False,
                                         tol=value_iteration_tol(mdp_true)))
    return best - policy_return(mdp_true, solve(learned, mode=policy, progress=False,
                                                 tol=value_iteration_tol(learned)))


def log_likelihood(mdp: TabularMDP, reward: ArrayLike, demos: Trajectories) -> FloatArray:
    r"""Causal log-likelihood of each demonstration under the soft policy of ``reward``.

    .. math:: \ell_i = \sum_{t} \log \pi_t(a_{it} \mid s_{it}), \qquad
              \log \pi_t(a \mid s) = Q_t(s, a) - V_t(s)

    with the soft backup of ``mdp``'s dynamics and discount at temperature 1 (the
    maximum causal entropy model, Ziebart et al. 2010). Computed in log space, so
    unlikely actions do not underflow. The dynamics' own probabilities are left out.

    Parameters
    ----------
    mdp : TabularMDP
        Dynamics and discount; its reward is ignored except where it is ``-inf``
        (forbidden actions stay forbidden).
    reward : array_like, shape (S, A) or (S,)
        Finite where ``mdp.r`` is.
    demos : Trajectories
        Of length ``mdp.horizon`` (any length for an infinite horizon); none may
        take a forbidden action.

    Returns
    -------
    ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=np.zeros((1, 2)), p0=[1.0], horizon=2)
    >>> ci.irl.log_likelihood(mdp, [[0.0, np.log(3)]], ci.Trajectories([[0, 0]], [[1, 0]]))
    array([-1.67397643])
    """
    _checks.mdp(mdp)
    demos = check_demos(mdp, demos, support=False)
    mdp_r = mdp.replace(r=check_reward(mdp, reward))
    sol = solve(mdp_r, mode="soft", tol=value_iteration_tol(mdp_r), progress=False)
    steps = demos.observed()                  # padding of shorter demos is not data
    if mdp.horizon is None:
        log_pi = sol.Q[steps.state, steps.action] - sol.V[steps.state]
    else:
        log_pi = sol.Q[steps.t, steps.state, steps.action] - sol.V[steps.t, steps.state]
    return np.bincount(steps.trajectory, weights=log_pi, minlength=demos.n_trajectories)
