"""ci.envs.to_seals: the MDP as seals/imitation see it, checked against ctrlinf's answers."""
import importlib.util

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import ctrlinf as ci

seals = pytest.importorskip("seals", reason="the imitation extra (seals) is not installed")


def world(action_reward=False):
    mdp = ci.envs.random_mdp(5, 3, seed=4, horizon=6)
    r = mdp.r if action_reward else np.repeat(mdp.r[:, :1], 3, axis=1)
    return mdp.replace(r=r)


def imitation_style_partition(env, discount):
    """imitation's finite-horizon soft backup, written from its documentation:
    Q_t = R[:, None] + discount * T V_{t+1}, V_t = logsumexp_a Q_t, V_{T-1} = logsumexp_a R."""
    T, S = env.horizon, env.state_dim
    R = env.reward_matrix
    P = env.transition_matrix
    V = np.zeros((T, S))
    V[T - 1] = R + np.log(P.shape[1])
    for t in range(T - 2, -1, -1):
        Q = R[:, None] + discount * P @ V[t + 1]
        V[t] = np.log(np.exp(Q - Q.max(1, keepdims=True)).sum(1)) + Q.max(1)
    return V


def test_the_exported_env_holds_the_same_mdp():
    mdp = world(action_reward=True)
    env = ci.envs.to_seals(mdp)
    assert_array_equal(env.transition_matrix, mdp.transition_tensor())
    assert_array_equal(env.reward_matrix, mdp.r)
    assert_array_equal(env.initial_state_dist, mdp.p0)
    assert env.horizon == mdp.horizon
    assert_array_equal(env.observation_matrix, np.eye(mdp.n_states))


def test_state_rewards_become_the_vector_imitation_reads_and_values_agree():
    mdp = world()
    env = ci.envs.to_seals(mdp)
    assert env.reward_matrix.shape == (mdp.n_states,)
    sol = ci.solve(mdp, mode="soft", temperature=1.0)
    assert_allclose(imitation_style_partition(env, mdp.gamma), sol.V, rtol=1e-12)


@pytest.mark.skipif(importlib.util.find_spec("imitation") is None,
                    reason="imitation is not installed (its pins clash with gymnasium 1.x)")
def test_imitation_partition_function_equals_ctrlinf():  # pragma: no cover - needs imitation
    from imitation.algorithms import mce_irl

    mdp = world()
    env = ci.envs.to_seals(mdp)
    V, Q, pi = mce_irl.mce_partition_fh(env, discount=mdp.gamma)
    sol = ci.solve(mdp, mode="soft", temperature=1.0)
    assert_allclose(V, sol.V, rtol=1e-10)
    D, _ = mce_irl.mce_occupancy_measures(env, pi=pi, discount=mdp.gamma)
    assert D.shape == (mdp.horizon + 1, mdp.n_states)
    assert_allclose(D[:-1] / mdp.gamma ** np.arange(mdp.horizon)[:, None],
                    ci.forward(mdp, sol), atol=1e-10)


def test_rollouts_of_the_seals_env_follow_p():
    mdp = world()
    env = ci.envs.to_seals(mdp)
    env.reset(seed=0)
    state = env.state
    counts = np.zeros(mdp.n_states)
    for _ in range(3000):
        env.state = state
        env._n_actions_taken = 0
        env.step(1)
        counts[env.state] += 1
    assert_allclose(counts / 3000, mdp.transition_tensor()[state, 1], atol=0.04)


def test_errors():
    with pytest.raises(ValueError, match="horizon=None"):
        ci.envs.to_seals(world().replace(horizon=None, gamma=0.9))
    masked = world()
    r = np.array(masked.r)
    r[2, 1] = -np.inf
    with pytest.raises(ValueError, match=r"mdp.r\[2, 1\] is -inf"):
        ci.envs.to_seals(masked.replace(r=r))
    with pytest.raises(ValueError, match="observations has shape"):
        ci.envs.to_seals(world(), observations=np.eye(3))
    with pytest.raises(TypeError, match="mdp must be a ctrlinf.TabularMDP"):
        ci.envs.to_seals("world")
