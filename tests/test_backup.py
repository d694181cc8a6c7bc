"""ci.backup, the one-step operator: each mode's equation against NumPy, and solve built on it."""
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp

import ctrlinf as ci
from ctrlinf import _threads
from enumeration import random_mdp_arrays

TEMPERATURES = (1.0, 1e-2, 1e-3)


def reference_backup(P, r, V_next, mode, temperature, gamma, prior=None):
    """Q_t, V_t, π_t straight from the equations, with dense P (S, A, S) and scipy's logsumexp.

    Every log-sum-exp runs over the supported terms only (P > 0, allowed actions), so
    that no term the answer needs underflows at low temperature.
    """
    S, A = r.shape
    prior = np.ones((S, A)) if prior is None else prior
    with np.errstate(divide="ignore"):
        if V_next is None:
            Q = r.copy()
        elif mode == "exact":
            # Q = r + α log Σ_s' P(s'|s,a) exp(V_next(s')/α)
            terms = np.where(P > 0, np.log(P) + V_next / temperature, -np.inf)
            Q = r + temperature * logsumexp(terms, axis=2)
        else:
            # Q = r + γ Σ_s' P(s'|s,a) V_next(s')
            Q = r + gamma * (P @ V_next)
        allowed = (prior > 0) & np.isfinite(Q)
        if mode == "hard":
            # V = max over allowed actions; π shares the maximisers in proportion to the prior.
            V = np.where(allowed, Q, -np.inf).max(axis=1)
            ties = allowed & (Q >= V[:, None] - 1e-9 * np.maximum(1.0, np.abs(V[:, None])))
            policy = ties * prior
        else:
            # V = α log Σ_a prior exp(Q/α), π = prior exp((Q − V)/α)
            log_weights = np.where(allowed, np.log(prior) + Q / temperature, -np.inf)
            V = temperature * logsumexp(log_weights, axis=1)
            policy = np.exp(log_weights - V[:, None] / temperature)
    return Q, V, policy / policy.sum(axis=1, keepdims=True)


def masked_problem(seed, S=7, A=3, sparsity=0.4):
    """Random P (S, A, S), r with two forbidden actions, a prior with a zero, and a V_next."""
    rng = np.random.default_rng(seed)
    P, r, p0 = random_mdp_arrays(rng, S, A, sparsity=sparsity)
    r[0, 1] = r[3, 0] = -np.inf
    prior = rng.dirichlet(np.ones(A), size=S)
    prior[5, 2] = 0.0
    V_next = rng.normal(scale=3.0, size=S)
    return P, r, p0, prior, V_next


def as_mdp(P, r, p0, representation, gamma=1.0):
    if representation == "csr":
        P = sp.csr_matrix(P.reshape(-1, P.shape[0]))
    return ci.TabularMDP(P, r, p0, horizon=3, gamma=gamma)


@pytest.mark.parametrize("representation", ["dense", "csr"])
@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize("mode, gamma", [("exact", 1.0), ("soft", 0.9), ("hard", 0.9)])
@pytest.mark.parametrize("with_prior", [False, True])
def test_backup_is_its_equation(mode, gamma, temperature, representation, with_prior,
                                kernel_variant):
    P, r, p0, prior, V_next = masked_problem(11)
    prior = prior if with_prior else None
    mdp = as_mdp(P, r, p0, representation, gamma)
    got = ci.backup(mdp, V_next, mode=mode, temperature=temperature, action_prior=prior)
    Q, V, policy = reference_backup(P, r, V_next, mode, temperature, gamma, prior)
    scale = 1e-12 * (1.0 + np.abs(V).max())
    assert_allclose(got.Q, Q, rtol=1e-12, atol=scale)
    assert_allclose(got.V, V, rtol=1e-12, atol=scale)
    # π = exp((Q − V)/α) carries the rounding of Q − V times 1/α.
    assert_allclose(got.policy, policy, atol=1e-12 / temperature)
    assert np.all(got.policy[np.isneginf(r)] == 0)
    if with_prior:
        assert np.all(got.policy[prior == 0] == 0)


@pytest.mark.parametrize("mode", ["exact", "soft", "hard"])
def test_the_last_decision_backs_up_the_reward(mode, kernel_variant):
    P, r, p0, prior, _ = masked_problem(12)
    mdp = as_mdp(P, r, p0, "csr")
    got = ci.backup(mdp, None, mode=mode, temperature=0.3, action_prior=prior)
    Q, V, policy = reference_backup(P, r, None, mode, 0.3, 1.0, prior)
    assert_array_equal(got.Q, r)
    assert_allclose(got.V, V, rtol=1e-13)
    assert_allclose(got.policy, policy, atol=1e-13)


def test_one_row_sum_underflowing_under_the_global_shift_is_redone(kernel_variant):
    # State 1 reaches only state 2, worth 1000 less than state 0: at α = 1 its row sum
    # exp(-1000) underflows under the shift max V_next, and must be summed again.
    P = np.zeros((3, 1, 3))
    P[0, 0, 0] = P[2, 0, 2] = 1.0
    P[1, 0, 2] = 1.0
    mdp = ci.TabularMDP(P, np.zeros((3, 1)), None, horizon=2)
    got = ci.backup(mdp, [0.0, 5.0, -1000.0], mode="exact")
    assert_allclose(got.Q[:, 0], [0.0, -1000.0, -1000.0], rtol=1e-15)


@pytest.mark.parametrize("mode", ["exact", "soft", "hard"])
def test_solve_is_backup_applied_T_times(mode):
    # The same kernels run both, so the numbers are the same to the last bit.
    P, r, p0, prior, _ = masked_problem(13, S=300)  # more than one block of states
    mdp = as_mdp(P, r, p0, "csr").replace(horizon=4)
    sol = ci.solve(mdp, mode=mode, temperature=0.05, action_prior=prior)
    V_next = None
    for t in range(3, -1, -1):
        step = ci.backup(mdp, V_next, mode=mode, temperature=0.05, action_prior=prior)
        assert_array_equal(step.Q, sol.Q[t])
        assert_array_equal(step.V, sol.V[t])
        assert_array_equal(step.policy, sol.policy[t])
        V_next = step.V


@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_value_iteration_stops_at_a_fixed_point_of_backup(mode):
    P, r, p0, prior, _ = masked_problem(14)
    mdp = ci.TabularMDP(P, r, p0, horizon=None, gamma=0.8)
    sol = ci.solve(mdp, mode=mode, temperature=0.5, tol=1e-12)
    step = ci.backup(mdp, sol.V, mode=mode, temperature=0.5)
    assert_allclose(step.V, sol.V, atol=1e-10)
    assert_allclose(step.Q, sol.Q, atol=1e-10)


def test_backup_returns_a_named_tuple():
    P, r, p0, _, V_next = masked_problem(15)
    Q, V, policy = result = ci.backup(as_mdp(P, r, p0, "dense"), V_next)
    assert (result.Q is Q, result.V is V, result.policy is policy) == (True, True, True)
    assert (Q.shape, V.shape, policy.shape) == ((7, 3), (7,), (7, 3))


@pytest.mark.parametrize("V_next, error, message", [
    (np.zeros(6), ValueError, r"V_next has shape \(6,\), expected \(7,\)"),
    (np.zeros((7, 1)), ValueError, r"V_next has shape \(7, 1\)"),
    (np.full(7, np.nan), ValueError, r"V_next\[0\] is nan, expected a finite number"),
    (np.r_[np.zeros(6), np.inf], ValueError, r"V_next\[6\] is inf"),
    (np.full(7, 1e305), ValueError, "V_next up to 1e\\+305 .* beyond the float64 range"),
    ("zeros", TypeError, "V_next must be an array of real numbers"),
])
def test_bad_V_next_is_named(V_next, error, message):
    P, r, p0, _, _ = masked_problem(16)
    with pytest.raises(error, match=message):
        ci.backup(as_mdp(P, r, p0, "dense"), V_next)


def test_bad_mode_temperature_and_prior_are_named():
    P, r, p0, _, V_next = masked_problem(17)
    mdp = as_mdp(P, r, p0, "dense", gamma=0.9)
    with pytest.raises(ValueError, match="mode='exact' needs gamma=1"):
        ci.backup(mdp, V_next, mode="exact")
    with pytest.raises(ValueError, match="mode"):
        ci.backup(mdp, V_next, mode="greedy")
    with pytest.raises(ValueError, match="temperature"):
        ci.backup(mdp, V_next, temperature=0.0)
    with pytest.raises(ValueError, match="action_prior"):
        ci.backup(mdp, V_next, action_prior=np.zeros(3))
    with pytest.raises(TypeError, match="mdp"):
        ci.backup(P, V_next)


# -- threads --------------------------------------------------------------------------
def test_small_mdps_run_on_one_thread():
    assert _threads.threads_for(_threads.PARALLEL_MIN_NNZ - 1) == 1


def test_free_cores_leaves_out_a_core_that_another_process_keeps_busy():
    allowed = len(_threads.os.sched_getaffinity(0))
    if allowed < 2:
        pytest.skip("one CPU")
    busy = subprocess.Popen([sys.executable, "-c", "print('ready', flush=True)\nwhile True: pass"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert busy.stdout.readline().strip() == "ready"
        # A busy loop is always running or runnable, whatever else the machine does.
        assert 1 <= _threads.free_cores() <= allowed - 1
    finally:
        busy.kill()
        busy.wait()


LAYER_SCRIPT = """
from ctrlinf import _threads
import numba
_threads.threads_for(_threads.PARALLEL_MIN_NNZ)   # the first large call picks the layer
print(numba.threading_layer())
"""


@pytest.mark.parametrize("chosen", [None, "omp"])
def test_a_large_call_finds_pips_tbb_unless_the_user_chose_a_layer(chosen):
    if _threads._TBB_LIBRARY is None or not os.path.exists(
            os.path.join(sys.prefix, "lib", _threads._TBB_LIBRARY)):
        pytest.skip("pip's tbb is not installed here")
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    env.pop("NUMBA_THREADING_LAYER", None)
    if chosen:
        env["NUMBA_THREADING_LAYER"] = chosen
    layer = subprocess.run([sys.executable, "-c", LAYER_SCRIPT], env=env, capture_output=True,
                           text=True, check=True).stdout.strip()
    assert layer == (chosen or "tbb")
