"""Sampling benchmarks: draws per CPU-second and per second, time to a converged report, QMC vs
MC, memory of 1e9 draws, GPU.

Every contender draws the article priors (priors/article.toml) and evaluates the same compute
model: ``uncertainty.sora.model.compute_outputs`` is plain arithmetic (its one ``jnp`` call,
``cbrt``, exists in NumPy too), so the NumPy contenders run that very function with ``jnp``
bound to NumPy.

- sora-uq ``stream``: draws summarised on the device (histograms, sums), nothing kept;
- sora-uq ``simulate``: every draw returned to the host as a float64 DataTree;
- careful NumPy (``careful_numpy.py``): float32, chunks of 2^16, inverse CDFs of PCG64 uniforms
  (``ndtri``, a uniform-grid ``betaincinv`` table, summed comparisons), fixed assumptions as
  scalars: the baseline to beat;
- NumPy float64: ``numpy.random.Generator`` (lognormal, rejection-sampled ``beta``, ``choice``)
  for every prior, fixed ones as arrays, in batches of 2^20: what a first NumPy script does;
- squigglepy: its own samplers for the same distributions, then the same NumPy model.

Rates are given per CPU-second of this process (every thread counted: robust to other work on a
shared machine) and per wall-second. ``BENCH_SIZES`` (``1e5,1e6``), ``BENCH_REPEATS`` and
``BENCH_STREAM_N`` shrink a run for a quick check.

Run on a GPU machine (``python benchmarks/bench_sampling.py --gpu``) it measures the streamed
draws/s there instead and writes ``benchmarks/RESULTS-gpu.md``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import careful_numpy
import numpy as np
from scipy import special

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uncertainty import load_priors, simulate
from uncertainty.sora.model import HEADLINE
from uncertainty.streaming import DEFAULT_RTOL, QUANTILES, stream

ROOT = Path(__file__).resolve().parent.parent
SIZES = tuple(int(float(size)) for size in
              os.environ.get("BENCH_SIZES", "1e5,1e6,1e7").split(","))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
STREAM_N = int(float(os.environ.get("BENCH_STREAM_N", "1e9")))
NUMPY_BATCH = 1 << 20
PRIORS = load_priors(ROOT / "priors" / "article.toml")


def _median_seconds(fn, repeats: int = REPEATS) -> float:
    """Median wall seconds of ``fn()``."""
    return _interleaved_medians({"only": lambda _: fn()}, None, repeats)["only"][0]


def _interleaved_medians(calls: dict, n: int, repeats: int = REPEATS) -> dict:
    """Median wall and CPU seconds of every ``call(n)``, timed in turn within each of
    ``repeats`` rounds: a slower hour on the shared machine slows every contender alike,
    instead of whichever one it happened to fall on."""
    times = {key: ([], []) for key in calls}
    for _ in range(repeats):
        for key, call in calls.items():
            wall, cpu = time.perf_counter(), time.process_time()
            call(n)
            times[key][0].append(time.perf_counter() - wall)
            times[key][1].append(time.process_time() - cpu)
    return {key: (statistics.median(walls), statistics.median(cpus))
            for key, (walls, cpus) in times.items()}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- the same priors and model in NumPy and squigglepy --------------------------------------------

@contextmanager
def numpy_model():
    """The package's own model, evaluated by NumPy: its default form is plain arithmetic (the
    quadratic-attention variant alone imports ``jax.numpy``, for a cube root)."""
    yield PRIORS.model


def numpy_inputs(rng: np.random.Generator, n: int) -> dict:
    draws = {}
    for name, prior in PRIORS.items():
        d = prior.dist
        if d.name == "fixed":
            draws[name] = np.full(n, d.value)
        elif d.name == "lognormal":
            draws[name] = rng.lognormal(math.log(d.median), d.sigma, n)
        elif d.name == "beta":
            draws[name] = rng.beta(d.alpha, d.beta, n)
        elif d.name == "pert":
            a, b = d.shape
            draws[name] = d.low + (d.high - d.low) * rng.beta(a, b, n)
        elif d.name == "discrete":
            p = np.asarray(d.weights) / sum(d.weights)
            draws[name] = rng.choice(np.asarray(d.values), size=n, p=p)
        else:
            raise NotImplementedError(d.name)
    return draws


def numpy_draws(n: int, seed: int = 0, keep: bool = False) -> dict | None:
    """Every prior and output for ``n`` draws in batches; the headline outputs kept if asked."""
    rng = np.random.default_rng(seed)
    kept = {name: [] for name in HEADLINE}
    with numpy_model() as model:
        for start in range(0, n, NUMPY_BATCH):
            inputs = numpy_inputs(rng, min(NUMPY_BATCH, n - start))
            outputs = model(inputs)
            if keep:
                for name in HEADLINE:
                    kept[name].append(np.asarray(outputs[name]))
    return {name: np.concatenate(parts) for name, parts in kept.items()} if keep else None


CAREFUL = careful_numpy.Sampler(careful_numpy.spec_of(PRIORS))  # tables made once, untimed


def careful_draws(n: int, seed: int = 0) -> None:
    """The careful NumPy baseline: ``n`` draws through the package's own model, in NumPy."""
    with numpy_model() as model:
        careful_numpy.draw_outputs(CAREFUL, model, n, seed)


def careful_summaries(n: int, seed: int = 0) -> None:
    """The careful NumPy baseline doing ``stream``'s work too: histograms of every output
    (``np.bincount`` on the same log grid), sums and extremes, chunk by chunk."""
    with numpy_model() as model:
        careful_numpy.summarise_outputs(CAREFUL, model, n, seed)


def careful_checks() -> str:
    """Why the baseline is a fair one: its model is the package's, its tables are accurate."""
    rng = np.random.default_rng(0)
    inputs = CAREFUL.draw(rng, careful_numpy.CHUNK)
    with numpy_model() as model:
        reference = model(inputs)
    transcribed = careful_numpy.sora_outputs(inputs)
    same = all(np.array_equal(np.broadcast_to(reference[k], np.shape(transcribed[k])),
                              transcribed[k]) for k in reference)
    u = np.linspace(0.001, 0.999, 9999, dtype=np.float32)
    worst, where = 0.0, ""
    for entry in careful_numpy.spec_of(PRIORS):
        if entry["family"] == "beta":
            exact = special.betaincinv(entry["a"], entry["b"], u.astype(np.float64))
            table = dict(CAREFUL.columns)[entry["name"]](u.copy())
            error = float(np.max(np.abs((table - entry["low"]) / entry["width"] - exact)))
            worst, where = max((worst, where), (error, entry["name"]))
    return (f"The careful NumPy baseline's beta and PERT tables ({careful_numpy.TABLE_CELLS:,} "
            f"cells) are within {worst:.1e} of SciPy's exact quantile on the unit scale for "
            f"u in [0.001, 0.999] (worst: `{where}`); its NumPy transcription of the model, "
            "used by the fresh-process script (see Commands), gives "
            f"{'exactly the same' if same else 'DIFFERENT'} float32 outputs as "
            "`compute_outputs` evaluated by NumPy on 65,536 draws.")


def squigglepy_draws(n: int) -> None:
    import squigglepy as sq

    dists = {}
    for name, prior in PRIORS.items():
        d = prior.dist
        if d.name == "fixed":
            dists[name] = d.value
        elif d.name == "lognormal":
            dists[name] = sq.lognorm(norm_mean=math.log(d.median), norm_sd=d.sigma)
        elif d.name == "beta":
            dists[name] = sq.beta(d.alpha, d.beta)
        elif d.name == "pert":
            dists[name] = sq.pert(d.low, d.mode, d.high)
        elif d.name == "discrete":
            total = sum(d.weights)
            dists[name] = sq.discrete({v: w / total
                                       for v, w in zip(d.values, d.weights, strict=True)})
    with numpy_model() as model:
        for start in range(0, n, NUMPY_BATCH):
            size = min(NUMPY_BATCH, n - start)
            inputs = {k: (np.full(size, v) if isinstance(v, float)
                          else np.asarray(sq.sample(v, n=size, verbose=False)))
                      for k, v in dists.items()}
            model(inputs)


# --- throughput -----------------------------------------------------------------------------------

CONTENDERS = {  # key -> label, in the tables' order
    "stream": "sora-uq `stream` (summaries on the device)",
    "simulate": "sora-uq `simulate` (every draw to a float64 DataTree)",
    "careful": "careful NumPy (float32, 2^16 chunks, inverse CDFs, scalar constants)",
    "careful_summaries": "the same careful NumPy, with `stream`'s summaries (bincount histograms "
                         "of every output, sums, extremes)",
    "numpy": "NumPy float64, rejection-sampled `rng.beta`, fixed values as arrays",
    "squigglepy": "squigglepy samplers, then the same NumPy model",
}


def throughput() -> tuple[str, dict]:
    """Draws per CPU-second and per wall-second of every contender at each size."""
    # compile first (whole chunks, and a lone partial one): timings are steady-state
    for n in (1 << 18, 1000):
        stream(PRIORS, seed=0, n=n, rtol=None, keep=1)
    simulate(PRIORS, n=1000, seed=0)
    calls = {"stream": lambda n: stream(PRIORS, seed=1, n=n, rtol=None, keep=1),
             "simulate": lambda n: simulate(PRIORS, n=n, seed=1),
             "careful": careful_draws, "careful_summaries": careful_summaries,
             "numpy": numpy_draws, "squigglepy": squigglepy_draws}
    if importlib.util.find_spec("squigglepy") is None:  # the bench extra: pip install -e '.[bench]'
        del calls["squigglepy"]
    rows, rates = [], {}
    for n in SIZES:
        rates[n] = {}
        for key, (wall, cpu) in _interleaved_medians(calls, n).items():
            rates[n][key] = {"cpu": n / cpu, "wall": n / wall}
            rows.append(f"| {n:.0e} | {CONTENDERS[key]} | {n / cpu:,.0f} | {n / wall:,.0f} "
                        f"| {cpu / wall:.2f} |")
    pairs = (("stream", "careful"), ("stream", "careful_summaries"), ("simulate", "careful"),
             ("stream", "numpy"), ("stream", "squigglepy"))
    ratios = []
    for n, r in rates.items():
        ratios.append(" | ".join([f"| {n:.0e}", *(
            f"{r[a]['cpu'] / r[b]['cpu']:.2f}x ({r[a]['wall'] / r[b]['wall']:.2f}x)"
            if b in r else "not installed" for a, b in pairs)]) + " |")
    table = "\n".join([
        "| draws | contender | draws per CPU-second | draws per wall-second | CPU s / wall s |",
        "|---|---|---|---|---|", *rows, "",
        "Ratios in this run, per CPU-second (per wall-second in brackets):", "",
        "| draws | stream / careful NumPy (the target's baseline) | stream / careful NumPy with "
        "the same summaries | simulate / careful NumPy | stream / NumPy float64 "
        "| stream / squigglepy |", "|---|---|---|---|---|---|", *ratios])
    return table, rates


# --- time to a converged report -------------------------------------------------------------------

def _check_sizes() -> list[int]:
    """sora-uq's check sizes (its chunk times the schedule), up to its default maximum."""
    from uncertainty.sampling import CHUNK_SIZE
    from uncertainty.streaming import SCHEDULE

    return [chunks * CHUNK_SIZE for chunks in SCHEDULE if chunks * CHUNK_SIZE <= 10**9]


def numpy_until_converged(rtol: float, seed: int = 1) -> tuple[int, float]:
    """NumPy float64 MC (``numpy_inputs``): draw more at each of sora-uq's check sizes (never
    redrawing), keep the headline outputs, check the exact quantiles' MCSE (sora-uq's rule)."""
    rng = np.random.default_rng(seed)
    kept, done = {name: np.empty(0) for name in HEADLINE}, 0
    with numpy_model() as model:
        for n in _check_sizes():
            outputs = model(numpy_inputs(rng, n - done))
            kept = {name: np.concatenate([kept[name], outputs[name]]) for name in HEADLINE}
            done = n
            error = max(careful_numpy.relative_mcse(values) for values in kept.values())
            if error <= rtol:
                return n, error
    raise RuntimeError("NumPy did not converge")


def careful_until_converged(rtol: float, seed: int = 1) -> tuple[int, float]:
    """The careful NumPy baseline, checked the same way (float32 draws kept, 2^16 chunks)."""
    with numpy_model() as model:
        return careful_numpy.until_converged(CAREFUL, model, HEADLINE, _check_sizes(), rtol, seed)


SEEDS = range(int(os.environ.get("BENCH_SEEDS", "5")))  # convergence is random: medians


def _timed(fn) -> tuple[object, float, float]:
    """``fn()``, its wall seconds and its CPU seconds (this process, every thread)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def _medians(runs: list) -> tuple[float, float, float, float]:
    """Draws, error, wall and CPU seconds: the median of each over ``(n, error), wall, cpu``."""
    return (statistics.median(n for (n, _), _, _ in runs),
            statistics.median(e for (_, e), _, _ in runs),
            statistics.median(w for _, w, _ in runs), statistics.median(c for _, _, c in runs))


def converged(rtol: float = DEFAULT_RTOL) -> tuple[str, dict]:
    cold = _cold_stream_seconds(rtol)
    rows, medians = [], {}
    for sampler in ("mc", "qmc"):
        stream(PRIORS, seed=0, rtol=rtol, sampler=sampler, keep=1)  # compile
        runs = [_timed(lambda s=s, sampler=sampler:
                       stream(PRIORS, seed=s, rtol=rtol, sampler=sampler, keep=1))
                for s in SEEDS]
        medians[sampler] = _medians([((r.n, r.history[-1][1]), w, c) for r, w, c in runs])
    medians["careful"] = _medians([_timed(lambda s=s: careful_until_converged(rtol, s))
                                   for s in SEEDS])
    medians["numpy"] = _medians([_timed(lambda s=s: numpy_until_converged(rtol, s))
                                 for s in SEEDS])
    medians["cold"] = (cold["n"], cold["error"], cold["seconds"], cold["cpu_seconds"])
    careful_cpu = medians["careful"][3]
    labels = {"mc": "sora-uq, MC (`--sampler mc`), compiled",
              "qmc": "sora-uq, QMC (`--sampler qmc`), compiled",
              "cold": "sora-uq, MC, one fresh process (imports and compilation included, no "
                      "persistent cache)",
              "careful": "careful NumPy MC (float32, 2^16 chunks, same checks, exact quantiles)",
              "numpy": "NumPy float64 MC (`rng.beta`, same checks, exact quantiles)"}
    for key in ("mc", "qmc", "cold", "careful", "numpy"):
        n, error, wall, cpu = medians[key]
        rows.append(f"| {labels[key]} | {n:,.0f} | {100 * error:.2f}% | {wall:.3f} | {cpu:.3f} "
                    f"| {cpu / careful_cpu:.2f}x |")
    table = "\n".join([
        f"Medians over seeds {SEEDS.start}-{SEEDS.stop - 1} of each contender (the fresh "
        "process: one run, seed 1)." if len(SEEDS) > 1 else
        "One run, seed 0, of each contender (the fresh process: seed 1).", "",
        "| contender | draws at convergence | relative MCSE reached | wall s | CPU s "
        "| CPU / careful NumPy CPU |", "|---|---|---|---|---|---|", *rows])
    return table, medians


COLD = textwrap.dedent("""
    import json, sys, time
    started = time.perf_counter()
    from uncertainty import load_priors
    from uncertainty.streaming import stream
    run = stream(load_priors("article"), seed=1, rtol=float(sys.argv[1]), keep=1)
    print(json.dumps({"n": run.n, "error": run.history[-1][1],
                      "seconds": time.perf_counter() - started}))
""")


def _cold_stream_seconds(rtol: float) -> dict:
    """One fresh process: imports, compilation and the run; its CPU from the children's usage."""
    cpu = _children_cpu()
    out = subprocess.run([sys.executable, "-c", COLD, str(rtol)], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return {**json.loads(out.strip().splitlines()[-1]), "cpu_seconds": _children_cpu() - cpu}


# --- QMC against MC at the same size --------------------------------------------------------------

def qmc_versus_mc(n: int = 1 << 20) -> str:
    runs = {s: stream(PRIORS, seed=2, n=n, rtol=None, sampler=s, keep=1) for s in ("mc", "qmc")}
    rows = []
    for name in HEADLINE:
        for p in QUANTILES:
            mc, qmc = runs["mc"].mcse(name, p), runs["qmc"].mcse(name, p)
            rows.append(f"| `{name}` | {p:.2f} | {mc:.4g} | {qmc:.4g} | {(mc / qmc) ** 2:.1f}x |")
    return "\n".join([
        f"Both at {n:,} draws; QMC's MCSE is the spread of its 16 scramblings. Plain MC needs "
        "(MCSE_MC / MCSE_QMC)^2 times as many draws for QMC's error.", "",
        "| output | quantile | MCSE, MC | MCSE, QMC | MC draws needed per QMC draw |",
        "|---|---|---|---|---|", *rows])


# --- memory of a long streamed run ----------------------------------------------------------------

# Peak resident memory of this process image: VmHWM. (ru_maxrss is no use in a child: Linux
# carries the parent's peak across fork and exec.)
MEMORY = textwrap.dedent("""
    def peak_rss_mib():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import json, sys, time
    from uncertainty import load_priors
    from uncertainty.streaming import stream
    started = time.perf_counter()
    run = stream(load_priors("article"), seed=0, n=int(sys.argv[1]), rtol=None)
    print(json.dumps({"n": run.n, "seconds": time.perf_counter() - started,
                      "peak_rss_mib": peak_rss_mib(),
                      "median": float(run.quantile("fleet_gpus", 0.5)),
                      "mcse": run.mcse("fleet_gpus", 0.5)}))
""")


def memory(n: int = STREAM_N) -> str:
    rows = []
    for size in sorted({10**7, n}):
        out = subprocess.run([sys.executable, "-c", MEMORY, str(size)], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append(f"| {r['n']:.0e} | {r['peak_rss_mib']:,.0f} | {r['seconds']:.0f} "
                    f"| {r['n'] / r['seconds']:,.0f} | {r['median']:,.0f} ± {r['mcse']:,.0f} |")
    return "\n".join([
        "Each run in a fresh process (`stream`, the article priors, `--samples` fixed); peak "
        "resident memory of the whole process, JAX included. Target: under 1.5 GB at 1e9.", "",
        "| draws | peak RSS (MiB) | seconds | draws/s | median peak fleet ± MCSE |",
        "|---|---|---|---|---|", *rows])


# --- the sections ---------------------------------------------------------------------------------

def run() -> str:
    table, rates = throughput()
    converged_table, medians = converged()
    largest = rates[max(rates)]
    per_cpu = largest["stream"]["cpu"] / largest["careful"]["cpu"]
    gpu = ROOT / "benchmarks" / "RESULTS-gpu.md"
    return "\n".join([
        "## Sampling", "",
        "### Draws per CPU-second and per second", "",
        f"Medians of {REPEATS} rounds after compilation (and after the careful NumPy tables are "
        "made), each round timing every contender in turn; the article priors and the full "
        "model (every output). CPU time is this process's, every thread counted; `stream` "
        "also builds its histograms and sums; of "
        "the NumPy contenders only the careful one 'with the same summaries' does too, the "
        "others only evaluate the model. Target: `stream` at least 2x the careful NumPy "
        "baseline's draws per CPU-second (the strict one, model only).", "",
        table, "",
        f"At {max(rates):.0e} draws, `stream` draws {per_cpu:.2f}x as many per CPU-second as "
        f"careful NumPy ({largest['stream']['wall'] / largest['careful']['wall']:.2f}x per "
        f"wall-second): target {'met' if per_cpu >= 2 else 'NOT met'}; "
        f"{largest['stream']['cpu'] / largest['careful_summaries']['cpu']:.2f}x as many as "
        "the careful NumPy that also builds the same summaries.", "",
        careful_checks(), "",
        f"### Time to a converged report (relative MCSE <= {DEFAULT_RTOL:.1%} on the 5/50/95% "
        "quantiles of the headline outputs)", "",
        "The sora-uq rows time `stream` (the draws and every summary the report uses), compiled "
        "once before timing except where a row says otherwise; the NumPy rows keep the headline "
        "outputs and take exact quantiles at the same check sizes. The whole command, in fresh "
        "processes, is timed under Commands.", "",
        converged_table, "",
        f"Careful NumPy to convergence: {medians['careful'][3]:.3f} CPU s; sora-uq MC, compiled: "
        f"{medians['mc'][3]:.3f} CPU s ({medians['mc'][3] / medians['careful'][3]:.2f}x).", "",
        "### Quasi-Monte Carlo against Monte Carlo", "", qmc_versus_mc(), "",
        "### Memory of a long streamed run", "", memory(), "",
        "### GPU", "",
        ("Measured on a GPU machine with `python benchmarks/bench_sampling.py --gpu`: see "
         "[RESULTS-gpu.md](RESULTS-gpu.md)." if gpu.exists() else
         "Not measured: no GPU was available to this run."), ""])


def gpu_report() -> str:
    """Streamed draws/s on the default accelerator, at growing sizes (compiled first)."""
    import jax

    stream(PRIORS, seed=0, n=1 << 24, rtol=None, keep=1)
    rows = []
    for n in (10**7, 10**8, 10**9, 10**10):
        seconds = _median_seconds(lambda n=n: stream(PRIORS, seed=1, n=n, rtol=None, keep=1),
                                  repeats=3 if n <= 10**9 else 1)
        rows.append(f"| {n:.0e} | {seconds:.3f} | {n / seconds:,.0f} |")
    rtol = {s: stream(PRIORS, seed=1, rtol=0.001, sampler="mc", keep=1) for s in ("mc",)}
    converged_table, _ = converged()
    devices = jax.devices()
    return "\n".join([
        "# GPU benchmark", "",
        f"- device: {devices[0].device_kind} x {len(devices)} ({jax.default_backend()}); "
        f"jax {jax.__version__}", "",
        "Streamed draws of the article priors through the full model, summarised on the device "
        "(histograms, sums); medians of 3 runs after compilation (1 run at 1e10). Target: at "
        "least 1e9 draws/s on one H100.", "",
        "| draws | seconds | draws/s |", "|---|---|---|", *rows, "",
        f"An adaptive run to a relative MCSE of 0.1% stopped at {rtol['mc'].n:,} draws in "
        f"{rtol['mc'].seconds:.2f} s (compiled).", "",
        f"## Time to a converged report (relative MCSE <= {DEFAULT_RTOL:.1%}), one machine", "",
        f"sora-uq on the GPU against plain NumPy MC on the same machine's CPU ({os.cpu_count()} "
        "cores). Target: at least 5x faster than NumPy.", "", converged_table, ""])


if __name__ == "__main__":
    if "--gpu" in sys.argv:
        text = gpu_report()
        target = Path(os.environ.get("OUT", ROOT / "benchmarks")) / "RESULTS-gpu.md"
        target.write_text(text)
        print(text)
    else:
        print(run())
