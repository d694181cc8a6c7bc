r"""Expected value difference against the number of demonstrations, as in the IRL papers.

A thin use of ``ctrlinf sweep irl-evd`` (``ctrlinf.sweep_tasks.irl_evd``): the cells
(method × demo count × seed × world, plus a scan of the demonstrator's temperature)
run on local worker processes or a Dask cluster, and each finished cell is kept in
``--store``, so an interrupted run resumes where it stopped. Run from the repository
root (needs ``pip install -e ".[sweep]"``)::

    python benchmarks/irl_evd.py                   # 2, 8, 32, 128 demos, 3 seeds
    python benchmarks/irl_evd.py --full            # 1, 2, 4, ..., 128 demos, 5 seeds
    python benchmarks/irl_evd.py --worlds binaryworld --seeds 3 --demos 8 32
    python benchmarks/irl_evd.py --scheduler tcp://10.0.0.5:8786 --full
    python benchmarks/irl_evd.py --speed           # cells per second, 1 vs 2 workers

Set-up (``ctrlinf.sweep_tasks.irl_evd_cell`` on ``ctrlinf.experiments.irl_evd``), after
Levine, Popović & Koltun, *Nonlinear Inverse Reinforcement Learning with Gaussian
Processes* (NIPS 2011), objectworld, and Wulfmeier, Ondruska & Posner, *Maximum
Entropy Deep Inverse Reinforcement Learning* (arXiv:1507.04888), binaryworld:

- 32x32 grid, 5 actions, wind 0.3; objectworld with 2 inner and 2 outer colours and
  the discrete "distance < d" features (K = 128); binaryworld with the 9 neighbourhood
  colours (K = 9).
- Demos: 8 steps each from a uniform start, sampled from the soft-optimal policy of
  the true reward in the 8-step world (temperature 1, or the scanned temperature);
  the sets for fewer demos are prefixes of the larger ones, so the curves share
  their noise.
- Methods: linear MaxEnt IRL (``mode="exact"``), linear maximum causal entropy IRL
  (``mode="soft"``), both with l2 = 0.01; deep MaxEnt IRL (MLP 32-32 ReLU on the
  same features, soft, Adam, weight decay 0.1). The model's ``p0`` is the demos' start
  distribution.
- EVD: in the infinite-horizon world with γ = 0.9, hard-optimal policies, from a
  uniform start (``ci.irl.expected_value_difference``). "transfer" applies the learned
  reward to the features of freshly drawn worlds of the same kind.
- Bands: mean ± t(0.975, n−1) standard errors over seeds (none with one seed).

Figures: ``figures/irl_<world>_evd.png``; tables: ``irl_evd_cells.csv`` and
``irl_evd_summary.csv`` in the store. Nothing is asserted; each worker runs one cell
at a time on one thread (numba and BLAS).
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

from ctrlinf import sweep
from ctrlinf import sweep_tasks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIGURES = os.path.join(ROOT, "figures")
#: The sweep timed by --speed: objectworld 32x32, 3 methods x 2 demo counts x 4 seeds.
SPEED_GRID = dict(worlds=["objectworld"], methods=list(sweep_tasks.METHODS), demos=(8, 32),
                  seeds=4, size=32, transfer=1, temperatures=())


def speed(workers, repeats):
    """Cells per second of SPEED_GRID on a fresh store, per number of local workers."""
    cells = sweep_tasks.irl_evd_grid(**SPEED_GRID)
    print(f"objectworld EVD sweep, {len(cells)} cells; load average {os.getloadavg()}")
    # Warm the numba cache so that no run pays for compilation.
    sweep.run(sweep_tasks.irl_evd_cell, cells[:1], tempfile.mkdtemp(), n_workers=1,
              progress=False)
    rates = {n: [] for n in workers}
    for _ in range(repeats):
        for n in workers:
            with tempfile.TemporaryDirectory() as store:
                start = time.perf_counter()
                sweep.run(sweep_tasks.irl_evd_cell, cells, store, n_workers=n, progress=False)
                rates[n].append(len(cells) / (time.perf_counter() - start))
    print(f"{'workers':>7s} {'median cells/s':>15s}  runs (cluster start included)")
    for n, values in rates.items():
        print(f"{n:7d} {np.median(values):15.2f}  {', '.join(f'{v:.2f}' for v in values)}")
    return rates


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default=os.path.join(ROOT, "runs", "irl_evd"),
                        help="directory of the finished cells (default runs/irl_evd)")
    parser.add_argument("--scheduler", help="a Dask scheduler address (default: local)")
    parser.add_argument("--workers", type=int, help="local worker processes")
    parser.add_argument("--full", action="store_true", help="1..128 demos, 5 seeds")
    parser.add_argument("--worlds", nargs="+", default=["objectworld", "binaryworld"],
                        choices=["objectworld", "binaryworld"])
    parser.add_argument("--methods", nargs="+", default=list(sweep_tasks.METHODS),
                        choices=list(sweep_tasks.METHODS))
    parser.add_argument("--demos", nargs="+", type=int, help="override the demo counts")
    parser.add_argument("--seeds", type=int, help="override the number of seeds")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--speed", action="store_true",
                        help="time the objectworld sweep with 1 and 2 local workers")
    parser.add_argument("--repeats", type=int, default=3, help="--speed repetitions")
    args = parser.parse_args(argv)
    if args.speed:
        speed((1, 2), args.repeats)
        return 0
    settings = dict(sweep_tasks.FULL if args.full else sweep_tasks.QUICK)
    if args.demos:
        settings["demos"] = tuple(args.demos)
    if args.seeds:
        settings["seeds"] = args.seeds
    print(f"load average {os.getloadavg()}; settings {settings}; store {args.store}")
    start = time.perf_counter()
    table, summary = sweep_tasks.irl_evd(args.store, worlds=args.worlds, methods=args.methods,
                                         size=args.size, scheduler=args.scheduler,
                                         n_workers=args.workers, plot=False, **settings)
    print(f"({time.perf_counter() - start:.0f} s)")
    if not args.no_plot:
        for world in args.worlds:
            path = os.path.join(FIGURES, f"irl_{world}_evd.png")
            sweep_tasks.plot_evd(summary, world, cells=table).savefig(path, dpi=110)
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
