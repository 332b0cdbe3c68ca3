"""Reading prior and evidence files: only regular files of bounded size, never blocking on a pipe
or reading a device until memory runs out; a prior file's name is never a path."""

import os
import threading

import pytest
from conftest import ARTICLE, run_cli

from uncertainty.errors import UserError
from uncertainty.inference.evidence import load_evidence
from uncertainty.priors import MAX_FILE_BYTES, load_priors, read_regular_file


def _within(seconds, fn, *args):
    """``fn(*args)`` in a thread: its result or exception, or a failure if it blocks."""
    outcome = {}

    def target():
        try:
            outcome["value"] = fn(*args)
        except BaseException as err:  # noqa: BLE001 - handed back to the test
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn.__name__} blocked for {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("load", [load_priors, load_evidence], ids=["priors", "evidence"])
def test_a_pipe_is_refused_without_blocking(fifo, load):
    with pytest.raises(UserError, match="not a regular file"):
        _within(10, load, fifo)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_is_refused_without_reading_it():
    with pytest.raises(UserError, match="/dev/zero: not a regular file"):
        _within(10, load_evidence, "/dev/zero")
    with pytest.raises(UserError, match="/dev/zero: not a regular file"):
        _within(10, load_priors, "/dev/zero")


def test_a_file_too_large_is_refused(tmp_path):
    path = tmp_path / "big.toml"
    with open(path, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(UserError, match=r"too large \(16,777,217 bytes; at most 16,777,216\)"):
        read_regular_file(path)
    assert read_regular_file(ARTICLE) == ARTICLE.read_bytes()


def test_a_directory_is_refused(tmp_path):
    result = run_cli("update", "--priors", "article", "--evidence", str(tmp_path), "--out",
                     str(tmp_path / "new.toml"))
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_cli_refuses_a_pipe_in_one_line(fifo, tmp_path):
    result = _within(30, run_cli, "update", "--priors", "article", "--evidence", str(fifo),
                     "--out", str(tmp_path / "new.toml"))
    assert result.returncode == 2
    assert result.stderr == (f"sora-uq: error: {fifo}: not a regular file (a pipe, device or "
                             "socket cannot be read)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.toml"]


@pytest.mark.parametrize("name", ["/tmp/escape", "../escape", "a/b", "a\\b", ".hidden", "x" * 101,
                                  "tab\there"])
def test_a_name_is_never_a_path(tmp_path, name):
    text = ARTICLE.read_text().replace('name = "article"', f'name = "{name}"'.replace("\t", "\\t"))
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(UserError, match="'name' must be a plain name"):
        load_priors(path)
