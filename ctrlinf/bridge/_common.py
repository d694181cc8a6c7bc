"""Shared pieces of the bridge agents: env checks, stepping, softmax, schedules, progress."""
from __future__ import annotations

import math

import numpy as np

from ctrlinf import _checks
from ctrlinf._progress import progress_bar as _progress_bar
from ctrlinf._progress import shows_bar


def env_sizes(env):
    """``(S, A)`` of an environment with Discrete observation and action spaces."""
    return (_checks.discrete_space(getattr(env, "observation_space", None), "env.observation_space"),
            _checks.discrete_space(getattr(env, "action_space", None), "env.action_space"))


class Stepper:
    """Steps a gymnasium env one transition at a time, resetting between episodes.

    The first reset uses ``seed`` so that a run is reproducible; later resets continue
    the env's own random stream. ``episode_length`` lets the agent cut episodes itself
    (for envs that never end); a cut is a truncation, not a termination.
    """

    def __init__(self, env, seed, episode_length=None):
        self.env = env
        self.episode_length = None if episode_length is None else _checks.positive_int(
            episode_length, "episode_length")
        observation, _ = env.reset(seed=seed)
        self.state = int(observation)
        self.t = 0
        self.episode_return = 0.0
        self.returns = []

    def step(self, action):
        """Take ``action``; return ``(s, a, r, s', terminated, episode_over)``."""
        state = self.state
        observation, reward, terminated, truncated, _ = self.env.step(int(action))
        next_state = int(observation)
        self.t += 1
        self.episode_return += float(reward)
        cut = self.episode_length is not None and self.t >= self.episode_length
        over = bool(terminated or truncated or cut)
        if over:
            self.returns.append(self.episode_return)
            observation, _ = self.env.reset()
            self.state, self.t, self.episode_return = int(observation), 0, 0.0
        else:
            self.state = next_state
        return state, action, float(reward), next_state, bool(terminated), over


def logsumexp_rows(x):
    """``log Σ_j exp(x[..., j])`` with the max shift, shape ``x.shape[:-1]``."""
    shift = x.max(axis=-1, keepdims=True)
    return np.log(np.exp(x - shift).sum(axis=-1)) + shift[..., 0]


def log_softmax_rows(x):
    """``x − logsumexp(x)`` along the last axis."""
    return x - logsumexp_rows(x)[..., None]


def softmax_rows(x):
    """Row-wise softmax along the last axis."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def schedule(learning_rate, name="learning_rate"):
    """A learning rate as a function of the fraction of training done, ``f(0) = start``.

    A float is constant; a callable ``fraction -> rate`` is used as given (e.g. a decay).
    """
    if callable(learning_rate):
        return learning_rate
    rate = _checks.temperature(learning_rate, name)
    return lambda fraction: rate


def progress_bar(total, progress, desc, work=None, unit="env steps"):
    """A bar over ``total`` units, shown when ``progress`` is True, or when it is None and
    ``work`` (default ``total``) in ``unit`` is enough (:func:`ctrlinf._progress.shows_bar`)."""
    return _progress_bar(total, shows_bar(progress, total if work is None else work, unit),
                         desc)


def run_options(n_units, log_every, callback, progress, seed):
    """The options every agent takes, checked: ``(log_every, callback, progress, rng)``.

    ``log_every`` defaults to ``max(1, n_units // 100)`` (about a hundred history rows
    over ``n_units`` steps or iterations); ``callback`` is None or callable; ``progress``
    None, True or False (:func:`progress_bar`); ``rng`` a Generator seeded by ``seed``.
    """
    log_every = max(1, n_units // 100) if log_every is None else _checks.positive_int(
        log_every, "log_every")
    return (log_every, _checks.optional_callable(callback, "callback"),
            _checks.flag(progress, "progress", allow_none=True),
            np.random.default_rng(_checks.seed(seed)))


def effective_horizon(gamma, tail=1e-3):
    """Steps after which ``γ^t`` falls below ``tail``: ``ceil(log tail / log γ)``."""
    return int(math.ceil(math.log(tail) / math.log(gamma)))


def linear_decay(rate):
    """``fraction -> rate * (1 − fraction)``: linear annealing to 0 at the end of the run.

    A finite budget, not a Robbins–Monro schedule (those need ``Σ η_k = ∞`` and
    ``Σ η_k² < ∞`` over infinitely many steps): it trades the noise floor of a
    constant rate for a last stretch of small steps.
    """
    return lambda fraction: rate * max(1.0 - fraction, 0.0)


class History:
    """Accumulates per-step statistics and writes one row every ``every`` steps.

    A row holds the step count (column ``index``: environment steps for the off-policy
    agents, iterations for policy gradient), the mean of each statistic since the last
    row, the mean return of the episodes finished since then, and any ``extra``.
    """

    def __init__(self, every, keys, index="step"):
        self.every = every
        self.index = index
        self.columns = {key: [] for key in (index, *keys, "episode_return")}
        self._sums = {key: 0.0 for key in keys}
        self._count = 0
        self._returns_seen = 0

    def add(self, **values):
        for key, value in values.items():
            self._sums[key] += value
        self._count += 1

    def due(self, step):
        return (step + 1) % self.every == 0

    def log(self, step, returns, callback=None, snapshot=None, extra=None):
        """Write a row; ``callback(step + 1, snapshot())`` may add columns to ``extra``."""
        extra = dict(extra or {})
        if callback is not None:
            extra.update(callback(step + 1, snapshot()) or {})
        self.write(step, returns, extra)

    def write(self, step, returns, extra=None):
        self.columns[self.index].append(step + 1)
        for key, total in self._sums.items():
            self.columns[key].append(total / self._count if self._count else float("nan"))
            self._sums[key] = 0.0
        self._count = 0
        new = returns[self._returns_seen:]
        self._returns_seen = len(returns)
        self.columns["episode_return"].append(float(np.mean(new)) if new else float("nan"))
        for key, value in (extra or {}).items():
            self.columns.setdefault(key, [float("nan")] * (len(self.columns[self.index]) - 1))
            self.columns[key].append(value)
