r"""Run an agent on every (task, seed) cell of the suite and score it exactly.

Each cell builds the task's environment, asks ``make_agent(env, gamma, seed, **options)``
for an agent (:mod:`ctrlinf.bridge.suite.agents` states the protocol), trains it for
``steps`` environment steps and scores it with the task's exact oracle at fixed
checkpoints (the learning curve) and at the end. Cells run through
:func:`ctrlinf.sweep.run`: local worker processes by default, a Dask cluster by address,
and every finished cell is stored at once, so a rerun with the same ``store`` computes
only the missing cells.

Workers import the agent by name, so ``make_agent`` is given as ``"pkg.module:name"``
or as a module-level function (which is turned into that name). The store is keyed by
that name, the options, the task, the seed, the budget, the temperature, the
checkpoints and :data:`~ctrlinf.bridge.suite.tasks.SUITE_VERSION`, not by the agent's
code: after changing the agent, use a new store.
"""
from __future__ import annotations

import importlib
import inspect
import json
import math
import tempfile
import time
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ctrlinf import _checks
from ctrlinf.inference import dead_states
from ctrlinf.bridge.suite.tasks import SUITE_VERSION, get_task, select

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import distributed
    import pandas as pd

    from ctrlinf._typing import PathLike

#: Checkpoints of a learning curve (evenly spaced, the last at the end of training).
CHECKPOINTS = 10

#: Columns of the per-state arrays of a row (for the error maps of the report).
STATE_COLUMNS = ("state_regret", "state_q_error")
#: Columns of a row's learning curve, one entry per checkpoint.
CURVE_COLUMNS = ("curve_step", "curve_normalised_value_gap", "curve_return_gap",
                 "curve_q_error")
#: The scores of a row, in the order of the DataFrame (see :func:`run`).
SCORE_COLUMNS = ("return_gap", "advantage_loss", "optimal_action_fraction", "q_error",
                 "normalised_return_gap", "value_gap", "normalised_value_gap", "kl",
                 "mean_entropy", "q_weighted_error")
KEY_COLUMNS = ("suite_version", "agent", "task", "seed", "steps", "temperature", "gamma")


def run(make_agent: str | Callable[..., Any], tasks: Sequence[str] | None = None,
        seeds: int | Sequence[int] = 5, steps: int | None = None,
        temperature: float | Literal["low", "high"] = 0.0, store: PathLike | None = None,
        scheduler: str | distributed.Client | None = None, *,
        agent_options: Mapping[str, Any] | None = None, checkpoints: int = CHECKPOINTS,
        n_workers: int | None = None, progress: bool | None = None) -> pd.DataFrame:
    r"""Train an agent on every (task, seed) cell of the suite; score every cell exactly.

    Parameters
    ----------
    make_agent : str or function
        ``"pkg.module:name"`` or an importable module-level function
        ``make_agent(env, gamma, seed, **agent_options) -> agent`` with
        ``learn(n_steps, callback)`` and ``q_table()`` and/or ``policy()``
        (see :mod:`ctrlinf.bridge.suite.agents`; built in:
        ``"ctrlinf.bridge.suite.agents:q_learning"``, ``...:soft_q_learning``,
        ``...:sac_discrete``, ``...:sb3_dqn``, ``...:sb3_ppo``).
    tasks : sequence of str, optional
        Task names (:data:`~ctrlinf.bridge.suite.tasks.TASK_NAMES`); default all.
    seeds : int or sequence of int, default 5
        ``n`` runs seeds ``0 .. n−1``; a sequence gives the seeds (distinct, >= 0).
    steps : int, optional
        Environment steps per run; default each task's own budget (``Task.steps``).
    temperature : float or {"low", "high"}, default 0.0
        The oracle's temperature α. 0 scores returns against the hard ``Q*`` (ordinary
        RL); ``α > 0`` scores against the soft optimum and calls
        ``make_agent(..., temperature=α)``; ``"low"`` / ``"high"`` take each task's
        standard soft temperatures (``Task.soft_temperatures``).
    store : str or os.PathLike, optional
        Directory of finished cells (resumable: a rerun computes only missing cells and
        returns at once when none is missing); default a temporary one, removed after.
    scheduler : None, str or distributed.Client
        As for :func:`ctrlinf.sweep.run`: None for local processes, or a Dask address.
    agent_options : dict, optional
        Keyword arguments for ``make_agent`` (JSON values; part of the store's key).
    checkpoints : int, default 10
        Points of each learning curve, evenly spaced over the run.
    n_workers : int, optional
        Local worker processes (``scheduler=None`` only); default one per core.
    progress : bool, optional
        A progress bar over cells; default when stderr is a terminal.

    Returns
    -------
    pandas.DataFrame
        One row per (task, seed), in task then seed order, with columns

        - ``suite_version``, ``agent``, ``task``, ``seed``, ``steps``, ``temperature``
          (α of the cell), ``gamma``;
        - ``return_gap`` (``p0 · (V* − V^π)`` in discounted returns, ≥ 0),
          ``advantage_loss`` (return lost per step on the states π visits),
          ``optimal_action_fraction``, ``q_error`` (``max |Q̂ − Q*|`` over the
          reachable states and allowed actions; NaN without ``q_table()``),
          ``normalised_return_gap`` (0 optimal, 1 uniform policy), ``value_gap`` and
          ``normalised_value_gap`` (soft at α > 0, equal to the return ones at 0),
          ``kl`` (α > 0; NaN at 0), ``mean_entropy``, ``q_weighted_error`` (the
          occupancy-weighted mean of ``|Q̂ − Q*|``): see
          :class:`~ctrlinf.bridge.PolicyReport` and :class:`~ctrlinf.bridge.QReport`;
        - ``seconds`` (training and scoring time of the cell);
        - the learning curve as lists, one entry per checkpoint: ``curve_step``,
          ``curve_normalised_value_gap``, ``curve_return_gap``, ``curve_q_error``;
        - per-state arrays of the final agent (lists of length S, NaN where not
          compared): ``state_regret`` (return lost per step there) and
          ``state_q_error`` (largest ``|Q̂ − Q*|`` there);
        - ``agent_options`` (JSON text) and ``error`` (None, or the message of a cell
          that raised: e.g. a final policy that gives a forbidden action probability,
          whose value is −∞; its scores are NaN). An earlier checkpoint with such a
          policy has NaN in ``curve_normalised_value_gap`` and ``curve_return_gap``.

    Raises
    ------
    ValueError, TypeError
        Bad arguments, checked before any cell runs: an agent spec that does not import
        or cannot be called as ``make_agent(env, gamma, seed, **agent_options)``, an
        unknown task, bad seeds or steps, or a temperature > 0 for a ``make_agent``
        that takes no ``temperature``.
    ImportError
        gymnasium, dask or pandas missing (``pip install -e ".[suite]"``).

    Notes
    -----
    Every task is scored in the infinite-horizon discounted setting with the task's γ
    (:mod:`ctrlinf.bridge.suite.tasks` says why). In a script, call ``run`` under
    ``if __name__ == "__main__":`` (the worker processes re-import the main module).
    """
    spec = agent_spec(make_agent)
    function = load_agent(spec)
    chosen = select(tasks)
    seeds = _check_seeds(seeds)
    steps = None if steps is None else _checks.positive_int(steps, "steps")
    checkpoints = _checks.positive_int(checkpoints, "checkpoints")
    options = _check_options(agent_options)
    if any(task.temperature(temperature) > 0 for task in chosen):
        _check_takes_temperature(function, spec, agent_options or {})
    else:
        _check_call(function, spec, agent_options or {})
    cells = []
    for task in chosen:
        alpha = task.temperature(temperature)
        budget = task.steps if steps is None else steps
        if checkpoints > budget:
            raise ValueError(f"checkpoints={checkpoints} exceeds steps={budget} of task "
                             f"{task.name!r}")
        cells.extend(dict(agent=spec, agent_options=options, task=task.name, seed=seed,
                          steps=budget, temperature=alpha, checkpoints=checkpoints,
                          suite_version=SUITE_VERSION) for seed in seeds)
    from ctrlinf import sweep

    if store is None:
        with tempfile.TemporaryDirectory(prefix="ctrlinf-suite-") as folder:
            table = sweep.run(cell, cells, store=folder, scheduler=scheduler,
                              n_workers=n_workers, progress=progress)
    else:
        table = sweep.run(cell, cells, store=store, scheduler=scheduler,
                          n_workers=n_workers, progress=progress)
    return _ordered(table)


def _ordered(table):
    """The runner's column order; a failed cell's missing columns become NaN."""
    columns = [*KEY_COLUMNS, *SCORE_COLUMNS, "seconds", *CURVE_COLUMNS, *STATE_COLUMNS,
               "agent_options", "error"]
    for name in columns:
        if name not in table.columns:
            table[name] = np.nan
    return table[columns + [c for c in table.columns if c not in columns and
                            c != "checkpoints"]]


# -- checks -----------------------------------------------------------------------------
def agent_spec(make_agent):
    """``"pkg.module:name"`` for a spec string or an importable module-level function."""
    if isinstance(make_agent, str):
        load_agent(make_agent)
        return make_agent
    if not callable(make_agent):
        raise TypeError(f"make_agent must be 'pkg.module:name' or an importable function, "
                        f"got {type(make_agent).__name__}")
    module = getattr(make_agent, "__module__", None)
    qualname = getattr(make_agent, "__qualname__", None)
    if module is None or qualname is None or "<" in qualname or module == "__main__":
        raise ValueError(f"make_agent must be importable by name (the workers import it), "
                         f"got {make_agent!r}; define it at module level in an importable "
                         f"module and pass it or 'pkg.module:name'")
    spec = f"{module}:{qualname}"
    if load_agent(spec) is not make_agent:
        raise ValueError(f"make_agent must be importable as {spec}, but that name does not "
                         f"lead back to it")
    return spec


def load_agent(spec):
    """The function named by ``"pkg.module:name"``, or a ValueError saying why not."""
    if not isinstance(spec, str):
        raise TypeError(f"make_agent must be 'pkg.module:name', got {type(spec).__name__}")
    module_name, colon, qualname = spec.partition(":")
    if not colon or not module_name or not qualname:
        raise ValueError(f"make_agent must look like 'pkg.module:name', got {spec!r}")
    try:
        found = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 -- any failure to import is the user's to fix
        hint = ""
        if isinstance(error, ModuleNotFoundError) and error.name is not None \
                and (module_name + ".").startswith(error.name + "."):
            # The agent's own module is missing, not something it imports: say where
            # it must be.
            top = module_name.split(".")[0]
            hint = (f"; run from the folder that holds {top}.py or {top}/, or install "
                    f"its package (local workers import it the same way)")
        raise ValueError(f"make_agent {spec!r}: cannot import {module_name!r} "
                         f"({type(error).__name__}: {error}){hint}") from None
    for part in qualname.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise ValueError(f"make_agent {spec!r}: module {module_name!r} has no "
                             f"{qualname!r}")
    if not callable(found):
        raise TypeError(f"make_agent {spec!r} is a {type(found).__name__}, not a function")
    return found


def _check_call(function, spec, options):
    """Refuse a make_agent that cannot be called as the cells call it, before any cell
    runs (otherwise every cell fails with the same TypeError)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(None, 1.0, 0, **options)
    except TypeError as error:
        shown = "".join(f", {key}=..." for key in options)
        raise TypeError(f"make_agent {spec} cannot be called as make_agent(env, gamma, "
                        f"seed{shown}): {error}") from None


def _check_takes_temperature(function, spec, options):
    if "temperature" in options:
        raise ValueError("agent_options must not set 'temperature' when temperature > 0: the "
                         "runner passes the temperature it scores at")
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return
    # A named parameter, not **options: an adapter that forwards **options to a model
    # without a temperature would fail only inside the cells.
    if not any(p.name == "temperature" and p.kind is not p.VAR_KEYWORD for p in parameters):
        raise ValueError(f"make_agent {spec} has no 'temperature' parameter, so it cannot be "
                         f"scored at temperature > 0 (a soft agent learns at the temperature "
                         f"it is scored at); use temperature 0")


def _check_seeds(seeds):
    if _checks.is_int(seeds):
        return list(range(_checks.positive_int(seeds, "seeds")))
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a positive int or a list of ints, got {seeds!r}")
    seeds = [_checks.integer(s, "seeds[i]", low=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds repeats a seed: {seeds}")
    return seeds


def _check_options(options):
    if options is None:
        return "{}"
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise TypeError(f"agent_options must be a dict with string keys, got {options!r}")
    try:
        return json.dumps(options, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"agent_options must hold JSON values (they are part of the store's "
                        f"key): {error}") from None


# -- one cell ------------------------------------------------------------------------
def cell(agent, agent_options, task, seed, steps, temperature, checkpoints, suite_version):
    """Train and score one (task, seed) run; a dict of the row's result columns.

    Importable by name for :func:`ctrlinf.sweep.run`; see :func:`run`.
    """
    if suite_version != SUITE_VERSION:
        raise ValueError(f"this ctrlinf has suite version {SUITE_VERSION}, the cell asks for "
                         f"{suite_version}: install the same ctrlinf on every worker")
    start = time.perf_counter()
    chosen = get_task(task)
    oracle = chosen.oracle(temperature)
    options = json.loads(agent_options)
    if temperature > 0:
        options["temperature"] = temperature
    agent = load_agent(agent)(chosen.env(seed=seed), chosen.gamma, seed, **options)
    if not callable(getattr(agent, "learn", None)):
        raise TypeError(f"make_agent returned a {type(agent).__name__} without learn()")
    if not (hasattr(agent, "q_table") or hasattr(agent, "policy")):
        raise TypeError(f"make_agent returned a {type(agent).__name__} with neither "
                        f"q_table() nor policy()")
    recorder = Checkpoints(agent, oracle, steps, checkpoints)
    agent.learn(steps, recorder)
    recorder.finish(steps)
    return {"gamma": chosen.gamma, **recorder.final, **recorder.curve(),
            "seconds": time.perf_counter() - start}


class Checkpoints:
    """The callback handed to ``agent.learn``: scores the agent at fixed checkpoints.

    ``every`` is the checkpoint spacing (agents that log at intervals log at it);
    calling it at any step scores the agent once when ``step`` reaches the next
    checkpoint (a call that passes several checkpoints records one point, at its step).
    A policy that gives a forbidden action probability at a checkpoint before the end
    has value −∞ there: its curve point is NaN (not scored), and only the final policy
    decides whether the run fails, so the number of checkpoints never changes a run's
    result.
    """

    def __init__(self, agent, oracle, steps, n):
        self.agent, self.oracle = agent, oracle
        self.targets = [math.ceil(steps * k / n) for k in range(1, n + 1)]
        self.every = max(1, steps // n)
        self.rows = []
        self._next = 0
        self.final = None

    def __call__(self, step):
        step = int(step)
        if self._next < len(self.targets) and step >= self.targets[self._next]:
            self.rows.append(score(self.agent, self.oracle, step, final=False))
            while self._next < len(self.targets) and step >= self.targets[self._next]:
                self._next += 1

    def finish(self, steps):
        """Score the trained agent; it replaces a point recorded at the last step.

        (An on-policy learner may update once more after its last callback.)
        """
        if self.rows and self.rows[-1]["step"] >= steps:
            self.rows.pop()
        self.rows.append(score(self.agent, self.oracle, steps))
        self.final = {k: v for k, v in self.rows[-1].items() if k != "step"}

    def curve(self):
        return {"curve_step": [row["step"] for row in self.rows],
                "curve_normalised_value_gap": [row["normalised_value_gap"] for row in self.rows],
                "curve_return_gap": [row["return_gap"] for row in self.rows],
                "curve_q_error": [row["q_error"] for row in self.rows]}


def greedy_policy(Q, allowed):
    """Uniform over the maximising allowed actions of ``Q`` (ties share), shape (S, A)."""
    masked = np.where(allowed, Q, -np.inf)
    best = masked.max(axis=1, keepdims=True)
    ties = allowed & (masked >= best - 1e-12 * (1.0 + np.abs(best)))
    return ties / ties.sum(axis=1, keepdims=True)


def _table(agent, name, shape):
    values = _checks.real_array(getattr(agent, name)(), f"agent.{name}()")
    if values.shape != shape:
        raise ValueError(f"agent.{name}() has shape {values.shape}, expected (S, A) = {shape}")
    return values


def score(agent, oracle, step, *, final=True):
    """The oracle's numbers for an agent's current tables, a dict (one curve point).

    A policy that gives a forbidden action (``r = −inf``) probability in a live state has
    value −∞: the final one (``final=True``) raises a ValueError naming the step, state
    and action; an earlier one gets NaN policy scores (its Q error is still scored).
    """
    mdp = oracle.mdp
    shape = (mdp.n_states, mdp.n_actions)
    allowed = np.isfinite(mdp.r)
    Q = _table(agent, "q_table", shape) if hasattr(agent, "q_table") else None
    if hasattr(agent, "policy"):
        pi = _table(agent, "policy", shape)
        live = ~dead_states(mdp)        # the episode ends there: any action is fine
        leak = (pi > 0) & ~allowed & live[:, None]
        if leak.any() and final:
            s, a = (int(i) for i in np.argwhere(leak)[0])
            raise ValueError(f"agent.policy() at step {step} puts probability {pi[s, a]:.3g} "
                             f"on action {a} in state {s}, which is forbidden (r = -inf)")
        if leak.any():
            return _unscored(oracle, Q, step)
    else:
        pi = greedy_policy(Q, allowed)
    report = oracle.compare_policy(pi)
    row = {"step": int(step), "return_gap": report.return_gap,
           "advantage_loss": report.advantage_loss,
           "optimal_action_fraction": report.optimal_action_fraction,
           "q_error": np.nan, "normalised_return_gap": report.normalised_return_gap,
           "value_gap": report.value_gap, "normalised_value_gap": report.normalised_value_gap,
           "kl": np.nan if report.kl is None else report.kl,
           "mean_entropy": report.mean_entropy, "q_weighted_error": np.nan,
           "state_regret": report.state_regret, "state_q_error": np.full(mdp.n_states, np.nan)}
    if Q is not None:
        q_report = oracle.compare_q(Q)
        row.update(q_error=q_report.max_abs_error, q_weighted_error=q_report.weighted_abs_error,
                   state_q_error=q_report.state_error)
    return row


def _unscored(oracle, Q, step):
    """A curve point whose policy cannot be scored (value −∞): NaN, but the Q error."""
    q_error = np.nan if Q is None else oracle.compare_q(Q).max_abs_error
    return {"step": int(step), "return_gap": np.nan, "normalised_value_gap": np.nan,
            "q_error": q_error}
