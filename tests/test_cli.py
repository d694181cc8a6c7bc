"""The `ctrlinf` command end to end (subprocesses), and its friendly errors."""
import os
import subprocess
import sys

import numpy as np
import pytest

import ctrlinf as ci
from ctrlinf import cli, demo


def run(*args, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "ctrlinf", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    for command in ("demo", "solve", "irl", "tutorial"):
        assert command in result.stdout


def test_demo_writes_its_figures_and_table(tmp_path):
    result = run("demo", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    for name in ("message_intersection.png", "exact_vs_soft.png", "policy.png", "marginals.gif"):
        assert (tmp_path / "out" / name).stat().st_size > 5_000
    assert "log p(O)" in result.stdout and "exact" in result.stdout


def test_demo_shows_the_optimism_problem():
    """Exact inference walks the cliff edge: it ends in a pit far more often than soft."""
    report = demo.run(figures=False, stream=lambda line: None)
    rows = {mode: (v0, pit) for mode, v0, pit, _ in report["table"]}
    assert rows["exact"][1] > 3 * rows["soft"][1]
    assert rows["exact"][0] > rows["soft"][0]


def test_solve_gridworld_spec_prints_v0():
    result = run("solve", "gridworld:4x5", "--mode", "exact", "--temperature", "0.5")
    assert result.returncode == 0, result.stderr
    assert "E_p0[V_0]" in result.stdout and "log p(O)" in result.stdout


def test_solve_saved_mdp_and_map_file_with_plot(tmp_path):
    grid = ci.envs.gridworld_from_map(["S..", ".#G"], horizon=5)
    grid.save(tmp_path / "grid.npz")
    result = run("solve", str(tmp_path / "grid.npz"), "--mode", "hard", "--horizon", "7")
    assert result.returncode == 0, result.stderr
    expected = ci.solve(grid.replace(horizon=7), mode="hard").V[0][grid.state(0, 0)]
    assert f"{expected:.6g}" in result.stdout

    (tmp_path / "maze.txt").write_text("S..#\n.#.G\n")
    plot = tmp_path / "v.png"
    result = run("solve", str(tmp_path / "maze.txt"), "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    assert plot.stat().st_size > 2_000


def test_solve_infinite_horizon():
    result = run("solve", "gridworld:3x3", "--horizon", "inf", "--gamma", "0.9")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("args, message", [
    (("solve", "marsworld"), "unknown world 'marsworld'"),
    (("solve", "missing.npz"), "no such file"),
    (("solve", "gridworld:3x3", "--temperature", "-1"), "expected a number > 0"),
    (("solve", "gridworld:3x3", "--horizon", "zero"), "expected a positive int or 'inf'"),
    (("solve", "gridworld:3x3", "--gamma", "1.5"), "expected 0 < gamma <= 1"),
    (("solve", "gridworld:3x3", "--horizon", "inf"), "horizon=None needs gamma < 1"),
    (("solve", "gridworld:3x3", "--mode", "exact", "--gamma", "0.9"), "mode='exact' needs gamma=1"),
    (("tutorial", "99"), "no tutorial 99"),
    (("frobnicate",), "invalid choice"),
])
def test_bad_arguments_exit_2_without_a_traceback(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_main_returns_zero_without_a_command(capsys):
    assert cli.main([]) == 0
    assert "usage: ctrlinf" in capsys.readouterr().out


def test_gridworld_spec_places_start_and_goal():
    grid = cli._gridworld_spec("gridworld:3x4")
    assert grid.shape == (3, 4) and grid.p0[grid.state(0, 0)] == 1.0
    assert grid.goals[2, 3] and np.isclose(grid.P.sum(axis=1), 1).all()


def test_irl_command_reports_evd(tmp_path):
    plot = tmp_path / "reward.png"
    result = run("irl", "gridworld", "--demos", "16", "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    assert "expected value difference" in result.stdout and plot.stat().st_size > 2_000


def test_tutorial_command_lists_and_runs(tmp_path):
    listing = run("tutorial", "--list")
    assert listing.returncode == 0 and "01_graphical_model.py" in listing.stdout
    env_run = subprocess.run([sys.executable, "-m", "ctrlinf", "tutorial", "5"],
                             capture_output=True, text=True, timeout=300, cwd=tmp_path,
                             env=dict(os.environ, MPLBACKEND="Agg",
                                      CTRLINF_FIGURES=str(tmp_path)))
    assert env_run.returncode == 0, env_run.stderr
    assert list(tmp_path.rglob("*.png"))
