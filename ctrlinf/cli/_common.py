"""What the subcommands of ``ctrlinf`` share: argument types, and checks made before long work.

A check raises :class:`UsageError` (or ValueError) naming the option; :func:`ctrlinf.cli.main`
prints it as one line and exits with status 2. Output paths are checked before any
solve (:func:`check_writable_file`, :func:`check_writable_dir`), sizes against the
memory the machine has (:func:`check_memory`).
"""
from __future__ import annotations

import argparse
import os

from ctrlinf import _checks


class UsageError(Exception):
    """A problem with the command line that the user can fix; exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep the examples in epilogs as written."""


# -- argument types ------------------------------------------------------------
def _parse(text, convert, valid, expected, unreadable=None):
    """``convert(text)`` if it reads and is ``valid``; else "expected ..., got 'text'"."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {unreadable or expected}, got {text!r}") from None
    if not valid(value):  # NaN fails every comparison, so every check
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_float(text):
    return _parse(text, float, lambda v: 0 < v < float("inf"), "a finite number > 0",
                  unreadable="a number")


def positive_int(text):
    return _parse(text, int, lambda v: v >= 1, "a positive int")


def probability(text):
    return _parse(text, float, lambda v: 0 <= v <= 1, "a number in [0, 1]")


#: What ``--horizon inf`` parses to (not None: None means "keep the world's own horizon").
INFINITE = "inf"


def horizon(text):
    if text.lower() in ("none", "inf", "infinite"):
        return INFINITE
    return _parse(text, int, lambda v: v >= 1, "a positive int or 'inf'")


def discount(text):
    value = positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected 0 < gamma <= 1, got {text!r}")
    return value


def temperature_list(text):
    return [positive_float(part) for part in text.split(",")]


def version():
    try:
        from importlib.metadata import version as installed

        return installed("ctrlinf")
    except Exception:  # run from a checkout that was never installed
        return "unknown (not installed)"


# -- checks made before any long computation --------------------------------------
def check_writable_file(path, option):
    """Raise UsageError unless ``path`` can be written (a new file is created, then removed)."""
    try:
        _checks.output_file(path, option)
    except ValueError as error:
        raise UsageError(str(error)) from None


def check_writable_dir(path, option):
    """Create folder ``path`` if needed; raise UsageError unless files can be written in it."""
    try:
        _checks.output_folder(path, option)
    except ValueError as error:
        raise UsageError(str(error)) from None


def check_image_format(path, option):
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


def bytes_text(n):
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
            f"{what} needs about {bytes_text(estimate)} of memory, more than the limit of "
            f"{bytes_text(MEMORY_FRACTION * free)} ({MEMORY_FRACTION:.0%} of the "
            f"{bytes_text(free)} available); choose a smaller world or horizon")


def solve_bytes(n_states, n_actions, horizon):
    """Bytes ``solve`` (keep="all") and the CLI's evaluation allocate beyond the MDP itself.

    Finite horizon: the solution's Q and π of shape (T, S, A) and V of shape (T, S),
    float64, then :func:`ctrlinf.evaluate_policy` of its policy (its Q, V and about
    three (T, S, A) temporaries), plus a few (S, A) work arrays; infinite: about
    eight (S, A) arrays.
    """
    S, A = n_states, n_actions
    if horizon is None:
        return 8 * 8 * S * A
    return 8 * (6 * horizon * S * A + 2 * horizon * S + 8 * S * A)


def mdp_bytes(mdp):
    P = mdp.P
    return P.data.nbytes + P.indices.nbytes + P.indptr.nbytes + mdp.r.nbytes + mdp.p0.nbytes


def one_line(error):
    """The message of ``error`` on one line (its type's name if it has none)."""
    text = " ".join(str(error).split())
    return text or type(error).__name__
