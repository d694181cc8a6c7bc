"""The one place ctrlinf makes progress bars, and decides when ``progress=None`` shows one.

``tqdm.auto`` picks the notebook widget inside Jupyter, but when ipywidgets is
missing it warns ``IProgress not found`` at *import* time, so a plain
``import ctrlinf`` in a notebook printed a warning the user can do nothing about.
Here the choice is made when a bar is first needed: the widget when Jupyter and
ipywidgets are both there, the plain text bar (``tqdm.std``) otherwise, quietly.
"""
from __future__ import annotations

import functools
import importlib.util
import sys
from typing import Any


#: ``progress=None`` shows a bar when a call's work reaches this much (several seconds on
#: one core), counted in the unit of its kind of work: ``"transitions"`` (stored entries of
#: P times backup steps: ``ci.solve``, the IRL fits), ``"env steps"`` (the off-policy
#: agents) and ``"episodes"`` (the on-policy policy gradient).
WORK_FOR_A_BAR = {"transitions": 5e8, "env steps": 50_000, "episodes": 5_000}


def shows_bar(progress: bool | None, work: float, unit: str) -> bool:
    """Whether a call shows a bar: ``progress`` if it is True or False; for None, whether
    ``work`` (in ``unit``, a key of :data:`WORK_FOR_A_BAR`) reaches the threshold."""
    if progress is None:
        return work >= WORK_FOR_A_BAR[unit]
    return bool(progress)


@functools.cache
def _bar_class() -> Any:
    """``tqdm.notebook.tqdm`` in a Jupyter kernel with ipywidgets, else ``tqdm.std.tqdm``."""
    if "ipykernel" in sys.modules and importlib.util.find_spec("ipywidgets") is not None:
        try:
            from tqdm.notebook import IProgress, tqdm

            if IProgress is not None:  # None when the installed ipywidgets is too old
                return tqdm
        except ImportError:
            pass
    from tqdm.std import tqdm

    return tqdm


def progress_bar(total: int | None, enabled: bool, desc: str) -> Any:
    """A tqdm bar over ``total`` steps, shown only if ``enabled``; it vanishes when done.

    Parameters
    ----------
    total : int or None
        Number of steps (None: unknown).
    enabled : bool
        Show the bar; a disabled bar accepts ``update`` and ``close`` and prints nothing.
    desc : str
        Label in front of the bar.

    Returns
    -------
    tqdm.std.tqdm or tqdm.notebook.tqdm
    """
    return _bar_class()(total=total, disable=not enabled, desc=desc, leave=False)
