"""Sphinx configuration of ctrlinf's site.

Build it (README, "Documentation"):

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The tutorials run once, as a sphinx-gallery (``_ext/gallery_source.py``); the API pages
are generated from ``__all__`` (``_ext/api_pages.py``); the landing page's demo output
and the embedded explore page are computed by ctrlinf (``_ext/demo_assets.py``). All
generated files live under ``docs/`` in folders git ignores. The built site opens from
disk and makes no network request: MathJax comes from the ``sphinx-mathjax-offline``
package, the theme's assets and the search index are local files.
"""
import importlib.util
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
# This checkout's package, even when another copy is installed, and the local extensions.
sys.path[:0] = [str(REPO), str(DOCS / "_ext")]

import ctrlinf  # noqa: E402
import gallery_source  # noqa: E402

project = "ctrlinf"
author = "ctrlinf developers"
copyright = "2026, ctrlinf developers"
version = release = ctrlinf.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx-mathjax-offline",
    "api_pages",
    "gallery_source",
    "demo_assets",
]

exclude_patterns = ["_build", "_gallery_src", "_generated", "gallery_header.rst"]
templates_path = []
nitpicky = False

# -- HTML ------------------------------------------------------------------------
html_theme = "furo"
html_title = f"ctrlinf {release}"
html_static_path = ["_static", "_generated/static"]
html_css_files = ["ctrlinf.css"]
html_show_sourcelink = False
html_copy_source = False

# -- API reference ---------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# OracleCallback subclasses a Stable-Baselines3 class: without the sb3 extra, a mock
# stands in for SB3 so that its page still shows its docstring.
autodoc_mock_imports = [name for name in ("stable_baselines3",)
                        if importlib.util.find_spec(name) is None]

# -- Tutorials -------------------------------------------------------------------
ctrlinf_tutorials = str(REPO / "tutorials")
# Tutorials save figures to $CTRLINF_FIGURES/tutorials, relative to the folder they run
# in (docs/_gallery_src, ignored by git): never into a tracked folder.
os.environ["CTRLINF_FIGURES"] = str(gallery_source.FIGURES.parent)

sphinx_gallery_conf = {
    "examples_dirs": "_gallery_src",
    "gallery_dirs": "tutorials",
    "filename_pattern": r"/\d\d_\w+\.py$",        # execute every tutorial
    "ignore_pattern": r"_common\.py$",
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("gallery_source.saved_figures",),
    "reset_modules": ("gallery_source.clear_saved_figures",),
    "reset_modules_order": "before",
    "abort_on_example_error": False,     # run all, then fail listing every error
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "show_memory": False,
    # Its page loads jQuery and DataTables from a CDN: the site must work offline.
    "write_computation_times": False,
    # gallery_source makes the two "download all" zips itself (originals + _common.py).
    "download_all_examples": False,
    "doc_module": ("ctrlinf",),
    "backreferences_dir": "_generated/backreferences",
}
