"""The public surface: what ``import ctrlinf`` exposes, and nothing it should not."""
import importlib
import inspect
import pkgutil
import subprocess
import sys
import types

import pytest

import ctrlinf as ci


def test_every_public_name_exists():
    for name in ci.__all__:
        assert getattr(ci, name) is not None, name


def test_no_helper_module_leaks_into_the_namespace():
    assert not hasattr(ci, "importlib")


#: Modules a function of the same name still hides (none since the bridge half of issue 15
#: renamed ctrlinf/bridge/gail.py to adversarial_imitation.py).
KNOWN_SHADOWED = set()


def _submodules():
    """Every module path under ctrlinf, found on disk (so a new module is checked too)."""
    # ctrlinf.__main__ runs the CLI when imported.
    return [info.name for info in pkgutil.walk_packages(ci.__path__, "ctrlinf.")
            if info.name != "ctrlinf.__main__"]


def test_modules_are_not_hidden_by_functions_of_the_same_name():
    # `import ctrlinf.x.y as m` must give the module, whatever ctrlinf.x exports: a
    # package attribute named like a submodule (a function ctrlinf.irl.fit beside a
    # module ctrlinf/irl/fit.py) would win over it.
    names = _submodules()
    assert {"ctrlinf.inference", "ctrlinf.irl.objectives", "ctrlinf.envs.feature_worlds",
            "ctrlinf.irl.fitting"} <= set(names)
    for dotted in names:
        importlib.import_module(dotted)
        parent, _, leaf = dotted.rpartition(".")
        attribute = getattr(importlib.import_module(parent), leaf)
        if dotted in KNOWN_SHADOWED:
            # Remove it from KNOWN_SHADOWED once renamed.
            assert not isinstance(attribute, types.ModuleType), dotted
            continue
        assert isinstance(attribute, types.ModuleType), dotted


def test_documented_functions_keep_their_names():
    # DESIGN's public names stay functions after the module renames.
    for function in (ci.irl.objective, ci.irl.fit, ci.envs.objectworld, ci.envs.binaryworld,
                     ci.occupancy):
        assert callable(function) and not isinstance(function, types.ModuleType)


@pytest.mark.parametrize("package, above", [
    # The core imports nothing above it.
    ("ctrlinf.trajectories", ("ctrlinf.envs", "ctrlinf.irl", "ctrlinf.bridge", "ctrlinf.plot",
                              "ctrlinf.experiments", "ctrlinf.explore")),
    ("ctrlinf.inference", ("ctrlinf.envs", "ctrlinf.irl", "ctrlinf.bridge", "ctrlinf.plot",
                           "ctrlinf.experiments", "ctrlinf.explore")),
    # The IRL algorithms need neither the worlds, the pictures nor the experiments.
    ("ctrlinf.irl", ("ctrlinf.envs", "ctrlinf.plot", "ctrlinf.experiments", "ctrlinf.bridge",
                     "matplotlib")),
])
def test_layers_import_nothing_above_them(package, above):
    code = (f"import sys, {package}\n"
            f"print(sorted(m for m in sys.modules if m.startswith({above!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]", f"{package} imports {out}"


def _public_functions():
    """Public functions (and classes) of the core, ci.irl, ci.envs and ctrlinf.experiments."""
    import ctrlinf.experiments.irl_evd as irl_evd

    found = [(f"ci.{name}", getattr(ci, name)) for name in ci.__all__]
    for module in (ci.irl, ci.envs, irl_evd):
        names = getattr(module, "__all__", None) or [
            name for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__]
        found += [(f"{module.__name__}.{name}", getattr(module, name)) for name in names]
    return [(name, f) for name, f in found if callable(f) and not isinstance(f, types.ModuleType)]


def test_conventions_seed_none_progress_none_gamma_on_the_mdp():
    functions = _public_functions()
    assert len(functions) > 20
    for name, function in functions:
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):
            continue
        if "seed" in parameters:
            assert parameters["seed"].default is None, name
        if "progress" in parameters:
            assert parameters["progress"].default is None, name
        if name.startswith("ctrlinf.irl") or name.startswith("ci.") and "." not in name[3:]:
            assert "gamma" not in parameters or name == "ci.TabularMDP", name
