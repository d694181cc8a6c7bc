"""ci.evaluate_policy: exact Q^π, V^π (soft or not, finite or discounted) against brute force."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci
from enumeration import all_trajectories, dynamics_probability


def random_policy(rng, shape):
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


def enumerated_value(mdp, policy, temperature, prior=None):
    """Σ_τ p_π(τ) Σ_t γ^t (r − α log(π_t/prior)): the definition of Σ_s p0(s) V^π_0(s)."""
    P, r, T, g = mdp.transition_tensor(), mdp.r, mdp.horizon, mdp.gamma
    prior = np.ones_like(r) if prior is None else prior
    total = 0.0
    for states, actions in all_trajectories(mdp.n_states, mdp.n_actions, T):
        pi = policy[np.arange(T), states, actions]
        prob = dynamics_probability(P, mdp.p0, states, actions) * pi.prod()
        if prob > 0:
            log_ratio = np.log(pi) - np.log(prior[states, actions])
            total += prob * np.sum(g ** np.arange(T) * (r[states, actions]
                                                        - temperature * log_ratio))
    return total


@pytest.mark.parametrize("temperature", [0.0, 0.7])
@pytest.mark.parametrize("gamma", [1.0, 0.8])
def test_finite_horizon_equals_enumeration(temperature, gamma):
    mdp = ci.envs.random_mdp(3, 2, seed=4, horizon=3, gamma=gamma)
    policy = random_policy(np.random.default_rng(0), (3, 3, 2))
    Q, V = ci.evaluate_policy(mdp, policy, temperature=temperature)
    assert Q.shape == (3, 3, 2) and V.shape == (3, 3)
    assert_allclose(mdp.p0 @ V[0], enumerated_value(mdp, policy, temperature), rtol=1e-12)
    # Q^π_t = r + γ P V^π_{t+1}, and V = Σ π (Q − α log π).
    P = mdp.transition_tensor()
    assert_allclose(Q[1], mdp.r + gamma * P @ V[2], atol=1e-12)
    assert_allclose(V[0], (policy[0] * (Q[0] - temperature * np.log(policy[0]))).sum(1))


def test_action_prior_gives_the_kl_term():
    mdp = ci.envs.random_mdp(3, 2, seed=1, horizon=3)
    policy = random_policy(np.random.default_rng(2), (3, 3, 2))
    prior = random_policy(np.random.default_rng(3), (3, 2))
    V = ci.evaluate_policy(mdp, policy, temperature=0.5, action_prior=prior)[1]
    assert_allclose(mdp.p0 @ V[0], enumerated_value(mdp, policy, 0.5, prior), rtol=1e-12)


@pytest.mark.parametrize("temperature", [0.0, 0.5])
def test_infinite_horizon_equals_iterated_backup(temperature):
    mdp = ci.envs.random_mdp(5, 3, seed=2, horizon=None, gamma=0.8)
    policy = random_policy(np.random.default_rng(1), (5, 3))
    P = mdp.transition_tensor()
    reward_pi = (policy * (mdp.r - temperature * np.log(policy))).sum(axis=1)
    V = np.zeros(5)
    for _ in range(400):   # contraction 0.8^400 ~ 1e-39
        V = reward_pi + 0.8 * (policy * (P @ V)).sum(axis=1)
    Q_pi, V_pi = ci.evaluate_policy(mdp, policy, temperature=temperature)
    assert_allclose(V_pi, V, atol=1e-10)
    assert_allclose(Q_pi, mdp.r + 0.8 * P @ V, atol=1e-10)


@pytest.mark.parametrize("horizon", [4, None])
def test_optimal_policies_are_their_own_evaluation(horizon):
    mdp = ci.envs.random_mdp(5, 3, seed=3, horizon=horizon, gamma=0.9)
    soft = ci.solve(mdp, mode="soft", temperature=0.4, tol=1e-13)
    Q, V = ci.evaluate_policy(mdp, soft.policy, temperature=0.4)
    assert_allclose(V, soft.V, atol=1e-9)
    assert_allclose(Q, soft.Q, atol=1e-9)
    hard = ci.solve(mdp, mode="hard", tol=1e-13)
    Q, V = ci.evaluate_policy(mdp, hard.policy)
    assert_allclose(V, hard.V, atol=1e-9)
    assert_allclose(Q, hard.Q, atol=1e-9)


def forbidding(mdp, s, a):
    """``mdp`` with r[s, a] = −inf, the core's action mask."""
    r = mdp.r.copy()
    r[s, a] = -np.inf
    return mdp.replace(r=r)


@pytest.mark.parametrize("horizon", [3, None])
@pytest.mark.parametrize("how", ["reward", "prior"])
def test_forbidden_actions_that_are_never_taken_cost_nothing(horizon, how):
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=horizon, gamma=0.9)
    policy = random_policy(np.random.default_rng(0), (3, 2))
    policy[1] = [1.0, 0.0]
    prior = None
    if how == "reward":
        masked = forbidding(mdp, 1, 1)
    else:
        masked, prior = mdp, np.ones((3, 2))
        prior[1, 1] = 0.0
    Q, V = ci.evaluate_policy(masked, policy, temperature=0.3, action_prior=prior)
    Q_free, V_free = ci.evaluate_policy(mdp, policy, temperature=0.3)
    assert np.all(np.isfinite(V))
    assert_allclose(V, V_free, atol=1e-12)
    if how == "reward":
        assert np.all(np.isneginf(Q[..., 1, 1])) and np.all(np.isfinite(np.delete(
            Q.reshape(-1, 6), 3, axis=1)))


@pytest.mark.parametrize("how", ["reward", "prior"])
def test_taking_a_forbidden_action_is_an_error(how):
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=3)
    prior = None
    if how == "reward":
        mdp = forbidding(mdp, 2, 0)
    else:
        prior = np.ones((3, 2))
        prior[2, 0] = 0.0
    why = r"r\[2, 0\] = -inf" if how == "reward" else r"action_prior\[2, 0\] = 0"
    with pytest.raises(ValueError, match=rf"policy\[0, 2, 0\] is 0.5 but {why} forbids "
                                         r"action 0 in state 2"):
        ci.evaluate_policy(mdp, np.full((3, 2), 0.5), action_prior=prior)


def test_deterministic_policy_ignores_the_temperature():
    # 0 log 0 = 0: a deterministic policy's soft value is its plain return.
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=4)
    greedy = np.zeros((3, 2))
    greedy[:, 1] = 1.0
    assert_allclose(ci.evaluate_policy(mdp, greedy, temperature=1.0)[1],
                    ci.evaluate_policy(mdp, greedy)[1], atol=1e-12)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(temperature=-1.0), ValueError, "temperature must be a finite number >= 0, got -1"),
    (dict(temperature=np.inf), ValueError, "temperature must be a finite number >= 0"),
    (dict(temperature="0"), TypeError, "temperature must be a finite number >= 0"),
    (dict(policy=np.full((3, 3), 1 / 3)), ValueError, r"policy has shape \(3, 3\)"),
    (dict(policy=np.full((3, 2), 0.4)), ValueError, r"sums to 0.8"),
    (dict(action_prior=np.ones(3)), ValueError, r"action_prior has shape \(3,\)"),
])
def test_errors(kwargs, error, message):
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=4)
    args = dict(policy=np.full((3, 2), 0.5))
    args.update(kwargs)
    with pytest.raises(error, match=message):
        ci.evaluate_policy(mdp, **args)


def test_infinite_horizon_needs_a_stationary_policy():
    mdp = ci.envs.random_mdp(3, 2, seed=0, horizon=None, gamma=0.5)
    with pytest.raises(ValueError, match=r"needs a stationary \(S, A\) = \(3, 2\) policy"):
        ci.evaluate_policy(mdp, np.full((4, 3, 2), 0.5))
    with pytest.raises(TypeError, match="mdp must be a ctrlinf.TabularMDP"):
        ci.evaluate_policy("mdp", np.full((3, 2), 0.5))


# -- issue 18: rows off one by rounding, overflow, extra rows ----------------------------
def constant_reward_world(gamma, n_actions=2, horizon=None):
    """Every action pays 1 and stays: V^π = 1/(1 − γ) (or T) for every policy."""
    P = np.ones((1, n_actions, 1))
    return ci.TabularMDP(P, r=np.ones((1, n_actions)), p0=[1.0], horizon=horizon, gamma=gamma)


def test_rows_within_tolerance_of_one_are_renormalised_near_gamma_one():
    # A row summing to 1 + ε weighed each step by 1 + ε: V = 1/(1 − γ(1 + ε)), ten times
    # 1/(1 − γ) = 1e6 for ε = 9e-7 at γ = 0.999999 (the _checks.policy docstring).
    gamma, eps = 0.999999, 9e-7
    assert 9.9 < (1 - gamma) / (1 - gamma * (1 + eps)) < 10.1
    _, V = ci.evaluate_policy(constant_reward_world(gamma), [[0.5, 0.5 + eps]])
    assert_allclose(V, [1e6], rtol=1e-8)


def test_a_float32_softmax_policy_is_evaluated_as_the_distribution_it_means():
    # A float32 softmax over 20 actions sums to 1 − 2e-7 in float64: at γ = 0.999999
    # the value was 16% low.
    logits = 3 * np.random.default_rng(234).normal(size=(1, 20)).astype(np.float32)
    e = np.exp(logits - logits.max())
    policy = e / e.sum(axis=1, keepdims=True)
    assert abs(policy.astype(np.float64).sum() - 1) > 1e-7
    _, V = ci.evaluate_policy(constant_reward_world(0.999999, n_actions=20), policy)
    assert_allclose(V, [1e6], rtol=1e-8)


@pytest.mark.parametrize("r, temperature, message", [
    (1.5e308, 0.0, r"values overflow: r up to 1.5e\+308 over 3 steps"),
    (1.0, 1e308, r"values overflow: r up to 1 and temperature=1e\+308 times an entropy"),
])
def test_values_beyond_the_float_range_are_refused_by_name(r, temperature, message):
    # Was inf, with overflow warnings.
    mdp = ci.TabularMDP(np.ones((1, 2, 1)), r=[[r, 0.0]], p0=[1.0], horizon=3)
    with pytest.raises(ValueError, match=message):
        ci.evaluate_policy(mdp, [[0.5, 0.5]], temperature=temperature)
    # A deterministic policy has no entropy term: any temperature is fine.
    _, V = ci.evaluate_policy(mdp.replace(r=[[1.0, 0.0]]), [[1.0, 0.0]], temperature=1e308)
    assert_allclose(V[:, 0], [3.0, 2.0, 1.0], rtol=0)


@pytest.mark.parametrize("rows", [1, 2, 5, 6])
def test_only_T_rows_or_a_stationary_policy_are_a_policy_for_horizon_T(rows):
    # T + 2 rows were silently cut to T.
    mdp = constant_reward_world(1.0, horizon=4)
    with pytest.raises(ValueError, match=rf"policy has shape \({rows}, 1, 2\), expected "
                                         r"\(T, S, A\) = \(4, 1, 2\) or a stationary"):
        ci.evaluate_policy(mdp, np.full((rows, 1, 2), 0.5))
