"""The public surface: what ``import ctrlinf`` exposes, and nothing it should not."""
import importlib

import ctrlinf as ci


def test_every_public_name_exists():
    for name in ci.__all__:
        assert getattr(ci, name) is not None, name


def test_no_helper_module_leaks_into_the_namespace():
    assert not hasattr(ci, "importlib")


def test_modules_are_not_hidden_by_functions_of_the_same_name():
    # `import ctrlinf.x.y as m` must give the module, whatever ctrlinf.x exports.
    for dotted in ("ctrlinf.inference", "ctrlinf.trajectories", "ctrlinf.mdp"):
        module = importlib.import_module(dotted)
        assert type(module).__name__ == "module", dotted
