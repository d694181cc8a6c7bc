"""Fuzz the worlds, the gymnasium adapters, the bridge losses and the replay buffer (issue 18).

The property of :mod:`test_fuzz`, extended to these surfaces: every call returns the right
answer, checked against an independent reference (a loop over the toy-text table, scipy's
logsumexp, a brute-force distance, a deque), or raises ``TypeError``/``ValueError`` whose
message names the offending argument, for a malformed table the entry
``env.unwrapped.P[s][a]``. Cases that step the compiled sampler through gymnasium's
checker run in a child interpreter through :func:`test_fuzz.assert_child_passes`, so a
crash fails a test instead of killing pytest.
"""
from __future__ import annotations

import collections
import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st
from numpy.testing import assert_allclose
from scipy.special import logsumexp

import ctrlinf as ci
from ctrlinf.bridge import ReplayBuffer, losses
from test_fuzz import FUZZ_SETTINGS, assert_child_passes, check_call, run_cases

gym = pytest.importorskip("gymnasium")


# -- toy-text tables -----------------------------------------------------------------
class TableEnv(gym.Env):
    """A bare env around a hand-made toy-text table ``P`` (with ``isd``)."""

    def __init__(self, table, n_states, n_actions):
        self.P = table
        self.observation_space = gym.spaces.Discrete(n_states)
        self.action_space = gym.spaces.Discrete(n_actions)
        self.isd = np.full(n_states, 1.0 / n_states)


def random_table(rng, n_states, n_actions, max_outcomes=3):
    """A valid table: each ``P[s][a]`` lists 1-3 outcomes with probabilities summing to 1."""
    table = {}
    for s in range(n_states):
        table[s] = {}
        for a in range(n_actions):
            k = int(rng.integers(1, max_outcomes + 1))
            probs = rng.dirichlet(np.ones(k))
            table[s][a] = [(float(p), int(rng.integers(n_states)), float(rng.normal()),
                            bool(rng.random() < 0.3)) for p in probs]
    return table


def reference_mdp(table, n_states, n_actions):
    """``(P (S+1, A, S+1), r (S+1, A))`` by loops over the table, sharing no ctrlinf code."""
    P = np.zeros((n_states + 1, n_actions, n_states + 1))
    r = np.zeros((n_states + 1, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            for prob, nxt, reward, done in table[s][a]:
                P[s, a, n_states if done else nxt] += prob
                r[s, a] += prob * reward
    P[n_states, :, n_states] = 1.0
    return P, r


@FUZZ_SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_states=st.integers(1, 5), n_actions=st.integers(1, 3))
def test_any_valid_table_is_read_as_the_loop_over_its_outcomes(seed, n_states, n_actions):
    table = random_table(np.random.default_rng(seed), n_states, n_actions)
    mdp = ci.envs.from_gymnasium(TableEnv(table, n_states, n_actions), horizon=3)
    P, r = reference_mdp(table, n_states, n_actions)
    assert_allclose(mdp.transition_tensor(), P, atol=1e-12)
    assert_allclose(mdp.r, r, atol=1e-12)


#: A bad value for one field of one outcome: (field index, value, error, what the message says).
BAD_FIELDS = [
    (0, "0.5", TypeError, "has probability '0.5' (str), expected a real number"),
    (0, None, TypeError, "has probability None"),
    (0, True, TypeError, "has probability True (bool)"),
    (0, 1 + 0j, TypeError, "has probability (1+0j)"),
    (0, math.nan, ValueError, "has probability nan, expected a finite number"),
    (0, math.inf, ValueError, "has probability inf, expected a finite number"),
    (0, -0.25, ValueError, "has probability -0.25, expected >= 0"),
    (1, 1.7, TypeError, "leads to state 1.7 (float), expected an int"),
    (1, "1", TypeError, "leads to state '1' (str), expected an int"),
    (1, np.float64(1.0), TypeError, "leads to state"),
    (1, False, TypeError, "leads to state False (bool)"),
    (1, -1, ValueError, "leads to state -1, outside [0, 4)"),
    (1, 4, ValueError, "leads to state 4, outside [0, 4)"),
    (2, "x", TypeError, "has reward 'x' (str), expected a real number"),
    (2, None, TypeError, "has reward None"),
    (2, math.nan, ValueError, "has reward nan, expected a finite number"),
    (2, -math.inf, ValueError, "has reward -inf, expected a finite number"),
    (3, "False", TypeError, "has terminated 'False' (str), expected a bool"),
    (3, 2, TypeError, "has terminated 2 (int), expected a bool"),
    (3, 0.5, TypeError, "has terminated 0.5 (float), expected a bool"),
    (3, None, TypeError, "has terminated None"),
]


def _outcome_replaced(seed, field, value):
    """A random 4x2 table with one field of one random outcome replaced; returns (env, s, a)."""
    rng = np.random.default_rng(seed)
    table = random_table(rng, 4, 2)
    s, a = int(rng.integers(4)), int(rng.integers(2))
    k = int(rng.integers(len(table[s][a])))
    outcome = list(table[s][a][k])
    outcome[field] = value
    table[s][a][k] = tuple(outcome)
    return TableEnv(table, 4, 2), s, a


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("field, value, error, message", BAD_FIELDS,
                         ids=[f"{f}-{v!r}" for f, v, _, _ in BAD_FIELDS])
def test_a_bad_field_names_its_table_entry(field, value, error, message, seed):
    env, s, a = _outcome_replaced(seed, field, value)
    with pytest.raises(error) as caught:
        ci.envs.from_gymnasium(env, horizon=2)
    assert str(caught.value).startswith(f"env.unwrapped.P[{s}][{a}] "), caught.value
    assert message in str(caught.value)


def _structure(change):
    """GOOD: a 2-state, 2-action table; ``change(table)`` breaks its structure in place."""
    table = {s: {a: [(1.0, (s + a) % 2, 1.0, False)] for a in range(2)} for s in range(2)}
    change(table)
    return TableEnv(table, 2, 2)


def _set(s, a, value):
    def change(table):
        table[s][a] = value
    return change


BAD_STRUCTURES = [
    ("outcomes-bare-tuple", _set(1, 0, (1.0, 0, 1.0, False)), TypeError,
     r"env.unwrapped.P\[1\]\[0\] holds 1.0; expected tuples"),
    ("outcomes-set", _set(0, 1, {(1.0, 0, 1.0, False)}), TypeError,
     r"env.unwrapped.P\[0\]\[1\] is a set; expected a list"),
    ("outcomes-dict", _set(0, 1, {0: (1.0, 0, 1.0, False)}), TypeError, r"P\[0\]\[1\] is a dict"),
    ("outcomes-str", _set(1, 1, "abcd"), TypeError, r"P\[1\]\[1\] is a str"),
    ("outcomes-number", _set(1, 1, 1.0), TypeError, r"P\[1\]\[1\] is a float"),
    ("outcomes-empty", _set(0, 0, []), ValueError, r"P\[0\]\[0\] is missing or empty"),
    ("outcomes-none", _set(0, 0, None), ValueError, r"P\[0\]\[0\] is missing or empty"),
    ("outcome-three-fields", _set(0, 0, [(1.0, 0, 1.0)]), ValueError,
     r"P\[0\]\[0\] holds \(1.0, 0, 1.0\); expected tuples"),
    ("outcome-five-fields", _set(0, 0, [(1.0, 0, 1.0, False, {})]), ValueError,
     r"P\[0\]\[0\] holds .*; expected tuples"),
    ("outcome-str", _set(0, 0, ["1.0 0 1.0 False"]), TypeError, r"P\[0\]\[0\] holds '1.0"),
    ("outcome-none", _set(0, 0, [None]), TypeError, r"P\[0\]\[0\] holds None"),
    ("probabilities-sum-0.9", _set(1, 1, [(0.9, 0, 0.0, False)]), ValueError,
     r"P\[1\]\[1\] has probabilities summing to 0.9, expected 1"),
    ("row-list", lambda t: t.__setitem__(1, [t[1][0], t[1][1]]), TypeError,
     r"env.unwrapped.P\[1\] is a list; expected a dict"),
    ("row-none", lambda t: t.__setitem__(0, None), ValueError, r"env.unwrapped.P\[0\] is missing"),
    ("row-missing", lambda t: t.pop(1), ValueError, r"env.unwrapped.P\[1\] is missing"),
    ("row-str-key", lambda t: t.__setitem__("1", t.pop(1)), ValueError,
     r"env.unwrapped.P has the key '1'; the states of env.observation_space"),
    ("row-extra-state", lambda t: t.__setitem__(2, t[1]), ValueError,
     r"env.unwrapped.P has the key 2; the states .* are the ints 0 to 1"),
    ("action-extra", lambda t: t[0].__setitem__(5, t[0][0]), ValueError,
     r"env.unwrapped.P\[0\] has the key 5; the actions of env.action_space"),
    ("action-missing", lambda t: t[1].pop(0), ValueError, r"env.unwrapped.P\[1\]\[0\] is missing"),
]


@pytest.mark.parametrize("change, error, match", [case[1:] for case in BAD_STRUCTURES],
                         ids=[case[0] for case in BAD_STRUCTURES])
def test_a_malformed_table_structure_is_named(change, error, match):
    with pytest.raises(error, match=match):
        ci.envs.from_gymnasium(_structure(change), horizon=2)


def test_a_table_that_is_not_a_dict_is_a_type_error():
    env = _structure(lambda t: None)
    env.P = [env.P[0], env.P[1]]
    with pytest.raises(TypeError, match=r"env.unwrapped.P must be a dict"):
        ci.envs.from_gymnasium(env, horizon=2)


# -- to_gymnasium and gymnasium's checker (in a child: the compiled draws run) ---------
def random_world(seed, horizon, masked):
    """A random MDP; ``masked`` forbids a random action in every other state."""
    rng = np.random.default_rng(seed)
    S, A = int(rng.integers(1, 5)), int(rng.integers(2, 4))
    mdp = ci.envs.random_mdp(S, A, branching=int(rng.integers(1, S + 1)), seed=rng,
                             horizon=horizon, gamma=1.0 if horizon else 0.9)
    if masked:
        r = mdp.r.copy()
        r[::2, int(rng.integers(A))] = -np.inf
        mdp = mdp.replace(r=r)
    return mdp


def _check_env_case(mdp):
    from gymnasium.utils.env_checker import check_env

    def run():
        env = ci.envs.to_gymnasium(mdp, seed=0, render_mode="ansi")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                check_env(env)
            except AssertionError as error:
                # The documented exception: at horizon 1 a first step that does not
                # terminate is truncated, which the checker refuses.
                assert mdp.horizon == 1 and "truncates after 1 step" in str(error), error
                env.action_space.seed(123)   # the checker's own seed and first action
                env.reset(seed=123)
                assert env.step(env.action_space.sample())[2:4] == (False, True)
        env.reset(seed=1)
        return env.step(0)[:4]   # finite, forbidden or not
    return run


def gym_cases():
    out = []
    for seed in range(4):
        for horizon in (1, 2, 5, None):
            for masked in (False, True):
                mdp = random_world(seed, horizon, masked)
                out.append((f"check_env-{seed}-{horizon}-{'masked' if masked else 'plain'}",
                            _check_env_case(mdp), (), None))
    grid = ci.envs.gridworld((3, 3), slip=0.3, walls=[(1, 1)], goals=[(0, 2)], pits=[(2, 2)],
                             horizon=6)
    out.append(("check_env-grid", _check_env_case(grid), (), None))
    out.append(("check_env-grid-masked",
                _check_env_case(grid.replace(r=np.where(np.arange(5) == 4, -np.inf, grid.r))),
                (), None))
    out.append(("check_env-frozenlake",
                _check_env_case(ci.envs.from_gymnasium(gym.make("FrozenLake-v1"), horizon=8)),
                (), None))
    env = ci.envs.to_gymnasium(random_world(0, 4, False), seed=0)
    for i, bad in enumerate([True, 1.0, "1", None, np.array([0]), np.uint8(9), -1, 2**70]):
        def step(bad=bad):
            env.reset()
            return env.step(bad)
        out.append((f"step-action-{i}", step, "action", "error"))
    for i, bad in enumerate([-1, 1.5, "3", True]):
        out.append((f"reset-seed-{i}", lambda bad=bad: env.reset(seed=bad), "seed", "error"))
    return out


def run_gym_cases():
    run_cases(gym_cases())


def test_to_gymnasium_passes_check_env_and_refuses_bad_steps_in_a_child():
    assert_child_passes("import test_fuzz_envs_agents; test_fuzz_envs_agents.run_gym_cases()")


def table_values(env, horizon):
    """Optimal expected return over ``horizon`` steps by backward induction on env.P alone."""
    table, S, A = env.P, env.observation_space.n, env.action_space.n
    V = np.zeros(S)
    for _ in range(horizon):
        V = np.array([max(sum(p * (reward + (0.0 if done else V[nxt]))
                              for p, nxt, reward, done in table[s][a]) for a in range(A))
                      for s in range(S)])
    return V


@FUZZ_SETTINGS
@given(seed=st.integers(0, 2**32 - 1), horizon=st.integers(1, 5), masked=st.booleans())
def test_the_env_table_pays_the_masked_mdp_values(seed, horizon, masked):
    """Whatever the masks, the env's own table (forbidden pairs end at the penalty) has the
    optimal values of the masked MDP: the penalty never wins."""
    mdp = random_world(seed, horizon, masked)
    env = ci.envs.to_gymnasium(mdp)
    assert all(np.isfinite(o[2]) for row in env.P.values() for out in row.values() for o in out)
    assert_allclose(table_values(env, horizon), ci.solve(mdp, mode="hard").V[0], atol=1e-9)


# -- builders: map text, objectworld, random MDPs ---------------------------------------
def moves_by_hand(chars, action_deltas):
    """``P`` (S, A, S) of a slip-free map, from the rules alone: off the board or into a wall
    stays, goals and pits absorb, walls never move."""
    rows, cols = chars.shape
    P = np.zeros((rows * cols, len(action_deltas), rows * cols))
    for row in range(rows):
        for col in range(cols):
            s = row * cols + col
            for a, (dr, dc) in enumerate(action_deltas):
                r2, c2 = row + dr, col + dc
                stuck = chars[row, col] in "#GPX"
                blocked = not (0 <= r2 < rows and 0 <= c2 < cols) or chars[r2, c2] == "#" \
                    if not stuck else True
                P[s, a, s if blocked else r2 * cols + c2] = 1.0
    return P


MAP_CELLS = st.sampled_from(list("..S#GPX"))


@FUZZ_SETTINGS
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), data=st.data())
def test_any_text_map_moves_and_pays_as_its_characters_say(rows, cols, data):
    cells = [[data.draw(MAP_CELLS) for _ in range(cols)] for _ in range(rows)]
    cells[data.draw(st.integers(0, rows - 1))][data.draw(st.integers(0, cols - 1))] = "S"
    chars = np.array(cells)
    text = "\r\n".join("  " + "".join(row) + "\t" for row in cells)   # CRLF, padded lines
    grid = ci.envs.gridworld_from_map(text)
    deltas = [(-1, 0), (0, 1), (1, 0), (0, -1), (0, 0)]
    assert_allclose(grid.transition_tensor(), moves_by_hand(chars, deltas))
    paid = {"G": 1.0, "P": -1.0, "X": -1.0, ".": -0.01, "S": -0.01, "#": 0.0}
    assert_allclose(grid.r[:, 0], [paid[c] for c in chars.ravel()])
    assert_allclose(grid.p0, (chars == "S").ravel() / (chars == "S").sum())


@pytest.mark.parametrize("layout, match", [
    ("\ufeffS.\n.G", r"layout row 0, column 0 is '\\ufeff'"),   # a byte-order mark
    ("S.\n\n.G", "layout row 1 has 0 characters, expected 2"),
    ("S .\n..G", r"layout row 0, column 1 is ' '"),
    ("S.\n.Ĝ", "layout row 1, column 1 is 'Ĝ'"),
    ("..\n.G", "layout has no start cell 'S'"),
    ("\n \n", "layout is empty"),
])
def test_malformed_map_text_names_the_layout(layout, match):
    check_call(lambda: ci.envs.gridworld_from_map(layout), "layout", ValueError)
    with pytest.raises(ValueError, match=match):
        ci.envs.gridworld_from_map(layout)


def nearest_by_brute_force(size, objects, colour_column, colour):
    """Distance from every cell to the nearest object of ``colour`` (loops, no scipy)."""
    here = [(o[0], o[1]) for o in objects if o[colour_column] == colour]
    return np.array([[min((math.hypot(r - a, c - b) for a, b in here), default=size * 2 ** 0.5)
                      for c in range(size)] for r in range(size)])


@FUZZ_SETTINGS
@given(size=st.integers(2, 6), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_objectworld_reward_is_its_distance_rule(size, seed, data):
    n_objects = data.draw(st.integers(1, size * size))
    world = ci.envs.objectworld(size=size, n_objects=n_objects, seed=seed)
    objects = world.info["objects"]
    d0 = nearest_by_brute_force(size, objects, 3, 0)
    d1 = nearest_by_brute_force(size, objects, 3, 1)
    expected = np.where((d0 < 3) & (d1 < 2), 1.0, np.where(d0 < 3, -1.0, 0.0))
    assert_allclose(world.to_grid(world.r[:, 0]), expected)


@FUZZ_SETTINGS
@given(S=st.integers(1, 6), A=st.integers(1, 3), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_random_mdp_rows_have_exactly_branching_successors(S, A, seed, data):
    branching = data.draw(st.none() | st.integers(1, S))
    sparse = ci.envs.random_mdp(S, A, branching=branching, seed=seed, sparse=True)
    dense = ci.envs.random_mdp(S, A, branching=branching, seed=seed, sparse=False)
    assert (sparse.P != dense.P).nnz == 0
    assert np.all(np.diff(sparse.P.indptr) == (S if branching is None else branching))
    assert_allclose(np.asarray(sparse.P.sum(axis=1)).ravel(), 1.0, atol=1e-12)


# -- losses: shapes, dtypes, NaN; values against scipy ---------------------------------------
LOSS_ARGUMENTS = {
    "soft_q_target": (("rewards", "B"), ("next_q", "BA"), ("terminated", "Bd")),
    "sac_critic_target": (("rewards", "B"), ("next_logits", "BA"), ("next_q", "BA"),
                          ("terminated", "Bd")),
    "td_loss": (("q", "BA"), ("actions", "Ba"), ("targets", "B")),
    "sac_actor_loss": (("logits", "BA"), ("q", "BA")),
    "policy_gradient_loss": (("logits", "BA"), ("actions", "Ba"), ("weights", "B")),
}
LOSS_SCALARS = {"soft_q_target": (0.9, 0.5), "sac_critic_target": (0.9, 0.5), "td_loss": (),
                "sac_actor_loss": (0.5,), "policy_gradient_loss": ()}


def loss_inputs(rng, B, A, name):
    """Valid arguments of loss ``name`` for a batch of ``B`` rows and ``A`` actions."""
    made = {"B": lambda: rng.normal(size=B), "BA": lambda: rng.normal(size=(B, A)),
            "Bd": lambda: rng.random(B) < 0.3, "Ba": lambda: rng.integers(A, size=B)}
    return [made[kind]() for _, kind in LOSS_ARGUMENTS[name]]


def call_loss(name, arguments):
    return getattr(losses, name)(*arguments, *LOSS_SCALARS[name])


@FUZZ_SETTINGS
@given(name=st.sampled_from(sorted(LOSS_ARGUMENTS)), B=st.integers(1, 5), A=st.integers(1, 4),
       seed=st.integers(0, 2**32 - 1), data=st.data())
def test_a_wrong_shape_in_any_loss_argument_is_named(name, B, A, seed, data):
    rng = np.random.default_rng(seed)
    arguments = loss_inputs(rng, B, A, name)
    i = data.draw(st.integers(0, len(arguments) - 1))
    argument = LOSS_ARGUMENTS[name][i][0]
    good = arguments[i]
    shape = data.draw(st.lists(st.integers(1, 6), min_size=0, max_size=3).filter(
        lambda s: tuple(s) != good.shape))
    if i == 0 and len(shape) == good.ndim:
        return   # the first argument sets B and A; another length there is a new valid batch
    arguments[i] = np.resize(good, shape)
    with pytest.raises(ValueError) as caught:
        call_loss(name, arguments)
    message = str(caught.value)
    named = re.match(r"(\w+) has shape", message)
    assert named and named.group(1) in [n for n, _ in LOSS_ARGUMENTS[name]], message
    if named.group(1) == argument:
        assert f"has shape {tuple(shape)}" in message


@FUZZ_SETTINGS
@given(name=st.sampled_from(sorted(LOSS_ARGUMENTS)), seed=st.integers(0, 2**32 - 1),
       bad=st.sampled_from([math.nan, math.inf, -math.inf]), data=st.data())
def test_a_non_finite_number_in_any_real_argument_is_named(name, seed, bad, data):
    rng = np.random.default_rng(seed)
    arguments = loss_inputs(rng, 3, 2, name)
    real = [i for i, (_, kind) in enumerate(LOSS_ARGUMENTS[name]) if kind in ("B", "BA")]
    i = data.draw(st.sampled_from(real))
    flat = arguments[i].ravel()
    k = data.draw(st.integers(0, flat.size - 1))
    flat[k] = bad
    argument = LOSS_ARGUMENTS[name][i][0]
    with pytest.raises(ValueError, match=rf"^{argument}\[[\d, ]+\] is -?(nan|inf), expected"):
        call_loss(name, arguments)


@pytest.mark.parametrize("name", sorted(LOSS_ARGUMENTS))
@pytest.mark.parametrize("bad", [np.array(["a", "b"]), np.array([1 + 1j, 2]),
                                 np.array([1.0, None], dtype=object)],
                         ids=["str", "complex", "object"])
def test_non_numeric_dtypes_in_any_loss_argument_are_type_errors(name, bad):
    arguments = loss_inputs(np.random.default_rng(0), 2, 2, name)
    for i, (argument, kind) in enumerate(LOSS_ARGUMENTS[name]):
        changed = list(arguments)
        changed[i] = bad if kind in ("B", "Bd", "Ba") else np.stack([bad, bad])
        check_call(lambda: call_loss(name, changed), argument, TypeError)


EXTREME_Q = st.floats(-1e4, 1e4, allow_nan=False) | st.sampled_from([-700.0, 0.0, 700.0])


@FUZZ_SETTINGS
@given(B=st.integers(1, 4), A=st.integers(1, 4), alpha=st.sampled_from([1e-3, 0.1, 1.0, 50.0]),
       gamma=st.sampled_from([0.0, 0.5, 0.99, 1.0]), data=st.data())
def test_soft_targets_match_scipy_at_extreme_scales(B, A, alpha, gamma, data):
    next_q = np.array(data.draw(st.lists(EXTREME_Q, min_size=B * A, max_size=B * A))
                      ).reshape(B, A)
    rewards = np.array(data.draw(st.lists(EXTREME_Q, min_size=B, max_size=B)))
    terminated = np.array(data.draw(st.lists(st.booleans(), min_size=B, max_size=B)))
    soft_value = alpha * logsumexp(next_q / alpha, axis=1)
    expected = rewards + gamma * np.where(terminated, 0.0, soft_value)
    y = losses.soft_q_target(rewards, next_q, terminated, gamma, alpha)
    assert y.shape == (B,)
    assert_allclose(y, expected, rtol=1e-12, atol=1e-9)
    # At π = softmax(Q'/α) the SAC target is the same soft value (its maximum over π).
    assert_allclose(losses.sac_critic_target(rewards, next_q / alpha, next_q, terminated,
                                             gamma, alpha), expected, rtol=1e-9, atol=1e-6)


# -- the replay buffer -----------------------------------------------------------------
TRANSITIONS = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 3),
                                 st.floats(-1e6, 1e6), st.integers(0, 9), st.booleans()),
                       min_size=1, max_size=40)


@FUZZ_SETTINGS
@given(capacity=st.integers(1, 8), transitions=TRANSITIONS, seed=st.integers(0, 2**32 - 1))
def test_replay_keeps_the_last_capacity_transitions_and_samples_only_them(capacity, transitions,
                                                                           seed):
    buffer, kept = ReplayBuffer(capacity), collections.deque(maxlen=capacity)
    for transition in transitions:
        buffer.add(*transition)
        kept.append(transition)
    n = len(buffer)
    stored = zip(buffer.states[:n].tolist(), buffer.actions[:n].tolist(),
                 buffer.rewards[:n].tolist(), buffer.next_states[:n].tolist(),
                 buffer.terminated[:n].tolist())
    assert n == len(kept) and sorted(stored) == sorted(kept)
    batch = buffer.sample(16, seed=seed)
    drawn = set(zip(batch.states.tolist(), batch.actions.tolist(), batch.rewards.tolist(),
                    batch.next_states.tolist(), batch.terminated.tolist()))
    assert drawn <= set(kept)


@pytest.mark.parametrize("transition, names", [
    ((-1, 0, 0.0, 1, False), "state"), ((0, -2, 0.0, 1, False), "action"),
    ((0, 0, 0.0, -3, False), "next_state"), ((0.0, 0, 0.0, 1, False), "state"),
    ((0, True, 0.0, 1, False), "action"), ((0, 0, "0", 1, False), "reward"),
    ((0, 0, math.inf, 1, False), "reward"), ((0, 0, None, 1, False), "reward"),
    ((0, 0, 0.0, 1, 1), "terminated"), ((0, 0, 0.0, 1, "yes"), "terminated"),
    ((np.int64(0), np.int32(1), np.float32(0.5), np.uint8(2), np.bool_(True)), ()),
])
def test_replay_refuses_each_bad_transition_by_name(transition, names):
    buffer = ReplayBuffer(2)
    check_call(lambda: buffer.add(*transition), names, "error" if names else None)
    assert len(buffer) == (0 if names else 1)   # a refused transition leaves nothing behind
