"""Regressions for answers that were once silently wrong: each against an independent reference.

- exact posteriors at low temperature (log-space enumeration);
- a Solution used with another MDP;
- rewards of -inf as action masks (the same answers as ``action_prior = 0``);
- values that would overflow float64.
"""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st
from numpy.testing import assert_allclose

import ctrlinf as ci
from enumeration import log_posterior, random_mdp_arrays


def chain():
    """State 0 chooses: action 0 to state 1 (pays 0 later), action 1 to state 2 (pays 2)."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[0, 1, 2] = 1.0
    P[1, :, 1] = P[2, :, 2] = 1.0
    return P, np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 2.0]]), np.array([1.0, 0.0, 0.0])


def test_chain_posterior_at_low_temperature_follows_the_reward():
    # Action 0 pays 1 now, action 1 leads to 2 later: the posterior must be in state 2 at
    # t=1 even though α_1(2) = e^-1000 relative to α_1(1) (it meets β_1(2) = e^2000).
    P, r, p0 = chain()
    mdp = ci.TabularMDP(P, r, p0, horizon=2)
    sol = ci.solve(mdp, mode="exact", temperature=1e-3)
    state, state_action = ci.marginals(mdp, sol)
    assert_allclose(state[1], [0.0, 0.0, 1.0], atol=1e-12)
    assert_allclose(state_action[0, 0], [0.0, 1.0], atol=1e-12)
    log_z, ref_state, ref_sa, ref_forward = log_posterior(P, r, p0, 2, temperature=1e-3)
    assert_allclose(state, ref_state, atol=1e-12)
    assert_allclose(ci.forward(mdp, sol), ref_forward, atol=1e-12)
    assert ci.log_evidence(mdp, sol) == pytest.approx(log_z, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), scale=st.sampled_from([1.0, 10.0, 1e3, 1e5]),
       sparse=st.booleans())
def test_exact_posteriors_at_temperature_1e_3_match_log_space_enumeration(seed, scale, sparse):
    # Rewards up to 1e5 at α = 1e-3: r/α = 1e8, far beyond exp's range.
    rng = np.random.default_rng(seed)
    S, A, T = 3, 2, 3
    P, r, p0 = random_mdp_arrays(rng, S, A, sparsity=0.5 if sparse else 0.0)
    r = scale * r / np.abs(r).max()
    P_in = sp.csr_matrix(P.reshape(S * A, S)) if sparse else P
    mdp = ci.TabularMDP(P_in, r, p0, horizon=T)
    sol = ci.solve(mdp, mode="exact", temperature=1e-3)
    log_z, ref_state, ref_sa, ref_forward = log_posterior(P, r, p0, T, temperature=1e-3)
    state, state_action = ci.marginals(mdp, sol)
    assert_allclose(state, ref_state, atol=1e-6)
    assert_allclose(state_action, ref_sa, atol=1e-6)
    assert_allclose(ci.forward(mdp, sol), ref_forward, atol=1e-6)
    assert ci.log_evidence(mdp, sol) == pytest.approx(log_z, rel=1e-9)


def test_log_space_forward_matches_enumeration_with_an_action_prior():
    rng = np.random.default_rng(3)
    P, r, p0 = random_mdp_arrays(rng, 3, 3, sparsity=0.4)
    prior = rng.random((3, 3))
    prior[0, 2] = 0.0
    mdp = ci.TabularMDP(P, 50 * r, p0, horizon=3)
    sol = ci.solve(mdp, mode="exact", temperature=0.01, action_prior=prior)
    log_z, ref_state, _, ref_forward = log_posterior(P, 50 * r, p0, 3, 0.01, prior=prior)
    assert_allclose(ci.forward(mdp, sol), ref_forward, atol=1e-9)
    assert_allclose(ci.marginals(mdp, sol)[0], ref_state, atol=1e-9)


# -- a Solution belongs to its MDP --------------------------------------------
def base_mdp():
    P, r, p0 = chain()
    return ci.TabularMDP(P, r, p0, horizon=2)


@pytest.mark.parametrize("change, what", [
    (dict(r=np.zeros((3, 2))), "reward r"),
    (dict(p0=[0.0, 1.0, 0.0]), "initial distribution p0"),
    (dict(P=np.tile(np.eye(3)[:, None, :], (1, 2, 1))), "dynamics P"),
    (dict(horizon=3), "horizon"),
])
@pytest.mark.parametrize("function", [ci.forward, ci.marginals, ci.log_evidence])
def test_a_solution_refuses_another_mdp(change, what, function):
    mdp = base_mdp()
    sol = ci.solve(mdp, mode="exact")
    with pytest.raises(ValueError, match=f"sol was solved for another MDP: its {what} differs"):
        function(mdp.replace(**change), sol)


def test_a_solution_refuses_another_number_of_actions():
    mdp = base_mdp()
    sol = ci.solve(mdp, mode="exact", action_prior=[0.5, 0.5])
    P = np.zeros((3, 3, 3))
    P[:, :, 0] = 1.0
    other = ci.TabularMDP(P, np.zeros((3, 3)), [1.0, 0, 0], horizon=2)
    with pytest.raises(ValueError, match="its number of actions differs"):
        ci.marginals(other, sol)


def test_a_solution_accepts_an_identical_copy_of_its_mdp():
    mdp = base_mdp()
    sol = ci.solve(mdp, mode="exact")
    copy = mdp.replace()
    assert copy is not mdp
    assert_allclose(ci.marginals(copy, sol)[0], ci.marginals(mdp, sol)[0])


# -- -inf rewards are action masks --------------------------------------------
@pytest.mark.parametrize("mode", ["exact", "soft", "hard"])
def test_minus_inf_reward_equals_a_zero_action_prior(mode):
    rng = np.random.default_rng(7)
    P, r, p0 = random_mdp_arrays(rng, 4, 3)
    forbidden = np.zeros((4, 3), bool)
    forbidden[0, 1] = forbidden[2, 0] = forbidden[2, 2] = True
    masked = ci.TabularMDP(P, np.where(forbidden, -np.inf, r), p0, horizon=4)
    plain = ci.TabularMDP(P, r, p0, horizon=4)
    sol_m = ci.solve(masked, mode=mode, temperature=0.7)
    sol_p = ci.solve(plain, mode=mode, temperature=0.7, action_prior=(~forbidden).astype(float))
    assert_allclose(sol_m.V, sol_p.V, rtol=1e-12)
    assert_allclose(sol_m.policy, sol_p.policy, atol=1e-14)
    assert np.all(sol_m.policy[:, forbidden] == 0.0)
    assert np.all(sol_m.Q[:, forbidden] == -np.inf)
    assert_allclose(ci.forward(masked, sol_m), ci.forward(plain, sol_p), atol=1e-14)
    for got, want in zip(ci.marginals(masked, sol_m), ci.marginals(plain, sol_p)):
        assert_allclose(got, want, atol=1e-14)
    demos = ci.sample(masked, sol_m.policy, n=200, seed=0)
    assert not np.any(forbidden[demos.states, demos.actions])


def test_minus_inf_mask_in_infinite_horizon_soft_value_iteration():
    rng = np.random.default_rng(8)
    P, r, p0 = random_mdp_arrays(rng, 4, 3)
    r[1, :2] = -np.inf
    sol = ci.solve(ci.TabularMDP(P, r, p0, horizon=None, gamma=0.9), mode="soft")
    assert sol.converged and np.all(np.isfinite(sol.V))
    assert_allclose(sol.policy[1], [0.0, 0.0, 1.0])


def test_a_state_with_every_action_forbidden_is_an_error():
    P, r, p0 = chain()
    r[1] = -np.inf
    with pytest.raises(ValueError, match=r"r\[1, :\] is -inf for every action; state 1"):
        ci.TabularMDP(P, r, p0, horizon=2)


def test_plus_inf_and_nan_rewards_are_errors():
    P, r, p0 = chain()
    for bad in (np.inf, np.nan):
        r[2, 1] = bad
        with pytest.raises(ValueError, match=r"r\[2, 1\] is .*, expected a finite number"):
            ci.TabularMDP(P, r, p0, horizon=2)


def test_sampling_refuses_a_policy_that_takes_a_forbidden_action():
    P, r, p0 = chain()
    r[0, 1] = -np.inf
    mdp = ci.TabularMDP(P, r, p0, horizon=2)
    with pytest.raises(ValueError, match=r"policy\[0, 0, 1\] is 0.5 but r\[0, 1\] = -inf"):
        ci.sample(mdp, np.full((3, 2), 0.5), n=1)


# -- overflow is an error, never inf or NaN ----------------------------------
@pytest.mark.parametrize("scale, temperature, mode, message", [
    (5e307, 1.0, "soft", "values overflow"),
    (5e307, 1.0, "hard", "values overflow"),
    (1.0, 1e308, "soft", "values overflow"),
    (1e5, 1e-297, "exact", "r / temperature overflows"),
    (1.0, 1e-310, "soft", "below the smallest normal float"),
])
def test_overflowing_values_are_refused(scale, temperature, mode, message):
    P, r, p0 = chain()
    mdp = ci.TabularMDP(P, scale * r, p0, horizon=2)
    with pytest.raises(ValueError, match=message):
        ci.solve(mdp, mode=mode, temperature=temperature)


def test_extreme_but_representable_inputs_give_finite_answers():
    P, r, p0 = chain()
    mdp = ci.TabularMDP(P, 1e100 * r, p0, horizon=2)
    for mode in ("exact", "soft", "hard"):
        sol = ci.solve(mdp, mode=mode, temperature=1e-100)
        assert np.all(np.isfinite(sol.V)) and np.all(np.isfinite(sol.policy))
        assert all(np.all(np.isfinite(m)) for m in ci.marginals(mdp, sol))
    assert np.isfinite(ci.log_evidence(mdp, ci.solve(mdp, mode="exact", temperature=1e-100)))


def test_infinite_horizon_overflow_counts_the_effective_horizon():
    P, r, p0 = chain()
    mdp = ci.TabularMDP(P, 1e298 * r, p0, horizon=None, gamma=0.999)
    with pytest.raises(ValueError, match="over 1000 steps"):
        ci.solve(mdp, mode="hard")


def test_readme_example_of_an_overflowing_reward_is_refused():
    # README: "Inputs whose values would leave the float64 range (say r = 1e300) are refused
    # with a ValueError naming r and temperature".
    P, r, p0 = chain()
    mdp = ci.TabularMDP(P, np.full((3, 2), 1e300), p0, horizon=1)
    for mode in ("exact", "soft", "hard"):
        with pytest.raises(ValueError, match=r"rescale r") as info:
            ci.solve(mdp, mode=mode)
        assert "r up to 1e+300" in str(info.value)
        if mode != "hard":
            assert "temperature" in str(info.value)
