"""Sample-based MaxEnt IRL and the GAN view against exact enumeration of a tiny MDP.

Budget: well under 5 s in all (sampling is the numba kernel of ``ci.sample``).
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf.bridge import (enumerate_trajectories, exact_gail_optimum, exact_maxent_gradient,
                            gail_discriminator, gcl_discriminator,
                            irl_gradient_importance_sampled, optimal_discriminator)
from ctrlinf.bridge.importance_sampling import trajectory_features

THETA_TRUE = np.array([1.0, -0.5])
THETA = np.array([0.3, 0.2])


@pytest.fixture(scope="module")
def world():
    """3 states, 2 actions, T = 3, state-action features (K = 2), MaxEnt demos."""
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=3)
    features = np.random.default_rng(0).normal(size=(3, 2, 2))
    found = enumerate_trajectories(mdp)
    log_p = found.log_maxent(features @ THETA_TRUE)
    return mdp, features, found, log_p


def maxent_demos(found, log_p, n, seed):
    """Exact draws from p(τ) exp(R(τ))/Z (the expert MaxEnt IRL assumes)."""
    index = np.random.default_rng(seed).choice(log_p.size, size=n, p=np.exp(log_p))
    traj = found.trajectories
    return ci.Trajectories(traj.states[index], traj.actions[index])


def test_enumeration_is_a_complete_distribution(world):
    mdp, features, found, log_p = world
    assert found.trajectories.n_trajectories == 6 ** 3   # dense rows: every path possible
    policy = np.random.default_rng(1).dirichlet(np.ones(2), size=(3, 3))
    assert_allclose(np.exp(found.log_probability(policy)).sum(), 1.0, rtol=1e-12)
    assert_allclose(np.exp(log_p).sum(), 1.0, rtol=1e-12)
    # The MaxEnt distribution's marginals are the exact-mode posterior marginals.
    reward_mdp = mdp.replace(r=features @ THETA_TRUE)
    marginal = ci.marginals(reward_mdp, ci.solve(reward_mdp, mode="exact"))[1]
    traj = found.trajectories
    for t in range(3):
        counts = np.zeros((3, 2))
        np.add.at(counts, (traj.states[:, t], traj.actions[:, t]), np.exp(log_p))
        assert_allclose(counts, marginal[t], atol=1e-12)


def test_enumeration_skips_impossible_paths():
    mdp = ci.envs.random_mdp(4, 2, branching=1, seed=0, horizon=3)   # deterministic
    found = enumerate_trajectories(mdp)
    assert found.trajectories.n_trajectories == np.count_nonzero(mdp.p0) * 2 ** 3
    assert np.all(np.isfinite(found.log_dynamics))


def test_exact_gradient_matches_enumeration(world):
    mdp, features, found, log_p = world
    demos = maxent_demos(found, log_p, 50, seed=1)
    gradient, log_z = exact_maxent_gradient(mdp, features, demos, THETA)
    Phi = trajectory_features(mdp, features, found.trajectories)
    p_theta = np.exp(found.log_maxent(features @ THETA))
    expected = trajectory_features(mdp, features, demos).mean(axis=0) - p_theta @ Phi
    assert_allclose(gradient, expected, atol=1e-12)
    R = Phi @ THETA
    assert_allclose(log_z, np.log(np.exp(found.log_dynamics + R).sum()), rtol=1e-12)


def test_exact_gradient_matches_ci_irl_objective(world):
    irl = pytest.importorskip("ctrlinf.irl")
    if not hasattr(irl, "objective"):
        pytest.skip("ci.irl.objective is not there yet")
    mdp, features, found, log_p = world
    demos = maxent_demos(found, log_p, 50, seed=1)
    _, gradient = irl.objective(mdp, features, demos, THETA, mode="exact")
    assert_allclose(exact_maxent_gradient(mdp, features, demos, THETA)[0], gradient,
                    atol=1e-10)


@pytest.mark.parametrize("normalise, n_samples, n_seeds", [(False, 200, 300),
                                                           (True, 2000, 60)])
def test_importance_sampled_gradient_is_unbiased(world, normalise, n_samples, n_seeds):
    # Over repeated seeds the mean estimate is within 3 standard errors of the exact
    # gradient. With the exact log Z the estimator is unbiased; self-normalised (GCL)
    # it has an O(1/n) bias, far below the standard error at n = 2000.
    mdp, features, found, log_p = world
    demos = maxent_demos(found, log_p, 50, seed=1)
    exact, log_z = exact_maxent_gradient(mdp, features, demos, THETA)
    sampler = np.random.default_rng(2).dirichlet(np.full(2, 3.0), size=3)
    estimates, reported = [], []
    for seed in range(n_seeds):
        g = irl_gradient_importance_sampled(mdp, features, demos, THETA, sampler, n_samples,
                                            seed=seed,
                                            log_partition=None if normalise else log_z)
        estimates.append(np.asarray(g))
        reported.append(g.standard_error)
    estimates = np.array(estimates)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(n_seeds)
    assert np.all(np.abs(estimates.mean(axis=0) - exact) < 3 * standard_error)
    # Each call's own standard error describes the spread across seeds.
    assert_allclose(np.mean(reported, axis=0), estimates.std(axis=0, ddof=1), rtol=0.3)


def test_the_maxent_policy_is_the_perfect_sampler_with_deterministic_dynamics():
    # q(τ) = p_θ(τ) exactly when the sampler is the exact-mode policy of r_θ, the
    # dynamics are deterministic and there is one start state (p_θ also tilts the
    # start distribution by β_0): every weight is equal (the lecture's "optimal π").
    mdp = ci.envs.random_mdp(4, 2, branching=1, seed=3, horizon=4).replace(p0=[1, 0, 0, 0])
    features = np.eye(4)
    theta = np.array([0.5, -1.0, 0.2, 1.0])
    demos = ci.sample(mdp, np.full((4, 2), 0.5), 10, seed=0)
    sampler = ci.solve(mdp.replace(r=features @ theta), mode="exact").policy
    g = irl_gradient_importance_sampled(mdp, features, demos, theta, sampler, 500, seed=0)
    assert_allclose(g.weights, 1 / 500, rtol=1e-9)
    assert g.effective_sample_size == pytest.approx(500)
    log_z = exact_maxent_gradient(mdp, features, demos, theta)[1]
    assert g.log_partition_estimate == pytest.approx(log_z, abs=1e-9)


def test_gcl_discriminator_recovers_reward_and_the_optimal_discriminator(world):
    mdp, features, found, log_p = world
    sampler = np.random.default_rng(2).dirichlet(np.full(2, 3.0), size=3)
    demos = maxent_demos(found, log_p, 20_000, seed=3)
    samples = ci.sample(mdp, sampler, 20_000, seed=4)
    disc = gcl_discriminator(mdp, features, demos, samples, sampler)
    assert_allclose(disc.theta, THETA_TRUE, atol=0.06)
    reward_mdp = mdp.replace(r=features @ THETA_TRUE)
    true_log_z = ci.log_evidence(reward_mdp, ci.solve(reward_mdp, mode="exact"))
    assert disc.log_partition == pytest.approx(true_log_z, abs=0.06)
    exact = optimal_discriminator(log_p, found.log_probability(sampler))
    assert np.max(np.abs(disc(found.trajectories) - exact)) < 0.03


def test_gail_classifier_reaches_the_occupancy_ratio(world):
    mdp, features, found, log_p = world
    sampler = np.random.default_rng(2).dirichlet(np.full(2, 3.0), size=3)
    demos = maxent_demos(found, log_p, 20_000, seed=3)
    samples = ci.sample(mdp, sampler, 20_000, seed=4)
    gail = gail_discriminator(mdp, demos, samples, n_iterations=1500)
    reward_mdp = mdp.replace(r=features @ THETA_TRUE)
    expert = ci.marginals(reward_mdp, ci.solve(reward_mdp, mode="exact"))[1]
    exact = exact_gail_optimum(mdp, expert, sampler)
    assert np.nanmax(np.abs(gail.D - exact)) < 0.02
    assert gail.history["loss"][-1] < gail.history["loss"][0]


def test_a_perfect_generator_leaves_the_discriminator_at_one_half(world):
    # "Discriminator knows nothing at convergence": with q = p, D* = 1/2.
    mdp, features, found, log_p = world
    assert_allclose(optimal_discriminator(log_p, log_p), 0.5)
    demos = maxent_demos(found, log_p, 20_000, seed=5)
    fakes = maxent_demos(found, log_p, 20_000, seed=6)
    gail = gail_discriminator(mdp, demos, fakes, approximator="mlp", n_iterations=300, seed=0)
    assert np.max(np.abs(gail.D - 0.5)) < 0.1


def test_optimal_discriminator_is_stable_for_extreme_logs():
    D = optimal_discriminator([-1000.0, 0.0, 700.0, -np.inf], [0.0, -1000.0, 0.0, -np.inf])
    assert_allclose(D[:3], [0.0, 1.0, 1.0])
    assert np.isnan(D[3])


@pytest.mark.parametrize("change, error, message", [
    (dict(mdp=ci.envs.random_mdp(3, 2, seed=0, horizon=3, gamma=0.9)), ValueError,
     "needs a finite horizon and gamma=1"),
    (dict(mdp="mdp"), TypeError, "mdp must be a ctrlinf.TabularMDP"),
    (dict(theta=np.zeros(3)), ValueError, r"theta has shape \(3,\), expected \(K,\) = \(2,\)"),
    (dict(features=np.ones((4, 2))), ValueError, r"features has shape \(4, 2\)"),
    (dict(sampler_policy=np.array([[1.0, 0.0]] * 3)), ValueError,
     r"sampler_policy\[0, 1\] is 0; importance sampling needs"),
    (dict(demos=ci.Trajectories([[0, 1]], [[0, 0]])), ValueError,
     "demos have length 2, expected the horizon 3"),
    (dict(demos=ci.Trajectories([[0, 1, 5]], [[0, 0, 0]])), ValueError,
     r"states\[0, 2\] is 5"),
    (dict(demos=[[0, 1, 2]]), TypeError, "demos must be a ctrlinf.Trajectories"),
    (dict(n_samples=0), ValueError, "n_samples must be a positive int"),
])
def test_errors(world, change, error, message):
    mdp, features, found, log_p = world
    args = dict(mdp=mdp, features=features[:, :, :2], demos=maxent_demos(found, log_p, 5, 0),
                theta=THETA, sampler_policy=np.full((3, 2), 0.5), n_samples=10)
    args.update(change)
    with pytest.raises(error, match=message):
        irl_gradient_importance_sampled(**args)


def test_enumeration_refuses_large_mdps():
    with pytest.raises(ValueError, match=r"\(S\*A\)\^T = \(10\*4\)\^5 trajectories"):
        enumerate_trajectories(ci.envs.random_mdp(10, 4, seed=0, horizon=5))
    with pytest.raises(ValueError, match="needs mdp with a finite horizon, got mdp.horizon=None"):
        enumerate_trajectories(ci.envs.random_mdp(2, 2, seed=0, horizon=None, gamma=0.5))
    with pytest.raises(TypeError, match="mdp must be a ctrlinf.TabularMDP, got str"):
        enumerate_trajectories("mdp")
