r"""Function approximators over a discrete state space: tabular, linear, MLP.

Every approximator maps a batch of integer states to ``n_outputs`` numbers (the Q
values of each action, the logits of a softmax policy, or a single value), exposes its
parameters as a list of arrays, and returns the gradient of a loss with respect to
them given ``∂L/∂outputs``. The agents in :mod:`ctrlinf.bridge` only use that
interface, so the same agent code runs with a table, with linear features and with a
numpy MLP; a table is the linear case with one-hot features, which is why the tabular
agent is the one that must reach the exact oracle.
"""
from __future__ import annotations

import numpy as np

from ctrlinf import _checks
from ctrlinf.bridge._common import linear_decay, schedule
from ctrlinf.nn import MLP, SGD, Adam

APPROXIMATORS = ("tabular", "linear", "mlp")
OPTIMIZERS = {"sgd": SGD, "adam": Adam}

#: Default (optimizer, initial learning rate) by role and approximator; the agents decay
#: every rate linearly to 0 over a run, which lets a stochastic environment's estimates
#: settle instead of jittering around the fixed point. Value tables use SGD on the mean
#: batch loss (an entry moves by its share of the batch times its mean TD error): Adam
#: normalises each entry's step, so a rarely visited entry would move by about three
#: learning rates whatever its error. Policy logits use Adam.
OPTIMIZATION_DEFAULTS = {
    "value": {"tabular": ("sgd", 1.0), "linear": ("adam", 0.03), "mlp": ("adam", 3e-3)},
    "policy": {"tabular": ("adam", 0.05), "linear": ("adam", 0.03), "mlp": ("adam", 3e-3)},
}


class Tabular:
    """One free parameter per ``(state, output)``: ``f(s) = table[s]``.

    Parameters
    ----------
    n_states, n_outputs : int
    init : float, default 0.0
        Initial value of every entry.
    """

    def __init__(self, n_states, n_outputs, init=0.0):
        self.n_states, self.n_outputs = n_states, n_outputs
        self.params = [np.full((n_states, n_outputs), float(init))]

    def forward(self, states):
        """``table[states]``, shape (B, n_outputs), and the cache (the states)."""
        return self.params[0][states], states

    def __call__(self, states):
        return self.params[0][states]

    def backward(self, cache, grad_out):
        """Scatter-add ``grad_out`` (B, n_outputs) into a (S, n_outputs) gradient."""
        states = cache
        n_out = self.n_outputs
        # bincount is a much faster scatter-add than np.add.at for small batches.
        index = (states[:, None] * n_out + np.arange(n_out)).ravel()
        grad = np.bincount(index, weights=np.ravel(grad_out), minlength=self.n_states * n_out)
        return [grad.reshape(self.n_states, n_out)]

    def copy(self):
        clone = Tabular.__new__(Tabular)
        clone.n_states, clone.n_outputs = self.n_states, self.n_outputs
        clone.params = [p.copy() for p in self.params]
        return clone


class Linear:
    r"""Linear in fixed features.

    State features ``φ(s)`` (shape (S, K)) give ``f(s) = φ(s) W`` with ``W`` of shape
    ``(K, n_outputs)``. State-action features ``φ(s, a)`` (shape (S, A, K)) give
    ``f(s)_a = φ(s, a) · w`` with ``w`` of shape ``(K,)`` shared by the actions; then
    ``n_outputs`` must equal ``A``.
    """

    def __init__(self, features, n_outputs, init=0.0):
        if init:
            raise ValueError(f"a linear approximator starts at zero weights; got init={init!r}")
        features = np.asarray(features, dtype=np.float64)
        self.features = features
        self.n_states, self.n_outputs = features.shape[0], n_outputs
        if features.ndim == 3:
            if features.shape[1] != n_outputs:
                raise ValueError(
                    f"state-action features have shape {features.shape}, expected "
                    f"(S, A, K) with A = {n_outputs} outputs"
                )
            self.params = [np.zeros(features.shape[2])]
        else:
            self.params = [np.zeros((features.shape[1], n_outputs))]

    def forward(self, states):
        phi = self.features[states]
        return phi @ self.params[0], phi

    def __call__(self, states):
        return self.forward(states)[0]

    def backward(self, cache, grad_out):
        phi = cache
        if phi.ndim == 3:
            return [np.einsum("bak,ba->k", phi, grad_out)]
        return [phi.T @ grad_out]

    def copy(self):
        clone = Linear.__new__(Linear)
        clone.features, clone.n_states, clone.n_outputs = self.features, self.n_states, \
            self.n_outputs
        clone.params = [p.copy() for p in self.params]
        return clone


class Network:
    """An :class:`~ctrlinf.nn.MLP` applied to state inputs (one-hot or features).

    Parameters
    ----------
    inputs : ndarray, shape (S, K)
        The network input of each state: the identity (one-hot states) or features;
        state-action features (S, A, K) are flattened to (S, A*K).
    n_outputs : int
    hidden : sequence of int
        Hidden-layer widths.
    activation : {"tanh", "relu"}
    seed : int or numpy.random.Generator, optional
    init : float, default 0.0
        Initial output bias (e.g. an optimistic Q).
    """

    def __init__(self, inputs, n_outputs, hidden=(64,), activation="tanh", seed=None,
                 init=0.0):
        inputs = np.asarray(inputs, dtype=np.float64)
        self.inputs = inputs.reshape(inputs.shape[0], -1)
        self.n_states, self.n_outputs = self.inputs.shape[0], n_outputs
        self.net = MLP((self.inputs.shape[1], *hidden, n_outputs), activation=activation,
                       seed=seed)
        self.net.params[-1] += init
        self.params = self.net.params

    def forward(self, states):
        return self.net.forward(self.inputs[states])

    def __call__(self, states):
        return self.net(self.inputs[states])

    def backward(self, cache, grad_out):
        return self.net.backward(cache, grad_out)

    def copy(self):
        clone = Network.__new__(Network)
        clone.inputs, clone.n_states, clone.n_outputs = self.inputs, self.n_states, \
            self.n_outputs
        clone.net = self.net.copy()
        clone.params = clone.net.params
        return clone


def make_approximator(kind, n_states, n_outputs, features=None, hidden=(64,),
                      activation="tanh", seed=None, init=0.0):
    """Build a :class:`Tabular`, :class:`Linear` or :class:`Network` approximator.

    Parameters
    ----------
    kind : {"tabular", "linear", "mlp"}
    n_states, n_outputs : int
    features : ndarray, shape (S, K) or (S, A, K), optional
        Needed for ``"linear"``; the MLP's input (one-hot states when None).
    hidden, activation, seed, init
        See :class:`Network`.
    """
    kind = _checks.choice(kind, "approximator", APPROXIMATORS)
    if features is not None:
        features = _checks.features(features, n_states, None, sparse=False)
    if kind == "tabular":
        return Tabular(n_states, n_outputs, init)
    if kind == "linear":
        if features is None:
            raise ValueError("approximator='linear' needs features, shape (S, K) or (S, A, K)")
        if features.ndim == 3 and features.shape[1] != n_outputs:
            # A value baseline has one output: use the state-action features as one vector.
            features = features.reshape(n_states, -1)
        return Linear(features, n_outputs, init)
    inputs = np.eye(n_states) if features is None else features
    return Network(inputs, n_outputs, hidden=hidden, activation=activation, seed=seed, init=init)


def all_states(approximator):
    """The approximator's outputs at every state, shape (S, n_outputs)."""
    return approximator(np.arange(approximator.n_states))


def load_params(target, source):
    """Copy ``source``'s parameters into ``target`` in place (a hard target update)."""
    for p_target, p_source in zip(target.params, source.params):
        p_target[...] = p_source


def polyak_update(target, source, weight):
    r"""``φ' ← weight · φ' + (1 − weight) · φ`` in place (the lecture's Polyak averaging)."""
    for p_target, p_source in zip(target.params, source.params):
        p_target *= weight
        p_target += (1.0 - weight) * p_source


def make_optimizer(name, approximator):
    """An :class:`~ctrlinf.nn.SGD` or :class:`~ctrlinf.nn.Adam` over its params.

    The agents pass the learning rate to every ``step`` (from a schedule), so the
    rate stored here is a placeholder.
    """
    name = _checks.choice(name, "optimizer", sorted(OPTIMIZERS))
    return OPTIMIZERS[name](approximator.params, learning_rate=1.0)


def check_target_update(target_update):
    """An int period (hard copy) or a float Polyak weight in (0, 1)."""
    if _checks.is_int(target_update):
        return _checks.positive_int(target_update, "target_update")
    return _checks.open_unit(target_update, "target_update")


def update_target(target, online, target_update, n_updates):
    """The target-network update after gradient step number ``n_updates``.

    An int ``target_update`` copies ``online`` into ``target`` every that many gradient
    steps; a float is the Polyak weight kept on the old target at every step.
    """
    if isinstance(target_update, int):
        if n_updates % target_update == 0:
            load_params(target, online)
    else:
        polyak_update(target, online, target_update)


def make_training(role, kind, approximator, optimizer=None, learning_rate=None,
                  name="learning_rate"):
    """An optimiser over ``approximator`` and its rate schedule ``fraction_done -> rate``.

    Parameters
    ----------
    role : {"value", "policy"}
        Selects the defaults in :data:`OPTIMIZATION_DEFAULTS`.
    kind : str
        The approximator kind ("tabular", "linear", "mlp").
    approximator
        Whose parameters the optimiser updates.
    optimizer : {"sgd", "adam"}, optional
    learning_rate : float or callable, optional
        A constant, or ``fraction_done -> rate``; default the role's decayed rate.
    name : str
        Argument name for error messages.
    """
    default_optimizer, default_rate = OPTIMIZATION_DEFAULTS[role].get(kind, ("adam", 1e-3))
    rate = schedule(linear_decay(default_rate) if learning_rate is None else learning_rate,
                    name)
    return make_optimizer(optimizer or default_optimizer, approximator), rate
