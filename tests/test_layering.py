"""How ctrlinf's modules may use each other, read from their source (AST), not by importing.

- A ``_``-prefixed name (function, class, constant, method, attribute) belongs to the module
  that defines it: no other module of the package imports it, reads it off a module
  (``kernels._x``) or calls it on an object (``mdp._x()``). A subclass may still override a
  ``_`` hook of its base class and use ``self._x``: that is the class's own business.
- A ``_``-prefixed *module* (``ctrlinf/_checks.py``, ``ctrlinf/cli/_common.py``) is internal to
  the package that holds it: only modules inside that package import it (for
  ``ctrlinf/_x.py``, any module of ctrlinf), and no ``__all__`` lists it.
- ``_checks`` is the bottom of the package: it imports no ctrlinf module (the core's classes
  register themselves with it), and the core's imports form no cycle.

The runtime check that the core imports nothing above it is in ``test_public_api.py``.
"""
import ast
import pathlib

import ctrlinf

PACKAGE = pathlib.Path(ctrlinf.__file__).parent
CORE = ("ctrlinf._checks", "ctrlinf.mdp", "ctrlinf.kernels", "ctrlinf.inference",
        "ctrlinf.trajectories", "ctrlinf._progress", "ctrlinf._threads")


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}


def _package_of(module):
    """The package a module belongs to (a package's __init__ belongs to the package itself)."""
    return module if module in PACKAGES else module.rpartition(".")[0]


def _resolve(module, node):
    """The absolute module an ``ImportFrom`` node names, relative imports included."""
    if not node.level:
        return node.module or ""
    base = _package_of(module).split(".")
    base = base[:len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _typing_only(tree):
    """The ids of the nodes under ``if TYPE_CHECKING:``: imports that never run."""
    ids = set()
    for node in ast.walk(tree):
        test = getattr(node, "test", None)
        name = getattr(test, "id", None) or getattr(test, "attr", None)  # typing.TYPE_CHECKING
        if isinstance(node, ast.If) and name == "TYPE_CHECKING":
            ids.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return ids


def _imports(module):
    """``(line, imported module)`` for every ctrlinf module ``module`` imports at run time,
    at any depth (imports under ``if TYPE_CHECKING:`` only serve type checkers)."""
    found = []
    typing_only = _typing_only(TREES[module])
    for node in ast.walk(TREES[module]):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names
                      if alias.name.split(".")[0] == "ctrlinf"]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            if source.split(".")[0] != "ctrlinf":
                continue
            modules = [f"{source}.{alias.name}" for alias in node.names
                       if f"{source}.{alias.name}" in MODULES]
            # `from ctrlinf import _checks` imports _checks; the package itself only when
            # a name defined in its __init__ is imported too.
            if len(modules) < len(node.names):
                found.append((node.lineno, source))
            found += [(node.lineno, module) for module in modules]
    return found


def _module_aliases(module):
    """Local name -> ctrlinf module, for names bound to modules by an import."""
    aliases = {}
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ctrlinf":
                    aliases[alias.asname or "ctrlinf"] = alias.name if alias.asname else "ctrlinf"
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            for alias in node.names:
                if f"{source}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
    return aliases


def _foreign_names(module):
    """Local names bound by imports from outside ctrlinf (their ``_`` names are not ours)."""
    names = set()
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names
                      if alias.name.split(".")[0] != "ctrlinf"}
        elif isinstance(node, ast.ImportFrom):
            if _resolve(module, node).split(".")[0] != "ctrlinf":
                names |= {alias.asname or alias.name for alias in node.names}
    return names


def _own_private_names(module):
    """``_`` names the module itself defines: defs, classes, assignments, ``x._name = ...``."""
    names = set()
    for node in ast.walk(TREES[module]):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {name for name in names if _private(name)}


def private_name_uses():
    """``"path:line: what"`` for every use of another module's ``_`` name."""
    offenders = []
    for module, tree in TREES.items():
        where = f"{MODULES[module].relative_to(PACKAGE.parent)}"
        aliases = _module_aliases(module)
        own = _own_private_names(module)
        foreign = _foreign_names(module)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(module, node)
                if source.split(".")[0] != "ctrlinf" or source == module:
                    continue
                offenders += [f"{where}:{node.lineno}: from {source} import {alias.name}"
                              for alias in node.names if _private(alias.name)
                              and f"{source}.{alias.name}" not in MODULES]
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                base = node.value
                if isinstance(base, ast.Name) and base.id in aliases:
                    target = aliases[base.id]
                    if target != module and f"{target}.{node.attr}" not in MODULES:
                        offenders.append(f"{where}:{node.lineno}: {base.id}.{node.attr} "
                                         f"({target}'s)")
                elif not (isinstance(base, ast.Name) and base.id in ({"self", "cls"} | foreign)
                          or isinstance(base, ast.Call) and isinstance(base.func, ast.Name)
                          and base.func.id == "super") and node.attr not in own:
                    offenders.append(f"{where}:{node.lineno}: .{node.attr} of an object "
                                     f"this module does not define")
    return offenders


def private_module_imports():
    """``"path:line: what"`` for every import of a ``_`` module from outside its package."""
    offenders = []
    for module in TREES:
        where = f"{MODULES[module].relative_to(PACKAGE.parent)}"
        for line, imported in _imports(module):
            parts = imported.split(".")
            for depth, part in enumerate(parts):
                if not _private(part):
                    continue
                owner = ".".join(parts[:depth])          # the package holding the _ module
                if not (module == owner or module.startswith(owner + ".")):
                    offenders.append(f"{where}:{line}: imports {imported}, internal to {owner}")
                break
    return offenders


def test_private_names_are_used_only_by_their_module():
    offenders = private_name_uses()
    assert not offenders, ("A _name is used outside the module that defines it; make it public "
                           "inside the package (and say in the module docstring who calls it) "
                           "or move it where it is used:\n" + "\n".join(offenders))


def test_private_modules_are_imported_only_inside_their_package():
    offenders = private_module_imports()
    assert not offenders, ("A _module is imported from outside the package that holds it:\n"
                           + "\n".join(offenders))


def test_no_all_lists_a_private_name():
    listed = []
    for module, tree in TREES.items():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                     for t in node.targets)):
                listed += [f"{module}.__all__: {element.value}" for element in node.value.elts
                           if isinstance(element, ast.Constant) and _private(element.value)]
    assert not listed, "__all__ lists private names:\n" + "\n".join(listed)


def test_checks_imports_no_ctrlinf_module():
    imported = _imports("ctrlinf._checks")
    assert not imported, f"ctrlinf/_checks.py imports {imported}"


def _cycle(graph):
    """A cycle of ``graph`` (node -> set of nodes) as a list, or None."""
    state = {}
    path = []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def _import_graph(modules):
    return {module: {imported for _, imported in _imports(module) if imported in modules}
            - {module} for module in modules}


def test_the_core_imports_form_no_cycle():
    # Every import counts, the lazy ones inside functions too: a lazy import is a cycle
    # deferred, and it is what made _checks depend on the classes it checks.
    graph = _import_graph(CORE)
    assert graph["ctrlinf.inference"] >= {"ctrlinf._checks", "ctrlinf.kernels"}
    assert _cycle(graph) is None, f"import cycle in the core: {' -> '.join(_cycle(graph))}"


def test_the_package_imports_form_no_cycle():
    graph = _import_graph(set(MODULES))
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph))}"


def test_the_scanner_sees_each_kind_of_offence(monkeypatch):
    # The checks above must be able to fail: plant one offence of each kind.
    planted = {
        "ctrlinf.irl.objectives": "from ctrlinf.inference import _hidden\n",
        "ctrlinf.plot.heatmaps": "import ctrlinf.kernels as k\nk._hidden\n",
        "ctrlinf.irl.fitting": "def f(mdp):\n    return mdp._hidden()\n",
        "ctrlinf.envs.grid": "from ctrlinf.cli import _common\n",
        "ctrlinf.irl.deep": "from ctrlinf.bridge._common import env_sizes\n",
    }
    for module, source in planted.items():
        monkeypatch.setitem(TREES, module, ast.parse(source))
    names = "\n".join(private_name_uses())
    modules = "\n".join(private_module_imports())
    assert "from ctrlinf.inference import _hidden" in names
    assert "k._hidden" in names
    assert "objectives" in names and "heatmaps" in names and "fitting.py:2: ._hidden" in names
    assert "grid.py:1: imports ctrlinf.cli._common, internal to ctrlinf.cli" in modules
    assert "deep.py:1: imports ctrlinf.bridge._common, internal to ctrlinf.bridge" in modules


# -- configuration in one place ----------------------------------------------------
def test_no_module_but_progress_sets_a_progress_threshold():
    # Whether progress=None shows a bar is decided by _progress.shows_bar from one table.
    found = [f"{module}:{node.lineno} {target.id}" for module, tree in TREES.items()
             if module != "ctrlinf._progress" for node in tree.body       # module constants
             if isinstance(node, ast.Assign) for target in node.targets
             if isinstance(target, ast.Name) and "PROGRESS" in target.id.upper()]
    assert not found, "progress thresholds outside ctrlinf/_progress.py:\n" + "\n".join(found)


def test_every_automatic_progress_bar_reads_the_one_table(monkeypatch, capsys):
    import numpy as np

    import ctrlinf as ci
    from ctrlinf import _progress

    mdp = ci.envs.gridworld((2, 2), goals=[(0, 1)], horizon=3, features=np.eye(4))
    demos = ci.sample(mdp, ci.solve(mdp).policy, 4, seed=0)
    runs = {"transitions": [(lambda: ci.solve(mdp), "backward (soft)"),
                            (lambda: ci.irl.fit(mdp, mdp.features, demos, max_iter=1, gtol=None),
                             "MCE IRL (soft)")],
            "env steps": [(lambda: ci.bridge.soft_q_learning(
                ci.envs.to_gymnasium(mdp), 3, gamma=0.9, seed=0), "soft Q-learning")],
            "episodes": [(lambda: ci.bridge.entropy_policy_gradient(
                ci.envs.to_gymnasium(mdp), 1, gamma=0.9, episodes_per_iteration=2, seed=0),
                "entropy policy gradient")]}
    for unit, calls in runs.items():
        for threshold, shown in ((1e300, False), (0, True)):
            monkeypatch.setitem(_progress.WORK_FOR_A_BAR, unit, threshold)
            for call, desc in calls:
                call()
                assert (desc in capsys.readouterr().err) is shown, (unit, desc, threshold)
    assert _progress.shows_bar(False, 1e300, "episodes") is False
    assert _progress.shows_bar(True, 0, "episodes") is True


def test_the_documented_thresholds_are_the_tables():
    import ctrlinf as ci
    from ctrlinf._progress import shows_bar

    for agent in (ci.bridge.soft_q_learning, ci.bridge.sac_discrete):
        assert "None shows it for runs of at least 50 000 steps." in agent.__doc__
    assert shows_bar(None, 50_000, "env steps") and not shows_bar(None, 49_999, "env steps")
    assert "``n_iterations * episodes_per_iteration`` is at\n        least 5000." in \
        ci.bridge.entropy_policy_gradient.__doc__
    assert shows_bar(None, 5000, "episodes") and not shows_bar(None, 4999, "episodes")
