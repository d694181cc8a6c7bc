r"""The IRL objectives and their exact gradients.

For a reward ``r(s, a)`` (temperature 1) and the demos' discounted visitation
``D_E`` (:func:`~ctrlinf.irl.demos.expert_visitation`):

.. math::

    \text{soft (maximum causal entropy IRL, Ziebart 2010; finite horizon):}\quad
        L(r) &= \textstyle\sum_{s,a} D_E(s,a)\, r(s,a) - \sum_s p_0(s)\, V_0(s) \\
    \text{exact (MaxEnt IRL, Ziebart 2008):}\quad
        L(r) &= \textstyle\sum_{s,a} D_E(s,a)\, r(s,a) - \log p(\mathcal{O}_{0:T-1})

with ``V_0`` the soft value (``Q_t = r + γ P V_{t+1}``) and ``log p(O) =
log Σ_s p0(s) exp V_0(s)`` the log-partition function of ``p(τ | O) ∝ p(τ) exp Σ_t r``
(``Q_t = r + log P exp V_{t+1}``). For a linear reward ``r = φ θ`` the first term is
``θ · μ_E``. Both (finite horizon) are concave in ``r``, and

.. math:: \frac{\partial L}{\partial r(s, a)} = D_E(s, a) - D_r(s, a), \qquad
          D_r(s, a) = \textstyle\sum_t \gamma^t\, m_t(s, a)

where ``m_t`` is :func:`ctrlinf.marginals`: the occupancy of the soft policy rolled out
from ``p0`` (soft), or the posterior ``p(s_t, a_t | O) ∝ α_t(s) β_t(s, a)`` (exact;
CS285 "MaxEnt IRL algorithm"). The posterior marginal is the exact gradient of the
trajectory likelihood. Ziebart et al. 2008's Algorithm 1 computes a different ``μ``:
it rolls the local action probabilities ``β_t(s, a)/β_t(s)`` forward through the real
``P``, which equals the posterior marginal only for deterministic dynamics (tutorial
11: feature counts (5.18, 0.01) posterior vs (1.64, 0.49) Algorithm 1 on a slippery
grid). The gradient of a parametric reward follows by the chain rule: ``μ_E − μ_θ`` for
a linear one, backpropagation for a network (Wulfmeier et al. 2015).

Infinite horizon (``horizon=None``, soft). Demos of length ``L`` are prefixes of
endless episodes: ``D_E`` sums to ``(1 − γ^L)/(1 − γ)``, the model's occupancy from
``p0`` to ``1/(1 − γ)``. Compared as they are, every constant reward ``c`` changes
``L`` by ``−c γ^L/(1 − γ)``, so a feature set that spans a constant sends ``θ`` to
infinity. ctrlinf therefore maximises the demos' mean discounted causal
log-likelihood, which puts both on the same footing:

.. math::

    L(r) = \frac{1}{N}\sum_{i=1}^{N}\sum_{t=0}^{L-1} \gamma^t \log\pi_r(a_{it} \mid s_{it})
         = \textstyle\sum_{s,a} D_E(s,a)\, r(s,a) - \sum_s \hat\rho(s)\, V(s), \qquad
    \hat\rho(s) = \sum_a D_E(s,a) - \gamma \sum_{s',a'} P(s \mid s',a')\, D_E(s',a'),

exactly, for any dynamics (``log π_r = Q − V`` with ``Q = r + γ P V``; sum by parts).
Written out over the demos,

.. math::

    \hat\rho = \hat p_0 - \gamma^L \hat P_L
        + \frac{1}{N}\sum_{i=1}^{N}\sum_{t=1}^{L-1} \gamma^t
          \big(\delta_{s_{it}} - P(\cdot \mid s_{i,t-1}, a_{i,t-1})\big),

with ``p̂0`` the demos' start distribution and ``P̂_L = (1/N) Σ_i P(· | s_{i,L−1},
a_{i,L−1})`` the model's distribution of the first state no demo shows. The last sum
is the demos' transition luck, where each observed successor differs from its
expectation: it is zero for deterministic dynamics and zero in expectation, but not
on finite data, and it shrinks only as ``1/√N``. ``ρ̂`` sums to ``1 − γ^L``; for a
full occupancy from ``p0`` it would be ``p0``; for demos of the model itself its
expectation is ``p0 − γ^L d_L``.

This is not maximum causal entropy IRL. The finite-horizon soft objective below
(``θ · μ_E − Σ p0 V_0``, the dual of maximum causal entropy) with ``p0 = p̂0`` tends,
as its horizon grows, to ``θ · μ_E − p̂0 · V``; ``L`` above subtracts ``ρ̂ · V``
instead, so on stochastic dynamics the two differ by the luck term times ``V`` (and
so do their gradients and maximisers), however long the horizon; they agree (up to
``γ^L`` terms) for deterministic dynamics. The gradient of ``L`` is

.. math:: \frac{\partial L}{\partial r(s, a)} = D_E(s, a) - D^{\hat\rho}_r(s, a), \qquad
          D^{\hat\rho}_r = \textstyle\sum_{t \ge 0} \gamma^t d_t \ \text{from}\ d_0 = \hat\rho

(one sparse solve ``(I − γ P_π^T) d = ρ̂``, then ``d(s) π(a|s)``). Both sides sum to
``(1 − γ^L)/(1 − γ)``. In expectation over demos of the model itself ``D^ρ̂`` is the
model's occupancy of the first ``L`` steps, ``Σ_{t<L} γ^t d_t = D^{p0} − γ^L D^{d_L}``.
(Reading ``d_L`` from the model instead gives a field ``D_E − Σ_{t<L} γ^t d_t`` that
is the gradient of no function: its Jacobian is not symmetric.) ``mdp.p0`` enters
neither the value nor the gradient: the demos' own states are the starts. It is read
only to refuse demos that start where ``p0 = 0`` (:func:`~ctrlinf.irl.demos.check_demos`),
as everywhere in ``ci.irl``. The price: ``−ρ̂ · V`` is convex where ``ρ̂ < 0`` (the
value after the last step counts in the demos' favour), so this ``L`` is not concave.
Yet it depends on ``r`` only through the policy, ``L = ℓ(π_r)`` with ``ℓ(π) = Σ_{s,a}
D_E(s, a) log π(a|s)``, and ``r ↦ (π_r, V_r)`` is a diffeomorphism of all rewards onto
(policies with every ``π(a|s) > 0``) × (all ``V``): smooth, with the smooth inverse
``r = log π + V − γ P V``. So with one indicator feature per state-action pair (``θ =
r``) a stationary point of ``L`` is a stationary point of ``ℓ`` over policies, and
every one is the global maximum: discounted behaviour cloning,

.. math:: \pi(a \mid s) = \frac{D_E(s, a)}{\sum_b D_E(s, b)}

wherever the demos go (a map that is only one-to-one would not do: ``x ↦ x³`` has a
stationary point that is no extremum). Where the demos never show an action this
maximum is approached as its ``θ`` goes to ``−∞``, not attained.

Demos of different lengths (``Trajectories(..., lengths=L)``, finite horizon). A demo
truncated after ``L_i < T`` steps contributes the log-probability of what was seen,
summed over every continuation: ``Σ_{t<L−1} γ^t r + γ^{L−1} Q_{L−1}(s_{L−1}, a_{L−1})``
in place of ``Σ_{t<T} γ^t r`` (exact mode: ``log p(τ_{0:L−1} | O)`` up to terms free of
the reward, Levine 2018 sec. 2; soft mode: the same with the soft ``Q``). Its gradient
adds the model's visitation of the unseen steps, continued from each demo's last pair
(:func:`continuation`), so both sides keep the same mass. An episode that *terminated*
in an absorbing state is data to the end: pad it with that state
(:func:`~ctrlinf.irl.pad_episodes`). With ``horizon=None`` the log-likelihood above
already covers prefixes of any length.

Soft versus exact (finite horizon). The soft objective is the dual of maximising causal
entropy subject to matching ``μ_E``; with deterministic dynamics and ``p0`` the demos' start
distribution it equals the mean causal log-likelihood ``(1/N) Σ_i Σ_t γ^t log π_t(a_it |
s_it)`` (for ``γ = 1``, the mean of :func:`~ctrlinf.irl.log_likelihood`). With
stochastic dynamics the two differ by the demos' luck, ``Σ_t γ^{t+1} (E_{s'}[V_{t+1}(s')]
− V_{t+1}(s_{t+1}))``, which has mean zero under the dynamics but not on finite data, so
they agree only in expectation and have different maximisers (tutorial 11). The exact
objective is the trajectory log-likelihood of Ziebart 2008 up to terms free of the
reward; it is optimistic about stochastic dynamics (the posterior also bends the
transitions towards reward) and needs ``γ = 1``.

Identifiability. Demos determine the policy, not the reward. Exactly unchanged are

- a constant added to every ``r(s, a)`` (both objectives: for a finite horizon
  ``θ · μ_E`` and the log-partition term move by the same ``c Σ_t γ^t``; with
  ``horizon=None`` ``D_E`` and ``D^ρ̂`` have the same mass);
- with ``horizon=None`` (soft), potential shaping ``r'(s, a) = r(s, a) + γ Σ_{s'}
  P(s'|s,a) Φ(s') − Φ(s)`` (Ng, Harada & Russell 1999): ``Q' = Q − Φ``, ``V' = V − Φ``,
  the same policy and so the same objective. (A stationary potential is not an
  equivalence for a finite horizon: it changes the last step's policy.)

So compare recovered rewards through their policies (KL, EVD), or after removing
these directions. Along a direction of ``θ`` that only makes such a change (a
feature set that spans a constant) the objective is flat and its gradient exactly
zero, so the data do not decide it: ``l2 > 0`` sets it to zero (the penalised
optimum has ``l2 θ = μ_E − μ_θ``, orthogonal to it), and with ``l2 = 0`` L-BFGS
and plain gradient ascent leave it where it started (each step combines
gradients).

In practice (the advice on ``p0`` and ``l2`` below is for a finite horizon: with
``horizon=None`` the soft objective reads the starts from the demos, and with one
indicator feature per state-action pair it has a finite maximiser under any
dynamics once the demos show every action of every state they visit). Set ``p0``
to the demos' start distribution
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

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from ctrlinf import _checks
from ctrlinf.inference import discount_sum
from ctrlinf.inference import discounted_occupancy
from ctrlinf.inference import log_evidence
from ctrlinf.inference import marginals
from ctrlinf.inference import solve
from ctrlinf.irl.demos import expert_occupancy

if TYPE_CHECKING:
    from ctrlinf._typing import ArrayLike, ArrayOrSparse, FloatArray
    from ctrlinf.mdp import TabularMDP
    from ctrlinf.trajectories import Trajectories

MODES = ("soft", "exact")

#: Relative Bellman residual at which infinite-horizon value iteration stops inside
#: IRL; the error in V is at most γ tol / (1 − γ) times the value scale, far below
#: finite-difference resolution.
VALUE_ITERATION_TOL = 1e-12


def check_mdp_and_mode(mdp, mode):
    """Raise unless ``mdp`` is a TabularMDP that ``mode`` can do IRL on."""
    _checks.mdp(mdp)
    if not isinstance(mode, str):
        _checks.choice(mode, "mode", MODES)  # a TypeError naming mode
    if mode not in MODES:
        raise ValueError(f"mode must be 'soft' (maximum causal entropy IRL) or 'exact' "
                         f"(MaxEnt IRL), got {mode!r}")
    if mode == "exact" and mdp.gamma != 1.0:
        raise ValueError(
            f"mode='exact' (MaxEnt IRL, Ziebart 2008) needs gamma=1 and a finite horizon, "
            f"got gamma={mdp.gamma:g}; use mode='soft' (maximum causal entropy IRL) for a "
            "discounted MDP"
        )


def contract(features, grad_sa):
    """``Σ_{s,a} grad_sa(s, a) φ(s, a)``, shape (K,): the chain rule through ``r = φ θ``."""
    if features.ndim == 3:
        return np.einsum("sak,sa->k", features, grad_sa)
    return features.T @ grad_sa.sum(axis=1)


def linear_reward(features, theta, n_actions):
    """``r = φ θ`` as an (S, A) array (state features broadcast over actions)."""
    reward = features @ theta
    if reward.ndim == 1:
        reward = reward[:, None].repeat(n_actions, axis=1)
    return reward


def forbidden(mdp):
    """Bool (S, A): where ``mdp.r`` is ``-inf``, i.e. the actions the MDP forbids."""
    return mdp.r == -np.inf


def masked_reward(mdp, reward):
    r"""``reward`` as (S, A) with ``mdp``'s forbidden actions kept forbidden.

    The learner's reward (``φ θ``, a network) knows nothing of the mask, so IRL uses
    ``reward(s, a)`` where ``mdp.r(s, a)`` is finite and ``-inf`` where it is ``-inf``.
    """
    reward = np.asarray(reward, dtype=np.float64)
    if reward.ndim == 1:
        reward = np.repeat(reward[:, None], mdp.n_actions, axis=1)
    mask = forbidden(mdp)
    if reward.shape != mask.shape or not mask.any():
        return reward          # a wrong shape is TabularMDP.replace's to report
    return np.where(mask, -np.inf, reward)


def check_reward(mdp, reward, name="reward"):
    """Return a given reward as (S, A) with ``mdp``'s mask (:func:`masked_reward`), or raise.

    The reward must be finite wherever ``mdp.r`` is: forbidding an action is the
    MDP's business (``mdp.r = -inf``), not the scored reward's.
    """
    reward = masked_reward(mdp, _checks.rewards(reward, mdp.n_states, mdp.n_actions, name))
    bad = ~np.isfinite(reward) & ~forbidden(mdp)
    if bad.any():
        s, a = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}[{s}, {a}] is {reward[s, a]}, expected a finite number "
                         "(forbid an action with mdp.r[s, a] = -inf)")
    return reward


def value_iteration_tol(mdp):
    """``ci.solve``'s (absolute) tolerance for ``mdp``: VALUE_ITERATION_TOL times the value scale.

    Values reach ``max|r| / (1 − γ)`` (over the allowed actions); an absolute 1e-12
    is below the rounding of values of 1e4 and would run value iteration to ``max_iter``.
    """
    if mdp.horizon is not None:
        return VALUE_ITERATION_TOL
    return VALUE_ITERATION_TOL * max(1.0, mdp.reward_scale / (1 - mdp.gamma))


def model_visitation(mdp, sol):
    r"""The model's discounted visitation ``D(s, a) = Σ_t γ^t m_t(s, a)``, shape (S, A).

    From ``p0`` over the whole horizon; for ``horizon=None`` that is ``1/(1 − γ)``
    times the normalised occupancy of :func:`ctrlinf.marginals`.
    """
    return discount_sum(mdp, marginals(mdp, sol)[1])


def demo_start_measure(mdp, D_E):
    r"""Where the demos' visitation enters minus where it leaves, ``ρ̂``, shape (S,).

    .. math:: \hat\rho(s) = \sum_a D_E(s, a) - \gamma \sum_{s', a'} P(s \mid s', a')\, D_E(s', a')

    The Bellman flow residual of ``D_E``: ``p0`` for a whole occupancy from ``p0``.
    For ``N`` demos of length ``L`` it is ``p̂0 − γ^L P̂_L`` plus their transition
    luck ``(1/N) Σ_i Σ_{1≤t<L} γ^t (δ_{s_it} − P(·|s_{i,t−1}, a_{i,t−1}))`` (module
    docstring), sums to ``1 − γ^L`` and, over demos of a policy with step-``L``
    distribution ``d_L``, averages ``p0 − γ^L d_L``. A signed measure: the
    infinite-horizon soft objective is ``Σ D_E r − ρ̂ · V``.
    """
    return D_E.sum(axis=1) - mdp.gamma * (mdp.P.T @ D_E.ravel())


def continuation_rows(mdp):
    """The row ``s A + a`` of every stored entry of ``mdp.P`` (nnz,), for :func:`continuation`."""
    return np.repeat(np.arange(mdp.n_states * mdp.n_actions), np.diff(mdp.P.indptr))


def continuation(mdp, sol, ends, mode, rows=None):
    r"""What the unobserved steps of truncated demos add: value and visitation (S, A).

    A demo truncated after ``L < T`` steps is scored by marginalising the steps it
    did not show: its term is ``Σ_{t<L−1} γ^t r(s_t, a_t) + γ^{L−1} Q_{L−1}(s_{L−1},
    a_{L−1})`` instead of ``Σ_{t<T} γ^t r``, i.e. ``D_E · r`` plus
    ``Σ_t Σ_{s,a} E_t(s, a) (Q_t(s, a) − r(s, a))`` with ``E`` from
    :func:`~ctrlinf.irl.demos.truncated_ends`. In exact mode that is the log of the
    prefix's probability under ``p(τ | O)`` (``Q_t − r = log Σ_{s'} P e^{V_{t+1}}``
    sums over every continuation); in soft mode the expected soft value of the rest.
    Its gradient is the model's visitation after the ends: ``Y_{t+1}(s') = γ Σ_{s,a}
    (E_t + X_t)(s, a) P̃_t(s' | s, a)``, ``X_t = Y_t π_t``, returned as ``Σ_t X_t``,
    with ``P̃ = P`` (soft) or the posterior dynamics ``P e^{V_{t+1}} / e^{Q_t − r}``
    (exact). ``rows`` is :func:`continuation_rows` of ``mdp``, if already at hand.
    """
    S, A, T = mdp.n_states, mdp.n_actions, mdp.horizon
    P = mdp.P
    if rows is None:
        rows = continuation_rows(mdp)
    starts = P.indptr[:-1]           # every row of P sums to one, so none is empty
    value = 0.0
    X = np.zeros((S, A))
    visitation = np.zeros((S, A))
    for t in range(T - 1):
        if mode == "exact":
            # Q_t − r = log Σ_{s'} P e^{V_{t+1}}, and the posterior dynamics
            # P e^{V_{t+1}} / Σ P e^{V_{t+1}}, shifted by each row's largest V_{t+1}(s'):
            # every exponent is <= 0, so nothing overflows at any reward scale. (Q_t − r
            # by subtraction cancels catastrophically when r is huge.)
            exponent = sol.V[t + 1][P.indices]
            shift = np.maximum.reduceat(exponent, starts)
            weights = P.data * np.exp(exponent - shift[rows])
            total = np.add.reduceat(weights, starts)
            gap = shift + np.log(total)
            step = sp.csr_matrix((weights / total[rows], P.indices, P.indptr), shape=P.shape)
        else:
            gap = mdp.gamma * (P @ sol.V[t + 1])            # Q_t − r, soft
            step = P
        value += float(ends[t].ravel() @ gap)
        source = (ends[t] + X).ravel()
        Y = mdp.gamma * (step.T @ source)
        X = Y[:, None] * sol.policy[t + 1]
        visitation += X
    return value, visitation


class Problem:
    r"""One IRL problem, prepared once for many evaluations of its objective.

    Everything that does not change with the reward is computed here, from checked
    data, and shared by every :meth:`evaluate`: the MDP (its validated ``P`` and
    ``p0``), the mask of forbidden actions, the demos' visitation ``D_E`` and
    truncated ends, the discounts ``γ^t``, and for ``horizon=None`` the start
    measure ``ρ̂`` (:func:`demo_start_measure`). Each public function checks its
    arguments once and evaluates through a Problem; :func:`~ctrlinf.irl.fit` and
    :func:`~ctrlinf.irl.fit_deep` build one for the whole fit.

    Parameters
    ----------
    mdp : TabularMDP
        Passed :func:`check_mdp_and_mode` with ``mode``.
    D_E : ndarray, shape (S, A)
        The demos' visitation, and ``ends`` (T, S, A) or None their truncated ends,
        from :func:`~ctrlinf.irl.demos.expert_occupancy`.
    mode : {"soft", "exact"}
    ends : ndarray, shape (T, S, A), or None
    """

    def __init__(self, mdp, D_E, mode, ends=None):
        self.mdp, self.D_E, self.mode, self.ends = mdp, D_E, mode, ends
        mask = forbidden(mdp)
        self._mask = mask if mask.any() else None
        self._allowed = None if self._mask is None else ~mask
        # Σ D_E r runs over the allowed pairs: D_E is 0 where r = -inf (checked demos).
        self._D_E_allowed = D_E if self._allowed is None else D_E[self._allowed]
        if mdp.horizon is None:
            self._discounts = None
            self._start = demo_start_measure(mdp, D_E)          # soft: the only mode here
        else:
            self._discounts = mdp.gamma ** np.arange(mdp.horizon)
            self._start = None
        self._rows = None if ends is None else continuation_rows(mdp)

    def reward_mdp(self, reward, culprit=None):
        """``mdp`` with ``reward`` (S, A) and ``mdp``'s mask, ready to solve, or a ValueError.

        Refuses a reward that is not finite where ``mdp.r`` is, or whose values would
        leave the float64 range (:func:`ctrlinf._checks.value_range`); ``culprit`` (a
        string such as ``"theta ..."``, or a function returning one), if given, opens the
        message: the argument the reward came from.
        """
        mdp = self.mdp
        if self._mask is not None:
            reward = np.where(self._mask, -np.inf, reward)
        try:
            # One reduction proves every allowed reward finite (a NaN or an infinity makes
            # the maximum not finite): replace reads -inf as a mask, so it cannot tell.
            magnitude = np.abs(reward)
            scale = float(magnitude.max() if self._allowed is None else
                          magnitude.max(where=self._allowed, initial=0.0))
            if reward.shape == (mdp.n_states, mdp.n_actions) and math.isfinite(scale):
                mdp_r = mdp.replace(r=reward)      # checks only r; P, p0, a layout shared
            else:
                mdp_r = self._refuse(reward)
            _checks.value_range(mdp_r, 1.0, self.mode)
        except ValueError as error:
            if culprit is None:
                raise
            culprit = culprit() if callable(culprit) else culprit
            raise ValueError(f"{culprit}: {error}") from None
        return mdp_r

    def _refuse(self, reward):
        """``TabularMDP.replace``'s checks of a reward that is not finite: raise naming it."""
        mdp_r = self.mdp.replace(r=masked_reward(self.mdp, reward))   # NaN, +inf, shape
        bad = np.isneginf(mdp_r.r) & ~forbidden(self.mdp)  # replace reads -inf as a mask
        if bad.any():
            s, a = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"r[{s}, {a}] is -inf where mdp.r allows the action, expected "
                             "a finite number")
        return mdp_r

    def model_visitation(self, mdp_r, sol):
        """:func:`model_visitation`, with the discounts computed once."""
        return discount_sum(mdp_r, marginals(mdp_r, sol)[1], self._discounts)

    def evaluate(self, reward, culprit=None):
        """Objective value, gradient with respect to ``reward`` (S, A), and the Solution.

        ``reward`` gets ``mdp``'s mask; forbidden pairs have ``D_E = 0`` (checked demos)
        and model visitation 0, so they add nothing to the value and their gradient is 0.
        No validation beyond :meth:`reward_mdp` (whose error names ``culprit``). Truncated
        demos (``ends``) add their marginalised steps (:func:`continuation`).
        """
        mdp_r = self.reward_mdp(reward, culprit)
        # keep="all": the marginals read π_t at every t, which keep="V" would recompute.
        sol = solve(mdp_r, mode=self.mode, keep="all", tol=value_iteration_tol(mdp_r),
                    progress=False)
        if self.mode == "exact":
            normaliser = log_evidence(mdp_r, sol)
            D_model = self.model_visitation(mdp_r, sol)
        elif self._start is not None:
            # horizon=None: the demos' log-likelihood Σ D_E r − ρ̂·V, with its gradient
            # D_E − D^ρ̂ (module docstring): same mass on both sides, whatever the demo length.
            normaliser = float(self._start @ sol.V)
            occupancy = discounted_occupancy(self.mdp, sol.policy, self._start)
            D_model = occupancy[:, None] * sol.policy
        else:
            normaliser = float(mdp_r.p0 @ sol.V[0])
            D_model = self.model_visitation(mdp_r, sol)
        r = mdp_r.r if self._allowed is None else mdp_r.r[self._allowed]
        value = float((self._D_E_allowed * r).sum()) - normaliser
        if self.ends is not None:
            extra_value, extra_visitation = continuation(mdp_r, sol, self.ends, self.mode,
                                                         self._rows)
            return value + extra_value, self.D_E + extra_visitation - D_model, sol
        return value, self.D_E - D_model, sol


def reward_objective(mdp: TabularMDP, reward: ArrayLike, demos: Trajectories | ArrayLike,
                     mode: Literal["soft", "exact"] = "soft") -> tuple[float, FloatArray]:
    r"""The IRL objective of a tabular reward and its gradient ``D_E − D_r``.

    Parameters
    ----------
    mdp : TabularMDP
        Dynamics, ``p0``, horizon and discount; its own reward is ignored except
        where it is ``-inf`` (forbidden actions stay forbidden).
    reward : array_like, shape (S, A) or (S,)
        The reward ``r(s, a)`` to score (temperature 1); finite where ``mdp.r`` is.
    demos : Trajectories or ndarray, shape (S, A)
        ``N`` demonstrations of length ``mdp.horizon``, or the expert's discounted
        visitation ``D_E`` itself (:func:`~ctrlinf.irl.demos.expert_occupancy`).
    mode : {"soft", "exact"}
        ``"soft"``: maximum causal entropy IRL (``horizon=None``: the demos' discounted
        causal log-likelihood); ``"exact"``: MaxEnt IRL (needs γ = 1).

    Returns
    -------
    value : float
        ``Σ D_E r − Σ_s p0 V_0`` (soft), ``Σ D_E r − ρ̂ · V`` (soft, ``horizon=None``)
        or ``Σ D_E r − log p(O)`` (exact).
    gradient : ndarray, shape (S, A)
        ``D_E(s, a) − D_r(s, a)``, expert minus model discounted visitation (zero
        where ``mdp.r`` forbids the action).
    """
    check_mdp_and_mode(mdp, mode)
    reward = check_reward(mdp, reward)
    D_E, ends = expert_occupancy(mdp, demos)
    value, grad, _ = Problem(mdp, D_E, mode, ends).evaluate(reward, "reward is too large")
    return value, grad


def objective(mdp: TabularMDP, features: ArrayOrSparse, demos: Trajectories | ArrayLike,
              theta: ArrayLike,
              mode: Literal["soft", "exact"] = "soft") -> tuple[float, FloatArray]:
    r"""The linear IRL objective ``L(θ)`` and its exact gradient ``μ_E − μ_θ``.

    .. math::

        L(\theta) = \theta \cdot \mu_E - \textstyle\sum_s p_0(s) V_0(s) \ \text{(soft)},
        \qquad L(\theta) = \theta \cdot \mu_E - \log p(\mathcal{O}_{0:T-1}) \ \text{(exact)}

    with ``r = φ θ``, ``μ_E = (1/N) Σ_i Σ_t γ^t φ(s_it, a_it)`` and
    ``μ_θ = Σ_t γ^t Σ_{s,a} m_t(s, a) φ(s, a)`` from :func:`ctrlinf.marginals`.
    For ``horizon=None`` (soft) ``p0 · V_0`` becomes ``ρ̂ · V`` and ``μ_θ`` the
    model's discounted occupancy started from ``ρ̂`` (in expectation its occupancy
    of the demos' first ``L`` steps), so that ``L(θ)`` is the demos' mean
    discounted causal log-likelihood, for any dynamics, and both sides have the
    same mass. That is not maximum causal entropy IRL, nor its long-horizon limit
    on stochastic dynamics; with one indicator feature per ``(s, a)`` its maximiser
    is discounted behaviour cloning (module docstring).
    Where ``mdp.r`` is ``-inf`` the reward stays ``-inf`` (a forbidden action).
    No sampling: the backward and forward messages are exact. See the module
    docstring for the definitions and the reward equivalences.

    Parameters
    ----------
    mdp : TabularMDP
    features : ndarray, shape (S, K) or (S, A, K), or scipy.sparse (S, K)
        ``φ``; state features broadcast over actions.
    demos : Trajectories or ndarray, shape (S, A)
        Demonstrations of length ``mdp.horizon`` (any length if infinite), or the
        expert's discounted visitation ``D_E`` itself, e.g. an expert policy's exact
        :func:`ctrlinf.inference.discounted_visitation`
        (:func:`~ctrlinf.irl.demos.expert_occupancy` says what is accepted).
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
    features = _checks.features(features, mdp.n_states, mdp.n_actions)
    theta = _checks.real_array(theta, "theta")
    if theta.shape != (features.shape[-1],):
        raise ValueError(f"theta has shape {theta.shape}, expected (K,) = "
                         f"({features.shape[-1]},) to match the features")
    _checks.finite(theta, "theta")
    with np.errstate(over="ignore", invalid="ignore"):   # reward_mdp names theta
        reward = linear_reward(features, theta, mdp.n_actions)   # while φ is in the cache
    D_E, ends = expert_occupancy(mdp, demos)

    def culprit():
        return (f"theta (max |theta| = {np.abs(theta).max():.3g}) is too large for these "
                "features: r = features @ theta")

    value, grad_r, _ = Problem(mdp, D_E, mode, ends).evaluate(reward, culprit)
    return value, contract(features, grad_r)
