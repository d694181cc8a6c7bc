"""Type hints: the core passes mypy, and every public function is annotated.

ctrlinf ships a ``py.typed`` marker (PEP 561), so a user's type checker reads these
annotations; a public function without them would silently be ``Any`` there. mypy is in
the ``test`` extra, so CI runs these checks; they skip only where mypy is not installed.
"""
import configparser
import inspect
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import ctrlinf as ci

REPO = Path(__file__).resolve().parents[1]


def run_mypy(*arguments):
    """``(stdout, exit status)`` of mypy with the repository's configuration (setup.cfg)."""
    api = pytest.importorskip(
        "mypy.api", reason='mypy is not installed: pip install -e ".[test]" installs it')
    here = os.getcwd()
    os.chdir(REPO)      # setup.cfg names the files relative to the repository
    try:
        stdout, stderr, status = api.run(["--config-file", str(REPO / "setup.cfg"), *arguments])
    finally:
        os.chdir(here)
    return stdout + stderr, status


def test_the_core_passes_mypy():
    output, status = run_mypy()
    assert status == 0, output
    checked = re.search(r"no issues found in (\d+) source files", output)
    assert checked and int(checked.group(1)) >= 5, output


def test_a_users_type_checker_catches_misuse_of_the_core(tmp_path):
    # What the annotations are for: a mode that does not exist and a result used as the
    # wrong type are found by the user's checker, before the code runs.
    user = tmp_path / "user.py"
    user.write_text(
        "import numpy as np\n"
        "import ctrlinf as ci\n"
        "mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=[[0.0, 1.0]], p0=[1.0], horizon=2)\n"
        "sol = ci.solve(mdp, mode='exakt')\n"
        "evidence: str = ci.log_evidence(mdp, sol)\n"
        "steps: int = ci.sample(mdp, sol.policy, n=3, seed=0).length\n")
    output, status = run_mypy(str(user))
    assert status == 1, output
    errors = [line for line in output.splitlines() if ": error:" in line]
    assert len(errors) == 2, output
    assert "user.py:4: error: Argument \"mode\" to \"solve\" has incompatible type" in errors[0]
    assert ('user.py:5: error: Incompatible types in assignment (expression has type "float", '
            'variable has type "str")') in errors[1]


def test_annotations_cost_nothing_at_run_time():
    # The aliases of the annotations (ctrlinf/_typing.py) are imported for type checkers
    # only, by every module of the package.
    code = ("import sys, ctrlinf as ci\n"
            "for name in ci.__all__: getattr(ci, name)\n"
            "import ctrlinf.bridge.suite.agents, ctrlinf.bridge.sb3, ctrlinf.experiments.irl_evd\n"
            "print(sum(m.startswith('ctrlinf.') for m in sys.modules),\n"
            "      'ctrlinf._typing' in sys.modules)")
    loaded, aliases = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                     text=True, check=True).stdout.split()
    assert int(loaded) > 50 and aliases == "False"


def test_py_typed_is_shipped():
    marker = REPO / "ctrlinf" / "py.typed"
    assert marker.is_file() and marker.read_text() == ""
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    assert "py.typed" in setup["options.package_data"]["ctrlinf"].split()


# -- every public function is annotated ----------------------------------------------------
def _methods(cls):
    """The functions a class defines itself: methods, properties' getters, static and class
    methods; dunder methods too, but not ``_private`` helpers."""
    for name, member in vars(cls).items():
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        elif isinstance(member, property):
            member = member.fget
        if inspect.isfunction(member):
            yield f"{cls.__qualname__}.{name}", member


def _core_functions():
    """Everything of ``ctrlinf.__all__`` outside the subpackages, classes method by method."""
    found = []
    for name in ci.__all__:
        obj = getattr(ci, name)
        if isinstance(obj, types.ModuleType):
            continue
        if inspect.isclass(obj):
            found += [(f"ci.{qualified}", f) for qualified, f in _methods(obj)]
        else:
            found.append((f"ci.{name}", obj))
    return found


def _subpackage_functions():
    """The public functions, and the constructors of the public classes, of every
    subpackage, through the ``__all__`` of each (modules listed there are visited too)."""
    found, seen = [], set()

    def visit(module):
        names = getattr(module, "__all__", None)
        if names is None:   # a module without __all__ (ctrlinf.experiments.irl_evd)
            names = [name for name, value in vars(module).items()
                     if not name.startswith("_") and getattr(value, "__module__", None)
                     == module.__name__ and (inspect.isfunction(value) or inspect.isclass(value))]
        for name in names:
            try:
                obj = getattr(module, name)
            except ImportError:     # ctrlinf.bridge.sb3.OracleCallback needs SB3
                continue
            if isinstance(obj, types.ModuleType):
                visit(obj)
            elif id(obj) not in seen and callable(obj):
                seen.add(id(obj))
                function = obj.__init__ if inspect.isclass(obj) else obj
                if inspect.isfunction(function):    # a class may inherit object.__init__
                    found.append((f"{module.__name__}.{name}", function))

    for name in ci.__all__:
        if isinstance(getattr(ci, name), types.ModuleType):
            visit(getattr(ci, name))
    return found


def _unannotated(function):
    """The parameters (and ``"return"``) of ``function`` that carry no annotation."""
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    if parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    missing = [p.name for p in parameters if p.annotation is inspect.Parameter.empty]
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_every_public_function_of_the_core_is_annotated():
    functions = _core_functions()
    names = {name for name, _ in functions}
    assert {"ci.solve", "ci.TabularMDP.__init__", "ci.TabularMDP.P", "ci.TabularMDP.load",
            "ci.Solution.policy_at", "ci.Trajectories.__getitem__", "ci.sample"} <= names
    missing = {name: _unannotated(f) for name, f in functions if _unannotated(f)}
    assert missing == {}


def test_every_public_function_of_the_subpackages_is_annotated():
    functions = _subpackage_functions()
    names = {name for name, _ in functions}
    assert {"ctrlinf.envs.gridworld", "ctrlinf.envs.GridMDP", "ctrlinf.irl.fit",
            "ctrlinf.plot.heatmap", "ctrlinf.bridge.Oracle", "ctrlinf.bridge.suite.run",
            "ctrlinf.bridge.suite.agents.q_learning", "ctrlinf.sweep.run",
            "ctrlinf.explore.page"} <= names
    missing = {name: _unannotated(f) for name, f in functions if _unannotated(f)}
    assert missing == {}
