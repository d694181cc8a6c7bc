"""Benchmark problems built directly with numpy / scipy.sparse.

The benchmarks do not import ``ctrlinf.envs`` so that they measure the
inference code alone and keep working while the environments change. Two
families, both with a seed:

- :func:`gridworld` — a 4-connected ``rows x cols`` grid with 5 actions
  (stay, up, down, left, right). With probability ``1 - slip`` the intended
  move happens; with probability ``slip`` a uniformly random one of the 5
  moves happens instead. A move off the grid leaves the agent in place.
  Each row of ``P`` has at most 5 non-zeros, so ``nnz <= 5 * S * A``.
- :func:`dense_random` — ``P[s, a, :]`` drawn from a flat Dirichlet, so every
  entry is non-zero (the worst case for a CSR kernel).
"""
import math

import numpy as np
import scipy.sparse as sp

#: (row, column) offsets of the 5 gridworld actions; action 0 stays.
MOVES = np.array([(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)])


def grid_shape(n_states):
    """``(rows, cols)`` with ``rows * cols == n_states``, as close to square as possible.

    Parameters
    ----------
    n_states : int

    Examples
    --------
    >>> grid_shape(10**4), grid_shape(10**5)
    ((100, 100), (250, 400))
    """
    rows = int(math.isqrt(n_states))
    while n_states % rows:
        rows -= 1
    return rows, n_states // rows


def gridworld_transitions(rows, cols, slip=0.1):
    """Transition matrix of the slippery 4-connected gridworld as CSR ``(S*A, S)``.

    Parameters
    ----------
    rows, cols : int
        Grid shape; state ``s = i * cols + j``.
    slip : float
        Probability that a uniformly random one of the 5 moves replaces the
        intended one (so the intended move has ``1 - slip + slip / 5``).

    Returns
    -------
    scipy.sparse.csr_matrix, shape (S*A, S), A = 5
        Row ``s*A + a`` is ``P[s, a, :]``; duplicate successors (a move into
        a wall lands where "stay" does) are summed.
    """
    n_states, n_actions = rows * cols, len(MOVES)
    i, j = np.divmod(np.arange(n_states), cols)
    # Where each move actually lands from every state, shape (A, S).
    landing = np.empty((n_actions, n_states), dtype=np.int64)
    for m, (di, dj) in enumerate(MOVES):
        ni, nj = i + di, j + dj
        inside = (ni >= 0) & (ni < rows) & (nj >= 0) & (nj < cols)
        landing[m] = np.where(inside, ni * cols + nj, np.arange(n_states))
    # Intended action a, realised move m: probability (1 - slip)[a == m] + slip / A.
    prob = np.full((n_actions, n_actions), slip / n_actions)
    prob[np.diag_indices(n_actions)] += 1.0 - slip
    row_of = np.arange(n_states)[:, None] * n_actions + np.arange(n_actions)[None, :]  # (S, A)
    rows_idx = np.broadcast_to(row_of[:, :, None], (n_states, n_actions, n_actions))
    cols_idx = np.broadcast_to(landing.T[:, None, :], (n_states, n_actions, n_actions))
    data = np.broadcast_to(prob[None, :, :], (n_states, n_actions, n_actions))
    P = sp.coo_matrix((data.ravel(), (rows_idx.ravel(), cols_idx.ravel())),
                      shape=(n_states * n_actions, n_states)).tocsr()
    P.sum_duplicates()
    return P


def gridworld(n_states, slip=0.1, seed=0):
    """Gridworld ``(P, r, p0)`` with ``n_states`` states and random rewards.

    Rewards are standard normal per ``(s, a)``, so no action is special and
    the soft value does not collapse onto a single path; ``p0`` is uniform.

    Returns
    -------
    P : scipy.sparse.csr_matrix, shape (S*5, S)
    r : ndarray, shape (S, 5)
    p0 : ndarray, shape (S,)
    """
    rows, cols = grid_shape(n_states)
    P = gridworld_transitions(rows, cols, slip)
    rng = np.random.default_rng(seed)
    r = rng.standard_normal((n_states, len(MOVES)))
    p0 = np.full(n_states, 1.0 / n_states)
    return P, r, p0


def dense_random(n_states, n_actions=4, seed=0):
    """Dense random MDP ``(P, r, p0)``: every ``P[s, a, :]`` ~ Dirichlet(1, ..., 1).

    Returns
    -------
    P : ndarray, shape (S, A, S)
    r : ndarray, shape (S, A)
    p0 : ndarray, shape (S,)
    """
    rng = np.random.default_rng(seed)
    P = rng.exponential(size=(n_states, n_actions, n_states))
    P /= P.sum(axis=2, keepdims=True)
    r = rng.standard_normal((n_states, n_actions))
    p0 = np.full(n_states, 1.0 / n_states)
    return P, r, p0
