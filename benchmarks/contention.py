"""ctrlinf's default threads against one thread and QuantEcon, idle and beside a busy process.

Run from the repository root::

    python benchmarks/contention.py --quick          # small grids and dense MDPs (~2 min)
    python benchmarks/contention.py                  # every size, up to 10^6 states (~15 min)
    python benchmarks/contention.py --out figures/contention.png --repeats 10

For each machine load (``idle``: nothing started by this script; ``busy``: one
``while True: pass`` process pinned to one core beside it) each configuration runs
in its own Python process, which builds the problems and runs every case once to
compile. Then the three processes take turns: each case once in each process (in an
order that alternates, :func:`round_order`), then the next case, ``--repeats`` rounds. Before every run the
process pauses 0.2 s, reads the arrays of its problem (:func:`touch`) and waits until
no other task runs (but the busy loop), so that threads left spinning by the
previous run (OpenBLAS's, in the QuantEcon process) do not compete.
Runs compared in a ratio are thus seconds apart. The table shows medians.

Configurations:

- ``default``: ctrlinf as a user gets it (numba's thread count, ctrlinf's choice
  of threads per call);
- ``1 thread``: the same with ``NUMBA_NUM_THREADS=1`` in that process's environment;
- ``QuantEcon``: ``quantecon.markov.backward_induction`` (serial numba), on the
  hard-mode rows, in the ``default`` environment.

Cases (``benchmarks/_problems.py``): slippery gridworlds (5 actions) with
``T = 100`` and ``α = 1``: ``solve`` in soft, hard and exact mode with
``keep="V"``; dense random MDPs (``A = 4``): ``solve(soft, keep="all")`` plus
``forward``. The ``bound`` column (grids) is the memory-bandwidth floor of a
backward pass: the time to stream P's CSR arrays (data and column indices)
from memory ``T`` times, measured with all threads in the ``default`` process.

``ratio`` is the geometric mean over rounds of default over 1 thread (above 1.0 the
default is slower; in each round the two run seconds apart, in alternating order); ``×QE`` is QuantEcon's median over ctrlinf's default. ``BLAS P V`` (dense
rows) is ``T`` products of the dense ``P`` with a vector by numpy's BLAS alone, in the
QuantEcon process: the floor of any dense float64 backward pass, QuantEcon's
included. The machine's load average
and its number of running tasks are printed with each load. Nothing here asserts
a time. The figure goes to ``--out`` (default ``ctrlinf-figures/contention.png``
under the current directory; nothing tracked is rewritten unless you point
``--out`` there), and the numbers to the same path with ``.json``.
"""
import argparse
import gc
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _machine import machine_load, start_busy_loop  # noqa: E402

HORIZON = 100
GRID_SIZES = (1600, 10**4, 10**5, 10**6)
DENSE_SIZES = (100, 200, 300, 400)
QUICK_GRID_SIZES = (1600, 10**4)
QUICK_DENSE_SIZES = (100, 400)
#: Below this the CSR arrays fit in cache and streaming them measures no memory bound.
BOUND_MIN_STATES = 10**5
CONFIGS = ("default", "1 thread", "QuantEcon")
LOADS = ("idle", "busy")
PAUSE = 0.2
#: Longest wait, after the pause, for the machine to run no more than this process
#: (and the busy loop, when there is one).
QUIET_TIMEOUT = 2.0


# -- the cases, timed inside a child process -------------------------------------------
def build_cases(grid_sizes, dense_sizes, config):
    """``[(name, callable, arrays)]`` of one configuration, problems built here (outside the
    timing); ``arrays`` are what the case reads, for :func:`touch`."""
    import ctrlinf as ci
    from _baselines import quantecon_backward, quantecon_model
    from _problems import dense_random, gridworld

    cases, bounds = [], []
    for S in grid_sizes:
        P, r, p0 = gridworld(S, slip=0.1, seed=0)
        mdp = ci.TabularMDP(P, r, p0, horizon=HORIZON)
        label = f"grid {S:.0e}" if S >= 10**4 else f"grid {S}"
        if config == "QuantEcon":
            ddp = quantecon_model(mdp.P, mdp.r)
            cases.append((f"{label} hard", lambda ddp=ddp: quantecon_backward(ddp, HORIZON),
                          [ddp.Q, ddp.R]))
            continue
        for mode in ("soft", "hard", "exact"):
            cases.append((f"{label} {mode}", lambda mdp=mdp, mode=mode: ci.solve(
                mdp, mode=mode, keep="V", progress=False), [mdp.P, mdp.r]))
        if config == "default" and S >= BOUND_MIN_STATES:
            bounds.append((f"{label} bound", lambda mdp=mdp: stream_csr(mdp, HORIZON), [mdp.P]))
    for S in dense_sizes:
        P, r, p0 = dense_random(S, 4, seed=0)
        mdp = ci.TabularMDP(P, r, p0, horizon=HORIZON)
        label = f"dense {S}"
        if config == "QuantEcon":
            ddp = quantecon_model(P, r)
            cases.append((f"{label} hard", lambda ddp=ddp: quantecon_backward(ddp, HORIZON),
                          [ddp.Q, ddp.R]))
            cases.append((f"{label} gemv", lambda P=P: blas_products(P, HORIZON), [P]))
            continue
        cases.append((f"{label} hard", lambda mdp=mdp: ci.solve(mdp, mode="hard", keep="V",
                                                                progress=False), [mdp.P, mdp.r]))
        cases.append((f"{label} soft+forward", lambda mdp=mdp: ci.forward(
            mdp, ci.solve(mdp, mode="soft", keep="all", progress=False)), [mdp.P, mdp.r]))
    return cases + bounds


def touch(arrays):
    """Read a byte of every cache line of ``arrays`` (ndarrays or scipy sparse matrices).

    Before each timed run: this VM's memory reclaim pages out memory left idle for a
    few seconds, and the first run after it was up to 30% slower in any configuration
    (whichever process ran a case first in a round was the slow one), which made the
    per-round ratios depend on the order. Touched, every run starts with its problem
    in memory, and a small one in cache.
    """
    total = 0
    for array in arrays:
        parts = ((array.data, array.indices, array.indptr) if hasattr(array, "indptr")
                 else (array,))
        for part in parts:
            total += int(np.ascontiguousarray(part).reshape(-1).view(np.uint8)[::64].sum())
    return total


def blas_products(P, passes):
    """``passes`` products ``P V`` with numpy's BLAS (dense P as (S*A, S)): the floor of
    any dense float64 backward pass, QuantEcon's included, which adds its max to them."""
    matrix = np.ascontiguousarray(P.reshape(-1, P.shape[-1]))
    V, out = np.ones(P.shape[-1]), np.empty(matrix.shape[0])
    for _ in range(passes):
        np.dot(matrix, V, out=out)
    return out


def stream_csr(mdp, passes):
    """Read P's data and column indices ``passes`` times with every thread: the bandwidth floor."""
    kernel = _stream_kernel()
    indices, data = mdp.P.indices, mdp.P.data
    total = 0.0
    for _ in range(passes):
        total += kernel(data, indices)
    return total


_STREAM = []


def _stream_kernel():
    if not _STREAM:
        from numba import njit, prange

        @njit(parallel=True, fastmath=True)
        def read_all(data, indices):
            acc = 0.0
            for k in prange(data.shape[0]):
                acc += data[k] + indices[k]
            return acc

        _STREAM.append(read_all)
    return _STREAM[0]


def child(args):
    """Serve one configuration: build and compile every case, then time a case per request.

    Prints one JSON line when ready (``{"cases": [...], "loads": [...]}``), then reads
    case names on stdin and answers each with its time in seconds; at the end of its
    input it prints the machine's load and numba's threading, and exits.
    """
    import numba

    from ctrlinf import _threads

    # numba picks its threading layer at the first parallel call of the process; let
    # that be what a user's first large solve does (the bound's own kernel comes later).
    _threads.threads_for(_threads.PARALLEL_MIN_NNZ)
    cases = {name: (run, arrays) for name, run, arrays
             in build_cases(args.grid_sizes, args.dense_sizes, args.config)}
    for run, _ in cases.values():  # compile (or load the numba cache) outside the timing
        run()
    print(json.dumps(dict(cases=list(cases), loads=[machine_load()])), flush=True)
    for line in sys.stdin:
        run, arrays = cases[line.strip()]
        # A pause first, so that worker threads still spinning after the previous
        # case (TBB, OpenBLAS; in any of the three processes) do not steal the cores,
        # nor make ctrlinf count a core as busy (OpenBLAS's spin for up to ~0.5 s).
        gc.collect()
        time.sleep(PAUSE)
        touch(arrays)
        wait_until_quiet(args.quiet)
        start = time.perf_counter()
        run()
        print(json.dumps(time.perf_counter() - start), flush=True)
    print(json.dumps([machine_load(), f"numba {numba.get_num_threads()} threads, "
                                      f"{numba.threading_layer()} layer"]), flush=True)


def wait_until_quiet(running, timeout=QUIET_TIMEOUT):
    """Wait (up to ``timeout`` s) until at most ``running`` tasks run on the machine."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        with open("/proc/loadavg") as file:
            if int(file.read().split()[3].split("/")[0]) <= running:
                return
        time.sleep(0.01)


# -- the parent: loads, configurations, table, figure -----------------------------------
def start_child(config, args, quiet):
    """A :func:`child` process serving ``config``; ``quiet``: the tasks running when idle."""
    env = dict(os.environ)
    env.pop("NUMBA_NUM_THREADS", None)
    if config == "1 thread":
        env["NUMBA_NUM_THREADS"] = "1"
    command = [sys.executable, os.path.abspath(__file__), "--child", config,
               "--quiet", str(quiet), "--grid-sizes", ",".join(map(str, args.grid_sizes)),
               "--dense-sizes", ",".join(map(str, args.dense_sizes))]
    return subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def read_line(process, config):
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"the {config} process ended (exit status {process.wait()})")
    return json.loads(line)


def round_order(repeat):
    """The order of the configurations in round ``repeat``: balanced in pairs of rounds.

    Default and 1 thread swap places every round, and QuantEcon goes before them in
    half the pairs of rounds: on this VM the first of two runs of a large case is often
    the slower one (allocating a fresh 800 MB ``V`` at 10^6 states costs more when no
    process has just freed as much), so an order that favoured one configuration would
    show up in the ratio.
    """
    pair = ("default", "1 thread") if repeat % 2 == 0 else ("1 thread", "default")
    return ("QuantEcon", *pair) if (repeat // 2) % 2 else (*pair, "QuantEcon")


def measure(args):
    """``{(load, config): {"times": {case: [s, ...]}, "loads": [...]}}``.

    The three configurations run in three processes at once, taking turns: each case
    is timed once in each process (in an alternating order), then the next case, and so
    on ``--repeats`` times. So the runs compared in a ratio are seconds apart, not
    minutes (run one configuration after the other, the same serial case differed by
    up to 50% between two processes beside a busy loop).
    """
    results = {}
    for load in LOADS:
        busy = start_busy_loop() if load == "busy" else None
        # Before a run: this child alone running, and the busy loop if there is one.
        quiet = 1 + (load == "busy")
        processes = {config: start_child(config, args, quiet) for config in CONFIGS}
        try:
            print(f"[{load}] compiling ...", file=sys.stderr, flush=True)
            ready = {config: read_line(p, config) for config, p in processes.items()}
            for config in CONFIGS:
                results[(load, config)] = dict(
                    times={case: [] for case in ready[config]["cases"]},
                    loads=ready[config]["loads"])
            cases = list(dict.fromkeys(case for config in CONFIGS
                                       for case in ready[config]["cases"]))
            for repeat in range(args.repeats):
                print(f"[{load}] round {repeat + 1} of {args.repeats}", file=sys.stderr,
                      flush=True)
                order = round_order(repeat)
                for case in cases:
                    for config in order:
                        if case in results[(load, config)]["times"]:
                            processes[config].stdin.write(case + "\n")
                            processes[config].stdin.flush()
                            results[(load, config)]["times"][case].append(
                                read_line(processes[config], config))
            for config, process in processes.items():
                process.stdin.close()
                results[(load, config)]["loads"] += read_line(process, config)
                process.wait()
        finally:
            for process in processes.values():
                process.kill()
            if busy is not None:
                busy.kill()
                busy.wait()
    return results


def median(result, case):
    values = result["times"].get(case)
    return float(np.median(values)) if values else None


def paired_ratio(results, load, case):
    """Geometric mean over rounds of default / 1 thread, each pair timed seconds apart.

    Pairs, because on this VM single runs of the same case differ by up to 2x within a
    minute, which moves a ratio of medians; the geometric mean, because which of the
    two runs of a round goes first alternates (:func:`round_order`) and the first is
    often the slower, so the per-round ratios fall in two clusters, between which a
    median jumps.
    """
    default = np.asarray(results[(load, "default")]["times"][case])
    single = np.asarray(results[(load, "1 thread")]["times"][case])
    return float(np.exp(np.mean(np.log(default / single))))


def rows_of(results):
    """One row per case: medians per (load, config), ratios and QuantEcon's factor."""
    cases = [name for name in results[("idle", "default")]["times"] if not name.endswith("bound")]
    rows = []
    for case in cases:
        row = dict(case=case)
        problem = case.rsplit(" ", 1)[0]
        for load in LOADS:
            default = median(results[(load, "default")], case)
            single = median(results[(load, "1 thread")], case)
            quantecon = median(results[(load, "QuantEcon")], case)
            row[load] = dict(default=default, single=single, quantecon=quantecon,
                             ratio=paired_ratio(results, load, case),
                             vs_quantecon=None if quantecon is None else quantecon / default,
                             blas=median(results[(load, "QuantEcon")], problem + " gemv")
                             if case.endswith("hard") else None)
        row["bound"] = median(results[("idle", "default")], problem + " bound")
        rows.append(row)
    return rows


def fmt(seconds):
    if seconds is None:
        return "—"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def print_table(rows, results, repeats):
    print(f"medians of {repeats} runs, T = {HORIZON}; ratio = geometric mean of each round's default / 1 thread; "
          f"×QE = QuantEcon / default")
    for load in LOADS:
        loads = results[(load, "default")]["loads"] + results[(load, "1 thread")]["loads"]
        print(f"  {load}: " + "; ".join(loads))
    header = (f"{'case':<24}" + "".join(
        f"{load + ' default':>15}{'1 thread':>11}{'ratio':>7}{'×QE':>7}{'BLAS P V':>10}"
        for load in LOADS)
        + f"{'bound':>11}{'soft/bound':>11}")
    print(header)
    print("-" * len(header))
    for row in rows:
        line = f"{row['case']:<24}"
        for load in LOADS:
            cell = row[load]
            qe = "" if cell["vs_quantecon"] is None else f"{cell['vs_quantecon']:.2f}"
            line += (f"{fmt(cell['default']):>15}{fmt(cell['single']):>11}"
                     f"{cell['ratio']:>7.2f}{qe:>7}{fmt(cell['blas']) if cell['blas'] else '':>10}")
        if row["bound"] is not None and row["case"].endswith("soft"):
            line += f"{fmt(row['bound']):>11}{row['idle']['default'] / row['bound']:>11.2f}"
        print(line)


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [row["case"] for row in rows]
    y = np.arange(len(rows))
    fig, (ax_time, ax_ratio) = plt.subplots(1, 2, figsize=(11, 0.32 * len(rows) + 1.8),
                                            sharey=True, constrained_layout=True)
    series = [("idle", "default", "tab:blue"), ("idle", "single", "tab:cyan"),
              ("busy", "default", "tab:red"), ("busy", "single", "tab:orange")]
    for i, (load, key, color) in enumerate(series):
        label = f"{load}, {'default' if key == 'default' else '1 thread'}"
        ax_time.barh(y + (i - 1.5) * 0.2, [row[load][key] for row in rows], height=0.2,
                     color=color, label=label)
    qe = [(k, row["busy"]["quantecon"]) for k, row in enumerate(rows)
          if row["busy"]["quantecon"] is not None]
    if qe:
        ax_time.plot([v for _, v in qe], [k + 0.3 for k, _ in qe], "k|", markersize=12,
                     label="busy, QuantEcon")
    ax_time.set_xscale("log")
    ax_time.set_xlabel("seconds (median)")
    ax_time.set_yticks(y, names)
    ax_time.invert_yaxis()
    ax_time.legend(fontsize=8, loc="lower right")
    for load, color in (("idle", "tab:blue"), ("busy", "tab:red")):
        ax_ratio.plot([row[load]["ratio"] for row in rows], y, "o", color=color, label=load)
    ax_ratio.axvline(1.0, color="grey", lw=0.8)
    ax_ratio.axvline(1.1, color="grey", lw=0.8, ls="--")
    ax_ratio.set_xlabel("default / 1 thread (dashed: 1.1)")
    ax_ratio.legend(fontsize=8)
    fig.suptitle(f"ctrlinf threads on {os.cpu_count()} cores: idle and beside one busy process")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sizes(text):
    return tuple(int(float(s)) for s in text.split(",") if s)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small grids and dense 100, 400")
    parser.add_argument("--repeats", type=int, default=6,
                        help="rounds (default 6; an even number balances the order)")
    parser.add_argument("--grid-sizes", type=sizes, default=None)
    parser.add_argument("--dense-sizes", type=sizes, default=None)
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path("ctrlinf-figures") / "contention.png")
    parser.add_argument("--child", choices=CONFIGS, help=argparse.SUPPRESS)
    parser.add_argument("--quiet", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.grid_sizes is None:
        args.grid_sizes = QUICK_GRID_SIZES if args.quick else GRID_SIZES
    if args.dense_sizes is None:
        args.dense_sizes = QUICK_DENSE_SIZES if args.quick else DENSE_SIZES
    if args.child:
        args.config = args.child
        child(args)
        return
    results = measure(args)
    rows = rows_of(results)
    print_table(rows, results, args.repeats)
    plot(rows, args.out)
    with open(args.out.with_suffix(".json"), "w") as file:
        json.dump(dict(rows=rows, loads={f"{load} {config}": result["loads"]
                                         for (load, config), result in results.items()},
                       times={f"{load} {config}": result["times"]
                              for (load, config), result in results.items()}),
                  file, indent=1)
    print(f"figure: {args.out}; numbers: {args.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
