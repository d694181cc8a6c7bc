"""Every error ctrlinf.irl raises, with its message."""
import re

import numpy as np
import pytest
import scipy.sparse as sp

import ctrlinf as ci
from test_irl_objective import serial_numba  # noqa: F401  (autouse fixture)

S, A, T = 3, 2, 2


@pytest.fixture
def setup():
    """A 3-state chain: action 0 stays, action 1 moves right (state 2 absorbs)."""
    P = np.zeros((S, A, S))
    P[np.arange(S), 0, np.arange(S)] = 1.0
    P[np.arange(S), 1, np.minimum(np.arange(S) + 1, S - 1)] = 1.0
    mdp = ci.TabularMDP(P, np.zeros((S, A)), p0=[0.5, 0.5, 0.0], horizon=T)
    demos = ci.Trajectories([[0, 1], [1, 1]], [[1, 0], [0, 1]])
    return mdp, np.eye(S), demos


def raises(error, message):
    return pytest.raises(error, match=re.escape(message))


# -- demonstrations -----------------------------------------------------------------
def test_demos_must_be_trajectories(setup):
    mdp, phi, _ = setup
    with raises(TypeError, "demos must be a ctrlinf.Trajectories, got list (ci.irl.pad_episodes "
                           "stacks variable-length episodes; IRL also takes"):
        ci.irl.objective(mdp, phi, [[0, 1]], np.zeros(S))


def test_empty_demos(setup):
    mdp, phi, _ = setup
    empty = ci.Trajectories(np.zeros((0, T), dtype=int), np.zeros((0, T), dtype=int))
    with raises(ValueError, "demos is empty (0 trajectories of length 2); IRL needs at least"):
        ci.irl.fit(mdp, phi, empty, progress=False)


def test_demo_length_must_equal_horizon(setup):
    mdp, phi, _ = setup
    long = ci.Trajectories([[0, 1, 1]], [[1, 0, 0]])
    with raises(ValueError, "demos have length 3 but mdp.horizon is 2; every demonstration "
                            "must have one step per decision (pad shorter episodes with "
                            "ci.irl.pad_episodes, or use mdp.replace(horizon=3))"):
        ci.irl.objective(mdp, phi, long, np.zeros(S))


def test_demo_index_out_of_range(setup):
    mdp, phi, _ = setup
    with raises(ValueError, "actions[0, 1] is 2, expected an index in [0, 1]"):
        ci.irl.objective(mdp, phi, ci.Trajectories([[0, 1]], [[1, 2]]), np.zeros(S))
    with raises(ValueError, "states[0, 0] is -1, expected an index in [0, 2]"):
        ci.irl.log_likelihood(mdp, np.zeros(S), ci.Trajectories([[-1, 1]], [[1, 0]]))


def test_demos_the_mdp_cannot_produce(setup):
    mdp, phi, _ = setup
    with raises(ValueError, "demos[0] starts in state 2, which has p0 = 0 in this mdp"):
        ci.irl.objective(mdp, phi, ci.Trajectories([[2, 2]], [[0, 0]]), np.zeros(S))
    with raises(ValueError, "demos[1] moves from state 0 to 2 by action 1 at t=0, which has "
                            "P = 0 in this mdp"):
        ci.irl.objective(mdp, phi, ci.Trajectories([[0, 1], [0, 2]], [[1, 0], [1, 0]]),
                         np.zeros(S))


def test_scored_reward_must_be_finite(setup):
    mdp, _, demos = setup
    reward = np.zeros((S, A))
    reward[1, 0] = -np.inf
    with raises(ValueError, "reward[1, 0] is -inf, expected a finite number"):
        ci.irl.reward_objective(mdp, reward, demos)
    with raises(ValueError, "reward[1, 0] is -inf, expected a finite number"):
        ci.irl.expected_value_difference(mdp, reward)
    reward[1, 0] = np.nan
    with raises(ValueError, "reward[1, 0] is nan, expected a finite number"):
        ci.irl.log_likelihood(mdp, reward, demos)
    with raises(TypeError, "reward must be an array of real numbers, got dtype <U1"):
        ci.irl.log_likelihood(mdp, ["a"] * S, demos)


def test_pad_episodes_errors():
    good = [([0, 1], [1, 0])]
    with raises(TypeError, "length must be a positive int, got 2.0"):
        ci.irl.pad_episodes(good, 2.0, 0, 0)
    with raises(ValueError, "length must be a positive int, got 0"):
        ci.irl.pad_episodes(good, 0, 0, 0)
    with raises(ValueError, "pad_state must be an int or 'last', got 'first'"):
        ci.irl.pad_episodes(good, 2, "first", 0)
    with raises(TypeError, "pad_state must be an int, got None"):
        ci.irl.pad_episodes(good, 2, None, 0)
    with raises(TypeError, "pad_action must be an int, got True"):
        ci.irl.pad_episodes(good, 2, 0, True)
    with raises(ValueError, "episodes is empty; IRL needs at least one demonstration"):
        ci.irl.pad_episodes([], 2, 0, 0)
    with raises(ValueError, "episodes[1] must be a pair (states, actions)"):
        ci.irl.pad_episodes(good + [([0], [0], [0])], 2, 0, 0)
    with raises(ValueError, "episodes[0] has states of shape (2,) and actions of shape (1,), "
                            "expected two 1-d sequences of one length"):
        ci.irl.pad_episodes([([0, 1], [1])], 2, 0, 0)
    with raises(ValueError, "episodes[0] is empty; every episode needs at least one step"):
        ci.irl.pad_episodes([([], [])], 2, 0, 0)
    with raises(TypeError, "episodes[0] must hold int states and actions, got dtypes float64 "
                           "and int64"):
        ci.irl.pad_episodes([([0.0, 1.5], [1, 0])], 2, 0, 0)
    with raises(ValueError, "episodes[0] has 2 steps, more than length=1"):
        ci.irl.pad_episodes(good, 1, 0, 0)


def test_start_distribution_errors():
    with raises(TypeError, "demos must be a ctrlinf.Trajectories, got ndarray"):
        ci.irl.start_distribution(np.zeros((1, 2), dtype=int), 3)
    with raises(ValueError, "demos is empty; there is no start distribution"):
        ci.irl.start_distribution(ci.Trajectories(np.zeros((0, 2), int), np.zeros((0, 2), int)), 3)
    with raises(ValueError, "states[1, 0] is 3, expected an index in [0, 2]"):
        ci.irl.start_distribution(ci.Trajectories([[0], [3]], [[0], [0]]), 3)


# -- mdp, mode, features, theta -----------------------------------------------------------
def test_mdp_and_mode(setup):
    mdp, phi, demos = setup
    with raises(TypeError, "mdp must be a ctrlinf.TabularMDP, got dict"):
        ci.irl.objective({}, phi, demos, np.zeros(S))
    with raises(ValueError, "mode must be 'soft' (maximum causal entropy IRL) or 'exact' "
                            "(MaxEnt IRL), got 'hard'"):
        ci.irl.fit(mdp, phi, demos, mode="hard")
    with raises(ValueError, "mode='exact' (MaxEnt IRL, Ziebart 2008) needs gamma=1 and a "
                            "finite horizon, got gamma=0.9; use mode='soft'"):
        ci.irl.objective(mdp.replace(gamma=0.9), phi, demos, np.zeros(S), mode="exact")


def test_features(setup):
    mdp, _, demos = setup
    theta = np.zeros(2)
    with raises(ValueError, "features has shape (3, 3, 2), expected (S, K) = (3, K) or "
                            "(S, A, K) = (3, 2, K)"):
        ci.irl.objective(mdp, np.zeros((3, 3, 2)), demos, theta)
    with raises(ValueError, "features has shape (2, 2), expected (S, K) = (3, K)"):
        ci.irl.objective(mdp, np.zeros((2, 2)), demos, theta)
    with raises(ValueError, "sparse features has shape (2, 2), expected (S, K) = (3, K)"):
        ci.irl.objective(mdp, sp.eye(2), demos, theta)
    with raises(TypeError, "features must be an array of real numbers, got dtype <U1"):
        ci.irl.objective(mdp, np.full((3, 2), "a"), demos, theta)
    with raises(ValueError, "features has K = 0 columns; at least one feature is needed"):
        ci.irl.objective(mdp, np.zeros((3, 0)), demos, np.zeros(0))
    bad = np.zeros((3, 2))
    bad[2, 1] = np.nan
    with raises(ValueError, "features[2, 1] is nan, expected a finite number"):
        ci.irl.fit(mdp, bad, demos)
    with raises(ValueError, "features[1, 0] is inf, expected a finite number"):
        ci.irl.objective(mdp, sp.csr_matrix(np.array([[0, 0], [np.inf, 0], [0, 1]])), demos,
                         theta)


def test_theta(setup):
    mdp, phi, demos = setup
    with raises(ValueError, "theta has shape (2,), expected (K,) = (3,) to match the features"):
        ci.irl.objective(mdp, phi, demos, np.zeros(2))
    with raises(ValueError, "theta[1] is inf, expected a finite number"):
        ci.irl.objective(mdp, phi, demos, [0.0, np.inf, 0.0])


# -- fitting ------------------------------------------------------------------------------
def test_optimizer_settings(setup):
    mdp, phi, demos = setup
    fit = lambda **kw: ci.irl.fit(mdp, phi, demos, progress=False, **kw)  # noqa: E731
    with raises(ValueError, "optimizer must be one of ['lbfgs', 'adam', 'gradient'], got 'sgd'"):
        fit(optimizer="sgd")
    with raises(ValueError, "learning_rate is for optimizer='adam' or 'gradient'; L-BFGS"):
        fit(learning_rate=0.1)
    with raises(ValueError, "learning_rate must be a positive finite number, got -1"):
        fit(optimizer="adam", learning_rate=-1)
    with raises(ValueError, "max_iter must be a positive int, got 0"):
        fit(max_iter=0)
    with raises(ValueError, "gtol must be a finite number >= 0 or None (a fixed budget of "
                            "max_iter iterations), got -1e-06"):
        fit(gtol=-1e-6)
    with raises(ValueError, "l2 must be a finite number >= 0, got -0.1"):
        fit(l2=-0.1)


def test_a_diverging_fit_stops_with_advice(setup):
    mdp, phi, demos = setup
    with raises(ValueError, "features: the reward left the float range during the fit (at "
                            "theta not finite); scale the features to O(1), lower "
                            "learning_rate or raise l2"), np.errstate(all="ignore"):
        ci.irl.fit(mdp, 1e10 * phi, demos, optimizer="gradient", learning_rate=1e300,
                   progress=False)
    # Features near 1e200 (issue 18: a FloatingPointError from L-BFGS's steps; Adam's
    # squared gradients overflowed and it stopped moving, silently).
    for mode in ("soft", "exact"):
        for fit in (ci.irl.fit, ci.irl.fit_deep):
            with raises(ValueError, "features up to 1e+200 are too large to fit: over 2 steps "
                                    "the gradient reaches 2e+200, and the optimisers square "
                                    "it (beyond the float64 range); scale the features"):
                fit(mdp, 1e200 * phi, demos, mode=mode, progress=False)


def test_theta_that_overflows_the_values_is_named(setup):
    mdp, phi, demos = setup
    for mode in ("soft", "exact"):
        with raises(ValueError, "theta (max |theta| = 1e+300) is too large for these features: "
                                "r = features @ theta: values overflow: r up to 1e+300"):
            ci.irl.objective(mdp, phi, demos, np.full(S, 1e300), mode=mode)
        with raises(ValueError, "theta (max |theta| = 1e+308) is too large for these features: "
                                "r = features @ theta: r[0, 0] is inf"):
            ci.irl.objective(mdp, 2 * phi, demos, np.full(S, 1e308), mode=mode)
        with raises(ValueError, "reward is too large: values overflow: r up to 1e+300"):
            ci.irl.reward_objective(mdp, np.full((S, A), 1e300), demos, mode=mode)
        net = ci.irl.RewardNet(S, hidden=())
        with raises(ValueError, "params are too large: the network's reward: values overflow"):
            ci.irl.deep_objective(mdp, phi, demos, net, np.full(net.n_params, 1e300), mode=mode)


def test_reward_for_needs_the_same_number_of_features(setup):
    mdp, phi, demos = setup
    res = ci.irl.fit(mdp, phi, demos, l2=1.0, progress=False)
    with raises(ValueError, "features have K = 2 columns, the fit used K = 3"):
        res.reward_for(np.zeros((4, 2)))
    deep = ci.irl.fit_deep(mdp, phi, demos, hidden=(2,), max_iter=1, gtol=None,
                           progress=False)
    with raises(ValueError, "features have K = 2 columns, the network takes 3"):
        deep.reward_for(np.zeros((4, 2)))


# -- deep -------------------------------------------------------------------------------
def test_reward_net_arguments():
    with raises(ValueError, "n_features must be a positive int, got 0"):
        ci.irl.RewardNet(0)
    with raises(TypeError, "hidden must be a sequence of positive ints (layer widths), got 32"):
        ci.irl.RewardNet(3, hidden=32)
    with raises(ValueError, "activation must be one of ['tanh', 'relu'], got 'sigmoid'"):
        ci.irl.RewardNet(3, activation="sigmoid")
    with raises(ValueError, "params has shape (2,), expected (21,)"):
        ci.irl.RewardNet(3, hidden=(4,)).layers(np.zeros(2))


def test_deep_objective_arguments(setup):
    mdp, phi, demos = setup
    net = ci.irl.RewardNet(3, hidden=(2,))
    with raises(TypeError, "net must be a ci.irl.RewardNet, got str"):
        ci.irl.deep_objective(mdp, phi, demos, "net", net.init_params())
    with raises(ValueError, "features have K = 3 columns but the network takes n_features = 2"):
        ci.irl.deep_objective(mdp, phi, demos, ci.irl.RewardNet(2), net.init_params())


# -- metrics and demo ---------------------------------------------------------------------
def test_metric_arguments(setup):
    mdp, _, demos = setup
    with raises(TypeError, "mdp_true must be a ctrlinf.TabularMDP, got ndarray"):
        ci.irl.expected_value_difference(np.zeros(3), np.zeros(3))
    with raises(ValueError, "policy must be 'hard' (optimal) or 'soft' (soft-optimal), "
                            "got 'greedy'"):
        ci.irl.expected_value_difference(mdp, np.zeros(3), policy="greedy")
    with raises(TypeError, "mdp must be a ctrlinf.TabularMDP, got NoneType"):
        ci.irl.log_likelihood(None, np.zeros(3), demos)


def test_unknown_world():
    with raises(ValueError, "world must be one of ('objectworld', 'binaryworld', 'gridworld'), "
                            "got 'mars'"):
        ci.experiments.irl_evd.run_demo("mars")
