"""``ctrlinf irl WORLD``: sample demos, fit a reward and score it.

The experiment is :func:`ctrlinf.experiments.irl_evd.run_demo`.
"""
from __future__ import annotations

from ctrlinf.cli._common import UsageError
from ctrlinf.cli._common import check_image_format
from ctrlinf.cli._common import check_writable_file
from ctrlinf.cli._common import positive_int

#: Most demonstrations ``ctrlinf irl`` accepts: far beyond what exact IRL needs.
MAX_DEMOS = 1_000_000

HELP = "recover a reward from demonstrations (MaxEnt / MCE IRL)"
DESCRIPTION = (
    "Sample demonstrations from WORLD's soft-optimal policy, fit a reward by\n"
    "exact IRL, print the expected value difference and the feature gap.")
EPILOG = ("WORLD is objectworld, binaryworld or gridworld.\nExamples:\n"
          "  ctrlinf irl objectworld --demos 32\n"
          "  ctrlinf irl binaryworld --demos 64 --deep --plot reward.png")


def add_arguments(parser):
    parser.add_argument("world", choices=["objectworld", "binaryworld", "gridworld"])
    parser.add_argument("--demos", type=positive_int, default=32, metavar="N",
                        help=f"number of demonstrations, at most {MAX_DEMOS} "
                             "(default: %(default)s)")
    parser.add_argument("--mode", choices=["soft", "exact"], default="soft",
                        help="soft: maximum causal entropy; exact: MaxEnt (Ziebart 2008) "
                             "(default: %(default)s)")
    parser.add_argument("--deep", action="store_true",
                        help="an MLP reward (Wulfmeier 2015) (default: linear)")
    parser.add_argument("--plot", metavar="FILE",
                        help="true vs learned reward picture (default: none)")
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")


def run(args):
    import ctrlinf as ci

    if args.demos > MAX_DEMOS:
        raise UsageError(f"--demos {args.demos} is more than {MAX_DEMOS}")
    if args.plot is not None:
        check_writable_file(args.plot, "--plot")
        check_image_format(args.plot, "--plot")
    rep = ci.experiments.irl_evd.run_demo(
        world=args.world, n_demos=args.demos, mode=args.mode, deep=args.deep, plot=args.plot,
        seed=args.seed, progress=True)
    kind = "deep" if rep["deep"] else "linear"
    print(f"{args.world}: {rep['n_demos']} demos, {kind} {rep['mode']} IRL, "
          f"{rep['n_iter']} iterations in {rep['fit_time']:.2f} s")
    print(f"expected value difference {rep['evd']:.4g} (constant reward: {rep['evd_zero']:.4g}); "
          f"feature gap {rep['feature_gap']:.3g}")
    if args.plot is not None:
        print(f"wrote {args.plot}")
    return 0
