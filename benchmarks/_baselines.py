r"""Baselines that ctrlinf's kernels are timed against, written from the math.

All of them compute the same finite-horizon messages as :func:`ctrlinf.solve`
(notation of :mod:`ctrlinf.mdp`; ``Q_{T-1} = r``):

.. math::

    \text{soft: } Q_t = r + \gamma P V_{t+1}, \qquad
    \text{exact: } Q_t = r + \alpha \log P e^{V_{t+1}/\alpha}, \qquad
    V_t = \alpha \log \textstyle\sum_a e^{Q_t/\alpha}

- (a) :func:`scipy_backward` with ``lse=lse_scipy``: scipy CSR ``@`` and
  ``scipy.special.logsumexp``;
- (b) the same with ``lse=lse_max_shift``, a hand-written max-shift
  log-sum-exp in numpy;
- (c) :func:`einsum_partition` + :func:`einsum_occupancy`: dense ``(S, A, S)``
  einsum in the style of the ``imitation`` library's ``mce_partition_fh`` and
  ``mce_occupancy_measures`` (MCE IRL), re-derived here rather than copied;
- (d) :func:`quantecon_backward`: QuantEcon's ``backward_induction`` (hard max,
  scipy / BLAS products and numba row maxima), the reference for ``mode="hard"``.
"""
import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp


def lse_scipy(Q, temperature):
    """``α log Σ_a exp(Q/α)`` row-wise with ``scipy.special.logsumexp``."""
    return temperature * logsumexp(Q / temperature, axis=1)


def lse_max_shift(Q, temperature):
    """``α log Σ_a exp(Q/α)`` row-wise, shifting by the row maximum by hand."""
    m = Q.max(axis=1)
    return m + temperature * np.log(np.exp((Q - m[:, None]) / temperature).sum(axis=1))


def scipy_backward(P, r, horizon, mode="soft", temperature=1.0, gamma=1.0, keep="V",
                   lse=lse_scipy):
    """Finite-horizon soft or exact backward pass with scipy.sparse products.

    Parameters
    ----------
    P : scipy.sparse.csr_matrix, shape (S*A, S)
    r : ndarray, shape (S, A)
    horizon : int
    mode : {"soft", "exact"}
    keep : {"V", "all"}
        ``"all"`` also stores ``Q`` and the policy, shape (T, S, A).
    lse : callable
        ``lse(Q, temperature) -> (S,)``: :func:`lse_scipy` (baseline a) or
        :func:`lse_max_shift` (baseline b).

    Returns
    -------
    V : ndarray, shape (T, S)
    Q, policy : ndarray, shape (T, S, A), or None when ``keep="V"``
    """
    S, A = r.shape
    V = np.empty((horizon, S))
    Q = np.empty((horizon, S, A)) if keep == "all" else None
    policy = np.empty((horizon, S, A)) if keep == "all" else None
    for t in range(horizon - 1, -1, -1):
        if t == horizon - 1:
            Q_t = r
        elif mode == "soft":
            Q_t = r + gamma * (P @ V[t + 1]).reshape(S, A)
        else:  # exact: shift by the largest V so that exp cannot overflow
            shift = V[t + 1].max()
            E = np.exp((V[t + 1] - shift) / temperature)
            Q_t = r + shift + temperature * np.log((P @ E).reshape(S, A))
        V[t] = lse(Q_t, temperature)
        if keep == "all":
            Q[t] = Q_t
            policy[t] = np.exp((Q_t - V[t][:, None]) / temperature)
    return V, Q, policy


def scipy_forward(P, policy, p0):
    """Occupancy ``d_{t+1} = P^T (d_t π_t)`` with scipy's transposed CSR product.

    Parameters
    ----------
    P : scipy.sparse.csr_matrix, shape (S*A, S)
    policy : ndarray, shape (T, S, A)
    p0 : ndarray, shape (S,)

    Returns
    -------
    ndarray, shape (T, S)
    """
    T, S, A = policy.shape
    PT = P.T  # a CSC view, no copy
    d = np.empty((T, S))
    d[0] = p0
    for t in range(T - 1):
        d[t + 1] = PT @ (d[t][:, None] * policy[t]).ravel()
    return d


def einsum_partition(P, r, horizon, gamma=1.0):
    """Soft backward pass on a dense ``P[s, a, s']`` with einsum (baseline c, α = 1).

    Returns
    -------
    V : ndarray, shape (T, S)
    Q : ndarray, shape (T, S, A)
    policy : ndarray, shape (T, S, A)
    """
    S, A = r.shape
    V = np.empty((horizon, S))
    Q = np.empty((horizon, S, A))
    Q[-1] = r
    V[-1] = logsumexp(Q[-1], axis=1)
    for t in range(horizon - 2, -1, -1):
        Q[t] = r + gamma * np.einsum("ias,s->ia", P, V[t + 1])
        V[t] = logsumexp(Q[t], axis=1)
    policy = np.exp(Q - V[:, :, None])
    return V, Q, policy


def einsum_occupancy(P, policy, p0, gamma=1.0):
    """State occupancy of ``policy`` on a dense ``P`` with einsum (baseline c).

    Returns
    -------
    D : ndarray, shape (T, S)
        ``d_t``; ``D[0] = p0``.
    D_total : ndarray, shape (S,)
        ``Σ_t γ^t d_t``, the expected (discounted) visit counts used by MCE IRL.
    """
    T, S, _ = policy.shape
    D = np.empty((T, S))
    D[0] = p0
    for t in range(T - 1):
        D[t + 1] = np.einsum("i,ia,ias->s", D[t], policy[t], P)
    D_total = np.einsum("t,ts->s", gamma ** np.arange(T), D)
    return D, D_total


def quantecon_model(P, r, gamma=1.0):
    """QuantEcon ``DiscreteDP`` for the MDP (built once, outside the timing).

    A sparse ``P`` uses the state-action-pair form (rows ``s*A + a``); a dense
    ``(S, A, S)`` array the product form, whose Bellman step is one BLAS gemv.
    """
    import warnings

    from quantecon.markov import DiscreteDP

    S, A = r.shape
    with warnings.catch_warnings():
        # "infinite horizon solution methods are disabled with beta=1": we only
        # use backward induction.
        warnings.simplefilter("ignore", UserWarning)
        if sp.issparse(P):
            return DiscreteDP(r.ravel(), sp.csr_matrix(P), gamma,
                              np.repeat(np.arange(S), A), np.tile(np.arange(A), S))
        return DiscreteDP(r, P, gamma)


def quantecon_backward(ddp, horizon):
    """QuantEcon's ``backward_induction``: values ``(T+1, S)`` and greedy actions ``(T, S)``."""
    from quantecon.markov import backward_induction

    return backward_induction(ddp, horizon)
