"""The type aliases of ctrlinf's annotations.

Imported only under ``typing.TYPE_CHECKING`` (every module that uses them has
``from __future__ import annotations``), so that ctrlinf never loads this module when it
runs: the annotations are read by type checkers (the package ships ``py.typed``) and by
``help()``, and cost nothing at run time.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Optional, Protocol, TypeVar, Union

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

#: Float64 arrays: every probability, value, reward and message ctrlinf returns.
FloatArray = npt.NDArray[np.float64]
#: Int64 arrays of state and action indices.
IntArray = npt.NDArray[np.int64]
#: Boolean masks (allowed actions, reachable states).
BoolArray = npt.NDArray[np.bool_]
#: Anything numpy turns into an array (lists, tuples, arrays).
ArrayLike = npt.ArrayLike
#: A dense array or a scipy.sparse matrix (``P``, features). scipy has no annotations: to
#: mypy the sparse types are ``Any``; readers see what is meant.
ArrayOrSparse = Union[npt.ArrayLike, sp.spmatrix, sp.sparray]
#: A CSR matrix (``P`` of a TabularMDP, a policy's transitions).
CSRMatrix = sp.csr_matrix
#: The three backups of :func:`ctrlinf.solve`.
Mode = Literal["exact", "soft", "hard"]
#: What a :class:`ctrlinf.Solution` stores.
Keep = Literal["all", "V"]
#: A seed numpy accepts.
Seed = Union[int, np.random.Generator, None]
#: A file system path.
PathLike = Union[str, os.PathLike[str]]
#: Unsigned index arrays (the views of :meth:`ctrlinf.TabularMDP.kernel_arrays`).
UIntArray = npt.NDArray[np.unsignedinteger[Any]]


class HasHistory(Protocol):
    """A result with a learning history (``IRLResult``, ``SoftQResult``, ...)."""

    @property
    def history(self) -> Mapping[str, Any]: ...


#: A learning history: a dict of columns, a list of rows, or a result holding one.
History = Union[Mapping[str, Any], Sequence[Mapping[str, Any]], HasHistory]

#: A step size: a constant, or ``fraction_done -> rate``; None for the default schedule.
LearningRate = Union[float, Callable[[float], float], None]

_Result = TypeVar("_Result")
#: ``callback(step, result) -> dict or None`` of a learning run: called at every log with a
#: snapshot of the result; the scalars it returns join the history.
LogCallback = Callable[[int, _Result], Optional[Mapping[str, float]]]
