"""Objectworld (Levine et al. 2011) and binaryworld (Wulfmeier et al. 2015) against brute force."""
import itertools
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from ctrlinf.envs import binaryworld, objectworld

# Hand-placed objects (row, col, inner, outer) on a 6x6 board.
OBJECTS = np.array([[0, 0, 1, 0],
                    [1, 3, 0, 1],
                    [5, 5, 0, 0],
                    [4, 1, 1, 1]])


def brute_force_distances(size, objects, column, n_colours):
    """min over objects of colour c of the Euclidean distance, by looping: (C, size, size)."""
    far = size * math.sqrt(2)
    d = np.full((n_colours, size, size), far)
    for c, row, col in itertools.product(range(n_colours), range(size), range(size)):
        for obj in objects:
            if obj[column] == c:
                d[c, row, col] = min(d[c, row, col], math.hypot(row - obj[0], col - obj[1]))
    return d


def test_reward_rule_on_a_hand_made_layout():
    # +1 within (Euclidean, strictly) 3 of an outer-colour-0 object and 2 of an
    # outer-colour-1 object; -1 within 3 of outer colour 0 only; 0 otherwise.
    world = objectworld(size=6, objects=OBJECTS)
    outer = brute_force_distances(6, OBJECTS, 3, 2)
    expected = np.where((outer[0] < 3) & (outer[1] < 2), 1.0,
                        np.where(outer[0] < 3, -1.0, 0.0))
    assert_array_equal(world.to_grid(world.r[:, 0]), expected)
    assert_array_equal(world.r, world.r[:, :1].repeat(5, axis=1))
    # Spot checks by hand: (0, 3) is exactly 3 from (0, 0): not within 3.
    # (1, 1) is sqrt(2) from (0, 0) and 2 from (1, 3): within 3, not within 2.
    # (0, 2) is 2 from (0, 0) and sqrt(2) from (1, 3): +1.
    board = world.to_grid(world.r[:, 0])
    assert (board[0, 3], board[1, 1], board[0, 2]) == (0.0, -1.0, 1.0)
    assert (expected == 1).any() and (expected == -1).any() and (expected == 0).any()


def test_inner_colours_do_not_change_the_reward():
    swapped = OBJECTS.copy()
    swapped[:, 2] = 1 - swapped[:, 2]
    assert_array_equal(objectworld(size=6, objects=swapped).r, objectworld(size=6, objects=OBJECTS).r)


def test_discrete_features_are_distance_thresholds_colour_major():
    size = 6
    world = objectworld(size=size, objects=OBJECTS, colours=(2, 3))
    inner = brute_force_distances(size, OBJECTS, 2, 2)
    outer = brute_force_distances(size, OBJECTS, 3, 3)
    assert world.features.shape == (36, size * (2 + 3))
    for s in range(36):
        row, col = world.coords(s)
        for d in range(1, size + 1):
            for c in range(2):
                assert world.features[s, c * size + d - 1] == (inner[c, row, col] < d)
            for c in range(3):
                assert world.features[s, 2 * size + c * size + d - 1] == (outer[c, row, col] < d)
    # Outer colour 2 has no object: every "closer than d" indicator is 0.
    assert_array_equal(world.features[:, 4 * size:], 0.0)


def test_continuous_features_are_the_distances():
    world = objectworld(size=6, objects=OBJECTS, colours=(2, 3), discrete=False)
    inner = brute_force_distances(6, OBJECTS, 2, 2).reshape(2, -1)
    outer = brute_force_distances(6, OBJECTS, 3, 3).reshape(3, -1)
    assert world.features.shape == (36, 5)
    assert_allclose(world.features, np.vstack([inner, outer]).T, atol=1e-12)
    assert_allclose(world.features[:, 4], 6 * math.sqrt(2))   # the absent outer colour 2


def test_wind_moves_in_a_different_direction_with_probability_wind():
    # From an interior cell: the intended move 1 - wind, each of the other four
    # (three moves and "stay") wind / 4.
    world = objectworld(size=5, n_objects=3, wind=0.3, seed=0)
    s = world.state(2, 2)
    row = world.transition_tensor()[s, 1]                # "right"
    expected = {world.state(2, 3): 0.7, world.state(1, 2): 0.075, world.state(3, 2): 0.075,
                world.state(2, 1): 0.075, s: 0.075}
    assert_allclose(row[list(expected)], list(expected.values()), atol=1e-12)
    assert row.sum() == pytest.approx(1.0)
    assert_allclose(world.p0, 1 / 25)


def test_random_objects_shapes_and_seeds():
    world = objectworld(size=10, n_objects=7, colours=(3, 2), seed=5)
    objects = world.info["objects"]
    assert objects.shape == (7, 4) and world.n_states == 100 and world.n_actions == 5
    assert len({(r, c) for r, c in objects[:, :2]}) == 7
    assert (objects[:, 2] < 3).all() and (objects[:, 3] < 2).all() and (objects >= 0).all()
    again = objectworld(size=10, n_objects=7, colours=(3, 2), seed=5)
    assert_array_equal(again.info["objects"], objects)
    assert_array_equal(again.features, world.features)
    other = objectworld(size=10, n_objects=7, colours=(3, 2), seed=6)
    assert not np.array_equal(other.info["objects"], objects)
    assert objectworld(size=32, seed=0).info["objects"].shape == (51, 4)   # 5% of 1024


def test_binaryworld_features_are_the_3x3_neighbourhood():
    rng = np.random.default_rng(1)
    blue = rng.random((5, 5)) < 0.5
    world = binaryworld(size=5, blue=blue)
    assert world.features.shape == (25, 9)
    for s in range(25):
        row, col = world.coords(s)
        for dr, dc in itertools.product((-1, 0, 1), repeat=2):
            r, c = row + dr, col + dc
            inside = 0 <= r < 5 and 0 <= c < 5
            assert world.features[s, (dr + 1) * 3 + dc + 1] == (inside and blue[r, c])
    n_blue = world.features.sum(axis=1)
    expected = np.where(n_blue == 4, 1.0, np.where(n_blue == 5, -1.0, 0.0))
    assert_array_equal(world.r[:, 0], expected)


def test_binaryworld_all_blue_closed_form():
    # All blue: corners see 4 blue (+1), edges 6 (0), the interior 9 (0).
    world = binaryworld(size=4, p_blue=1.0, seed=0)
    board = world.to_grid(world.r[:, 0])
    expected = np.zeros((4, 4))
    expected[[0, 0, 3, 3], [0, 3, 0, 3]] = 1.0
    assert_array_equal(board, expected)
    # A blue 2x2 block in a red 3x3 sees 4 blue from every block cell, 5 from nowhere.
    blue = np.zeros((3, 3), bool)
    blue[:2, :2] = True
    block = binaryworld(size=3, blue=blue)
    assert_array_equal(block.to_grid(block.r[:, 0]), [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


def test_binaryworld_five_blue_pays_minus_one():
    blue = np.zeros((3, 3), bool)
    blue[0, :] = True
    blue[1, :2] = True                                   # centre sees 5 blue
    world = binaryworld(size=3, blue=blue)
    assert world.features[world.state(1, 1)].sum() == 5
    assert world.r[world.state(1, 1), 0] == -1.0


def test_binaryworld_seeds_reproduce():
    first, second = binaryworld(size=8, seed=3), binaryworld(size=8, seed=3)
    assert_array_equal(first.info["blue"], second.info["blue"])
    assert not np.array_equal(first.info["blue"], binaryworld(size=8, seed=4).info["blue"])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(size=0), ValueError, "size must be a positive int, got 0"),
    (dict(size=4.0), TypeError, "size must be a positive int"),
    (dict(colours=(2, 1)), ValueError, "n_outer >= 2"),
    (dict(colours=2), TypeError, r"colours must be a pair \(n_inner, n_outer\)"),
    (dict(n_objects=0), ValueError, r"n_objects must be an int in \[1, 16\], got 0"),
    (dict(n_objects=2.5), TypeError, r"n_objects must be an int in \[1, 16\], got 2.5"),
    (dict(objects=[[0.0, 0, 0, 0]]), TypeError, "objects must be an integer array"),
    (dict(n_objects=2, objects=[[0, 0, 0, 0]]), ValueError, "either n_objects or objects"),
    (dict(objects=[[0, 0, 0]]), ValueError, r"shape \(n, 4\)"),
    (dict(objects=[[0, 0, 0, 0], [1, 4, 0, 0]]), ValueError,
     r"objects\[1\] has col 4, expected 0 <= col < 4"),
    (dict(objects=[[0, 0, 0, 2]]), ValueError, r"objects\[0\] has outer 2"),
    (dict(objects=[[1, 1, 0, 0], [1, 1, 1, 1]]), ValueError, r"two objects on cell \(1, 1\)"),
    (dict(discrete="no"), TypeError, "discrete must be a bool"),
    (dict(wind=0.9), ValueError, r"wind must be in \[0, 0.8\], got 0.9"),
])
def test_objectworld_rejects_bad_arguments(kwargs, error, match):
    kwargs = {"size": 4, **kwargs}
    with pytest.raises(error, match=match):
        objectworld(**kwargs)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(blue=np.ones((3, 4), bool)), ValueError, r"blue must be a bool array of shape"),
    (dict(blue=np.ones((4, 4), int)), TypeError, "got dtype int64"),
    (dict(p_blue=1.5), ValueError, r"p_blue must be in \[0, 1\]"),
    (dict(size=-1), ValueError, "size must be a positive int"),
])
def test_binaryworld_rejects_bad_arguments(kwargs, error, match):
    kwargs = {"size": 4, **kwargs}
    with pytest.raises(error, match=match):
        binaryworld(**kwargs)
