"""Compile the forward kernels in a second process while this one compiles the backward kernel.

A first ``ctrlinf demo`` on a machine (empty numba cache) spends about 4 s of CPU
compiling kernels, one after the other: numba compiles one function at a time in a
process. The forward kernels (exact forward messages, occupancies; ~1.2 s of it) do not
depend on the backward one, so when a core is free a child process compiles them
(:func:`ctrlinf.inference.compile_forward_kernels`) into the on-disk cache that both
processes share, while this process compiles the backward kernel; this process then
loads them from the cache instead of compiling them. Measured in
``benchmarks/cold_start.py``. Nothing starts when the kernels are cached already,
when numba's cache is off, or when no second core is free.
"""
from __future__ import annotations

import os
import subprocess

from ctrlinf import _threads, kernels
from ctrlinf._subprocess import start_python

#: The child's whole program.
_CHILD = "from ctrlinf import inference; inference.compile_forward_kernels()"
#: Longer than a compilation takes on a busy machine; past it the child is stopped
#: and this process compiles what is missing itself.
_WAIT_SECONDS = 120


def start() -> subprocess.Popen | None:
    """Start the child that compiles the forward kernels, if that pays; else None."""
    if not _forward_kernels_uncached() or _threads.free_cores() < 2:
        return None
    try:
        return start_python(_CHILD, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    except OSError:   # no process to spare: this process compiles them, as without it
        return None


def finish(child: subprocess.Popen | None) -> None:
    """Wait for ``child`` from :func:`start` (None: nothing to wait for).

    Called before the first forward kernel runs here: if it ran while the child was
    still compiling, both processes would compile it.
    """
    if child is None:
        return
    try:
        child.wait(timeout=_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _forward_kernels_uncached() -> bool:
    """Whether numba's cache has no entry for a forward kernel yet (False if unsure).

    Reads where numba keeps each kernel's cache index, which is not public numba API
    (hence ``getattr`` with a default): if it moves, the answer is False and nothing
    is started.
    """
    if os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"):
        return False
    index_paths = []
    for kernel in (kernels.exact_forward_weights, kernels.exact_forward_finish,
                   kernels.push_forward):
        cache_file = getattr(getattr(kernel, "_cache", None), "_cache_file", None)
        path = getattr(cache_file, "_index_path", None)
        if not isinstance(path, str):
            return False
        index_paths.append(path)
    return not any(os.path.exists(path) for path in index_paths)
