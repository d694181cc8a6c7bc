"""ci.experiments.irl_evd: run_demo and the benchmark worlds (the IRL tests that use envs)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from test_irl_objective import serial_numba  # noqa: F401  (autouse fixture)


@pytest.mark.parametrize("name, size, n_features", [
    ("objectworld", 6, 4 * 6), ("binaryworld", 6, 9), ("gridworld", 5, 3)])
def test_worlds_have_features_and_the_demo_horizon(name, size, n_features):
    world = ci.experiments.irl_evd.make_world(name, size=size, seed=1)
    assert world.features.shape == (size * size, n_features)
    assert world.horizon == 8 and world.n_actions == 5
    assert world.replace(horizon=None, gamma=0.9).gamma == 0.9


def test_gridworld_reward_is_linear_in_its_features():
    world = ci.experiments.irl_evd.make_world("gridworld", size=6, seed=2)
    theta, *_ = np.linalg.lstsq(world.features, world.r[:, 0], rcond=None)
    assert_allclose(world.features @ theta, world.r[:, 0], atol=1e-12)
    assert_allclose(theta, [1.0, -1.0, -0.01], atol=1e-12)


def test_run_demo_recovers_a_linear_gridworld_and_plots(tmp_path):
    path = tmp_path / "irl.png"
    report = ci.experiments.irl_evd.run_demo("gridworld", n_demos=64, size=5, plot=path, seed=0)
    assert set(report) == {"world", "mode", "deep", "n_demos", "evd", "evd_zero",
                           "feature_gap", "fit_time", "n_iter", "converged", "seed"}
    assert report["converged"] and report["fit_time"] > 0 and report["seed"] == 0
    assert 0 <= report["evd"] < 0.1 * report["evd_zero"]
    assert report["feature_gap"] < 0.05
    assert path.stat().st_size > 10_000


@pytest.mark.parametrize("world", ["objectworld", "binaryworld"])
def test_run_demo_deep_exact(world):
    report = ci.experiments.irl_evd.run_demo(world, n_demos=8, size=6, mode="exact", deep=True,
                                             seed=1)
    assert report["deep"] and report["mode"] == "exact" and report["n_iter"] == 300
    assert np.isfinite(report["evd"]) and report["evd"] >= 0


def test_run_demo_without_a_seed_reports_the_one_it_drew():
    report = ci.experiments.irl_evd.run_demo("gridworld", n_demos=8, size=4)
    again = ci.experiments.irl_evd.run_demo("gridworld", n_demos=8, size=4, seed=report["seed"])
    assert again["evd"] == report["evd"] and again["n_iter"] == report["n_iter"]
