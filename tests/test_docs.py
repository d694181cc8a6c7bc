"""The documentation site (docs/): its sources here, the built site when there is one.

The first part needs no build: the API pages cover every public name, the tutorials
convert to sphinx-gallery scripts with every code cell kept, the landing page and the
Read the Docs file build what README says, and the files a package ships are there.

The second part reads the built site, ``docs/_build/html`` (or ``$CTRLINF_DOCS_SITE``):
every public name has a page and a search entry, every internal link resolves, the
downloads are the tutorials, and in headless Chromium every page loads from disk with
no console error, every image loads, no request leaves ``file://``, and the search page
finds "message intersection". Without a built site these tests skip, unless
``CTRLINF_REQUIRE_DOCS_SITE=1`` (``.ci/run`` builds the site first and sets it): then
they fail.
"""
import configparser
import html.parser
import importlib
import importlib.util
import inspect
import json
import os
import re
import sys
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import ctrlinf as ci

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
SITE = Path(os.environ.get("CTRLINF_DOCS_SITE") or DOCS / "_build" / "html")
REQUIRED = os.environ.get("CTRLINF_REQUIRE_DOCS_SITE") == "1"
BUILD_COMMAND = "python -m sphinx -W --keep-going -b html docs docs/_build/html"
INSTALL_COMMAND = 'pip install -e ".[docs]"'
TUTORIALS = sorted((REPO / "tutorials").glob("[0-9][0-9]_*.py"))

sys.path.insert(0, str(DOCS / "_ext"))
import api_pages  # noqa: E402
import gallery_source  # noqa: E402


def needs(module):
    """Import a docs-only dependency; skip without it, except where the docs are required."""
    if REQUIRED:
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f'{module} is not installed: pip install -e ".[docs]"')


def mock_imports():
    """What ``docs/conf.py`` mocks: stable-baselines3 when it is not installed."""
    if importlib.util.find_spec("stable_baselines3"):
        return []
    needs("sphinx")
    return ["stable_baselines3"]


def public_names():
    """{qualified name: kind} of every name reachable through ``__all__``.

    Written independently of ``docs/_ext/api_pages.py``: a module's names are its
    ``__all__``, or, without one, the functions and classes it defines.
    """
    names = {}

    def visit(module):
        names[module.__name__] = "module"
        members = getattr(module, "__all__", None)
        if members is None:
            members = [name for name, obj in vars(module).items()
                       if not name.startswith("_") and (inspect.isfunction(obj)
                                                        or inspect.isclass(obj))
                       and obj.__module__ == module.__name__]
        for name in members:
            try:
                obj = getattr(module, name)
            except ImportError:        # OracleCallback without stable-baselines3
                names[f"{module.__name__}.{name}"] = "class"
                continue
            if inspect.ismodule(obj):
                visit(obj)
            else:
                names[f"{module.__name__}.{name}"] = (
                    "class" if inspect.isclass(obj) else "function" if callable(obj) else "data")

    visit(ci)
    return names


# -- sources: no build needed -------------------------------------------------------
def test_api_pages_give_every_public_name_a_page(tmp_path):
    expected = public_names()
    assert {"ctrlinf.solve", "ctrlinf.envs.gridworld", "ctrlinf.bridge.sb3.score",
            "ctrlinf.sweep.run", "ctrlinf.explore.MAX_VALUES"} <= set(expected)
    written = api_pages.write_pages(tmp_path, mock_imports=mock_imports())
    assert {entry.qualified: entry.kind for entry in written} == expected
    directive = {"module": ".. automodule:: ", "class": ".. autoclass:: ",
                 "function": ".. autofunction:: ", "data": ".. autodata:: "}
    for name, kind in expected.items():
        page = tmp_path / ("index.rst" if name == "ctrlinf" else f"{name}.rst")
        text = page.read_text(encoding="utf-8")
        target = name if kind == "module" else name.rpartition(".")[2]
        assert directive[kind] + target + "\n" in text, name
    # A module's page lists and links each of its names.
    envs = (tmp_path / "ctrlinf.envs.rst").read_text(encoding="utf-8")
    for name in ci.envs.__all__:
        assert f":obj:`{name}`" in envs and f"   ctrlinf.envs.{name}\n" in envs


def test_api_pages_drop_pages_of_names_no_longer_public(tmp_path):
    (tmp_path / "ctrlinf.removed_function.rst").write_text("old\n")
    api_pages.write_pages(tmp_path, mock_imports=mock_imports())
    assert not (tmp_path / "ctrlinf.removed_function.rst").exists()


def test_percent_cells_are_read_as_jupytext_writes_them():
    text = ("# %% [markdown]\n# # Title\n#\n# Some *text*.\n\n# %%\nx = 1\n\n"
            "# %%\n# a comment in code\ny = 2\n")
    cells = gallery_source.read_cells(text)
    assert cells == [gallery_source.Cell("markdown", "# Title\n\nSome *text*."),
                     gallery_source.Cell("code", "x = 1"),
                     gallery_source.Cell("code", "# a comment in code\ny = 2")]
    with pytest.raises(ValueError, match="line 3"):
        gallery_source.read_cells("# %% [markdown]\n# text\nnot a comment\n")


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda path: path.stem)
def test_gallery_script_keeps_every_code_cell_and_the_title(script, tmp_path):
    needs("pypandoc")
    parser = needs("sphinx_gallery.py_source_parser")
    text = script.read_text(encoding="utf-8")
    converted = gallery_source.gallery_script(text, script.name)
    path = tmp_path / script.name
    path.write_text(converted, encoding="utf-8")
    _, blocks = parser.split_code_and_text_blocks(str(path))
    code = [block.content.strip("\n") for block in blocks if block.type == "code"]
    original = [cell.source for cell in gallery_source.read_cells(text) if cell.kind == "code"]
    assert code == original
    title = next(cell.source for cell in gallery_source.read_cells(text)).splitlines()[0][2:]
    # The title as written (the gallery's thumbnails show it verbatim: no "Q\*").
    assert blocks[0].type == "text" and blocks[0].content.lstrip().startswith(title + "\n===")
    assert ":raw-latex:" not in converted and "`tutorials/" + script.name in converted


def test_markdown_maths_with_inner_spaces_is_refused_not_shown_raw():
    needs("pypandoc")
    assert gallery_source.markdown_to_rst(["$x =$ y"]) == [":math:`x =` y"]
    with pytest.raises(ValueError, match=r"write \$x\$"):
        gallery_source.markdown_to_rst(["fine", "$x = $ y"])


def test_landing_page_shows_readmes_two_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line for line in first_block.splitlines() if line.strip()]
    assert len(commands) == 2 and "ctrlinf demo" in commands[0]
    landing = (DOCS / "index.rst").read_text(encoding="utf-8")
    for command in commands:
        assert "   " + command in landing


def test_readme_and_readthedocs_build_the_site_with_the_same_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert INSTALL_COMMAND in readme and BUILD_COMMAND in readme
    rtd = (REPO / ".readthedocs.yaml").read_text(encoding="utf-8")
    assert INSTALL_COMMAND in rtd
    assert BUILD_COMMAND.replace("docs/_build/html", "$READTHEDOCS_OUTPUT/html") in rtd
    assert "python -m sphinx -W --keep-going -b html docs docs/_build/html" in (
        REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_docs_extra_installs_what_conf_py_loads():
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    extra = setup["options.extras_require"]["docs"]
    required = {re.split(r"[<>=\[ ]", line.strip())[0].lower()
                for line in extra.splitlines() if line.strip()}
    assert {"sphinx", "sphinx-gallery", "numpydoc", "furo", "pypandoc-binary",
            "sphinx-mathjax-offline", "jupytext", "build", "twine"} <= required
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    for module in ("numpydoc", "sphinx_gallery.gen_gallery", "sphinx-mathjax-offline"):
        assert f'"{module}"' in conf
    assert 'html_theme = "furo"' in conf


def test_generated_docs_folders_are_ignored_by_git():
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").split()
    for folder in ("_build", "_generated", "_gallery_src", "tutorials", "api"):
        assert f"/docs/{folder}/" in ignored


def test_license_citation_and_changelog_agree_with_setup_cfg():
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    version = setup["metadata"]["version"]
    assert setup["metadata"]["license"] == "MIT" and version == ci.__version__
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License")
    assert "Copyright (c) 2026 ctrlinf developers" in license_text
    citation = (REPO / "CITATION.cff").read_text(encoding="utf-8")
    assert 'cff-version: 1.2.0' in citation and f'version: "{version}"' in citation
    assert "license: MIT" in citation
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", changelog, re.M)
    assert headings[:2] == ["Unreleased", version]


def test_changelog_renames_point_to_modules_that_exist():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    renamed = re.findall(r"`(ctrlinf\.[\w.]+)` → `(ctrlinf\.[\w.]+)`", changelog)
    assert len(renamed) >= 6
    for _, new in renamed:
        importlib.import_module(new)


# -- the built site --------------------------------------------------------------
@pytest.fixture(scope="module")
def site():
    if not (SITE / "index.html").exists():
        message = f"no built site in {SITE}: run `{BUILD_COMMAND}`"
        if REQUIRED:
            pytest.fail(message + " (CTRLINF_REQUIRE_DOCS_SITE=1)")
        pytest.skip(message)
    return SITE


def html_pages(site):
    return sorted(path for path in site.rglob("*.html"))


class _Links(html.parser.HTMLParser):
    """The ids, links (href, src) and images of one HTML file."""

    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])


def parsed(path, cache={}):
    if path not in cache:
        links = _Links()
        links.feed(path.read_text(encoding="utf-8"))
        cache[path] = links
    return cache[path]


def test_every_public_name_has_a_page_with_its_entry(site):
    missing = []
    for name, kind in public_names().items():
        page = site / "api" / ("index.html" if name == "ctrlinf" else f"{name}.html")
        anchor = f"module-{name}" if kind == "module" else name
        if not page.exists() or anchor not in parsed(page).ids:
            missing.append(name)
    assert not missing, f"no API page (or no entry on it) for {missing}: rebuild the site"


def test_search_index_has_every_public_name(site):
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    indexed = {f"{prefix}.{entry[4]}" if prefix else entry[4]
               for prefix, entries in index["objects"].items() for entry in entries}
    missing = set(public_names()) - indexed
    assert not missing, f"not in the search index: {sorted(missing)}"


def test_every_internal_link_resolves(site):
    broken = []
    for page in html_pages(site):
        for link in parsed(page).links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue                      # http(s) links to papers, mailto, data:
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {link}")
            elif parts.fragment and target.suffix == ".html" and \
                    unquote(parts.fragment) not in parsed(target).ids:
                broken.append(f"{page.relative_to(site)}: {link} (no such anchor)")
    assert not broken, "\n".join(broken[:30])


def test_every_tutorial_has_a_page_with_figures_and_its_downloads(site):
    gallery = site / "tutorials"
    for script in TUTORIALS:
        page = gallery / f"{script.stem}.html"
        links = parsed(page).links
        assert any(link.startswith("../_images/") for link in links), f"{page.name}: no figure"
        downloads = {Path(link).name: (page.parent / link).resolve() for link in links
                     if "_downloads/" in link}
        assert {script.name, f"{script.stem}.ipynb", "_common.py"} <= set(downloads), page
        assert downloads[script.name].read_bytes() == script.read_bytes()
        notebook = json.loads(downloads[f"{script.stem}.ipynb"].read_text(encoding="utf-8"))
        code = ["".join(cell["source"]) for cell in notebook["cells"]
                if cell["cell_type"] == "code"]
        original = [cell.source for cell in gallery_source.read_cells(script.read_text(
            encoding="utf-8")) if cell.kind == "code"]
        assert code == original, f"{script.name}: the notebook's code cells differ"
    archives = [link for link in parsed(gallery / "index.html").links if link.endswith(".zip")]
    assert len(archives) == 2
    for archive in archives:
        with zipfile.ZipFile((gallery / archive).resolve()) as zipped:
            names = set(zipped.namelist())
        assert "_common.py" in names and len(names) == len(TUTORIALS) + 1


# -- in headless Chromium -------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(site):
    from ctrlinf.explore._screenshot import chromium_driver, missing_browser

    missing = missing_browser()
    if missing:
        message = (f"the site test needs {' and '.join(missing)} on PATH "
                   "(Debian: apt-get install chromium chromium-driver)")
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    driver = chromium_driver(network_log=True)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


#: Resolves once MathJax (if the page loads it) has typeset the page.
_TYPESET = """
const done = arguments[arguments.length - 1];
const ready = () => (window.MathJax && MathJax.startup && MathJax.startup.promise)
    ? MathJax.startup.promise.then(() => done(true), () => done(false)) : done(true);
if (document.readyState === 'complete') ready(); else addEventListener('load', ready);
"""
_PAGE_STATE = """
return {
  brokenImages: Array.from(document.images)
      .filter(img => !img.complete || img.naturalWidth === 0).map(img => img.src),
  images: document.images.length,
  maths: document.querySelectorAll('mjx-container').length,
  mathErrors: document.querySelectorAll('mjx-merror').length,
  rawMaths: document.querySelectorAll('.math').length
      - document.querySelectorAll('.math mjx-container, mjx-container.math').length,
};
"""


def _requests(driver):
    """URLs of every request the browser sent since the last call (from DevTools)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_every_page_loads_from_disk_offline_without_errors(site, browser):
    problems, maths = [], 0
    browser.get_log("browser"), _requests(browser)
    for page in html_pages(site):
        name = page.relative_to(site)
        browser.get(page.as_uri())
        if not browser.execute_async_script(_TYPESET):
            problems.append(f"{name}: MathJax failed")
        state = browser.execute_script(_PAGE_STATE)
        maths += state["maths"]
        errors = [entry["message"] for entry in browser.get_log("browser")
                  if entry["level"] == "SEVERE"]
        remote = [url for url in _requests(browser)
                  if urlsplit(url).scheme not in ("file", "data", "blob", "about")]
        for kind, found in (("console error", errors), ("broken image", state["brokenImages"]),
                            ("request off file://", remote)):
            problems += [f"{name}: {kind}: {item}" for item in found]
        if state["mathErrors"] or state["rawMaths"] > 0:
            problems.append(f"{name}: {state['mathErrors']} maths errors, "
                            f"{state['rawMaths']} formulas not typeset")
    assert not problems, "\n".join(problems[:40])
    assert maths > 100, f"MathJax typeset only {maths} formulas on the whole site"


def test_tutorial_pages_show_their_figures_and_maths(site, browser):
    browser.get((site / "tutorials" / "04_forward_messages.html").as_uri())
    assert browser.execute_async_script(_TYPESET)
    state = browser.execute_script(_PAGE_STATE)
    assert state["images"] >= 2 and not state["brokenImages"] and state["maths"] >= 5


def test_search_page_finds_message_intersection(site, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get((site / "search.html").as_uri() + "?q=message+intersection")
    results = WebDriverWait(browser, 30).until(lambda driver: driver.execute_script(
        "const items = document.querySelectorAll('#search-results li a');"
        "const status = document.querySelector('#search-results .search-summary, "
        "#search-results p');"
        "return (items.length && status && !/Preparing|Searching/.test(status.textContent))"
        " ? Array.from(items).map(a => a.href) : null;"))
    assert any(url.endswith("tutorials/04_forward_messages.html") or
               "tutorials/04_forward_messages.html#" in url for url in results), results
