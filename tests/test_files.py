"""Nothing lost, nothing half-written: atomic report directories and never-overwritten files."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_cli

from uncertainty.errors import UserError
from uncertainty.files import MANIFEST, output_directory, write_new_file


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
    assert result.returncode == 2 and "not writable" in result.stderr


def test_unwritable_location_is_a_clear_error(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = run_cli("report", "--samples", "100", "--out", str(target / "r"))
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.parametrize("how, samples", [(signal.SIGINT, "40000000"), (signal.SIGKILL, "200000")],
                         ids=["ctrl-c-while-drawing", "kill-while-writing"])
def test_killing_a_run_part_way_keeps_the_previous_report(tmp_path, how, samples):
    out = tmp_path / "article"
    first = run_cli("report", "--samples", "2000", "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = _snapshot(out)
    process = subprocess.Popen(
        [sys.executable, "-m", "uncertainty.cli", "report", "--samples", samples, "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # As a terminal's foreground job: SIGINT not ignored, even if this test runs in background.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        if how == signal.SIGKILL:  # wait until it is writing its staging directory, then kill it
            deadline = time.monotonic() + 120
            while not list(tmp_path.glob(".tmp-article-*/*")) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert process.poll() is None, "the run finished before it could be killed"
        else:
            time.sleep(5)  # JAX is up and drawing
        process.send_signal(how)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:  # never leave a run behind, whatever failed above
            process.kill()
            process.wait()
    if how == signal.SIGINT:
        assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    else:
        assert process.returncode == -signal.SIGKILL
    assert _snapshot(out) == before
    if how == signal.SIGINT:
        assert [p.name for p in tmp_path.iterdir()] == ["article"]
    again = run_cli("report", "--samples", "2000", "--out", str(out))
    assert again.returncode == 0
    # A killed process cannot clean up after itself; the next run removes what it left.
    assert [p.name for p in tmp_path.iterdir()] == ["article"]
