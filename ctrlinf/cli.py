"""The ``ctrlinf`` command: demo, solve, irl, tutorial.

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


def _horizon(text):
    if text.lower() in ("none", "inf", "infinite"):
        return None
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
    return parser


def _load_world(spec, horizon, gamma):
    import os

    from ctrlinf.mdp import TabularMDP

    if spec.endswith(".npz"):
        if not os.path.exists(spec):
            raise UsageError(f"no such file: {spec}")
        mdp = TabularMDP.load(spec)
    else:
        raise UsageError(f"unknown world {spec!r}; expected a .npz file saved by TabularMDP.save")
    changes = {}
    if horizon is not None or gamma is not None:
        changes = dict(horizon=horizon if horizon is not None else mdp.horizon,
                       gamma=gamma if gamma is not None else mdp.gamma)
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
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return {"solve": _run_solve}[args.command](args)
    except (UsageError, ValueError, TypeError) as error:
        print(f"ctrlinf {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
