"""How live the explore page feels: answer times of ``POST /api/summary`` for changed
assumptions, through a real server started from the command line (``sora-uq explore``).

Measured: start-up to the printed URL with an empty and with a warm compilation cache, then
the wall time of each answer as the page would ask for it (one assumption changed per request,
every request a new value, so no answer comes from the server's cache), with the server's CPU
time per answer (read from /proc, robust to a shared machine). Target: well under 0.5 s on two
CPU cores at the default number of draws.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 80


def _start(cache: Path) -> tuple[subprocess.Popen, str, float]:
    env = {**os.environ, "SORA_UQ_CACHE_DIR": str(cache)}
    env.pop("SORA_UQ_NO_CACHE", None)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "uncertainty.cli", "explore", "--no-browser",
                                "--port", "0"], cwd=tempfile.mkdtemp(), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = process.stdout.readline().split()[2]
    return process, url, time.perf_counter() - started


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _post(url: str, overrides: dict) -> float:
    request = urllib.request.Request(url + "api/summary", method="POST",
                                     data=json.dumps({"assumptions": overrides}).encode(),
                                     headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request) as answer:
        json.loads(answer.read())
    return time.perf_counter() - started


def _changes(n: int) -> list[dict]:
    """What a user dragging sliders sends: one assumption at a time, a new value each time."""
    kinds = [
        lambda k: {"sora_params": {"dist": "lognormal", "ci": [5e9, 30e9 + 1e9 * k]}},
        lambda k: {"diffusion_steps": {"dist": "lognormal", "ci": [50 + k, 1000]}},
        lambda k: {"video_fraction": {"dist": "beta", "ci": [0.2 + 0.001 * k, 0.7]}},
        lambda k: {"clip_seconds": {"dist": "pert", "low": 10 + 0.1 * k, "mode": 60, "high": 60}},
    ]
    return [kinds[i % len(kinds)](i) for i in range(n)]


def run() -> str:
    cache = Path(tempfile.mkdtemp(prefix="explore-cache-"))
    process, url, cold = _start(cache)
    process.terminate()
    process.wait()
    process, url, warm = _start(cache)
    try:
        walls, cpus = [], []
        for overrides in _changes(REQUESTS):
            before = _cpu_seconds(process.pid)
            walls.append(_post(url, overrides))
            cpus.append(_cpu_seconds(process.pid) - before)
    finally:
        process.terminate()
        process.wait()
    walls.sort()
    p95 = walls[int(0.95 * (len(walls) - 1))]
    return "\n".join([
        "## Live page (`sora-uq explore`)", "",
        f"A server started with `sora-uq explore --no-browser --port 0` (article priors, "
        f"default draws per answer); {REQUESTS} requests, each changing one assumption to a new "
        "value (sora_params, diffusion_steps, video_fraction, clip_seconds in turn), as the "
        "page sends them. Target: well under 0.5 s per answer on two CPU cores.", "",
        "| measure | value |", "|---|---|",
        f"| start-up to the printed URL, empty compilation cache | {cold:.1f} s |",
        f"| start-up to the printed URL, warm compilation cache | {warm:.1f} s |",
        f"| answer time, median | {1000 * statistics.median(walls):.0f} ms |",
        f"| answer time, 95th percentile | {1000 * p95:.0f} ms |",
        f"| answer time, slowest | {1000 * walls[-1]:.0f} ms |",
        f"| server CPU time per answer, median | {1000 * statistics.median(cpus):.0f} ms |",
        "",
        "Each answer is a fresh Monte Carlo run with the same key (common random numbers), the "
        "summary of every output, histograms of the headline outputs and a tornado; a changed "
        "number reuses the compiled program (family parameters are traced data).", ""])


if __name__ == "__main__":
    print(run())
