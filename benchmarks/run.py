"""Run every benchmark and write benchmarks/RESULTS.md (what `make bench` does).

Each ``benchmarks/bench_*.py`` module has ``run() -> str``, a Markdown section; this script
runs whichever exist, in name order, each in a fresh process, and puts their sections under a
header that says on what machine, with what versions, they were measured. Timings are medians
of repeated runs.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGES = ("sora-uq", "jax", "jaxlib", "numpy", "scipy", "arviz", "xarray", "numpyro",
            "squigglepy", "SALib")


def machine() -> list[str]:
    """CPU model, cores, memory and load, read from the operating system."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
        memory = f"{kib / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        memory = "unknown"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return [f"- CPU: {cpu}, {cores} cores available to this process, {memory} memory",
            f"- OS: {platform.platform()}; Python {platform.python_version()}",
            f"- load average when the benchmarks started (1, 5, 15 min): {load} "
            f"(the machine is shared: a load above the core count slows every timing below)"]


def versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return "- versions: " + ", ".join(found)


def modules() -> list[Path]:
    return sorted(HERE.glob("bench_*.py"))


# Each module runs in a fresh process: in one shared process the streamed draws measured ~10%
# fewer per CPU-second after the explorer's and the families' benchmarks had run (1.88x and
# 2.00x careful NumPy, against 2.07x and 2.27x alone), so a number depended on its neighbours.
RUN_ONE = """
import importlib.util, sys
from pathlib import Path
path, out = Path(sys.argv[1]), Path(sys.argv[2])
sys.path.insert(0, str(path.parent))  # the benchmarks import their neighbours
spec = importlib.util.spec_from_file_location(path.stem, path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
out.write_text(module.run())
"""


def run_alone(path: Path) -> str:
    """``path``'s ``run()`` in a fresh Python process: its Markdown section."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "section.md"
        done = subprocess.run([sys.executable, "-c", RUN_ONE, str(path), str(out)])
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"exit {done.returncode} (its messages are in the log above)")
        return out.read_text()


def main() -> int:
    started = time.perf_counter()
    header = ["# Benchmarks", "",
              "Written by `make bench` (`python benchmarks/run.py`); every number "
              "below was measured in that run.", "", "## Machine", "", *machine(), versions(), ""]
    sections, failed = [], []
    for path in modules():
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        t = time.perf_counter()
        try:
            sections.append(run_alone(path).rstrip() + "\n")
        except RuntimeError as err:  # one broken benchmark must not lose the others' numbers
            sections.append(f"## {path.stem}\n\nFAILED: {err}\n")
            failed.append(path.name)
        print(f"  {path.name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    footer = [f"\n_All benchmarks: {time.perf_counter() - started:.0f} s wall time; "
              f"load average at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())}._\n"]
    (HERE / "RESULTS.md").write_text(
        "\n".join(header) + "\n" + "\n".join(sections) + "\n".join(footer))
    print(f"wrote {HERE / 'RESULTS.md'}", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
