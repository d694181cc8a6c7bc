"""TabularMDP: storage, validation messages, persistence."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import ctrlinf as ci


def chain(S=3, A=2):
    """Action a moves a steps to the right (mod S)."""
    P = np.zeros((S, A, S))
    for s in range(S):
        for a in range(A):
            P[s, a, (s + a) % S] = 1.0
    return P


def test_dense_input_is_stored_as_csr_rows_s_times_A_plus_a():
    P = chain()
    mdp = ci.TabularMDP(P, r=np.arange(3.0), p0=None, horizon=2)
    assert sp.isspmatrix_csr(mdp.P) and mdp.P.shape == (6, 3)
    assert_array_equal(mdp.P.toarray(), P.reshape(6, 3))
    assert_array_equal(mdp.transition_tensor(), P)
    assert_array_equal(mdp.r, [[0, 0], [1, 1], [2, 2]])   # r[s] broadcasts over actions
    assert_allclose(mdp.p0, 1 / 3)
    assert (mdp.n_states, mdp.n_actions, mdp.horizon, mdp.gamma) == (3, 2, 2, 1.0)


def test_integer_inputs_are_accepted():
    mdp = ci.TabularMDP(chain().astype(int), r=[[1, 0]] * 3, p0=[1, 0, 0], horizon=np.int64(3))
    assert mdp.P.dtype == np.float64 and mdp.r.dtype == np.float64 and mdp.horizon == 3


def test_kernel_arrays_are_unsigned_views_of_P():
    mdp = ci.TabularMDP(chain(), r=np.zeros(3), p0=None, horizon=2)
    indptr, indices, data = mdp.kernel_arrays()
    assert indices.dtype == np.uint32 and np.shares_memory(indices, mdp.P.indices)
    assert_array_equal(indices, mdp.P.indices)


@pytest.mark.parametrize("horizon, gamma", [(4, 1.0), (None, 0.9)])
def test_save_and_load_round_trip(tmp_path, horizon, gamma):
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(4), size=(4, 3))
    mdp = ci.TabularMDP(P, rng.normal(size=(4, 3)), rng.dirichlet(np.ones(4)), horizon, gamma)
    path = tmp_path / "mdp.npz"
    mdp.save(path)
    loaded = ci.TabularMDP.load(path)
    assert_array_equal(loaded.P.toarray(), mdp.P.toarray())
    assert_array_equal(loaded.r, mdp.r)
    assert_array_equal(loaded.p0, mdp.p0)
    assert (loaded.horizon, loaded.gamma) == (horizon, gamma)


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        ci.TabularMDP.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="is not a saved TabularMDP"):
        ci.TabularMDP.load(tmp_path / "other.npz")


def test_replace_checks_only_what_changes_and_shares_the_rest():
    # replace runs the constructor's check of each changed field and nothing else: with P
    # unchanged, P, p0 and a grid's layout are the same objects; the result equals a fresh
    # construction.
    grid = ci.envs.gridworld((2, 3), goals=[(0, 2)], horizon=3, features=np.eye(6)[:, :2])
    r = np.array(grid.r)
    r[1, 0] = -np.inf
    for changes in (dict(r=r), dict(r=-np.zeros(6)), dict(p0=np.eye(6)[1]), dict(horizon=5),
                    dict(horizon=None, gamma=0.5)):
        new = grid.replace(**changes)
        fields = dict(P=grid.P, r=grid.r, p0=grid.p0, horizon=grid.horizon, gamma=grid.gamma)
        fresh = ci.TabularMDP(**{**fields, **changes})
        assert type(new) is ci.envs.GridMDP and new.P is grid.P
        assert new.features is grid.features and new.shape == grid.shape
        assert_array_equal(new.r, fresh.r)
        assert_array_equal(new.p0, fresh.p0)
        assert (new.horizon, new.gamma) == (fresh.horizon, fresh.gamma)
        assert str(new.reward_scale) == str(fresh.reward_scale)      # 0.0, not -0.0
        assert not new.r.flags.writeable and not new.p0.flags.writeable
        if "p0" not in changes:
            assert new.p0 is grid.p0
    assert grid.replace(r=r).reward_scale == 1.0                   # the -inf does not count
    r[0, 0] = 7.0
    assert grid.replace(r=r).r[0, 0] == 7.0 and grid.r[0, 0] != 7.0   # r is copied
    bad = [(dict(r=np.full(6, np.nan)), ValueError, r"r\[0, 0\] is nan"),
           (dict(r=np.full((6, 5), -np.inf)), ValueError, "state 0 needs"),
           (dict(p0=np.ones(6)), ValueError, "p0 sums to 6"),
           (dict(gamma=0.0), ValueError, "gamma must be in"),
           (dict(horizon=None), ValueError, "horizon=None needs gamma < 1"),
           (dict(horizon="5"), TypeError, "horizon must be"),
           # A new P builds the MDP afresh: the grid's layout is checked against it.
           (dict(P=np.ones((2, 5, 2)) / 2, r=np.zeros(2), p0=None), ValueError,
            r"shape \(2, 3\) has 6 cells but the MDP has only 2 states")]
    for changes, error, message in bad:
        with pytest.raises(error, match=message):
            grid.replace(**changes)


def test_replace_validates_again():
    mdp = ci.TabularMDP(chain(), r=np.zeros(3), p0=None, horizon=2)
    assert mdp.replace(horizon=5).horizon == 5
    with pytest.raises(ValueError, match="horizon=None needs gamma < 1"):
        mdp.replace(horizon=None)
    with pytest.raises(TypeError, match="unknown field"):
        mdp.replace(discount=0.5)


# -- every validation error names the argument and the problem ----------------------
def test_row_that_does_not_sum_to_one_is_named():
    P = chain()
    P[2, 1] *= 0.7
    with pytest.raises(ValueError, match=r"P\[2, 1, :\] sums to 0.7, expected 1 \(tolerance 1e-08\)"):
        ci.TabularMDP(P, np.zeros(3), None, 2)


def test_sparse_rows_are_named_as_state_action():
    P = sp.csr_matrix(chain().reshape(6, 3) * np.array([1, 1, 1, 0.5, 1, 1])[:, None])
    with pytest.raises(ValueError, match=r"P\[1, 1, :\] sums to 0.5"):
        ci.TabularMDP(P, np.zeros(3), None, 2)


def test_negative_and_non_finite_probabilities():
    P = chain()
    P[1, 0, 2], P[1, 0, 0] = -0.5, 1.5
    with pytest.raises(ValueError, match=r"P\[1, 0, 2\] is -0.5, expected a probability >= 0"):
        ci.TabularMDP(P, np.zeros(3), None, 2)
    P = chain()
    P[0, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"P\[0, 1, 0\] is nan, expected a finite number"):
        ci.TabularMDP(P, np.zeros(3), None, 2)
    bad = sp.csr_matrix(chain().reshape(6, 3))
    bad.data[3] = np.inf
    with pytest.raises(ValueError, match=r"P\[1, 1, 2\] is inf, expected a finite probability"):
        ci.TabularMDP(bad, np.zeros(3), None, 2)


def test_shape_errors():
    with pytest.raises(ValueError, match=r"P has shape \(3, 2\), expected \(S, A, S\)"):
        ci.TabularMDP(np.ones((3, 2)), np.zeros(3), None, 2)
    with pytest.raises(ValueError, match=r"sparse P has shape \(5, 3\), expected \(S\*A, S\)"):
        ci.TabularMDP(sp.csr_matrix(np.ones((5, 3)) / 3), np.zeros(3), None, 2)
    with pytest.raises(ValueError, match=r"r has shape \(2,\), expected \(S,\) = \(3,\) "
                                         r"or \(S, A\) = \(3, 2\)"):
        ci.TabularMDP(chain(), np.zeros(2), None, 2)
    with pytest.raises(ValueError, match=r"p0 has shape \(2,\), expected \(3,\)"):
        ci.TabularMDP(chain(), np.zeros(3), [0.5, 0.5], 2)
    with pytest.raises(ValueError, match="at least one state and action"):
        ci.TabularMDP(np.zeros((2, 0, 2)), np.zeros((2, 0)), None, 2)


def test_type_errors():
    with pytest.raises(TypeError, match="P must be an array of real numbers, got dtype <U1"):
        ci.TabularMDP(np.full((2, 1, 2), "a"), np.zeros(2), None, 2)
    with pytest.raises(TypeError, match="r must be an array of real numbers, got dtype complex"):
        ci.TabularMDP(chain(), np.zeros(3, dtype=complex), None, 2)


def test_reward_and_initial_distribution_errors():
    r = np.zeros((3, 2))
    r[1, 1] = np.inf
    with pytest.raises(ValueError, match=r"r\[1, 1\] is inf, expected a finite number"):
        ci.TabularMDP(chain(), r, None, 2)
    with pytest.raises(ValueError, match=r"p0 sums to 0.9, expected 1 \(tolerance 1e-08\)"):
        ci.TabularMDP(chain(), np.zeros(3), [0.5, 0.2, 0.2], 2)
    with pytest.raises(ValueError, match=r"p0\[1\] is -0.5, expected a probability >= 0"):
        ci.TabularMDP(chain(), np.zeros(3), [1.0, -0.5, 0.5], 2)


@pytest.mark.parametrize("horizon, error, message", [
    (0, ValueError, "horizon must be a positive int or None, got 0"),
    (-3, ValueError, "horizon must be a positive int or None, got -3"),
    (2.5, TypeError, "horizon must be a positive int or None, got 2.5"),
    (True, TypeError, "horizon must be a positive int or None, got True"),
])
def test_horizon_errors(horizon, error, message):
    with pytest.raises(error, match=message):
        ci.TabularMDP(chain(), np.zeros(3), None, horizon)


@pytest.mark.parametrize("gamma, error, message", [
    (0.0, ValueError, r"gamma must be in \(0, 1\], got 0"),
    (1.5, ValueError, r"gamma must be in \(0, 1\], got 1.5"),
    ("0.9", TypeError, "gamma must be in \\(0, 1\\], got '0.9'"),
])
def test_gamma_errors(gamma, error, message):
    with pytest.raises(error, match=message):
        ci.TabularMDP(chain(), np.zeros(3), None, 3, gamma)


def test_infinite_horizon_needs_a_discount():
    with pytest.raises(ValueError, match="horizon=None needs gamma < 1"):
        ci.TabularMDP(chain(), np.zeros(3), None, None)


# -- sparse P: every index is checked before scipy or a kernel reads through it --------
def _csr(data, indices, indptr, shape=(6, 3)):
    """A CSR matrix built without scipy's checks, as a crafted input would be."""
    m = sp.csr_matrix(shape)
    m.data, m.indices, m.indptr = (np.asarray(data, float), np.asarray(indices, np.int32),
                                   np.asarray(indptr, np.int32))
    return m


@pytest.mark.parametrize("indices, indptr, message", [
    ([0, 1, 2, 0, 1, -1], [0, 1, 2, 3, 4, 5, 6], r"P.indices\[5\] is -1, expected an index in \[0, 2\]"),
    ([0, 1, 2, 0, 1, 3], [0, 1, 2, 3, 4, 5, 6], r"P.indices\[5\] is 3, expected an index in \[0, 2\]"),
    ([0, 1, 2, 0, 1, 2], [0, 1, 3, 2, 4, 5, 6], r"P.indptr decreases at 3"),
    ([0, 1, 2, 0, 1, 2], [0, 1, 2, 3, 4, 5, 9], r"P.indptr\[-1\] is 9"),
    ([0, 1, 2, 0, 1, 2], [1, 1, 2, 3, 4, 5, 6], r"P.indptr\[0\] is 1, expected 0"),
])
def test_crafted_sparse_indices_are_refused(indices, indptr, message):
    with pytest.raises(ValueError, match=message):
        ci.TabularMDP(_csr(np.ones(6), indices, indptr), np.zeros(3), None, 2)


def test_coo_coordinates_are_checked_and_duplicates_summed():
    bad = sp.coo_matrix((np.ones(6), (np.arange(6), np.zeros(6, int))), shape=(6, 3))
    bad.col[2] = 7
    with pytest.raises(ValueError, match=r"P.col\[2\] is 7, expected an index in \[0, 2\]"):
        ci.TabularMDP(bad, np.zeros(3), None, 2)
    # Two halves of the same entry add up to one.
    dup = sp.coo_matrix((np.full(12, 0.5), (np.repeat(np.arange(6), 2), np.zeros(12, int))),
                        shape=(6, 3))
    mdp = ci.TabularMDP(dup, np.zeros(3), None, 2)
    assert mdp.P.nnz == 6 and np.all(mdp.P.data == 1.0)


def test_narrow_float_rows_far_from_one_are_refused():
    P = np.full((2, 1, 2), 0.475, dtype=np.float16)  # rows sum to 0.95
    with pytest.raises(ValueError, match=r"P\[0, 0, :\] sums to 0.95"):
        ci.TabularMDP(P, np.zeros(2), None, 2)


# -- files ---------------------------------------------------------------------------
def test_save_and_load_take_the_same_path_with_or_without_npz(tmp_path):
    mdp = ci.TabularMDP(chain(), np.arange(3.0), None, 2)
    written = mdp.save(tmp_path / "world")
    assert written == str(tmp_path / "world.npz")
    for path in (tmp_path / "world", str(tmp_path / "world"), tmp_path / "world.npz"):
        assert np.array_equal(ci.TabularMDP.load(path).r, mdp.r)


def _saved_arrays(tmp_path):
    path = ci.TabularMDP(chain(), np.arange(3.0), None, 2).save(tmp_path / "good")
    with np.load(path) as f:
        return {key: f[key] for key in f.files}


@pytest.mark.parametrize("key, value, message", [
    ("horizon", np.array(3.7), r"key 'horizon' holds float64 array of shape \(\), expected an integer"),
    ("gamma", np.array("x"), r"key 'gamma' holds <U1 array"),
    ("indices", np.array([0, 1, 9, 0, 1, 2]), r"P.indices\[2\] is 9"),
    ("indptr", np.array([0, 2, 1, 3, 4, 5, 6]), r"P.indptr decreases"),
    ("shape", np.array([6, 0]), r"key 'shape' is \[6, 0\]"),
    ("r", np.array(["a", "b", "c"]), r"key 'r' holds <U1 array"),
    ("kind", np.array("os:system"), r"saved from 'os:system', which ctrlinf does not know"),
])
def test_a_crafted_file_names_the_file_and_the_key(tmp_path, key, value, message):
    arrays = _saved_arrays(tmp_path)
    arrays[key] = value
    path = tmp_path / "crafted.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"'.*crafted.npz'.*" + message):
        ci.TabularMDP.load(path)


def test_unreadable_files_are_value_errors_naming_the_file(tmp_path):
    good = ci.TabularMDP(chain(), np.arange(3.0), None, 2).save(tmp_path / "good")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(open(good, "rb").read()[:100])
    noise = tmp_path / "noise.npz"
    noise.write_bytes(np.random.default_rng(0).bytes(500))
    array = tmp_path / "array.npz"
    with open(array, "wb") as f:
        np.save(f, np.zeros(3))
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    cases = [(truncated, "is not a readable .npz"), (noise, "is not a readable .npz"),
             (array, "single .npy array"), (folder, "is not a file"),
             (tmp_path / "missing", "does not exist")]
    for path, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            ci.TabularMDP.load(path)
        assert path.name.split(".")[0] in str(info.value)


def test_a_grid_file_with_wrong_typed_walls_is_a_value_error(tmp_path):
    grid = ci.envs.gridworld((2, 3), horizon=2)
    path = grid.save(tmp_path / "grid")
    with np.load(path) as f:
        arrays = {key: f[key] for key in f.files}
    arrays["grid_walls"] = np.array(["no", "walls"])
    np.savez(tmp_path / "bad_grid.npz", **arrays)
    with pytest.raises(ValueError, match=r"'.*bad_grid.npz' holds an invalid MDP"):
        ci.TabularMDP.load(tmp_path / "bad_grid.npz")
    assert type(ci.TabularMDP.load(path)).__name__ == "GridMDP"


def test_replace_shares_the_validated_transitions_and_checks_what_changes():
    mdp = ci.TabularMDP(chain(), np.arange(3.0), None, 2)
    copy = mdp.replace(r=np.ones(3))
    assert copy.P is mdp.P                       # shared, not copied or re-checked
    assert_array_equal(copy.r, np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"r has shape \(4,\)"):
        mdp.replace(r=np.ones(4))
    grid = ci.envs.gridworld((2, 2), horizon=3)
    assert type(grid.replace(horizon=4)).__name__ == "GridMDP"
    assert grid.replace(horizon=4).P is grid.P
