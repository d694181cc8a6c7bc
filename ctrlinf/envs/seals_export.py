r"""Export a ctrlinf MDP to seals, the environment format of the ``imitation`` library.

``imitation``'s maximum causal entropy IRL (``imitation.algorithms.mce_irl``) runs on a
``seals.base_envs.TabularModelPOMDP``: the same transition tensor, reward, initial
distribution and horizon as a :class:`~ctrlinf.TabularMDP`, with an observation matrix.
Exporting lets a peer implementation run on exactly the MDP whose exact answer ctrlinf
knows.

Conventions to keep in mind when comparing:

- ``imitation``'s ``mce_partition_fh(env, discount=γ)`` runs the soft backup with the
  counting measure at temperature 1, so its ``V`` (shape ``(T, S)``) equals ctrlinf's
  ``ci.solve(mdp, mode="soft", temperature=1).V`` when the reward depends on the state
  only (``imitation``'s MCE code reads a reward vector of shape ``(S,)``).
- ``imitation``'s ``mce_occupancy_measures`` returns ``T + 1`` rows: the distribution of
  the state after each of the ``T`` decisions is included, the last one reached by no
  decision. ctrlinf's :func:`ctrlinf.forward` (soft mode) and :func:`ctrlinf.occupancy`
  return the ``T`` decision times ``t = 0 … T-1``; drop ``imitation``'s last row (and
  discount as it does) to compare.
- seals has no discount: ``γ`` stays with the algorithm (``discount=mdp.gamma``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks

if TYPE_CHECKING:
    from seals.base_envs import TabularModelPOMDP

    from ctrlinf._typing import ArrayLike
    from ctrlinf.mdp import TabularMDP


def to_seals(mdp: TabularMDP, observations: ArrayLike | None = None) -> TabularModelPOMDP:
    r"""A ``seals.base_envs.TabularModelPOMDP`` over the same MDP.

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon (``imitation``'s MCE IRL is finite-horizon); rewards finite
        (seals has no action masks, so ``r = -inf`` is refused).
    observations : array_like, shape (S, K), optional
        What the agent sees in each state; by default one-hot states, ``(S, S)``.

    Returns
    -------
    seals.base_envs.TabularModelPOMDP
        ``transition_matrix`` is ``P`` as a dense ``(S, A, S)`` array;
        ``reward_matrix`` is ``r`` as ``(S,)`` when it does not depend on the action
        (what ``imitation``'s MCE code reads), else ``(S, A)``; ``horizon`` is ``T``;
        ``initial_state_dist`` is ``p0``.

    Raises
    ------
    ImportError
        When seals is not installed (``pip install -e ".[imitation]"``).
    ValueError
        For an infinite horizon or forbidden actions (``r = -inf``).

    Examples
    --------
    >>> import ctrlinf as ci
    >>> env = ci.envs.to_seals(ci.envs.gridworld((2, 2), horizon=3))  # doctest: +SKIP
    >>> env.transition_matrix.shape, env.horizon                      # doctest: +SKIP
    ((4, 5, 4), 3)
    """
    _checks.mdp(mdp)
    if mdp.horizon is None:
        raise ValueError("mdp has horizon=None; seals/imitation's MCE IRL needs a finite "
                         "horizon (mdp.replace(horizon=T))")
    if np.any(mdp.r == -np.inf):
        s, a = np.argwhere(mdp.r == -np.inf)[0]
        raise ValueError(f"mdp.r[{s}, {a}] is -inf (a forbidden action); seals has no action "
                         "masks, so the MDP cannot be exported as it is")
    if observations is None:
        observations = np.eye(mdp.n_states)
    else:
        observations = _checks.real_array(observations, "observations", shape=(mdp.n_states, None))
        _checks.finite(observations, "observations")
    try:
        from seals.base_envs import TabularModelPOMDP
    except ImportError as error:
        raise ImportError("to_seals needs seals: pip install -e \".[imitation]\"") from error
    r = np.array(mdp.r)
    state_only = bool(np.all(r == r[:, :1]))
    return TabularModelPOMDP(
        transition_matrix=mdp.transition_tensor(),
        observation_matrix=np.array(observations, dtype=np.float64),
        reward_matrix=r[:, 0] if state_only else r,
        horizon=mdp.horizon,
        initial_state_dist=np.array(mdp.p0),
    )
