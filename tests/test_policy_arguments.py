"""Every public function that takes a policy reads it the same way (``_checks.policy``).

A policy is ``(T, S, A)`` with exactly ``T = mdp.horizon`` rows, or a stationary
``(S, A)`` (the only form an infinite horizon takes); anything else is a ValueError
naming the argument (``T + 2`` rows were silently cut to ``T``). Rows must sum to one
within 1e-6 and are renormalised, so a policy off by rounding gives the answer of the
distribution it stands for (near ``γ = 1`` the error is amplified by ``1/(1 − γ)``).

To cover a new function, add a :class:`Taker` to ``TAKERS``.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Callable, NamedTuple

import numpy as np
import pytest

import ctrlinf as ci
from ctrlinf.bridge import importance_sampling
from ctrlinf.inference import discounted_visitation
from enumeration import random_mdp_arrays

S, A, T = 3, 2, 3


def _world(horizon, gamma):
    P, r, p0 = random_mdp_arrays(np.random.default_rng(0), S, A)    # every P > 0
    return ci.TabularMDP(P, r, p0, horizon=horizon, gamma=gamma)


MDP = _world(T, 1.0)
MDP_INF = _world(None, 0.9)
PHI = np.random.default_rng(1).normal(size=(S, A, 2))
UNIFORM = np.full((S, A), 1.0 / A)
DEMOS = ci.sample(MDP, ci.solve(MDP).policy, 8, seed=0)
SAMPLES = ci.sample(MDP, UNIFORM, 8, seed=1)
ENUMERATED = ci.bridge.enumerate_trajectories(MDP)


def _expert_occupancy(mdp):
    return ci.marginals(mdp, ci.solve(mdp))[1]


class Taker(NamedTuple):
    """How to call a function with a policy ``pi`` in ``mdp``, and what its errors name."""

    call: Callable
    argument: str
    finite: bool = True
    infinite: bool = False
    #: False where the function has no mdp and takes S and A from the policy itself.
    knows_sizes: bool = True


TAKERS = {
    "ci.evaluate_policy": Taker(lambda mdp, pi: ci.evaluate_policy(mdp, pi, temperature=0.5),
                                "policy", infinite=True),
    "ci.occupancy": Taker(lambda mdp, pi: ci.occupancy(mdp, pi), "policy", infinite=True),
    "ci.inference.discounted_visitation": Taker(discounted_visitation, "policy", infinite=True),
    "ci.sample": Taker(lambda mdp, pi: ci.sample(mdp, pi, 20, seed=0), "policy"),
    "ci.irl.feature_expectations": Taker(
        lambda mdp, pi: ci.irl.feature_expectations(mdp, pi, PHI), "policy", infinite=True),
    "ci.irl.mixture_policy": Taker(
        lambda mdp, pi: ci.irl.mixture_policy(mdp, [pi, UNIFORM], [0.25, 0.75]), "policies[0]"),
    "ci.irl.reward_from_soft_policies": Taker(
        lambda mdp, pi: ci.irl.reward_from_soft_policies([mdp], [pi]), "policies[0]",
        finite=False, infinite=True),
    "ci.bridge.gcl_discriminator": Taker(
        lambda mdp, pi: ci.bridge.gcl_discriminator(mdp, PHI, DEMOS, SAMPLES, pi),
        "sampler_policy"),
    "ci.bridge.irl_gradient_importance_sampled": Taker(
        lambda mdp, pi: ci.bridge.irl_gradient_importance_sampled(mdp, PHI, DEMOS, [0.5, -1.0],
                                                                  pi, 30, seed=0),
        "sampler_policy"),
    "ci.bridge.exact_gail_optimum": Taker(
        lambda mdp, pi: ci.bridge.exact_gail_optimum(mdp, _expert_occupancy(mdp), pi), "policy",
        infinite=True),
    "ci.bridge.importance_sampling.policy_log_probability": Taker(
        lambda mdp, pi: importance_sampling.policy_log_probability(pi, DEMOS), "policy",
        knows_sizes=False),
    "ci.bridge.TrajectorySet.log_probability": Taker(
        lambda mdp, pi: ENUMERATED.log_probability(pi), "policy", knows_sizes=False),
}


def _cases(kind):
    for name, taker in sorted(TAKERS.items()):
        for horizon, mdp in ((T, MDP), (None, MDP_INF)):
            if (taker.finite if horizon else taker.infinite):
                yield pytest.param(name, mdp, id=f"{name}-{'T' if horizon else 'inf'}")


def _wrong_shapes(mdp, knows_sizes):
    if mdp.horizon is None:
        shapes = [(2, S, A), (1, S, A), (A,)]
    else:
        shapes = [(T + 2, S, A), (T + 1, S, A), (T - 1, S, A), (1, S, A), (A,), (T, S, A, 1)]
    if knows_sizes:
        shapes += [(S, A + 1), (S + 1, A), (S - 1, A)] + (
            [(T, S, A + 1)] if mdp.horizon else [])
    return shapes


def _random_policy(mdp, seed, stationary):
    rng = np.random.default_rng(seed)
    shape = (S, A) if stationary or mdp.horizon is None else (mdp.horizon, S, A)
    return rng.dirichlet(np.ones(A), size=shape[:-1])           # positive everywhere


def assert_close(a, b, where="output"):
    """Equal to rounding (rtol 1e-12) through tuples, dataclasses and Trajectories."""
    if isinstance(a, ci.Trajectories):
        np.testing.assert_array_equal(a.states, b.states, err_msg=where)
        np.testing.assert_array_equal(a.actions, b.actions, err_msg=where)
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{where}[{i}]")
    elif dataclasses.is_dataclass(a):
        for field in dataclasses.fields(a):
            assert_close(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=where)


@pytest.mark.parametrize("name, mdp", list(_cases("shape")))
def test_wrong_shapes_are_refused_by_name(name, mdp):
    taker = TAKERS[name]
    for shape in _wrong_shapes(mdp, taker.knows_sizes):
        message = rf"^{re.escape(taker.argument)} has shape {re.escape(str(shape))}"
        with pytest.raises(ValueError, match=message):
            taker.call(mdp, np.full(shape, 1.0 / shape[-1]))


@pytest.mark.parametrize("stationary", [True, False])
@pytest.mark.parametrize("name, mdp", list(_cases("renormalise")))
def test_rows_within_tolerance_of_one_are_renormalised(name, mdp, stationary):
    taker = TAKERS[name]
    pi = _random_policy(mdp, 3, stationary)
    off = pi * (1 + np.random.default_rng(4).uniform(-9e-7, 9e-7, size=pi.shape[:-1] + (1,)))
    assert np.abs(off.sum(axis=-1) - 1).max() > 1e-7
    assert_close(taker.call(mdp, off), taker.call(mdp, pi), name)


@pytest.mark.parametrize("name, mdp", list(_cases("refuse")))
def test_rows_off_by_more_than_the_tolerance_are_refused(name, mdp):
    taker = TAKERS[name]
    pi = _random_policy(mdp, 5, stationary=True)
    pi[1] *= 1.001
    message = rf"^{re.escape(taker.argument)}\[0, 1, :\] sums to 1.001, expected 1"
    with pytest.raises(ValueError, match=message):
        taker.call(mdp, pi)
