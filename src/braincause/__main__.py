"""``python -m braincause`` runs the command-line interface."""

import sys

from braincause.cli import main

sys.exit(main())
