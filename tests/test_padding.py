"""Padding is never read: every public function that takes ``Trajectories`` ignores it.

``Trajectories(states, actions, lengths=L)`` stores steps ``t >= L[i]`` as padding, and
``Trajectories.observed()`` is the one way to read the data. The property: refilling the
padding with random integers (negative, out of range, anything) changes no result of
any public function. The functions are *found*, not listed by hand: every callable
reachable from an ``__all__`` of ctrlinf or its subpackages, and every public function
of a public module, whose signature or docstring takes ``Trajectories``
(:func:`takes_trajectories`). Each must have a call in ``CALLS`` (or a reason in
``NOT_TRAJECTORIES``), so a new function that takes ``Trajectories`` fails
:func:`test_every_function_that_takes_trajectories_is_covered` until it is added here.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import types
import warnings

import matplotlib
import numpy as np
import pytest

import ctrlinf as ci
from ctrlinf.bridge import discriminators, importance_sampling
from ctrlinf.experiments import irl_evd
from ctrlinf.irl import demos as irl_demos
from ctrlinf.plot import paths
from ctrlinf.trajectories import feature_counts, visitation
from enumeration import random_mdp_arrays

matplotlib.use("Agg")

# -- discovery -----------------------------------------------------------------------
#: Parameter names that hold Trajectories wherever the docstring does not say otherwise.
DEMO_PARAMETERS = ("demos", "trajectories", "samples")

#: Functions the name rule flags whose argument is not a Trajectories.
NOT_TRAJECTORIES = {
    "ctrlinf.sweep_tasks.irl_evd": "demos is a list of demo counts",
    "ctrlinf.sweep_tasks.irl_evd_grid": "demos is a list of demo counts",
}


def documented_types(func):
    """``{parameter: type}`` from a numpydoc Parameters section (``a, b : type`` lines)."""
    out = {}
    for line in (inspect.getdoc(func) or "").splitlines():
        match = re.match(r"^(\w+(?:, \w+)*) : (.+)$", line)
        if match:
            for name in match.group(1).split(", "):
                out[name] = match.group(2)
    return out


def _class_methods(cls):
    generated_init = dataclasses.is_dataclass(cls)   # stores its fields, reads nothing
    for name, member in vars(cls).items():
        if not inspect.isfunction(member):
            continue
        if name.startswith("_") and name not in ("__call__", "__getitem__", "__init__"):
            continue
        if name == "__init__" and generated_init:
            continue
        yield f"{cls.__module__}.{cls.__qualname__}.{name}", member


def public_callables():
    """``{qualified name: function}`` for every public function and method of ctrlinf."""
    found, seen = {}, set()

    def walk(module):
        if module.__name__ in seen:
            return
        seen.add(module.__name__)
        names = getattr(module, "__all__", None)
        if names is None:
            names = [name for name, obj in vars(module).items() if not name.startswith("_")
                     and getattr(obj, "__module__", None) == module.__name__]
        for name in names:
            try:
                obj = getattr(module, name)
            except ImportError:     # a name an uninstalled extra provides (sb3.OracleCallback)
                continue
            if isinstance(obj, types.ModuleType):
                walk(obj)
            elif inspect.isclass(obj):
                found.update(_class_methods(obj))
            elif callable(obj):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj

    walk(ci)
    for info in pkgutil.walk_packages(ci.__path__, "ctrlinf."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            walk(importlib.import_module(info.name))
    return found


def takes_trajectories(qualname, func):
    """Whether ``func`` takes a Trajectories: a method of it, or a parameter typed or named so."""
    if qualname.startswith("ctrlinf.trajectories.Trajectories."):
        return not qualname.endswith(".__init__")
    documented = documented_types(func)
    for name in inspect.signature(func).parameters:
        if "Trajectories" in documented.get(name, ""):
            return True
        if name in DEMO_PARAMETERS and name not in documented:
            return True
    return False


# -- the worlds and their demos ---------------------------------------------------------
T = 4


def _world(horizon, gamma):
    P, r, p0 = random_mdp_arrays(np.random.default_rng(0), 3, 2)   # every P > 0
    return ci.TabularMDP(P, r, p0, horizon=horizon, gamma=gamma)


MDP = _world(T, 1.0)
MDP_INF = _world(None, 0.8)
PHI = np.random.default_rng(1).normal(size=(3, 2, 2))
PHI_S = PHI[:, 0, :]
POLICY = ci.solve(MDP, mode="soft").policy
UNIFORM = np.full((3, 2), 0.5)


def _truncated(mdp, policy, lengths, seed, length=None):
    full = ci.sample(mdp, policy, n=len(lengths), seed=seed, length=length)
    return ci.Trajectories(full.states, full.actions, lengths=lengths)


DEMOS = _truncated(MDP, POLICY, [4, 1, 2, 3, 4, 2], seed=0)
SAMPLES = _truncated(MDP, UNIFORM, [4, 4, 2, 1, 3], seed=1)
DEMOS_INF = _truncated(MDP_INF, ci.solve(MDP_INF).policy, [5, 2, 3, 1], seed=2, length=5)
GRID = irl_evd.make_world("gridworld", size=3, seed=0, horizon=T)
DEMOS_GRID = _truncated(GRID, ci.solve(GRID).policy, [4, 2, 1, 3], seed=3)
GCL = discriminators.gcl_discriminator(MDP, PHI, DEMOS, SAMPLES, UNIFORM)


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def _figure_lines(call):
    import matplotlib.pyplot as plt
    ax = call()
    lines = [line.get_xydata() for line in ax.lines]
    plt.close(ax.figure)
    return lines


#: A call per function; ``pad(demos)`` is the same demos with fresh random padding.
CALLS = {
    "ctrlinf.trajectories.Trajectories.observed": lambda pad: pad(DEMOS).observed(),
    "ctrlinf.trajectories.Trajectories.check_against":
        lambda pad: pad(DEMOS).check_against(MDP),
    "ctrlinf.trajectories.Trajectories.__getitem__": lambda pad: pad(DEMOS)[[0, 2, 3]],
    "ctrlinf.trajectories.visitation": lambda pad: visitation(pad(DEMOS), 3, 2, gamma=0.9),
    "ctrlinf.trajectories.feature_counts": lambda pad: [
        feature_counts(pad(DEMOS), phi, 0.9, per_trajectory=each)
        for phi in (PHI, PHI_S) for each in (False, True)],
    "ctrlinf.irl.cloning.behaviour_cloning":
        lambda pad: ci.irl.behaviour_cloning(pad(DEMOS), 3, 2, pseudocount=0.5),
    "ctrlinf.irl.demos.check_demos": lambda pad: irl_demos.check_demos(MDP, pad(DEMOS)),
    "ctrlinf.irl.demos.expert_visitation": lambda pad: ci.irl.expert_visitation(MDP, pad(DEMOS)),
    "ctrlinf.irl.demos.truncated_ends": lambda pad: irl_demos.truncated_ends(MDP, pad(DEMOS)),
    "ctrlinf.irl.demos.expert_occupancy":
        lambda pad: irl_demos.expert_occupancy(MDP, pad(DEMOS)),
    "ctrlinf.irl.demos.start_distribution":
        lambda pad: ci.irl.start_distribution(pad(DEMOS), 3),
    "ctrlinf.irl.metrics.log_likelihood":
        lambda pad: [ci.irl.log_likelihood(MDP, MDP.r, pad(DEMOS)),
                     ci.irl.log_likelihood(MDP_INF, MDP.r, pad(DEMOS_INF))],
    "ctrlinf.irl.objectives.objective": lambda pad: [
        ci.irl.objective(MDP, PHI, pad(DEMOS), [0.3, -0.7], mode=mode)
        for mode in ("soft", "exact")] + [ci.irl.objective(MDP_INF, PHI, pad(DEMOS_INF),
                                                           [0.3, -0.7])],
    "ctrlinf.irl.objectives.reward_objective": lambda pad: [
        ci.irl.reward_objective(MDP, MDP.r, pad(DEMOS), mode=mode) for mode in ("soft", "exact")],
    "ctrlinf.irl.fitting.fit": lambda pad: _quiet(lambda: ci.irl.fit(
        MDP, PHI, pad(DEMOS), mode="exact", l2=0.1, progress=False)),
    "ctrlinf.irl.deep.deep_objective": lambda pad: ci.irl.deep_objective(
        MDP, PHI, pad(DEMOS), ci.irl.RewardNet(2, hidden=(3,)),
        ci.irl.RewardNet(2, hidden=(3,)).init_params(seed=0)),
    "ctrlinf.irl.deep.fit_deep": lambda pad: _quiet(lambda: ci.irl.fit_deep(
        MDP, PHI, pad(DEMOS), hidden=(3,), max_iter=5, seed=0, progress=False)),
    "ctrlinf.experiments.irl_evd.fit_method": lambda pad: _quiet(lambda: irl_evd.fit_method(
        GRID, pad(DEMOS_GRID), "soft", deep=False, progress=False)[:2]),
    "ctrlinf.bridge.adversarial_imitation.discounted_pair_weights":
        lambda pad: ci.bridge.discounted_pair_weights(pad(DEMOS), 3, 2, gamma=0.9),
    "ctrlinf.bridge.adversarial_imitation.gail": lambda pad: ci.bridge.gail(
        MDP_INF, pad(DEMOS_INF), n_iterations=2, n_rollouts=10, seed=0),
    "ctrlinf.bridge.discriminators.gail_discriminator": lambda pad: ci.bridge.gail_discriminator(
        MDP, pad(DEMOS), pad(SAMPLES), n_iterations=20, seed=0),
    "ctrlinf.bridge.discriminators.gcl_discriminator": lambda pad: ci.bridge.gcl_discriminator(
        MDP, PHI, pad(DEMOS), pad(SAMPLES), UNIFORM),
    "ctrlinf.bridge.discriminators.GCLDiscriminator.logit": lambda pad: GCL.logit(pad(SAMPLES)),
    "ctrlinf.bridge.discriminators.GCLDiscriminator.__call__": lambda pad: GCL(pad(DEMOS)),
    "ctrlinf.bridge.importance_sampling.exact_maxent_gradient":
        lambda pad: ci.bridge.exact_maxent_gradient(MDP, PHI, pad(DEMOS), [0.3, -0.7]),
    "ctrlinf.bridge.importance_sampling.irl_gradient_importance_sampled":
        lambda pad: ci.bridge.irl_gradient_importance_sampled(
            MDP, PHI, pad(DEMOS), [0.3, -0.7], UNIFORM, 50, seed=0),
    "ctrlinf.bridge.importance_sampling.policy_log_probability": lambda pad: [
        importance_sampling.policy_log_probability(policy, pad(DEMOS))
        for policy in (POLICY, POLICY[0])],
    "ctrlinf.bridge.importance_sampling.trajectory_features":
        lambda pad: importance_sampling.trajectory_features(MDP, PHI_S, pad(DEMOS)),
    "ctrlinf.bridge.importance_sampling.summed_features":
        lambda pad: importance_sampling.summed_features(
            np.repeat(PHI_S[:, None], MDP.n_actions, axis=1), pad(DEMOS), "demos"),
    "ctrlinf.plot.paths.demo_states": lambda pad: paths.demo_states(GRID, pad(DEMOS_GRID)),
    "ctrlinf.plot.paths.trajectories": lambda pad: [
        _figure_lines(lambda: ci.plot.trajectories(world, pad(demos)))
        for world, demos in ((GRID, DEMOS_GRID), (MDP, DEMOS))],
}


def repadded(seed, wild):
    """``pad``: the same observed steps, random padding: 0 or 1 (a valid state and action,
    so a reader of padding gives a wrong answer), or ``wild`` integers in [-5, 9]."""
    rng = np.random.default_rng(seed)
    low, high = (-5, 10) if wild else (0, 2)

    def pad(demos):
        mask = demos.mask
        states = np.where(mask, demos.states, rng.integers(low, high, size=mask.shape))
        actions = np.where(mask, demos.actions, rng.integers(low, high, size=mask.shape))
        return ci.Trajectories(states, actions, lengths=demos.lengths)

    return pad


#: Fields that differ between two identical runs (wall-clock times).
CLOCK_KEYS = ("time",)


def assert_same(a, b, where="output"):
    """``a`` and ``b`` are equal, bit for bit, through tuples, dicts, dataclasses and objects."""
    if isinstance(a, ci.Trajectories):
        assert isinstance(b, ci.Trajectories), where
        assert a.states.shape == b.states.shape, where
        assert_same(tuple(a.observed()) + (a.lengths,), tuple(b.observed()) + (b.lengths,),
                    where)
    elif isinstance(a, (np.ndarray, np.generic, float, int)) and not isinstance(a, bool):
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            if key not in CLOCK_KEYS:
                assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif dataclasses.is_dataclass(a):
        for field in dataclasses.fields(a):
            assert_same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert_same(vars(a), vars(b), where)
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_every_function_that_takes_trajectories_is_covered():
    found = {name for name, func in public_callables().items() if takes_trajectories(name, func)}
    assert found - set(NOT_TRAJECTORIES) == set(CALLS), (
        f"not covered here: {sorted(found - set(NOT_TRAJECTORIES) - set(CALLS))}; "
        f"no longer found: {sorted(set(CALLS) - found)}")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_random_padding_changes_nothing(name):
    call = CALLS[name]
    reference = call(repadded(0, wild=False))
    assert_same(reference, call(repadded(1, wild=False)), name)
    assert_same(reference, call(repadded(2, wild=True)), name)


def test_observed_is_every_step_before_the_length_in_order():
    demos = ci.Trajectories([[4, 5, 6], [7, -1, 99]], [[0, 1, 0], [1, -3, 42]], lengths=[3, 1])
    steps = demos.observed()
    assert steps.trajectory.tolist() == [0, 0, 0, 1]
    assert steps.t.tolist() == [0, 1, 2, 0]
    assert steps.state.tolist() == [4, 5, 6, 7]
    assert steps.action.tolist() == [0, 1, 0, 1]
