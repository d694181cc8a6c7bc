r"""Agents for the suite: the protocol, a tabular Q-learning reference, and adapters.

The protocol
------------
``make_agent(env, gamma, seed, **options)`` returns an object with

- ``learn(n_steps, callback)``: train for ``n_steps`` environment steps, calling
  ``callback(step)`` (``step`` = environment steps done so far) at least every
  ``callback.every`` steps; the callback scores the agent's *current* tables with the
  exact oracle, so they must be readable at that moment;
- ``q_table()`` -> ``(S, A)`` array and/or ``policy()`` -> ``(S, A)`` action
  probabilities. Without ``policy()`` the suite scores the greedy policy of
  ``q_table()`` over the allowed actions (ties share equally).

At temperature ``α > 0`` the runner calls ``make_agent(..., temperature=α)``: a soft agent
learns at the temperature it is scored at (``make_agent`` names a ``temperature``
parameter; one without it can only be scored at temperature 0). ``env`` is ``ci.envs.to_gymnasium(mdp)``:
Discrete observations and actions; ``info["action_mask"]`` (and ``env.action_masks()``)
give the allowed actions; a forbidden action ends the episode with the finite penalty
``env.forbidden_reward``. The scores are exact for the masked MDP (``r = −inf``), where
such a move is worth −∞: a final ``policy()`` that gives one any probability fails its
cell, with a message naming the step, state and action (at an earlier checkpoint, the
curve point is NaN).

Everything here is importable by name (``"ctrlinf.bridge.suite.agents:q_learning"``), as
the runner's worker processes need.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ctrlinf import _checks
from ctrlinf.bridge._common import env_sizes

if TYPE_CHECKING:
    from collections.abc import Callable

    import gymnasium
    from stable_baselines3.common.base_class import BaseAlgorithm


# -- the reference agent ------------------------------------------------------------
class TabularQLearning:
    r"""Watkins' Q-learning (Watkins & Dayan 1992) on a table, ε-greedy, mask-aware.

    After each step ``(s, a, r, s')``,

    .. math::

        Q(s, a) \leftarrow Q(s, a) + \eta_n \big(r + \gamma (1 - \text{terminated})
        \max_{a' \text{ allowed in } s'} Q(s', a') - Q(s, a)\big),

    with the per-pair step size ``η_n = n(s, a)^{−ω}`` (the ``n``-th visit; polynomial
    rates, Even-Dar & Mansour 2003, ``ω = 0.8`` by default), which satisfies the
    Robbins–Monro conditions. A time-limit truncation is bootstrapped; only
    ``terminated`` stops the backup. Actions are ε-greedy among the allowed actions of
    ``info["action_mask"]`` (all actions when the env gives no mask).

    Parameters
    ----------
    env : gymnasium.Env
        Discrete observation and action spaces.
    gamma : float
        Discount in (0, 1).
    seed : int
        Seeds the environment's first reset and the agent's exploration.
    epsilon : float, default 0.1
    omega : float, default 0.8
        Exponent of the step size, in (0.5, 1].
    initial_q : float, default 0.0
    """

    def __init__(self, env: gymnasium.Env, gamma: float, seed: int, epsilon: float = 0.1,
                 omega: float = 0.8, initial_q: float = 0.0) -> None:
        self.env = env
        self.n_states, self.n_actions = env_sizes(env)
        self.gamma = _checks.open_unit(gamma, "gamma")
        self.epsilon = _checks.fraction(epsilon, "epsilon")
        self.omega = _checks.real(omega, "omega", low=0.5, high=1.0, low_open=True)
        self.Q = np.full((self.n_states, self.n_actions), _checks.real(initial_q, "initial_q"))
        self.visits = np.zeros((self.n_states, self.n_actions), dtype=np.int64)
        self.seed = _checks.seed(seed)
        self.rng = np.random.default_rng(self.seed)

    def _act(self, state, allowed):
        choices = np.flatnonzero(allowed)
        if self.rng.random() < self.epsilon:
            return int(self.rng.choice(choices))
        q = self.Q[state, choices]
        best = choices[q == q.max()]
        return int(self.rng.choice(best))

    def _update(self, state, action, reward, next_state, next_allowed, terminated):
        self.visits[state, action] += 1
        rate = self.visits[state, action] ** -self.omega
        target = reward
        if not terminated:
            target += self.gamma * self.Q[next_state, next_allowed].max()
        self.Q[state, action] += rate * (target - self.Q[state, action])

    def learn(self, n_steps, callback=None):
        """Run ``n_steps`` environment steps, calling ``callback(step)`` after each."""
        n_steps = _checks.positive_int(n_steps, "n_steps")
        state, info = self.env.reset(seed=self.seed)
        allowed = _allowed(info, self.n_actions)
        for step in range(1, n_steps + 1):
            action = self._act(state, allowed)
            next_state, reward, terminated, truncated, info = self.env.step(action)
            next_allowed = _allowed(info, self.n_actions)
            self._update(state, action, float(reward), int(next_state), next_allowed,
                         terminated)
            state, allowed = int(next_state), next_allowed
            if terminated or truncated:
                state, info = self.env.reset()
                allowed = _allowed(info, self.n_actions)
            if callback is not None:
                callback(step)
        return self

    def q_table(self):
        """The table ``Q(s, a)``, shape (S, A) (a copy)."""
        return self.Q.copy()


def _allowed(info, n_actions):
    mask = info.get("action_mask") if isinstance(info, dict) else None
    return np.ones(n_actions, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)


def q_learning(env: gymnasium.Env, gamma: float, seed: int, epsilon: float = 0.1,
               omega: float = 0.8, initial_q: float = 0.0) -> TabularQLearning:
    """``make_agent`` for :class:`TabularQLearning` (temperature 0 only)."""
    return TabularQLearning(env, gamma, seed, epsilon=epsilon, omega=omega,
                            initial_q=initial_q)


# -- the built-in soft agents ---------------------------------------------------------
#: Temperature of the built-in soft agents when the suite scores at temperature 0.
DEFAULT_SOFT_TEMPERATURE = 0.01


class BridgeAgent:
    """The suite's protocol around a :mod:`ctrlinf.bridge` agent function.

    ``function(env, n_steps, gamma=..., seed=..., log_every=..., callback=..., **options)``
    trains in one call and returns a result with ``Q`` and ``policy``; its callback hands
    over a snapshot at every log, which is what :meth:`q_table` and :meth:`policy` read.
    """

    def __init__(self, function: Callable[..., Any], env: gymnasium.Env, gamma: float, seed: int,
                 **options: Any) -> None:
        self.function, self.env, self.gamma, self.seed = function, env, gamma, seed
        self.options = options
        self.result = None

    def learn(self, n_steps, callback=None):
        every = getattr(callback, "every", None)

        def record(step, result):
            self.result = result
            if callback is not None:
                callback(step)

        self.result = self.function(self.env, n_steps, gamma=self.gamma, seed=self.seed,
                                    log_every=every, callback=record, progress=False,
                                    **self.options)
        return self

    def _snapshot(self):
        if self.result is None:
            raise RuntimeError("the agent has not learned anything yet: call learn() first")
        return self.result

    def q_table(self):
        return np.array(self._snapshot().Q)

    def policy(self):
        return np.array(self._snapshot().policy)


def soft_q_learning(env: gymnasium.Env, gamma: float, seed: int,
                    temperature: float = DEFAULT_SOFT_TEMPERATURE, **options: Any) -> BridgeAgent:
    """``make_agent`` for :func:`ctrlinf.bridge.soft_q_learning` (tabular by default)."""
    from ctrlinf.bridge.soft_q import soft_q_learning as function

    return BridgeAgent(function, env, gamma, seed, temperature=temperature, **options)


def sac_discrete(env: gymnasium.Env, gamma: float, seed: int,
                 temperature: float = DEFAULT_SOFT_TEMPERATURE, **options: Any) -> BridgeAgent:
    """``make_agent`` for :func:`ctrlinf.bridge.sac_discrete` (tabular, fixed α by default)."""
    from ctrlinf.bridge.sac import sac_discrete as function

    return BridgeAgent(function, env, gamma, seed, temperature=temperature, **options)


# -- Stable-Baselines3 ---------------------------------------------------------------
#: DQN settings of the reference card: SB3's defaults are tuned for Atari-length runs
#: (a target update every 10 000 steps, a million-step buffer), too slow for 20 000.
DQN_OPTIONS = dict(learning_rate=1e-3, buffer_size=50_000, learning_starts=1_000,
                   target_update_interval=500, train_freq=4, exploration_fraction=0.5,
                   exploration_final_eps=0.05)


class SB3Agent:
    """The suite's protocol around a Stable-Baselines3 model (DQN, PPO, A2C, ...).

    ``learn`` runs ``model.learn`` with a callback that hands ``model.num_timesteps`` to
    the suite after every environment step; ``q_table`` and ``policy`` read the networks
    on all states (:mod:`ctrlinf.bridge.sb3`); actor-critic models (PPO, A2C) have a
    policy and no Q table. The scored policy is the greedy one
    (``model.predict(s, deterministic=True)``), the one such models are evaluated with.
    """

    def __init__(self, model: BaseAlgorithm,
                 kind: Literal["greedy", "stochastic"] = "greedy") -> None:
        self.model, self.kind = model, kind

    def learn(self, n_steps, callback=None):
        from stable_baselines3.common.callbacks import BaseCallback

        class Relay(BaseCallback):
            def _on_step(self):
                if callback is not None:
                    callback(int(self.num_timesteps))
                return True

        self.model.learn(total_timesteps=n_steps, callback=Relay())
        return self

    def policy(self):
        from ctrlinf.bridge import sb3

        return sb3.policy_array(self.model, kind=self.kind)


def _sb3_model(algorithm, env, gamma, seed, options):
    try:
        import stable_baselines3
        import torch
    except ImportError:
        raise ImportError('the SB3 agents need torch and stable-baselines3: pip install '
                          'torch==2.13.0, then pip install -e ".[sb3]"') from None
    # Small networks: torch's thread pool costs far more than it gives (see bridge.sb3).
    torch.set_num_threads(1)
    cls = getattr(stable_baselines3, algorithm)
    return cls("MlpPolicy", env, gamma=gamma, seed=seed, verbose=0, device="cpu", **options)


class SB3DQNAgent(SB3Agent):
    """:class:`SB3Agent` for DQN-style models: its Q network is scored too."""

    def q_table(self):
        from ctrlinf.bridge import sb3

        return sb3.q_table(self.model)


def sb3_dqn(env: gymnasium.Env, gamma: float, seed: int, **options: Any) -> SB3DQNAgent:
    """``make_agent`` for Stable-Baselines3's DQN with :data:`DQN_OPTIONS` (overridable)."""
    return SB3DQNAgent(_sb3_model("DQN", env, gamma, seed, {**DQN_OPTIONS, **options}))


def sb3_ppo(env: gymnasium.Env, gamma: float, seed: int, **options: Any) -> SB3Agent:
    """``make_agent`` for Stable-Baselines3's PPO with its defaults (overridable)."""
    return SB3Agent(_sb3_model("PPO", env, gamma, seed, options))
