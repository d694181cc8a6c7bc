"""What the landing and explore pages show, computed by ctrlinf at every build.

:func:`write_demo` runs ``ctrlinf demo`` (``ctrlinf.demo.run``) and keeps its printed
lines and figures; :func:`write_explore` writes ``ci.explore.page`` of the same world
into the site's static files, where ``explore.rst`` embeds it in an iframe. Both go to
``_generated/`` under the docs folder, which git ignores.
"""
from __future__ import annotations

from pathlib import Path

#: The explore page's file name under ``_static/explore/`` of the site.
EXPLORE_PAGE = "slippery_cliff.html"


def write_demo(folder):
    """Run the demo into ``folder``: its figures and ``output.txt``, the lines it printed.

    The line listing the figure paths is left out: it names this build's folders.
    """
    from ctrlinf import demo

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    demo.run(out=folder, stream=lines.append)
    kept = [line for line in lines if not line.startswith("figures: ")]
    (folder / "output.txt").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return folder


def write_explore(folder):
    """Write the explore page of the demo's world to ``folder/explore/``."""
    import ctrlinf as ci
    from ctrlinf import demo

    path = Path(folder) / "explore" / EXPLORE_PAGE
    path.parent.mkdir(parents=True, exist_ok=True)
    return ci.explore.page(demo.build_world(), path,
                           title="the slippery cliff of ctrlinf demo")


def setup(app):
    """Sphinx extension: write both before Sphinx reads the pages that show them."""
    def write(app, config):
        generated = Path(app.srcdir) / "_generated"
        write_demo(generated / "demo")
        write_explore(generated / "static")

    app.connect("config-inited", write)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
