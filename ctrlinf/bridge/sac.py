r"""Discrete soft actor-critic (Christodoulou 2019).

SAC (Haarnoja et al. 2018) alternates soft policy evaluation and an information
projection of the policy (CS285, "Soft actor-critic"):

1. critic: ``Q(s, a) ← r + γ E_{s'}[V(s')]`` with
   ``V(s') = Σ_{a'} π(a'|s') (Q(s', a') − α log π(a'|s'))``, which converges to the
   soft ``Q^π``;
2. actor: one gradient step on ``KL(π(·|s) ‖ exp(Q(s, ·)/α)/Z)``, i.e. on
   ``Σ_a π(a|s) (α log π(a|s) − Q(s, a))``;
3. act with ``π`` and store the transition in a replay buffer.

With discrete actions (Christodoulou 2019, *Soft Actor-Critic for Discrete Action
Settings*) every expectation over actions is an exact sum, so neither the critic target
nor the actor loss needs the reparameterisation trick. Two critics are trained and
their minimum is used in targets and in the actor loss, to curb the overestimation a
max-like backup accumulates; the targets come from Polyak-averaged copies. The
temperature ``α`` is fixed, or tuned so that the policy's entropy tracks
``target_entropy`` (default ``0.98 log A``, Christodoulou's choice), minimising
``α (H(π(·|s)) − H̄)``.

With a fixed ``α`` the fixed point is the soft-optimal policy of the discounted
infinite-horizon MDP: compare with ``Oracle.stationary(mdp, gamma, temperature)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from ctrlinf import _checks
from ctrlinf.bridge import losses
from ctrlinf.bridge._common import (History, Stepper, env_sizes, log_softmax_rows, progress_bar,
                                    run_options)
from ctrlinf.bridge.approximators import (all_states, check_target_update, make_approximator,
                                          make_training, update_target)
from ctrlinf.bridge.replay import ReplayBuffer
from ctrlinf.nn import Adam
from ctrlinf.trajectories import draw

if TYPE_CHECKING:
    from collections.abc import Sequence

    import gymnasium

    from ctrlinf._typing import ArrayLike, LearningRate, LogCallback, Seed


@dataclass(frozen=True)
class SACResult:
    """What :func:`sac_discrete` learned.

    Attributes
    ----------
    policy : ndarray, shape (S, A)
        The actor ``π(a|s)`` at every state.
    Q : ndarray, shape (S, A)
        ``min(Q_1, Q_2)``: the critics' estimate of the soft ``Q^π``.
    Q1, Q2 : ndarray, shape (S, A)
        The twin critics.
    temperature : float
        The final ``α`` (the fixed one, or the tuned value).
    gamma : float
    history : dict of lists
        Every ``log_every`` steps: ``step``, ``td_error``, ``entropy`` (mean policy
        entropy over the batch states), ``temperature``, ``episode_return``, plus what
        ``callback`` returned.
    actor, critics : approximators
    """

    policy: np.ndarray
    Q: np.ndarray
    Q1: np.ndarray
    Q2: np.ndarray
    temperature: float
    gamma: float
    history: dict = field(repr=False)
    actor: object = field(repr=False)
    critics: tuple = field(repr=False)


class _Learner:
    """Discrete SAC's networks, optimisers and temperature, and its update step.

    ``update(batch)`` is one pass of the algorithm box (Haarnoja et al. 2018,
    Algorithm 1, with Christodoulou's exact sums over actions): a step on each critic
    towards the target from the target critics, a step on the actor towards
    ``softmax(min(Q_1, Q_2)/α)``, a step on ``log α`` when it is tuned, then the target
    critics follow.
    """

    def __init__(self, S, A, approximator, features, hidden, activation, rng, *, gamma,
                 critic_learning_rate, actor_learning_rate, log_alpha, tune,
                 temperature_learning_rate, target_entropy, target_update):
        def make():
            return make_approximator(approximator, S, A, features, hidden, activation,
                                     seed=rng)

        self.actor = make()
        self.critics = (make(), make())
        self.targets = tuple(critic.copy() for critic in self.critics)
        self.critic_optimizers = []
        for critic in self.critics:
            optimizer, self.critic_rate = make_training(
                "value", approximator, critic, None, critic_learning_rate,
                "critic_learning_rate")
            self.critic_optimizers.append(optimizer)
        self.actor_optimizer, self.actor_rate = make_training(
            "policy", approximator, self.actor, None, actor_learning_rate,
            "actor_learning_rate")
        self.log_alpha = np.array([log_alpha])
        self.alpha_optimizer = Adam([self.log_alpha], learning_rate=temperature_learning_rate)
        self.tune, self.target_entropy = tune, target_entropy
        self.gamma, self.target_update = gamma, target_update
        self.n_updates = 0

    @property
    def alpha(self):
        return math.exp(self.log_alpha[0])

    def act(self, state, rng):
        """``a ~ π(·|s)``."""
        logits = self.actor(np.array([state]))[0]
        return draw(np.exp(log_softmax_rows(logits)), rng)

    def update(self, batch, fraction):
        """One SAC update on ``batch``; returns the statistics the history records."""
        alpha = self.alpha
        td_error, q = self._update_critics(batch, alpha, fraction)
        entropy = self._update_actor(batch.states, q, alpha, fraction)
        if self.tune:
            _, grad = losses.temperature_loss(self.log_alpha[0], entropy, self.target_entropy)
            self.alpha_optimizer.step([np.array([grad])])
        self.n_updates += 1
        for target, critic in zip(self.targets, self.critics):
            update_target(target, critic, self.target_update, self.n_updates)
        return dict(td_error=td_error, entropy=entropy, temperature=alpha)

    def _update_critics(self, batch, alpha, fraction):
        """A TD step of each critic; returns the mean |TD| and ``min(Q_1, Q_2)`` before it."""
        # Critic target: exact expectation over a' of the soft value under π.
        q_next = np.minimum(*(target(batch.next_states) for target in self.targets))
        y = losses.sac_critic_target(batch.rewards, self.actor(batch.next_states), q_next,
                                     batch.terminated, self.gamma, alpha)
        td_error, q_now = 0.0, []
        for critic, optimizer in zip(self.critics, self.critic_optimizers):
            q, cache = critic.forward(batch.states)
            td, grad_q = losses.td_loss(q, batch.actions, y)
            optimizer.step(critic.backward(cache, grad_q), self.critic_rate(fraction))
            td_error += float(np.abs(td).sum()) / (2 * batch.states.shape[0])
            q_now.append(q)
        return td_error, np.minimum(*q_now)

    def _update_actor(self, states, q, alpha, fraction):
        """A step on the actor loss ``Σ_a π (α log π − Q)``; returns the mean entropy."""
        z, cache = self.actor.forward(states)
        _, grad_z = losses.sac_actor_loss(z, q, alpha)
        self.actor_optimizer.step(self.actor.backward(cache, grad_z), self.actor_rate(fraction))
        log_pi = log_softmax_rows(z)
        return float(-(np.exp(log_pi) * log_pi).sum(axis=1).mean())

    def result(self, history):
        Q1, Q2 = (all_states(critic) for critic in self.critics)
        policy = np.exp(log_softmax_rows(all_states(self.actor)))
        return SACResult(policy=policy, Q=np.minimum(Q1, Q2), Q1=Q1, Q2=Q2,
                         temperature=self.alpha, gamma=self.gamma, history=history,
                         actor=self.actor, critics=self.critics)


def sac_discrete(env: gymnasium.Env, n_steps: int, *, gamma: float,
                 approximator: Literal["tabular", "linear", "mlp"] = "tabular",
                 features: ArrayLike | None = None, temperature: float | Literal["auto"] = 1.0,
                 target_entropy: float | None = None, critic_learning_rate: LearningRate = None,
                 actor_learning_rate: LearningRate = None, temperature_learning_rate: float = 3e-3,
                 batch_size: int = 64, train_every: int = 1, buffer_size: int | None = None,
                 learning_starts: int = 100, target_update: float = 0.99,
                 hidden: Sequence[int] = (64,), activation: Literal["tanh", "relu"] = "tanh",
                 episode_length: int | None = None, log_every: int | None = None,
                 callback: LogCallback[SACResult] | None = None, seed: Seed = None,
                 progress: bool | None = None) -> SACResult:
    r"""Train a discrete soft actor-critic by sampling an environment.

    Parameters
    ----------
    env : gymnasium.Env
        Discrete observation and action spaces; only ``reset`` and ``step`` are used.
    n_steps : int
        Environment steps; after ``learning_starts``, one critic, actor (and
        temperature) step every ``train_every`` of them.
    gamma : float
        Discount ``γ`` in (0, 1), required: a gymnasium env carries no discount, so the
        agent states the one it optimises (``Oracle.stationary(mdp, gamma)`` takes the
        same). The core and IRL read ``γ`` from the ``TabularMDP`` instead.
    approximator : {"tabular", "linear", "mlp"}
        Used for the actor's logits and both critics.
    features : ndarray, shape (S, K) or (S, A, K), optional
        Needed for ``"linear"``; MLP inputs otherwise one-hot.
    temperature : float or "auto", default 1.0
        A fixed ``α``, or ``"auto"`` to tune it (starting at 1) towards
        ``target_entropy``.
    target_entropy : float, optional
        Entropy (nats) the tuned temperature aims at; default ``0.98 log A``.
    critic_learning_rate, actor_learning_rate : float or callable, optional
        Defaults: tabular critics SGD at 1.0 and actor Adam at 0.05; linear Adam 0.03;
        mlp Adam 3e-3; each decayed linearly to 0 over the run. A callable maps the
        fraction of training done to a rate.
    temperature_learning_rate : float, default 3e-3
        Adam step on ``log α`` when ``temperature="auto"``.
    batch_size : int, default 64
    train_every : int, default 1
        Environment steps per update. Unlike soft Q-learning, SAC is a two-timescale
        scheme (the critic chases a moving actor); on the test MDP, updating every 4
        steps with twice the batch left a 4% value gap where every step left 0.5%.
    buffer_size : int, optional
        Default ``n_steps``.
    learning_starts : int, default 100
    target_update : float or int, default 0.99
        Polyak weight of the target critics, or a hard-copy period in gradient steps.
    hidden, activation
        MLP shape.
    episode_length : int, optional
        Cut episodes after this many steps (bootstrapped).
    log_every : int, optional
        Default ``max(1, n_steps // 100)``.
    callback : callable, optional
        ``callback(step, result) -> dict or None`` at every log, with a
        :class:`SACResult` snapshot.
    seed : int or numpy.random.Generator, optional
        Seeds the environment's first reset and the agent; same seed, same run. None
        (the default) draws fresh entropy.
    progress : bool, optional
        tqdm bar; None shows it for runs of at least 50 000 steps.

    Returns
    -------
    SACResult
    """
    S, A = env_sizes(env)
    n_steps = _checks.positive_int(n_steps, "n_steps")
    gamma = _checks.open_unit(gamma, "gamma")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    train_every = _checks.positive_int(train_every, "train_every")
    target_update = check_target_update(target_update)
    tune = isinstance(temperature, str)
    if tune and temperature != "auto":
        raise ValueError(f"temperature must be a positive number or 'auto', got {temperature!r}")
    log_alpha = 0.0 if tune else math.log(_checks.temperature(temperature))
    target_entropy = 0.98 * math.log(A) if target_entropy is None else _checks.real(
        target_entropy, "target_entropy")
    temperature_learning_rate = _checks.real(temperature_learning_rate,
                                             "temperature_learning_rate", low=0.0, low_open=True)
    learning_starts = _checks.integer(learning_starts, "learning_starts", low=0)
    buffer_size = n_steps if buffer_size is None else _checks.positive_int(
        buffer_size, "buffer_size")
    log_every, callback, progress, rng = run_options(n_steps, log_every, callback, progress, seed)
    learner = _Learner(S, A, approximator, features, hidden, activation, rng, gamma=gamma,
                       critic_learning_rate=critic_learning_rate,
                       actor_learning_rate=actor_learning_rate, log_alpha=log_alpha, tune=tune,
                       temperature_learning_rate=temperature_learning_rate,
                       target_entropy=target_entropy, target_update=target_update)
    buffer = ReplayBuffer(buffer_size)
    stepper = Stepper(env, seed, episode_length)
    history = History(log_every, ("td_error", "entropy", "temperature"))

    with progress_bar(n_steps, progress, "discrete SAC") as bar:
        for step in range(n_steps):
            buffer.add(*stepper.step(learner.act(stepper.state, rng))[:5])
            if step >= learning_starts and (step - learning_starts) % train_every == 0:
                history.add(**learner.update(buffer.sample(batch_size, rng), step / n_steps))
            if history.due(step):
                history.log(step, stepper.returns, callback, lambda: learner.result(None))
                bar.update(log_every)
    return learner.result(history.columns)
