"""The three agents share one convention: γ a required keyword, seed=None, frozen results."""
import dataclasses
import inspect

import numpy as np
import pytest

import ctrlinf as ci
from ctrlinf.bridge import Oracle, entropy_policy_gradient, sac_discrete, soft_q_learning

AGENTS = [soft_q_learning, sac_discrete, entropy_policy_gradient]


@pytest.mark.parametrize("agent", AGENTS + [Oracle.stationary])
def test_gamma_is_required(agent):
    parameter = inspect.signature(agent).parameters["gamma"]
    assert parameter.default is inspect.Parameter.empty


@pytest.mark.parametrize("agent", AGENTS)
def test_gamma_missing_is_a_type_error_and_seed_defaults_to_none(agent):
    env = ci.envs.to_gymnasium(ci.envs.random_mdp(3, 2, seed=0, horizon=5))
    with pytest.raises(TypeError, match="gamma"):
        agent(env, 5)
    assert inspect.signature(agent).parameters["seed"].default is None
    assert inspect.signature(agent).parameters["progress"].default is None
    result = agent(env, 5, gamma=0.5)          # seed=None: fresh entropy, still runs
    assert result.gamma == 0.5 and np.allclose(result.policy.sum(axis=1), 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.gamma = 0.9


def test_bridge_algorithms_import_what_they_use_not_the_package_root():
    """No bridge module reaches through the package root (``import ctrlinf as ci``)."""
    from pathlib import Path
    bridge = Path(ci.__file__).parent / "bridge"
    rooted = sorted(p.name for p in bridge.glob("*.py")
                    if "\nimport ctrlinf as ci\n" in p.read_text(encoding="utf-8"))
    assert rooted == []
