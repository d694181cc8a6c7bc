"""``ctrlinf check AGENT --out report.html``: score an agent on :mod:`ctrlinf.bridge.suite`.

Every mistake the user can fix (an agent that does not import, bad seeds, an unwritable
``--out``, an unknown task) raises a ValueError/TypeError/OSError before any training,
which the ``ctrlinf`` command prints as one line with exit status 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from ctrlinf.cli._common import check_writable_file
from ctrlinf.cli._common import positive_int

HELP = "score an RL agent on the exact task suite and write one HTML report card"
DESCRIPTION = """\
Train AGENT on every task of the exact suite (ctrlinf.bridge.suite) for a few seeds,
score it at fixed checkpoints against the exact optimum, and write one self-contained
HTML page: a summary with interquartile means and bootstrap intervals, a performance
profile, learning curves of the exact error, per-state error maps of the worst seed,
every run's numbers, and the suite version. Needs pip install -e ".[suite]".

AGENT is "pkg.module:make_agent", a function make_agent(env, gamma, seed, **options)
returning an object with learn(n_steps, callback) and q_table() and/or policy(), each
an (S, A) array; learn calls callback(step) with the environment steps taken so far,
which scores the learning curve (see ctrlinf.bridge.suite.agents). Built in: ctrlinf.bridge.suite.agents:q_learning,
...:soft_q_learning, ...:sac_discrete, ...:sb3_dqn, ...:sb3_ppo."""
EPILOG = """\
Examples:
  ctrlinf check ctrlinf.bridge.suite.agents:q_learning --out q.html
  ctrlinf check mypkg.agents:make_agent --out card.html --seeds 10 --store runs/card
  ctrlinf check ctrlinf.bridge.suite.agents:soft_q_learning --temperature low --out soft.html
  ctrlinf check mypkg.agents:make_agent --out c.html --scheduler tcp://10.0.0.5:8786
Exit status: 0 when the report is written, also when some runs failed (a run that
raised, or whose final policy takes a forbidden action: the page lists each, and the
count is printed); 2 when an argument is wrong."""


def _temperature(text):
    if text in ("low", "high"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number >= 0, 'low' or 'high', got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _option(text):
    key, equals, value = text.partition("=")
    if not equals or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value      # a bare word is a string


def add_arguments(parser):
    """Add the arguments of ``ctrlinf check`` to ``parser`` (an ArgumentParser)."""
    from ctrlinf.bridge.suite.runner import CHECKPOINTS
    from ctrlinf.bridge.suite.tasks import TASK_NAMES

    parser.add_argument("agent", metavar="AGENT", help='"pkg.module:make_agent"')
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="the HTML report to write (required)")
    parser.add_argument("--seeds", type=positive_int, default=5, metavar="N",
                        help="seeds per task (default: 5)")
    parser.add_argument("--tasks", nargs="+", choices=TASK_NAMES, metavar="TASK",
                        help=f"tasks to run (default: all: {', '.join(TASK_NAMES)})")
    parser.add_argument("--steps", type=positive_int, metavar="N",
                        help="environment steps per run (default: each task's own budget)")
    parser.add_argument("--temperature", type=_temperature, default=0.0, metavar="T",
                        help="score at temperature T >= 0, or each task's 'low' or 'high' "
                             "soft temperature; T > 0 is passed to make_agent (default: 0)")
    parser.add_argument("--checkpoints", type=positive_int, default=CHECKPOINTS,
                        metavar="N", help=f"points per learning curve (default: {CHECKPOINTS})")
    parser.add_argument("--option", type=_option, action="append", default=[],
                        metavar="KEY=VALUE", help="keyword for make_agent, VALUE as JSON "
                        "(repeatable), e.g. --option epsilon=0.2 (default: none)")
    parser.add_argument("--store", metavar="DIR",
                        help="keep finished runs there; a rerun computes only missing ones "
                             "(default: a temporary folder)")
    parser.add_argument("--scheduler", metavar="ADDR",
                        help="a Dask scheduler, e.g. tcp://host:8786 (default: local processes)")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="local worker processes (default: one per core)")
    parser.add_argument("--title", help="heading of the page (default: the agent's name)")
    return parser


def _gap(value):
    """A normalised gap to 4 decimals: an optimal agent's round-off (-1.5e-16) reads 0,
    never as a negative gap, better than optimal."""
    return f"{round(value, 4) + 0.0:.4f}"


def run(args):
    """Run ``ctrlinf check`` with parsed ``args``; return the exit status."""
    from ctrlinf.bridge.suite import aggregates, page, runner
    check_writable_file(args.out, "--out")
    if args.store is not None and os.path.exists(args.store) and not os.path.isdir(args.store):
        raise ValueError(f"--store {args.store}: is a file, expected a folder")
    if args.workers is not None and args.scheduler is not None:
        raise ValueError("--workers applies to local processes only, not with --scheduler")
    options = dict(args.option)
    # `python -m ctrlinf` puts the current folder on sys.path, the installed `ctrlinf`
    # script does not: an agent module beside the user imports either way (the spawned
    # local workers inherit sys.path).
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    runner.load_agent(args.agent)      # an agent that does not import: before any work
    table = runner.run(args.agent, tasks=args.tasks, seeds=args.seeds, steps=args.steps,
                       temperature=args.temperature, store=args.store,
                       scheduler=args.scheduler, agent_options=options or None,
                       checkpoints=args.checkpoints, n_workers=args.workers)
    path = page.report(table, args.out, title=args.title)
    summary = aggregates.summary(table)
    print(f"iqm: interquartile mean over seeds of the {aggregates.METRIC} (0 optimal, 1 the "
          f"uniform policy; lower is better); [iqm_low, iqm_high]: its "
          f"{aggregates.CONFIDENCE:.0%} bootstrap interval")
    print(summary[["task", "runs", "failed", "iqm", "iqm_low", "iqm_high"]]
          .to_string(index=False, float_format=_gap))
    failed = int(table["error"].notna().sum())
    if failed:
        print(f"{failed} of {len(table)} runs failed; the page lists their errors",
              file=sys.stderr)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0
