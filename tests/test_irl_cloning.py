"""Behaviour cloning: the empirical action frequencies per state."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci


def test_cloned_policy_is_the_count_ratio_and_uniform_where_unseen():
    demos = ci.Trajectories([[0, 0, 2], [2, 0, 0]], [[1, 1, 0], [1, 0, 1]])
    policy, visited = ci.irl.behaviour_cloning(demos, 4, 2)
    np.testing.assert_allclose(policy, [[0.25, 0.75], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    assert visited.tolist() == [True, False, True, False]
    smoothed, _ = ci.irl.behaviour_cloning(demos, 4, 2, pseudocount=1.0)
    np.testing.assert_allclose(smoothed[0], [2 / 6, 4 / 6])


def test_clone_maximises_the_demo_log_likelihood():
    mdp = ci.envs.random_mdp(3, 3, seed=0, horizon=6)
    demos = ci.sample(mdp, ci.solve(mdp).policy, 50, seed=1)
    policy, _ = ci.irl.behaviour_cloning(demos, 3, 3)

    def loglik(pi):
        return np.log(pi[demos.states, demos.actions]).sum()

    rng = np.random.default_rng(0)
    for _ in range(20):
        other = rng.dirichlet(np.ones(3), size=3)
        assert loglik(policy) >= loglik(other)


def test_clone_of_many_demos_approaches_a_stationary_expert():
    mdp = ci.envs.random_mdp(3, 2, seed=2, horizon=None, gamma=0.9)
    expert = ci.solve(mdp).policy
    demos = ci.sample(mdp, expert, 4000, seed=3, length=10)
    policy, _ = ci.irl.behaviour_cloning(demos, 3, 2)
    assert np.abs(policy - expert).max() < 0.03


def test_errors():
    demos = ci.Trajectories([[0, 3]], [[0, 1]])
    with pytest.raises(TypeError, match="demos"):
        ci.irl.behaviour_cloning([[0]], 2, 2)
    with pytest.raises(ValueError,
                       match=r"demos.states\[0, 1\] is 3, expected an index in \[0, 1\]"):
        ci.irl.behaviour_cloning(demos, 2, 2)
    with pytest.raises(ValueError, match="pseudocount"):
        ci.irl.behaviour_cloning(demos, 4, 2, pseudocount=-1)


def test_padding_is_not_data():
    # Issue 18: both demos have one observed step, (0, 1) and (0, 0); their padding
    # ([1, 1] / [0, 0] and [0, 0] / [1, 1]) was counted as data, giving π(·|0) = [.25, .75]
    # and state 1 visited.
    demos = ci.Trajectories([[0, 1, 1], [0, 0, 0]], [[1, 0, 0], [0, 1, 1]], lengths=[1, 1])
    policy, visited = ci.irl.behaviour_cloning(demos, 2, 2)
    # By hand from the observed steps: one count each of (0, 1) and (0, 0).
    assert_allclose(policy, [[0.5, 0.5], [0.5, 0.5]], rtol=0, atol=1e-15)
    assert visited.tolist() == [True, False]
    # Padding out of range (or negative) is not an error either.
    wild = ci.Trajectories([[0, -7, 9], [0, 5, -1]], [[1, -2, 8], [0, 3, -4]], lengths=[1, 1])
    assert_allclose(ci.irl.behaviour_cloning(wild, 2, 2)[0], policy, rtol=0, atol=0)


def test_negative_states_and_actions_are_refused_by_name():
    with pytest.raises(ValueError, match=r"demos.states\[0, 0\] is -1, expected an index"):
        ci.irl.behaviour_cloning(ci.Trajectories([[-1]], [[0]]), 2, 2)
    with pytest.raises(ValueError, match=r"demos.actions\[0, 1\] is -1, expected an index"):
        ci.irl.behaviour_cloning(ci.Trajectories([[0, 1]], [[0, -1]]), 2, 2)
