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


# -- the figures --------------------------------------------------------------------
# The figures lay themselves out (constrained layout), so savefig needs no
# bbox_inches="tight", which would draw each figure a second time.
def _message_figure(world, solutions):
    import ctrlinf as ci

    T = world.horizon
    times = [0, T // 4, T // 2, 3 * T // 4, T - 1]
    return ci.plot.message_intersection(world, solutions["exact"], times=times)


def _modes_figure(world, solutions):
    import ctrlinf as ci

    return ci.plot.compare_modes(world, solutions["exact"], solutions["soft"], t=0)


def _policy_figure(world, solutions):
    import matplotlib.pyplot as plt

    import ctrlinf as ci

    fig, axes = plt.subplots(2, 1, figsize=(7, 6.5), constrained_layout=True)
    for ax, (name, mode) in zip(axes, (("exact (optimistic)", "exact"),
                                       ("soft (variational)", "soft"))):
        sol = solutions[mode]
        ci.plot.policy_arrows(world, sol.policy[0], ax=ax, background=sol.V[0],
                              title=f"{name}: policy at t = 0 over $V_0$")
    return fig


#: File name → the function that draws it.
FIGURES = {"message_intersection.png": _message_figure,
           "exact_vs_soft.png": _modes_figure,
           "policy.png": _policy_figure}
#: The figures a second process draws, when there is one (:class:`_FigureWorker`); the
#: message picture (the slowest) is drawn here, where the marginals it needs are compiled.
WORKER_FIGURES = ("exact_vs_soft.png", "policy.png")


def _draw(names, world, solutions, out):
    """Draw the figures ``names`` (keys of :data:`FIGURES`) into the folder ``out``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    for name in names:
        fig = FIGURES[name](world, solutions)
        fig.savefig(out / name, dpi=110)
        plt.close(fig)


class _FigureWorker:
    """A second Python process that draws :data:`WORKER_FIGURES` while this one draws the rest.

    Drawing is matplotlib's Python code, bound to one core; a warm ``ctrlinf demo``
    spent most of its time there. The worker starts with the demo and imports
    matplotlib and ctrlinf while the demo solves, then reads the world and the
    solutions from a pickle file (:meth:`send`). :meth:`finish` says whether it drew
    its figures, and if not, why.
    """

    def __init__(self):
        import subprocess
        import tempfile

        from ctrlinf._subprocess import start_python

        self._folder = tempfile.TemporaryDirectory(prefix="ctrlinf-demo-")
        self._log = open(pathlib.Path(self._folder.name) / "worker.log", "w+")
        try:
            self._process = start_python(
                "from ctrlinf import demo; demo.worker_main()",
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log, text=True)
        except OSError:
            self._log.close()
            self._folder.cleanup()
            raise

    @classmethod
    def start(cls):
        """A worker, or None where a second process would not help (no free core) or fails."""
        from ctrlinf import _threads

        if _threads.free_cores() < 2:
            return None
        try:
            return cls()
        except OSError:
            return None

    def send(self, world, solutions, out):
        """Hand over what to draw (through a file: a pipe's buffer could block on it)."""
        import pickle

        payload = pathlib.Path(self._folder.name) / "work.pickle"
        with open(payload, "wb") as file:
            pickle.dump((world, solutions, str(out)), file)
        try:
            self._process.stdin.write(f"{payload}\n")
            self._process.stdin.close()
        except OSError:   # the worker has ended already: finish() says why
            pass

    def finish(self):
        """Wait for the worker; None if it drew its figures, else the last line it printed.

        Called again, it returns the same answer.
        """
        if self._log.closed:
            return self._failure
        if not self._process.stdin.closed:   # nothing was sent: the worker just ends
            self._process.stdin.close()
        code = self._process.wait()
        self._log.seek(0)
        lines = self._log.read().strip().splitlines()
        self._log.close()
        self._folder.cleanup()
        self._failure = None if code == 0 else (lines[-1] if lines else f"exit status {code}")
        return self._failure


def worker_main():
    """The :class:`_FigureWorker` process: import, then draw what the demo sends on stdin."""
    import gc
    import pickle
    import sys

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401  (the import is most of the start-up)

    import ctrlinf.plot  # noqa: F401

    line = sys.stdin.readline().strip()
    if not line:       # the demo stopped early
        return
    with open(line, "rb") as file:
        world, solutions, out = pickle.load(file)
    _draw(WORKER_FIGURES, world, solutions, pathlib.Path(out))
    gc.freeze()   # the process ends next: see ctrlinf.cli.exit_status


def _write_figures(world, solutions, out, gif, worker=None):
    """Draw the figures into ``out`` (with ``worker``'s help, if any); return their paths."""
    import ctrlinf as ci

    here = list(FIGURES)
    if worker is not None:
        worker.send(world, solutions, out)
        here = [name for name in FIGURES if name not in WORKER_FIGURES]
    _draw(here, world, solutions, out)
    if worker is not None:
        failure = worker.finish()
        if failure is not None:
            import warnings

            warnings.warn(f"the figure process failed ({failure}); drawing its figures here",
                          RuntimeWarning, stacklevel=3)
            _draw(WORKER_FIGURES, world, solutions, out)
    written = [out / name for name in FIGURES]
    if gif:
        posterior, _ = ci.marginals(world, solutions["exact"])
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
    from ctrlinf import _compile_ahead

    started = time.perf_counter()
    # On a first run, a second process compiles the forward kernels meanwhile; on later
    # runs, with a free core, another one gets ready to draw figures (not both: on two
    # cores the two compiling processes keep both busy).
    compiling = _compile_ahead.start()
    worker = _FigureWorker.start() if figures and compiling is None else None
    try:
        return _run(out, figures, gif, stream, started, compiling, worker)
    finally:
        if worker is not None:
            worker.finish()


def _run(out, figures, gif, stream, started, compiling, worker):
    import ctrlinf as ci
    from ctrlinf import _compile_ahead

    world = build_world()
    solutions = {mode: ci.solve(world, mode=mode, temperature=DEMO_TEMPERATURE)
                 for mode in ("exact", "soft", "hard")}
    _compile_ahead.finish(compiling)
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
        written = _write_figures(world, solutions, out, gif, worker)
        stream("figures: " + ", ".join(str(p) for p in written))
    seconds = time.perf_counter() - started
    stream(f"done in {seconds:.1f} s")
    return dict(world=world, solutions=solutions, table=table, figures=written,
                seconds=seconds)
