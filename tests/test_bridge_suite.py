"""The exact task suite (`ci.bridge.suite`, `ctrlinf check`): tasks against independent
value iteration, the runner against the oracle, the aggregates against their maths, and
the report page in a headless browser against the DataFrame.

The agents below are module-level so that the runner's worker processes import them by
name (``test_bridge_suite:exact_agent``).
"""
import json
import math
import os
import re

import numpy as np
import pytest

pytest.importorskip("gymnasium")
pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

import ctrlinf as ci  # noqa: E402
from ctrlinf import cli  # noqa: E402
from ctrlinf.bridge import suite  # noqa: E402
from ctrlinf.bridge.suite import aggregates, agents, page, runner, tasks  # noqa: E402
from test_explore import browser  # noqa: E402,F401 -- one headless Chromium fixture

SPEC = "test_bridge_suite:exact_agent"
Q_LEARNING = "ctrlinf.bridge.suite.agents:q_learning"
#: The CI suite: two tasks, two seeds, a short budget.
SMALL = dict(tasks=["masked_grid", "frozenlake_4x4"], seeds=2, steps=2000, checkpoints=4)


# -- agents for the tests ---------------------------------------------------------------
class ExactAgent:
    """Knows the answer (the oracle's Q* and π*): a test of the scoring, not of learning."""

    def __init__(self, env, gamma, temperature):
        self.oracle = ci.bridge.Oracle.stationary(env.mdp, gamma=gamma, temperature=temperature,
                                                  terminate_dead_states=True)

    def learn(self, n_steps, callback):
        for step in range(1, n_steps + 1):
            callback(step)

    def q_table(self):
        return np.where(np.isfinite(self.oracle.Q), self.oracle.Q, -1e9)

    def policy(self):
        return self.oracle.policy


def exact_agent(env, gamma, seed, temperature=0.0):
    return ExactAgent(env, gamma, temperature)


class Cheat:
    """Puts all its probability on action 0 everywhere (forbidden in some masked states)."""

    def __init__(self, env):
        self.n = env.observation_space.n

    def learn(self, n_steps, callback):
        callback(n_steps)

    def policy(self):
        pi = np.zeros((self.n, 4))
        pi[:, 2] = 1.0        # "down", forbidden on rows 1 and 3 of the masked grid
        return pi


def cheat(env, gamma, seed):
    return Cheat(env)


class LateLearner(Cheat):
    """Takes forbidden moves until step 200, then acts uniformly over the allowed ones;
    its Q table is 0 throughout."""

    def __init__(self, env):
        super().__init__(env)
        self.allowed, self.step = np.isfinite(env.mdp.r), 0

    def learn(self, n_steps, callback):
        for self.step in range(1, n_steps + 1):
            callback(self.step)

    def policy(self):
        if self.step < 200:
            return super().policy()
        return self.allowed / self.allowed.sum(axis=1, keepdims=True)

    def q_table(self):
        return np.zeros(self.allowed.shape)


def late_learner(env, gamma, seed):
    return LateLearner(env)


class Uniform:
    """The uniform policy over the allowed actions: the normalised gap's 1."""

    def __init__(self, env):
        self.allowed = np.isfinite(env.mdp.r)

    def learn(self, n_steps, callback):
        callback(n_steps)

    def policy(self):
        return self.allowed / self.allowed.sum(axis=1, keepdims=True)


def uniform(env, gamma, seed, temperature=0.0):
    return Uniform(env)


def one_argument_agent(env):
    """A make_agent without gamma and seed: refused before any cell runs."""
    return Uniform(env)


class Broken(Uniform):
    def learn(self, n_steps, callback):
        raise ValueError("this agent cannot learn")


def broken_agent(env, gamma, seed):
    """Called correctly, fails in every cell."""
    return Broken(env)


def _nested():
    def make(env, gamma, seed):
        return None
    return make


# -- tasks ---------------------------------------------------------------------------
def value_iteration(P, r, gamma, temperature, dead, tol=1e-12):
    """Dense hard (temperature 0) or soft value iteration; dead states are worth 0."""
    allowed = np.isfinite(r)
    reward = np.where(allowed, r, 0.0)
    V = np.zeros(r.shape[0])
    while True:
        Q = np.where(allowed, reward + gamma * P @ V, -np.inf)
        top = Q.max(axis=1)
        if temperature == 0:
            new = top
        else:
            new = top + temperature * np.log(np.exp((Q - top[:, None]) / temperature).sum(1))
        new[dead] = 0.0
        if np.abs(new - V).max() < tol:
            return Q, new
        V = new


def test_the_suite_is_versioned_and_every_task_says_what_it_probes():
    assert isinstance(suite.SUITE_VERSION, str) and suite.SUITE_VERSION
    assert len(suite.TASKS) == 8 and suite.TASK_NAMES == tuple(t.name for t in suite.TASKS)
    for task in suite.TASKS:
        assert len(task.probes) > 40 and len(task.horizon_note) > 20
        assert 0 < task.gamma < 1 and task.steps > 0
        low, high = task.soft_temperatures
        assert 0 < low < high
        mdp = task.mdp()
        assert mdp.horizon == task.episode_length and mdp.gamma == task.gamma
        assert task.mdp() is mdp and task.oracle(0.0) is task.oracle(0.0)   # cached


@pytest.mark.parametrize("name", tasks.TASK_NAMES)
def test_exact_answers_equal_independent_value_iteration(name):
    task = suite.get_task(name)
    mdp = task.mdp()
    P = mdp.transition_tensor()
    dead = np.array([(P[s, :, s] == 1).all() and (mdp.r[s] == 0).all()      # absorbing, 0
                     for s in range(mdp.n_states)])
    for temperature in (0.0, *task.soft_temperatures):
        oracle = task.oracle(temperature)
        Q, V = value_iteration(P, np.asarray(mdp.r), task.gamma, temperature, dead)
        scale = 1.0 + np.abs(V).max()
        np.testing.assert_allclose(oracle.V, V, atol=1e-8 * scale)
        live = ~dead[:, None] & np.isfinite(Q)
        np.testing.assert_allclose(oracle.Q[live], Q[live], atol=1e-8 * scale)
        assert task.answer(temperature)["optimal_value"] == pytest.approx(mdp.p0 @ V,
                                                                          abs=1e-8 * scale)


@pytest.mark.parametrize("name, env_id", [("frozenlake_4x4", "FrozenLake-v1"),
                                          ("frozenlake_8x8", "FrozenLake8x8-v1")])
def test_frozenlake_answer_from_gymnasiums_own_table(name, env_id):
    """Hard value iteration on env.unwrapped.P itself, not through from_gymnasium."""
    import gymnasium as gym

    env = gym.make(env_id).unwrapped
    S, A, gamma = env.observation_space.n, env.action_space.n, suite.get_task(name).gamma
    # Expected reward and continuation matrix straight from the table: a terminated
    # outcome pays its reward and continues nowhere.
    reward, going_on = np.zeros((S, A)), np.zeros((S, A, S))
    for s in range(S):
        for a in range(A):
            for p, s2, r, done in env.P[s][a]:
                reward[s, a] += p * r
                going_on[s, a, s2] += 0.0 if done else p
    V = np.zeros(S)
    for _ in range(5000):
        V = (reward + gamma * going_on @ V).max(axis=1)
    assert suite.get_task(name).answer(0.0)["optimal_return"] == pytest.approx(V[0], abs=1e-9)


def _reach_probability(task):
    """P(the task's optimal policy ends its episode in a goal): undiscounted, T = episode."""
    mdp = task.mdp()
    oracle = task.oracle(0.0)
    return mdp.p0 @ ci.evaluate_policy(mdp.replace(gamma=1.0), oracle.policy, temperature=0.0)[1][0]


def test_what_the_tasks_say_about_themselves():
    chain = suite.get_task("deep_chain")
    grid = chain.mdp()
    goal = grid.state(0, 10)
    assert grid.n_states == 11 and grid.r[goal, 0] == 1 and np.count_nonzero(grid.r) == 4
    # "a random policy is there at the end of fewer than 1 in 500 episodes"
    d = ci.occupancy(grid.replace(gamma=1.0), np.full((11, 4), 0.25))
    assert d[-1, goal] < 1 / 500
    # "10 moves away", "twice the 10 moves": V* = γ^10 / (1 − γ)
    assert chain.answer()["optimal_return"] == pytest.approx(0.9 ** 10 / 0.1)
    assert chain.episode_length == 2 * 10
    # FrozenLake: "about 3 episodes of 4", "about 6 episodes of 7"
    assert 0.70 < _reach_probability(suite.get_task("frozenlake_4x4")) < 0.78
    assert 0.83 < _reach_probability(suite.get_task("frozenlake_8x8")) < 0.89
    # masked grid: the 16-step snake, forbidden moves exist, π* never takes one
    masked = suite.get_task("masked_grid")
    g = masked.gamma
    path = -0.01 * (1 - g ** 16) / (1 - g) + g ** 16 / (1 - g)
    assert masked.answer()["optimal_return"] == pytest.approx(path)
    assert 47 <= masked.episode_length <= 50          # "about three times" 16
    r = masked.mdp().r
    assert np.isinf(r).sum() == 8 and (masked.oracle(0.0).policy[np.isinf(r)] == 0).all()
    # sparse random MDP: 250 states, 3 successors, every state a start
    random = suite.get_task("sparse_random").mdp()
    assert random.n_states == 250 and (np.diff(random.P.indptr) == 3).all()
    assert (random.p0 > 0).all() and suite.get_task("sparse_random").episode_length == 50
    # two routes: 10 steps each, and the soft optimum splits evenly between them
    routes = suite.get_task("two_routes")
    g = routes.gamma
    assert routes.answer()["optimal_return"] == pytest.approx(
        -0.01 * (1 - g ** 10) / (1 - g) + g ** 10 / (1 - g))
    assert routes.episode_length == 4 * 10
    grid = routes.mdp()
    for alpha in routes.soft_temperatures:
        occupancy = ci.occupancy(grid, routes.oracle(alpha).policy)
        top, bottom = occupancy[:, grid.state(0, 3)].sum(), occupancy[:, grid.state(4, 3)].sum()
        assert top == pytest.approx(bottom, rel=1e-9) and top > 0.1
    # long horizon: the far goal is optimal at γ = 0.99, the near one at γ = 0.9
    long = suite.get_task("long_horizon")
    assert long.gamma == 0.99
    assert long.episode_length == pytest.approx(2 / (1 - long.gamma)) and long.episode_length == 200
    grid = long.mdp()
    start, right = grid.state(0, 0), grid.action_names.index("right")
    assert long.oracle(0.0).policy[start, right] < 0.5               # heads down, away
    myopic = ci.bridge.Oracle.stationary(grid, gamma=0.9, temperature=0.0)
    assert myopic.policy[start, right] == 1.0                        # takes the near 0.5


def test_task_selection_refuses_bad_names():
    assert [t.name for t in tasks.select(None)] == list(tasks.TASK_NAMES)
    assert [t.name for t in tasks.select("two_routes")] == ["two_routes"]
    with pytest.raises(ValueError, match="unknown task 'chain'.*deep_chain"):
        tasks.select(["chain"])
    with pytest.raises(ValueError, match="twice"):
        tasks.select(["two_routes", "two_routes"])
    with pytest.raises(ValueError, match="empty"):
        tasks.select([])
    with pytest.raises(ValueError, match="'low' or 'high'"):
        suite.get_task("two_routes").temperature("medium")
    assert suite.get_task("two_routes").temperature("high") == 0.05


# -- the runner ----------------------------------------------------------------------
def _cell(agent, task, seed=0, steps=400, temperature=0.0, checkpoints=4, options="{}"):
    return runner.cell(agent, options, task, seed, steps, temperature, checkpoints,
                       suite.SUITE_VERSION)


@pytest.mark.parametrize("temperature", [0.0, "low"])
def test_an_exact_agent_scores_zero_everywhere(temperature):
    for task in suite.TASKS:
        alpha = task.temperature(temperature)
        row = _cell(SPEC, task.name, temperature=alpha, steps=100)
        assert abs(row["value_gap"]) < 1e-9 and row["q_error"] < 1e-9
        assert row["curve_step"] == [25, 50, 75, 100]
        if alpha == 0:
            assert abs(row["return_gap"]) < 1e-9 and row["advantage_loss"] < 1e-9
            assert row["optimal_action_fraction"] == pytest.approx(1.0, abs=1e-9)
            assert math.isnan(row["kl"])
        else:      # the soft optimum gives up some return for entropy
            assert abs(row["kl"]) < 1e-9 and row["return_gap"] >= -1e-9


@pytest.mark.parametrize("temperature", [0.0, "high"])
def test_the_uniform_policy_scores_one_everywhere(temperature):
    for task in suite.TASKS:
        row = _cell("test_bridge_suite:uniform", task.name, steps=4,
                    temperature=task.temperature(temperature))
        assert row["normalised_value_gap"] == pytest.approx(1.0, abs=1e-9)
        assert math.isnan(row["q_error"])           # no q_table(): no Q error


def test_a_cell_is_the_oracle_of_the_agent_it_trained():
    """Same seed, same run: the cell's numbers are compare_policy / compare_q of the agent."""
    row = _cell(Q_LEARNING, "frozenlake_4x4", seed=3, steps=3000)
    task = suite.get_task("frozenlake_4x4")
    agent = agents.q_learning(task.env(seed=3), task.gamma, 3)
    agent.learn(3000)
    oracle = task.oracle(0.0)
    Q = agent.q_table()
    report = oracle.compare_policy(runner.greedy_policy(Q, np.isfinite(oracle.mdp.r)))
    assert row["return_gap"] == report.return_gap
    assert row["normalised_value_gap"] == report.normalised_value_gap
    assert row["optimal_action_fraction"] == report.optimal_action_fraction
    assert row["q_error"] == oracle.compare_q(Q).max_abs_error
    np.testing.assert_array_equal(row["state_regret"], report.state_regret)
    assert row["curve_return_gap"][-1] == report.return_gap and len(row["curve_step"]) == 4


def test_checkpoints_record_once_each_and_the_end_replaces_the_last():
    class Counting:
        calls = 0

        def q_table(self):
            Counting.calls += 1
            return np.zeros((11, 4))

    oracle = suite.get_task("deep_chain").oracle(0.0)
    recorder = runner.Checkpoints(Counting(), oracle, 100, 4)
    assert recorder.targets == [25, 50, 75, 100] and recorder.every == 25
    for step in (1, 24, 25, 26, 80, 99, 100):
        recorder(step)
    assert [row["step"] for row in recorder.rows] == [25, 80, 100]   # 80 passes 50 and 75
    recorder.finish(100)
    assert [row["step"] for row in recorder.rows] == [25, 80, 100] and Counting.calls == 4


def test_greedy_policy_shares_ties_among_allowed_actions():
    Q = np.array([[1.0, 1.0, 0.0], [5.0, 2.0, 2.0]])
    allowed = np.array([[True, True, True], [False, True, True]])
    np.testing.assert_array_equal(runner.greedy_policy(Q, allowed),
                                  [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])


def test_masks_the_reference_agent_respects_them_and_the_others_fail_loudly():
    row = _cell(Q_LEARNING, "masked_grid", steps=3000)      # would raise on a forbidden move
    assert 0 <= row["normalised_value_gap"]
    # The env ends the episode with a penalty on a forbidden move; the soft agent's policy
    # still gives such moves some probability, which the exact score refuses (value −inf).
    with pytest.raises(ValueError, match=r"agent\.policy\(\) at step 500 puts probability "
                                         r"\S+ on action \d in state \d+, which is forbidden"):
        _cell("ctrlinf.bridge.suite.agents:soft_q_learning", "masked_grid", steps=500,
              temperature=0.005)
    with pytest.raises(ValueError, match=r"agent.policy\(\) at step 10 puts probability 1 on "
                                         r"action 2 in state 5, which is forbidden"):
        _cell("test_bridge_suite:cheat", "masked_grid", steps=10)


def test_a_policy_that_leaks_only_early_is_scored_by_its_final_policy():
    # Value −∞ at the first checkpoint: that curve point is NaN (the Q error is still
    # scored), and the run is scored as its final policy, uniform over the allowed
    # actions (normalised gap 1), however many checkpoints it has.
    masked = suite.get_task("masked_grid")
    q_error = masked.oracle(0.0).compare_q(np.zeros((25, 4))).max_abs_error
    row = _cell("test_bridge_suite:late_learner", "masked_grid", steps=400)
    assert row["curve_step"] == [100, 200, 300, 400]
    assert np.isnan(row["curve_normalised_value_gap"][0])
    assert np.isnan(row["curve_return_gap"][0])
    np.testing.assert_allclose(row["curve_normalised_value_gap"][1:], 1.0)
    np.testing.assert_allclose(row["curve_q_error"], q_error)
    alone = _cell("test_bridge_suite:late_learner", "masked_grid", steps=400, checkpoints=1)
    assert alone["normalised_value_gap"] == row["normalised_value_gap"] == pytest.approx(1.0)


def test_a_cell_refuses_another_suite_version():
    with pytest.raises(ValueError, match="suite version"):
        runner.cell(SPEC, "{}", "deep_chain", 0, 10, 0.0, 1, "0.0-other")


@pytest.mark.parametrize("spec, kwargs, error, message", [
    ("no_colon", {}, ValueError, "pkg.module:name"),
    ("not_a_module_xyz:make", {}, ValueError, "cannot import 'not_a_module_xyz'"),
    ("ctrlinf.bridge.suite.agents:nothing", {}, ValueError, "has no 'nothing'"),
    ("ctrlinf.bridge.suite.agents:DQN_OPTIONS", {}, TypeError, "not a function"),
    (lambda env, gamma, seed: None, {}, ValueError, "importable by name"),
    (_nested(), {}, ValueError, "importable by name"),
    (3, {}, TypeError, "make_agent must be"),
    (Q_LEARNING, dict(seeds=0), ValueError, "seeds must be a positive int"),
    (Q_LEARNING, dict(seeds=[1, 1]), ValueError, "repeats"),
    (Q_LEARNING, dict(seeds=[]), ValueError, "seeds is empty"),
    (Q_LEARNING, dict(seeds="3"), TypeError, "seeds"),
    (Q_LEARNING, dict(steps=0), ValueError, "steps must be a positive int"),
    (Q_LEARNING, dict(temperature=-1.0), ValueError, "temperature"),
    (Q_LEARNING, dict(temperature="medium"), ValueError, "'low' or 'high'"),
    (Q_LEARNING, dict(temperature=0.1), ValueError, "no 'temperature' parameter"),
    ("ctrlinf.bridge.suite.agents:sb3_dqn", dict(temperature="low"), ValueError,
     "no 'temperature' parameter"),
    (SPEC, dict(temperature=0.1, agent_options={"temperature": 1}), ValueError,
     "must not set 'temperature'"),
    (Q_LEARNING, dict(agent_options={"epsilon": object()}), TypeError, "JSON"),
    (Q_LEARNING, dict(tasks=["nope"]), ValueError, "unknown task"),
    (Q_LEARNING, dict(steps=3, checkpoints=4), ValueError, "checkpoints=4 exceeds steps=3"),
])
def test_run_refuses_bad_input_before_any_work(tmp_path, spec, kwargs, error, message):
    store = tmp_path / "store"
    with pytest.raises(error, match=message):
        suite.run(spec, store=store, **kwargs)
    assert not store.exists()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The CI suite through the real runner: local worker processes, a store."""
    store = tmp_path_factory.mktemp("suite") / "store"
    table = suite.run(Q_LEARNING, store=store, n_workers=2, progress=False, **SMALL)
    return table, store


def test_run_returns_a_row_per_task_and_seed(results):
    table, _ = results
    assert list(table.columns[:7]) == ["suite_version", "agent", "task", "seed", "steps",
                                       "temperature", "gamma"]
    assert list(table[["task", "seed"]].itertuples(index=False, name=None)) == [
        ("masked_grid", 0), ("masked_grid", 1), ("frozenlake_4x4", 0), ("frozenlake_4x4", 1)]
    assert (table["suite_version"] == suite.SUITE_VERSION).all()
    assert table["error"].isna().all()
    for row in table.itertuples():
        assert len(row.curve_step) == 4 and row.curve_step[-1] == 2000
        assert len(row.state_regret) == suite.get_task(row.task).mdp().n_states
        direct = _cell(Q_LEARNING, row.task, seed=row.seed, steps=2000)   # the same run
        assert row.return_gap == direct["return_gap"] and row.q_error == direct["q_error"]


def test_a_rerun_reads_the_store_and_computes_nothing(results, monkeypatch):
    from ctrlinf import sweep

    table, store = results

    def no_cluster(*args, **kwargs):
        raise AssertionError("a complete store must not start a cluster")

    monkeypatch.setattr(sweep, "_compute", no_cluster)
    again = suite.run(Q_LEARNING, store=store, progress=False, **SMALL)
    pd.testing.assert_frame_equal(table, again)


# -- aggregates --------------------------------------------------------------------------
def test_iqm_is_the_mean_of_the_middle_half():
    assert suite.iqm([1.0, 2.0, 3.0, 100.0]) == 2.5
    x = np.random.default_rng(0).normal(size=40)
    assert suite.iqm(x) == pytest.approx(np.sort(x)[10:30].mean())
    assert suite.iqm([1.0, 3.0]) == 2.0 and suite.iqm([1.0, 2.0, 9.0]) == 4.0   # n < 4: mean


def test_the_bootstrap_resamples_within_each_task():
    """Each task keeps its runs' count: the pooled mean of [0,0,0] and [1,1,1] never moves."""
    def pooled_mean(samples):
        return np.concatenate(samples, axis=1).mean(axis=1)

    point, low, high = suite.stratified_bootstrap([[0.0] * 3, [1.0] * 3], pooled_mean)
    assert point == low == high == 0.5
    # pooled into one stratum, the same six runs give a wide interval
    _, low, high = suite.stratified_bootstrap([[0.0] * 3 + [1.0] * 3], pooled_mean)
    assert low < 0.3 and high > 0.7


def test_iqm_interval_covers_the_truth_about_95_percent_of_the_time():
    """4 tasks x 10 seeds of N(μ, 1): the IQM of a symmetric law is its centre μ."""
    rng = np.random.default_rng(1)
    covered = []
    for _ in range(300):
        strata = [rng.normal(0.3, 1.0, size=10) for _ in range(4)]
        _, low, high = suite.stratified_bootstrap(strata, n_resamples=500,
                                                  seed=int(rng.integers(1 << 30)))
        covered.append(low <= 0.3 <= high)
    assert 0.88 <= np.mean(covered) <= 0.99


def _frame(scores, version=suite.SUITE_VERSION):
    rows = [{"suite_version": version, "task": task, "seed": seed,
             "normalised_value_gap": value}
            for task, values in scores.items() for seed, value in enumerate(values)]
    return pd.DataFrame(rows)


def test_performance_profile_weighs_every_task_the_same():
    profile = suite.performance_profile(_frame({"a": [0.0, 0.0], "b": [1.0] * 4}),
                                        thresholds=[0.5])
    assert profile["fraction"][0] == 0.5            # not 2/6
    profile = suite.performance_profile(_frame({"a": [0.0, 0.5, 1.0]}),
                                        thresholds=[0.25, 0.5, 1.0])
    np.testing.assert_allclose(profile["fraction"], [1 / 3, 2 / 3, 1.0])
    assert (profile["low"] <= profile["fraction"]).all() and \
        (profile["fraction"] <= profile["high"]).all()


def test_probability_of_improvement_is_the_mann_whitney_fraction():
    better, worse = _frame({"a": [0.0, 0.1], "b": [0.2]}), _frame({"a": [1.0], "b": [0.9]})
    assert suite.probability_of_improvement(better, worse)[0] == 1.0
    assert suite.probability_of_improvement(better, better)[0] == 0.5
    # a: x = [0, 2] vs y = [1]: one pair of two is better -> 0.5
    assert suite.probability_of_improvement(_frame({"a": [0.0, 2.0]}),
                                            _frame({"a": [1.0]}))[0] == 0.5
    table = suite.compare(better, worse)
    assert list(table["task"]) == ["a", "b", "all tasks"]
    assert (table["difference"] < 0).all() and (table["difference_high"] < 0).all()
    same = suite.compare(better, better)
    assert (same["difference"] == 0).all() and (same["p_improvement"] == 0.5).all()
    with pytest.raises(ValueError, match="suite versions"):
        suite.compare(better, _frame({"a": [1.0]}, version="0.9"))


def test_summary_skips_failed_runs_and_counts_them():
    frame = _frame({"a": [0.1, np.nan, 0.3], "b": [np.nan, np.nan]})
    table = suite.summary(frame)
    assert list(table["task"]) == ["a", "b", "all tasks"]
    assert list(table["runs"]) == [2, 0, 2] and list(table["failed"]) == [1, 2, 3]
    assert table["iqm"][0] == pytest.approx(0.2) and math.isnan(table["iqm"][1])


# -- the page ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def written(results, tmp_path_factory):
    table, _ = results
    path = suite.report(table, tmp_path_factory.mktemp("page") / "card.html")
    return path, path.read_text(encoding="utf-8")


def test_the_page_is_one_self_contained_file(written):
    _, text = written
    assert text.startswith("<!DOCTYPE html>") and text.count("<html") == 1
    assert "http://" not in text and "https://" not in text
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', text))
    assert re.findall(r'href="([^"]*)"', text) == ["data:,"]


def test_failed_runs_are_listed_and_left_out_of_the_figures(results, tmp_path):
    table, _ = results
    broken = table.copy()
    failed = broken["task"] == "masked_grid"
    for column in runner.SCORE_COLUMNS + runner.CURVE_COLUMNS + runner.STATE_COLUMNS:
        broken[column] = broken[column].where(~failed, np.nan)
    broken["error"] = broken["error"].where(~failed, "ValueError: action 2 is forbidden <here>")
    text = suite.report(broken, tmp_path / "p.html").read_text()
    assert text.count("action 2 is forbidden &lt;here&gt;") == 2
    assert 'id="curve-masked_grid"' not in text and 'id="map-masked_grid"' not in text
    assert 'id="curve-frozenlake_4x4"' in text
    assert list(suite.summary(broken)["failed"]) == [2, 0, 2]


def test_user_text_never_meets_a_placeholder(results, tmp_path):
    table, _ = results
    text = suite.report(table, tmp_path / "p.html", title="%%BODY%% <b>").read_text()
    assert text.count('id="summary"') == 1 and "&lt;b&gt;" in text


def _table_values(driver, name):
    return driver.execute_script(
        f"return [...document.querySelectorAll('#{name} tbody tr')].map(tr => "
        "[...tr.querySelectorAll('td')].map(td => [td.dataset.value ?? null, td.textContent]));")


def test_in_a_browser_every_figure_shows_and_the_numbers_are_the_dataframes(
        browser, results, written):
    table, _ = results
    path, _ = written
    browser.get(path.resolve().as_uri())
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    figures = browser.execute_script(
        "return [...document.querySelectorAll('figure')].map(f => "
        "[f.id, f.querySelector('img').complete && f.querySelector('img').naturalWidth > 0]);")
    names = ["profile"] + [f"{kind}-{task}" for kind in ("curve", "map")
                           for task in SMALL["tasks"]]
    assert sorted(figures) == sorted([name, True] for name in names)
    assert browser.find_element("id", "suite-version").text == suite.SUITE_VERSION
    summary = suite.summary(table)
    for shown, (_, row) in zip(_table_values(browser, "summary"), summary.iterrows()):
        for (value, text), column in zip(shown, page.SUMMARY_COLUMNS):
            assert text == page.format_number(row[column])
            if value is not None and not math.isnan(float(row[column])):
                assert float(value) == float(row[column])
    runs = _table_values(browser, "runs")
    assert len(runs) == len(table)
    for shown, (_, row) in zip(runs, table.iterrows()):
        for (value, text), column in zip(shown, page.SEED_COLUMNS):
            assert text == page.format_number(row[column])
            if value is not None and not (isinstance(row[column], float)
                                          and math.isnan(row[column])):
                assert float(value) == float(row[column])
    embedded = json.loads(browser.execute_script(
        "return document.getElementById('ctrlinf-results').textContent;"))
    assert [r["return_gap"] for r in embedded["runs"]] == list(table["return_gap"])


# -- the command ---------------------------------------------------------------------------
def test_check_help_gives_every_default(capsys):
    assert cli.main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert "pkg.module:make_agent" in out
    # What the exit status means (test_check_reports_failed_runs_in_one_line_each: 0).
    assert "Exit status: 0 when the report is written, also when some runs failed" in out
    options = [a for a in cli.build_parser()._subparsers._group_actions[0].choices["check"]
               ._actions if a.option_strings and a.dest != "help"]
    assert len(options) >= 10
    assert all("default" in a.help or a.required for a in options)


@pytest.mark.parametrize("argv, message", [
    (["nope_module_xyz:make"], "cannot import 'nope_module_xyz'"),
    (["nope_module_xyz.agents:make"], "run from the folder that holds nope_module_xyz.py"),
    (["ctrlinf.bridge.suite.agents"], "pkg.module:name"),
    ([Q_LEARNING, "--seeds", "0"], "--seeds: expected a positive int"),
    ([Q_LEARNING, "--seeds", "two"], "--seeds: expected a positive int"),
    ([Q_LEARNING, "--tasks", "chain"], "invalid choice: 'chain'"),
    ([Q_LEARNING, "--temperature", "0.1"], "no 'temperature' parameter"),
    ([Q_LEARNING, "--temperature", "-1"], "expected a finite number >= 0"),
    ([Q_LEARNING, "--option", "x"], "expected KEY=VALUE"),
    (["test_bridge_suite:one_argument_agent"],
     "cannot be called as make_agent(env, gamma, seed): too many positional arguments"),
    ([Q_LEARNING, "--option", "colour=1"],
     "cannot be called as make_agent(env, gamma, seed, colour=...)"),
])
def test_check_refuses_bad_input_in_one_line(tmp_path, capsys, argv, message):
    out = tmp_path / "card.html"
    assert cli.main(["check", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_check_imports_an_agent_module_from_the_current_folder(tmp_path):
    """The installed ``ctrlinf`` script, unlike ``python -m ctrlinf``, does not put the
    current folder on sys.path; a newcomer's ``my_agent.py`` beside them must import in
    both, in the command and in its worker processes (``python -P`` is the script's
    sys.path)."""
    import subprocess
    import sys
    (tmp_path / "my_agent.py").write_text(
        "from ctrlinf.bridge.suite.agents import q_learning\n\n\n"
        "def make_agent(env, gamma, seed):\n    return q_learning(env, gamma, seed)\n")
    result = subprocess.run(
        [sys.executable, "-P", "-m", "ctrlinf", "check", "my_agent:make_agent",
         "--out", "card.html", "--tasks", "two_routes", "--seeds", "1", "--steps", "200",
         "--checkpoints", "2", "--workers", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, MPLBACKEND="Agg"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "failed" not in result.stderr          # the workers imported it too
    assert (tmp_path / "card.html").exists()


@pytest.mark.parametrize("where, message", [("dir", "is a directory"),
                                            ("missing/card.html", "does not exist")])
def test_check_refuses_an_unwritable_out(tmp_path, capsys, where, message):
    (tmp_path / "dir").mkdir()
    assert cli.main(["check", Q_LEARNING, "--out", str(tmp_path / where),
                     "--store", str(tmp_path / "store")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "store").exists()     # checked before any work


def test_check_writes_the_card_from_the_store(results, tmp_path, capsys):
    table, store = results
    out = tmp_path / "card.html"
    argv = ["check", Q_LEARNING, "--out", str(out), "--store", str(store), "--seeds", "2",
            "--steps", "2000", "--checkpoints", "4", "--tasks", *SMALL["tasks"]]
    assert cli.main(argv) == 0
    text = out.read_text(encoding="utf-8")
    assert 'id="summary"' in text and f"<b id=suite-version>{suite.SUITE_VERSION}</b>" in text
    printed = capsys.readouterr().out
    assert "wrote" in printed
    # The printed table says what its numbers are (a newcomer read iqm 1 as perfect).
    assert ("iqm: interquartile mean over seeds of the normalised_value_gap (0 optimal, 1 "
            "the uniform policy; lower is better); [iqm_low, iqm_high]: its 95% bootstrap "
            "interval") in printed


def test_check_prints_an_optimal_agents_round_off_as_zero(results, tmp_path, capsys,
                                                          monkeypatch):
    """A newcomer's exact agent printed an IQM of -1.541e-16 ("better than optimal?")."""
    table, _ = results
    noisy = table.assign(normalised_value_gap=[-1.5e-16, 3e-17, -2e-16, 1e-16])
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: noisy)
    assert cli.main(["check", Q_LEARNING, "--out", str(tmp_path / "card.html")]) == 0
    printed = capsys.readouterr().out
    rows = [line.split() for line in printed.splitlines()
            if line.split()[:1] in (["masked_grid"], ["frozenlake_4x4"])]
    assert len(rows) == 2
    for row in rows:
        assert row[3:6] == ["0.0000"] * 3, row
    assert "e-1" not in printed and "-0.0000" not in printed


def test_check_reports_failed_runs_in_one_line_each(tmp_path, capsys):
    """The failed cells' warning reads like the command's errors, not as Python's
    'runner.py:163: RuntimeWarning' followed by the source line that raised it."""
    argv = ["check", "test_bridge_suite:broken_agent", "--out", str(tmp_path / "card.html"),
            "--tasks", "two_routes", "--seeds", "1", "--steps", "10", "--checkpoints", "1",
            "--workers", "1"]
    assert cli.main(argv) == 0   # as --help says: the report is written
    err = capsys.readouterr().err.strip().splitlines()
    assert all(line.startswith("ctrlinf check: ") or line.endswith("the page lists their "
                                                                  "errors") for line in err)
    assert any(line.startswith("ctrlinf check: warning: 1 of 1 cells failed") and
               "ValueError: this agent cannot learn" in line for line in err), err


# -- Stable-Baselines3 --------------------------------------------------------------------
@pytest.mark.parametrize("name, options", [("sb3_dqn", {"learning_starts": 50}),
                                           ("sb3_ppo", {"n_steps": 64, "batch_size": 32})])
def test_sb3_adapters_are_scored_like_any_agent(name, options):
    pytest.importorskip("stable_baselines3", reason='needs the sb3 extra: pip install '
                        'torch==2.13.0, then pip install -e ".[sb3]"')
    row = _cell(f"ctrlinf.bridge.suite.agents:{name}", "frozenlake_4x4", steps=256,
                options=json.dumps(options))
    assert 0 <= row["normalised_value_gap"] and len(row["curve_step"]) == 4
    assert math.isnan(row["q_error"]) == (name == "sb3_ppo")      # PPO has no Q table
