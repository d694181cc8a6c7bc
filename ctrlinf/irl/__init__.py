r"""Inverse reinforcement learning with exact messages.

MaxEnt IRL (``mode="exact"``, Ziebart et al. 2008) and maximum causal entropy IRL
(``mode="soft"``, Ziebart et al. 2010; with ``horizon=None`` the demos' discounted causal
log-likelihood instead) for linear rewards ``r = φ θ``, and deep MaxEnt
IRL (Wulfmeier et al. 2015) for an MLP reward; the gradients come from the exact
backward and forward messages of :mod:`ctrlinf.inference`, never from samples.
The objectives, their gradients and the reward equivalences they cannot resolve are
defined in :mod:`ctrlinf.irl.objectives`.

Modules: ``demos`` (validation, padding, visitation counts), ``objectives``
(value and gradient), ``optimize`` (L-BFGS, Adam, gradient ascent), ``fitting`` (linear
rewards), ``deep`` (MLP rewards), ``metrics`` (EVD, log-likelihood). The benchmark
worlds and the experiment behind ``ctrlinf irl`` live in :mod:`ctrlinf.experiments.irl_evd`.
"""
from ctrlinf.irl.deep import RewardNet
from ctrlinf.irl.deep import deep_objective
from ctrlinf.irl.deep import fit_deep
from ctrlinf.irl.demos import expert_visitation
from ctrlinf.irl.demos import pad_episodes
from ctrlinf.irl.demos import start_distribution
from ctrlinf.irl.fitting import IRLResult
from ctrlinf.irl.fitting import fit
from ctrlinf.irl.metrics import expected_value_difference
from ctrlinf.irl.metrics import log_likelihood
from ctrlinf.irl.objectives import objective
from ctrlinf.irl.objectives import reward_objective
from ctrlinf.irl.apprenticeship import ApprenticeshipResult
from ctrlinf.irl.apprenticeship import apprenticeship_projection
from ctrlinf.irl.apprenticeship import feature_expectations
from ctrlinf.irl.apprenticeship import mixture_policy
from ctrlinf.irl.cloning import behaviour_cloning
from ctrlinf.irl.shaping import IdentifiedReward
from ctrlinf.irl.shaping import reward_from_soft_policies
from ctrlinf.irl.shaping import shape_reward

__all__ = [
    "IRLResult",
    "RewardNet",
    "deep_objective",
    "expected_value_difference",
    "expert_visitation",
    "fit",
    "fit_deep",
    "log_likelihood",
    "objective",
    "pad_episodes",
    "reward_objective",
    "start_distribution",
    "IdentifiedReward",
    "reward_from_soft_policies",
    "shape_reward",
    "behaviour_cloning",
    "ApprenticeshipResult",
    "apprenticeship_projection",
    "feature_expectations",
    "mixture_policy",
]
