r"""The ``gymnasium.Env`` that samples a :class:`~ctrlinf.TabularMDP` (see :func:`to_gymnasium`).

This module imports gymnasium at the top, so a module-level class can subclass
``gymnasium.Env``: it can be imported, subclassed, pickled and named in a traceback.
Nothing else in ctrlinf imports it until :func:`ctrlinf.envs.to_gymnasium` is called,
which keeps gymnasium an optional dependency (``pip install -e ".[gym]"``).

Forbidden actions. ``r[s, a] = -inf`` forbids ``a`` in ``s``. The env tells an agent which
actions are allowed (``info["action_mask"]``, ``action_masks()``); an agent that takes a
forbidden action anyway ends its episode (``terminated=True``, the state unchanged) and
is paid :func:`forbidden_reward`, a finite number below any return the MDP can pay
from any state, so that a forbidden action is never optimal for the expected return.
The env's toy-text table ``P`` lists exactly that outcome for the forbidden pairs.
"""
from __future__ import annotations

import functools
import math
import sys

import numpy as np

from ctrlinf import _checks
from ctrlinf.envs.grid import GridMDP
from ctrlinf.inference import dead_states
from ctrlinf.trajectories import draw

try:
    import gymnasium as gym
except ImportError as error:  # the same hint as ctrlinf.envs.to_gymnasium gives
    raise ImportError(
        "ctrlinf's gymnasium adapters need the optional dependency gymnasium; "
        'install it with `pip install -e ".[gym]"` from the repository root'
    ) from error


def forbidden_reward(mdp):
    r"""The reward for taking a forbidden action: ``−(1 + H max|r|)``, clipped to the float range.

    ``max|r|`` is over the allowed actions and ``H`` is the horizon ``T``, or
    ``1/(1 − γ)`` for an infinite horizon. Any allowed action from any state at any
    time has an expected return of at least ``−H max|r|`` (undiscounted over the
    remaining steps, or discounted by any ``γ' ≤ γ``), so ending the episode with this
    reward is strictly worse: the optimal policy and values of the env are those of
    the masked MDP.

    Parameters
    ----------
    mdp : TabularMDP

    Returns
    -------
    float
    """
    allowed = mdp.r[np.isfinite(mdp.r)]
    largest = float(np.abs(allowed).max())
    steps = _checks.effective_steps(mdp)
    penalty = 1.0 + steps * largest
    return -penalty if math.isfinite(penalty) else -sys.float_info.max


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


class TabularMDPEnv(gym.Env):
    """A ``gymnasium.Env`` that samples a :class:`~ctrlinf.TabularMDP`; see :func:`to_gymnasium`.

    Parameters
    ----------
    mdp : TabularMDP
    seed : int, optional
        Seeds the generator and the action space.
    render_mode : {None, "ansi"}

    Attributes
    ----------
    mdp : TabularMDP
    s, t : int
        The current state (None before the first reset) and step count.
    initial_state_distrib : ndarray, shape (S,)
        ``p0``, as toy-text environments name it.
    forbidden_reward : float
        What a forbidden action pays (it also ends the episode); see :func:`forbidden_reward`.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, mdp, seed=None, render_mode=None):
        self.mdp = _checks.mdp(mdp)
        self.observation_space = gym.spaces.Discrete(mdp.n_states)
        self.action_space = gym.spaces.Discrete(mdp.n_actions)
        self.render_mode = None if render_mode is None else _checks.choice(
            render_mode, "render_mode", ("ansi",))
        self.initial_state_distrib = mdp.p0
        self.forbidden_reward = forbidden_reward(mdp)
        self._dead = dead_states(mdp)
        self._indptr, self._indices, self._data = mdp.P.indptr, mdp.P.indices, mdp.P.data
        # r[s, a] = -inf forbids a in s: the agent learns it from the mask, or from the
        # finite forbidden_reward, never from a -inf reward.
        self._allowed = np.isfinite(mdp.r)
        self._mask = self._allowed.astype(np.uint8)
        self.s, self.t = None, 0
        self._over = False  # the episode ended (terminated or truncated)
        if seed is not None:
            seed = _checks.integer(seed, "seed", low=0)
            self.np_random, _ = gym.utils.seeding.np_random(seed)
            self.action_space.seed(seed)

    @functools.cached_property
    def P(self):
        """Toy-text table ``P[s][a] = [(prob, next_state, reward, terminated), ...]`` of ``step``.

        Allowed actions list ``(P[s, a, s'], s', r[s, a], s' is dead)``; a forbidden one
        lists its one outcome ``(1.0, s, forbidden_reward, True)``.
        """
        A, r = self.mdp.n_actions, self.mdp.r
        return {s: {a: self._outcomes(s, a, r[s, a]) for a in range(A)}
                for s in range(self.mdp.n_states)}

    def _outcomes(self, s, a, reward):
        if not self._allowed[s, a]:
            return [(1.0, s, self.forbidden_reward, True)]
        row = s * self.mdp.n_actions + a
        return [(float(self._data[k]), int(self._indices[k]), float(reward),
                 bool(self._dead[self._indices[k]]))
                for k in range(self._indptr[row], self._indptr[row + 1])]

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
        self.s, self.t, self._over = draw(self.mdp.p0, self.np_random), 0, False
        return self.s, self._info(float(self.mdp.p0[self.s]))

    def step(self, action):
        if self.s is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self._over:
            raise gym.error.ResetNeeded(
                f"the episode ended (terminated or truncated) at t={self.t}; "
                "call reset() before step()")
        a = self._action(action)
        self.t += 1
        if not self._allowed[self.s, a]:
            self._over = True
            return self.s, self.forbidden_reward, True, False, self._info(1.0)
        row = self.s * self.mdp.n_actions + a
        lo, hi = self._indptr[row], self._indptr[row + 1]
        k = lo + draw(self._data[lo:hi], self.np_random)
        reward = float(self.mdp.r[self.s, a])
        self.s = int(self._indices[k])
        terminated = bool(self._dead[self.s])
        horizon = self.mdp.horizon
        truncated = horizon is not None and self.t >= horizon and not terminated
        self._over = terminated or truncated
        return self.s, reward, terminated, truncated, self._info(float(self._data[k]))

    def _action(self, action):
        """``action`` as an int in [0, A): an int or a 0-d integer array; bools are refused."""
        value = action[()] if isinstance(action, np.ndarray) and action.shape == () else action
        A = self.mdp.n_actions
        if not _checks.is_int(value):
            raise TypeError(f"action must be an int in [0, {A}), got {action!r}")
        if not 0 <= value < A:
            raise ValueError(f"action must be an int in [0, {A}), got {action!r}")
        return int(value)

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() needs render_mode='ansi' (pass it to to_gymnasium)")
            return None
        header = f"t={self.t}"
        if isinstance(self.mdp, GridMDP):
            return "\n".join([header] + _grid_text(self.mdp, self.s)) + "\n"
        return f"{header} state={self.s}\n"
