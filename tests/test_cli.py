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
from ctrlinf.cli import _common, _worlds
from ctrlinf.cli import solve as solve_command

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
    assert version.stdout.strip() == f"ctrlinf {_common.version()}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", _common.version())


@pytest.mark.parametrize("command, defaults", [
    ("solve", ["(default: soft)", "(default: 1.0)", "(default: the world's own)",
               "(default: the world's own, 1", "(default: none)",
               "(default: the world's own: 0 for a map file, 0.1 for gridworld"]),
    ("demo", ["(default: figures/demo)", "(default: write figures)", "(default: no)"]),
    ("irl", ["(default: 32)", "(default: soft)", "(default: linear)", "(default: none)",
             "(default: 0)"]),
    ("explore", ["(required)", "(default: the world's own)", "(default: 9 from",
                 "(default: the world's own: 0 for a map file"]),
    ("tutorial", ["(default: list them)", "(default: off)"]),
    ("sweep", ["(required)", "(default: local processes)", "(default: one per core)",
               "(default: objectworld binaryworld)", "(default: exact soft deep)",
               "(default: 2 8 32 128;", "(default: 3;", "(default: 32)", "(default: 2;",
               "(default: 0.5 1 2;", "(default: --store)", "(default: tables and figures)"]),
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


def _options(command):
    parser = cli.build_parser()._subparsers._group_actions[0].choices[command]
    return [a for a in parser._actions if a.option_strings and a.dest != "help"]


@pytest.mark.parametrize("command", [name for name, _ in cli.COMMANDS])
def test_every_option_of_every_command_states_its_default(command):
    """Issue 19: `--help` shows every option's default, in every subcommand."""
    for option in _options(command):
        assert option.help, option.option_strings
        text = " ".join(option.help.split())
        assert "(default: " in text or text.endswith("(required)"), (
            command, option.option_strings, text)


def test_sweep_help_defaults_are_the_sweeps_own():
    from ctrlinf import sweep_tasks
    from ctrlinf.experiments import irl_evd

    helps = {a.dest: " ".join(a.help.split()) for a in _options("sweep")}
    quick, full = sweep_tasks.QUICK, sweep_tasks.FULL
    assert f"(default: {' '.join(f'{d:g}' for d in quick['demos'])};" in helps["demos"]
    assert f"with --full {' '.join(f'{d:g}' for d in full['demos'])})" in helps["demos"]
    assert f"(default: {quick['seeds']};" in helps["seeds"]
    assert f"(default: {quick['transfer']};" in helps["transfer"]
    assert f"(default: {' '.join(f'{t:g}' for t in quick['temperatures'])};" \
        in helps["temperatures"]
    assert f"at least {irl_evd.MIN_SIZE}" in helps["size"]


def test_cli_is_one_module_per_command_in_a_plain_table():
    """Issue 20: no dispatch through globals(); each command a module with the same five
    names, listed once in cli.COMMANDS, so adding one is one module and one line."""
    import importlib

    source = pathlib.Path(cli.__file__).read_text()
    assert "globals()" not in source
    names = [name for name, _ in cli.COMMANDS]
    assert {"demo", "solve", "irl", "tutorial", "explore", "sweep"} <= set(names)
    assert len(set(names)) == len(names)
    assert list(cli.build_parser()._subparsers._group_actions[0].choices) == names
    for name, module in cli.COMMANDS:
        assert module is importlib.import_module(f"ctrlinf.cli.{name}")
        for attribute in ("HELP", "DESCRIPTION", "EPILOG", "add_arguments", "run"):
            assert hasattr(module, attribute), (name, attribute)
    assert setup_entry_point() == "ctrlinf.cli:exit_status"


def setup_entry_point():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    (line,) = [l for l in config["options.entry_points"]["console_scripts"].splitlines() if l]
    return line.split("=")[1].strip()


def test_cli_takes_the_maths_from_the_core():
    """Issue 20: the CLI re-implements no policy evaluation and no reading of P's storage
    (dead states, absorbing goals): those are ci.evaluate_policy and dead_states."""
    sources = "\n".join(path.read_text() for path in
                        (REPO / "ctrlinf" / "cli").glob("*.py"))
    # Reading P's CSR rows (np.diff(P.indptr), P.indices[...]) is how dead states are found.
    for derived in ("indptr)", "indptr[", "indices[", "def policy_return", "_policy_rewards"):
        assert derived not in sources, derived
    assert "evaluate_policy(" in sources and "dead_states(" in sources


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
    grid = _worlds.gridworld_spec("gridworld:4x5")
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
    mdp = _worlds.frozenlake()
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
    # Two decimals: at one, "V_0 = 138.6 ... at most 138.6" read as V_0 being the bound
    # on the entropy bonus, which the printed 138.644 exceeds.
    assert (f"On FrozenLake (100 steps, τ = 1) the soft `V_0` = {soft_v:.2f} is the soft "
            f"policy's expected return, {soft_g:.3f}, plus an entropy bonus of "
            f"{entropy:.2f} (at most 100 log 4 = {100 * np.log(4):.2f}: nearly uniform "
            f"moves); the hard policy's expected return is "
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


def test_expected_return_and_goal_probability_match_enumeration():
    grid = ci.envs.gridworld((1, 3), slip=0.4, goals=[(0, 2)], start=[(0, 0)], horizon=3,
                             gamma=0.9, stay_action=False)
    pi = ci.solve(grid, mode="soft", temperature=0.7).policy
    r = grid.r

    def discounted(states, actions):
        return sum(0.9 ** t * r[states[t], actions[t]] for t in range(len(actions)))

    assert_allclose(solve_command.expected_return(grid, pi), _enumerate(grid, pi, discounted),
                    atol=1e-12)
    reached = solve_command.goal_probability(grid, pi, "gridworld:1x3")
    hit = _enumerate(grid, pi, lambda states, actions: float(2 in states))
    assert_allclose(reached, hit, atol=1e-12)
    assert 0 < reached[0] < 1


def test_expected_return_never_takes_a_forbidden_action():
    """r = -inf where π = 0 contributes nothing (not NaN from 0 · −inf)."""
    mdp = ci.envs.random_mdp(4, 3, seed=2, horizon=5)
    pi = ci.solve(mdp, mode="soft").policy.copy()
    pi[:, :, 0] = 0.0
    pi /= pi.sum(axis=2, keepdims=True)
    masked = mdp.r.copy()
    masked[:, 0] = -np.inf
    assert_allclose(solve_command.expected_return(mdp.replace(r=masked), pi),
                    solve_command.expected_return(mdp, pi))
    stationary = mdp.replace(horizon=None, gamma=0.8, r=masked)
    pi_inf = pi[0]
    G = solve_command.expected_return(stationary, pi_inf)
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
    monkeypatch.setattr(_common, "available_memory", lambda: 1_000_000)
    _common.check_memory(_common.MEMORY_FRACTION * 1_000_000, "fits")
    with pytest.raises(_common.UsageError, match=r"needs about 900 KB of memory, more than the "
                                             r"limit of 800 KB \(80% of the 1 MB available\)"):
        _common.check_memory(900_000, "this")
    monkeypatch.setattr(_common, "available_memory", lambda: None)
    _common.check_memory(10**30, "no limit known")  # the system will not say: no refusal
    # The estimate covers Q and π of shape (T, S, A) and V of shape (T, S), float64.
    assert _common.solve_bytes(10, 4, 7) >= 8 * (2 * 7 * 10 * 4 + 7 * 10)


def test_output_paths_are_checked_before_solving(capsys, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("solved before checking --plot")

    monkeypatch.setattr(ci, "solve", refuse)
    status, _, err = main(capsys, "solve", "gridworld:3x3", "--plot",
                          str(tmp_path / "missing" / "v.png"))
    assert status == 2 and "--plot" in err
    assert not (tmp_path / "missing").exists()
    _common.check_writable_file(tmp_path / "ok.png", "--plot")
    assert not (tmp_path / "ok.png").exists()  # the check leaves no file behind
    (tmp_path / "kept.png").write_bytes(b"old")
    _common.check_writable_file(tmp_path / "kept.png", "--plot")
    assert (tmp_path / "kept.png").read_bytes() == b"old"


def test_gridworld_spec_places_start_and_goal():
    grid = _worlds.gridworld_spec("gridworld:3x4")
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
    assert hint in pathlib.Path(_worlds.__file__).read_text()
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
        masked.p0 @ ci.evaluate_policy(masked, sol.policy)[1][0], rel=1e-5)
    assert "nan" not in out and "inf" not in out.replace("horizon=inf", "")


# -- issue 19: own maps, --slip, the temperature hint, τ, the tutorial folder ----------
#: An open 4x10 map, goal 12 moves from the start (solve --help quotes it).
OPEN_MAP = "S.........\n..........\n..........\n.........G\n"


def reference_goal_probability(grid, policy):
    """P(in a goal at step T) from p0, by ci.occupancy one step past the horizon (goals
    are absorbing, so being there at T is having reached it at some t <= T)."""
    T = grid.horizon
    padded = np.concatenate([policy, np.full((1,) + policy.shape[1:], 1 / grid.n_actions)])
    last = ci.occupancy(grid.replace(horizon=T + 1), padded)[T]
    return float(last[grid.goals.ravel()].sum())


@pytest.mark.parametrize("mode", ["exact", "soft", "hard"])
@pytest.mark.parametrize("temperature", [1.0, 1e-2, 1e-3])
def test_solve_prints_the_cores_numbers_at_every_temperature(tmp_path, capsys, mode,
                                                             temperature):
    """Every number solve prints is the core's (V_0, return, goal, evidence, per start)."""
    (tmp_path / "map.txt").write_text(OPEN_MAP)
    status, out, err = main(capsys, "solve", str(tmp_path / "map.txt"), "--mode", mode,
                            "--temperature", str(temperature), "--slip", "0.1")
    assert status == 0, err
    grid = ci.envs.gridworld_from_map(OPEN_MAP, slip=0.1)
    sol = ci.solve(grid, mode=mode, temperature=temperature)
    V0, G0 = sol.V[0], ci.evaluate_policy(grid, sol.policy)[1][0]
    reach = reference_goal_probability(grid, sol.policy)
    assert numbers(out, "E_p0[V_0]") == pytest.approx(grid.p0 @ V0, rel=1e-5)
    assert numbers(out, "expected return") == pytest.approx(grid.p0 @ G0, rel=1e-5)
    assert numbers(out, "P(reach goal)") == pytest.approx(reach, rel=1e-5, abs=1e-12)
    if mode == "exact":
        assert numbers(out, "log p(O)") == pytest.approx(ci.log_evidence(grid, sol), rel=1e-5)
    (start,) = np.flatnonzero(grid.p0)
    assert (f"  V_0({start}) = {V0[start]:.6g}   expected return {G0[start]:.6g}   "
            f"P(reach goal) {reach:.4g}") in out


def test_slip_reaches_map_files_and_gridworld_specs(tmp_path, capsys):
    (tmp_path / "map.txt").write_text(OPEN_MAP)
    for slip in ("0", "0.2", "1"):
        status, out, err = main(capsys, "solve", str(tmp_path / "map.txt"), "--slip", slip,
                                "--mode", "hard")
        assert status == 0, err
        grid = ci.envs.gridworld_from_map(OPEN_MAP, slip=float(slip))
        assert numbers(out, "E_p0[V_0]") == pytest.approx(
            grid.p0 @ ci.solve(grid, mode="hard").V[0], rel=1e-5)
    status, out, _ = main(capsys, "solve", "gridworld:3x4", "--slip", "0.3", "--mode", "hard")
    grid = ci.envs.gridworld((3, 4), slip=0.3, start=[(0, 0)], goals=[(2, 3)], horizon=11)
    assert numbers(out, "E_p0[V_0]") == pytest.approx(
        grid.p0 @ ci.solve(grid, mode="hard").V[0], rel=1e-5)
    # Without --slip: a map file is deterministic, gridworld:RxC slips 0.1.
    assert (_worlds.read_world(str(tmp_path / "map.txt")).P
            != ci.envs.gridworld_from_map(OPEN_MAP).P).nnz == 0
    assert (_worlds.read_world("gridworld:3x4").P
            != ci.envs.gridworld((3, 4), slip=_worlds.GRID_SLIP, start=[(0, 0)],
                                 goals=[(2, 3)]).P).nnz == 0


def test_explore_slip_gives_the_page_of_the_slippery_map(tmp_path, capsys):
    (tmp_path / "map.txt").write_text("S..\n..G\n")
    out = tmp_path / "page.html"
    assert cli.main(["explore", str(tmp_path / "map.txt"), "--out", str(out), "--slip", "0.3",
                     "--temperatures", "0.5"]) == 0
    reference = ci.explore.page(ci.envs.gridworld_from_map("S..\n..G\n", slip=0.3),
                                tmp_path / "reference.html", temperatures=[0.5])
    pattern = r'<script type="application/json" id="ctrlinf-data">(.*?)</script>'
    assert (re.search(pattern, out.read_text(), re.S).group(1)
            == re.search(pattern, reference.read_text(), re.S).group(1))


@pytest.mark.parametrize("args, message", [
    (("solve", "{tmp}/good.npz", "--slip", "0.1"), "--slip applies to a map file or gridworld"),
    (("solve", "frozenlake", "--slip", "0.1"), "--slip applies to a map file or gridworld"),
    (("explore", "{tmp}/good.npz", "--out", "{tmp}/p.html", "--slip", "0"),
     "--slip applies to a map file"),
    (("solve", "gridworld:3x3", "--slip", "1.5"), "expected a number in [0, 1], got '1.5'"),
    (("solve", "gridworld:3x3", "--slip", "nan"), "expected a number in [0, 1], got 'nan'"),
    (("solve", "gridworld:3x3", "--slip", "-0.1"), "expected a number in [0, 1]"),
    (("solve", "gridworld:3x3", "--slip", "wet"), "expected a number in [0, 1], got 'wet'"),
])
def test_slip_errors_print_one_line_and_exit_2(capsys, bad_files, args, message):
    args = [a.format(tmp=bad_files) for a in args]
    status, _, err = main(capsys, *args)
    assert status == 2 and err.count("\n") == 1 and message in err


#: A 3x30 open map: the goal is (3 - 1) + (30 - 1) = 31 moves from the start, beyond a map
#: file's own horizon of 20. CUT_OFF_MAP: the only way right passes the pit X (absorbing).
FAR_MAP = "S" + "." * 29 + "\n" + "." * 30 + "\n" + "." * 29 + "G\n"
CUT_OFF_MAP = "S...#...\n.##.#.#.\n....X..G\n"


@pytest.mark.parametrize("mode", ["exact", "soft", "hard"])
def test_solve_says_why_no_policy_reaches_the_goal(tmp_path, capsys, mode):
    """A newcomer's own map whose goal no policy reaches used to print P(reach goal) = 0
    and nothing else; solve now says whether the horizon is short or the goal cut off."""
    (tmp_path / "far.txt").write_text(FAR_MAP)
    (tmp_path / "cut.txt").write_text(CUT_OFF_MAP)
    status, out, _ = main(capsys, "solve", str(tmp_path / "far.txt"), "--mode", mode)
    assert status == 0 and numbers(out, "P(reach goal)") == 0
    assert ("hint: no policy reaches a goal within the horizon of 20 steps; the nearest "
            "goal is 31 moves away: try a longer --horizon") in out
    assert "swamps" not in out
    status, out, _ = main(capsys, "solve", str(tmp_path / "cut.txt"), "--mode", mode)
    assert status == 0 and numbers(out, "P(reach goal)") == 0
    assert "hint: no policy can reach a goal from the start" in out
    # 31 moves is the least horizon at which some policy can be in the goal (at t = T).
    far = ci.envs.gridworld_from_map(FAR_MAP)
    for T, best in ((30, 0.0), (31, 1.0)):
        world = far.replace(horizon=T)
        assert world.p0 @ solve_command.best_goal_probability(world, "far.txt") == best
    assert solve_command.unreachable_hint(far.replace(horizon=31), "far.txt") is None
    status, out, _ = main(capsys, "solve", str(tmp_path / "far.txt"), "--mode", mode,
                          "--horizon", "31", "--temperature", "0.01")
    assert status == 0 and "hint: no policy" not in out


def test_a_goal_cut_off_by_forbidden_moves_is_not_reachable(tmp_path, capsys):
    """The goal probability keeps r = -inf masks: a goal only forbidden moves lead to is
    reached by no policy, and solve says the goal is cut off (it used to let the indicator
    MDP take the forbidden moves, print P(reach goal) = 0 and no hint)."""
    grid = ci.envs.gridworld_from_map("S..\n...\n..G\n", horizon=10)
    down = [a for a in range(grid.n_actions)
            if grid.P[grid.n_actions * grid.state(1, 0) + a, grid.state(2, 0)] == 1.0]
    r = grid.r.copy()
    for col in range(3):   # no move down out of the middle row
        r[grid.state(1, col), down] = -np.inf
    masked = grid.replace(r=r)
    assert masked.p0 @ solve_command.best_goal_probability(masked, "masked.npz") == 0.0
    assert grid.p0 @ solve_command.best_goal_probability(grid, "open.npz") == 1.0
    masked.save(str(tmp_path / "masked.npz"))
    status, out, _ = main(capsys, "solve", str(tmp_path / "masked.npz"), "--mode", "hard")
    assert status == 0 and numbers(out, "P(reach goal)") == 0
    assert "hint: no policy can reach a goal from the start" in out


def test_hint_rule_fires_on_a_large_gain_and_suggests_the_first_good_temperature():
    rule, gain = solve_command.hint_rule, solve_command.HINT_GAIN
    table = {1.0: 0.02, 0.1: 0.5, 0.01: 0.95, 1e-3: 1.0}
    reach = table.__getitem__
    # From 1: near zero (1e-3) reaches 1.0; 0.1 is not within the gain, 0.01 is.
    assert rule(1.0, 1e-3, reach) == (0.02, 0.01, 0.95, 1.0)
    assert rule(0.1, 1e-3, reach) == (0.5, 0.01, 0.95, 1.0)
    assert rule(0.01, 1e-3, reach) is None                  # within the gain of near zero
    assert rule(1e-3, 1e-3, reach) is None                  # already near zero
    flat = {1.0: 0.5, 0.1: 0.5, 0.01: 0.5, 1e-3: 0.5 + gain * 0.99}
    assert rule(1.0, 1e-3, flat.__getitem__) is None        # a gain under HINT_GAIN
    late = {1.0: 0.0, 0.1: 0.0, 0.01: 0.0, 2e-3: 1.0}
    assert rule(1.0, 2e-3, late.__getitem__) == (0.0, 2e-3, 1.0, 1.0)  # only near zero


def test_solve_hints_when_the_temperature_swamps_the_rewards(tmp_path, capsys):
    """Issue 19: the open map at τ = 1 (exact and soft) reaches the goal rarely; solve says
    so, with the core's goal probabilities; at τ = 0.2 and in hard mode it does not."""
    (tmp_path / "map.txt").write_text(OPEN_MAP)
    grid = ci.envs.gridworld_from_map(OPEN_MAP)

    def reach(mode, tau):
        return reference_goal_probability(grid, ci.solve(grid, mode=mode, temperature=tau).policy)

    cold = ci.explore.default_temperatures(grid)[0]
    for mode in ("exact", "soft"):
        status, out, _ = main(capsys, "solve", str(tmp_path / "map.txt"), "--mode", mode)
        assert status == 0
        hint = re.search(r"^hint: the temperature swamps the rewards: this policy reaches a "
                         r"goal with probability (\S+), the (\w+) policy at --temperature "
                         r"(\S+) with (\S+) \(near temperature 0: (\S+)\)", out, re.M)
        assert hint, out
        here, named, suggested, there, near_zero = hint.groups()
        assert named == mode and float(suggested) < 1
        # Four significant digits: within half a unit of the fourth.
        assert float(here) == pytest.approx(reach(mode, 1.0), rel=5.001e-4)
        assert float(there) == pytest.approx(reach(mode, float(suggested)), rel=5.001e-4)
        assert float(near_zero) == pytest.approx(reach(mode, cold), rel=5.001e-4)
        assert float(near_zero) - float(here) >= solve_command.HINT_GAIN
    for args in (("--temperature", "0.2"), ("--mode", "hard")):
        status, out, _ = main(capsys, "solve", str(tmp_path / "map.txt"), *args)
        assert status == 0 and "hint" not in out
    # solve --help quotes this map's numbers.
    status, text, _ = main(capsys, "solve", "--help")
    text = " ".join(text.split())
    quoted = re.search(r"the exact policy at τ = 1 reaches the goal with probability (\S+), "
                       r"at τ = 0.2 with (\S+);", text)
    assert float(quoted.group(1)) == pytest.approx(reach("exact", 1.0), abs=5e-4)
    assert float(quoted.group(2)) == pytest.approx(reach("exact", 0.2), abs=5e-4)
    assert "goal 12 moves away" in text and grid.state(3, 9) == 39
    from ctrlinf.envs import grid as grid_module
    assert (grid_module.STEP_REWARD, grid_module.GOAL_REWARD) == (-0.01, 1.0)
    assert "A map pays -0.01 per step and +1 per step in the goal" in text


def test_the_temperature_is_tau_never_alpha(tmp_path, capsys):
    """Issue 19: α is the forward message α_t; the temperature is τ in help and output."""
    for command in ("solve", "explore", "sweep"):
        status, out, _ = main(capsys, command, "--help")
        assert status == 0 and not re.search("α(?!_t)", out) and "τ" in out
    (tmp_path / "map.txt").write_text(OPEN_MAP)
    status, out, _ = main(capsys, "solve", str(tmp_path / "map.txt"), "--mode", "exact",
                          "--temperature", "0.5")
    assert status == 0 and "α" not in out
    assert "mode = exact, temperature τ = 0.5" in out and "exp(V_0(s)/τ)" in out
    lines = []
    demo.run(figures=False, stream=lines.append)
    assert "α" not in "\n".join(lines) and f"temperature τ = {demo.DEMO_TEMPERATURE}" in lines[0]


def test_tutorial_help_names_the_folder_the_tutorials_write_to(capsys, tmp_path,
                                                               monkeypatch):
    import importlib.util

    import numba

    spec = importlib.util.spec_from_file_location("tutorials_common",
                                                  REPO / "tutorials" / "_common.py")
    common = importlib.util.module_from_spec(spec)
    threads = numba.get_num_threads()
    spec.loader.exec_module(common)  # sets numba's thread count to 1, for the scripts
    numba.set_num_threads(threads)   # later tests run the parallel kernels again
    status, out, _ = main(capsys, "tutorial", "--help")
    text = " ".join(out.split())
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CTRLINF_FIGURES", raising=False)
    default = common.figure_dir().relative_to(tmp_path).as_posix()
    assert f"figures go to ./{default}/ under the current directory" in text
    monkeypatch.setenv("CTRLINF_FIGURES", str(tmp_path / "elsewhere"))
    assert common.figure_dir() == tmp_path / "elsewhere" / "tutorials"
    assert "(or $CTRLINF_FIGURES/tutorials/ when set)" in text
    assert "figures/tutorials/ (or" not in text
    # --list is a switch, off unless given; its help once said "(default: run tutorial
    # N)", which read as a default tutorial number.
    assert "--list list the tutorials instead of running one, as when N is left out " \
           "(default: off)" in text
