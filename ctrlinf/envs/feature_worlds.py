r"""The IRL benchmark worlds objectworld (Levine et al. 2011) and binaryworld (Wulfmeier et al. 2015).

Both are square ``size x size`` grids (:class:`~ctrlinf.envs.GridMDP`, no walls) with
five actions (up, right, down, left, stay) and wind: with probability ``wind`` the
agent moves in a *different* direction than chosen, drawn uniformly from the other
four, as in the papers ("30% chance of moving in a different random direction").
Under the slip convention of :func:`~ctrlinf.envs.gridworld` (a random move among
all ``A`` actions) this is ``slip = wind * A / (A - 1)``. The start distribution is
uniform over all cells; rewards are per step spent in a cell.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks
from ctrlinf.envs.grid import ACTION_DELTAS, DEFAULT_HORIZON, check_grid_size, gridworld

if TYPE_CHECKING:
    from ctrlinf._typing import ArrayLike, Seed
    from ctrlinf.envs.grid import GridMDP

#: Objects per cell when ``n_objects`` is not given (Levine's toolkit, ``placement_prob``).
OBJECT_DENSITY = 0.05


def _windy_world(size, wind, cell_reward, features, horizon, gamma, info):
    """The shared 5-action windy square grid with per-cell rewards and features."""
    n_actions = len(ACTION_DELTAS)
    wind = _checks.real(wind, "wind", low=0.0, high=(n_actions - 1) / n_actions)
    return gridworld((size, size), slip=wind * n_actions / (n_actions - 1),
                     rewards=cell_reward, stay_action=True, horizon=horizon, gamma=gamma,
                     features=features, info=info)


# -- objectworld -----------------------------------------------------------
def _check_colours(colours):
    n_inner, n_outer = _checks.int_pair(colours, "colours", "a pair (n_inner, n_outer) of ints")
    if n_inner < 1 or n_outer < 2:
        raise ValueError(
            f"colours must have n_inner >= 1 and n_outer >= 2 (the reward depends on "
            f"outer colours 0 and 1), got {tuple(colours)}"
        )
    return n_inner, n_outer


def _random_objects(size, n_objects, n_inner, n_outer, seed):
    """``n_objects`` rows ``(row, col, inner, outer)`` on distinct random cells."""
    if n_objects is None:
        n_objects = max(1, round(OBJECT_DENSITY * size * size))
    n_objects = _checks.integer(n_objects, "n_objects", low=1, high=size * size)
    rng = np.random.default_rng(_checks.seed(seed))
    cells = rng.choice(size * size, size=n_objects, replace=False)
    inner = rng.integers(n_inner, size=n_objects)
    outer = rng.integers(n_outer, size=n_objects)
    return np.column_stack([cells // size, cells % size, inner, outer])


def _check_objects(objects, size, n_inner, n_outer):
    array = _checks.index_array(objects, "objects")
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"objects must be an int array of rows (row, col, inner, outer), shape "
                         f"(n, 4); got shape {array.shape}")
    upper = np.array([size, size, n_inner, n_outer])
    bad = np.argwhere((array < 0) | (array >= upper))
    if bad.size:
        i, j = bad[0]
        field = ("row", "col", "inner", "outer")[j]
        raise ValueError(f"objects[{i}] has {field} {array[i, j]}, expected 0 <= {field} < "
                         f"{upper[j]}")
    cells = array[:, 0] * size + array[:, 1]
    unique, counts = np.unique(cells, return_counts=True)
    if (counts > 1).any():
        cell = divmod(int(unique[counts > 1][0]), size)
        raise ValueError(f"objects places two objects on cell {cell}")
    return array.astype(np.int64)


def _nearest_distances(size, positions, colour, n_colours):
    """Euclidean distance from every cell to the nearest object of each colour, (C, size, size).

    A colour without objects gets ``size * sqrt(2)``, farther than any cell (as in
    Levine's toolkit), so none of its "closer than d" features fire.
    """
    # Imported here: scipy.ndimage adds ~0.14 s to importing ctrlinf.envs (every grid
    # world, the demo's too), and only the feature worlds need it.
    from scipy import ndimage

    distances = np.full((n_colours, size, size), size * np.sqrt(2.0))
    for c in range(n_colours):
        here = positions[colour == c]
        if len(here):
            free = np.ones((size, size), dtype=bool)
            free[here[:, 0], here[:, 1]] = False
            distances[c] = ndimage.distance_transform_edt(free)
    return distances


def _threshold_features(distances, size):
    """Indicators ``distance < d`` for d = 1..size, shape (S, C * size), colour-major."""
    n_colours = distances.shape[0]
    below = distances.reshape(n_colours, -1)[:, :, None] < np.arange(1, size + 1)
    return below.transpose(1, 0, 2).reshape(size * size, n_colours * size).astype(np.float64)


def objectworld(size: int = 32, n_objects: int | None = None, colours: tuple[int, int] = (2, 2),
                wind: float = 0.3, discrete: bool = True, seed: Seed = None,
                horizon: int | None = DEFAULT_HORIZON, gamma: float = 1.0,
                objects: ArrayLike | None = None) -> GridMDP:
    r"""Objectworld of Levine, Popović & Koltun (2011), the GPIRL benchmark.

    Objects sit on distinct random cells, each with a random inner colour (of
    ``n_inner``) and outer colour (of ``n_outer``). With ``D_c^in(s)``, ``D_c^out(s)``
    the Euclidean distance from cell ``s`` to the nearest object of inner / outer
    colour ``c``, the reward per step in ``s`` is

    .. math::

        r(s) = \begin{cases}
            +1 & D_0^{out}(s) < 3 \text{ and } D_1^{out}(s) < 2 \\
            -1 & D_0^{out}(s) < 3 \text{ only} \\
            \phantom{+}0 & \text{otherwise,}
        \end{cases}

    "positive within distance 3 of outer colour 1 and distance 2 of outer colour 2,
    negative within distance 3 of colour 1 only, zero otherwise" in the paper's
    1-based colours (Levine, Popović, Koltun, *Nonlinear Inverse Reinforcement
    Learning with Gaussian Processes*, NIPS 2011, sec. 6). The strict ``<`` follows
    Levine's IRL toolkit (``objectworldfeatures.m``), where the true reward is a
    tree over two of the discrete features; inner colours are distractors.

    Parameters
    ----------
    size : int, default 32
        The grid is ``size x size``; ``S = size**2``, ``A = 5``.
    n_objects : int, optional
        Number of objects; default ``round(0.05 * size**2)`` (the toolkit's 5%
        placement probability, 51 objects at size 32).
    colours : tuple of int, default (2, 2)
        ``(n_inner, n_outer)`` colours; ``n_outer >= 2``.
    wind : float, default 0.3
        Probability of moving in a different random direction, in [0, 0.8].
    discrete : bool, default True
        Features: True gives the ``size * (n_inner + n_outer)`` indicators
        ``D_c(s) < d`` for ``d = 1 .. size`` (column ``c * size + d - 1`` for inner
        colour ``c``, then ``n_inner * size + c * size + d - 1`` for outer colour
        ``c``); False gives the ``n_inner + n_outer`` distances themselves (inner
        colours first). A colour with no object has distance ``size * sqrt(2)``.
    seed : int or numpy.random.Generator, optional
        Seeds the placement (``numpy.random.default_rng(seed)``).
    horizon : int or None, default 20
    gamma : float, default 1.0
    objects : array_like of int, shape (n, 4), optional
        Place objects by hand as rows ``(row, col, inner, outer)``; then
        ``n_objects`` must be None and ``seed`` is unused.

    Returns
    -------
    GridMDP
        With ``features`` of shape ``(S, K)`` and ``info["objects"]`` the object rows.

    Examples
    --------
    An outer-colour-0 object at (0, 0) and an outer-colour-1 object at (0, 3):

    >>> import ctrlinf as ci
    >>> world = ci.envs.objectworld(size=4, objects=[[0, 0, 0, 0], [0, 3, 1, 1]])
    >>> world.to_grid(world.r[:, 0])
    array([[-1., -1.,  1.,  0.],
           [-1., -1.,  1.,  0.],
           [-1., -1., -1.,  0.],
           [ 0.,  0.,  0.,  0.]])
    >>> world.features.shape
    (16, 16)
    """
    size = _checks.positive_int(size, "size")
    n_inner, n_outer = _check_colours(colours)
    # The discrete features are (size**2, size * colours) floats.
    _checks.allocation(8 * size**3 * (n_inner + n_outer), "size",
                       f"the features of a {size} x {size} objectworld")
    check_grid_size((size, size), len(ACTION_DELTAS), 1.0, "size")
    discrete = _checks.flag(discrete, "discrete")
    if objects is None:
        objects = _random_objects(size, n_objects, n_inner, n_outer, seed)
    elif n_objects is not None:
        raise ValueError("give either n_objects or objects, not both")
    else:
        objects = _check_objects(objects, size, n_inner, n_outer)
    inner = _nearest_distances(size, objects[:, :2], objects[:, 2], n_inner)
    outer = _nearest_distances(size, objects[:, :2], objects[:, 3], n_outer)
    near_0, near_1 = outer[0] < 3, outer[1] < 2
    cell_reward = np.where(near_0 & near_1, 1.0, np.where(near_0, -1.0, 0.0))
    if discrete:
        features = np.hstack([_threshold_features(inner, size),
                              _threshold_features(outer, size)])
    else:
        features = np.vstack([inner.reshape(n_inner, -1), outer.reshape(n_outer, -1)]).T
    return _windy_world(size, wind, cell_reward, features, horizon, gamma,
                        info={"objects": objects})


# -- binaryworld -----------------------------------------------------------
def _neighbourhood(blue):
    """The 3x3 neighbourhood colours of every cell, shape (S, 9); off-grid counts as red.

    Column ``(dr + 1) * 3 + (dc + 1)`` holds cell ``(row + dr, col + dc)``, so
    column 4 is the cell itself.
    """
    size = blue.shape[0]
    padded = np.pad(blue, 1, constant_values=False)
    windows = [padded[1 + dr:1 + dr + size, 1 + dc:1 + dc + size]
               for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
    return np.stack(windows, axis=-1).reshape(size * size, 9).astype(np.float64)


def binaryworld(size: int = 32, seed: Seed = None, wind: float = 0.3, p_blue: float = 0.5,
                horizon: int | None = DEFAULT_HORIZON, gamma: float = 1.0,
                blue: ArrayLike | None = None) -> GridMDP:
    r"""Binaryworld of Wulfmeier, Ondruska & Posner (2015), a highly nonlinear IRL benchmark.

    Every cell is blue (with probability ``p_blue``) or red. The features of a cell
    are the 9 binary colours (1 = blue) of its 3x3 neighbourhood; cells off the
    board count as red (as in the authors' ``binaryworldbuild.m``). With ``n(s)``
    the number of blue cells among the 9, the reward per step in ``s`` is

    .. math::

        r(s) = +1 \text{ if } n(s) = 4, \quad -1 \text{ if } n(s) = 5, \quad 0 \text{ otherwise}

    (Wulfmeier, Ondruska, Posner, *Maximum Entropy Deep Inverse Reinforcement
    Learning*, arXiv:1507.04888, sec. 4).

    Parameters
    ----------
    size : int, default 32
        The grid is ``size x size``; ``S = size**2``, ``A = 5``.
    seed : int or numpy.random.Generator, optional
        Seeds the colours (``numpy.random.default_rng(seed)``).
    wind : float, default 0.3
        Probability of moving in a different random direction, in [0, 0.8].
    p_blue : float, default 0.5
        Probability that a cell is blue.
    horizon : int or None, default 20
    gamma : float, default 1.0
    blue : array_like of bool, shape (size, size), optional
        Colour the cells by hand; then ``seed`` and ``p_blue`` are unused.

    Returns
    -------
    GridMDP
        With ``features`` of shape ``(S, 9)`` (column ``(dr+1)*3 + (dc+1)`` is the
        neighbour at offset ``(dr, dc)``) and ``info["blue"]`` the colour map.

    Examples
    --------
    >>> import numpy as np, ctrlinf as ci
    >>> blue = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=bool)
    >>> world = ci.envs.binaryworld(size=3, blue=blue)
    >>> world.to_grid(world.features.sum(axis=1))
    array([[4., 4., 2.],
           [4., 4., 2.],
           [2., 2., 1.]])
    >>> world.to_grid(world.r[:, 0])
    array([[1., 1., 0.],
           [1., 1., 0.],
           [0., 0., 0.]])
    """
    size = _checks.positive_int(size, "size")
    check_grid_size((size, size), len(ACTION_DELTAS), 1.0, "size")
    if blue is None:
        p_blue = _checks.fraction(p_blue, "p_blue")
        blue = np.random.default_rng(_checks.seed(seed)).random((size, size)) < p_blue
    else:
        blue = np.asarray(blue)
        if blue.dtype != np.bool_:
            raise TypeError(f"blue must be a bool array of shape (size, size) = ({size}, {size}), "
                            f"got dtype {blue.dtype}")
        if blue.shape != (size, size):
            raise ValueError(f"blue must be a bool array of shape (size, size) = ({size}, {size}), "
                             f"got shape {blue.shape}")
    features = _neighbourhood(blue)
    n_blue = features.sum(axis=1).reshape(size, size)
    cell_reward = np.where(n_blue == 4, 1.0, np.where(n_blue == 5, -1.0, 0.0))
    return _windy_world(size, wind, cell_reward, features, horizon, gamma,
                        info={"blue": blue})
