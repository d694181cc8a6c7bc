r"""The tasks of the suite: small MDPs with exact answers, each probing one failure mode.

Every task is a :class:`Task`: a builder of the MDP the agent's environment samples
(``ci.envs.to_gymnasium(task.mdp())``), the agent's discount ``γ``, the episode length
(a time limit) and the standard temperatures at which its exact answer is known.

Finite or infinite horizon
--------------------------
Every task is *scored* in the infinite-horizon discounted setting,
``Oracle.stationary(mdp, gamma=task.gamma, temperature=α)``: the agents are
stationary (one ``Q(s, a)``, one ``π(a|s)``), and a stationary discounted learner's
fixed point is the infinite-horizon solution whatever the episode length, as long as a
time-limit truncation is bootstrapped (see :mod:`ctrlinf.bridge.oracle`). A
finite-horizon optimum ``π_t`` depends on ``t``, which the observation does not carry,
so it is no fair reference for such agents. What is finite is the *episode*:
``episode_length`` decisions before the environment truncates and resets to ``p0``
(``None``: an episode ends only when the agent enters a dead state). Each task says why
it has the length it has. Dead states (every action stays and pays 0, e.g. the
"episode over" state of FrozenLake) terminate the episode, and the oracle is built with
``terminate_dead_states=True`` so that both sides agree.

Versions
--------
:data:`SUITE_VERSION` names the task set: any change to a task (its MDP, γ, episode
length, default budget or temperatures) changes the version, and every result row and
report carries it, so numbers from two versions are never mixed up.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

#: The version of the task set; part of every result row and of every report.
SUITE_VERSION = "1.0"


@dataclass(frozen=True)
class Task:
    """One task of the suite.

    Attributes
    ----------
    name : str
        Identifier (a column value of the results).
    probes : str
        The failure mode the task is built to expose, in one sentence.
    gamma : float
        The discount the agent is given and the oracle scores with.
    episode_length : int or None
        Decisions per episode before a (bootstrapped) truncation; None: until a dead
        state is entered.
    soft_temperatures : tuple of float
        ``(low, high)``: the standard soft temperatures α of this task; ``"low"`` and
        ``"high"`` in :func:`ctrlinf.bridge.suite.run` mean these.
    steps : int
        Default budget: environment steps per run.
    horizon_note : str
        Why the episode length is what it is.
    build : callable
        ``build() -> TabularMDP``; use :meth:`mdp`, which caches it.
    """

    name: str
    probes: str
    gamma: float
    episode_length: int | None
    soft_temperatures: tuple
    steps: int
    horizon_note: str
    build: object

    def mdp(self):
        """The MDP the environment samples: ``horizon = episode_length``, ``gamma = gamma``.

        Built once per process (the tasks are fixed; see :data:`SUITE_VERSION`).
        """
        return _mdp(self.name)

    def env(self, seed=None):
        """``ci.envs.to_gymnasium(self.mdp(), seed=seed)``: what the agent sees."""
        from ctrlinf.envs import to_gymnasium

        return to_gymnasium(self.mdp(), seed=seed)

    def oracle(self, temperature):
        """The exact reference at ``temperature`` (cached per process).

        ``Oracle.stationary(mdp, gamma, temperature, terminate_dead_states=True)``.
        """
        return _oracle(self.name, float(temperature))

    def temperature(self, temperature):
        """A number, or ``"low"`` / ``"high"`` for this task's soft temperatures, as a float."""
        if isinstance(temperature, str):
            if temperature not in TEMPERATURE_NAMES:
                raise ValueError(f"temperature must be a number >= 0, 'low' or 'high', "
                                 f"got {temperature!r}")
            return float(self.soft_temperatures[TEMPERATURE_NAMES.index(temperature)])
        from ctrlinf import _checks

        return _checks.real(temperature, "temperature", low=0.0)

    def answer(self, temperature=0.0):
        """The exact answer at ``temperature``, as a dict of floats.

        Keys: ``optimal_value`` (``p0 · V*``, with the entropy bonus at α > 0),
        ``optimal_return`` (the largest expected discounted return),
        ``uniform_return`` (that of the uniform policy over allowed actions) and
        ``decision_states`` (how many states the Q error is measured on).
        """
        oracle = self.oracle(self.temperature(temperature))
        S, A = oracle.mdp.n_states, oracle.mdp.n_actions
        report = oracle.compare_policy(oracle.policy)
        return {"optimal_value": report.optimal_value, "optimal_return": report.optimal_return,
                "uniform_return": report.uniform_return,
                "decision_states": int(np.count_nonzero(oracle.decision_states)),
                "n_states": S, "n_actions": A}


TEMPERATURE_NAMES = ("low", "high")


# -- the builders -------------------------------------------------------------------
CHAIN_LENGTH = 10


def _deep_chain():
    """A corridor ``S . . . . . . . . . G``: reward 1 per step only in the far cell."""
    from ctrlinf.envs import gridworld_from_map

    corridor = "S" + "." * (CHAIN_LENGTH - 1) + "G"
    return gridworld_from_map([corridor], rewards={".": 0.0, "S": 0.0, "G": 1.0},
                              stay_action=False, horizon=TASKS_BY_NAME["deep_chain"]
                              .episode_length, gamma=TASKS_BY_NAME["deep_chain"].gamma)


def _slippery_cliff():
    from ctrlinf.envs import cliff_walking

    task = TASKS_BY_NAME["slippery_cliff"]
    return cliff_walking((4, 8), slip=0.1, step_reward=-0.01, cliff_reward=-1.0,
                         horizon=task.episode_length, gamma=task.gamma)


def _frozenlake(name):
    def build():
        from ctrlinf.envs import from_gymnasium

        gym = _gymnasium()
        task = TASKS_BY_NAME[name]
        env_id = "FrozenLake-v1" if name == "frozenlake_4x4" else "FrozenLake8x8-v1"
        return from_gymnasium(gym.make(env_id), horizon=task.episode_length,
                              gamma=task.gamma)
    return build


#: The masked grid before its masks (see :func:`_masked_grid`).
MASKED_LAYOUT = ["S....", ".....", ".....", ".....", "....G"]


def _masked_grid():
    """A 5x5 grid whose rows 1 and 3 are one-way: "down" is allowed only at one end.

    ``r[s, down] = −inf`` on row 1 except column 4 and on row 3 except column 0, so the
    only ways down snake right, then left, then right: a maze made of masks, not walls.
    """
    from ctrlinf.envs import gridworld_from_map

    task = TASKS_BY_NAME["masked_grid"]
    grid = gridworld_from_map(MASKED_LAYOUT, rewards={".": -0.01, "S": -0.01, "G": 1.0},
                              stay_action=False, horizon=task.episode_length,
                              gamma=task.gamma)
    down = grid.action_names.index("down")
    r = np.array(grid.r)
    for col in range(5):
        if col != 4:
            r[grid.state(1, col), down] = -np.inf
        if col != 0:
            r[grid.state(3, col), down] = -np.inf
    return grid.replace(r=r)


RANDOM_SEED = 2024


def _sparse_random():
    from ctrlinf.envs import random_mdp

    task = TASKS_BY_NAME["sparse_random"]
    return random_mdp(250, 4, branching=3, seed=RANDOM_SEED, horizon=task.episode_length,
                      gamma=task.gamma)


#: Two routes around a block of walls, mirror images of each other.
TWO_ROUTES_LAYOUT = [".......", "..###..", "S.###.G", "..###..", "......."]


def _two_routes():
    from ctrlinf.envs import gridworld_from_map

    task = TASKS_BY_NAME["two_routes"]
    return gridworld_from_map(TWO_ROUTES_LAYOUT, rewards={".": -0.01, "S": -0.01, "G": 1.0},
                              stay_action=False, horizon=task.episode_length,
                              gamma=task.gamma)


#: The long-horizon grid: a small reward two steps away, a larger one twelve away.
LONG_HORIZON_LAYOUT = ["S.g....", ".......", ".......", ".......", ".......", ".......",
                       "......G"]
NEAR_REWARD = 0.5


def _long_horizon():
    from ctrlinf.envs import gridworld

    task = TASKS_BY_NAME["long_horizon"]
    rewards = np.zeros((7, 7))
    rewards[0, 2], rewards[6, 6] = NEAR_REWARD, 1.0
    return gridworld((7, 7), slip=0.1, rewards=rewards, start=(0, 0), goals=[(0, 2), (6, 6)],
                     stay_action=False, horizon=task.episode_length, gamma=task.gamma)


# -- the suite ----------------------------------------------------------------------
TASKS = (
    Task("deep_chain",
         probes="deep exploration: an 11-cell corridor pays only in its far cell, 10 moves "
                "away; a random policy is there at the end of fewer than 1 in 500 episodes, "
                "so an agent that dithers (ε-greedy, Boltzmann) rarely sees a reward",
         gamma=0.9, episode_length=20, soft_temperatures=(0.01, 0.05), steps=20_000,
         horizon_note="20 decisions, twice the 10 moves to the goal: enough to get there "
                      "with purpose, too few for a random walk to get there often",
         build=_deep_chain),
    Task("slippery_cliff",
         probes="risk: on a 4x8 cliff with 10% slip the optimal path keeps away from the "
                "edge; an agent that ignores the slip walks along it and falls",
         gamma=0.95, episode_length=100, soft_temperatures=(0.002, 0.01), steps=30_000,
         horizon_note="episodes end at the goal (a dead state); 100 decisions cap an "
                      "episode that keeps falling back to the start",
         build=_slippery_cliff),
    Task("frozenlake_4x4",
         probes="stochastic dynamics and sparse reward: gymnasium's slippery FrozenLake, "
                "where the best policy reaches the goal in only about 3 episodes of 4",
         gamma=0.99, episode_length=100, soft_temperatures=(0.001, 0.005), steps=30_000,
         horizon_note="gymnasium's own time limit for FrozenLake 4x4 (100); holes and the "
                      "goal end the episode",
         build=_frozenlake("frozenlake_4x4")),
    Task("frozenlake_8x8",
         probes="the same at 64 cells: a longer way through the holes with one reward at "
                "the end (the best policy reaches it in about 6 episodes of 7)",
         gamma=0.99, episode_length=200, soft_temperatures=(0.001, 0.005), steps=50_000,
         horizon_note="gymnasium's own time limit for FrozenLake 8x8 (200)",
         build=_frozenlake("frozenlake_8x8")),
    Task("masked_grid",
         probes="forbidden actions: r = −inf masks make a snake-shaped maze; an agent must "
                "read info['action_mask'] (or env.action_masks()) and never take, or value, "
                "a forbidden action",
         gamma=0.95, episode_length=50, soft_temperatures=(0.005, 0.02), steps=20_000,
         horizon_note="50 decisions, about three times the 16-step path through the maze; "
                      "the goal pays every step, so episodes end by truncation",
         build=_masked_grid),
    Task("sparse_random",
         probes="breadth: 250 states, 4 actions, 3 random successors each and Gaussian "
                "rewards; every state is a start, so Q must be right almost everywhere",
         gamma=0.9, episode_length=50, soft_temperatures=(0.05, 0.2), steps=50_000,
         horizon_note="no state ends an episode; resetting every 50 decisions (about 5 "
                      "effective horizons, 1/(1 − γ) = 10) to p0, which covers every state, "
                      "spreads the data",
         build=_sparse_random),
    Task("two_routes",
         probes="a multimodal soft optimum: two mirror-image routes around a block of walls "
                "are equally good, so the soft-optimal policy splits between them; an agent "
                "that collapses onto one route pays a KL at α > 0",
         gamma=0.95, episode_length=40, soft_temperatures=(0.01, 0.05), steps=20_000,
         horizon_note="40 decisions, four times the 10-step routes; the goal pays every step",
         build=_two_routes),
    Task("long_horizon",
         probes="long horizon (γ = 0.99): a 0.5 reward 2 steps away and a 1.0 reward 12 "
                "steps away, with 10% slip; the far goal is optimal only for an agent that "
                "looks about 100 steps ahead",
         gamma=0.99, episode_length=200, soft_temperatures=(0.002, 0.01), steps=50_000,
         horizon_note="200 decisions, twice the effective horizon 1/(1 − γ) = 100: both goals "
                      "absorb and pay every step, so episodes end by truncation",
         build=_long_horizon),
)
TASKS_BY_NAME = {task.name: task for task in TASKS}
TASK_NAMES = tuple(TASKS_BY_NAME)


@functools.lru_cache(maxsize=None)
def _mdp(name):
    return TASKS_BY_NAME[name].build()


@functools.lru_cache(maxsize=None)
def _oracle(name, temperature):
    from ctrlinf.bridge.oracle import Oracle

    task = TASKS_BY_NAME[name]
    return Oracle.stationary(task.mdp(), gamma=task.gamma, temperature=temperature,
                             terminate_dead_states=True)


def get_task(name: str) -> Task:
    """The :class:`Task` called ``name`` (a ValueError lists the names)."""
    if not isinstance(name, str):
        raise TypeError(f"task names are strings, got {type(name).__name__}")
    if name not in TASKS_BY_NAME:
        raise ValueError(f"unknown task {name!r}; the suite (version {SUITE_VERSION}) has "
                         f"{', '.join(TASK_NAMES)}")
    return TASKS_BY_NAME[name]


def select(tasks=None):
    """The tasks to run: all (None), or the named ones in the given order, checked.

    Raises
    ------
    ValueError
        An unknown or repeated name, or an empty selection.
    ImportError
        A selected task needs an optional package that is missing (FrozenLake:
        gymnasium), with the command that installs it.
    """
    if tasks is None:
        names = list(TASK_NAMES)
    elif isinstance(tasks, str):
        names = [tasks]
    else:
        names = list(tasks)
    if not names:
        raise ValueError("tasks is empty; give task names or None for the whole suite")
    chosen = [get_task(name) for name in names]
    if len(set(names)) != len(names):
        raise ValueError(f"tasks names a task twice: {names}")
    _gymnasium()     # every agent samples a gymnasium env, whatever the task
    return chosen


INSTALL = 'pip install -e ".[suite]"'


def _gymnasium():
    try:
        import gymnasium
    except ImportError:
        raise ImportError(f"the suite needs gymnasium (its agents sample gymnasium envs; "
                          f"FrozenLake comes from it), dask[distributed] and pandas: "
                          f"{INSTALL}") from None
    return gymnasium
