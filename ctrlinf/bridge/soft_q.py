r"""Soft Q-learning with replay and a target network (Haarnoja et al. 2017).

The algorithm of CS285, "Q-learning with soft optimality" (Haarnoja, Tang, Abbeel &
Levine 2017, *Reinforcement Learning with Deep Energy-Based Policies*, for discrete
actions):

1. act with the Boltzmann policy ``π(a|s) ∝ exp(Q_φ(s, a)/α)`` and store
   ``(s, a, r, s', terminated)`` in a replay buffer;
2. draw a uniform mini-batch and form the soft target with the target network ``φ'``

   .. math::

       y = r + \gamma\,(1 - \text{terminated})\;
           \alpha \log \textstyle\sum_{a'} \exp\big(Q_{\phi'}(s', a')/\alpha\big);

3. take a gradient step on ``½ mean (Q_φ(s, a) − y)^2``;
4. update ``φ'``: copy ``φ`` every N steps or average ``φ' ← τ φ' + (1 − τ) φ``.

Its fixed point is the soft Bellman equation of the discounted infinite-horizon MDP,
so the reference is ``Oracle.stationary(mdp, gamma, temperature)`` with the agent's
temperature (see :mod:`ctrlinf.bridge.oracle`):
time-limit truncations are bootstrapped, only termination stops the backup.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from ctrlinf import _checks
from ctrlinf.bridge import losses
from ctrlinf.bridge._common import (History, Stepper, env_sizes, logsumexp_rows, progress_bar,
                                    run_options, softmax_rows)
from ctrlinf.bridge.approximators import (all_states, check_target_update, make_approximator,
                                          make_training, update_target)
from ctrlinf.bridge.replay import ReplayBuffer
from ctrlinf.trajectories import draw

if TYPE_CHECKING:
    from collections.abc import Sequence

    import gymnasium

    from ctrlinf._typing import ArrayLike, LearningRate, LogCallback, Seed


@dataclass(frozen=True)
class SoftQResult:
    r"""What :func:`soft_q_learning` learned.

    Attributes
    ----------
    Q : ndarray, shape (S, A)
        ``Q_φ(s, a)`` at every state.
    V : ndarray, shape (S,)
        ``α log Σ_a exp(Q/α)``.
    policy : ndarray, shape (S, A)
        ``exp((Q − V)/α)``.
    history : dict of lists
        Every ``log_every`` steps: ``step``, ``td_error`` (mean ``|Q − y|`` since the last
        log), ``episode_return`` (mean undiscounted env return of the episodes finished
        since the last log, NaN if none), and whatever ``callback`` returned.
    temperature, gamma : float
    q_function : approximator
        The trained approximator (``q_function(states)`` gives ``Q_φ(states, ·)``).
    """

    Q: np.ndarray
    V: np.ndarray
    policy: np.ndarray
    history: dict = field(repr=False)
    temperature: float
    gamma: float
    q_function: object = field(repr=False)


class _Learner:
    """Soft Q-learning's network, target network and optimiser, and its update step."""

    def __init__(self, S, A, approximator, features, hidden, activation, rng, *, alpha, gamma,
                 optimizer, learning_rate, target_update):
        self.q_function = make_approximator(approximator, S, A, features, hidden, activation,
                                            seed=rng)
        self.target = self.q_function.copy()
        self.optimizer, self.rate = make_training("value", approximator, self.q_function,
                                                  optimizer, learning_rate)
        self.alpha, self.gamma, self.target_update = alpha, gamma, target_update
        self.n_updates = 0

    def act(self, state, rng):
        """``a ~ exp(Q_φ(s, ·)/α)``, the Boltzmann policy."""
        q_s = self.q_function(np.array([state]))[0]
        return draw(softmax_rows(q_s / self.alpha), rng)

    def update(self, batch, fraction):
        """Steps 2-4 of the algorithm on ``batch``; returns the mean |Q − y|."""
        y = losses.soft_q_target(batch.rewards, self.target(batch.next_states),
                                 batch.terminated, self.gamma, self.alpha)
        q, cache = self.q_function.forward(batch.states)
        td, grad_q = losses.td_loss(q, batch.actions, y)
        self.optimizer.step(self.q_function.backward(cache, grad_q), self.rate(fraction))
        self.n_updates += 1
        update_target(self.target, self.q_function, self.target_update, self.n_updates)
        return float(np.abs(td).sum()) / batch.states.shape[0]

    def result(self, history):
        Q = all_states(self.q_function)
        V = self.alpha * logsumexp_rows(Q / self.alpha)
        return SoftQResult(Q=Q, V=V, policy=softmax_rows(Q / self.alpha), history=history,
                           temperature=self.alpha, gamma=self.gamma,
                           q_function=self.q_function)


def soft_q_learning(env: gymnasium.Env, n_steps: int, *, gamma: float,
                    approximator: Literal["tabular", "linear", "mlp"] = "tabular",
                    features: ArrayLike | None = None, temperature: float = 1.0,
                    optimizer: Literal["sgd", "adam"] | None = None,
                    learning_rate: LearningRate = None, batch_size: int = 128,
                    train_every: int = 4, buffer_size: int | None = None,
                    learning_starts: int = 100, target_update: float = 0.99, epsilon: float = 0.1,
                    hidden: Sequence[int] = (64,), activation: Literal["tanh", "relu"] = "tanh",
                    episode_length: int | None = None, log_every: int | None = None,
                    callback: LogCallback[SoftQResult] | None = None, seed: Seed = None,
                    progress: bool | None = None) -> SoftQResult:
    r"""Learn the soft Q-function of an environment by sampling it.

    Parameters
    ----------
    env : gymnasium.Env
        Discrete observation and action spaces (e.g. ``ci.envs.to_gymnasium(mdp)``).
        The agent only calls ``reset`` and ``step``.
    n_steps : int
        Environment steps; one gradient step per environment step after
        ``learning_starts`` (see ``train_every``).
    gamma : float
        Discount ``γ`` in (0, 1), required: a gymnasium env carries no discount, so the
        agent states the one it optimises (``Oracle.stationary(mdp, gamma)`` takes the
        same). The core and IRL read ``γ`` from the ``TabularMDP`` instead.
    approximator : {"tabular", "linear", "mlp"}
        ``Q_φ``: a table, linear in ``features``, or a numpy MLP on one-hot states (or
        on ``features``).
    features : ndarray, shape (S, K) or (S, A, K), optional
        Needed for ``"linear"``.
    temperature : float, default 1.0
        ``α``, in reward units.
    optimizer : {"sgd", "adam"}, optional
        Default: SGD for a table (Adam's per-entry normalisation makes rarely visited
        entries jitter), Adam otherwise.
    learning_rate : float or callable, optional
        Step size, or ``fraction_done -> rate``. Default: tabular 1.0 (SGD on the
        mean batch loss: an entry moves by its share of the batch times its mean TD
        error), linear 0.03, mlp 3e-3; each decays linearly to 0 over the run, which is
        what lets a stochastic environment's Q settle instead of jittering around ``Q*``.
    batch_size : int, default 128
    train_every : int, default 4
        One gradient step every this many environment steps (DQN's "train frequency");
        with a proportionally larger batch the same data is used at a fraction of the
        Python overhead (and, measured on the test MDP, no loss of accuracy).
    buffer_size : int, optional
        Replay capacity; default ``n_steps`` (keep everything).
    learning_starts : int, default 100
        Uniformly random actions before learning starts.
    target_update : float or int, default 0.99
        A float ``τ`` in (0, 1): Polyak ``φ' ← τ φ' + (1 − τ) φ`` after every gradient
        step; an int N: copy ``φ`` into ``φ'`` every N gradient steps.
    epsilon : float, default 0.1
        Probability of a uniformly random action instead of a Boltzmann one. Soft
        Q-learning is off-policy, so this only changes which transitions are seen; it
        keeps every action tried when ``Q_φ`` starts far below ``Q*`` (a 0-initialised
        table next to a ``Q*`` of 14 gives an untried action probability ``e^{-14}``).
    hidden : sequence of int, default (64,)
        MLP hidden widths.
    activation : {"tanh", "relu"}
    episode_length : int, optional
        Cut episodes after this many steps (a truncation, bootstrapped); None leaves
        episode ends to the environment.
    log_every : int, optional
        History interval; default ``max(1, n_steps // 100)``.
    callback : callable, optional
        ``callback(step, result) -> dict or None`` at every log; ``result`` is a
        :class:`SoftQResult` snapshot; returned scalars join the history (e.g. the
        oracle's error, for error-vs-samples curves).
    seed : int or numpy.random.Generator, optional
        Seeds the environment's first reset and the agent; same seed, same run. None
        (the default) draws fresh entropy.
    progress : bool, optional
        tqdm bar; None shows it for runs of at least 50 000 steps.

    Returns
    -------
    SoftQResult

    Examples
    --------
    A one-state bandit with rewards 0 and 1: ``Q* = r + γ V*`` with
    ``V* = α log(e^{Q*_0} + e^{Q*_1})``.

    >>> import numpy as np, gymnasium as gym
    >>> class Bandit(gym.Env):
    ...     observation_space, action_space = gym.spaces.Discrete(1), gym.spaces.Discrete(2)
    ...     def reset(self, seed=None, options=None):
    ...         super().reset(seed=seed)
    ...         return 0, {}
    ...     def step(self, a):
    ...         return 0, float(a), False, False, {}
    >>> res = soft_q_learning(Bandit(), 3000, gamma=0.5, seed=0)
    >>> V = np.log(np.exp(0.0) + np.exp(1.0)) / (1 - 0.5)   # V* = log(1 + e) + γ V*
    >>> bool(np.allclose(res.Q, [[0.5 * V, 1 + 0.5 * V]], atol=0.05))
    True
    """
    S, A = env_sizes(env)
    n_steps = _checks.positive_int(n_steps, "n_steps")
    alpha = _checks.temperature(temperature)
    gamma = _checks.open_unit(gamma, "gamma")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    train_every = _checks.positive_int(train_every, "train_every")
    target_update = check_target_update(target_update)
    epsilon = _checks.fraction(epsilon, "epsilon")
    learning_starts = _checks.integer(learning_starts, "learning_starts", low=0)
    buffer_size = n_steps if buffer_size is None else _checks.positive_int(
        buffer_size, "buffer_size")
    log_every, callback, progress, rng = run_options(n_steps, log_every, callback, progress, seed)
    learner = _Learner(S, A, approximator, features, hidden, activation, rng, alpha=alpha,
                       gamma=gamma, optimizer=optimizer, learning_rate=learning_rate,
                       target_update=target_update)
    buffer = ReplayBuffer(buffer_size)
    stepper = Stepper(env, seed, episode_length)
    history = History(log_every, ("td_error",))

    with progress_bar(n_steps, progress, "soft Q-learning") as bar:
        for step in range(n_steps):
            explore = step < learning_starts or rng.random() < epsilon
            action = int(rng.integers(A)) if explore else learner.act(stepper.state, rng)
            buffer.add(*stepper.step(action)[:5])
            if step >= learning_starts and (step - learning_starts) % train_every == 0:
                td_error = learner.update(buffer.sample(batch_size, rng), step / n_steps)
                history.add(td_error=td_error)
            if history.due(step):
                history.log(step, stepper.returns, callback, lambda: learner.result(None))
                bar.update(log_every)
    return learner.result(history.columns)
