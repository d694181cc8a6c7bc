"""The ``ctrlinf`` command: demo, solve, irl, tutorial, explore, sweep, check.

Every user error (an unknown world, a bad number, an unreadable file, an
unwritable output path, a problem too big for memory) prints one line on
stderr and exits with status 2, never a traceback.

Adding a subcommand: write ``_add_NAME(commands)``, which calls
``commands.add_parser("NAME", ...)`` and adds its arguments, list it in
:data:`SUBCOMMANDS`, and write ``_run_NAME(args)``, which :func:`main` calls. It
returns the exit status and raises :class:`UsageError` (or ValueError, TypeError,
OSError) for anything the user can fix; :func:`main` turns those into the one line.
Check output paths before long work with :func:`check_writable_file` /
:func:`check_writable_dir`, and sizes with :func:`check_memory`.
"""
from __future__ import annotations

import argparse
import os
import sys


class UsageError(Exception):
    """A problem with the command line that the user can fix; exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep the examples in epilogs as written."""


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {text!r}")
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


def _version():
    try:
        from importlib.metadata import version

        return version("ctrlinf")
    except Exception:  # run from a checkout that was never installed
        return "unknown (not installed)"


# -- checks made before any long computation --------------------------------------
def check_writable_file(path, option):
    """Raise UsageError unless ``path`` can be written (a new file is created, then removed)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: cannot write there, it is a directory; expected "
                         "a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: cannot write there, folder {folder} does not exist")
    existed = os.path.exists(path)
    try:
        with open(path, "ab"):
            pass
    except OSError as error:
        raise UsageError(f"{option} {path}: cannot write there ({error.strerror})") from None
    if not existed:
        os.remove(path)


def check_writable_dir(path, option):
    """Create folder ``path`` if needed; raise UsageError unless files can be written in it."""
    import tempfile

    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{option} {path}: is a file, expected a folder")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise UsageError(f"{option} {path}: cannot write there ({error.strerror})") from None


def _check_image_format(path, option):
    """The file name's extension must be a format matplotlib can write."""
    suffix = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if not suffix:
        return
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    formats = FigureCanvasAgg.get_supported_filetypes()
    if suffix not in formats:
        raise UsageError(f"{option} {path}: cannot write .{suffix} pictures; use one of "
                         + ", ".join("." + name for name in sorted(formats)))


#: The CLI refuses a problem whose arrays are estimated to need more than this
#: fraction of the memory the machine has available.
MEMORY_FRACTION = 0.8


def available_memory():
    """Bytes of memory available to a new allocation, or None if the system will not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _bytes_text(n):
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} EB"  # pragma: no cover


def check_memory(estimate, what):
    """Raise UsageError if ``estimate`` bytes exceed MEMORY_FRACTION of the available memory."""
    free = available_memory()
    if free is not None and estimate > MEMORY_FRACTION * free:
        raise UsageError(
            f"{what} needs about {_bytes_text(estimate)} of memory, more than the limit of "
            f"{_bytes_text(MEMORY_FRACTION * free)} ({MEMORY_FRACTION:.0%} of the "
            f"{_bytes_text(free)} available); choose a smaller world or horizon")


def _solve_bytes(n_states, n_actions, horizon):
    """Bytes ``solve`` (keep="all") and the CLI's evaluation allocate beyond the MDP itself.

    Finite horizon: Q and π of shape (T, S, A) and V of shape (T, S), float64,
    plus a few (S, A) work arrays; infinite: about eight (S, A) arrays.
    """
    S, A = n_states, n_actions
    if horizon is None:
        return 8 * 8 * S * A
    return 8 * (2 * horizon * S * A + horizon * S + 8 * S * A)


def _mdp_bytes(mdp):
    P = mdp.P
    return P.data.nbytes + P.indices.nbytes + P.indptr.nbytes + mdp.r.nbytes + mdp.p0.nbytes


# -- worlds ----------------------------------------------------------------------
WORLD_HELP = ("expected a saved MDP (.npz), a text map file, gridworld:ROWSxCOLS "
              "(e.g. gridworld:8x8) or frozenlake")

#: Actions of the CLI's gridworld (four moves and stay).
_GRID_ACTIONS = 5


def _gridworld_spec(spec, horizon=None):
    import re

    from ctrlinf import envs

    match = re.fullmatch(r"gridworld:(\d+)x(\d+)", spec)
    if not match:
        raise UsageError(f"unknown world {spec!r}; {WORLD_HELP}")
    rows, cols = int(match.group(1)), int(match.group(2))
    if rows < 1 or cols < 1:
        raise UsageError(f"gridworld needs at least one row and column, got {spec!r}")
    own_horizon = rows + cols + 4
    T = own_horizon if horizon is None else (None if horizon == INFINITE else horizon)
    S, A = rows * cols, _GRID_ACTIONS
    # Building P passes through (row, column, value) triplets of every slip
    # outcome: up to A entries per (s, a), 24 bytes each, before compression.
    check_memory(24 * S * A * A + _solve_bytes(S, A, T), f"gridworld {rows}x{cols}"
                 + ("" if T is None else f" with horizon {T}"))
    # Start top-left, goal bottom-right: the classic picture of message intersection.
    return envs.gridworld((rows, cols), slip=0.1, start=[(0, 0)], goals=[(rows - 1, cols - 1)],
                          horizon=own_horizon)


def _frozenlake():
    from ctrlinf import envs

    try:
        import gymnasium
    except ImportError:
        raise UsageError('frozenlake needs gymnasium: pip install -e ".[gym]" '
                         "(from the repository root)") from None
    return envs.from_gymnasium(gymnasium.make("FrozenLake-v1"), horizon=100)


def _load_file(path):
    """Load a saved MDP; any failure to read it is a UsageError naming the file."""
    import zipfile

    from ctrlinf.mdp import TabularMDP

    if os.path.isdir(path):
        raise UsageError(f"{path} is a directory, not a saved MDP (.npz)")
    if path.endswith(".npy"):
        raise UsageError(f"{path} is a single numpy array (.npy); ctrlinf solve reads an MDP "
                         "saved by TabularMDP.save (.npz)")
    if not _is_zip(path):
        raise UsageError(f"cannot read {path}: not a .npz file (an MDP saved by "
                         "TabularMDP.save is a zip archive of arrays)")
    try:
        return TabularMDP.load(path)
    except (ValueError, TypeError, OSError, KeyError, EOFError, zipfile.BadZipFile) as error:
        reason = str(error) or type(error).__name__
        if isinstance(error, zipfile.BadZipFile):
            reason = f"not a valid .npz (zip) file: {reason}"
        if path in reason:  # TabularMDP.load names the file (and the key) itself
            raise UsageError(reason) from None
        raise UsageError(f"cannot read {path}: {reason}") from None


def _load_map(path):
    from ctrlinf import envs

    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise UsageError(f"cannot read {path}: not a text map (not UTF-8 text) and not "
                         "a saved MDP (.npz)") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    try:
        return envs.gridworld_from_map(text)
    except (ValueError, TypeError) as error:
        raise UsageError(f"{path} is not a valid map: {error}") from None


def _is_zip(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _read_world(spec, horizon):
    if spec.startswith("gridworld"):
        return _gridworld_spec(spec, horizon)
    if spec.lower() == "frozenlake":
        return _frozenlake()
    if not os.path.exists(spec) and os.path.isfile(spec + ".npz"):
        spec += ".npz"  # TabularMDP.save("x") writes x.npz
    if spec.endswith((".npz", ".npy")) or os.path.isdir(spec):
        if not os.path.exists(spec):
            raise UsageError(f"no such file: {spec}")
        return _load_file(spec)
    if os.path.isfile(spec):
        return _load_file(spec) if _is_zip(spec) else _load_map(spec)
    raise UsageError(f"unknown world {spec!r}; {WORLD_HELP}")


def _load_world(spec, horizon, gamma, mode=None):
    """The world named by ``spec`` with the command line's horizon and gamma applied."""
    mdp = _read_world(spec, horizon)
    T = mdp.horizon if horizon is None else (None if horizon == INFINITE else horizon)
    g = mdp.gamma if gamma is None else gamma
    # Say what to type, in the command line's words, before the library would
    # complain in its own (horizon=None, gamma=...).
    if T is None and g >= 1:
        raise UsageError("--horizon inf needs --gamma < 1 (e.g. --gamma 0.95): an "
                         "undiscounted infinite horizon has no finite value"
                         + ("" if horizon is not None else f"; {spec} has no horizon of its own"))
    if mode == "exact" and T is None:
        raise UsageError("--mode exact needs a finite --horizon (inference in the graphical "
                         "model sums over finite trajectories)")
    if mode == "exact" and g < 1:
        raise UsageError(f"--mode exact needs --gamma 1 (got {g:g}"
                         + ("" if gamma is not None else f", {spec}'s own")
                         + "): a discount is a death state, see TabularMDP.with_death_state")
    check_memory(_mdp_bytes(mdp) + _solve_bytes(mdp.n_states, mdp.n_actions, T),
                 f"{spec} ({mdp.n_states} states, {mdp.n_actions} actions"
                 + (", infinite horizon)" if T is None else f", horizon {T})"))
    changes = {}
    if horizon is not None:
        changes["horizon"] = T
    if gamma is not None:
        changes["gamma"] = gamma
    return mdp.replace(**changes) if changes else mdp


# -- policy evaluation (what the printed numbers mean) -------------------------------
def _policy_rewards(policy, reward):
    """Σ_a π(a|s) r(s, a), with 0 · (−inf) = 0: a forbidden action is never taken."""
    import numpy as np

    return (policy * np.where(policy > 0, reward, 0.0)).sum(axis=-1)


def policy_return(mdp, policy, reward=None, gamma=None, reached=None):
    r"""Expected return of ``policy`` from each state, with no entropy term.

    Finite horizon, backward: ``G_T = 0``, ``G_t(s) = Σ_a π_t(a|s) (r(s, a) + γ Σ_s' P(s'|s,a)
    G_{t+1}(s'))``; infinite horizon: solve ``(I − γ P_π) G = r_π``. States in
    ``reached`` are pinned to 1 at every time (a hitting probability: with ``reward = 0``
    and ``gamma = 1``, ``G_0(s)`` is the probability of being in ``reached`` at some
    ``t ≤ T``).

    Parameters
    ----------
    mdp : TabularMDP
    policy : ndarray, shape (T, S, A), or (S, A) for an infinite horizon
    reward : ndarray, shape (S, A), optional
        Default ``mdp.r``; ``-inf`` marks actions the policy never takes.
    gamma : float, optional
        Default ``mdp.gamma``.
    reached : bool ndarray, shape (S,), optional

    Returns
    -------
    ndarray, shape (S,)
        ``G_0(s)``.
    """
    import numpy as np

    S, A = mdp.n_states, mdp.n_actions
    reward = mdp.r if reward is None else reward
    gamma = mdp.gamma if gamma is None else gamma
    if mdp.horizon is None:
        from ctrlinf.inference import evaluate_policy

        # The core's policy evaluation (one sparse solve), on the reward and γ asked for.
        return evaluate_policy(mdp.replace(r=reward, gamma=gamma), policy)[1]
    G = np.zeros(S) if reached is None else reached.astype(float)
    for t in range(mdp.horizon - 1, -1, -1):
        G = _policy_rewards(policy[t], reward + gamma * (mdp.P @ G).reshape(S, A))
        if reached is not None:
            G[reached] = 1.0
    return G


def _absorbing(mdp, states):
    """True if every action in each of ``states`` stays there with probability one."""
    import numpy as np

    A, P = mdp.n_actions, mdp.P
    rows = (np.asarray(states)[:, None] * A + np.arange(A)).ravel()
    one_entry = np.diff(P.indptr)[rows] == 1
    return bool(one_entry.all() and (P.indices[P.indptr[rows]] == np.repeat(states, A)).all())


def success_probability(mdp, policy, spec):
    """Probability of reaching a goal within the horizon from each state, or None.

    Defined for a finite horizon and either a grid whose goals are absorbing (being
    in a goal at some ``t ≤ T``) or FrozenLake (which pays 1 exactly when the agent
    steps onto the goal and 0 otherwise, so it is the undiscounted expected return).
    """
    import numpy as np

    if mdp.horizon is None:
        return None
    if spec.lower() == "frozenlake":
        return policy_return(mdp, policy, gamma=1.0)
    goals = getattr(mdp, "goals", None)
    if goals is None or not goals.any():
        return None
    states = np.flatnonzero(goals.ravel()[: mdp.n_states])
    if not _absorbing(mdp, states):
        return None
    reached = np.zeros(mdp.n_states, dtype=bool)
    reached[states] = True
    return policy_return(mdp, policy, reward=np.zeros_like(mdp.r), gamma=1.0, reached=reached)


# -- solve -----------------------------------------------------------------------
#: What V_0 is in each mode, as printed.
VALUE_MEANING = {
    "soft": "soft value: expected return + α × the policy's entropy (nats), summed over steps",
    "exact": "α log β_0: α × log-probability of optimality from the start (counting "
             "measure over actions); optimistic, as if the agent chose its luck",
    "hard": "optimal expected return (classic dynamic programming)",
}

#: How many start states ``solve`` lists before "...and N more".
SHOW_STARTS = 10


def _add_solve(commands):
    solve = commands.add_parser(
        "solve", help="solve a world and print its values at the start",
        description="Solve WORLD in one mode; print the value V_0 at the start states, the\n"
                    "expected return of the resulting policy (no entropy term) and, where\n"
                    "the world has a goal, the probability of reaching it.",
        epilog="WORLD is a saved MDP (.npz, written by TabularMDP.save), a text map file\n"
               "(S start, G goal, X pit, # wall, . open), gridworld:ROWSxCOLS (start top\n"
               "left, goal bottom right, slip 0.1, horizon ROWS+COLS+4) or frozenlake\n"
               "(gymnasium's FrozenLake-v1, horizon 100).\nExamples:\n"
               "  ctrlinf solve gridworld:8x8 --mode exact\n"
               "  ctrlinf solve maze.txt --horizon 30 --plot maze.png",
        formatter_class=_Formatter)
    solve.add_argument("world", help="the world to solve, see below")
    solve.add_argument("--mode", choices=["exact", "soft", "hard"], default="soft",
                       help="exact: inference (optimistic); soft: MaxEnt RL; hard: classic "
                            "DP (default: %(default)s)")
    solve.add_argument("--temperature", type=_positive_float, default=1.0, metavar="ALPHA",
                       help="α > 0, weight of the entropy; ignored by hard "
                            "(default: %(default)s)")
    solve.add_argument("--horizon", type=_horizon, default=None, metavar="T",
                       help="number of decisions, or 'inf' (needs --gamma < 1) "
                            "(default: the world's own)")
    solve.add_argument("--gamma", type=_discount, default=None,
                       help="discount in (0, 1] (default: the world's own, 1 for the "
                            "built-in worlds)")
    solve.add_argument("--plot", metavar="FILE",
                       help="write a picture of V_0 to FILE, e.g. v.png (default: none)")


def _run_solve(args):
    import numpy as np

    import ctrlinf as ci

    if args.plot:
        check_writable_file(args.plot, "--plot")
        _check_image_format(args.plot, "--plot")
    mdp = _load_world(args.world, args.horizon, args.gamma, args.mode)
    sol = ci.solve(mdp, mode=args.mode, temperature=args.temperature)
    policy = sol.policy
    V0 = sol.V if mdp.horizon is None else sol.V[0]
    G0 = policy_return(mdp, policy)
    success = success_probability(mdp, policy, args.world)
    temperature = "" if args.mode == "hard" else f" temperature α = {args.temperature:g}"
    print(f"{mdp!r}\nmode = {args.mode}{temperature}")
    width = 24
    print(f"{'E_p0[V_0]':<{width}}= {mdp.p0 @ V0:<12.6g}  {VALUE_MEANING[args.mode]}")
    print(f"{'expected return':<{width}}= {mdp.p0 @ G0:<12.6g}  of this policy in the true "
          "dynamics: E[Σ_t γ^t r(s_t, a_t)], no entropy term")
    if success is not None:
        print(f"{'P(reach goal)':<{width}}= {mdp.p0 @ success:<12.6g}  probability this "
              f"policy reaches a goal within {mdp.horizon} steps")
    if args.mode == "exact":
        print(f"{'log p(O)':<{width}}= {ci.log_evidence(mdp, sol):<12.6g}  log evidence "
              "log Σ_s p0(s) exp(V_0(s)/α)")
    start = np.flatnonzero(mdp.p0 > 0)
    print(f"start states ({start.size}):")
    for s in start[:SHOW_STARTS]:
        line = f"  V_0({s}) = {V0[s]:.6g}   expected return {G0[s]:.6g}"
        if success is not None:
            line += f"   P(reach goal) {success[s]:.4g}"
        print(line)
    if start.size > SHOW_STARTS:
        print(f"  ...and {start.size - SHOW_STARTS} more")
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


# -- demo ------------------------------------------------------------------------
def _add_demo(commands):
    demo = commands.add_parser(
        "demo", help="exact vs soft control on a slippery cliff; writes figures",
        description="Solve a slippery gridworld with a goal and a row of pits in exact, soft\n"
                    "and hard mode; print a table and write the message-intersection figure,\n"
                    "the exact-vs-soft comparison and the policies (and, with --gif, an\n"
                    "animation of the posterior marginals).",
        epilog="Example:\n  ctrlinf demo --out /tmp/demo --gif",
        formatter_class=_Formatter)
    demo.add_argument("--out", default="figures/demo", metavar="DIR",
                      help="folder for the figures (default: %(default)s)")
    demo.add_argument("--no-figures", action="store_true",
                      help="print the table only (default: write figures)")
    demo.add_argument("--gif", action="store_true",
                      help="also write marginals.gif, an animation of p(s_t | O) "
                           "(adds several seconds; default: no)")


def _run_demo(args):
    from ctrlinf import demo

    if not args.no_figures:
        check_writable_dir(args.out, "--out")
    demo.run(out=args.out, figures=not args.no_figures, gif=args.gif)
    return 0


# -- irl -------------------------------------------------------------------------
#: Most demonstrations ``ctrlinf irl`` accepts: far beyond what exact IRL needs.
MAX_DEMOS = 1_000_000


def _add_irl(commands):
    irl = commands.add_parser(
        "irl", help="recover a reward from demonstrations (MaxEnt / MCE IRL)",
        description="Sample demonstrations from WORLD's soft-optimal policy, fit a reward by\n"
                    "exact IRL, print the expected value difference and the feature gap.",
        epilog="WORLD is objectworld, binaryworld or gridworld.\nExamples:\n"
               "  ctrlinf irl objectworld --demos 32\n"
               "  ctrlinf irl binaryworld --demos 64 --deep --plot reward.png",
        formatter_class=_Formatter)
    irl.add_argument("world", choices=["objectworld", "binaryworld", "gridworld"])
    irl.add_argument("--demos", type=_positive_int, default=32, metavar="N",
                     help=f"number of demonstrations, at most {MAX_DEMOS} "
                          "(default: %(default)s)")
    irl.add_argument("--mode", choices=["soft", "exact"], default="soft",
                     help="soft: maximum causal entropy; exact: MaxEnt (Ziebart 2008) "
                          "(default: %(default)s)")
    irl.add_argument("--deep", action="store_true",
                     help="an MLP reward (Wulfmeier 2015) (default: linear)")
    irl.add_argument("--plot", metavar="FILE",
                     help="true vs learned reward picture (default: none)")
    irl.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")


def _run_irl(args):
    import ctrlinf as ci

    if args.demos > MAX_DEMOS:
        raise UsageError(f"--demos {args.demos} is more than {MAX_DEMOS}")
    if args.plot:
        check_writable_file(args.plot, "--plot")
        _check_image_format(args.plot, "--plot")
    rep = ci.experiments.irl_evd.run_demo(
        world=args.world, n_demos=args.demos, mode=args.mode, deep=args.deep, plot=args.plot,
        seed=args.seed, progress=True)
    kind = "deep" if rep["deep"] else "linear"
    print(f"{args.world}: {rep['n_demos']} demos, {kind} {rep['mode']} IRL, "
          f"{rep['n_iter']} iterations in {rep['fit_time']:.2f} s")
    print(f"expected value difference {rep['evd']:.4g} (constant reward: {rep['evd_zero']:.4g}); "
          f"feature gap {rep['feature_gap']:.3g}")
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


# -- tutorial --------------------------------------------------------------------
def _add_tutorial(commands):
    tutorial = commands.add_parser(
        "tutorial", help="run tutorial N (see tutorials/README.md)",
        description="Run tutorials/NN_*.py top to bottom; figures go to figures/tutorials/ "
                    "(or $CTRLINF_FIGURES).",
        epilog="Examples:\n  ctrlinf tutorial 4\n  ctrlinf tutorial --list",
        formatter_class=_Formatter)
    tutorial.add_argument("number", nargs="?", type=_positive_int,
                          help="which tutorial (default: list them)")
    tutorial.add_argument("--list", action="store_true", help="list the tutorials")


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


# -- explore -----------------------------------------------------------------------
def _temperature_list(text):
    return [_positive_float(part) for part in text.split(",")]


def _add_explore(commands):
    explore = commands.add_parser(
        "explore", help="write an interactive HTML page of the messages of a grid world",
        description="Solve WORLD exactly in exact, soft and hard mode at a range of\n"
                    "temperatures and write one self-contained HTML page (no network, no\n"
                    "server) with sliders for t and the temperature: forward α_t, backward\n"
                    "β_t, the posterior p(s_t | O) and the policy.",
        epilog="WORLD is a saved GridMDP (.npz), a text map file, gridworld:ROWSxCOLS "
               "or frozenlake.\nExamples:\n  ctrlinf explore gridworld:6x6 --out page.html\n"
               "  ctrlinf explore maze.txt --out maze.html --temperatures 0.1,0.3,1,3",
        formatter_class=_Formatter)
    explore.add_argument("world", help="the world, as for ctrlinf solve")
    explore.add_argument("--out", required=True, metavar="FILE",
                         help="the HTML file to write (required)")
    explore.add_argument("--horizon", type=_positive_int, default=None, metavar="T",
                         help="decisions T (default: the world's own)")
    explore.add_argument("--temperatures", type=_temperature_list, default=None,
                         metavar="A,B,...", help="temperatures α > 0 of the slider "
                         "(default: 9 from near-hard to near-uniform)")


def _run_explore(args):
    import ctrlinf as ci

    check_writable_file(args.out, "--out")
    mdp = _load_world(args.world, args.horizon, None)
    path = ci.explore.page(mdp, args.out, temperatures=args.temperatures, title=args.world)
    alphas = args.temperatures or ci.explore.default_temperatures(mdp)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB): T = {mdp.horizon}, "
          f"{len(alphas)} temperatures from {min(alphas):g} to {max(alphas):g}")
    return 0


# -- sweep -------------------------------------------------------------------------
def _add_sweep(commands):
    sweep = commands.add_parser(
        "sweep", help="parameter sweeps on local processes or a Dask cluster",
        description="irl-evd: expected value difference of IRL methods against the number of\n"
                    "demonstrations and the demonstrator's temperature, with 95% bands over\n"
                    "seeds. Every finished cell is kept in --store; a rerun computes only the\n"
                    "missing ones. Needs pip install -e \".[sweep]\".",
        epilog="Examples:\n  ctrlinf sweep irl-evd --store runs/evd --workers 2\n"
               "  ctrlinf sweep irl-evd --store runs/evd --scheduler tcp://10.0.0.5:8786 --full\n"
               "  ctrlinf sweep irl-evd --store /tmp/s --worlds gridworld --size 5 --seeds 2",
        formatter_class=_Formatter)
    sweep.add_argument("experiment", choices=["irl-evd"], help="which sweep")
    sweep.add_argument("--store", required=True, metavar="DIR",
                       help="folder of the finished cells (required)")
    sweep.add_argument("--scheduler", metavar="ADDR",
                       help="a Dask scheduler, e.g. tcp://host:8786 (default: local processes)")
    sweep.add_argument("--workers", type=_positive_int, metavar="N",
                       help="local worker processes (default: one per core)")
    sweep.add_argument("--full", action="store_true",
                       help="1..128 demos, 5 seeds, 5 temperatures (default: 2..128, 3, 3)")
    sweep.add_argument("--worlds", nargs="+", default=["objectworld", "binaryworld"],
                       choices=["objectworld", "binaryworld", "gridworld"])
    sweep.add_argument("--methods", nargs="+", default=["exact", "soft", "deep"],
                       choices=["exact", "soft", "deep"])
    sweep.add_argument("--demos", nargs="+", type=_positive_int, metavar="N",
                       help="demo counts of the curves")
    sweep.add_argument("--seeds", type=_positive_int, metavar="N", help="seeds per point")
    sweep.add_argument("--size", type=_positive_int, default=32, help="grid side (default 32)")
    sweep.add_argument("--transfer", type=_positive_int, metavar="N",
                       help="transfer worlds per seed")
    sweep.add_argument("--temperatures", nargs="+", type=_positive_float, metavar="T",
                       help="demonstrator temperatures of the scan")
    sweep.add_argument("--out", metavar="DIR", help="tables and figures (default: --store)")
    sweep.add_argument("--no-plot", action="store_true", help="tables only")


def _run_sweep(args):
    from ctrlinf import sweep_tasks

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
    failed = int(table["error"].notna().sum())
    if failed:
        print(f"{failed} of {len(table)} cells failed; rerun to retry them", file=sys.stderr)
    return 1 if failed else 0


# -- check -------------------------------------------------------------------------
def _add_check(commands):
    from ctrlinf.bridge.suite import cli as suite_cli

    suite_cli.add_arguments(commands.add_parser("check", help=suite_cli.HELP))


def _run_check(args):
    from ctrlinf.bridge.suite import cli as suite_cli

    return suite_cli.run(args)


# -- the command -----------------------------------------------------------------
#: Each adds one subparser; ``_run_NAME`` runs it (see the module docstring).
SUBCOMMANDS = [_add_demo, _add_solve, _add_irl, _add_tutorial, _add_explore, _add_sweep,
               _add_check]


def build_parser():
    parser = _Parser(
        prog="ctrlinf",
        description="Exact reinforcement learning as probabilistic inference on small MDPs.",
        epilog="Examples:\n  ctrlinf demo\n  ctrlinf solve gridworld:8x8 --mode exact\n"
               "  ctrlinf solve my_mdp.npz --mode soft --temperature 0.5 --plot v.png\n"
               "ctrlinf COMMAND --help describes each command.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"ctrlinf {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(commands)
    return parser


def _one_line(error):
    text = " ".join(str(error).split())
    return text or type(error).__name__


def main(argv=None):
    """Run ``ctrlinf`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error already printed
        return exit_.code
    if args.command is None:
        parser.print_help()
        return 0
    run = globals()[f"_run_{args.command}"]  # see "Adding a subcommand" above
    try:
        return run(args)
    except BrokenPipeError:
        # The reader went away (e.g. `ctrlinf solve ... | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (UsageError, ValueError, TypeError, OSError) as error:
        # Errors from what the user typed or pointed at; a bug elsewhere would
        # raise something else and keep its traceback.
        print(f"ctrlinf {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"ctrlinf {args.command}: error: out of memory; choose a smaller world or "
              "horizon", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ctrlinf {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
