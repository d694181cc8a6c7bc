"""What a newcomer meets first (issue 19, item 15): the notebook route of the README runs,
its output is ignored by git, `dir(ci)` lists the subpackages, and an unconverged deep
IRL fit says so as a linear one does."""
import configparser
import importlib.util
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import ctrlinf as ci

REPO = Path(__file__).resolve().parent.parent


def run(args, cwd, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(REPO), MPLBACKEND="Agg")
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_notebooks_extra_holds_what_the_readme_route_runs():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    extra = config["options.extras_require"]["notebooks"]
    for package in ("jupytext", "nbconvert", "ipykernel"):
        assert package in extra, package
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "jupytext --to notebook tutorials/01_graphical_model.py" in readme
    assert ("jupyter nbconvert --to notebook --execute --inplace "
            "tutorials/01_graphical_model.ipynb") in readme


@pytest.mark.skipif(any(importlib.util.find_spec(name) is None
                        for name in ("jupytext", "nbconvert", "ipykernel")),
                    reason='needs pip install -e ".[notebooks]"')
def test_the_readme_notebook_route_converts_and_runs_a_tutorial(tmp_path):
    for name in ("01_graphical_model.py", "_common.py"):
        shutil.copy(REPO / "tutorials" / name, tmp_path / name)
    result = run([sys.executable, "-m", "jupytext", "--to", "notebook",
                  "01_graphical_model.py"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    result = run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                  "--execute", "--inplace", "01_graphical_model.ipynb"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    import nbformat
    notebook = nbformat.read(tmp_path / "01_graphical_model.ipynb", as_version=4)
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      if cell.cell_type == "code" for output in cell.get("outputs", []))
    assert "figure:" in printed                 # ran to the end: the figure was saved
    assert not any(output.get("output_type") == "error" for cell in notebook.cells
                   for output in cell.get("outputs", []))


def test_generated_notebooks_are_ignored_by_git():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["tutorials/01_graphical_model.ipynb", "tutorials/.ipynb_checkpoints/x.ipynb"]
    result = subprocess.run(["git", "check-ignore", *paths], cwd=REPO, capture_output=True,
                            text=True)
    assert result.stdout.split() == paths


def test_dir_lists_the_lazy_subpackages_before_they_are_imported():
    code = ("import sys, ctrlinf as ci\n"
            "assert 'ctrlinf.irl' not in sys.modules\n"
            "print(' '.join(dir(ci)))\n")
    result = run([sys.executable, "-c", code], REPO)
    assert result.returncode == 0, result.stderr
    listed = set(result.stdout.split())
    assert set(ci.__all__) <= listed
    assert {"irl", "plot", "envs", "bridge", "explore", "sweep", "experiments"} <= listed


def tiny_irl_problem():
    mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=np.zeros((1, 2)), p0=[1.0], horizon=1)
    demos = ci.Trajectories([[0], [0], [0], [0]], [[1], [1], [1], [0]])
    return mdp, np.eye(2)[None], demos


def test_fit_deep_warns_when_it_spends_its_budget_unconverged_as_fit_does():
    mdp, phi, demos = tiny_irl_problem()
    with pytest.warns(RuntimeWarning, match=r"deep IRL \(soft\) spent its budget of max_iter=3"):
        res = ci.irl.fit_deep(mdp, phi, demos, hidden=(4,), max_iter=3, seed=0, progress=False)
    assert not res.converged
    with pytest.warns(RuntimeWarning, match=r"MCE IRL \(soft\) spent its budget of max_iter=3"):
        ci.irl.fit(mdp, phi, demos, optimizer="gradient", max_iter=3, progress=False)
    # A fixed budget asked for (gtol=None), or a converged fit, is not warned about.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ci.irl.fit_deep(mdp, phi, demos, hidden=(4,), max_iter=3, gtol=None, seed=0,
                              progress=False)
        assert res.converged
        res = ci.irl.fit_deep(mdp, phi, demos, hidden=(4,), l2=0.0, optimizer="lbfgs",
                              seed=0, progress=False)
        assert res.converged


def test_without_the_sb3_extra_its_names_say_how_to_install_it(monkeypatch):
    # A fresh `pip install -e ".[test]"` has no SB3: the callback class, built from SB3's
    # BaseCallback on first access, must say how to get it, as the table readers do.
    from ctrlinf.bridge import sb3
    for name in ("torch", "stable_baselines3", "stable_baselines3.common.callbacks"):
        monkeypatch.setitem(sys.modules, name, None)          # importing it raises ImportError
    monkeypatch.delitem(vars(sb3), "OracleCallback", raising=False)   # built on first access
    install = r'pip install torch==2\.13\.0, then pip install -e "\.\[sb3\]"'
    with pytest.raises(ImportError, match=install):
        sb3.OracleCallback
    with pytest.raises(ImportError, match=install):
        sb3.value_table(object())


def test_every_sb3_install_hint_installs_the_cpu_torch_first():
    # Plain `pip install -e ".[sb3]"` pulls torch's default (CUDA, gigabytes) build; the
    # README installs torch==2.13.0 first, and every hint must say the same.
    texts = [REPO / "README.md", *REPO.glob("tutorials/*.py"), *REPO.glob("examples/*.py"),
             *REPO.glob("benchmarks/*.py"), *REPO.glob("ctrlinf/**/*.py"),
             *REPO.glob("docs/*.rst")]
    hints = 0
    for path in texts:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if 'pip install -e ".[sb3]"' in line:
                hints += 1
                assert "torch==2.13.0" in line, f"{path.relative_to(REPO)}:{number}: {line}"
    assert hints >= 5


def test_the_forward_row_of_the_message_picture_says_it_conditions_on_optimality():
    # An instructor's 5x5 grid (p0 uniform off the goal) at temperature 0.01: every cell is
    # reachable at t = 3, yet α_3 sits on the goal, so "reachable from start" alone misleads.
    from ctrlinf.mdp import reachable_states
    from ctrlinf.plot.messages import ROW_LABELS

    grid = ci.envs.gridworld((5, 5), slip=0.1, goals=[(4, 4)], horizon=12)
    alpha = ci.forward(grid, ci.solve(grid, mode="exact", temperature=0.01))
    assert reachable_states(grid)[3].all()
    assert alpha[3, grid.state(4, 4)] > 0.99
    assert "optimal so far" in ROW_LABELS[0]


def test_an_oracle_prints_what_it_solved():
    # print(oracle) showed <ctrlinf.bridge.oracle.Oracle object at 0x...>.
    mdp = ci.envs.random_mdp(5, 3, seed=0, horizon=10)
    assert repr(ci.bridge.Oracle.stationary(mdp, gamma=0.9)) == (
        f"Oracle({mdp.replace(horizon=None, gamma=0.9)!r}, temperature=0)")
    assert repr(ci.bridge.Oracle(mdp, temperature=0.5)) == f"Oracle({mdp!r}, temperature=0.5)"
    P = np.zeros((2, 1, 2)); P[:, 0, 1] = 1                       # state 1 is dead
    dead = ci.TabularMDP(P, r=[[1.0], [0.0]], p0=[1, 0], horizon=3)
    assert repr(ci.bridge.Oracle(dead, terminate_dead_states=True)).endswith(
        "temperature=0, terminate_dead_states=True)")
