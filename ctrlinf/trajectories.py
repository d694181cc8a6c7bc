"""Trajectories: sampled or demonstrated state-action sequences, and their feature counts."""
from __future__ import annotations

import numpy as np

from ctrlinf import _checks, kernels


class Trajectories:
    """A batch of ``N`` equal-length trajectories.

    Parameters
    ----------
    states : array_like of int, shape (N, T)
        ``states[i, t]`` is ``s_t`` of trajectory ``i``.
    actions : array_like of int, shape (N, T)
        ``actions[i, t]`` is the action taken in ``states[i, t]``.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> demos = ci.Trajectories([[0, 1, 1]], [[1, 0, 0]])
    >>> demos.n_trajectories, demos.length
    (1, 3)
    """

    def __init__(self, states, actions):
        states = _checks.index_array(states, "states")
        actions = _checks.index_array(actions, "actions")
        if states.ndim != 2:
            raise ValueError(f"states has shape {states.shape}, expected (N, T)")
        if actions.shape != states.shape:
            raise ValueError(
                f"actions has shape {actions.shape}, expected the shape of states {states.shape}"
            )
        self.states = states
        self.actions = actions

    @property
    def n_trajectories(self):
        """int: ``N``."""
        return self.states.shape[0]

    @property
    def length(self):
        """int: ``T``, the number of steps in each trajectory."""
        return self.states.shape[1]

    def __len__(self):
        return self.n_trajectories

    def __getitem__(self, index):
        """Select trajectories (rows) with an int, slice or index array."""
        if not (_checks.is_int(index) or isinstance(index, slice)):
            array = np.asarray(index)
            if array.dtype == object or not (np.issubdtype(array.dtype, np.integer)
                                             or array.dtype == np.bool_):
                raise TypeError(f"index must be an int, a slice or an int or bool array, "
                                f"got {index!r}")
        return Trajectories(np.atleast_2d(self.states[index]), np.atleast_2d(self.actions[index]))

    def check_against(self, mdp):
        """Raise ``ValueError`` if a state or action index is out of range for ``mdp``."""
        for name, values, bound in (("states", self.states, mdp.n_states),
                                    ("actions", self.actions, mdp.n_actions)):
            bad = np.argwhere((values < 0) | (values >= bound))
            if bad.size:
                i, t = bad[0]
                raise ValueError(
                    f"{name}[{i}, {t}] is {values[i, t]}, expected an index in [0, {bound - 1}]"
                )

    def __repr__(self):
        return f"Trajectories(n_trajectories={self.n_trajectories}, length={self.length})"


def validate_policy(policy, mdp, length):
    """Return ``policy`` as float64 (T, S, A) (a stationary (S, A) becomes (1, S, A)) or raise.

    Also refuses probability on an action that ``r = -inf`` forbids.
    """
    policy = _checks.policy(policy, mdp.n_states, mdp.n_actions, length)
    _checks.policy_respects_mask(policy, mdp.r)
    return policy


def sample(mdp, policy, n, seed=None, length=None):
    """Sample trajectories of ``policy`` in ``mdp`` starting from ``p0``.

    Parameters
    ----------
    mdp : TabularMDP
    policy : array_like, shape (T, S, A) or (S, A)
        ``π_t(a | s)``; an (S, A) array is used at every step.
    n : int
        Number of trajectories, ``n >= 0``.
    seed : int or numpy.random.Generator, optional
        Same seed, same trajectories.
    length : int, optional
        Steps per trajectory; defaults to ``mdp.horizon`` (required when the
        MDP has an infinite horizon).

    Returns
    -------
    Trajectories
        ``states`` and ``actions``, int arrays of shape (n, length).

    Raises
    ------
    ValueError
        Naming ``n`` or ``length`` when the ``(n, length)`` arrays cannot fit in
        memory, and naming ``policy`` when it is not a distribution per state.

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> P = np.zeros((2, 2, 2)); P[:, 0, 0] = 1; P[:, 1, 1] = 1
    >>> mdp = ci.TabularMDP(P, r=[0.0, 1.0], p0=[1, 0], horizon=3)
    >>> demos = ci.sample(mdp, np.tile([0.0, 1.0], (2, 1)), n=2, seed=0)
    >>> demos.states.tolist(), demos.actions.tolist()
    ([[0, 1, 1], [0, 1, 1]], [[1, 1, 1], [1, 1, 1]])
    """
    _checks.mdp(mdp)
    n = _checks.integer(n, "n", low=0)
    if length is None:
        length = mdp.horizon
        if length is None:
            raise ValueError("length is needed when mdp.horizon is None (infinite horizon)")
    length = _checks.positive_int(length, "length")
    # uniforms (2 L + 1 floats), states and actions (2 L ints) per trajectory.
    _checks.allocation(8 * n * (4 * length + 1), "n" if n >= length else "length",
                       f"{n} trajectories of length {length}")
    policy = validate_policy(policy, mdp, length)
    rng = np.random.default_rng(_checks.seed(seed))
    uniforms = rng.random((int(n), 2 * int(length) + 1))
    states = np.empty((int(n), int(length)), dtype=np.int64)
    actions = np.empty_like(states)
    indptr, indices, data = mdp.kernel_arrays()
    kernels._sample_episodes(indptr, indices, data, mdp.p0, policy, policy.shape[0] == 1,
                             uniforms, states, actions)
    return Trajectories(states, actions)


def feature_counts(demos, features, gamma=1.0):
    r"""Empirical discounted feature expectations ``μ_E = (1/N) Σ_i Σ_t γ^t φ(s_it, a_it)``.

    Parameters
    ----------
    demos : Trajectories
    features : ndarray, shape (S, K) or (S, A, K)
        State or state-action features ``φ``.
    gamma : float
        Discount ``γ``.

    Returns
    -------
    ndarray, shape (K,)
    """
    features = np.asarray(features, dtype=np.float64)
    discounts = gamma ** np.arange(demos.length)
    if features.ndim == 2:
        phi = features[demos.states]
    else:
        phi = features[demos.states, demos.actions]
    return np.einsum("t,ntk->k", discounts, phi) / max(demos.n_trajectories, 1)
