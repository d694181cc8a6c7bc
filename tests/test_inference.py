"""solve / forward / marginals / log_evidence against enumeration, closed forms and invariants."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import ctrlinf as ci
from enumeration import (exact_messages, hard_backward_induction, policy_expectation,
                         posterior, random_mdp_arrays)

REPRESENTATIONS = {
    "dense": lambda P: P,
    "csr": lambda P: sp.csr_matrix(P.reshape(-1, P.shape[0])),
    "csc": lambda P: sp.csc_matrix(P.reshape(-1, P.shape[0])),
    "coo": lambda P: sp.coo_matrix(P.reshape(-1, P.shape[0])),
    "float32": lambda P: P.astype(np.float32) / P.astype(np.float32).sum(2, keepdims=True),
}


def tiny_mdp(seed, S=3, A=2, T=3, deterministic=False, gamma=1.0, representation="dense"):
    rng = np.random.default_rng(seed)
    P, r, p0 = random_mdp_arrays(rng, S, A, deterministic=deterministic, sparsity=0.3)
    mdp = ci.TabularMDP(REPRESENTATIONS[representation](P), r, p0, horizon=T, gamma=gamma)
    return mdp, P, r, p0


# -- exact mode against enumeration of every trajectory -----------------------
@pytest.mark.parametrize("S, A, T", [(2, 2, 1), (3, 2, 3), (2, 3, 4), (3, 3, 3)])
@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_exact_mode_equals_enumeration(S, A, T, temperature, kernel_variant):
    mdp, P, r, p0 = tiny_mdp(S * 10 + A + T, S, A, T)
    sol = ci.solve(mdp, mode="exact", temperature=temperature)
    beta_sa, beta_s = exact_messages(P, r, T, temperature)
    assert_allclose(sol.Q, temperature * np.log(beta_sa), rtol=1e-10, atol=1e-10)
    assert_allclose(sol.V, temperature * np.log(beta_s), rtol=1e-10, atol=1e-10)
    assert_allclose(sol.policy, beta_sa / beta_s[..., None], atol=1e-12)

    log_z, p_state, p_state_action, alpha = posterior(P, r, p0, T, temperature)
    assert_allclose(ci.log_evidence(mdp, sol), log_z, rtol=1e-12)
    assert_allclose(ci.forward(mdp, sol), alpha, atol=1e-12)
    state, state_action = ci.marginals(mdp, sol)
    assert_allclose(state, p_state, atol=1e-12)
    assert_allclose(state_action, p_state_action, atol=1e-12)


def test_exact_forward_with_unreachable_states_equals_enumeration(kernel_variant):
    # A start state and deterministic moves leave states with α_t(s) = 0 exactly: the
    # kernels' fast path (no weight near underflow) must give them -inf, not redo them.
    mdp, P, r, p0 = tiny_mdp(5, 4, 2, 4, deterministic=True)
    p0 = np.array([1.0, 0.0, 0.0, 0.0])
    mdp = mdp.replace(p0=p0)
    sol = ci.solve(mdp, mode="exact", temperature=0.7)
    *_, alpha = posterior(P, r, p0, 4, temperature=0.7)
    assert np.any(alpha == 0)
    assert_allclose(ci.forward(mdp, sol), alpha, atol=1e-13)
    state, _ = ci.marginals(mdp, sol)
    assert np.all(state[alpha == 0] == 0)


def test_action_prior_multiplies_inside_the_sum(kernel_variant):
    mdp, P, r, p0 = tiny_mdp(7, 3, 3, 3)
    prior = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    sol = ci.solve(mdp, mode="exact", action_prior=prior)
    beta_sa, beta_s = exact_messages(P, r, 3, prior=prior)
    assert_allclose(sol.V, np.log(beta_s), atol=1e-10)
    assert_allclose(sol.policy, prior * beta_sa / beta_s[..., None], atol=1e-12)
    assert np.all(sol.policy[:, 1, 1:] == 0)


def test_action_prior_can_be_folded_into_the_reward():
    """CS285: a prior p(a|s) is the same as adding α log p(a|s) to the reward."""
    mdp, P, r, p0 = tiny_mdp(8, 3, 3, 4)
    prior = np.random.default_rng(0).dirichlet(np.ones(3), size=3)
    with_prior = ci.solve(mdp, mode="exact", temperature=0.7, action_prior=prior)
    folded = ci.solve(mdp.replace(r=r + 0.7 * np.log(prior)), mode="exact", temperature=0.7)
    assert_allclose(with_prior.V, folded.V, atol=1e-12)
    assert_allclose(with_prior.policy, folded.policy, atol=1e-12)


def test_uniform_prior_subtracts_T_log_A_from_the_evidence():
    mdp, *_ = tiny_mdp(9, 3, 3, 4)
    counting = ci.log_evidence(mdp, ci.solve(mdp, mode="exact"))
    uniform = ci.log_evidence(mdp, ci.solve(mdp, mode="exact", action_prior=np.full(3, 1 / 3)))
    assert_allclose(uniform, counting - 4 * np.log(3), rtol=1e-12)


# -- soft mode ----------------------------------------------------------------
@pytest.mark.parametrize("gamma", [1.0, 0.8])
@pytest.mark.parametrize("temperature", [1.0, 0.3])
def test_soft_value_is_the_elbo(gamma, temperature, kernel_variant):
    """Σ p0 V_0 = E_q[Σ γ^t (r − α log π)] with q the policy's own trajectory law."""
    mdp, P, r, p0 = tiny_mdp(11, 3, 2, 4, gamma=gamma)
    sol = ci.solve(mdp, mode="soft", temperature=temperature)
    log_pi = np.log(sol.policy)

    def reward_plus_entropy(t, s, a):
        return gamma ** t * (r[s, a] - temperature * log_pi[t, s, a])

    elbo = policy_expectation(P, p0, sol.policy, 4, reward_plus_entropy)
    assert_allclose(p0 @ sol.V[0], elbo, rtol=1e-12)


def test_soft_equals_exact_on_deterministic_dynamics():
    mdp, *_ = tiny_mdp(12, 3, 3, 4, deterministic=True)
    exact, soft = ci.solve(mdp, mode="exact"), ci.solve(mdp, mode="soft")
    assert_allclose(soft.Q, exact.Q, atol=1e-12)
    assert_allclose(soft.policy, exact.policy, atol=1e-12)


def test_exact_is_optimistic_on_stochastic_dynamics():
    """log E exp(V) >= E V (Jensen): exact values dominate soft values."""
    mdp, *_ = tiny_mdp(13, 3, 2, 4)
    exact, soft = ci.solve(mdp, mode="exact"), ci.solve(mdp, mode="soft")
    assert np.all(exact.V >= soft.V - 1e-12)
    assert np.max(exact.V[0] - soft.V[0]) > 1e-3


@pytest.mark.parametrize("mode", ["soft", "exact"])
def test_soft_tends_to_hard_as_temperature_vanishes(mode):
    """0 <= V_soft − V_hard <= α T log A for the counting measure."""
    mdp, P, r, _ = tiny_mdp(14, 3, 3, 4, deterministic=(mode == "exact"))
    hard = ci.solve(mdp, mode="hard")
    for temperature in (1e-1, 1e-2, 1e-3):
        soft = ci.solve(mdp, mode=mode, temperature=temperature)
        gap = soft.V - hard.V
        assert np.all(gap >= -1e-12)
        assert np.all(gap <= temperature * 4 * np.log(3) + 1e-12)


@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_hard_mode_equals_plain_value_iteration(gamma, kernel_variant):
    mdp, P, r, _ = tiny_mdp(15, 3, 3, 5, gamma=gamma)
    Q, V = hard_backward_induction(P, r, 5, gamma)
    sol = ci.solve(mdp, mode="hard")
    assert_allclose(sol.Q, Q, atol=1e-12)
    assert_allclose(sol.V, V, atol=1e-12)
    greedy = np.isclose(Q, V[..., None], rtol=0, atol=1e-12)
    assert_allclose(sol.policy, greedy / greedy.sum(axis=2, keepdims=True))


def test_hard_policy_shares_ties():
    P = np.zeros((1, 3, 1)) + 1.0
    mdp = ci.TabularMDP(P, r=[[1.0, 1.0, 0.0]], p0=[1.0], horizon=2)
    assert_allclose(ci.solve(mdp, mode="hard").policy[0, 0], [0.5, 0.5, 0.0])


# -- infinite horizon ----------------------------------------------------------
@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_infinite_horizon_fixed_point_satisfies_bellman(mode):
    mdp_T, P, r, p0 = tiny_mdp(16, 4, 3, 1)
    mdp = mdp_T.replace(horizon=None, gamma=0.9)
    sol = ci.solve(mdp, mode=mode, temperature=0.5, tol=1e-12)
    assert sol.converged and sol.iterations > 10
    Q = r + 0.9 * P @ sol.V
    assert_allclose(sol.Q, Q, atol=1e-10)
    if mode == "soft":
        V = 0.5 * np.log(np.exp(Q / 0.5).sum(axis=1))
    else:
        V = Q.max(axis=1)
    assert_allclose(sol.V, V, atol=1e-10)
    assert sol.Q.shape == (4, 3) and sol.V.shape == (4,) and sol.policy.shape == (4, 3)


def test_infinite_horizon_is_the_limit_of_long_finite_horizons():
    mdp_T, *_ = tiny_mdp(17, 3, 2, 400, gamma=0.9)
    finite = ci.solve(mdp_T, mode="soft")
    infinite = ci.solve(mdp_T.replace(horizon=None), mode="soft")
    assert_allclose(finite.V[0], infinite.V, atol=1e-9)


def test_discounted_occupancy_is_the_discounted_sum_of_rollout_marginals():
    mdp_T, P, r, p0 = tiny_mdp(18, 4, 2, 1)
    mdp = mdp_T.replace(horizon=None, gamma=0.8)
    sol = ci.solve(mdp, mode="soft")
    d = p0.copy()
    P_pi = np.einsum("sa,sat->st", sol.policy, P)
    expected = np.zeros(4)
    for t in range(300):
        expected += (1 - 0.8) * 0.8 ** t * d
        d = d @ P_pi
    state, state_action = ci.marginals(mdp, sol)
    assert_allclose(ci.forward(mdp, sol), expected, atol=1e-12)
    assert_allclose(state, expected, atol=1e-12)
    assert_allclose(state_action, expected[:, None] * sol.policy, atol=1e-12)


def test_value_iteration_warns_when_not_converged():
    mdp_T, *_ = tiny_mdp(19, 3, 2, 1)
    with pytest.warns(RuntimeWarning, match="not converged"):
        sol = ci.solve(mdp_T.replace(horizon=None, gamma=0.99), max_iter=5)
    assert not sol.converged and sol.iterations == 5


# -- representations, keep="V", rollouts -------------------------------------------
@pytest.mark.parametrize("representation", sorted(REPRESENTATIONS))
@pytest.mark.parametrize("mode", ["exact", "soft", "hard"])
def test_every_representation_gives_the_same_answer(representation, mode):
    reference, *_ = tiny_mdp(20, 4, 3, 5)
    other, *_ = tiny_mdp(20, 4, 3, 5, representation=representation)
    a, b = ci.solve(reference, mode=mode), ci.solve(other, mode=mode)
    tol = 1e-6 if representation == "float32" else 1e-13
    assert_allclose(a.Q, b.Q, atol=tol)
    assert_allclose(ci.marginals(reference, a)[1], ci.marginals(other, b)[1], atol=tol)


@pytest.mark.parametrize("mode", ["exact", "soft", "hard"])
def test_keep_V_derives_the_same_Q_and_policy(mode):
    mdp, *_ = tiny_mdp(21, 4, 3, 5)
    full, lean = ci.solve(mdp, mode=mode), ci.solve(mdp, mode=mode, keep="V")
    assert lean.keep == "V" and full.keep == "all"
    assert_allclose(lean.V, full.V, atol=1e-14)
    assert_allclose(lean.Q, full.Q, atol=1e-14)
    assert_allclose(lean.policy_at(2), full.policy[2], atol=1e-14)
    assert_allclose(ci.forward(mdp, lean), ci.forward(mdp, full), atol=1e-14)


def test_rollout_occupancy_follows_the_policy():
    mdp, P, r, p0 = tiny_mdp(22, 3, 2, 4)
    sol = ci.solve(mdp, mode="soft")
    d = np.zeros((4, 3))
    d[0] = p0
    for t in range(3):
        d[t + 1] = np.einsum("s,sa,sat->t", d[t], sol.policy[t], P)
    assert_allclose(ci.forward(mdp, sol), d, atol=1e-14)
    state, state_action = ci.marginals(mdp, sol)
    assert_allclose(state_action, d[..., None] * sol.policy, atol=1e-14)


def test_posterior_start_differs_from_p0_but_rollout_starts_at_p0():
    mdp, *_ = tiny_mdp(23, 3, 2, 4)
    exact = ci.solve(mdp, mode="exact")
    posterior_state, _ = ci.marginals(mdp, exact)
    assert_allclose(ci.forward(mdp, exact)[0], mdp.p0)
    assert np.abs(posterior_state[0] - mdp.p0).max() > 1e-3


def test_backward_messages_are_scaled_probabilities():
    mdp, P, r, _ = tiny_mdp(24, 3, 2, 3)
    sol = ci.solve(mdp, mode="exact")
    beta_sa, beta_s, log_scale = sol.backward_messages()
    true_sa, true_s = exact_messages(P, r, 3)
    assert_allclose(beta_s * np.exp(log_scale)[:, None], true_s, rtol=1e-12)
    assert_allclose(beta_sa * np.exp(log_scale)[:, None, None], true_sa, rtol=1e-12)
    assert_allclose(beta_s.max(axis=1), 1.0)


def test_backward_messages_of_an_infinite_horizon_have_no_time_axis():
    mdp, *_ = tiny_mdp(24, 3, 2, 3)
    sol = ci.solve(mdp.replace(horizon=None, gamma=0.9), mode="soft", temperature=0.5)
    beta_sa, beta_s, log_scale = sol.backward_messages()
    assert beta_sa.shape == (3, 2) and beta_s.shape == (3,) and isinstance(log_scale, float)
    assert_allclose(beta_s * np.exp(log_scale), np.exp(sol.V / 0.5), rtol=1e-12)
    assert_allclose(beta_sa * np.exp(log_scale), np.exp(sol.Q / 0.5), rtol=1e-12)


# -- numerical range -------------------------------------------------------------
@pytest.mark.parametrize("mode", ["exact", "soft", "hard"])
def test_large_rewards_and_small_temperatures_stay_finite(mode):
    rng = np.random.default_rng(25)
    P, _, p0 = random_mdp_arrays(rng, 6, 3, sparsity=0.5)
    r = rng.choice([-1e5, 0.0, 1e5], size=(6, 3))
    mdp = ci.TabularMDP(P, r, p0, horizon=6)
    sol = ci.solve(mdp, mode=mode, temperature=1e-3)
    state, state_action = ci.marginals(mdp, sol)
    for array in (sol.Q, sol.V, sol.policy, state, state_action):
        assert np.all(np.isfinite(array))
    assert_allclose(sol.policy.sum(axis=2), 1.0)
    assert_allclose(state_action.sum(axis=(1, 2)), 1.0)
    if mode == "exact":
        assert np.isfinite(ci.log_evidence(mdp, sol))
        # α log E exp(V/α) → max over reachable successors: the optimism limit
        Q_hard_optimistic = r[:, :, None] + np.where(P > 0, sol.V[1][None, None, :], -np.inf)
        assert_allclose(sol.Q[0], Q_hard_optimistic.max(axis=2), rtol=1e-6)


def test_exact_rows_whose_successors_all_underflow_are_rescaled():
    """A row reaching only states far below the global maximum of V must not give log 0."""
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = 1.0          # state 0 → 1 (low value)
    P[1, 0, 1] = 1.0
    P[2, 0, 2] = 1.0          # state 2 keeps its huge reward
    r = np.array([[0.0], [-1e5], [1e5]])
    mdp = ci.TabularMDP(P, r, [1.0, 0, 0], horizon=3)
    sol = ci.solve(mdp, mode="exact", temperature=1e-3)
    assert_allclose(sol.V[0], [-2e5, -3e5, 3e5])


# -- invariants on random MDPs ------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), S=st.integers(1, 6), A=st.integers(1, 4),
       T=st.integers(1, 6), mode=st.sampled_from(["exact", "soft", "hard"]),
       temperature=st.floats(0.05, 20.0))
def test_distributions_sum_to_one(seed, S, A, T, mode, temperature):
    mdp, *_ = tiny_mdp(seed, S, A, T)
    sol = ci.solve(mdp, mode=mode, temperature=temperature)
    state, state_action = ci.marginals(mdp, sol)
    assert_allclose(sol.policy.sum(axis=2), 1.0, atol=1e-12)
    assert_allclose(ci.forward(mdp, sol).sum(axis=1), 1.0, atol=1e-12)
    assert_allclose(state.sum(axis=1), 1.0, atol=1e-12)
    assert_allclose(state_action.sum(axis=(1, 2)), 1.0, atol=1e-12)
    assert np.all(state_action >= 0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), S=st.integers(1, 5), A=st.integers(1, 3),
       T=st.integers(1, 5))
def test_forward_normalisers_multiply_to_the_evidence(seed, S, A, T):
    """Σ_t log p(O_t | O_{0:t-1}) from the forward pass = log Σ p0 exp(V_0) from the backward pass."""
    mdp, P, r, p0 = tiny_mdp(seed, S, A, T)
    sol = ci.solve(mdp, mode="exact")
    alpha = ci.forward(mdp, sol)
    log_z = sum(np.log(np.sum(alpha[t][:, None] * np.exp(r))) for t in range(T))
    assert_allclose(ci.log_evidence(mdp, sol), log_z, rtol=1e-10, atol=1e-10)


# -- errors ----------------------------------------------------------------------
def test_solve_rejects_bad_arguments():
    mdp, *_ = tiny_mdp(26, 3, 2, 3)
    with pytest.raises(ValueError, match="mode must be one of .* got 'fast'"):
        ci.solve(mdp, mode="fast")
    with pytest.raises(ValueError, match="temperature must be a positive finite number, got 0"):
        ci.solve(mdp, temperature=0.0)
    with pytest.raises(ValueError, match="temperature must be a positive finite number, got -1"):
        ci.solve(mdp, temperature=-1)
    with pytest.raises(TypeError, match="temperature must be a positive finite number"):
        ci.solve(mdp, temperature="1")
    with pytest.raises(ValueError, match=r"keep must be one of \['all', 'V'\]"):
        ci.solve(mdp, keep="Q")
    with pytest.raises(TypeError, match="mdp must be a ctrlinf.TabularMDP"):
        ci.solve(np.ones((2, 2, 2)))


def test_exact_mode_refuses_a_discount():
    mdp, *_ = tiny_mdp(27, 3, 2, 3, gamma=0.9)
    with pytest.raises(ValueError, match=r"mode='exact' needs gamma=1.*death state.*"
                                         r"with_death_state"):
        ci.solve(mdp, mode="exact")


def test_death_state_turns_a_discount_into_termination():
    """Soft values of the discounted MDP equal those of its undiscounted death-state version."""
    mdp, *_ = tiny_mdp(28, 3, 2, 4, gamma=0.7)
    dead = mdp.with_death_state()
    assert dead.n_states == 4 and dead.gamma == 1.0
    hard, hard_dead = ci.solve(mdp, mode="hard"), ci.solve(dead, mode="hard")
    assert_allclose(hard_dead.V[:, :3], hard.V, atol=1e-12)
    assert np.isfinite(ci.log_evidence(dead, ci.solve(dead, mode="exact")))


def test_action_prior_errors():
    mdp, *_ = tiny_mdp(29, 3, 2, 3)
    with pytest.raises(ValueError, match=r"action_prior has shape \(2, 2\), expected \(S, A\)"):
        ci.solve(mdp, action_prior=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"action_prior\[1, 0\] is -1.0, expected a finite"):
        ci.solve(mdp, action_prior=[[1, 1], [-1, 1], [1, 1]])
    with pytest.raises(ValueError, match=r"action_prior\[2, :\] is all zero"):
        ci.solve(mdp, action_prior=[[1, 1], [1, 1], [0, 0]])
    with pytest.raises(TypeError, match="action_prior must be an array of real numbers"):
        ci.solve(mdp, action_prior=[["a", "b"]] * 3)


def test_value_iteration_argument_errors():
    mdp_T, *_ = tiny_mdp(30, 3, 2, 1)
    mdp = mdp_T.replace(horizon=None, gamma=0.5)
    with pytest.raises(ValueError, match="tol must be a positive finite number"):
        ci.solve(mdp, tol=0)
    with pytest.raises(ValueError, match="max_iter must be a positive int"):
        ci.solve(mdp, max_iter=0)


def test_functions_refuse_a_solution_of_another_mdp():
    mdp, *_ = tiny_mdp(31, 3, 2, 3)
    other, *_ = tiny_mdp(31, 3, 2, 4)
    sol = ci.solve(other, mode="exact")
    for function in (ci.forward, ci.marginals, ci.log_evidence):
        with pytest.raises(ValueError, match="sol was solved for another MDP"):
            function(mdp, sol)
    with pytest.raises(TypeError, match="sol must be a Solution"):
        ci.forward(mdp, sol.V)


def test_log_evidence_needs_exact_mode():
    mdp, *_ = tiny_mdp(32, 3, 2, 3)
    with pytest.raises(ValueError, match="log_evidence needs a solution with mode='exact'"):
        ci.log_evidence(mdp, ci.solve(mdp, mode="soft"))


def test_solution_time_index_is_checked():
    mdp, *_ = tiny_mdp(33, 3, 2, 3)
    sol = ci.solve(mdp, keep="V")
    with pytest.raises(ValueError, match=r"t must be an int in \[0, 2\], got 3"):
        sol.q_at(3)


# -- occupancy of an arbitrary policy ---------------------------------------------
def test_occupancy_of_any_policy():
    mdp, P, r, p0 = tiny_mdp(34, 3, 2, 4)
    soft, exact = ci.solve(mdp, mode="soft"), ci.solve(mdp, mode="exact")
    assert_allclose(ci.occupancy(mdp, soft.policy), ci.forward(mdp, soft), atol=1e-15)
    d = np.zeros((4, 3))
    d[0] = p0
    for t in range(3):
        d[t + 1] = np.einsum("s,sa,sat->t", d[t], exact.policy[t], P)
    # What the posterior policy really does differs from the posterior's own forward filter.
    assert_allclose(ci.occupancy(mdp, exact.policy), d, atol=1e-15)
    assert np.abs(d - ci.forward(mdp, exact)).max() > 1e-3
    uniform = np.full((3, 2), 0.5)
    assert_allclose(ci.occupancy(mdp, uniform), ci.occupancy(mdp, np.tile(uniform, (4, 1, 1))))


def test_occupancy_errors():
    mdp, *_ = tiny_mdp(35, 3, 2, 4)
    infinite = mdp.replace(horizon=None, gamma=0.9)
    with pytest.raises(ValueError, match="needs a stationary"):
        ci.occupancy(infinite, np.full((4, 3, 2), 0.5))
    with pytest.raises(ValueError, match=r"policy has shape \(3, 3\)"):
        ci.occupancy(mdp, np.full((3, 3), 1 / 3))


def test_occupancy_from_any_start_is_linear_and_sums_over_time():
    mdp, P, r, p0 = tiny_mdp(36, 3, 2, 4)
    pi = ci.solve(mdp).policy
    other = np.array([0.2, -0.5, 1.0])
    # start=p0 is the default; the occupancy is linear in the (signed) start.
    assert_allclose(ci.occupancy(mdp, pi, start=p0), ci.occupancy(mdp, pi), atol=1e-15)
    assert_allclose(ci.occupancy(mdp, pi, start=p0 + 2 * other),
                    ci.occupancy(mdp, pi) + 2 * ci.occupancy(mdp, pi, start=other), atol=1e-14)
    d = ci.occupancy(mdp, pi)
    D = ci.inference.discounted_visitation(mdp, pi)
    assert_allclose(D, np.einsum("t,ts,tsa->sa", mdp.gamma ** np.arange(4), d, pi), atol=1e-15)
    # Infinite horizon: Σ_t γ^t d_t π by brute-force summation of the rollout.
    infinite = mdp.replace(horizon=None, gamma=0.6)
    stationary = pi[0]
    P_pi = np.einsum("sa,sat->st", stationary, P)
    total, d_t = np.zeros(3), other.copy()
    for t in range(200):
        total += 0.6 ** t * d_t
        d_t = d_t @ P_pi
    assert_allclose(ci.occupancy(infinite, stationary, start=other), 0.4 * total, atol=1e-12)
    assert_allclose(ci.inference.discounted_visitation(infinite, stationary, start=other),
                    total[:, None] * stationary, atol=1e-12)
    assert_allclose(ci.inference.policy_transition(infinite, stationary).toarray(), P_pi,
                    atol=1e-15)
    with pytest.raises(ValueError, match=r"start has shape"):
        ci.occupancy(mdp, pi, start=[1.0, 0.0])


def test_dead_states_stay_put_with_reward_zero():
    P = np.zeros((3, 2, 3))
    P[0, :, 1] = 1          # moves on
    P[1, :, 1] = 1          # stays, pays 0: dead
    P[2, :, 2] = 1          # stays but pays 1 under action 0
    r = np.zeros((3, 2))
    r[2, 0] = 1.0
    mdp = ci.TabularMDP(P, r=r, p0=[1.0, 0, 0], horizon=3)
    assert ci.inference.dead_states(mdp).tolist() == [False, True, False]


@pytest.mark.parametrize("mode", ["exact", "soft"])
def test_counting_measure_equals_uniform_prior_with_alpha_log_A_added_to_r(mode):
    # The solve() docstring: action_prior=None is the proper uniform prior 1/A with
    # α log A added to r (r + α log A, not r − α log A).
    mdp, *_ = tiny_mdp(41, 3, 4, 4)
    alpha = 0.6
    counting = ci.solve(mdp, mode=mode, temperature=alpha)
    shifted = mdp.replace(r=mdp.r + alpha * np.log(4))
    uniform = ci.solve(shifted, mode=mode, temperature=alpha, action_prior=np.full(4, 0.25))
    assert_allclose(uniform.V, counting.V, rtol=1e-12)
    assert_allclose(uniform.policy, counting.policy, atol=1e-12)
    wrong = ci.solve(mdp.replace(r=mdp.r - alpha * np.log(4)), mode=mode, temperature=alpha,
                     action_prior=np.full(4, 0.25))
    assert not np.allclose(wrong.V, counting.V)


@pytest.mark.parametrize("mode", ["exact", "soft", "hard"])
def test_parallel_kernels_agree_with_the_serial_ones(mode, monkeypatch):
    # Large MDPs on free cores run the parallel=True twins; force them on a small one.
    import numba
    from ctrlinf import _threads

    if numba.get_num_threads() < 2:
        pytest.skip("one numba thread: the parallel kernels are never chosen")
    mdp, *_ = tiny_mdp(43, 700, 3, 6, representation="csr")  # 3 blocks of states
    serial = ci.solve(mdp, mode=mode, temperature=0.5)
    serial_marginals = ci.marginals(mdp, serial)
    monkeypatch.setattr(_threads, "PARALLEL_MIN_NNZ", 0)
    monkeypatch.setattr(_threads, "free_cores", lambda: 2)
    assert _threads.threads_for(mdp.P.nnz) == 2
    parallel = ci.solve(mdp, mode=mode, temperature=0.5)
    assert_array_equal(parallel.V, serial.V)
    assert_array_equal(parallel.policy, serial.policy)
    for got, want in zip(ci.marginals(mdp, parallel), serial_marginals):
        assert_allclose(got, want, atol=1e-12)

@pytest.mark.parametrize("progress", [False, True])
def test_a_backward_pass_chooses_its_threads_every_few_steps_not_every_step(progress,
                                                                            monkeypatch):
    # Choosing reads /proc (up to 0.3 ms): a pass asks at most every _steps_per_choice
    # steps, also when a progress bar makes it run one kernel call per step.
    from ctrlinf import _threads
    from ctrlinf import inference

    mdp, *_ = tiny_mdp(44, 40, 3, 30, representation="csr")
    monkeypatch.setattr(_threads, "PARALLEL_MIN_NNZ", 0)   # as if mdp were large
    monkeypatch.setattr(inference, "_STEPS_PER_CHOICE", 8)
    monkeypatch.setattr(inference, "_WORK_PER_CHOICE", 0)
    calls = []
    monkeypatch.setattr(_threads, "threads_for", lambda nnz: calls.append(nnz) or 1)
    want = ci.solve(mdp, mode="soft", progress=False)
    calls.clear()
    got = ci.solve(mdp, mode="soft", progress=progress)
    assert len(calls) == 4   # steps 0, 8, 16 and 24 of T = 30
    assert_array_equal(got.V, want.V)
