"""Infinite-horizon soft IRL: demos are length-L prefixes of endless episodes.

The expert's discounted visitation of L steps sums to (1 − γ^L)/(1 − γ), the model's
occupancy from p0 to 1/(1 − γ). ctrlinf compares the demos with the model's
occupancy of the same first L steps (the gradient of the demos' discounted
log-likelihood, ctrlinf.irl.objectives); these tests check that footing against
rollouts written here in numpy, and that an unregularised fit then converges.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf.irl.fitting import RANDOM_INIT_SCALE
from ctrlinf.irl.fitting import LinearModel
from ctrlinf.irl.fitting import fit_model
from ctrlinf.irl.objectives import demo_start_measure
from enumeration import random_mdp_arrays
from test_irl_objective import finite_difference
from test_irl_objective import serial_numba  # noqa: F401  (autouse fixture)

S, A, GAMMA = 4, 3, 0.9


def world(seed=0, gamma=GAMMA, state_reward=False):
    """A random MDP with stochastic dynamics and a full-support p0; r is the expert's."""
    rng = np.random.default_rng(seed)
    P, r, p0 = random_mdp_arrays(rng, S, A)
    if state_reward:
        r = np.repeat(r[:, :1], A, axis=1)
    return ci.TabularMDP(P, r, p0, horizon=None, gamma=gamma)


def one_hot(kind):
    """One indicator per state-action pair (S, A, S·A) or per state (S, S)."""
    return np.eye(S * A).reshape(S, A, S * A) if kind == "state_action" else np.eye(S)


def rollout(mdp, policy, length):
    """d_t for t = 0..length of a stationary policy from p0, (length + 1, S), by numpy."""
    P_pi = np.einsum("sa,sax->sx", policy, mdp.transition_tensor())
    d = [mdp.p0]
    for _ in range(length):
        d.append(d[-1] @ P_pi)
    return np.array(d)


def expected_visitation(mdp, policy, length):
    """E[D_E] for demos of ``length`` steps: Σ_{t<L} γ^t d_t(s) π(a|s), (S, A)."""
    d = rollout(mdp, policy, length)[:length]
    return np.einsum("t,ts,sa->sa", mdp.gamma ** np.arange(length), d, policy)


def discounted_log_likelihood(mdp, reward, demos):
    """(1/N) Σ_i Σ_t γ^t log π(a_it | s_it) under the soft policy of ``reward``."""
    sol = ci.solve(mdp.replace(r=reward), tol=1e-13)
    log_pi = np.log(sol.policy[demos.states, demos.actions])
    return (log_pi @ mdp.gamma ** np.arange(demos.length)).mean()


# -- the footing --------------------------------------------------------------------------
def test_demo_start_measure_is_the_flow_residual_of_the_visitation():
    mdp = world()
    pi = ci.solve(mdp).policy
    L = 5
    # For a whole occupancy from p0 (ci.marginals' normalised one, / (1 − γ)) it is p0.
    whole = ci.marginals(mdp, ci.solve(mdp))[1] / (1 - GAMMA)
    assert_allclose(demo_start_measure(mdp, whole), mdp.p0, atol=1e-12)
    # For the expected visitation of L steps it is p0 − γ^L d_L and sums to 1 − γ^L,
    D_L = expected_visitation(mdp, pi, L)
    rho = demo_start_measure(mdp, D_L)
    d_L = rollout(mdp, pi, L)[L]
    assert_allclose(rho, mdp.p0 - GAMMA**L * d_L, atol=1e-12)
    assert_allclose(rho.sum(), 1 - GAMMA**L, rtol=1e-12)
    # and the occupancy from that signed start is the model's first L steps exactly.
    assert_allclose(ci.inference.discounted_visitation(mdp, pi, start=rho), D_L, atol=1e-12)
    # Sampled demos of any length: ρ̂ sums to 1 − γ^L as well.
    demos = ci.sample(mdp, pi, n=7, seed=0, length=L)
    assert_allclose(demo_start_measure(mdp, ci.irl.expert_visitation(mdp, demos)).sum(),
                    1 - GAMMA**L, rtol=1e-12)


def test_objective_is_the_discounted_log_likelihood_for_stochastic_dynamics_and_any_p0():
    mdp = world(1)
    demos = ci.sample(mdp, ci.solve(mdp).policy, n=25, seed=1, length=6)
    phi = np.random.default_rng(1).normal(size=(S, A, 2))
    theta = np.array([0.7, -1.3])
    value, grad = ci.irl.objective(mdp, phi, demos, theta)
    assert_allclose(value, discounted_log_likelihood(mdp, phi @ theta, demos), rtol=1e-9)
    # mdp.p0 does not enter: the demos' own states are the starts.
    other = mdp.replace(p0=np.full(S, 1.0 / S))
    other_value, other_grad = ci.irl.objective(other, phi, demos, theta)
    assert_allclose(other_value, value, rtol=1e-12)
    assert_allclose(other_grad, grad, rtol=1e-10)


def test_constant_reward_was_a_runaway_direction_and_is_now_flat():
    mdp = world(2)
    L = 8
    demos = ci.sample(mdp, ci.solve(mdp).policy, n=20, seed=2, length=L)
    phi = np.hstack([np.random.default_rng(2).normal(size=(S, 2)), np.ones((S, 1))])
    theta, c = np.array([0.3, -0.4, 0.0]), 2.5
    shifted = theta + [0.0, 0.0, c]
    mu_E = ci.irl.expert_visitation(mdp, demos).sum(axis=1) @ phi

    def whole_occupancy_footing(x):     # θ·μ_E − p0·V: the model's whole occupancy
        return x @ mu_E - mdp.p0 @ ci.solve(mdp.replace(r=phi @ x), tol=1e-13).V

    # Along the constant that comparison slopes by −c γ^L / (1 − γ), without end.
    assert_allclose(whole_occupancy_footing(shifted) - whole_occupancy_footing(theta),
                    -c * GAMMA**L / (1 - GAMMA), rtol=1e-9)
    value, grad = ci.irl.objective(mdp, phi, demos, theta)
    # Flat up to value iteration's tolerance (1e-12 of the value scale).
    assert_allclose(ci.irl.objective(mdp, phi, demos, shifted)[0], value, atol=1e-9)
    assert abs(grad[2]) < 1e-12


def test_objective_depends_on_the_reward_only_through_the_policy():
    # (π, Φ) ↦ r = log π + γ P Φ − Φ is one-to-one: the soft policy of that r is π and
    # its soft value is −Φ. So potential shaping leaves the objective unchanged.
    mdp = world(3)
    rng = np.random.default_rng(3)
    pi, Phi = rng.dirichlet(np.ones(A), size=S), rng.normal(size=S)
    r = np.log(pi) + GAMMA * mdp.transition_tensor() @ Phi - Phi[:, None]
    sol = ci.solve(mdp.replace(r=r), tol=1e-13)
    assert_allclose(sol.policy, pi, atol=1e-10)
    assert_allclose(sol.V, -Phi, atol=1e-10)
    demos = ci.sample(mdp, pi, n=10, seed=3, length=5)
    base = ci.irl.reward_objective(mdp, r, demos)[0]
    Psi = rng.normal(size=S)
    shaped = r + GAMMA * mdp.transition_tensor() @ Psi - Psi[:, None]
    assert_allclose(ci.irl.reward_objective(mdp, shaped, demos)[0], base, rtol=1e-10)


def test_gradient_is_exact_and_its_jacobian_symmetric_unlike_the_truncated_model_field():
    mdp = world(4, gamma=0.7).replace(p0=np.eye(S)[0])
    L = 3
    demos = ci.sample(mdp, ci.solve(mdp).policy, n=15, seed=4, length=L)
    D_E = ci.irl.expert_visitation(mdp, demos)
    r0 = np.random.default_rng(4).normal(size=S * A)

    def gradient(r):
        return ci.irl.reward_objective(mdp, r.reshape(S, A), demos)[1].ravel()

    def truncated_model_field(r):     # D_E − Σ_{t<L} γ^t d_t with d_L from the model
        pi = ci.solve(mdp.replace(r=r.reshape(S, A)), tol=1e-13).policy
        return (D_E - expected_visitation(mdp, pi, L)).ravel()

    numeric = finite_difference(
        lambda r: ci.irl.reward_objective(mdp, r.reshape(S, A), demos)[0], r0)
    assert_allclose(gradient(r0), numeric, atol=1e-8)

    def jacobian(f):
        return np.array([finite_difference(lambda r: f(r)[k], r0) for k in range(S * A)])

    hessian, field = jacobian(gradient), jacobian(truncated_model_field)
    assert np.abs(hessian - hessian.T).max() < 1e-6 * np.abs(hessian).max()
    assert np.abs(field - field.T).max() > 0.02 * np.abs(field).max()


def test_objective_is_not_concave():
    # State 0: action 0 to state 1, action 1 to state 2, both absorbing with two
    # actions. One demo step (0, 0): L = log σ(γ/(1−γ) (V_1 − V_2)(1−γ)), and
    # V_1 = log(2 cosh t)/(1 − γ) along r(1, ·) = (t, −t), convex in t, so
    # d²L/dt² at t = 0 is σ'(0)/σ(0) · γ/(1 − γ) = γ / (2 (1 − γ)) > 0.
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[0, 1, 2] = 1.0
    P[1:, :, :] = np.eye(3)[1:, None, :]
    mdp = ci.TabularMDP(P, np.zeros((3, 2)), p0=[1, 0, 0], horizon=None, gamma=GAMMA)
    demos = ci.Trajectories([[0]], [[0]])

    def along(t):
        return ci.irl.reward_objective(mdp, [[0, 0], [t, -t], [0, 0]], demos)[0]

    h = 1e-3
    curvature = (along(h) - 2 * along(0.0) + along(-h)) / h**2
    assert_allclose(curvature, GAMMA / (2 * (1 - GAMMA)), rtol=1e-4)


# -- fitting with l2 = 0 --------------------------------------------------------------
@pytest.mark.parametrize("features, L", [("state_action", 5), ("state_action", 40),
                                         ("state", 5)])
def test_fit_to_expected_counts_recovers_the_expert_policy(features, L):
    # Exact data: the expected visitation of L-step prefixes of the expert's episodes.
    # With one-hot features the expert's reward is representable, so the fitted soft
    # policy must be the expert's wherever the expert goes (here everywhere: p0 > 0).
    mdp = world(5, state_reward=features == "state")
    expert = ci.solve(mdp, tol=1e-13).policy
    D_E = expected_visitation(mdp, expert, L)
    phi = one_hot(features)
    res = fit_model(mdp, LinearModel(phi, A), D_E, np.zeros(phi.shape[-1]), "soft", 0.0,
                    "lbfgs", None, 1000, 1e-7, False, "test")
    assert res.converged and np.all(np.isfinite(res.theta))
    assert_allclose(res.solution.policy, expert, atol=1e-6)


def test_fit_to_sampled_demos_converges_to_their_discounted_action_frequencies():
    # The regression of issue 9: state-action indicators span a constant, and the
    # fit used to run to θ ≈ −1e27. Now it converges with l2 = 0 to the global
    # maximiser π(a|s) = D_E(s, a) / Σ_b D_E(s, b), which is within sampling error of
    # the expert's policy.
    mdp = world(6)
    expert = ci.solve(mdp, tol=1e-13).policy
    N, L = 2000, 30
    demos = ci.sample(mdp, expert, n=N, seed=6, length=L)
    res = ci.irl.fit(mdp, one_hot("state_action"), demos, gtol=1e-7, progress=False)
    assert res.converged
    assert np.abs(res.theta).max() < 20
    D_E = ci.irl.expert_visitation(mdp, demos)
    assert np.all(D_E > 0)          # the demos show every action of every state
    assert_allclose(res.solution.policy, D_E / D_E.sum(axis=1, keepdims=True), atol=1e-5)
    # Sampling error: given the states, each action is an independent draw from π_E, so
    # the numerator of D_E(s,a)/D_E(s) has variance Σ_i Σ_t γ^2t [s_it = s] π(1 − π)
    # (a martingale: no cross terms). Five standard deviations:
    w2 = np.zeros(S)
    np.add.at(w2, demos.states, np.broadcast_to(GAMMA ** (2 * np.arange(L)), (N, L)))
    sd = np.sqrt(w2[:, None] * expert * (1 - expert)) / (N * D_E.sum(axis=1, keepdims=True))
    assert np.all(np.abs(res.solution.policy - expert) < 5 * sd)


def test_a_constant_direction_stays_where_the_fit_started():
    # One-hot state features: θ's mean is the constant reward, which the data cannot see.
    mdp = world(7, state_reward=True)
    demos = ci.sample(mdp, ci.solve(mdp).policy, n=200, seed=7, length=10)
    theta0 = RANDOM_INIT_SCALE * np.random.default_rng(1).normal(size=S)  # fit's seed=1 start
    res = ci.irl.fit(mdp, one_hot("state"), demos, seed=1, gtol=1e-7, progress=False)
    assert res.converged
    assert_allclose(res.theta.mean(), theta0.mean(), atol=1e-10)
    with pytest.warns(RuntimeWarning, match="spent its budget"):     # 100 steps: not done
        res = ci.irl.fit(mdp, one_hot("state"), demos, seed=1, optimizer="gradient",
                         learning_rate=0.05, max_iter=100, progress=False)
    assert res.history["objective"][-1] > res.history["objective"][0] + 0.1
    assert_allclose(res.theta.mean(), theta0.mean(), atol=1e-10)
    res = ci.irl.fit(mdp, one_hot("state"), demos, l2=0.1, seed=1, gtol=1e-9, progress=False)
    assert abs(res.theta.mean()) < 1e-9
