"""Peak memory of one call, for the benchmark's memory subprocesses (Linux).

Two measures, because neither sees everything:

- ``traced_peak``: the most memory tracemalloc saw allocated at once during
  the call. numpy reports its buffers to tracemalloc, so this counts every
  array (outputs and temporaries) but not numba's own allocations inside
  kernels.
- ``rss_peak``: growth of the resident set, ``VmHWM`` after the call minus
  ``VmRSS`` before it, with the high-water mark reset through
  ``/proc/self/clear_refs`` first. This sees numba's allocations too, but
  only pages that were touched. Run with ``MALLOC_MMAP_THRESHOLD_`` set so
  that large arrays are fresh mappings rather than reused heap.
"""
import gc
import resource
import tracemalloc


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_high_water_mark():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure_peak(run):
    """Call ``run()`` once and return its peak memory in bytes.

    Returns
    -------
    dict
        ``traced_peak``, ``rss_peak`` (0 when the high-water mark cannot be
        reset), ``maxrss`` (the whole process's peak resident set so far).
    """
    gc.collect()
    rss_before = _status_kb("VmRSS")
    can_reset = _reset_high_water_mark()
    tracemalloc.start()
    result = run()
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    hwm = _status_kb("VmHWM")
    del result
    return dict(
        traced_peak=traced_peak,
        rss_peak=max(0, hwm - rss_before) * 1024 if can_reset else 0,
        maxrss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    )
