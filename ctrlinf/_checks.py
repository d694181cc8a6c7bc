"""The one home of argument validation.

Every public function checks its arguments through these helpers, so that the same
mistake gives the same message everywhere: ``TypeError`` when the argument has the wrong
type (a string where a number belongs, complex or object arrays), ``ValueError`` when
the type is right but the value is not (a negative temperature, a row of ``P`` that
does not sum to one). Every message starts with the argument's name and, for arrays,
gives the first offending index. Nothing here imports a ctrlinf module: the core's
classes register themselves (:func:`register_type`), so that :func:`mdp`,
:func:`solution` and :func:`trajectories` can check for them.
"""
from __future__ import annotations

import math
import numbers
import os
import sys
from typing import TYPE_CHECKING, Any, Literal, TypeGuard, cast, overload

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import DTypeLike

    from ctrlinf._typing import ArrayLike, BoolArray, CSRMatrix, FloatArray, IntArray, Seed
    from ctrlinf.inference import Solution
    from ctrlinf.mdp import TabularMDP
    from ctrlinf.trajectories import Trajectories

#: Rows of P and p0 must sum to one within this absolute tolerance (float64 input).
PROBABILITY_TOLERANCE = 1e-8

#: Values whose magnitude reaches this are treated as overflowing: a few additions or
#: one exp of them leaves the float64 range (largest finite number about 1.8e308).
FLOAT_LIMIT = 1e300


# -- scalars ---------------------------------------------------------------
def is_real_number(value: object) -> TypeGuard[float | np.floating[Any] | np.integer[Any]]:
    """True for int and float scalars (numpy ones included), False for bool and the rest."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_int(value: object) -> TypeGuard[int | np.integer[Any]]:
    """True for int scalars (numpy ones included), False for bool and the rest."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def integer(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]`` (either bound optional) or raise."""
    if low == 1 and high is None:
        kind = "a positive int"
    elif low == 0 and high is None:
        kind = "a non-negative int"
    else:
        kind = "an int" + _describe_bounds(low, high)
    if not is_int(value):
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return int(value)


def positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an int >= 1 or raise."""
    return integer(value, name, low=1)


@overload
def real(value: Any, name: str, low: float | None = ..., high: float | None = ...,
         low_open: bool = ..., high_open: bool = ..., allow_none: Literal[False] = ...,
         note: str = ...) -> float: ...
@overload
def real(value: Any, name: str, low: float | None = ..., high: float | None = ...,
         low_open: bool = ..., high_open: bool = ..., *, allow_none: bool,
         note: str = ...) -> float | None: ...
def real(value: Any, name: str, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False, allow_none: bool = False,
         note: str = "") -> float | None:
    """Return ``value`` as a finite float in the given interval or raise.

    ``low_open``/``high_open`` exclude the bound itself, e.g. a temperature is
    ``real(x, "temperature", low=0, low_open=True)``. ``allow_none`` passes None
    through (a documented "no value"); ``note`` follows "or None" in the message,
    saying what None means.
    """
    if value is None and allow_none:
        return None
    if low is not None and high is not None:
        kind = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low == 0 and low_open and high is None:
        kind = "a positive finite number"
    elif low is not None:
        kind = f"a finite number {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        kind = f"a finite number {'<' if high_open else '<='} {high:g}"
    else:
        kind = "a finite real number"
    if allow_none:
        kind += f" or None{note}"
    if not is_real_number(value):
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    value = float(value)
    outside = (not math.isfinite(value)
               or (low is not None and (value < low or (low_open and value == low)))
               or (high is not None and (value > high or (high_open and value == high))))
    if outside:
        raise ValueError(f"{name} must be {kind}, got {value:g}")
    return value


def temperature(value: Any, name: str = "temperature") -> float:
    """Return a temperature ``α > 0`` as a float or raise.

    ``α`` must be a normal float: below about 2.2e-308 its inverse ``1/α`` is inf.
    """
    value = real(value, name, low=0.0, low_open=True)
    if value < sys.float_info.min:
        raise ValueError(
            f"{name}={value:g} is below the smallest normal float ({sys.float_info.min:g}); "
            f"1/{name} overflows"
        )
    return value


def gamma(value: Any, name: str = "gamma") -> float:
    """Return a discount ``γ`` in (0, 1] or raise."""
    return real(value, name, low=0.0, high=1.0, low_open=True)


def open_unit(value: Any, name: str) -> float:
    """Return a number strictly between 0 and 1 (a discount, a Polyak weight) or raise."""
    return real(value, name, low=0.0, high=1.0, low_open=True, high_open=True)


def fraction(value: Any, name: str) -> float:
    """Return a number in [0, 1] or raise."""
    return real(value, name, low=0.0, high=1.0)


def horizon(value: Any, name: str = "horizon") -> int | None:
    """Return a horizon (a positive int, or None for an infinite one) or raise."""
    if value is None:
        return None
    if not is_int(value):
        raise TypeError(f"{name} must be a positive int or None, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int or None, got {value}")
    return int(value)


def seed(value: Any, name: str = "seed") -> Seed:
    """Return a seed numpy accepts (None, an int >= 0 or a Generator) or raise."""
    if value is None or isinstance(value, np.random.Generator):
        return value
    if not is_int(value):
        raise TypeError(f"{name} must be None, an int >= 0 or a numpy Generator, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be None, an int >= 0 or a numpy Generator, got {value}")
    return int(value)


@overload
def flag(value: Any, name: str, allow_none: Literal[False] = ...) -> bool: ...
@overload
def flag(value: Any, name: str, allow_none: bool) -> bool | None: ...
def flag(value: Any, name: str, allow_none: bool = False) -> bool | None:
    """Return ``value`` as a bool (or None if ``allow_none``); other types are a TypeError."""
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        kind = "a bool or None" if allow_none else "a bool"
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    return bool(value)


def choice(value: Any, name: str, options: Sequence[str]) -> str:
    """Return ``value`` if it is one of the strings ``options`` or raise."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {list(options)}, got {value!r}")
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")
    return value


def sequence(value: Any, name: str) -> list[Any]:
    """Return ``value``, any iterable but a string, as a list (a generator is read once)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a sequence, got {type(value).__name__} {value!r}")
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence, got {type(value).__name__}") from None


def positive_ints(values: Any, name: str, min_length: int = 0, what: str = "") -> tuple[int, ...]:
    """Return a sequence of positive ints (e.g. layer widths) as a tuple, or raise.

    ``min_length`` entries at least; ``what`` (e.g. " (layer widths)") explains them.
    """
    kind = f"a sequence of positive ints{what}"
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be {kind}, got {values!r}")
    values = tuple(sequence(values, name))
    if len(values) < min_length:
        raise ValueError(f"{name} must be {kind} with at least {min_length} entries, "
                         f"got {values}")
    return tuple(integer(n, f"{name}[{i}]", low=1) for i, n in enumerate(values))


def _describe_bounds(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


# -- arrays ----------------------------------------------------------------
def _is_real_dtype(dtype: DTypeLike) -> bool:
    return (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)
            or np.issubdtype(dtype, np.bool_))


def real_array(value: Any, name: str, shape: tuple[int | None, ...] | None = None,
               dtype: DTypeLike = np.float64) -> FloatArray:
    """Return ``value`` as a float64 array, refusing strings, objects and complex numbers.

    Parameters
    ----------
    value : array_like
    name : str
        The argument's name, for messages.
    shape : tuple, optional
        The expected shape; ``None`` entries match any length.
    """
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise TypeError(f"{name} must be an array of real numbers: {error}") from None
    if array.dtype == object or not _is_real_dtype(array.dtype):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    if shape is not None:
        matches = array.ndim == len(shape) and all(
            want is None or have == want for have, want in zip(array.shape, shape))
        if not matches:
            expected = "(" + ", ".join("n" if n is None else str(n) for n in shape) + \
                ("," if len(shape) == 1 else "") + ")"
            raise ValueError(f"{name} has shape {array.shape}, expected {expected}")
    return array.astype(dtype, copy=False)


def index_array(value: Any, name: str) -> IntArray:
    """Return ``value`` as an int64 array, refusing floats, strings and objects."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular integer array: {error}") from None
    if array.size == 0 and not np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64)
    if array.dtype == object or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got dtype {array.dtype}")
    return array.astype(np.int64)


def finite(array: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` at the first NaN or infinite entry of ``array``."""
    bad = ~np.isfinite(array)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}[{', '.join(map(str, index))}] is {array[index]}, expected a finite number")


def probability_tolerance(dtype: DTypeLike) -> float:
    """Tolerance on sums of probabilities given in ``dtype``.

    float32 cannot hold 1e-8 (its spacing near 1 is 1.2e-7), so narrower inputs get
    100 machine epsilons of their own type, but never more than 1e-2: a float16
    row summing to 0.95 is a mistake, not rounding.
    """
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.floating):
        return max(PROBABILITY_TOLERANCE, min(100 * float(np.finfo(dtype).eps), 1e-2))
    return PROBABILITY_TOLERANCE


def distribution(p: Any, name: str, size: int | None = None) -> FloatArray:
    """Return ``p`` as a float64 probability vector or raise.

    Parameters
    ----------
    p : array_like, shape (size,)
    name : str
    size : int, optional
        Expected length.
    """
    tolerance = probability_tolerance(np.asarray(p).dtype)
    p = real_array(p, name)
    if p.ndim != 1 or (size is not None and p.shape[0] != size):
        expected = f"({size},)" if size is not None else "a 1-d array"
        raise ValueError(f"{name} has shape {p.shape}, expected {expected}")
    finite(p, name)
    if np.any(p < 0):
        i = int(np.flatnonzero(p < 0)[0])
        raise ValueError(f"{name}[{i}] is {p[i]:g}, expected a probability >= 0")
    total = p.sum()
    if abs(total - 1.0) > tolerance:
        raise ValueError(f"{name} sums to {total:.10g}, expected 1 (tolerance {tolerance:g})")
    # Narrow inputs carry rounding of their own type; float64 is kept bit for bit
    # so that save/load round-trips exactly.
    return p if tolerance == PROBABILITY_TOLERANCE else p / total


def rewards(r: Any, n_states: int, n_actions: int, name: str = "r") -> FloatArray:
    """Return rewards as a float64 C-contiguous ``(S, A)`` array; ``(S,)`` broadcasts.

    ``-inf`` forbids an action (an action mask); ``+inf`` and NaN are refused, and so
    is a state whose every action is forbidden.
    """
    r = real_array(r, name)
    if r.shape == (n_states,):
        r = np.repeat(r[:, None], n_actions, axis=1)
    elif r.shape != (n_states, n_actions):
        raise ValueError(
            f"{name} has shape {r.shape}, expected (S,) = ({n_states},) "
            f"or (S, A) = ({n_states}, {n_actions})"
        )
    # Two reductions settle the common case (IRL swaps the reward at every step): a NaN
    # makes the maximum NaN, and only a -inf minimum needs the per-state look.
    if not r.max() < np.inf:
        s, a = np.argwhere(np.isnan(r) | (r == np.inf))[0]
        raise ValueError(
            f"{name}[{s}, {a}] is {r[s, a]}, expected a finite number "
            "(or -inf to forbid the action)")
    if r.min() == -np.inf:
        blocked = np.flatnonzero(np.all(r == -np.inf, axis=1))
        if blocked.size:
            raise ValueError(
                f"{name}[{blocked[0]}, :] is -inf for every action; state {blocked[0]} needs "
                "at least one allowed action")
    return np.ascontiguousarray(r)


def action_prior(prior: Any, n_states: int, n_actions: int,
                 name: str = "action_prior") -> FloatArray | None:
    """Return an ``(S, A)`` action prior (``(A,)`` broadcasts), or None for None."""
    if prior is None:
        return None
    prior = np.ascontiguousarray(real_array(prior, name))
    if prior.shape == (n_actions,):
        prior = np.repeat(prior[None, :], n_states, axis=0)
    if prior.shape != (n_states, n_actions):
        raise ValueError(
            f"{name} has shape {prior.shape}, expected (S, A) = ({n_states}, {n_actions}) "
            f"or (A,) = ({n_actions},)"
        )
    bad = ~(np.isfinite(prior) & (prior >= 0))
    if np.any(bad):
        s, a = np.argwhere(bad)[0]
        raise ValueError(f"{name}[{s}, {a}] is {prior[s, a]}, expected a finite value >= 0")
    empty = np.flatnonzero(prior.sum(axis=1) == 0)
    if empty.size:
        raise ValueError(
            f"{name}[{empty[0]}, :] is all zero; every state needs an allowed action")
    return prior


#: Rows of a policy must sum to one within this (or, for narrower input, the dtype's
#: :func:`probability_tolerance`); they are then renormalised.
POLICY_TOLERANCE = 1e-6


def policy(value: Any, n_states: int, n_actions: int, length: int | None,
           name: str = "policy") -> FloatArray:
    """Return a policy as float64 ``(T, S, A)``; a stationary ``(S, A)`` becomes ``(1, S, A)``.

    Parameters
    ----------
    value : array_like, shape (T, S, A) or (S, A)
    n_states, n_actions : int
    length : int or None
        ``T``: a time-varying policy has exactly ``T`` rows (more would be silently
        dropped, so they are refused). None (an infinite horizon) takes only a
        stationary ``(S, A)`` policy.
    name : str

    Every ``π_t(· | s)`` must be a distribution within :data:`POLICY_TOLERANCE` (or
    the rounding of its dtype, e.g. 1.2e-5 for float32), and is renormalised to sum to
    one: a row off by ``ε`` would otherwise weigh each step by ``1 + ε``, so that a
    one-state world paying 1 would be worth ``1/(1 − γ(1 + ε))`` instead of
    ``1/(1 − γ)``, 10 times too much for ``ε = 9e-7`` at ``γ = 0.999999``.
    """
    tolerance = max(POLICY_TOLERANCE, probability_tolerance(_dtype_of(value)))
    array = real_array(value, name)
    S, A = n_states, n_actions
    if array.shape == (S, A):
        array = array[None]
    elif length is None:
        raise ValueError(
            f"{name} has shape {array.shape}; an infinite-horizon MDP needs a stationary "
            f"(S, A) = ({S}, {A}) policy")
    elif array.shape != (length, S, A):
        raise ValueError(
            f"{name} has shape {array.shape}, expected (T, S, A) = ({length}, {S}, {A}) "
            f"or a stationary (S, A) = ({S}, {A})"
        )
    bad = ~(np.isfinite(array) & (array >= 0))
    if np.any(bad):
        t, s, a = np.argwhere(bad)[0]
        raise ValueError(f"{name}[{t}, {s}, {a}] is {array[t, s, a]}, expected a probability")
    sums = array.sum(axis=2)
    off = np.abs(sums - 1.0) > tolerance
    if np.any(off):
        t, s = np.argwhere(off)[0]
        raise ValueError(f"{name}[{t}, {s}, :] sums to {sums[t, s]:.10g}, expected 1 "
                         f"(tolerance {tolerance:g})")
    return np.ascontiguousarray(array / sums[..., None])


def _dtype_of(value: object) -> np.dtype:
    """The dtype ``value`` would have as an array (float64 for what is not an array yet)."""
    dtype = getattr(value, "dtype", None)
    return np.dtype(dtype) if isinstance(dtype, np.dtype) else np.dtype(np.float64)


def batched_table(function: Callable[[IntArray], ArrayLike], n_states: int, width: int | None,
                  name: str) -> FloatArray:
    """Call ``function`` once on every state and return its table, or raise naming ``name``.

    ``function(np.arange(S))`` must return real numbers of shape ``(S, width)``; for
    ``width=None`` a vector ``(S,)`` (an ``(S, 1)`` column is flattened). This is how a
    batched estimate (a network evaluated on all states at once) becomes an array.
    """
    out = real_array(function(np.arange(n_states)), f"{name}(states)")
    if width is None and out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    expected = (n_states,) if width is None else (n_states, width)
    if out.shape != expected:
        wanted = f"(S,) = ({n_states},)" if width is None else f"(S, A) = ({n_states}, {width})"
        raise ValueError(
            f"{name}(states) returned shape {out.shape}, expected {wanted}; a callable {name} "
            "is called once with the array of all states 0..S-1 and returns one row per state")
    return out


def policy_respects_mask(pi: FloatArray, r: FloatArray, name: str = "policy",
                         prior: FloatArray | None = None) -> None:
    """Raise if ``pi`` (T, S, A) puts probability on an action that ``r = -inf`` (or an
    action ``prior`` (S, A) of 0) forbids: its value would be ``-inf``."""
    forbidden = r == -np.inf
    if prior is not None:
        forbidden = forbidden | (prior == 0)
    if not np.any(forbidden):
        return
    bad = (pi > 0) & forbidden[None]
    if np.any(bad):
        t, s, a = np.argwhere(bad)[0]
        why = f"r[{s}, {a}] = -inf" if r[s, a] == -np.inf else f"action_prior[{s}, {a}] = 0"
        raise ValueError(
            f"{name}[{t}, {s}, {a}] is {pi[t, s, a]:g} but {why} forbids action {a} in "
            f"state {s}")


# -- gymnasium spaces (duck-typed: nothing here imports gymnasium) ---------------
def discrete_space(space: Any, name: str) -> int:
    """Return ``n`` of a ``gymnasium.spaces.Discrete(n)`` starting at 0, or raise naming ``name``.

    ``TypeError`` for any other space (``Box``, ``MultiDiscrete``, ``None``): ctrlinf's
    tables are indexed by discrete states and actions. ``ValueError`` for a ``Discrete``
    whose ``start`` is not 0, whose states would not be ``0..n-1``.
    """
    n = getattr(space, "n", None)
    if not is_int(n) or getattr(space, "shape", None) != ():
        raise TypeError(f"{name} must be gymnasium.spaces.Discrete, got {space!r}; ctrlinf "
                        "needs discrete states and actions (e.g. ci.envs.to_gymnasium(mdp))")
    start = getattr(space, "start", 0)
    if start != 0:
        raise ValueError(f"{name} must start at 0, got Discrete(n={n}, start={start})")
    return int(n)


# -- transition matrices ---------------------------------------------------
def csr_structure(indptr: ArrayLike, indices: ArrayLike, n_data: int, n_major: int,
                  n_minor: int, name: str = "P") -> None:
    """Check the index arrays of a compressed sparse matrix before anything reads through them.

    scipy trusts CSR/CSC index arrays: an index out of range or a decreasing ``indptr``
    makes later operations read out of bounds (garbage, or a crash). ``n_major`` is the
    number of rows (CSR) or columns (CSC), ``n_minor`` the other dimension.
    """
    indptr, indices = np.asarray(indptr), np.asarray(indices)
    if not (np.issubdtype(indptr.dtype, np.integer) and np.issubdtype(indices.dtype, np.integer)):
        raise TypeError(f"{name}.indptr and {name}.indices must be integer arrays, got dtypes "
                        f"{indptr.dtype} and {indices.dtype}")
    if indptr.ndim != 1 or indptr.shape[0] != n_major + 1:
        raise ValueError(f"{name}.indptr has shape {indptr.shape}, expected ({n_major + 1},)")
    if indices.ndim != 1:
        raise ValueError(f"{name}.indices has shape {indices.shape}, expected a 1-d array")
    if indptr[0] != 0:
        raise ValueError(f"{name}.indptr[0] is {indptr[0]}, expected 0")
    steps = np.diff(indptr)
    if np.any(steps < 0):
        k = int(np.flatnonzero(steps < 0)[0])
        raise ValueError(f"{name}.indptr decreases at {k + 1} ({indptr[k]} then "
                         f"{indptr[k + 1]}); it must be non-decreasing")
    n_stored = int(indptr[-1])
    if n_stored > indices.shape[0] or n_stored > n_data:
        raise ValueError(f"{name}.indptr[-1] is {n_stored}, but {name}.indices has "
                         f"{indices.shape[0]} and {name}.data {n_data} entries")
    used = indices[:n_stored]
    bad = (used < 0) | (used >= n_minor)
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}.indices[{k}] is {used[k]}, expected an index in [0, {n_minor - 1}]")


def sparse_structure(P: Any, name: str = "P") -> None:
    """Check the index arrays of any scipy.sparse matrix (see :func:`csr_structure`)."""
    n_rows, n_cols = P.shape
    if P.format in ("csr", "csc"):
        n_major, n_minor = (n_rows, n_cols) if P.format == "csr" else (n_cols, n_rows)
        csr_structure(P.indptr, P.indices, np.asarray(P.data).shape[0], n_major, n_minor, name)
    elif P.format == "bsr":
        rows, cols = P.blocksize
        csr_structure(P.indptr, P.indices, np.asarray(P.data).shape[0], n_rows // rows,
                      n_cols // cols, name)
    elif P.format == "coo":
        for axis, coords, bound in (("row", P.row, n_rows), ("col", P.col, n_cols)):
            coords = np.asarray(coords)
            bad = (coords < 0) | (coords >= bound)
            if np.any(bad):
                k = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"{name}.{axis}[{k}] is {coords[k]}, expected an index in [0, {bound - 1}]")
    # dok, lil and dia keep their indices consistent by construction.


def transitions_to_csr(P: Any, name: str = "P") -> tuple[CSRMatrix, int, int, float]:
    """Return ``(csr (S*A, S) float64, S, A, tolerance)`` from a dense (S, A, S) or sparse P.

    The CSR copy is canonical: duplicates summed, explicit zeros dropped, indices sorted.
    """
    if sp.issparse(P):
        if P.ndim != 2:
            raise ValueError(f"sparse {name} must be 2-d of shape (S*A, S), got {P.shape}")
        if not _is_real_dtype(P.dtype):
            raise TypeError(f"{name} must hold real numbers, got dtype {P.dtype}")
        rows, n_states = P.shape
        if n_states == 0 or rows == 0 or rows % n_states != 0:
            raise ValueError(
                f"sparse {name} has shape {P.shape}, expected (S*A, S) with S*A a multiple of S")
        sparse_structure(P, name)
        tolerance = probability_tolerance(P.dtype)
        csr = sp.csr_matrix(P, dtype=np.float64, copy=True)
        n_actions = rows // n_states
    else:
        tolerance = probability_tolerance(np.asarray(P).dtype)
        dense = real_array(P, name)
        if dense.ndim != 3 or dense.shape[0] != dense.shape[2]:
            raise ValueError(
                f"{name} has shape {dense.shape}, expected (S, A, S) "
                "(or a scipy.sparse (S*A, S) matrix)")
        n_states, n_actions, _ = dense.shape
        if n_states == 0 or n_actions == 0:
            raise ValueError(
                f"{name} has shape {dense.shape}; an MDP needs at least one state and action")
        finite(dense, name)
        csr = sp.csr_matrix(dense.reshape(n_states * n_actions, n_states))
    csr.sum_duplicates()
    csr.eliminate_zeros()
    csr.sort_indices()
    return csr, n_states, n_actions, tolerance


def transitions(csr: CSRMatrix, n_actions: int, tolerance: float = PROBABILITY_TOLERANCE,
                name: str = "P") -> None:
    """Check every row of a canonical CSR ``P`` is a distribution; renormalise narrow input.

    Messages name ``P[s, a, s']`` (or ``P[s, a, :]`` for a row sum).
    """
    data = csr.data
    for bad, expected in ((~np.isfinite(data), "a finite probability"),
                          (data < 0, "a probability >= 0")):
        if np.any(bad):
            k = int(np.flatnonzero(bad)[0])
            row = int(np.searchsorted(csr.indptr, k, side="right") - 1)
            s, a = divmod(row, n_actions)
            raise ValueError(
                f"{name}[{s}, {a}, {int(csr.indices[k])}] is {data[k]:g}, expected {expected}")
    row_sums = np.asarray(csr.sum(axis=1)).ravel()
    bad = np.flatnonzero(np.abs(row_sums - 1.0) > tolerance)
    if bad.size:
        s, a = divmod(int(bad[0]), n_actions)
        raise ValueError(
            f"{name}[{s}, {a}, :] sums to {row_sums[bad[0]]:.10g}, expected 1 "
            f"(tolerance {tolerance:g})")
    if tolerance != PROBABILITY_TOLERANCE:
        # float32 rows are off by ~1e-7; float64 input is kept bit for bit.
        csr.data /= np.repeat(row_sums, np.diff(csr.indptr))


# -- memory ----------------------------------------------------------------
def _physical_memory() -> int | None:
    """Bytes of RAM, or None where the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def allocation(n_bytes: float, name: str, what: str = "the arrays") -> None:
    """Raise ``ValueError`` naming ``name`` if ``n_bytes`` cannot fit in memory.

    Called before allocating, so that a size such as ``horizon=10**12`` is a
    readable error rather than a ``MemoryError`` (or, worse, swapping) halfway
    through. The limit is the machine's physical memory (2**63 bytes where unknown).
    """
    limit = _physical_memory() or 2**63
    if n_bytes > limit:
        raise ValueError(
            f"{name} is too large: {what} would need {n_bytes / 2**30:.3g} GiB, more than "
            f"this machine's {limit / 2**30:.3g} GiB of memory")


# -- output paths ------------------------------------------------------------
def _path_text(value: Any, name: str, what: str) -> str:
    """``value`` as a str path; TypeError for other types, ValueError for a NUL byte or ""."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(value).__name__} "
                        f"(expected a {what} path)")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"{name} must be a {what} path given as text, got {type(path).__name__}")
    if path == "":
        raise ValueError(f"{name} is empty, expected a {what} path")
    if "\0" in path:
        raise ValueError(f"{name} {path!r}: cannot write there, a path cannot contain a NUL byte")
    return path


def output_file(value: Any, name: str = "path") -> str:
    """Return ``value`` as a str once a file can be written there, else raise.

    Called before long work, so that a directory, a missing folder, an unwritable
    place or a NUL byte is a ``ValueError`` naming ``name`` at once, not an
    ``OSError`` after it. The check opens the file for appending (an existing file
    keeps its content) and removes it again if it did not exist.
    """
    path = _path_text(value, name, "file")
    if os.path.isdir(path):
        raise ValueError(f"{name} {path}: cannot write there, it is a directory; expected a "
                         "file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"{name} {path}: cannot write there, folder {folder} does not exist")
    existed = os.path.exists(path)
    try:
        with open(path, "ab"):
            pass
    except OSError as error:
        raise ValueError(f"{name} {path}: cannot write there ({error.strerror})") from None
    if not existed:
        os.remove(path)
    return path


def output_folder(value: Any, name: str = "path") -> str:
    """Create folder ``value`` if needed and return it as a str; raise unless files can be
    written in it (a file in the way, no permission, a NUL byte: ``ValueError`` naming ``name``)."""
    import tempfile

    path = _path_text(value, name, "folder")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{name} {path}: is a file, expected a folder")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ValueError(f"{name} {path}: cannot write there ({error.strerror})") from None
    return path


# -- core objects ------------------------------------------------------------
#: The core's classes by kind ("mdp", "solution", "trajectories"), registered by the
#: modules that define them (the bottom of mdp.py, inference.py and trajectories.py):
#: those modules import this one, so this one cannot import them.
_CORE_TYPES: dict[str, type] = {}


def register_type(kind: Literal["mdp", "solution", "trajectories"], cls: type) -> None:
    """Make ``cls`` the class that :func:`mdp`, :func:`solution` or :func:`trajectories`
    (``kind`` ``"mdp"``, ``"solution"``, ``"trajectories"``) checks for; subclasses pass too."""
    _CORE_TYPES[kind] = cls


def mdp(value: Any, name: str = "mdp") -> TabularMDP:
    """Return ``value`` if it is a ``ctrlinf.TabularMDP`` or raise ``TypeError``."""
    if not isinstance(value, _CORE_TYPES["mdp"]):
        raise TypeError(f"{name} must be a ctrlinf.TabularMDP, got {type(value).__name__}")
    return cast("TabularMDP", value)


def solution(value: Any, name: str = "sol") -> Solution:
    """Return ``value`` if it is a ``ctrlinf.Solution`` or raise ``TypeError``."""
    if not isinstance(value, _CORE_TYPES["solution"]):
        raise TypeError(f"{name} must be a Solution from ctrlinf.solve, got "
                        f"{type(value).__name__}")
    return cast("Solution", value)


def maxent_mdp(value: Any, name: str = "mdp") -> TabularMDP:
    """Return ``value`` if it is a TabularMDP with a finite horizon and ``γ = 1``, or raise.

    What MaxEnt IRL's trajectory distribution ``p(τ) exp(R(τ)) / Z`` needs.
    """
    value = mdp(value, name)
    if value.horizon is None or value.gamma != 1.0:
        raise ValueError(
            f"MaxEnt IRL's trajectory distribution p(τ) exp(R(τ))/Z needs a finite horizon "
            f"and gamma=1, got horizon={value.horizon}, gamma={value.gamma:g}"
        )
    return value


def trajectories(value: Any, name: str = "demos", n_states: int | None = None,
                 n_actions: int | None = None, sizes_from: str | None = None,
                 nonempty: bool = False) -> Trajectories:
    """Return ``value`` if it is a ``ctrlinf.Trajectories`` whose data fit ``S`` and ``A``.

    ``TypeError`` for anything else; ``ValueError`` naming ``name.states[i, t]`` (or
    ``actions``) at the first observed step whose index is outside ``[0, S-1]``
    (``[0, A-1]``), and ``sizes_from`` if given (the argument ``S`` and ``A`` come
    from, e.g. ``"features"``). Padding is not read. A bound left None is not checked.
    ``nonempty`` refuses zero trajectories (where an average over them is needed).
    """
    if not isinstance(value, _CORE_TYPES["trajectories"]):
        raise TypeError(f"{name} must be a ctrlinf.Trajectories, got {type(value).__name__}")
    value = cast("Trajectories", value)
    if nonempty and value.n_trajectories == 0:
        raise ValueError(f"{name} is empty (0 trajectories); at least one is needed")
    if n_states is None and n_actions is None:
        return value
    steps = value.observed()
    for what, indices, bound in (("states", steps.state, n_states),
                                 ("actions", steps.action, n_actions)):
        if bound is None:
            continue
        bad = np.flatnonzero((indices < 0) | (indices >= bound))
        if bad.size:
            k = int(bad[0])
            raise ValueError(
                f"{name}.{what}[{steps.trajectory[k]}, {steps.t[k]}] is {indices[k]}, expected "
                f"an index in [0, {bound - 1}]"
                + (f" (the {what} of {sizes_from})" if sizes_from else ""))
    return value


def value_range(mdp_: TabularMDP, temperature_: float, mode: str) -> None:
    r"""Raise ``ValueError`` if solving ``mdp_`` would leave the float64 range.

    Values are bounded by ``H (max|r| + α log A)`` with ``H`` the horizon (or
    ``1/(1−γ)``), and exact-mode messages use ``V/α`` and ``r/α``; each must stay
    below :data:`FLOAT_LIMIT` so that sums and exps of them are finite. Forbidden
    actions (``r = -inf``) do not count.
    """
    largest = mdp_.reward_scale
    steps = effective_steps(mdp_)
    entropy = 0.0 if mode == "hard" else temperature_ * math.log(mdp_.n_actions)
    bound = steps * (largest + entropy)
    if not bound < FLOAT_LIMIT:
        raise ValueError(
            f"values overflow: r up to {largest:g} (and temperature={temperature_:g}) over "
            f"{steps:g} steps can reach {bound:g}, beyond the float64 range; rescale r"
            + ("" if mode == "hard" else " or lower temperature"))
    if mode != "hard" and not bound / temperature_ < FLOAT_LIMIT:
        raise ValueError(
            f"r / temperature overflows: r up to {largest:g} at temperature={temperature_:g} "
            f"over {steps:g} steps gives V/temperature up to {bound / temperature_:g}, beyond "
            "the float64 range; raise temperature or rescale r")


def effective_steps(mdp_: TabularMDP) -> float:
    """The horizon ``T``, or ``1/(1 − γ)`` for an infinite one: how many steps values sum."""
    return mdp_.horizon if mdp_.horizon is not None else 1.0 / (1.0 - mdp_.gamma)


def policy_value_range(mdp_: TabularMDP, temperature_: float, kl_scale: float) -> None:
    r"""Raise ``ValueError`` if a policy's (soft) value in ``mdp_`` would leave the float64 range.

    :func:`value_range` for ``evaluate_policy``: ``|V^π| <= H (max|r| + α κ)`` with ``H``
    the horizon (or ``1/(1−γ)``) and ``κ = max_{t,s} |Σ_a π log(π/prior)|`` the
    policy's largest entropy (or KL) term, which must stay below :data:`FLOAT_LIMIT`.
    """
    largest = mdp_.reward_scale
    steps = effective_steps(mdp_)
    bound = steps * (largest + temperature_ * kl_scale)
    if not bound < FLOAT_LIMIT:
        entropy = (f" and temperature={temperature_:g} times an entropy (or KL) term up to "
                   f"{kl_scale:g}" if temperature_ > 0 else "")
        raise ValueError(
            f"values overflow: r up to {largest:g}{entropy} over {steps:g} steps can reach "
            f"{bound:g}, beyond the float64 range; rescale r"
            + (" or lower temperature" if temperature_ > 0 else ""))


def features(value: Any, n_states: int, n_actions: int, name: str = "features",
             sparse: bool = True) -> FloatArray | CSRMatrix:
    """Return features ``φ`` as float64 ``(S, K)`` or ``(S, A, K)``, or a CSR ``(S, K)``, or raise.

    Finite, with ``K >= 1``. A scipy.sparse ``(S, K)`` matrix is accepted when
    ``sparse`` (its index arrays checked first, see :func:`sparse_structure`).
    ``n_actions=None`` accepts any ``A`` in the three-dimensional form.
    """
    S, A = n_states, n_actions
    if sp.issparse(value):
        if not sparse:
            raise TypeError(f"{name} must be a dense array here, got a scipy.sparse matrix")
        if value.ndim != 2 or value.shape[0] != S:
            raise ValueError(f"sparse {name} has shape {value.shape}, expected (S, K) = ({S}, K)")
        if not _is_real_dtype(value.dtype):
            raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
        sparse_structure(value, name)                 # before scipy reads through them
        phi = sp.csr_matrix(value, dtype=np.float64)
        values = phi.data
    else:
        phi = values = np.ascontiguousarray(real_array(value, name))
        if (phi.ndim not in (2, 3) or phi.shape[0] != S
                or phi.ndim == 3 and A not in (None, phi.shape[1])):
            raise ValueError(f"{name} has shape {phi.shape}, expected (S, K) = ({S}, K) or "
                             f"(S, A, K) = ({S}, {'A' if A is None else A}, K)")
    if phi.shape[-1] == 0:
        raise ValueError(f"{name} has K = 0 columns; at least one feature is needed")
    if not np.all(np.isfinite(values)):
        finite(phi.toarray() if sp.issparse(phi) else phi, name)
    return phi


def state_action_features(value: Any, n_states: int, n_actions: int,
                          name: str = "features") -> FloatArray:
    """Return dense features as float64 ``(S, A, K)``; ``(S, K)`` broadcasts over actions."""
    phi = features(value, n_states, n_actions, name, sparse=False)
    return np.repeat(phi[:, None, :], n_actions, axis=1) if phi.ndim == 2 else phi


def feature_scale(phi: FloatArray | CSRMatrix, steps: float,
                  name: str = "features") -> FloatArray | CSRMatrix:
    """Refuse features whose gradients, squared by an optimiser, would leave the float range.

    A gradient in feature space is bounded by ``max|φ| × steps`` (``steps`` the horizon,
    or ``1/(1 − γ)``; times the batch for summed statistics); L-BFGS, Adam, Newton's
    method and standard errors square it, so it must stay below ``sqrt(FLOAT_LIMIT)``.
    """
    values = phi.data if sp.issparse(phi) else phi
    largest = float(np.abs(values).max(initial=0.0))
    if not largest * steps < math.sqrt(FLOAT_LIMIT):
        raise ValueError(
            f"{name} up to {largest:.3g} are too large to fit: over {steps:g} steps the "
            f"gradient reaches {largest * steps:.3g}, and the optimisers square it (beyond "
            f"the float64 range); scale the {name} to O(1)")
    return phi


def next_values(V_next: Any, mdp_: TabularMDP, temperature_: float, mode: str,
                name: str = "V_next") -> FloatArray:
    """Return ``V_{t+1}`` as a finite, C-contiguous float64 ``(S,)`` array for one backup.

    Raises ``ValueError`` if the backup of it would leave the float64 range:
    ``|Q| <= max|r| + γ max|V_next|``, plus ``α log A`` in ``V`` outside hard mode.
    """
    V = np.ascontiguousarray(real_array(V_next, name, shape=(mdp_.n_states,)))
    finite(V, name)
    largest = float(np.max(np.abs(V), initial=0.0))
    entropy = 0.0 if mode == "hard" else temperature_ * math.log(mdp_.n_actions)
    bound = mdp_.reward_scale + mdp_.gamma * largest + entropy
    if not bound < FLOAT_LIMIT:
        raise ValueError(
            f"{name} up to {largest:g} with r up to {mdp_.reward_scale:g} gives values up to "
            f"{bound:g}, beyond the float64 range; rescale r and {name}")
    return V


# -- envs and agents ---------------------------------------------------------
def int_pair(value: Any, name: str, description: str) -> tuple[int, int]:
    """Return ``value`` as a pair of ints, or raise ``TypeError("{name} must be {description}")``.

    A tuple, list or 1-d array of two ints (numpy ints too, bools refused), e.g. a grid
    ``shape`` or a ``(row, col)`` cell.
    """
    if (not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 2
            or not all(is_int(n) for n in value)):
        raise TypeError(f"{name} must be {description}, got {value!r}")
    return int(value[0]), int(value[1])


def optional_callable(value: Any, name: str) -> Callable[..., Any] | None:
    """Return ``value`` if it is None or callable, else raise ``TypeError``."""
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, got {value!r}")
    return value


def transition(state: Any, action: Any, reward: Any, next_state: Any, terminated: Any) -> None:
    """Check one ``(s, a, r, s', terminated)``: ints >= 0, a finite real reward, a bool.

    Called once per environment step by a replay buffer: the common case (Python ints, a
    float and a bool, as the agents pass them) is settled by exact type tests, which are
    several times cheaper than the ``numbers`` ABCs the general path uses.
    """
    if (type(state) is int and type(action) is int and type(next_state) is int
            and type(reward) is float and type(terminated) is bool
            and state >= 0 and action >= 0 and next_state >= 0 and math.isfinite(reward)):
        return
    for name, value in (("state", state), ("action", action), ("next_state", next_state)):
        if not is_int(value):
            raise TypeError(f"{name} must be a non-negative int, got {value!r}")
        if value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if not is_real_number(reward):
        raise TypeError(f"reward must be a finite real number, got {reward!r}")
    if not math.isfinite(reward):
        raise ValueError(f"reward must be a finite real number, got {reward!r}")
    if not isinstance(terminated, (bool, np.bool_)):
        raise TypeError(f"terminated must be a bool, got {terminated!r}")


def batch(**arrays: tuple[Any, str, str]) -> list[np.ndarray]:
    r"""Check the arrays of one loss call against named dimensions (rlax's chex asserts).

    Each keyword is ``name=(value, dims, kind)``. ``dims`` spells one letter per axis
    (``"B"``, ``"BA"``); a letter means the same length in every argument, so a
    ``(B, 1)`` where ``(B,)`` was meant is refused instead of broadcasting to ``(B, B)``.
    ``kind`` is ``"real"`` (finite float64), ``"flag"`` (bool, or the numbers 0 and 1;
    returned as bool) or ``"action"`` (ints in ``[0, A)``, ``A`` bound by an earlier
    argument). Every dimension must be at least 1.

    Returns
    -------
    list of ndarray
        The converted arrays, in the order given.
    """
    sizes: dict[str, tuple[int, str]] = {}
    out = []
    for name, (value, dims, kind) in arrays.items():
        array = _batch_array(value, name, kind)
        if array.ndim != len(dims):
            raise ValueError(f"{name} has shape {array.shape}, expected {_spelled(dims, sizes)}")
        for letter, length in zip(dims, array.shape):
            bound = sizes.get(letter)
            if bound is None:
                if length == 0:
                    raise ValueError(f"{name} has shape {array.shape}, expected "
                                     f"{_spelled(dims, {})} with every length >= 1")
                sizes[letter] = (length, name)
            elif bound[0] != length:
                raise ValueError(f"{name} has shape {array.shape}, expected "
                                 f"{_spelled(dims, sizes)}")
        if kind == "action" and (array.min() < 0 or array.max() >= sizes["A"][0]):
            bad = (array < 0) | (array >= sizes["A"][0])
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name}[{i}] is {array[i]}, expected an action in "
                             f"[0, {sizes['A'][0]})")
        out.append(array)
    return out


def _spelled(dims: str, sizes: dict[str, tuple[int, str]]) -> str:
    """``"(B, A)"``, and ``" = (4, A) as in rewards"`` for the lengths already bound."""
    def tuple_text(items: list[str]) -> str:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    text = tuple_text(list(dims))
    known = [letter for letter in dims if letter in sizes]
    if known:
        text += " = " + tuple_text([str(sizes[letter][0]) if letter in sizes else letter
                                    for letter in dims])
        text += " as in " + ", ".join(dict.fromkeys(sizes[letter][1] for letter in known))
    return text


def _batch_array(value: Any, name: str, kind: str) -> np.ndarray:
    array = np.asarray(value)
    if kind == "real":
        if array.dtype != np.float64:
            array = real_array(array, name)
        if not np.isfinite(array).all():
            finite(array, name)
        return array
    if kind == "action":
        return array if array.dtype == np.int64 else index_array(array, name)
    if array.dtype == np.bool_:  # "flag"
        return array
    array = real_array(array, name, dtype=array.dtype)
    bad = (array != 0) & (array != 1)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}[{', '.join(map(str, index))}] is {array[index]}, expected a "
                         "bool (or 0 or 1)")
    return array.astype(bool)
