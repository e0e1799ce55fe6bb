"""``python -m subgen_cli``: the same as the ``subgen`` command."""

import sys

from subgen_cli.cli import main

sys.exit(main())
