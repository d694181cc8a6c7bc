r"""Deep MaxEnt IRL (Wulfmeier, Ondruska & Posner 2015): the reward is a small MLP of the features.

The IRL objective depends on the network weights ``w`` only through the tabular
reward ``r_w(s, a)``, and its gradient with respect to that reward is exact and
cheap, ``∂L/∂r(s, a) = D_E(s, a) − D_r(s, a)`` (expert minus model discounted
visitation, :mod:`ctrlinf.irl.objectives`). So

.. math:: \nabla_w L = \sum_{s,a} \big(D_E(s,a) - D_r(s,a)\big)\, \nabla_w r_w(s, a),

one backpropagation through the network with ``D_E − D_r`` as the output error
(Wulfmeier et al., *Maximum Entropy Deep Inverse Reinforcement Learning*,
arXiv:1507.04888, Algorithm 1). The network is :mod:`ctrlinf.nn`'s plain numpy MLP,
its backward pass written out.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from ctrlinf import _checks, nn
from ctrlinf.irl.demos import expert_occupancy
from ctrlinf.irl.fitting import fit_model
from ctrlinf.irl.fitting import warn_unconverged
from ctrlinf.irl.objectives import Problem
from ctrlinf.irl.objectives import check_mdp_and_mode

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ctrlinf._typing import ArrayLike, ArrayOrSparse, FloatArray, Seed
    from ctrlinf.irl.fitting import IRLResult
    from ctrlinf.mdp import TabularMDP
    from ctrlinf.trajectories import Trajectories


class RewardNet:
    r"""A multilayer perceptron ``φ ↦ r`` with a linear scalar output.

    ``h_0 = φ``, ``h_l = f(h_{l-1} W_l + b_l)`` for the hidden layers, and
    ``r = h_L W_out + b_out``, with ``f`` = ReLU or tanh (the network of
    :mod:`ctrlinf.nn`). Parameters live in one flat vector (what the optimisers move);
    :meth:`layers` gives views of ``(W, b)``.

    Parameters
    ----------
    n_features : int
        ``K``, the width of the input.
    hidden : tuple of int, default (32, 32)
        Widths of the hidden layers; ``()`` is a linear reward with a bias.
    activation : {"relu", "tanh"}

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> net = ci.irl.RewardNet(3, hidden=(4,))
    >>> params = net.init_params(seed=0)
    >>> net.n_params, net.forward(params, np.ones((5, 3)))[0].shape
    (21, (5,))
    """

    def __init__(self, n_features: int, hidden: Sequence[int] = (32, 32),
                 activation: Literal["relu", "tanh"] = "relu") -> None:
        self.n_features = _checks.positive_int(n_features, "n_features")
        self.hidden = _checks.positive_ints(hidden, "hidden", what=" (layer widths)")
        self.activation = _checks.choice(activation, "activation", nn.ACTIVATIONS)
        self.sizes = (self.n_features, *self.hidden, 1)
        self.n_params = nn.n_params(self.sizes)

    def _views(self, params):
        params = _checks.real_array(params, "params", shape=(self.n_params,))
        _checks.finite(params, "params")
        return nn.layer_views(params, self.sizes)

    def layers(self, params):
        """``[(W, b), ...]``, views into ``params``; ``W`` has shape (n_in, n_out)."""
        views = self._views(params)
        return list(zip(views[::2], views[1::2]))

    def init_params(self, seed=None):
        """Random weights (He for ReLU, Glorot for tanh: keeps activations O(1)), zero biases."""
        params = np.zeros(self.n_params)
        nn.init_params(self.sizes, self.activation, "normal", seed=seed,
                       out=nn.layer_views(params, self.sizes))
        return params

    def weight_mask(self):
        """Bool, shape (n_params,): True on weights, False on biases (L2 skips biases)."""
        mask = np.zeros(self.n_params)
        for W, _ in self.layers(mask):
            W[...] = 1.0
        return mask.astype(bool)

    def forward(self, params, X):
        """Outputs ``r``, shape (n,), for inputs ``X`` (n, K), and a cache for :meth:`backward`."""
        out, cache = nn.forward(self._views(params), X, self.activation)
        return out[:, 0], cache

    def backward(self, params, cache, grad_out):
        """``Σ_n grad_out[n] ∂r_n/∂params``, shape (n_params,): backpropagation.

        Parameters
        ----------
        params : ndarray, shape (n_params,)
        cache : list
            From :meth:`forward` with the same ``params``.
        grad_out : ndarray, shape (n,)
            ``∂L/∂r_n``, the error at each output.
        """
        grad = np.zeros(self.n_params)
        nn.backward(self._views(params), cache, np.asarray(grad_out)[:, None], self.activation,
                    out=nn.layer_views(grad, self.sizes))
        return grad


class NetModel:
    """``r(s, a) = net(φ(s, a))`` (or ``net(φ(s))`` for every ``a``); L2 on weights only."""

    def __init__(self, net, features, n_actions):
        self.net = net
        self.n_actions = n_actions
        self.state_features = features.ndim == 2
        self.X = features if self.state_features else features.reshape(-1, features.shape[-1])
        self.n_states = features.shape[0]
        self._mask = net.weight_mask()

    def __call__(self, params):
        out, cache = self.net.forward(params, self.X)
        if self.state_features:
            reward = np.repeat(out[:, None], self.n_actions, axis=1)
        else:
            reward = out.reshape(self.n_states, self.n_actions)

        def pull_back(grad_r):
            grad_out = grad_r.sum(axis=1) if self.state_features else grad_r.ravel()
            return self.net.backward(params, cache, grad_out)

        return reward, pull_back

    def penalty(self, params):
        weights = params * self._mask
        return 0.5 * float(weights @ weights), weights

    def predict(self, params, features):
        if not sp.issparse(features):
            features = np.asarray(features, dtype=np.float64)
        if features.shape[-1] != self.net.n_features:
            raise ValueError(f"features have K = {features.shape[-1]} columns, the network "
                             f"takes {self.net.n_features}")
        flat = features if features.ndim == 2 else features.reshape(-1, features.shape[-1])
        return self.net.forward(params, flat)[0].reshape(features.shape[:-1])


def deep_objective(mdp: TabularMDP, features: ArrayOrSparse, demos: Trajectories | ArrayLike,
                   net: RewardNet, params: ArrayLike,
                   mode: Literal["soft", "exact"] = "soft") -> tuple[float, FloatArray]:
    """The IRL objective of the reward ``net(φ)`` and its gradient with respect to ``params``.

    Parameters
    ----------
    mdp : TabularMDP
    features : ndarray, shape (S, K) or (S, A, K), or scipy.sparse (S, K)
    demos : Trajectories or ndarray, shape (S, A)
        Or the expert visitation ``D_E`` itself (see :func:`~ctrlinf.irl.objective`).
    net : RewardNet
    params : ndarray, shape (net.n_params,)
    mode : {"soft", "exact"}

    Returns
    -------
    value : float
        As :func:`~ctrlinf.irl.reward_objective` of the network's reward (no L2).
    gradient : ndarray, shape (net.n_params,)
        Backpropagation of ``D_E − D_r`` through the network.
    """
    check_mdp_and_mode(mdp, mode)
    model = NetModel(net, _check_net_features(net, features, mdp), mdp.n_actions)
    params = _checks.real_array(params, "params", shape=(net.n_params,))
    _checks.finite(params, "params")
    with np.errstate(over="ignore", invalid="ignore"):   # reward_mdp names params
        reward, pull_back = model(params)
    D_E, ends = expert_occupancy(mdp, demos)
    value, grad_r, _ = Problem(mdp, D_E, mode, ends).evaluate(
        reward, culprit="params are too large: the network's reward")
    return value, pull_back(grad_r)


def _check_net_features(net, features, mdp):
    if not isinstance(net, RewardNet):
        raise TypeError(f"net must be a ci.irl.RewardNet, got {type(net).__name__}")
    features = _checks.features(features, mdp.n_states, mdp.n_actions)
    if features.shape[-1] != net.n_features:
        raise ValueError(f"features have K = {features.shape[-1]} columns but the network "
                         f"takes n_features = {net.n_features}")
    return features


def fit_deep(mdp: TabularMDP, features: ArrayOrSparse, demos: Trajectories | ArrayLike,
             hidden: Sequence[int] = (32, 32), mode: Literal["soft", "exact"] = "soft",
             l2: float = 0.1, activation: Literal["relu", "tanh"] = "relu",
             optimizer: Literal["adam", "lbfgs", "gradient"] = "adam",
             learning_rate: float | None = None, max_iter: int = 300, gtol: float | None = 1e-6,
             progress: bool | None = None, seed: Seed = None) -> IRLResult:
    r"""Deep MaxEnt IRL: fit an MLP reward ``r = net(φ)`` to demonstrations.

    Maximises ``L(r_w) − (l2/2) ‖W‖²`` (weights only; Wulfmeier et al. 2015 use
    weight decay the same way) with the exact IRL gradient pushed through the
    network. The objective is not concave in ``w`` (a linear reward's is, for a finite
    horizon), so the result depends on ``seed`` (which only sets the initial
    weights). Like :func:`~ctrlinf.irl.fit` it warns when it stops with ``‖∇‖_∞ >
    gtol``; ``gtol=None`` asks for a fixed budget of ``max_iter`` steps instead.

    Parameters
    ----------
    mdp : TabularMDP
    features : ndarray, shape (S, K) or (S, A, K), or scipy.sparse (S, K)
        Network inputs; scale them to O(1) (e.g. distances divided by the grid size).
    demos : Trajectories or ndarray, shape (S, A)
        Or the expert visitation ``D_E`` itself (see :func:`~ctrlinf.irl.objective`).
    hidden : tuple of int, default (32, 32)
    mode : {"soft", "exact"}
    l2 : float, default 0.1
        Weight decay. Keep it: in soft mode with a finite horizon a reward flexible
        enough to fit every visited state has a finite maximum only if some policy's
        occupancy matches the demos' visitation, which under stochastic dynamics
        depends on the data (often not, see :mod:`ctrlinf.irl.objectives`); with
        ``horizon=None`` only if the demos show every action of every state they visit.
        Otherwise the weights grow until the decay stops them.
    activation : {"relu", "tanh"}
    optimizer : {"adam", "lbfgs", "gradient"}, default "adam"
        Adam, the default, moves each weight by about ``learning_rate`` per step,
        whatever the gradient's size; plain gradient ascent moves it by
        ``learning_rate`` times the gradient, and L-BFGS by what its line search
        accepts, neither bounded on this non-concave objective.
    learning_rate, max_iter, gtol, progress
        As in :func:`~ctrlinf.irl.fit` (Adam's default step is 0.01).
    seed : int or numpy.random.Generator, optional
        Initial weights; the same seed gives the same fit (None: fresh entropy).

    Returns
    -------
    IRLResult
        ``theta`` holds the flat weights, ``net`` the :class:`RewardNet`;
        ``reward_for(features)`` evaluates the network on other worlds.

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=np.zeros((1, 2)), p0=[1.0], horizon=1)
    >>> demos = ci.Trajectories([[0], [0], [0], [0]], [[1], [1], [1], [0]])
    >>> res = ci.irl.fit_deep(mdp, np.eye(2)[None], demos, hidden=(4,), l2=0.0, seed=0,
    ...                       progress=False)
    >>> res.solution.policy[0, 0].round(4).tolist()
    [0.25, 0.75]
    """
    check_mdp_and_mode(mdp, mode)
    features = _checks.features(features, mdp.n_states, mdp.n_actions)
    _checks.feature_scale(features, _checks.effective_steps(mdp))
    net = RewardNet(features.shape[-1], hidden, activation)
    model = NetModel(net, features, mdp.n_actions)
    name = f"deep IRL ({mode})"
    D_E, ends = expert_occupancy(mdp, demos)
    result = fit_model(mdp, model, D_E, net.init_params(seed), mode, l2, optimizer,
                       learning_rate, max_iter, gtol, progress, name, ends)
    warn_unconverged(name, result, max_iter, l2, gtol)   # as fit does
    return result
