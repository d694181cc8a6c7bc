"""ci.sweep.run on local processes and on a Dask cluster; `ctrlinf sweep irl-evd`.

The cell functions below are module-level so that the worker processes import them by
name (pytest puts tests/ on sys.path, and spawned workers inherit it).
"""
import json
import logging
import os
import pathlib
import re
import subprocess
import sys
import time

import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

import ctrlinf as ci  # noqa: E402
from ctrlinf import sweep  # noqa: E402
from ctrlinf import sweep_tasks  # noqa: E402


# ----------------------------------------------------------------------- cell functions

def noisy_square(x, seed):
    """x² plus seeded noise, and where it ran."""
    noise = np.random.default_rng(seed).normal()
    return {"y": float(x) ** 2 + noise, "pid": os.getpid(),
            "numba_threads": numba.get_num_threads(),
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}


def counted(x, log):
    """2x; appends a line to ``log`` for every call, so a test can count the calls."""
    with open(log, "a", encoding="utf-8") as f:
        f.write(f"{x}\n")
    return {"y": 2 * x}


def fragile(x, log, flag):
    """Like counted, but x = 2 raises while the file ``flag`` exists."""
    if x == 2 and os.path.exists(flag):
        raise ValueError(f"cannot do x={x}")
    return counted(x, log)


def waits_for_the_store(x, store):
    """Cell 0 returns at once; cell 1 waits (up to 60 s) until a cell file is in the store."""
    deadline = time.monotonic() + 60
    while x and not list(pathlib.Path(store).glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"files_seen": len(list(pathlib.Path(store).glob("*.json")))}


def dies(x):
    """x = 1 kills the worker process running it."""
    if x == 1:
        os._exit(3)
    return {"y": x}


def _plus_one(x):
    return x + 1


def compiles(x):
    """Compiles a fresh numba function in the worker (no cache to load it from)."""
    return {"y": numba.njit(cache=False)(_plus_one)(x), "numba_threads": numba.get_num_threads()}


def not_a_dict(x):
    return [x]


def calls(log):
    return sorted(int(line) for line in open(log, encoding="utf-8")) if os.path.exists(log) \
        else []


@pytest.fixture(scope="module")
def client():
    """One local Dask cluster of 2 worker processes for the module (a start costs seconds)."""
    from distributed import Client
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as c:
        yield c


# ------------------------------------------------------------------------------ run()

def test_local_run_equals_direct_computation(tmp_path):
    """scheduler=None: the default local processes give what calling the task gives."""
    grid = {"slip": [0.0, 0.3], "temperature": [0.5, 2.0], "mode": ["soft", "exact"]}
    df = ci.sweep.run(sweep_tasks.gridworld_value, grid, tmp_path / "store", n_workers=1,
                      progress=False)
    assert list(df.columns) == ["slip", "temperature", "mode", "value", "error"]
    assert len(df) == 8 and df["error"].isna().all()
    for row in df.itertuples():
        direct = sweep_tasks.gridworld_value(slip=row.slip, temperature=row.temperature,
                                             mode=row.mode)
        np.testing.assert_allclose(row.value, direct["value"], rtol=1e-12)
    # Cartesian product, last name fastest.
    assert df[["slip", "temperature", "mode"]].iloc[1].tolist() == [0.0, 0.5, "exact"]
    assert len(list((tmp_path / "store").glob("*.json"))) == 8


def test_a_complete_store_starts_no_cluster(tmp_path, monkeypatch, capsys):
    grid = {"slip": [0.1], "temperature": [1.0]}
    first = ci.sweep.run(sweep_tasks.gridworld_value, grid, tmp_path, n_workers=1)

    def refuse(*args):
        raise AssertionError("a cluster was started")
    monkeypatch.setattr(sweep, "_local_cluster", refuse)
    pd.testing.assert_frame_equal(first, ci.sweep.run(sweep_tasks.gridworld_value, grid,
                                                      tmp_path))
    assert capsys.readouterr().err == ""          # progress=None: no bar off a terminal


def test_each_cell_is_one_json_file_with_params_and_result(tmp_path, client):
    ci.sweep.run(counted, [{"x": 3, "log": str(tmp_path / "log")}], tmp_path, scheduler=client,
                 progress=False)
    (path,) = tmp_path.glob("*.json")
    record = json.loads(path.read_text())
    assert record["params"] == {"x": 3, "log": str(tmp_path / "log")}
    assert record["result"] == {"y": 6} and record["error"] is None
    assert record["task"] == "test_sweep:counted"


def test_rerun_computes_nothing_and_a_partial_store_only_the_missing(tmp_path, client):
    log = str(tmp_path / "calls.txt")
    grid = {"x": [1, 2, 3, 4], "log": [log]}
    store = tmp_path / "store"
    first = ci.sweep.run(counted, grid, store, scheduler=client, progress=False)
    assert calls(log) == [1, 2, 3, 4]
    mtimes = {p: p.stat().st_mtime_ns for p in store.glob("*.json")}

    again = ci.sweep.run(counted, grid, store, scheduler=client, progress=False)
    assert calls(log) == [1, 2, 3, 4]                     # no new call
    assert {p: p.stat().st_mtime_ns for p in store.glob("*.json")} == mtimes
    pd.testing.assert_frame_equal(first, again)

    # What a Ctrl-C leaves: some cells stored, the others not.
    removed = sorted(store.glob("*.json"))[:2]
    lost = [json.loads(path.read_text())["params"]["x"] for path in removed]
    for path in removed:
        path.unlink()
    resumed = ci.sweep.run(counted, grid, store, scheduler=client, progress=False)
    assert calls(log) == sorted([1, 2, 3, 4] + lost)    # only the lost cells ran again
    pd.testing.assert_frame_equal(first, resumed)


def test_a_finished_cell_is_stored_while_others_still_run(tmp_path, client):
    df = ci.sweep.run(waits_for_the_store, {"x": [0, 1], "store": [str(tmp_path)]}, tmp_path,
                      scheduler=client, progress=False)
    assert df["files_seen"].tolist() == [0, 1]


def test_a_grown_grid_computes_only_the_new_cells(tmp_path, client):
    log = str(tmp_path / "calls.txt")
    ci.sweep.run(counted, {"x": [1, 2], "log": [log]}, tmp_path / "s", scheduler=client,
                 progress=False)
    df = ci.sweep.run(counted, {"x": [1, 2, 5], "log": [log]}, tmp_path / "s", scheduler=client,
                      progress=False)
    assert calls(log) == [1, 2, 5] and df["y"].tolist() == [2, 4, 10]


def test_a_failing_cell_keeps_the_others_is_reported_and_retried(tmp_path, client):
    log, flag = str(tmp_path / "calls.txt"), tmp_path / "flag"
    flag.touch()
    grid = {"x": [1, 2, 3], "log": [log], "flag": [str(flag)]}
    with pytest.warns(RuntimeWarning, match=r"1 of 3 cells failed.*ValueError: cannot do x=2"):
        df = ci.sweep.run(fragile, grid, tmp_path / "s", scheduler=client, progress=False)
    assert df["error"].tolist() == [None, "ValueError: cannot do x=2", None]
    assert df["y"].iloc[[0, 2]].tolist() == [2, 6] and np.isnan(df["y"].iloc[1])
    stored = [json.loads(p.read_text()) for p in (tmp_path / "s").glob("*.json")]
    failed = [r for r in stored if r["error"]]
    assert len(stored) == 3 and len(failed) == 1 and "Traceback" in failed[0]["traceback"]

    flag.unlink()                                    # the cause is fixed: rerun retries it
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = ci.sweep.run(fragile, grid, tmp_path / "s", scheduler=client, progress=False)
    assert df["y"].tolist() == [2, 4, 6] and df["error"].isna().all()
    assert calls(log) == [1, 2, 3]                    # only the failed cell ran again


DEAD_WORKER_SCRIPT = """
import logging, sys, warnings
import dask
from distributed import LocalCluster
import ctrlinf as ci
from test_sweep import dies

if __name__ == "__main__":
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \\
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                         dashboard_address=":0", silence_logs=logging.CRITICAL) as cluster, \\
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = ci.sweep.run(dies, {"x": [0, 1, 2, 3]}, sys.argv[1], scheduler=cluster,
                          progress=False)
    print(df.to_json(orient="records"))
    print(caught[0].message)
"""


def run_script(tmp_path, code):
    """Run ``code`` as a script in its own interpreter, with tests/ importable."""
    (tmp_path / "script.py").write_text(code)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(pathlib.Path(__file__).resolve().parent), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "script.py", str(tmp_path / "store")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


COMPILE_SCRIPT = """
import sys
import ctrlinf as ci          # numba comes with it, so spawned workers import it at once
from test_sweep import compiles

if __name__ == "__main__":
    df = ci.sweep.run(compiles, {"x": [1, 2]}, sys.argv[1], n_workers=1, progress=False)
    print(df.to_json(orient="records"))
"""


def test_workers_that_imported_numba_early_still_compile(tmp_path):
    """A regression: NUMBA_NUM_THREADS set in a worker after numba was imported made its
    next compilation fail; the thread count is pinned with numba.set_num_threads instead."""
    rows = json.loads(run_script(tmp_path, COMPILE_SCRIPT)[-1])
    assert [(r["y"], r["numba_threads"], r["error"]) for r in rows] == [(2, 1, None),
                                                                        (3, 1, None)]


def test_a_dead_worker_loses_only_its_cells(tmp_path):
    """The worker running x = 1 dies: that cell is an error, the others are kept.

    In its own interpreter: a worker death is best kept away from the shared cluster.
    """
    rows, warning = run_script(tmp_path, DEAD_WORKER_SCRIPT)[-2:]
    df = pd.DataFrame(json.loads(rows))
    assert df["error"][1].startswith("KilledWorker") and "cells failed" in warning
    # Dask also blames cells queued on the dead worker; every other cell is kept.
    done = df["error"].isna()
    assert done.sum() >= 1 and (df["y"][done] == df["x"][done]).all()
    assert len(list((tmp_path / "store").glob("*.json"))) == 4


def test_a_task_that_returns_no_dict_fails_its_cells(tmp_path, client):
    with pytest.warns(RuntimeWarning, match="task must return a dict, returned list"):
        df = ci.sweep.run(not_a_dict, {"x": [1]}, tmp_path, scheduler=client, progress=False)
    assert df["error"][0] == "TypeError: task must return a dict, returned list"


def test_cluster_gives_the_same_numbers_computed_in_its_workers(tmp_path, client):
    """The same cells on a 2-process cluster (by Client and by address) and locally."""
    grid = {"x": [0.5, 1.0, 2.0], "seed": [0, 1, 2]}
    local = ci.sweep.run(noisy_square, grid, tmp_path / "local", n_workers=1, progress=False)
    remote = ci.sweep.run(noisy_square, grid, tmp_path / "remote", scheduler=client,
                          progress=False)
    address = client.scheduler.address
    by_address = ci.sweep.run(noisy_square, grid, tmp_path / "addr", scheduler=address,
                              progress=False)
    for df in (local, remote, by_address):
        np.testing.assert_array_equal(df["y"], local["y"])
        assert (df["pid"] != os.getpid()).all()      # computed in worker processes
        assert (df["numba_threads"] == 1).all()       # pinned to one thread
        assert (df["blas_threads"] == "1").all()
    assert set(remote["pid"]) <= set(client.run(os.getpid).values())
    expected = [x ** 2 + np.random.default_rng(s).normal() for x in grid["x"]
                for s in grid["seed"]]
    np.testing.assert_array_equal(local["y"], expected)


def test_list_grid_and_duplicate_cells(tmp_path, client):
    log = str(tmp_path / "calls.txt")
    cells = [{"x": 2, "log": log}, {"x": np.int64(7), "log": log}, {"x": 2, "log": log}]
    df = ci.sweep.run(counted, cells, tmp_path / "s", scheduler=client, progress=False)
    assert df["y"].tolist() == [4, 14, 4] and calls(log) == [2, 7]


def test_progress_bar_counts_cells(tmp_path, client, capsys):
    ci.sweep.run(counted, {"x": [1, 2], "log": [str(tmp_path / "l")]}, tmp_path, scheduler=client,
                 progress=True)
    assert "counted cells" in capsys.readouterr().err


def local_function_holder():
    def inner(x):
        return {"x": x}
    return inner


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(task=lambda x: {"x": x}), ValueError, "task must be an importable"),
    (dict(task=local_function_holder()), ValueError, "task must be an importable"),
    (dict(task=5), TypeError, "task must be a function"),
    (dict(grid=5), TypeError, "grid must be a dict"),
    (dict(grid={"x": 3}), TypeError, r"grid\['x'\] must be a list of values, got int"),
    (dict(grid={"x": "abc"}), TypeError, r"grid\['x'\] must be a list"),
    (dict(grid={"x": []}), ValueError, r"grid\['x'\] is empty"),
    (dict(grid={}), ValueError, "grid is empty"),
    (dict(grid=[]), ValueError, "grid is an empty list"),
    (dict(grid=[3]), TypeError, r"grid\[0\] must be a dict"),
    (dict(grid={"x": [object()]}), TypeError, r"grid\['x'\] must hold numbers"),
    (dict(grid={"not a name": [1]}), ValueError, "must be identifiers"),
    (dict(grid={"error": [1]}), ValueError, "reserved"),
    (dict(store=5), TypeError, "store must be a directory path"),
    (dict(scheduler=42), TypeError, "scheduler must be None, an address"),
    (dict(scheduler=""), ValueError, "scheduler must be an address"),
    (dict(n_workers=0), ValueError, "n_workers must be a positive int"),
    (dict(n_workers=1.5), TypeError, "n_workers must be a positive int"),
    (dict(n_workers=2, scheduler="tcp://127.0.0.1:8786"), ValueError,
     "n_workers applies to the local cluster"),
    (dict(progress="yes"), TypeError, "progress must be None"),
])
def test_bad_input_names_the_argument(tmp_path, kwargs, error, message):
    args = dict(task=counted, grid={"x": [1], "log": [str(tmp_path / "l")]},
                store=tmp_path / "s")
    args.update(kwargs)
    with pytest.raises(error, match=message):
        ci.sweep.run(**args)
    assert not os.path.exists(tmp_path / "l")           # nothing ran
    if "store" not in kwargs:
        assert not os.path.exists(tmp_path / "s")       # and no directory was made


def test_store_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match="store must be a directory"):
        ci.sweep.run(counted, {"x": [1], "log": ["l"]}, tmp_path / "f")


#: Cell files a person or another program might leave in a store: each is recomputed.
FOREIGN_RECORDS = {
    "a list": [1, 2, 3],
    "a number": 7,
    "null": None,
    "no error key": {"task": "test_sweep:counted", "params": "{params}", "result": {"y": 0}},
    "a list result": {"task": "test_sweep:counted", "params": "{params}", "result": [0],
                      "error": None},
    "no result and no error": {"task": "test_sweep:counted", "params": "{params}",
                               "result": None, "error": None},
    "a number error": {"task": "test_sweep:counted", "params": "{params}", "result": None,
                       "error": 3},
    "a result that names the error column": {"task": "test_sweep:counted",
                                             "params": "{params}",
                                             "result": {"error": 1}, "error": None},
    "a result that shadows a parameter": {"task": "test_sweep:counted", "params": "{params}",
                                          "result": {"x": 1}, "error": None},
    "params as a list": {"task": "test_sweep:counted", "params": [1], "result": {"y": 0},
                         "error": None},
}


def test_foreign_cell_files_are_recomputed_not_crashed_on(tmp_path, client):
    """Issue 18: the docstring says hand-edited files are recomputed; so they are."""
    log = str(tmp_path / "calls.txt")
    cells = [{"x": i, "log": log} for i in range(len(FOREIGN_RECORDS))]
    store = tmp_path / "store"
    store.mkdir()
    for params, record in zip(cells, FOREIGN_RECORDS.values()):
        if isinstance(record, dict) and record.get("params") == "{params}":
            record = dict(record, params=params)
        key = sweep._cell_key("test_sweep:counted", params)
        (store / f"{key}.json").write_text(json.dumps(record))
    df = ci.sweep.run(counted, cells, store, scheduler=client, progress=False)
    assert df["y"].tolist() == [2 * i for i in range(len(cells))] and df["error"].isna().all()
    assert calls(log) == list(range(len(cells)))          # every one computed again
    again = ci.sweep.run(counted, cells, store, scheduler=client, progress=False)
    pd.testing.assert_frame_equal(df, again)
    assert calls(log) == list(range(len(cells)))          # and now kept


@pytest.mark.parametrize("store, message", [
    ("", "store is empty, expected a folder path"),
    ("{tmp}/a_file/store", "store {tmp}/a_file/store: cannot write there (Not a directory)"),
    ("{tmp}/a\0b", "store '{tmp}/a\\x00b': cannot write there, a path cannot contain a NUL"),
    ("/proc/no/such", "store /proc/no/such: cannot write there"),
    (b"bytes", "store must be a directory path"),
])
def test_a_store_that_cannot_be_written_is_a_named_error(store, message, tmp_path):
    (tmp_path / "a_file").write_text("")
    if isinstance(store, str):
        store, message = store.replace("{tmp}", str(tmp_path)), message.replace("{tmp}",
                                                                                str(tmp_path))
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        ci.sweep.run(counted, {"x": [1], "log": [str(tmp_path / "l")]}, store)
    assert not os.path.exists(tmp_path / "l")


@pytest.mark.parametrize("grid, where", [
    ({"x": [1.0, float("nan")], "log": ["l"]}, "grid['x']"),
    ({"x": [np.nan], "log": ["l"]}, "grid['x']"),
    ({"x": [np.array([1.0, np.nan])], "log": ["l"]}, "grid['x']"),
    ({"x": [[0.5, [float("nan")]]], "log": ["l"]}, "grid['x']"),
    ([{"x": 1, "log": "l"}, {"x": np.float32("nan"), "log": "l"}], "grid[1]['x']"),
])
def test_nan_in_the_grid_is_refused(grid, where, tmp_path):
    """Issue 18: NaN equals nothing, so its stored cell was never found and ran every time."""
    with pytest.raises(ValueError, match=re.escape(f"{where} holds NaN")):
        ci.sweep.run(counted, grid, tmp_path / "s")
    assert not os.path.exists(tmp_path / "s")


def test_inf_in_the_grid_finds_its_stored_cell(tmp_path, client):
    log = str(tmp_path / "calls.txt")
    grid = {"x": [float("inf")], "log": [log]}
    ci.sweep.run(counted, grid, tmp_path / "s", scheduler=client, progress=False)
    ci.sweep.run(counted, grid, tmp_path / "s", scheduler=client, progress=False)
    assert len(open(log).read().splitlines()) == 1


@pytest.mark.parametrize("address, reason", [
    ("nonsense", "missing port number"),
    ("tcp://host:notaport", "invalid literal"),
    ("tcp://", "missing port number"),
    ("foo://bar:1", "unknown address scheme 'foo'"),
    ("127.0.0.1", "missing port number"),
    ("tcp://127.0.0.1:99999", "port 99999 is not in 1..65535"),
    ("tcp://127.0.0.1:0", "port 0 is not in 1..65535"),
    ("\0", "missing port number"),
])
def test_a_malformed_scheduler_address_names_scheduler(address, reason, tmp_path):
    with pytest.raises(ValueError, match=re.escape(f"scheduler {address!r} is not a Dask "
                                                   f"scheduler address")) as error:
        ci.sweep.run(counted, {"x": [1], "log": [str(tmp_path / "l")]}, tmp_path / "s",
                     scheduler=address)
    assert reason in str(error.value)
    assert not os.path.exists(tmp_path / "s")


def test_unreachable_scheduler_is_a_value_error(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(ValueError, match="scheduler: cannot reach a Dask scheduler"):
        ci.sweep.run(counted, {"x": [1], "log": [str(tmp_path / "l")]}, tmp_path,
                     scheduler="tcp://127.0.0.1:9")


def test_sweep_is_a_lazy_public_name():
    code = "import sys, ctrlinf; assert 'distributed' not in sys.modules; ctrlinf.sweep.run"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert "sweep" in ci.__all__


# ------------------------------------------------------------------- the IRL EVD sweep

def test_mean_and_interval_is_the_bootstrap_percentile_interval():
    values = np.array([0.0, 0.01, 0.02, 3.0, 0.05, 0.1, 0.0])     # an EVD: never negative
    mean, low, high = sweep_tasks.mean_and_interval(values)
    assert mean == values.mean() and 0.0 <= low < mean < high <= values.max()
    # scipy's percentile bootstrap (another random stream): the same up to resampling noise.
    reference = stats.bootstrap((values,), np.mean, method="percentile", n_resamples=20_000,
                                random_state=1).confidence_interval
    np.testing.assert_allclose([low, high], [reference.low, reference.high], rtol=0.1, atol=0.01)
    # The t interval mean ± t s/√n that it replaces goes below zero here.
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    assert mean - half < 0
    assert sweep_tasks.mean_and_interval(values) == (mean, low, high)       # reproducible
    few = sweep_tasks.mean_and_interval([1.0, 2.0, 3.0, 4.0])
    assert few[0] == 2.5 and np.isnan(few[1]) and np.isnan(few[2])


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.lists(st.floats(0, 1e6), min_size=sweep_tasks.MIN_SEEDS_FOR_INTERVAL, max_size=12))
def test_bootstrap_interval_stays_within_the_values(values):
    """Every resampled mean lies between the smallest and the largest value."""
    mean, low, high = sweep_tasks.mean_and_interval(values)
    tolerance = 1e-12 * max(values)
    assert min(values) - tolerance <= low <= high <= max(values) + tolerance
    assert low - tolerance <= mean <= high + tolerance


def _evd_cells(n_seeds):
    """A table of irl_evd_cell results: one world, one method, two demo counts."""
    rng = np.random.default_rng(0)
    rows = [dict(world="gridworld", method="soft", n_demos=n, seed=seed, expert_temperature=1.0,
                 evd=float(rng.exponential(1.0 / n)), evd_transfer=float(rng.exponential(1.0)),
                 evd_zero=2.0, evd_zero_transfer=2.0, fit_seconds=0.1, error=None)
            for n in (2, 8) for seed in range(n_seeds)]
    return pd.DataFrame(rows)


def test_summary_and_figure_bands_respect_the_range_of_the_evd():
    cells = _evd_cells(6)
    summary = sweep_tasks.summarise(cells)
    assert (summary["seeds"] == 6).all()
    for row in summary.itertuples():
        values = cells[cells.n_demos == row.n_demos]["evd"]
        assert (row.evd, row.evd_low, row.evd_high) == sweep_tasks.mean_and_interval(values)
        assert 0 <= values.min() <= row.evd_low <= row.evd_high <= values.max()
    fig = sweep_tasks.plot_evd(summary, "gridworld", cells=cells)
    ax = fig.axes[0]
    (band,) = ax.collections
    y = band.get_paths()[0].vertices[:, 1]
    assert y.min() >= 0 and np.isclose(y.min(), summary["evd_low"].min())
    assert "95% bootstrap intervals" in fig._suptitle.get_text()


def test_under_five_seeds_the_figure_shows_each_seed():
    cells = _evd_cells(2)
    summary = sweep_tasks.summarise(cells)
    assert summary["evd_low"].isna().all() and summary["evd_high"].isna().all()
    fig = sweep_tasks.plot_evd(summary, "gridworld", cells=cells)
    ax = fig.axes[0]
    assert not ax.collections                                   # no band
    (dots,) = [line for line in ax.lines if line.get_marker() == "."]
    np.testing.assert_array_equal(np.sort(dots.get_ydata()), np.sort(cells["evd"]))
    assert "each seed a dot" in fig._suptitle.get_text()


def test_fewer_demos_are_a_prefix_of_more():
    world = ci.experiments.irl_evd.make_world("gridworld", size=4, seed=0)
    policy = ci.solve(world, mode="soft").policy
    few, many = ci.sample(world, policy, n=3, seed=1), ci.sample(world, policy, n=9, seed=1)
    np.testing.assert_array_equal(few.states, many.states[:3])
    np.testing.assert_array_equal(few.actions, many.actions[:3])


def test_irl_evd_grid_has_curves_and_a_temperature_scan():
    cells = sweep_tasks.irl_evd_grid(["gridworld"], ["soft", "exact"], demos=(2, 8), seeds=2,
                                     size=4, transfer=1, temperatures=(0.5, 1.0))
    assert len(cells) == 2 * (2 * 2 + 1 * 2)
    scan = [c for c in cells if c["expert_temperature"] != 1.0]
    assert {c["n_demos"] for c in scan} == {8} and len(scan) == 4


def test_irl_evd_cell_evd_is_nonnegative_and_zero_for_the_true_reward():
    out = sweep_tasks.irl_evd_cell("gridworld", "soft", n_demos=64, seed=0, size=4,
                                   n_transfer=1)
    assert out["evd"] >= -1e-9 and out["evd_transfer"] >= -1e-9
    assert out["evd_zero"] > out["evd"]
    with pytest.raises(ValueError, match="method must be one of"):
        sweep_tasks.irl_evd_cell("gridworld", "magic", 2, 0, size=4)


def run_cli(*args, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "ctrlinf", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_cli_sweep_irl_evd_writes_table_and_plot_and_resumes(tmp_path):
    args = ("sweep", "irl-evd", "--store", str(tmp_path / "store"), "--worlds", "gridworld",
            "--methods", "soft", "exact", "--demos", "2", "8", "--seeds", "2", "--size", "4",
            "--transfer", "1", "--temperatures", "0.5", "1", "--workers", "2",
            "--out", str(tmp_path / "out"))
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert "gridworld 4x4: EVD" in result.stdout and "MCE soft (linear)" in result.stdout
    cells = pd.read_csv(tmp_path / "out" / "irl_evd_cells.csv")
    summary = pd.read_csv(tmp_path / "out" / "irl_evd_summary.csv")
    assert len(cells) == 2 * (2 * 2 + 2) == len(list((tmp_path / "store").glob("*.json")))
    assert (tmp_path / "out" / "irl_gridworld_evd.png").stat().st_size > 10_000
    # Two seeds: the mean of the stored cells, no interval, and a warning that says so.
    row = summary[(summary.method == "exact") & (summary.n_demos == 8)
                  & (summary.expert_temperature == 1.0)].iloc[0]
    values = cells[(cells.method == "exact") & (cells.n_demos == 8)
                   & (cells.expert_temperature == 1.0)]["evd"]
    np.testing.assert_allclose(row.evd, values.mean())
    assert summary["evd_low"].isna().all() and summary["evd_high"].isna().all()
    assert "warning: 2 seeds per point are too few for an interval" in result.stderr
    assert "too few seeds for an interval" in result.stdout
    # A cell computed in a worker equals the direct computation.
    one = cells.iloc[0]
    direct = sweep_tasks.irl_evd_cell(one.world, one.method, int(one.n_demos), int(one.seed),
                                      size=4, expert_temperature=one.expert_temperature,
                                      n_transfer=1)
    np.testing.assert_allclose([one.evd, one.evd_transfer], [direct["evd"],
                                                             direct["evd_transfer"]],
                               rtol=1e-9)
    # Rerun: everything comes from the store, the same table.
    again = run_cli(*args, "--no-plot")
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(cells.drop(columns="fit_seconds"),
                                  pd.read_csv(tmp_path / "out" / "irl_evd_cells.csv")
                                  .drop(columns="fit_seconds"))


@pytest.mark.parametrize("args, message", [
    (("--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"),
     "n_workers applies to the local cluster"),
    (("--seeds", "0"), "expected a positive int"),
    (("--methods", "magic"), "invalid choice"),
    (("--store", "/proc/no/such"), "--store /proc/no/such: cannot write there"),
    (("--worlds", "gridworld", "--size", "1"), "--size 1: size 1 is too small for gridworld"),
    (("--size", "1"), "--size 1: size 1 is too small for objectworld"),
    (("--scheduler", "tcp://host:notaport"), "scheduler 'tcp://host:notaport' is not a Dask"),
])
def test_cli_sweep_bad_arguments_exit_2(tmp_path, args, message):
    result = run_cli("sweep", "irl-evd", "--store", str(tmp_path / "store"), *args)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()       # one line, no traceback
    assert line.startswith("ctrlinf sweep") and message in line
    assert not list(tmp_path.rglob("*.json"))          # no cell was computed


def readme_section():
    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    start = readme.index("## Sweeps")
    return readme[start:readme.index("\n## ", start + 1)]


def test_readme_sweep_example_runs_as_a_script(tmp_path):
    (code,) = re.findall(r"```python\n(.*?)```", readme_section(), flags=re.S)
    (tmp_path / "scan.py").write_text(code)
    result = subprocess.run([sys.executable, "scan.py"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header == ["slip", "temperature", "value", "error"]
    assert len(list((tmp_path / "runs" / "scan").glob("*.json"))) == 4


def test_readme_cluster_recipe_runs_on_a_local_scheduler_and_worker(tmp_path):
    """`dask scheduler`, `dask worker ADDR --nworkers --nthreads`, then `ctrlinf sweep`."""
    (commands,) = re.findall(r"```bash\n(.*?)```", readme_section(), flags=re.S)
    assert "dask scheduler" in commands and "--nworkers 2 --nthreads 1" in commands
    bin_dir = pathlib.Path(sys.executable).parent
    env = dict(os.environ, MPLBACKEND="Agg")
    scheduler = subprocess.Popen([bin_dir / "dask", "scheduler", "--host", "127.0.0.1",
                                  "--port", "0", "--dashboard-address", ":0"],
                                 stderr=subprocess.PIPE, text=True, env=env)
    worker = None
    try:
        address = None
        for line in scheduler.stderr:
            match = re.search(r"Scheduler at:\s+(tcp://\S+)", line)
            if match:
                address = match.group(1)
                break
        assert address is not None
        worker = subprocess.Popen([bin_dir / "dask", "worker", address, "--nworkers", "2",
                                   "--nthreads", "1"], stderr=subprocess.DEVNULL, env=env)
        result = run_cli("sweep", "irl-evd", "--store", str(tmp_path), "--scheduler", address,
                         "--worlds", "gridworld", "--methods", "soft", "--demos", "4",
                         "--seeds", "2", "--size", "4", "--transfer", "1",
                         "--temperatures", "1", "--no-plot")
        assert result.returncode == 0, result.stderr
        cells = pd.read_csv(tmp_path / "irl_evd_cells.csv")
        for one in cells.itertuples():
            direct = sweep_tasks.irl_evd_cell("gridworld", "soft", 4, one.seed, size=4,
                                              n_transfer=1)
            np.testing.assert_allclose(one.evd, direct["evd"], rtol=1e-9)
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def test_sweep_extra_and_test_extra_carry_dask_and_pandas():
    import configparser

    config = configparser.ConfigParser()
    config.read(pathlib.Path(__file__).resolve().parent.parent / "setup.cfg")
    extras = config["options.extras_require"]
    for extra in ("sweep", "test"):
        names = [line.split(">")[0].strip() for line in extras[extra].split("\n") if line]
        assert "dask[distributed]" in names and "pandas" in names
    core = config["options"]["install_requires"]
    assert "dask" not in core and "pandas" not in core      # the core stays light
