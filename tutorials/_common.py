"""Helpers shared by the tutorials: where figures go, brute-force enumeration, the ELBO.

Figures are written to ``$CTRLINF_FIGURES/tutorials/``, by default
``ctrlinf-figures/tutorials/`` under the current directory (ignored by git), so
running a tutorial never rewrites the pictures committed in ``figures/tutorials/``;
``CTRLINF_FIGURES=figures`` from the repository root regenerates those. Without a
display and without ``MPLBACKEND``, matplotlib uses the non-interactive Agg backend,
so every tutorial also runs headless.

The enumeration here is deliberately independent of ctrlinf's recursions: it only
multiplies the factors of the graphical model along each trajectory, so the
tutorials can check the library (and the lectures' formulas) against it.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np

import ctrlinf as ci

_HEADLESS = (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
             and not os.environ.get("WAYLAND_DISPLAY"))
if "MPLBACKEND" not in os.environ and _HEADLESS and "IPython" not in sys.modules:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numba  # noqa: E402

# The tutorials' MDPs have at most a few hundred states: ctrlinf's parallel kernels
# then spend more time synchronising threads than computing (several times slower on a
# busy 2-core machine), so run them on one thread.
numba.set_num_threads(1)

#: PNGs larger than this get a warning: figures are committed to the repository.
MAX_FIGURE_BYTES = 200_000

#: Output folder (under the current directory) when ``CTRLINF_FIGURES`` is unset; it
#: is in .gitignore, so tutorials never modify tracked files.
DEFAULT_FIGURES = "ctrlinf-figures"


def figure_dir():
    """Where the tutorials write: ``$CTRLINF_FIGURES/tutorials``, else ``./ctrlinf-figures/tutorials``."""
    root = os.environ.get("CTRLINF_FIGURES") or Path.cwd() / DEFAULT_FIGURES
    path = Path(root) / "tutorials"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(fig, name, dpi=90):
    """Save ``fig`` as ``<figure_dir>/<name>.png``, print the path and return it.

    The figure is closed afterwards unless we run inside IPython/Jupyter, where
    it stays open so that the notebook shows it.
    """
    path = figure_dir() / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    size = path.stat().st_size
    print(f"figure: {path} ({size / 1000:.0f} kB)")
    if size > MAX_FIGURE_BYTES:
        print(f"warning: {path.name} is larger than {MAX_FIGURE_BYTES // 1000} kB")
    if "IPython" not in sys.modules:
        plt.close(fig)
    return path


# -- brute force ----------------------------------------------------------------
@dataclass
class Enumeration:
    """Every trajectory ``τ = (s_0, a_0, ..., s_{T-1}, a_{T-1})`` with ``p(τ) > 0``.

    Attributes
    ----------
    states, actions : ndarray of int, shape (N, T)
    log_p : ndarray, shape (N,)
        ``log p(τ) = log p0(s_0) + Σ_t log P(s_{t+1} | s_t, a_t)``; actions carry
        no probability (the counting measure, as in ctrlinf).
    returns : ndarray, shape (N,)
        ``R(τ) = Σ_t r(s_t, a_t)``.
    """

    states: np.ndarray
    actions: np.ndarray
    log_p: np.ndarray
    returns: np.ndarray

    def __len__(self):
        return len(self.log_p)

    def log_policy(self, policy):
        """``Σ_t log π_t(a_t | s_t)`` for each trajectory; ``policy`` is (T, S, A)."""
        t = np.arange(self.states.shape[1])
        with np.errstate(divide="ignore"):
            return np.log(policy[t, self.states, self.actions]).sum(axis=1)

    def posterior(self, temperature=1.0):
        """``p(τ | O) = p(τ) exp(R(τ)/α) / Z`` and ``log Z`` (= ``ci.log_evidence``)."""
        logits = self.log_p + self.returns / temperature
        log_Z = logsumexp(logits)
        return np.exp(logits - log_Z), log_Z


def enumerate_trajectories(mdp):
    """All trajectories of a small finite-horizon MDP with positive probability.

    Grows the tree of histories one step at a time, keeping only the successor
    states that ``P`` can reach; the count is at most ``S0 (A B)^(T-1) A`` for
    ``S0`` start states and branching ``B``.

    Returns
    -------
    Enumeration
    """
    P, r, T = mdp.transition_tensor(), mdp.r, mdp.horizon
    S, A = r.shape
    states = np.flatnonzero(mdp.p0 > 0)[:, None]
    log_p = np.log(mdp.p0[states[:, 0]])
    actions = np.zeros((len(states), 0), dtype=int)
    for t in range(T):
        # Choose every action in the last state.
        n = len(states)
        states = np.repeat(states, A, axis=0)
        log_p = np.repeat(log_p, A)
        actions = np.hstack([np.repeat(actions, A, axis=0), np.tile(np.arange(A), n)[:, None]])
        if t == T - 1:
            break
        # Move to every successor with positive probability.
        prob = P[states[:, -1], actions[:, -1]]            # (n*A, S)
        rows, nxt = np.nonzero(prob > 0)
        states = np.hstack([states[rows], nxt[:, None]])
        actions = actions[rows]
        log_p = log_p[rows] + np.log(prob[rows, nxt])
    returns = r[states, actions].sum(axis=1)
    return Enumeration(states, actions, log_p, returns)


def logsumexp(x, axis=None):
    """``log Σ exp(x)`` with the max shifted out."""
    x = np.asarray(x, dtype=float)
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return np.squeeze(out, axis=axis) if axis is not None else float(out.squeeze())


# -- variational objective -------------------------------------------------------
def elbo(mdp, policy, temperature=1.0):
    r"""The variational objective of a policy, from its occupancy (no enumeration).

    .. math:: \mathcal{L}(\pi) = \sum_t E_{(s_t, a_t) \sim q}\big[r(s_t, a_t)
              + \alpha\, \mathcal{H}(\pi_t(\cdot \mid s_t))\big]

    in reward units (divide by ``α`` for nats).
    """
    d = ci.occupancy(mdp, policy)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pi = np.where(policy > 0, np.log(policy), 0.0)
    per_state = (policy * (mdp.r[None] - temperature * log_pi)).sum(axis=2)
    return float((d * per_state).sum())


def optimistic_dp(mdp):
    r"""The α → 0 limit of exact inference: value iteration that picks the best outcome.

    .. math:: V_t(s) = \max_a \Big[r(s, a) + \max_{s' : P(s' \mid s, a) > 0} V_{t+1}(s')\Big]

    Returns
    -------
    ndarray, shape (T, S)
    """
    P, r = mdp.transition_tensor(), mdp.r
    V = np.zeros((mdp.horizon + 1, mdp.n_states))
    for t in range(mdp.horizon - 1, -1, -1):
        best_next = np.where(P > 0, V[t + 1][None, None, :], -np.inf).max(axis=2)
        V[t] = (r + best_next).max(axis=1)
    return V[:-1]


def boltzmann(Q, temperature=1.0):
    """``π(a | s) ∝ exp(Q(s, a)/α)`` over the last axis."""
    z = np.asarray(Q, dtype=float) / temperature
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


# -- worlds shared by several tutorials -------------------------------------------
#: Tutorials 4 and 7: a wall between the start (left) and the goal (right).
WALL_LAYOUT = ("........",
               "...#....",
               "S..#...G",
               "...#....",
               "........")


def wall_grid(slip=0.0, extra_start=None):
    """The grid of ``WALL_LAYOUT``: the goal pays 3 per step, other cells cost 0.1, T = 16.

    ``extra_start=(row, col)`` adds a second start cell (``p0`` uniform over both).
    """
    rows = [list(row) for row in WALL_LAYOUT]
    if extra_start is not None:
        rows[extra_start[0]][extra_start[1]] = "S"
    return ci.envs.gridworld_from_map(["".join(row) for row in rows], slip=slip, horizon=16,
                                      rewards={"G": 3.0, ".": -0.1})
