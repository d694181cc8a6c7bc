r"""Finite MDPs as the graphical model of control as inference.

Notation used throughout ctrlinf (Levine 2018, *Reinforcement Learning and
Control as Probabilistic Inference: Tutorial and Review*; CS285 lecture
"Reframing control as an inference problem"):

- ``S`` states, ``A`` actions; states ``s`` and actions ``a`` are integers.
- ``P[s, a, s']`` is the probability of moving to ``s'`` after action ``a`` in
  state ``s``. It is stored as a CSR matrix of shape ``(S*A, S)`` whose row
  ``s*A + a`` is the distribution over ``s'``.
- ``r[s, a]`` is the reward (any real number); ``p0[s]`` the initial
  distribution.
- ``T`` (``horizon``) is the number of decisions, taken at times
  ``t = 0, ..., T-1``; ``horizon=None`` means an infinite discounted horizon.
- ``γ`` (``gamma``) is the discount, ``0 < γ <= 1``.
- ``α`` (``temperature``) sets the optimality likelihood
  ``p(O_t = 1 | s, a) = exp(r(s, a) / α)``.
- ``Q_t(s, a) = α log β_t(s, a)`` and ``V_t(s) = α log β_t(s)`` are the
  backward messages in log space (soft Q and V), in reward units.
"""
from __future__ import annotations

import numbers
import os

import numpy as np
import scipy.sparse as sp

#: Rows of P and p0 must sum to one within this absolute tolerance (float64 input).
PROBABILITY_TOLERANCE = 1e-8


def probability_tolerance(dtype):
    """Tolerance on sums of probabilities given in ``dtype``.

    float32 cannot hold 1e-8 (its spacing near 1 is 1.2e-7), so narrower
    inputs get a tolerance of 100 machine epsilons of their own type.
    """
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.floating):
        return max(PROBABILITY_TOLERANCE, 100 * float(np.finfo(dtype).eps))
    return PROBABILITY_TOLERANCE


def _as_real_array(value, name):
    """Convert ``value`` to a float64 array, refusing non-numeric input."""
    array = np.asarray(value)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.integer)
        or np.issubdtype(array.dtype, np.floating)
        or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(
            f"{name} must be an array of real numbers, got dtype {array.dtype}"
        )
    return array.astype(np.float64)


def _check_finite(array, name):
    if not np.all(np.isfinite(array)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        index = ", ".join(map(str, bad))
        raise ValueError(f"{name}[{index}] is {array[bad]}, expected a finite number")


def _first_bad_row(row_sums, tolerance):
    bad = np.flatnonzero(np.abs(row_sums - 1.0) > tolerance)
    return None if bad.size == 0 else int(bad[0])


def validate_distribution(p, name, size=None):
    """Return ``p`` as a float64 probability vector or raise ``ValueError``.

    Parameters
    ----------
    p : array_like, shape (size,)
        Candidate distribution.
    name : str
        Argument name used in error messages.
    size : int, optional
        Expected length.
    """
    tolerance = probability_tolerance(np.asarray(p).dtype)
    p = _as_real_array(p, name)
    if p.ndim != 1 or (size is not None and p.shape[0] != size):
        expected = f"({size},)" if size is not None else "a 1-d array"
        raise ValueError(f"{name} has shape {p.shape}, expected {expected}")
    _check_finite(p, name)
    if np.any(p < 0):
        i = int(np.flatnonzero(p < 0)[0])
        raise ValueError(f"{name}[{i}] is {p[i]:g}, expected a probability >= 0")
    total = p.sum()
    if abs(total - 1.0) > tolerance:
        raise ValueError(f"{name} sums to {total:.10g}, expected 1 (tolerance {tolerance:g})")
    # Narrow inputs carry rounding of their own type; float64 is kept bit for bit
    # so that save/load round-trips exactly.
    return p if tolerance == PROBABILITY_TOLERANCE else p / total


def validate_horizon(horizon):
    """Return ``horizon`` as an int (or None) or raise."""
    if horizon is None:
        return None
    if isinstance(horizon, (bool, np.bool_)) or not isinstance(horizon, numbers.Integral):
        raise TypeError(f"horizon must be a positive int or None, got {horizon!r}")
    if horizon < 1:
        raise ValueError(f"horizon must be a positive int or None, got {horizon}")
    return int(horizon)


def validate_gamma(gamma):
    """Return ``gamma`` as a float in (0, 1] or raise."""
    if isinstance(gamma, (bool, np.bool_)) or not isinstance(gamma, numbers.Real):
        raise TypeError(f"gamma must be a real number in (0, 1], got {gamma!r}")
    gamma = float(gamma)
    if not (0.0 < gamma <= 1.0):
        raise ValueError(f"gamma must satisfy 0 < gamma <= 1, got {gamma}")
    return gamma


def _transitions_to_csr(P):
    """Return (csr (S*A, S), S, A, tolerance) from a dense (S, A, S) array or a sparse matrix."""
    if sp.issparse(P):
        tolerance = probability_tolerance(P.dtype)
        if P.ndim != 2:
            raise ValueError(f"sparse P must be 2-d of shape (S*A, S), got {P.shape}")
        rows, n_states = P.shape
        if n_states == 0 or rows % n_states != 0 or rows == 0:
            raise ValueError(
                f"sparse P has shape {P.shape}, expected (S*A, S) with S*A a multiple of S"
            )
        if not (np.issubdtype(P.dtype, np.integer) or np.issubdtype(P.dtype, np.floating)
                or np.issubdtype(P.dtype, np.bool_)):
            raise TypeError(f"P must hold real numbers, got dtype {P.dtype}")
        csr = sp.csr_matrix(P, dtype=np.float64, copy=True)
        return csr, n_states, rows // n_states, tolerance
    tolerance = probability_tolerance(np.asarray(P).dtype)
    dense = _as_real_array(P, "P")
    if dense.ndim != 3 or dense.shape[0] != dense.shape[2]:
        raise ValueError(
            f"P has shape {dense.shape}, expected (S, A, S) (or a scipy.sparse (S*A, S) matrix)"
        )
    n_states, n_actions, _ = dense.shape
    if n_states == 0 or n_actions == 0:
        raise ValueError(f"P has shape {dense.shape}; an MDP needs at least one state and action")
    _check_finite(dense, "P")
    csr = sp.csr_matrix(dense.reshape(n_states * n_actions, n_states))
    return csr, n_states, n_actions, tolerance


def validate_transitions(csr, n_actions, tolerance=PROBABILITY_TOLERANCE):
    """Check every row of ``P`` is a distribution, raising with ``P[s, a, :]``; renormalise rows."""
    data = csr.data
    for bad, expected in ((~np.isfinite(data), "a finite probability"),
                          (data < 0, "a probability >= 0")):
        if np.any(bad):
            k = int(np.flatnonzero(bad)[0])
            row = int(np.searchsorted(csr.indptr, k, side="right") - 1)
            s, a = divmod(row, n_actions)
            raise ValueError(
                f"P[{s}, {a}, {int(csr.indices[k])}] is {data[k]:g}, expected {expected}"
            )
    row_sums = np.asarray(csr.sum(axis=1)).ravel()
    row = _first_bad_row(row_sums, tolerance)
    if row is not None:
        s, a = divmod(row, n_actions)
        raise ValueError(
            f"P[{s}, {a}, :] sums to {row_sums[row]:.10g}, expected 1 (tolerance {tolerance:g})"
        )
    if tolerance != PROBABILITY_TOLERANCE:
        # float32 rows are off by ~1e-7; float64 input is kept bit for bit.
        csr.data /= np.repeat(row_sums, np.diff(csr.indptr))


def validate_rewards(r, n_states, n_actions, name="r"):
    """Return rewards as a float64 ``(S, A)`` array; ``(S,)`` broadcasts over actions."""
    r = _as_real_array(r, name)
    if r.shape == (n_states,):
        r = np.repeat(r[:, None], n_actions, axis=1)
    elif r.shape != (n_states, n_actions):
        raise ValueError(
            f"{name} has shape {r.shape}, expected (S,) = ({n_states},) "
            f"or (S, A) = ({n_states}, {n_actions})"
        )
    _check_finite(r, name)
    return np.ascontiguousarray(r)


class TabularMDP:
    r"""A finite MDP ``(P, r, p0, T, γ)``, validated once at construction.

    Parameters
    ----------
    P : array_like, shape (S, A, S), or scipy.sparse matrix, shape (S*A, S)
        Transition probabilities ``P[s, a, s']``; sparse row ``s*A + a`` holds
        ``P[s, a, :]``. Integer and float32 inputs are converted to float64.
    r : array_like, shape (S, A) or (S,)
        Rewards ``r(s, a)``; a vector broadcasts over actions.
    p0 : array_like, shape (S,), or None
        Initial state distribution; None means uniform.
    horizon : int or None
        Number of decisions ``T`` (times ``t = 0 .. T-1``); None for an
        infinite discounted horizon, which needs ``gamma < 1``.
    gamma : float, default 1.0
        Discount ``γ`` in (0, 1].

    Attributes
    ----------
    P : scipy.sparse.csr_matrix, shape (S*A, S)
    r : ndarray, shape (S, A)
    p0 : ndarray, shape (S,)
    horizon : int or None
    gamma : float
    n_states, n_actions : int

    Examples
    --------
    A two-state chain where action 1 moves right and pays 1:

    >>> import numpy as np, ctrlinf as ci
    >>> P = np.zeros((2, 2, 2)); P[:, 0, 0] = 1; P[:, 1, 1] = 1
    >>> mdp = ci.TabularMDP(P, r=[[0, 1], [0, 1]], p0=[1, 0], horizon=3)
    >>> mdp.n_states, mdp.n_actions, mdp.P.shape
    (2, 2, (4, 2))
    """

    def __init__(self, P, r, p0, horizon, gamma=1.0):
        csr, n_states, n_actions, tolerance = _transitions_to_csr(P)
        csr.sum_duplicates()
        csr.eliminate_zeros()
        csr.sort_indices()
        validate_transitions(csr, n_actions, tolerance)
        # int32 indices let kernels view them as uint32 at no cost (see kernel_arrays).
        if csr.nnz < np.iinfo(np.int32).max:
            csr.indices = csr.indices.astype(np.int32, copy=False)
            csr.indptr = csr.indptr.astype(np.int32, copy=False)
        self._P = csr
        self._n_states = n_states
        self._n_actions = n_actions
        self._r = validate_rewards(r, n_states, n_actions)
        if p0 is None:
            p0 = np.full(n_states, 1.0 / n_states)
        self._p0 = validate_distribution(p0, "p0", n_states)
        self._horizon = validate_horizon(horizon)
        self._gamma = validate_gamma(gamma)
        if self._horizon is None and self._gamma >= 1.0:
            raise ValueError(
                "horizon=None needs gamma < 1 (an undiscounted infinite horizon has "
                "no finite value); pass a horizon or a discount"
            )

    # -- read-only views -------------------------------------------------
    @property
    def P(self):
        """scipy.sparse.csr_matrix, shape (S*A, S): row ``s*A + a`` is ``P[s, a, :]``."""
        return self._P

    @property
    def r(self):
        """ndarray, shape (S, A): rewards ``r(s, a)``."""
        return self._r

    @property
    def p0(self):
        """ndarray, shape (S,): initial state distribution."""
        return self._p0

    @property
    def horizon(self):
        """int or None: number of decisions ``T``; None means infinite."""
        return self._horizon

    @property
    def gamma(self):
        """float: discount ``γ``."""
        return self._gamma

    @property
    def n_states(self):
        """int: number of states ``S``."""
        return self._n_states

    @property
    def n_actions(self):
        """int: number of actions ``A``."""
        return self._n_actions

    def kernel_arrays(self):
        """Return ``(indptr, indices, data)`` of P as the kernels want them.

        The index arrays are unsigned views (no copy) because numba skips the
        negative-index wraparound check for unsigned integers, which makes the
        CSR matvec about 1.8x faster (``STYLE.md`` speed facts).
        """
        P = self._P
        unsigned = {np.dtype(np.int32): np.uint32, np.dtype(np.int64): np.uint64}
        return (P.indptr.view(unsigned[P.indptr.dtype]),
                P.indices.view(unsigned[P.indices.dtype]),
                P.data)

    def transition_tensor(self):
        """Return P as a dense array, shape (S, A, S); for small MDPs only."""
        S, A = self._n_states, self._n_actions
        return self._P.toarray().reshape(S, A, S)

    # -- derived MDPs ----------------------------------------------------
    def replace(self, **changes):
        """Return a copy with some of ``P, r, p0, horizon, gamma`` replaced (validated again)."""
        fields = dict(P=self._P, r=self._r, p0=self._p0, horizon=self._horizon,
                      gamma=self._gamma)
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"replace() got unknown field(s) {sorted(unknown)}")
        fields.update(changes)
        return type(self)(**fields, **self._constructor_extras())

    def _constructor_extras(self):
        """Keyword arguments a subclass's constructor needs beyond P, r, p0, horizon, gamma."""
        return {}

    def with_death_state(self):
        r"""Return the undiscounted MDP in which ``γ`` becomes a death probability.

        Each step survives with probability ``γ`` and otherwise moves to an
        absorbing extra state ``S`` with zero reward, so the expected
        undiscounted return equals the discounted one (Levine 2018, sec. 2.3).
        The new MDP has ``S + 1`` states and ``gamma = 1``; it is what
        ``mode="exact"`` can reason about.
        """
        S, A, g = self._n_states, self._n_actions, self._gamma
        P = sp.vstack([
            sp.hstack([self._P * g, sp.csr_matrix(np.full((S * A, 1), 1.0 - g))]),
            sp.hstack([sp.csr_matrix((A, S)), sp.csr_matrix(np.ones((A, 1)))]),
        ]).tocsr()
        r = np.vstack([self._r, np.zeros((1, A))])
        p0 = np.append(self._p0, 0.0)
        return TabularMDP(P, r, p0, horizon=self._horizon, gamma=1.0)

    # -- persistence -----------------------------------------------------
    def save(self, path):
        """Save to ``path`` (``.npz``); ``TabularMDP.load(path)`` restores it exactly."""
        P = self._P
        np.savez_compressed(
            path, indptr=P.indptr, indices=P.indices, data=P.data,
            shape=np.array(P.shape), r=self._r, p0=self._p0,
            horizon=np.array(-1 if self._horizon is None else self._horizon),
            gamma=np.array(self._gamma), **self._extra_arrays(),
        )

    def _extra_arrays(self):
        """Arrays a subclass adds to the saved file (see GridMDP)."""
        return {}

    @classmethod
    def load(cls, path):
        """Load an MDP written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            A ``.npz`` file.
        """
        if not os.path.exists(path):
            raise ValueError(f"path {os.fspath(path)!r} does not exist")
        with np.load(path, allow_pickle=False) as f:
            missing = {"indptr", "indices", "data", "shape", "r", "p0", "horizon",
                       "gamma"} - set(f.files)
            if missing:
                raise ValueError(
                    f"{os.fspath(path)!r} is not a saved TabularMDP (missing {sorted(missing)})"
                )
            P = sp.csr_matrix((f["data"], f["indices"], f["indptr"]),
                              shape=tuple(int(x) for x in f["shape"]))
            horizon = int(f["horizon"])
            kwargs = dict(P=P, r=f["r"], p0=f["p0"],
                          horizon=None if horizon < 0 else horizon,
                          gamma=float(f["gamma"]))
            if cls is TabularMDP and "grid_shape" in f.files:
                # Give back what was saved: a GridMDP keeps its layout.
                from ctrlinf.envs.grid import GridMDP

                return GridMDP._from_saved(kwargs, f)
            return cls._from_saved(kwargs, f)

    @classmethod
    def _from_saved(cls, kwargs, saved):
        return TabularMDP(**kwargs)

    def __repr__(self):
        T = "inf" if self._horizon is None else self._horizon
        return (f"{type(self).__name__}(n_states={self._n_states}, n_actions={self._n_actions}, "
                f"horizon={T}, gamma={self._gamma:g}, nnz={self._P.nnz})")
