"""Time a first ``import ctrlinf; ci.solve(...)`` in a fresh Python process.

Run from the repository root::

    python benchmarks/cold_start.py            # 5 runs per case
    python benchmarks/cold_start.py --repeats 3
    python benchmarks/cold_start.py --kernels  # compile time of each kernel a first demo needs

Cases, each a new interpreter, timed from outside (wall clock, median):

- ``python -c pass`` and ``import numpy, scipy.sparse, numba``: the floor
  that ctrlinf cannot go below;
- ``import ctrlinf``;
- ``import ctrlinf`` + one small ``solve`` (the task in the issue), and the
  same + ``solve`` in all three modes + ``forward``, with the numba cache warm
  (the package's ``__pycache__``, filled by a first run);
- the same two with an empty cache (``NUMBA_CACHE_DIR`` pointing at a new
  temporary directory per run), i.e. including compilation.

- ``ctrlinf demo`` as the installed command runs it (its solves, table and
  figures, written to a temporary directory), warm and empty. Where a second core
  is free, the demo uses it: a first run compiles the forward kernels in a second
  process (``ctrlinf/_compile_ahead.py``) and a figure worker draws two of the
  three figures (``ctrlinf.demo``); ``--busy`` shows it without that core.

``--busy`` runs every case beside one ``while True: pass`` process pinned to one
core (as ``contention.py`` does).

Each run also reports, from inside, how long the import and the first calls
took, which separates compilation from interpreter start-up.

``--kernels`` instead runs what ``ctrlinf demo`` computes (its three solves,
occupancies, exact marginals; no figures) once in a fresh process with an empty
cache and lists the compile time of every function numba compiled, from numba's
compile events: ``own`` excludes the functions it called that were compiled
on the way (inclusive time in ``with callees``), in CPU seconds of the compiling
thread, so that other work on the machine inflates it less than wall time.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import start_busy_loop  # noqa: E402

SETUP = """
import time
_start = time.perf_counter()
import numpy as np
import ctrlinf as ci
_imported = time.perf_counter()
P = np.full((4, 2, 4), 0.25)
mdp = ci.TabularMDP(P, np.arange(8.0).reshape(4, 2), None, horizon=5)
"""

SNIPPETS = {
    "python -c pass": "pass",
    "import numpy, scipy.sparse, numba": "import numpy, scipy.sparse, numba",
    "import ctrlinf": "import ctrlinf",
    "import + solve(soft)": SETUP + """
sol = ci.solve(mdp, mode="soft")
_done = time.perf_counter()
""",
    "import + 3 modes + forward": SETUP + """
for mode in ("soft", "exact", "hard"):
    ci.forward(mdp, ci.solve(mdp, mode=mode))
_done = time.perf_counter()
""",
    # As the installed command runs it (ctrlinf.cli.exit_status), figures and all.
    "ctrlinf demo": """
import sys, time, tempfile
_start = time.perf_counter()
from ctrlinf import cli
_imported = time.perf_counter()
with tempfile.TemporaryDirectory() as out:
    sys.argv = ["ctrlinf", "demo", "--out", out]
    assert cli.exit_status() == 0
_done = time.perf_counter()
""",
}

KERNELS_SNIPPET = """
import json, time
from numba.core import event

events = []


class Recorder(event.Listener):
    def on_start(self, ev):
        events.append((time.thread_time(), 1, ev.data["dispatcher"].py_func))

    def on_end(self, ev):
        events.append((time.thread_time(), -1, ev.data["dispatcher"].py_func))


event.register("numba:compile", Recorder())
import ctrlinf as ci
from ctrlinf import demo

world = demo.build_world()
for mode in ("exact", "soft", "hard"):
    sol = ci.solve(world, mode=mode, temperature=demo.DEMO_TEMPERATURE)
    ci.occupancy(world, sol.policy)
ci.marginals(world, ci.solve(world, mode="exact", temperature=demo.DEMO_TEMPERATURE))
stack, own, total = [], {}, {}
for t, step, function in events:
    name = function.__module__ + "." + function.__qualname__
    if step == 1:
        stack.append([name, t, 0.0])
        continue
    name, began, callees = stack.pop()
    own[name] = own.get(name, 0.0) + (t - began) - callees
    total[name] = total.get(name, 0.0) + (t - began)
    if stack:
        stack[-1][2] += t - began
print(json.dumps(dict(own=own, total=total)))
"""

REPORT = """
import json
print(json.dumps(dict(import_s=_imported - _start, calls_s=_done - _imported)))
"""


def run(code, env):
    """Wall-clock seconds of ``python -c code`` and its own report (dict or None)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"snippet failed:\n{done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    return elapsed, (json.loads(lines[-1]) if lines else None)


def kernel_report():
    """Print the compile time of each function a first demo compiles (empty numba cache)."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    with tempfile.TemporaryDirectory() as empty:
        env["NUMBA_CACHE_DIR"] = empty
        _, report = run(KERNELS_SNIPPET, env)
    own, total = report["own"], report["total"]
    print(f"compile time of each function, empty numba cache (CPU s of the compiling thread); "
          f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    header = f"{'function':<58} {'own s':>7} {'with callees s':>15}"
    print(header)
    print("-" * len(header))
    for name in sorted(own, key=own.get, reverse=True):
        print(f"{name:<58} {own[name]:>7.3f} {total[name]:>15.3f}")
    print(f"{'total':<58} {sum(own.values()):>7.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kernels", action="store_true",
                        help="compile time per kernel of a first demo, instead of the table")
    parser.add_argument("--busy", action="store_true",
                        help="beside one busy-loop process pinned to one core")
    args = parser.parse_args(argv)
    if args.kernels:
        kernel_report()
        return
    busy = start_busy_loop() if args.busy else None
    try:
        table(args)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


def table(args):
    """Time every snippet in fresh processes; print the table."""
    base_env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    rows = []
    # Fill the default cache first, so that "warm" means what a user sees on a second run.
    run(SNIPPETS["import + 3 modes + forward"] + REPORT, base_env)
    for name, code in SNIPPETS.items():
        reports = "_done" in code
        caches = ("warm", "empty") if reports else ("warm",)
        for cache in caches:
            walls, inner = [], []
            for _ in range(args.repeats):
                env = dict(base_env)
                with tempfile.TemporaryDirectory() as empty:
                    if cache == "empty":
                        env["NUMBA_CACHE_DIR"] = empty
                    wall, report = run(code + (REPORT if reports else ""), env)
                walls.append(wall)
                if report:
                    inner.append(report)
            row = dict(case=name, cache=cache, wall=float(np.median(walls)))
            if inner:
                row["import"] = float(np.median([r["import_s"] for r in inner]))
                row["calls"] = float(np.median([r["calls_s"] for r in inner]))
            rows.append(row)

    print(f"median of {args.repeats} fresh processes{' beside a busy core' if args.busy else ''}; "
          f"load average "
          f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    header = f"{'case':<36} {'numba cache':<12} {'wall s':>7} {'import s':>9} {'calls s':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        extra = (f"{row['import']:>9.2f} {row['calls']:>8.2f}" if "import" in row
                 else f"{'':>9} {'':>8}")
        print(f"{row['case']:<36} {row['cache']:<12} {row['wall']:>7.2f} {extra}")


if __name__ == "__main__":
    main()
