"""The worlds ``ctrlinf solve`` and ``ctrlinf explore`` read: a file or a built-in name.

WORLD is a saved MDP (``.npz``, written by :meth:`ctrlinf.TabularMDP.save`), a text map
file (:func:`ctrlinf.envs.gridworld_from_map`), ``gridworld:ROWSxCOLS`` or ``frozenlake``.
Every failure to read one is a :class:`~ctrlinf.cli._common.UsageError` naming it.
"""
from __future__ import annotations

import os

from ctrlinf.cli._common import INFINITE
from ctrlinf.cli._common import UsageError
from ctrlinf.cli._common import check_memory
from ctrlinf.cli._common import mdp_bytes
from ctrlinf.cli._common import solve_bytes

WORLD_HELP = ("expected a saved MDP (.npz), a text map file, gridworld:ROWSxCOLS "
              "(e.g. gridworld:8x8) or frozenlake")

#: Actions of the CLI's gridworld (four moves and stay).
GRID_ACTIONS = 5
#: Slip of ``gridworld:ROWSxCOLS`` unless ``--slip`` says otherwise (a map file's is 0).
GRID_SLIP = 0.1

#: What ``--slip`` says about its default, in every command that has it.
SLIP_HELP = ("probability in [0, 1] that a uniformly random move replaces the chosen one, "
             f"for a map file or gridworld:ROWSxCOLS (default: the world's own: 0 for a "
             f"map file, {GRID_SLIP:g} for gridworld:ROWSxCOLS)")


def gridworld_spec(spec, horizon=None, slip=None):
    """``gridworld:ROWSxCOLS``: start top left, goal bottom right, horizon ROWS+COLS+4."""
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
    S, A = rows * cols, GRID_ACTIONS
    # Building P passes through (row, column, value) triplets of every slip
    # outcome: up to A entries per (s, a), 24 bytes each, before compression.
    check_memory(24 * S * A * A + solve_bytes(S, A, T), f"gridworld {rows}x{cols}"
                 + ("" if T is None else f" with horizon {T}"))
    # Start top-left, goal bottom-right: the classic picture of message intersection.
    return envs.gridworld((rows, cols), slip=GRID_SLIP if slip is None else slip,
                          start=[(0, 0)], goals=[(rows - 1, cols - 1)], horizon=own_horizon)


def frozenlake():
    """Gymnasium's FrozenLake-v1 (4x4, slippery), horizon 100."""
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


def _load_map(path, slip):
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
        return envs.gridworld_from_map(text, slip=0.0 if slip is None else slip)
    except (ValueError, TypeError) as error:
        raise UsageError(f"{path} is not a valid map: {error}") from None


def _is_zip(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _no_slip(spec, slip, what):
    if slip is not None:
        raise UsageError(f"--slip applies to a map file or gridworld:ROWSxCOLS; {spec} is "
                         f"{what}, whose dynamics are its own")


def read_world(spec, horizon=None, slip=None):
    """The world named by ``spec`` (see the module docstring), as built or saved."""
    if "\0" in spec:
        raise UsageError(f"unknown world {spec!r}: a NUL byte is in the name; {WORLD_HELP}")
    if spec.startswith("gridworld"):
        return gridworld_spec(spec, horizon, slip)
    if spec.lower() == "frozenlake":
        _no_slip(spec, slip, "gymnasium's FrozenLake-v1")
        return frozenlake()
    if not os.path.exists(spec) and os.path.isfile(spec + ".npz"):
        spec += ".npz"  # TabularMDP.save("x") writes x.npz
    if spec.endswith((".npz", ".npy")) or os.path.isdir(spec):
        if not os.path.exists(spec):
            raise UsageError(f"no such file: {spec}")
        _no_slip(spec, slip, "a saved MDP")
        return _load_file(spec)
    if os.path.isfile(spec):
        if _is_zip(spec):
            _no_slip(spec, slip, "a saved MDP")
            return _load_file(spec)
        return _load_map(spec, slip)
    raise UsageError(f"unknown world {spec!r}; {WORLD_HELP}")


def load_world(spec, horizon, gamma, mode=None, slip=None):
    """The world named by ``spec`` with the command line's horizon, gamma and slip applied."""
    mdp = read_world(spec, horizon, slip)
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
    check_memory(mdp_bytes(mdp) + solve_bytes(mdp.n_states, mdp.n_actions, T),
                 f"{spec} ({mdp.n_states} states, {mdp.n_actions} actions"
                 + (", infinite horizon)" if T is None else f", horizon {T})"))
    changes = {}
    if horizon is not None:
        changes["horizon"] = T
    if gamma is not None:
        changes["gamma"] = gamma
    return mdp.replace(**changes) if changes else mdp
