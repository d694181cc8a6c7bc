"""Random finite MDPs for tests and benchmarks (like QuantEcon's ``random_discrete_dp``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from ctrlinf import _checks
from ctrlinf.mdp import TabularMDP

if TYPE_CHECKING:
    from ctrlinf._typing import Seed


def _distinct_successors(rng, n_rows, n_states, k):
    """``k`` distinct states per row, a uniform random subset (Floyd's algorithm), (n_rows, k).

    Vectorised over rows; costs O(n_rows * k**2), meant for small branching.
    """
    chosen = np.empty((n_rows, k), dtype=np.int64)
    for i, j in enumerate(range(n_states - k, n_states)):
        candidate = rng.integers(0, j + 1, size=n_rows)
        taken = (chosen[:, :i] == candidate[:, None]).any(axis=1)
        chosen[:, i] = np.where(taken, j, candidate)
    return chosen


def random_mdp(n_states: int, n_actions: int, branching: int | None = None, seed: Seed = None,
               horizon: int | None = 10, gamma: float = 1.0, reward_scale: float = 1.0,
               sparse: bool | None = None) -> TabularMDP:
    r"""Draw a random MDP: Dirichlet transition rows, Gaussian rewards, Dirichlet ``p0``.

    Each row ``P[s, a, :]`` is drawn from a flat Dirichlet over ``branching``
    distinct successors chosen uniformly at random (over all ``S`` states when
    ``branching`` is None). Rewards are ``r[s, a] = reward_scale * N(0, 1)`` and
    ``p0`` is drawn from a flat Dirichlet over all states.

    Parameters
    ----------
    n_states, n_actions : int
        ``S`` and ``A``, both >= 1.
    branching : int, optional
        Successors per ``(s, a)``, in ``[1, S]``; None gives dense rows.
    seed : int or numpy.random.Generator, optional
        ``numpy.random.default_rng(seed)``; the same seed gives the same MDP.
    horizon : int or None, default 10
        Number of decisions ``T``.
    gamma : float, default 1.0
        Discount ``γ``.
    reward_scale : float, default 1.0
        Standard deviation of the rewards (reward units), in [0, 1e298] (so that the
        rewards stay far inside the float64 range).
    sparse : bool, optional
        How ``P`` is handed to :class:`~ctrlinf.TabularMDP`: True as a scipy CSR
        matrix ``(S*A, S)``, False as a dense ``(S, A, S)`` array. Default: sparse
        exactly when ``branching`` is given. It does not change the MDP (the same
        seed gives identical arrays), only the input path, so tests can run one
        MDP through both representations.

    Returns
    -------
    TabularMDP

    Examples
    --------
    >>> import ctrlinf as ci
    >>> mdp = ci.envs.random_mdp(100, 4, branching=3, seed=0)
    >>> mdp.n_states, mdp.n_actions, mdp.P.nnz
    (100, 4, 1200)
    >>> dense = ci.envs.random_mdp(100, 4, branching=3, seed=0, sparse=False)
    >>> bool((dense.P != mdp.P).nnz == 0)
    True
    """
    n_states = _checks.positive_int(n_states, "n_states")
    n_actions = _checks.positive_int(n_actions, "n_actions")
    if branching is not None:
        branching = _checks.integer(branching, "branching", low=1, high=n_states)
    # Gaussian draws reach about 6 standard deviations: stay well inside float64.
    reward_scale = _checks.real(reward_scale, "reward_scale", low=0.0,
                                high=_checks.FLOAT_LIMIT / 100)
    sparse = _checks.flag(sparse, "sparse", allow_none=True)
    if sparse is None:
        sparse = branching is not None

    n_rows = n_states * n_actions
    k = n_states if branching is None else branching
    # Probabilities, successor indices and the CSR copy: about 32 bytes an entry.
    _checks.allocation(32 * n_rows * k, "branching" if branching is not None else "n_states",
                       f"P with {n_rows} rows of {k} successors")
    rng = np.random.default_rng(_checks.seed(seed))
    successors = (np.broadcast_to(np.arange(n_states), (n_rows, n_states)) if branching is None
                  else _distinct_successors(rng, n_rows, n_states, k))
    probabilities = rng.dirichlet(np.ones(k), size=n_rows)
    r = reward_scale * rng.standard_normal((n_states, n_actions))
    p0 = rng.dirichlet(np.ones(n_states))

    P = sp.csr_matrix((probabilities.ravel(), successors.ravel(),
                       np.arange(0, n_rows * k + 1, k)), shape=(n_rows, n_states))
    if not sparse:
        P = P.toarray().reshape(n_states, n_actions, n_states)
    return TabularMDP(P, r, p0, horizon=horizon, gamma=gamma)
