"""Ctrl-C answered within about a second even when the run is stuck in code that makes no check
(as a run is while XLA compiles): the command runs in a worker thread that the main thread
watches (uncertainty.interrupt.run_watched)."""

import signal
import subprocess
import sys
import time

from conftest import ROOT


def _stuck_model(folder):
    """A model whose first evaluation says so in a file, then blocks for a minute."""
    (folder / "stuck.py").write_text(
        "import pathlib, time\n"
        "from uncertainty import Model\n"
        "def fn(a):\n"
        f"    pathlib.Path({str(folder / 'started')!r}).touch()\n"
        "    time.sleep(60)\n"
        "    return {'y': a['x']}\n"
        "MODEL = Model(fn, {'y': ''}, inputs={'x': ''})\n")
    priors = folder / "p.toml"
    priors.write_text('[meta]\nmodel = "stuck.py:MODEL"\n\n[assumptions.x]\ndist = "lognormal"\n'
                      'ci = [1.0, 4.0]\nsource = "a test"\n')
    return priors


def test_ctrl_c_while_the_run_is_stuck_ends_it_at_once_and_writes_nothing(tmp_path):
    priors = _stuck_model(tmp_path)
    out = tmp_path / "reports" / "p"
    process = subprocess.Popen([sys.executable, "-m", "uncertainty.cli", "report", "--priors",
                                str(priors), "--samples", "2000", "--out", str(out)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / "started").exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    pressed = time.monotonic()
    code = process.wait(timeout=30)
    answered = time.monotonic() - pressed
    stderr = process.stderr.read()
    assert code == 130 and answered < 2.0, (code, answered, stderr)
    assert stderr.strip() == "sora-uq: interrupted; nothing was written"
    assert not out.exists()
    assert not [p for p in out.parent.glob(".tmp-*")] if out.parent.exists() else True
