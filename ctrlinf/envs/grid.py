r"""Grid worlds: rectangular boards of cells in which the agent moves one cell per step.

Every cell is a state, numbered row-major: ``s = row * cols + col``. Wall cells are
states too; they are never entered (moves into them leave the agent in place), they
are absorbing self-loops with zero reward and zero initial probability. A grid MDP
may carry extra non-cell states after the ``rows * cols`` cells (for example the
"episode over" state that :func:`ctrlinf.envs.from_gymnasium` adds).

Actions are moves ``(drow, dcol)``; the standard order is

====  ======  ===========
 a    name    (drow, dcol)
====  ======  ===========
 0    up      (-1, 0)
 1    right   (0, 1)
 2    down    (1, 0)
 3    left    (0, -1)
 4    stay    (0, 0)     (only with ``stay_action=True``)
====  ======  ===========

Slip: with probability ``slip`` the agent ignores its choice and takes a move drawn
uniformly from all ``A`` actions, so

.. math::

    P(s' \mid s, a) = (1 - \text{slip})\,[s' = m_a(s)]
                      + \frac{\text{slip}}{A} \sum_{b} [s' = m_b(s)],

where ``m_b(s)`` is the cell that move ``b`` reaches from ``s`` (``s`` itself when
the move would leave the board or enter a wall). The intended move therefore happens
with probability ``1 - slip + slip / A``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from ctrlinf import _checks
from ctrlinf.mdp import TabularMDP

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ctrlinf._typing import ArrayLike, ArrayOrSparse

#: Moves ``(drow, dcol)`` in the standard action order: up, right, down, left, stay.
ACTION_DELTAS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1], [0, 0]])
ACTION_NAMES = ("up", "right", "down", "left", "stay")

#: Default rewards per step spent in a cell (reward units per decision).
GOAL_REWARD = 1.0
PIT_REWARD = -1.0
STEP_REWARD = -0.01

#: Default number of decisions of the grid builders.
DEFAULT_HORIZON = 20

#: Map characters understood by :func:`gridworld_from_map`.
MAP_CHARACTERS = ("S", "G", "P", "X", "#", ".")


class GridMDP(TabularMDP):
    r"""A :class:`~ctrlinf.TabularMDP` whose first ``rows * cols`` states are grid cells.

    It is accepted everywhere a TabularMDP is; the extra attributes only describe
    the layout (for plots, text rendering and feature-based IRL). The builders
    (:func:`gridworld`, :func:`gridworld_from_map`, :func:`cliff_walking`,
    :func:`~ctrlinf.envs.objectworld`, ...) are the usual way to make one.

    Parameters
    ----------
    P, r, p0, horizon, gamma
        As for :class:`~ctrlinf.TabularMDP`; ``S >= rows * cols``.
    shape : tuple of int
        ``(rows, cols)``; state ``s < rows * cols`` is cell ``divmod(s, cols)``.
    action_deltas : array_like of int, shape (A, 2)
        The move ``(drow, dcol)`` each action intends.
    action_names : sequence of str, optional
        One name per action; by default derived from the deltas ("up", "stay", ...).
    walls, goals, pits : array_like of bool, shape (rows, cols), optional
        Cell markers; all False when omitted.
    features : array_like, shape (S, K) or (S, A, K), optional
        Reward features of the world (``r = features @ theta`` in IRL).
    info : dict of str to array_like, optional
        Further layout arrays a world wants to keep (objectworld's objects, ...);
        they are saved and loaded with the MDP.

    Attributes
    ----------
    shape : tuple (rows, cols)
    walls, goals, pits : ndarray of bool, shape (rows, cols), read-only
    features : ndarray, shape (S, K) or (S, A, K), or None
    action_deltas : ndarray of int, shape (A, 2)
    action_names : tuple of str
    info : dict of str to ndarray
    n_cells : int
        ``rows * cols``.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> grid = ci.envs.gridworld((2, 3), goals=[(0, 2)])
    >>> grid.shape, grid.n_states, grid.action_names[:2]
    ((2, 3), 6, ('up', 'right'))
    >>> grid.coords(5), grid.state(0, 2)
    ((1, 2), 2)
    """

    def __init__(self, P: ArrayOrSparse, r: ArrayLike, p0: ArrayLike | None, horizon: int | None,
                 gamma: float = 1.0, *, shape: tuple[int, int], action_deltas: ArrayLike,
                 action_names: Sequence[str] | None = None, walls: ArrayLike | None = None,
                 goals: ArrayLike | None = None, pits: ArrayLike | None = None,
                 features: ArrayLike | None = None,
                 info: Mapping[str, ArrayLike] | None = None) -> None:
        super().__init__(P, r, p0, horizon, gamma)
        self.shape = _check_shape(shape)
        self.n_cells = self.shape[0] * self.shape[1]
        if self.n_cells > self.n_states:
            raise ValueError(
                f"shape {self.shape} has {self.n_cells} cells but the MDP has only "
                f"{self.n_states} states"
            )
        self.action_deltas = _check_deltas(action_deltas, self.n_actions)
        self.action_names = _check_action_names(action_names, self.action_deltas)
        self.walls = _read_only(_cell_mask(walls, self.shape, "walls"))
        self.goals = _read_only(_cell_mask(goals, self.shape, "goals"))
        self.pits = _read_only(_cell_mask(pits, self.shape, "pits"))
        self.features = None if features is None else _read_only(
            _checks.features(features, self.n_states, self.n_actions, sparse=False))
        self.info = _check_info(info)

    # -- cells and states ------------------------------------------------
    def coords(self, s):
        """Return the cell ``(row, col)`` of state ``s`` (ints, or arrays for an array ``s``).

        Examples
        --------
        >>> import ctrlinf as ci
        >>> ci.envs.gridworld((3, 4)).coords(6)
        (1, 2)
        """
        s_array = np.asarray(s)
        if not np.issubdtype(s_array.dtype, np.integer):
            raise TypeError(f"s must be an integer state, got {s!r}")
        if np.any((s_array < 0) | (s_array >= self.n_cells)):
            raise ValueError(f"s must be a cell state in [0, {self.n_cells}), got {s!r}")
        row, col = np.divmod(s_array, self.shape[1])
        if row.ndim == 0:
            return int(row), int(col)
        return row, col

    def state(self, row, col):
        """Return the state of cell ``(row, col)``: ``row * cols + col``.

        Examples
        --------
        >>> import ctrlinf as ci
        >>> ci.envs.gridworld((3, 4)).state(1, 2)
        6
        """
        rows, cols = self.shape
        for name, value, size in (("row", row, rows), ("col", col, cols)):
            array = np.asarray(value)
            if not np.issubdtype(array.dtype, np.integer):
                raise TypeError(f"{name} must be an integer, got {value!r}")
            if np.any((array < 0) | (array >= size)):
                raise ValueError(f"{name} must be in [0, {size}), got {value!r}")
        s = np.asarray(row) * cols + np.asarray(col)
        return int(s) if s.ndim == 0 else s

    def to_grid(self, values):
        """Reshape per-state values to the board, with NaN on walls.

        Parameters
        ----------
        values : array_like, shape (..., S) or (..., rows * cols)
            Any per-state quantity, e.g. ``V`` of shape ``(T, S)``; extra non-cell
            states (after the cells) are dropped.

        Returns
        -------
        ndarray of float, shape (..., rows, cols)

        Examples
        --------
        >>> import numpy as np, ctrlinf as ci
        >>> grid = ci.envs.gridworld((2, 2), walls=[(0, 1)])
        >>> grid.to_grid(np.arange(4))
        array([[ 0., nan],
               [ 2.,  3.]])
        """
        values = _checks.real_array(values, "values")
        if values.ndim == 0 or values.shape[-1] not in (self.n_states, self.n_cells):
            raise ValueError(
                f"values has shape {values.shape}, expected (..., S) with S = "
                f"{self.n_states} or (..., rows*cols) = (..., {self.n_cells})"
            )
        grid = values[..., :self.n_cells].reshape(values.shape[:-1] + self.shape).copy()
        grid[..., self.walls] = np.nan
        return grid

    def _constructor_extras(self):
        # replace() keeps the layout: a GridMDP with a new horizon is still a GridMDP.
        return dict(shape=self.shape, action_deltas=self.action_deltas,
                    action_names=self.action_names, walls=self.walls, goals=self.goals,
                    pits=self.pits, features=self.features, info=self.info)

    # -- persistence -----------------------------------------------------
    def _extra_arrays(self):
        arrays = dict(
            grid_shape=np.array(self.shape), grid_walls=self.walls, grid_goals=self.goals,
            grid_pits=self.pits, grid_action_deltas=self.action_deltas,
            grid_action_names=np.array(self.action_names),
        )
        if self.features is not None:
            arrays["grid_features"] = self.features
        arrays.update({f"info_{name}": value for name, value in self.info.items()})
        return arrays

    @classmethod
    def _from_saved(cls, kwargs, saved):
        if "grid_shape" not in saved.files:
            raise ValueError(
                "the file holds a plain TabularMDP, not a GridMDP (no grid arrays); "
                "load it with ctrlinf.TabularMDP.load"
            )
        # Each key is type-checked here so that the error names it; values (shapes
        # that fit, cells inside the grid) are checked by the constructor.
        shape = saved.typed("grid_shape", "iu", 1, "a 1-d integer array (rows, cols)")
        masks = {name: saved.typed(f"grid_{name}", "b", 2, "a 2-d bool array")
                 for name in ("walls", "goals", "pits")}
        features = None
        if "grid_features" in saved.files:
            features = saved.typed("grid_features", "iuf", saved["grid_features"].ndim,
                                   "real numbers")
        info = {key[len("info_"):]: saved[key] for key in saved.files
                if key.startswith("info_")}
        return cls(**kwargs, shape=tuple(int(n) for n in shape),
                   action_deltas=saved.typed("grid_action_deltas", "iu", 2,
                                             "a 2-d integer array (A, 2)"),
                   action_names=tuple(str(n) for n in saved.typed(
                       "grid_action_names", "U", 1, "a 1-d array of strings")),
                   features=features, info=info, **masks)


# -- validation helpers ----------------------------------------------------
def _read_only(array):
    array.flags.writeable = False
    return array


def _check_shape(shape):
    """Return ``shape`` as a ``(rows, cols)`` tuple of positive ints or raise."""
    rows, cols = _checks.int_pair(shape, "shape", "a pair (rows, cols) of ints")
    if min(rows, cols) < 1:
        raise ValueError(f"shape must have rows >= 1 and cols >= 1, got {(rows, cols)}")
    return rows, cols


def _check_deltas(action_deltas, n_actions):
    deltas = np.asarray(action_deltas)
    if not np.issubdtype(deltas.dtype, np.integer):
        raise TypeError(f"action_deltas must be an int array of shape (A, 2) = ({n_actions}, 2), "
                        f"got dtype {deltas.dtype}")
    if deltas.shape != (n_actions, 2):
        raise ValueError(f"action_deltas must be an int array of shape (A, 2) = ({n_actions}, 2), "
                         f"got shape {deltas.shape}")
    return _read_only(deltas.astype(np.int64))


def _check_action_names(action_names, deltas):
    if action_names is None:
        known = {tuple(d): name for d, name in zip(ACTION_DELTAS.tolist(), ACTION_NAMES)}
        return tuple(known.get(tuple(d), f"move{tuple(d)}") for d in deltas.tolist())
    if isinstance(action_names, str) or not all(isinstance(n, str) for n in action_names):
        raise TypeError(f"action_names must be {len(deltas)} strings (one per action), got "
                        f"{action_names!r}")
    names = tuple(action_names)
    if len(names) != len(deltas):
        raise ValueError(
            f"action_names must be {len(deltas)} strings (one per action), got {action_names!r}"
        )
    return names


def _check_info(info):
    if info is None:
        return {}
    if not isinstance(info, dict) or not all(isinstance(k, str) for k in info):
        raise TypeError(f"info must be a dict with str keys, got {type(info).__name__}")
    return {key: _read_only(np.array(value)) for key, value in info.items()}


def _cell_index(cell, shape, name):
    """Return ``(row, col)`` of one cell given as a pair, or raise naming ``name``."""
    row, col = _checks.int_pair(cell, name, "given as (row, col) pairs of ints")
    if not (0 <= row < shape[0] and 0 <= col < shape[1]):
        raise ValueError(f"{name} cell {(row, col)} is outside the grid of shape {shape}")
    return row, col


def _cell_mask(cells, shape, name):
    """Return a bool ``(rows, cols)`` mask from a mask, one ``(row, col)`` pair, or pairs."""
    if cells is None:
        return np.zeros(shape, dtype=bool)
    array = np.asarray(cells)
    if array.dtype == np.bool_:
        if array.shape != shape:
            raise ValueError(f"{name} mask has shape {array.shape}, expected {shape}")
        return array.copy()
    mask = np.zeros(shape, dtype=bool)
    if array.size == 0:
        return mask
    if array.ndim == 0:
        raise TypeError(f"{name} must be a bool mask, a (row, col) pair or pairs, got {cells!r}")
    pairs = [cells] if array.ndim == 1 else list(cells)
    for cell in pairs:
        mask[_cell_index(tuple(np.asarray(cell).tolist()), shape, name)] = True
    return mask


def _start_distribution(start, walls, terminal):
    """Return p0 over cells: uniform over ``start`` cells (default: open, non-terminal)."""
    if start is None:
        mask = ~walls & ~terminal
        if not mask.any():
            raise ValueError("start=None needs a cell that is not a wall, goal or pit")
    else:
        mask = _cell_mask(start, walls.shape, "start")
        if not mask.any():
            raise ValueError("start names no cell")
        if (mask & walls).any():
            cell = tuple(int(i) for i in np.argwhere(mask & walls)[0])
            raise ValueError(f"start cell {cell} is a wall")
    return mask.ravel() / mask.sum()


def _apply_cell_rewards(base, cell_rewards, name="rewards"):
    """Overwrite ``base`` (rows, cols) at the ``{(row, col): value}`` entries."""
    for cell, value in cell_rewards.items():
        value = _checks.real(value, f"{name}[{cell!r}]")
        base[_cell_index(cell, base.shape, name)] = value
    return base


def _cell_rewards(rewards, shape, goals, pits, goal_reward, pit_reward, step_reward):
    """Per-cell reward (rows, cols): defaults by kind, then ``rewards`` on top."""
    if rewards is None or isinstance(rewards, dict):
        for name, value in (("goal_reward", goal_reward), ("pit_reward", pit_reward),
                            ("step_reward", step_reward)):
            _checks.real(value, name)
        base = np.full(shape, float(step_reward))
        base[goals] = goal_reward
        base[pits] = pit_reward
        return _apply_cell_rewards(base, rewards or {})
    array = _checks.real_array(rewards, "rewards")
    if array.shape != shape:
        raise ValueError(
            f"rewards has shape {array.shape}, expected the grid shape {shape} "
            "or a dict {(row, col): value}"
        )
    _checks.finite(array, "rewards")
    return array


# -- transitions -----------------------------------------------------------
def _move_targets(walls, stuck, deltas):
    """``targets[s, b]``: the cell move ``b`` reaches from ``s``, shape (rows*cols, B).

    Moves off the board or into a wall leave the agent in place; in ``stuck``
    cells (walls and absorbing cells) every move stays.
    """
    rows, cols = walls.shape
    s = np.arange(rows * cols)
    row, col = np.divmod(s, cols)
    new_row = row[:, None] + deltas[:, 0]
    new_col = col[:, None] + deltas[:, 1]
    inside = (new_row >= 0) & (new_row < rows) & (new_col >= 0) & (new_col < cols)
    targets = np.where(inside, new_row * cols + new_col, s[:, None])
    targets = np.where(walls.ravel()[targets], s[:, None], targets)
    targets[stuck.ravel()] = s[stuck.ravel(), None]
    return targets


def _slip_weights(slip, n_actions):
    """``W[a, b]`` = probability that choosing ``a`` executes move ``b``."""
    return np.full((n_actions, n_actions), slip / n_actions) + (1.0 - slip) * np.eye(n_actions)


def _csr_from_targets(targets, weights):
    """P as CSR (S*A, S) with ``P[s, a, :] = Σ_b W[a, b] onehot(targets[s, b])``."""
    n_states = targets.shape[0]
    n_actions = weights.shape[0]
    # Only pairs with W > 0 are stored, so slip = 0 gives one entry per row.
    a_idx, b_idx = np.nonzero(weights > 0)
    s = np.arange(n_states)[:, None]
    rows = (s * n_actions + a_idx).ravel()
    cols = targets[:, b_idx].ravel()
    data = np.broadcast_to(weights[a_idx, b_idx], (n_states, a_idx.size)).ravel()
    return sp.csr_matrix((data, (rows, cols)), shape=(n_states * n_actions, n_states))


def _grid_deltas(stay_action):
    return ACTION_DELTAS if _checks.flag(stay_action, "stay_action") else ACTION_DELTAS[:4]


# -- builders --------------------------------------------------------------
def gridworld(shape: tuple[int, int], slip: float = 0.0, walls: ArrayLike = (),
              rewards: ArrayLike | Mapping[tuple[int, int], float] | None = None,
              start: ArrayLike | None = None, stay_action: bool = True,
              horizon: int | None = DEFAULT_HORIZON, gamma: float = 1.0, goals: ArrayLike = (),
              pits: ArrayLike = (), goal_reward: float = GOAL_REWARD,
              pit_reward: float = PIT_REWARD, step_reward: float = STEP_REWARD,
              absorbing: bool = True, features: ArrayLike | None = None,
              info: Mapping[str, ArrayLike] | None = None) -> GridMDP:
    r"""Build a rectangular grid world with walls, goals, pits and slippery moves.

    Rewards are paid per decision for the cell the agent is in, ``r[s, a] = r_cell(s)``
    (reward units per step): a goal pays ``goal_reward`` at every step the agent
    spends in it, a pit ``pit_reward``, any other open cell ``step_reward`` (a small
    cost that prefers short paths), a wall 0. Goals and pits are absorbing by
    default, so reaching a goal early collects its reward for the rest of the horizon.

    Parameters
    ----------
    shape : tuple of int
        ``(rows, cols)``; state ``s = row * cols + col``.
    slip : float, default 0.0
        Probability in [0, 1] that a uniformly random move among all ``A`` actions
        replaces the chosen one (see the module docstring for ``P``).
    walls, goals, pits : bool array (rows, cols), (row, col) pair or sequence of pairs
        Cells of each kind (disjoint). Moves into walls or off the board stay put.
    rewards : array_like (rows, cols) or dict {(row, col): float}, optional
        An array replaces the default cell rewards entirely; a dict overrides the
        listed cells. Walls always pay 0 (they are never entered).
    start : bool array (rows, cols), (row, col) pair or sequence of pairs, optional
        Start cells, uniform ``p0`` over them; default: every cell that is not a
        wall, goal or pit.
    stay_action : bool, default True
        Add action 4 "stay" to the four moves.
    horizon : int or None, default 20
        Number of decisions ``T``.
    gamma : float, default 1.0
        Discount ``γ``.
    goal_reward, pit_reward, step_reward : float, defaults 1.0, -1.0, -0.01
        Default per-step rewards of goal, pit and other open cells.
    absorbing : bool, default True
        Make goals and pits absorbing (every action stays).
    features : array_like, shape (S, K) or (S, A, K), optional
        Stored on the result as ``features``.
    info : dict, optional
        Stored on the result as ``info`` (see :class:`GridMDP`).

    Returns
    -------
    GridMDP
        With ``S = rows * cols`` states and ``A = 5`` (or 4) actions.

    Examples
    --------
    A 1x3 corridor with slip 0.5: "right" moves right with probability
    1 - 0.5 + 0.5/5 = 0.6; the slips up, down, left (all blocked) and stay keep
    the agent in place:

    >>> import ctrlinf as ci
    >>> grid = ci.envs.gridworld((1, 3), slip=0.5, goals=[(0, 2)])
    >>> grid.transition_tensor()[0, 1]
    array([0.4, 0.6, 0. ])
    >>> grid.r[:, 0]
    array([-0.01, -0.01,  1.  ])
    """
    shape = _check_shape(shape)
    slip = _checks.fraction(slip, "slip")
    deltas = _grid_deltas(stay_action)
    check_grid_size(shape, len(deltas), slip)
    walls = _cell_mask(walls, shape, "walls")
    goals = _cell_mask(goals, shape, "goals")
    pits = _cell_mask(pits, shape, "pits")
    _check_disjoint(walls=walls, goals=goals, pits=pits)
    terminal = (goals | pits) if _checks.flag(absorbing, "absorbing") else np.zeros(shape, bool)
    cell_reward = _cell_rewards(rewards, shape, goals, pits, goal_reward, pit_reward,
                                step_reward)
    cell_reward[walls] = 0.0
    P = _csr_from_targets(_move_targets(walls, walls | terminal, deltas),
                          _slip_weights(slip, len(deltas)))
    return GridMDP(P, cell_reward.ravel(), _start_distribution(start, walls, goals | pits),
                   horizon, gamma, shape=shape, action_deltas=deltas, walls=walls,
                   goals=goals, pits=pits, features=features, info=info)


def check_grid_size(shape, n_actions, slip, name="shape"):
    """Refuse a grid whose transition matrix cannot fit in memory, before building it."""
    entries_per_row = n_actions if slip > 0 else 1
    # CSR data and indices (16 bytes an entry) and the COO triplets it is built from (24).
    _checks.allocation(40 * shape[0] * shape[1] * n_actions * entries_per_row, name,
                       f"P of a {shape[0]} x {shape[1]} grid")


def _check_disjoint(**masks):
    names = list(masks)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            both = masks[first] & masks[second]
            if both.any():
                cell = tuple(int(k) for k in np.argwhere(both)[0])
                raise ValueError(f"cell {cell} is in both {first} and {second}")


def _parse_map(layout):
    """Return the map as a (rows, cols) array of characters, or raise."""
    if isinstance(layout, str):
        lines = [line.strip() for line in layout.strip().splitlines()]
    elif isinstance(layout, (list, tuple)) and all(isinstance(l, str) for l in layout):
        lines = list(layout)
    else:
        raise TypeError(f"layout must be a list of strings or one string, got {layout!r}")
    if not lines or not lines[0]:
        raise ValueError("layout is empty")
    for i, line in enumerate(lines):
        if len(line) != len(lines[0]):
            raise ValueError(
                f"layout row {i} has {len(line)} characters, expected {len(lines[0])} "
                "(as row 0); every row must have the same length"
            )
        for j, char in enumerate(line):
            if char not in MAP_CHARACTERS:
                raise ValueError(
                    f"layout row {i}, column {j} is {char!r}; expected one of "
                    f"{', '.join(repr(c) for c in MAP_CHARACTERS)}"
                )
    chars = np.array([list(line) for line in lines])
    if not (chars == "S").any():
        raise ValueError("layout has no start cell 'S'")
    return chars


def gridworld_from_map(layout: str | Sequence[str], slip: float = 0.0,
                       rewards: Mapping[str, float] | None = None, stay_action: bool = True,
                       horizon: int | None = DEFAULT_HORIZON, gamma: float = 1.0,
                       absorbing: bool = True) -> GridMDP:
    r"""Build a :func:`gridworld` from a text map.

    Characters: ``S`` start (several ``S`` give a uniform start), ``G`` goal,
    ``P`` or ``X`` pit, ``#`` wall, ``.`` empty. Rewards are per step spent in a
    cell, as in :func:`gridworld`.

    Parameters
    ----------
    layout : list of str, or str
        One string per row (all the same length), or one string with a row per
        line (surrounding whitespace ignored).
    slip : float, default 0.0
        Probability of a uniformly random move (see :func:`gridworld`).
    rewards : dict, optional
        Keys are map characters (``'G'``, ``'P'``, ``'X'``, ``'.'``, ``'S'``) giving
        the reward of every cell with that character, or ``(row, col)`` pairs
        overriding one cell. Defaults: ``'G'`` 1.0, ``'P'``/``'X'`` -1.0, ``'.'``
        -0.01, ``'S'`` as ``'.'``.
    stay_action, horizon, gamma, absorbing
        As for :func:`gridworld`.

    Returns
    -------
    GridMDP

    Examples
    --------
    >>> import ctrlinf as ci
    >>> grid = ci.envs.gridworld_from_map(["S.#", "..G"], rewards={'.': 0.0, (1, 0): -0.5})
    >>> grid.to_grid(grid.r[:, 0])
    array([[ 0. ,  0. ,  nan],
           [-0.5,  0. ,  1. ]])
    >>> float(grid.p0[grid.state(0, 0)])
    1.0
    """
    chars = _parse_map(layout)
    rewards = {} if rewards is None else rewards
    if not isinstance(rewards, dict):
        raise TypeError(f"rewards must be a dict, got {type(rewards).__name__}")
    char_rewards = {k: v for k, v in rewards.items() if isinstance(k, str)}
    unknown = set(char_rewards) - (set(MAP_CHARACTERS) - {"#"})
    if unknown:
        raise ValueError(
            f"rewards has key(s) {sorted(unknown)}; character keys must be one of "
            "'S', 'G', 'P', 'X', '.' (walls pay nothing)"
        )
    per_char = {"G": GOAL_REWARD, "P": PIT_REWARD, "X": PIT_REWARD, ".": STEP_REWARD}
    per_char.update({char: _checks.real(value, f"rewards[{char!r}]")
                     for char, value in char_rewards.items()})
    per_char.setdefault("S", per_char["."])
    cell_reward = np.zeros(chars.shape)
    for char, value in per_char.items():
        cell_reward[chars == char] = value
    cell_reward = _apply_cell_rewards(
        cell_reward, {k: v for k, v in rewards.items() if not isinstance(k, str)})
    return gridworld(chars.shape, slip=slip, walls=chars == "#", rewards=cell_reward,
                     start=chars == "S", stay_action=stay_action, horizon=horizon,
                     gamma=gamma, goals=chars == "G", pits=np.isin(chars, ("P", "X")),
                     absorbing=absorbing)


def cliff_walking(shape: tuple[int, int] = (4, 12), slip: float = 0.0,
                  horizon: int | None = DEFAULT_HORIZON, gamma: float = 1.0,
                  step_reward: float = -1.0, cliff_reward: float = -100.0,
                  stay_action: bool = False) -> GridMDP:
    r"""The cliff-walking grid of Sutton & Barto (2018), Example 6.6.

    The agent starts in the bottom-left cell and must reach the bottom-right goal.
    Every move pays ``step_reward``; a move into the cliff (the bottom row between
    start and goal) pays ``cliff_reward`` and sends the agent back to the start.
    The goal is absorbing with zero reward (the episode is over). Here the reward
    depends on the move, ``r[s, a] = Σ_b W[a, b] reward(s, b)``, with ``W`` the slip
    weights of :func:`gridworld`. This matches gymnasium's ``CliffWalking-v1``.

    Parameters
    ----------
    shape : tuple of int, default (4, 12)
        ``(rows, cols)`` with rows >= 2 and cols >= 3.
    slip : float, default 0.0
        Probability of a uniformly random move.
    horizon : int or None, default 20
        Number of decisions ``T`` (the safe path of the 4x12 cliff takes 17).
    gamma : float, default 1.0
    step_reward, cliff_reward : float, defaults -1.0 and -100.0
        Reward of an ordinary move and of a move into the cliff.
    stay_action : bool, default False
        Add a "stay" action (Sutton & Barto have four moves).

    Returns
    -------
    GridMDP
        The cliff cells are ``pits`` (never occupied: entering one means restarting),
        the goal is ``goals``; ``p0`` is one at the start.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> cliff = ci.envs.cliff_walking()
    >>> start = cliff.state(3, 0)
    >>> float(cliff.r[start, 1]), float(cliff.transition_tensor()[start, 1, start])
    (-100.0, 1.0)
    """
    rows, cols = _check_shape(shape)
    if rows < 2 or cols < 3:
        raise ValueError(f"shape must have rows >= 2 and cols >= 3, got {(rows, cols)}")
    slip = _checks.fraction(slip, "slip")
    step_reward = _checks.real(step_reward, "step_reward")
    cliff_reward = _checks.real(cliff_reward, "cliff_reward")
    deltas = _grid_deltas(stay_action)
    check_grid_size((rows, cols), len(deltas), slip)
    start, goal = (rows - 1) * cols, rows * cols - 1
    cliff = np.zeros((rows, cols), dtype=bool)
    cliff[-1, 1:-1] = True
    goals = np.zeros_like(cliff)
    goals[-1, -1] = True
    targets = _move_targets(np.zeros_like(cliff), cliff | goals, deltas)
    falls = cliff.ravel()[targets]
    weights = _slip_weights(slip, len(deltas))
    # Reward of the move actually executed, averaged over the slip outcomes.
    move_reward = np.where(falls, cliff_reward, step_reward)
    r = move_reward @ weights.T
    r[cliff.ravel()] = 0.0
    r[goal] = 0.0
    targets[falls] = start
    p0 = np.zeros(rows * cols)
    p0[start] = 1.0
    return GridMDP(_csr_from_targets(targets, weights), r, p0, horizon, gamma,
                   shape=(rows, cols), action_deltas=deltas, goals=goals, pits=cliff)
