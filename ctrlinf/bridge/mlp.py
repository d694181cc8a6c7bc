r"""Small multilayer perceptrons in numpy, with hand-written backpropagation and Adam.

Deep RL runs its networks through an autodiff framework; here the networks are small
enough that the chain rule is written out, which keeps the bridge free of heavy
dependencies and makes every gradient checkable against finite differences (the tests
do exactly that).

A network with layer sizes ``(n_0, n_1, ..., n_L)`` computes, for a batch ``x`` of
shape ``(B, n_0)``,

.. math::

    z_l = h_{l-1} W_l + b_l, \qquad h_l = \sigma(z_l) \quad (l < L), \qquad y = z_L,

with ``W_l`` of shape ``(n_{l-1}, n_l)`` and a linear output layer. Backpropagation of
an upstream gradient ``g = ∂L/∂y`` (shape ``(B, n_L)``) gives
``∂L/∂W_l = h_{l-1}^T δ_l``, ``∂L/∂b_l = Σ_batch δ_l`` and
``δ_{l-1} = (δ_l W_l^T) ⊙ σ'(z_{l-1})``, starting from ``δ_L = g``.
"""
from __future__ import annotations

import numbers

import numpy as np

from ctrlinf import _checks

ACTIVATIONS = ("tanh", "relu")


def _check_sizes(sizes):
    sizes = tuple(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    for i, n in enumerate(sizes):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"sizes[{i}] is {n!r}, expected a positive int")
    return tuple(int(n) for n in sizes)


class MLP:
    r"""A fully connected network with a linear output layer.

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

    def __init__(self, sizes, activation="tanh", output_scale=0.1, seed=None):
        self.sizes = _check_sizes(sizes)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.activation = activation
        rng = np.random.default_rng(_checks.seed(seed))
        self.params = []
        n_layers = len(self.sizes) - 1
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            # Glorot-uniform keeps tanh units out of saturation at the start.
            limit = np.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-limit, limit, size=(n_in, n_out))
            if l == n_layers - 1:
                W *= output_scale
            self.params += [W, np.zeros(n_out)]

    def _activate(self, z):
        return np.tanh(z) if self.activation == "tanh" else np.maximum(z, 0.0)

    def _activation_slope(self, z, h):
        """σ'(z), using the stored output h = σ(z) where that is cheaper."""
        return 1.0 - h * h if self.activation == "tanh" else (z > 0.0).astype(z.dtype)

    def forward(self, x):
        """Outputs and the cache :meth:`backward` needs.

        Parameters
        ----------
        x : ndarray, shape (B, n_inputs)

        Returns
        -------
        y : ndarray, shape (B, n_outputs)
        cache : list of (h_in, z, h_out) per layer
        """
        h = np.asarray(x, dtype=np.float64)
        cache = []
        n_layers = len(self.params) // 2
        for l in range(n_layers):
            W, b = self.params[2 * l], self.params[2 * l + 1]
            z = h @ W + b
            h_out = z if l == n_layers - 1 else self._activate(z)
            cache.append((h, z, h_out))
            h = h_out
        return h, cache

    def __call__(self, x):
        return self.forward(x)[0]

    def backward(self, cache, grad_y):
        """Gradients of a loss with respect to :attr:`params`.

        Parameters
        ----------
        cache : from :meth:`forward`
        grad_y : ndarray, shape (B, n_outputs)
            ``∂L/∂y`` for the batch passed to :meth:`forward`.

        Returns
        -------
        list of ndarray
            Same shapes and order as :attr:`params`.
        """
        grads = [None] * len(self.params)
        delta = np.asarray(grad_y, dtype=np.float64)
        for l in range(len(cache) - 1, -1, -1):
            h_in, z, _ = cache[l]
            grads[2 * l] = h_in.T @ delta
            grads[2 * l + 1] = delta.sum(axis=0)
            if l > 0:
                _, z_prev, h_prev = cache[l - 1]
                delta = (delta @ self.params[2 * l].T) * self._activation_slope(z_prev, h_prev)
        return grads

    def copy(self):
        """An independent network with the same weights (e.g. a target network)."""
        clone = MLP.__new__(MLP)
        clone.sizes, clone.activation = self.sizes, self.activation
        clone.params = [p.copy() for p in self.params]
        return clone


class Adam:
    r"""Adam (Kingma & Ba 2015) over a list of parameter arrays, updated in place.

    .. math::

        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \theta \leftarrow \theta - \eta\,
            \frac{m / (1-\beta_1^k)}{\sqrt{v / (1-\beta_2^k)} + \epsilon}

    Parameters
    ----------
    params : list of ndarray
        Arrays to update in place (e.g. :attr:`MLP.params`).
    learning_rate : float
        ``η``; :meth:`step` may override it per call (for schedules).
    beta1, beta2, eps : float
        The usual Adam constants.
    """

    def __init__(self, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        if not (isinstance(learning_rate, numbers.Real) and learning_rate > 0):
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        self.params = params
        self.learning_rate = float(learning_rate)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
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

    def __init__(self, params, learning_rate=0.1):
        if not (isinstance(learning_rate, numbers.Real) and learning_rate > 0):
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        self.params = params
        self.learning_rate = float(learning_rate)

    def step(self, grads, learning_rate=None):
        """Descend along ``grads`` (same shapes as ``params``)."""
        lr = self.learning_rate if learning_rate is None else learning_rate
        for p, g in zip(self.params, grads):
            p -= lr * g
