"""Nothing lost, nothing half-written: atomic report directories and never-overwritten files."""

import errno
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from conftest import ROOT, run_cli, write_identity_model

from uncertainty.errors import UserError
from uncertainty.files import MANIFEST, Provenance, output_directory, write_new_file


def _snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _write(out, text, force=False):
    with output_directory(out, force) as staging:
        (staging / "a.txt").write_text(text)


def test_directory_appears_whole_with_a_manifest(tmp_path):
    out = tmp_path / "r"
    _write(out, "one")
    assert (out / "a.txt").read_text() == "one"
    assert json.loads((out / MANIFEST).read_text())["files"] == ["a.txt"]
    _write(out, "two")
    assert (out / "a.txt").read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_a_crash_while_writing_leaves_the_previous_report_intact(tmp_path):
    out = tmp_path / "r"
    _write(out, "previous")
    with pytest.raises(RuntimeError), output_directory(out) as staging:
        (staging / "a.txt").write_text("half")
        raise RuntimeError("crash part-way")
    assert (out / "a.txt").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_user_directory_is_refused_unless_forced(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    with pytest.raises(UserError, match="--force"):
        _write(out, "x")
    assert (out / "notes.txt").read_text() == "precious"
    _write(out, "x", force=True)
    assert not (out / "notes.txt").exists() and (out / "a.txt").read_text() == "x"


def _write_for(out, command, priors, force=False):
    with output_directory(out, force, Provenance.of(command, priors)) as staging:
        (staging / "a.txt").write_text(f"{command} {priors}")


def test_a_directory_of_another_prior_file_or_command_is_kept_unless_forced(tmp_path):
    mine, theirs = tmp_path / "mine.toml", tmp_path / "theirs.toml"
    out = tmp_path / "reports" / "r"
    _write_for(out, "report", [mine])
    assert json.loads((out / MANIFEST).read_text())["priors"] == ["../../mine.toml"]
    _write_for(out, "report", [tmp_path / "." / "mine.toml"])  # the same file: replaced
    for command, priors in (("report", [theirs]), ("tornado", [mine]),
                            ("compare", [mine, theirs])):
        with pytest.raises(UserError) as refused:
            _write_for(out, command, priors)
        message = str(refused.value)
        assert "written by `sora-uq report --priors " in message and "mine.toml" in message
        assert "--force" in message and "--out" in message and "\n" not in message
    assert (out / "a.txt").read_text() == f"report {[tmp_path / '.' / 'mine.toml']}"
    _write_for(out, "tornado", [mine], force=True)
    assert json.loads((out / MANIFEST).read_text())["command"] == "tornado"


def test_a_file_the_user_added_to_an_output_directory_is_kept_unless_forced(tmp_path):
    out = tmp_path / "r"
    _write(out, "one")
    (out / "notes.txt").write_text("mine")
    (out / ".DS_Store").write_text("a file browser's")  # never a reason to refuse
    with pytest.raises(UserError, match="holds notes.txt, which sora-uq did not write"):
        _write(out, "two")
    assert (out / "notes.txt").read_text() == "mine" and (out / "a.txt").read_text() == "one"
    (out / "notes.txt").unlink()
    _write(out, "two")
    assert (out / "a.txt").read_text() == "two"


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_honour_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        with output_directory(tmp_path / "r") as staging:
            (staging / "sub").mkdir()
            (staging / "sub" / "a.txt").write_text("x")
        write_new_file(tmp_path / "new.toml", "a = 1\n")
    finally:
        os.umask(previous)
    out = tmp_path / "r"
    for path, full in ((out, 0o777), (out / "sub", 0o777), (out / "sub" / "a.txt", 0o666),
                       (out / MANIFEST, 0o666), (tmp_path / "new.toml", 0o666)):
        assert path.stat().st_mode & 0o777 == full & ~umask, path


def test_an_out_that_is_a_symbolic_link_replaces_its_target_and_leaves_nothing(tmp_path):
    target = tmp_path / "target"
    _write(target, "one")
    link = tmp_path / "latest"
    link.symlink_to(target, target_is_directory=True)
    _write(link, "two")
    assert link.is_symlink() and (link / "a.txt").read_text() == "two"
    assert (target / "a.txt").read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "target"]


def test_a_copied_prior_file_writes_its_own_report_not_the_original(tmp_path, monkeypatch):
    # `cp priors/article.toml my.toml; sora-uq report --priors my.toml` used to rewrite
    # reports/article/ (the default came from [meta] name, which the copy keeps).
    monkeypatch.chdir(tmp_path)
    shutil.copy(ROOT / "priors" / "article.toml", tmp_path / "my.toml")
    args = ("--samples", "1000", "--no-sensitivity", "--quiet")
    assert run_cli("report", "--priors", "article", *args).returncode == 0
    before = _snapshot(tmp_path / "reports" / "article")
    result = run_cli("report", "--priors", "my.toml", *args)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["article", "my"]
    assert _snapshot(tmp_path / "reports" / "article") == before
    # and a directory another prior file wrote is not replaced without --force
    clash = run_cli("report", "--priors", "my.toml", "--out", "reports/article", *args)
    assert clash.returncode == 2 and "--force" in clash.stderr
    assert len(clash.stderr.strip().splitlines()) == 1 and "Traceback" not in clash.stderr
    assert _snapshot(tmp_path / "reports" / "article") == before


def test_write_new_file_never_overwrites(tmp_path):
    path = tmp_path / "new.toml"
    write_new_file(path, "a = 1\n")
    with pytest.raises(UserError, match="never overwritten"):
        write_new_file(path, "a = 2\n")
    assert path.read_text() == "a = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.toml"]


def test_unwritable_directory_is_a_clear_error(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere; permission checks cannot fail")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = run_cli("report", "--samples", "100", "--out", str(locked / "r"))
    assert result.returncode == 2 and "cannot write here" in result.stderr


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize("command", [
    ("report", "--samples", "100", "--out", "/proc/sora-uq-test/r"),
    ("tornado", "--out", "/proc/sora-uq-test/t"),
    ("compare", "--priors", "article", "--priors", "article", "--samples", "100",
     "--out", "/proc/sora-uq-test/c"),
    ("update", "--priors", "article", "--evidence", "priors/evidence/demand-2025.toml",
     "--out", "/proc/sora-uq-test/u.toml"),
])
def test_a_folder_that_takes_no_new_entry_is_refused_before_the_work(command, monkeypatch):
    """/proc refuses a new folder even to root, whom permission bits never stop: the check asks
    the file system itself, before any drawing (``update`` would otherwise run NUTS first)."""
    monkeypatch.chdir(ROOT)
    result = run_cli(*command)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"sora-uq: error: {command[-1]}: cannot write here (/proc: No such file or directory)"]


def test_a_write_that_fails_midway_is_a_clear_error_and_leaves_nothing(tmp_path):
    """A full disk while writing: one clear error, and the target as it was (absent here,
    unchanged when it existed), no temporary folder left behind."""
    for existed in (False, True):
        out = tmp_path / "r"
        if existed:
            _write(out, "before")
        before = _snapshot(tmp_path)
        with pytest.raises(UserError, match=r"r: could not be written \(No space left on device\)"):
            with output_directory(out) as staging:
                (staging / "a.txt").write_text("after")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        assert _snapshot(tmp_path) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == (["r"] if existed else [])


def test_unwritable_location_is_a_clear_error(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = run_cli("report", "--samples", "100", "--out", str(target / "r"))
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def report_2000(tmp_path_factory):
    out = tmp_path_factory.mktemp("previous") / "article"
    assert run_cli("report", "--samples", "2000", "--out", str(out)).returncode == 0
    return out


def _previous_report(tmp_path, report):
    """A copy of a finished report: what an interrupted run must leave as it was."""
    return Path(shutil.copytree(report, tmp_path / "article"))


def _start_report(out, samples, **streams):
    # SIGINT as this process has it: ignored, when pytest is a background job.
    return subprocess.Popen(
        [sys.executable, "-m", "uncertainty.cli", "report", "--samples", samples,
         "--out", str(out)],
        cwd=ROOT, **streams)


def _read_terminal(fd, until: bytes | None, process, seconds: float) -> bytes:
    """What the run wrote to its terminal: up to ``until`` (None: until it closed)."""
    seen, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline and (until is None or until not in seen):
        if select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the run exited and its terminal closed
                break
            if not chunk:
                break
            seen += chunk
        elif until is not None and process.poll() is not None:
            break
    return seen


def _open_terminal() -> tuple[int, int]:
    """A pseudo-terminal 120 columns wide (progress bars draw nothing at width 0)."""
    try:
        controller, terminal = pty.openpty()
    except OSError as err:  # a machine without pseudo-terminals
        pytest.skip(f"no pty: {err}")
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    return controller, terminal


def test_ctrl_c_while_drawing_keeps_the_previous_report(tmp_path, report_2000):
    out = _previous_report(tmp_path, report_2000)
    before = _snapshot(out)
    # stderr is a terminal, so the run shows its progress: Ctrl-C comes once it is drawing,
    # not after a guessed delay (a fixed sleep raced both a slow start and a fast machine).
    controller, terminal = _open_terminal()
    process = _start_report(out, "400000000", stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    try:
        shown = _read_terminal(controller, b"drawing", process, seconds=120)
        assert b"drawing" in shown and process.poll() is None, shown.decode(errors="replace")
        process.send_signal(signal.SIGINT)
        shown += _read_terminal(controller, None, process, seconds=120)
        process.wait(timeout=120)
    finally:
        os.close(controller)
        if process.poll() is None:  # never leave a run behind, whatever failed above
            process.kill()
            process.wait()
    stderr = shown.decode(errors="replace")
    assert (process.returncode == 130 and "interrupted" in stderr
            and "Traceback" not in stderr), stderr
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["article"]


def test_killing_a_run_while_it_writes_keeps_the_previous_report(tmp_path, report_2000):
    out = _previous_report(tmp_path, report_2000)
    before = _snapshot(out)
    process = _start_report(out, "20000", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # wait until it is writing its staging directory, then kill it
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".tmp-article-*/*")) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.poll() is None, "the run finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert _snapshot(out) == before
    # A killed process cannot clean up after itself; the next run removes what it left.
    _write(out, "next run")
    assert [p.name for p in tmp_path.iterdir()] == ["article"]


class _Finalizer:
    def __del__(self):
        _ctrl_c_now()


def _ctrl_c_now():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)  # the handler runs here, at once


def _ctrl_c(where):
    """Ctrl-C arriving where a library loses the KeyboardInterrupt, as JAX does while compiling
    (seen: ``RuntimeError: Exception raised in callback``) and in its garbage-collector callback
    (seen: "Exception ignored in: <function _xla_gc_callback ...>", and the run went on)."""
    if where == "finalizer":
        _Finalizer()  # collected at once: Python can only print what it raises
        return
    try:
        _ctrl_c_now()
    except KeyboardInterrupt as interrupted:
        if where == "wrapped":
            raise RuntimeError("Exception raised in callback") from interrupted


@pytest.fixture
def ctrl_c_handler():
    """The CLI's Ctrl-C handler, installed; afterwards the request is cleared and this process's
    own handler is back, so the tests that follow are not interrupted."""
    from uncertainty import interrupt

    previous = signal.getsignal(signal.SIGINT)
    interrupt.install()
    yield interrupt
    interrupt.install()
    signal.signal(signal.SIGINT, previous)


# Under pytest, what Python "ignored" becomes this warning instead of text on stderr.
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("where", ["dropped", "wrapped", "finalizer"])
def test_ctrl_c_that_a_library_swallows_still_stops_the_run(tmp_path, report_2000, monkeypatch,
                                                            where, ctrl_c_handler):
    import uncertainty.report.writer

    out = _previous_report(tmp_path, report_2000)
    before = _snapshot(out)
    real_stream = uncertainty.report.writer.stream

    def stream_hit_by_ctrl_c(*args, **kwargs):
        _ctrl_c(where)
        return real_stream(*args, **kwargs)

    monkeypatch.setattr(uncertainty.report.writer, "stream", stream_hit_by_ctrl_c)
    result = run_cli("report", "--samples", "2000", "--out", str(out))
    assert result.returncode == 130 and "interrupted; nothing was written" in result.stderr
    assert "Exception ignored" not in result.stderr and "Traceback" not in result.stderr
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["article"]


def test_nothing_is_published_once_ctrl_c_was_pressed(tmp_path, ctrl_c_handler):
    out = tmp_path / "r"
    _write(out, "previous")
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    assert ctrl_c_handler.requested()  # as if a library had swallowed the KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        _write(out, "after Ctrl-C")
    with pytest.raises(KeyboardInterrupt):
        write_new_file(tmp_path / "new.toml", "a = 1\n")
    assert (out / "a.txt").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_ctrl_c_during_an_import_is_delivered_once_the_import_is_done(tmp_path, monkeypatch,
                                                                      ctrl_c_handler):
    # Raised inside an import, a KeyboardInterrupt can be printed by an extension module's
    # start-up code, or make the process die by SIGINT at exit after the CLI handled it.
    import importlib

    (tmp_path / "slow_to_import.py").write_text(
        "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(0.5)\n"
        "LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_to_import", raising=False)  # removed again afterwards
    with pytest.raises(KeyboardInterrupt):
        importlib.import_module("slow_to_import")
        time.sleep(5)  # the interrupt comes again here, outside the import
    assert sys.modules["slow_to_import"].LOADED  # the import ran to its end
    assert ctrl_c_handler.requested()


def test_a_ctrl_c_already_honoured_is_not_raised_again_while_the_run_unwinds(
        tmp_path, monkeypatch, ctrl_c_handler):
    # Seen: Ctrl-C during an import, honoured at the next phase boundary, then delivered again
    # by the import retry while the CLI printed its one line: a traceback and death by SIGINT.
    import importlib

    (tmp_path / "slow_import.py").write_text(
        "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(0.2)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_import", raising=False)
    importlib.import_module("slow_import")  # the retry is still pending when this returns
    with pytest.raises(KeyboardInterrupt):
        ctrl_c_handler.raise_if_requested()  # a phase boundary stops the run
    time.sleep(0.5)  # the pending retry must not raise here, nor a repeated Ctrl-C
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)
    assert ctrl_c_handler.requested()


def _toy_update_inputs(folder):
    """A one-input model, its prior file and one observation of its output."""
    write_identity_model(folder)
    (folder / "p.toml").write_text(
        '[meta]\nname = "toy"\nmodel = "m.py:MODEL"\n[assumptions.x]\ndist = "lognormal"\n'
        'median = 1.0\nsigma = 1.0\nsource = "test"\n')
    (folder / "ev.toml").write_text(
        '[[observation]]\nquantity = "y"\nvalue = 2.0\nnoise = "lognormal"\nsigma = 0.5\n'
        'source = "test"\n')


def test_update_report_refuses_a_directory_another_command_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _toy_update_inputs(tmp_path)
    assert run_cli("report", "--priors", "p.toml", "--samples", "1000", "--no-sensitivity",
                   "--out", "rep").returncode == 0
    before = _snapshot(tmp_path / "rep")
    result = run_cli("update", "--priors", "p.toml", "--evidence", "ev.toml", "--out",
                     "new.toml", "--report", "rep")
    assert result.returncode == 2, result.stderr
    assert "rep: written by `sora-uq report --priors p.toml`" in result.stderr
    assert _snapshot(tmp_path / "rep") == before and not (tmp_path / "new.toml").exists()


def test_ctrl_c_during_nuts_stops_update_within_two_seconds_and_writes_nothing(tmp_path):
    # NUTS used to run as one fused loop that Python could not interrupt: Ctrl-C waited for
    # the end of sampling. It now steps in Python, and NumPyro's own bar shows on a terminal.
    _toy_update_inputs(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    controller, terminal = _open_terminal()
    process = subprocess.Popen(  # far more draws than it can finish before the Ctrl-C
        [sys.executable, "-m", "uncertainty.cli", "update", "--priors", "p.toml", "--evidence",
         "ev.toml", "--out", "new.toml", "--report", "rep", "--samples", "1000000"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=terminal,  # CI: NumPyro's own switch
        env={**os.environ, "PYTHONPATH": str(ROOT), "CI": "true"})
    os.close(terminal)
    try:
        shown = _read_terminal(controller, b"warmup", process, seconds=180)
        assert b"warmup" in shown and process.poll() is None, shown.decode(errors="replace")
        pressed = time.monotonic()
        process.send_signal(signal.SIGINT)
        shown += _read_terminal(controller, None, process, seconds=60)
        process.wait(timeout=60)
        answered = time.monotonic() - pressed
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = shown.decode(errors="replace")
    assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr, \
        stderr
    assert answered < 2.0, f"Ctrl-C answered after {answered:.1f} s"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
