"""IRL on MDPs whose reward forbids actions: r[s, a] = -inf.

The learner's reward φθ (or a network) knows nothing of the mask; IRL keeps it:
the reward is φθ where mdp.r is finite and -inf where it is -inf, forbidden pairs
add nothing to the value or the gradient, and demos that take a forbidden action
are refused.
"""
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from enumeration import posterior
from enumeration import random_mdp_arrays
from test_irl_objective import finite_difference
from test_irl_objective import relative_error
from test_irl_objective import serial_numba  # noqa: F401  (autouse fixture)

S, A, K = 4, 3, 3
#: (state, action) pairs the MDP forbids; every state keeps at least one action.
FORBIDDEN = [(0, 1), (2, 0), (2, 2), (3, 1)]


def masked_world(seed=0, horizon=3, gamma=1.0, deterministic=False):
    """A random MDP whose true reward is -inf on FORBIDDEN, and the mask as a bool array."""
    rng = np.random.default_rng(seed)
    P, r, p0 = random_mdp_arrays(rng, S, A, deterministic=deterministic)
    mask = np.zeros((S, A), dtype=bool)
    mask[tuple(np.array(FORBIDDEN).T)] = True
    r[mask] = -np.inf
    return ci.TabularMDP(P, r, p0, horizon=horizon, gamma=gamma), mask


def features(kind, seed=0):
    rng = np.random.default_rng(seed + 100)
    return rng.normal(size=(S, K)) if kind == "state" else rng.normal(size=(S, A, K))


def expert_demos(mdp, n=40, seed=0, length=None):
    return ci.sample(mdp, ci.solve(mdp).policy, n=n, seed=seed,
                     length=length if mdp.horizon is None else None)


CASES = [("soft", 3, 1.0), ("soft", 3, 0.8), ("soft", None, 0.7), ("exact", 3, 1.0)]


@pytest.mark.parametrize("mode, horizon, gamma", CASES)
@pytest.mark.parametrize("kind", ["state", "state_action"])
def test_gradient_on_a_masked_mdp_matches_finite_differences(mode, horizon, gamma, kind):
    mdp, mask = masked_world(1, horizon=horizon, gamma=gamma)
    demos = expert_demos(mdp, seed=1, length=8)
    phi = features(kind)
    theta = np.random.default_rng(1).normal(size=K)
    value, grad = ci.irl.objective(mdp, phi, demos, theta, mode=mode)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    numeric = finite_difference(lambda x: ci.irl.objective(mdp, phi, demos, x, mode=mode)[0],
                                theta)
    assert relative_error(grad, numeric) < 1e-6
    # The value is the objective of the masked reward: φθ off the mask, -inf on it.
    masked = np.where(mask, -np.inf, np.broadcast_to((phi @ theta).reshape(S, -1), (S, A)))
    assert_allclose(ci.irl.reward_objective(mdp, masked, demos, mode=mode)[0], value,
                    rtol=1e-12)


def test_exact_objective_on_a_masked_mdp_is_likelihood_by_enumeration():
    # Forbidden pairs have weight exp(-inf) = 0 in p(τ) exp Σ r: the sum runs over
    # the allowed trajectories only.
    mdp, mask = masked_world(2)
    demos = expert_demos(mdp, seed=2)
    phi = features("state_action", 2)
    theta = np.random.default_rng(2).normal(size=K)
    r = np.where(mask, -np.inf, phi @ theta)
    log_Z, _, state_action, _ = posterior(mdp.transition_tensor(), r, mdp.p0, mdp.horizon)
    mean_return = r[demos.states, demos.actions].sum(axis=1).mean()
    value, grad = ci.irl.objective(mdp, phi, demos, theta, mode="exact")
    assert_allclose(value, mean_return - log_Z, rtol=1e-12)
    t = np.arange(demos.length)
    mu_E = phi[demos.states[:, t], demos.actions[:, t]].sum(axis=1).mean(axis=0)
    assert_allclose(grad, mu_E - np.einsum("tsa,sak->k", state_action, phi), atol=1e-12)


@pytest.mark.parametrize("mode, horizon, gamma", CASES)
def test_a_feature_that_lives_on_forbidden_pairs_only_is_invisible(mode, horizon, gamma):
    # Its weight scales a reward that is -inf anyway: value flat, gradient exactly 0.
    mdp, mask = masked_world(3, horizon=horizon, gamma=gamma)
    demos = expert_demos(mdp, seed=3, length=8)
    phi = np.concatenate([features("state_action", 3), mask[:, :, None] * 1.0], axis=2)
    theta = np.append(np.random.default_rng(3).normal(size=K), 0.5)
    value, grad = ci.irl.objective(mdp, phi, demos, theta, mode=mode)
    assert grad[K] == 0.0
    moved = theta + 7.0 * np.eye(K + 1)[K]
    assert ci.irl.objective(mdp, phi, demos, moved, mode=mode)[0] == value


@pytest.mark.parametrize("mode, horizon, gamma", CASES)
def test_fit_on_a_masked_mdp_never_takes_a_forbidden_action(mode, horizon, gamma):
    mdp, mask = masked_world(4, horizon=horizon, gamma=gamma,
                             deterministic=mode == "exact")
    demos = expert_demos(mdp, n=200, seed=4, length=10)
    fit_mdp = mdp if mode == "exact" else mdp.replace(p0=ci.irl.start_distribution(demos, S))
    phi = np.eye(S * A).reshape(S, A, S * A)
    res = ci.irl.fit(fit_mdp, phi, demos, mode=mode, l2=0.01, progress=False)
    assert res.converged and np.all(np.isfinite(res.theta))
    assert np.all(res.reward[mask] == -np.inf)
    assert_allclose(res.reward[~mask], (phi @ res.theta)[~mask])
    assert np.all(res.solution.policy[..., mask] == 0.0)
    assert np.all(res.solution.policy[..., ~mask] > 0.0)
    # The fitted reward keeps the demos' actions: every demo step has probability > 0,
    # and the soft policy of the reward as returned forbids the same actions.
    assert np.all(np.isfinite(ci.irl.log_likelihood(mdp, res.reward, demos)))
    assert np.all(ci.solve(fit_mdp.replace(r=res.reward), mode=mode).policy[..., mask] == 0)


def test_fit_deep_on_a_masked_mdp_keeps_the_mask():
    mdp, mask = masked_world(5)
    demos = expert_demos(mdp, seed=5)
    res = ci.irl.fit_deep(mdp, features("state_action", 5), demos, hidden=(4,), max_iter=20, gtol=None,
                          progress=False)
    assert res.history["objective"][-1] > res.history["objective"][0]
    assert np.all(res.reward[mask] == -np.inf) and np.all(np.isfinite(res.reward[~mask]))
    assert np.all(res.solution.policy[..., mask] == 0.0)
    net = ci.irl.RewardNet(K, hidden=(3,))
    params = net.init_params(seed=0)
    _, grad = ci.irl.deep_objective(mdp, features("state_action", 5), demos, net, params)
    numeric = finite_difference(
        lambda p: ci.irl.deep_objective(mdp, features("state_action", 5), demos, net, p)[0],
        params)
    assert relative_error(grad, numeric) < 1e-6


@pytest.mark.parametrize("horizon, gamma", [(3, 1.0), (None, 0.8)])
def test_metrics_on_a_masked_mdp(horizon, gamma):
    mdp, mask = masked_world(6, horizon=horizon, gamma=gamma)
    learned = np.random.default_rng(6).normal(size=(S, A))     # finite everywhere
    assert ci.irl.expected_value_difference(mdp, mdp.r) == 0.0
    evd = ci.irl.expected_value_difference(mdp, learned)
    assert np.isfinite(evd) and evd >= 0
    # Masked learned reward: the same EVD whatever the learned reward says on the mask.
    other = np.where(mask, 1e6, learned)
    assert ci.irl.expected_value_difference(mdp, other) == evd
    demos = expert_demos(mdp, n=5, seed=6, length=4)
    policy = ci.solve(mdp.replace(r=np.where(mask, -np.inf, learned))).policy
    policy = np.broadcast_to(policy, (demos.length, S, A))
    t = np.arange(demos.length)
    expected = np.log(policy[t, demos.states, demos.actions]).sum(axis=1)
    assert_allclose(ci.irl.log_likelihood(mdp, learned, demos), expected, rtol=1e-12)


def test_demos_that_take_a_forbidden_action_are_refused():
    mdp, _ = masked_world(7, deterministic=True)
    demos = expert_demos(mdp, n=3, seed=7)
    states, actions = demos.states.copy(), demos.actions.copy()
    states[2, 1], actions[2, 1] = 2, 2          # forbidden; reachable or not, refused first
    bad = ci.Trajectories(states, actions)
    message = re.escape("demos[2] takes action 2 in state 2 at t=1, which mdp.r forbids "
                        "(r = -inf there)")
    phi = features("state")
    with pytest.raises(ValueError, match=message):
        ci.irl.objective(mdp, phi, bad, np.zeros(K))
    with pytest.raises(ValueError, match=message):
        ci.irl.fit(mdp, phi, bad, progress=False)
    with pytest.raises(ValueError, match=message):
        ci.irl.fit_deep(mdp, phi, bad, progress=False)
    with pytest.raises(ValueError, match=message):
        ci.irl.log_likelihood(mdp, np.zeros(S), bad)


def test_a_scored_reward_may_not_forbid_what_the_mdp_allows():
    mdp, _ = masked_world(8)
    demos = expert_demos(mdp, n=3, seed=8)
    reward = np.zeros((S, A))
    reward[1, 0] = -np.inf
    with pytest.raises(ValueError, match=re.escape(
            "reward[1, 0] is -inf, expected a finite number (forbid an action with "
            "mdp.r[s, a] = -inf)")):
        ci.irl.reward_objective(mdp, reward, demos)
