"""The corrected statements of issue 10 in the docstrings, each stated as a test.

- gym_adapters: hard values are expected returns; soft/exact values add α log A per
  step spent in the absorbing terminated state.
- plot.values_vs_temperature: as α → 0 soft → hard, exact → the optimistic recursion.
- irl.objective: with a tabular reward, whether the finite-horizon soft objective has a
  finite maximiser depends on the demos.
- bridge._common.linear_decay: a finite anneal that reaches 0 at the end of the run.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf.bridge._common import linear_decay


def optimistic_values(mdp):
    """``V_t(s) = max_a [r + max_{s': P > 0} V_{t+1}(s')]`` by brute force, shape (T, S)."""
    P, r = mdp.transition_tensor(), mdp.r
    V = np.zeros((mdp.horizon + 1, mdp.n_states))
    for t in range(mdp.horizon - 1, -1, -1):
        V[t] = (r + np.where(P > 0, V[t + 1][None, None, :], -np.inf).max(axis=2)).max(axis=1)
    return V[:-1]


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_gym_terminal_state_earns_alpha_log_A_per_step_in_soft_and_exact_mode(temperature):
    gym = pytest.importorskip("gymnasium")
    T = 12
    mdp = ci.envs.from_gymnasium(gym.make("FrozenLake-v1"), horizon=T)
    dead, A = mdp.n_states - 1, mdp.n_actions
    bonus = (T - np.arange(T)) * temperature * np.log(A)
    for mode in ("soft", "exact"):
        V = ci.solve(mdp, mode=mode, temperature=temperature).V
        assert_allclose(V[:, dead], bonus, rtol=1e-12)
    assert np.all(ci.solve(mdp, mode="hard").V[:, dead] == 0.0)
    # One allowed action in the terminated state removes the bonus.
    prior = np.ones((mdp.n_states, A))
    prior[dead, 1:] = 0.0
    V = ci.solve(mdp, mode="soft", temperature=temperature, action_prior=prior).V
    assert_allclose(V[:, dead], 0.0, atol=1e-12)


def test_cold_exact_values_tend_to_the_optimistic_recursion_not_to_hard_values():
    mdp = ci.envs.random_mdp(6, 3, branching=2, seed=1, horizon=5)
    alpha = 1e-3
    hard = ci.solve(mdp, mode="hard").V[0]
    optimistic = optimistic_values(mdp)[0]
    soft = ci.solve(mdp, mode="soft", temperature=alpha).V[0]
    exact = ci.solve(mdp, mode="exact", temperature=alpha).V[0]
    T, A, p_min = mdp.horizon, mdp.n_actions, mdp.P.data.min()
    assert np.abs(soft - hard).max() <= alpha * T * np.log(A)
    assert np.abs(exact - optimistic).max() <= alpha * T * (np.log(A) - np.log(p_min))
    assert np.abs(exact - hard).max() > 0.1                 # stochastic: not value iteration


def two_state_mdp():
    """From s0, action 0 stays or moves to s1 with probability 1/2 each; action 1 moves.

    Horizon 2 from s0, so the fraction f of episodes in s0 at t = 1 can be anything in
    [0, 1/2] (choose action 0 with probability 2f) and nothing above.
    """
    P = np.zeros((2, 2, 2))
    P[0, 0] = [0.5, 0.5]
    P[0, 1] = [0.0, 1.0]
    P[1, :, 1] = 1.0
    return ci.TabularMDP(P, np.zeros((2, 2)), p0=[1.0, 0.0], horizon=2)


def demos_with_fraction_in_s0(stays, n):
    states = np.array([[0, 0]] * stays + [[0, 1]] * (n - stays))
    return ci.Trajectories(states, np.zeros_like(states))


def test_finite_horizon_soft_maximiser_with_tabular_features_depends_on_the_data():
    mdp = two_state_mdp()
    features = np.eye(2)                                      # one weight per state
    # f = 1/4 is matched by a policy: the soft objective has a finite maximiser.
    matched = demos_with_fraction_in_s0(1, 4)
    res = ci.irl.fit(mdp, features, matched, mode="soft", progress=False)
    assert res.converged and np.abs(res.theta).max() < 10
    _, grad = ci.irl.objective(mdp, features, matched, res.theta, mode="soft")
    assert np.abs(grad).max() < 1e-5
    # f = 3/4 is matched by no policy: the objective keeps rising along θ = c (1, -1).
    unmatched = demos_with_fraction_in_s0(3, 4)
    values = [ci.irl.objective(mdp, features, unmatched, c * np.array([1.0, -1.0]),
                               mode="soft")[0] for c in (1, 5, 25, 125)]
    assert np.all(np.diff(values) > 0)
    grad = ci.irl.objective(mdp, features, unmatched, 125 * np.array([1.0, -1.0]),
                            mode="soft")[1]
    assert grad @ np.array([1.0, -1.0]) > 0.1               # no stationary point out there


def test_linear_decay_is_a_finite_anneal_to_zero():
    rate = linear_decay(0.5)
    assert rate(0.0) == 0.5 and rate(0.5) == 0.25 and rate(1.0) == 0.0
    assert rate(1.5) == 0.0                                  # never negative past the end
