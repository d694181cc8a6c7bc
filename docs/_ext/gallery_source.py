"""The tutorials as a sphinx-gallery: percent-format scripts with Markdown text, shown as reST.

The scripts in ``tutorials/`` are jupytext percent files (``# %%`` code cells,
``# %% [markdown]`` text cells written in Markdown with ``$...$`` maths). sphinx-gallery
executes scripts whose text is reST and whose first block is a docstring, so at every
build :func:`write_gallery_sources` writes, into a folder git ignores, one
sphinx-gallery script per tutorial: the same code cells, in the same order, with each
Markdown cell converted to reST by pandoc (the ``pypandoc-binary`` package ships it).
No tutorial is edited and nothing tracked is rewritten.

The tutorials save their figures through ``_common.save_figure`` (which closes them),
so :func:`saved_figures` shows the PNG files a code block wrote instead of the open
matplotlib figures. After sphinx-gallery has written its pages, :func:`restore_downloads`
replaces the generated downloads with what a student wants: the original script, and a
notebook made from it by jupytext, next to ``_common.py`` that both import.
"""
from __future__ import annotations

import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: A cell marker of the percent format; only ``# %%`` and ``# %% [markdown]`` occur.
CELL_MARKER = re.compile(r"^# %%(?P<markdown> \[markdown\])?[ \t]*$")
#: Where the tutorials save figures, relative to the folder they run in (conf.py sets
#: ``CTRLINF_FIGURES`` to its first part).
FIGURES = Path("ctrlinf-figures") / "tutorials"
#: A paragraph that separates cells while one pandoc call converts a whole script.
_CELL_BREAK = "ctrlinfcellbreak7f3a"
#: Files the tutorials import and the downloads need beside them.
SHARED = "_common.py"


@dataclass(frozen=True)
class Cell:
    """One cell of a percent-format script: ``kind`` is "markdown" or "code"."""

    kind: str
    source: str


def read_cells(text):
    """Split a percent-format script into cells; Markdown cells lose their ``# `` prefix.

    Lines before the first marker form a code cell. Blank lines at either end of a
    cell are dropped (they only separate cells); inside a Markdown cell an empty line
    counts as ``#``.

    Raises
    ------
    ValueError
        A Markdown cell line that is not a comment (the percent format comments out
        every Markdown line).
    """
    cells, kind, lines = [], "code", []

    def close():
        source = "\n".join(lines).strip("\n")
        if source.strip():
            cells.append(Cell(kind, source))

    for number, line in enumerate(text.splitlines(), start=1):
        marker = CELL_MARKER.match(line)
        if marker:
            close()
            kind, lines = ("markdown" if marker.group("markdown") else "code"), []
        elif kind == "markdown":
            if line not in ("", "#") and not line.startswith("# "):
                raise ValueError(f"line {number}: a Markdown cell line must start with '# '")
            lines.append(line[2:])
        else:
            lines.append(line)
    close()
    return cells


def markdown_to_rst(pieces):
    """Convert Markdown texts to reST with one pandoc call; returns one text per piece."""
    import pypandoc

    if not pieces:
        return []
    joined = f"\n\n{_CELL_BREAK}\n\n".join(pieces)
    rst = pypandoc.convert_text(joined, "rst", format="markdown",
                                extra_args=["--wrap=preserve"])
    parts = [part.strip("\n") for part in rst.split(f"\n{_CELL_BREAK}\n")]
    if len(parts) != len(pieces):
        raise ValueError(f"pandoc merged or split cells: {len(pieces)} in, {len(parts)} out")
    for piece, part in zip(pieces, parts):
        if _outside_maths_and_code(part).count("$") or ":raw-latex:" in part:
            # pandoc reads $...$ as maths only without a space inside either dollar.
            raise ValueError(f"a $ that is not maths in the Markdown cell {piece[:60]!r}...: "
                             "write $x$, not $ x$ or $x $")
    return parts


def _outside_maths_and_code(rst):
    """``rst`` without inline literals, ``:math:`` roles and ``.. math::`` blocks."""
    rst = re.sub(r"``.*?``|:math:`[^`]*`", "", rst, flags=re.S)
    return re.sub(r"^( *)\.\. math::.*?(?=^\1\S|\Z)", "", rst, flags=re.S | re.M)


def gallery_script(text, name):
    """The sphinx-gallery script of the tutorial ``name`` whose source is ``text``.

    The first cell must be Markdown with the title; it becomes the docstring, followed
    by a note on the downloads. Every later Markdown cell becomes a ``# %%`` block of
    reST comment lines, and every code cell keeps its code verbatim (after a blank line,
    so that a leading comment stays code).
    """
    cells = read_cells(text)
    if not cells or cells[0].kind != "markdown" or not cells[0].source.startswith("# "):
        raise ValueError(f"{name}: the first cell must be Markdown starting with a '# ' title")
    converted = iter(markdown_to_rst([c.source for c in cells if c.kind == "markdown"]))
    title, _, rest = next(converted).partition("\n")
    # pandoc escapes every *, but one followed by a space or the end of the line is
    # already literal in reST; unescaped, the gallery's thumbnail shows it as written.
    header = re.sub(r"\\\*(?=\s|$)", "*", title) + "\n" + rest
    if '"""' in header:
        raise ValueError(f'{name}: the first cell contains """')
    out = ['r"""', header, "", download_note(name), '"""', ""]
    for cell in cells[1:]:
        out.append("# %%")
        if cell.kind == "markdown":
            out.extend(("# " + line).rstrip() for line in next(converted).splitlines())
        else:
            out.extend(["", cell.source])
        out.append("")
    return "\n".join(out)


def download_note(name):
    """The reST note at the top of each tutorial page."""
    return (".. note::\n\n"
            f"   This page is ``tutorials/{name}`` of the repository, executed when this\n"
            "   site was built. The script and notebook at the bottom of the page import\n"
            f"   :download:`{SHARED} <{SHARED}>`: save it in the same folder.")


def write_gallery_sources(tutorials, sources, header):
    """Write the sphinx-gallery scripts of ``tutorials/NN_*.py`` into ``sources``.

    Also copies ``_common.py`` there (the scripts import it) and ``header`` as the
    gallery's ``GALLERY_HEADER.rst``. A file whose
    content is unchanged is not rewritten, so sphinx-gallery's cache stays valid.
    Returns the tutorial scripts, sorted.
    """
    tutorials, sources = Path(tutorials), Path(sources)
    scripts = sorted(tutorials.glob("[0-9][0-9]_*.py"))
    if not scripts:
        raise ValueError(f"no tutorials NN_*.py in {tutorials}")
    sources.mkdir(parents=True, exist_ok=True)
    wanted = {}
    for script in scripts:
        try:
            wanted[script.name] = gallery_script(script.read_text(encoding="utf-8"),
                                                 script.name)
        except ValueError as error:
            raise ValueError(f"{script}: {error}") from None
    wanted[SHARED] = (tutorials / SHARED).read_text(encoding="utf-8")
    wanted["GALLERY_HEADER.rst"] = Path(header).read_text(encoding="utf-8")
    for stale in sources.glob("*.py"):
        if stale.name not in wanted:
            stale.unlink()
    for name, text in wanted.items():
        _write_if_changed(sources / name, text)
    return scripts


def _write_if_changed(path, text):
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def saved_figures(block, block_vars, gallery_conf):
    """sphinx-gallery image scraper: show the PNGs the block saved, in the order saved.

    Each PNG is moved out of ``ctrlinf-figures/tutorials`` (under the folder the script
    runs in) into the gallery's image folder, so the next block finds only its own.
    """
    from sphinx_gallery.scrapers import figure_rst

    folder = Path(block_vars["src_file"]).parent / FIGURES
    saved = sorted(folder.glob("*.png"), key=lambda png: png.stat().st_mtime_ns)
    shown = []
    for png, target in zip(saved, block_vars["image_path_iterator"]):
        shutil.move(png, target)
        shown.append(target)
    return figure_rst(shown, gallery_conf["src_dir"])


def clear_saved_figures(gallery_conf, fname):
    """sphinx-gallery module reset: no PNG left over from an earlier example or build."""
    import matplotlib.pyplot as plt

    plt.close("all")
    for conf_dir in gallery_conf["examples_dirs"]:
        folder = Path(gallery_conf["src_dir"]) / conf_dir / FIGURES
        for png in folder.glob("*.png"):
            png.unlink()


def restore_downloads(tutorials, gallery):
    """Make the gallery's downloads the original scripts and their jupytext notebooks.

    sphinx-gallery offers the script it ran (reST text) and a notebook made from it;
    replace them by ``tutorials/NN_*.py`` as committed and ``jupytext``'s notebook of it
    (Markdown cells as written), copy ``_common.py`` beside them (each page links it),
    and write the two "download all" zip files that the gallery's header links,
    ``<gallery>_python.zip`` and ``<gallery>_jupyter.zip``, with ``_common.py`` inside.
    (Copied only now: sphinx-gallery would take ``_common.py`` for a tutorial.)
    """
    import jupytext

    tutorials, gallery = Path(tutorials), Path(gallery)
    scripts = sorted(tutorials.glob("[0-9][0-9]_*.py"))
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        _write_if_changed(gallery / script.name, text)
        notebook = jupytext.reads(text, fmt="py:percent")
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                           "language": "python"}
        _write_if_changed(gallery / f"{script.stem}.ipynb",
                          json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    shared = gallery / SHARED
    _write_if_changed(shared, (tutorials / SHARED).read_text(encoding="utf-8"))
    for suffix, kind in ((".py", "python"), (".ipynb", "jupyter")):
        archive = gallery / f"{gallery.name}_{kind}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for script in scripts:
                zipped.write(gallery / f"{script.stem}{suffix}", f"{script.stem}{suffix}")
            zipped.write(shared, SHARED)


def setup(app):
    """Sphinx extension: write the gallery scripts first, fix the downloads after the gallery."""
    def write_sources(app, config):
        src = Path(app.srcdir)
        write_gallery_sources(config.ctrlinf_tutorials, src / config.ctrlinf_gallery_sources,
                              src / config.ctrlinf_gallery_header)

    def fix_downloads(app):
        src = Path(app.srcdir)
        restore_downloads(app.config.ctrlinf_tutorials, src / app.config.ctrlinf_gallery)

    app.add_config_value("ctrlinf_tutorials", None, "env")
    app.add_config_value("ctrlinf_gallery_sources", "_gallery_src", "env")
    app.add_config_value("ctrlinf_gallery", "tutorials", "env")
    app.add_config_value("ctrlinf_gallery_header", "gallery_header.rst", "env")
    # config-inited runs before sphinx-gallery reads its folders (builder-inited, 500);
    # the downloads are replaced after it has written them.
    app.connect("config-inited", write_sources)
    app.connect("builder-inited", fix_downloads, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

