"""ctrlinf: exact reinforcement learning as probabilistic inference on small discrete MDPs.

The public names are listed in ``__all__``; everything else is an implementation detail.
Conventions (indices, time steps, temperature): see the docstring of :mod:`ctrlinf.mdp`.
"""
import importlib as _importlib
import types as _types
import typing as _typing

from ctrlinf.inference import Solution
from ctrlinf.inference import backup
from ctrlinf.inference import evaluate_policy
from ctrlinf.inference import forward
from ctrlinf.inference import log_evidence
from ctrlinf.inference import marginals
from ctrlinf.inference import occupancy
from ctrlinf.inference import solve
from ctrlinf.mdp import TabularMDP
from ctrlinf.trajectories import Trajectories
from ctrlinf.trajectories import sample

__version__ = "0.1.0"

if _typing.TYPE_CHECKING:
    # What the lazy attributes below are, for type checkers (nothing is imported at run time).
    from ctrlinf import bridge, envs, experiments, explore, irl, plot, sweep

# Subpackages load on first use so that `import ctrlinf` stays fast and does not
# pull in matplotlib or gymnasium until they are needed.
_LAZY_SUBMODULES = ("envs", "irl", "plot", "bridge", "explore", "sweep", "experiments")


def __getattr__(name: str) -> _types.ModuleType:
    if name in _LAZY_SUBMODULES:
        module = _importlib.import_module(f"ctrlinf.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'ctrlinf' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The lazy subpackages are attributes too, before their first use (tab completion).
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


__all__ = [
    "TabularMDP",
    "Solution",
    "solve",
    "backup",
    "forward",
    "marginals",
    "log_evidence",
    "occupancy",
    "evaluate_policy",
    "Trajectories",
    "sample",
    "envs",
    "irl",
    "plot",
    "bridge",
    "explore",
    "sweep",
    "experiments",
]
