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
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["GRACE_SECONDS", "announce_once", "install", "publishing", "raise_if_requested",
           "requested", "run_watched", "temporary"]

_REQUESTED = threading.Event()
# Held while outputs become visible (a rename): a forced exit waits for it, and nothing starts
# to publish once a Ctrl-C was pressed, so the user is never told "nothing was written" of a
# directory that appeared.
_PUBLISHING = threading.RLock()
_TEMPORARY: set[Path] = set()  # staging paths to remove if the run is abandoned
_ANNOUNCED = threading.Event()
# How long a run may take to stop at its next check before the process ends without it (while
# XLA compiles, a run makes no check for seconds).
GRACE_SECONDS = 0.5
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
    _ANNOUNCED.clear()
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


@contextmanager
def publishing() -> Iterator[None]:
    """Make outputs visible (a rename) unless Ctrl-C was pressed: checked under the lock that a
    forced exit takes first, so an output is either published before the exit or never."""
    with _PUBLISHING:
        raise_if_requested()
        yield


@contextmanager
def temporary(path: Path) -> Iterator[Path]:
    """``path`` (a staging directory or file) is removed if the process ends mid-run."""
    _TEMPORARY.add(Path(path))
    try:
        yield Path(path)
    finally:
        _TEMPORARY.discard(Path(path))


def run_watched(work: Callable[[], int], announce: Callable[[], None],
                grace: float = GRACE_SECONDS) -> int:
    """Run ``work()`` (it returns the exit status) in a worker thread while this, the main
    thread, only waits: Ctrl-C is then answered within about a second in every phase, even
    while the worker is deep in native code that makes no Python check (XLA compiling).

    On Ctrl-C the worker has ``grace`` seconds to stop at its next check (it then reports the
    interrupt itself). If it is still busy, no output is being published (the publishing lock
    is taken, and kept), its temporary files are removed, ``announce()`` says so, and the
    process ends with status 130 at once."""
    outcome: list[int] = []
    done = threading.Event()  # not Thread.join: a join cut short by Ctrl-C can leave the
    # thread marked as finished while it still runs (CPython, gh-90882)

    def run() -> None:
        try:
            outcome.append(work())
        finally:
            done.set()

    threading.Thread(target=run, name="sora-uq-run", daemon=True).start()
    try:
        while not done.wait(0.05):
            pass
    except KeyboardInterrupt:
        _REQUESTED.set()
        _RAISED[:] = [time.monotonic()]
        if not done.wait(grace):
            _abandon(announce)
    return outcome[0] if outcome else 130


def _abandon(announce: Callable[[], None]) -> None:
    _PUBLISHING.acquire()  # never released: the process ends here
    for path in list(_TEMPORARY):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    announce_once(announce)
    if sys.stderr.isatty():
        sys.stderr.write("\x1b[?25h")  # a progress display may have hidden the cursor
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def announce_once(announce: Callable[[], None]) -> None:
    """Say "interrupted" once, whichever thread gets there first."""
    with _PUBLISHING:
        if not _ANNOUNCED.is_set():
            _ANNOUNCED.set()
            announce()
