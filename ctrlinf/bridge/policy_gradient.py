r"""Entropy-regularised policy gradient: REINFORCE and an actor-critic variant.

The objective is the soft value of the start distribution (CS285, "Policy gradient with
soft optimality"; Levine 2018, section 4.2):

.. math::

    J(\theta) = \mathbb{E}_{\pi_\theta}\Big[\textstyle\sum_t \gamma^t
                \big(r(s_t, a_t) - \alpha \log \pi_\theta(a_t|s_t)\big)\Big],

whose gradient is (the ``−α ∇ log π`` of the entropy term has mean zero, the lecture's
"can ignore (baseline)")

.. math::

    \nabla_\theta J = \mathbb{E}\Big[\textstyle\sum_t \gamma^t\,
        \nabla_\theta \log \pi_\theta(a_t|s_t)\,\big(\hat G_t - b(s_t)\big)\Big],
    \qquad \hat G_t = \textstyle\sum_{k \ge t} \gamma^{k-t}
        \big(r_k - \alpha \log \pi_\theta(a_k|s_k)\big).

``advantage="reward_to_go"`` is REINFORCE with the Monte-Carlo reward-to-go and a
learned state-value baseline ``b = V_w`` fitted to ``Ĝ``; ``advantage="td"`` is the
actor-critic variant with ``Ĝ_t − b(s_t)`` replaced by the TD error
``r_t − α log π(a_t|s_t) + γ V_w(s_{t+1}) − V_w(s_t)`` and ``V_w`` trained by TD(0).
Episodes cut by a time limit are bootstrapped with ``V_w`` at the cut (a truncation is
not the end of the MDP), so the fixed point is the soft-optimal policy of the
discounted infinite-horizon MDP: compare with
``Oracle.stationary(mdp, gamma, temperature)`` at the agent's temperature.
The ``γ^t`` factor is kept, as the gradient of ``J`` itself requires (Thomas 2014,
*Bias in natural actor-critic algorithms*, on what dropping it does). The estimate is
unbiased only for REINFORCE on episodes that end by termination (the baseline adds no
bias): once a cut episode is bootstrapped with the learned ``V_w``, or with the TD
error of the actor-critic, the critic's error biases it (unless ``V_w`` is exact).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

from ctrlinf import _checks
from ctrlinf.bridge import losses
from ctrlinf.bridge._common import (History, Stepper, effective_horizon, env_sizes,
                                    log_softmax_rows, progress_bar, run_options)
from ctrlinf.bridge.approximators import all_states, make_approximator, make_training
from ctrlinf.trajectories import draw

if TYPE_CHECKING:
    from collections.abc import Sequence

    import gymnasium

    from ctrlinf._typing import ArrayLike, LearningRate, LogCallback, Seed

ADVANTAGES = ("reward_to_go", "td")


@dataclass(frozen=True)
class PolicyGradientResult:
    """What :func:`entropy_policy_gradient` learned.

    Attributes
    ----------
    policy : ndarray, shape (S, A)
        ``π_θ(a|s)`` at every state.
    V : ndarray, shape (S,)
        The learned baseline / critic ``V_w(s)`` (zeros when ``baseline=False``).
    history : dict of lists
        Every ``log_every`` iterations (the agents' shared history): ``iteration``,
        ``env_steps`` (environment steps so far), ``episode_return`` (mean undiscounted
        env return of the episodes since the previous row), ``soft_return`` (mean
        discounted soft return ``Ĝ_0``, bootstrapped) and ``entropy`` (mean policy
        entropy at visited states), both averaged over the iterations since the
        previous row, plus what ``callback`` returned.
    temperature, gamma : float
    actor, critic : approximators
    """

    policy: np.ndarray
    V: np.ndarray
    history: dict = field(repr=False)
    temperature: float
    gamma: float
    actor: object = field(repr=False)
    critic: object = field(repr=False)


class _Episode:
    """One rollout: states, actions, rewards, next states, and how it ended."""

    __slots__ = ("states", "actions", "rewards", "next_states", "terminated")


def _rollout(stepper, pi, rng):
    """Run one episode with the policy table ``pi`` (S, A) through the shared stepper."""
    steps = []
    while True:
        transition = stepper.step(draw(pi[stepper.state], rng))
        steps.append(transition)
        if transition[5]:
            break
    episode = _Episode()
    episode.states, episode.actions, rewards, episode.next_states, terminated, _ = (
        np.array(column) for column in zip(*steps))
    episode.rewards = rewards.astype(np.float64)
    episode.terminated = bool(terminated[-1])
    return episode


def _discounted_cumsum(x, gamma, tail):
    """``G_t = Σ_{k≥t} γ^{k−t} x_k + γ^{L−t} tail`` for a length-L sequence."""
    G = np.empty_like(x)
    running = tail
    for t in range(x.shape[0] - 1, -1, -1):
        running = x[t] + gamma * running
        G[t] = running
    return G


class _Batch(NamedTuple):
    """One iteration's on-policy data: every step of every episode, concatenated."""

    states: np.ndarray
    actions: np.ndarray
    discounts: np.ndarray  # γ^t of each step within its episode
    targets: np.ndarray    # what V_w(s_t) is regressed on
    scores: np.ndarray     # Ĝ_t − b(s_t), or the TD error
    soft_returns: list     # each episode's Ĝ_0, bootstrapped


def _estimate(episodes, log_pi, V, *, alpha, gamma, advantage, bootstrap):
    """The advantage estimates of one batch of episodes under the policy ``log_pi`` (S, A).

    ``V`` (S,) is the critic's table; ``bootstrap`` says whether a cut episode continues
    with ``V`` at its last next state (a truncation is not the end of the MDP).
    """
    soft_r = [e.rewards - alpha * log_pi[e.states, e.actions] for e in episodes]
    tails = [V[e.next_states[-1]] if bootstrap and not e.terminated else 0.0 for e in episodes]
    reward_to_go = [_discounted_cumsum(x, gamma, tail) for x, tail in zip(soft_r, tails)]
    states = np.concatenate([e.states for e in episodes])
    if advantage == "reward_to_go":
        targets = np.concatenate(reward_to_go)
    else:  # TD(0): r − α log π + γ (1 − terminated) V(s')
        ends = np.concatenate([np.arange(len(e.states)) == len(e.states) - 1 if e.terminated
                               else np.zeros(len(e.states), dtype=bool) for e in episodes])
        next_states = np.concatenate([e.next_states for e in episodes])
        targets = losses.bootstrap_target(np.concatenate(soft_r),
                                          losses.termination_discount(ends, gamma),
                                          V[next_states])
    return _Batch(states=states, actions=np.concatenate([e.actions for e in episodes]),
                  discounts=np.concatenate([gamma ** np.arange(len(e.states))
                                            for e in episodes]),
                  targets=targets, scores=targets - V[states],
                  soft_returns=[G[0] for G in reward_to_go])


class _Learner:
    """The softmax actor, the value critic and their optimisers, and the update step."""

    def __init__(self, S, A, approximator, features, hidden, activation, rng, *, baseline,
                 learning_rate, critic_learning_rate):
        self.actor = make_approximator(approximator, S, A, features, hidden, activation,
                                       seed=rng)
        self.critic = make_approximator(approximator, S, 1, features, hidden, activation,
                                        seed=rng)
        self.actor_optimizer, self.actor_rate = make_training(
            "policy", approximator, self.actor, None, learning_rate)
        self.critic_optimizer, self.critic_rate = make_training(
            "value", approximator, self.critic, None, critic_learning_rate,
            "critic_learning_rate")
        self.baseline = baseline

    def log_policy(self):
        """``log π_θ(a|s)`` at every state, (S, A)."""
        return log_softmax_rows(all_states(self.actor))

    def values(self):
        """``V_w(s)`` at every state, (S,); zeros without a baseline."""
        if not self.baseline:
            return np.zeros(self.critic.n_states)
        return all_states(self.critic)[:, 0]

    def update(self, batch, n_episodes, fraction):
        """One ascent step on ``J`` and one regression step of ``V_w``; returns the entropy."""
        # Ascent on J is descent on the score-function surrogate.
        z, cache = self.actor.forward(batch.states)
        _, grad_z = losses.policy_gradient_loss(
            z, batch.actions, batch.discounts * batch.scores / n_episodes)
        self.actor_optimizer.step(self.actor.backward(cache, grad_z), self.actor_rate(fraction))
        if self.baseline:
            v, cache = self.critic.forward(batch.states)
            _, grad_v = losses.td_loss(v, np.zeros(batch.states.shape[0], dtype=int),
                                       batch.targets)
            self.critic_optimizer.step(self.critic.backward(cache, grad_v),
                                       self.critic_rate(fraction))
        pi = np.exp(log_softmax_rows(z))
        return float(-(pi * np.log(np.maximum(pi, 1e-300))).sum(axis=1).mean())


def entropy_policy_gradient(env: gymnasium.Env, n_iterations: int, *, gamma: float,
                            episodes_per_iteration: int = 10,
                            approximator: Literal["tabular", "linear", "mlp"] = "tabular",
                            features: ArrayLike | None = None, temperature: float = 1.0,
                            advantage: Literal["reward_to_go", "td"] = "reward_to_go",
                            baseline: bool = True, learning_rate: LearningRate = None,
                            critic_learning_rate: LearningRate = None,
                            episode_length: int | None = None, hidden: Sequence[int] = (64,),
                            activation: Literal["tanh", "relu"] = "tanh",
                            log_every: int | None = None,
                            callback: LogCallback[PolicyGradientResult] | None = None,
                            seed: Seed = None,
                            progress: bool | None = None) -> PolicyGradientResult:
    r"""Train a softmax policy by entropy-regularised policy gradient.

    Parameters
    ----------
    env : gymnasium.Env
        Discrete observation and action spaces; only ``reset`` and ``step`` are used.
    n_iterations : int
        Policy updates; each uses ``episodes_per_iteration`` fresh on-policy episodes.
    gamma : float
        Discount ``γ`` in (0, 1), required: a gymnasium env carries no discount, so the
        agent states the one it optimises (``Oracle.stationary(mdp, gamma)`` takes the
        same). The core and IRL read ``γ`` from the ``TabularMDP`` instead.
    episodes_per_iteration : int, default 10
    approximator : {"tabular", "linear", "mlp"}
        For the policy logits and the value function.
    features : ndarray, shape (S, K) or (S, A, K), optional
    temperature : float, default 1.0
        ``α``, the entropy bonus weight.
    advantage : {"reward_to_go", "td"}
        REINFORCE (Monte-Carlo reward-to-go) or the actor-critic TD error.
    baseline : bool, default True
        Subtract the learned ``V_w(s_t)`` (REINFORCE only; the actor-critic needs it).
        Without it, truncated episodes are not bootstrapped.
    learning_rate, critic_learning_rate : float or callable, optional
        Defaults: tabular policy Adam at 0.05 and value SGD at 1.0; linear Adam 0.03;
        mlp Adam 3e-3; each decayed linearly to 0 over the run (a finite-budget
        anneal, not a Robbins–Monro sequence, which needs ``Σ η_k = ∞`` and
        ``Σ η_k² < ∞`` over infinitely many steps).
    episode_length : int, optional
        At most this many steps per episode (cut and bootstrapped); default
        ``ceil(log(1e-3) / log γ)`` (66 for γ = 0.9), so discounting, not the cut,
        ends the return. The env may end episodes earlier.
    hidden, activation
        MLP shape.
    log_every : int, optional
        Default ``max(1, n_iterations // 100)``.
    callback : callable, optional
        ``callback(iteration, result) -> dict or None`` at every log, with a
        :class:`PolicyGradientResult` snapshot.
    seed : int or numpy.random.Generator, optional
        Seeds the environment's first reset and the agent; same seed, same run. None
        (the default) draws fresh entropy.
    progress : bool, optional
        tqdm bar; None shows it when ``n_iterations * episodes_per_iteration`` is at
        least 5000.

    Returns
    -------
    PolicyGradientResult
    """
    S, A = env_sizes(env)
    n_iterations = _checks.positive_int(n_iterations, "n_iterations")
    n_episodes = _checks.positive_int(episodes_per_iteration, "episodes_per_iteration")
    alpha = _checks.temperature(temperature)
    gamma = _checks.open_unit(gamma, "gamma")
    advantage = _checks.choice(advantage, "advantage", ADVANTAGES)
    baseline = _checks.flag(baseline, "baseline")
    if advantage == "td" and not baseline:
        raise ValueError("advantage='td' needs the learned value function: baseline=True")
    max_steps = effective_horizon(gamma) if episode_length is None else _checks.positive_int(
        episode_length, "episode_length")
    log_every, callback, progress, rng = run_options(n_iterations, log_every, callback, progress,
                                                     seed)
    learner = _Learner(S, A, approximator, features, hidden, activation, rng,
                       baseline=baseline, learning_rate=learning_rate,
                       critic_learning_rate=critic_learning_rate)
    stepper = Stepper(env, seed, max_steps)
    history = History(log_every, ("soft_return", "entropy"), index="iteration")
    env_steps = 0

    def snapshot(columns=None):
        return PolicyGradientResult(policy=np.exp(learner.log_policy()), V=learner.values(),
                                    history=columns, temperature=alpha, gamma=gamma,
                                    actor=learner.actor, critic=learner.critic)

    with progress_bar(n_iterations, progress, "entropy policy gradient",
                      work=n_iterations * n_episodes, unit="episodes") as bar:
        for iteration in range(n_iterations):
            # The policy is fixed during collection: tabulate it once per iteration.
            log_pi = learner.log_policy()
            pi = np.exp(log_pi)
            episodes = [_rollout(stepper, pi, rng) for _ in range(n_episodes)]
            batch = _estimate(episodes, log_pi, learner.values(), alpha=alpha, gamma=gamma,
                              advantage=advantage, bootstrap=baseline)
            env_steps += batch.states.shape[0]
            entropy = learner.update(batch, n_episodes, iteration / n_iterations)
            history.add(soft_return=float(np.mean(batch.soft_returns)), entropy=entropy)
            if history.due(iteration):
                history.log(iteration, stepper.returns, callback, snapshot,
                            extra={"env_steps": env_steps})
                bar.update(log_every)
    return snapshot(history.columns)
