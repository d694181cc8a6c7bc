"""Fuzz the layers above the core: the `ctrlinf` command, ci.sweep.run and ci.explore.page.

Issue 18's property for these surfaces: bad input gives a clean error, never a traceback,
an OSError after minutes of work, or a silent wrong answer. For the command: exit status
2 and one line on stderr saying what is wrong. For the library: a ``ValueError`` or
``TypeError`` whose message names the argument (``store``, ``grid``, ``scheduler``,
``path``, ``title``) and says why. Every case states its expected message.

The cases run in a child interpreter, group by group, through test_fuzz.py's
:func:`~test_fuzz.assert_child_passes` and :func:`~test_fuzz.run_cases`
(``START``/``PASS``/``FAIL`` lines, so a crash names its case): NUL bytes, crafted files
and half-created folders are the inputs that crash programs.
"""
from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest

import test_fuzz

# -- the command -------------------------------------------------------------------
#: (id, argv with {tmp} for the case folder, expected exit status, text the line must hold)
CLI_CASES = [
    ("solve-empty-world", ["solve", ""], "unknown world ''"),
    ("solve-nul-world", ["solve", "grid\0world"], "a NUL byte is in the name"),
    ("solve-zero-rows", ["solve", "gridworld:0x3"], "gridworld needs at least one row"),
    ("solve-no-cols", ["solve", "gridworld:3x"], "unknown world 'gridworld:3x'"),
    ("solve-negative-rows", ["solve", "gridworld:-1x3"], "unknown world"),
    ("solve-map-nul-char", ["solve", "{tmp}/nul.txt"], "is not a valid map: layout row 0, "
                                                          "column 2 is '\\x00'"),
    ("solve-map-empty", ["solve", "{tmp}/empty.txt"], "is not a valid map: layout is empty"),
    ("solve-map-no-start", ["solve", "{tmp}/nostart.txt"], "layout has no start cell 'S'"),
    ("solve-map-ragged", ["solve", "{tmp}/ragged.txt"], "every row must have the same length"),
    ("solve-map-latin1", ["solve", "{tmp}/latin1.txt"], "not a text map (not UTF-8 text)"),
    ("solve-temperature-zero", ["solve", "gridworld:3x3", "--temperature", "0"],
     "expected a finite number > 0, got '0'"),
    ("solve-temperature-nan", ["solve", "gridworld:3x3", "--temperature", "nan"],
     "expected a finite number > 0, got 'nan'"),
    ("solve-temperature-subnormal", ["solve", "gridworld:3x3", "--temperature", "1e-320"],
     "below the smallest normal float"),
    ("solve-temperature-overflow", ["solve", "gridworld:3x3", "--mode", "exact",
                                    "--temperature", "1e-300"], "r / temperature overflows"),
    ("solve-horizon-zero", ["solve", "gridworld:3x3", "--horizon", "0"],
     "expected a positive int or 'inf', got '0'"),
    ("solve-horizon-float", ["solve", "gridworld:3x3", "--horizon", "1.5"],
     "expected a positive int or 'inf', got '1.5'"),
    ("solve-gamma-zero", ["solve", "gridworld:3x3", "--gamma", "0"],
     "expected a finite number > 0, got '0'"),
    ("solve-gamma-nan", ["solve", "gridworld:3x3", "--gamma", "nan"],
     "expected a finite number > 0, got 'nan'"),
    ("solve-slip-two", ["solve", "gridworld:3x3", "--slip", "2"],
     "expected a number in [0, 1], got '2'"),
    ("solve-slip-inf", ["solve", "gridworld:3x3", "--slip", "inf"],
     "expected a number in [0, 1], got 'inf'"),
    ("solve-slip-empty", ["solve", "gridworld:3x3", "--slip", ""],
     "expected a number in [0, 1], got ''"),
    ("solve-slip-saved-mdp", ["solve", "{tmp}/grid.npz", "--slip", "0.1"],
     "--slip applies to a map file or gridworld:ROWSxCOLS"),
    ("solve-plot-empty", ["solve", "gridworld:3x3", "--plot", ""], "--plot is empty"),
    ("solve-plot-nul", ["solve", "gridworld:3x3", "--plot", "{tmp}/v\0.png"],
     "a path cannot contain a NUL byte"),
    ("solve-plot-folder", ["solve", "gridworld:3x3", "--plot", "{tmp}"], "it is a directory"),
    ("solve-plot-proc", ["solve", "gridworld:3x3", "--plot", "/proc/v.png"],
     "--plot /proc/v.png: cannot write there"),
    ("solve-plot-under-file", ["solve", "gridworld:3x3", "--plot", "{tmp}/a_file/v.png"],
     "does not exist"),
    ("solve-plot-format", ["solve", "gridworld:3x3", "--plot", "{tmp}/v.nosuchformat"],
     "cannot write .nosuchformat pictures"),
    ("explore-out-empty", ["explore", "gridworld:3x3", "--out", ""], "--out is empty"),
    ("explore-out-nul", ["explore", "gridworld:3x3", "--out", "{tmp}/p\0.html"],
     "a path cannot contain a NUL byte"),
    ("explore-out-folder", ["explore", "gridworld:3x3", "--out", "{tmp}"], "it is a directory"),
    ("explore-out-missing-folder", ["explore", "gridworld:3x3", "--out", "{tmp}/no/p.html"],
     "does not exist"),
    ("explore-temperatures-empty", ["explore", "gridworld:3x3", "--out", "{tmp}/p.html",
                                    "--temperatures", ""], "expected a number, got ''"),
    ("explore-temperatures-gap", ["explore", "gridworld:3x3", "--out", "{tmp}/p.html",
                                  "--temperatures", "1,,2"], "expected a number, got ''"),
    ("explore-temperatures-repeated", ["explore", "gridworld:3x3", "--out", "{tmp}/p.html",
                                       "--temperatures", "1,1"], "repeated value"),
    ("explore-temperatures-negative", ["explore", "gridworld:3x3", "--out", "{tmp}/p.html",
                                       "--temperatures", "-1"], "expected a finite number > 0"),
    ("explore-horizon-zero", ["explore", "gridworld:3x3", "--out", "{tmp}/p.html",
                              "--horizon", "0"], "expected a positive int, got '0'"),
    ("explore-too-large", ["explore", "gridworld:40x40", "--out", "{tmp}/p.html"],
     "too large to embed"),
    ("explore-not-a-grid", ["explore", "{tmp}/plain.npz", "--out", "{tmp}/p.html"],
     "is a TabularMDP without cells; the page draws grid worlds"),
    ("explore-slip-saved-mdp", ["explore", "{tmp}/grid.npz", "--out", "{tmp}/p.html",
                                "--slip", "0"], "--slip applies to a map file"),
    ("sweep-store-empty", ["sweep", "irl-evd", "--store", ""], "--store is empty"),
    ("sweep-store-nul", ["sweep", "irl-evd", "--store", "{tmp}/s\0"],
     "a path cannot contain a NUL byte"),
    ("sweep-store-under-file", ["sweep", "irl-evd", "--store", "{tmp}/a_file/s"],
     "cannot write there (Not a directory)"),
    ("sweep-out-is-file", ["sweep", "irl-evd", "--store", "{tmp}/s", "--out", "{tmp}/a_file"],
     "--out {tmp}/a_file: is a file, expected a folder"),
    ("sweep-scheduler-no-port", ["sweep", "irl-evd", "--store", "{tmp}/s", "--worlds",
                                 "gridworld", "--size", "3", "--scheduler", "nonsense"],
     "scheduler 'nonsense' is not a Dask scheduler address"),
    ("sweep-scheduler-port-range", ["sweep", "irl-evd", "--store", "{tmp}/s", "--worlds",
                                    "gridworld", "--size", "3", "--scheduler",
                                    "tcp://127.0.0.1:99999"], "port 99999 is not in 1..65535"),
    ("sweep-size-one", ["sweep", "irl-evd", "--store", "{tmp}/s", "--size", "1"],
     "--size 1: size 1 is too small for objectworld"),
    ("sweep-seeds-zero", ["sweep", "irl-evd", "--store", "{tmp}/s", "--seeds", "0"],
     "expected a positive int, got '0'"),
    ("sweep-temperature-nan", ["sweep", "irl-evd", "--store", "{tmp}/s", "--temperatures",
                               "nan"], "expected a finite number > 0, got 'nan'"),
    ("sweep-unknown-world", ["sweep", "irl-evd", "--store", "{tmp}/s", "--worlds", "mars"],
     "invalid choice: 'mars'"),
    ("irl-demos-zero", ["irl", "gridworld", "--demos", "0"], "expected a positive int"),
    ("irl-plot-empty", ["irl", "gridworld", "--plot", ""], "--plot is empty"),
    ("irl-plot-nul", ["irl", "gridworld", "--plot", "r\0.png"], "a path cannot contain a NUL"),
    ("demo-out-nul", ["demo", "--out", "{tmp}/d\0"], "a path cannot contain a NUL byte"),
    ("demo-out-empty", ["demo", "--out", ""], "--out is empty"),
    ("tutorial-zero", ["tutorial", "0"], "expected a positive int, got '0'"),
    ("tutorial-missing", ["tutorial", "98"], "no tutorial 98"),
    ("unknown-command", ["frobnicate"], "invalid choice: 'frobnicate'"),
]


def _files(folder):
    """The crafted worlds and the file in the way that the cases name."""
    import ctrlinf as ci

    with open(os.path.join(folder, "nul.txt"), "w") as f:
        f.write("S.\0G\n")
    open(os.path.join(folder, "empty.txt"), "w").close()
    with open(os.path.join(folder, "nostart.txt"), "w") as f:
        f.write("...\n..G\n")
    with open(os.path.join(folder, "ragged.txt"), "w") as f:
        f.write("S..\n.G\n")
    with open(os.path.join(folder, "latin1.txt"), "wb") as f:
        f.write("S.é\n..G\n".encode("latin-1"))
    with open(os.path.join(folder, "a_file"), "w") as f:
        f.write("in the way")
    ci.envs.gridworld_from_map(["S.", ".G"], horizon=3).save(os.path.join(folder, "grid.npz"))
    ci.TabularMDP(np.ones((2, 1, 2)) / 2, np.zeros(2), [1.0, 0.0], horizon=3).save(
        os.path.join(folder, "plain.npz"))


def _cli(argv, message):
    """Run the command in this process: exit status 2 and one line naming the problem."""
    from ctrlinf import cli

    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        status = cli.main(argv)
    lines = err.getvalue().splitlines()
    assert status == 2, f"exit {status}, stderr {err.getvalue()!r}"
    assert len(lines) == 1 and lines[0].startswith("ctrlinf"), lines
    assert message in lines[0], f"{message!r} not in {lines[0]!r}"
    assert "Traceback" not in err.getvalue()
    return "exit 2"


def _cli_cases(folder):
    _files(folder)
    cases = []
    for id_, argv, message in CLI_CASES:
        argv = [a.replace("{tmp}", folder) for a in argv]
        message = message.replace("{tmp}", folder)
        cases.append((f"cli-{id_}", lambda argv=argv, message=message: _cli(argv, message),
                      (), None))
    return cases


# -- the library: sweep.run, explore.page --------------------------------------------
def _raises_with(call, message):
    """Call; an exception whose text lacks ``message`` becomes an AssertionError."""
    def run():
        try:
            return call()
        except (TypeError, ValueError) as error:
            assert message in str(error), f"{message!r} not in {str(error)!r}"
            raise
    return run


def _returns(call, check):
    def run():
        out = call()
        check(out)
        return None
    return run


def _library_cases(folder):
    import ctrlinf as ci
    from ctrlinf import sweep
    from ctrlinf.sweep_tasks import gridworld_value

    _files(folder)
    grid = {"slip": [0.0], "temperature": [1.0]}
    world = ci.envs.gridworld_from_map(["S.", ".G"], horizon=3)
    sub = os.path.join(folder, "s")

    def run_sweep(**changes):
        kwargs = dict(task=gridworld_value, grid=grid, store=sub, progress=False)
        kwargs.update(changes)
        return lambda: ci.sweep.run(**kwargs)

    def page(path=os.path.join(folder, "p.html"), **kwargs):
        return lambda: ci.explore.page(world, path, temperatures=[1.0], **kwargs)

    cases = [
        ("sweep-store-empty", run_sweep(store=""), "store", ValueError, "store is empty"),
        ("sweep-store-nul", run_sweep(store=os.path.join(folder, "a\0b")), "store",
         ValueError, "a path cannot contain a NUL byte"),
        ("sweep-store-under-file", run_sweep(store=os.path.join(folder, "a_file", "s")),
         "store", ValueError, "cannot write there (Not a directory)"),
        ("sweep-store-is-file", run_sweep(store=os.path.join(folder, "a_file")), "store",
         ValueError, "store must be a directory"),
        ("sweep-store-proc", run_sweep(store="/proc/no/such"), "store", ValueError,
         "cannot write there"),
        ("sweep-store-bytes", run_sweep(store=b"runs"), "store", TypeError,
         "store must be a directory path"),
        ("sweep-grid-nan", run_sweep(grid={"slip": [float("nan")], "temperature": [1.0]}),
         "grid", ValueError, "grid['slip'] holds NaN"),
        ("sweep-grid-numpy-nan", run_sweep(grid={"slip": np.array([0.0, np.nan]),
                                                 "temperature": [1.0]}),
         "grid", ValueError, "grid['slip'] holds NaN"),
        ("sweep-grid-nested-nan", run_sweep(grid={"slip": [[0.1, [np.nan]]],
                                                  "temperature": [1.0]}),
         "grid", ValueError, "grid['slip'] holds NaN"),
        ("sweep-grid-list-nan", run_sweep(grid=[{"slip": 0.0, "temperature": np.nan}]),
         "grid", ValueError, "grid[0]['temperature'] holds NaN"),
        ("sweep-grid-nul-name", run_sweep(grid={"sl\0ip": [0.0]}), "grid", ValueError,
         "grid parameter names must be identifiers"),
        ("sweep-scheduler-no-port", run_sweep(scheduler="localhost"), "scheduler", ValueError,
         "missing port number"),
        ("sweep-scheduler-bad-port", run_sweep(scheduler="tcp://h:http"), "scheduler",
         ValueError, "is not a Dask scheduler address"),
        ("sweep-scheduler-scheme", run_sweep(scheduler="udp://h:1"), "scheduler", ValueError,
         "unknown address scheme 'udp'"),
        ("sweep-scheduler-empty-host", run_sweep(scheduler="tcp://"), "scheduler", ValueError,
         "is not a Dask scheduler address"),
        ("sweep-scheduler-nul", run_sweep(scheduler="tcp://h\0:1:2"), "scheduler", ValueError,
         "is not a Dask scheduler address"),
        ("sweep-scheduler-port-zero", run_sweep(scheduler="tcp://127.0.0.1:0"), "scheduler",
         ValueError, "port 0 is not in 1..65535"),
        ("page-path-empty", page(""), "path", ValueError, "path is empty"),
        ("page-path-nul", page(os.path.join(folder, "p\0.html")), "path", ValueError,
         "a path cannot contain a NUL byte"),
        ("page-path-folder", page(folder), "path", ValueError, "it is a directory"),
        ("page-path-missing-folder", page(os.path.join(folder, "no", "p.html")), "path",
         ValueError, "does not exist"),
        ("page-path-under-file", page(os.path.join(folder, "a_file", "p.html")), "path",
         ValueError, "does not exist"),
        ("page-path-proc", page("/proc/p.html"), "path", ValueError, "cannot write there"),
        ("page-path-int", page(3), "path", TypeError, "path must be a str or os.PathLike"),
        ("page-path-bytes", page(b"p.html"), "path", TypeError,
         "path must be a str or os.PathLike"),
        ("page-title-int", page(title=7), "title", TypeError, "title must be a str"),
        ("page-title-bytes", page(title=b"x"), "title", TypeError, "title must be a str"),
    ]
    cases = [(f"lib-{id_}", _raises_with(call, message), names, expect)
             for id_, call, names, expect, message in cases]

    # Titles are text: the data block is in the page once, whatever they say.
    def one_data_block(path):
        text = open(path, encoding="utf-8").read()
        assert text.count('"shape":') == 1 and text.count("<script") == 2, path
    for i, title in enumerate(["%%DATA%%", "%%CAPTION%%%%TITLE%%", "</script>", "\"'<&>",
                               "\0", "\u2028\u2029"]):
        cases.append((f"lib-page-title-{i}", _returns(
            page(os.path.join(folder, f"t{i}.html"), title=title), one_data_block), (), None))

    # Foreign cell files in a store: not a record of this cell, so the cell is recomputed.
    params = {"slip": 0.0, "temperature": 1.0}
    name = "ctrlinf.sweep_tasks:gridworld_value"
    foreign = {"list": [1], "string": "x", "null": None, "no-error": {
        "task": name, "params": params, "result": {"value": 1.0}},
        "list-result": {"task": name, "params": params, "result": [1.0], "error": None},
        "empty-error": {"task": name, "params": params, "result": None, "error": ""},
        "other-task": {"task": "m:f", "params": params, "result": {"value": 1.0},
                       "error": None},
        "result-shadows": {"task": name, "params": params, "result": {"slip": 1.0},
                           "error": None}}
    store = os.path.join(folder, "foreign")
    os.makedirs(store, exist_ok=True)
    key = sweep._cell_key(name, params)

    def recomputed(record):
        def run():
            with open(os.path.join(store, f"{key}.json"), "w") as f:
                json.dump(record, f)
            assert sweep._load(store, key, name, params) is None
        return run
    cases += [(f"lib-foreign-cell-{id_}", recomputed(record), (), None)
              for id_, record in foreign.items()]
    return cases


#: The groups of cases, each run in its own child interpreter.
GROUPS = {"cli": _cli_cases, "library": _library_cases}


@pytest.mark.parametrize("group", list(GROUPS))
def test_bad_input_above_the_core_is_a_clean_error(group, tmp_path):
    test_fuzz.assert_child_passes(
        "import test_fuzz, test_fuzz_cli; "
        f"test_fuzz.run_cases(test_fuzz_cli.GROUPS[{group!r}]({str(tmp_path)!r}))")

