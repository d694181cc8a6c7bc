"""Fixtures shared by the tests of the core."""
import pytest

from ctrlinf import kernels

#: The kernels a test runs twice: compiled, and as their pure-Python originals (.py_func),
#: which also gives coverage of the kernel code. Every function of a backup step is here,
#: so that the py_func run executes each mode's equations in Python.
KERNELS = ("backward_steps", "backward_steps_parallel", "_block_row_sums",
           "_q_final", "_q_expected", "_q_exact", "_exp_shifted",
           "_largest", "_allowed_max", "_v_soft", "_v_hard", "push_forward",
           "push_forward_parallel", "exact_forward_weights", "exact_forward_finish",
           "exact_forward_redo", "_normalise_log")


@pytest.fixture(params=["compiled", "py_func"])
def kernel_variant(request, monkeypatch):
    """Run a test with the numba kernels and again with their pure-Python originals."""
    if request.param == "py_func":
        for name in KERNELS:
            monkeypatch.setattr(kernels, name, getattr(kernels, name).py_func)
    return request.param
