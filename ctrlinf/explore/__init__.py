"""One self-contained interactive HTML page of the message intersection (``ctrlinf explore``).

:func:`page` solves a grid world exactly at a set of temperatures, in exact, soft
and hard mode, and writes a single HTML file (data and a small vanilla-JS viewer
inline; no network, no server) with sliders for the time step and the
temperature. Every number on the page is computed by ctrlinf; the page only draws.
"""
from ctrlinf.explore._page import MAX_VALUES
from ctrlinf.explore._page import default_temperatures
from ctrlinf.explore._page import page

__all__ = [
    "MAX_VALUES",
    "default_temperatures",
    "page",
]
