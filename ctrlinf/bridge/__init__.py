"""The deep-RL bridge: approximate algorithms, each checked against the exact oracle.

The agents (:func:`soft_q_learning`, :func:`sac_discrete`,
:func:`entropy_policy_gradient`) learn only by calling ``reset`` and ``step`` on a
gymnasium environment with Discrete spaces (e.g. ``ci.envs.to_gymnasium(mdp)``); they
never read ``P`` or ``r``. The :class:`Oracle` does, and scores what they learned
exactly, at temperature 0 (ordinary RL: hard ``Q*``, returns; the default) or at the
agents' α (soft). They are stationary discounted agents: compare them with
``Oracle.stationary(mdp, gamma, temperature=alpha)`` (see :mod:`ctrlinf.bridge.oracle`).
:mod:`ctrlinf.bridge.sb3` reads Q tables, policies and critics out of
Stable-Baselines3 models so that the oracle scores other people's agents too, and
:mod:`ctrlinf.bridge.suite` scores any agent on a versioned set of exactly solved tasks
(``ctrlinf check``).

Sample-based inverse RL (:func:`irl_gradient_importance_sampled`, the GCL and GAIL
discriminators) and Monte-Carlo visitation (:func:`sampled_visitation`) are compared
with the exact messages the same way.
"""
from ctrlinf.bridge.adversarial_imitation import GAILResult
from ctrlinf.bridge.adversarial_imitation import discounted_pair_weights
from ctrlinf.bridge.adversarial_imitation import gail
from ctrlinf.bridge.discriminators import GAILDiscriminator
from ctrlinf.bridge.discriminators import GCLDiscriminator
from ctrlinf.bridge.importance_sampling import SampledGradient
from ctrlinf.bridge.enumeration import TrajectorySet
from ctrlinf.bridge.enumeration import enumerate_trajectories
from ctrlinf.bridge.discriminators import exact_gail_optimum
from ctrlinf.bridge.importance_sampling import exact_maxent_gradient
from ctrlinf.bridge.discriminators import gail_discriminator
from ctrlinf.bridge.discriminators import gcl_discriminator
from ctrlinf.bridge.importance_sampling import irl_gradient_importance_sampled
from ctrlinf.bridge.discriminators import optimal_discriminator
from ctrlinf.nn import MLP
from ctrlinf.nn import SGD
from ctrlinf.nn import Adam
from ctrlinf.bridge import sb3
from ctrlinf.bridge import suite
from ctrlinf.bridge.oracle import Oracle
from ctrlinf.bridge.scores import PolicyReport
from ctrlinf.bridge.scores import QReport
from ctrlinf.bridge.policy_gradient import PolicyGradientResult
from ctrlinf.bridge.policy_gradient import entropy_policy_gradient
from ctrlinf.bridge.replay import ReplayBuffer
from ctrlinf.bridge.sac import SACResult
from ctrlinf.bridge.sac import sac_discrete
from ctrlinf.bridge.soft_q import SoftQResult
from ctrlinf.bridge.soft_q import soft_q_learning
from ctrlinf.bridge.visitation import VisitationError
from ctrlinf.bridge.visitation import exact_visitation
from ctrlinf.bridge.visitation import sampled_visitation
from ctrlinf.bridge.visitation import visitation_error

__all__ = [
    "Oracle",
    "sb3",
    "suite",
    "QReport",
    "PolicyReport",
    "soft_q_learning",
    "SoftQResult",
    "sac_discrete",
    "SACResult",
    "entropy_policy_gradient",
    "PolicyGradientResult",
    "irl_gradient_importance_sampled",
    "SampledGradient",
    "exact_maxent_gradient",
    "enumerate_trajectories",
    "TrajectorySet",
    "optimal_discriminator",
    "gcl_discriminator",
    "GCLDiscriminator",
    "gail_discriminator",
    "GAILDiscriminator",
    "exact_gail_optimum",
    "sampled_visitation",
    "exact_visitation",
    "visitation_error",
    "VisitationError",
    "MLP",
    "Adam",
    "SGD",
    "ReplayBuffer",
    "gail",
    "GAILResult",
    "discounted_pair_weights",
]
