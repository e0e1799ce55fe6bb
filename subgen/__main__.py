"""``python -m subgen``: the same as the ``subgen`` command."""

import sys

from subgen.cli import main

sys.exit(main())
