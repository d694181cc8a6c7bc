"""How many threads a kernel call runs on: only where they pay, and only on free cores.

A parallel step ends at a barrier that waits for every thread. On a busy machine a
thread that shares its core with another process loses the core for a scheduler time
slice, and the whole step waits for it; numba's OpenMP threads spin while they wait,
which keeps the other process (and the late thread) off their core. Measured on a
2-core machine with one busy-loop process beside it, two threads ran 1.2-2x slower
than one (``benchmarks/contention.py``). So a kernel call uses several threads only
when the MDP is large enough that a step outweighs the barrier, and no more threads
than there are cores that no other process is running on at the moment of the call.
Nothing here changes numba's settings or the environment.
"""
import os

import numba

#: Below this many stored transitions a backward step (a few ns per entry) is too
#: short for the thread wake-up and the barrier that end it.
PARALLEL_MIN_NNZ = 2**19


def threads_for(nnz):
    """Threads for a kernel call over ``nnz`` stored transitions: 1, or up to numba's count."""
    threads = numba.get_num_threads()
    if threads == 1 or nnz < PARALLEL_MIN_NNZ:
        return 1
    return min(threads, free_cores())


def free_cores():
    """CPUs this process may use, minus the tasks of other processes running right now.

    From the number of runnable tasks at this instant (the fourth field of
    ``/proc/loadavg``; the load averages beside it lag by a minute), less this
    process's own running threads (the caller, and numba's workers while they
    spin). At least 1; where ``/proc`` is missing (not Linux), every allowed CPU.
    """
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        allowed = os.cpu_count() or 1
    try:
        with open("/proc/loadavg") as file:
            running = int(file.read().split()[3].split("/")[0])
        own = _own_running_threads()
    except (OSError, ValueError, IndexError):
        return allowed
    return max(1, allowed - max(0, running - own))


def _own_running_threads():
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
