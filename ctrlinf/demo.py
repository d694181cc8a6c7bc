"""``ctrlinf demo``: exact inference vs soft (variational) control on a slippery cliff.

A start, a goal and a row of pits. The shortest path runs along the pits; with
slippery moves, exact inference in the graphical model is *optimistic* — it
conditions on the agent reaching high reward, so it behaves as if it could
choose its luck — and walks the edge. The soft (variational) solution accounts
for the dynamics it cannot control and keeps its distance (CS285, "Reframing
control as an inference problem": the optimism problem).
"""
from __future__ import annotations

import pathlib
import time

import numpy as np

DEMO_MAP = (
    "..........",
    "..........",
    "S........G",
    "XXXXXXXXXX",
)
DEMO_SLIP = 0.15
DEMO_HORIZON = 24
DEMO_TEMPERATURE = 0.2


def build_world():
    """The demo's GridMDP: slippery cliff with goal (+1 per step) and pits (−1 per step)."""
    from ctrlinf.envs import gridworld_from_map

    return gridworld_from_map(DEMO_MAP, slip=DEMO_SLIP, horizon=DEMO_HORIZON,
                              rewards={".": -0.05, "S": -0.05})


def _pit_probability(world, occupancy):
    """Probability of being in a pit at the last step."""
    return float(occupancy[-1][world.pits.ravel()[: world.n_states]].sum())


def _write_figures(world, solutions, out, gif):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    import ctrlinf as ci

    exact, soft = solutions["exact"], solutions["soft"]
    written = []
    T = world.horizon
    times = [0, T // 4, T // 2, 3 * T // 4, T - 1]

    # The figures lay themselves out (constrained layout), so savefig needs no
    # bbox_inches="tight", which would draw each figure a second time.
    fig = ci.plot.message_intersection(world, exact, times=times)
    written.append(out / "message_intersection.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    fig = ci.plot.compare_modes(world, exact, soft, t=0)
    written.append(out / "exact_vs_soft.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(2, 1, figsize=(7, 6.5), constrained_layout=True)
    for ax, (name, sol) in zip(axes, (("exact (optimistic)", exact), ("soft (variational)", soft))):
        ci.plot.policy_arrows(world, sol.policy[0], ax=ax, background=sol.V[0],
                              title=f"{name}: policy at t = 0 over $V_0$")
    written.append(out / "policy.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    if gif:
        posterior, _ = ci.marginals(world, exact)
        written.append(pathlib.Path(ci.plot.animate_marginals(
            world, posterior, out / "marginals.gif", title="posterior $p(s_t \\mid O)$")))
    return written


def run(out="figures/demo", figures=True, gif=False, stream=print):
    """Solve the demo world in exact, soft and hard mode, print a table, write figures.

    Parameters
    ----------
    out : str or os.PathLike
        Directory for the figures (created if missing).
    figures : bool
        Write figures (False: only the table).
    gif : bool
        Also write ``marginals.gif``, an animation of the posterior marginals
        (slow: one rendered frame per time step).
    stream : callable
        Where lines go (``print`` by default).

    Returns
    -------
    dict
        ``"world"``, ``"solutions"`` (mode → Solution), ``"table"`` (rows of
        the printed table), ``"figures"`` (paths written), ``"seconds"``.
    """
    import ctrlinf as ci

    started = time.perf_counter()
    world = build_world()
    solutions = {mode: ci.solve(world, mode=mode, temperature=DEMO_TEMPERATURE)
                 for mode in ("exact", "soft", "hard")}
    start = int(np.flatnonzero(world.p0)[0])
    V0 = {mode: sol.V[0] for mode, sol in solutions.items()}
    gap = V0["exact"] - V0["soft"]
    gap[world.walls.ravel()[: world.n_states]] = 0.0
    worst = int(np.argmax(gap))

    stream(f"ctrlinf demo: {len(DEMO_MAP)}x{len(DEMO_MAP[0])} cliff, slip {DEMO_SLIP}, "
           f"horizon {DEMO_HORIZON}, temperature τ = {DEMO_TEMPERATURE}")
    stream("  S start, G goal (+1 per step), X pits (−1 per step), −0.05 per step elsewhere")
    table = []
    header = f"{'mode':<7}{'V_0(start)':>12}{'P(in pit at T-1)':>19}{'log p(O)':>11}"
    stream(header)
    for mode, sol in solutions.items():
        pit = _pit_probability(world, ci.occupancy(world, sol.policy))
        evidence = ci.log_evidence(world, sol) if mode == "exact" else float("nan")
        table.append((mode, float(V0[mode][start]), pit, evidence))
        evidence_text = f"{evidence:11.3f}" if mode == "exact" else f"{'—':>11}"
        stream(f"{mode:<7}{V0[mode][start]:12.3f}{pit:19.3f}{evidence_text}")
    stream(f"exact − soft V_0 is largest at cell {world.coords(worst)}: "
           f"{gap[worst]:.3f} (exact inference assumes it can choose its luck)")

    written = []
    if figures:
        out = pathlib.Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written = _write_figures(world, solutions, out, gif)
        stream("figures: " + ", ".join(str(p) for p in written))
    seconds = time.perf_counter() - started
    stream(f"done in {seconds:.1f} s")
    return dict(world=world, solutions=solutions, table=table, figures=written,
                seconds=seconds)
