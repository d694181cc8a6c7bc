"""Grid worlds: layout, slip probabilities by hand, rewards, start, GridMDP helpers, save/load."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import ctrlinf as ci
from ctrlinf.envs import GridMDP, cliff_walking, gridworld, gridworld_from_map


def row_of(grid, cell, action):
    """P[s, a, :] as a dict {(row, col): prob} of the nonzero entries."""
    s = grid.state(*cell)
    row = grid.transition_tensor()[s, action]
    return {grid.coords(int(k)): p for k, p in enumerate(row) if p > 0}


def assert_row(actual, expected):
    assert set(actual) == set(expected)
    for cell, p in expected.items():
        assert actual[cell] == pytest.approx(p, abs=1e-12), cell


@pytest.mark.parametrize("stay_action", [True, False])
@pytest.mark.parametrize("slip", [0.0, 0.3, 1.0])
def test_shapes_and_every_row_is_a_distribution(stay_action, slip):
    grid = gridworld((4, 5), slip=slip, walls=[(1, 1), (2, 3)], goals=[(0, 4)],
                     pits=[(3, 0)], stay_action=stay_action)
    A = 5 if stay_action else 4
    assert isinstance(grid, GridMDP) and isinstance(grid, ci.TabularMDP)
    assert (grid.n_states, grid.n_actions, grid.P.shape) == (20, A, (20 * A, 20))
    assert grid.r.shape == (20, A) and grid.action_deltas.shape == (A, 2)
    assert grid.action_names == ("up", "right", "down", "left", "stay")[:A]
    assert_allclose(np.asarray(grid.P.sum(axis=1)).ravel(), 1.0, atol=1e-12)
    assert (grid.P.data > 0).all()


def test_slip_sends_the_intended_move_1_minus_slip_plus_slip_over_A():
    # 3x3, wall above the centre, slip 0.25, A = 5: each move gets 0.25/5 = 0.05 and
    # the intended one 0.75 more. From the centre, "up" hits the wall and stays, so
    # the centre keeps 0.75 + 0.05 (up) + 0.05 (stay) = 0.85.
    grid = gridworld((3, 3), slip=0.25, walls=[(0, 1)])
    assert_row(row_of(grid, (1, 1), 0), {(1, 1): 0.85, (1, 2): 0.05, (2, 1): 0.05,
                                         (1, 0): 0.05})
    # From the corner (0, 0), "right" hits the wall; up and left leave the board:
    # only "down" moves, so (1, 0) gets 0.05 and the corner keeps 0.95.
    assert_row(row_of(grid, (0, 0), 1), {(0, 0): 0.95, (1, 0): 0.05})
    # "down" from the centre: 0.75 + 0.05 to (2, 1), the other moves 0.05 each.
    assert_row(row_of(grid, (1, 1), 2), {(2, 1): 0.8, (1, 2): 0.05, (1, 0): 0.05,
                                         (1, 1): 0.1})


def test_slip_without_stay_action_spreads_over_four_moves():
    # A = 4, slip 0.4: intended 0.6 + 0.1, every other move 0.1.
    grid = gridworld((3, 3), slip=0.4, stay_action=False)
    assert_row(row_of(grid, (1, 1), 1), {(1, 2): 0.7, (0, 1): 0.1, (2, 1): 0.1,
                                         (1, 0): 0.1})


def test_deterministic_moves_follow_action_deltas_and_stop_at_borders():
    grid = gridworld((3, 4), stay_action=True)
    for s in range(grid.n_states):
        row, col = grid.coords(s)
        for a, (drow, dcol) in enumerate(grid.action_deltas):
            target = (min(max(row + drow, 0), 2), min(max(col + dcol, 0), 3))
            assert row_of(grid, (row, col), a) == {target: 1.0}


def test_walls_are_never_entered_never_started_in_and_absorbing():
    grid = gridworld((3, 3), slip=0.5, walls=[(1, 1), (0, 2)])
    P = grid.transition_tensor()
    walls = [grid.state(1, 1), grid.state(0, 2)]
    open_cells = [s for s in range(9) if s not in walls]
    assert_array_equal(P[np.ix_(open_cells, range(5), walls)], 0.0)
    assert_array_equal(grid.p0[walls], 0.0)
    for w in walls:
        assert_allclose(P[w, :, w], 1.0, rtol=0, atol=1e-15)
        assert_array_equal(grid.r[w], 0.0)
    assert grid.walls[1, 1] and grid.walls[0, 2] and grid.walls.sum() == 2


def test_goals_and_pits_absorb_by_default_and_pay_every_step():
    grid = gridworld((2, 3), slip=0.2, goals=[(0, 2)], pits=[(1, 2)])
    P = grid.transition_tensor()
    for cell, reward in (((0, 2), 1.0), ((1, 2), -1.0)):
        s = grid.state(*cell)
        assert_allclose(P[s, :, s], 1.0, rtol=0, atol=1e-15)
        assert_array_equal(grid.r[s], reward)
    assert_allclose(grid.r[grid.state(0, 0)], -0.01)
    assert grid.goals[0, 2] and grid.pits[1, 2] and grid.goals.sum() == grid.pits.sum() == 1
    loose = gridworld((2, 3), goals=[(0, 2)], absorbing=False)
    assert loose.transition_tensor()[2, 3, 1] == 1.0   # "left" leaves the goal


def test_reward_overrides_dict_and_array():
    grid = gridworld((2, 2), goals=[(1, 1)], rewards={(0, 1): 5.0}, step_reward=0.0,
                     goal_reward=2.0)
    assert_array_equal(grid.to_grid(grid.r[:, 0]), [[0.0, 5.0], [0.0, 2.0]])
    table = np.array([[1.0, 2.0], [3.0, 4.0]])
    grid = gridworld((2, 2), walls=[(0, 0)], rewards=table)
    # An array replaces the defaults; walls still pay nothing.
    assert_array_equal(grid.r[:, 2], [0.0, 2.0, 3.0, 4.0])


def test_start_defaults_to_open_non_terminal_cells_uniformly():
    grid = gridworld((2, 3), walls=[(0, 0)], goals=[(0, 2)], pits=[(1, 2)])
    expected = np.zeros(6)
    expected[[1, 3, 4]] = 1 / 3
    assert_allclose(grid.p0, expected)
    assert_allclose(gridworld((2, 3), start=(1, 2)).p0, np.eye(6)[5])
    assert_allclose(gridworld((2, 3), start=[(0, 0), (1, 1)]).p0, [0.5, 0, 0, 0, 0.5, 0])


def test_coords_state_and_to_grid():
    grid = gridworld((3, 4), walls=[(2, 1)])
    for s in range(12):
        assert grid.state(*grid.coords(s)) == s == 4 * (s // 4) + s % 4
    rows, cols = grid.coords(np.arange(12))
    assert_array_equal(grid.state(rows, cols), np.arange(12))
    values = np.arange(24.0).reshape(2, 12)              # (T, S)
    board = grid.to_grid(values)
    assert board.shape == (2, 3, 4)
    assert np.isnan(board[:, 2, 1]).all()
    assert board[1, 1, 2] == values[1, grid.state(1, 2)]


def test_map_builds_the_same_world_as_the_cell_lists():
    layout = ["S..#",
              ".#.G",
              "..XP"]
    grid = gridworld_from_map(layout, slip=0.1)
    same = gridworld((3, 4), slip=0.1, walls=[(0, 3), (1, 1)], goals=[(1, 3)],
                     pits=[(2, 2), (2, 3)], start=(0, 0))
    assert (grid.P != same.P).nnz == 0
    assert_array_equal(grid.r, same.r)
    assert_array_equal(grid.p0, same.p0)
    for name in ("walls", "goals", "pits"):
        assert_array_equal(getattr(grid, name), getattr(same, name))


def test_map_rewards_by_character_and_by_cell_and_several_starts():
    grid = gridworld_from_map("""
        S.G
        .PS
    """, rewards={"G": 10.0, ".": 0.0, "S": -1.0, (0, 1): 3.0})
    assert_array_equal(grid.to_grid(grid.r[:, 0]), [[-1.0, 3.0, 10.0], [0.0, -1.0, -1.0]])
    assert_allclose(grid.p0, [0.5, 0, 0, 0, 0, 0.5])


def test_cliff_walking_matches_sutton_and_barto():
    cliff = cliff_walking()
    assert cliff.shape == (4, 12) and cliff.n_actions == 4
    start, goal = cliff.state(3, 0), cliff.state(3, 11)
    P = cliff.transition_tensor()
    assert_array_equal(cliff.p0, np.eye(48)[start])
    assert_array_equal(cliff.pits[3], [False] + [True] * 10 + [False])
    # Right from the start falls: back to the start, -100. Up is an ordinary -1 move.
    assert P[start, 1, start] == 1.0 and cliff.r[start, 1] == -100.0
    assert P[start, 0, cliff.state(2, 0)] == 1.0 and cliff.r[start, 0] == -1.0
    # Down from above the goal ends the episode: absorbing, nothing more to pay.
    assert P[cliff.state(2, 11), 2, goal] == 1.0 and cliff.r[cliff.state(2, 11), 2] == -1.0
    assert_array_equal(P[goal, :, goal], 1.0)
    assert_array_equal(cliff.r[goal], 0.0)
    # No move ever lands in the cliff.
    assert_array_equal(P[:, :, cliff.pits.ravel()], 0.0)


def test_cliff_walking_slip_averages_the_move_rewards():
    # slip 0.4, A = 4 from the start: right (0.7) falls; up (0.1) moves; down and
    # left (0.1 each) bump the border and pay -1 staying put.
    cliff = cliff_walking(slip=0.4)
    start = cliff.state(3, 0)
    assert cliff.r[start, 1] == pytest.approx(0.7 * -100 + 0.3 * -1)
    assert cliff.transition_tensor()[start, 1, start] == pytest.approx(0.9)


def test_cliff_walking_optimal_path_is_the_cliff_edge():
    # The shortest path runs along the cliff: 13 moves at -1 each (Sutton & Barto).
    sol = ci.solve(cliff_walking(horizon=20), mode="hard")
    assert sol.V[0, cliff_walking().state(3, 0)] == pytest.approx(-13.0)


def test_save_and_load_round_trip_a_grid_mdp(tmp_path):
    world = ci.envs.objectworld(size=5, n_objects=4, seed=3, horizon=7, gamma=0.9)
    path = tmp_path / "world.npz"
    world.save(path)
    loaded = GridMDP.load(path)
    assert type(loaded) is GridMDP
    # TabularMDP renormalises rows at construction, which may move the last bit.
    assert_allclose(loaded.P.toarray(), world.P.toarray(), rtol=0, atol=1e-15)
    for name in ("r", "p0", "walls", "goals", "pits", "features", "action_deltas"):
        assert_array_equal(getattr(loaded, name), getattr(world, name))
    assert (loaded.shape, loaded.action_names, loaded.horizon, loaded.gamma) == (
        world.shape, world.action_names, 7, 0.9)
    assert_array_equal(loaded.info["objects"], world.info["objects"])
    # The generic loader gives back what was saved, layout included.
    assert type(ci.TabularMDP.load(path)) is GridMDP

    grid = gridworld_from_map(["S#", ".G"])
    grid.save(tmp_path / "grid.npz")
    again = GridMDP.load(tmp_path / "grid.npz")
    assert again.features is None and again.info == {}
    assert_array_equal(again.walls, grid.walls)


def test_loading_a_plain_mdp_as_a_grid_is_refused(tmp_path):
    ci.envs.random_mdp(3, 2, seed=0).save(tmp_path / "plain.npz")
    with pytest.raises(ValueError, match="plain TabularMDP, not a GridMDP"):
        GridMDP.load(tmp_path / "plain.npz")


def test_grid_mdp_accepts_extra_non_cell_states():
    P = np.zeros((3, 1, 3))
    P[:, 0, 2] = 1.0
    grid = GridMDP(P, np.zeros(3), [1, 0, 0], 2, shape=(1, 2), action_deltas=[[0, 0]])
    assert grid.n_cells == 2 and grid.action_names == ("stay",)
    assert_array_equal(grid.to_grid([1.0, 2.0, 9.0]), [[1.0, 2.0]])


GRID_P = np.repeat(np.eye(4)[:, None, :], 2, axis=1)     # 4 states, 2 actions, stay put
GRID_ARGS = (GRID_P, np.zeros(4), None, 3)
DELTAS = [[0, 1], [0, -1]]


@pytest.mark.parametrize("make, error, match", [
    (lambda: GridMDP(*GRID_ARGS, shape=(3, 2), action_deltas=DELTAS), ValueError,
     r"shape \(3, 2\) has 6 cells but the MDP has only 4 states"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2.0), action_deltas=DELTAS), TypeError,
     "shape must be a pair"),
    (lambda: GridMDP(*GRID_ARGS, shape=(0, 2), action_deltas=DELTAS), ValueError,
     "rows >= 1 and cols >= 1"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=[[0, 1]]), ValueError,
     r"action_deltas must be an int array of shape \(A, 2\) = \(2, 2\)"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=DELTAS, action_names=["a"]),
     ValueError, "action_names must be 2 strings"),
    # Wrong types are TypeErrors (issue 18): float moves, non-string names.
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=[[0.0, 1.0], [0.0, -1.0]]),
     TypeError, r"action_deltas must be an int array .* got dtype float64"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=DELTAS, action_names=[1, 2]),
     TypeError, "action_names must be 2 strings"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=DELTAS, action_names="ab"),
     TypeError, "action_names must be 2 strings"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=DELTAS,
                     walls=np.zeros((2, 3), bool)), ValueError,
     r"walls mask has shape \(2, 3\), expected \(2, 2\)"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=DELTAS, goals=[(0, 5)]),
     ValueError, r"goals cell \(0, 5\) is outside the grid"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=DELTAS, pits=[(0.5, 1)]),
     TypeError, r"pits must be given as \(row, col\) pairs of ints"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=DELTAS, features=[["a"]] * 4),
     TypeError, "features must be an array of real numbers"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=DELTAS, features=np.ones((3, 2))),
     ValueError, r"features has shape \(3, 2\), expected \(S, K\) = \(4, K\)"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=DELTAS,
                     features=np.full((4, 1), np.nan)), ValueError,
     r"features\[0, 0\] is nan, expected a finite number"),
    (lambda: GridMDP(*GRID_ARGS, shape=(2, 2), action_deltas=DELTAS, info=[1]), TypeError,
     "info must be a dict with str keys"),
])
def test_grid_mdp_rejects_bad_layout(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("call, error, match", [
    (lambda g: g.coords(6), ValueError, r"s must be a cell state in \[0, 6\), got 6"),
    (lambda g: g.coords(1.0), TypeError, "s must be an integer state"),
    (lambda g: g.state(2, 0), ValueError, r"row must be in \[0, 2\), got 2"),
    (lambda g: g.state(0, -1), ValueError, r"col must be in \[0, 3\), got -1"),
    (lambda g: g.state(0, 1.5), TypeError, "col must be an integer"),
    (lambda g: g.to_grid(np.ones(5)), ValueError, r"values has shape \(5,\)"),
    (lambda g: g.to_grid(["a"] * 6), TypeError, "values must be an array of real numbers"),
])
def test_grid_helpers_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(gridworld((2, 3)))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(slip=1.5), ValueError, r"slip must be in \[0, 1\], got 1.5"),
    (dict(slip="0.1"), TypeError, r"slip must be in \[0, 1\], got '0.1'"),
    (dict(stay_action=1), TypeError, "stay_action must be a bool"),
    (dict(absorbing="yes"), TypeError, "absorbing must be a bool"),
    (dict(walls=[(0, 0)], goals=[(0, 0)]), ValueError, r"cell \(0, 0\) is in both walls and goals"),
    (dict(goals=[(1, 1)], pits=[(1, 1)]), ValueError, r"cell \(1, 1\) is in both goals and pits"),
    (dict(walls=[(0, 1)], start=(0, 1)), ValueError, r"start cell \(0, 1\) is a wall"),
    (dict(start=[]), ValueError, "start names no cell"),
    (dict(goals=np.ones((2, 3), bool)), ValueError, "start=None needs a cell"),
    (dict(rewards={(0, 0): "high"}), TypeError, r"rewards\[\(0, 0\)\] must be a finite real number"),
    (dict(rewards={(4, 0): 1.0}), ValueError, r"rewards cell \(4, 0\) is outside the grid"),
    (dict(rewards=np.zeros((3, 2))), ValueError, r"rewards has shape \(3, 2\), expected"),
    (dict(rewards=np.array([["a"] * 3] * 2)), TypeError, "rewards must be an array of real"),
    (dict(rewards=np.array([[0, np.inf, 0], [0, 0, 0]])), ValueError,
     r"rewards\[0, 1\] is inf, expected a finite number"),
    (dict(step_reward="-1"), TypeError, "step_reward must be a finite real number"),
    (dict(goal_reward=np.nan), ValueError, "goal_reward must be a finite real number, got nan"),
    (dict(horizon=0), ValueError, "horizon must be a positive int"),
    (dict(features=np.zeros((6, 0))), ValueError, "features has K = 0 columns"),
])
def test_gridworld_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        gridworld((2, 3), **kwargs)


@pytest.mark.parametrize("layout, kwargs, error, match", [
    (42, {}, TypeError, "layout must be a list of strings or one string"),
    ([], {}, ValueError, "layout is empty"),
    (["S..", ".."], {}, ValueError, "layout row 1 has 2 characters, expected 3"),
    (["S.", ".?"], {}, ValueError, r"layout row 1, column 1 is '\?'"),
    (["..", ".G"], {}, ValueError, "layout has no start cell 'S'"),
    (["S."], dict(rewards=[1.0]), TypeError, "rewards must be a dict"),
    (["S."], dict(rewards={"#": 1.0}), ValueError, r"rewards has key\(s\) \['#'\]"),
    (["S."], dict(rewards={(0, 9): 1.0}), ValueError, r"rewards cell \(0, 9\) is outside"),
])
def test_gridworld_from_map_rejects_bad_maps(layout, kwargs, error, match):
    with pytest.raises(error, match=match):
        gridworld_from_map(layout, **kwargs)


def test_cliff_walking_rejects_a_board_without_a_cliff():
    with pytest.raises(ValueError, match=r"rows >= 2 and cols >= 3, got \(1, 12\)"):
        cliff_walking(shape=(1, 12))


def test_replace_and_generic_load_keep_the_grid(tmp_path):
    grid = ci.envs.gridworld_from_map(["S.#", "..G"], horizon=4)
    longer = grid.replace(horizon=9)
    assert isinstance(longer, ci.envs.GridMDP) and longer.horizon == 9
    assert longer.shape == grid.shape and np.array_equal(longer.walls, grid.walls)
    grid.save(tmp_path / "g.npz")
    loaded = ci.TabularMDP.load(tmp_path / "g.npz")
    assert isinstance(loaded, ci.envs.GridMDP) and np.array_equal(loaded.goals, grid.goals)
