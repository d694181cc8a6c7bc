"""``python -m ctrlinf`` runs the command line (see :mod:`ctrlinf.cli`)."""
from ctrlinf.cli import main

raise SystemExit(main())
