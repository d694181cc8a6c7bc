"""Fitting a linear reward: MaxEnt IRL (exact) and maximum causal entropy IRL (soft).

With ``horizon=None`` the soft fit maximises the demos' discounted causal
log-likelihood instead (:mod:`ctrlinf.irl.objectives`): with one indicator feature
per ``(s, a)`` that gives discounted behaviour cloning, ``π = D_E / Σ_a D_E``.

:func:`fit_model` is the loop :func:`fit` and :func:`~ctrlinf.irl.fit_deep` share: a
reward model maps parameters ``x`` to ``r(s, a)`` and pulls the reward gradient
``D_E − D_r`` back to ``x`` (``φᵀ(D_E − D_r) = μ_E − μ_θ`` for a linear model);
:func:`warn_unconverged` is their one warning about a fit that stopped short.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from ctrlinf import _checks
from ctrlinf._progress import shows_bar
from ctrlinf.irl.demos import expert_occupancy
from ctrlinf.irl.objectives import Problem
from ctrlinf.irl.objectives import check_mdp_and_mode
from ctrlinf.irl.objectives import contract
from ctrlinf.irl.objectives import linear_reward
from ctrlinf.irl.objectives import masked_reward
from ctrlinf.irl.optimize import check_optimizer
from ctrlinf.irl.optimize import maximise

if TYPE_CHECKING:
    from ctrlinf._typing import ArrayLike, ArrayOrSparse, Seed
    from ctrlinf.mdp import TabularMDP
    from ctrlinf.trajectories import Trajectories

#: Standard deviation of the random start of ``fit(..., seed=...)``.
RANDOM_INIT_SCALE = 0.01


@dataclass(frozen=True, repr=False)
class IRLResult:
    """What :func:`fit` and :func:`~ctrlinf.irl.fit_deep` return.

    Attributes
    ----------
    theta : ndarray, shape (K,) or (n_params,)
        The fitted parameters (``θ`` of ``r = φ θ``, or the flat network weights).
    reward : ndarray, shape (S, A)
        The fitted reward on the training features.
    solution : Solution
        ``ci.solve`` of the training MDP under ``reward`` in the fitted ``mode``.
    history : dict of lists
        Per iteration (index 0 is the start): ``"objective"`` (including the L2
        term), ``"grad_norm"`` (``‖∇‖_∞``), ``"evaluations"`` (objective evaluations
        so far; L-BFGS's line search may take several per iteration) and ``"time"``
        (seconds of that iteration; ``np.cumsum`` gives the wall clock).
    converged : bool
        Whether the gradient norm fell to ``gtol`` (with ``gtol=None``: whether the
        budget of ``max_iter`` iterations was run).
    message : str
        Why the optimiser stopped.
    mode : str
    n_iter : int
        Iterations taken.
    n_evaluations : int
        Objective evaluations taken.
    model : LinearModel or NetModel
        Maps ``theta`` to the reward (:meth:`reward_for` uses it).
    net : RewardNet or None
        The network of :func:`~ctrlinf.irl.fit_deep`.

    A frozen dataclass: its fields cannot be rebound (the arrays themselves are not copied).
    """

    model: object
    theta: np.ndarray
    reward: np.ndarray
    solution: object
    history: dict
    converged: bool
    message: str
    mode: str

    @property
    def n_iter(self):
        return len(self.history["objective"]) - 1

    @property
    def n_evaluations(self):
        """Objective evaluations taken (each one backward and one forward pass)."""
        return self.history["evaluations"][-1]

    @property
    def net(self):
        """The :class:`~ctrlinf.irl.RewardNet` of a deep fit (weights ``theta``), or None."""
        return getattr(self.model, "net", None)

    def reward_for(self, features):
        """The fitted reward on other features (e.g. a transfer world).

        Parameters
        ----------
        features : ndarray, shape (S', K) or (S', A, K)
            Same ``K`` (and meaning) as the training features.

        Returns
        -------
        ndarray, shape (S',) or (S', A)
            Per state for state features (``TabularMDP`` broadcasts it), else per
            state-action.
        """
        return self.model.predict(self.theta, features)

    def __repr__(self):
        return (f"IRLResult(mode={self.mode!r}, n_params={self.theta.size}, "
                f"n_iter={self.n_iter}, converged={self.converged}, "
                f"objective={self.history['objective'][-1]:.6g})")


class LinearModel:
    """``r = φ θ``; L2 acts on every component of ``θ``."""

    def __init__(self, features, n_actions):
        self.features = features
        self.n_actions = n_actions
        self.n_params = features.shape[-1]

    def __call__(self, theta):
        """Return the reward (S, A) and the pull-back ``grad_r -> grad_θ``."""
        return (linear_reward(self.features, theta, self.n_actions),
                lambda grad_r: contract(self.features, grad_r))

    def penalty(self, theta):
        """``(‖θ‖² / 2, θ)``."""
        return 0.5 * float(theta @ theta), theta

    def predict(self, theta, features):
        if not sp.issparse(features):
            features = np.asarray(features, dtype=np.float64)
        if features.shape[-1] != self.n_params:
            raise ValueError(f"features have K = {features.shape[-1]} columns, the fit "
                             f"used K = {self.n_params}")
        return features @ theta


def _fit_work(mdp, max_iter):
    """The transitions a fit may touch, max_iter x steps per solve x nnz(P), as ``ci.solve``
    counts one solve's (``progress=None`` shows a bar when this is large)."""
    if mdp.horizon is not None:
        steps = mdp.horizon
    else:  # value-iteration sweeps to reach 1e-12 at rate γ
        steps = math.log(1e-12) / math.log(mdp.gamma)
    return max_iter * steps * mdp.P.nnz


def fit_model(mdp, model, D_E, x0, mode, l2, optimizer, learning_rate, max_iter, gtol,
              progress, desc, ends=None):
    """Maximise ``L(r(x)) − l2 · penalty(x)`` over ``x``; return an :class:`IRLResult`.

    ``D_E`` (S, A) is the demos' discounted visitation and ``ends`` their truncated
    ends (:func:`~ctrlinf.irl.demos.expert_occupancy`), both checked and computed once:
    every evaluation goes through one :class:`~ctrlinf.irl.objectives.Problem`. The
    stored reward carries ``mdp``'s mask (``-inf`` where ``mdp.r`` is ``-inf``).
    """
    check_mdp_and_mode(mdp, mode)
    l2 = _checks.real(l2, "l2", low=0.0)
    optimizer, learning_rate, max_iter, gtol = check_optimizer(optimizer, learning_rate,
                                                               max_iter, gtol)
    progress = _checks.flag(progress, "progress", allow_none=True)
    progress = shows_bar(progress, _fit_work(mdp, max_iter), "transitions")
    problem = Problem(mdp, D_E, mode, ends)

    def penalised(x):
        with np.errstate(over="ignore", invalid="ignore"):   # reward_mdp names features
            reward, pull_back = model(x)

        def culprit():
            size = np.abs(x).max()
            where = f"max |theta| = {size:.3g}" if np.isfinite(size) else "theta not finite"
            return (f"features: the reward left the float range during the fit (at {where}); "
                    "scale the features to O(1), lower learning_rate or raise l2. The reward")

        value, grad_r, sol = problem.evaluate(reward, culprit)
        size, grad_size = model.penalty(x)
        return value - l2 * size, pull_back(grad_r) - l2 * grad_size, (reward, sol)

    x, _, _, (reward, sol), history, converged, message = maximise(
        penalised, x0, optimizer, learning_rate, max_iter, gtol, progress, desc)
    return IRLResult(model, x, masked_reward(mdp, reward), sol, history, converged, message,
                     mode)


#: |θ| above this in an unconverged fit means the optimum is at infinity (warned about).
DIVERGENCE_THETA = 100.0


def warn_unconverged(name, result, max_iter, l2, gtol):
    """Warn about what stopped an unconverged fit: θ running away, or the budget spent.

    L-BFGS also stops "unconverged" at machine precision, which is harmless and
    not warned about; neither is a fixed budget asked for with ``gtol=None``.
    """
    if result.converged:
        return
    size = float(np.abs(result.theta).max())
    if size > DIVERGENCE_THETA:
        if l2 == 0:
            advice = ("with l2=0 the optimum can lie at infinity (few demos, or μ_E on the "
                      "boundary of what any reward can produce); pass l2 > 0, e.g. l2=0.01")
        else:
            advice = f"l2={l2:g} did not hold it; lower learning_rate or raise l2"
        warnings.warn(f"{name}: θ is running away (max |θ| = {size:.3g} after "
                      f"{result.n_iter} iterations); {advice}", RuntimeWarning, stacklevel=3)
    elif result.n_iter >= max_iter:
        warnings.warn(
            f"{name} spent its budget of max_iter={max_iter} iterations with ‖∇‖_∞ = "
            f"{result.history['grad_norm'][-1]:.3g} > gtol={gtol:g} (max |θ| = {size:.3g}); "
            "raise max_iter, or pass gtol=None for a fixed budget", RuntimeWarning,
            stacklevel=3)


def fit(mdp: TabularMDP, features: ArrayOrSparse, demos: Trajectories | ArrayLike,
        mode: Literal["soft", "exact"] = "soft", l2: float = 0.0,
        optimizer: Literal["lbfgs", "adam", "gradient"] = "lbfgs",
        learning_rate: float | None = None, max_iter: int = 1000, gtol: float | None = 1e-6,
        progress: bool | None = None, seed: Seed = None) -> IRLResult:
    r"""Fit a linear reward ``r = φ θ`` to demonstrations by maximum (causal) entropy IRL.

    Maximises ``L(θ) − (l2/2) ‖θ‖²`` with :func:`~ctrlinf.irl.objective` (concave for a
    finite horizon, so the optimum is global; it may lie at infinity when ``l2 = 0``
    and ``μ_E`` is on the boundary of the reachable feature expectations, e.g. with
    few demos). At the optimum the model matches the expert's features:
    ``μ_θ = μ_E − l2 θ``. With ``horizon=None`` (soft) ``L`` is the demos' discounted
    causal log-likelihood, for any dynamics, and ``μ_θ`` the model's occupancy
    started from ``ρ̂``. That is neither maximum causal entropy IRL nor the limit of
    its finite-horizon objective as ``T`` grows: on stochastic dynamics the two
    differ by the demos' transition luck, and so do their maximisers. This ``L`` is
    not concave, but with one indicator feature per state-action pair (and ``l2 = 0``)
    every stationary point is global, and it is discounted behaviour cloning,
    ``π(a|s) = D_E(s, a) / Σ_b D_E(s, b)`` on the states the demos visit (see
    :mod:`ctrlinf.irl.objectives`; tutorial 21).

    ``mode="exact"`` is the MaxEnt IRL likelihood of Ziebart, Maas, Bagnell & Dey 2008
    with its exact gradient (CS285's "MaxEnt IRL algorithm"): backward messages,
    forward messages, ``μ(s_t, a_t) ∝ α_t(s) β_t(s, a)``, gradient ``μ_E − μ_θ``. (The
    paper's Algorithm 1 instead rolls ``β_t(s, a)/β_t(s)`` forward through ``P``; the
    two ``μ`` agree only for deterministic dynamics.) ``mode="soft"`` with a finite
    horizon is maximum causal entropy IRL (Ziebart, Bagnell & Dey 2010): the same
    with the soft backup and the policy's rollout occupancy.

    Parameters
    ----------
    mdp : TabularMDP
        Known dynamics, ``p0``, horizon and discount. Its reward is ignored except
        where it is ``-inf``: those actions stay forbidden (the fitted reward is
        ``-inf`` there too).
    features : ndarray, shape (S, K) or (S, A, K), or scipy.sparse (S, K)
    demos : Trajectories or ndarray, shape (S, A)
        Of length ``mdp.horizon`` (any length if infinite), or the expert's
        discounted visitation ``D_E`` itself (see :func:`~ctrlinf.irl.objective`).
    mode : {"soft", "exact"}
    l2 : float, default 0.0
        Weight of ``‖θ‖² / 2``.
    optimizer : {"lbfgs", "adam", "gradient"}
        scipy's L-BFGS-B on ``−L``, or Adam / plain gradient ascent (for teaching).
    learning_rate : float, optional
        Step size of "adam" and "gradient" (default 0.01); refused by "lbfgs".
    max_iter : int, default 1000
    gtol : float or None, default 1e-6
        Stop when ``‖∇‖_∞ <= gtol``. None runs a fixed budget of ``max_iter``
        iterations and does not warn when it is spent.
    progress : bool or None
        A tqdm bar with the objective and gradient norm; None shows one for long
        fits only (``max_iter`` x steps per solve x ``nnz(P)``, counted as ``ci.solve``
        counts one solve).
    seed : int, optional
        None starts at ``θ = 0``; an int starts at ``N(0, 0.01²)`` draws. The
        fit is deterministic either way.

    Returns
    -------
    IRLResult
        ``theta`` (K,), ``reward`` (S, A), ``solution``, ``history``.

    Notes
    -----
    The data pin down the policy, not the reward: constants (and, for an infinite
    horizon, potential shaping) are invisible, so compare fits by their policies or
    by :func:`~ctrlinf.irl.expected_value_difference` (see :mod:`ctrlinf.irl.objectives`).
    In soft mode with a finite horizon give ``mdp`` the demos' start distribution,
    ``mdp.replace(p0=ci.irl.start_distribution(demos, mdp.n_states))``.

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=np.zeros((1, 2)), p0=[1.0], horizon=1)
    >>> phi = np.array([[[0.0], [1.0]]])
    >>> demos = ci.Trajectories([[0], [0], [0], [0]], [[1], [1], [1], [0]])
    >>> res = ci.irl.fit(mdp, phi, demos, progress=False)
    >>> round(float(res.theta[0]), 4), round(float(np.log(3)), 4)   # π(1) = 3/4
    (1.0986, 1.0986)
    """
    check_mdp_and_mode(mdp, mode)
    features = _checks.features(features, mdp.n_states, mdp.n_actions)
    _checks.feature_scale(features, _checks.effective_steps(mdp))
    model = LinearModel(features, mdp.n_actions)
    if seed is None:
        theta0 = np.zeros(model.n_params)
    else:
        theta0 = RANDOM_INIT_SCALE * np.random.default_rng(_checks.seed(seed)).normal(size=model.n_params)
    name = "MaxEnt IRL (exact)" if mode == "exact" else "MCE IRL (soft)"
    D_E, ends = expert_occupancy(mdp, demos)
    result = fit_model(mdp, model, D_E, theta0, mode, l2, optimizer, learning_rate, max_iter,
                       gtol, progress, name, ends)
    warn_unconverged(name, result, max_iter, l2, gtol)
    return result
