"""The ``ctrlinf`` command: demo, solve, irl, tutorial, explore.

Errors a user can fix (unknown world, bad numbers) print one line and exit
with status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import sys


class UsageError(Exception):
    """A problem with the command line that the user can fix; exit status 2."""


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


INFINITE = "inf"


def _horizon(text):
    if text.lower() in ("none", "inf", "infinite"):
        return INFINITE  # not None: None means "keep the world's own horizon"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive int or 'inf', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int or 'inf', got {text!r}")
    return value


def _discount(text):
    value = _positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected 0 < gamma <= 1, got {text!r}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="ctrlinf",
        description="Exact reinforcement learning as probabilistic inference on small MDPs.",
        epilog="Examples:\n  ctrlinf demo\n  ctrlinf solve gridworld:8x8 --mode exact\n"
               "  ctrlinf solve my_mdp.npz --mode soft --temperature 0.5 --plot v.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    solve = commands.add_parser(
        "solve", help="solve a world and print V at the start",
        description="Solve WORLD in one mode and print V_0 at the start states.",
        epilog="WORLD is a saved MDP (.npz), a text map file, gridworld:ROWSxCOLS, "
               "or frozenlake.\nExamples:\n  ctrlinf solve gridworld:8x8 --mode exact\n"
               "  ctrlinf solve maze.txt --horizon 30 --plot maze.png",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    solve.add_argument("world")
    solve.add_argument("--mode", choices=["exact", "soft", "hard"], default="soft")
    solve.add_argument("--temperature", type=_positive_float, default=1.0, help="α > 0")
    solve.add_argument("--horizon", type=_horizon, default=None,
                       help="decisions T, or 'inf' (default: the world's own)")
    solve.add_argument("--gamma", type=_discount, default=None,
                       help="discount in (0, 1] (default: the world's own)")
    solve.add_argument("--plot", metavar="FILE", help="write a picture of V_0 to FILE")

    demo = commands.add_parser(
        "demo", help="exact vs soft control on a slippery cliff; writes figures",
        description="Solve a slippery gridworld with a goal and a row of pits in exact, soft "
                    "and hard mode; print a table and write the message-intersection figure, "
                    "the exact-vs-soft comparison, the policies and an animation of the "
                    "posterior marginals.",
        epilog="Example:\n  ctrlinf demo --out /tmp/demo",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--out", default="figures/demo", metavar="DIR",
                      help="directory for the figures (default: figures/demo)")
    demo.add_argument("--no-figures", action="store_true", help="print the table only")

    irl = commands.add_parser(
        "irl", help="recover a reward from demonstrations (MaxEnt / MCE IRL)",
        description="Sample demonstrations from WORLD's soft-optimal policy, fit a reward by "
                    "exact IRL, print the expected value difference and the feature gap.",
        epilog="WORLD is objectworld, binaryworld or gridworld.\nExamples:\n"
               "  ctrlinf irl objectworld --demos 32\n"
               "  ctrlinf irl binaryworld --demos 64 --deep --plot reward.png",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    irl.add_argument("world", choices=["objectworld", "binaryworld", "gridworld"])
    irl.add_argument("--demos", type=_positive_int, default=32, metavar="N",
                     help="number of demonstrations (default 32)")
    irl.add_argument("--mode", choices=["soft", "exact"], default="soft",
                     help="soft: maximum causal entropy; exact: MaxEnt (Ziebart 2008)")
    irl.add_argument("--deep", action="store_true", help="an MLP reward (Wulfmeier 2015)")
    irl.add_argument("--plot", metavar="FILE", help="true vs learned reward picture")
    irl.add_argument("--seed", type=int, default=0)

    tutorial = commands.add_parser(
        "tutorial", help="run tutorial N (see tutorials/README.md)",
        description="Run tutorials/NN_*.py top to bottom; figures go to figures/ "
                    "(or $CTRLINF_FIGURES).",
        epilog="Examples:\n  ctrlinf tutorial 4\n  ctrlinf tutorial --list",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    tutorial.add_argument("number", nargs="?", type=_positive_int)
    tutorial.add_argument("--list", action="store_true", help="list the tutorials")
    _add_explore_parser(commands)
    return parser


def _add_explore_parser(commands):
    explore = commands.add_parser(
        "explore", help="write an interactive HTML page of the messages of a grid world",
        description="Solve WORLD exactly in exact, soft and hard mode at a range of temperatures "
                    "and write one self-contained HTML page (no network, no server) with "
                    "sliders for t and the temperature: forward α_t, backward β_t, the "
                    "posterior p(s_t | O) and the policy.",
        epilog="WORLD is a saved GridMDP (.npz), a text map file, gridworld:ROWSxCOLS "
               "or frozenlake.\nExamples:\n  ctrlinf explore gridworld:6x6 --out page.html\n"
               "  ctrlinf explore maze.txt --out maze.html --temperatures 0.1,0.3,1,3",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    explore.add_argument("world")
    explore.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    explore.add_argument("--horizon", type=_positive_int, default=None,
                         help="decisions T (default: the world's own)")
    explore.add_argument("--temperatures", type=_temperature_list, default=None,
                         metavar="A,B,...", help="temperatures α > 0 of the slider "
                         "(default: 9 from near-hard to near-uniform)")


def _temperature_list(text):
    return [_positive_float(part) for part in text.split(",")]


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}")
    return value


WORLD_HELP = ("expected a saved MDP (.npz), a text map file, gridworld:ROWSxCOLS "
              "(e.g. gridworld:8x8) or frozenlake")


def _gridworld_spec(spec):
    import re

    from ctrlinf import envs

    match = re.fullmatch(r"gridworld:(\d+)x(\d+)", spec)
    if not match:
        raise UsageError(f"unknown world {spec!r}; {WORLD_HELP}")
    rows, cols = int(match.group(1)), int(match.group(2))
    if rows < 1 or cols < 1:
        raise UsageError(f"gridworld needs at least one row and column, got {spec!r}")
    # Start top-left, goal bottom-right: the classic picture of message intersection.
    return envs.gridworld((rows, cols), slip=0.1, start=[(0, 0)], goals=[(rows - 1, cols - 1)],
                          horizon=rows + cols + 4)


def _frozenlake():
    from ctrlinf import envs

    try:
        import gymnasium
    except ImportError:
        raise UsageError("frozenlake needs gymnasium: pip install ctrlinf[gym]") from None
    return envs.from_gymnasium(gymnasium.make("FrozenLake-v1"), horizon=100)


def _load_world(spec, horizon, gamma):
    import os

    from ctrlinf import envs
    from ctrlinf.mdp import TabularMDP

    if spec.endswith(".npz"):
        if not os.path.exists(spec):
            raise UsageError(f"no such file: {spec}")
        mdp = TabularMDP.load(spec)
    elif spec.startswith("gridworld"):
        mdp = _gridworld_spec(spec)
    elif spec.lower() == "frozenlake":
        mdp = _frozenlake()
    elif os.path.isfile(spec):
        with open(spec, encoding="utf-8") as f:
            mdp = envs.gridworld_from_map(f.read())
    else:
        raise UsageError(f"unknown world {spec!r}; {WORLD_HELP}")
    changes = {}
    if horizon is not None:
        changes["horizon"] = None if horizon == INFINITE else horizon
    if gamma is not None:
        changes["gamma"] = gamma
    return mdp.replace(**changes) if changes else mdp


def _run_solve(args):
    import numpy as np

    import ctrlinf as ci

    mdp = _load_world(args.world, args.horizon, args.gamma)
    sol = ci.solve(mdp, mode=args.mode, temperature=args.temperature)
    V0 = sol.V if mdp.horizon is None else sol.V[0]
    start = np.flatnonzero(mdp.p0 > 0)
    print(f"{mdp!r}\nmode={args.mode} temperature={args.temperature:g}")
    print(f"E_p0[V_0] = {mdp.p0 @ V0:.6g}")
    for s in start[:10]:
        print(f"  V_0({s}) = {V0[s]:.6g}")
    if args.mode == "exact":
        print(f"log p(O) = {ci.log_evidence(mdp, sol):.6g}")
    if args.plot:
        _plot_values(mdp, V0, args)
    return 0


def _plot_values(mdp, V0, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import ctrlinf as ci

    ax = ci.plot.heatmap(mdp, V0, title=f"$V_0$ ({args.mode}, α = {args.temperature:g})")
    ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    print(f"wrote {args.plot}")


def _run_demo(args):
    from ctrlinf import demo

    demo.run(out=args.out, figures=not args.no_figures)
    return 0


def _run_irl(args):
    import ctrlinf as ci

    rep = ci.irl.run_demo(world=args.world, n_demos=args.demos, mode=args.mode,
                          deep=args.deep, plot=args.plot, seed=args.seed, progress=True)
    kind = "deep" if rep["deep"] else "linear"
    print(f"{args.world}: {rep['n_demos']} demos, {kind} {rep['mode']} IRL, "
          f"{rep['n_iter']} iterations in {rep['fit_time']:.2f} s")
    print(f"expected value difference {rep['evd']:.4g} (constant reward: {rep['evd_zero']:.4g}); "
          f"feature gap {rep['feature_gap']:.3g}")
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def _tutorials_dir():
    import pathlib

    return pathlib.Path(__file__).resolve().parent.parent / "tutorials"


def _run_tutorial(args):
    import subprocess

    folder = _tutorials_dir()
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


def _run_explore(args):
    import os

    import ctrlinf as ci

    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {args.out}: no such directory {folder}")
    mdp = _load_world(args.world, args.horizon, None)
    try:
        path = ci.explore.page(mdp, args.out, temperatures=args.temperatures, title=args.world)
    except OSError as error:
        raise UsageError(f"cannot write {args.out}: {error.strerror or error}") from None
    alphas = args.temperatures or ci.explore.default_temperatures(mdp)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB): T = {mdp.horizon}, "
          f"{len(alphas)} temperatures from {min(alphas):g} to {max(alphas):g}")
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        handler = {"solve": _run_solve, "demo": _run_demo, "irl": _run_irl,
                   "tutorial": _run_tutorial, "explore": _run_explore}[args.command]
        return handler(args)
    except (UsageError, ValueError, TypeError) as error:
        print(f"ctrlinf {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
