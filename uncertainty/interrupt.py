"""Ctrl-C that always stops a command cleanly: exit 130, nothing written, no traceback.

A plain ``KeyboardInterrupt`` is not enough. It is raised wherever Python happens to be when the
signal arrives, and while JAX compiles, that is often inside a callback run by the compiler's
C++ code, which wraps the exception in a ``RuntimeError``; inside JAX's garbage-collector
callback, Python prints it as "Exception ignored" and carries on drawing. So the handler also
records the request:

- the run checks it between steps, and the place that makes outputs visible refuses to publish
  once one was made (``raise_if_requested``);
- the CLI reports the run as interrupted whatever exception it ended with;
- an interrupt that Python could not raise (a garbage-collector callback) is not printed: it is
  honoured at the next check instead;
- one that lands while a module is being imported is delivered again a moment later, unless
  the run was stopped meanwhile (a phase boundary saw the request): the command is then already
  unwinding, and a second KeyboardInterrupt would break its one-line exit into a traceback.
  For the same reason a Ctrl-C repeated while the first unwinds is recorded, not raised, for
  :data:`REPEAT_SECONDS`.

Only the CLI installs the handler; importing the package changes no signal disposition.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

__all__ = ["install", "raise_if_requested", "requested"]

_REQUESTED = threading.Event()
_RAISED: list[float] = []  # when a KeyboardInterrupt was raised for the request, if it was
RETRY_SECONDS = 0.05
REPEAT_SECONDS = 2.0


def _on_interrupt(signum, frame) -> None:
    _REQUESTED.set()
    if _RAISED and time.monotonic() - _RAISED[0] < REPEAT_SECONDS:
        return  # already stopping: let the one-line exit finish
    if _importing(frame):
        # Import machinery and extension modules' start-up code can print an exception raised
        # inside them as a traceback, or mark it "unhandled" so that the process later dies by
        # SIGINT: ask again shortly, until the signal lands outside any import.
        again = threading.Timer(RETRY_SECONDS, _deliver_again)
        again.daemon = True
        again.start()
        return
    _raise()


def _deliver_again() -> None:
    if not _RAISED:  # not stopped meanwhile at a check
        os.kill(os.getpid(), signal.SIGINT)


def _raise():
    _RAISED[:] = [time.monotonic()]
    raise KeyboardInterrupt


def _importing(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def install() -> None:
    """Handle Ctrl-C from now on, even if the launching shell ignored SIGINT (background jobs)."""
    _REQUESTED.clear()
    _RAISED.clear()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_interrupt)
    if not isinstance(sys.unraisablehook, _QuietWhenInterrupted):
        sys.unraisablehook = _QuietWhenInterrupted(sys.unraisablehook)


class _QuietWhenInterrupted:
    """Drops the "Exception ignored ... KeyboardInterrupt" report; passes every other one on."""

    def __init__(self, report):
        self._report = report

    def __call__(self, unraisable) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            self._report(unraisable)


def requested() -> bool:
    return _REQUESTED.is_set()


def raise_if_requested() -> None:
    """Called just before anything becomes visible to the user."""
    if _REQUESTED.is_set():
        _raise()
