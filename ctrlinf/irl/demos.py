r"""Demonstrations for IRL: validation, explicit padding and the expert's visitation counts.

A demonstration is a row of a :class:`~ctrlinf.Trajectories`: ``states[i, t]`` and
``actions[i, t]`` for ``t = 0 .. L-1``. IRL compares the expert's discounted visitation

.. math:: D_E(s, a) = \frac{1}{N} \sum_{i=1}^{N} \sum_{t=0}^{L-1}
          \gamma^t\, [s_{it} = s,\ a_{it} = a]

with the model's, so ``μ_E = Σ_{s,a} D_E(s, a) φ(s, a)`` is the empirical feature
expectation of :func:`ctrlinf.trajectories.feature_counts`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from ctrlinf import _checks
from ctrlinf.trajectories import Trajectories, visitation

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ctrlinf._typing import ArrayLike, FloatArray
    from ctrlinf.mdp import TabularMDP


def pad_episodes(episodes: Iterable[tuple[ArrayLike, ArrayLike]], length: int,
                 pad_state: int | Literal["last"], pad_action: int) -> Trajectories:
    """Stack variable-length episodes into ``Trajectories`` of one length, padding explicitly.

    Finite-horizon IRL needs every demonstration to have ``T = mdp.horizon`` steps.
    An episode that ended early (say in an absorbing goal) is continued with
    ``pad_state``/``pad_action`` so that it covers the whole horizon. The padding is
    data: it enters ``μ_E`` and the likelihood like any other step, so pad only with
    what the expert would be modelled to do (e.g. stay in an absorbing terminal state
    whose features are zero).

    Parameters
    ----------
    episodes : sequence of (states, actions)
        Each a pair of equal-length 1-d int sequences with at least one step.
    length : int
        Steps per padded trajectory; no episode may be longer.
    pad_state : int or "last"
        State written after the end of each episode; ``"last"`` repeats the
        episode's final state (the usual choice for an absorbing terminal state).
    pad_action : int
        Action written after the end of each episode.

    Returns
    -------
    Trajectories
        ``states`` and ``actions`` of shape ``(len(episodes), length)``.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> demos = ci.irl.pad_episodes([([0, 1, 2], [1, 1, 4]), ([0, 2], [1, 4])],
    ...                             length=3, pad_state="last", pad_action=4)
    >>> demos.states.tolist(), demos.actions.tolist()
    ([[0, 1, 2], [0, 2, 2]], [[1, 1, 4], [1, 4, 4]])
    """
    length = _checks.positive_int(length, "length")
    if not (isinstance(pad_state, str) and pad_state == "last"):
        if isinstance(pad_state, str):
            raise ValueError(f"pad_state must be an int or 'last', got {pad_state!r}")
        pad_state = _checks.integer(pad_state, "pad_state")
    pad_action = _checks.integer(pad_action, "pad_action")
    episodes = _checks.sequence(episodes, "episodes")
    if not episodes:
        raise ValueError("episodes is empty; IRL needs at least one demonstration")
    states = np.empty((len(episodes), length), dtype=np.int64)
    actions = np.empty_like(states)
    for i, episode in enumerate(episodes):
        if isinstance(episode, (str, bytes)) or not hasattr(episode, "__len__"):
            raise TypeError(f"episodes[{i}] must be a pair (states, actions), got "
                            f"{type(episode).__name__}")
        if len(episode) != 2:
            raise ValueError(f"episodes[{i}] must be a pair (states, actions)")
        s, a = (np.asarray(x) for x in episode)
        if s.ndim != 1 or a.shape != s.shape:
            raise ValueError(f"episodes[{i}] has states of shape {s.shape} and actions of "
                             f"shape {a.shape}, expected two 1-d sequences of one length")
        if s.size == 0:
            raise ValueError(f"episodes[{i}] is empty; every episode needs at least one step")
        if not (np.issubdtype(s.dtype, np.integer) and np.issubdtype(a.dtype, np.integer)):
            raise TypeError(f"episodes[{i}] must hold int states and actions, got dtypes "
                            f"{s.dtype} and {a.dtype}")
        if s.size > length:
            raise ValueError(f"episodes[{i}] has {s.size} steps, more than length={length}")
        states[i, :s.size], actions[i, :s.size] = s, a
        states[i, s.size:] = s[-1] if pad_state == "last" else pad_state
        actions[i, s.size:] = pad_action
    return Trajectories(states, actions)


def check_demos(mdp, demos, support=True):
    """Raise if ``demos`` cannot be demonstrations in ``mdp``; return them unchanged.

    Parameters
    ----------
    mdp : TabularMDP
    demos : Trajectories
    support : bool, default True
        Also refuse demos the model gives probability zero: a start state with
        ``p0 = 0`` or a step ``s -> s'`` with ``P[s, a, s'] = 0``. Such demos mean the
        MDP is not the one the expert acted in, and no reward can match them.

    Raises
    ------
    TypeError
        If ``demos`` is not a ``Trajectories``.
    ValueError
        If it is empty, has another length than ``mdp.horizon``, holds an index out
        of range, takes an action ``mdp.r`` forbids (``-inf``), or (with ``support``)
        a start or step of probability zero.
    """
    if not isinstance(demos, Trajectories):
        raise TypeError(
            f"demos must be a ctrlinf.Trajectories, got {type(demos).__name__} "
            "(ci.irl.pad_episodes stacks variable-length episodes; IRL also takes the "
            "expert's visitation as a numpy (S, A) array)"
        )
    if demos.n_trajectories == 0 or demos.length == 0:
        raise ValueError(f"demos is empty ({demos.n_trajectories} trajectories of length "
                         f"{demos.length}); IRL needs at least one demonstration")
    if mdp.horizon is not None and demos.length != mdp.horizon:
        # With lengths, the arrays still span the horizon: padding marks the steps
        # a truncated episode did not show.
        raise ValueError(
            f"demos have length {demos.length} but mdp.horizon is {mdp.horizon}; every "
            f"demonstration must have one step per decision (pad shorter episodes with "
            f"ci.irl.pad_episodes, or use mdp.replace(horizon={demos.length})); store "
            f"truncated episodes padded to the horizon with Trajectories(..., lengths=)"
        )
    demos.check_against(mdp)
    steps = demos.observed()          # read once for both checks below
    _check_allowed(mdp, steps)
    if support:
        _check_support(mdp, steps)
    return demos


def _check_allowed(mdp, steps):
    bad = np.flatnonzero(mdp.r[steps.state, steps.action] == -np.inf)
    if bad.size:
        k = int(bad[0])
        raise ValueError(
            f"demos[{steps.trajectory[k]}] takes action {steps.action[k]} in state "
            f"{steps.state[k]} at t={steps.t[k]}, which mdp.r forbids (r = -inf there); no "
            "reward can explain it"
        )


def _check_support(mdp, steps):
    first = steps.t == 0
    bad = np.flatnonzero(first & (mdp.p0[steps.state] == 0))
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"demos[{steps.trajectory[k]}] starts in state {steps.state[k]}, "
                         "which has p0 = 0 in this mdp")
    # Observed steps are consecutive within a demo: step k+1 follows step k unless it
    # starts the next demo.
    moves = ~first[1:]
    if not moves.any():
        return
    s, a, s_next = steps.state[:-1][moves], steps.action[:-1][moves], steps.state[1:][moves]
    prob = np.asarray(mdp.P[s * mdp.n_actions + a, s_next]).ravel()
    bad = np.flatnonzero(prob == 0)
    if bad.size:
        k = int(np.flatnonzero(moves)[bad[0]])
        raise ValueError(
            f"demos[{steps.trajectory[k]}] moves from state {s[bad[0]]} to {s_next[bad[0]]} "
            f"by action {a[bad[0]]} at t={steps.t[k]}, which has P = 0 in this mdp"
        )


def expert_visitation(mdp: TabularMDP, demos: Trajectories) -> FloatArray:
    r"""Discounted state-action visitation of the demos, ``D_E(s, a)``, shape (S, A).

    ``D_E(s, a) = (1/N) Σ_i Σ_{t<L_i} γ^t [s_it = s, a_it = a]`` with ``γ = mdp.gamma``
    and ``L_i = demos.lengths[i]`` (padding is not counted); it sums to the mean of
    ``Σ_{t<L_i} γ^t``. Demos must have passed
    :func:`check_demos`. With ``horizon=None`` demos of any length ``L`` will do:
    the soft objective compares ``D_E`` with the model's occupancy started from
    ``ρ̂`` (in expectation, its occupancy of the same first ``L`` steps;
    :mod:`ctrlinf.irl.objectives`), so short demos carry less information, but
    expected counts of any length still lead back to the expert's policy.
    """
    _checks.mdp(mdp)
    return visitation(demos, mdp.n_states, mdp.n_actions, mdp.gamma)


def truncated_ends(mdp, demos):
    r"""Where truncated demos stop: ``E_t(s, a)``, shape (T, S, A), or None if none is.

    .. math:: E_t(s, a) = \frac{1}{N} \sum_{i:\, L_i < T} \gamma^{t}\,
              [L_i - 1 = t,\ s_{it} = s,\ a_{it} = a]

    the discounted last observed step of every demo shorter than ``T = mdp.horizon``.
    The objective continues the model's visitation from these pairs to account for
    the marginalised unobserved steps (:mod:`ctrlinf.irl.objectives`). With
    ``horizon=None`` (or no truncated demo) the answer is None: there the demos'
    log-likelihood already covers prefixes of any length.
    """
    if mdp.horizon is None or demos.is_full:
        return None
    S, A, T = mdp.n_states, mdp.n_actions, mdp.horizon
    steps = demos.observed()
    last = np.flatnonzero((steps.t == demos.lengths[steps.trajectory] - 1)
                          & (demos.lengths[steps.trajectory] < T))
    t, s, a = steps.t[last], steps.state[last], steps.action[last]
    ends = np.bincount((t * S + s) * A + a, weights=mdp.gamma ** t, minlength=T * S * A)
    return ends.reshape(T, S, A) / demos.n_trajectories


def expert_occupancy(mdp, demos):
    r"""``(D_E, ends)`` from checked demos, or an expert visitation given as an array, checked.

    The one way every IRL entry point reads its data: ``D_E`` (S, A) is
    :func:`expert_visitation`, ``ends`` :func:`truncated_ends` (None for an array,
    which stands for whole episodes). An array stands for what
    :func:`expert_visitation` would give (e.g. the expert policy's exact
    :func:`ctrlinf.inference.discounted_visitation`, the limit of infinitely many
    demos): finite, ``>= 0``, zero where ``mdp.r`` forbids the action, and for a
    finite horizon of mass ``Σ_{t<T} γ^t``. With ``horizon=None`` any mass up to
    ``1/(1 − γ)`` is a prefix of that length.

    Parameters
    ----------
    mdp : TabularMDP
    demos : Trajectories or ndarray, shape (S, A)

    Returns
    -------
    D_E : ndarray, shape (S, A)
    ends : ndarray, shape (T, S, A), or None
    """
    if not isinstance(demos, np.ndarray):
        demos = check_demos(mdp, demos)
        return expert_visitation(mdp, demos), truncated_ends(mdp, demos)
    S, A = mdp.n_states, mdp.n_actions
    D_E = _checks.real_array(demos, "demos", shape=(S, A))
    # Every check costs a reduction or two: the array may come with every evaluation.
    if not (D_E.min() >= 0 and D_E.max() < np.inf):          # NaN fails both
        s, a = (int(i) for i in np.argwhere(~(np.isfinite(D_E) & (D_E >= 0)))[0])
        raise ValueError(f"demos[{s}, {a}] is {D_E[s, a]}; an expert visitation is finite "
                         "and >= 0")
    mask = mdp.r == -np.inf
    if mask.any() and D_E[mask].max() > 0:
        s, a = (int(i) for i in np.argwhere(mask & (D_E > 0))[0])
        raise ValueError(f"demos[{s}, {a}] is {D_E[s, a]} > 0 on an action mdp.r forbids "
                         "(-inf)")
    mass = float(D_E.sum())
    if mdp.horizon is not None:
        expected = float(np.sum(mdp.gamma ** np.arange(mdp.horizon)))
        if not abs(mass - expected) <= 1e-9 * expected:       # np.isclose(rtol=1e-9, atol=0)
            raise ValueError(f"demos sums to {mass:.12g}; an expert visitation over the "
                             f"horizon T={mdp.horizon} sums to Σ_t γ^t = {expected:.12g}")
    elif not 0 < mass <= (1 + 1e-9) / (1 - mdp.gamma):
        raise ValueError(f"demos sums to {mass:.6g}; an expert visitation sums to more than 0 "
                         f"and at most 1/(1 - γ) = {1 / (1 - mdp.gamma):.6g}")
    return D_E, None


def start_distribution(demos: Trajectories, n_states: int) -> FloatArray:
    """The demos' empirical start distribution ``p̂0(s) = (1/N) Σ_i [s_i0 = s]``, shape (S,).

    Soft (maximum causal entropy) IRL conditions on where the demos start: use
    ``mdp.replace(p0=start_distribution(demos, mdp.n_states))``. With a ``p0`` that
    spreads over states no demo starts from, ``θ · μ_E − Σ p0 V_0`` can grow without
    bound (raise the reward along the demos: the demos' term gains more than the
    average over all starts), because ``μ_E`` is then not a feature expectation any
    policy from ``p0`` can reach.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> ci.irl.start_distribution(ci.Trajectories([[2, 0], [1, 0], [2, 1]], [[0, 0]] * 3), 3)
    array([0.        , 0.33333333, 0.66666667])
    """
    n_states = _checks.positive_int(n_states, "n_states")
    _checks.trajectories(demos, "demos")
    if demos.n_trajectories == 0 or demos.length == 0:
        raise ValueError("demos is empty; there is no start distribution")
    steps = demos.observed()
    starts = steps.state[steps.t == 0]           # every demo has its step t = 0
    bad = np.flatnonzero((starts < 0) | (starts >= n_states))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"demos.states[{i}, 0] is {starts[i]}, expected an index in "
                         f"[0, {n_states - 1}]")
    return np.bincount(starts, minlength=n_states) / demos.n_trajectories
