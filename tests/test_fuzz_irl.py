"""Fuzz trajectories, IRL, ``evaluate_policy`` and the bridge's demo readers (issue 18).

The property of :mod:`test_fuzz`, made sharper: every case either answers, and the
answer equals an independent reference (a loop over the observed steps, a brute-force
enumeration, a closed form), or raises the expected ``TypeError``/``ValueError`` whose
message names the argument and matches the expected text. Cases that reach compiled
code with input that could make it read out of bounds (policies of the wrong length,
padding at the extremes of int64) run in a child interpreter
(:func:`test_fuzz.assert_child_passes`), so a segfault fails a test instead of pytest.
"""
from __future__ import annotations

import math
import re
import warnings
from typing import Callable, NamedTuple

import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf.bridge import importance_sampling
from ctrlinf.irl import demos as irl_demos
from ctrlinf.trajectories import feature_counts, visitation
from enumeration import random_mdp_arrays
from test_fuzz import CALL_TIMEOUT, assert_child_passes, assert_finite, names_argument
from test_fuzz import time_limit
from test_irl_large_rewards import enumerated_prefix_objective


class Case(NamedTuple):
    """One input: an answer checked against a reference, or an error checked by message."""

    id: str
    call: Callable
    names: tuple = ()          # an error must name one of these
    expect: object = None      # None: must answer; TypeError / ValueError: must raise it
    match: str = ""            # regex the error message must contain
    check: Callable = None     # check(output): assertions against an independent reference


def verify(case):
    """Assert ``case``'s property; return None (so a child can run it as a plain call)."""
    with time_limit(CALL_TIMEOUT), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case.expect is None:
            out = case.call()
        else:
            with pytest.raises(case.expect) as info:
                case.call()
    if case.expect is None:
        assert_finite(out)
        if case.check is not None:
            case.check(out)
        return None
    message = str(info.value)
    assert names_argument(message, case.names), f"{message!r} does not name {case.names}"
    assert re.search(case.match, message), f"{message!r} does not match {case.match!r}"
    return None


# -- worlds ---------------------------------------------------------------------------
S, A, T = 3, 2, 4


def world(horizon=T, gamma=1.0, seed=0):
    P, r, p0 = random_mdp_arrays(np.random.default_rng(seed), S, A)    # every P > 0
    return ci.TabularMDP(P, r, p0, horizon=horizon, gamma=gamma)


MDP = world()
MDP_SOFT = world(gamma=0.9)
MDP_INF = world(horizon=None, gamma=0.9)
PHI = np.random.default_rng(1).normal(size=(S, A, 2))
UNIFORM = np.full((S, A), 0.5)
LENGTHS = [4, 1, 2, 3, 1]


def padded(lengths=LENGTHS, fill=(-7, 99), seed=0, mdp=MDP):
    """Soft-optimal demos truncated to ``lengths``, the padding random ints in ``fill``."""
    full = ci.sample(mdp, ci.solve(mdp).policy, n=len(lengths), seed=seed,
                     length=mdp.horizon or T)
    rng = np.random.default_rng(seed + 100)
    mask = np.arange(full.length) < np.array(lengths)[:, None]
    junk = rng.integers(fill[0], fill[1], size=(2,) + mask.shape)
    return ci.Trajectories(np.where(mask, full.states, junk[0]),
                           np.where(mask, full.actions, junk[1]), lengths=lengths)


DEMOS = padded()
EXTREME = padded(fill=(np.iinfo(np.int64).min, np.iinfo(np.int64).max))


def observed(demos):
    """``[(i, t, s, a)]`` by a plain loop over ``t < lengths[i]``: the reference reading."""
    return [(i, t, int(demos.states[i, t]), int(demos.actions[i, t]))
            for i in range(demos.n_trajectories) for t in range(int(demos.lengths[i]))]


# -- references -----------------------------------------------------------------------
def ref_visitation(demos, gamma):
    D = np.zeros((S, A))
    for _, t, s, a in observed(demos):
        D[s, a] += gamma ** t / demos.n_trajectories
    return D


def ref_per_trajectory(demos, phi, gamma):
    out = np.zeros((demos.n_trajectories, phi.shape[-1]))
    for i, t, s, a in observed(demos):
        out[i] += gamma ** t * (phi[s, a] if phi.ndim == 3 else phi[s])
    return out


def ref_log_likelihood(mdp, reward, demos):
    sol = ci.solve(mdp.replace(r=reward))
    out = np.zeros(demos.n_trajectories)
    for i, t, s, a in observed(demos):
        out[i] += sol.Q[t, s, a] - sol.V[t, s]
    return out


def ref_policy_log_probability(policy, demos):
    out = np.zeros(demos.n_trajectories)
    for i, t, s, a in observed(demos):
        out[i] += math.log(policy[s, a] if policy.ndim == 2 else policy[t, s, a])
    return out


def ref_cloning(demos):
    counts = np.zeros((S, A))
    for _, _, s, a in observed(demos):
        counts[s, a] += 1
    visited = counts.sum(axis=1) > 0
    totals = counts.sum(axis=1, keepdims=True)
    return np.where(visited[:, None], counts / np.maximum(totals, 1), 1 / A), visited


def close(reference, rtol=1e-12, atol=1e-14):
    def check(out):
        assert_allclose(out, reference, rtol=rtol, atol=atol)
    return check


# -- cases: padding is never read ------------------------------------------------------
def cases_padding():
    out = []
    for name, demos in (("random", DEMOS), ("int64-extremes", EXTREME)):
        out += [
            Case(f"visitation-{name}", lambda d=demos: visitation(d, S, A, gamma=0.8),
                 check=close(ref_visitation(demos, 0.8))),
            Case(f"feature_counts-per-trajectory-{name}",
                 lambda d=demos: feature_counts(d, PHI, 0.8, per_trajectory=True),
                 check=close(ref_per_trajectory(demos, PHI, 0.8))),
            Case(f"feature_counts-state-features-{name}",
                 lambda d=demos: feature_counts(d, PHI[:, 0], 0.8),
                 check=close(ref_per_trajectory(demos, PHI[:, 0], 0.8).mean(axis=0))),
            Case(f"behaviour_cloning-{name}", lambda d=demos: ci.irl.behaviour_cloning(d, S, A),
                 check=lambda out, d=demos: (assert_allclose(out[0], ref_cloning(d)[0]),
                                             np.testing.assert_array_equal(out[1],
                                                                           ref_cloning(d)[1]))),
            Case(f"log_likelihood-{name}",
                 lambda d=demos: ci.irl.log_likelihood(MDP, PHI[..., 0], d),
                 check=close(ref_log_likelihood(MDP, PHI[..., 0], demos), rtol=1e-10)),
            Case(f"policy_log_probability-{name}",
                 lambda d=demos: importance_sampling.policy_log_probability(
                     ci.solve(MDP).policy, d),
                 check=close(ref_policy_log_probability(ci.solve(MDP).policy, demos))),
            Case(f"start_distribution-{name}", lambda d=demos: ci.irl.start_distribution(d, S),
                 check=close(np.bincount(demos.states[:, 0], minlength=S) / len(demos))),
            Case(f"discounted_pair_weights-{name}",
                 lambda d=demos: ci.bridge.discounted_pair_weights(d, S, A, gamma=0.8),
                 check=close(ref_visitation(demos, 0.8) / ref_visitation(demos, 0.8).sum())),
            Case(f"check_demos-{name}", lambda d=demos: irl_demos.check_demos(MDP, d)),
        ]
    issue = ci.Trajectories([[0, 1, 1], [0, 0, 0]], [[1, 0, 0], [0, 1, 1]], lengths=[1, 1])
    out += [
        Case("behaviour_cloning-issue-18", lambda: ci.irl.behaviour_cloning(issue, 2, 2),
             check=lambda out: (assert_allclose(out[0], [[0.5, 0.5], [0.5, 0.5]], atol=1e-15),
                                np.testing.assert_array_equal(out[1], [True, False]))),
        Case("truncated_ends", lambda: irl_demos.truncated_ends(MDP, DEMOS),
             check=lambda out: assert_allclose(out, _ref_ends(DEMOS), atol=1e-15)),
        Case("expert_visitation-mass", lambda: ci.irl.expert_visitation(MDP, DEMOS).sum(),
             check=close(np.mean(LENGTHS))),
        Case("gcl-logit", lambda: _gcl().logit(DEMOS), check=lambda out: assert_allclose(
            out, _ref_gcl_logit(DEMOS), rtol=1e-10, atol=1e-12)),
        Case("plot-trajectories-draws-observed-steps-only", _drawn_points,
             check=lambda out: np.testing.assert_array_equal(out, LENGTHS)),
    ]
    return out


def _ref_ends(demos):
    ends = np.zeros((T, S, A))
    for i, t, s, a in observed(demos):
        if t == demos.lengths[i] - 1 and demos.lengths[i] < T:
            ends[t, s, a] += 1 / demos.n_trajectories
    return ends


def _gcl():
    samples = ci.sample(MDP, UNIFORM, 10, seed=3)
    return ci.bridge.gcl_discriminator(MDP, PHI, DEMOS, samples, UNIFORM)


def _ref_gcl_logit(demos):
    gcl = _gcl()
    out = np.full(demos.n_trajectories, -gcl.log_partition)
    for i, _, s, a in observed(demos):
        out[i] += PHI[s, a] @ gcl.theta - math.log(UNIFORM[s, a])
    return out


def _drawn_points():
    import matplotlib.pyplot as plt
    ax = ci.plot.trajectories(MDP, DEMOS)
    # One line per trajectory (the start dots come after): its finite points.
    counts = [int(np.isfinite(line.get_xydata()[:, 1]).sum()) for line in ax.lines[::2]]
    plt.close(ax.figure)
    return np.array(counts)


# -- cases: exact-mode IRL at any reward scale --------------------------------------------
def _exact_case(seed, scale, masked):
    rng = np.random.default_rng(seed)
    P, _, p0 = random_mdp_arrays(rng, 3, 2, deterministic=seed % 2 == 0, sparsity=0.5)
    r = np.zeros((3, 2))
    if masked:
        r[rng.integers(3), rng.integers(2)] = -np.inf
    mdp = ci.TabularMDP(P, r, p0, horizon=3)
    phi = rng.normal(size=(3, 2, 4))
    theta = scale * rng.normal(size=4)
    full = ci.sample(mdp, ci.solve(mdp).policy, n=4, seed=seed)
    demos = ci.Trajectories(full.states, full.actions, lengths=[1, 2, 3, 1])
    value, grad = enumerated_prefix_objective(mdp, phi, demos, theta)

    def check(out):
        assert_allclose(out[0], value, rtol=1e-9)
        assert_allclose(out[1], grad, atol=1e-9)

    return Case(f"exact-truncated-seed{seed}-{scale:g}{'-masked' if masked else ''}",
                lambda: ci.irl.objective(mdp, phi, demos, theta, mode="exact"), check=check)


def cases_exact():
    return [_exact_case(seed, scale, masked)
            for seed, scale, masked in [(3, 1e150, False), (7, 1e150, False), (5, 300.0, True),
                                        (8, 300.0, True), (11, 1e3, True), (4, 1.0, True)]]


# -- cases: overflow names the argument it comes from -------------------------------------
def cases_overflow():
    net = ci.irl.RewardNet(2, hidden=())
    big = PHI * 1e200
    samples = ci.sample(MDP, UNIFORM, 5, seed=0)
    full = ci.sample(MDP, UNIFORM, 5, seed=1)
    return [
        Case("objective-theta-1e300-soft", lambda: ci.irl.objective(MDP, PHI, DEMOS, [1e300, 0]),
             ("theta",), ValueError, r"^theta \(max \|theta\| = 1e\+300\) is too large"),
        Case("objective-theta-1e300-exact",
             lambda: ci.irl.objective(MDP, PHI, DEMOS, [1e300, 1e300], mode="exact"),
             ("theta",), ValueError, r"values overflow"),
        Case("objective-theta-1e308-inf",
             lambda: ci.irl.objective(MDP, PHI * 10, DEMOS, [1e308, 1e308]), ("theta",),
             ValueError, r"r = features @ theta: r\[\d, \d\] is -?inf"),
        Case("reward_objective-1e300", lambda: ci.irl.reward_objective(
            MDP, np.full((S, A), 1e300), DEMOS), ("reward",), ValueError, r"^reward is too large"),
        Case("deep_objective-params-1e300", lambda: ci.irl.deep_objective(
            MDP, PHI, DEMOS, net, np.full(net.n_params, 1e300)), ("params",), ValueError,
             r"^params are too large"),
        Case("fit-features-1e200-soft", lambda: ci.irl.fit(MDP_SOFT, big, DEMOS, progress=False),
             ("features",), ValueError, r"^features up to \d\.\d+e\+200 are too large to fit"),
        Case("fit-features-1e200-exact", lambda: ci.irl.fit(MDP, big, DEMOS, mode="exact",
                                                            progress=False),
             ("features",), ValueError, r"scale the features to O\(1\)"),
        Case("fit_deep-features-1e200", lambda: ci.irl.fit_deep(MDP, big, DEMOS, progress=False),
             ("features",), ValueError, r"the optimisers square it"),
        Case("gcl-features-1e200", lambda: ci.bridge.gcl_discriminator(
            MDP, big, full, samples, UNIFORM), ("features",), ValueError, r"too large to fit"),
        Case("importance-sampling-features-1e200",
             lambda: ci.bridge.irl_gradient_importance_sampled(
                 MDP, big, full, [0.0, 0.0], UNIFORM, 10, seed=0), ("features",), ValueError,
             r"too large to fit"),
        Case("apprenticeship-features-1e200", lambda: ci.irl.apprenticeship_projection(
            MDP, big, np.ones(2)), ("features",), ValueError, r"too large to fit"),
        Case("fit-diverging-learning-rate", lambda: ci.irl.fit(
            MDP, PHI * 1e10, DEMOS, optimizer="gradient", learning_rate=1e300, progress=False),
             ("features",), ValueError, r"left the float range during the fit"),
    ]


# -- cases: evaluate_policy and every policy argument -------------------------------------
def _one_state(gamma, n_actions=2, horizon=None, r=1.0):
    return ci.TabularMDP(np.ones((1, n_actions, 1)), r=np.full((1, n_actions), r), p0=[1.0],
                         horizon=horizon, gamma=gamma)


def _float32_softmax():
    logits = 3 * np.random.default_rng(234).normal(size=(1, 20)).astype(np.float32)
    e = np.exp(logits - logits.max())
    return e / e.sum(axis=1, keepdims=True)


def cases_policies():
    near_one = _one_state(0.999999)
    pi_T = np.full((T, S, A), 0.5)
    off = UNIFORM.copy()
    off[1] *= 1.001
    return [
        Case("evaluate-row-1+9e-7-gamma-0.999999",
             lambda: ci.evaluate_policy(near_one, [[0.5, 0.5 + 9e-7]])[1],
             check=close([1e6], rtol=1e-8)),
        Case("evaluate-float32-softmax", lambda: ci.evaluate_policy(
            _one_state(0.999999, n_actions=20), _float32_softmax())[1],
             check=close([1e6], rtol=1e-8)),
        Case("evaluate-soft-value-of-uniform", lambda: ci.evaluate_policy(
            _one_state(0.5), UNIFORM[:1], temperature=2.0)[1],
             check=close([(1 + 2 * math.log(2)) / 0.5])),
        Case("evaluate-r-1.5e308", lambda: ci.evaluate_policy(
            _one_state(1.0, horizon=3, r=1.5e308), UNIFORM[:1]), ("r",), ValueError,
             r"^values overflow: r up to 1\.5e\+308"),
        Case("evaluate-temperature-1e308", lambda: ci.evaluate_policy(
            _one_state(1.0, horizon=3), UNIFORM[:1], temperature=1e308), ("temperature",),
             ValueError, r"temperature=1e\+308 times an entropy"),
        Case("evaluate-deterministic-at-temperature-1e308", lambda: ci.evaluate_policy(
            _one_state(1.0, horizon=3), [[1.0, 0.0]], temperature=1e308)[1][:, 0],
             check=close([3.0, 2.0, 1.0])),
        Case("evaluate-T+2-rows", lambda: ci.evaluate_policy(MDP, np.full((T + 2, S, A), 0.5)),
             ("policy",), ValueError, r"^policy has shape \(6, 3, 2\), expected \(T, S, A\)"),
        Case("evaluate-T-1-rows", lambda: ci.evaluate_policy(MDP, np.full((T - 1, S, A), 0.5)),
             ("policy",), ValueError, r"^policy has shape \(3, 3, 2\)"),
        Case("evaluate-one-row-of-T", lambda: ci.evaluate_policy(MDP, np.full((1, S, A), 0.5)),
             ("policy",), ValueError, r"^policy has shape \(1, 3, 2\)"),
        Case("evaluate-infinite-horizon-T-rows", lambda: ci.evaluate_policy(MDP_INF, pi_T),
             ("policy",), ValueError, r"an infinite-horizon MDP needs a stationary"),
        Case("evaluate-row-1.001", lambda: ci.evaluate_policy(MDP, off), ("policy",),
             ValueError, r"^policy\[0, 1, :\] sums to 1\.001, expected 1"),
        Case("evaluate-nan-entry", lambda: ci.evaluate_policy(MDP, [[0.5, np.nan]] * S),
             ("policy",), ValueError, r"^policy\[0, 0, 1\] is nan, expected a probability"),
        Case("evaluate-string-policy", lambda: ci.evaluate_policy(MDP, "uniform"), ("policy",),
             TypeError, r"^policy must be an array of real numbers"),
        Case("occupancy-T+2-rows", lambda: ci.occupancy(MDP, np.full((T + 2, S, A), 0.5)),
             ("policy",), ValueError, r"^policy has shape \(6, 3, 2\)"),
        Case("discounted_visitation-renormalised", lambda: ci.inference.discounted_visitation(
            MDP, UNIFORM * (1 + 5e-7)).sum(), check=close(T)),
        Case("feature_expectations-generator", lambda: ci.irl.feature_expectations(
            MDP, (p for p in [UNIFORM]), PHI), ("policy",), TypeError, r"^policy must be"),
        Case("feature_expectations-shape", lambda: ci.irl.feature_expectations(
            MDP, np.full((2, 2), 0.5), PHI), ("policy",), ValueError,
             r"^policy has shape \(2, 2\)"),
        Case("mixture_policy-generator-is-the-list", lambda: ci.irl.mixture_policy(
            MDP, (p for p in [UNIFORM, pi_T]), [0.5, 0.5]),
             check=close(ci.irl.mixture_policy(MDP, [UNIFORM, pi_T], [0.5, 0.5]))),
        Case("mixture_policy-shape", lambda: ci.irl.mixture_policy(MDP, [np.full((2, 2), .5)],
                                                                     [1.0]),
             ("policies[0]",), ValueError, r"^policies\[0\] has shape \(2, 2\)"),
        Case("mixture_policy-not-a-sequence", lambda: ci.irl.mixture_policy(MDP, 3, [1.0]),
             ("policies",), TypeError, r"^policies must be a sequence"),
        Case("mixture_policy-weights-per-policy", lambda: ci.irl.mixture_policy(
            MDP, [UNIFORM, UNIFORM], [1.0]), ("weights",), ValueError, r"one per entry"),
        Case("gcl-sampler-policy-T+2", lambda: ci.bridge.gcl_discriminator(
            MDP, PHI, DEMOS, DEMOS, np.full((T + 2, S, A), 0.5)), ("sampler_policy",),
             ValueError, r"^sampler_policy has shape \(6, 3, 2\)"),
    ]


# -- cases: every other argument, by name ------------------------------------------------
def cases_arguments():
    good = [([0, 1], [1, 0])]
    return [
        Case("pad_episodes-None", lambda: ci.irl.pad_episodes(None, 3, 0, 0), ("episodes",),
             TypeError, r"^episodes must be a sequence, got NoneType"),
        Case("pad_episodes-int", lambda: ci.irl.pad_episodes(5, 3, 0, 0), ("episodes",),
             TypeError, r"^episodes must be a sequence"),
        Case("pad_episodes-not-a-pair", lambda: ci.irl.pad_episodes([3], 3, 0, 0),
             ("episodes[0]",), TypeError, r"^episodes\[0\] must be a pair"),
        Case("pad_episodes-generator", lambda: ci.irl.pad_episodes(
            (e for e in good), 3, "last", 0).states,
             check=lambda out: np.testing.assert_array_equal(out, [[0, 1, 1]])),
        Case("behaviour_cloning-negative-state", lambda: ci.irl.behaviour_cloning(
            ci.Trajectories([[-1]], [[0]]), 2, 2), ("demos",), ValueError,
             r"^demos\.states\[0, 0\] is -1, expected an index in \[0, 1\]"),
        Case("behaviour_cloning-negative-action", lambda: ci.irl.behaviour_cloning(
            ci.Trajectories([[0, 1]], [[0, -1]]), 2, 2), ("demos",), ValueError,
             r"^demos\.actions\[0, 1\] is -1"),
        Case("behaviour_cloning-state-too-large", lambda: ci.irl.behaviour_cloning(
            ci.Trajectories([[0, 5]], [[0, 1]]), 2, 2), ("demos",), ValueError,
             r"^demos\.states\[0, 1\] is 5"),
        Case("trajectories-without-steps", lambda: ci.Trajectories(np.zeros((2, 0), int),
                                                                    np.zeros((2, 0), int)),
             ("states",), ValueError, r"needs at least one step"),
        Case("feature_counts-features-too-few-states", lambda: feature_counts(DEMOS, PHI[:1]),
             ("features",), ValueError, r"\(the states of features\)"),
        Case("discounted_pair_weights-empty", lambda: ci.bridge.discounted_pair_weights(
            ci.Trajectories(np.zeros((0, 2), int), np.zeros((0, 2), int)), S, A, 0.9),
             ("trajectories",), ValueError, r"^trajectories is empty"),
        Case("gail_discriminator-empty-samples", lambda: ci.bridge.gail_discriminator(
            MDP, DEMOS, ci.Trajectories(np.zeros((0, T), int), np.zeros((0, T), int))),
             ("samples",), ValueError, r"^samples is empty"),
        Case("gcl-samples-string", lambda: ci.bridge.gcl_discriminator(
            MDP, PHI, DEMOS, "x", UNIFORM), ("samples",), TypeError, r"^samples must be a"),
        Case("gcl-max_iter-string", lambda: ci.bridge.gcl_discriminator(
            MDP, PHI, DEMOS, DEMOS, UNIFORM, max_iter="x"), ("max_iter",), TypeError,
             r"^max_iter must be a positive int"),
        Case("trajectory_features-mdp-string", lambda: importance_sampling.trajectory_features(
            "x", PHI, DEMOS), ("mdp",), TypeError, r"^mdp must be a ctrlinf\.TabularMDP"),
        Case("enumerate_trajectories-string", lambda: ci.bridge.enumerate_trajectories("x"),
             ("mdp",), TypeError, r"^mdp must be a ctrlinf\.TabularMDP"),
        Case("expert_visitation-mdp-string", lambda: ci.irl.expert_visitation("x", DEMOS),
             ("mdp",), TypeError, r"^mdp must be"),
        Case("deep_objective-params-string", lambda: ci.irl.deep_objective(
            MDP, PHI, DEMOS, ci.irl.RewardNet(2, hidden=()), "x"), ("params",), TypeError,
             r"^params must be an array of real numbers"),
        Case("importance-sampling-theta-string", lambda: ci.bridge.irl_gradient_importance_sampled(
            MDP, PHI, ci.sample(MDP, UNIFORM, 3, seed=0), "x", UNIFORM, 5), ("theta",),
             TypeError, r"^theta must be an array"),
        Case("reward_from_soft_policies-rtol-string", lambda: ci.irl.reward_from_soft_policies(
            [MDP_INF], [UNIFORM], rtol="x"), ("rtol",), TypeError, r"^rtol must be in"),
        Case("reward_net-activation-array", lambda: ci.irl.RewardNet(
            2, activation=np.zeros(2)), ("activation",), TypeError, r"^activation must be one"),
        Case("reward_net-hidden-int", lambda: ci.irl.RewardNet(2, hidden=32), ("hidden",),
             TypeError, r"^hidden must be a sequence of positive ints \(layer widths\)"),
        Case("fit-l2-string", lambda: ci.irl.fit(MDP, PHI, DEMOS, l2="x", progress=False),
             ("l2",), TypeError, r"^l2 must be a finite number >= 0"),
        Case("fit-gtol-negative", lambda: ci.irl.fit(MDP, PHI, DEMOS, gtol=-1, progress=False),
             ("gtol",), ValueError, r"or None \(a fixed budget of max_iter iterations\)"),
        Case("mlp-input-width", lambda: ci.bridge.MLP((3, 2)).forward(np.zeros((4, 2))), ("x",),
             ValueError, r"^x has shape \(4, 2\), expected \(B, n_inputs\) = \(B, 3\)"),
        Case("adam-beta1", lambda: ci.bridge.Adam([np.zeros(2)], beta1=1.0), ("beta1",),
             ValueError, r"^beta1 must be in \[0, 1\)"),
        Case("sgd-int-params", lambda: ci.bridge.SGD([np.zeros(2, int)]), ("params[0]",),
             TypeError, r"must be a float ndarray"),
    ]


# -- cases run in a child: compiled code with out-of-bounds-prone input -------------------
def cases_child():
    pi_T = ci.solve(MDP).policy
    return [
        Case("sample-T+2-rows", lambda: ci.sample(MDP, np.full((T + 2, S, A), 0.5), 3),
             ("policy",), ValueError, r"^policy has shape \(6, 3, 2\)"),
        Case("sample-T-1-rows", lambda: ci.sample(MDP, pi_T[:-1], 3), ("policy",), ValueError,
             r"^policy has shape \(3, 3, 2\)"),
        Case("sample-length-beyond-the-policy", lambda: ci.sample(MDP, pi_T, 3, length=T + 3),
             ("policy",), ValueError, r"\(T, S, A\) = \(7, 3, 2\)"),
        Case("sample-float32-policy", lambda: ci.sample(MDP, _float32_policy(), 50, seed=0),
             check=lambda out: np.testing.assert_array_equal(
                 out.states, ci.sample(MDP, _float32_policy().astype(float), 50, seed=0).states)),
        Case("objective-extreme-padding", lambda: ci.irl.objective(MDP, PHI, EXTREME, [0.3, 0.1]),
             check=lambda out: [close(expected)(got) for got, expected in zip(
                 out, ci.irl.objective(MDP, PHI, padded(fill=(0, 1)), [0.3, 0.1]))]),
        Case("log_likelihood-extreme-padding",
             lambda: ci.irl.log_likelihood(MDP_SOFT, PHI[..., 1], EXTREME),
             check=close(ref_log_likelihood(MDP_SOFT, PHI[..., 1], EXTREME), rtol=1e-10)),
        Case("gail-extreme-padding", lambda: ci.bridge.gail(
            MDP_INF, padded(fill=(np.iinfo(np.int64).min, 0), mdp=MDP_INF), n_iterations=2,
            n_rollouts=5, seed=0).expert_occupancy,
             check=close(ci.bridge.gail(MDP_INF, padded(fill=(0, 1), mdp=MDP_INF),
                                        n_iterations=2, n_rollouts=5, seed=0).expert_occupancy)),
        Case("plot-extreme-padding", _drawn_points_extreme,
             check=lambda out: np.testing.assert_array_equal(out, LENGTHS)),
    ]


def _float32_policy():
    return np.random.default_rng(9).dirichlet(np.ones(A), size=(T, S)).astype(np.float32)


def _drawn_points_extreme():
    import matplotlib.pyplot as plt
    ax = ci.plot.trajectories(MDP, EXTREME)
    counts = [int(np.isfinite(line.get_xydata()[:, 1]).sum()) for line in ax.lines[::2]]
    plt.close(ax.figure)
    return np.array(counts)


IN_PROCESS = cases_padding() + cases_exact() + cases_overflow() + cases_policies() + \
    cases_arguments()


@pytest.mark.parametrize("case", IN_PROCESS, ids=[case.id for case in IN_PROCESS])
def test_case(case):
    verify(case)


def run_child_cases():
    """The child's side of :func:`test_child_cases`."""
    from test_fuzz import run_cases
    run_cases([(case.id, lambda case=case: verify(case), (), None) for case in cases_child()])


def test_child_cases():
    assert_child_passes("import test_fuzz_irl; test_fuzz_irl.run_child_cases()")


def test_the_suite_has_at_least_fifty_cases():
    assert len(IN_PROCESS) + len(cases_child()) >= 50
    assert len({case.id for case in IN_PROCESS + cases_child()}) == len(IN_PROCESS) + len(
        cases_child())
