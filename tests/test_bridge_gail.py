"""Tabular GAIL with an exact generator step (Ho & Ermon 2016)."""
import numpy as np
import pytest

import ctrlinf as ci


def test_discounted_pair_weights_closed_form():
    demos = ci.Trajectories([[0, 1, 1]], [[0, 1, 0]])
    w = ci.bridge.discounted_pair_weights(demos, 2, 2, gamma=0.5)
    np.testing.assert_allclose(w, np.array([[1.0, 0.0], [0.25, 0.5]]) / 1.75)


def test_gail_matches_the_expert_occupancy_and_discriminator_ends_at_one_half():
    world = ci.envs.random_mdp(4, 2, seed=0, horizon=None, gamma=0.8)
    expert = ci.solve(world, mode="soft", temperature=0.1).policy
    demos = ci.sample(world, expert, 1000, seed=1, length=30)
    result = ci.bridge.gail(world, demos, n_iterations=40, entropy=0.01, kl=2.0, seed=2)
    rho = ci.occupancy(world, result.policy)[:, None] * result.policy
    tv = 0.5 * np.abs(rho - result.expert_occupancy).sum()
    assert result.history["total_variation"][0] > 3 * tv
    assert tv < 0.05
    assert abs((result.expert_occupancy * result.D).sum() - 0.5) < 0.05
    np.testing.assert_allclose(result.reward, -np.log1p(-result.D), rtol=1e-10)


def test_discounted_pair_weights_errors():
    with pytest.raises(TypeError, match="trajectories"):
        ci.bridge.discounted_pair_weights([[0]], 2, 2, 0.5)
    with pytest.raises(ValueError, match="gamma"):
        ci.bridge.discounted_pair_weights(ci.Trajectories([[0]], [[0]]), 2, 2, 1.5)


def test_gail_errors():
    world = ci.envs.random_mdp(3, 2, seed=0, horizon=5)
    demos = ci.Trajectories([[0, 1]], [[0, 1]])
    with pytest.raises(ValueError, match="infinite-horizon"):
        ci.bridge.gail(world, demos)
    endless = world.replace(horizon=None, gamma=0.9)
    with pytest.raises(TypeError, match="demos"):
        ci.bridge.gail(endless, [[0, 1]])
    with pytest.raises(ValueError, match="entropy"):
        ci.bridge.gail(endless, demos, entropy=0.0)
