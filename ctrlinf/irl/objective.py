r"""The IRL objectives and their exact gradients.

For a reward ``r(s, a)`` (temperature 1) and the demos' discounted visitation
``D_E`` (:func:`~ctrlinf.irl.demos.expert_visitation`):

.. math::

    \text{soft (maximum causal entropy IRL, Ziebart 2010):}\quad
        L(r) &= \textstyle\sum_{s,a} D_E(s,a)\, r(s,a) - \sum_s p_0(s)\, V_0(s) \\
    \text{exact (MaxEnt IRL, Ziebart 2008):}\quad
        L(r) &= \textstyle\sum_{s,a} D_E(s,a)\, r(s,a) - \log p(\mathcal{O}_{0:T-1})

with ``V_0`` the soft value (``Q_t = r + γ P V_{t+1}``) and ``log p(O) =
log Σ_s p0(s) exp V_0(s)`` the log-partition function of ``p(τ | O) ∝ p(τ) exp Σ_t r``
(``Q_t = r + log P exp V_{t+1}``). For a linear reward ``r = φ θ`` the first term is
``θ · μ_E``. Both are concave in ``r``, and

.. math:: \frac{\partial L}{\partial r(s, a)} = D_E(s, a) - D_r(s, a), \qquad
          D_r(s, a) = \textstyle\sum_t \gamma^t\, m_t(s, a)

where ``m_t`` is :func:`ctrlinf.marginals`: the occupancy of the soft policy rolled out
from ``p0`` (soft), or the posterior ``p(s_t, a_t | O) ∝ α_t(s) β_t(s, a)`` (exact;
CS285 "MaxEnt IRL algorithm"). The posterior marginal is the exact gradient of the
trajectory likelihood. Ziebart et al. 2008's Algorithm 1 computes a different ``μ``:
it rolls the local action probabilities ``β_t(s, a)/β_t(s)`` forward through the real
``P``, which equals the posterior marginal only for deterministic dynamics (tutorial
11: feature counts (5.18, 0.01) posterior vs (1.64, 0.49) Algorithm 1 on a slippery
grid). For ``horizon=None`` ``ci.marginals`` returns the
*normalised* discounted occupancy ``(1 − γ) Σ_t γ^t d_t``, so ``D_r = m / (1 − γ)``.
The gradient of a parametric reward follows by the chain rule: ``μ_E − μ_θ`` for a
linear one, backpropagation for a network (Wulfmeier et al. 2015).

Soft versus exact. The soft objective is the dual of maximising causal entropy subject
to matching ``μ_E``; with deterministic dynamics and ``p0`` the demos' start
distribution it equals the mean causal log-likelihood ``(1/N) Σ_i Σ_t γ^t log π_t(a_it |
s_it)`` (for ``γ = 1``, the mean of :func:`~ctrlinf.irl.log_likelihood`). With
stochastic dynamics the two differ by the demos' luck, ``Σ_t (E_{s'}[V_{t+1}(s')] −
V_{t+1}(s_{t+1}))``, which has mean zero under the dynamics but not on finite data, so
they agree only in expectation and have different maximisers (tutorial 11). The exact
objective is the trajectory log-likelihood of Ziebart 2008 up to terms free of the
reward; it is optimistic about stochastic dynamics (the posterior also bends the
transitions towards reward) and needs ``γ = 1``.

Identifiability. Demos determine the policy, not the reward. Exactly unchanged are

- a constant added to every ``r(s, a)`` (finite horizon; both objectives: ``θ · μ_E``
  and the log-partition term move by the same ``c Σ_t γ^t``);
- with ``horizon=None`` (soft), potential shaping ``r'(s, a) = r(s, a) + γ Σ_{s'}
  P(s'|s,a) Φ(s') − Φ(s)`` (Ng, Harada & Russell 1999): ``Q' = Q − Φ``, ``V' = V − Φ``,
  the same policy and the same causal likelihood. (A stationary potential is not an
  equivalence for a finite horizon: it changes the last step's policy.)

So compare recovered rewards through their policies (KL, EVD), or after removing
these directions; a feature set that spans a constant leaves that direction of ``θ``
undetermined by the data (only ``l2`` fixes it).

In practice. Set ``p0`` to the demos' start distribution
(:func:`~ctrlinf.irl.start_distribution`): the soft objective compares the demos with
rollouts from ``p0``, and starts no demo covers can make it unbounded. For the same
reason a reward flexible enough to fit every visited state (tabular features, a deep
net) has a finite soft maximiser only if some policy's occupancy from ``p0`` matches
the demos' visitation ``D_E`` (the objective is the dual of that matching problem).
Whether one does depends on the data: under stochastic dynamics the empirical
visitation of finitely many demos is often matched by no policy (then θ runs away
along a direction that keeps improving the fit), but for a finite horizon, where the
policy may change with ``t``, it can be; ``l2`` makes the maximiser finite either way.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ctrlinf.inference import log_evidence
from ctrlinf.inference import marginals
from ctrlinf.inference import solve
from ctrlinf.irl.demos import check_demos
from ctrlinf.irl.demos import expert_visitation
from ctrlinf.mdp import TabularMDP

MODES = ("soft", "exact")

#: Relative Bellman residual at which infinite-horizon value iteration stops inside
#: IRL; the error in V is at most γ tol / (1 − γ) times the value scale, far below
#: finite-difference resolution.
VALUE_ITERATION_TOL = 1e-12


def check_mdp_and_mode(mdp, mode):
    """Raise unless ``mdp`` is a TabularMDP that ``mode`` can do IRL on."""
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a ctrlinf.TabularMDP, got {type(mdp).__name__}")
    if mode not in MODES:
        raise ValueError(f"mode must be 'soft' (maximum causal entropy IRL) or 'exact' "
                         f"(MaxEnt IRL), got {mode!r}")
    if mode == "exact" and mdp.gamma != 1.0:
        raise ValueError(
            f"mode='exact' (MaxEnt IRL, Ziebart 2008) needs gamma=1 and a finite horizon, "
            f"got gamma={mdp.gamma:g}; use mode='soft' (maximum causal entropy IRL) for a "
            "discounted MDP"
        )


def check_features(features, mdp):
    """Return features as a float64 ``(S, K)``/``(S, A, K)`` array or CSR ``(S, K)``, or raise."""
    S, A = mdp.n_states, mdp.n_actions
    if sp.issparse(features):
        if features.ndim != 2 or features.shape[0] != S:
            raise ValueError(f"sparse features have shape {features.shape}, expected "
                             f"(S, K) = ({S}, K)")
        features = sp.csr_matrix(features, dtype=np.float64)
        values = features.data
    else:
        array = np.asarray(features)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                         or array.dtype == np.bool_):
            raise TypeError(f"features must be an array of real numbers, got dtype {array.dtype}")
        if array.ndim not in (2, 3) or array.shape[0] != S or (array.ndim == 3
                                                                and array.shape[1] != A):
            raise ValueError(f"features have shape {array.shape}, expected (S, K) = ({S}, K) "
                             f"or (S, A, K) = ({S}, {A}, K)")
        features = values = np.ascontiguousarray(array, dtype=np.float64)
    if features.shape[-1] == 0:
        raise ValueError("features have K = 0 columns; IRL needs at least one feature")
    if not np.all(np.isfinite(values)):
        dense = features.toarray() if sp.issparse(features) else features
        _raise_not_finite(dense, "features")
    return features


def _raise_not_finite(array, name):
    index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
    raise ValueError(f"{name}[{', '.join(map(str, index))}] is {array[index]}, expected a "
                     "finite number")


def contract(features, grad_sa):
    """``Σ_{s,a} grad_sa(s, a) φ(s, a)``, shape (K,): the chain rule through ``r = φ θ``."""
    if features.ndim == 3:
        return np.einsum("sak,sa->k", features, grad_sa)
    return features.T @ grad_sa.sum(axis=1)


def linear_reward(features, theta, n_actions):
    """``r = φ θ`` as an (S, A) array (state features broadcast over actions)."""
    reward = features @ theta
    if reward.ndim == 1:
        reward = np.repeat(reward[:, None], n_actions, axis=1)
    return reward


def value_iteration_tol(mdp):
    """``ci.solve``'s (absolute) tolerance for ``mdp``: VALUE_ITERATION_TOL times the value scale.

    Values reach ``max|r| / (1 − γ)``; an absolute 1e-12 is below the rounding of
    values of 1e4 and would run value iteration to ``max_iter``.
    """
    scale = 1.0 if mdp.horizon is not None else max(1.0, np.abs(mdp.r).max() / (1 - mdp.gamma))
    return VALUE_ITERATION_TOL * scale


def model_visitation(mdp, sol):
    r"""The model's discounted visitation ``D(s, a) = Σ_t γ^t m_t(s, a)``, shape (S, A)."""
    _, state_action = marginals(mdp, sol)
    if mdp.horizon is None:
        return state_action / (1.0 - mdp.gamma)
    return np.tensordot(mdp.gamma ** np.arange(mdp.horizon), state_action, axes=1)


def evaluate(mdp, reward, D_E, mode):
    """Objective value, gradient with respect to ``reward`` (S, A), and the Solution.

    No validation beyond what :meth:`TabularMDP.replace` does to ``reward``.
    """
    mdp_r = mdp.replace(r=reward)
    # keep="all": the marginals read π_t at every t, which keep="V" would recompute.
    sol = solve(mdp_r, mode=mode, keep="all", tol=value_iteration_tol(mdp_r), progress=False)
    if mode == "exact":
        log_partition = log_evidence(mdp_r, sol)
    else:
        V0 = sol.V if mdp.horizon is None else sol.V[0]
        log_partition = float(mdp.p0 @ V0)
    value = float(np.sum(D_E * mdp_r.r)) - log_partition
    return value, D_E - model_visitation(mdp_r, sol), sol


def reward_objective(mdp, reward, demos, mode="soft"):
    r"""The IRL objective of a tabular reward and its gradient ``D_E − D_r``.

    Parameters
    ----------
    mdp : TabularMDP
        Dynamics, ``p0``, horizon and discount; its own reward is ignored.
    reward : array_like, shape (S, A) or (S,)
        The reward ``r(s, a)`` to score (temperature 1).
    demos : Trajectories
        ``N`` demonstrations of length ``mdp.horizon``.
    mode : {"soft", "exact"}
        ``"soft"``: maximum causal entropy IRL; ``"exact"``: MaxEnt IRL (needs γ = 1).

    Returns
    -------
    value : float
        ``Σ D_E r − Σ_s p0 V_0`` (soft) or ``Σ D_E r − log p(O)`` (exact).
    gradient : ndarray, shape (S, A)
        ``D_E(s, a) − D_r(s, a)``, expert minus model discounted visitation.
    """
    check_mdp_and_mode(mdp, mode)
    demos = check_demos(mdp, demos)
    value, grad, _ = evaluate(mdp, reward, expert_visitation(mdp, demos), mode)
    return value, grad


def objective(mdp, features, demos, theta, mode="soft"):
    r"""The linear IRL objective ``L(θ)`` and its exact gradient ``μ_E − μ_θ``.

    .. math::

        L(\theta) = \theta \cdot \mu_E - \textstyle\sum_s p_0(s) V_0(s) \ \text{(soft)},
        \qquad L(\theta) = \theta \cdot \mu_E - \log p(\mathcal{O}_{0:T-1}) \ \text{(exact)}

    with ``r = φ θ``, ``μ_E = (1/N) Σ_i Σ_t γ^t φ(s_it, a_it)`` and
    ``μ_θ = Σ_t γ^t Σ_{s,a} m_t(s, a) φ(s, a)`` from :func:`ctrlinf.marginals`
    (divided by ``1 − γ`` for ``horizon=None``, whose marginals are normalised).
    No sampling: the backward and forward messages are exact. See the module
    docstring for the definitions and the reward equivalences.

    Parameters
    ----------
    mdp : TabularMDP
    features : ndarray, shape (S, K) or (S, A, K), or scipy.sparse (S, K)
        ``φ``; state features broadcast over actions.
    demos : Trajectories
        Demonstrations of length ``mdp.horizon`` (any length if infinite).
    theta : array_like, shape (K,)
    mode : {"soft", "exact"}

    Returns
    -------
    value : float
    gradient : ndarray, shape (K,)

    Examples
    --------
    Two actions in one state, one step; the demos always take action 1:

    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=np.zeros((1, 2)), p0=[1.0], horizon=1)
    >>> phi = np.array([[[0.0], [1.0]]])                  # (S, A, K): "took action 1"
    >>> demos = ci.Trajectories([[0], [0]], [[1], [1]])
    >>> value, grad = ci.irl.objective(mdp, phi, demos, theta=[0.0])
    >>> round(value, 6), grad.round(6).tolist()           # -log 2 and 1 - 1/2
    (-0.693147, [0.5])
    """
    check_mdp_and_mode(mdp, mode)
    features = check_features(features, mdp)
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (features.shape[-1],):
        raise ValueError(f"theta has shape {theta.shape}, expected (K,) = "
                         f"({features.shape[-1]},) to match the features")
    if not np.all(np.isfinite(theta)):
        _raise_not_finite(theta, "theta")
    demos = check_demos(mdp, demos)
    D_E = expert_visitation(mdp, demos)
    value, grad_r, _ = evaluate(mdp, linear_reward(features, theta, mdp.n_actions), D_E, mode)
    return value, contract(features, grad_r)
