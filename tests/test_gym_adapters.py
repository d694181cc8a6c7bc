"""Gymnasium adapters: toy-text tables in, exact values out; any MDP out as a checked Env."""
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

import ctrlinf as ci
from ctrlinf.envs import cliff_walking, from_gymnasium, gridworld, random_mdp, to_gymnasium

gym = pytest.importorskip("gymnasium")
from gymnasium.utils.env_checker import check_env  # noqa: E402


def table_values(env, horizon):
    """Optimal expected gymnasium return over ``horizon`` steps, from the P table alone.

    Backward induction straight from ``P[s][a] = [(prob, next, reward, terminated)]``:
    ``V_T = 0``, ``V_t(s) = max_a Σ prob (reward + [not terminated] V_{t+1}(next))``.
    It shares no code with ctrlinf, so agreement checks the adapter and the solver.
    """
    table = env.unwrapped.P
    n_states, n_actions = env.observation_space.n, env.action_space.n
    V = np.zeros(n_states)
    for _ in range(horizon):
        V = np.array([max(sum(p * (reward + (0.0 if done else V[nxt]))
                              for p, nxt, reward, done in table[s][a])
                          for a in range(n_actions))
                      for s in range(n_states)])
    return V


@pytest.mark.parametrize("env_id, kwargs, horizon", [
    ("FrozenLake-v1", {}, 30),
    ("FrozenLake-v1", dict(is_slippery=False), 10),
    ("FrozenLake8x8-v1", {}, 60),
    ("CliffWalking-v1", {}, 20),
    ("Taxi-v4", {}, 15),
])
def test_optimal_values_equal_backward_induction_on_the_gym_table(env_id, kwargs, horizon):
    env = gym.make(env_id, **kwargs)
    mdp = from_gymnasium(env, horizon=horizon)
    S = env.observation_space.n
    expected = table_values(env, horizon)
    V0 = ci.solve(mdp, mode="hard").V[0]
    assert_allclose(V0[:S], expected, atol=1e-10)
    assert V0[S] == 0.0                                   # the terminated state pays nothing
    isd = env.unwrapped.initial_state_distrib
    assert_allclose(mdp.p0, np.append(isd, 0.0))
    # For FrozenLake this is the probability of reaching G within the horizon.
    assert mdp.p0 @ V0 == pytest.approx(isd @ expected, abs=1e-10)


def test_frozenlake_success_probability_is_a_probability_that_grows_with_the_horizon():
    env = gym.make("FrozenLake-v1")

    def success(horizon):
        mdp = from_gymnasium(env, horizon=horizon)
        return mdp.p0 @ ci.solve(mdp, mode="hard").V[0]

    success = [success(T) for T in (6, 20, 100)]
    # 6 steps is the shortest path; slipping makes it unlikely but possible.
    assert 0 < success[0] < success[1] < success[2] < 1


def test_frozenlake_grid_layout_and_action_order():
    env = gym.make("FrozenLake-v1", is_slippery=False)
    mdp = from_gymnasium(env, horizon=5)
    letters = np.char.decode(env.unwrapped.desc)
    assert isinstance(mdp, ci.envs.GridMDP) and mdp.shape == (4, 4) and mdp.n_states == 17
    assert_array_equal(mdp.goals, letters == "G")
    assert_array_equal(mdp.pits, letters == "H")
    assert mdp.action_names == ("left", "down", "right", "up")
    P = mdp.transition_tensor()
    # Deterministic moves follow action_deltas (clipped at borders); entering G or H ends
    # the episode, i.e. goes to the extra state 16.
    for s in range(16):
        row, col = mdp.coords(s)
        for a, (drow, dcol) in enumerate(mdp.action_deltas):
            if letters[row, col] in "GH":
                expected = 16
            else:
                target = (min(max(row + drow, 0), 3), min(max(col + dcol, 0), 3))
                expected = 16 if letters[target] in "GH" else mdp.state(*target)
            assert P[s, a, expected] == 1.0


def test_taxi_expected_rewards_and_terminations():
    env = gym.make("Taxi-v4")
    mdp = from_gymnasium(env, horizon=3)
    table = env.unwrapped.P
    assert type(mdp) is ci.TabularMDP and mdp.n_states == 501 and mdp.n_actions == 6
    P = mdp.P
    for s in range(500):
        for a in range(6):
            outcomes = table[s][a]
            assert mdp.r[s, a] == pytest.approx(sum(p * rew for p, _, rew, _ in outcomes))
            for p, nxt, _, done in outcomes:
                assert P[s * 6 + a, 500 if done else nxt] >= p - 1e-12
    assert_array_equal(mdp.transition_tensor()[500, :, 500], 1.0)
    assert_array_equal(mdp.r[500], 0.0)


def test_cliff_walking_equals_gymnasium_cliff_walking():
    # Same values at every time step on every cell the agent can occupy (the cliff is
    # never occupied; the gym goal state is never entered, the episode ends instead).
    ours = ci.solve(cliff_walking(horizon=25), mode="hard").V
    theirs = ci.solve(from_gymnasium(gym.make("CliffWalking-v1"), horizon=25), mode="hard").V
    occupiable = ~(cliff_walking().pits | cliff_walking().goals).ravel()
    assert_allclose(ours[:, occupiable], theirs[:, :48][:, occupiable], atol=1e-10)
    grid = from_gymnasium(gym.make("CliffWalking-v1"), horizon=25)
    assert_array_equal(grid.pits, cliff_walking().pits)
    assert_array_equal(grid.goals, cliff_walking().goals)


class TableEnv:
    """A bare toy-text-like object: just P, spaces and optionally isd."""

    def __init__(self, table, n_states=2, n_actions=1, **attributes):
        self.P = table
        self.observation_space = gym.spaces.Discrete(n_states)
        self.action_space = gym.spaces.Discrete(n_actions)
        self.__dict__.update(attributes)


GOOD_TABLE = {0: {0: [(0.5, 0, 1.0, False), (0.5, 1, 3.0, True)]}, 1: {0: [(1.0, 1, 0.0, False)]}}


def test_old_gym_isd_and_explicit_p0():
    mdp = from_gymnasium(TableEnv(GOOD_TABLE, isd=[0.25, 0.75]), horizon=2)
    assert_allclose(mdp.p0, [0.25, 0.75, 0.0])
    assert_allclose(mdp.r[:, 0], [2.0, 0.0, 0.0])
    assert_allclose(mdp.transition_tensor()[0, 0], [0.5, 0.0, 0.5])
    explicit = from_gymnasium(TableEnv(GOOD_TABLE), horizon=2, p0=[1.0, 0.0])
    assert_allclose(explicit.p0, [1.0, 0.0, 0.0])


@pytest.mark.parametrize("env, error, match", [
    (gym.make("Blackjack-v1"), TypeError, "has no toy-text transition table"),
    (TableEnv(GOOD_TABLE), ValueError, "neither initial_state_distrib nor isd; pass p0"),
    (TableEnv({0: GOOD_TABLE[0]}, isd=[1, 0]), ValueError, r"env.unwrapped.P\[1\] is missing"),
    (TableEnv(GOOD_TABLE, n_actions=2, isd=[1, 0]), ValueError,
     r"env.unwrapped.P\[0\]\[1\] is missing or empty"),
    (TableEnv({**GOOD_TABLE, 1: {0: [(1.0, 1, 0.0)]}}, isd=[1, 0]), ValueError,
     r"P\[1\]\[0\] holds \(1.0, 1, 0.0\); expected tuples"),
    (TableEnv({**GOOD_TABLE, 1: {0: [(1.0, 2, 0.0, False)]}}, isd=[1, 0]), ValueError,
     r"P\[1\]\[0\] leads to state 2, outside \[0, 2\)"),
    (TableEnv({**GOOD_TABLE, 1: {0: [(0.9, 1, 0.0, False)]}}, isd=[1, 0]), ValueError,
     r"P\[1\]\[0\] has probabilities summing to 0.9"),
    (TableEnv({**GOOD_TABLE, 1: {0: [(-0.5, 0, 0.0, False), (1.5, 1, 0.0, False)]}},
              isd=[1, 0]), ValueError, r"P\[1\]\[0\] has probability -0.5, expected >= 0"),
    (TableEnv(GOOD_TABLE, isd=[0.5, 0.6]), ValueError, "p0 sums to 1.1"),
])
def test_from_gymnasium_rejects_bad_envs(env, error, match):
    with pytest.raises(error, match=match):
        from_gymnasium(env, horizon=3)


def _with(s, a, outcomes):
    """GOOD_TABLE with ``P[s][a]`` replaced, in an env that has an ``isd``."""
    table = {state: dict(row) for state, row in GOOD_TABLE.items()}
    table[s][a] = outcomes
    return TableEnv(table, isd=[1, 0])


@pytest.mark.parametrize("env, error, match", [
    # Next states that are not ints were accepted (1.7 read as state 1, "1" as 1).
    (_with(1, 0, [(1.0, 1.7, 0.0, False)]), TypeError,
     r"env.unwrapped.P\[1\]\[0\] leads to state 1.7 \(float\), expected an int"),
    (_with(1, 0, [(1.0, "1", 0.0, False)]), TypeError,
     r"env.unwrapped.P\[1\]\[0\] leads to state '1' \(str\), expected an int"),
    (_with(0, 0, [(1.0, True, 0.0, False)]), TypeError, r"P\[0\]\[0\] leads to state True"),
    # String probabilities and rewards crashed (or were parsed).
    (_with(1, 0, [("1.0", 1, 0.0, False)]), TypeError,
     r"env.unwrapped.P\[1\]\[0\] has probability '1.0' \(str\), expected a real number"),
    (_with(0, 0, [(1.0, 0, "1.0", False)]), TypeError,
     r"env.unwrapped.P\[0\]\[0\] has reward '1.0' \(str\), expected a real number"),
    (_with(0, 0, [(1.0, 0, np.nan, False)]), ValueError,
     r"env.unwrapped.P\[0\]\[0\] has reward nan, expected a finite number"),
    (_with(0, 0, [(np.inf, 0, 0.0, False)]), ValueError, r"P\[0\]\[0\] has probability inf"),
    (_with(0, 0, [(1.0, 0, 0.0, "False")]), TypeError,
     r"env.unwrapped.P\[0\]\[0\] has terminated 'False' \(str\), expected a bool"),
    # Outcomes that are not tuples crashed in len().
    (_with(1, 0, [1.0]), TypeError,
     r"env.unwrapped.P\[1\]\[0\] holds 1.0; expected tuples \(prob, next_state"),
    (_with(1, 0, (1.0, 1, 0.0, False)), TypeError, r"P\[1\]\[0\] holds 1.0; expected tuples"),
    (_with(1, 0, {(1.0, 1, 0.0, False)}), TypeError,
     r"env.unwrapped.P\[1\]\[0\] is a set; expected a list of tuples"),
    # Rows given as lists crashed in .get().
    (TableEnv({0: [GOOD_TABLE[0][0]], 1: GOOD_TABLE[1]}, isd=[1, 0]), TypeError,
     r"env.unwrapped.P\[0\] is a list; expected a dict \{action: "),
    # Keys that no state or action of the spaces reaches were ignored.
    (TableEnv({**GOOD_TABLE, 2: GOOD_TABLE[1]}, isd=[1, 0]), ValueError,
     r"env.unwrapped.P has the key 2; the states of env.observation_space are the ints 0 to 1"),
    (_with(1, "0", [(1.0, 1, 0.0, False)]), ValueError,
     r"env.unwrapped.P\[1\] has the key '0'; the actions of env.action_space are the ints"),
])
def test_from_gymnasium_names_the_malformed_table_entry(env, error, match):
    with pytest.raises(error, match=match):
        from_gymnasium(env, horizon=3)


def test_from_gymnasium_accepts_lists_numpy_numbers_and_0_1_terminations():
    table = {0: {0: [[np.float32(0.5), np.int64(0), 1, 0], (0.5, 1, np.float64(3.0), 1)]},
             1: {0: [(1.0, 1, 0, np.bool_(False))]}}
    mdp = from_gymnasium(TableEnv(table, isd=[0.25, 0.75]), horizon=2)
    assert_allclose(mdp.r[:, 0], [2.0, 0.0, 0.0])
    assert_allclose(mdp.transition_tensor()[0, 0], [0.5, 0.0, 0.5])


def test_from_gymnasium_rejects_non_discrete_spaces():
    env = TableEnv(GOOD_TABLE, isd=[1, 0])
    env.observation_space = gym.spaces.Box(0, 1, shape=(2,))
    with pytest.raises(TypeError, match="env.observation_space must be gymnasium.spaces.Discrete"):
        from_gymnasium(env, horizon=3)


def test_adapters_say_how_to_install_gymnasium(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)    # makes `import gymnasium` fail
    for call in (lambda: from_gymnasium(object(), horizon=3),
                 lambda: to_gymnasium(random_mdp(2, 2, seed=0))):
        with pytest.raises(ImportError, match=r'pip install -e "\.\[gym\]"'):
            call()


# -- to_gymnasium ------------------------------------------------------------
def _masked_chain_arrays(rewards=((0.0, 1.0, -np.inf), (-np.inf, 0.5, 2.0))):
    """Two states, three actions; r = -inf forbids action 2 in state 0 and action 0 in 1."""
    P = np.zeros((2, 3, 2))
    P[:, 0, 0] = P[:, 1, 1] = 1.0
    P[:, 2, :] = 0.5
    return P, np.array(rewards, dtype=float), np.array([1.0, 0.0])


def _masked_chain():
    return ci.TabularMDP(*_masked_chain_arrays(), horizon=6)


WORLDS = {
    "grid": lambda: gridworld((3, 4), slip=0.2, walls=[(1, 1)], goals=[(0, 3)], pits=[(1, 3)]),
    "random": lambda: random_mdp(6, 3, branching=3, seed=2, horizon=4),
    "taxi": lambda: from_gymnasium(gym.make("Taxi-v4"), horizon=30),
    "cliff": lambda: cliff_walking(),
}


@pytest.mark.parametrize("render_mode", [None, "ansi"])
@pytest.mark.parametrize("world", list(WORLDS))
def test_exported_env_passes_the_gymnasium_checker(world, render_mode):
    env = to_gymnasium(WORLDS[world](), seed=0, render_mode=render_mode)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    # The only complaint allowed: no registry spec, so it cannot try other render modes.
    assert all("not having a spec" in str(w.message) for w in caught), [
        str(w.message) for w in caught]


def _dead_start():
    """p0 puts mass on a dead state (every action stays, reward 0): episodes may end at once."""
    P = np.zeros((3, 2, 3))
    P[0, :, 1] = 1.0
    P[1, 0, 2], P[1, 1, 0] = 1.0, 1.0
    P[2, :, 2] = 1.0
    return ci.TabularMDP(P, [[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]], [0.5, 0.0, 0.5], horizon=4)


CHECKED_WORLDS = {
    "masked": _masked_chain,
    "masked-infinite": lambda: _masked_chain().replace(horizon=None, gamma=0.9),
    "masked-horizon-2": lambda: _masked_chain().replace(horizon=2),
    "dead-states": lambda: from_gymnasium(gym.make("FrozenLake-v1"), horizon=10),
    "dead-start": _dead_start,
    "infinite": lambda: random_mdp(4, 3, seed=5, horizon=None, gamma=0.9),
    "grid": lambda: gridworld((2, 3), slip=0.1, walls=[(1, 1)], goals=[(0, 2)], horizon=4),
    "grid-masked": lambda: gridworld((2, 2), horizon=3).replace(
        r=np.where(np.arange(5) == 4, -np.inf, gridworld((2, 2), horizon=3).r)),
}


@pytest.mark.parametrize("world", list(CHECKED_WORLDS))
def test_check_env_passes_for_masked_dead_infinite_and_grid_worlds(world):
    """README: the env passes gymnasium's check_env (masks and dead states included)."""
    env = to_gymnasium(CHECKED_WORLDS[world](), seed=0, render_mode="ansi")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    assert all("not having a spec" in str(w.message) for w in caught), [
        str(w.message) for w in caught]


@pytest.mark.parametrize("make", [lambda: random_mdp(3, 2, seed=0, horizon=1),
                                  lambda: _masked_chain().replace(horizon=1)])
def test_check_env_refuses_horizon_one_as_the_docstring_says(make):
    """The one documented exception: at horizon 1 a step that does not terminate is
    truncated, which gymnasium's check_step_determinism asserts never happens."""
    env = to_gymnasium(make(), seed=0)
    with pytest.raises(AssertionError, match="truncates after 1 step"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env)
    env.reset(seed=0)
    assert env.step(1)[2:4] in ((False, True), (True, False))


def test_the_env_class_is_a_module_level_class():
    """Importable, subclassable and picklable (a class made inside a function is none of it)."""
    import pickle

    from ctrlinf.envs.gym_env import TabularMDPEnv

    mdp = gridworld((2, 3), slip=0.8, goals=[(0, 2)], horizon=30)
    env = to_gymnasium(mdp, seed=3)
    assert type(env) is TabularMDPEnv and TabularMDPEnv.__qualname__ == "TabularMDPEnv"
    env.reset()
    env.step(1)
    clone = pickle.loads(pickle.dumps(env))
    assert (clone.s, clone.t) == (env.s, env.t)
    # The generator state travelled too: the slips repeat.
    assert [clone.step(1)[:4] for _ in range(20)] == [env.step(1)[:4] for _ in range(20)]

    class Rewarded(TabularMDPEnv):
        def step(self, action):
            s, reward, terminated, truncated, info = super().step(action)
            return s, reward + 1.0, terminated, truncated, info

    assert Rewarded(mdp, seed=0).reset()[0] == env.reset(seed=0)[0]


def test_gymnasium_is_imported_only_when_an_adapter_runs():
    import subprocess

    code = ("import sys, ctrlinf, ctrlinf.envs, ctrlinf.bridge\n"
            "print('gymnasium' in sys.modules)\n"
            "ctrlinf.envs.to_gymnasium(ctrlinf.envs.random_mdp(2, 2, seed=0))\n"
            "print('gymnasium' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]


def test_the_masked_env_table_gives_the_masked_mdp_values_by_backward_induction():
    """``table_values`` reads only env.P (no ctrlinf code): with the forbidden penalty the
    optimal expected return equals the masked MDP's hard value at every state."""
    for mdp in (_masked_chain(), CHECKED_WORLDS["grid-masked"]()):
        env = to_gymnasium(mdp)
        assert_allclose(table_values(env, mdp.horizon), ci.solve(mdp, mode="hard").V[0],
                        atol=1e-12)


def test_exported_table_matches_the_mdp():
    mdp = cliff_walking(slip=0.3)
    env = to_gymnasium(mdp)
    P = mdp.transition_tensor()
    goal = mdp.state(3, 11)
    for s in range(mdp.n_states):
        for a in range(mdp.n_actions):
            row = np.zeros(mdp.n_states)
            for p, nxt, reward, done in env.P[s][a]:
                row[nxt] += p
                assert reward == mdp.r[s, a]
                # Dead states (absorbing, zero reward): the goal and the unreachable cliff.
                assert done == (nxt == goal or mdp.pits.ravel()[nxt])
            assert_allclose(row, P[s, a], atol=1e-15)
    assert_array_equal(env.initial_state_distrib, mdp.p0)


def pearson_statistic(counts, probabilities):
    """Σ (observed - expected)² / expected over the cells with expected > 0."""
    expected = counts.sum() * probabilities
    keep = expected > 0
    assert counts[~keep].sum() == 0, "a draw landed where P is zero"
    return np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep]), keep.sum() - 1


def test_empirical_transition_frequencies_match_P():
    # For each (s, a), 3000 steps from s: Pearson's chi-square summed over all pairs
    # (a sum of independent chi-squares) must stay below the 0.999 quantile of the
    # chi-square with the summed degrees of freedom. Fixed seed, so deterministic.
    mdp = gridworld((3, 3), slip=0.4, walls=[(1, 1)], horizon=None, gamma=0.9)
    env = to_gymnasium(mdp, seed=123)
    env.reset()
    P = mdp.transition_tensor()
    total, dof = 0.0, 0
    for s in [0, 2, 3, 7]:
        for a in range(mdp.n_actions):
            counts = np.zeros(mdp.n_states)
            for _ in range(3000):
                env.s = s
                nxt, reward, _, _, info = env.step(a)
                counts[nxt] += 1
                assert reward == mdp.r[s, a] and info["prob"] == pytest.approx(P[s, a, nxt])
            statistic, df = pearson_statistic(counts, P[s, a])
            total, dof = total + statistic, dof + df
    assert dof > 0 and total < stats.chi2.ppf(0.999, dof)


def test_reset_draws_from_p0():
    mdp = random_mdp(8, 2, seed=5)
    env = to_gymnasium(mdp, seed=9)
    counts = np.bincount([env.reset()[0] for _ in range(20000)], minlength=8)
    statistic, df = pearson_statistic(counts, mdp.p0)
    assert statistic < stats.chi2.ppf(0.999, df)


def test_truncates_at_the_horizon_and_terminates_only_in_dead_states():
    env = to_gymnasium(gridworld((1, 3), goals=[(0, 2)], horizon=4, start=(0, 0)))
    env.reset(seed=0)
    flags = [env.step(1)[2:4] for _ in range(4)]
    # The goal pays every step, so it is not dead: the episode runs to the horizon.
    assert flags == [(False, False)] * 3 + [(False, True)]
    # Cliff 2x3: start (1, 0), cliff (1, 1), goal (1, 2); the goal is dead (absorbing, 0).
    env = to_gymnasium(cliff_walking(shape=(2, 3), horizon=10))
    env.reset(seed=0)
    for action in (0, 1, 1):                                  # up, right, right
        assert env.step(action)[2:4] == (False, False)
    obs, reward, terminated, truncated, info = env.step(2)   # down into the goal
    assert (obs, reward, terminated, truncated, info["t"]) == (5, -1.0, True, False, 4)


def test_returns_match_the_exact_value_of_a_fixed_policy():
    # Monte Carlo return of the hard-optimal (time-dependent) policy run in the env
    # equals its exact value p0 · V_0 within 4 standard errors.
    mdp = gridworld((3, 3), slip=0.3, goals=[(2, 2)], pits=[(1, 2)], horizon=6)
    sol = ci.solve(mdp, mode="hard")
    env = to_gymnasium(mdp, seed=1)
    rng = np.random.default_rng(0)
    returns = []
    for _ in range(4000):
        s, info = env.reset()
        total, done = 0.0, False
        while not done:
            a = rng.choice(mdp.n_actions, p=sol.policy[info["t"], s])
            s, reward, terminated, truncated, info = env.step(a)
            total += reward
            done = terminated or truncated
        returns.append(total)
    returns = np.array(returns)
    assert abs(returns.mean() - mdp.p0 @ sol.V[0]) < 4 * returns.std() / np.sqrt(len(returns))


@pytest.mark.parametrize("make", [
    lambda: gridworld((3, 3), slip=0.2, goals=[(0, 2)], horizon=8),
    lambda: cliff_walking(slip=0.1, horizon=20),
    lambda: random_mdp(5, 2, seed=3, horizon=6),
])
def test_round_trip_through_gymnasium_keeps_the_values(make):
    mdp = make()
    back = from_gymnasium(to_gymnasium(mdp), horizon=mdp.horizon)
    assert back.n_states == mdp.n_states + 1
    assert_allclose(ci.solve(back, mode="hard").V[:, :-1], ci.solve(mdp, mode="hard").V,
                    atol=1e-10)


def test_seed_makes_episodes_reproducible():
    mdp = random_mdp(10, 3, seed=0, horizon=20)

    def episode(env):
        steps = [env.reset()[0]]
        steps += [env.step(env.action_space.sample())[0] for _ in range(20)]
        return steps

    assert episode(to_gymnasium(mdp, seed=4)) == episode(to_gymnasium(mdp, seed=4))
    assert episode(to_gymnasium(mdp, seed=4)) != episode(to_gymnasium(mdp, seed=5))


def test_ansi_render_draws_the_board():
    grid = gridworld((2, 3), walls=[(0, 1)], goals=[(0, 2)], pits=[(1, 2)], start=(1, 0))
    env = to_gymnasium(grid, render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == "t=0\n.#G\n@.P\n"
    assert to_gymnasium(random_mdp(3, 2, seed=0), render_mode="ansi").render() == \
        "t=0 state=None\n"
    board = from_gymnasium(gym.make("FrozenLake-v1"), horizon=3)
    env = to_gymnasium(board, render_mode="ansi")
    env.reset(seed=0)
    env.s = 16
    assert env.render().endswith("(in state 16, which is not a cell)\n")


def test_render_without_a_mode_warns_and_returns_none():
    env = to_gymnasium(random_mdp(3, 2, seed=0))
    with pytest.warns(UserWarning, match="render_mode='ansi'"):
        assert env.render() is None


@pytest.mark.parametrize("call, error, match", [
    (lambda: to_gymnasium(np.eye(2)), TypeError, "mdp must be a ctrlinf.TabularMDP"),
    (lambda: to_gymnasium(random_mdp(2, 2, seed=0), seed=1.5), TypeError,
     "seed must be a non-negative int, got 1.5"),
    (lambda: to_gymnasium(random_mdp(2, 2, seed=0), render_mode="human"), ValueError,
     r"render_mode must be one of \['ansi'\], got 'human'"),
    (lambda: to_gymnasium(random_mdp(2, 2, seed=0), render_mode=np.array([1, 2])), TypeError,
     "render_mode must be one of"),
    (lambda: to_gymnasium(random_mdp(2, 2, seed=0)).step(0), gym.error.ResetNeeded,
     r"call reset\(\) before step\(\)"),
])
def test_to_gymnasium_rejects_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_step_rejects_an_action_outside_the_space():
    env = to_gymnasium(random_mdp(2, 2, seed=0))
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be an int in \[0, 2\), got 2"):
        env.step(2)


def test_step_after_the_episode_ended_asks_for_reset():
    # Truncated at the horizon: one more step is an error until reset().
    env = to_gymnasium(gridworld((1, 3), goals=[(0, 2)], horizon=2, start=(0, 0)))
    env.reset(seed=0)
    assert env.step(1)[3] is False and env.step(1)[3] is True
    with pytest.raises(gym.error.ResetNeeded, match=r"episode ended .* call reset\(\)"):
        env.step(1)
    env.reset()
    assert env.step(1)[4]["t"] == 1
    # Terminated in the dead goal of a cliff walk.
    env = to_gymnasium(cliff_walking(shape=(2, 3), horizon=10))
    env.reset(seed=0)
    for action in (0, 1, 1):
        env.step(action)
    assert env.step(2)[2] is True
    with pytest.raises(gym.error.ResetNeeded, match=r"call reset\(\) before step\(\)"):
        env.step(0)


def test_forbidden_actions_are_masked_and_end_the_episode_with_a_finite_penalty():
    mdp = _masked_chain()
    env = to_gymnasium(mdp, seed=0)
    s, info = env.reset()
    assert info["action_mask"].dtype == np.uint8 and info["action_mask"].shape == (3,)
    assert info["action_mask"].tolist() == [1, 1, 0] and env.action_masks().tolist() == [
        True, True, False]
    # -(1 + T max|r|) over the allowed rewards: T = 6, max|r| = 2.
    assert env.forbidden_reward == -13.0
    s, reward, terminated, truncated, info = env.step(2)
    assert (s, reward, terminated, truncated, info["t"]) == (0, -13.0, True, False, 1)
    with pytest.raises(gym.error.ResetNeeded, match=r"call reset\(\)"):
        env.step(1)
    s, info = env.reset()
    s, reward, _, _, info = env.step(1)
    assert (s, reward, info["action_mask"].tolist()) == (1, 1.0, [0, 1, 1])
    assert env.step(0)[1:3] == (-13.0, True)
    # The table lists what step does: one terminating outcome for each forbidden pair.
    assert env.P[0][2] == [(1.0, 0, -13.0, True)] and env.P[1][0] == [(1.0, 1, -13.0, True)]
    # Every reward the env hands out is finite, and the masks follow the state.
    for _ in range(50):
        s, info = env.reset()
        done = False
        while not done:
            a = int(env.np_random.choice(np.flatnonzero(info["action_mask"])))
            s, reward, terminated, truncated, info = env.step(a)
            assert np.isfinite(reward)
            assert info["action_mask"].tolist() == np.isfinite(mdp.r[s]).astype(int).tolist()
            done = terminated or truncated


@pytest.mark.parametrize("make", [
    _masked_chain,
    lambda: _masked_chain().replace(horizon=None, gamma=0.8),
    lambda: ci.TabularMDP(*_masked_chain_arrays(rewards=[[-5.0, 0.0, -np.inf],
                                                         [-np.inf, -5.0, -5.0]]),
                          horizon=4),
])
def test_the_forbidden_penalty_keeps_the_optimal_policy_and_values_of_the_masked_mdp(make):
    """Read back, the env is the masked MDP with each forbidden pair ending the episode
    at the penalty; its temperature-0 values equal the masked MDP's, state by state."""
    mdp = make()
    back = from_gymnasium(to_gymnasium(mdp), horizon=mdp.horizon, gamma=mdp.gamma)
    assert np.all(np.isfinite(back.r))
    exact, penalised = ci.solve(mdp, mode="hard"), ci.solve(back, mode="hard")
    assert_allclose(penalised.V[..., :-1], exact.V, atol=1e-9)
    assert_allclose(penalised.policy[..., :-1, :], exact.policy, atol=1e-12)


def test_an_infinite_horizon_penalty_uses_one_over_one_minus_gamma():
    env = to_gymnasium(_masked_chain().replace(horizon=None, gamma=0.8))
    assert env.forbidden_reward == pytest.approx(-(1 + 2.0 / 0.2))
    huge = ci.TabularMDP(*_masked_chain_arrays(rewards=[[1e308, 0, -np.inf], [-np.inf, 0, 0]]),
                         horizon=5)
    assert to_gymnasium(huge).forbidden_reward == -sys.float_info.max


def test_action_masks_need_a_reset_first():
    with pytest.raises(gym.error.ResetNeeded, match=r"call reset\(\) before action_masks\(\)"):
        to_gymnasium(random_mdp(2, 2, seed=0)).action_masks()
