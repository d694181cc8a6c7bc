"""A uniform experience-replay buffer of discrete transitions.

Off-policy agents (soft Q-learning, discrete SAC) store every transition
``(s, a, r, s', terminated)`` and learn from uniformly drawn mini-batches, which breaks
the correlation between consecutive samples (CS285, "Q-learning with soft optimality":
"sample mini-batch from R uniformly"). Only *termination* is stored: a time-limit
truncation is not part of the MDP, so its transition is bootstrapped like any other.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ctrlinf import _checks


class Batch(NamedTuple):
    """A mini-batch of transitions; every field has shape (B,)."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    terminated: np.ndarray


class ReplayBuffer:
    """A ring buffer of the last ``capacity`` transitions.

    Parameters
    ----------
    capacity : int
        How many transitions are kept; the oldest are overwritten first.

    Examples
    --------
    >>> buffer = ReplayBuffer(capacity=3)
    >>> for t in range(4):
    ...     buffer.add(t, 0, 1.0, t + 1, False)
    >>> len(buffer), sorted(buffer.states.tolist())
    (3, [1, 2, 3])
    >>> buffer.sample(5, seed=0).states.shape
    (5,)
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = _checks.positive_int(capacity, "capacity")
        self.states = np.zeros(self.capacity, dtype=np.int64)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity)
        self.next_states = np.zeros(self.capacity, dtype=np.int64)
        self.terminated = np.zeros(self.capacity, dtype=bool)
        self._size = 0
        self._next = 0

    def __len__(self):
        return self._size

    def add(self, state, action, reward, next_state, terminated):
        """Store one transition; ``terminated`` is True only if the MDP itself ended.

        States and actions are ints >= 0, the reward a finite number, ``terminated`` a
        bool; anything else is refused here rather than read back wrongly later.
        """
        _checks.transition(state, action, reward, next_state, terminated)
        i = self._next
        self.states[i], self.actions[i], self.rewards[i] = state, action, reward
        self.next_states[i], self.terminated[i] = next_state, terminated
        self._next = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def sample(self, batch_size, seed=None):
        """Draw ``batch_size`` stored transitions uniformly with replacement.

        Parameters
        ----------
        batch_size : int
        seed : int or numpy.random.Generator, optional

        Returns
        -------
        Batch
        """
        batch_size = _checks.positive_int(batch_size, "batch_size")
        if self._size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        rng = np.random.default_rng(_checks.seed(seed))
        i = rng.integers(0, self._size, size=batch_size)
        return Batch(self.states[i], self.actions[i], self.rewards[i], self.next_states[i],
                     self.terminated[i])
