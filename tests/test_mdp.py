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
    (0.0, ValueError, r"gamma must satisfy 0 < gamma <= 1, got 0.0"),
    (1.5, ValueError, r"gamma must satisfy 0 < gamma <= 1, got 1.5"),
    ("0.9", TypeError, "gamma must be a real number"),
])
def test_gamma_errors(gamma, error, message):
    with pytest.raises(error, match=message):
        ci.TabularMDP(chain(), np.zeros(3), None, 3, gamma)


def test_infinite_horizon_needs_a_discount():
    with pytest.raises(ValueError, match="horizon=None needs gamma < 1"):
        ci.TabularMDP(chain(), np.zeros(3), None, None)
