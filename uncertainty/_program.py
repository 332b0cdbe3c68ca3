"""The ``sora-uq`` program's first lines: Ctrl-C is handled before anything else is imported.

Python's own handler turns a Ctrl-C during the command line's imports into a traceback; the
tool's handler (:mod:`uncertainty.interrupt`) is installed here first, so a Ctrl-C at any
moment after the interpreter's own start-up ends the program with one line and status 130.
"""

from __future__ import annotations

import sys


def main() -> int:
    from . import interrupt

    interrupt.install()
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        run = None
    if run is None or interrupt.requested():
        print("sora-uq: interrupted; nothing was written", file=sys.stderr)
        return 130
    return run()
