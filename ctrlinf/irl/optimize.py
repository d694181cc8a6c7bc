"""Gradient ascent loops shared by :func:`~ctrlinf.irl.fit` and :func:`~ctrlinf.irl.fit_deep`.

Every optimiser maximises ``fun(x) -> (value, gradient)`` and stops when the largest
gradient component ``‖g‖_∞`` falls below ``gtol`` (the test scipy's L-BFGS-B applies)
or after ``max_iter`` iterations; ``gtol=None`` asks for a fixed budget of
``max_iter`` iterations. Each records, per iteration, the objective, the gradient
norm, the evaluations of ``fun`` so far (a line search takes several per iteration)
and the seconds the iteration took.
"""
from __future__ import annotations

import time

import numpy as np

from ctrlinf import _checks
from ctrlinf._progress import progress_bar
from ctrlinf.nn import SGD, Adam

OPTIMIZERS = ("lbfgs", "adam", "gradient")

#: Step sizes used when ``learning_rate`` is None. Adam's steps are about this size in
#: every coordinate; plain gradient ascent scales with the gradient, so it may need less.
DEFAULT_LEARNING_RATE = {"adam": 0.01, "gradient": 0.01}

#: Adam's moment decay rates and denominator guard (Kingma & Ba 2015, the defaults).
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8

#: L-BFGS-B also stops when the objective's relative change falls below ftol; this
#: tiny value leaves the decision to gtol (scipy's default 2.2e-9 stops earlier).
LBFGS_FTOL = 1e-15


def check_optimizer(optimizer, learning_rate, max_iter, gtol):
    """Validate the optimiser settings; return them as (str, float or None, int, float or None)."""
    optimizer = _checks.choice(optimizer, "optimizer", OPTIMIZERS)
    if optimizer == "lbfgs":
        if learning_rate is not None:
            raise ValueError("learning_rate is for optimizer='adam' or 'gradient'; "
                             "L-BFGS chooses its own step by line search")
    elif learning_rate is None:
        learning_rate = DEFAULT_LEARNING_RATE[optimizer]
    else:
        learning_rate = _checks.real(learning_rate, "learning_rate", low=0.0, low_open=True)
    max_iter = _checks.positive_int(max_iter, "max_iter")
    gtol = _checks.real(gtol, "gtol", low=0.0, allow_none=True,
                        note=" (a fixed budget of max_iter iterations)")
    return optimizer, learning_rate, max_iter, gtol


class _Recorder:
    """Keeps the history, the progress bar and the latest evaluation of ``fun``."""

    def __init__(self, fun, max_iter, progress, desc):
        self._fun = fun
        self.history = {"objective": [], "grad_norm": [], "evaluations": [], "time": []}
        self.evaluations = 0
        self._bar = progress_bar(max_iter, progress, desc)
        self._clock = time.perf_counter()
        self.last = None  # (x, value, gradient, extra)

    def evaluate(self, x):
        if self.last is None or not np.array_equal(self.last[0], x):
            value, grad, extra = self._fun(x)
            self.evaluations += 1
            self.last = (np.array(x, copy=True), value, grad, extra)
        return self.last[1], self.last[2]

    def record(self, x):
        """Log the iterate ``x``; return its gradient norm."""
        value, grad = self.evaluate(x)
        grad_norm = float(np.abs(grad).max())
        now = time.perf_counter()
        self.history["objective"].append(float(value))
        self.history["grad_norm"].append(grad_norm)
        self.history["evaluations"].append(self.evaluations)
        self.history["time"].append(now - self._clock)
        self._clock = now
        if self._bar.disable:               # no bar: skip formatting its text
            return grad_norm
        if len(self.history["objective"]) > 1:
            self._bar.update()
        self._bar.set_postfix_str(f"objective={value:.6g} |grad|={grad_norm:.3g}", refresh=False)
        return grad_norm

    def close(self):
        self._bar.close()


def maximise(fun, x0, optimizer, learning_rate, max_iter, gtol, progress, desc):
    """Maximise ``fun``; return ``(x, value, gradient, extra, history, converged, message)``.

    ``fun(x)`` returns ``(value, gradient, extra)``; ``extra`` (e.g. the Solution) is
    passed through for the final point. ``history["time"][0]`` is the cost of the
    first evaluation, later entries the seconds of each iteration;
    ``history["evaluations"]`` counts the calls of ``fun`` up to each iteration.
    ``gtol=None`` runs the budget of ``max_iter`` iterations and counts as converged
    once it is spent (L-BFGS may stop earlier when its line search can make no progress).
    """
    budget = gtol is None
    if budget:
        gtol = 0.0
    rec = _Recorder(fun, max_iter, progress, desc)
    x = np.array(x0, dtype=np.float64, copy=True)
    try:
        if rec.record(x) <= gtol:
            message = "gradient below gtol at the start"
        elif optimizer == "lbfgs":
            x, message = _lbfgs(rec, x, max_iter, gtol)
        else:
            x, message = _first_order(rec, x, optimizer, learning_rate, max_iter, gtol)
    finally:
        rec.close()
    value, grad = rec.evaluate(x)
    converged = rec.history["grad_norm"][-1] <= gtol or (
        budget and len(rec.history["objective"]) - 1 >= max_iter)
    return x, value, grad, rec.last[3], rec.history, converged, message


def _lbfgs(rec, x0, max_iter, gtol):
    # Imported here: scipy.optimize adds ~0.18 s to importing ctrlinf.irl, which
    # every CLI command does (``ctrlinf demo`` too), and only this optimizer needs it.
    import scipy.optimize

    def negative(x):
        value, grad = rec.evaluate(x)
        return -value, -grad

    result = scipy.optimize.minimize(
        negative, x0, jac=True, method="L-BFGS-B", callback=rec.record,
        options={"maxiter": max_iter, "gtol": gtol, "ftol": LBFGS_FTOL},
    )
    return result.x, str(result.message)


def _first_order(rec, x, optimizer, learning_rate, max_iter, gtol):
    # ctrlinf.nn's optimisers descend: ascent on the objective is descent along −g.
    beta1, beta2 = ADAM_BETAS
    step = (Adam([x], learning_rate, beta1, beta2, ADAM_EPSILON) if optimizer == "adam"
            else SGD([x], learning_rate))
    for k in range(1, max_iter + 1):
        _, grad = rec.evaluate(x)
        step.step([-grad])
        if rec.record(x) <= gtol:
            return x, f"gradient below gtol after {k} iterations"
    return x, f"stopped at max_iter={max_iter}"
