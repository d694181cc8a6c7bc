"""The ``ctrlinf`` command: one module per subcommand, listed in :data:`COMMANDS`.

Every user error (an unknown world, a bad number, an unreadable file, an
unwritable output path, a problem too big for memory) prints one line on
stderr and exits with status 2, never a traceback.

Adding a subcommand ``NAME``: write ``ctrlinf/cli/NAME.py`` with

- ``HELP``: one line for ``ctrlinf --help``; ``DESCRIPTION`` and ``EPILOG``:
  the text of ``ctrlinf NAME --help`` (examples in the epilog, kept as written);
- ``add_arguments(parser)``: adds the arguments; every option's help ends with
  its default, ``(default: ...)`` or ``(required)``;
- ``run(args) -> int``: the exit status; it raises :class:`UsageError` (or
  ValueError, TypeError, OSError) for anything the user can fix, and
  :func:`main` prints that as the one line;

and add the line ``("NAME", NAME)`` to :data:`COMMANDS`. Check output paths
before long work with :func:`~ctrlinf.cli._common.check_writable_file` /
:func:`~ctrlinf.cli._common.check_writable_dir`, and sizes with
:func:`~ctrlinf.cli._common.check_memory`; :mod:`ctrlinf.cli._worlds` reads the
WORLD argument of ``solve`` and ``explore``. Numbers a command prints come from
the core (``ci.solve``, ``ci.evaluate_policy``, ``ci.marginals``, ...), never
from a re-derivation here.
"""
from __future__ import annotations

import functools
import gc
import os
import sys
import warnings

from ctrlinf.cli import check
from ctrlinf.cli import demo
from ctrlinf.cli import explore
from ctrlinf.cli import irl
from ctrlinf.cli import solve
from ctrlinf.cli import sweep
from ctrlinf.cli import tutorial
from ctrlinf.cli._common import Formatter
from ctrlinf.cli._common import Parser
from ctrlinf.cli._common import UsageError
from ctrlinf.cli._common import one_line
from ctrlinf.cli._common import version

#: The subcommands, in the order ``ctrlinf --help`` lists them: (name, module).
COMMANDS = (
    ("demo", demo),
    ("solve", solve),
    ("irl", irl),
    ("tutorial", tutorial),
    ("explore", explore),
    ("sweep", sweep),
    ("check", check),
)

__all__ = ["COMMANDS", "UsageError", "build_parser", "main"]


def build_parser():
    """The ``ctrlinf`` argument parser, one subparser per entry of :data:`COMMANDS`."""
    parser = Parser(
        prog="ctrlinf",
        description="Exact reinforcement learning as probabilistic inference on small MDPs.",
        epilog="Examples:\n  ctrlinf demo\n  ctrlinf solve gridworld:8x8 --mode exact\n"
               "  ctrlinf solve my_mdp.npz --mode soft --temperature 0.5 --plot v.png\n"
               "ctrlinf COMMAND --help describes each command.",
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"ctrlinf {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS:
        command = commands.add_parser(name, help=module.HELP, description=module.DESCRIPTION,
                                      epilog=module.EPILOG, formatter_class=Formatter)
        module.add_arguments(command)
    return parser


def exit_status():
    """Run ``ctrlinf`` on ``sys.argv[1:]`` as a whole process; return the exit status.

    The entry point of the installed command and of ``python -m ctrlinf``: like
    :func:`main`, then :func:`gc.freeze`, because the process ends next. Python's
    last garbage collection at exit then skips the objects numba and matplotlib
    leave (~0.1-0.25 s after ``ctrlinf demo``); the operating system frees the memory
    anyway. Only for a process about to end: in a running program, frozen objects
    are never collected.
    """
    status = main()
    gc.freeze()
    return status


def main(argv=None):
    """Run ``ctrlinf`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error already printed
        return exit_.code
    if args.command is None:
        parser.print_help()
        return 0
    command = dict(COMMANDS)[args.command]
    with warnings.catch_warnings():
        # A warning reads like the errors: one line naming the command, not Python's
        # "file.py:163: RuntimeWarning" and the source line that raised it.
        warnings.showwarning = functools.partial(_show_warning, args.command)
        return _run(command, args)


def _show_warning(command, message, category, filename, lineno, file=None, line=None):
    print(f"ctrlinf {command}: warning: {one_line(message)}", file=sys.stderr)


def _run(command, args):
    try:
        return command.run(args)
    except BrokenPipeError:
        # The reader went away (e.g. `ctrlinf solve ... | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (UsageError, ValueError, TypeError, OSError) as error:
        # Errors from what the user typed or pointed at; a bug elsewhere would
        # raise something else and keep its traceback.
        print(f"ctrlinf {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"ctrlinf {args.command}: error: out of memory; choose a smaller world or "
              "horizon", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ctrlinf {args.command}: interrupted", file=sys.stderr)
        return 130
