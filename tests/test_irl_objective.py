"""The IRL objectives against independent computations, and their gradients.

Independent means: brute-force sums over every trajectory (tests/enumeration.py), a
soft backup written here in numpy, and central finite differences of the value.
"""
import numba
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf.trajectories import feature_counts
from enumeration import policy_expectation
from enumeration import posterior
from enumeration import random_mdp_arrays

S, A, K = 4, 3, 3


@pytest.fixture(autouse=True, scope="module")
def serial_numba():
    """One numba thread: on MDPs this small the thread pool costs more than it saves
    (20x slower on a busy 2-core machine). Other test_irl modules import this fixture."""
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(threads)


def finite_difference(f, x, h=1e-5):
    """Central differences (f(x + h e_k) − f(x − h e_k)) / 2h, error O(h²)."""
    grad = np.zeros_like(x)
    for k in range(x.size):
        step = np.zeros_like(x)
        step[k] = h
        grad[k] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def relative_error(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def make_problem(seed, horizon=3, gamma=1.0, deterministic=False, features="state",
                 n_demos=10, demo_length=None, sparse_P=False):
    """A random MDP, features, demos sampled from a random-reward soft policy, and a θ."""
    rng = np.random.default_rng(seed)
    P, r, p0 = random_mdp_arrays(rng, S, A, deterministic=deterministic)
    mdp = ci.TabularMDP(sp.csr_matrix(P.reshape(S * A, S)) if sparse_P else P, r, p0,
                        horizon=horizon, gamma=gamma)
    phi = {"state": rng.normal(size=(S, K)), "state_action": rng.normal(size=(S, A, K)),
           "sparse": sp.random(S, K, density=0.6, random_state=seed, format="csr")}[features]
    demos = ci.sample(mdp, ci.solve(mdp).policy, n=n_demos, seed=seed, length=demo_length)
    return mdp, phi, demos, rng.normal(size=K)


def numpy_soft_values(P, r, horizon, gamma):
    """V_t by the soft backup Q_t = r + γ P V_{t+1}, V_t = log Σ_a exp Q_t, in plain numpy."""
    V = np.zeros((horizon + 1, P.shape[0]))
    for t in range(horizon - 1, -1, -1):
        Q = r + gamma * P @ V[t + 1] if t < horizon - 1 else r
        V[t] = np.log(np.exp(Q).sum(axis=1))
    return V[:-1]


@pytest.mark.parametrize("sparse_P", [False, True])
def test_exact_objective_is_mean_reward_minus_log_partition_by_enumeration(sparse_P):
    # Ziebart 2008: (1/N) Σ_i r_θ(τ_i) − log Z, Z = Σ_τ p(τ) exp r_θ(τ).
    mdp, phi, demos, theta = make_problem(0, features="state_action", sparse_P=sparse_P)
    r = phi @ theta
    log_Z, _, state_action, _ = posterior(mdp.transition_tensor(), r, mdp.p0, mdp.horizon)
    t = np.arange(demos.length)
    mean_return = r[demos.states, demos.actions].sum(axis=1).mean()
    value, grad = ci.irl.objective(mdp, phi, demos, theta, mode="exact")
    assert_allclose(value, mean_return - log_Z, rtol=1e-12)
    # The gradient is μ_E − Σ_t Σ_{s,a} p(s_t, a_t | O) φ(s, a), from the same enumeration.
    mu_E = phi[demos.states[:, t], demos.actions[:, t]].sum(axis=1).mean(axis=0)
    assert_allclose(grad, mu_E - np.einsum("tsa,sak->k", state_action, phi), atol=1e-12)


def test_soft_objective_matches_numpy_backup_and_primal_by_enumeration():
    mdp, phi, demos, theta = make_problem(1, gamma=0.9)
    r = np.repeat((phi @ theta)[:, None], A, axis=1)
    P = mdp.transition_tensor()
    V = numpy_soft_values(P, r, mdp.horizon, mdp.gamma)
    mu_E = feature_counts(demos, phi, mdp.gamma)
    value, _ = ci.irl.objective(mdp, phi, demos, theta, mode="soft")
    assert_allclose(value, theta @ mu_E - mdp.p0 @ V[0], rtol=1e-12)
    # Strong duality: Σ p0 V_0 is the causal-entropy-regularised return of the soft
    # policy, E_π[Σ_t γ^t (r − log π_t)], summed here over every trajectory.
    policy = ci.solve(mdp.replace(r=r)).policy
    primal = policy_expectation(P, mdp.p0, policy, mdp.horizon,
                                lambda t, s, a: mdp.gamma**t * (r[s, a] - np.log(policy[t, s, a])))
    assert_allclose(mdp.p0 @ V[0], primal, rtol=1e-12)


def test_infinite_horizon_soft_objective_is_discounted_log_likelihood_at_the_fixed_point():
    # Demos of length 40 at γ = 0.5 are prefixes of endless episodes: the objective is
    # their mean Σ_t γ^t log π(a_t | s_t) (ctrlinf.irl.objectives), here from a numpy
    # fixed point, = θ·μ_E − ρ̂·V with ρ̂ the flow residual of the demos' visitation.
    mdp, phi, demos, theta = make_problem(2, horizon=None, gamma=0.5, demo_length=40)
    r = np.repeat((phi @ theta)[:, None], A, axis=1)
    P = mdp.transition_tensor()
    V = np.zeros(S)
    for _ in range(200):                       # contraction at rate 0.5: 2^-200
        V = np.log(np.exp(r + mdp.gamma * P @ V).sum(axis=1))
    log_pi = r + mdp.gamma * P @ V - V[:, None]
    discounts = mdp.gamma ** np.arange(demos.length)
    likelihood = (log_pi[demos.states, demos.actions] @ discounts).mean()
    value, _ = ci.irl.objective(mdp, phi, demos, theta)
    assert_allclose(value, likelihood, rtol=1e-10)
    D_E = ci.irl.expert_visitation(mdp, demos)
    rho = D_E.sum(axis=1) - mdp.gamma * np.einsum("sa,sax->x", D_E, P)
    assert_allclose(value, theta @ feature_counts(demos, phi, mdp.gamma) - rho @ V, rtol=1e-10)


GRADIENT_CASES = [
    # (mode, horizon, gamma, features)
    ("soft", 3, 1.0, "state"), ("soft", 3, 1.0, "state_action"), ("soft", 3, 1.0, "sparse"),
    ("soft", 3, 0.8, "state"), ("soft", 3, 0.8, "state_action"),
    ("soft", None, 0.6, "state"), ("soft", None, 0.6, "state_action"),
    ("exact", 3, 1.0, "state"), ("exact", 3, 1.0, "state_action"), ("exact", 3, 1.0, "sparse"),
]


@pytest.mark.parametrize("mode, horizon, gamma, features", GRADIENT_CASES)
def test_gradient_matches_central_finite_differences(mode, horizon, gamma, features):
    mdp, phi, demos, theta = make_problem(3, horizon=horizon, gamma=gamma, features=features,
                                          demo_length=None if horizon else 40)
    _, grad = ci.irl.objective(mdp, phi, demos, theta, mode=mode)
    numeric = finite_difference(lambda x: ci.irl.objective(mdp, phi, demos, x, mode=mode)[0],
                                theta)
    assert relative_error(grad, numeric) < 1e-6


def test_infinite_horizon_gradient_scales_normalised_occupancy_by_one_over_one_minus_gamma():
    # ci.marginals gives (1 − γ) Σ_t γ^t d_t; μ_θ needs Σ_t γ^t d_t. Long demos of the
    # model's own policy therefore give a gradient near zero only with that scaling.
    mdp, phi, _, theta = make_problem(4, horizon=None, gamma=0.5, demo_length=40)
    mdp_r = mdp.replace(r=phi @ theta)
    demos = ci.sample(mdp_r, ci.solve(mdp_r).policy, n=20000, seed=0, length=40)
    _, grad = ci.irl.objective(mdp, phi, demos, theta)
    mu_E = feature_counts(demos, phi, mdp.gamma)
    assert np.max(np.abs(grad)) < 0.02 * np.max(np.abs(mu_E))


def test_expert_visitation_contracts_to_feature_counts():
    mdp, phi, demos, _ = make_problem(5, gamma=0.7, features="state_action")
    D_E = ci.irl.expert_visitation(mdp, demos)
    assert_allclose(D_E.sum(), 1 + 0.7 + 0.49)
    assert_allclose(np.einsum("sa,sak->k", D_E, phi), feature_counts(demos, phi, 0.7))


def test_reward_objective_gradient_is_visitation_difference():
    mdp, _, demos, _ = make_problem(6, features="state_action")
    reward = np.random.default_rng(0).normal(size=(S, A))
    value, grad = ci.irl.reward_objective(mdp, reward, demos, mode="exact")
    numeric = finite_difference(
        lambda x: ci.irl.reward_objective(mdp, x.reshape(S, A), demos, mode="exact")[0],
        reward.ravel())
    assert relative_error(grad.ravel(), numeric) < 1e-6
    # Expert and model visitation both sum to T, so the gradient sums to zero.
    assert_allclose(grad.sum(), 0.0, atol=1e-12)


@pytest.mark.parametrize("gamma", [1.0, 0.8])
def test_soft_objective_is_mean_causal_log_likelihood_for_deterministic_dynamics(gamma):
    # Q_t(s_t, a_t) = r + γ V_{t+1}(s_{t+1}) exactly when s_{t+1} is determined, so
    # Σ_t γ^t log π_t = Σ_t γ^t (Q_t − V_t) telescopes to Σ_t γ^t r − V_0(s_0).
    mdp, phi, demos, theta = make_problem(7, horizon=5, gamma=gamma, deterministic=True,
                                          n_demos=30)
    mdp = mdp.replace(p0=ci.irl.start_distribution(demos, S))
    value, _ = ci.irl.objective(mdp, phi, demos, theta)
    reward = phi @ theta
    if gamma == 1.0:
        assert_allclose(value, ci.irl.log_likelihood(mdp, reward, demos).mean(), rtol=1e-12)
    sol = ci.solve(mdp.replace(r=reward))
    t = np.arange(demos.length)
    log_pi = sol.Q[t, demos.states, demos.actions] - sol.V[t, demos.states]
    assert_allclose(value, (log_pi @ gamma**t).mean(), rtol=1e-12)


def test_soft_objective_differs_from_log_likelihood_with_another_start_distribution():
    mdp, phi, demos, theta = make_problem(7, horizon=5, deterministic=True, n_demos=30)
    value, _ = ci.irl.objective(mdp, phi, demos, theta)
    assert abs(value - ci.irl.log_likelihood(mdp, phi @ theta, demos).mean()) > 1e-3


# -- what the demos cannot tell apart (documented in ctrlinf.irl.objectives) --------------
@pytest.mark.parametrize("mode, gamma", [("soft", 1.0), ("soft", 0.8), ("exact", 1.0)])
def test_constant_reward_shift_leaves_finite_horizon_objective_unchanged(mode, gamma):
    mdp, phi, demos, theta = make_problem(8, gamma=gamma)
    phi = np.hstack([phi, np.ones((S, 1))])             # a constant feature
    theta = np.append(theta, 0.0)
    shifted = theta + 2.5 * np.eye(K + 1)[K]
    value, grad = ci.irl.objective(mdp, phi, demos, theta, mode=mode)
    assert_allclose(ci.irl.objective(mdp, phi, demos, shifted, mode=mode)[0], value, rtol=1e-12)
    assert_allclose(grad[K], 0.0, atol=1e-12)


def test_potential_shaping_keeps_infinite_horizon_soft_policy_and_likelihood():
    mdp, _, _, _ = make_problem(9, horizon=None, gamma=0.7, demo_length=30)
    rng = np.random.default_rng(0)
    r, Phi = rng.normal(size=(S, A)), rng.normal(size=S)
    shaped = r + mdp.gamma * mdp.transition_tensor() @ Phi - Phi[:, None]
    demos = ci.sample(mdp.replace(r=r), ci.solve(mdp.replace(r=r)).policy, n=5, seed=0,
                      length=30)
    assert_allclose(ci.solve(mdp.replace(r=shaped)).policy, ci.solve(mdp.replace(r=r)).policy,
                    atol=1e-10)
    assert_allclose(ci.irl.log_likelihood(mdp, shaped, demos),
                    ci.irl.log_likelihood(mdp, r, demos), rtol=1e-9)


# -- pitfalls of public implementations, shown to be wrong -------------------------------
def rollout_feature_expectation(mdp, policy, phi):
    """μ = Σ_t Σ_{s,a} d_t(s) π_t(a|s) φ(s, a) for an arbitrary (T, S, A) policy (γ = 1)."""
    P = mdp.transition_tensor()
    d, mu = mdp.p0.copy(), 0.0
    for t in range(mdp.horizon):
        d_sa = d[:, None] * policy[t]
        mu = mu + np.einsum("sa,sak->k", d_sa, phi)
        d = np.einsum("sa,sax->x", d_sa, P)
    return mu


def options_mdp():
    """Hard and soft values disagree here: from state 0, action 0 leads to state 1 where
    all 3 actions pay 1, action 1 to state 2 where one pays 1 and two pay −5, action 2 to
    the absorbing state 3 that pays nothing. Hard: V(1) = V(2) = 1. Soft: V(1) = 1 + log 3
    (three good options) > V(2) ≈ 1. Features: [pays 1, pays −5, is in state 1]."""
    P = np.zeros((4, 3, 4))
    P[0, [0, 1, 2], [1, 2, 3]] = 1.0
    P[1:, :, 3] = 1.0
    phi = np.zeros((4, 3, 3))
    phi[1, :, 0] = phi[2, 0, 0] = 1.0
    phi[2, 1:, 1] = 1.0
    phi[1, :, 2] = 1.0
    mdp = ci.TabularMDP(P, np.zeros((4, 3)), p0=[1, 0, 0, 0], horizon=2)
    return mdp, phi, np.array([1.0, -5.0, 0.0])


def test_pitfall_hard_values_with_a_boltzmann_policy_give_a_wrong_gradient():
    mdp, phi, theta = options_mdp()
    mdp_r = mdp.replace(r=phi @ theta)
    demos = ci.sample(mdp_r, ci.solve(mdp_r).policy, n=40, seed=0)
    mu_E = feature_counts(demos, phi)
    _, grad = ci.irl.objective(mdp, phi, demos, theta)
    numeric = finite_difference(lambda x: ci.irl.objective(mdp, phi, demos, x)[0], theta)
    assert relative_error(grad, numeric) < 1e-6
    Q_hard = ci.solve(mdp_r, mode="hard").Q
    boltzmann = np.exp(Q_hard - Q_hard.max(axis=2, keepdims=True))
    boltzmann /= boltzmann.sum(axis=2, keepdims=True)
    # Hard values tie states 1 and 2, so the Boltzmann policy goes to state 1 with
    # probability e / (2e + 1) = 0.42; the soft policy with 3e / (3e + e + 2e^-5 + 1) = 0.69.
    assert_allclose(rollout_feature_expectation(mdp, boltzmann, phi)[2],
                    np.e / (2 * np.e + 1), rtol=1e-12)
    wrong = mu_E - rollout_feature_expectation(mdp, boltzmann, phi)
    assert relative_error(wrong, numeric) > 0.5
    assert_allclose(mu_E - rollout_feature_expectation(mdp, ci.solve(mdp_r).policy, phi), grad,
                    atol=1e-12)


def test_pitfall_policy_as_q_over_sum_of_q_gives_a_wrong_gradient():
    rng = np.random.default_rng(10)
    P, _, p0 = random_mdp_arrays(rng, S, A)
    mdp = ci.TabularMDP(P, np.zeros((S, A)), p0, horizon=5)
    phi = rng.uniform(0.2, 1.0, size=(S, A, K))        # positive rewards, so Q > 0
    theta = rng.uniform(0.5, 1.5, size=K)
    demos = ci.sample(mdp, ci.solve(mdp).policy, n=50, seed=0)
    _, grad = ci.irl.objective(mdp, phi, demos, theta)
    numeric = finite_difference(lambda x: ci.irl.objective(mdp, phi, demos, x)[0], theta)
    assert relative_error(grad, numeric) < 1e-6
    Q = ci.solve(mdp.replace(r=phi @ theta)).Q
    ratio = Q / Q.sum(axis=2, keepdims=True)     # normalising log-space values linearly
    wrong = feature_counts(demos, phi) - rollout_feature_expectation(mdp, ratio, phi)
    assert relative_error(wrong, numeric) > 0.3
