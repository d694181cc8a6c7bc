r"""Finite MDPs as the graphical model of control as inference.

Notation used throughout ctrlinf (Levine 2018, *Reinforcement Learning and
Control as Probabilistic Inference: Tutorial and Review*; CS285 lecture
"Reframing control as an inference problem"):

- ``S`` states, ``A`` actions; states ``s`` and actions ``a`` are integers.
- ``P[s, a, s']`` is the probability of moving to ``s'`` after action ``a`` in
  state ``s``. It is stored as a CSR matrix of shape ``(S*A, S)`` whose row
  ``s*A + a`` is the distribution over ``s'``.
- ``r[s, a]`` is the reward (any real number); ``r[s, a] = -inf`` forbids action
  ``a`` in ``s`` (the same as ``action_prior[s, a] = 0``; then ``Q_t(s, a) = -inf``
  and ``π_t(a | s) = 0``). ``p0[s]`` is the initial distribution.
- ``T`` (``horizon``) is the number of decisions, taken at times
  ``t = 0, ..., T-1``; ``horizon=None`` means an infinite discounted horizon.
- ``γ`` (``gamma``) is the discount, ``0 < γ <= 1``.
- ``α`` (``temperature``) sets the optimality likelihood
  ``p(O_t = 1 | s, a) = exp(r(s, a) / α)``.
- ``Q_t(s, a) = α log β_t(s, a)`` and ``V_t(s) = α log β_t(s)`` are the
  backward messages in log space (soft Q and V), in reward units.
"""
from __future__ import annotations

import importlib
import os
import zipfile
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ctrlinf import _checks, kernels

if TYPE_CHECKING:
    from typing_extensions import Self

    from ctrlinf._typing import (ArrayLike, ArrayOrSparse, BoolArray, CSRMatrix, FloatArray,
                                 PathLike, UIntArray)


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
        Its arrays are read-only (they were checked once); ``replace`` makes a new MDP.
    r : ndarray, shape (S, A), read-only
    p0 : ndarray, shape (S,), read-only
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

    def __init__(self, P: ArrayOrSparse, r: ArrayLike, p0: ArrayLike | None,
                 horizon: int | None, gamma: float = 1.0) -> None:
        csr, n_states, n_actions, tolerance = _checks.transitions_to_csr(P)
        _checks.transitions(csr, n_actions, tolerance)
        # int32 indices let kernels view them as uint32 at no cost (see kernel_arrays).
        if csr.nnz < np.iinfo(np.int32).max:
            csr.indices = csr.indices.astype(np.int32, copy=False)
            csr.indptr = csr.indptr.astype(np.int32, copy=False)
        if csr.data.ctypes.data % kernels.ALIGNMENT:
            # On a cache-line boundary, as the kernels read it fastest (see ctrlinf.kernels).
            data = kernels.aligned_empty(csr.data.shape)
            data[:] = csr.data
            csr.data = data
        # Validated once, so frozen: an index written into P after the checks would
        # make the kernels read out of bounds (and P is shared by replace()'s copies).
        for array in (csr.data, csr.indices, csr.indptr):
            array.flags.writeable = False
        self._P = csr
        self._n_states = n_states
        self._n_actions = n_actions
        self._set_reward(r)
        self._set_start(p0)
        self._set_discounting(horizon, gamma)

    # The checks of the fields that depend only on S and A, one setter each, so that
    # replace() runs only the checks of what it changes.
    def _set_reward(self, r: ArrayLike) -> None:
        r = self._r = _read_only(_checks.rewards(r, self._n_states, self._n_actions))
        top, bottom = r.max(), r.min()
        if bottom == -np.inf:      # forbidden actions do not count (every state has another)
            top, bottom = np.abs(r).max(where=r > -np.inf, initial=0.0), 0.0
        self._reward_scale = float(max(abs(top), abs(bottom)))

    def _set_start(self, p0: ArrayLike | None) -> None:
        if p0 is None:
            p0 = np.full(self._n_states, 1.0 / self._n_states)
        self._p0 = _read_only(_checks.distribution(p0, "p0", self._n_states))

    def _set_discounting(self, horizon: int | None, gamma: float) -> None:
        self._horizon = _checks.horizon(horizon)
        self._gamma = _checks.gamma(gamma)
        if self._horizon is None and self._gamma >= 1.0:
            raise ValueError(
                "horizon=None needs gamma < 1 (an undiscounted infinite horizon has "
                "no finite value); pass a horizon or a discount"
            )

    # -- read-only views -------------------------------------------------
    @property
    def P(self) -> CSRMatrix:
        """scipy.sparse.csr_matrix, shape (S*A, S): row ``s*A + a`` is ``P[s, a, :]``."""
        return self._P

    @property
    def r(self) -> FloatArray:
        """ndarray, shape (S, A): rewards ``r(s, a)``."""
        return self._r

    @property
    def p0(self) -> FloatArray:
        """ndarray, shape (S,): initial state distribution."""
        return self._p0

    @property
    def reward_scale(self) -> float:
        """float: ``max |r(s, a)|`` over allowed actions (those with ``r > -inf``)."""
        return self._reward_scale

    @property
    def horizon(self) -> int | None:
        """int or None: number of decisions ``T``; None means infinite."""
        return self._horizon

    @property
    def gamma(self) -> float:
        """float: discount ``γ``."""
        return self._gamma

    @property
    def n_states(self) -> int:
        """int: number of states ``S``."""
        return self._n_states

    @property
    def n_actions(self) -> int:
        """int: number of actions ``A``."""
        return self._n_actions

    def kernel_arrays(self) -> tuple[UIntArray, UIntArray, FloatArray]:
        """Return ``(indptr, indices, data)`` of P as the kernels want them.

        The index arrays are unsigned views (no copy) because numba skips the
        negative-index wraparound check for unsigned integers, which makes the
        CSR matvec about 1.8x faster (measured at 10^6 states: 63 ms vs 35 ms).
        """
        P = self._P
        unsigned = {np.dtype(np.int32): np.uint32, np.dtype(np.int64): np.uint64}
        return (P.indptr.view(unsigned[P.indptr.dtype]),
                P.indices.view(unsigned[P.indices.dtype]),
                P.data)

    def transition_tensor(self) -> FloatArray:
        """Return P as a dense array, shape (S, A, S); for small MDPs only."""
        S, A = self._n_states, self._n_actions
        return self._P.toarray().reshape(S, A, S)

    # -- derived MDPs ----------------------------------------------------
    def replace(self, **changes: Any) -> Self:
        """Return a copy with some of ``P, r, p0, horizon, gamma`` replaced.

        What changes is validated as in the constructor, and nothing else: with ``P``
        unchanged, ``P`` and everything a subclass adds (a grid's layout and features,
        which depend only on ``S`` and ``A``) are shared with this MDP, not copied or
        checked again, so swapping the reward costs ``O(S A)``, not ``O(nnz)`` (an IRL
        fit swaps it at every evaluation). A new ``P`` builds the MDP afresh.
        """
        fields = ("P", "r", "p0", "horizon", "gamma")
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"replace() got unknown field(s) {sorted(unknown)}")
        if "P" in changes:
            current = dict(r=self._r, p0=self._p0, horizon=self._horizon, gamma=self._gamma)
            return type(self)(**{**current, **changes}, **self._constructor_extras())
        new = object.__new__(type(self))          # a shallow copy, as copy.copy, but cheaper
        new.__dict__.update(self.__dict__)
        if "r" in changes:
            new._set_reward(changes["r"])
        if "p0" in changes:
            new._set_start(changes["p0"])
        if "horizon" in changes or "gamma" in changes:
            new._set_discounting(changes.get("horizon", self._horizon),
                                 changes.get("gamma", self._gamma))
        return new

    def _constructor_extras(self) -> dict[str, Any]:
        """Keyword arguments a subclass's constructor needs beyond P, r, p0, horizon, gamma."""
        return {}

    def with_death_state(self) -> TabularMDP:
        r"""Return the undiscounted MDP in which ``γ`` becomes a death probability.

        Each step survives with probability ``γ`` and otherwise moves to an
        absorbing extra state ``S`` with zero reward, so the expected
        undiscounted return equals the discounted one (Levine 2018, sec. 2.3).
        The new MDP has ``S + 1`` states and ``gamma = 1``; it is what
        ``mode="exact"`` can reason about. It needs a finite horizon (a ValueError
        for ``horizon=None``, whose undiscounted form has no finite value here).
        """
        if self._horizon is None:
            raise ValueError(
                "with_death_state needs a finite horizon, got horizon=None: the undiscounted "
                "MDP it makes has no infinite-horizon form here (mdp.replace(horizon=T) first)")
        S, A, g = self._n_states, self._n_actions, self._gamma
        P = sp.vstack([
            sp.hstack([self._P * g, sp.csr_matrix(np.full((S * A, 1), 1.0 - g))]),
            sp.hstack([sp.csr_matrix((A, S)), sp.csr_matrix(np.ones((A, 1)))]),
        ]).tocsr()
        r = np.vstack([self._r, np.zeros((1, A))])
        p0 = np.append(self._p0, 0.0)
        return TabularMDP(P, r, p0, horizon=self._horizon, gamma=1.0)

    # -- persistence -----------------------------------------------------
    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass registers itself, so that load() gives back what was saved
        # without the core naming any module above it.
        super().__init_subclass__(**kwargs)
        _SAVED_KINDS[_kind_of(cls)] = cls

    def save(self, path: PathLike) -> str:
        """Save to ``path`` as a compressed ``.npz``; :meth:`load` restores it exactly.

        ``.npz`` is appended when ``path`` lacks it (as numpy does), and the same
        ``path`` string works for :meth:`load`.

        Returns
        -------
        str
            The file written.

        Raises
        ------
        ValueError
            Naming ``path`` when it cannot be written (no such folder, no permission).
        """
        path = _npz_path(path)
        P = self._P
        try:
            np.savez_compressed(
                path, indptr=P.indptr, indices=P.indices, data=P.data,
                shape=np.array(P.shape), r=self._r, p0=self._p0,
                horizon=np.array(-1 if self._horizon is None else self._horizon),
                gamma=np.array(self._gamma), kind=np.array(_kind_of(type(self))),
                **self._extra_arrays(),
            )
        except OSError as error:  # a missing folder, no permission, a directory of that name
            raise ValueError(f"path {path!r} cannot be written: "
                             f"{error.strerror or error}") from None
        return path

    def _extra_arrays(self) -> dict[str, Any]:
        """Arrays a subclass adds to the saved file (see GridMDP)."""
        return {}

    @classmethod
    def load(cls, path: PathLike) -> TabularMDP:
        """Load an MDP written by :meth:`save`, as the class it was saved from.

        Parameters
        ----------
        path : str or os.PathLike
            The ``.npz`` file (``.npz`` may be left off, as in :meth:`save`).

        Raises
        ------
        ValueError
            Naming the file (and the key) when it is missing, not a ``.npz`` written
            by :meth:`save`, corrupt, or holds an invalid MDP. A crafted file never
            makes ctrlinf read out of bounds: every index is checked first.
        """
        path = _npz_path(path)
        label = repr(os.fspath(path))
        if not os.path.exists(path):
            raise ValueError(f"{label} does not exist")
        if not os.path.isfile(path):
            raise ValueError(f"{label} is not a file")
        saved = _read_npz(path, label)
        kwargs: dict[str, Any] = dict(
            P=_saved_csr(saved, label),
            r=saved.real("r"), p0=saved.real("p0"),
            horizon=saved.scalar("horizon", integer=True),
            gamma=saved.scalar("gamma", integer=False),
        )
        kwargs["horizon"] = None if kwargs["horizon"] < 0 else kwargs["horizon"]
        target = cls if cls is not TabularMDP else _saved_class(saved, label)
        try:
            return target._from_saved(kwargs, saved)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{label} holds an invalid MDP: {error}") from None

    @classmethod
    def _from_saved(cls, kwargs: dict[str, Any], saved: _SavedArrays) -> TabularMDP:
        return TabularMDP(**kwargs)

    def __repr__(self) -> str:
        T = "inf" if self._horizon is None else self._horizon
        return (f"{type(self).__name__}(n_states={self._n_states}, n_actions={self._n_actions}, "
                f"horizon={T}, gamma={self._gamma:g}, nnz={self._P.nnz})")


def reachable_states(mdp: TabularMDP, action_prior: ArrayLike | None = None) -> BoolArray:
    r"""States that some policy can enter from ``p0``, following only allowed actions.

    An action is allowed in ``s`` when ``r(s, a) > -inf`` (and ``action_prior[s, a] > 0``
    when a prior is given); forbidden actions are never taken, so a state entered only
    through them is unreachable. Finite horizon, per decision time:

    .. math::

        R_0 = \{s : p_0(s) > 0\}, \qquad
        R_{t+1} = \{s' : P(s'|s, a) > 0 \text{ for some } s \in R_t,\ a \text{ allowed in } s\};

    infinite horizon: the union of all ``R_t`` (a breadth-first search, ``O(nnz(P))``).

    Parameters
    ----------
    mdp : TabularMDP
    action_prior : array_like, shape (S, A) or (A,), optional
        As in :func:`ctrlinf.solve`: actions with prior 0 are forbidden too.

    Returns
    -------
    ndarray of bool, shape (T, S), or (S,) for ``horizon=None``

    Examples
    --------
    State 0 may stay (action 0); action 1, forbidden, would lead to state 2:

    >>> import numpy as np, ctrlinf as ci
    >>> P = np.zeros((3, 2, 3)); P[0, 0, 0] = P[0, 1, 2] = 1; P[1:, :, 1] = 1
    >>> mdp = ci.TabularMDP(P, r=[[0, -np.inf], [0, 0], [1, 1]], p0=[1, 0, 0], horizon=None,
    ...                     gamma=0.9)
    >>> reachable_states(mdp).tolist()
    [True, False, False]
    """
    _checks.mdp(mdp)
    S, A = mdp.n_states, mdp.n_actions
    prior = _checks.action_prior(action_prior, S, A)
    allowed = mdp.r > -np.inf
    if prior is not None:
        allowed &= prior > 0
    # (S, S') adjacency: s -> s' when an allowed action moves there with positive probability.
    pick = sp.csr_matrix((allowed.ravel().astype(np.float64),
                          (np.repeat(np.arange(S), A), np.arange(S * A))), shape=(S, S * A))
    step = (pick @ (mdp.P > 0).astype(np.float64)).tocsr()
    step.eliminate_zeros()
    start = mdp.p0 > 0
    if mdp.horizon is None:
        # One extra node S points at every start state; search from it.
        source = sp.csr_matrix((np.ones(int(start.sum())), (np.full(int(start.sum()), S),
                                                            np.flatnonzero(start))),
                               shape=(S + 1, S + 1))
        graph = sp.bmat([[step, None], [None, sp.csr_matrix((1, 1))]], format="csr") + source
        # Imported here: scipy.sparse.csgraph adds ~40 ms to every ``import ctrlinf``.
        from scipy.sparse import csgraph

        order = csgraph.breadth_first_order(graph, S, directed=True, return_predecessors=False)
        reach = np.zeros(S + 1, dtype=bool)
        reach[order] = True
        return reach[:S]
    reach = np.empty((mdp.horizon, S), dtype=bool)
    current = start
    successors = step.T.tocsr()
    for t in range(mdp.horizon):
        reach[t] = current
        current = (successors @ current.astype(np.float64)) > 0
    return reach


def _read_only(array: FloatArray) -> FloatArray:
    """A read-only copy of ``array``."""
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return array


# -- persistence helpers ----------------------------------------------------
#: "module:qualname" -> class, filled by TabularMDP.__init_subclass__.
_SAVED_KINDS: dict[str, type[TabularMDP]] = {}
_REQUIRED_KEYS = ("indptr", "indices", "data", "shape", "r", "p0", "horizon", "gamma")


def _kind_of(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _npz_path(path: PathLike) -> str:
    """``path`` with ``.npz`` appended if missing, as ``numpy.savez`` does."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    return path if str(path).endswith(".npz") else path + ".npz"


class _SavedArrays:
    """The arrays of a saved file, read eagerly, with checked accessors naming file and key."""

    def __init__(self, arrays: dict[str, np.ndarray], label: str) -> None:
        self._arrays = arrays
        self.files = list(arrays)
        self.label = label

    def __getitem__(self, key: str) -> np.ndarray:
        return self._arrays[key]

    def _bad(self, key: str, expected: str) -> ValueError:
        value = self._arrays[key]
        return ValueError(f"{self.label}: key {key!r} holds {value.dtype} array of shape "
                          f"{value.shape}, expected {expected}")

    def real(self, key: str) -> np.ndarray:
        value = self._arrays[key]
        if not (np.issubdtype(value.dtype, np.integer) or np.issubdtype(value.dtype, np.floating)):
            raise self._bad(key, "real numbers")
        return value

    def integers(self, key: str) -> np.ndarray:
        value = self._arrays[key]
        if not np.issubdtype(value.dtype, np.integer) or value.ndim != 1:
            raise self._bad(key, "a 1-d integer array")
        return value

    def typed(self, key: str, kinds: str, ndim: int, expected: str) -> np.ndarray:
        """The array under ``key`` if its dtype kind is in ``kinds`` (numpy's letters:
        ``"b"`` bool, ``"iu"`` integers, ``"f"`` floats, ``"U"`` strings) and it has
        ``ndim`` dimensions; otherwise a ValueError naming file and key."""
        value = self._arrays[key]
        if value.dtype.kind not in kinds or value.ndim != ndim:
            raise self._bad(key, expected)
        return value

    def scalar(self, key: str, integer: bool) -> int | float:
        value = self._arrays[key]
        kinds = (np.integer,) if integer else (np.integer, np.floating)
        if value.shape != () or not any(np.issubdtype(value.dtype, k) for k in kinds):
            raise self._bad(key, "an integer scalar" if integer else "a real scalar")
        return int(value) if integer else float(value)


def _read_npz(path: str, label: str) -> _SavedArrays:
    """Every array of the ``.npz`` at ``path``, or a ValueError saying why it cannot be read."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single .npy array, not a saved TabularMDP")
        with loaded as f:
            arrays = {key: f[key] for key in f.files}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(f"{label} is not a readable .npz file written by "
                         f"TabularMDP.save: {error}") from None
    missing = [key for key in _REQUIRED_KEYS if key not in arrays]
    if missing:
        raise ValueError(f"{label} is not a saved TabularMDP (missing keys {missing})")
    return _SavedArrays(arrays, label)


def _saved_csr(saved: _SavedArrays, label: str) -> CSRMatrix:
    """P from the saved CSR arrays, every index checked before scipy sees them."""
    shape = saved.integers("shape")
    if shape.shape != (2,) or np.any(shape < 1):
        raise ValueError(f"{label}: key 'shape' is {shape.tolist()}, expected (S*A, S) >= 1")
    indptr, indices, data = saved.integers("indptr"), saved.integers("indices"), saved.real("data")
    if data.ndim != 1:
        raise ValueError(f"{label}: key 'data' has shape {data.shape}, expected a 1-d array")
    n_rows, n_cols = (int(n) for n in shape)
    try:
        _checks.csr_structure(indptr, indices, data.shape[0], n_rows, n_cols, name="P")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{label}: {error}") from None
    n = int(indptr[-1])
    return sp.csr_matrix((data[:n], indices[:n], indptr), shape=(n_rows, n_cols))


def _saved_class(saved: _SavedArrays, label: str) -> type[TabularMDP]:
    """The TabularMDP subclass named by the file's ``kind`` key (TabularMDP if absent)."""
    if "kind" not in saved.files:
        return TabularMDP
    stored = saved["kind"]
    if stored.shape != () or stored.dtype.kind != "U":
        raise ValueError(f"{label}: key 'kind' must be a string")
    kind = str(stored)
    if kind == _kind_of(TabularMDP):
        return TabularMDP
    module = kind.partition(":")[0]
    if kind not in _SAVED_KINDS and module.startswith("ctrlinf."):
        # Only ctrlinf's own modules are imported on a file's word.
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    if kind not in _SAVED_KINDS:
        raise ValueError(f"{label} was saved from {kind!r}, which ctrlinf does not know")
    return _SAVED_KINDS[kind]


_checks.register_type("mdp", TabularMDP)
