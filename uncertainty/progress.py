"""What a command is doing while it works: one line on stderr, on a terminal only.

A :class:`Feedback` is passed to the long steps of a command. Each step is a *phase*
(``with feedback.phase("figures"):``); the Monte Carlo run reports its draws through
:meth:`Feedback.draws`, which shows "compiling" until the first block of draws is back and then
the draws so far, the total, percentage and ETA when the total is known, and the Monte Carlo error
reached when the run stops by error. The rate counts from the end of compilation.

The display (`rich`) appears only when stderr is a terminal and ``show`` is true (``--quiet``
sets it false); it vanishes when the command ends, leaving the terminal to the command's own
output. Whether shown or not, every phase is timed (:attr:`Feedback.timings`, what a report's
``timings.json`` holds), and every phase boundary and every progress call is where a Ctrl-C
that a library swallowed stops the run (see :mod:`uncertainty.interrupt`).

Example
-------
>>> feedback = Feedback(show=False)
>>> with feedback.phase("figures"):
...     pass
>>> sorted(feedback.timings["phases"])
['figures']
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr

from . import interrupt

__all__ = ["DrawProgress", "Feedback"]


class Feedback:
    """The progress display of one command, and the time each of its phases took.

    Parameters
    ----------
    show : bool
        False (``--quiet``) never draws anything; the phases are still timed.
    stream : file, optional
        Where to draw (default: ``sys.stderr``); nothing is drawn unless it is a terminal.
    stepwise : bool
        Run long sampler loops a step at a time (NumPyro's progress-bar loop) so that Ctrl-C
        stops them within a step, shown or not; the CLI sets it. Without it a library call
        keeps NumPyro's fused loop.
    """

    def __init__(self, show: bool = True, stream=None, stepwise: bool = False):
        self.stepwise = stepwise
        self._stream = stream if stream is not None else sys.stderr
        isatty = getattr(self._stream, "isatty", lambda: False)
        self.shown = bool(show) and isatty()
        self._display = None
        self._task = None
        self._phases: dict[str, float] = {}
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    # --- the display ------------------------------------------------------------------------
    def _start(self):
        if not self.shown or self._display is not None:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        console = Console(file=self._stream, stderr=True)
        # stdout is the command's (a table, or JSON piped to a file): never redirected.
        self._display = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                 BarColumn(bar_width=24), TextColumn("{task.fields[detail]}"),
                                 TimeElapsedColumn(), console=console, transient=True,
                                 redirect_stdout=False, redirect_stderr=True)
        self._display.start()
        self._task = self._display.add_task("", total=None, detail="")

    def _show(self, description: str, total: float | None = None, completed: float = 0,
              detail: str = "") -> None:
        if not self.shown:
            return
        self._start()
        self._display.update(self._task, description=description, total=total,
                             completed=completed, detail=detail)

    def close(self) -> None:
        """Remove the display (the command's output follows on a clean terminal)."""
        if self._display is not None:
            self._display.stop()
            self._display = None

    # --- phases -----------------------------------------------------------------------------
    @contextmanager
    def phase(self, description: str) -> Iterator[None]:
        """Show ``description`` while the body runs, and time it."""
        interrupt.raise_if_requested()
        self._show(description)
        started = time.perf_counter()
        try:
            yield
        finally:
            self._add(description, time.perf_counter() - started)
        interrupt.raise_if_requested()

    @contextmanager
    def outside(self, description: str) -> Iterator[None]:
        """A phase that draws its own progress bar (NumPyro's, with tqdm): this display steps
        aside for it when shown; when not shown, that bar's redraws are dropped from stderr
        (everything else written there still goes through)."""
        interrupt.raise_if_requested()
        self.close()
        started = time.perf_counter()
        try:
            if self.shown:
                yield
            else:
                with redirect_stderr(_WithoutProgressBars(sys.stderr)):
                    yield
        finally:
            self._add(description, time.perf_counter() - started)
        interrupt.raise_if_requested()

    def draws(self, total: int | None = None, rtol: float | None = None) -> DrawProgress:
        """The ``progress`` callback of :func:`uncertainty.streaming.stream` for this display."""
        return DrawProgress(self, total, rtol)

    def _add(self, description: str, seconds: float) -> None:
        self._phases[description] = self._phases.get(description, 0.0) + seconds

    @property
    def timings(self) -> dict:
        """Seconds per phase, and the wall and CPU time since this object was made."""
        return {"wall_seconds": round(time.perf_counter() - self._wall, 3),
                "cpu_seconds": round(time.process_time() - self._cpu, 3),
                "phases": {name: round(seconds, 3) for name, seconds in self._phases.items()}}


class DrawProgress:
    """Draws so far, as a ``stream`` run reports them (called with draws and error or None).

    Use it as a context manager around the run: until its first call the run is compiling (and
    drawing its first block). A run that stops by error reports its first block before it
    compiles the program that draws the rest, so the rate is measured from the second call on:
    it never includes compilation."""

    def __init__(self, feedback: Feedback, total: int | None, rtol: float | None):
        self._feedback, self._total, self._rtol = feedback, total, rtol
        self._first = None  # time of the first call: the first block is back
        self._begun = None  # (time, draws) at the second call: every program is compiled
        self._error = None
        self._entered = None

    def __enter__(self) -> DrawProgress:
        interrupt.raise_if_requested()
        self._entered = time.perf_counter()
        self._feedback._show("compiling")
        return self

    def __exit__(self, *exc) -> None:
        now = time.perf_counter()
        compiled = self._first if self._first is not None else now
        self._feedback._add("compiling", compiled - self._entered)
        self._feedback._add("drawing", now - compiled)

    def __call__(self, draws: int, error: float | None) -> None:
        interrupt.raise_if_requested()
        now = time.perf_counter()
        if self._first is None:
            self._first = now
        elif self._begun is None:
            self._begun = (now, draws)
        self._error = error if error is not None else self._error
        self._feedback._show("drawing", total=self._total, completed=draws,
                             detail=self.detail(draws, now))

    def rate(self, draws: int, now: float) -> float | None:
        """Draws per second since the second call; None before a third."""
        if self._begun is None:
            return None
        since, first = self._begun
        return (draws - first) / (now - since) if now > since and draws > first else None

    def detail(self, draws: int, now: float) -> str:
        """``1,048,576 of 4,000,000 draws (26%), 2.1M draws/s, ETA 2 s``, or with the error."""
        parts = [f"{draws:,} of {self._total:,} draws ({100 * draws / self._total:.0f}%)"
                 if self._total else f"{draws:,} draws"]
        rate = self.rate(draws, now)
        if rate:
            parts.append(f"{_si(rate)} draws/s")
            if self._total and draws < self._total:
                parts.append(f"ETA {(self._total - draws) / rate:.0f} s")
        if self._error is not None:
            target = f" (target {100 * self._rtol:.2f}%)" if self._rtol else ""
            parts.append(f"Monte Carlo error {100 * self._error:.2f}%{target}")
        return ", ".join(parts)


class _WithoutProgressBars:
    """A text stream that passes writes on, except a progress bar's: tqdm redraws its bar with
    writes that start with a carriage return, and ends it with a lone newline."""

    def __init__(self, stream):
        self._stream = stream
        self._after_bar = False

    def write(self, text: str) -> int:
        bar = text.startswith("\r") or (self._after_bar and text == "\n")
        self._after_bar = text.startswith("\r")
        return len(text) if bar else self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False


def _si(value: float) -> str:
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"
