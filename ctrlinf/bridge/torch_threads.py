"""Keep torch's thread count while ctrlinf's numba kernels run.

numba's OpenMP threading layer and torch share one OpenMP runtime. Starting numba's
layer, or switching its thread count (as :func:`ctrlinf.solve` does to run small MDPs
on one thread), resets the count torch uses on this thread: a torch that was set to
one thread then runs small networks on every core, many times slower (measured: PPO on
FrozenLake 4x slower in CPU time). Code that calls ctrlinf between torch training
steps (the oracle, :mod:`ctrlinf.bridge.sb3`'s callback) runs inside
:func:`torch_threads_kept`. torch is never imported here: if nothing imported it, there
is nothing to keep.
"""
from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def torch_threads_kept():
    """Restore ``torch.get_num_threads()`` on leaving the block, if torch is imported."""
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    try:
        yield
    finally:
        if threads is not None and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
