"""numba kernels: pure loops over validated arrays.

Nothing here checks its input; the public functions in :mod:`ctrlinf.inference`
and :mod:`ctrlinf.trajectories` validate, allocate and dispatch. Transition
matrices arrive as CSR parts ``(indptr, indices, data)`` of shape ``(S*A, S)``
with row ``s*A + a``; index arrays are unsigned (see ``TabularMDP.kernel_arrays``).

Every log-sum-exp shifts by a maximum first, so rewards of 1e5 at temperature
1e-3 stay finite. The notation follows :mod:`ctrlinf.mdp`.
"""
import numpy as np
from numba import njit, prange

MODE_EXACT = 0
MODE_SOFT = 1
MODE_HARD = 2

# A row sum of exp((V - max V)/α) below this has lost its leading terms to
# underflow (exp(x) is subnormal below about 1e-308); such rows are redone
# with their own maximum as the shift.
_UNDERFLOW_GUARD = 1e-250


@njit(cache=True, parallel=True)
def _backward_step(indptr, indices, data, r, V_next, prior, use_prior, gamma,
                   temperature, mode, is_last, tie_tol, Q_t, V_t, pi_t, write_policy):
    """One backward step: Q_t from V_{t+1}, then V_t and (optionally) π_t.

    exact: Q = r + α log Σ_s' P exp(V_next/α);  soft/hard: Q = r + γ Σ_s' P V_next.
    soft/exact: V = α log Σ_a prior exp(Q/α), π = prior exp((Q - V)/α).
    hard: V = max_a Q over allowed actions, π shared among the maximisers.
    ``is_last`` makes Q = r (no future). ``prior``/``pi_t`` may be (1, 1)
    dummies when ``use_prior``/``write_policy`` is False.
    """
    n_states, n_actions = r.shape
    inv_temp = 1.0 / temperature
    # exact mode: one exp per successor state (not per transition) by shifting
    # every row with the global maximum of V_next.
    v_shift = 0.0
    E = np.empty(n_states if (mode == MODE_EXACT and not is_last) else 0)
    if mode == MODE_EXACT and not is_last:
        v_shift = V_next.max()
        for s in prange(n_states):
            E[s] = np.exp((V_next[s] - v_shift) * inv_temp)

    for s in prange(n_states):
        q_max = -np.inf
        for a in range(n_actions):
            row = s * n_actions + a
            if is_last:
                q = r[s, a]
            elif mode == MODE_EXACT:
                start, stop = indptr[row], indptr[row + 1]
                acc = 0.0
                for k in range(start, stop):
                    acc += data[k] * E[indices[k]]
                if acc > _UNDERFLOW_GUARD:
                    q = r[s, a] + v_shift + temperature * np.log(acc)
                else:
                    row_max = -np.inf
                    for k in range(start, stop):
                        row_max = max(row_max, V_next[indices[k]])
                    acc = 0.0
                    for k in range(start, stop):
                        acc += data[k] * np.exp((V_next[indices[k]] - row_max) * inv_temp)
                    q = r[s, a] + row_max + temperature * np.log(acc)
            else:
                acc = 0.0
                for k in range(indptr[row], indptr[row + 1]):
                    acc += data[k] * V_next[indices[k]]
                q = r[s, a] + gamma * acc
            Q_t[s, a] = q
            if (not use_prior or prior[s, a] > 0.0) and q > q_max:
                q_max = q

        if mode == MODE_HARD:
            V_t[s] = q_max
            if write_policy:
                threshold = q_max - tie_tol * max(1.0, abs(q_max))
                total = 0.0
                for a in range(n_actions):
                    w = 0.0
                    if Q_t[s, a] >= threshold:
                        w = prior[s, a] if use_prior else 1.0
                    pi_t[s, a] = w
                    total += w
                for a in range(n_actions):
                    pi_t[s, a] /= total
        else:
            total = 0.0
            for a in range(n_actions):
                e = np.exp((Q_t[s, a] - q_max) * inv_temp)
                if use_prior:
                    e *= prior[s, a]
                if write_policy:
                    pi_t[s, a] = e
                total += e
            V_t[s] = q_max + temperature * np.log(total)
            if write_policy:
                for a in range(n_actions):
                    pi_t[s, a] /= total


@njit(cache=True)
def _push_forward(indptr, indices, data, weight_sa, out):
    """out[s'] = Σ_{s,a} weight_sa[s, a] P[s, a, s'] (a transposed CSR matvec)."""
    n_states, n_actions = weight_sa.shape
    out[:] = 0.0
    for s in range(n_states):
        for a in range(n_actions):
            w = weight_sa[s, a]
            if w == 0.0:
                continue
            row = s * n_actions + a
            for k in range(indptr[row], indptr[row + 1]):
                out[indices[k]] += w * data[k]


@njit(cache=True)
def _exact_forward_weights(alpha_t, r, prior, use_prior, temperature, weight_out):
    """weight[s, a] ∝ α_t(s) prior(a|s) exp(r(s, a)/α); returns the log of the scale.

    The true weights are ``weight_out * exp(returned value)``; the shift is the
    largest log-weight, so at least one weight is 1 and none overflows.
    """
    n_states, n_actions = r.shape
    inv_temp = 1.0 / temperature
    shift = -np.inf
    for s in range(n_states):
        if alpha_t[s] > 0.0:
            log_alpha = np.log(alpha_t[s])
            for a in range(n_actions):
                lw = log_alpha + r[s, a] * inv_temp
                if use_prior:
                    lw = lw + np.log(prior[s, a]) if prior[s, a] > 0.0 else -np.inf
                weight_out[s, a] = lw
                if lw > shift:
                    shift = lw
        else:
            for a in range(n_actions):
                weight_out[s, a] = -np.inf
    for s in range(n_states):
        for a in range(n_actions):
            weight_out[s, a] = np.exp(weight_out[s, a] - shift)
    return shift


@njit(cache=True)
def _posterior_state_marginals(alpha, V, temperature, out):
    """out[t] ∝ α_t(s) exp(V_t(s)/α), normalised per t, computed in log space."""
    horizon, n_states = alpha.shape
    inv_temp = 1.0 / temperature
    for t in range(horizon):
        shift = -np.inf
        for s in range(n_states):
            if alpha[t, s] > 0.0:
                lw = np.log(alpha[t, s]) + V[t, s] * inv_temp
                out[t, s] = lw
                if lw > shift:
                    shift = lw
            else:
                out[t, s] = -np.inf
        total = 0.0
        for s in range(n_states):
            out[t, s] = np.exp(out[t, s] - shift)
            total += out[t, s]
        for s in range(n_states):
            out[t, s] /= total


@njit(cache=True)
def _draw(probabilities, u):
    """Index i with cumulative probability first above u; rounding falls on the last positive."""
    acc = 0.0
    last = 0
    for i in range(probabilities.shape[0]):
        p = probabilities[i]
        if p > 0.0:
            last = i
            acc += p
            if u < acc:
                return i
    return last


@njit(cache=True)
def _sample_episodes(indptr, indices, data, p0, policy, stationary, uniforms,
                     states_out, actions_out):
    """Roll out ``policy`` from p0; uniforms has shape (N, 2T + 1)."""
    n_episodes, length = states_out.shape
    n_actions = policy.shape[2]
    for i in range(n_episodes):
        s = _draw(p0, uniforms[i, 0])
        for t in range(length):
            pi = policy[0 if stationary else t, s]
            a = _draw(pi, uniforms[i, 2 * t + 1])
            states_out[i, t] = s
            actions_out[i, t] = a
            row = s * n_actions + a
            start, stop = indptr[row], indptr[row + 1]
            k = start + _draw(data[start:stop], uniforms[i, 2 * t + 2])
            s = indices[k]
