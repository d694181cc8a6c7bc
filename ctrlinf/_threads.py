"""How many threads a kernel call runs on: only where they pay, and only on free cores.

A parallel step ends at a barrier that waits for every thread. On a busy machine a
thread that shares its core with another process loses the core for a scheduler time
slice, and the whole step waits for it. With numba's OpenMP layer (GNU libgomp) the
waiting threads spin, which also keeps the late thread from moving to their core:
measured on a 2-core machine beside one busy-loop process, two threads ran 2x slower
than one on a 10^5-state grid, and up to 40x slower (median) on a dense 400-state MDP
(``benchmarks/contention.py``). Numba's TBB layer lets waiting threads sleep; there two
threads ran as fast as one, or faster. So:

- a kernel call uses several threads only when the MDP is large enough that a step
  outweighs the barrier (:data:`PARALLEL_MIN_NNZ`), and no more threads than there are
  cores that no other process is running on at the moment of the call;
- before the first such call, if numba has not chosen its threading layer yet and the
  user has not named one (``NUMBA_THREADING_LAYER``), the TBB library that pip installs
  with ctrlinf (the ``tbb`` package, in ``<prefix>/lib``, where numba does not look for
  it) is loaded, so that numba's default choice, TBB first, finds it.

Nothing here changes numba's settings or the environment.
"""
from __future__ import annotations

import ctypes
import os
import sys

import numba

#: Below this many stored transitions a backward step (a few ns per entry) is too
#: short for the thread wake-up and the barrier that end it. Measured on a 2-core VM
#: (benchmarks/contention.py): from 1.2e6 transitions (a 5e4-state grid, a dense
#: 600-state MDP) two threads took 0.50-0.59 of one thread's time in every run; at
#: 6.4e5 (dense 400), 0.57-0.86 in some runs and 1.22 in another.
PARALLEL_MIN_NNZ = 2**20

_TBB_LIBRARY = {"linux": "libtbb.so.12", "darwin": "libtbb.12.dylib"}.get(sys.platform)
_tbb_tried = False


def threads_for(nnz: int) -> int:
    """Threads for a kernel call over ``nnz`` stored transitions: 1, or up to numba's count."""
    if nnz < PARALLEL_MIN_NNZ or numba.config.NUMBA_NUM_THREADS == 1:
        return 1
    _find_tbb()
    threads = numba.get_num_threads()  # starts numba's threading layer
    if threads == 1:
        return 1
    return min(threads, free_cores())


def free_cores() -> int:
    """CPUs this process may use, minus the tasks of other processes running right now.

    From the number of runnable tasks at this instant (the fourth field of
    ``/proc/loadavg``; the load averages beside it lag by a minute), less this
    process's own running threads (the caller, and numba's workers while they
    spin), which are counted only when anything else runs. At least 1; where
    ``/proc`` is missing (not Linux), every allowed CPU.
    """
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        allowed = os.cpu_count() or 1
    try:
        with open("/proc/loadavg") as file:
            running = int(file.read().split()[3].split("/")[0])
        others = 0 if running <= 1 else max(0, running - _own_running_threads())
    except (OSError, ValueError, IndexError):
        return allowed
    return max(1, allowed - others)


def _own_running_threads() -> int:
    """How many threads of this process are running or runnable (state ``R``)."""
    count = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as file:
                stat = file.read()
        except OSError:  # the thread ended meanwhile
            continue
        count += stat[stat.rindex(")") + 2] == "R"
    return count


def _find_tbb() -> None:
    """Load pip's TBB library, if any, before numba picks its threading layer (once).

    numba looks for ``libtbb.so.12`` by name only; a virtual environment's ``lib``
    directory is not on the loader's path, so pip's copy is not found. Loaded once
    by its full path, the name resolves to it.
    """
    global _tbb_tried
    if _tbb_tried:
        return
    _tbb_tried = True
    from numba.np.ufunc import parallel

    if parallel._is_initialized or numba.config.THREADING_LAYER != "default":
        return  # the layer is chosen already, or the user chose it
    if _TBB_LIBRARY is None:
        return
    path = os.path.join(sys.prefix, "lib", _TBB_LIBRARY)
    if os.path.exists(path):
        try:
            ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError:  # a broken install: numba falls back to OpenMP
            pass
