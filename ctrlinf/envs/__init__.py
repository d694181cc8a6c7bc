"""Worlds to reason about: grids, objectworld, binaryworld, random MDPs, gymnasium interop.

Every builder returns a validated :class:`~ctrlinf.TabularMDP`; grid-shaped worlds
return a :class:`GridMDP`, which also knows its layout (``shape``, ``coords``,
``state``, walls, goals, pits and, where the world defines them, ``features``).
"""
from ctrlinf.envs.grid import GridMDP
from ctrlinf.envs.grid import cliff_walking
from ctrlinf.envs.grid import gridworld
from ctrlinf.envs.grid import gridworld_from_map
from ctrlinf.envs.gym_adapters import from_gymnasium
from ctrlinf.envs.gym_adapters import to_gymnasium
from ctrlinf.envs.feature_worlds import binaryworld
from ctrlinf.envs.feature_worlds import objectworld
from ctrlinf.envs.random import random_mdp
from ctrlinf.envs.seals_export import to_seals

__all__ = [
    "GridMDP",
    "binaryworld",
    "cliff_walking",
    "from_gymnasium",
    "gridworld",
    "gridworld_from_map",
    "objectworld",
    "random_mdp",
    "to_gymnasium",
    "to_seals",
]
