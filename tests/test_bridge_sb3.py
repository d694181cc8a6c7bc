"""ci.bridge.sb3 against real Stable-Baselines3 models (skipped when SB3 is not installed).

Extraction is checked against the model itself, state by state (``model.predict`` and
the networks on one observation at a time); training is checked by the exact return
gap of a seeded DQN on a tiny grid.
"""
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

import ctrlinf as ci

pytest.importorskip("stable_baselines3", reason='needs the sb3 extra: pip install '
                    'torch==2.13.0, then pip install -e ".[sb3]"')
import numba  # noqa: E402
import torch  # noqa: E402
from stable_baselines3 import DQN, PPO  # noqa: E402

from ctrlinf.bridge import sb3  # noqa: E402

# Small MLPs: one thread is many times faster (see sb3.py). Start numba's threading
# layer first: its first use resets the OpenMP thread count that torch shares.
numba.get_num_threads()
torch.set_num_threads(1)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sb3_frozenlake.py"

#: DQN_STEPS environment steps of the seeded DQN below give a return gap below this.
#: Measured over seeds 0-9: at most 0.0018 (optimal return 6.28, uniform policy 1.33,
#: the untrained network 6.4); the bound leaves a margin of more than 20x.
DQN_RETURN_GAP_BOUND = 0.05
DQN_STEPS = 3000


def tiny_grid():
    """3x3 grid, goal in a corner, start in the opposite one, 10 % slip, 20-step episodes."""
    return ci.envs.gridworld((3, 3), goals=[(0, 2)], start=(2, 0), slip=0.1, horizon=20)


def train_dqn(seed, steps=DQN_STEPS):
    env = ci.envs.to_gymnasium(tiny_grid(), seed=seed)
    model = DQN("MlpPolicy", env, gamma=0.9, learning_starts=500, exploration_fraction=0.3,
                target_update_interval=250, train_freq=1, learning_rate=1e-3, seed=seed,
                policy_kwargs=dict(net_arch=[64, 64]))
    return model.learn(steps)


@pytest.fixture(scope="module")
def dqn():
    return train_dqn(seed=0)


@pytest.fixture(scope="module")
def ppo():
    env = ci.envs.to_gymnasium(tiny_grid(), seed=0)
    return PPO("MlpPolicy", env, gamma=0.9, n_steps=256, batch_size=64, seed=0).learn(512)


def one_state(model, s):
    return model.policy.obs_to_tensor(np.array(s))[0]


def test_q_table_and_greedy_policy_match_the_model_on_every_state(dqn):
    Q = sb3.q_table(dqn)
    greedy = sb3.policy_array(dqn, "greedy")
    assert Q.shape == (9, 5) and Q.dtype == np.float64
    for s in range(9):
        with torch.no_grad():
            assert_allclose(Q[s], dqn.q_net(one_state(dqn, s)).numpy()[0], rtol=1e-6)
        action, _ = dqn.predict(s, deterministic=True)
        assert greedy[s, int(action)] == 1.0 and greedy[s].sum() == 1.0


def test_dqn_stochastic_policy_is_what_predict_samples(dqn):
    # ε-greedy: (1 − ε) on the greedy action plus ε/A everywhere; compare frequencies.
    dqn.exploration_rate = 0.5
    pi = sb3.policy_array(dqn, "stochastic")
    assert_allclose(pi.sum(axis=1), 1.0)
    np.random.seed(0)
    dqn.action_space.seed(0)
    n = 2000
    for s in (0, 6):
        counts = np.bincount([int(dqn.predict(s)[0]) for _ in range(n)], minlength=5)
        # Binomial standard deviation <= sqrt(0.25 / 2000) = 0.011; 4.5 sigma.
        assert_allclose(counts / n, pi[s], atol=0.05)
    dqn.exploration_rate = 0.0
    assert_allclose(sb3.policy_array(dqn, "stochastic"), sb3.policy_array(dqn, "greedy"))


def test_actor_critic_extraction_matches_the_model_on_every_state(ppo):
    pi = sb3.policy_array(ppo)
    greedy = sb3.policy_array(ppo, kind="greedy")
    values = sb3.value_table(ppo)
    assert pi.shape == (9, 5) and values.shape == (9,)
    for s in range(9):
        obs = one_state(ppo, s)
        with torch.no_grad():
            probs = ppo.policy.get_distribution(obs).distribution.probs.numpy()[0]
            value = ppo.policy.predict_values(obs).numpy()[0, 0]
        assert_allclose(pi[s], probs, rtol=1e-5, atol=1e-7)
        assert values[s] == pytest.approx(value, rel=1e-5, abs=1e-6)
        assert greedy[s, int(ppo.predict(s, deterministic=True)[0])] == 1.0
    with pytest.raises(TypeError, match="q_table needs a DQN-style model"):
        sb3.q_table(ppo)
    with pytest.raises(ValueError, match="kind must be one of"):
        sb3.policy_array(ppo, kind="soft")


def test_seeded_dqn_reaches_the_stated_return_gap(dqn):
    oracle = ci.bridge.Oracle.for_model(tiny_grid(), dqn)
    assert oracle.mdp.gamma == 0.9 and oracle.temperature == 0
    report = oracle.compare_policy(sb3.policy_array(dqn, "greedy"))
    assert 0 <= report.return_gap < DQN_RETURN_GAP_BOUND
    # The same network before training is far off: the bound separates the two.
    untrained = DQN("MlpPolicy", ci.envs.to_gymnasium(tiny_grid(), seed=0), gamma=0.9, seed=0,
                    policy_kwargs=dict(net_arch=[64, 64]))
    assert oracle.compare_policy(sb3.policy_array(untrained, "greedy")).return_gap \
        > 20 * DQN_RETURN_GAP_BOUND


@pytest.mark.parametrize("algorithm, env_id", [("SAC", "Pendulum-v1"), ("PPO", "CartPole-v1")])
def test_models_on_continuous_spaces_are_refused_by_name(algorithm, env_id):
    # SAC on Pendulum (Box observations and actions), PPO on CartPole (Box observations):
    # nothing in them is a table over the MDP's states.
    import gymnasium as gym
    import stable_baselines3

    model = getattr(stable_baselines3, algorithm)("MlpPolicy", gym.make(env_id), seed=0)
    mdp = ci.envs.random_mdp(4, 2, seed=0, horizon=10)
    message = "model.observation_space must be gymnasium.spaces.Discrete, got Box"
    with pytest.raises(TypeError, match=message):
        ci.bridge.Oracle.for_model(mdp, model)
    with pytest.raises(TypeError, match=message):
        sb3.policy_array(model)


def test_callback_records_a_learning_curve(ppo):
    grid = tiny_grid()
    model = PPO("MlpPolicy", ci.envs.to_gymnasium(grid, seed=1), gamma=0.9, n_steps=128,
                batch_size=64, seed=1)
    oracle = ci.bridge.Oracle.for_model(grid, model)
    callback = sb3.OracleCallback(oracle, every=128)
    model.learn(512, callback=callback)
    history = callback.history
    assert history["step"] == [0, 128, 256, 384, 512]
    final = sb3.score(model, oracle)
    assert history["return_gap"][-1] == pytest.approx(final["return_gap"])
    assert np.all(np.array(history["return_gap"]) >= -1e-12)
    assert np.isnan(history["q_max_abs_error"]).all()
    assert np.isfinite(history["critic_max_abs_error"]).all()
    ax = ci.plot.error_curves(callback, keys=["return_gap", "critic_max_abs_error"])
    assert len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="every must be a positive int"):
        sb3.OracleCallback(oracle, every=0)


THREADS_SCRIPT = """
import contextlib, numba, torch
from ctrlinf.bridge.torch_threads import torch_threads_kept
torch.set_num_threads(1)
torch.ones(256, 256) @ torch.ones(256, 256)
with (torch_threads_kept() if {guard} else contextlib.nullcontext()):
    numba.get_num_threads()            # starts numba's OpenMP threading layer
print(numba.threading_layer(), torch.get_num_threads())
"""


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
def test_oracle_keeps_torch_on_one_thread():
    # numba's OpenMP layer and torch share one runtime: starting numba's layer (or
    # switching its thread count) resets torch's count; the oracle's guard restores it.
    def threads_after(guard):
        run = subprocess.run([sys.executable, "-c", THREADS_SCRIPT.format(guard=guard)],
                             capture_output=True, text=True, check=True)
        layer, threads = run.stdout.split()
        if layer != "omp":
            pytest.skip(f"numba uses the {layer} threading layer, which shares nothing "
                        "with torch")
        return int(threads)

    assert threads_after(guard=False) > 1       # the hazard is real here
    assert threads_after(guard=True) == 1


def test_sb3_frozenlake_example():
    spec = importlib.util.spec_from_file_location("sb3_frozenlake", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    report = example.main(total_timesteps=2048, seed=0, verbose=False)
    # The report is the temperature-0 one: values are returns, without an entropy term.
    assert report.kl is None and report.value == report.return_value
    assert 0 <= report.return_gap <= report.optimal_return
    assert report.optimal_return == pytest.approx(gym_value_iteration(gamma=0.9), abs=1e-9)


def gym_value_iteration(gamma):
    """Optimal discounted return of slippery FrozenLake 4x4 from the start cell, by value
    iteration on gymnasium's own table P[s][a] = [(prob, next, reward, terminated)]."""
    import gymnasium as gym

    table = gym.make("FrozenLake-v1").unwrapped.P
    V = np.zeros(len(table))
    for _ in range(400):        # 0.9^400 < 1e-18
        V = np.array([max(sum(p * (r + gamma * V[n] * (not done)) for p, n, r, done in outs)
                          for outs in table[s].values()) for s in range(len(table))])
    return V[0]
