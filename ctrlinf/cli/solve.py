"""``ctrlinf solve WORLD``: the mode's value at the start, the policy's return, the goal.

Every number printed comes from the core: ``V_0`` from :func:`ctrlinf.solve`, the
expected return (no entropy term) from :func:`ctrlinf.evaluate_policy`, the log
evidence from :func:`ctrlinf.log_evidence`, and the goal probability from
:func:`ctrlinf.evaluate_policy` of an indicator reward (see :func:`goal_probability`).
"""
from __future__ import annotations

from ctrlinf.cli import _worlds
from ctrlinf.cli._common import check_image_format
from ctrlinf.cli._common import check_writable_file
from ctrlinf.cli._common import discount
from ctrlinf.cli._common import horizon
from ctrlinf.cli._common import positive_float
from ctrlinf.cli._common import probability

HELP = "solve a world and print its values at the start"
DESCRIPTION = (
    "Solve WORLD in one mode; print the value V_0 at the start states, the\n"
    "expected return of the resulting policy (no entropy term) and, where\n"
    "the world has a goal, the probability of reaching it. When a temperature\n"
    "near 0 reaches the goal far more often, the temperature swamps the\n"
    "rewards and solve prints a hint with a lower --temperature to try; when no\n"
    "policy can reach a goal, it says whether the horizon is too short or the\n"
    "goal is cut off.")
EPILOG = (
    "WORLD is a saved MDP (.npz, written by TabularMDP.save), a text map file\n"
    "(S start, G goal, X pit, # wall, . open; slip 0 unless --slip, horizon 20 unless\n"
    "--horizon), gridworld:ROWSxCOLS\n"
    "(start top left, goal bottom right, slip 0.1 unless --slip, horizon ROWS+COLS+4)\n"
    "or frozenlake (gymnasium's FrozenLake-v1, horizon 100).\n"
    "The temperature τ weighs the rewards against the policy's entropy. A map pays\n"
    "-0.01 per step and +1 per step in the goal, little against τ = 1: on an open\n"
    "4x10 map (goal 12 moves away) the exact policy at τ = 1 reaches the goal with\n"
    "probability 0.017, at τ = 0.2 with 1.000; solve prints a hint in such cases.\n"
    "Examples:\n"
    "  ctrlinf solve gridworld:8x8 --mode exact\n"
    "  ctrlinf solve maze.txt --horizon 30 --slip 0.1 --temperature 0.2 --plot maze.png")

#: What V_0 is in each mode, as printed.
VALUE_MEANING = {
    "soft": "soft value: expected return + τ × the policy's entropy (nats), summed over steps",
    "exact": "τ log β_0: τ × log-probability of optimality from the start (counting "
             "measure over actions); optimistic, as if the agent chose its luck",
    "hard": "optimal expected return (classic dynamic programming)",
}

#: How many start states ``solve`` lists before "...and N more".
SHOW_STARTS = 10

#: The hint fires when the same mode near temperature 0 reaches a goal with a
#: probability at least this much higher than at the temperature asked for.
HINT_GAIN = 0.1


def add_arguments(parser):
    parser.add_argument("world", help="the world to solve, see below")
    parser.add_argument("--mode", choices=["exact", "soft", "hard"], default="soft",
                        help="exact: inference (optimistic); soft: MaxEnt RL; hard: classic "
                             "DP (default: %(default)s)")
    parser.add_argument("--temperature", type=positive_float, default=1.0, metavar="TAU",
                        help="temperature τ > 0: p(O | s, a) = exp(r/τ), the weight of the "
                             "entropy; large against the rewards' differences, it swamps "
                             "them (solve then prints a hint); ignored by hard "
                             "(default: %(default)s)")
    parser.add_argument("--horizon", type=horizon, default=None, metavar="T",
                        help="number of decisions, or 'inf' (needs --gamma < 1) "
                             "(default: the world's own)")
    parser.add_argument("--gamma", type=discount, default=None,
                        help="discount in (0, 1] (default: the world's own, 1 for the "
                             "built-in worlds)")
    parser.add_argument("--slip", type=probability, default=None, metavar="P",
                        help=_worlds.SLIP_HELP)
    parser.add_argument("--plot", metavar="FILE",
                        help="write a picture of V_0 to FILE, e.g. v.png (default: none)")


def run(args):
    import numpy as np

    import ctrlinf as ci

    if args.plot is not None:
        check_writable_file(args.plot, "--plot")
        check_image_format(args.plot, "--plot")
    mdp = _worlds.load_world(args.world, args.horizon, args.gamma, args.mode, args.slip)
    sol = ci.solve(mdp, mode=args.mode, temperature=args.temperature)
    V0 = sol.V if mdp.horizon is None else sol.V[0]
    G0 = expected_return(mdp, sol.policy)
    success = goal_probability(mdp, sol.policy, args.world)
    temperature = "" if args.mode == "hard" else f", temperature τ = {args.temperature:g}"
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
              "log Σ_s p0(s) exp(V_0(s)/τ)")
    start = np.flatnonzero(mdp.p0 > 0)
    print(f"start states ({start.size}):")
    for s in start[:SHOW_STARTS]:
        line = f"  V_0({s}) = {V0[s]:.6g}   expected return {G0[s]:.6g}"
        if success is not None:
            line += f"   P(reach goal) {success[s]:.4g}"
        print(line)
    if start.size > SHOW_STARTS:
        print(f"  ...and {start.size - SHOW_STARTS} more")
    reached = None if success is None else float(mdp.p0 @ success)
    # Only when this policy never reaches a goal can no policy reach one.
    unreachable = unreachable_hint(mdp, args.world) if reached == 0.0 else None
    if unreachable is not None:
        print(unreachable)
    elif reached is not None and args.mode != "hard":
        hint = temperature_hint(mdp, args.mode, args.temperature, args.world, reached)
        if hint is not None:
            print(hint)
    if args.plot is not None:
        _plot_values(mdp, V0, args)
    return 0


def expected_return(mdp, policy):
    """``V^π`` with no entropy term from each state, shape (S,).

    The core's :func:`ctrlinf.evaluate_policy` at temperature 0.
    """
    import ctrlinf as ci

    V = ci.evaluate_policy(mdp, policy)[1]
    return V if mdp.horizon is None else V[0]


def goal_probability(mdp, policy, spec):
    r"""Probability that ``policy`` is in a goal at some ``t ≤ T``, from each state; or None.

    Defined for a finite horizon and either a grid whose goals ``G`` are absorbing
    (:func:`ctrlinf.inference.dead_states` of the world without rewards) or FrozenLake,
    which pays 1 exactly when the agent steps onto the goal and 0 otherwise, so its
    undiscounted expected return is the probability. For absorbing goals an agent
    enters ``G`` at most once, so the probability is ``[s ∈ G]`` plus the expected
    number of entries, the undiscounted return of the reward
    ``r_G(s, a) = [s ∉ G] P(G | s, a)``: :func:`ctrlinf.evaluate_policy` of it.

    Returns
    -------
    ndarray, shape (S,), or None
    """
    import ctrlinf as ci

    return _goal_values(mdp, spec, lambda reaching: ci.evaluate_policy(reaching, policy)[1][0])


def best_goal_probability(mdp, spec):
    """The highest probability that any policy reaches a goal, from each state; or None.

    As :func:`goal_probability`, maximised over policies: the hard solution
    (:func:`ctrlinf.solve`) of the same indicator reward.

    Returns
    -------
    ndarray, shape (S,), or None
    """
    import ctrlinf as ci

    return _goal_values(mdp, spec,
                        lambda reaching: ci.solve(reaching, mode="hard", progress=False).V[0])


def _goal_values(mdp, spec, value_at_start):
    """1 in a goal, elsewhere ``value_at_start`` of the goal-indicator MDP; or None.

    ``value_at_start(reaching)`` returns the ``(S,)`` values at ``t = 0`` of the MDP
    :func:`_reaching` builds.
    """
    import numpy as np

    found = _reaching(mdp, spec)
    if found is None:
        return None
    reaching, in_goal = found
    return np.where(in_goal, 1.0, value_at_start(reaching))


def _reaching(mdp, spec):
    """``(MDP whose undiscounted return is the goal probability, in_goal mask)``, or None.

    See :func:`goal_probability`: FrozenLake's own reward, or on a grid with absorbing
    goals the reward ``[s ∉ G] P(G | s, a)``, with ``γ = 1``; ``in_goal`` is empty for
    FrozenLake.
    """
    import numpy as np

    from ctrlinf.inference import dead_states

    if mdp.horizon is None:
        return None
    S, A = mdp.n_states, mdp.n_actions
    in_goal = np.zeros(S, dtype=bool)
    if spec.lower() == "frozenlake":
        return mdp.replace(gamma=1.0), in_goal
    goals = getattr(mdp, "goals", None)
    if goals is None or not goals.any():
        return None
    in_goal[np.flatnonzero(goals.ravel())] = True
    # Forbidden actions (r = -inf) stay forbidden in the indicator MDPs below: a goal only a
    # forbidden move leads to is not reached by any policy.
    forbidden = np.isneginf(mdp.r)
    if not dead_states(mdp.replace(r=np.where(forbidden, -np.inf, 0.0)))[in_goal].all():
        return None  # a goal the agent can leave: "reached" would need a first-passage count
    entering = (mdp.P @ in_goal.astype(float)).reshape(S, A) * ~in_goal[:, None]
    return mdp.replace(r=np.where(forbidden, -np.inf, entering), gamma=1.0), in_goal


#: Up to this many states, the unreachable-goal hint names the horizon a goal needs (the
#: search keeps a (moves, S) table of reachable states).
NAME_HORIZON_UP_TO = 4096


def unreachable_hint(mdp, spec):
    """The line ``solve`` prints when no policy can reach a goal from the start, or None.

    None when some policy reaches a goal with positive probability
    (:func:`best_goal_probability`). Otherwise the goal is either cut off (walls, pits
    or forbidden moves: no state of a goal is in :func:`ctrlinf.mdp.reachable_states`
    of the infinite-horizon world) or further than the horizon; then, on worlds of up to
    :data:`NAME_HORIZON_UP_TO` states, the hint names the fewest moves that enter one.
    """
    import numpy as np

    from ctrlinf.mdp import reachable_states

    best = best_goal_probability(mdp, spec)
    if best is None or mdp.p0 @ best > 0:
        return None
    goals = np.flatnonzero(getattr(mdp, "goals").ravel())
    if not reachable_states(mdp.replace(horizon=None, gamma=0.5))[goals].any():
        return ("hint: no policy can reach a goal from the start: walls, pits (which "
                "never let go) or forbidden moves cut every goal off")
    needed = ""
    if mdp.n_states <= NAME_HORIZON_UP_TO:
        # Any state some policy can enter is entered within S moves.
        ever = reachable_states(mdp.replace(horizon=mdp.n_states + 1))[:, goals].any(axis=1)
        needed = f"; the nearest goal is {int(np.argmax(ever))} moves away"
    return (f"hint: no policy reaches a goal within the horizon of {mdp.horizon} steps"
            f"{needed}: try a longer --horizon")


def temperature_hint(mdp, mode, temperature, spec, reached=None):
    """The line ``solve`` prints when the temperature swamps the rewards, or None.

    The rule (:func:`hint_rule`) compares the probability, from ``p0``, that the
    ``mode`` policy reaches a goal at ``temperature`` with the same at the near-hard
    end of :func:`ctrlinf.explore.default_temperatures`. ``reached``: that probability
    at ``temperature`` if the caller has it already (it is not solved for again).
    """
    import ctrlinf as ci

    def reach(tau):
        if tau == temperature and reached is not None:
            return reached
        sol = ci.solve(mdp, mode=mode, temperature=tau, progress=False)
        return float(mdp.p0 @ goal_probability(mdp, sol.policy, spec))

    try:
        cold = float(ci.explore.default_temperatures(mdp)[0])
        found = hint_rule(temperature, cold, reach)
    except ValueError:  # r / temperature overflows near 0: no hint rather than an error
        return None
    if found is None:
        return None
    here, suggested, there, near_zero = found
    return (f"hint: the temperature swamps the rewards: this policy reaches a goal with "
            f"probability {here:.4g}, the {mode} policy at --temperature {suggested:g} with "
            f"{there:.4g} (near temperature 0: {near_zero:.4g}); a lower temperature weighs "
            "the rewards more (see --help)")


def hint_rule(temperature, cold, reach):
    """When to hint, and which temperature to suggest.

    Parameters
    ----------
    temperature : float
        The temperature asked for.
    cold : float
        A near-zero temperature (the policies there are close to the ``τ → 0`` limit).
    reach : callable
        ``reach(τ)``: probability that the policy at temperature ``τ`` reaches a goal.

    Returns
    -------
    None, or (float, float, float, float)
        None unless ``reach(cold) − reach(temperature) >= HINT_GAIN``; else
        ``(reach(temperature), suggested, reach(suggested), reach(cold))`` with
        ``suggested`` the highest of ``temperature / 10``, ``temperature / 100``, ...
        (and ``cold`` last) whose policy comes within ``HINT_GAIN`` of ``reach(cold)``.
    """
    if temperature <= cold:
        return None
    here, near_zero = reach(temperature), reach(cold)
    if near_zero - here < HINT_GAIN:
        return None
    suggested = temperature / 10
    while suggested > cold:
        there = reach(suggested)
        if there >= near_zero - HINT_GAIN:
            return here, suggested, there, near_zero
        suggested /= 10
    return here, cold, near_zero, near_zero


def _plot_values(mdp, V0, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import ctrlinf as ci

    where = "" if args.mode == "hard" else f", temperature τ = {args.temperature:g}"
    ax = ci.plot.heatmap(mdp, V0, title=f"$V_0$ ({args.mode}{where})")
    ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    print(f"wrote {args.plot}")
