r"""The suite behind ``ctrlinf check``: any RL agent scored on exactly solved tasks.

bsuite-style experiments report returns; this suite reports *how far from the exact
answer* an agent ends, and how fast it gets there, because every task is small enough
for the exact oracle (:class:`ctrlinf.bridge.Oracle`). It has four parts:

- :mod:`~ctrlinf.bridge.suite.tasks`: the versioned task set (:data:`SUITE_VERSION`,
  :data:`TASKS`), each task naming the failure mode it probes, with its exact answer at
  temperature 0 and at two soft temperatures;
- :mod:`~ctrlinf.bridge.suite.runner`: :func:`run` trains ``make_agent`` on every
  (task, seed) cell through :func:`ctrlinf.sweep.run` (local processes or a Dask
  cluster, resumable) and returns a DataFrame, a row per cell;
- :mod:`~ctrlinf.bridge.suite.aggregates`: interquartile means with stratified
  bootstrap confidence intervals and performance profiles (Agarwal et al. 2021), and
  the comparison of two agents;
- :mod:`~ctrlinf.bridge.suite.page`: :func:`report` writes one self-contained HTML page
  (``ctrlinf check``).

:mod:`~ctrlinf.bridge.suite.agents` states the agent protocol and has a tabular
Q-learning reference agent and adapters for the built-in soft agents and for
Stable-Baselines3's DQN and PPO. Needs ``pip install -e ".[suite]"`` (gymnasium,
dask[distributed], pandas); the SB3 adapters ``".[sb3]"`` too.
"""
from ctrlinf.bridge.suite import agents
from ctrlinf.bridge.suite.aggregates import compare
from ctrlinf.bridge.suite.aggregates import iqm
from ctrlinf.bridge.suite.aggregates import performance_profile
from ctrlinf.bridge.suite.aggregates import probability_of_improvement
from ctrlinf.bridge.suite.aggregates import stratified_bootstrap
from ctrlinf.bridge.suite.aggregates import summary
from ctrlinf.bridge.suite.page import report
from ctrlinf.bridge.suite.runner import run
from ctrlinf.bridge.suite.tasks import SUITE_VERSION
from ctrlinf.bridge.suite.tasks import TASK_NAMES
from ctrlinf.bridge.suite.tasks import TASKS
from ctrlinf.bridge.suite.tasks import Task
from ctrlinf.bridge.suite.tasks import get_task

__all__ = [
    "SUITE_VERSION",
    "TASKS",
    "TASK_NAMES",
    "Task",
    "get_task",
    "run",
    "summary",
    "iqm",
    "stratified_bootstrap",
    "performance_profile",
    "probability_of_improvement",
    "compare",
    "report",
    "agents",
]
