"""Start a Python process that runs code with this same ctrlinf.

``ctrlinf demo`` uses a second process for work that can run beside it (the forward
kernels' compilation on a first run, :mod:`ctrlinf._compile_ahead`; drawing figures,
:mod:`ctrlinf.demo`). The child must import the ctrlinf this process imported, also
when that one is not installed but found through the current folder or ``PYTHONPATH``.
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from typing import Any


def start_python(code: str, **popen_arguments: Any) -> subprocess.Popen:
    """``python -c code`` with this interpreter and this ctrlinf first on its path.

    ``popen_arguments`` go to :class:`subprocess.Popen`; raises OSError as it does.
    """
    package_parent = str(pathlib.Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-c", code], env=env, **popen_arguments)
