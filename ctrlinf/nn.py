r"""Small multilayer perceptrons in numpy, with hand-written backpropagation, Adam and SGD.

One home for the networks of deep IRL (:class:`~ctrlinf.irl.RewardNet`) and of the
bridge agents (:class:`~ctrlinf.bridge.approximators.Network`). The networks are small
enough that the chain rule is written out, which keeps the package free of autodiff
dependencies and makes every gradient checkable against finite differences (the tests
do exactly that). Not part of the core: ``mdp``, ``kernels``, ``inference`` and
``trajectories`` never import it.

A network with layer sizes ``(n_0, n_1, ..., n_L)`` computes, for a batch ``x`` of
shape ``(B, n_0)``,

.. math::

    z_l = h_{l-1} W_l + b_l, \qquad h_l = \sigma(z_l) \quad (l < L), \qquad y = z_L,

with ``h_0 = x``, ``W_l`` of shape ``(n_{l-1}, n_l)`` and a linear output layer.
Backpropagation of an upstream gradient ``g = ∂L/∂y`` (shape ``(B, n_L)``) gives
``∂L/∂W_l = h_{l-1}^T δ_l``, ``∂L/∂b_l = Σ_batch δ_l`` and
``δ_{l-1} = (δ_l W_l^T) ⊙ σ'(z_{l-1})``, starting from ``δ_L = g``. Both activations
have a slope that is a function of their output, ``σ' = 1 − h²`` (tanh) and
``σ' = 1[h > 0]`` (ReLU), so the cache holds only the layer inputs ``h_0 … h_{L-1}``.

The parameters of a network are the list ``[W_1, b_1, ..., W_L, b_L]``;
:func:`layer_views` lays the same list over one flat vector, for optimisers that move
a single array (scipy's L-BFGS in :func:`~ctrlinf.irl.fit_deep`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from ctrlinf import _checks

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ctrlinf._typing import FloatArray, Seed

ACTIVATIONS = ("tanh", "relu")

#: Weight initialisations. ``"glorot_uniform"``: U(±√(6/(n_in+n_out))) (Glorot & Bengio
#: 2010), keeps tanh units out of saturation. ``"normal"``: N(0, 2/n_in) for ReLU (He et
#: al. 2015) and N(0, 2/(n_in+n_out)) for tanh (Glorot's normal variant).
INITS = ("glorot_uniform", "normal")


def n_params(sizes):
    """Number of weights and biases of a network with layer ``sizes``."""
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def layer_views(flat, sizes):
    """``[W_1, b_1, ..., W_L, b_L]`` as views into the flat vector ``flat``, shape (n_params,)."""
    out, start = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        out.append(flat[start:start + n_in * n_out].reshape(n_in, n_out))
        start += n_in * n_out
        out.append(flat[start:start + n_out])
        start += n_out
    return out


def init_params(sizes, activation="tanh", init="glorot_uniform", output_scale=1.0, seed=None,
                out=None):
    """Random weights and zero biases, ``[W_1, b_1, ..., W_L, b_L]``.

    Parameters
    ----------
    sizes : tuple of int
    activation : {"tanh", "relu"}
    init : {"glorot_uniform", "normal"}
        See :data:`INITS`.
    output_scale : float, default 1.0
        Multiplies the output layer's weights (0.1 makes an untrained network predict
        values near 0: a neutral Q and a near-uniform softmax policy).
    seed : int or numpy.random.Generator, optional
    out : list of ndarray, optional
        Arrays (e.g. :func:`layer_views` of a flat vector) to fill in place.
    """
    sizes = _checks.positive_ints(sizes, "sizes", min_length=2,
                                  what=" (an input, hidden and output size)")
    activation = _checks.choice(activation, "activation", ACTIVATIONS)
    init = _checks.choice(init, "init", INITS)
    output_scale = _checks.real(output_scale, "output_scale")
    rng = np.random.default_rng(_checks.seed(seed))
    params = out if out is not None else [
        np.zeros(shape) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        for shape in ((n_in, n_out), (n_out,))]
    n_layers = len(sizes) - 1
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if init == "glorot_uniform":
            limit = np.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-limit, limit, size=(n_in, n_out))
        else:
            scale = np.sqrt(2.0 / n_in) if activation == "relu" else np.sqrt(2.0 / (n_in + n_out))
            W = scale * rng.normal(size=(n_in, n_out))
        if l == n_layers - 1 and output_scale != 1.0:
            W *= output_scale
        params[2 * l][...] = W
        params[2 * l + 1][...] = 0.0
    return params


def forward(params, x, activation):
    """Outputs ``y``, shape (B, n_L), and the cache (layer inputs) :func:`backward` needs.

    Parameters
    ----------
    params : list of ndarray
        ``[W_1, b_1, ..., W_L, b_L]``.
    x : ndarray or scipy.sparse matrix, shape (B, n_0)
    activation : {"tanh", "relu"}
    """
    # A scipy.sparse input (deep IRL's sparse features) multiplies as it is.
    h = x if sp.issparse(x) else np.asarray(x, dtype=np.float64)
    cache = []
    n_layers = len(params) // 2
    for l in range(n_layers):
        cache.append(h)
        z = h @ params[2 * l] + params[2 * l + 1]
        h = z if l == n_layers - 1 else (np.tanh(z) if activation == "tanh"
                                         else np.maximum(z, 0.0))
    return h, cache


def backward(params, cache, grad_y, activation, out=None):
    """Gradients of a loss with respect to ``params``: backpropagation of ``grad_y = ∂L/∂y``.

    Parameters
    ----------
    params : list of ndarray
    cache : list of ndarray
        From :func:`forward` with the same ``params``.
    grad_y : ndarray, shape (B, n_L)
    activation : {"tanh", "relu"}
    out : list of ndarray, optional
        Arrays (e.g. :func:`layer_views` of a flat gradient) to write into.

    Returns
    -------
    list of ndarray
        Same shapes and order as ``params``.
    """
    grads = out if out is not None else [None] * len(params)
    delta = np.asarray(grad_y, dtype=np.float64)
    for l in range(len(cache) - 1, -1, -1):
        h_in = cache[l]
        dW, db = h_in.T @ delta, delta.sum(axis=0)
        if out is not None:
            grads[2 * l][...], grads[2 * l + 1][...] = dW, db
        else:
            grads[2 * l], grads[2 * l + 1] = dW, db
        if l > 0:
            # h_in = σ(z_prev): σ'(z_prev) is 1 − h² for tanh and 1[h > 0] for ReLU.
            slope = 1.0 - h_in * h_in if activation == "tanh" else (h_in > 0.0).astype(h_in.dtype)
            delta = (delta @ params[2 * l].T) * slope
    return grads


class MLP:
    r"""A fully connected network with a linear output layer, parameters as a list of arrays.

    Parameters
    ----------
    sizes : sequence of int
        ``(n_inputs, hidden_1, ..., n_outputs)``; two entries give a linear map.
    activation : {"tanh", "relu"}, default "tanh"
        Hidden-layer nonlinearity ``σ``.
    output_scale : float, default 0.1
        The output layer's initial weights are multiplied by this, so an untrained
        network predicts values near 0 (a neutral Q and a near-uniform softmax policy).
    seed : int or numpy.random.Generator, optional
        Initialisation; the same seed gives the same weights.
    init : {"glorot_uniform", "normal"}, default "glorot_uniform"
        See :data:`INITS`.

    Attributes
    ----------
    params : list of ndarray
        ``[W_1, b_1, ..., W_L, b_L]``, updated in place by optimisers.

    Examples
    --------
    >>> import numpy as np
    >>> net = MLP((3, 8, 2), seed=0)
    >>> y, cache = net.forward(np.eye(3))
    >>> grads = net.backward(cache, np.ones_like(y))
    >>> y.shape, [g.shape for g in grads]
    ((3, 2), [(3, 8), (8,), (8, 2), (2,)])
    """

    def __init__(self, sizes: Sequence[int], activation: Literal["tanh", "relu"] = "tanh",
                 output_scale: float = 0.1, seed: Seed = None,
                 init: Literal["glorot_uniform", "normal"] = "glorot_uniform") -> None:
        self.sizes = _checks.positive_ints(sizes, "sizes", min_length=2,
                                           what=" (an input, hidden and output size)")
        self.activation = _checks.choice(activation, "activation", ACTIVATIONS)
        self.params = init_params(self.sizes, activation, init, output_scale, seed)

    def forward(self, x):
        """Outputs, shape (B, n_outputs), and the cache :meth:`backward` needs.

        ``x`` has shape (B, n_inputs): an array or a scipy.sparse matrix.
        """
        if not sp.issparse(x):
            x = _checks.real_array(x, "x")
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"x has shape {x.shape}, expected (B, n_inputs) = "
                             f"(B, {self.sizes[0]})")
        return forward(self.params, x, self.activation)

    def __call__(self, x):
        return self.forward(x)[0]

    def backward(self, cache, grad_y):
        """Gradients with respect to :attr:`params` of a loss with ``∂L/∂y = grad_y``.

        ``grad_y`` has the shape of :meth:`forward`'s output, (B, n_outputs).
        """
        batch = cache[0].shape[0]
        grad_y = _checks.real_array(grad_y, "grad_y", shape=(batch, self.sizes[-1]))
        return backward(self.params, cache, grad_y, self.activation)

    def copy(self):
        """An independent network with the same weights (e.g. a target network)."""
        clone = MLP.__new__(MLP)
        clone.sizes, clone.activation = self.sizes, self.activation
        clone.params = [p.copy() for p in self.params]
        return clone


def _check_rate(learning_rate):
    return _checks.real(learning_rate, "learning_rate", low=0.0, low_open=True)


def _parameter_list(params):
    """``params`` as a list of float ndarrays, which the optimisers update in place."""
    params = _checks.sequence(params, "params")
    for i, p in enumerate(params):
        if not (isinstance(p, np.ndarray) and p.dtype.kind == "f"):
            raise TypeError(f"params[{i}] must be a float ndarray (updated in place), got "
                            f"{type(p).__name__}" + (f" of dtype {p.dtype}"
                                                     if isinstance(p, np.ndarray) else ""))
    return params


class Adam:
    r"""Adam (Kingma & Ba 2015) descending over a list of arrays, updated in place.

    .. math::

        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \theta \leftarrow \theta - \eta\,
            \frac{m / (1-\beta_1^k)}{\sqrt{v / (1-\beta_2^k)} + \epsilon}

    Ascent on ``f`` is descent along ``−∇f``.

    Parameters
    ----------
    params : list of ndarray
        Arrays to update in place (e.g. :attr:`MLP.params`).
    learning_rate : float
        ``η``; :meth:`step` may override it per call (for schedules).
    beta1, beta2, eps : float
        The usual Adam constants.
    """

    def __init__(self, params: list[FloatArray], learning_rate: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.params = _parameter_list(params)
        self.learning_rate = _check_rate(learning_rate)
        self.beta1 = _checks.real(beta1, "beta1", low=0.0, high=1.0, high_open=True)
        self.beta2 = _checks.real(beta2, "beta2", low=0.0, high=1.0, high_open=True)
        self.eps = _checks.real(eps, "eps", low=0.0, low_open=True)
        self._m = [np.zeros_like(p) for p in params]
        self._v = [np.zeros_like(p) for p in params]
        self._k = 0

    def step(self, grads, learning_rate=None):
        """Descend along ``grads`` (same shapes as ``params``)."""
        lr = self.learning_rate if learning_rate is None else learning_rate
        self._k += 1
        correction1 = 1.0 - self.beta1 ** self._k
        correction2 = 1.0 - self.beta2 ** self._k
        for p, g, m, v in zip(self.params, grads, self._m, self._v):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            p -= lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)


class SGD:
    """Plain gradient descent ``θ ← θ − η g`` over a list of arrays (same API as :class:`Adam`)."""

    def __init__(self, params: list[FloatArray], learning_rate: float = 0.1) -> None:
        self.params = _parameter_list(params)
        self.learning_rate = _check_rate(learning_rate)

    def step(self, grads, learning_rate=None):
        """Descend along ``grads`` (same shapes as ``params``)."""
        lr = self.learning_rate if learning_rate is None else learning_rate
        for p, g in zip(self.params, grads):
            p -= lr * g
