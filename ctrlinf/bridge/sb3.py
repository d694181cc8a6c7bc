r"""Stable-Baselines3 adapters: read Q tables, policies and critics out of a model, score them.

A model trained on ``ci.envs.to_gymnasium(mdp)`` has ``Discrete(S)`` observations and
``Discrete(A)`` actions, so everything it has learned fits in a table: evaluate the
networks once on the batch of all states ``0..S-1``. The tables go straight into the
exact :class:`~ctrlinf.bridge.Oracle`::

    import torch; torch.set_num_threads(1)      # small nets: threads only cost (see below)
    oracle = ci.bridge.Oracle.for_model(mdp, model)              # γ read from the model
    oracle.compare_q(ci.bridge.sb3.q_table(dqn)).max_abs_error
    oracle.compare_policy(ci.bridge.sb3.policy_array(ppo)).return_gap

torch and stable-baselines3 are imported only when a function here is called (install
them with ``pip install torch==2.13.0``, the CPU build, then ``pip install -e ".[sb3]"``).
On small MLPs torch's default thread pool costs far more than it gives: with
``torch.set_num_threads(1)`` PPO ran many times faster on a 2-core machine (the oracle
keeps torch at the thread count it had, see :mod:`ctrlinf.bridge.torch_threads`).

What the model's numbers mean
-----------------------------
- DQN learns the hard ``Q*`` of the infinite-horizon MDP with its ``gamma``, and SB3
  bootstraps through time-limit truncations (``TimeLimit.truncated``): compare with
  ``Oracle.for_model(mdp, model)`` at temperature 0.
- PPO and A2C maximise the discounted return; their critic estimates the return
  ``V^π`` of the current policy (:func:`value_table`, compare with
  ``oracle.compare_v(values, pi=policy)``). Their ``ent_coef`` weighs the mean policy
  entropy in the loss, next to advantages that SB3 normalises per batch: it is not the
  temperature ``α`` of MaxEnt RL (reward units), and the policy PPO converges to is not
  the soft-optimal one at any particular ``α``.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Literal

import numpy as np

from ctrlinf import _checks

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

    from ctrlinf._typing import FloatArray
    from ctrlinf.bridge.oracle import Oracle

KINDS = ("stochastic", "greedy")

#: Numbers :func:`score` records (the keys of :attr:`OracleCallback.history`).
SCORE_KEYS = ("step", "return_gap", "normalised_return_gap", "advantage_loss",
              "optimal_action_fraction", "mean_entropy", "q_max_abs_error",
              "critic_max_abs_error")


def _sb3_import(name):
    """Import ``name`` (torch or a stable_baselines3 module), or say how to install the extra."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError('ci.bridge.sb3 needs torch and stable-baselines3: pip install '
                          'torch==2.13.0, then pip install -e ".[sb3]"') from None


def _torch():
    return _sb3_import("torch")


def _space_size(model, name):
    """``n`` of the model's ``Discrete`` space ``name``, or a TypeError naming ``model.<name>``."""
    return _checks.discrete_space(getattr(model, name, None), f"model.{name}")


def _observations(model):
    """The batch of all states as the policy's tensor (SB3 one-hot encodes Discrete)."""
    if not hasattr(model, "policy"):
        raise TypeError(f"model must be a Stable-Baselines3 model, got {type(model).__name__}")
    states = np.arange(_space_size(model, "observation_space"))
    _space_size(model, "action_space")
    obs, _ = model.policy.obs_to_tensor(states)
    return obs


def _q_net(model):
    return getattr(model, "q_net", None) or getattr(model.policy, "q_net", None)


def q_table(model: BaseAlgorithm) -> FloatArray:
    """``Q(s, a)`` of a DQN-style model on every state, shape (S, A).

    Parameters
    ----------
    model : stable_baselines3.DQN
        Any model whose policy has a ``q_net`` (Discrete observations and actions).

    Returns
    -------
    ndarray, shape (S, A), float64
        The online network's estimate (reward units; SB3's DQN learns the hard ``Q*``
        of the discounted MDP with ``model.gamma``).
    """
    torch = _torch()
    obs = _observations(model)
    q_net = _q_net(model)
    if q_net is None:
        raise TypeError(f"q_table needs a DQN-style model with a q_net, got "
                        f"{type(model).__name__}; use policy_array or value_table instead")
    with torch.no_grad():
        return q_net(obs).cpu().numpy().astype(np.float64)


def value_table(model: BaseAlgorithm) -> FloatArray:
    """The critic ``V(s)`` of an actor-critic model (PPO, A2C) on every state, shape (S,).

    It estimates the discounted return of the model's own stochastic policy: compare it
    with ``oracle.compare_v(value_table(model), pi=policy_array(model))``.
    """
    torch = _torch()
    obs = _observations(model)
    if not hasattr(model.policy, "predict_values"):
        raise TypeError(f"value_table needs an actor-critic model (PPO, A2C), got "
                        f"{type(model).__name__}")
    with torch.no_grad():
        return model.policy.predict_values(obs).cpu().numpy().astype(np.float64)[:, 0]


def policy_array(model: BaseAlgorithm,
                 kind: Literal["stochastic", "greedy"] = "stochastic") -> FloatArray:
    """The model's action probabilities on every state, shape (S, A), rows summing to one.

    Parameters
    ----------
    model : Stable-Baselines3 model
        Actor-critic (PPO, A2C) or DQN-style, on Discrete observations and actions.
    kind : {"stochastic", "greedy"}
        ``"stochastic"``: what ``model.predict(s, deterministic=False)`` samples from:
        the policy's own distribution (PPO, A2C), or ε-greedy with the current
        ``model.exploration_rate`` (DQN: ``(1 − ε)`` on the greedy action plus ``ε/A``
        on every action). ``"greedy"``: one-hot on what
        ``model.predict(s, deterministic=True)`` returns (the most probable action, or
        ``argmax_a Q``; ties go to the first).

    Returns
    -------
    ndarray, shape (S, A), float64
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    torch = _torch()
    obs = _observations(model)
    n_actions = _space_size(model, "action_space")
    q_net = _q_net(model)
    with torch.no_grad():
        if q_net is not None:
            scores = q_net(obs).cpu().numpy().astype(np.float64)
        elif hasattr(model.policy, "get_distribution"):
            scores = model.policy.get_distribution(obs).distribution.probs.cpu().numpy() \
                .astype(np.float64)
        else:
            raise TypeError(f"policy_array needs an actor-critic or DQN-style model, got "
                            f"{type(model).__name__}")
    greedy = np.eye(n_actions)[np.argmax(scores, axis=1)]
    if kind == "greedy":
        return greedy
    if q_net is not None:
        epsilon = float(getattr(model, "exploration_rate", 0.0))
        return (1.0 - epsilon) * greedy + epsilon / n_actions
    return scores / scores.sum(axis=1, keepdims=True)


def score(model: BaseAlgorithm, oracle: Oracle,
          kind: Literal["greedy", "stochastic"] = "greedy") -> dict[str, float]:
    """The oracle's numbers for a model, as a dict of floats (one row of a learning curve).

    Keys: ``return_gap``, ``normalised_return_gap`` (0 optimal, 1 uniform policy),
    ``advantage_loss``, ``optimal_action_fraction`` and ``mean_entropy`` of
    ``policy_array(model, kind)`` (see :class:`~ctrlinf.bridge.PolicyReport`);
    ``q_max_abs_error`` (DQN: ``compare_q(q_table(model))``) and
    ``critic_max_abs_error`` (PPO, A2C: the critic against the return of the
    stochastic policy), NaN where the model has no such network. Errors are on
    reachable decision states.
    """
    report = oracle.compare_policy(policy_array(model, kind))
    row = {
        "return_gap": report.return_gap,
        "normalised_return_gap": report.normalised_return_gap,
        "advantage_loss": report.advantage_loss,
        "optimal_action_fraction": report.optimal_action_fraction,
        "mean_entropy": report.mean_entropy,
        "q_max_abs_error": float("nan"),
        "critic_max_abs_error": float("nan"),
    }
    if _q_net(model) is not None:
        row["q_max_abs_error"] = oracle.compare_q(q_table(model)).max_abs_error
    elif hasattr(model.policy, "predict_values"):
        row["critic_max_abs_error"] = oracle.compare_v(
            value_table(model), pi=policy_array(model, "stochastic")).max_abs_error
    return row


def _make_callback_class():
    BaseCallback = _sb3_import("stable_baselines3.common.callbacks").BaseCallback

    class OracleCallback(BaseCallback):
        """Records :func:`score` before training, every ``every`` environment steps, and at the end.

        Parameters
        ----------
        oracle : Oracle
            E.g. ``Oracle.for_model(mdp, model)``.
        every : int, default 1000
            Environment steps (``model.num_timesteps``) between records.
        kind : {"greedy", "stochastic"}, default "greedy"
            Which policy of the model to score.

        Attributes
        ----------
        history : dict of lists
            ``step`` and the keys of :func:`score`; plot it with
            ``ci.plot.error_curves(callback.history)``.
        """

        def __init__(self, oracle: Oracle, every: int = 1000,
                     kind: Literal["greedy", "stochastic"] = "greedy", verbose: int = 0) -> None:
            super().__init__(verbose)
            if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
                raise ValueError(f"every must be a positive int, got {every!r}")
            if kind not in KINDS:
                raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
            self.oracle, self.every, self.kind = oracle, int(every), kind
            self.history = {key: [] for key in SCORE_KEYS}
            self._next = 0

        def _record(self):
            row = score(self.model, self.oracle, self.kind)
            row["step"] = int(self.num_timesteps)
            for key in SCORE_KEYS:
                self.history[key].append(row[key])

        def _on_training_start(self):
            self._record()
            self._next = self.num_timesteps + self.every

        def _on_step(self):
            if self.num_timesteps >= self._next:
                self._record()
                self._next += self.every
            return True

        def _on_training_end(self):
            # On-policy models update after their last rollout: score the final model,
            # replacing a row recorded at the same step before that update.
            if self.history["step"] and self.history["step"][-1] == self.num_timesteps:
                for column in self.history.values():
                    column.pop()
            self._record()

    return OracleCallback


def __getattr__(name):
    # The callback subclasses SB3's BaseCallback, so it exists only once SB3 is imported.
    if name == "OracleCallback":
        cls = _make_callback_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module 'ctrlinf.bridge.sb3' has no attribute {name!r}")


__all__ = ["q_table", "policy_array", "value_table", "score", "OracleCallback"]
