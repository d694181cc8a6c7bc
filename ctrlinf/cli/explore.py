"""``ctrlinf explore WORLD --out page.html``: the interactive page of :mod:`ctrlinf.explore`."""
from __future__ import annotations

from ctrlinf.cli import _worlds
from ctrlinf.cli._common import check_writable_file
from ctrlinf.cli._common import positive_int
from ctrlinf.cli._common import probability
from ctrlinf.cli._common import temperature_list

HELP = "write an interactive HTML page of the messages of a grid world"
DESCRIPTION = (
    "Solve WORLD exactly in exact, soft and hard mode at a range of\n"
    "temperatures τ and write one self-contained HTML page (no network, no\n"
    "server) with sliders for t and the temperature: forward α_t, backward\n"
    "β_t, the posterior p(s_t | O) and the policy.")
EPILOG = ("WORLD is a saved GridMDP (.npz), a text map file, gridworld:ROWSxCOLS "
          "or frozenlake.\nExamples:\n  ctrlinf explore gridworld:6x6 --out page.html\n"
          "  ctrlinf explore maze.txt --out maze.html --slip 0.1 --temperatures 0.1,0.3,1,3")


def add_arguments(parser):
    parser.add_argument("world", help="the world, as for ctrlinf solve")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="the HTML file to write (required)")
    parser.add_argument("--horizon", type=positive_int, default=None, metavar="T",
                        help="decisions T (default: the world's own)")
    parser.add_argument("--slip", type=probability, default=None, metavar="P",
                        help=_worlds.SLIP_HELP)
    parser.add_argument("--temperatures", type=temperature_list, default=None,
                        metavar="TAU,TAU,...", help="temperatures τ > 0 of the slider "
                        "(default: 9 from near-hard to near-uniform)")


def run(args):
    import ctrlinf as ci

    check_writable_file(args.out, "--out")
    mdp = _worlds.load_world(args.world, args.horizon, None, slip=args.slip)
    if not isinstance(mdp, ci.envs.GridMDP):
        # ci.explore.page's own message speaks of its `mdp` argument; say it in WORLDs.
        raise ValueError(f"WORLD {args.world} is a {type(mdp).__name__} without cells; the "
                         f"page draws grid worlds: give a map file, gridworld:ROWSxCOLS, "
                         f"frozenlake or a GridMDP saved by its .save")
    path = ci.explore.page(mdp, args.out, temperatures=args.temperatures, title=args.world)
    temperatures = args.temperatures or ci.explore.default_temperatures(mdp)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB): T = {mdp.horizon}, "
          f"{len(temperatures)} temperatures from {min(temperatures):g} to "
          f"{max(temperatures):g}")
    return 0
