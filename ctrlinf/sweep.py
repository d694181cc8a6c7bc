r"""Parameter sweeps: local processes by default, a Dask cluster by address.

A sweep evaluates ``task(**params)`` for every cell ``params`` of a grid and returns a
table with one row per cell. The engine is Dask distributed
(https://distributed.dask.org): ``scheduler=None`` starts a
:class:`~distributed.LocalCluster` of worker processes for the duration of the call (no
server to start); an address such as ``"tcp://10.0.0.5:8786"`` (a cluster started with
``dask scheduler`` and ``dask worker``) or a :class:`distributed.Client` sends the same
cells to that cluster.

Nothing is lost: each finished cell is written at once to the ``store`` directory, as
one small JSON file named by a hash of the task's name and the cell's parameters. A
Ctrl-C, a crash or a dead worker loses only the unfinished cells, and a rerun computes
only the cells that have no stored result. A cell that raises is stored with its error
(and retried on the next run); it does not stop the other cells, and the call warns
which cells failed and returns their message in the ``error`` column.

Cells are reproducible wherever they run because the task receives everything it
depends on, seeds included, as parameters, and each cell runs on one thread (numba and
BLAS pinned to one thread in the workers, so that cells do not oversubscribe the cores).

Needs the ``sweep`` extra: ``pip install -e ".[sweep]"`` (dask[distributed], pandas).
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import itertools
import json
import logging
import os
import socket
import sys
import time
import traceback
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ctrlinf import _checks

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import distributed
    import pandas as pd

    from ctrlinf._typing import PathLike

ERROR = "error"
#: How long to try to reach a scheduler given by address before giving up.
CONNECT_TIMEOUT = "20s"


def run(task: Callable[..., Mapping[str, Any]],
        grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]], store: PathLike,
        scheduler: str | distributed.Client | None = None, n_workers: int | None = None,
        progress: bool | None = None) -> pd.DataFrame:
    r"""Evaluate ``task(**params)`` on every cell of ``grid``; one table row per cell.

    Parameters
    ----------
    task : function
        A module-level function ``task(**params) -> dict`` that the workers can import
        (not a lambda or a nested function). Its returned values should be numbers,
        strings, booleans, None, or lists/arrays of them (arrays are stored as lists).
    grid : dict or list of dict
        ``{name: [values, ...]}`` for the Cartesian product of the value lists (the
        last name varies fastest), or an explicit list of ``{name: value}`` cells.
        Values must be storable as JSON (numbers, strings, booleans, None, lists; a
        tuple reaches the task as a list, a numpy scalar as a Python number), and not
        NaN, which equals nothing, so its stored cell could never be found again.
    store : str or os.PathLike
        Directory for the finished cells (created if needed), one JSON file per cell
        named by a hash of the task's ``module:name`` and the parameters. Cells already
        stored there without an error are not computed again; a file there that is not
        such a record of its cell (hand-edited, foreign, cut short) is computed again.
    scheduler : None, str or distributed.Client, default None
        ``None``: a local cluster of worker processes started for this call and
        closed after it. A string: the address of a running Dask scheduler,
        e.g. ``"tcp://10.0.0.5:8786"`` (checked before anything is computed). A ``Client`` (or a Dask ``Cluster``): use it
        and leave it open.
    n_workers : int, optional
        Worker processes of the local cluster (``scheduler=None`` only); default the
        number of usable cores, never more than the cells to compute.
    progress : bool, optional
        A progress bar over cells; default (None) shows it when stderr is a terminal.

    Returns
    -------
    pandas.DataFrame
        One row per cell of ``grid``, in grid order: the parameters, then the keys
        ``task`` returned, then ``error`` (None, or ``"ExceptionType: message"`` for a
        cell that raised; its result columns are then missing values).

    Warns
    -----
    RuntimeWarning
        When cells failed, naming how many and the first one's parameters and error.

    Notes
    -----
    The local cluster starts worker processes by spawning fresh interpreters, which
    import the main module again: in a script, call ``run`` under
    ``if __name__ == "__main__":`` (the rule of Python's :mod:`multiprocessing`).
    Workers of a remote cluster must be able to import ``task``'s module (install the
    same ctrlinf there). A local cluster costs a few seconds to start, paid only when
    some cell is missing from the store.

    Examples
    --------
    >>> import tempfile, ctrlinf as ci
    >>> from ctrlinf.sweep_tasks import gridworld_value
    >>> store = tempfile.mkdtemp()
    >>> df = ci.sweep.run(gridworld_value, {"slip": [0.0, 0.2], "temperature": [1.0]},
    ...                   store=store, n_workers=1, progress=False)
    >>> list(df.columns[:3]), len(df)
    (['slip', 'temperature', 'value'], 2)
    >>> bool(df.value[0] > df.value[1])     # slipping costs value
    True
    """
    task_name = _check_task(task)
    cells = _grid_cells(grid)
    _check_scheduler(scheduler, n_workers)
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be None, True or False, got {type(progress).__name__}")
    pd = _import_pandas()
    if isinstance(scheduler, str):
        _check_address(scheduler)
    store = _check_store(store)  # last: a refused call creates no directory

    keys = [_cell_key(task_name, params) for params in cells]
    unique = dict(zip(keys, cells))  # duplicate cells are computed once
    records = {key: _load(store, key, task_name, params) for key, params in unique.items()}
    missing = [key for key, record in records.items() if record is None or record[ERROR]]

    if missing:
        from ctrlinf._progress import progress_bar

        shown = sys.stderr.isatty() if progress is None else bool(progress)
        bar = progress_bar(len(unique), shown, f"{getattr(task, '__name__', 'sweep')} cells")
        bar.update(len(unique) - len(missing))  # the stored cells count as done
        # closing(): on Ctrl-C the generator's clean-up (cancel the cells, close the
        # local cluster) runs at once, not whenever the generator is collected.
        with bar, contextlib.closing(_compute(task, task_name, unique, missing, scheduler,
                                              n_workers)) as finished:
            for key, record in finished:
                _save(store, key, record)
                records[key] = record
                bar.update()

    table = _table(pd, cells, [records[key] for key in keys])
    failed = [(records[key]["params"], records[key][ERROR]) for key in unique
              if records[key][ERROR]]
    if failed:
        params, error = failed[0]
        warnings.warn(f"{len(failed)} of {len(unique)} cells failed (they are retried on the "
                      f"next run; see the 'error' column), first {params}: {error}",
                      RuntimeWarning, stacklevel=2)
    return table


# ----------------------------------------------------------------------------- checks

def _check_task(task):
    """``"module:qualname"`` of an importable function, else a TypeError/ValueError."""
    if not callable(task):
        raise TypeError(f"task must be a function task(**params) -> dict, "
                        f"got {type(task).__name__}")
    module, qualname = getattr(task, "__module__", None), getattr(task, "__qualname__", None)
    if module is None or qualname is None:
        raise TypeError(f"task must be a module-level function, got {type(task).__name__} "
                        f"{task!r}")
    if "<lambda>" in qualname or "<locals>" in qualname:
        raise ValueError(f"task must be an importable module-level function (workers import "
                         f"it by name), got {qualname!r} from {module!r}")
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        found = None
    if found is not task:
        raise ValueError(f"task must be importable as {module}.{qualname}, but that name "
                         f"does not lead back to it")
    return f"{module}:{qualname}"


def _grid_cells(grid):
    """The list of ``{name: value}`` cells of a grid, checked."""
    if isinstance(grid, dict):
        axes = []
        for name, values in grid.items():
            _check_name(name)
            if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
                raise TypeError(f"grid[{name!r}] must be a list of values, "
                                f"got {type(values).__name__}")
            values = list(values)
            if not values:
                raise ValueError(f"grid[{name!r}] is empty, so the grid has no cells")
            axes.append([_plain(v, f"grid[{name!r}]", allow_nan=False) for v in values])
        if not axes:
            raise ValueError("grid is empty: give at least one parameter")
        return [dict(zip(grid, combo)) for combo in itertools.product(*axes)]
    if isinstance(grid, (list, tuple)):
        if not grid:
            raise ValueError("grid is an empty list: give at least one cell")
        cells = []
        for i, cell in enumerate(grid):
            if not isinstance(cell, dict):
                raise TypeError(f"grid[{i}] must be a dict of parameters, "
                                f"got {type(cell).__name__}")
            for name in cell:
                _check_name(name)
            cells.append({name: _plain(value, f"grid[{i}][{name!r}]", allow_nan=False)
                          for name, value in cell.items()})
        return cells
    raise TypeError(f"grid must be a dict {{name: [values]}} or a list of dicts, "
                    f"got {type(grid).__name__}")


def _check_name(name):
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"grid parameter names must be identifiers (they become keyword "
                         f"arguments), got {name!r}")
    if name == ERROR:
        raise ValueError(f"grid parameter name {ERROR!r} is reserved for the error column")


def _plain(value, where, allow_nan=True):
    """``value`` as plain JSON-able Python (numpy scalars and arrays converted).

    ``allow_nan=False`` (grid values) refuses NaN: a cell is found in the store by
    comparing its parameters, and NaN equals nothing, so its cell would be computed
    again on every run.
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value and not allow_nan:
        raise ValueError(f"{where} holds NaN, which equals nothing, so its stored cell "
                         f"would never be found again; use None or a string for 'no value'")
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, where, allow_nan) for v in value]
    raise TypeError(f"{where} must hold numbers, strings, booleans, None or lists of "
                    f"them (stored as JSON), got {type(value).__name__}")


def _check_store(store):
    """The store as a str, created if needed; a ValueError naming ``store`` unless cells
    can be written there (a file in the way, no permission, a NUL byte, ``""``)."""
    if not isinstance(store, (str, os.PathLike)):
        raise TypeError(f"store must be a directory path (str or os.PathLike), "
                        f"got {type(store).__name__}")
    path = os.fspath(store)
    if isinstance(path, str) and os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"store must be a directory, but {path!r} is a file")
    return _checks.output_folder(path, "store")


def _check_scheduler(scheduler, n_workers):
    if n_workers is not None:
        _checks.positive_int(n_workers, "n_workers")
    if scheduler is None:
        return
    if isinstance(scheduler, str):
        if not scheduler:
            raise ValueError("scheduler must be an address such as 'tcp://host:8786', got ''")
    elif not (_is_client(scheduler) or _is_cluster(scheduler)):
        raise TypeError(f"scheduler must be None, an address such as 'tcp://host:8786' or a "
                        f"distributed.Client, got {type(scheduler).__name__}")
    if n_workers is not None:
        raise ValueError("n_workers applies to the local cluster (scheduler=None) only; a "
                         "running cluster has the workers it was started with")


def _check_address(address):
    """Raise a ValueError naming ``scheduler`` unless ``address`` reads as a Dask address."""
    from distributed.comm.addressing import get_address_host_port
    from distributed.comm.addressing import parse_address

    try:
        scheme, _ = parse_address(address)
        if scheme != "inproc":  # in-process addresses have no host and port
            _, port = get_address_host_port(address)
            if not 0 < port < 65536:
                raise ValueError(f"port {port} is not in 1..65535")
    except (ValueError, TypeError) as error:
        raise ValueError(f"scheduler {address!r} is not a Dask scheduler address such as "
                         f"'tcp://host:8786' ({error})") from None


def _is_client(obj):
    try:
        from distributed import Client
    except ImportError:
        return False
    return isinstance(obj, Client)


def _is_cluster(obj):
    try:
        from distributed.deploy import Cluster
    except ImportError:
        return False
    return isinstance(obj, Cluster)


def _import_pandas():
    try:
        import distributed  # noqa: F401
        import pandas
    except ImportError as error:
        raise ImportError(f"ctrlinf.sweep needs the sweep extra (dask[distributed], pandas): "
                          f'pip install -e ".[sweep]" ({error})') from None
    return pandas


# ------------------------------------------------------------------------------ store

def _canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _cell_key(task_name, params):
    """A stable file name for a cell: the same task and parameters, the same key."""
    return hashlib.sha256(_canonical([task_name, params]).encode()).hexdigest()[:24]


def _path(store, key):
    return os.path.join(store, f"{key}.json")


def _load(store, key, task_name, params):
    """The stored record of a cell, or None when it is missing, unreadable or not a record
    of this cell (a hand-edited or foreign file, a hash collision): then it is recomputed."""
    try:
        with open(_path(store, key), encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    if not _is_record(record) or record["task"] != task_name or record["params"] != params:
        return None
    return record


def _is_record(record):
    """True for what :func:`_run_cell` writes: a dict result and no error, or an error."""
    if not isinstance(record, dict) or not {"task", "params", "result", ERROR} <= set(record):
        return False
    error, result, params = record[ERROR], record["result"], record["params"]
    if not isinstance(params, dict):
        return False
    if error is None:
        # The result's keys become columns beside the parameters and the error.
        return (isinstance(result, dict) and all(isinstance(k, str) for k in result)
                and not set(result) & (set(params) | {ERROR}))
    return isinstance(error, str) and error != "" and result is None


def _save(store, key, record):
    """Write a cell atomically (a temporary file, then a rename), so no file is half-written."""
    path = _path(store, key)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
    os.replace(temporary, path)


def _table(pd, cells, records):
    """The DataFrame: parameter columns, result columns (first-seen order), ``error``."""
    columns = {}
    for params in cells:
        columns.update(dict.fromkeys(params))
    for record in records:
        columns.update(dict.fromkeys(record["result"] or {}))
    rows = [{**params, **(record["result"] or {})} for params, record in zip(cells, records)]
    table = pd.DataFrame(rows, columns=list(columns))
    # object dtype keeps None (not NaN) for the cells that did not fail
    table[ERROR] = pd.Series([record[ERROR] for record in records], dtype=object,
                             index=table.index)
    return table


# ---------------------------------------------------------------------------- compute

def _run_cell(task, task_name, params):
    """Evaluate one cell in a worker; a record, never an exception."""
    # Pin numba to one thread in the thread that runs the cell (the setting is per
    # thread): cells run side by side, one per core. Not NUMBA_NUM_THREADS in the
    # worker's environment: a worker that imported numba before the variable was set
    # (spawned workers re-import the main script) fails its next compilation with
    # "Cannot set NUMBA_NUM_THREADS to a different value once the threads have been
    # launched". BLAS is pinned by Dask itself: its default
    # distributed.nanny.pre-spawn-environ sets OMP/MKL/OPENBLAS_NUM_THREADS=1.
    import numba

    numba.set_num_threads(1)
    start = time.perf_counter()
    record = {"task": task_name, "params": params, "result": None, ERROR: None,
              "traceback": None}
    try:
        result = task(**params)
        if not isinstance(result, dict):
            raise TypeError(f"task must return a dict, returned {type(result).__name__}")
        clash = set(result) & (set(params) | {ERROR})
        if clash:
            raise ValueError(f"task returned keys {sorted(clash)} that clash with the "
                             f"parameter names or {ERROR!r}")
        record["result"] = {str(k): _plain(v, f"task result {k!r}") for k, v in result.items()}
    except Exception as error:  # noqa: BLE001 -- a failing cell is data, not a crash
        record[ERROR] = f"{type(error).__name__}: {error}"
        record["traceback"] = traceback.format_exc()
    record.update(seconds=time.perf_counter() - start, host=socket.gethostname(),
                  pid=os.getpid())
    return record


def _compute(task, task_name, cells, keys, scheduler, n_workers):
    """Yield ``(key, record)`` for each of ``keys`` as its cell finishes."""
    from distributed import Client
    from distributed import as_completed

    cluster = client = None
    try:
        if scheduler is None:
            cluster = _local_cluster(n_workers, len(keys))
            client = Client(cluster)
        elif isinstance(scheduler, str):
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError, TypeError) as error:
                raise ValueError(f"scheduler: cannot reach a Dask scheduler at "
                                 f"{scheduler!r} ({error})") from None
        elif _is_cluster(scheduler):
            client = Client(scheduler)
        futures = {}
        runner = client if client is not None else scheduler
        for key in keys:
            future = runner.submit(_run_cell, task, task_name, cells[key], pure=False)
            futures[future] = key
        try:
            for future in as_completed(futures):
                key = futures[future]
                try:
                    record = future.result()
                except Exception as error:  # noqa: BLE001 -- e.g. a worker died mid-cell
                    record = {"task": task_name, "params": cells[key], "result": None,
                              ERROR: f"{type(error).__name__}: {error}", "traceback": None}
                yield key, record
        finally:
            # Ctrl-C or an error here: do not leave the cluster busy with lost cells.
            runner.cancel([f for f in futures if not f.done()])
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _local_cluster(n_workers, n_cells):
    from distributed import LocalCluster

    if n_workers is None:
        n_workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count() or 1
    # dashboard_address ":0": any free port, so that several sweeps (or other Dask
    # users) on one machine never fight over the default 8787.
    return LocalCluster(n_workers=max(1, min(n_workers, n_cells)), threads_per_worker=1,
                        processes=True, dashboard_address=":0", silence_logs=logging.ERROR)
