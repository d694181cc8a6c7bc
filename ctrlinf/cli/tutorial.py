"""``ctrlinf tutorial N``: run ``tutorials/NN_*.py`` of the source checkout."""
from __future__ import annotations

import sys

from ctrlinf.cli._common import UsageError
from ctrlinf.cli._common import positive_int

#: Where the tutorials write their figures, under the current directory, when
#: ``$CTRLINF_FIGURES`` is unset (tutorials/_common.py's DEFAULT_FIGURES).
FIGURES = "ctrlinf-figures"

HELP = "run tutorial N (see tutorials/README.md)"
DESCRIPTION = (
    f"Run tutorials/NN_*.py top to bottom; figures go to ./{FIGURES}/tutorials/\n"
    "under the current directory (or $CTRLINF_FIGURES/tutorials/ when set).")
EPILOG = "Examples:\n  ctrlinf tutorial 4\n  ctrlinf tutorial --list"


def add_arguments(parser):
    parser.add_argument("number", nargs="?", type=positive_int,
                        help="which tutorial (default: list them)")
    parser.add_argument("--list", action="store_true",
                        help="list the tutorials instead of running one, as when N is "
                             "left out (default: off)")


def tutorials_dir():
    import pathlib

    return pathlib.Path(__file__).resolve().parents[2] / "tutorials"


def run(args):
    import subprocess

    folder = tutorials_dir()
    scripts = sorted(folder.glob("[0-9][0-9]_*.py")) if folder.is_dir() else []
    if not scripts:
        raise UsageError(f"no tutorials found in {folder} (they ship with the source checkout)")
    if args.list or args.number is None:
        for path in scripts:
            print(path.name)
        return 0
    matches = [p for p in scripts if int(p.name[:2]) == args.number]
    if not matches:
        raise UsageError(f"no tutorial {args.number}; there are {len(scripts)} "
                         f"(ctrlinf tutorial --list)")
    # A subprocess, as `python tutorials/NN_*.py` would run it: the scripts import
    # their shared helpers from their own folder.
    return subprocess.run([sys.executable, str(matches[0])], check=False).returncode
