"""``ctrlinf sweep irl-evd``: the IRL EVD curves on local processes or a Dask cluster.

The sweep itself is :func:`ctrlinf.sweep_tasks.irl_evd` over :func:`ctrlinf.sweep.run`.
"""
from __future__ import annotations

import sys

from ctrlinf.cli._common import UsageError
from ctrlinf.cli._common import check_writable_dir
from ctrlinf.cli._common import positive_float
from ctrlinf.cli._common import positive_int
from ctrlinf.sweep_tasks import FULL
from ctrlinf.sweep_tasks import QUICK

DEFAULT_SIZE = 32

HELP = "parameter sweeps on local processes or a Dask cluster"
DESCRIPTION = (
    "irl-evd: expected value difference of IRL methods against the number of\n"
    "demonstrations and the demonstrator's temperature, the mean over seeds with\n"
    "95% bootstrap intervals (each seed's value instead under 5 seeds). Every\n"
    "finished cell is kept in --store; a rerun computes only the missing ones.\n"
    "Needs pip install -e \".[sweep]\".")
EPILOG = ("Examples:\n  ctrlinf sweep irl-evd --store runs/evd --workers 2\n"
          "  ctrlinf sweep irl-evd --store runs/evd --scheduler tcp://10.0.0.5:8786 --full\n"
          "  ctrlinf sweep irl-evd --store /tmp/s --worlds gridworld --size 5 --seeds 5")


def _values(values):
    return " ".join(f"{v:g}" for v in values)


def _settings(settings):
    return (f"{_values(settings['demos'])} demos, {settings['seeds']} seeds, "
            f"{settings['transfer']} transfer worlds, temperatures "
            f"{_values(settings['temperatures'])}")


def add_arguments(parser):
    parser.add_argument("experiment", choices=["irl-evd"], help="which sweep")
    parser.add_argument("--store", required=True, metavar="DIR",
                        help="folder of the finished cells (required)")
    parser.add_argument("--scheduler", metavar="ADDR",
                        help="a Dask scheduler, e.g. tcp://host:8786 (default: local "
                             "processes)")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="local worker processes (default: one per core)")
    parser.add_argument("--full", action="store_true",
                        help=f"{_settings(FULL)} (default: no: {_settings(QUICK)})")
    worlds, methods = ["objectworld", "binaryworld"], ["exact", "soft", "deep"]
    parser.add_argument("--worlds", nargs="+", default=worlds,
                        choices=["objectworld", "binaryworld", "gridworld"],
                        help=f"benchmark worlds (default: {' '.join(worlds)})")
    parser.add_argument("--methods", nargs="+", default=methods, choices=methods,
                        help=f"IRL methods (default: {' '.join(methods)})")
    parser.add_argument("--demos", nargs="+", type=positive_int, metavar="N",
                        help=f"demo counts of the curves (default: {_values(QUICK['demos'])}; "
                             f"with --full {_values(FULL['demos'])})")
    parser.add_argument("--seeds", type=positive_int, metavar="N",
                        help=f"seeds per point; under 5 there is no interval, each seed's "
                             f"value is shown (default: {QUICK['seeds']}; with --full "
                             f"{FULL['seeds']})")
    parser.add_argument("--size", type=positive_int, default=DEFAULT_SIZE, metavar="N",
                        help="grid side, at least 2 (default: %(default)s)")
    parser.add_argument("--transfer", type=positive_int, metavar="N",
                        help=f"transfer worlds per seed (default: {QUICK['transfer']}; "
                             f"with --full {FULL['transfer']})")
    parser.add_argument("--temperatures", nargs="+", type=positive_float, metavar="TAU",
                        help="demonstrator temperatures τ of the scan (default: "
                             f"{_values(QUICK['temperatures'])}; with --full "
                             f"{_values(FULL['temperatures'])})")
    parser.add_argument("--out", metavar="DIR",
                        help="tables and figures (default: --store)")
    parser.add_argument("--no-plot", action="store_true",
                        help="tables only (default: tables and figures)")


def run(args):
    from ctrlinf import sweep_tasks
    from ctrlinf.experiments import irl_evd

    for world in args.worlds:
        try:
            irl_evd.check_size(world, args.size)
        except ValueError as error:
            raise UsageError(f"--size {args.size}: {error}") from None
    check_writable_dir(args.store, "--store")
    if args.out is not None:
        check_writable_dir(args.out, "--out")
    settings = dict(sweep_tasks.FULL if args.full else sweep_tasks.QUICK)
    for name in ("demos", "seeds", "transfer", "temperatures"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    table, _ = sweep_tasks.irl_evd(
        args.store, worlds=args.worlds, methods=args.methods, size=args.size,
        scheduler=args.scheduler, n_workers=args.workers, out=args.out,
        plot=not args.no_plot, **settings)
    if settings["seeds"] < sweep_tasks.MIN_SEEDS_FOR_INTERVAL:
        print(f"ctrlinf sweep: warning: {settings['seeds']} seeds per point are too few for "
              f"an interval (at least {sweep_tasks.MIN_SEEDS_FOR_INTERVAL}); the tables give "
              "the mean and the figures each seed's value", file=sys.stderr)
    failed = int(table["error"].notna().sum())
    if failed:
        print(f"{failed} of {len(table)} cells failed; rerun to retry them", file=sys.stderr)
    return 1 if failed else 0
