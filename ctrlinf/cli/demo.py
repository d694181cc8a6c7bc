"""``ctrlinf demo``: exact vs soft control on a slippery cliff (:mod:`ctrlinf.demo`)."""
from __future__ import annotations

from ctrlinf.cli._common import check_writable_dir

HELP = "exact vs soft control on a slippery cliff; writes figures"
DESCRIPTION = (
    "Solve a slippery gridworld with a goal and a row of pits in exact, soft\n"
    "and hard mode; print a table and write the message-intersection figure,\n"
    "the exact-vs-soft comparison and the policies (and, with --gif, an\n"
    "animation of the posterior marginals).")
EPILOG = "Example:\n  ctrlinf demo --out /tmp/demo --gif"


def add_arguments(parser):
    parser.add_argument("--out", default="figures/demo", metavar="DIR",
                        help="folder for the figures (default: %(default)s)")
    parser.add_argument("--no-figures", action="store_true",
                        help="print the table only (default: write figures)")
    parser.add_argument("--gif", action="store_true",
                        help="also write marginals.gif, an animation of p(s_t | O) "
                             "(adds several seconds) (default: no)")


def run(args):
    from ctrlinf import demo

    if not args.no_figures:
        check_writable_dir(args.out, "--out")
    demo.run(out=args.out, figures=not args.no_figures, gif=args.gif)
    return 0
