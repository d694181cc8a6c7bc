r"""Gymnasium interop: toy-text environments in, any TabularMDP out as a ``gymnasium.Env``.

gymnasium is an optional dependency (``pip install -e ".[gym]"`` from the repository
root); it is imported only when one of these functions is called. The env class itself,
:class:`ctrlinf.envs.gym_env.TabularMDPEnv`, lives in a module of its own that imports
gymnasium at the top.

The toy-text transition table is ``P[s][a] = [(prob, next_state, reward, terminated), ...]``
(FrozenLake, Taxi, CliffWalking). :func:`from_gymnasium` turns it into

.. math::

    r(s, a) = \sum_k \text{prob}_k \, \text{reward}_k, \qquad
    P(s' \mid s, a) = \sum_{k:\, \text{next}_k = s',\ \lnot\text{terminated}_k} \text{prob}_k,
    \qquad P(\bot \mid s, a) = \sum_{k:\, \text{terminated}_k} \text{prob}_k,

where ``⊥`` (state ``S``, the last one) is an extra absorbing state with zero reward:
after termination nothing more is paid, so hard-mode values (``mode="hard"``) equal the
optimal expected return of the gymnasium episode (truncated at the horizon). Soft and
exact values do not: ``⊥`` keeps all ``A`` actions, so under the counting measure it
earns ``α log A`` per remaining step, ``V_t(⊥) = (T − t) α log A``. Pass an
``action_prior`` that allows one action in ``⊥`` to remove that bonus.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from ctrlinf import _checks
from ctrlinf.envs.grid import ACTION_DELTAS, ACTION_NAMES, GridMDP
from ctrlinf.mdp import TabularMDP

if TYPE_CHECKING:
    import gymnasium

    from ctrlinf._typing import ArrayLike
    from ctrlinf.envs.gym_env import TabularMDPEnv

# Moves (drow, dcol) and names of the toy-text grid environments, in their action order.
_GRID_ACTIONS = {
    "FrozenLakeEnv": ([[0, -1], [1, 0], [0, 1], [-1, 0]], ("left", "down", "right", "up")),
    "CliffWalkingEnv": (ACTION_DELTAS[:4], ACTION_NAMES[:4]),
}


def _import_gymnasium():
    try:
        import gymnasium
    except ImportError as error:
        raise ImportError(
            "ctrlinf's gymnasium adapters need the optional dependency gymnasium; "
            'install it with `pip install -e ".[gym]"` from the repository root'
        ) from error
    return gymnasium


# -- from gymnasium ----------------------------------------------------------
def _table_entries(table, n_states, n_actions):
    """Yield ``(s, a, prob, next_state, reward, terminated)`` from a toy-text P table.

    Every row, outcome and field is checked before it is used, and an error names
    ``env.unwrapped.P[s][a]`` and what is wrong there.
    """
    _no_extra_keys(table, n_states, "env.unwrapped.P", "state", "env.observation_space")
    for s in range(n_states):
        row = table.get(s)
        if row is None:
            raise ValueError(f"env.unwrapped.P[{s}] is missing (the table must cover all "
                             f"{n_states} states)")
        if not isinstance(row, dict):
            raise TypeError(f"env.unwrapped.P[{s}] is a {type(row).__name__}; expected a dict "
                            "{action: [(prob, next_state, reward, terminated), ...]}")
        _no_extra_keys(row, n_actions, f"env.unwrapped.P[{s}]", "action", "env.action_space")
        for a in range(n_actions):
            where = f"env.unwrapped.P[{s}][{a}]"
            outcomes = row.get(a)
            if outcomes is not None and not isinstance(outcomes, (list, tuple)):
                raise TypeError(f"{where} is a {type(outcomes).__name__}; expected a list of "
                                "tuples (prob, next_state, reward, terminated)")
            if not outcomes:
                raise ValueError(f"{where} is missing or empty")
            for outcome in outcomes:
                yield (s, a, *_outcome(outcome, where, n_states))


def _no_extra_keys(mapping, size, where, kind, space):
    for key in mapping:
        if not (_checks.is_int(key) and 0 <= key < size):
            raise ValueError(f"{where} has the key {key!r}; the {kind}s of {space} are the "
                             f"ints 0 to {size - 1}")


def _outcome(outcome, where, n_states):
    """``(prob, next_state, reward, terminated)`` as (float, int, float, bool), or raise."""
    if not isinstance(outcome, (tuple, list)) or len(outcome) != 4:
        raise (TypeError if not isinstance(outcome, (tuple, list)) else ValueError)(
            f"{where} holds {outcome!r}; expected tuples (prob, next_state, reward, terminated)")
    prob, next_state, reward, terminated = outcome
    for field, value in (("probability", prob), ("reward", reward)):
        if not _checks.is_real_number(value):
            raise TypeError(f"{where} has {field} {value!r} ({type(value).__name__}), expected "
                            "a real number")
        if not math.isfinite(value):
            raise ValueError(f"{where} has {field} {value}, expected a finite number")
    if prob < 0:
        raise ValueError(f"{where} has probability {prob}, expected >= 0")
    if not _checks.is_int(next_state):
        raise TypeError(f"{where} leads to state {next_state!r} ({type(next_state).__name__}), "
                        "expected an int")
    if not 0 <= next_state < n_states:
        raise ValueError(f"{where} leads to state {next_state}, outside [0, {n_states})")
    if not (isinstance(terminated, (bool, np.bool_))
            or _checks.is_int(terminated) and terminated in (0, 1)):
        raise TypeError(f"{where} has terminated {terminated!r} ({type(terminated).__name__}), "
                        "expected a bool")
    return float(prob), int(next_state), float(reward), bool(terminated)


def _initial_distribution(unwrapped, p0, n_states):
    """``p0`` if given, else the env's ``initial_state_distrib`` (gymnasium) or ``isd`` (gym)."""
    if p0 is None:
        p0 = getattr(unwrapped, "initial_state_distrib", getattr(unwrapped, "isd", None))
        if p0 is None:
            raise ValueError(
                "env.unwrapped has neither initial_state_distrib nor isd; pass p0 (shape "
                f"({n_states},)) explicitly (ctrlinf does not estimate it by sampling resets)"
            )
    return np.append(_checks.distribution(p0, "p0", n_states), 0.0)


def _grid_layout(unwrapped, n_states):
    """GridMDP keyword arguments for the known toy-text grids, else None."""
    name = type(unwrapped).__name__
    if name == "FrozenLakeEnv":
        letters = np.char.decode(np.asarray(unwrapped.desc, dtype="S1"))
        cells = dict(shape=letters.shape, goals=letters == "G", pits=letters == "H")
    elif name == "CliffWalkingEnv":
        shape = tuple(int(n) for n in unwrapped.shape)
        goals = np.zeros(shape, dtype=bool)
        goals[-1, -1] = True
        cells = dict(shape=shape, goals=goals, pits=getattr(unwrapped, "_cliff", None))
    else:
        return None
    if cells["shape"][0] * cells["shape"][1] != n_states:
        return None
    deltas, names = _GRID_ACTIONS[name]
    return dict(cells, action_deltas=np.asarray(deltas), action_names=names)


def from_gymnasium(env: gymnasium.Env, horizon: int | None, gamma: float = 1.0,
                   p0: ArrayLike | None = None) -> TabularMDP:
    r"""Turn a toy-text gymnasium environment into an exact ctrlinf MDP.

    Reads ``env.unwrapped.P[s][a] = [(prob, next_state, reward, terminated), ...]``;
    rewards become their expectation ``r(s, a) = Σ prob · reward`` and terminated
    transitions lead to an extra absorbing zero-reward state (the last state), so
    the MDP's return over ``horizon`` decisions is what the gymnasium episode pays
    when truncated at ``horizon`` steps (hard-mode values are expected returns; soft
    and exact values add ``α log A`` per step spent in the absorbing state, see the
    module docstring).

    Parameters
    ----------
    env : gymnasium.Env
        With ``Discrete`` observation and action spaces and a toy-text table ``P``
        on ``env.unwrapped`` (FrozenLake, Taxi, CliffWalking, ...).
    horizon : int or None
        Number of decisions ``T``.
    gamma : float, default 1.0
        Discount ``γ``.
    p0 : array_like, shape (S,), optional
        Initial distribution over the env's states. Default: the env's exact
        ``initial_state_distrib`` (gymnasium) or ``isd`` (older gym); an env with
        neither needs ``p0`` (it is never estimated by sampling resets).

    Returns
    -------
    TabularMDP or GridMDP
        ``S + 1`` states (the env's ``S`` plus the terminated state ``S``). FrozenLake
        and CliffWalking give a :class:`GridMDP` in the env's own action order
        (FrozenLake: left, down, right, up), with holes / cliff as ``pits``.

    Raises
    ------
    ImportError
        If gymnasium is not installed.
    TypeError
        If ``env`` has no toy-text table, its spaces are not ``Discrete``, or an entry
        has the wrong type (a row that is not a dict, outcomes that are not a list of
        4-tuples, a next state that is not an int, a probability or reward that is not
        a real number, a termination that is not a bool); the message names
        ``env.unwrapped.P[s][a]``.
    ValueError
        If the table is incomplete, has keys outside the spaces, a next state outside
        them, a non-finite or negative number, or probabilities that do not sum to one.

    Examples
    --------
    >>> import gymnasium as gym, ctrlinf as ci
    >>> mdp = ci.envs.from_gymnasium(gym.make("FrozenLake-v1"), horizon=100)
    >>> mdp.n_states, mdp.shape, mdp.action_names
    (17, (4, 4), ('left', 'down', 'right', 'up'))
    >>> float(mdp.transition_tensor()[14, 2, 16])   # right from (3, 2) reaches G: episode over
    0.3333333333333333
    """
    _import_gymnasium()
    unwrapped = getattr(env, "unwrapped", env)
    table = getattr(unwrapped, "P", None)
    if not isinstance(table, dict):
        raise TypeError(
            f"env {env!r} has no toy-text transition table: env.unwrapped.P must be a dict "
            "P[s][a] = [(prob, next_state, reward, terminated), ...] as in FrozenLake, "
            "Taxi or CliffWalking"
        )
    S = _checks.discrete_space(getattr(unwrapped, "observation_space", None),
                               "env.observation_space")
    A = _checks.discrete_space(getattr(unwrapped, "action_space", None), "env.action_space")
    entries = list(_table_entries(table, S, A))
    s, a, prob, next_state, reward, terminated = (np.array(column) for column in zip(*entries))
    row = s * A + a
    totals = np.bincount(row, weights=prob, minlength=S * A)
    bad = np.flatnonzero(np.abs(totals - 1.0) > _checks.PROBABILITY_TOLERANCE)
    if bad.size:
        bad_s, bad_a = divmod(int(bad[0]), A)
        raise ValueError(f"env.unwrapped.P[{bad_s}][{bad_a}] has probabilities summing to "
                         f"{totals[bad[0]]:.10g}, expected 1")
    # The terminated state S: every action stays there and pays nothing.
    row = np.concatenate([row, S * A + np.arange(A)])
    column = np.concatenate([np.where(terminated, S, next_state), np.full(A, S)])
    P = sp.csr_matrix((np.concatenate([prob, np.ones(A)]), (row, column)),
                      shape=((S + 1) * A, S + 1))
    r = np.zeros((S + 1) * A)
    np.add.at(r, s * A + a, prob * reward)
    kwargs = dict(P=P, r=r.reshape(S + 1, A), p0=_initial_distribution(unwrapped, p0, S),
                  horizon=horizon, gamma=gamma)
    layout = _grid_layout(unwrapped, S)
    return TabularMDP(**kwargs) if layout is None else GridMDP(**kwargs, **layout)


# -- to gymnasium ------------------------------------------------------------
def to_gymnasium(mdp: TabularMDP, seed: int | None = None,
                 render_mode: Literal["ansi"] | None = None) -> TabularMDPEnv:
    r"""Wrap an MDP as a ``gymnasium.Env`` that samples exactly that MDP.

    ``reset()`` draws ``s_0 ~ p0``; ``step(a)`` pays ``r[s, a]`` and draws
    ``s' ~ P[s, a, :]``. Episodes are truncated (``truncated=True``) after
    ``horizon`` steps, matching the ``T`` decisions the exact solver plans for
    (no truncation when ``horizon`` is None). ``terminated=True`` only when the
    agent enters a dead state, one where every action stays put with probability
    one and pays zero (such as the terminated state of :func:`from_gymnasium` or
    the cliff-walking goal): from there the MDP pays nothing more, so ending the
    episode changes no return. Absorbing cells that still pay (the goals and pits of
    :func:`~ctrlinf.envs.gridworld`) keep the episode running until the horizon.
    Observations are the state index alone; the optimal finite-horizon policy
    depends on ``t`` too, which ``info["t"]`` reports. After the episode ends,
    ``step`` raises ``gymnasium.error.ResetNeeded`` until ``reset()``.

    Rewards ``r[s, a] = -inf`` forbid action ``a`` in ``s``: ``info["action_mask"]``
    (uint8, shape ``(A,)``, 1 = allowed; on ``reset`` and ``step``) and
    ``env.action_masks()`` (bool, the method sb3-contrib's MaskablePPO calls) give the
    allowed actions of the current state. Taking a forbidden action anyway ends the
    episode (``terminated=True``, the state unchanged) with the finite reward
    ``env.forbidden_reward = −(1 + H max|r|)`` (``H`` the horizon, or ``1/(1 − γ)``),
    worse than any return the MDP pays, so it is never optimal (see
    :func:`ctrlinf.envs.gym_env.forbidden_reward`); every reward the env pays is finite.

    ``gymnasium.utils.env_checker.check_env`` passes (masked MDPs too, since a forbidden
    action is a valid step), except at horizon 1 when the checker's first step is a
    truncation: its ``check_step_determinism`` asserts that no episode is truncated after
    one step, and at horizon 1 every step that does not terminate (enter a dead state or
    take a forbidden action) is.

    Parameters
    ----------
    mdp : TabularMDP
        Any MDP; a :class:`GridMDP` renders as a text board.
    seed : int, optional
        Seeds the env's generator and its action space, so the first ``reset()``
        without a seed is reproducible; ``reset(seed=...)`` reseeds as usual.
    render_mode : {None, "ansi"}
        ``"ansi"`` makes ``render()`` return the board (``#`` wall, ``G`` goal,
        ``P`` pit, ``@`` agent) or the state index as a string.

    Returns
    -------
    gymnasium.Env
        A :class:`ctrlinf.envs.gym_env.TabularMDPEnv`, with ``Discrete(S)``
        observations, ``Discrete(A)`` actions, the toy-text table
        ``env.P[s][a] = [(prob, next_state, reward, terminated), ...]`` of what ``step``
        does, ``env.initial_state_distrib`` (= ``p0``), the wrapped ``env.mdp`` and the
        current state and step count ``env.s``, ``env.t`` (toy-text style).

    Examples
    --------
    >>> import ctrlinf as ci
    >>> grid = ci.envs.gridworld((2, 3), goals=[(0, 2)], start=(1, 0), horizon=5)
    >>> env = ci.envs.to_gymnasium(grid, seed=0, render_mode="ansi")
    >>> env.reset()
    (3, {'prob': 1.0, 't': 0, 'action_mask': array([1, 1, 1, 1, 1], dtype=uint8)})
    >>> env.step(1)[:4]   # right: a sure move, paying the reward of the start cell
    (4, -0.01, False, False)
    >>> print(env.render(), end="")
    t=1
    ..G
    .@.
    """
    _import_gymnasium()
    from ctrlinf.envs.gym_env import TabularMDPEnv  # imports gymnasium

    return TabularMDPEnv(mdp, seed=seed, render_mode=render_mode)
