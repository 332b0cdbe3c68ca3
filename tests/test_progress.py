"""The progress display: on a terminal only, silent with --quiet, every phase timed, the draw rate
measured after compilation, Ctrl-C honoured at every phase boundary."""

import io
import os
import signal
import time

import pytest

from uncertainty.progress import Feedback


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _run_phases(feedback):
    with feedback.phase("figures"):
        pass
    with feedback.draws(total=4000) as progress:
        progress(1000, None)
        progress(4000, 0.01)
    feedback.close()


def test_shown_on_a_terminal_only_and_never_with_quiet():
    screen, pipe, quiet = _Terminal(), io.StringIO(), _Terminal()
    for stream, show in ((screen, True), (pipe, True), (quiet, False)):
        _run_phases(Feedback(show=show, stream=stream))
    assert "drawing" in screen.getvalue()
    assert pipe.getvalue() == "" and quiet.getvalue() == ""


def test_every_phase_is_timed_even_when_nothing_is_shown():
    feedback = Feedback(show=False)
    _run_phases(feedback)
    timings = feedback.timings
    assert set(timings["phases"]) == {"figures", "compiling", "drawing"}
    assert timings["wall_seconds"] >= 0 and timings["cpu_seconds"] >= 0


def test_draw_line_states_total_percentage_eta_and_error(monkeypatch):
    progress = Feedback(show=False).draws(total=3_000_000, rtol=0.005)
    # entered; the first block is back; the rest compiled (8 s); 1M draws in 1 s
    clock = iter([0.0, 2.0, 10.0, 11.0])
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    progress.__enter__()
    progress(131_072, 0.02)  # after 2 s of compiling: the first block and its error
    progress(1_000_000, None)  # after 8 s more, mostly compiling what draws the rest
    assert progress.detail(1_000_000, 10.0).endswith("Monte Carlo error 2.00% (target 0.50%)")
    progress(2_000_000, 0.0071)  # the rate leaves both compilations out
    line = progress.detail(2_000_000, 11.0)
    assert "2,000,000 of 3,000,000 draws (67%)" in line
    assert "1M draws/s" in line and "ETA 1 s" in line
    assert "Monte Carlo error 0.71% (target 0.50%)" in line


def test_draw_line_without_a_total_counts_draws():
    progress = Feedback(show=False).draws(total=None, rtol=0.005)
    with progress:
        progress(131_072, 0.02)
    assert progress.detail(131_072, time.perf_counter()).startswith("131,072 draws, ")


def test_ctrl_c_that_was_swallowed_stops_at_the_next_phase():
    from uncertainty import interrupt

    previous = signal.getsignal(signal.SIGINT)
    interrupt.install()
    try:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        feedback = Feedback(show=False)
        with pytest.raises(KeyboardInterrupt), feedback.phase("figures"):
            pass
        with pytest.raises(KeyboardInterrupt):
            feedback.draws(total=10)(5, None)
    finally:
        interrupt.install()
        signal.signal(signal.SIGINT, previous)


def test_a_bar_drawn_outside_is_dropped_when_not_shown(capsys):
    import sys

    with Feedback(show=False).outside("sampler"):
        sys.stderr.write("\rwarmup:  5%|#  | 50/1000")
        sys.stderr.write("\n")
        sys.stderr.write("a warning\n")
    assert capsys.readouterr().err == "a warning\n"
