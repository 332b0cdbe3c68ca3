"""Sampling benchmarks: draws/s, time to a converged report, QMC vs MC, memory of 1e9 draws, GPU.

Every contender draws the article priors (priors/article.toml) and evaluates the same compute
model: ``uncertainty.sora.model.compute_outputs`` is plain arithmetic (its one ``jnp`` call,
``cbrt``, exists in NumPy too), so the NumPy contenders run that very function with ``jnp``
bound to NumPy, in float64.

- sora-uq ``stream``: draws summarised on the device (histograms, sums), nothing kept;
- sora-uq ``simulate``: every draw returned to the host as a float64 DataTree;
- NumPy: ``numpy.random.Generator`` (lognormal, beta, choice) for every prior, in batches of 2^20;
- squigglepy: its own samplers for the same distributions, then the same NumPy model.

Run on a GPU machine (``python benchmarks/bench_sampling.py --gpu``) it measures the streamed
draws/s there instead and writes ``benchmarks/RESULTS-gpu.md``.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uncertainty import load_priors, simulate
from uncertainty.sora import model as model_module
from uncertainty.sora.model import HEADLINE
from uncertainty.streaming import DEFAULT_RTOL, QUANTILES, stream

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10**5, 10**6, 10**7)
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
STREAM_N = int(float(os.environ.get("BENCH_STREAM_N", "1e9")))
NUMPY_BATCH = 1 << 20
PRIORS = load_priors(ROOT / "priors" / "article.toml")


def _median_seconds(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --- the same priors and model in NumPy and squigglepy --------------------------------------------

@contextmanager
def numpy_model():
    """``compute_outputs`` evaluated by NumPy: bind the module's ``jnp`` to NumPy for a while."""
    saved = model_module.jnp
    model_module.jnp = np
    try:
        yield PRIORS.model
    finally:
        model_module.jnp = saved


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

def throughput() -> tuple[str, dict]:
    stream(PRIORS, seed=0, n=1 << 18, rtol=None, keep=1)  # compile first: timings are steady-state
    simulate(PRIORS, n=1000, seed=0)
    rows, rates = [], {}
    for n in SIZES:
        r = {"stream": n / _median_seconds(
                 lambda n=n: stream(PRIORS, seed=1, n=n, rtol=None, keep=1)),
             "simulate": n / _median_seconds(lambda n=n: simulate(PRIORS, n=n, seed=1)),
             "numpy": n / _median_seconds(lambda n=n: numpy_draws(n)),
             "squigglepy": n / _median_seconds(lambda n=n: squigglepy_draws(n))}
        rates[n] = r
        rows.append(f"| {n:.0e} | {r['stream']:,.0f} | {r['simulate']:,.0f} | {r['numpy']:,.0f} "
                    f"| {r['squigglepy']:,.0f} | {r['stream'] / r['numpy']:.2f}x "
                    f"| {r['simulate'] / r['numpy']:.2f}x | {r['stream'] / r['squigglepy']:.2f}x |")
    table = "\n".join([
        "| draws | sora-uq `stream` (draws/s) | sora-uq `simulate` to a DataTree (draws/s) "
        "| NumPy (draws/s) | squigglepy (draws/s) | stream / NumPy | simulate / NumPy "
        "| stream / squigglepy |",
        "|---|---|---|---|---|---|---|---|", *rows])
    return table, rates


# --- time to a converged report -------------------------------------------------------------------

def _numpy_relative_mcse(draws: dict) -> float:
    """sora-uq's rule on exact quantiles of kept draws: (Q(p + s) - Q(p - s)) / 2 over Q(p)."""
    worst = 0.0
    for values in draws.values():
        n = len(values)
        for p in QUANTILES:
            s = math.sqrt(p * (1 - p) / n)
            low, mid, high = np.quantile(values, [p - s, p, p + s])
            worst = max(worst, (high - low) / 2 / abs(mid))
    return worst


def numpy_until_converged(rtol: float, seed: int = 1) -> tuple[int, float]:
    """Plain NumPy MC as a careful user would write it: draw more at each of sora-uq's check
    sizes (never redrawing), keep the headline outputs, check the exact quantiles' MCSE."""
    from uncertainty.sampling import CHUNK_SIZE
    from uncertainty.streaming import SCHEDULE

    rng = np.random.default_rng(seed)
    kept, done = {name: np.empty(0) for name in HEADLINE}, 0
    with numpy_model() as model:
        for chunks in SCHEDULE:
            n = chunks * CHUNK_SIZE
            outputs = model(numpy_inputs(rng, n - done))
            kept = {name: np.concatenate([kept[name], outputs[name]]) for name in HEADLINE}
            done = n
            error = _numpy_relative_mcse(kept)
            if error <= rtol:
                return n, error
    raise RuntimeError("NumPy did not converge")


SEEDS = range(5)  # convergence is a random event: medians over seeds


def _timed(fn) -> tuple[object, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def converged(rtol: float = DEFAULT_RTOL) -> tuple[str, dict]:
    cold = _cold_stream_seconds(rtol)
    rows, medians = [], {}
    for sampler in ("mc", "qmc"):
        stream(PRIORS, seed=0, rtol=rtol, sampler=sampler, keep=1)  # compile
        runs = [_timed(lambda s=s, sampler=sampler:
                       stream(PRIORS, seed=s, rtol=rtol, sampler=sampler, keep=1))
                for s in SEEDS]
        medians[sampler] = (statistics.median(r.n for r, _ in runs),
                            statistics.median(r.history[-1][1] for r, _ in runs),
                            statistics.median(t for _, t in runs))
    numpy_runs = [_timed(lambda s=s: numpy_until_converged(rtol, s)) for s in SEEDS]
    medians["numpy"] = (statistics.median(n for (n, _), _ in numpy_runs),
                        statistics.median(e for (_, e), _ in numpy_runs),
                        statistics.median(t for _, t in numpy_runs))
    numpy_seconds = medians["numpy"][2]
    labels = {"mc": "sora-uq, MC (`--sampler mc`), compiled",
              "qmc": "sora-uq, QMC (`--sampler qmc`), compiled",
              "numpy": "plain NumPy MC (draws added at the same checks, exact quantiles)"}
    for key in ("mc", "qmc", "numpy"):
        n, error, seconds = medians[key]
        rows.append(f"| {labels[key]} | {n:,.0f} | {100 * error:.2f}% | {seconds:.3f} "
                    f"| {numpy_seconds / seconds:.1f}x |")
    rows.insert(2, f"| sora-uq, MC, one fresh process (JAX start-up and compilation included) | "
                   f"{cold['n']:,} | {100 * cold['error']:.2f}% | {cold['seconds']:.2f} "
                   f"| {numpy_seconds / cold['seconds']:.2f}x |")
    table = "\n".join([
        f"Medians over seeds {SEEDS.start}-{SEEDS.stop - 1} of each contender.", "",
        "| contender | draws at convergence | relative MCSE reached | seconds "
        "| speed-up vs NumPy |", "|---|---|---|---|---|", *rows])
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
    out = subprocess.run([sys.executable, "-c", COLD, str(rtol)], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


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
    converged_table, _ = converged()
    at_1e6 = rates[10**6]
    gpu = ROOT / "benchmarks" / "RESULTS-gpu.md"
    return "\n".join([
        "## Sampling", "",
        "### Draws per second", "",
        f"Medians of {REPEATS} runs after compilation, the article priors and the full model. "
        "Target at 1e6 on 2 CPU cores: `simulate` at least NumPy's rate (aim 2x).", "",
        table, "",
        f"At 1e6: `simulate` {at_1e6['simulate'] / at_1e6['numpy']:.2f}x NumPy, `stream` "
        f"{at_1e6['stream'] / at_1e6['numpy']:.2f}x NumPy, "
        f"{at_1e6['stream'] / at_1e6['squigglepy']:.2f}x squigglepy.", "",
        f"### Time to a converged report (relative MCSE <= {DEFAULT_RTOL:.1%} on the 5/50/95% "
        "quantiles of the headline outputs)", "",
        "Target: at least 5x faster than plain NumPy MC reaching the same MCSE. The sora-uq rows "
        "time `stream` (the draws and every summary the report uses); compiled once before "
        "timing except where a row says otherwise.", "",
        converged_table, "",
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
