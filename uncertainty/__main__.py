"""``python -m uncertainty``: the same as the ``sora-uq`` command."""

import sys

from .cli import main

sys.exit(main())
