"""``python -m uncertainty.cli``: the same as the ``sora-uq`` command."""

import sys

from . import main

sys.exit(main())
