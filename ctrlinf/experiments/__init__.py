"""Experiments built on the algorithms: benchmark worlds, runners and their pictures.

Kept out of the algorithm packages (:mod:`ctrlinf.irl`, :mod:`ctrlinf.bridge`) so that
those import neither the worlds of :mod:`ctrlinf.envs` nor matplotlib.

Modules: ``irl_evd`` (the IRL benchmark worlds, :func:`~ctrlinf.experiments.irl_evd.run_demo`
behind ``ctrlinf irl WORLD``, scored by expected value difference).

>>> import ctrlinf as ci
>>> report = ci.experiments.irl_evd.run_demo("gridworld", n_demos=16, size=5, seed=0)
>>> sorted(report)[:4]
['converged', 'deep', 'evd', 'evd_zero']
"""
from ctrlinf.experiments import irl_evd

__all__ = ["irl_evd"]
