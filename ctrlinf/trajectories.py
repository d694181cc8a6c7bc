"""Trajectories: sampled or demonstrated state-action sequences, and their feature counts."""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ctrlinf import _checks, kernels

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ctrlinf._typing import ArrayLike, BoolArray, FloatArray, IntArray, Seed
    from ctrlinf.mdp import TabularMDP


class ObservedSteps(NamedTuple):
    """The observed steps of a :class:`Trajectories`, flat, ordered by trajectory then time.

    Every field is an int64 array of shape ``(n_observed,)`` with
    ``n_observed = Σ_i lengths[i]``; step ``k`` is ``states[trajectory[k], t[k]]`` and
    ``actions[trajectory[k], t[k]]``. Within a trajectory the steps are consecutive,
    so step ``k + 1`` follows step ``k`` whenever ``trajectory[k + 1] == trajectory[k]``.
    """

    trajectory: IntArray
    t: IntArray
    state: IntArray
    action: IntArray


class Trajectories:
    """A batch of ``N`` trajectories stored as ``(N, T)`` arrays, optionally of different lengths.

    Parameters
    ----------
    states : array_like of int, shape (N, T)
        ``states[i, t]`` is ``s_t`` of trajectory ``i``.
    actions : array_like of int, shape (N, T)
        ``actions[i, t]`` is the action taken in ``states[i, t]``.
    lengths : array_like of int, shape (N,), optional
        ``lengths[i]`` in ``[1, T]`` is how many steps trajectory ``i`` has; steps
        ``t >= lengths[i]`` are padding (their values may be anything, even negative).
        Default: every trajectory has all ``T`` steps. In IRL a shorter trajectory is
        a *truncated* episode whose unobserved steps are marginalised (see
        ``ci.irl.objective``); an episode that *terminated* into an absorbing state is
        instead padded with that state as data (``ci.irl.pad_episodes``).

    Notes
    -----
    Padding is never read. The arrays ``states`` and ``actions`` hold it, so read the
    data through :meth:`observed`, the one accessor of the observed steps: it gives
    flat ``(trajectory, t, state, action)`` arrays of every step ``t < lengths[i]``.
    Every function of ctrlinf that takes ``Trajectories`` reads them that way, so
    changing the padding changes no result (the tests check every such function).

    Examples
    --------
    >>> import ctrlinf as ci
    >>> demos = ci.Trajectories([[0, 1, 1]], [[1, 0, 0]])
    >>> demos.n_trajectories, demos.length
    (1, 3)
    >>> short = ci.Trajectories([[0, 1, 1], [0, 0, 0]], [[1, 0, 0], [0, 0, 0]], lengths=[3, 1])
    >>> short.lengths.tolist(), short.mask.sum(axis=1).tolist()
    ([3, 1], [3, 1])
    >>> steps = short.observed()                     # the padding [0, 0] of row 1 is left out
    >>> steps.trajectory.tolist(), steps.t.tolist(), steps.state.tolist()
    ([0, 0, 0, 1], [0, 1, 2, 0], [0, 1, 1, 0])
    """

    def __init__(self, states: ArrayLike, actions: ArrayLike,
                 lengths: ArrayLike | None = None) -> None:
        states = _checks.index_array(states, "states")
        actions = _checks.index_array(actions, "actions")
        if states.ndim != 2:
            raise ValueError(f"states has shape {states.shape}, expected (N, T)")
        if states.shape[1] == 0 and states.shape[0] > 0:
            raise ValueError(f"states has shape {states.shape}; every trajectory needs at "
                             "least one step (T >= 1)")
        if actions.shape != states.shape:
            raise ValueError(
                f"actions has shape {actions.shape}, expected the shape of states {states.shape}"
            )
        self.states = states
        self.actions = actions
        self.lengths = self._check_lengths(lengths, states.shape)

    @staticmethod
    def _check_lengths(lengths: ArrayLike | None, shape: tuple[int, ...]) -> IntArray:
        N, T = shape
        if lengths is None:
            return np.full(N, T, dtype=np.int64)
        lengths = _checks.index_array(lengths, "lengths")
        if lengths.shape != (N,):
            raise ValueError(f"lengths has shape {lengths.shape}, expected (N,) = ({N},)")
        bad = np.flatnonzero((lengths < 1) | (lengths > T))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"lengths[{i}] is {lengths[i]}, expected a length in [1, {T}] "
                             "(every trajectory has at least one step and at most T)")
        return lengths

    @property
    def n_trajectories(self) -> int:
        """int: ``N``."""
        return self.states.shape[0]

    @property
    def length(self) -> int:
        """int: ``T``, the number of steps stored per trajectory (the longest)."""
        return self.states.shape[1]

    @property
    def mask(self) -> BoolArray:
        """bool ndarray, shape (N, T): ``t < lengths[i]``, the steps that are data."""
        return np.arange(self.length)[None, :] < self.lengths[:, None]

    def observed(self) -> ObservedSteps:
        """The observed steps (``t < lengths[i]``) as flat arrays: the one way to read the data.

        Returns
        -------
        ObservedSteps
            ``(trajectory, t, state, action)``, int64 arrays of shape
            ``(Σ_i lengths[i],)``, ordered by trajectory, then time.
        """
        trajectory, t = np.nonzero(self.mask)
        return ObservedSteps(trajectory, t, self.states[trajectory, t],
                             self.actions[trajectory, t])

    @property
    def is_full(self) -> bool:
        """bool: every trajectory has all ``T`` steps (no padding)."""
        return bool(np.all(self.lengths == self.length))

    def __len__(self) -> int:
        return self.n_trajectories

    def __getitem__(self, index: int | slice | Sequence[int] | np.ndarray) -> Trajectories:
        """Select trajectories (rows) with an int, slice or index array."""
        if not (_checks.is_int(index) or isinstance(index, slice)):
            array = np.asarray(index)
            if array.dtype == object or not (np.issubdtype(array.dtype, np.integer)
                                             or array.dtype == np.bool_):
                raise TypeError(f"index must be an int, a slice or an int or bool array, "
                                f"got {index!r}")
        return Trajectories(np.atleast_2d(self.states[index]), np.atleast_2d(self.actions[index]),
                            np.atleast_1d(self.lengths[index]))

    def check_against(self, mdp: TabularMDP, name: str = "demos") -> None:
        """Raise ``ValueError`` if an observed state or action index is out of ``mdp``'s range.

        Padding is not checked; the message names ``name.states[i, t]`` (or ``actions``).
        """
        _checks.trajectories(self, name, mdp.n_states, mdp.n_actions)

    def __repr__(self) -> str:
        if self.is_full:
            return f"Trajectories(n_trajectories={self.n_trajectories}, length={self.length})"
        return (f"Trajectories(n_trajectories={self.n_trajectories}, length={self.length}, "
                f"lengths {self.lengths.min()}..{self.lengths.max()})")


def validate_policy(policy: ArrayLike, mdp: TabularMDP, length: int | None,
                    name: str = "policy") -> FloatArray:
    """Return ``policy`` as float64 (T, S, A) (a stationary (S, A) becomes (1, S, A)) or raise.

    ``length``: ``T`` rows, or None for an infinite horizon (stationary only); see
    ``ctrlinf._checks.policy``. Also refuses probability on an action that ``r = -inf``
    forbids. Errors name the argument ``name``.
    """
    policy = _checks.policy(policy, mdp.n_states, mdp.n_actions, length, name=name)
    _checks.policy_respects_mask(policy, mdp.r, name=name)
    return policy


def sample(mdp: TabularMDP, policy: ArrayLike, n: int, seed: Seed = None,
           length: int | None = None) -> Trajectories:
    """Sample trajectories of ``policy`` in ``mdp`` starting from ``p0``.

    Parameters
    ----------
    mdp : TabularMDP
    policy : array_like, shape (length, S, A) or (S, A)
        ``π_t(a | s)``, one row per step; an (S, A) array is used at every step.
        Rows summing to one within 1e-6 (or their dtype's rounding) are renormalised.
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
    kernels.sample_episodes(indptr, indices, data, mdp.p0, policy, policy.shape[0] == 1,
                            uniforms, states, actions)
    return Trajectories(states, actions)


def visitation(demos: Trajectories, n_states: int, n_actions: int,
               gamma: float = 1.0) -> FloatArray:
    r"""The demos' discounted visitation ``D(s, a) = (1/N) Σ_i Σ_{t<L_i} γ^t [s_it = s, a_it = a]``.

    The one empirical visitation in ctrlinf: IRL's ``D_E``
    (``ci.irl.expert_visitation``) and the feature expectations
    :func:`feature_counts` are this array and its contraction with ``φ``. Padding steps
    (``t >= demos.lengths[i]``) are not counted. For demos of one length ``L`` it sums
    to ``Σ_{t<L} γ^t``, and its expectation under a policy is that policy's
    :func:`ctrlinf.inference.discounted_visitation` over ``L`` steps.

    Parameters
    ----------
    demos : Trajectories
    n_states, n_actions : int
        ``S`` and ``A``; every state and action index must be below them.
    gamma : float, default 1.0
        Discount ``γ``.

    Returns
    -------
    ndarray, shape (S, A)
        Zero for no demos.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> demos = ci.Trajectories([[0, 1], [0, 0]], [[1, 0], [1, 1]])
    >>> ci.trajectories.visitation(demos, 2, 2, gamma=0.5).tolist()  # (1/2)(1 + 1, 0.5 + 0.5)
    [[0.0, 1.25], [0.25, 0.0]]
    """
    S = _checks.positive_int(n_states, "n_states")
    A = _checks.positive_int(n_actions, "n_actions")
    gamma = _checks.real(gamma, "gamma", low=0.0, high=1.0)
    steps = _checks.trajectories(demos, "demos", S, A).observed()
    counts = np.bincount(steps.state * A + steps.action, weights=gamma ** steps.t,
                         minlength=S * A)
    return counts.reshape(S, A) / max(demos.n_trajectories, 1)


def feature_counts(demos: Trajectories, features: ArrayLike, gamma: float = 1.0,
                   per_trajectory: bool = False) -> FloatArray:
    r"""Empirical discounted feature expectations ``μ_E = (1/N) Σ_i Σ_t γ^t φ(s_it, a_it)``.

    Over the observed steps ``t < lengths[i]``: ``Σ_{s,a} D(s, a) φ(s, a)`` with ``D``
    the demos' :func:`visitation`.

    Parameters
    ----------
    demos : Trajectories
    features : ndarray, shape (S, K) or (S, A, K)
        State or state-action features ``φ``.
    gamma : float
        Discount ``γ``.
    per_trajectory : bool, default False
        Return each trajectory's ``Φ(τ_i) = Σ_t γ^t φ(s_it, a_it)``, shape (N, K),
        whose mean is ``μ_E`` (sample-based IRL weighs trajectories one by one).

    Returns
    -------
    ndarray, shape (K,), or (N, K) if ``per_trajectory``
    """
    features = _checks.real_array(features, "features")
    if features.ndim not in (2, 3):
        raise ValueError(f"features has shape {features.shape}, expected (S, K) or (S, A, K)")
    _checks.finite(features, "features")
    gamma = _checks.real(gamma, "gamma", low=0.0, high=1.0)
    per_trajectory = _checks.flag(per_trajectory, "per_trajectory")
    S = features.shape[0]
    A = features.shape[1] if features.ndim == 3 else None
    steps = _checks.trajectories(demos, "demos", S, A, sizes_from="features").observed()
    if per_trajectory:
        phi = features[steps.state] if A is None else features[steps.state, steps.action]
        out = np.zeros((demos.n_trajectories, features.shape[-1]))
        np.add.at(out, steps.trajectory, (gamma ** steps.t)[:, None] * phi)
        return out
    if A is None:        # state features: any action count will do
        A = int(steps.action.max(initial=0)) + 1
    D = visitation(demos, S, A, gamma)
    if features.ndim == 2:
        return D.sum(axis=1) @ features
    return np.einsum("sa,sak->k", D, features)


def draw(probabilities: FloatArray, rng: np.random.Generator) -> int:
    """One index drawn from the distribution ``probabilities`` with ``rng``: the sampler's draw.

    The inverse-CDF draw of :func:`sample`, for code that steps one transition at a time
    (a gymnasium environment over an MDP, an agent's own rollouts): rounding
    that leaves the cumulative sum short of 1 falls on the last positive entry, never on
    a zero one. Used inside ctrlinf on float64 distributions it has checked; no validation.

    Parameters
    ----------
    probabilities : ndarray of float64, shape (n,)
    rng : numpy.random.Generator
        One ``rng.random()`` is consumed.

    Returns
    -------
    int
    """
    return int(kernels.draw(probabilities, rng.random()))


_checks.register_type("trajectories", Trajectories)
