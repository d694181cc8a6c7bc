"""random_mdp: shapes, branching, seeds, both representations, uniform successor sets."""
import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

import ctrlinf as ci
from ctrlinf.envs import random_mdp


@pytest.mark.parametrize("branching", [None, 1, 3, 7])
def test_shapes_rows_and_branching(branching):
    mdp = random_mdp(7, 3, branching=branching, seed=0, horizon=4, gamma=0.9)
    assert isinstance(mdp, ci.TabularMDP)
    assert (mdp.n_states, mdp.n_actions, mdp.horizon, mdp.gamma) == (7, 3, 4, 0.9)
    assert mdp.P.shape == (21, 7) and mdp.r.shape == (7, 3) and mdp.p0.shape == (7,)
    assert_allclose(np.asarray(mdp.P.sum(axis=1)).ravel(), 1.0, atol=1e-12)
    # Exactly `branching` distinct successors per (s, a) (all of them when None).
    assert_array_equal(np.diff(mdp.P.indptr), 7 if branching is None else branching)
    assert mdp.p0.sum() == pytest.approx(1.0) and (mdp.p0 > 0).all()


def test_seeds_reproduce_and_differ():
    first, second = random_mdp(20, 4, branching=3, seed=11), random_mdp(20, 4, branching=3, seed=11)
    assert (first.P != second.P).nnz == 0
    assert_array_equal(first.r, second.r)
    assert_array_equal(first.p0, second.p0)
    assert not np.array_equal(random_mdp(20, 4, branching=3, seed=12).r, first.r)


@pytest.mark.parametrize("branching", [None, 2])
def test_dense_and_sparse_inputs_give_the_same_mdp(branching):
    sparse = random_mdp(9, 2, branching=branching, seed=4, sparse=True)
    dense = random_mdp(9, 2, branching=branching, seed=4, sparse=False)
    assert_allclose(sparse.P.toarray(), dense.P.toarray(), rtol=0, atol=1e-15)
    assert_array_equal(sparse.r, dense.r)
    assert_array_equal(sparse.p0, dense.p0)


def test_reward_scale_multiplies_the_same_draws():
    # The same generator stream: r(scale = 2.5) = 2.5 r(scale = 1) exactly.
    assert_allclose(random_mdp(6, 2, seed=1, reward_scale=2.5).r,
                    2.5 * random_mdp(6, 2, seed=1).r, rtol=1e-15)
    assert_array_equal(random_mdp(6, 2, seed=1, reward_scale=0.0).r, 0.0)


def test_successor_sets_are_uniform_subsets():
    # 5 states, branching 2: each of the C(5, 2) = 10 successor sets has probability
    # 1/10 per (s, a). Pearson's chi-square over 5 * 2000 rows, 9 degrees of freedom;
    # with this fixed seed the statistic must stay below the 0.999 quantile (27.9).
    mdp = random_mdp(5, 2000, branching=2, seed=7)
    successors = mdp.P.indices.reshape(-1, 2)      # the columns of each row, sorted
    pairs = list(itertools.combinations(range(5), 2))
    counts = np.array([np.sum((successors[:, 0] == a) & (successors[:, 1] == b))
                       for a, b in pairs])
    statistic, _ = stats.chisquare(counts)
    assert statistic < stats.chi2.ppf(0.999, len(pairs) - 1)


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((0, 2), {}, ValueError, "n_states must be a positive int, got 0"),
    ((3, 2.0), {}, TypeError, "n_actions must be a positive int"),
    ((3, 2), dict(branching=4), ValueError, r"branching must be an int in \[1, 3\], got 4"),
    ((3, 2), dict(branching=True), TypeError, r"branching must be an int in \[1, 3\], got True"),
    ((3, 2), dict(reward_scale=-1.0), ValueError, r"reward_scale must be in \[0, 1e\+298\], got -1"),
    ((3, 2), dict(reward_scale=1e300), ValueError, r"reward_scale must be in \[0, 1e\+298\]"),
    ((3, 2), dict(reward_scale="big"), TypeError, r"reward_scale must be in \[0, 1e\+298\]"),
    ((3, 2), dict(seed=-1), ValueError, "seed must be None, an int >= 0 or a numpy Generator"),
    ((3, 2), dict(seed="x"), TypeError, "seed must be None, an int >= 0 or a numpy Generator"),
    ((10**6, 10**6), {}, ValueError, "n_states is too large: .* GiB"),
    ((3, 2), dict(sparse="yes"), TypeError, "sparse must be a bool or None"),
    ((3, 2), dict(horizon=None), ValueError, "horizon=None needs gamma < 1"),
])
def test_random_mdp_rejects_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        random_mdp(*args, **kwargs)
