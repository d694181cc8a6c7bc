r"""Gymnasium interop: toy-text environments in, any TabularMDP out as a ``gymnasium.Env``.

gymnasium is an optional dependency (``pip install -e ".[gym]"`` from the repository
root); it is imported only when one of these functions is called.

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

import functools

import numpy as np
import scipy.sparse as sp

from ctrlinf import _checks, kernels
from ctrlinf.envs.grid import ACTION_DELTAS, ACTION_NAMES, GridMDP, _is_int
from ctrlinf._checks import PROBABILITY_TOLERANCE
from ctrlinf._checks import distribution as validate_distribution
from ctrlinf.inference import dead_states
from ctrlinf.mdp import TabularMDP

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


def _discrete_size(space, name, gym):
    if not isinstance(space, gym.spaces.Discrete) or int(space.start) != 0:
        raise TypeError(f"env.{name} must be gymnasium.spaces.Discrete(n) starting at 0, "
                        f"got {space!r}")
    return int(space.n)


# -- from gymnasium ----------------------------------------------------------
def _table_entries(table, n_states, n_actions):
    """Yield ``(s, a, prob, next_state, reward, terminated)`` from a toy-text P table."""
    for s in range(n_states):
        if s not in table:
            raise ValueError(f"env.unwrapped.P[{s}] is missing (the table must cover all "
                             f"{n_states} states)")
        for a in range(n_actions):
            outcomes = table[s].get(a)
            if not outcomes:
                raise ValueError(f"env.unwrapped.P[{s}][{a}] is missing or empty")
            for outcome in outcomes:
                if len(outcome) != 4:
                    raise ValueError(
                        f"env.unwrapped.P[{s}][{a}] holds {outcome!r}; expected tuples "
                        "(prob, next_state, reward, terminated)"
                    )
                prob, next_state, reward, terminated = outcome
                if not prob >= 0:
                    raise ValueError(f"env.unwrapped.P[{s}][{a}] has probability {prob}, "
                                     "expected >= 0")
                if not 0 <= int(next_state) < n_states:
                    raise ValueError(f"env.unwrapped.P[{s}][{a}] leads to state {next_state}, "
                                     f"outside [0, {n_states})")
                yield s, a, float(prob), int(next_state), float(reward), bool(terminated)


def _initial_distribution(unwrapped, p0, n_states):
    """``p0`` if given, else the env's ``initial_state_distrib`` (gymnasium) or ``isd`` (gym)."""
    if p0 is None:
        p0 = getattr(unwrapped, "initial_state_distrib", getattr(unwrapped, "isd", None))
        if p0 is None:
            raise ValueError(
                "env.unwrapped has neither initial_state_distrib nor isd; pass p0 (shape "
                f"({n_states},)) explicitly (ctrlinf does not estimate it by sampling resets)"
            )
    return np.append(validate_distribution(p0, "p0", n_states), 0.0)


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


def from_gymnasium(env, horizon, gamma=1.0, p0=None):
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
        If ``env`` has no toy-text table or its spaces are not ``Discrete``.
    ValueError
        If the table is incomplete or its probabilities do not sum to one.

    Examples
    --------
    >>> import gymnasium as gym, ctrlinf as ci
    >>> mdp = ci.envs.from_gymnasium(gym.make("FrozenLake-v1"), horizon=100)
    >>> mdp.n_states, mdp.shape, mdp.action_names
    (17, (4, 4), ('left', 'down', 'right', 'up'))
    >>> float(mdp.transition_tensor()[14, 2, 16])   # right from (3, 2) reaches G: episode over
    0.3333333333333333
    """
    gym = _import_gymnasium()
    unwrapped = getattr(env, "unwrapped", env)
    table = getattr(unwrapped, "P", None)
    if not isinstance(table, dict):
        raise TypeError(
            f"env {env!r} has no toy-text transition table: env.unwrapped.P must be a dict "
            "P[s][a] = [(prob, next_state, reward, terminated), ...] as in FrozenLake, "
            "Taxi or CliffWalking"
        )
    S = _discrete_size(unwrapped.observation_space, "observation_space", gym)
    A = _discrete_size(unwrapped.action_space, "action_space", gym)
    entries = list(_table_entries(table, S, A))
    s, a, prob, next_state, reward, terminated = (np.array(column) for column in zip(*entries))
    row = s * A + a
    totals = np.bincount(row, weights=prob, minlength=S * A)
    bad = np.flatnonzero(np.abs(totals - 1.0) > PROBABILITY_TOLERANCE)
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
def _grid_text(mdp, s):
    """The board as text: ``#`` wall, ``G`` goal, ``P`` pit, ``.`` open, ``@`` the agent."""
    board = np.full(mdp.shape, ".")
    board[mdp.walls], board[mdp.goals], board[mdp.pits] = "#", "G", "P"
    lines = []
    if s is not None and s < mdp.n_cells:
        board[mdp.coords(s)] = "@"
    elif s is not None:
        lines.append(f"(in state {s}, which is not a cell)")
    return ["".join(row) for row in board] + lines


@functools.cache
def _env_class(gym):
    """Define the Env subclass on first use, so gymnasium stays an optional import."""

    class TabularMDPEnv(gym.Env):
        """A ``gymnasium.Env`` that samples a :class:`~ctrlinf.TabularMDP`; see :func:`to_gymnasium`."""

        metadata = {"render_modes": ["ansi"], "render_fps": 4}

        def __init__(self, mdp, seed=None, render_mode=None):
            self.mdp = mdp
            self.observation_space = gym.spaces.Discrete(mdp.n_states)
            self.action_space = gym.spaces.Discrete(mdp.n_actions)
            self.render_mode = render_mode
            self.initial_state_distrib = mdp.p0
            self._dead = dead_states(mdp)
            self._indptr, self._indices, self._data = mdp.P.indptr, mdp.P.indices, mdp.P.data
            # r[s, a] = -inf forbids a in s; the agent learns it from the mask, never
            # from a -inf reward.
            self._allowed = np.isfinite(mdp.r)
            self._mask = self._allowed.astype(np.uint8)
            self.s, self.t = None, 0
            self._over = False  # the episode ended (terminated or truncated)
            if seed is not None:
                self.np_random, _ = gym.utils.seeding.np_random(seed)
                self.action_space.seed(seed)

        @functools.cached_property
        def P(self):
            """Toy-text table ``P[s][a] = [(prob, next_state, r[s, a], terminated), ...]``."""
            A, r = self.mdp.n_actions, self.mdp.r
            lo, hi, idx, data = self._indptr[:-1], self._indptr[1:], self._indices, self._data
            return {s: {a: [(float(data[k]), int(idx[k]), float(r[s, a]), bool(self._dead[idx[k]]))
                            for k in range(lo[s * A + a], hi[s * A + a])]
                        for a in range(A)}
                    for s in range(self.mdp.n_states)}

        def _draw(self, probabilities):
            # The sampler's inverse-CDF draw: a row summing to 1 - 1e-12 lands on its
            # last positive entry, never on a zero one.
            return int(kernels._draw(probabilities, self.np_random.random()))

        def action_masks(self):
            """Allowed actions in the current state, bool (A,) (sb3-contrib's MaskablePPO
            calls this); ``r[s, a] = -inf`` marks a forbidden action."""
            if self.s is None:
                raise gym.error.ResetNeeded("call reset() before action_masks()")
            return self._allowed[self.s].copy()

        def _info(self, prob):
            return {"prob": prob, "t": self.t, "action_mask": self._mask[self.s].copy()}

        def reset(self, *, seed=None, options=None):
            seed = None if seed is None else _checks.integer(seed, "seed", low=0)
            super().reset(seed=seed)
            self.s, self.t, self._over = self._draw(self.mdp.p0), 0, False
            return self.s, self._info(float(self.mdp.p0[self.s]))

        def step(self, action):
            if self.s is None:
                raise gym.error.ResetNeeded("call reset() before step()")
            if self._over:
                raise gym.error.ResetNeeded(
                    f"the episode ended (terminated or truncated) at t={self.t}; "
                    "call reset() before step()")
            if not self.action_space.contains(action):
                raise ValueError(f"action must be an int in [0, {self.mdp.n_actions}), "
                                 f"got {action!r}")
            if not self._allowed[self.s, int(action)]:
                raise ValueError(
                    f"action {int(action)} is forbidden in state {self.s} "
                    f"(r[{self.s}, {int(action)}] = -inf); info['action_mask'] and "
                    "action_masks() give the allowed actions")
            row = self.s * self.mdp.n_actions + int(action)
            lo, hi = self._indptr[row], self._indptr[row + 1]
            k = lo + self._draw(self._data[lo:hi])
            reward = float(self.mdp.r[self.s, int(action)])
            self.s, self.t = int(self._indices[k]), self.t + 1
            terminated = bool(self._dead[self.s])
            horizon = self.mdp.horizon
            truncated = horizon is not None and self.t >= horizon and not terminated
            self._over = terminated or truncated
            return self.s, reward, terminated, truncated, self._info(float(self._data[k]))

        def render(self):
            if self.render_mode is None:
                gym.logger.warn("render() needs render_mode='ansi' (pass it to to_gymnasium)")
                return None
            header = f"t={self.t}"
            if isinstance(self.mdp, GridMDP):
                return "\n".join([header] + _grid_text(self.mdp, self.s)) + "\n"
            return f"{header} state={self.s}\n"

    return TabularMDPEnv


def to_gymnasium(mdp, seed=None, render_mode=None):
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
    allowed actions of the current state, and taking a forbidden action raises a
    ValueError naming the state and the action instead of paying ``-inf``.

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
        With ``Discrete(S)`` observations, ``Discrete(A)`` actions, the toy-text
        table ``env.P[s][a] = [(prob, next_state, r[s, a], terminated), ...]``,
        ``env.initial_state_distrib`` (= ``p0``), the wrapped ``env.mdp`` and the
        current state and step count ``env.s``, ``env.t`` (toy-text style); it
        passes ``gymnasium.utils.env_checker.check_env``.

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
    env_class = _env_class(_import_gymnasium())
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a ctrlinf.TabularMDP, got {type(mdp).__name__}")
    if seed is not None and not _is_int(seed):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    seed = None if seed is None else _checks.integer(seed, "seed", low=0)
    if render_mode not in (None, "ansi"):
        raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
    return env_class(mdp, seed=seed, render_mode=render_mode)
