"""``python -m uncertainty.cli``: the same as the ``sora-uq`` command."""

import sys

from .._program import main

sys.exit(main())
