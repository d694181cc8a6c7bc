"""``python -m ctrlinf`` runs the command line (see :mod:`ctrlinf.cli`)."""
from ctrlinf.cli import exit_status

raise SystemExit(exit_status())
