"""Fitting linear rewards: optimality conditions, known-answer recovery, the optimisers."""
import dataclasses
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf._progress import WORK_FOR_A_BAR
from ctrlinf.irl.fitting import _fit_work, warn_unconverged
from ctrlinf.trajectories import feature_counts
from enumeration import random_mdp_arrays
from test_irl_objective import serial_numba  # noqa: F401  (autouse fixture)

S, A, K, T = 5, 3, 4, 4


def problem(seed=0, deterministic=False, n_demos=200, gamma=1.0):
    """A random MDP with state-action features and demos from a soft-optimal expert."""
    rng = np.random.default_rng(seed)
    P, _, p0 = random_mdp_arrays(rng, S, A, deterministic=deterministic)
    phi = rng.normal(size=(S, A, K))
    theta_true = np.array([1.0, -1.0, 0.5, 2.0])
    mdp = ci.TabularMDP(P, phi @ theta_true, p0, horizon=T, gamma=gamma)
    demos = ci.sample(mdp, ci.solve(mdp).policy, n=n_demos, seed=seed)
    return mdp, phi, demos, theta_true


def model_feature_expectation(mdp, phi, theta, mode):
    """μ_θ computed here from ci.marginals, independently of ci.irl."""
    mdp_r = mdp.replace(r=phi @ theta)
    _, state_action = ci.marginals(mdp_r, ci.solve(mdp_r, mode=mode))
    return np.einsum("t,tsa,sak->k", mdp.gamma ** np.arange(T), state_action, phi)


@pytest.mark.parametrize("mode", ["soft", "exact"])
def test_gradient_vanishes_and_features_match_at_the_optimum(mode):
    mdp, phi, demos, _ = problem()
    # 1e-7 is about the floor: below it L-BFGS-B cannot see the objective change in
    # double precision (it stops on "relative reduction of f").
    res = ci.irl.fit(mdp, phi, demos, mode=mode, gtol=1e-7, progress=False)
    assert res.converged
    _, grad = ci.irl.objective(mdp, phi, demos, res.theta, mode=mode)
    assert np.max(np.abs(grad)) <= 1e-7
    assert_allclose(model_feature_expectation(mdp, phi, res.theta, mode),
                    feature_counts(demos, phi), atol=1e-7)
    assert_allclose(res.reward, phi @ res.theta)
    assert_allclose(res.solution.policy, ci.solve(mdp.replace(r=res.reward), mode=mode).policy)


def test_l2_optimum_balances_feature_gap_against_theta():
    mdp, phi, demos, _ = problem(gamma=0.9)
    l2 = 0.3
    res = ci.irl.fit(mdp, phi, demos, l2=l2, gtol=1e-7, progress=False)
    gap = feature_counts(demos, phi, 0.9) - model_feature_expectation(mdp, phi, res.theta, "soft")
    assert_allclose(gap, l2 * res.theta, atol=1e-7)


@pytest.mark.parametrize("optimizer, learning_rate", [("adam", 0.05), ("gradient", 0.1)])
def test_first_order_optimizers_reach_the_lbfgs_optimum(optimizer, learning_rate):
    mdp, phi, demos, _ = problem(n_demos=100)
    best = ci.irl.fit(mdp, phi, demos, l2=0.1, gtol=1e-7, progress=False)
    res = ci.irl.fit(mdp, phi, demos, l2=0.1, optimizer=optimizer, learning_rate=learning_rate,
                     gtol=1e-5, max_iter=3000, progress=False)
    assert res.converged
    assert_allclose(res.theta, best.theta, atol=1e-3)
    assert len(res.history["objective"]) == res.n_iter + 1
    assert res.history["objective"][-1] > res.history["objective"][0]


def test_history_has_objective_gradient_norm_and_time_per_iteration():
    mdp, phi, demos, _ = problem(n_demos=50)
    res = ci.irl.fit(mdp, phi, demos, l2=0.1, progress=False)
    history = res.history
    assert set(history) == {"objective", "grad_norm", "evaluations", "time"}
    assert len(history["objective"]) == len(history["grad_norm"]) == len(history["time"]) > 2
    assert all(t >= 0 for t in history["time"])
    assert np.all(np.diff(history["objective"]) >= -1e-12)     # L-BFGS ascends monotonically
    assert history["grad_norm"][-1] <= 1e-6
    assert "converged=True" in repr(res)


def test_fit_is_reproducible_and_the_start_does_not_change_the_optimum():
    mdp, phi, demos, _ = problem(n_demos=50)
    a = ci.irl.fit(mdp, phi, demos, l2=0.1, seed=1, progress=False)
    b = ci.irl.fit(mdp, phi, demos, l2=0.1, seed=1, progress=False)
    c = ci.irl.fit(mdp, phi, demos, l2=0.1, progress=False)
    assert np.array_equal(a.theta, b.theta)
    assert_allclose(a.theta, c.theta, atol=1e-5)      # concave: one optimum


def test_progress_bar_writes_to_stderr_only_when_asked(capsys):
    mdp, phi, demos, _ = problem(n_demos=20)
    ci.irl.fit(mdp, phi, demos, l2=0.1, progress=False)
    assert capsys.readouterr().err == ""
    ci.irl.fit(mdp, phi, demos, l2=0.1, progress=True)
    assert "MCE IRL (soft)" in capsys.readouterr().err
    # None is automatic: a fit this small shows no bar; a long one (work reaching
    # WORK_FOR_A_BAR) would.
    res = ci.irl.fit(mdp, phi, demos, l2=0.1)
    assert capsys.readouterr().err == ""
    assert _fit_work(mdp, 1000) < WORK_FOR_A_BAR["transitions"] <= _fit_work(
        mdp, int(WORK_FOR_A_BAR["transitions"]))


def test_results_are_frozen_dataclasses():
    mdp, phi, demos, _ = problem(n_demos=20)
    res = ci.irl.fit(mdp, phi, demos, l2=0.1, progress=False)
    assert dataclasses.is_dataclass(res)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.theta = np.zeros(K)


def expected_kl(mdp, policy_true, policy_fit):
    """Σ_t E_{s ~ d_t} KL(π_true,t(·|s) ‖ π_fit,t(·|s)) under the true policy's occupancy."""
    sol = ci.solve(mdp)
    states, _ = ci.marginals(mdp, sol)
    kl = np.sum(policy_true * (np.log(policy_true) - np.log(policy_fit)), axis=2)
    return float(np.sum(states * kl))


@pytest.mark.parametrize("mode, deterministic", [("soft", False), ("exact", True)])
def test_known_linear_reward_is_recovered_up_to_its_policy(mode, deterministic):
    # Demos from the model itself: soft-optimal rollouts (soft), or draws from the
    # posterior p(τ | O) (exact: with deterministic dynamics that is the policy rolled
    # out from the posterior start distribution p(s_0 | O)).
    mdp, phi, _, _ = problem(seed=2, deterministic=deterministic)
    sol = ci.solve(mdp, mode=mode)
    start = ci.marginals(mdp, sol)[0][0]
    kls = []
    for n in (300, 10000):
        demos = ci.sample(mdp.replace(p0=start), sol.policy, n=n, seed=3)
        fit_mdp = mdp.replace(p0=ci.irl.start_distribution(demos, S)) if mode == "soft" else mdp
        res = ci.irl.fit(fit_mdp, phi, demos, mode=mode, gtol=1e-7, progress=False)
        kls.append(expected_kl(mdp, sol.policy, ci.solve(mdp.replace(r=res.reward),
                                                          mode=mode).policy))
    # Statistical error of an M-estimator: KL ≈ K / (2 n) per decision, here T K / 2n.
    assert kls[1] < kls[0]
    assert kls[1] < 5 * T * K / (2 * 10000)


def test_reward_for_evaluates_the_fitted_theta_on_new_features():
    mdp, phi, demos, _ = problem(n_demos=20)
    res = ci.irl.fit(mdp, phi, demos, l2=0.1, progress=False)
    other = np.random.default_rng(0).normal(size=(7, A, K))
    assert_allclose(res.reward_for(other), other @ res.theta)
    state_phi = np.ones((S, K))
    state_res = ci.irl.fit(mdp, state_phi, demos, l2=0.1, progress=False)
    assert state_res.reward.shape == (S, A)
    assert state_res.reward_for(state_phi[:2]).shape == (2,)


def test_padded_variable_length_episodes_fit_like_equal_length_demos():
    mdp, phi, demos, _ = problem(n_demos=30)
    episodes = [(s, a) for s, a in zip(demos.states, demos.actions)]
    padded = ci.irl.pad_episodes(episodes, length=T, pad_state=0, pad_action=0)
    assert np.array_equal(padded.states, demos.states)
    short = ci.irl.pad_episodes([(s[:2], a[:2]) for s, a in episodes], length=T,
                                pad_state="last", pad_action=1)
    assert np.array_equal(short.states[:, 2:], np.repeat(demos.states[:, 1:2], 2, axis=1))
    assert np.all(short.actions[:, 2:] == 1)


def test_fit_warns_about_what_stopped_it():
    """A spent budget is named as such; a fixed budget (gtol=None) is not warned about."""
    mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=np.zeros((1, 2)), p0=[1.0], horizon=1)
    phi = np.array([[[0.0], [1.0]]])
    demos = ci.Trajectories([[0], [0]], [[1], [1]])
    with pytest.warns(RuntimeWarning, match=r"spent its budget of max_iter=20 iterations"):
        res = ci.irl.fit(mdp, phi, demos, progress=False, optimizer="gradient", max_iter=20)
    assert not res.converged and np.abs(res.theta).max() < 1     # not running away
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ci.irl.fit(mdp, phi, demos, progress=False, optimizer="adam", l2=0.01,
                         max_iter=20, gtol=None)
    assert res.converged and res.n_iter == 20 and np.abs(res.theta).max() < 1
    # θ running away is named, with the advice that fits l2.
    runaway = SimpleNamespace(converged=False, theta=np.array([500.0]), n_iter=7,
                              history={"grad_norm": [1e-3]})
    with pytest.warns(RuntimeWarning, match=r"θ is running away.*pass l2 > 0"):
        warn_unconverged("fit", runaway, 1000, 0.0, 1e-6)
    with pytest.warns(RuntimeWarning, match=r"θ is running away.*l2=0.1 did not hold it"):
        warn_unconverged("fit", runaway, 1000, 0.1, 1e-6)


def test_history_counts_objective_evaluations():
    mdp, phi, demos, _ = problem(seed=3, n_demos=50)
    res = ci.irl.fit(mdp, phi, demos, l2=0.1, progress=False)
    evaluations = res.history["evaluations"]
    assert len(evaluations) == res.n_iter + 1 and evaluations[0] == 1
    assert np.all(np.diff(evaluations) >= 1) and res.n_evaluations == evaluations[-1]
    adam = ci.irl.fit(mdp, phi, demos, l2=0.1, optimizer="adam", max_iter=5, gtol=None,
                      progress=False)
    assert adam.history["evaluations"] == [1, 2, 3, 4, 5, 6]     # one per step


def test_fit_takes_an_expert_visitation_array():
    mdp, phi, demos, _ = problem(seed=4, n_demos=40)
    D_E = ci.irl.expert_visitation(mdp, demos)
    theta = np.linspace(-0.5, 0.5, K)
    (value_a, grad_a), (value_b, grad_b) = (ci.irl.objective(mdp, phi, D_E, theta),
                                            ci.irl.objective(mdp, phi, demos, theta))
    assert value_a == value_b and np.array_equal(grad_a, grad_b)
    a = ci.irl.fit(mdp, phi, D_E, l2=0.1, progress=False)
    b = ci.irl.fit(mdp, phi, demos, l2=0.1, progress=False)
    assert_allclose(a.theta, b.theta, atol=1e-12)
    with pytest.raises(ValueError, match="demos sums to"):
        ci.irl.objective(mdp, phi, 2 * D_E, theta)
    with pytest.raises(ValueError, match=r"demos\[0, 0\] is -1.0"):
        ci.irl.objective(mdp, phi, np.where(np.arange(D_E.size).reshape(D_E.shape) == 0,
                                                 -1.0, D_E), theta)
    with pytest.raises(ValueError, match="demos has shape"):
        ci.irl.objective(mdp, phi, D_E[:, :1], theta)
    res = ci.irl.fit(mdp, phi, demos, progress=False, l2=0.1)
    assert res.converged
