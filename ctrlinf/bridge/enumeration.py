r"""Exact trajectory distributions on tiny MDPs, by enumerating every trajectory.

With ``p(τ) = p0(s_0) Π_t P(s_{t+1}|s_t, a_t)``, a policy's trajectory distribution is
``p(τ) Π_t π(a_t|s_t)`` and the MaxEnt one ``p(τ) exp(R(τ)) / Z`` (Ziebart 2008); on a
tiny MDP both are vectors over every trajectory, the ground truth the sample-based
estimators and discriminators are checked against.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks
from ctrlinf.bridge.importance_sampling import policy_log_probability
from ctrlinf.trajectories import Trajectories

if TYPE_CHECKING:
    from ctrlinf.mdp import TabularMDP

#: enumerate_trajectories refuses MDPs with more candidate trajectories than this.
MAX_ENUMERATED = 2_000_000


@dataclass(frozen=True)
class TrajectorySet:
    """Every trajectory of a tiny MDP that the dynamics allow.

    Attributes
    ----------
    trajectories : Trajectories
        All ``(s_0, a_0, ..., s_{T-1}, a_{T-1})`` with ``p(τ) > 0``.
    log_dynamics : ndarray, shape (N,)
        ``log p(τ) = log p0(s_0) + Σ_t log P(s_{t+1}|s_t, a_t)`` (no action terms).
    """

    trajectories: Trajectories
    log_dynamics: np.ndarray

    def log_probability(self, policy):
        """``log p(τ) + Σ_t log π_t(a_t|s_t)``: the trajectory distribution of ``policy``."""
        return self.log_dynamics + policy_log_probability(policy, self.trajectories)

    def log_maxent(self, reward):
        """``log p(τ) + R(τ) − log Z``: the MaxEnt distribution for ``reward`` (S, A)."""
        steps = self.trajectories.observed()
        rewards = np.asarray(reward)[steps.state, steps.action]
        returns = np.bincount(steps.trajectory, weights=rewards,
                              minlength=self.trajectories.n_trajectories)
        logits = self.log_dynamics + returns
        shift = logits.max()
        return logits - (shift + np.log(np.exp(logits - shift).sum()))


def enumerate_trajectories(mdp: TabularMDP) -> TrajectorySet:
    """Enumerate every trajectory with positive dynamics probability (tiny MDPs only).

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon ``T``; at most ``(S A)^T`` = 2 000 000 candidates.

    Returns
    -------
    TrajectorySet

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.envs.random_mdp(2, 2, seed=0, horizon=3)
    >>> found = enumerate_trajectories(mdp)
    >>> uniform = np.full((2, 2), 0.5)
    >>> float(np.round(np.exp(found.log_probability(uniform)).sum(), 12))
    1.0
    """
    _checks.mdp(mdp)
    if mdp.horizon is None:
        raise ValueError("enumerate_trajectories needs mdp with a finite horizon, got "
                         "mdp.horizon=None")
    S, A, T = mdp.n_states, mdp.n_actions, mdp.horizon
    if float(S * A) ** T > MAX_ENUMERATED:
        raise ValueError(f"(S*A)^T = ({S}*{A})^{T} trajectories is more than "
                         f"{MAX_ENUMERATED}; enumerate only tiny MDPs")
    P = mdp.transition_tensor()
    with np.errstate(divide="ignore"):
        log_P, log_p0 = np.log(P), np.log(mdp.p0)
    start = np.flatnonzero(mdp.p0 > 0)
    states = start[:, None]
    log_prob = log_p0[start]
    actions = np.empty((start.size, 0), dtype=np.int64)
    for t in range(T):
        # Branch every partial trajectory on a_t, then (before the last step) on s_{t+1}.
        n = states.shape[0]
        states = np.repeat(states, A, axis=0)
        log_prob = np.repeat(log_prob, A)
        actions = np.hstack([np.repeat(actions, A, axis=0), np.tile(np.arange(A), n)[:, None]])
        if t == T - 1:
            break
        n = states.shape[0]
        step = log_P[states[:, -1], actions[:, -1]]          # (n, S)
        keep = np.isfinite(step)
        rows, nxt = np.nonzero(keep)
        states = np.hstack([states[rows], nxt[:, None]])
        actions = actions[rows]
        log_prob = log_prob[rows] + step[rows, nxt]
    return TrajectorySet(Trajectories(states, actions), log_prob)
