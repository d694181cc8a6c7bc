"""The oracle: exact soft solution, exact policy evaluation, and the reports built on them."""
import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import logsumexp

import ctrlinf as ci
from ctrlinf.bridge import Oracle
from enumeration import all_trajectories, dynamics_probability


def random_policy(rng, shape):
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


def enumerated_soft_return(mdp, policy, temperature):
    """Σ_τ p_π(τ) Σ_t γ^t (r − α log π_t): the definition of Σ_s p0(s) V^π_0(s)."""
    P, r, T, g = mdp.transition_tensor(), mdp.r, mdp.horizon, mdp.gamma
    total = 0.0
    for states, actions in all_trajectories(mdp.n_states, mdp.n_actions, T):
        pi = policy[np.arange(T), states, actions]
        prob = dynamics_probability(P, mdp.p0, states, actions) * pi.prod()
        if prob > 0:
            total += prob * np.sum(g ** np.arange(T) * (r[states, actions]
                                                        - temperature * np.log(pi)))
    return total


@pytest.mark.parametrize("horizon", [3, None])
@pytest.mark.parametrize("temperature", [1.0, 0.3])
def test_oracle_is_the_soft_solution(horizon, temperature):
    mdp = ci.envs.random_mdp(4, 3, seed=1, horizon=horizon, gamma=0.9)
    orc = Oracle(mdp, temperature=temperature)
    sol = ci.solve(mdp, mode="soft", temperature=temperature)
    assert_allclose(orc.Q, sol.Q, atol=1e-9)
    assert_allclose(orc.V, sol.V, atol=1e-9)
    assert_allclose(orc.policy, sol.policy, atol=1e-12)
    # The optimal policy is its own evaluation: V^{π*} = V*, Q^{π*} = Q*.
    assert_allclose(orc.evaluate(orc.policy), orc.V, atol=1e-8)
    assert_allclose(orc.evaluate_q(orc.policy), orc.Q, atol=1e-8)


@pytest.mark.parametrize("gamma", [1.0, 0.8])
def test_evaluate_equals_enumeration(gamma):
    mdp = ci.envs.random_mdp(3, 2, seed=4, horizon=3, gamma=gamma)
    rng = np.random.default_rng(0)
    policy = random_policy(rng, (3, 3, 2))
    orc = Oracle(mdp, temperature=0.7)
    V = orc.evaluate(policy)
    assert V.shape == (3, 3)
    assert_allclose(mdp.p0 @ V[0], enumerated_soft_return(mdp, policy, 0.7), rtol=1e-12)


def test_evaluate_infinite_horizon_equals_iterated_backup():
    mdp = ci.envs.random_mdp(5, 3, seed=2, horizon=None, gamma=0.8)
    policy = random_policy(np.random.default_rng(1), (5, 3))
    orc = Oracle(mdp, temperature=0.5)
    P = mdp.transition_tensor()
    entropy_reward = (policy * (mdp.r - 0.5 * np.log(policy))).sum(axis=1)
    V = np.zeros(5)
    for _ in range(400):   # contraction 0.8^400 ~ 1e-39
        V = entropy_reward + 0.8 * (policy * (P @ V)).sum(axis=1)
    assert_allclose(orc.evaluate(policy), V, atol=1e-10)
    assert_allclose(orc.evaluate_q(policy), mdp.r + 0.8 * P @ V, atol=1e-10)


def test_zero_probability_actions_contribute_nothing():
    # 0 log 0 = 0: a deterministic policy's soft value is its plain return.
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=4)
    greedy = np.zeros((3, 2))
    greedy[:, 1] = 1.0
    orc = Oracle(mdp, temperature=1.0)
    hard = Oracle(mdp, temperature=1e-3).evaluate(greedy)
    assert_allclose(orc.evaluate(greedy), hard, atol=1e-12)
    assert np.all(np.isfinite(orc.compare_policy(greedy).kl))


@pytest.mark.parametrize("horizon", [5, None])
def test_value_gap_is_alpha_times_discounted_kl(horizon):
    # V*_0 − V^π_0 = α E_π Σ_t γ^t KL(π_t ‖ π*_t): the identity the report rests on.
    gamma, alpha = 0.9, 0.6
    mdp = ci.envs.random_mdp(6, 3, seed=5, horizon=horizon, gamma=gamma)
    orc = Oracle(mdp, temperature=alpha)
    rng = np.random.default_rng(3)
    for _ in range(3):
        pi = random_policy(rng, (6, 3) if horizon is None else (5, 6, 3))
        rep = orc.compare_policy(pi)
        total = 1 / (1 - gamma) if horizon is None else np.sum(gamma ** np.arange(5))
        assert rep.value_gap > 0 and rep.kl > 0
        assert_allclose(rep.value_gap, alpha * total * rep.kl, rtol=1e-9)
        assert_allclose(rep.value, mdp.p0 @ np.atleast_2d(orc.evaluate(pi))[0])
        assert_allclose(rep.relative_value_gap, rep.value_gap / abs(rep.optimal_value))
    best = orc.compare_policy(orc.policy)
    assert abs(best.value_gap) < 1e-9 and abs(best.kl) < 1e-12
    uniform = orc.compare_policy(np.full((6, 3), 1 / 3))
    assert_allclose(uniform.normalised_value_gap, 1.0)


def test_callable_policy_matches_array():
    mdp = ci.envs.random_mdp(4, 2, seed=7, horizon=6)
    pi = random_policy(np.random.default_rng(0), (4, 2))
    orc = Oracle(mdp, temperature=1.0)
    assert orc.compare_policy(lambda s: pi[s]) == orc.compare_policy(pi)
    # A stationary policy is used at every time step of a finite horizon.
    assert_allclose(orc.evaluate(pi), orc.evaluate(np.broadcast_to(pi, (6, 4, 2))))


@pytest.mark.parametrize("horizon", [4, None])
def test_occupancy_equals_marginals_of_the_optimal_policy(horizon):
    mdp = ci.envs.random_mdp(5, 2, seed=3, horizon=horizon, gamma=0.9)
    orc = Oracle(mdp, temperature=1.0)
    state, state_action = orc.occupancy(orc.policy)
    expected_state, expected_state_action = ci.marginals(mdp, orc.solution)
    assert_allclose(state, expected_state, atol=1e-12)
    assert_allclose(state_action, expected_state_action, atol=1e-12)


def test_compare_q():
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=4)
    orc = Oracle(mdp, temperature=1.0)
    Q_hat = orc.Q.copy()
    Q_hat[2, 1, 0] += 0.5
    rep = orc.compare_q(Q_hat)
    assert rep.max_abs_error == pytest.approx(0.5) and rep.worst == (2, 1, 0)
    weights = orc.occupancy(orc.policy)[1]
    assert rep.weighted_abs_error == pytest.approx(0.5 * weights[2, 1, 0] / weights.sum())
    # A stationary estimate is compared with every Q*_t; custom weights are normalised.
    flat = orc.compare_q(orc.Q[0], weights=np.ones((3, 2)))
    assert flat.max_abs_error == pytest.approx(np.abs(orc.Q - orc.Q[0]).max())
    assert flat.weighted_abs_error == pytest.approx(np.abs(orc.Q - orc.Q[0]).mean())


def test_stationary_oracle_is_the_infinite_horizon_one():
    mdp = ci.envs.random_mdp(4, 2, seed=0, horizon=10)
    orc = Oracle.stationary(mdp, gamma=0.9, temperature=0.5)
    assert orc.mdp.horizon is None and orc.mdp.gamma == 0.9 and orc.Q.shape == (4, 2)
    assert_allclose(orc.V, ci.solve(mdp.replace(horizon=None, gamma=0.9), temperature=0.5).V)


@pytest.mark.parametrize("call, error, message", [
    (lambda o: Oracle("mdp"), TypeError, "mdp must be a ctrlinf.TabularMDP"),
    (lambda o: Oracle(o.mdp, temperature=-1), ValueError, "temperature must be a finite number >= 0"),
    (lambda o: Oracle(o.mdp, temperature="1"), TypeError, "temperature must be a finite number"),
    (lambda o: o.evaluate(np.full((3, 3), 1 / 3)), ValueError,
     r"pi has shape \(3, 3\), expected \(T, S, A\) = \(4, 3, 2\) or .*\(S, A\) = \(3, 2\)"),
    (lambda o: o.evaluate(np.array([[1.5, -0.5]] * 3)), ValueError,
     r"pi\[0, 0, 1\] is -0.5, expected a probability"),
    (lambda o: o.evaluate(np.full((3, 2), 0.4)), ValueError,
     r"pi\[0, 0(, :)?\] sums to 0.8, expected 1"),
    (lambda o: o.evaluate(lambda s: [1.0]), ValueError,
     r"pi\(states\) returned shape \(1,\), expected \(S, A\) = \(3, 2\)"),
    (lambda o: o.compare_q(lambda s: np.zeros(3)), ValueError,
     r"Q_hat\(states\) returned shape \(3,\)"),
    (lambda o: o.compare_q(o.Q, states="some"), ValueError, "states must be one of"),
    (lambda o: o.compare_q(np.full((3, 2), np.nan)), ValueError, "Q_hat is not finite"),
    (lambda o: o.compare_v(np.zeros(4)), ValueError, r"V_hat has shape \(4,\)"),
    (lambda o: Oracle.for_model(o.mdp, object()), TypeError, "model.gamma"),
    (lambda o: Oracle(o.mdp, tie_tol=-1), ValueError, "tie_tol must be a finite number >= 0"),
    (lambda o: o.compare_q(np.zeros((3, 3))), ValueError, r"Q_hat has shape \(3, 3\)"),
    (lambda o: o.compare_q(np.zeros(2)), ValueError, r"Q_hat has shape \(2,\)"),
    (lambda o: o.compare_q(o.Q, weights=-np.ones((3, 2))), ValueError,
     "weights must be finite and non-negative"),
])
def test_errors(call, error, message):
    orc = Oracle(ci.envs.random_mdp(3, 2, seed=0, horizon=4))
    with pytest.raises(error, match=message):
        call(orc)


def test_infinite_horizon_rejects_time_indexed_policies():
    orc = Oracle(ci.envs.random_mdp(3, 2, seed=0, horizon=None, gamma=0.5))
    with pytest.raises(ValueError,
                       match=r"pi has shape \(4, 3, 2\); an infinite-horizon MDP needs a "
                             r"stationary \(S, A\) = \(3, 2\) policy"):
        orc.evaluate(np.full((4, 3, 2), 0.5))


# -- temperature 0: ordinary RL ------------------------------------------------------
def enumerated_return(mdp, policy):
    return enumerated_soft_return(mdp, policy, 0.0)


@pytest.mark.parametrize("horizon", [4, None])
def test_temperature_zero_is_the_hard_solution(horizon):
    mdp = ci.envs.random_mdp(5, 3, seed=2, horizon=horizon, gamma=0.9)
    orc = Oracle(mdp, temperature=0.0)
    hard = ci.solve(mdp, mode="hard", tol=1e-13)
    assert_allclose(orc.Q, hard.Q, atol=1e-9)
    assert_allclose(orc.V, hard.V, atol=1e-9)
    assert np.all(orc.optimal_actions == (orc.policy > 0))
    rng = np.random.default_rng(0)
    for _ in range(3):
        pi = random_policy(rng, (5, 3))
        rep = orc.compare_policy(pi)
        # No entropy term: value is the return, and the gap is the return gap.
        assert rep.kl is None
        assert rep.value == rep.return_value and rep.value_gap == rep.return_gap > 0
        assert_allclose(orc.evaluate(pi), orc.evaluate_return(pi))
        # Performance-difference lemma: gap = (Σ_t γ^t) · occupancy-weighted advantage loss.
        total = 1 / (1 - 0.9) if horizon is None else np.sum(0.9 ** np.arange(4))
        assert_allclose(rep.return_gap, total * rep.advantage_loss, rtol=1e-9)
        assert 0 < rep.optimal_action_fraction < 1
    best = orc.compare_policy(orc.policy)
    assert abs(best.return_gap) < 1e-9 and best.optimal_action_fraction == pytest.approx(1)
    assert best.worst_state is None and best.worst_state_regret == 0


def test_temperature_zero_evaluate_is_the_enumerated_return():
    mdp = ci.envs.random_mdp(3, 2, seed=4, horizon=3, gamma=0.8)
    policy = random_policy(np.random.default_rng(0), (3, 3, 2))
    V = Oracle(mdp, temperature=0).evaluate(policy)
    assert_allclose(mdp.p0 @ V[0], enumerated_return(mdp, policy), rtol=1e-12)


def tie_mdp():
    """Two identical actions everywhere plus one worse: every optimal action ties."""
    P = np.zeros((2, 3, 2))
    P[0, :2, 1] = P[1, :2, 0] = 1.0     # actions 0 and 1 switch state
    P[:, 2, :] = [1.0, 0.0]             # action 2 goes to state 0
    r = np.array([[1.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    return ci.TabularMDP(P, r, p0=[1.0, 0.0], horizon=None, gamma=0.9)


def test_near_deterministic_reports_do_not_explode_at_small_temperature():
    # An exactly optimal policy that breaks the tie its own way: at α = 0.01 the
    # soft-optimal π* shares ties, so KL(π ‖ π*) = log 2 per step, while the return
    # gap, the advantage loss and the fraction of optimal actions say "optimal".
    mdp = tie_mdp()
    first = np.array([[1.0, 0.0, 0.0]] * 2)
    soft = Oracle(mdp, temperature=0.01).compare_policy(first)
    assert_allclose(soft.kl, np.log(2), rtol=1e-6)
    assert abs(soft.return_gap) < 1e-12 and abs(soft.advantage_loss) < 1e-12
    assert soft.optimal_action_fraction == pytest.approx(1.0)
    assert soft.return_value == pytest.approx(soft.optimal_return)
    hard = Oracle(mdp, temperature=0.0).compare_policy(first)
    assert abs(hard.value_gap) < 1e-12 and hard.optimal_action_fraction == pytest.approx(1)


@pytest.mark.parametrize("horizon", [5, None])
def test_soft_reports_carry_the_return_only_numbers(horizon):
    mdp = ci.envs.random_mdp(4, 3, seed=6, horizon=horizon, gamma=0.9)
    orc = Oracle(mdp, temperature=0.5)
    hard = Oracle(mdp, temperature=0.0)
    pi = random_policy(np.random.default_rng(1), (4, 3))
    rep = orc.compare_policy(pi)
    assert_allclose(rep.return_value, mdp.p0 @ np.atleast_2d(hard.evaluate(pi))[0])
    assert_allclose(rep.optimal_return, mdp.p0 @ np.atleast_2d(hard.V)[0])
    assert rep.return_gap == pytest.approx(hard.compare_policy(pi).return_gap)
    assert rep.value > rep.return_value     # the entropy bonus is positive
    uniform = orc.compare_policy(np.full((4, 3), 1 / 3))
    assert uniform.mean_entropy == pytest.approx(np.log(3))
    assert orc.compare_policy(hard.policy).mean_entropy < 1e-12 or \
        not np.all(hard.policy.max(-1) == 1)
    # The soft-optimal policy gives up return for entropy; the greedy one gives up value.
    assert orc.compare_policy(orc.policy).return_gap > 0
    assert orc.compare_policy(hard.policy).value_gap > 0


def test_worst_state_is_the_largest_contribution():
    mdp = tie_mdp()
    orc = Oracle(mdp, temperature=0.0)
    pi = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])      # wrong action in state 1
    rep = orc.compare_policy(pi)
    assert rep.worst_state == 1
    assert rep.worst_state_regret == pytest.approx(orc.V[1] - orc.Q[1, 2])
    assert rep.optimal_action_fraction == pytest.approx(orc.occupancy(pi)[0][0])
    assert rep.state_regret[0] == pytest.approx(0) and rep.state_regret[1] > 0


# -- reachable states -----------------------------------------------------------------
def island_mdp(horizon=None):
    """States 0 and 1 swap; state 2 is never reached from p0 = δ_0."""
    P = np.zeros((3, 2, 3))
    P[0, :, 1] = P[1, :, 0] = P[2, :, 2] = 1.0
    r = np.array([[0.0, 1.0], [1.0, 0.0], [5.0, 5.0]])
    return ci.TabularMDP(P, r, p0=[1.0, 0.0, 0.0], horizon=horizon, gamma=0.9)


def test_reachable_states():
    assert Oracle(island_mdp()).decision_states.tolist() == [True, True, False]
    finite = Oracle(island_mdp(horizon=3)).decision_states
    assert finite.tolist() == [[True, False, False], [False, True, False],
                               [True, False, False]]


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_compare_q_looks_at_reachable_states_by_default(temperature):
    orc = Oracle(island_mdp(), temperature=temperature)
    Q_hat = orc.Q.copy()
    Q_hat[2] += 100.0          # never reached: an agent learns nothing there
    Q_hat[1, 0] += 0.25
    rep = orc.compare_q(Q_hat)
    assert rep.max_abs_error == pytest.approx(0.25) and rep.worst == (1, 0)
    assert rep.worst_state == 1 and rep.n_states == 2 and rep.states == "reachable"
    assert np.isnan(rep.state_error[2]) and rep.state_error[0] == 0
    everything = orc.compare_q(Q_hat, states="all")
    assert everything.max_abs_error == pytest.approx(100.0) and everything.worst_state == 2
    # Callables are batched: called once with every state.
    assert orc.compare_q(lambda s: Q_hat[s]) == rep


def test_dead_states_are_not_decision_states():
    P = np.zeros((2, 2, 2))
    P[0, :, 1] = P[1, :, 1] = 1.0
    mdp = ci.TabularMDP(P, [[1.0, 0.0], [0.0, 0.0]], p0=[1.0, 0.0], horizon=None, gamma=0.9)
    assert Oracle(mdp).decision_states.tolist() == [True, True]
    assert Oracle(mdp, terminate_dead_states=True).decision_states.tolist() == [True, False]


@pytest.mark.parametrize("horizon", [4, None])
def test_critic_errors_against_the_actors_own_values(horizon):
    mdp = ci.envs.random_mdp(4, 2, seed=8, horizon=horizon, gamma=0.9)
    orc = Oracle(mdp, temperature=0.0)
    pi = random_policy(np.random.default_rng(2), (4, 2))
    V_pi, Q_pi = orc.evaluate(pi), orc.evaluate_q(pi)
    assert orc.compare_v(V_pi, pi=pi).max_abs_error < 1e-12
    assert orc.compare_q(Q_pi, pi=pi).max_abs_error < 1e-12
    shifted = orc.compare_v(V_pi + 0.5, pi=pi)
    assert shifted.max_abs_error == pytest.approx(0.5)
    assert shifted.weighted_abs_error == pytest.approx(0.5)
    assert orc.compare_v(V_pi, pi=pi) == orc.compare_v(lambda s: V_pi[..., s].T, pi=pi) \
        if horizon is None else True
    assert orc.compare_v(orc.V).max_abs_error < 1e-12


class FakeModel:
    """What Oracle.for_model reads from a Stable-Baselines3 model: gamma and the spaces."""

    def __init__(self, gamma, n_states, n_actions):
        import gymnasium as gym
        self.gamma = gamma
        self.observation_space = gym.spaces.Discrete(n_states)
        self.action_space = gym.spaces.Discrete(n_actions)


def test_for_model_reads_the_discount():
    mdp = ci.envs.random_mdp(4, 2, seed=0, horizon=10)
    orc = Oracle.for_model(mdp, FakeModel(0.8, 4, 2))
    assert orc.mdp.horizon is None and orc.mdp.gamma == 0.8 and orc.temperature == 0
    assert_allclose(orc.V, ci.solve(mdp.replace(horizon=None, gamma=0.8), mode="hard").V)
    with pytest.raises(ValueError, match="model.action_space has n=3, but mdp has 2 actions"):
        Oracle.for_model(mdp, FakeModel(0.8, 4, 3))


def test_frozenlake_soft_oracle_at_small_temperature_is_not_nearly_greedy():
    # The claims of examples/sb3_frozenlake.py: at α = 0.01 the soft reference is far
    # from the ordinary-RL one on FrozenLake's small rewards.
    gym = pytest.importorskip("gymnasium")
    mdp = ci.envs.from_gymnasium(gym.make("FrozenLake-v1"), horizon=100)
    soft = Oracle.stationary(mdp, 0.9, temperature=0.01, terminate_dead_states=True)
    hard = Oracle.stationary(mdp, 0.9, temperature=0.0, terminate_dead_states=True)
    best = soft.compare_policy(soft.policy)
    assert round(best.mean_entropy, 2) == 0.64 and np.log(4) > 1.38
    assert round(best.return_value, 3) == 0.052 and round(best.optimal_return, 3) == 0.069
    assert 0.2 < best.return_gap / best.optimal_return < 0.3           # "a quarter"
    uniform = soft.compare_policy(np.full((17, 4), 0.25))
    assert soft.compare_policy(hard.policy).value < uniform.value


# -- pictures ---------------------------------------------------------------------------
def test_error_map_marks_the_worst_reachable_cell():
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.patches import Circle

    grid = ci.envs.gridworld((2, 3), walls=[(1, 1)], goals=[(0, 2)], start=(1, 0),
                             horizon=None, gamma=0.9)
    orc = Oracle(grid, temperature=0.0)
    Q_hat = orc.Q.copy()
    Q_hat[3] += 0.7                              # state 3 = cell (1, 0)
    report = orc.compare_q(Q_hat)
    assert report.worst_state == 3 and np.isnan(report.state_error[4])   # the wall
    ax = ci.plot.error_map(grid, report.state_error)
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == 1 and circles[0].center == (0, 1)
    with pytest.raises(ValueError, match=r"errors\[0\] is negative"):
        ci.plot.error_map(grid, -np.ones(6))


def test_error_curves_plot_against_steps():
    import matplotlib
    matplotlib.use("Agg")

    history = {"step": [0, 100, 200], "return_gap": [2.0, 0.0, 0.5], "q": [np.nan] * 3}
    ax = ci.plot.error_curves(history, logy=True)
    (line,) = ax.get_lines()                      # the all-NaN column is left out
    assert line.get_label() == "return_gap" and list(line.get_xdata()) == [0, 100, 200]
    assert np.isnan(line.get_ydata()[1])          # 0 cannot sit on a log axis
    with pytest.raises(ValueError, match="no numeric column x='t'"):
        ci.plot.error_curves(history, x="t")
    with pytest.raises(ValueError, match="no numeric key 'kl'"):
        ci.plot.error_curves(history, keys=["kl"])


@pytest.mark.parametrize("temperature", [0.0, 0.5])
def test_forbidden_actions(temperature):
    # r = −inf forbids an action: Q* is −inf there, comparisons skip it, and a policy
    # that takes it is an error naming the state and the action.
    mdp = ci.envs.random_mdp(4, 3, seed=1, horizon=None, gamma=0.9)
    r = mdp.r.copy()
    r[2, 1] = -np.inf
    orc = Oracle(mdp.replace(r=r), temperature=temperature)
    assert np.isneginf(orc.Q[2, 1]) and np.all(np.isfinite(orc.V))
    assert orc.policy[2, 1] == 0 and not orc.optimal_actions[2, 1]
    Q_hat = np.where(np.isfinite(orc.Q), orc.Q, 0.0)
    assert orc.compare_q(Q_hat, states="all").max_abs_error < 1e-12
    pi = np.full((4, 3), 1 / 3)
    pi[2] = [0.5, 0.0, 0.5]
    report = orc.compare_policy(pi)
    assert np.isfinite(report.return_gap) and report.return_gap > 0
    assert report.uniform_return == pytest.approx(report.return_value)
    with pytest.raises(ValueError, match="forbid.* action 1 in state 2"):
        orc.compare_policy(np.full((4, 3), 1 / 3))


# -- reachability follows allowed actions only (issue 18, item 4) --------------------------
def forbidden_door_mdp(horizon=None):
    """State 0 may only stay (action 0); its forbidden action 1 (r = −inf) would enter
    state 2, which pays 9 per step (V* = 90 at γ = 0.9). State 1 is never entered."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 0] = P[0, 1, 2] = 1.0
    P[1, :, 1] = P[2, :, 2] = 1.0
    r = np.array([[0.0, -np.inf], [0.0, 0.0], [9.0, 9.0]])
    return ci.TabularMDP(P, r, p0=[1.0, 0.0, 0.0], horizon=horizon, gamma=0.9)


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_a_state_behind_a_forbidden_action_is_not_a_decision_state(temperature):
    orc = Oracle(forbidden_door_mdp(), temperature=temperature)
    assert orc.decision_states.tolist() == [True, False, False]
    # An agent never sees state 2 and learns nothing there: Q_hat = 0 is no error.
    Q_hat = np.where(np.isfinite(orc.Q), orc.Q, 0.0)
    Q_hat[2] = 0.0
    report = orc.compare_q(Q_hat)
    assert report.max_abs_error < 1e-12 and report.n_states == 1
    # There Q*(2, a) = 9 + γ V*(2) with V*(2) = (9 + α log 2)/(1 − γ): 90 at α = 0.
    V_2 = (9 + temperature * np.log(2)) / (1 - 0.9)
    assert orc.compare_q(Q_hat, states="all").max_abs_error == pytest.approx(9 + 0.9 * V_2)
    finite = Oracle(forbidden_door_mdp(horizon=3), temperature=temperature).decision_states
    assert finite.tolist() == [[True, False, False]] * 3


def enumerated_reachable(mdp, prior=None):
    """Per t, the states that trajectories through allowed actions visit with probability > 0."""
    P, T = mdp.transition_tensor(), mdp.horizon
    allowed = np.isfinite(mdp.r) if prior is None else np.isfinite(mdp.r) & (prior > 0)
    reach = np.zeros((T, mdp.n_states), dtype=bool)
    for states, actions in all_trajectories(mdp.n_states, mdp.n_actions, T):
        if dynamics_probability(P, mdp.p0, states, actions) == 0:
            continue
        for t in range(T):
            # s_t is entered through the actions taken before t (a_t itself may be anything).
            if allowed[states[:t], actions[:t]].all():
                reach[t, states[t]] = True
    return reach


@pytest.mark.parametrize("seed", range(6))
def test_reachable_states_equal_enumeration_with_masks_and_priors(seed):
    rng = np.random.default_rng(seed)
    mdp = ci.envs.random_mdp(4, 2, branching=1, seed=seed, horizon=4)
    r = mdp.r.copy()
    r[rng.random((4, 2)) < 0.3] = -np.inf
    r[np.isneginf(r).all(axis=1), 0] = 0.0                # every state keeps an action
    prior = (rng.random((4, 2)) < 0.7).astype(float)
    prior[prior.sum(axis=1) == 0, 1] = 1.0
    mdp = mdp.replace(r=r, p0=np.eye(4)[seed % 4])
    stationary = mdp.replace(horizon=None, gamma=0.9)
    expected = enumerated_reachable(mdp)
    assert np.array_equal(Oracle(mdp).decision_states, expected)
    assert np.array_equal(Oracle(stationary).decision_states, expected.any(axis=0))
    from ctrlinf.mdp import reachable_states

    for action_prior in (None, prior):
        expected = enumerated_reachable(mdp, action_prior)
        assert np.array_equal(reachable_states(mdp, action_prior), expected)
        # Infinite horizon: reachable at some time (4 states: within 4 steps).
        assert np.array_equal(reachable_states(stationary, action_prior), expected.any(axis=0))


# -- exact near γ = 1 (issue 18, item 5) ------------------------------------------------------
def one_state_mdp(gamma, r=(0.3, 1.0, -0.5)):
    return ci.TabularMDP(np.ones((1, 3, 1)), [list(r)], p0=[1.0], horizon=None, gamma=gamma)


@pytest.mark.parametrize("temperature", [0.0, 1e-3, 1e-2, 1.0])
@pytest.mark.parametrize("gamma", [0.99999, 0.9999999])
def test_stationary_oracle_is_exact_near_gamma_one(gamma, temperature):
    # One state that stays: V* = α log Σ_a e^{r_a/α} / (1 − γ) (max_a r_a / (1 − γ) at
    # α = 0), 10^5 and 10^7 times the one-step value; value iteration alone stops far off.
    r = np.array([0.3, 1.0, -0.5])
    exact = (temperature * logsumexp(r / temperature) if temperature else r.max()) / (1 - gamma)
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # no "not converged" warning either
        orc = Oracle.stationary(one_state_mdp(0.5), gamma, temperature=temperature)
    assert orc.V[0] == pytest.approx(exact, rel=1e-9)
    assert orc.compare_policy(orc.policy).value == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize("temperature", [0.0, 1e-2, 1.0])
def test_near_gamma_one_values_solve_the_bellman_equation_by_dense_algebra(temperature):
    mdp = ci.envs.random_mdp(6, 3, seed=3, horizon=None, gamma=0.99999)
    orc = Oracle(mdp, temperature=temperature)
    P, pi = mdp.transition_tensor(), orc.policy
    # V^π by a dense solve of (I − γ P_π) V = Σ_a π (r − α log π).
    taken = pi > 0
    log_pi = np.log(np.where(taken, pi, 1.0))
    reward = (pi * np.where(taken, mdp.r - temperature * log_pi, 0.0)).sum(axis=1)
    V = np.linalg.solve(np.eye(6) - 0.99999 * np.einsum("sa,sat->st", pi, P), reward)
    assert_allclose(orc.V, V, rtol=1e-9)
    # ... and no Bellman backup improves it: V is the optimum.
    Q = mdp.r + 0.99999 * P @ V
    backed_up = temperature * logsumexp(Q / temperature, axis=1) if temperature else Q.max(1)
    assert_allclose(backed_up, V, rtol=1e-9)


def test_tol_and_max_iter_are_exposed_and_checked():
    mdp = ci.envs.random_mdp(4, 2, seed=0, horizon=None, gamma=0.999)
    assert Oracle(mdp, max_iter=1).V == pytest.approx(Oracle(mdp).V, rel=1e-12)
    with pytest.raises(ValueError, match="max_iter must be a positive int"):
        Oracle(mdp, max_iter=0)
    with pytest.raises(ValueError, match="tol must be a positive finite number"):
        Oracle(mdp, tol=0.0)
    with pytest.raises(ValueError, match=r"tol=1e-300 is out of reach.*raise tol"):
        Oracle(mdp, temperature=1.0, tol=1e-300)


# -- one default: temperature 0 (issue 19, item 13) --------------------------------------
def test_temperature_zero_is_the_default_of_every_constructor():
    for constructor in (Oracle, Oracle.stationary, Oracle.for_model):
        assert inspect.signature(constructor).parameters["temperature"].default == 0.0
    mdp = ci.envs.random_mdp(4, 2, seed=1, horizon=5)
    hard = ci.solve(mdp, mode="hard")
    assert_allclose(Oracle(mdp).V, hard.V, atol=1e-12)
    assert Oracle(mdp).temperature == Oracle.stationary(mdp, 0.9).temperature == 0.0
    assert Oracle.for_model(mdp, FakeModel(0.9, 4, 2)).temperature == 0.0


def test_readme_and_tutorial_18_recommend_the_same_calls():
    # The code both show for ordinary RL: Oracle.stationary(world, gamma=...) with the
    # default temperature 0, and Oracle.for_model(world, model) for an SB3 model.
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    tutorial = (root / "tutorials" / "18_score_your_agent.py").read_text(encoding="utf-8")
    codes = ["\n".join(re.findall(r"```python\n(.*?)```", readme, flags=re.S)),
             "\n".join(line for line in tutorial.splitlines() if not line.startswith("#"))]
    for code in codes:
        assert re.search(r"Oracle\.stationary\(\w+, gamma=[\w.]+\)", code)
    assert re.search(r"Oracle\.for_model\(mdp, model\)", readme)
    assert re.search(r"Oracle\.for_model\(grid, (dqn|ppo)\)", codes[1])


# -- one tie rule (issue 20, item 2) ---------------------------------------------------------
def test_optimal_actions_use_the_cores_tie_rule():
    # A gap of 1.0005e-6 at |V| = 1000 is outside solve's hard tie rule
    # (tie_tol · max(1, |V|) = 1e-6): only action 0 is optimal, as solve says.
    mdp = ci.TabularMDP(np.ones((1, 2, 1)), [[1000.0, 1000.0 - 1.0005e-6]], p0=[1.0], horizon=1)
    orc = Oracle(mdp)
    hard = ci.solve(mdp, mode="hard")
    assert orc.tie_tol == ci.inference.HARD_TIE_TOLERANCE
    assert np.array_equal(orc.optimal_actions, hard.policy > 0)
    assert orc.optimal_actions.tolist() == [[[True, False]]]


@pytest.mark.parametrize("temperature", [0.0, 1.0, 1e-2, 1e-3])
def test_policy_iteration_backs_up_through_the_cores_operator(temperature, monkeypatch):
    # Issue 20: one backup step is ci.backup, here as in solve; the oracle keeps no soft
    # maximum of its own, and its policy is the core's (rows sum to one to round-off).
    import ctrlinf.bridge.oracle as oracle_module

    calls = []

    def counted(mdp, V_next, **options):
        calls.append(options["mode"])
        return ci.backup(mdp, V_next, **options)

    monkeypatch.setattr(oracle_module, "backup", counted)
    mdp = ci.envs.random_mdp(5, 3, seed=2, horizon=None, gamma=0.99)
    orc = Oracle(mdp, temperature=temperature)
    assert "hard" in calls and ("soft" in calls) is (temperature > 0)
    if temperature > 0:
        step = ci.backup(mdp, orc.V, mode="soft", temperature=temperature)
        np.testing.assert_allclose(orc.policy, step.policy, rtol=1e-9, atol=1e-12)
        # log π = (Q − V)/α, to the rounding of V/α (V of order 10^2 here).
        np.testing.assert_allclose(orc._log_policy, (orc.Q - orc.V[:, None]) / temperature,
                                   atol=1e-13 * np.abs(orc.V).max() / temperature)
    assert np.abs(orc.policy.sum(axis=1) - 1).max() < 1e-15
    source = Path(oracle_module.__file__).read_text()
    assert "logsumexp" not in source and "np.exp(shifted" not in source


@pytest.mark.parametrize("horizon", [4, None])
def test_policies_are_checked_by_the_one_policy_check(horizon):
    from ctrlinf import _checks

    orc = Oracle(ci.envs.random_mdp(3, 2, seed=0, horizon=horizon, gamma=0.9))
    for bad in (np.full((3, 2), 0.4), np.array([[1.5, -0.5]] * 3), np.full((3, 2), np.nan),
                [["a", "b"]] * 3):
        with pytest.raises((TypeError, ValueError)) as expected:
            _checks.policy(bad, 3, 2, horizon or 1, name="pi")
        with pytest.raises(type(expected.value), match=re.escape(str(expected.value))):
            orc.compare_policy(bad)


# -- readable reports (issue 19, item 14) --------------------------------------------------
def test_reports_print_a_short_table_and_name_the_worst_cell():
    grid = ci.envs.gridworld((2, 3), walls=[(1, 1)], goals=[(0, 2)], start=(1, 0),
                             horizon=None, gamma=0.9)
    orc = Oracle(grid)
    Q_hat = orc.Q.copy()
    Q_hat[3] += 0.7                                       # state 3 = cell (1, 0)
    q_report = orc.compare_q(Q_hat)
    assert q_report.worst_cell == grid.coords(3) == (1, 0)
    text = str(q_report)
    assert len(text.splitlines()) == 3 and "0.7 at (s, a) = (3, 0), cell (1, 0)" in text
    assert repr(q_report).startswith("QReport(max_abs_error=0.7")
    assert "worst_cell=(1, 0)" in repr(q_report) and "state_error" not in repr(q_report)
    assert "at s = 3, cell (1, 0)" in str(orc.compare_v(orc.V + np.eye(6)[3]))
    pi = orc.policy.copy()
    pi[3] = np.eye(grid.n_actions)[np.argmin(orc.Q[3])]  # the worst action in cell (1, 0)
    report = orc.compare_policy(pi)
    assert report.worst_state == 3 and report.worst_cell == (1, 0)
    lines = str(report).splitlines()
    assert len(lines) <= 10 and lines[0].startswith("policy report (temperature 0")
    assert any(line.split()[:2] == ["return", "gap"] and f"{report.return_gap:.4g}" in line
               for line in lines)
    assert "3, cell (1, 0), regret" in str(report)
    soft = Oracle(grid, temperature=0.5).compare_policy(pi)
    assert f"KL(π ‖ π*) {soft.kl:.4g}" in str(soft) and len(str(soft).splitlines()) <= 10
    # A plain TabularMDP has no cells.
    assert Oracle(island_mdp()).compare_q(np.zeros((3, 2))).worst_cell is None


def test_for_model_refuses_spaces_that_are_not_discrete():
    import gymnasium as gym

    mdp = ci.envs.random_mdp(4, 2, seed=0, horizon=10)
    model = FakeModel(0.9, 4, 2)
    model.observation_space = gym.spaces.Box(-1.0, 1.0, (3,))
    with pytest.raises(TypeError,
                       match="model.observation_space must be gymnasium.spaces.Discrete"):
        Oracle.for_model(mdp, model)
    model = FakeModel(0.9, 4, 2)
    model.action_space = gym.spaces.MultiDiscrete([2, 2])
    with pytest.raises(TypeError, match="model.action_space must be gymnasium.spaces.Discrete"):
        Oracle.for_model(mdp, model)
    model.action_space = gym.spaces.Discrete(2, start=1)
    with pytest.raises(ValueError, match="model.action_space must start at 0"):
        Oracle.for_model(mdp, model)


def test_scores_compute_what_depends_only_on_the_oracle_once(monkeypatch):
    # A learning curve scores at every checkpoint: the uniform policy's values and the
    # optimal policy's occupancy are the oracle's own, computed on first use only.
    from ctrlinf.bridge import oracle as oracle_module

    orc = Oracle(ci.envs.random_mdp(5, 3, seed=1, horizon=6), temperature=0.5)
    pi = np.full((5, 3), 1 / 3)
    first = orc.compare_policy(pi), orc.compare_q(orc.Q + 1.0)
    calls = {"evaluate_policy": 0, "occupancy": 0}
    for name in calls:
        real = getattr(oracle_module, name)
        monkeypatch.setattr(oracle_module, name, lambda *a, real=real, name=name, **k: (
            calls.__setitem__(name, calls[name] + 1), real(*a, **k))[1])
    again = orc.compare_policy(pi), orc.compare_q(orc.Q + 1.0)
    assert calls == {"evaluate_policy": 2, "occupancy": 1}   # pi's soft and hard values, d^pi
    assert again[0] == first[0] and again[1].max_abs_error == first[1].max_abs_error


@pytest.mark.parametrize("temperature", [0.0, 0.5])
def test_an_optimal_policy_scores_a_gap_of_exactly_zero(temperature):
    # V* and V^π come from different computations; their round-off (about 1e-16) used to
    # print as a negative normalised gap, "better than optimal", on the report card.
    for seed in range(20):
        orc = Oracle.stationary(ci.envs.random_mdp(6, 3, seed=seed, horizon=10),
                                gamma=0.9, temperature=temperature)
        report = orc.compare_policy(orc.policy)
        assert report.value_gap == 0.0 and report.normalised_value_gap == 0.0
        if temperature == 0:   # the soft optimum gives up return for entropy
            assert report.return_gap == 0.0 and report.normalised_return_gap == 0.0
        worse = orc.compare_policy(orc.uniform_policy())
        assert worse.value_gap > 0 and worse.normalised_value_gap == pytest.approx(1.0)
