"""Variable-length demonstrations: truncated episodes (missing steps marginalised) and
episodes that terminate into an absorbing state (padding as data).

Truncated reading, exact mode: the objective is the mean log-probability of each
observed prefix under p(τ | O), summed over every continuation by enumeration. Soft
mode: with deterministic dynamics and p0 the demos' starts it is the mean causal
log-likelihood of the prefixes. Gradients against central finite differences.
"""
import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf.trajectories import feature_counts
from enumeration import all_trajectories
from enumeration import dynamics_probability
from enumeration import random_mdp_arrays

T = 4


def world(seed, deterministic=False, horizon=T, gamma=1.0):
    rng = np.random.default_rng(seed)
    P, r, p0 = random_mdp_arrays(rng, 3, 2, deterministic=deterministic)
    return ci.TabularMDP(P, r, p0, horizon=horizon, gamma=gamma), rng


def demos_of(mdp, lengths, seed):
    sol = ci.solve(mdp, mode="soft")
    full = ci.sample(mdp, sol.policy, n=len(lengths), seed=seed)
    # Garbage in the padding: nothing may read it.
    states = np.where(np.arange(full.length) < np.array(lengths)[:, None], full.states, 99)
    return ci.Trajectories(states, full.actions, lengths=lengths)


def tabular(mdp):
    return np.eye(mdp.n_states * mdp.n_actions).reshape(mdp.n_states, mdp.n_actions, -1)


def prefix_log_likelihood(mdp, reward, demos):
    """Mean over demos of log p(prefix | O) − log p_dynamics(prefix), by enumeration."""
    P, p0 = mdp.transition_tensor(), mdp.p0
    S, A = reward.shape
    Z = 0.0
    paths = list(all_trajectories(S, A, mdp.horizon))
    weights = np.array([dynamics_probability(P, p0, s, a) * np.exp(reward[s, a].sum())
                        for s, a in paths])
    Z = weights.sum()
    total = 0.0
    for i in range(demos.n_trajectories):
        L = demos.lengths[i]
        s_i, a_i = demos.states[i, :L], demos.actions[i, :L]
        match = [k for k, (s, a) in enumerate(paths)
                 if np.array_equal(s[:L], s_i) and np.array_equal(a[:L], a_i)]
        total += np.log(weights[match].sum() / Z) - np.log(dynamics_probability(P, p0, s_i, a_i))
    return total / demos.n_trajectories


def numeric_gradient(f, x, eps=1e-6):
    return np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(len(x))])


@pytest.mark.parametrize("seed", range(3))
def test_exact_truncated_objective_is_the_prefix_likelihood_by_enumeration(seed):
    mdp, rng = world(seed)
    demos = demos_of(mdp, [1, 2, 4, 3, 2], seed)
    reward = rng.normal(size=(3, 2))
    value, grad = ci.irl.reward_objective(mdp, reward, demos, mode="exact")
    assert_allclose(value, prefix_log_likelihood(mdp, reward, demos), rtol=1e-10)
    numeric = numeric_gradient(
        lambda x: prefix_log_likelihood(mdp, x.reshape(3, 2), demos), reward.ravel())
    assert_allclose(grad.ravel(), numeric, atol=1e-7)


@pytest.mark.parametrize("mode", ["soft", "exact"])
@pytest.mark.parametrize("seed", range(3))
def test_truncated_gradient_matches_finite_differences(mode, seed):
    mdp, rng = world(seed, gamma=0.9 if mode == "soft" else 1.0)
    demos = demos_of(mdp, [1, 3, 2, 4, 2, 1], seed)
    phi = tabular(mdp)
    theta = rng.normal(size=phi.shape[-1])
    _, grad = ci.irl.objective(mdp, phi, demos, theta, mode=mode)
    numeric = numeric_gradient(lambda x: ci.irl.objective(mdp, phi, demos, x, mode=mode)[0],
                               theta)
    assert_allclose(grad, numeric, atol=1e-7)
    # Same mass on both sides: Σ (D_E + continuation) = Σ model visitation = Σ_t γ^t.
    assert abs(grad.sum()) < 1e-10


@pytest.mark.parametrize("seed", range(3))
def test_soft_truncated_objective_is_the_causal_likelihood_on_deterministic_dynamics(seed):
    mdp, rng = world(seed, deterministic=True, gamma=0.9)
    demos = demos_of(mdp, [2, 1, 4, 3], seed)
    mdp = mdp.replace(p0=ci.irl.start_distribution(demos, mdp.n_states))
    reward = rng.normal(size=(3, 2))
    value, _ = ci.irl.reward_objective(mdp, reward, demos, mode="soft")
    sol = ci.solve(mdp.replace(r=reward), mode="soft")
    by_hand = np.mean([sum(mdp.gamma ** t * (sol.Q[t, demos.states[i, t], demos.actions[i, t]]
                                             - sol.V[t, demos.states[i, t]])
                           for t in range(demos.lengths[i]))
                       for i in range(demos.n_trajectories)])
    assert_allclose(value, by_hand, rtol=1e-10)


def test_terminated_reading_pads_with_the_absorbing_state():
    """Two states: 0 (plays), 1 absorbing and featureless. Terminated episodes pad with
    state 1; the same episodes read as truncated leave the rest unobserved."""
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = 1.0          # stay and play
    P[0, 1, 1] = 1.0          # quit into the absorbing state
    P[1, :, 1] = 1.0
    r = np.array([[0.0, 0.0], [0.0, -np.inf]])   # in the absorbing state one action only
    mdp = ci.TabularMDP(P, r, [1.0, 0.0], horizon=T)
    episodes = [([0, 1], [1, 0]), ([0, 0, 1], [0, 1, 0]), ([0], [1])]
    terminated = ci.irl.pad_episodes(episodes, T, pad_state=1, pad_action=0)
    truncated = ci.Trajectories(terminated.states, terminated.actions, lengths=[2, 3, 1])
    phi = np.array([[[1.0], [0.0]], [[0.0], [0.0]]])   # "kept playing"
    theta = np.array([0.3])
    for demos in (terminated, truncated):
        value, grad = ci.irl.objective(mdp, phi, demos, theta, mode="exact")
        reward = phi @ theta
        assert_allclose(value, prefix_log_likelihood(mdp, np.where(np.isinf(r), -np.inf, reward),
                                                     demos), rtol=1e-10)
        numeric = numeric_gradient(lambda x: ci.irl.objective(mdp, phi, demos, x, "exact")[0],
                                   theta)
        assert_allclose(grad, numeric, atol=1e-7)
    # The quit is observed in both, and after it the absorbing state has one action
    # and no features: the padded steps carry no information, so the readings agree.
    for a, b in zip(ci.irl.objective(mdp, phi, terminated, theta, "exact"),
                    ci.irl.objective(mdp, phi, truncated, theta, "exact")):
        assert_allclose(a, b, rtol=1e-12)
    # A log cut while the expert still played cannot be read as terminated: padding
    # it with the absorbing state is a step of probability zero.
    cut = ci.irl.pad_episodes([([0, 0], [0, 0])], T, pad_state=1, pad_action=0)
    with pytest.raises(ValueError, match="moves from state 0 to 1 by action 0 at t=1"):
        ci.irl.objective(mdp, phi, cut, theta, "exact")
    cut_short = ci.Trajectories(cut.states, cut.actions, lengths=[2])
    assert np.isfinite(ci.irl.objective(mdp, phi, cut_short, theta, "exact")[0])


def test_full_lengths_change_nothing_and_padding_is_never_read():
    mdp, rng = world(0)
    full = ci.sample(mdp, ci.solve(mdp, mode="soft").policy, n=6, seed=0)
    same = ci.Trajectories(full.states, full.actions, lengths=[T] * 6)
    phi, theta = tabular(mdp), rng.normal(size=6)
    for mode in ("soft", "exact"):
        assert_allclose(ci.irl.objective(mdp, phi, full, theta, mode)[0],
                        ci.irl.objective(mdp, phi, same, theta, mode)[0], rtol=0, atol=0)
    short = demos_of(mdp, [2, 1, 3], 1)
    other = ci.Trajectories(np.where(short.mask, short.states, 0),
                            np.where(short.mask, short.actions, 1), lengths=short.lengths)
    for mode in ("soft", "exact"):
        for a, b in zip(ci.irl.objective(mdp, phi, short, theta, mode),
                        ci.irl.objective(mdp, phi, other, theta, mode)):
            assert_allclose(a, b, rtol=0, atol=0)
    assert_allclose(feature_counts(short, phi[:, 0]),
                    feature_counts(other, phi[:, 0]), rtol=0, atol=0)
    # Uniform reward: each observed step has log π = −log 2, padding adds nothing.
    assert_allclose(ci.irl.log_likelihood(mdp, np.zeros((3, 2)), short),
                    -np.log(2) * short.lengths, rtol=1e-12)
    assert_allclose(ci.irl.expert_visitation(mdp, short).sum(), short.lengths.mean())


def test_infinite_horizon_variable_lengths_is_the_discounted_log_likelihood():
    mdp, rng = world(2, horizon=None, gamma=0.8)
    demos = demos_of(mdp.replace(horizon=5), [1, 5, 3, 2], 0)
    reward = rng.normal(size=(3, 2))
    value, _ = ci.irl.reward_objective(mdp, reward, demos, mode="soft")
    sol = ci.solve(mdp.replace(r=reward), mode="soft", tol=1e-13)
    log_pi = sol.Q - sol.V[:, None]
    by_hand = np.mean([sum(0.8 ** t * log_pi[demos.states[i, t], demos.actions[i, t]]
                           for t in range(demos.lengths[i])) for i in range(len(demos))])
    assert_allclose(value, by_hand, rtol=1e-9)


def test_fit_and_fit_deep_accept_truncated_demos():
    mdp, _ = world(3, deterministic=True)
    demos = demos_of(mdp, [1, 2, 3, 4] * 3, 3)
    res = ci.irl.fit(mdp, tabular(mdp), demos, mode="soft", l2=0.01, progress=False)
    _, grad = ci.irl.objective(mdp, tabular(mdp), demos, res.theta, mode="soft")
    assert_allclose(grad, 0.01 * res.theta, atol=1e-5)      # the penalised optimum
    deep = ci.irl.fit_deep(mdp, tabular(mdp), demos, hidden=(4,), max_iter=5, gtol=None,
                           progress=False)
    assert np.all(np.isfinite(deep.reward))


@pytest.mark.parametrize("lengths, message", [
    ([1, 2], r"lengths has shape \(2,\), expected \(N,\) = \(3,\)"),
    ([1, 0, 2], r"lengths\[1\] is 0, expected a length in \[1, 4\]"),
    ([1, 5, 2], r"lengths\[1\] is 5, expected a length in \[1, 4\]"),
])
def test_bad_lengths_are_value_errors(lengths, message):
    with pytest.raises(ValueError, match=message):
        ci.Trajectories(np.zeros((3, 4), int), np.zeros((3, 4), int), lengths=lengths)


def test_lengths_must_be_ints():
    with pytest.raises(TypeError, match="lengths must be an integer array"):
        ci.Trajectories(np.zeros((1, 2), int), np.zeros((1, 2), int), lengths=[1.5])


def test_checks_read_only_the_observed_steps():
    mdp, _ = world(0)
    bad = ci.Trajectories([[0, 7, 0, 0]], [[0, 0, 0, 0]], lengths=[2])
    with pytest.raises(ValueError, match=r"states\[0, 1\] is 7"):
        ci.irl.objective(mdp, tabular(mdp), bad, np.zeros(6))
    fine = ci.Trajectories([[0, 1, 7, 7]], [[0, 0, 7, 7]], lengths=[2])
    fine.check_against(mdp)                      # padding out of range is not checked
    selected = demos_of(mdp, [1, 2, 3], 0)[[0, 2]]
    assert selected.lengths.tolist() == [1, 3]
    assert "lengths 1..3" in repr(selected)
