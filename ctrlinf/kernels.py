"""numba kernels: pure loops over validated arrays.

Nothing here checks its input; the public functions in :mod:`ctrlinf.inference`
and :mod:`ctrlinf.trajectories` validate, allocate and dispatch. Not public API:
the names without an underscore are what those two modules call
(:func:`backward_steps`, :func:`push_forward`, :func:`push_forward_parts`, the
``exact_forward_*`` steps, :func:`sample_episodes`, :func:`draw`, ``UNDERFLOW_GUARD``
and the ``MODE_*`` codes), and :func:`aligned_empty` and :func:`aligned_zeros`, which
:mod:`ctrlinf.mdp` also calls; a ``_`` name is used only inside this module. Transition
matrices arrive as CSR parts ``(indptr, indices, data)`` of shape ``(S*A, S)``
with row ``s*A + a``; index arrays are unsigned (see ``TabularMDP.kernel_arrays``)
and each row's column indices are sorted and unique (canonical CSR).

Every log-sum-exp shifts by a maximum first, so rewards of 1e5 at temperature
1e-3 stay finite. The notation follows :mod:`ctrlinf.mdp`.

Why the kernels look the way they do (measurements in ``benchmarks/README.md``):

- A backup step is split by mode and by equation: the Q of each mode
  (:func:`_q_final`, :func:`_q_expected`, :func:`_q_exact`) and the V and π
  (:func:`_v_soft`, :func:`_v_hard`) each take a block of states;
  :func:`backward_steps` runs them over the blocks and the time steps.
- The soft and exact steps are bound by ``exp``/``log``: libm's scalar calls
  cost ~4-9 ns each, while :func:`_exp_nonpositive` and :func:`_log_positive`
  are plain arithmetic that LLVM vectorises (~1 ns each, within 1 ulp of libm).
  To let it, a block's ``Q`` is kept action-major and every loop around an exp
  or a log reads only contiguous arrays: with a strided read (``r[s, a]`` over
  ``s``) beside it, LLVM cannot rule out that the arrays overlap and leaves the
  loop scalar (2.4x slower in exact mode).
- No function here is called per row of ``P`` with arrays as arguments: numba
  increments and decrements the reference count of each array a function
  receives (and of each array an ``inline="always"`` function rebinds), two
  atomic operations. Per row that made the backward step 3-6x slower in the
  serial build; ``parallel=True`` hid it, because its copy propagation removed
  the rebinding and it marks the outlined loop's arrays ``noalias``.
- ``error_model="numpy"``: with numba's default Python error model every
  division tests for a zero divisor and may raise, which stops vectorisation.
  No division here can have a zero divisor.
- ``fastmath={"reassoc", "contract"}`` lets LLVM reorder sums (several
  accumulators, SIMD) and fuse multiply-adds. No flag that assumes finite values
  is set, because -inf is used on purpose (:func:`_largest` and
  :func:`exact_forward_weights` assume no NaN, which lets their maxima vectorise).
- A row whose column indices form one contiguous range (every row of a dense
  ``P``) is handled as a dense slice: no index loads, and the loop vectorises.
- The arrays the kernels read in long contiguous runs (P's values, the value rows
  V_t) start on a 64-byte boundary (:func:`aligned_empty`, used by
  :class:`~ctrlinf.mdp.TabularMDP` and :mod:`ctrlinf.inference`): numpy's own
  allocations start 16 to 48 bytes past one, so that every other 64-byte vector load
  of a dense row straddles two cache lines; a dense backup was up to 1.4x slower,
  and by how much depended on where the allocator put the arrays in that process.
- Allocations use ``np.empty`` alone (then fill): numba compiles the
  implementation of every allocating function for every argument signature,
  and ``np.zeros`` and ``np.full`` each add a few (0.1 s of first-run
  compilation each).
- Threads: the ``parallel=True`` twins (:func:`_parallel_twin`) compile only when
  a large MDP first needs them; within a step the threads claim blocks of states
  one at a time (:func:`_claim`), so a thread on a shared core takes fewer.
  :mod:`ctrlinf._threads` decides how many threads a call gets.
"""
import types as types_module

import numpy as np
from llvmlite import ir
from numba import config, njit, prange, types
from numba.extending import intrinsic, overload

MODE_EXACT = 0
MODE_SOFT = 1
MODE_HARD = 2

# A row sum of exp((V - max V)/α) below this has lost its leading terms to
# underflow (exp(x) is subnormal below about 1e-308); such rows are redone
# with their own maximum as the shift.
UNDERFLOW_GUARD = 1e-250

# States per block in a backup step: the block's (A, _BLOCK) scratch stays in
# L1/L2 cache, and a few hundred blocks balance the threads at S >= 1e5. Smaller
# MDPs get smaller blocks, _BLOCKS_PER_THREAD per thread at least.
_BLOCK = 256
_MIN_BLOCK = 16
_BLOCKS_PER_THREAD = 8

# Rows with at least this many entries are checked for a contiguous column
# range; shorter rows gain nothing from the dense-slice loop.
_CONTIGUOUS_MIN = 16

_FAST_SUMS = {"reassoc", "contract"}

# The parallel push_forward keeps one private copy of its output per thread. The
# count is read here, once, because calling numba.get_num_threads() inside a
# kernel stops numba from caching it; any count gives the same result.
_PUSH_PARTS = config.NUMBA_NUM_THREADS
# ... and uses one part per this many stored entries of P at most, so that a
# part's scatter outweighs the cost of zeroing and adding its copy.
_PUSH_MIN_NNZ = 2**17

# Unsigned 1 for index arithmetic: uint64 - int64 is float64 in numba (as in numpy).
_ONE = np.uint64(1)

# -- bit-level helpers for the vectorisable exp and log --------------------
_LOG2_E = 1.4426950408889634
# ln 2 split in a high part with trailing zero bits and a low correction
# (Cody and Waite), so that n * _LN2_HI is exact for |n| < 2^11.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_EXP_MIN_ARG = -746.0          # exp(x) rounds to 0 below about -745.13
_SMALLEST_NORMAL = 2.2250738585072014e-308
_TWO_54 = 18014398509481984.0
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD   # bit pattern of sqrt(1/2)
_MANTISSA_MASK = 0x000FFFFFFFFFFFFF


@intrinsic
def _float_bits(typingctx, x):
    """The IEEE-754 bits of a float64 as an int64 (an LLVM bitcast)."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_float(typingctx, bits):
    """The float64 whose IEEE-754 bits are the int64 ``bits`` (an LLVM bitcast)."""
    if bits != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


#: Bytes: one cache line, and one AVX-512 vector.
ALIGNMENT = 64


def aligned_empty(shape, dtype=np.float64):
    """``np.empty(shape, dtype)`` whose first element sits on a 64-byte boundary.

    A C-contiguous view into a slightly larger byte buffer (which it keeps alive), so
    numba sees the same array type as for ``np.empty``. See the module docstring.
    """
    dtype = np.dtype(dtype)
    n_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buffer = np.empty(n_bytes + ALIGNMENT, dtype=np.uint8)
    start = -buffer.ctypes.data % ALIGNMENT
    return buffer[start:start + n_bytes].view(dtype).reshape(shape)


def aligned_zeros(shape, dtype=np.float64):
    """:func:`aligned_empty`, filled with zeros."""
    out = aligned_empty(shape, dtype)
    out[...] = 0
    return out


def _claim(counter):
    """``counter[0] += 1``, returning the value before: the next block of states to back up.

    In compiled code one atomic operation (:func:`_atomic_increment`), so that
    threads sharing a counter each get a different block, and a thread whose core
    is not shared with another process takes more of them. This Python version
    serves the kernels' ``.py_func``.
    """
    value = int(counter[0])
    counter[0] += 1
    return value


@intrinsic
def _atomic_increment(typingctx, counter):
    """LLVM ``atomicrmw add`` of 1 to ``counter[0]`` (int64); returns the old value."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.atomic_rmw("add", array.data, ir.Constant(ir.IntType(64), 1), "monotonic")

    return types.int64(counter), codegen


@overload(_claim)
def _claim_compiled(counter):
    return lambda counter: _atomic_increment(counter)


@njit(cache=True, error_model="numpy")
def _exp_nonpositive(x):
    """``exp(x)`` for ``x <= 0`` (``-inf`` allowed), in branch-free arithmetic.

    ``x = n ln 2 + r`` with ``|r| <= ln 2 / 2``; ``exp(r)`` is its Taylor
    polynomial of degree 13 (relative truncation error below 1e-17), and ``2^n`` is
    applied as two factors ``2^(n//2) 2^(n - n//2)`` built in the exponent
    bits, so that results below 2^-1022 underflow gradually to subnormals
    as libm's do. Within 1 ulp of libm.
    """
    xc = max(x, _EXP_MIN_ARG)
    n = np.floor(xc * _LOG2_E + 0.5)
    r = (xc - n * _LN2_HI) - n * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    k = np.int64(n)
    half = k >> 1
    value = (p * _bits_float((half + 1023) << 52)) * _bits_float((k - half + 1023) << 52)
    return value if x >= _EXP_MIN_ARG else 0.0


@njit(cache=True, error_model="numpy")
def _log_positive(x):
    """``log(x)`` for finite ``x > 0`` (subnormals included), in branch-free arithmetic.

    ``x = 2^k m`` with ``m`` in ``[sqrt(1/2), sqrt(2))``; with ``f = m - 1`` and
    ``s = f / (2 + f)``, ``log m = f - f²/2 + s (f²/2 + R)`` where
    ``R = Σ_{i>=1} 2 s^{2i} / (2i + 1)`` (the atanh series, truncated at
    ``s^20``, relative error below 1e-18 since ``s² < 0.03``). The same decomposition as
    fdlibm's ``e_log.c``; within 1 ulp of libm.
    """
    subnormal = x < _SMALLEST_NORMAL
    x = x * _TWO_54 if subnormal else x
    bits = _float_bits(x) - _SQRT_HALF_BITS
    k = (bits >> 52) - (54 if subnormal else 0)
    m = _bits_float((bits & _MANTISSA_MASK) + _SQRT_HALF_BITS)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    R = 2.0 / 21.0
    R = R * z + 2.0 / 19.0
    R = R * z + 2.0 / 17.0
    R = R * z + 2.0 / 15.0
    R = R * z + 2.0 / 13.0
    R = R * z + 2.0 / 11.0
    R = R * z + 2.0 / 9.0
    R = R * z + 2.0 / 7.0
    R = R * z + 2.0 / 5.0
    R = R * z + 2.0 / 3.0
    R = R * z
    half_f2 = 0.5 * f * f
    dk = np.float64(k)
    return dk * _LN2_HI - ((half_f2 - (s * (half_f2 + R) + dk * _LN2_LO)) - f)


# -- one backup step, block by block -----------------------------------------------
# A step backs up the states in blocks of _BLOCK. In a block, q[a, j] holds Q(s0 + j, a)
# action-major, so that the exp and log loops over j run over contiguous memory and
# vectorise. Each function below takes a whole block, never one row of P: numba
# increments the reference count of every array a function receives (an atomic
# operation), which per block costs nothing and per row made the step 3-4x slower.

@njit(cache=True, error_model="numpy", fastmath=_FAST_SUMS)
def _block_row_sums(indptr, indices, data, x, r, gamma, s0, n, out, rewards):
    """Rows of ``P x`` for the block's states ``s = s0 + j``, ``j < n``, action-major.

    ``out[a, j] = r(s, a) + γ Σ_s' P(s'|s, a) x(s')``, the reward added as each
    row is summed. When ``rewards`` is not empty (exact mode, which takes a log of
    the sums first) instead ``out[a, j] = Σ_s' P(s'|s, a) x(s')`` and
    ``rewards[a, j] = r(s, a)``, and the smallest sum is returned: both outputs
    are then contiguous, so that the loop that combines them vectorises (``r`` is
    read with a stride of A, which LLVM cannot check for overlap with ``out``).

    A row whose sorted column indices span exactly as many columns as it has
    entries is one contiguous slice (every row of a dense P): it is summed as a
    dense dot product, which skips the index loads and vectorises.
    """
    n_actions = out.shape[0]
    apart = rewards.shape[0] > 0
    smallest = np.inf
    for j in range(n):
        for a in range(n_actions):
            row = (s0 + j) * n_actions + a
            start, stop = indptr[row], indptr[row + 1]
            count = stop - start
            acc = 0.0
            if count >= _CONTIGUOUS_MIN and indices[stop - _ONE] - indices[start] == count - _ONE:
                first = np.int64(indices[start])
                begin = np.int64(start)
                for i in range(np.int64(count)):
                    acc += data[begin + i] * x[first + i]
            else:
                # A while loop: LLVM vectorises a for loop here, which only slows
                # the short rows of a sparse P (10% on a gridworld).
                k = start
                while k < stop:
                    acc += data[k] * x[indices[k]]
                    k += _ONE
            if apart:
                out[a, j] = acc
                rewards[a, j] = r[s0 + j, a]
                smallest = min(smallest, acc)
            else:
                out[a, j] = r[s0 + j, a] + gamma * acc
    return smallest


@njit(cache=True, error_model="numpy")
def _q_final(r, s0, n, q):
    """Q_{T-1}(s, a) = r(s, a): the last decision has no future."""
    for j in range(n):
        for a in range(q.shape[0]):
            q[a, j] = r[s0 + j, a]


@njit(cache=True, error_model="numpy")
def _q_expected(indptr, indices, data, r, gamma, V_next, s0, n, q):
    """Q(s, a) = r(s, a) + γ Σ_s' P(s'|s, a) V_next(s'): the soft and hard backup."""
    _block_row_sums(indptr, indices, data, V_next, r, gamma, s0, n, q, q[:0])


@njit(cache=True, fastmath={"nnan", "nsz"})
def _largest(x):
    """max of a 1-d array without NaN (−inf is fine).

    The flags let LLVM vectorise the reduction (max is not associative for NaN
    and signed zeros); without them it is a chain of dependent compares.
    """
    m = -np.inf
    for i in range(x.shape[0]):
        m = max(m, x[i])
    return m


@njit(cache=True, error_model="numpy", fastmath=_FAST_SUMS)
def _exp_shifted(V_next, temperature, E):
    """E(s') = exp((V_next(s') − m)/α) with m = max V_next, which it returns.

    One exp per successor state rather than per transition: the exact backup
    sums ``P E`` and adds ``m`` back in log space (:func:`_q_exact`).
    """
    m = _largest(V_next)
    inv_temp = 1.0 / temperature
    for s in range(V_next.shape[0]):
        E[s] = _exp_nonpositive((V_next[s] - m) * inv_temp)
    return m


@njit(cache=True, error_model="numpy", fastmath=_FAST_SUMS)
def _q_exact(indptr, indices, data, r, temperature, V_next, E, v_shift, s0, n, q, rewards):
    """Q(s, a) = r(s, a) + α log Σ_s' P(s'|s, a) exp(V_next(s')/α): the exact backup.

    With ``E = exp((V_next − v_shift)/α)`` from :func:`_exp_shifted` this is
    ``r + v_shift + α log (P E)``, a log loop that vectorises. A row sum below
    ``UNDERFLOW_GUARD`` has lost its leading terms to underflow under the global
    shift (a low temperature, or values far apart), so such a row is summed again
    with its own maximum as the shift.
    """
    smallest = _block_row_sums(indptr, indices, data, E, r, 1.0, s0, n, q, rewards)
    n_actions = q.shape[0]
    if smallest > UNDERFLOW_GUARD:
        for a in range(n_actions):
            for j in range(n):
                q[a, j] = rewards[a, j] + v_shift + temperature * _log_positive(q[a, j])
        return
    inv_temp = 1.0 / temperature
    for j in range(n):
        for a in range(n_actions):
            acc, shift = q[a, j], v_shift
            if acc <= UNDERFLOW_GUARD:
                row = (s0 + j) * n_actions + a
                start, stop = indptr[row], indptr[row + 1]
                shift = -np.inf
                for k in range(start, stop):
                    shift = max(shift, V_next[indices[k]])
                acc = 0.0
                for k in range(start, stop):
                    acc += data[k] * _exp_nonpositive((V_next[indices[k]] - shift) * inv_temp)
            q[a, j] = rewards[a, j] + shift + temperature * _log_positive(acc)


@njit(cache=True, error_model="numpy")
def _allowed_max(q, prior, s0, n, top):
    """top[j] = max_a Q(s0 + j, a) over the allowed actions (prior > 0; all without a prior)."""
    use_prior = prior.shape[0] > 0
    for j in range(n):
        top[j] = -np.inf
    for a in range(q.shape[0]):
        for j in range(n):
            if not use_prior or prior[s0 + j, a] > 0.0:
                top[j] = max(top[j], q[a, j])


@njit(cache=True, error_model="numpy", fastmath=_FAST_SUMS)
def _v_soft(q, top, total, prior, temperature, s0, n, V_t, Q_t, pi_t, keep):
    """V(s) = α log Σ_a prior(a|s) exp(Q(s, a)/α) and π(a|s) = prior(a|s) exp((Q − V)/α).

    Every exp is shifted by the state's largest allowed Q (``top``). ``q`` is
    overwritten with the weights ``prior exp((Q − top)/α)``; ``Q_t`` and ``pi_t``
    are written when ``keep``.
    """
    n_actions = q.shape[0]
    use_prior = prior.shape[0] > 0
    inv_temp = 1.0 / temperature
    _allowed_max(q, prior, s0, n, top)
    if keep:
        for j in range(n):
            for a in range(n_actions):
                Q_t[s0 + j, a] = q[a, j]
    for j in range(n):
        total[j] = 0.0
    for a in range(n_actions):
        for j in range(n):
            # min(., 0) only matters for disallowed actions, whose weight is then exactly 0.
            weight = _exp_nonpositive(min((q[a, j] - top[j]) * inv_temp, 0.0))
            if use_prior:
                weight *= prior[s0 + j, a]
            q[a, j] = weight
            total[j] += weight
    V_block = V_t[s0:s0 + n]
    for j in range(n):
        V_block[j] = top[j] + temperature * _log_positive(total[j])
    if keep:
        for j in range(n):
            for a in range(n_actions):
                pi_t[s0 + j, a] = q[a, j] / total[j]


@njit(cache=True, error_model="numpy")
def _v_hard(q, top, prior, tie_tol, s0, n, V_t, Q_t, pi_t, keep):
    """V(s) = max_a Q(s, a) over the allowed actions; π shares it among the maximisers.

    An action is a maximiser when its Q is within ``tie_tol`` (relative) of
    the maximum; with a prior the shares are proportional to it.
    """
    n_actions = q.shape[0]
    use_prior = prior.shape[0] > 0
    _allowed_max(q, prior, s0, n, top)
    V_block = V_t[s0:s0 + n]
    for j in range(n):
        V_block[j] = top[j]
    if not keep:
        return
    for j in range(n):
        state = s0 + j
        threshold = top[j] - tie_tol * max(1.0, abs(top[j]))
        total = 0.0
        for a in range(n_actions):
            weight = 0.0
            if q[a, j] >= threshold:
                weight = prior[state, a] if use_prior else 1.0
            pi_t[state, a] = weight
            total += weight
            Q_t[state, a] = q[a, j]
        for a in range(n_actions):
            pi_t[state, a] /= total


@njit(cache=True, error_model="numpy")
def backward_steps(indptr, indices, data, r, prior, gamma, temperature, mode, tie_tol,
                   V_after, from_last, V, Q, policy, n_threads):
    """Backward steps over a run of K times: V[k] (and Q[k], π[k]) for k = K-1, ..., 0.

    ``V_next`` is ``V[k + 1]``, and ``V_after`` for the last time of the run;
    ``from_last`` makes that last time the final decision (Q = r, ``V_after``
    unused). ``V`` has shape (K, S); ``Q`` and ``policy`` (K, S, A) are written,
    unless they have shape (K, 0, 0): not kept. ``prior`` is (S, A), or (0, 0)
    for the counting measure. Running all K steps in one call saves the Python
    round trip per step, which dominates for small MDPs.

    A step backs up the states block by block: Q from V_next (:func:`_q_final`
    for the last decision, else :func:`_q_exact` or :func:`_q_expected`), then
    V_t and, when kept, Q_t and π_t (:func:`_v_hard` or :func:`_v_soft`). The
    blocks go to ``n_threads`` workers of a ``prange`` loop, which claim them one
    at a time: in parallel in the ``parallel=True`` twin, one after the other here.
    """
    n_steps = V.shape[0]
    n_states, n_actions = r.shape
    # Several threads: at least _BLOCKS_PER_THREAD blocks each (of _MIN_BLOCK states or
    # more), so that a thread slowed by another process leaves the others enough to
    # take. One thread: full blocks (a dense 100-state backup 15% faster than in 8).
    block = _BLOCK if n_threads == 1 else max(
        _MIN_BLOCK, min(_BLOCK, -(-n_states // (_BLOCKS_PER_THREAD * n_threads))))
    n_blocks = -(-n_states // block)
    keep = Q.shape[1] > 0
    E = np.empty(n_states if mode == MODE_EXACT else 0)
    next_block = np.empty(1, dtype=np.int64)
    for k in range(n_steps - 1, -1, -1):
        V_next = V_after if k == n_steps - 1 else V[k + 1]
        final = from_last and k == n_steps - 1
        v_shift = 0.0
        if mode == MODE_EXACT and not final:
            v_shift = _exp_shifted(V_next, temperature, E)
        V_t, Q_t, pi_t = V[k], Q[k], policy[k]
        next_block[0] = 0
        for worker in prange(n_threads):
            q = np.empty((n_actions, _BLOCK))
            rewards = np.empty((n_actions, _BLOCK))
            top = np.empty(_BLOCK)
            total = np.empty(_BLOCK)
            b = _claim(next_block)
            while b < n_blocks:
                s0 = b * block
                n = min(block, n_states - s0)
                if final:
                    _q_final(r, s0, n, q)
                elif mode == MODE_EXACT:
                    _q_exact(indptr, indices, data, r, temperature, V_next, E, v_shift, s0, n,
                             q, rewards)
                else:
                    _q_expected(indptr, indices, data, r, gamma, V_next, s0, n, q)
                if mode == MODE_HARD:
                    _v_hard(q, top, prior, tie_tol, s0, n, V_t, Q_t, pi_t, keep)
                else:
                    _v_soft(q, top, total, prior, temperature, s0, n, V_t, Q_t, pi_t, keep)
                b = _claim(next_block)


@njit(cache=True, error_model="numpy", fastmath=_FAST_SUMS)
def push_forward(indptr, indices, data, weight_sa, n_parts, out):
    """out[s'] = Σ_{s,a} weight_sa[s, a] P[s, a, s'] (a transposed CSR matvec).

    Rows scatter into ``out``, so the parallel twin splits the states into
    ``n_parts`` parts that add into private copies (part 0 into ``out``
    itself), summed at the end; the serial kernel takes ``n_parts = 1``.
    """
    n_states, n_actions = weight_sa.shape
    partial = np.empty((n_parts - 1, n_states))
    partial[:] = 0.0
    out[:] = 0.0
    for part in prange(n_parts):
        acc = out if part == 0 else partial[part - 1]
        for s in range(part * n_states // n_parts, (part + 1) * n_states // n_parts):
            for a in range(n_actions):
                w = weight_sa[s, a]
                if w == 0.0:
                    continue
                row = s * n_actions + a
                start, stop = indptr[row], indptr[row + 1]
                count = stop - start
                contiguous = (count >= _CONTIGUOUS_MIN
                              and indices[stop - _ONE] - indices[start] == count - _ONE)
                if contiguous:
                    # A contiguous row (see _block_row_sums): a dense axpy that vectorises.
                    first = np.int64(indices[start])
                    begin = np.int64(start)
                    for i in range(np.int64(count)):
                        acc[first + i] += w * data[begin + i]
                else:
                    for k in range(start, stop):
                        acc[indices[k]] += w * data[k]
    # Serial for the same reason as E in backward_steps: one barrier less.
    for part in range(n_parts - 1):
        for s in range(n_states):
            out[s] += partial[part, s]


def push_forward_parts(nnz):
    """How many private copies the parallel ``push_forward`` uses for ``nnz`` stored entries."""
    return max(1, min(_PUSH_PARTS, nnz // _PUSH_MIN_NNZ))


def _parallel_twin(kernel):
    """A ``parallel=True`` compilation of ``kernel``'s Python function, cached apart.

    The serial kernel compiles faster, and small MDPs (all a first session or a
    demo meets) never need threads, so the parallel version is compiled only when
    a large MDP first asks for it. numba keys its on-disk cache by the function's
    qualified name, not by its options (numba issue #6845), so the twin is a copy
    of the function under the name ``<name>_parallel``. Only its own ``prange``
    loop runs in parallel; the functions it calls are the serial ones.
    """
    fn = kernel.py_func
    twin = types_module.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_parallel",
                                     fn.__defaults__, fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_parallel"
    twin.__doc__ = fn.__doc__
    return njit(cache=True, parallel=True, error_model="numpy", fastmath=_FAST_SUMS)(twin)


push_forward_parallel = _parallel_twin(push_forward)
backward_steps_parallel = _parallel_twin(backward_steps)


@njit(cache=True, error_model="numpy", fastmath={"nnan", "nsz"})
def exact_forward_weights(log_alpha_t, r, prior, use_prior, temperature, top_action, weight_out):
    """weight[s, a] ∝ α_t(s) prior(a|s) exp(r(s, a)/α) from ``log α_t``.

    Returns ``(shift, smallest)``: the true weights are ``weight_out *
    exp(shift)``, with ``shift`` the largest log-weight, so that at least one
    weight is 1 and none overflows; ``smallest`` is the smallest finite
    log-weight relative to it (:func:`exact_forward_finish` needs to know
    whether any weight may have underflowed). ``top_action[s]`` is the action of
    largest ``r(s, a) + α log prior(a|s)``, the same at every step.
    ``weight_out`` must be C-contiguous (its final exp runs over it flat, so that
    the loop vectorises).
    """
    n_states, n_actions = r.shape
    inv_temp = 1.0 / temperature
    # (1) the largest log-weight and where it is: a pass over the states alone.
    shift = -np.inf
    best_s = 0
    for s in range(n_states):
        a = top_action[s]
        lw = log_alpha_t[s] + r[s, a] * inv_temp
        if use_prior:
            lw += _log_positive(prior[s, a])
        if lw > shift:
            shift, best_s = lw, s
    best_a = top_action[best_s]
    # (2) log-weights relative to it, as differences taken before scaling by 1/α: r/α
    # may be 1e9, whose rounding (1e-7) would swamp log α_t(s) − log α_t(s*) otherwise.
    # -inf (α_t(s) = 0, r = -inf) stays -inf.
    log_alpha_best, r_best = log_alpha_t[best_s], r[best_s, best_a]
    log_prior_best = _log_positive(prior[best_s, best_a]) if use_prior else 0.0
    smallest = 0.0
    for s in range(n_states):
        for a in range(n_actions):
            lw = (log_alpha_t[s] - log_alpha_best) + (r[s, a] - r_best) * inv_temp
            if use_prior:
                lw += (_log_positive(prior[s, a]) if prior[s, a] > 0.0 else -np.inf) - log_prior_best
            lw = min(lw, 0.0)
            weight_out[s, a] = lw
            smallest = min(smallest, lw if lw > -np.inf else 0.0)
    flat = weight_out.reshape(n_states * n_actions)
    for k in range(flat.shape[0]):
        flat[k] = _exp_nonpositive(flat[k])
    return shift, smallest


@njit(cache=True, error_model="numpy", fastmath=_FAST_SUMS)
def exact_forward_finish(pushed, exact_sums, log_alpha_next):
    """``log α_{t+1}``, normalised, from ``pushed = Σ_{s,a} weight(s,a) P(·|s,a)`` (scaled).

    With ``exact_sums`` no weight or product ``weight · P`` was below
    ``UNDERFLOW_GUARD``, so every sum is exact to rounding and a zero means no
    mass: one log per state, normalised in the linear domain. Otherwise the
    states whose sum is below the guard may have lost their leading terms to
    underflow; they are left at ``-inf`` and counted, and the count returned:
    if it is not 0, :func:`exact_forward_redo` must sum them again (and
    normalise). Returns 0 when ``log_alpha_next`` is final.
    """
    n_states = pushed.shape[0]
    if exact_sums:
        # log α_{t+1} − log Σ_s α_{t+1}(s), in the scaled linear domain.
        norm = 0.0
        for s in range(n_states):
            norm += pushed[s]
        norm = _log_positive(norm)
        for s in range(n_states):
            log_alpha_next[s] = _log_positive(max(pushed[s], _SMALLEST_NORMAL)) - norm
        for s in range(n_states):
            if pushed[s] == 0.0:
                log_alpha_next[s] = -np.inf
        return 0
    redo = 0
    # log α_{t+1} is kept relative to the weights' shift (normalising removes it
    # anyway): adding a shift of 1e9 back would round the result to 1e-7.
    for s in range(n_states):
        if pushed[s] >= UNDERFLOW_GUARD:
            log_alpha_next[s] = _log_positive(pushed[s])
        else:
            log_alpha_next[s] = -np.inf
            redo += 1
    if redo == 0:
        _normalise_log(log_alpha_next)
    return redo


@njit(cache=True, error_model="numpy", fastmath=_FAST_SUMS)
def _normalise_log(log_p):
    """``log_p -= log Σ exp(log_p)``, shifted by the largest entry."""
    top = _largest(log_p)
    acc = 0.0
    for s in range(log_p.shape[0]):
        acc += _exp_nonpositive(log_p[s] - top)
    norm = top + _log_positive(acc)
    for s in range(log_p.shape[0]):
        log_p[s] -= norm


@njit(cache=True, error_model="numpy", fastmath=_FAST_SUMS)
def exact_forward_redo(indptr, indices, data, log_alpha_t, r, prior, use_prior, temperature,
                       shift, pushed, log_alpha_next):
    """The states :func:`exact_forward_finish` left at ``-inf``, summed in log space; normalises.

    Where ``pushed[s'] < UNDERFLOW_GUARD`` the leading terms may have underflowed
    under the global shift (a low temperature, or rewards far apart), so
    ``log α_{t+1}(s') = log Σ exp(log α_t(s) + r(s,a)/α + log prior + log P(s'|s,a))``
    over the rows whose weight is not zero, with a maximum shift of its own. A
    rare path, compiled only when an MDP first needs it.
    """
    n_states, n_actions = r.shape
    inv_temp = 1.0 / temperature
    # Two passes over the rows that carry weight: the largest log-term into
    # each state to redo, then the shifted sum.
    peak = np.empty(n_states)
    total = np.empty(n_states)
    peak[:] = -np.inf
    total[:] = 0.0
    for sweep in range(2):
        for s in range(n_states):
            if log_alpha_t[s] == -np.inf:
                continue
            for a in range(n_actions):
                lw = log_alpha_t[s] + r[s, a] * inv_temp
                if use_prior:
                    lw = lw + np.log(prior[s, a]) if prior[s, a] > 0.0 else -np.inf
                if lw == -np.inf:
                    continue
                row = s * n_actions + a
                for k in range(indptr[row], indptr[row + 1]):
                    target = indices[k]
                    if pushed[target] >= UNDERFLOW_GUARD:
                        continue
                    term = lw + np.log(data[k])
                    if sweep == 0:
                        peak[target] = max(peak[target], term)
                    else:
                        total[target] += np.exp(term - peak[target])
    for s in range(n_states):
        if pushed[s] < UNDERFLOW_GUARD and peak[s] > -np.inf:
            log_alpha_next[s] = (peak[s] - shift) + np.log(total[s])
    _normalise_log(log_alpha_next)


@njit(cache=True)
def draw(probabilities, u):
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
def sample_episodes(indptr, indices, data, p0, policy, stationary, uniforms,
                    states_out, actions_out):
    """Roll out ``policy`` from p0; uniforms has shape (N, 2T + 1)."""
    n_episodes, length = states_out.shape
    n_actions = policy.shape[2]
    for i in range(n_episodes):
        s = draw(p0, uniforms[i, 0])
        for t in range(length):
            pi = policy[0 if stationary else t, s]
            a = draw(pi, uniforms[i, 2 * t + 1])
            states_out[i, t] = s
            actions_out[i, t] = a
            row = s * n_actions + a
            start, stop = indptr[row], indptr[row + 1]
            k = start + draw(data[start:stop], uniforms[i, 2 * t + 2])
            s = indices[k]
