"""API reference pages generated from ``__all__`` at every build.

:func:`public_names` walks the package: the names in ``ctrlinf.__all__`` and, for every
public subpackage or module among them, the names in its own ``__all__`` (or, for a
module without one, the functions and classes it defines whose names do not start with
an underscore). :func:`write_pages` writes one reST page per name into ``api/`` (git
ignores it): an autodoc directive for each function, class and constant (with the
tutorials that use a function or class, found by sphinx-gallery), and for each
module its docstring, a table of its names with the first paragraph of their docstrings and a toctree of their pages. A name
added to an ``__all__`` therefore gets its page, and a search entry, without any edit
here; ``tests/test_docs.py`` checks that every name has one.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path

#: The page of the package itself (the API reference's index).
INDEX = "index"


@dataclass(frozen=True)
class PublicName:
    """A public name: ``qualified`` (``"ctrlinf.envs.gridworld"``) and what it names.

    ``kind`` is "module", "class", "function" or "data"; ``summary`` is the first
    paragraph of its docstring, on one line; ``members`` lists the public names of a
    module (qualified), in ``__all__`` order, and is empty otherwise.
    """

    qualified: str
    kind: str
    summary: str = ""
    members: tuple = ()

    @property
    def page(self):
        """The page's name under ``api/`` (without suffix)."""
        return INDEX if "." not in self.qualified else self.qualified

    @property
    def parent(self):
        return self.qualified.rpartition(".")[0]

    @property
    def short(self):
        return self.qualified.rpartition(".")[2]


def module_members(module):
    """The public names of ``module``: ``__all__``, else the functions and classes it defines."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
            and getattr(obj, "__module__", None) == module.__name__]


def public_names(root="ctrlinf", mock_imports=()):
    """Every public name reachable from ``root`` through ``__all__``, depth first.

    ``mock_imports`` are modules to mock when a name cannot be imported without them
    (``ctrlinf.bridge.sb3.OracleCallback`` subclasses a Stable-Baselines3 class; conf.py
    lists SB3 only when it is not installed). The module keeps the object built on the
    mock, so that later lookups in the build (autodoc, sphinx-gallery's name
    resolution) find it instead of an ImportError; the mocked package itself is gone
    after the lookup, so the tutorials still see that SB3 is not installed.
    """
    found = []

    def visit(module):
        members = []
        for name in module_members(module):
            obj = _attribute(module, name, mock_imports)
            qualified = f"{module.__name__}.{name}"
            if inspect.ismodule(obj):
                if obj.__name__ != qualified:
                    raise ValueError(f"{qualified} is the module {obj.__name__}: "
                                     "list modules under their own name")
                visit(obj)
            else:
                found.append(PublicName(qualified, _kind(obj), _summary(obj)))
            members.append(qualified)
        found.append(PublicName(module.__name__, "module", _summary(module), tuple(members)))

    visit(importlib.import_module(root))
    found.sort(key=lambda entry: entry.qualified)
    return found


def _attribute(module, name, mock_imports):
    try:
        return getattr(module, name)
    except ImportError:
        if not mock_imports:
            raise
    from sphinx.ext.autodoc.mock import mock

    with mock(list(mock_imports)):
        return getattr(module, name)


def _summary(obj):
    # Constants have the docstring of their type: show none.
    doc = inspect.getdoc(obj) if _kind(obj) != "data" else None
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _kind(obj):
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def page_text(entry, summaries):
    """The reST source of ``entry``'s page; ``summaries`` maps qualified names to summaries."""
    title = entry.qualified if entry.page != INDEX else "API reference"
    lines = [title, "=" * len(title), ""]
    if entry.kind == "module":
        lines += [f".. automodule:: {entry.qualified}", "   :no-members:", "",
                  f".. currentmodule:: {entry.qualified}", ""]
        if entry.members:
            lines += [".. list-table::", "   :widths: 35 65", ""]
            for member in entry.members:
                lines += [f"   * - :obj:`{member.rpartition('.')[2]}`",
                          f"     - {summaries.get(member, '')}"]
            lines += ["", ".. toctree::", "   :hidden:", ""]
            lines += [f"   {member}" for member in entry.members]
        return "\n".join(lines) + "\n"
    directive = {"class": "autoclass", "function": "autofunction", "data": "autodata"}
    lines += [f".. currentmodule:: {entry.parent}", "",
              f".. {directive[entry.kind]}:: {entry.short}"]
    if entry.kind == "class":
        lines += ["   :members:"]
    if entry.kind != "data":
        # Thumbnails of the tutorials that call it (sphinx-gallery; none: nothing shown).
        lines += ["", f".. minigallery:: {entry.qualified}",
                  f"   :add-heading: Tutorials using ``{entry.short}``"]
    return "\n".join(lines) + "\n"


def write_pages(folder, root="ctrlinf", mock_imports=()):
    """Write one page per public name into ``folder``; return the names.

    Pages whose text is unchanged are not rewritten (Sphinx then reuses them), and
    pages of names that are no longer public are removed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = public_names(root, mock_imports)
    summaries = {entry.qualified: entry.summary for entry in names}
    wanted = {f"{entry.page}.rst": page_text(entry, summaries) for entry in names}
    for stale in folder.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink()
    for filename, text in wanted.items():
        path = folder / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return names


def setup(app):
    """Sphinx extension: write ``api/`` before Sphinx looks for sources."""
    def write(app, config):
        write_pages(Path(app.srcdir) / "api", mock_imports=config.autodoc_mock_imports)

    app.connect("config-inited", write)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

