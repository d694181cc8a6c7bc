"""Potential shaping; rewards from soft policies (Ng et al. 1999; Cao et al. 2021)."""
import numpy as np
import pytest

import ctrlinf as ci


def _world(seed, S=4, A=3):
    return ci.envs.random_mdp(S, A, seed=seed, horizon=None, gamma=0.8)


def test_shape_reward_is_the_closed_form_and_keeps_the_soft_policy():
    mdp = _world(0)
    phi = np.array([1.0, -2.0, 0.5, 3.0])
    P = mdp.transition_tensor()
    expected = mdp.r + 0.8 * np.einsum("sat,t->sa", P, phi) - phi[:, None]
    shaped = ci.irl.shape_reward(mdp, phi)
    np.testing.assert_allclose(shaped, expected, atol=1e-12)
    sol, sol_shaped = ci.solve(mdp), ci.solve(mdp.replace(r=shaped))
    np.testing.assert_allclose(sol_shaped.policy, sol.policy, atol=1e-9)
    np.testing.assert_allclose(sol_shaped.V, sol.V - phi, atol=1e-8)


def test_shape_reward_takes_the_expectation_from_the_cores_backup():
    # r + γ P Φ is the backup's Q with Φ for V_{t+1}: the one implementation of that sum.
    mdp = _world(1)
    r = np.array(mdp.r)
    r[2, 1] = -np.inf
    mdp = mdp.replace(r=r)
    phi = np.array([0.3, -1.0, 2.0, 0.0])
    shaped = ci.irl.shape_reward(mdp, phi)
    assert np.array_equal(shaped, ci.backup(mdp, phi, mode="hard").Q - phi[:, None])
    assert shaped[2, 1] == -np.inf
    with pytest.raises(ValueError, match=r"potential up to 1e\+308 .* beyond the float64"):
        ci.irl.shape_reward(mdp, np.full(4, 1e308))       # the backup's range check


def test_shaping_keeps_the_hard_policy_too_and_shifts_hard_q_by_the_potential():
    # shape_reward: "the soft and hard solutions of r' have Q' = Q − Φ, V' = V − Φ".
    mdp = _world(2)
    phi = np.array([2.0, -1.0, 0.5, -3.0])
    hard = ci.solve(mdp, mode="hard", tol=1e-12)
    shaped = ci.solve(mdp.replace(r=ci.irl.shape_reward(mdp, phi)), mode="hard", tol=1e-12)
    np.testing.assert_allclose(shaped.Q, hard.Q - phi[:, None], atol=1e-9)
    np.testing.assert_allclose(shaped.V, hard.V - phi, atol=1e-9)
    np.testing.assert_array_equal(shaped.policy, hard.policy)


def test_a_stationary_potential_changes_a_finite_horizon_policy():
    mdp = _world(1).replace(horizon=5, gamma=1.0)
    shaped = mdp.replace(r=ci.irl.shape_reward(mdp, np.array([0.0, 2.0, -1.0, 1.0])))
    assert np.abs(ci.solve(mdp).policy[-1] - ci.solve(shaped).policy[-1]).max() > 1e-3


@pytest.mark.parametrize("seed", range(3))
def test_one_dynamics_leaves_S_directions_two_leave_a_constant(seed):
    a = _world(seed)
    b = _world(seed + 10).replace(r=a.r)
    one = ci.irl.reward_from_soft_policies([a], [ci.solve(a).policy])
    assert one.reward_nullity == a.n_states and one.nullity == a.n_states
    # Whatever reward it returns has the expert's policy in that dynamics.
    np.testing.assert_allclose(ci.solve(a.replace(r=one.reward)).policy, ci.solve(a).policy,
                               atol=1e-9)
    two = ci.irl.reward_from_soft_policies([a, b], [ci.solve(a).policy, ci.solve(b).policy])
    assert two.reward_nullity == 1 and two.nullity == 1 and two.residual < 1e-9
    offset = two.reward - a.r
    assert np.ptp(offset) < 1e-8


def test_temperature_scales_the_log_policy():
    a, b = _world(3), _world(4)
    b = b.replace(r=a.r)
    pols = [ci.solve(m, temperature=0.5).policy for m in (a, b)]
    two = ci.irl.reward_from_soft_policies([a, b], pols, temperature=0.5)
    assert np.ptp(two.reward - a.r) < 1e-8


def test_errors_name_the_argument():
    a = _world(0)
    with pytest.raises(ValueError, match="mdps is empty"):
        ci.irl.reward_from_soft_policies([], [])
    with pytest.raises(ValueError, match="one per mdp"):
        ci.irl.reward_from_soft_policies([a], [])
    with pytest.raises(ValueError, match="horizon"):
        ci.irl.reward_from_soft_policies([a.replace(horizon=3, gamma=1.0)],
                                         [np.full((4, 3), 1 / 3)])
    with pytest.raises(ValueError, match="mdps\\[1\\] has \\(S, A\\)"):
        ci.irl.reward_from_soft_policies([a, _world(1, S=5)], [np.full((4, 3), 1 / 3)] * 2)
    with pytest.raises(ValueError, match="policies\\[0\\] has entries <= 0"):
        ci.irl.reward_from_soft_policies([a], [np.tile([0.5, 0.5, 0.0], (4, 1))])
    with pytest.raises(ValueError, match=r"policies\[0\]\[0, 3, :\] sums to 0, expected 1"):
        ci.irl.reward_from_soft_policies([a], [np.eye(4, 3)])
    with pytest.raises(ValueError, match="policies\\[0\\]"):
        ci.irl.reward_from_soft_policies([a], [np.full((4, 3), np.nan)])
    with pytest.raises(ValueError, match="potential"):
        ci.irl.shape_reward(a, np.zeros(3))
    with pytest.raises(TypeError, match="mdp"):
        ci.irl.shape_reward("world", np.zeros(4))
