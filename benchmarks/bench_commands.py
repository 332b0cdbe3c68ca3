"""Commands in fresh processes: what a user waits for, with a cold and a warm compilation cache.

Each command runs as ``python -c WRAPPER ARGS`` from the repository root: the wrapper registers
listeners on JAX's monitoring events (only if and when the command imports JAX, so a command
that needs no JAX still imports none) and runs ``uncertainty.cli.main`` as the installed
program does (no ``argv``: the command in its watched thread). Per run:

- wall seconds, and CPU seconds of the child (user + system, from ``RUSAGE_CHILDREN``);
- imports: the interpreter's own account (``-X importtime``, the sum of every module's own time);
- XLA programs compiled and programs served from the persistent cache (JAX's events
  ``/jax/core/compile/backend_compile_duration``, once per program the process needs, and
  ``/jax/compilation_cache/cache_hits``), the seconds spent compiling or loading them, and the
  seconds spent tracing and lowering to MLIR (``jaxpr_trace_duration``,
  ``jaxpr_to_mlir_module_duration``);
- the process's peak resident memory (VmHWM), and, for ``report`` and ``compare``, the phases
  of the command's own ``timings.json``.

*Cold*: ``SORA_UQ_CACHE_DIR`` is a new, empty directory; *warm*: the same directory, a second
run. (Python's own bytecode caches are warm in both.) Then a fresh-process careful NumPy script
(``careful_numpy.py``: NumPy and SciPy only) draws until the same Monte Carlo error as
``report`` at the same check sizes, and the section gives the ratios.

``BENCH_COMMANDS=report,reproduce`` runs a subset; ``BENCH_QUICK=1`` adds small sizes (never
for RESULTS.md); ``BENCH_NUMPY_SEEDS`` sets how many seeds the NumPy script runs (default 5).
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import careful_numpy

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

__all__ = ["run"]

EVIDENCE = sorted(path.relative_to(ROOT).as_posix()
                  for path in (ROOT / "priors" / "evidence").glob("*.toml"))
QUICK = {"report": ["--samples", "131072", "--no-sensitivity"], "compare": ["--samples", "131072"],
         "sobol": ["--n", "256"], "update": ["--samples", "100"]}
NUMPY_SEEDS = range(int(os.environ.get("BENCH_NUMPY_SEEDS", "5")))
WARM_RUNS = 3  # warm-cache runs of each command; the one of median CPU time is reported
# Settings a user may have given JAX's cache directly; the benchmark chooses its own directory.
JAX_CACHE_SETTINGS = ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                      "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES",
                      "JAX_COMPILATION_CACHE_MAX_SIZE", "SORA_UQ_NO_CACHE")


def commands(out: Path) -> dict[str, list[str]]:
    """Each command's arguments, writing under ``out`` (every output directory a new one)."""
    return {
        "report": ["report", "--priors", "article", "--out", str(out / "report")],
        "compare": ["compare", "--priors", "article", "--priors", "informed-2026",
                    "--out", str(out / "compare")],
        "tornado": ["tornado", "--priors", "article", "--out", str(out / "tornado")],
        "sobol": ["sobol", "--priors", "article"],
        "update": ["update", "--priors", "article", "--evidence", *EVIDENCE,
                   "--out", str(out / "article-updated.toml"), "--report", str(out / "update")],
        "reproduce": ["reproduce"],
        "priors show": ["priors", "show", "article"],
    }


WRAPPER = textwrap.dedent("""
    import importlib.util, json, os, sys

    counts = {"compiles": 0, "compile_seconds": 0.0, "cache_hits": 0, "trace_seconds": 0.0,
              "lower_seconds": 0.0}
    DURATIONS = {"/jax/core/compile/backend_compile_duration": ("compiles", "compile_seconds"),
                 "/jax/core/compile/jaxpr_trace_duration": (None, "trace_seconds"),
                 "/jax/core/compile/jaxpr_to_mlir_module_duration": (None, "lower_seconds")}

    def on_duration(event, seconds, **_):
        if event in DURATIONS:
            count, total = DURATIONS[event]
            if count:
                counts[count] += 1
            counts[total] += seconds

    def on_event(event, **_):
        if event == "/jax/compilation_cache/cache_hits":
            counts["cache_hits"] += 1

    class Listen:
        # Registers the listeners when JAX loads its monitoring module; never imports JAX.
        def find_spec(self, name, path=None, target=None):
            if name != "jax._src.monitoring":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            load = spec.loader.exec_module

            def exec_module(module):
                load(module)
                module.register_event_listener(on_event)
                module.register_event_duration_secs_listener(on_duration)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Listen())
    from uncertainty.cli import main

    code = 1
    sys.argv = ["sora-uq", *sys.argv[1:]]
    try:
        code = main()  # as the installed program runs it, not as a script calling main(argv)
    finally:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                counts["peak_rss_mib"] = int(line.split()[1]) / 1024
        counts["jax_imported"] = "jax" in sys.modules
        counts["modules"] = sorted(name for name in sys.modules if name != "__main__")
        with open(os.environ["BENCH_EVENTS"], "w") as f:
            json.dump(counts, f)
    sys.exit(code)
""")


# A report as the program runs it; resident memory after its imports, after JAX's backend starts
# (jax.devices()) and at the peak (VmHWM), and the anonymous part of it (RssAnon: the process's
# own allocations, sampled every 20 ms for its peak), apart from pages of files mapped in (RssFile:
# mostly the code of the libraries, shared with other processes and given back under pressure).
MEMORY_WRAPPER = textwrap.dedent("""
    import json, sys, threading, time

    def mib(key):
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1]) / 1024

    from uncertainty.cli import main
    import uncertainty.cli.report, uncertainty.distributed, uncertainty.report.writer
    imported = {key: mib(key + ":") for key in ("VmRSS", "RssAnon", "RssFile")}
    peak_anon = [0.0]

    def watch():
        while True:
            peak_anon[0] = max(peak_anon[0], mib("RssAnon:"))
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()
    import jax
    jax.devices()
    started = mib("VmRSS:")
    sys.argv = ["sora-uq", *sys.argv[1:]]
    code = main()
    print(json.dumps({"imported": imported["VmRSS"], "started": started, "peak": mib("VmHWM:"),
                      "anon_imported": imported["RssAnon"], "file_imported": imported["RssFile"],
                      "anon_peak": max(peak_anon[0], mib("RssAnon:")),
                      "file_end": mib("RssFile:")}))
    sys.exit(code)
""")
MEMORY_DRAWS = 10**8


def report_memory(cache: Path, out_dir: Path, draws: int | None = MEMORY_DRAWS) -> dict:
    """Peak memory of a report of ``draws`` (None: the default, to its error target) above
    the process's memory after its imports. For a fixed number of draws, the second of two
    runs: the first compiles what a fixed-size run needs beyond an adaptive one (its last,
    partial chunk), so the measured run finds every program in the cache."""
    env = {k: v for k, v in os.environ.items() if k not in JAX_CACHE_SETTINGS}
    env.update(SORA_UQ_CACHE_DIR=str(cache))
    size = ["--samples", str(draws)] if draws else []
    for run in ("first", "measured") if draws else ("measured",):
        args = ["report", "--priors", "article", *size, "--quiet",
                "--out", str(out_dir / f"{draws}-{run}")]
        wall, cpu, stdout, _ = _child([sys.executable, "-c", MEMORY_WRAPPER, *args], env,
                                      "sora-uq " + " ".join(args))
    return {"wall": wall, "cpu": cpu, **json.loads(stdout.strip().splitlines()[-1])}


# The least any report can cost: a fresh process that imports every module a warm ``report``
# imported (named in a file) and starts JAX's CPU backend, and does nothing else.
FLOOR_WRAPPER = textwrap.dedent("""
    import importlib, json, sys

    missing = 0
    for name in json.load(open(sys.argv[1])):
        try:
            importlib.import_module(name)
        except Exception:  # a name a package put in sys.modules itself, not an importable one
            missing += 1
    import jax
    jax.devices()
    print(json.dumps({"missing": missing}))
""")


def stack_floor(work: Path, modules: list[str]) -> dict:
    """CPU and wall seconds (medians of :data:`WARM_RUNS` fresh processes) of importing
    ``modules`` and starting JAX's backend: what a report pays before it does anything."""
    names = work / "report-modules.json"
    names.write_text(json.dumps(modules))
    env = {k: v for k, v in os.environ.items() if k not in JAX_CACHE_SETTINGS}
    runs = [_child([sys.executable, "-c", FLOOR_WRAPPER, str(names)], env, "imports only")
            for _ in range(WARM_RUNS)]
    return {"cpu": statistics.median(r[1] for r in runs),
            "wall": statistics.median(r[0] for r in runs), "modules": len(modules),
            "missing": json.loads(runs[0][2].strip().splitlines()[-1])["missing"]}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _import_seconds(stderr: str) -> float:
    """The sum of every module's own import time in ``-X importtime``'s report."""
    return sum(int(m.group(1)) for m in re.finditer(r"^import time:\s+(\d+) \|", stderr,
                                                     re.MULTILINE)) / 1e6


def _child(argv: list[str], env: dict, label: str) -> tuple[float, float, str, str]:
    """Run one fresh process from the repository root: wall s, CPU s, stdout, stderr."""
    cpu, wall = _children_cpu(), time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, _children_cpu() - cpu
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if not line.startswith("import time")]
        raise RuntimeError(f"{label}: exit {done.returncode}: " + " / ".join(said[-3:]))
    return wall, cpu, done.stdout, done.stderr


def timed_command(args: list[str], cache: Path, out_dir: Path) -> dict:
    """One fresh ``sora-uq ARGS`` with its compilation cache in ``cache``."""
    events = out_dir / "events.json"
    env = {k: v for k, v in os.environ.items() if k not in JAX_CACHE_SETTINGS}
    env.update(SORA_UQ_CACHE_DIR=str(cache), BENCH_EVENTS=str(events))
    wall, cpu, _, stderr = _child([sys.executable, "-X", "importtime", "-c", WRAPPER, *args], env,
                                  "sora-uq " + " ".join(args))
    run = {"wall": wall, "cpu": cpu, "imports": _import_seconds(stderr),
           **json.loads(events.read_text())}
    for name in ("report", "compare"):
        timings = out_dir / name / "timings.json"
        if timings.exists():
            run["timings"] = json.loads(timings.read_text())
    summary = out_dir / "report" / "summary.json"
    if summary.exists():
        doc = json.loads(summary.read_text())
        run["draws"], run["error"] = doc.get("samples"), doc.get("headline_max_relative_mcse")
    return run


def numpy_script(work: Path, seed: int) -> dict:
    """The careful NumPy script in a fresh process, to report's error at report's checks."""
    from uncertainty import load_priors
    from uncertainty.sampling import CHUNK_SIZE
    from uncertainty.sora.model import HEADLINE
    from uncertainty.streaming import DEFAULT_RTOL, SCHEDULE

    task = work / f"numpy-task-{seed}.json"
    task.write_text(json.dumps({
        "spec": careful_numpy.spec_of(load_priors("article")), "headline": list(HEADLINE),
        "sizes": [c * CHUNK_SIZE for c in SCHEDULE if c * CHUNK_SIZE <= 10**9],
        "rtol": DEFAULT_RTOL, "seed": seed}))
    wall, cpu, stdout, _ = _child([sys.executable, str(HERE / "careful_numpy.py"), str(task)],
                                  dict(os.environ), "careful_numpy.py")
    return {"wall": wall, "cpu": cpu, **json.loads(stdout.strip().splitlines()[-1])}


def _row(name: str, cache: str, r: dict) -> str:
    if not r["jax_imported"]:
        jax_cells = "no JAX imported | | | |"
    else:
        jax_cells = (f"{r['compiles'] - r['cache_hits']} | {r['cache_hits']} "
                     f"| {r['compile_seconds']:.1f} "
                     f"| {r['trace_seconds'] + r['lower_seconds']:.1f} |")
    return (f"| `{name}` | {cache} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['imports']:.1f} "
            f"| {jax_cells} {r['peak_rss_mib']:,.0f} |")


def _phases(name: str, cold: dict, warm: dict) -> list[str]:
    """The command's own timings.json, cold and warm, with what lies outside its phases."""
    if "timings" not in cold or "timings" not in warm:
        return []
    phases = list(dict.fromkeys([*cold["timings"]["phases"], *warm["timings"]["phases"]]))
    rows = [f"| {phase} | {cold['timings']['phases'].get(phase, 0):.2f} "
            f"| {warm['timings']['phases'].get(phase, 0):.2f} |" for phase in phases]

    def outside(r: dict) -> float:
        return r["timings"]["wall_seconds"] - sum(r["timings"]["phases"].values())

    def before(r: dict) -> float:
        return r["wall"] - r["timings"]["wall_seconds"]

    return [f"`{name}`, wall seconds by phase (its `timings.json`):", "",
            "| phase | cold | warm |", "|---|---|---|",
            f"| before the command's clock starts (interpreter, CLI import, parsing) "
            f"| {before(cold):.2f} | {before(warm):.2f} |", *rows,
            f"| in no named phase (summaries, writing files, ...) | {outside(cold):.2f} "
            f"| {outside(warm):.2f} |",
            f"| whole process | {cold['wall']:.2f} | {warm['wall']:.2f} |", ""]


def run() -> str:
    """Measure and return a Markdown section with the numbers."""
    chosen = os.environ.get("BENCH_COMMANDS")
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    results, failed = {}, {}
    with tempfile.TemporaryDirectory(prefix="sora-uq-bench-") as tmp:
        work = Path(tmp)
        for name in commands(work):
            if chosen and name not in chosen.split(","):
                continue
            cache = work / f"cache-{name}"
            runs, warm_runs = {}, []
            for state in ("cold", *[f"warm-{i}" for i in range(WARM_RUNS)]):
                out_dir = work / f"{name}-{state}"
                out_dir.mkdir()
                args = commands(out_dir)[name] + (QUICK.get(name, []) if quick else [])
                try:
                    measured = timed_command(args, cache, out_dir)
                except RuntimeError as error:  # say so in the section; measure the others
                    failed[name] = str(error).replace("|", "/")
                    break
                if state == "cold":
                    runs["cold"] = measured
                else:
                    warm_runs.append(measured)
                print(f"  {name} {state}: {measured['wall']:.1f} s", file=sys.stderr,
                      flush=True)
            else:
                # the warm run of median CPU time: one fresh process is at the mercy of the
                # shared machine (single runs of the same report ranged 4.7-6.4 CPU s)
                runs["warm"] = sorted(warm_runs, key=lambda r: r["cpu"])[WARM_RUNS // 2]
                results[name] = runs
        numpy_runs = [numpy_script(work, seed) for seed in NUMPY_SEEDS]
        floor = (stack_floor(work, results["report"]["warm"]["modules"])
                 if "report" in results else None)
        memory = None
        if "report" in results and not quick:
            (work / "memory").mkdir()
            memory = report_memory(work / "cache-report", work / "memory")
            memory["default"] = report_memory(work / "cache-report", work / "memory", None)
    lines = [
        "## Commands: fresh processes, cold and warm compilation cache", "",
        "Each command is a new Python process (the CLI's `main`, called by a small wrapper "
        "that counts JAX's compilation events), started from the repository root. "
        "*Cold*: an empty compilation cache (`SORA_UQ_CACHE_DIR` a new directory); *warm*: "
        "the same directory, run again. Seconds are wall seconds except CPU, the child's "
        "user + system time; imports are "
        "the interpreter's own count (`-X importtime`); \"compiled\" counts XLA programs "
        "built in the process, \"from cache\" those loaded from the persistent cache; compile "
        "seconds include those loads. In a cold run, \"from cache\" counts programs the "
        "process asked for twice (the second time JAX loads what the first wrote). One cold "
        f"run of each; warm: the run of median CPU time among {WARM_RUNS}." +
        (" **Quick settings (small sizes), not the defaults.**" if quick else ""), "",
        "| command | cache | wall s | CPU s | imports s | XLA programs compiled | from cache "
        "| XLA compile or load s | trace + lower s | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    for name, runs in results.items():
        lines += [_row(name, state, runs[state]) for state in ("cold", "warm")]
    lines += [f"| `{name}` | FAILED: {message} | | | | | | | | |"
              for name, message in failed.items()]
    lines += ["", "The commands (DIR: a new temporary directory per run): " + "; ".join(
        f"`sora-uq {' '.join(args + (QUICK.get(name, []) if quick else []))}`"
        for name, args in commands(Path("DIR")).items() if name in results) + ".", ""]
    for name, runs in results.items():
        lines += _phases(name, runs["cold"], runs["warm"])
    n = statistics.median(r["n"] for r in numpy_runs)
    numpy_cpu = statistics.median(r["cpu"] for r in numpy_runs)
    numpy_wall = statistics.median(r["wall"] for r in numpy_runs)
    lines += [
        "Careful NumPy in a fresh process (`python benchmarks/careful_numpy.py TASK.json`: "
        "NumPy and SciPy only, given the priors' fitted parameters; it builds its tables, "
        "draws in float32 chunks, keeps the headline outputs and checks the relative MCSE of "
        "their 5/50/95% quantiles at `report`'s check sizes until it is within `report`'s "
        f"default 0.5%): median over seeds 0-{len(numpy_runs) - 1}, {n:,.0f} draws, "
        f"{max(r['error'] for r in numpy_runs):.2%} error at most, {numpy_wall:.2f} wall s, "
        f"{numpy_cpu:.2f} CPU s.", ""]
    if "report" in results:
        cold, warm = results["report"]["cold"], results["report"]["warm"]
        ratio = warm["cpu"] / numpy_cpu
        drawn = (f"`report` drew {warm['draws']:,} (error {warm['error']:.2%})"
                 if warm.get("draws") else "")
        lines += [
            f"Ratios in this run: `report` warm / careful NumPy script, CPU: {ratio:.1f}x "
            f"(wall {warm['wall'] / numpy_wall:.1f}x; target: at most 5x, "
            f"{'met' if ratio <= 5 else 'NOT met'}); `report` cold / warm, CPU: "
            f"{cold['cpu'] / warm['cpu']:.2f}x (wall {cold['wall'] / warm['wall']:.2f}x; the "
            "issue's target compares cold with the warm figure measured before the "
            "compile-once work: at most 3x). " + (drawn + "." if drawn else ""), ""]
    if floor:
        warm = results["report"]["warm"]
        lines += [
            f"The floor under `report` in this run: a fresh process that imports the "
            f"{floor['modules']:,} modules a warm `report` imported ({floor['missing']} of "
            f"them not importable by name) and starts JAX's CPU backend, and does nothing "
            f"else, takes {floor['cpu']:.2f} CPU s ({floor['wall']:.2f} wall s, median of "
            f"{WARM_RUNS}): {floor['cpu'] / numpy_cpu:.1f}x the careful NumPy script on its "
            f"own. A 5x target leaves {5 * numpy_cpu - floor['cpu']:.2f} CPU s for loading "
            f"the programs, drawing, the sensitivity analysis, the figures and writing; the "
            f"warm `report` spends {warm['cpu'] - floor['cpu']:.2f} CPU s on them.", ""]
    if memory:
        above = memory["peak"] - memory["imported"]
        default = memory["default"]
        lines += [
            f"Memory of a {MEMORY_DRAWS:.0e}-draw `report` (warm cache, one fresh process, "
            f"{memory['wall']:.0f} s): peak resident {memory['peak']:,.0f} MiB, "
            f"{above:,.0f} MiB above the {memory['imported']:,.0f} MiB after its imports "
            f"({memory['peak'] - memory['started']:,.0f} above the "
            f"{memory['started']:,.0f} MiB once JAX's backend has started). Target: at most "
            f"100 MB above the memory after imports, {'met' if above <= 100 else 'NOT met'}. "
            f"Of the resident memory, the process's own allocations (anonymous) peak "
            f"{memory['anon_peak'] - memory['anon_imported']:,.0f} MiB above their "
            f"{memory['anon_imported']:,.0f} MiB after the imports; pages of mapped files "
            f"(the libraries' code, shared) end "
            f"{memory['file_end'] - memory['file_imported']:,.0f} MiB above their "
            f"{memory['file_imported']:,.0f}. The default `report` "
            f"({default['wall']:.0f} s, to its error target) peaks "
            f"{default['peak'] - default['imported']:,.0f} MiB above its imports "
            f"({default['anon_peak'] - default['anon_imported']:,.0f} of them anonymous): "
            f"what any report holds whatever its number of draws (JAX's runtime, the loaded "
            f"programs, the kept draws, the figures).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
