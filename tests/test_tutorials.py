"""Every tutorial runs headless, top to bottom, and writes the figures its README names.

The tutorials assert their own claims (against enumeration and closed forms), so a
clean exit means every claim held. Each runs in a fresh interpreter with the Agg
backend and ``CTRLINF_FIGURES`` pointing at a temporary directory.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
SCRIPTS = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
README = (TUTORIALS / "README.md").read_text(encoding="utf-8")

#: Generous per-script limit; they take seconds (see tutorials/README.md).
TIMEOUT_SECONDS = 120
#: Figures are committed to the repository.
MAX_FIGURE_BYTES = 200_000


def test_tutorials_are_numbered_from_01_without_gaps():
    numbers = [int(script.name[:2]) for script in SCRIPTS]
    assert numbers == list(range(1, len(SCRIPTS) + 1)), [s.name for s in SCRIPTS]
    assert len(SCRIPTS) >= 13


def test_readme_lists_every_tutorial():
    listed = re.findall(r"`(\d\d_\w+\.py)`", README)
    assert listed == [script.name for script in SCRIPTS]


def test_top_level_readme_table_lists_every_tutorial():
    top = (TUTORIALS.parent / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| `(\d\d_\w+\.py)` \|", top, flags=re.MULTILINE)
    assert [name for _, name in rows] == [script.name for script in SCRIPTS]
    assert [int(n) for n, _ in rows] == list(range(1, len(SCRIPTS) + 1))
    assert len(SCRIPTS) >= 25


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_tutorial_runs_headless_and_writes_its_figures(script, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", CTRLINF_FIGURES=str(tmp_path))
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert result.returncode == 0, (
        f"{script.name} failed\n--- stdout ---\n{result.stdout[-3000:]}"
        f"\n--- stderr ---\n{result.stderr[-5000:]}")
    figures = sorted((tmp_path / "tutorials").glob("*.png"))
    assert figures, f"{script.name} wrote no figure into $CTRLINF_FIGURES/tutorials"
    for figure in figures:
        assert figure.name.startswith(script.name[:3]), figure.name
        assert figure.name in README, f"{figure.name} is not listed in tutorials/README.md"
        assert figure.stat().st_size < MAX_FIGURE_BYTES, (
            f"{figure.name} is {figure.stat().st_size} bytes")


def test_without_ctrlinf_figures_a_tutorial_writes_into_an_ignored_folder_of_the_cwd(tmp_path):
    """The default output is ./ctrlinf-figures/tutorials, which .gitignore covers."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("CTRLINF_FIGURES", None)
    script = TUTORIALS / "01_graphical_model.py"
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "ctrlinf-figures" / "tutorials" / "01_trajectory_posterior.png").exists()
    ignored = (TUTORIALS.parent / ".gitignore").read_text(encoding="utf-8").split()
    assert "ctrlinf-figures/" in ignored


def test_tutorials_cite_public_sources_not_files_outside_the_repository():
    for path in [*SCRIPTS, TUTORIALS / "README.md", TUTORIALS / "_common.py"]:
        text = path.read_text(encoding="utf-8")
        for name in ("../shared", "DESIGN.md", "STYLE.md", "002_", ".txt`"):
            assert name not in text, f"{path.name} mentions {name}"


def test_tutorials_name_only_files_that_exist():
    """Tutorial 22 once pointed at `ctrlinf/irl/objective.py` (it is objectives.py)."""
    root = TUTORIALS.parent
    for path in [*SCRIPTS, TUTORIALS / "README.md"]:
        for name in re.findall(r"`((?:ctrlinf|tutorials|benchmarks|examples)/[\w/.]+\.py)`",
                               path.read_text(encoding="utf-8")):
            assert (root / name).exists(), f"{path.name} names {name}, which does not exist"
