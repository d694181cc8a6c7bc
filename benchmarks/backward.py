"""Time ctrlinf's backward and forward passes against baselines on the same data.

Run from the repository root::

    python benchmarks/backward.py --quick          # S = 1e4, 1e5 gridworlds; dense 100, 400
    python benchmarks/backward.py                  # the full set (S up to 1e6; minutes)
    python benchmarks/backward.py --sizes 1e5 --dense 400 --repeats 7 --no-memory

Problems (see ``_problems.py``): 4-connected gridworlds with 5 actions and 10%
slip at the given sizes, and dense random MDPs with A = 4; horizon 100, γ = 1,
α = 1, standard normal rewards. Every method in a group runs on the same
arrays in this process, the methods of a group interleaved, ``--repeats`` times
each; the table shows the median. ``ratio`` is the method's median divided by
ctrlinf's in the same group, so 3.0 means ctrlinf is three times faster.
``max|Δ|`` is the largest difference from ctrlinf's answer (V, or the forward
messages), checked on the first repetition. Peak memory is measured in a fresh
subprocess per case (``--memory-case``). Nothing here asserts a time: the
machine is shared and the numbers are noisy, so the load average is printed.
"""
import argparse
import gc
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ctrlinf as ci  # noqa: E402
from _baselines import (einsum_occupancy, einsum_partition, lse_max_shift,  # noqa: E402
                        lse_scipy, quantecon_backward, quantecon_model, scipy_backward,
                        scipy_forward)
from _memory import measure_peak  # noqa: E402
from _problems import dense_random, gridworld  # noqa: E402

GRID_SIZES = (10**4, 10**5, 10**6)
DENSE_SIZES = (100, 400, 500, 2000)
QUICK_GRID_SIZES = (10**4, 10**5)
QUICK_DENSE_SIZES = (100, 400)
HORIZON = 100
N_ACTIONS_DENSE = 4


def build(kind, n_states):
    """``(P, r, p0)`` of the named problem; P is CSR for grids, dense (S, A, S) otherwise."""
    if kind == "grid":
        return gridworld(n_states, slip=0.1, seed=0)
    return dense_random(n_states, N_ACTIONS_DENSE, seed=0)


def output_bytes(mdp, keep):
    """Bytes of a Solution's arrays: V (T, S), plus Q and the policy (T, S, A) for keep="all"."""
    T, S, A = mdp.horizon, mdp.n_states, mdp.n_actions
    return 8 * T * S * (1 if keep == "V" else 1 + 2 * A)


def p_bytes(mdp):
    """Bytes of P as ctrlinf stores it: CSR data, column indices and row pointers."""
    P = mdp.P
    return P.data.nbytes + P.indices.nbytes + P.indptr.nbytes


# -- the methods -----------------------------------------------------------
def solve_V(mdp, mode, keep):
    return ci.solve(mdp, mode=mode, keep=keep, progress=False).V


def method_groups(mdp, P_dense, keep_all_fits):
    """Timed groups as ``{group: (make, out_bytes)}``; ``make()`` returns ``{method: callable}``.

    Each callable returns an array comparable with that of the group's first
    (ctrlinf) method; ``out_bytes`` is the size of the largest output of a
    call. Groups are built on demand, so that ``--only`` skips their set-up.
    """
    T, r, P = mdp.horizon, mdp.r, mdp.P
    keeps = ("V", "all") if keep_all_fits else ("V",)
    # Forward passes need a solution; keep="V" recomputes π_t at every step.
    keep = "all" if keep_all_fits else "V"
    forward_note = "" if keep_all_fits else ", π_t recomputed"
    groups = {}

    def backward(mode, keep):
        return {
            "ctrlinf": lambda: solve_V(mdp, mode, keep),
            "(a) scipy @ + logsumexp": lambda: scipy_backward(
                P, r, T, mode, keep=keep, lse=lse_scipy)[0],
            "(b) scipy @ + max-shift": lambda: scipy_backward(
                P, r, T, mode, keep=keep, lse=lse_max_shift)[0],
        }

    for mode in ("soft", "exact"):
        for k in keeps:
            groups[f"{mode} backward, keep={k}"] = (lambda mode=mode, k=k: backward(mode, k),
                                                     output_bytes(mdp, k))

    def hard():
        ddp = quantecon_model(P if P_dense is None else P_dense, r)
        methods = {"ctrlinf keep=V": lambda: solve_V(mdp, "hard", "V")}
        if keep_all_fits:
            methods["ctrlinf keep=all"] = lambda: solve_V(mdp, "hard", "all")
        methods["(d) quantecon backward_induction"] = lambda: quantecon_backward(ddp, T)[0][:T]
        return methods

    groups["hard backward"] = (hard, output_bytes(mdp, keep))

    def forward_soft():
        sol = ci.solve(mdp, mode="soft", keep=keep, progress=False)
        methods = {f"ctrlinf (keep={keep}{forward_note})": lambda: ci.forward(mdp, sol)}
        if keep_all_fits:
            methods["scipy P.T @ (d π)"] = lambda: scipy_forward(P, sol.policy, mdp.p0)
        return methods

    def forward_exact():
        sol = ci.solve(mdp, mode="exact", keep=keep, progress=False)
        return {f"ctrlinf (keep={keep})": lambda: ci.forward(mdp, sol)}

    groups["forward: occupancy of the soft policy"] = (forward_soft, output_bytes(mdp, "V"))
    groups["forward: exact messages α_t"] = (forward_exact, output_bytes(mdp, "V"))

    if P_dense is not None:
        def ctrlinf_mce():
            sol = ci.solve(mdp, mode="soft", keep="all", progress=False)
            return ci.forward(mdp, sol)

        def einsum_mce():
            _, _, policy = einsum_partition(P_dense, r, T)
            return einsum_occupancy(P_dense, policy, mdp.p0)[0]

        groups["soft backward + forward (MCE IRL step)"] = (lambda: {
            "ctrlinf solve(keep=all) + forward": ctrlinf_mce,
            "(c) einsum partition + occupancy": einsum_mce,
        }, output_bytes(mdp, "all"))
    return groups


def time_group(methods, repeats, pause, prefault_bytes):
    """Interleave the methods ``repeats`` times; return their times and max|Δ| to the first.

    Before each run, outside the timing: a garbage collection; a ``pause``,
    so that worker threads left spinning by the previous method (OpenBLAS,
    OpenMP) have gone to sleep and do not compete for the cores; and writing
    ``prefault_bytes`` of fresh memory. The last is for virtual machines
    that hand idle freed memory back to the host (free page reporting): the
    first touch of such memory costs about 1 s per GB, and without the
    pre-touch that cost would land on whichever method allocates its output
    first after the pause.
    """
    times = {name: [] for name in methods}
    deltas = {}
    reference = None
    for rep in range(repeats):
        for name, fn in methods.items():
            gc.collect()
            time.sleep(pause)
            np.ones(prefault_bytes // 8)
            start = time.perf_counter()
            result = fn()
            times[name].append(time.perf_counter() - start)
            if rep == 0:
                result = np.asarray(result)
                if reference is None:
                    reference = result
                deltas[name] = float(np.max(np.abs(result - reference)))
            del result
        reference = None  # only the first repetition is checked; free it
    return times, deltas


def warm_up():
    """Compile (or load from cache) every kernel and baseline on tiny problems."""
    for kind, n in (("grid", 100), ("dense", 20)):
        P, r, p0 = build(kind, n)
        mdp = ci.TabularMDP(P, r, p0, horizon=3)
        for mode in ("soft", "exact", "hard"):
            sol = ci.solve(mdp, mode=mode, keep="all")
            ci.forward(mdp, sol)
            ci.forward(mdp, ci.solve(mdp, mode=mode, keep="V"))
        quantecon_backward(quantecon_model(P, mdp.r), 3)


# -- memory ------------------------------------------------------------------
MEMORY_CASES = ("soft keep=V", "soft keep=all", "exact keep=V", "hard keep=V",
                "forward soft keep=V", "(a) scipy soft keep=V")


def memory_case(kind, n_states, case, horizon):
    """Run one case in this (fresh) process and return its peak memory as a dict."""
    P, r, p0 = build(kind, n_states)
    mdp = ci.TabularMDP(P, r, p0, horizon=horizon)
    del P
    # Compile outside the measurement.
    tiny = ci.TabularMDP(*build(kind, 100 if kind == "grid" else 20), horizon=2)
    for mode in ("soft", "exact", "hard"):
        ci.forward(tiny, ci.solve(tiny, mode=mode, keep="V"))
    out = 8 * horizon * n_states
    if case.startswith("forward"):
        sol = ci.solve(mdp, mode="soft", keep="V", progress=False)
        run = lambda: ci.forward(mdp, sol)  # noqa: E731
    elif case.startswith("(a)"):
        run = lambda: scipy_backward(mdp.P, mdp.r, horizon, "soft", keep="V")  # noqa: E731
    else:
        mode, keep = case.replace("keep=", "").split()
        out = output_bytes(mdp, keep)
        run = lambda: ci.solve(mdp, mode=mode, keep=keep, progress=False)  # noqa: E731
    peak = measure_peak(run)
    return dict(kind=kind, n_states=n_states, case=case, p_bytes=p_bytes(mdp),
                out_bytes=out, **peak)


def run_memory(kind, n_states, horizon, keep_all_fits):
    rows = []
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")  # big arrays -> mmap, so RSS is exact
    for case in MEMORY_CASES:
        if case == "soft keep=all" and not keep_all_fits:
            continue
        cmd = [sys.executable, os.path.abspath(__file__), "--memory-case",
               kind, str(n_states), case, "--horizon", str(horizon)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            print(f"  memory case {case!r} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


# -- output --------------------------------------------------------------------
def print_header(args):
    import numba

    print(f"ctrlinf {ci.__version__}, numpy {np.__version__}, numba {numba.__version__}, "
          f"{os.cpu_count()} CPUs, numba threads {numba.get_num_threads()} "
          f"({numba.threading_layer() if hasattr(numba, 'threading_layer') else '?'})")
    print(f"horizon {args.horizon}, gamma 1, temperature 1; median of {args.repeats} runs "
          f"({args.repeats_large} at S >= {args.large:.0e}); load average "
          f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())}")


def print_time_rows(rows):
    header = (f"{'problem':>13} {'nnz':>10}  {'group':<40} {'method':<36} "
              f"{'median s':>9} {'min s':>8} {'ratio':>7} {'max|Δ|':>8}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['problem']:>13} {row['nnz']:>10}  {row['group']:<40} {row['method']:<36} "
              f"{row['median']:>9.4f} {row['min']:>8.4f} {row['ratio']:>7.2f} "
              f"{row['delta']:>8.1e}")


def print_memory_rows(rows):
    header = (f"{'problem':>13}  {'case':<22} {'P MB':>8} {'out MB':>8} {'peak MB':>8} "
              f"{'peak/(P+out)':>12} {'traced MB':>9} {'RSS+ MB':>8}")
    print(header)
    print("-" * len(header))
    mb = 1 / 2**20
    for row in rows:
        extra = max(row["traced_peak"], row["rss_peak"])
        peak = row["p_bytes"] + extra
        print(f"{row['problem']:>13}  {row['case']:<22} {row['p_bytes'] * mb:>8.1f} "
              f"{row['out_bytes'] * mb:>8.1f} {peak * mb:>8.1f} "
              f"{peak / (row['p_bytes'] + row['out_bytes']):>12.2f} "
              f"{row['traced_peak'] * mb:>9.1f} {row['rss_peak'] * mb:>8.1f}")


def parse_sizes(text):
    return tuple(int(float(x)) for x in text.split(",") if x.strip())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="gridworlds 1e4, 1e5 and dense 100, 400 only")
    parser.add_argument("--sizes", type=parse_sizes,
                        help="gridworld sizes, e.g. 1e4,1e5 ('' for none)")
    parser.add_argument("--dense", type=parse_sizes,
                        help="dense sizes, e.g. 100,400 ('' for none)")
    parser.add_argument("--horizon", type=int, default=HORIZON)
    parser.add_argument("--repeats", type=int, default=5, help="runs per method (median)")
    parser.add_argument("--repeats-large", type=int, default=3,
                        help="runs per method at S >= --large")
    parser.add_argument("--large", type=float, default=5e5)
    parser.add_argument("--pause", type=float, default=0.2,
                        help="seconds to wait before each timed run (idle worker threads)")
    parser.add_argument("--max-keep-all-gb", type=float, default=2.0,
                        help="skip keep='all' when Q and the policy would exceed this")
    parser.add_argument("--only", type=lambda text: [w for w in text.split(",") if w],
                        help="time only groups whose name contains one of these words, "
                             "e.g. soft,hard")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--json", help="also write all rows to this file")
    parser.add_argument("--memory-case", nargs=3, metavar=("KIND", "S", "CASE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_case:
        kind, n_states, case = args.memory_case
        print(json.dumps(memory_case(kind, int(n_states), case, args.horizon)))
        return

    grid_sizes = args.sizes if args.sizes is not None else (
        QUICK_GRID_SIZES if args.quick else GRID_SIZES)
    dense_sizes = args.dense if args.dense is not None else (
        QUICK_DENSE_SIZES if args.quick else DENSE_SIZES)
    print_header(args)
    warm_up()
    time_rows, memory_rows = [], []
    for kind, sizes in (("grid", grid_sizes), ("dense", dense_sizes)):
        for n_states in sizes:
            P, r, p0 = build(kind, n_states)
            mdp = ci.TabularMDP(P, r, p0, horizon=args.horizon)
            P_dense = P if kind == "dense" else None
            del P
            problem = f"{kind} {n_states:.0e}" if kind == "grid" else f"dense {n_states}"
            keep_all_fits = 2 * output_bytes(mdp, "all") <= args.max_keep_all_gb * 2**30
            repeats = args.repeats_large if n_states >= args.large else args.repeats
            groups = method_groups(mdp, P_dense, keep_all_fits)
            for group, (make, out_bytes) in groups.items():
                if args.only and not any(word in group for word in args.only):
                    continue
                times, deltas = time_group(make(), repeats, args.pause,
                                           max(2 * out_bytes, 2**26))
                reference = float(np.median(next(iter(times.values()))))
                for name, ts in times.items():
                    median = float(np.median(ts))
                    time_rows.append(dict(problem=problem, nnz=mdp.P.nnz, group=group,
                                          method=name, median=median, min=float(np.min(ts)),
                                          ratio=median / reference, delta=deltas[name],
                                          runs=[float(t) for t in ts], load=os.getloadavg()[0]))
                print(f"  done: {problem} {group} (load {os.getloadavg()[0]:.1f})",
                      file=sys.stderr, flush=True)
            del mdp, P_dense
            gc.collect()
            if not args.no_memory:
                for row in run_memory(kind, n_states, args.horizon, keep_all_fits):
                    row["problem"] = problem
                    memory_rows.append(row)
    print()
    print_time_rows(time_rows)
    if memory_rows:
        print()
        print("Peak memory of each call (fresh process per case): 'peak' = P + the most the "
              "call allocated\n(max of tracemalloc's numpy peak and the resident-set growth).")
        print_memory_rows(memory_rows)
    print(f"\nload average at the end: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(times=time_rows, memory=memory_rows), f, indent=1)


if __name__ == "__main__":
    main()
