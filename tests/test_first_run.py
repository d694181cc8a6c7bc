"""Issue 21, first run: what ``ctrlinf demo`` does to start faster, and that it changes nothing.

- :func:`ctrlinf.inference.compile_forward_kernels`, run in another process, leaves the
  forward kernels nothing to compile in a process that shares the numba cache
  (``_compile_ahead`` runs it beside a first demo);
- the figure worker draws the same pictures as the demo draws itself, and when it fails
  the demo says why and draws them itself;
- the installed command freezes the garbage collector only as the process ends.
Times are measured in ``benchmarks/cold_start.py``, not asserted here.
"""
import json
import os
import pathlib
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest

import ctrlinf as ci
from ctrlinf import _compile_ahead, demo

REPO = pathlib.Path(__file__).resolve().parent.parent

# What the demo computes after its solves, in a fresh process; prints which forward
# kernels numba compiled there (cache misses) and which it loaded from the cache.
_DEMO_FORWARD = """
import json
import ctrlinf as ci
from ctrlinf import demo, kernels
world = demo.build_world()
for mode in ("exact", "soft", "hard"):
    sol = ci.solve(world, mode=mode, temperature=demo.DEMO_TEMPERATURE)
    ci.occupancy(world, sol.policy)
    ci.marginals(world, sol)
names = ("exact_forward_weights", "exact_forward_finish", "push_forward")
print(json.dumps({name: [len(getattr(kernels, name).stats.cache_misses),
                         len(getattr(kernels, name).stats.cache_hits)] for name in names}))
"""


def _python(code, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_compiling_the_forward_kernels_elsewhere_leaves_the_demo_nothing_to_compile(tmp_path):
    """The child's calls have the argument types the demo's calls have: after it, the
    demo's process loads every forward kernel from the shared cache (a hit, no miss);
    without it, the same process compiles them (a miss), so the check can fail."""
    fresh = json.loads(_python(_DEMO_FORWARD, tmp_path / "fresh").strip().splitlines()[-1])
    assert all(misses > 0 for misses, _ in fresh.values()), fresh
    _python("from ctrlinf import inference; inference.compile_forward_kernels()", tmp_path / "warm")
    warm = json.loads(_python(_DEMO_FORWARD, tmp_path / "warm").strip().splitlines()[-1])
    assert all(misses == 0 and hits > 0 for misses, hits in warm.values()), warm


def test_compile_ahead_starts_only_for_an_empty_cache(tmp_path):
    """A child is started when no forward kernel is cached yet (and a core is free), never
    when they are; `finish` waits for it, after which they are cached."""
    code = """
from ctrlinf import _compile_ahead, _threads
_threads.free_cores = lambda: 2     # whatever else this machine runs now
print(_compile_ahead._forward_kernels_uncached())
child = _compile_ahead.start()
print(child is not None)
_compile_ahead.finish(child)
print(_compile_ahead._forward_kernels_uncached(), _compile_ahead.start() is None)
"""
    lines = _python(code, tmp_path).split()
    assert lines == ["True", "True", "False", "True"]


def test_compile_ahead_never_starts_without_a_free_core(monkeypatch):
    monkeypatch.setattr(_compile_ahead, "_forward_kernels_uncached", lambda: True)
    monkeypatch.setattr(_compile_ahead._threads, "free_cores", lambda: 1)
    assert _compile_ahead.start() is None
    _compile_ahead.finish(None)   # nothing to wait for


@pytest.fixture(scope="module")
def demo_solutions():
    world = demo.build_world()
    return world, {mode: ci.solve(world, mode=mode, temperature=demo.DEMO_TEMPERATURE)
                   for mode in ("exact", "soft", "hard")}


def test_the_figure_worker_draws_what_the_demo_would_draw_itself(tmp_path, demo_solutions,
                                                                 recwarn):
    """Pixel for pixel: the worker's two figures equal the ones drawn in this process."""
    world, solutions = demo_solutions
    alone, helped = tmp_path / "alone", tmp_path / "helped"
    alone.mkdir()
    helped.mkdir()
    assert demo._write_figures(world, solutions, alone, gif=False) == [
        alone / name for name in demo.FIGURES]
    worker = demo._FigureWorker()
    written = demo._write_figures(world, solutions, helped, gif=False, worker=worker)
    assert worker.finish() is None and not recwarn.list
    assert written == [helped / name for name in demo.FIGURES]
    assert set(demo.WORKER_FIGURES) < set(demo.FIGURES)
    for name in demo.FIGURES:
        np.testing.assert_array_equal(matplotlib.image.imread(alone / name),
                                      matplotlib.image.imread(helped / name))


def test_a_failed_figure_worker_is_named_and_its_figures_drawn_here(tmp_path, demo_solutions):
    world, solutions = demo_solutions
    worker = demo._FigureWorker()
    worker._process.kill()
    with pytest.warns(RuntimeWarning, match="the figure process failed"):
        written = demo._write_figures(world, solutions, tmp_path, gif=False, worker=worker)
    assert all(path.stat().st_size > 5_000 for path in written)
    assert worker.finish() == worker.finish() is not None   # the same answer again


def test_a_worker_given_nothing_ends_without_drawing(tmp_path):
    """When the demo stops before its figures (an error, or --no-figures after all)."""
    worker = demo._FigureWorker()
    assert worker.finish() is None
    assert not list(tmp_path.iterdir())


def test_the_command_freezes_the_collector_only_as_the_process_ends(monkeypatch):
    """`main` (what tests and programs call) leaves gc alone; `exit_status` (the installed
    command and `python -m ctrlinf`, whose process ends next) freezes it."""
    from ctrlinf import cli

    frozen = []
    monkeypatch.setattr(cli.gc, "freeze", lambda: frozen.append(True))
    monkeypatch.setattr(sys, "argv", ["ctrlinf", "--version"])
    assert cli.main(["--version"]) == 0 and not frozen
    assert cli.exit_status() == 0 and frozen == [True]
    assert (REPO / "ctrlinf" / "__main__.py").read_text().count("exit_status()") == 1


@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (2, 3, 4), (0,)])
def test_aligned_arrays_start_on_a_cache_line_and_are_plain_c_arrays(shape):
    from ctrlinf import kernels

    for _ in range(5):      # wherever the allocator puts the buffer
        a = kernels.aligned_empty(shape)
        assert a.shape == shape and a.dtype == np.float64
        assert a.size == 0 or a.ctypes.data % 64 == 0     # an empty array has no first element
        assert a.flags.c_contiguous and a.flags.writeable
        assert not kernels.aligned_zeros(shape).any()


def test_the_arrays_the_kernels_stream_are_aligned():
    """P's values (from a dense array, or a CSR matrix whose values sit 8 bytes past a
    cache line) and the value rows of a solution start on a 64-byte boundary
    (kernels.py says why); the values are unchanged."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(8), size=(8, 3))
    flat = P.reshape(24, 8)
    buffer = np.empty(flat.size + 16)
    start = (-buffer.ctypes.data % 64) // 8 + 1          # one float past a line
    data = buffer[start:start + flat.size]
    data[:] = flat.ravel()
    assert data.ctypes.data % 64 == 8
    offset = sp.csr_matrix((data, np.tile(np.arange(8), 24), np.arange(0, 193, 8)),
                           shape=(24, 8))
    for given in (P, offset):
        mdp = ci.TabularMDP(given, rng.normal(size=(8, 3)), None, horizon=4)
        assert mdp.P.data.ctypes.data % 64 == 0
        np.testing.assert_array_equal(mdp.P.toarray(), flat)
        sol = ci.solve(mdp, keep="V")
        assert sol.V.ctypes.data % 64 == 0
        assert ci.occupancy(mdp, ci.solve(mdp).policy).ctypes.data % 64 == 0


def test_a_first_run_compiles_ahead_without_a_figure_worker(tmp_path, monkeypatch):
    """Not both second processes at once: the compiling one alone when there is one."""
    class Child:
        def wait(self, timeout=None):
            return 0

    started = []
    monkeypatch.setattr(_compile_ahead, "start", lambda: Child())
    monkeypatch.setattr(demo._FigureWorker, "start", classmethod(
        lambda cls: started.append(True)))
    demo.run(out=tmp_path, stream=lambda line: None)
    assert not started and len(list(tmp_path.iterdir())) == 3
    monkeypatch.setattr(_compile_ahead, "start", lambda: None)
    demo.run(out=tmp_path, stream=lambda line: None)
    assert started == [True]
