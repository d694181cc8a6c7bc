"""Fuzz the oracle, its reports and the SB3 adapters (issue 18), and check every report
number against the core (issue 18, "cross-layer").

Each case either expects a clean error whose message is checked, or an answer checked
against an independent reference: a closed form, a dense linear solve, brute-force
enumeration, or the core function that owns the quantity (``ci.solve``,
``ci.evaluate_policy``, ``ci.occupancy``, ``ci.marginals``). Cases that import torch or
push float64 to its limits run in a child interpreter through ``test_fuzz``'s helper, so
a crash fails a test instead of killing pytest.
"""
import importlib.util
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import brentq
from scipy.special import logsumexp

import ctrlinf as ci
import test_fuzz
from ctrlinf.bridge import Oracle
from ctrlinf.mdp import reachable_states

TEMPERATURES = (0.0, 1e-3, 1e-2, 1.0)
# The SB3 cases need the sb3 extra; without it they skip (the suite passes on `.[test]`).
HAS_SB3 = all(importlib.util.find_spec(name) for name in ("torch", "stable_baselines3"))
NEEDS_SB3 = 'needs the sb3 extra: pip install torch==2.13.0, then pip install -e ".[sb3]"'


def random_mdp(horizon, seed=0, masked=True):
    """4 states, 3 actions; with ``masked`` two actions forbidden (r = −inf)."""
    mdp = ci.envs.random_mdp(4, 3, seed=seed, horizon=horizon, gamma=0.9)
    if not masked:
        return mdp
    r = mdp.r.copy()
    r[1, 2] = r[3, 0] = -np.inf
    return mdp.replace(r=r)


def uniform_allowed(mdp):
    allowed = np.isfinite(mdp.r)
    return allowed / allowed.sum(axis=1, keepdims=True)


def fake_model(gamma=0.9, observation_space=None, action_space=None):
    """What Oracle.for_model reads: gamma and the two spaces."""
    import gymnasium as gym

    model = type("Model", (), {})()
    model.gamma = gamma
    model.observation_space = observation_space or gym.spaces.Discrete(4)
    model.action_space = action_space or gym.spaces.Discrete(3)
    return model


# -- bad input: a clean error with a checked message ---------------------------------------
def error_cases():
    """(id, call, error class, message regex): every call must raise exactly that."""
    import gymnasium as gym

    finite, infinite = Oracle(random_mdp(4)), Oracle(random_mdp(None))
    S, A = 4, 3
    uniform = uniform_allowed(finite.mdp)
    grid = ci.envs.gridworld((2, 2), horizon=None, gamma=0.9)
    return [
        # policies
        ("pi-shape", lambda: finite.compare_policy(np.full((S, A + 1), 0.25)), ValueError,
         r"pi has shape \(4, 4\), expected \(T, S, A\) = \(4, 4, 3\)"),
        ("pi-too-many-steps", lambda: finite.evaluate(np.broadcast_to(uniform, (6, S, A))),
         ValueError, r"pi has shape \(6, 4, 3\), expected \(T, S, A\) = \(4, 4, 3\)"),
        ("pi-time-indexed-for-infinite", lambda: infinite.evaluate(
            np.broadcast_to(uniform, (4, S, A))), ValueError,
         r"pi has shape \(4, 4, 3\); an infinite-horizon MDP needs a stationary "
         r"\(S, A\) = \(4, 3\) policy"),
        ("pi-nan", lambda: finite.compare_policy(np.where(np.eye(S, A) > 0, np.nan, uniform)),
         ValueError, r"pi\[0, 0, 0\] is nan, expected a probability"),
        ("pi-negative", lambda: finite.evaluate(np.tile([1.5, -0.5, 0.0], (S, 1))), ValueError,
         r"pi\[0, 0, 1\] is -0.5, expected a probability"),
        ("pi-sum", lambda: infinite.compare_policy(np.full((S, A), 0.3)), ValueError,
         r"pi\[0, 0(, :)?\] sums to 0.9, expected 1"),
        ("pi-strings", lambda: finite.compare_policy([["a"] * A] * S), TypeError,
         "pi must be an array of real numbers"),
        ("pi-callable-shape", lambda: finite.compare_policy(lambda s: np.ones(len(s))), ValueError,
         r"pi\(states\) returned shape \(4,\), expected \(S, A\) = \(4, 3\)"),
        ("pi-callable-strings", lambda: finite.occupancy(lambda s: "x"), TypeError,
         r"pi\(states\) must be an array of real numbers"),
        ("pi-forbidden-action", lambda: infinite.compare_policy(np.full((S, A), 1 / 3)),
         ValueError,
         r"pi\[0, 1, 2\] is 0.333333 but r\[1, 2\] = -inf forbids action 2 in state 1"),
        # estimates
        ("Q_hat-shape", lambda: finite.compare_q(np.zeros((S, A + 1))), ValueError,
         r"Q_hat has shape \(4, 4\), expected \(4, 4, 3\) or \(4, 3\)"),
        ("Q_hat-nan", lambda: infinite.compare_q(np.full((S, A), np.nan)), ValueError,
         r"Q_hat is not finite at index \(0, 0\)"),
        ("Q_hat-complex", lambda: finite.compare_q(np.zeros((S, A), complex)), TypeError,
         "Q_hat must be an array of real numbers"),
        ("Q_hat-none", lambda: finite.compare_q(None), TypeError,
         "Q_hat must be an array of real numbers"),
        ("V_hat-callable-shape", lambda: infinite.compare_v(lambda s: np.zeros((len(s), 2))),
         ValueError, r"V_hat\(states\) returned shape \(4, 2\), expected \(S,\) = \(4,\)"),
        ("V_hat-inf", lambda: infinite.compare_v(np.full(S, np.inf)), ValueError,
         r"V_hat is not finite at index \(0,\)"),
        ("weights-nan", lambda: finite.compare_q(finite.Q, weights=np.full((S, A), np.nan)),
         ValueError, "weights must be finite and non-negative"),
        ("weights-zero", lambda: infinite.compare_q(infinite.Q, weights=np.zeros((S, A))),
         ValueError, "positive sum on the compared states"),
        ("weights-shape", lambda: finite.compare_q(finite.Q, weights=np.ones(5)), ValueError,
         r"weights has shape \(5,\), which does not broadcast to \(4, 4, 3\)"),
        ("states-value", lambda: finite.compare_q(finite.Q, states="some"), ValueError,
         "states must be one of"),
        ("states-type", lambda: finite.compare_v(finite.V, states=3), TypeError,
         "states must be one of"),
        # constructor arguments
        ("temperature-negative", lambda: Oracle(finite.mdp, temperature=-1.0), ValueError,
         "temperature must be a finite number >= 0"),
        ("temperature-string", lambda: Oracle(finite.mdp, temperature="0"), TypeError,
         "temperature must be a finite number >= 0"),
        ("temperature-subnormal", lambda: Oracle(finite.mdp, temperature=1e-310), ValueError,
         "temperature=1e-310 is below the smallest normal float"),
        ("temperature-huge", lambda: Oracle(finite.mdp, temperature=1e308), ValueError,
         "values overflow.*temperature"),
        ("tol-zero", lambda: Oracle(infinite.mdp, tol=0.0), ValueError,
         "tol must be a positive finite number"),
        ("tol-string", lambda: Oracle(infinite.mdp, tol="1e-9"), TypeError,
         "tol must be a positive finite number"),
        ("max_iter-float", lambda: Oracle(infinite.mdp, max_iter=10.5), TypeError,
         "max_iter must be a positive int"),
        ("tie_tol-nan", lambda: Oracle(infinite.mdp, tie_tol=np.nan), ValueError,
         "tie_tol must be a finite number >= 0"),
        ("terminate_dead_states-string", lambda: Oracle(finite.mdp, terminate_dead_states="yes"),
         TypeError, "terminate_dead_states must be a bool"),
        ("stationary-gamma-one", lambda: Oracle.stationary(finite.mdp, 1.0), ValueError,
         "horizon=None needs gamma < 1"),
        ("stationary-gamma-string", lambda: Oracle.stationary(finite.mdp, "0.9"), TypeError,
         "gamma must be"),
        # models
        ("model-without-gamma", lambda: Oracle.for_model(finite.mdp, object()), TypeError,
         "model.gamma"),
        ("model-bool-gamma", lambda: Oracle.for_model(finite.mdp, fake_model(gamma=True)),
         TypeError, "model.gamma"),
        ("model-box-observations", lambda: Oracle.for_model(finite.mdp, fake_model(
            observation_space=gym.spaces.Box(0.0, 1.0, (4,)))), TypeError,
         "model.observation_space must be gymnasium.spaces.Discrete, got Box"),
        ("model-multidiscrete-actions", lambda: Oracle.for_model(finite.mdp, fake_model(
            action_space=gym.spaces.MultiDiscrete([3, 3]))), TypeError,
         "model.action_space must be gymnasium.spaces.Discrete, got MultiDiscrete"),
        ("model-wrong-size", lambda: Oracle.for_model(finite.mdp, fake_model(
            observation_space=gym.spaces.Discrete(5))), ValueError,
         "model.observation_space has n=5, but mdp has 4 states"),
        ("model-start-one", lambda: Oracle.for_model(finite.mdp, fake_model(
            action_space=gym.spaces.Discrete(3, start=1))), ValueError,
         "model.action_space must start at 0"),
        ("sb3-not-a-model", lambda: ci.bridge.sb3.value_table(object()), TypeError,
         "model must be a Stable-Baselines3 model"),
        # reachability
        ("reachable-mdp", lambda: reachable_states("mdp"), TypeError,
         "mdp must be a ctrlinf.TabularMDP"),
        ("reachable-prior-shape", lambda: reachable_states(grid, np.ones((2, 2))), ValueError,
         r"action_prior has shape \(2, 2\)"),
        ("reachable-prior-zero-row", lambda: reachable_states(grid, np.zeros((4, 5))),
         ValueError, r"action_prior\[0, :\] is all zero"),
    ]


@pytest.mark.parametrize("case", error_cases(), ids=lambda case: case[0])
def test_bad_input_is_a_clean_error_with_the_message_checked(case):
    name, call, error, message = case
    if name.startswith("sb3-") and not HAS_SB3:
        pytest.skip(NEEDS_SB3)
    with pytest.raises(error, match=message):
        call()


# -- edge cases answered against an independent reference ---------------------------------
def chain(gamma, r0, r1):
    """State 0: action a moves to state a (deterministic); state 1 stays. Closed forms below."""
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = 1.0
    P[1, :, 1] = 1.0
    return ci.TabularMDP(P, [r0, r1], p0=[1.0, 0.0], horizon=None, gamma=gamma)


def soft_max(values, temperature):
    values = np.asarray(values, dtype=float)
    return temperature * logsumexp(values / temperature) if temperature else values.max()


@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize("gamma", [0.5, 0.999, 0.99999])
def test_two_state_chain_has_its_closed_form(gamma, temperature):
    # V(1) = softmax(r1)/(1 − γ); V(0) solves V0 = softmax(r0_0 + γ V0, r0_1 + γ V(1)),
    # a scalar fixed point found by bracketing (brentq), independent of the oracle.
    r0, r1 = [0.2, -0.1], [0.5, 0.3]
    V1 = soft_max(r1, temperature) / (1 - gamma)

    def residual(V0):
        return soft_max([r0[0] + gamma * V0, r0[1] + gamma * V1], temperature) - V0

    scale = 10 / (1 - gamma)
    V0 = brentq(residual, -scale, scale, xtol=1e-14 * scale, rtol=1e-15)
    orc = Oracle(chain(gamma, r0, r1), temperature=temperature)
    assert_allclose(orc.V, [V0, V1], rtol=1e-9)
    assert_allclose(orc.Q[0], [r0[0] + gamma * V0, r0[1] + gamma * V1], rtol=1e-9)


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_dead_states_terminate_with_value_zero(temperature):
    # State 0: stay (0.5 per step) or step into the dead state 1 (pays 1 once). Ended
    # there, V(1) = 0 and V(0) = softmax(0.5 + γ V(0), 1): a scalar fixed point.
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, :, 1] = 1.0
    mdp = ci.TabularMDP(P, [[0.5, 1.0], [0.0, 0.0]], p0=[1.0, 0.0], horizon=None, gamma=0.9)
    V0 = brentq(lambda v: soft_max([0.5 + 0.9 * v, 1.0], temperature) - v, -100, 100,
                xtol=1e-14)
    orc = Oracle(mdp, temperature=temperature, terminate_dead_states=True)
    assert_allclose(orc.V, [V0, 0.0], atol=1e-10)
    assert orc.decision_states.tolist() == [True, False]
    # Whatever a policy does in the dead state is ignored; its report is finite.
    pi = np.array([[0.5, 0.5], [0.0, 1.0]])
    report = orc.compare_policy(pi)
    assert report.value == pytest.approx(orc.evaluate(np.array([[0.5, 0.5], [1.0, 0.0]]))[0])


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_masked_uniform_policy_is_the_dense_solve(temperature):
    mdp = random_mdp(None)
    orc = Oracle(mdp, temperature=temperature)
    pi = uniform_allowed(mdp)
    taken = pi > 0
    reward = (pi * np.where(taken, mdp.r - temperature * np.log(np.where(taken, pi, 1)), 0)).sum(1)
    P_pi = np.einsum("sa,sat->st", pi, mdp.transition_tensor())
    V = np.linalg.solve(np.eye(4) - 0.9 * P_pi, reward)
    report = orc.compare_policy(pi)
    assert report.value == pytest.approx(mdp.p0 @ V, rel=1e-12)
    assert report.uniform_value == pytest.approx(mdp.p0 @ V, rel=1e-12)
    assert report.normalised_value_gap == pytest.approx(1.0)


def test_q_estimates_may_be_anything_where_nothing_is_compared():
    # NaN on a state no policy enters and −inf on forbidden actions are not errors.
    P = np.zeros((3, 2, 3))
    P[0, 0, 0] = P[0, 1, 2] = P[1, :, 1] = P[2, :, 2] = 1.0
    mdp = ci.TabularMDP(P, [[0.0, -np.inf], [1.0, 1.0], [9.0, 9.0]], p0=[1, 0, 0],
                        horizon=None, gamma=0.9)
    orc = Oracle(mdp)
    Q_hat = np.array([[0.25, -np.inf], [np.nan, np.nan], [np.nan, 0.0]])
    report = orc.compare_q(Q_hat)
    assert report.max_abs_error == 0.25 and report.worst == (0, 0) and report.n_states == 1
    assert np.isnan(report.state_error[1:]).all()


def test_finite_horizon_compares_a_stationary_estimate_with_every_step():
    orc = Oracle(random_mdp(4), temperature=1e-2)
    Q_hat = np.where(np.isfinite(orc.Q[0]), orc.Q[0], 0.0)
    errors = np.where(np.isfinite(orc.Q), np.abs(Q_hat - orc.Q), 0.0)
    errors = errors * reachable_states(orc.mdp)[..., None]
    report = orc.compare_q(Q_hat)
    assert report.max_abs_error == pytest.approx(errors.max())
    assert report.worst == tuple(int(i) for i in np.unravel_index(errors.argmax(), errors.shape))


def test_frozenlake_end_state_has_no_grid_cell():
    gym = pytest.importorskip("gymnasium")
    mdp = ci.envs.from_gymnasium(gym.make("FrozenLake-v1"), horizon=None, gamma=0.9)
    orc = Oracle(mdp)
    Q_hat = orc.Q.copy()
    Q_hat[16] += 1.0                        # the end state, which is no cell of the 4x4 map
    report = orc.compare_q(Q_hat, states="all")
    assert report.worst_state == 16 and report.worst_cell is None
    assert "cell" not in str(report).splitlines()[1]
    Q_hat[5] += 2.0
    assert orc.compare_q(Q_hat, states="all").worst_cell == (1, 1)


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_near_greedy_policies_keep_finite_reports(temperature):
    # π* at small α puts e^{−ΔQ/α} on worse actions; a greedy π has KL ~ ΔQ/α, finite.
    orc = Oracle(random_mdp(None, masked=False), temperature=temperature)
    greedy = np.eye(3)[np.argmax(orc.hard_Q, axis=1)]
    report = orc.compare_policy(greedy)
    assert report.return_gap == pytest.approx(0.0, abs=1e-12)
    assert report.optimal_action_fraction == pytest.approx(1.0)
    if temperature:
        total = 1 / (1 - 0.9)
        assert report.value_gap == pytest.approx(temperature * total * report.kl, rel=1e-6,
                                                 abs=1e-9)
        assert np.isfinite(report.kl) and report.kl > -1e-12


# -- crash-prone cases: torch and float64 limits, in a child interpreter --------------------
def _raises(call, error, message):
    """Call ``call``; raise AssertionError unless it raises ``error`` matching ``message``."""
    try:
        call()
    except error as raised:
        assert re.search(message, str(raised)), f"{type(raised).__name__}: {raised}"
        return None
    raise AssertionError(f"expected {error.__name__} matching {message!r}")


def _one_state(gamma, r=(0.3, 1.0, -0.5)):
    return ci.TabularMDP(np.ones((1, len(r), 1)), [list(r)], p0=[1.0], horizon=None, gamma=gamma)


def _closed_form_or_named_error(gamma, temperature, r=(0.3, 1.0, -0.5)):
    """One state: V* = softmax(r)/(1 − γ) to 1e-6, or a ValueError naming tol or r."""
    try:
        orc = Oracle(_one_state(gamma, r), temperature=temperature)
    except ValueError as error:
        assert re.search(r"\btol\b|\br\b", str(error)), str(error)
        return None
    exact = soft_max(np.array(r), temperature) / (1 - gamma)
    assert abs(orc.V[0] - exact) <= 1e-6 * abs(exact), (orc.V[0], exact)
    return orc.V


def _sb3_model(algorithm, env_id):
    import gymnasium as gym
    import stable_baselines3
    import torch

    torch.set_num_threads(1)
    return getattr(stable_baselines3, algorithm)("MlpPolicy", gym.make(env_id), seed=0)


def crash_prone_cases():
    """(id, call, names, expect) for ``test_fuzz.run_cases``; calls assert their reference."""
    mdp = ci.envs.random_mdp(4, 2, seed=0, horizon=10)
    box = "model.observation_space must be gymnasium.spaces.Discrete, got Box"
    sb3_cases = [
        ("sac-pendulum-for_model", lambda: _raises(
            lambda: Oracle.for_model(mdp, _sb3_model("SAC", "Pendulum-v1")), TypeError, box)),
        ("ppo-cartpole-for_model", lambda: _raises(
            lambda: Oracle.for_model(mdp, _sb3_model("PPO", "CartPole-v1")), TypeError, box)),
        ("ppo-cartpole-policy_array", lambda: _raises(
            lambda: ci.bridge.sb3.policy_array(_sb3_model("PPO", "CartPole-v1")), TypeError, box)),
        ("dqn-cartpole-q_table", lambda: _raises(
            lambda: ci.bridge.sb3.q_table(_sb3_model("DQN", "CartPole-v1")), TypeError, box)),
        ("sac-pendulum-value_table", lambda: _raises(
            lambda: ci.bridge.sb3.value_table(_sb3_model("SAC", "Pendulum-v1")), TypeError, box)),
    ]
    cases = (sb3_cases if HAS_SB3 else []) + [
        ("gamma-1e-12-from-one", lambda: _closed_form_or_named_error(1 - 1e-12, 1.0)),
        ("gamma-1e-12-from-one-hard", lambda: _closed_form_or_named_error(1 - 1e-12, 0.0)),
        ("rewards-1e290", lambda: _closed_form_or_named_error(0.9, 0.0, (1e290, -1e290, 0.0))),
        ("rewards-1e290-soft", lambda: _closed_form_or_named_error(0.9, 1.0, (1e290, 0.0, 1.0))),
        ("temperature-1e-300", lambda: _closed_form_or_named_error(0.9, 1e-300)),
    ]
    return [(id_, call, ("tol", "r", "temperature", "model"), None) for id_, call in cases]


def test_crash_prone_cases_in_a_child():
    test_fuzz.assert_child_passes(
        "import test_fuzz, test_fuzz_oracle; "
        "test_fuzz.run_cases(test_fuzz_oracle.crash_prone_cases())")


# -- cross-layer: every report number is the core's, at temperatures 0, 1e-3, 1e-2, 1 -----
@pytest.mark.parametrize("horizon", [4, None])
@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_every_report_number_is_the_cores(temperature, horizon):
    mdp = random_mdp(horizon, seed=2)
    orc = Oracle(mdp, temperature=temperature)
    mode = "soft" if temperature else "hard"
    optimum = ci.solve(mdp, mode=mode, temperature=temperature or 1.0, tol=1e-13)
    hard = ci.solve(mdp, mode="hard", tol=1e-13)
    for ours, core in ((orc.Q, optimum.Q), (orc.V, optimum.V), (orc.policy, optimum.policy),
                       (orc.hard_Q, hard.Q), (orc.hard_V, hard.V)):
        assert_allclose(ours, core, rtol=1e-9, atol=1e-9)
    assert np.array_equal(orc.optimal_actions, hard.policy > 0)
    assert np.array_equal(orc.occupancy(orc.policy)[0] > 0, ci.marginals(mdp, optimum)[0] > 0)
    assert_allclose(orc.occupancy(orc.policy)[0], ci.marginals(mdp, optimum)[0], atol=1e-9)

    rng = np.random.default_rng(7)
    allowed = np.isfinite(mdp.r)
    pi = rng.dirichlet(np.ones(3), size=(horizon or 1, 4)) * allowed
    pi = (pi / pi.sum(axis=-1, keepdims=True))[0 if horizon is None else slice(None)]
    report = orc.compare_policy(pi)

    def start(V):
        return float(mdp.p0 @ np.atleast_2d(V)[0])

    uniform = uniform_allowed(mdp)
    d = ci.occupancy(mdp, pi)
    assert_allclose(orc.occupancy(pi)[0], d, atol=1e-14)
    discounts = 0.9 ** np.arange(horizon) if horizon else None
    weights = d * (discounts / discounts.sum())[:, None] if horizon else d
    total = discounts.sum() if horizon else 1 / (1 - 0.9)
    regret = hard.V - (pi * np.where(pi > 0, hard.Q, 0.0)).sum(-1)
    entropy = -(pi * np.log(np.where(pi > 0, pi, 1.0))).sum(-1)
    expected = dict(
        return_value=start(ci.evaluate_policy(mdp, pi)[1]),
        optimal_return=start(hard.V),
        uniform_return=start(ci.evaluate_policy(mdp, uniform)[1]),
        value=start(ci.evaluate_policy(mdp, pi, temperature)[1]),
        optimal_value=start(optimum.V),
        uniform_value=start(ci.evaluate_policy(mdp, uniform, temperature)[1]),
        advantage_loss=float((weights * regret).sum()),
        optimal_action_fraction=float((weights * (pi * (hard.policy > 0)).sum(-1)).sum()),
        mean_entropy=float((weights * entropy).sum()),
    )
    for name, value in expected.items():
        assert getattr(report, name) == pytest.approx(value, rel=1e-9, abs=1e-10), name
    assert report.return_gap == pytest.approx(expected["optimal_return"]
                                              - expected["return_value"], abs=1e-10)
    # The two exact identities the reports rest on (performance difference; soft gap = KL).
    assert report.return_gap == pytest.approx(total * report.advantage_loss, rel=1e-8)
    if temperature:
        # log π* = (Q* − V*)/α from the core's arrays (π* itself underflows at small α).
        log_star = np.where(allowed, optimum.Q - optimum.V[..., None], 0.0) / temperature
        kl = (pi * np.where(pi > 0, np.log(np.where(pi > 0, pi, 1.0)) - log_star, 0.0)).sum(-1)
        assert report.kl == pytest.approx(float((weights * kl).sum()), rel=1e-6)
        assert report.value_gap == pytest.approx(temperature * total * report.kl, rel=1e-6)
    else:
        assert report.kl is None and report.value_gap == report.return_gap

    # Estimates: max and weighted errors against solve's Q* on the core's reachable states.
    Q_hat = np.where(allowed, rng.normal(size=(4, 3)), 0.0)
    compared = np.broadcast_to(reachable_states(mdp)[..., None] & allowed, optimum.Q.shape)
    error = np.where(compared, np.abs(Q_hat - np.where(compared, optimum.Q, 0.0)), 0.0)
    q_report = orc.compare_q(Q_hat)
    occupancy = ci.marginals(mdp, optimum)[1]
    assert q_report.max_abs_error == pytest.approx(error.max(), rel=1e-9)
    assert q_report.weighted_abs_error == pytest.approx(
        (occupancy * error).sum() / (occupancy * compared).sum(), rel=1e-9)
    V_pi = ci.evaluate_policy(mdp, pi, temperature)[1]
    v_report = orc.compare_v(V_pi + 0.25, pi=pi)
    assert v_report.max_abs_error == pytest.approx(0.25)
    assert v_report.weighted_abs_error == pytest.approx(0.25)
