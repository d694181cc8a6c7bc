"""The `ctrlinf` command end to end (subprocesses), its numbers and its friendly errors."""
import configparser
import itertools
import os
import pathlib
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from ctrlinf import cli, demo

REPO = pathlib.Path(__file__).resolve().parent.parent


def run(*args, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "ctrlinf", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def main(capsys, *args):
    """Run ``cli.main`` in this process; return (status, stdout, stderr)."""
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def numbers(out, label):
    """The number printed after ``label =``."""
    return float(re.search(rf"^{re.escape(label)}\s*= (\S+)", out, re.M).group(1))


# -- help, version -----------------------------------------------------------------
def test_help_lists_the_commands_and_version():
    result = run("--help")
    assert result.returncode == 0
    for command in ("demo", "solve", "irl", "tutorial", "explore"):
        assert command in result.stdout
    version = run("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"ctrlinf {cli._version()}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", cli._version())


@pytest.mark.parametrize("command, defaults", [
    ("solve", ["(default: soft)", "(default: 1.0)", "(default: the world's own)",
               "(default: the world's own, 1", "(default: none)"]),
    ("demo", ["(default: figures/demo)", "(default: write figures)", "default: no)"]),
    ("irl", ["(default: 32)", "(default: soft)", "(default: linear)", "(default: none)",
             "(default: 0)"]),
    ("explore", ["(required)", "(default: the world's own)", "(default: 9 from"]),
])
def test_help_shows_every_default(capsys, command, defaults):
    status, out, _ = main(capsys, command, "--help")
    assert status == 0
    text = " ".join(out.split())
    for default in defaults:
        assert default in text
    # Every option but --help says its default.
    options = [a for a in cli.build_parser()._subparsers._group_actions[0].choices[command]
               ._actions if a.option_strings and a.dest != "help"]
    assert all("default" in a.help or a.required for a in options)


def test_main_returns_zero_without_a_command(capsys):
    assert cli.main([]) == 0
    assert "usage: ctrlinf" in capsys.readouterr().out


# -- demo --------------------------------------------------------------------------
def test_demo_writes_its_figures_only_into_its_ignored_folder(tmp_path):
    """Run from a folder, `ctrlinf demo` writes three pictures to figures/demo/ there and
    nothing else (no GIF unless asked); in the repository that folder is ignored by git,
    so no tracked file changes."""
    result = run("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                     if p.is_file())
    assert written == [f"figures/demo/{name}" for name in
                       ("exact_vs_soft.png", "message_intersection.png", "policy.png")]
    for name in written:
        assert (tmp_path / name).stat().st_size > 5_000
    assert "log p(O)" in result.stdout and "exact" in result.stdout
    ignore = (REPO / ".gitignore").read_text().split()
    assert "/figures/demo/" in ignore


def test_demo_gif_is_opt_in(tmp_path, capsys, monkeypatch):
    """--gif animates the exact posterior marginals (the rendering itself is tested in
    test_plot.py; here a stand-in records what it was asked to draw)."""
    calls = []

    def animate(world, marginals, path, **kwargs):
        calls.append((world, marginals))
        pathlib.Path(path).write_bytes(b"GIF89a")
        return path

    monkeypatch.setattr(ci.plot, "animate_marginals", animate)
    assert cli.main(["demo", "--out", str(tmp_path), "--gif"]) == 0
    assert (tmp_path / "marginals.gif").is_file() and "marginals.gif" in capsys.readouterr().out
    (world, marginals), = calls
    exact = ci.solve(world, mode="exact", temperature=demo.DEMO_TEMPERATURE)
    assert_allclose(marginals, ci.marginals(world, exact)[0])


def test_compiled_kernels_are_cached_for_later_runs():
    """README: the first demo compiles the numba kernels, which are cached for later runs."""
    import numba

    from ctrlinf import kernels

    compiled = [f for f in vars(kernels).values()
                if isinstance(f, numba.core.registry.CPUDispatcher)]
    assert compiled and all(type(f._cache).__name__ == "FunctionCache" for f in compiled)


def test_demo_shows_the_optimism_problem():
    """Exact inference walks the cliff edge: it ends in a pit far more often than soft."""
    report = demo.run(figures=False, stream=lambda line: None)
    rows = {mode: (v0, pit) for mode, v0, pit, _ in report["table"]}
    assert rows["exact"][1] > 3 * rows["soft"][1]
    assert rows["exact"][0] > rows["soft"][0]


def test_readme_demo_table_and_figures_match_the_demo():
    readme = (REPO / "README.md").read_text()
    report = demo.run(figures=False, stream=lambda line: None)
    for mode, v0, pit, evidence in report["table"]:
        row = re.search(rf"^{mode}\s+(\S+)\s+(\S+)\s+(\S+)$", readme, re.M).groups()
        assert float(row[0]) == pytest.approx(v0, abs=5e-4)
        assert float(row[1]) == pytest.approx(pit, abs=5e-4)
        if mode == "exact":
            assert float(row[2]) == pytest.approx(evidence, abs=5e-4)
    pits = {mode: pit for mode, _, pit, _ in report["table"]}
    assert f"in a pit {100 * pits['exact']:.0f}% of the time" in readme
    assert f"keeps its distance ({100 * pits['soft']:.0f}%)" in readme
    for image in re.findall(r"!\[[^]]*\]\(([^)]+)\)", readme):
        assert (REPO / image).is_file(), image


# -- solve: what the numbers are ---------------------------------------------------
def test_solve_gridworld_spec_prints_v0():
    result = run("solve", "gridworld:4x5", "--mode", "exact", "--temperature", "0.5")
    assert result.returncode == 0, result.stderr
    assert "E_p0[V_0]" in result.stdout and "log p(O)" in result.stdout
    grid = cli._gridworld_spec("gridworld:4x5")
    sol = ci.solve(grid, mode="exact", temperature=0.5)
    assert numbers(result.stdout, "log p(O)") == pytest.approx(ci.log_evidence(grid, sol),
                                                               rel=1e-5)
    # Exact V_0 = α log β_0: the log evidence from one start state.
    assert numbers(result.stdout, "E_p0[V_0]") == pytest.approx(
        0.5 * ci.log_evidence(grid, sol), rel=1e-5)


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


def test_solve_finds_a_file_saved_without_its_extension(tmp_path, capsys):
    grid = ci.envs.gridworld_from_map(["S.G"], horizon=4)
    grid.save(str(tmp_path / "world"))  # writes world.npz
    status, out, err = main(capsys, "solve", str(tmp_path / "world"), "--mode", "hard")
    assert status == 0, err
    assert numbers(out, "E_p0[V_0]") == pytest.approx(grid.p0 @ ci.solve(grid, mode="hard").V[0])


def test_solve_frozenlake_separates_return_from_entropy(capsys):
    """Soft V_0 on FrozenLake is mostly entropy; the expected return is small; hard mode's
    V_0 is its expected return; FrozenLake's success probability is its return."""
    import gymnasium

    status, soft, _ = main(capsys, "solve", "frozenlake")
    assert status == 0
    status, hard, _ = main(capsys, "solve", "frozenlake", "--mode", "hard")
    assert status == 0
    mdp = cli._frozenlake()
    sol = ci.solve(mdp, mode="soft")
    # Soft value = expected return + α Σ_t E[H(π_t(·|s_t))], from the occupancy.
    d = ci.occupancy(mdp, sol.policy)
    logs = np.log(np.where(sol.policy > 0, sol.policy, 1.0))
    entropy = -(d[:, :, None] * sol.policy * logs).sum()
    assert numbers(soft, "E_p0[V_0]") == pytest.approx(
        numbers(soft, "expected return") + entropy, rel=1e-5)
    assert numbers(soft, "expected return") < 0.1 < 0.7 < numbers(hard, "expected return")
    assert numbers(hard, "E_p0[V_0]") == pytest.approx(numbers(hard, "expected return"),
                                                       rel=1e-5)
    # The premise of "success = return": FrozenLake pays 1 exactly on stepping onto G
    # (from another cell: the agent never starts on G).
    table = gymnasium.make("FrozenLake-v1").unwrapped.P
    goal = 15
    assert mdp.p0[goal] == 0
    for s, a in itertools.product(range(goal), range(4)):
        for prob, s_next, reward, terminated in table[s][a]:
            assert reward == (1.0 if s_next == goal else 0.0)
            assert terminated or s_next != goal
    for text in (soft, hard):
        assert numbers(text, "P(reach goal)") == numbers(text, "expected return")
    # README's sentence about it, number by number.
    readme = " ".join((REPO / "README.md").read_text().split())
    soft_v, soft_g = numbers(soft, "E_p0[V_0]"), numbers(soft, "expected return")
    assert entropy <= 100 * np.log(4) and soft_v - soft_g > 0.99 * soft_v
    assert (f"On FrozenLake (100 steps, α = 1) the soft `V_0` = {soft_v:.1f} is almost all "
            f"entropy bonus (at most 100 log 4 = {100 * np.log(4):.1f}): the soft policy's "
            f"expected return is {soft_g:.3f}, the hard policy's "
            f"{numbers(hard, 'expected return'):.3f}.") in readme
    assert mdp.horizon == 100


def _enumerate(mdp, policy, value):
    """Σ over every (s_0, a_0, ..., s_T) of its probability times value(states, actions)."""
    P = mdp.transition_tensor()
    S, A, T = mdp.n_states, mdp.n_actions, mdp.horizon
    total = np.zeros(S)
    for s0 in range(S):
        for states in itertools.product(range(S), repeat=T):
            for actions in itertools.product(range(A), repeat=T):
                if states[0] != s0:
                    continue
                prob = 1.0
                for t in range(T):
                    nxt = states[t + 1] if t + 1 < T else None
                    prob *= policy[t, states[t], actions[t]]
                    if nxt is not None:
                        prob *= P[states[t], actions[t], nxt]
                if prob == 0:
                    continue
                # Sum out the last state s_T.
                for last in range(S):
                    p_last = prob * P[states[-1], actions[-1], last]
                    if p_last:
                        total[s0] += p_last * value(states + (last,), actions)
    return total


def test_policy_return_and_success_match_enumeration():
    grid = ci.envs.gridworld((1, 3), slip=0.4, goals=[(0, 2)], start=[(0, 0)], horizon=3,
                             gamma=0.9, stay_action=False)
    pi = ci.solve(grid, mode="soft", temperature=0.7).policy
    r = grid.r

    def discounted(states, actions):
        return sum(0.9 ** t * r[states[t], actions[t]] for t in range(len(actions)))

    assert_allclose(cli.policy_return(grid, pi), _enumerate(grid, pi, discounted), atol=1e-12)
    reached = cli.success_probability(grid, pi, "gridworld:1x3")
    hit = _enumerate(grid, pi, lambda states, actions: float(2 in states))
    assert_allclose(reached, hit, atol=1e-12)
    assert 0 < reached[0] < 1


def test_policy_return_never_takes_a_forbidden_action():
    """r = -inf where π = 0 contributes nothing (not NaN from 0 · −inf)."""
    mdp = ci.envs.random_mdp(4, 3, seed=2, horizon=5)
    pi = ci.solve(mdp, mode="soft").policy.copy()
    pi[:, :, 0] = 0.0
    pi /= pi.sum(axis=2, keepdims=True)
    masked = mdp.r.copy()
    masked[:, 0] = -np.inf
    assert_allclose(cli.policy_return(mdp, pi, reward=masked), cli.policy_return(mdp, pi))
    stationary = mdp.replace(horizon=None, gamma=0.8)
    pi_inf = pi[0]
    G = cli.policy_return(stationary, pi_inf, reward=masked)
    assert np.isfinite(G).all()
    # Infinite horizon: G = r_π + γ P_π G.
    r_pi = (pi_inf * mdp.r).sum(axis=1)
    P_pi = np.einsum("sa,sat->st", pi_inf, stationary.transition_tensor())
    assert_allclose(G, r_pi + 0.8 * P_pi @ G, atol=1e-10)


def test_solve_lists_ten_start_states_then_how_many_more(tmp_path, capsys):
    (tmp_path / "starts.txt").write_text("SSSSSS\nSSSSSS\n....G.\n")
    status, out, _ = main(capsys, "solve", str(tmp_path / "starts.txt"))
    assert status == 0
    assert out.count("  V_0(") == 10 and "start states (12):" in out
    assert "...and 2 more" in out


def test_solve_infinite_horizon(capsys):
    status, out, err = main(capsys, "solve", "gridworld:3x3", "--horizon", "inf",
                            "--gamma", "0.9")
    assert status == 0, err
    assert "expected return" in out and "P(reach goal)" not in out


# -- user errors: one line, exit 2 ------------------------------------------------------
@pytest.fixture
def bad_files(tmp_path):
    good = tmp_path / "good.npz"
    ci.envs.gridworld((2, 2), horizon=3).save(good)
    data = good.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    (tmp_path / "folder.npz").mkdir()
    np.save(tmp_path / "array.npy", np.ones(3))
    rng = np.random.default_rng(0)
    (tmp_path / "noise.npz").write_bytes(rng.bytes(600))
    (tmp_path / "noise").write_bytes(rng.bytes(600))
    np.savez(tmp_path / "other.npz", a=np.ones(2))
    with zipfile.ZipFile(tmp_path / "badmember.npz", "w") as archive:
        archive.writestr("r.npy", b"not an array")
    (tmp_path / "empty.npz").write_bytes(b"")
    saved = dict(np.load(good))
    np.savez(tmp_path / "horizon.npz", **dict(saved, horizon=np.array(3.7)))
    (tmp_path / "a_file").write_text("x")
    return tmp_path


@pytest.mark.parametrize("args, message", [
    (("solve", "marsworld"), "unknown world 'marsworld'"),
    (("solve", "missing.npz"), "no such file: missing.npz"),
    (("solve", "{tmp}/truncated.npz"), "truncated.npz"),
    (("solve", "{tmp}/folder.npz"), "folder.npz is a directory"),
    (("solve", "{tmp}/array.npy"), "array.npy is a single numpy array (.npy)"),
    (("solve", "{tmp}/noise.npz"), "noise.npz: not a .npz file"),
    (("solve", "{tmp}/empty.npz"), "empty.npz: not a .npz file"),
    (("solve", "{tmp}/noise"), "noise: not a text map"),
    (("solve", "{tmp}/other.npz"), "other.npz"),
    (("solve", "{tmp}/badmember.npz"), "badmember.npz"),
    (("solve", "{tmp}/horizon.npz"), "'horizon'"),
    (("solve", "gridworld:3x3", "--temperature", "-1"), "expected a finite number > 0"),
    (("solve", "gridworld:3x3", "--temperature", "inf"), "expected a finite number > 0"),
    (("solve", "gridworld:3x3", "--horizon", "zero"), "expected a positive int or 'inf'"),
    (("solve", "gridworld:3x3", "--gamma", "1.5"), "expected 0 < gamma <= 1"),
    (("solve", "gridworld:3x3", "--horizon", "inf"), "--horizon inf needs --gamma < 1"),
    (("solve", "gridworld:3x3", "--mode", "exact", "--gamma", "0.9"),
     "--mode exact needs --gamma 1"),
    (("solve", "gridworld:3x3", "--mode", "exact", "--horizon", "inf", "--gamma", "0.9"),
     "--mode exact needs a finite --horizon"),
    (("solve", "gridworld:100000x100000"), "needs about"),
    (("solve", "gridworld:3x3", "--horizon", str(10**15)), "needs about"),
    (("solve", "frozenlake", "--horizon", str(10**14)), "needs about"),
    (("solve", "gridworld:3x3", "--plot", "{tmp}/no/such/folder/v.png"), "does not exist"),
    (("solve", "gridworld:3x3", "--plot", "{tmp}"), "is a directory"),
    (("solve", "gridworld:3x3", "--plot", "{tmp}/a_file/v.png"), "does not exist"),
    (("solve", "gridworld:3x3", "--plot", "{tmp}/v.nosuchformat"), "cannot write .nosuchformat"),
    (("demo", "--out", "{tmp}/a_file"), "is a file, expected a folder"),
    (("irl", "gridworld", "--demos", str(10**9)), "--demos 1000000000 is more than"),
    (("irl", "gridworld", "--plot", "{tmp}/no/v.png"), "does not exist"),
    (("tutorial", "99"), "no tutorial 99"),
    (("frobnicate",), "invalid choice"),
    (("solve",), "the following arguments are required: world"),
])
def test_user_errors_print_one_line_and_exit_2(capsys, bad_files, args, message):
    args = [a.format(tmp=bad_files) for a in args]
    status, out, err = main(capsys, *args)
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("ctrlinf")
    assert "error: " in err and message.format(tmp=bad_files) in err
    assert "Traceback" not in err


def test_errors_end_to_end_have_no_traceback(bad_files):
    for args in (("solve", str(bad_files / "truncated.npz")),
                 ("solve", "gridworld:100000x100000"),
                 ("solve", "gridworld:3x3", "--gamma", "2")):
        result = run(*args)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_memory_is_checked_before_anything_is_built(capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("built a world that cannot fit")

    monkeypatch.setattr(ci.envs, "gridworld", refuse)
    monkeypatch.setattr(ci, "solve", refuse)
    status, _, err = main(capsys, "solve", "gridworld:100000x100000")
    assert status == 2
    # The estimate (≥ 5 · 10^10 float64 per time step) and the limit are both named.
    assert re.search(r"needs about [\d.]+ PB of memory, more than the limit of", err)


def test_memory_limit_is_a_fraction_of_the_available_memory(monkeypatch):
    monkeypatch.setattr(cli, "available_memory", lambda: 1_000_000)
    cli.check_memory(cli.MEMORY_FRACTION * 1_000_000, "fits")
    with pytest.raises(cli.UsageError, match=r"needs about 900 KB of memory, more than the "
                                             r"limit of 800 KB \(80% of the 1 MB available\)"):
        cli.check_memory(900_000, "this")
    monkeypatch.setattr(cli, "available_memory", lambda: None)
    cli.check_memory(10**30, "no limit known")  # the system will not say: no refusal
    # The estimate covers Q and π of shape (T, S, A) and V of shape (T, S), float64.
    assert cli._solve_bytes(10, 4, 7) >= 8 * (2 * 7 * 10 * 4 + 7 * 10)


def test_output_paths_are_checked_before_solving(capsys, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("solved before checking --plot")

    monkeypatch.setattr(ci, "solve", refuse)
    status, _, err = main(capsys, "solve", "gridworld:3x3", "--plot",
                          str(tmp_path / "missing" / "v.png"))
    assert status == 2 and "--plot" in err
    assert not (tmp_path / "missing").exists()
    cli.check_writable_file(tmp_path / "ok.png", "--plot")
    assert not (tmp_path / "ok.png").exists()  # the check leaves no file behind
    (tmp_path / "kept.png").write_bytes(b"old")
    cli.check_writable_file(tmp_path / "kept.png", "--plot")
    assert (tmp_path / "kept.png").read_bytes() == b"old"


def test_gridworld_spec_places_start_and_goal():
    grid = cli._gridworld_spec("gridworld:3x4")
    assert grid.shape == (3, 4) and grid.p0[grid.state(0, 0)] == 1.0
    assert grid.goals[2, 3] and np.isclose(grid.P.sum(axis=1), 1).all()
    # As its help says: slip 0.1, horizon ROWS + COLS + 4.
    same = ci.envs.gridworld((3, 4), slip=0.1, start=[(0, 0)], goals=[(2, 3)])
    assert grid.horizon == 3 + 4 + 4 and (grid.P != same.P).nnz == 0


# -- install hints, notebooks, progress bars -------------------------------------------
def test_install_hints_match_the_readme():
    readme = (REPO / "README.md").read_text()
    hint = 'pip install -e ".[gym]"'
    assert hint in readme
    assert hint in pathlib.Path(cli.__file__).read_text()
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    extras = config["options.extras_require"]
    assert "gymnasium" in extras["gym"] and "jupytext" in extras["notebooks"]
    assert 'pip install -e ".[notebooks]"' in readme
    assert "jupytext --to notebook tutorials/01_graphical_model.py" in readme
    first = (REPO / "tutorials" / "01_graphical_model.py").read_text()
    assert first.startswith("# %%")  # jupytext's percent format


def test_no_ipywidgets_warning_in_a_notebook_kernel(tmp_path):
    """In Jupyter without ipywidgets, importing ctrlinf and showing a bar stays quiet."""
    fake = tmp_path / "fake"
    (fake / "ipykernel").mkdir(parents=True)
    (fake / "ipykernel" / "__init__.py").write_text("")
    (fake / "ipykernel" / "zmqshell.py").write_text("")
    (fake / "ipywidgets.py").write_text("raise ImportError('no ipywidgets here')\n")
    code = (
        "import warnings, sys\n"
        "warnings.simplefilter('error')\n"
        "import ipykernel.zmqshell\n"
        "import ctrlinf as ci\n"
        "from ctrlinf import _progress\n"
        "bar = _progress.progress_bar(3, True, 'x'); bar.update(3); bar.close()\n"
        "print(type(bar).__module__)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(fake), str(REPO)]))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "tqdm.std"
    assert "IProgress" not in result.stderr


def test_every_progress_bar_goes_through_one_helper():
    importers = [p.name for p in (REPO / "ctrlinf").rglob("*.py")
                 if re.search(r"^\s*(from|import) tqdm", p.read_text(), re.M)]
    assert importers == ["_progress.py"]


# -- other commands ------------------------------------------------------------------
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


@pytest.mark.parametrize("mode", ["exact", "soft", "hard"])
def test_solve_a_world_with_forbidden_actions(tmp_path, capsys, mode):
    """r = -inf forbids an action; every printed number stays finite."""
    mdp = ci.envs.random_mdp(4, 3, seed=1, horizon=5)
    r = mdp.r.copy()
    r[0, 1] = r[2, 0] = -np.inf
    mdp.replace(r=r).save(tmp_path / "masked.npz")
    status, out, err = main(capsys, "solve", str(tmp_path / "masked.npz"), "--mode", mode)
    assert status == 0, err
    masked = mdp.replace(r=r)
    sol = ci.solve(masked, mode=mode)
    assert numbers(out, "expected return") == pytest.approx(
        masked.p0 @ cli.policy_return(masked, sol.policy), rel=1e-5)
    assert "nan" not in out and "inf" not in out.replace("horizon=inf", "")
