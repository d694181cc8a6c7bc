"""One IRL evaluation: the prepared Problem against the core, and what a fit computes once.

Every IRL entry point evaluates through ``ci.irl.objectives.Problem``, which computes
what does not change with the reward once (the mask, ``D_E``, ``ρ̂``, the discounts) and
swaps the reward into the MDP without re-validating ``P`` and ``p0``. Here its value and
gradient are checked against the definitions written with the core's public functions
(``solve``, ``marginals``, ``log_evidence``, ``occupancy``), its MDP against
``TabularMDP.replace``, and a fit is checked to compute its data once, not per evaluation.
"""
import re

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import ctrlinf as ci
from ctrlinf.irl import objectives
from enumeration import random_mdp_arrays
from test_irl_objective import serial_numba  # noqa: F401  (autouse fixture)

#: (mode, horizon, gamma) of every objective: finite soft (discounted or not), soft with
#: horizon=None (the demos' log-likelihood) and exact (MaxEnt IRL, γ = 1).
CASES = [("soft", 4, 1.0), ("soft", 4, 0.8), ("soft", None, 0.7), ("exact", 4, 1.0)]


def random_problem(seed, mode, horizon, gamma, masked, kind):
    """A random MDP (some actions forbidden if ``masked``), expert demos, features and θ."""
    rng = np.random.default_rng(seed)
    S, A, K = int(rng.integers(2, 7)), int(rng.integers(2, 4)), int(rng.integers(1, 4))
    P, r, p0 = random_mdp_arrays(rng, S, A)
    if masked:
        forbid = rng.random((S, A)) < 0.4
        forbid[:, 0] = False                       # every state keeps an action
        r[forbid] = -np.inf
    mdp = ci.TabularMDP(P, r, p0, horizon=horizon, gamma=gamma)
    demos = ci.sample(mdp, ci.solve(mdp).policy, n=6, seed=seed,
                      length=5 if horizon is None else None)
    phi = {"state": rng.normal(size=(S, K)), "state_action": rng.normal(size=(S, A, K)),
           "sparse": sp.csr_matrix(rng.normal(size=(S, K)) * (rng.random((S, K)) < 0.7))}[kind]
    return mdp, demos, phi, rng.normal(size=K)


def objective_from_the_core(mdp, reward, D_E, mode):
    """Value and reward gradient of the IRL objective from the definitions (module docstring
    of ctrlinf.irl.objectives), each quantity asked of the core's public functions."""
    mdp_r = mdp.replace(r=np.where(np.isneginf(mdp.r), -np.inf, reward))
    sol = ci.solve(mdp_r, mode=mode, tol=objectives.value_iteration_tol(mdp_r))
    allowed = ~np.isneginf(mdp.r)
    expert_term = np.sum(D_E[allowed] * mdp_r.r[allowed])
    if mdp.horizon is None:
        # ρ̂(s) = Σ_a D_E(s, a) − γ Σ_{s',a'} P(s | s', a') D_E(s', a'), and the occupancy
        # Σ_t γ^t d_t from d_0 = ρ̂ (ci.occupancy returns (1 − γ) times it).
        rho = D_E.sum(axis=1) - mdp.gamma * np.einsum("iaj,ia->j", mdp.transition_tensor(), D_E)
        d = ci.occupancy(mdp_r, sol.policy, start=rho) / (1 - mdp.gamma)
        return expert_term - rho @ sol.V, D_E - d[:, None] * sol.policy
    visitation = np.einsum("t,tsa->sa", mdp.gamma ** np.arange(mdp.horizon),
                           ci.marginals(mdp_r, sol)[1])
    normaliser = ci.log_evidence(mdp_r, sol) if mode == "exact" else mdp.p0 @ sol.V[0]
    return expert_term - normaliser, D_E - visitation


def contract(phi, grad_sa):
    """Σ_{s,a} grad(s, a) φ(s, a), with state features broadcast over actions."""
    phi = phi.toarray() if sp.issparse(phi) else phi
    if phi.ndim == 2:
        return phi.T @ grad_sa.sum(axis=1)
    return np.einsum("sak,sa->k", phi, grad_sa)


@pytest.mark.parametrize("mode, horizon, gamma", CASES)
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("kind", ["state", "state_action", "sparse"])
@pytest.mark.parametrize("seed", range(4))
def test_objective_is_its_definition_from_the_core(mode, horizon, gamma, masked, kind, seed):
    mdp, demos, phi, theta = random_problem(seed, mode, horizon, gamma, masked, kind)
    D_E = ci.irl.expert_visitation(mdp, demos)
    reward = objectives.linear_reward(phi, theta, mdp.n_actions)
    value, grad_r = objective_from_the_core(mdp, reward, D_E, mode)
    for data in (demos, D_E):                         # demos, or their visitation as an array
        got_value, got_grad = ci.irl.objective(mdp, phi, data, theta, mode=mode)
        assert_allclose(got_value, value, rtol=1e-12, atol=1e-12)
        assert_allclose(got_grad, contract(phi, grad_r), rtol=1e-12, atol=1e-12)
    got_value, got_grad = ci.irl.reward_objective(mdp, reward, D_E, mode=mode)
    assert_allclose(got_value, value, rtol=1e-12, atol=1e-12)
    assert_allclose(got_grad, grad_r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode, horizon, gamma", CASES)
@pytest.mark.parametrize("masked", [False, True])
def test_a_problem_evaluated_many_times_gives_what_fresh_calls_give(mode, horizon, gamma, masked):
    # The prepared Problem keeps nothing from one reward to the next: evaluating a
    # sequence of rewards through one Problem equals evaluating each afresh, bit for bit,
    # truncated demos included.
    mdp, demos, phi, _ = random_problem(7, mode, horizon, gamma, masked, "state_action")
    if horizon is not None:
        demos = ci.Trajectories(demos.states, demos.actions,
                                lengths=np.arange(demos.n_trajectories) % horizon + 1)
    D_E, ends = ci.irl.demos.expert_occupancy(mdp, demos)
    problem = objectives.Problem(mdp, D_E, mode, ends)
    for theta in np.random.default_rng(8).normal(size=(4, phi.shape[-1])):
        reward = objectives.linear_reward(phi, theta, mdp.n_actions)
        value, grad, sol = problem.evaluate(reward)
        fresh_value, fresh_grad = ci.irl.reward_objective(mdp, reward, demos, mode=mode)
        assert value == fresh_value
        assert_array_equal(grad, fresh_grad)
        assert_array_equal(sol.V, ci.solve(mdp.replace(r=problem.reward_mdp(reward).r),
                                           mode=mode, tol=objectives.value_iteration_tol(
                                               problem.reward_mdp(reward))).V)


@pytest.mark.parametrize("masked", [False, True])
def test_the_problems_mdp_is_what_replace_makes(masked):
    # The reward swap is replace(r=...), which checks r alone and shares P, p0 and the
    # layout: its MDP is of the same class, with its own read-only copy of r.
    world = ci.envs.gridworld((2, 3), goals=[(0, 2)], horizon=3,
                              features=np.eye(6)[:, :2])
    if masked:
        r = np.array(world.r)
        r[1, 0] = r[4, 2] = -np.inf
        world = world.replace(r=r)
    reward = np.random.default_rng(0).normal(size=(world.n_states, world.n_actions))
    problem = objectives.Problem(world, np.zeros_like(reward), "soft")
    fast = problem.reward_mdp(reward)
    slow = world.replace(r=objectives.masked_reward(world, reward))
    assert type(fast) is type(slow) is ci.envs.GridMDP
    assert_array_equal(fast.r, slow.r)
    assert fast.reward_scale == slow.reward_scale
    assert fast.P is world.P and fast.p0 is world.p0
    assert (fast.horizon, fast.gamma, fast.shape) == (slow.horizon, slow.gamma, slow.shape)
    assert fast.features is world.features
    assert not fast.r.flags.writeable and fast.r.flags.c_contiguous
    reward[0, 0] += 1.0                                   # the caller's array stays theirs
    assert fast.r[0, 0] == slow.r[0, 0]


def test_a_reward_that_overflows_to_minus_infinity_is_named():
    # φθ = -1e310 overflows to -inf on an allowed action: earlier that read as a mask
    # (replace takes -inf as "forbidden"), and the objective came back finite and wrong.
    mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=np.zeros((1, 2)), p0=[1.0], horizon=2)
    phi = np.array([[[-1e300, 0.0], [0.0, 1.0]]])
    demos = ci.Trajectories([[0, 0]], [[0, 1]])
    message = re.escape("theta (max |theta| = 1e+10) is too large for these features: "
                        "r = features @ theta: r[0, 0] is -inf where mdp.r allows the "
                        "action, expected a finite number")
    for mode in ("soft", "exact"):
        with pytest.raises(ValueError, match=message), np.errstate(over="ignore"):
            ci.irl.objective(mdp, phi, demos, np.array([1e10, 0.5]), mode=mode)
    # Any reward that is not finite where mdp.r is: named, with the culprit first.
    problem = objectives.Problem(mdp, ci.irl.expert_visitation(mdp, demos), "soft")
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match=re.escape(f"culprit: r[0, 1] is {bad}")):
            problem.evaluate(np.array([[0.0, bad]]), culprit=lambda: "culprit")


def count_calls(monkeypatch, owner, name, counts):
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        counts[name] = counts.get(name, 0) + 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)


@pytest.mark.parametrize("horizon, gamma", [(4, 0.9), (None, 0.8)])
@pytest.mark.parametrize("fit", ["fit", "fit_deep"])
def test_a_fit_computes_its_data_once_not_per_evaluation(monkeypatch, horizon, gamma, fit):
    mdp, demos, phi, _ = random_problem(3, "soft", horizon, gamma, True, "state")
    counts = {}
    count_calls(monkeypatch, ci.irl.demos, "check_demos", counts)
    count_calls(monkeypatch, ci.irl.demos, "expert_visitation", counts)
    count_calls(monkeypatch, ci._checks, "features", counts)
    count_calls(monkeypatch, objectives, "demo_start_measure", counts)
    count_calls(monkeypatch, objectives, "forbidden", counts)
    count_calls(monkeypatch, ci.TabularMDP, "__init__", counts)       # replace() runs it
    count_calls(monkeypatch, ci._checks, "distribution", counts)      # p0's check
    kwargs = dict(hidden=(3,), seed=0) if fit == "fit_deep" else {}
    res = getattr(ci.irl, fit)(mdp, phi, demos, optimizer="gradient", max_iter=12, gtol=None,
                               progress=False, **kwargs)
    assert res.n_evaluations == 13
    assert counts.get("check_demos") == counts.get("expert_visitation") == 1
    assert counts.get("features") == 1
    assert counts.get("demo_start_measure", 0) == (1 if horizon is None else 0)
    assert counts.get("forbidden", 0) <= 2           # the Problem's mask, the result's reward
    assert counts.get("__init__", 0) == counts.get("distribution", 0) == 0
    # What the fit recorded is the public objective at the fitted parameters.
    if fit == "fit":
        value, grad = ci.irl.objective(mdp, phi, demos, res.theta)
        assert res.history["objective"][-1] == value
        assert res.history["grad_norm"][-1] == np.abs(grad).max()


# -- the expert visitation given as an array ------------------------------------------
def test_an_expert_visitation_array_is_checked():
    mdp = ci.TabularMDP(np.ones((2, 2, 2)) / 2, r=[[0.0, -np.inf], [0.0, 0.0]], p0=[1, 0],
                        horizon=2, gamma=0.5)                      # Σ_t γ^t = 1.5
    good = np.array([[1.0, 0.0], [0.25, 0.25]])
    assert ci.irl.objective(mdp, np.eye(2), good, np.zeros(2))[1].shape == (2,)
    for bad, message in [
            (np.nan, "demos[1, 0] is nan; an expert visitation is finite and >= 0"),
            (np.inf, "demos[1, 0] is inf; an expert visitation is finite and >= 0"),
            (-0.1, "demos[1, 0] is -0.1; an expert visitation is finite and >= 0")]:
        D_E = good.copy()
        D_E[1, 0] = bad
        with pytest.raises(ValueError, match=re.escape(message)):
            ci.irl.objective(mdp, np.eye(2), D_E, np.zeros(2))
    forbidden = np.array([[0.5, 0.5], [0.25, 0.25]])
    with pytest.raises(ValueError, match=re.escape(
            "demos[0, 1] is 0.5 > 0 on an action mdp.r forbids (-inf)")):
        ci.irl.objective(mdp, np.eye(2), forbidden, np.zeros(2))
    with pytest.raises(ValueError, match=re.escape(
            "demos sums to 1.5000001; an expert visitation over the horizon T=2 sums to "
            "Σ_t γ^t = 1.5")):
        ci.irl.objective(mdp, np.eye(2), good + [[1e-7, 0], [0, 0]], np.zeros(2))
    endless = mdp.replace(horizon=None)                            # mass in (0, 2]
    assert np.isfinite(ci.irl.objective(endless, np.eye(2), good, np.zeros(2))[0])
    for mass in (0.0, 2.5):
        with pytest.raises(ValueError, match=re.escape(
                f"demos sums to {mass:g}; an expert visitation sums to more than 0 and at "
                "most 1/(1 - γ) = 2")):
            ci.irl.objective(endless, np.eye(2), good * mass / 1.5, np.zeros(2))
