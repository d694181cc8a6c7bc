r"""Build the data of the explore page and write it into one HTML file.

The page shows, for every time step ``t`` and every precomputed temperature ``τ``,
exact ctrlinf results (no interpolation anywhere):

- ``mode="exact"``: forward messages ``α_t(s) = p(s_t | O_{0:t-1})``
  (:func:`ctrlinf.forward`), backward messages ``β_t(s) = p(O_{t:T-1} | s_t)``
  scaled per step to a maximum of one (``Solution.backward_messages``), the
  posterior ``p(s_t | O_{0:T-1}) ∝ α_t(s) β_t(s)`` (:func:`ctrlinf.marginals`),
  ``V_t`` and the policy ``π_t(a | s)``.
- ``mode="soft"`` and ``mode="hard"``: the occupancy ``d_t`` of the policy rolled
  out from ``p0`` (what :func:`ctrlinf.forward` and :func:`ctrlinf.marginals`
  return there), ``V_t`` and ``π_t``. Hard mode has no temperature.

Numbers are stored with ``DIGITS`` significant digits; policies in thousandths.
"""
from __future__ import annotations

import html
import json
import pathlib
import re
from typing import TYPE_CHECKING

import numpy as np

from ctrlinf import _checks

if TYPE_CHECKING:
    from ctrlinf._typing import ArrayLike, FloatArray, PathLike
    from ctrlinf.envs.grid import GridMDP
    from ctrlinf.mdp import TabularMDP

#: Significant digits of every stored number except the policy.
DIGITS = 4
#: Policies are stored as integers in units of 1/POLICY_SCALE (three decimals).
POLICY_SCALE = 1000
#: Largest number of stored (state, time step, solution) triples, ``S * T * (2 K + 1)``
#: for ``K`` temperatures (exact and soft at each, plus one hard solution). The
#: 10 x 10 gridworld of ``ctrlinf explore gridworld:10x10`` (T = 24, 9 temperatures)
#: stores 45,600 values in a page under 2 MB (tests/test_explore.py checks it).
MAX_VALUES = 50_000
#: Number of default temperatures.
N_TEMPERATURES = 9

#: The caption under the picture, one sentence per entry; tests/test_explore.py
#: asserts each of them.
CAPTION = (
    "Exact mode is inference in the graphical model with p(O_t = 1 | s_t, a_t) = "
    "exp(r(s_t, a_t)/τ), τ the temperature: the forward message α_t(s) = p(s_t = s | O_0:t−1) "
    "says where the agent can be if it was optimal so far, the backward message "
    "β_t(s) = p(O_t:T−1 | s_t = s), "
    "scaled at each step so that its largest value is 1, says from where it can still be "
    "optimal, and the posterior p(s_t | O_0:T−1) is their normalised product.",
    "Conditioning on optimality also conditions the dice: exact inference is optimistic, as if "
    "it could choose where a slip takes it, so its values are never below the soft ones "
    "(V_exact ≥ V_soft, by Jensen's inequality), and with slippery moves its posterior is, in "
    "general, not the occupancy its own policy reaches.",
    "Soft mode is the variational answer (maximum-entropy RL): it keeps the real dynamics and "
    "conditions on nothing, so its forward and marginal panels both show the occupancy d_t of "
    "its policy rolled out from the start.",
    "Hard mode is classic dynamic programming: it has no temperature, and its policy splits "
    "evenly among the best moves.",
    "Every frame is an exact ctrlinf solve at the temperature shown, nothing is interpolated; "
    "as the temperature τ falls soft mode approaches hard mode, and as τ grows the policies "
    "approach uniform.",
)


def default_temperatures(mdp: TabularMDP, n: int = N_TEMPERATURES) -> FloatArray:
    r"""``n`` temperatures from near-hard to near-uniform, geometrically spaced.

    With ``R`` the range of the finite rewards (1 if they are all equal) and
    ``T`` the horizon, they run from ``R / (100 T)`` to ``10 (T + 1) R``,
    rounded to three significant digits. At the low end soft values are
    within ``τ T log A = R log A / 100`` of the hard ones (the entropy bonus
    is at most ``τ log A`` per step); at the high end the actions' values
    differ by at most ``T R``, so every policy probability is within a factor
    ``exp(T R / τ) < exp(0.1)`` of the others, close to uniform.

    Parameters
    ----------
    mdp : TabularMDP
        Finite horizon.
    n : int, default 9
        How many temperatures (>= 2).

    Returns
    -------
    ndarray, shape (n,)
        Increasing temperatures τ > 0.

    Examples
    --------
    >>> import ctrlinf as ci
    >>> grid = ci.envs.gridworld((3, 3), goals=[(2, 2)], horizon=9)
    >>> alphas = ci.explore.default_temperatures(grid, n=3)
    >>> [float(a) for a in alphas]
    [0.00112, 0.337, 101.0]
    """
    _check_mdp(mdp)
    n = _checks.integer(n, "n", low=2)
    r = np.asarray(mdp.r)
    finite = r[np.isfinite(r)]
    spread = float(np.ptp(finite)) if finite.size else 0.0
    spread = spread if spread > 0 else 1.0
    T = mdp.horizon
    alphas = np.geomspace(spread / (100 * T), 10 * (T + 1) * spread, n)
    return np.array([float(f"{a:.3g}") for a in alphas])


def page(mdp: GridMDP, path: PathLike, temperatures: ArrayLike | None = None,
         title: str | None = None) -> pathlib.Path:
    r"""Write the interactive message-intersection page of a grid world to ``path``.

    One HTML file with the data and a small vanilla-JS viewer inline (no
    network, no server; opens from disk in any current browser). It shows,
    side by side, the forward messages ``α_t``, the backward messages
    ``β_t``, the posterior ``p(s_t | O)`` and the policy's arrows, with
    sliders for the time step ``t`` and the temperature, a mode switch
    exact / soft / hard and the numbers of a cell on hover. In soft and hard
    mode the panels show what :func:`ctrlinf.forward` and
    :func:`ctrlinf.marginals` return there: the occupancy of the policy
    rolled out from ``p0`` (and ``V_t`` in the middle). Each temperature is an
    exact solve (CS285 "Control as inference"; Levine 2018):

    .. math::

        p(s_t \mid \mathcal{O}_{0:T-1}) \propto \alpha_t(s)\,\beta_t(s),\qquad
        \beta_t(s) = e^{V_t(s)/\tau}\ \text{(exact mode, temperature } \tau).

    Parameters
    ----------
    mdp : GridMDP
        A grid world (``ci.envs.gridworld``, ``gridworld_from_map``, ...) with a
        finite horizon and ``gamma = 1`` (exact mode has no discount). States
        after the ``rows * cols`` cells are not drawn; the page reports their mass.
    path : str or os.PathLike
        Where to write the page, a file in an existing folder (overwritten); checked
        before anything is solved.
    temperatures : array_like of float, optional
        The temperatures τ > 0 of the slider; :func:`default_temperatures` when
        omitted (near-hard to near-uniform).
    title : str, optional
        Heading of the page; by default the MDP's size.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TypeError
        ``mdp`` is not a GridMDP, or ``path`` is not a path.
    ValueError
        ``path`` cannot be written (a directory, a missing folder, no permission, a
        NUL byte), infinite horizon, ``gamma != 1``, bad temperatures, or a world too large
        to embed: ``S * T * (2 K + 1)`` must stay at most :data:`MAX_VALUES`
        for ``K`` temperatures.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import ctrlinf as ci
    >>> grid = ci.envs.gridworld_from_map(["S..", ".#G"], slip=0.1, horizon=5)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = ci.explore.page(grid, pathlib.Path(folder) / "page.html",
    ...                           temperatures=[0.1, 1.0])
    ...     text, size = out.read_text(encoding="utf-8"), out.stat().st_size
    >>> "http://" in text or "https://" in text, size < 100_000
    (False, True)
    """
    _check_grid(mdp)
    temperatures = (default_temperatures(mdp) if temperatures is None
                    else _check_temperatures(temperatures))
    _check_size(mdp, len(temperatures))
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    path = pathlib.Path(_checks.output_file(path, "path"))   # before the solves, not after
    data = _page_data(mdp, temperatures)
    text = _render(data, title if title is not None else repr(mdp))
    path.write_text(text, encoding="utf-8")
    return path


# -- checks ------------------------------------------------------------------
def _check_mdp(mdp):
    from ctrlinf.mdp import TabularMDP

    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a TabularMDP, got {type(mdp).__name__}")
    if mdp.horizon is None:
        raise ValueError("mdp has an infinite horizon (horizon=None); the explore page "
                         "needs a finite horizon T (use mdp.replace(horizon=T))")


def _check_grid(mdp):
    from ctrlinf.envs.grid import GridMDP

    if not isinstance(mdp, GridMDP):
        raise TypeError(
            f"mdp must be a GridMDP (a grid world such as ci.envs.gridworld(...)) so the page "
            f"can lay states out as cells, got {type(mdp).__name__}")
    _check_mdp(mdp)
    if mdp.gamma != 1.0:
        raise ValueError(f"mdp has gamma={mdp.gamma:g}; the explore page needs gamma=1 because "
                         f"exact mode has no discount (use mdp.replace(gamma=1.0))")


def _check_temperatures(temperatures):
    values = _checks.real_array(temperatures, "temperatures", shape=(None,))
    if values.size == 0:
        raise ValueError("temperatures is empty, expected at least one temperature")
    for i, value in enumerate(values):
        _checks.temperature(float(value), f"temperatures[{i}]")
    values = np.sort(values)
    if np.any(np.diff(values) == 0):
        raise ValueError(f"temperatures contains a repeated value: {temperatures!r}")
    return values


def _check_size(mdp, n_temperatures):
    S, T = mdp.n_states, mdp.horizon
    stored = S * T * (2 * n_temperatures + 1)
    if stored > MAX_VALUES:
        raise ValueError(
            f"world too large to embed: S * T * (2K + 1) = {S} * {T} * {2 * n_temperatures + 1} "
            f"= {stored:,} stored values for K = {n_temperatures} temperatures, limit "
            f"{MAX_VALUES:,}; use a smaller grid, a shorter horizon or fewer temperatures")


# -- data --------------------------------------------------------------------
def _page_data(mdp, temperatures):
    import ctrlinf as ci

    rows, cols = mdp.shape
    n_cells = rows * cols
    starts = np.flatnonzero(np.asarray(mdp.p0)[:n_cells] > 0)
    data = {
        "shape": [rows, cols],
        "n_states": mdp.n_states,
        "horizon": mdp.horizon,
        "actions": [{"name": name, "delta": [int(d) for d in delta]}
                    for name, delta in zip(mdp.action_names, mdp.action_deltas)],
        "walls": _cells(mdp.walls),
        "goals": _cells(mdp.goals),
        "pits": _cells(mdp.pits),
        "starts": [int(s) for s in starts],
        "temperatures": [float(a) for a in temperatures],
        "digits": DIGITS,
        "policy_scale": POLICY_SCALE,
        "caption": list(CAPTION),
        "modes": {"exact": [], "soft": [], "hard": []},
    }
    for alpha in temperatures:
        exact = ci.solve(mdp, mode="exact", temperature=float(alpha))
        _, beta, _ = exact.backward_messages()
        data["modes"]["exact"].append({
            "temperature": float(alpha),
            "forward": _Numbers(ci.forward(mdp, exact)),
            "backward": _Numbers(beta),
            "posterior": _Numbers(ci.marginals(mdp, exact)[0]),
            "V": _Numbers(exact.V),
            "policy": _Policy(exact.policy),
        })
        soft = ci.solve(mdp, mode="soft", temperature=float(alpha))
        data["modes"]["soft"].append(_rollout_entry(mdp, soft, float(alpha)))
    hard = ci.solve(mdp, mode="hard")
    data["modes"]["hard"].append(_rollout_entry(mdp, hard, None))
    return data


def _rollout_entry(mdp, sol, temperature):
    import ctrlinf as ci

    # forward and marginals coincide for soft and hard solutions (both are the
    # rollout occupancy); store it once and let the page draw it in both panels.
    return {"temperature": temperature, "occupancy": _Numbers(ci.forward(mdp, sol)),
            "V": _Numbers(sol.V), "policy": _Policy(sol.policy)}


def _cells(mask):
    return [int(s) for s in np.flatnonzero(np.asarray(mask).ravel())]


class _Numbers:
    """A float array to be written as a flat JSON list with ``DIGITS`` significant digits."""

    def __init__(self, array):
        self.array = np.asarray(array, dtype=float)
        if not np.all(np.isfinite(self.array)):
            raise ValueError("a result to embed is not finite; the page can only show finite "
                             "numbers (check the rewards and temperatures)")

    def json(self):
        text = ",".join(f"{x:.{DIGITS}g}" for x in self.array.ravel().tolist())
        # Shorter exponents ("1.5e-05" -> "1.5e-5") and no negative zeros keep the file small.
        text = re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2),
                      text)
        text = re.sub(r"(^|,)-0(?=,|$)", r"\g<1>0", text)
        return "[" + text + "]"


class _Policy(_Numbers):
    """A policy ``(T, S, A)`` written as integers in units of ``1 / POLICY_SCALE``."""

    def json(self):
        scaled = np.rint(self.array.ravel() * POLICY_SCALE).astype(np.int64)
        return "[" + ",".join(map(str, scaled.tolist())) + "]"


def _to_json(value):
    if isinstance(value, _Numbers):
        return value.json()
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + _to_json(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_to_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _render(data, title):
    from ctrlinf.explore._template import TEMPLATE

    filling = {
        "TITLE": html.escape(title),
        "CAPTION": "\n".join(f"<span>{html.escape(c)}</span>" for c in CAPTION),
        # "</" would end the <script> element early; JSON allows the escaped "<\/".
        "DATA": _to_json(data).replace("</", "<\\/"),
    }
    # One pass over the template: text put in (a title such as "%%DATA%%") is never
    # searched for placeholders again.
    return re.sub(r"%%(TITLE|CAPTION|DATA)%%", lambda match: filling[match.group(1)], TEMPLATE)
