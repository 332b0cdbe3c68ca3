"""Benchmark: Sobol indices of every output of the default priors at 2^16 base points.

Three implementations of the same indices, at the same N and the same number of bootstrap
resamples, timed in the same run (wall and CPU seconds):

- sora-uq (JAX: icdf mapping, one compiled model call, batched estimators and bootstrap);
- careful NumPy (:func:`careful_sobol`, ~60 lines): the same scrambled Sobol design (the same
  points: SciPy's ``qmc.Sobol`` seeded alike), the careful NumPy sampler's inverse CDFs
  (``careful_numpy.py``), the package's model evaluated by NumPy in float32 on every design row
  at once, and the same estimators (Saltelli 2010 first order, Jansen 1999 total order) with the
  bootstrap as one matrix product of resampling counts per block of replicates;
- SALib (its Sobol sampler, the same compute model evaluated by NumPy on scipy ppf-mapped
  inputs, and ``SALib.analyze.sobol.analyze`` per output).

Then the largest difference between their indices. ``BENCH_SOBOL_N`` (a power of 2) and
``BENCH_SOBOL_REPEATS`` shrink a run for a quick check.

Run standalone (``python benchmarks/bench_sensitivity.py``) or through ``benchmarks/run.py``,
which calls :func:`run`. SALib comes with the optional extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

import careful_numpy
import jax
import numpy as np
from scipy import stats
from scipy.stats import qmc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uncertainty import load_priors
from uncertainty.sampling import seed_record
from uncertainty.sensitivity import DEFAULT_N_BOOTSTRAP, sobol_indices
from uncertainty.sora.model import compute_outputs

__all__ = ["run"]

N_BASE = int(os.environ.get("BENCH_SOBOL_N", 2**16))
COMPARE_BOOTSTRAP = 100  # SALib's default num_resamples; both tools use it in the comparison
REPEATS = int(os.environ.get("BENCH_SOBOL_REPEATS", "3"))
SEED = 0


def _timed(fn):
    """Wall seconds, CPU seconds (this process, every thread) and ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def _ours(priors, n_bootstrap: int, compile_included: bool) -> tuple[float, float, dict]:
    if compile_included:
        jax.clear_caches()  # drop every compiled executable: the next call traces and compiles
    return _timed(lambda: sobol_indices(compute_outputs, priors, n_base=N_BASE, seed=SEED,
                                        n_bootstrap=n_bootstrap))


def _median_time(run, repeats: int = REPEATS) -> tuple[float, float, dict]:
    """Median wall and CPU seconds of ``run()`` (which returns wall, cpu, value); last value."""
    runs = [run() for _ in range(repeats)]
    return (statistics.median(w for w, _, _ in runs), statistics.median(c for _, c, _ in runs),
            runs[-1][2])


# --- careful NumPy: the same design and estimators, vectorised --------------------------------

def careful_sobol(priors, n_base: int, seed: int, n_bootstrap: int) -> dict:
    """S1 and ST of every output on sora-uq's design (the same points), in NumPy."""
    names = list(priors.uncertain)
    d, rows = len(names), len(names) + 2
    sampler = careful_numpy.Sampler(careful_numpy.spec_of(priors))
    icdf = dict(sampler.columns)
    rng = np.random.default_rng(seed_record(seed))
    u = qmc.Sobol(2 * d, scramble=True, rng=rng).random_base2(int(np.log2(n_base)))
    u = np.clip(u.astype(np.float32), careful_numpy.TINY, np.float32(1 - 2**-24))
    inputs = dict(sampler.constants)
    for j, name in enumerate(names):  # row 0: A, row 1: B, row 2 + i: A with column i from B
        a, b = icdf[name](u[:, j].copy()), icdf[name](u[:, d + j].copy())
        column = np.broadcast_to(a, (rows, n_base)).copy()
        column[1] = column[2 + j] = b
        inputs[name] = column.reshape(-1)
    outputs = compute_outputs(inputs)  # the package's model, plain arithmetic: NumPy in and out
    chosen = list(outputs)
    z = np.log(np.stack([np.broadcast_to(outputs[o], (rows * n_base,)).reshape(rows, n_base)
                         for o in chosen]))
    base = z[:, :2]
    z = (z - base.mean(axis=(1, 2), keepdims=True)) / base.std(axis=(1, 2), keepdims=True)
    f_a, f_b, f_ab = z[:, 0], z[:, 1], z[:, 2:]
    row_stats = np.concatenate([np.stack([f_a, f_b, f_a**2, f_b**2], axis=1),
                                f_b[:, None] * (f_ab - f_a[:, None]),  # Saltelli 2010
                                (f_a[:, None] - f_ab) ** 2], axis=1)  # Jansen 1999
    row_stats = np.ascontiguousarray(row_stats.transpose(2, 0, 1)).reshape(n_base, -1)

    def indices(means):
        means = means.reshape(*means.shape[:-1], len(chosen), 4 + 2 * d)
        mean = 0.5 * (means[..., 0] + means[..., 1])
        var = (0.5 * (means[..., 2] + means[..., 3]) - mean**2)[..., None]
        return means[..., 4:4 + d] / var, 0.5 * means[..., 4 + d:] / var

    s1, st = indices(row_stats.mean(axis=0))
    boot_rng, replicates = np.random.default_rng(seed), []
    for start in range(0, n_bootstrap, 50):  # the mean of resampled rows: counts @ rows / n
        picks = boot_rng.integers(0, n_base, (min(50, n_bootstrap - start), n_base))
        counts = np.stack([np.bincount(p, minlength=n_base) for p in picks]).astype(np.float32)
        replicates.append(indices(counts @ row_stats / n_base))
    boot_s1 = np.concatenate([r[0] for r in replicates])
    boot_st = np.concatenate([r[1] for r in replicates])
    s1_ci = np.quantile(boot_s1, [0.025, 0.975], axis=0)
    st_ci = np.quantile(boot_st, [0.025, 0.975], axis=0)
    return {out: {name: {"S1": float(s1[o, j]), "ST": float(st[o, j]),
                         "S1_ci": s1_ci[:, o, j].tolist(), "ST_ci": st_ci[:, o, j].tolist()}
                  for j, name in enumerate(names)} for o, out in enumerate(chosen)}


# --- SALib: the same pipeline in NumPy/SciPy -----------------------------------------------

def _pert_ppf(dist, u):
    return dist.low + (dist.high - dist.low) * stats.beta.ppf(u, *dist.shape)


def _discrete_ppf(dist, u):
    values, probs = dist._sorted
    return values[np.searchsorted(np.cumsum(probs)[:-1], u)]


SCIPY_PPF = {  # family name -> NumPy/SciPy quantile function (the families in the default priors)
    "lognormal": lambda d, u: stats.lognorm.ppf(u, d.sigma, scale=d.median),
    "beta": lambda d, u: stats.beta.ppf(u, d.alpha, d.beta),
    "pert": _pert_ppf,
    "discrete": _discrete_ppf,
}


def _salib(priors, n_bootstrap: int) -> tuple[dict, dict]:
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    names = list(priors.uncertain)
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    times = {}  # stage -> (wall, cpu)
    *times["sample"], u = _timed(lambda: sobol_sample.sample(
        problem, N_BASE, calc_second_order=False, scramble=True, seed=SEED))

    def to_inputs():
        inputs = {name: SCIPY_PPF[priors[name].dist.name](priors[name].dist, u[:, j])
                  for j, name in enumerate(names)}
        for name, prior in priors.items():
            if prior.is_fixed:
                inputs[name] = np.full(len(u), prior.dist.value)
        return inputs

    *times["icdf (scipy ppf)"], inputs = _timed(to_inputs)
    *times["model (NumPy)"], outputs = _timed(lambda: compute_outputs(inputs))

    def analyze():
        return {out: sobol_analyze.analyze(problem, np.log(values), calc_second_order=False,
                                           num_resamples=n_bootstrap, conf_level=0.95, seed=SEED)
                for out, values in outputs.items()}

    *times["analyze"], results = _timed(analyze)
    indices = {out: {name: {"S1": float(r["S1"][j]), "ST": float(r["ST"][j])}
                     for j, name in enumerate(names)} for out, r in results.items()}
    return times, indices


def _max_difference(ours: dict, theirs: dict) -> tuple[float, str]:
    worst, where = 0.0, ""
    for out, indices in theirs.items():
        for name, ix in indices.items():
            for key in ("S1", "ST"):
                gap = abs(ours[out][name][key] - ix[key])
                if gap > worst:
                    worst, where = gap, f"{key} of {name} on {out}"
    return worst, where


def run() -> str:
    """Measure and return a Markdown section with the numbers."""
    priors = load_priors("article")
    d, load = len(priors.uncertain), os.getloadavg()
    t = {}  # (implementation, resamples, compile included) -> (wall, cpu)
    for n_boot in (DEFAULT_N_BOOTSTRAP, COMPARE_BOOTSTRAP):
        for compiled in (True, False):
            *t["sora-uq", n_boot, compiled], ours = _median_time(
                lambda n_boot=n_boot, compiled=compiled: _ours(priors, n_boot, compiled))
        *t["numpy", n_boot, None], careful = _median_time(lambda n_boot=n_boot: _timed(
            lambda: careful_sobol(priors, N_BASE, SEED, n_boot)))
    gap, where = _max_difference(ours, careful)
    labels = {"sora-uq": "sora-uq (JAX)", "numpy": "careful NumPy (float32, vectorised)",
              "salib": "SALib (sampler, NumPy model, `sobol.analyze`)"}
    compile_text = {True: "included", False: "excluded", None: "n/a"}
    lines = [
        "## Sensitivity: Sobol indices of every output, default priors",
        "",
        f"{N_BASE:,} base points, {d} uncertain assumptions, {len(ours)} outputs: "
        f"{N_BASE * (d + 2):,} model runs; log scale; scrambled Sobol points; 95% bootstrap "
        f"intervals. sora-uq and careful NumPy times are medians of {REPEATS} runs (SALib: one "
        f"run); CPU seconds are this process's, every thread counted. Machine: "
        f"{os.cpu_count()} CPU cores, {platform.machine()}, JAX {jax.__version__} on "
        f"{jax.devices()[0].platform}; load average {load[0]:.1f} at the start (other work "
        f"on the machine slows every figure here).",
        "",
    ]
    try:
        import SALib  # noqa: F401
    except ImportError:
        theirs = None
    else:
        times, theirs = _salib(priors, COMPARE_BOOTSTRAP)
        t["salib", COMPARE_BOOTSTRAP, None] = tuple(sum(v[i] for v in times.values())
                                                    for i in (0, 1))
    lines += ["| implementation | bootstrap resamples | JIT compile | wall s | CPU s |",
              "|---|---|---|---|---|"]
    lines += [f"| {labels[impl]} | {n_boot} | {compile_text[compiled]} | {wall:.2f} "
              f"| {cpu:.2f} |" for (impl, n_boot, compiled), (wall, cpu) in t.items()]

    def ratio(slow, fast) -> str:
        return f"{t[slow][1] / t[fast][1]:.2f}x CPU ({t[slow][0] / t[fast][0]:.2f}x wall)"

    lines += ["", "Ratios in this run (above 1: the second is faster):", ""]
    for n_boot in (DEFAULT_N_BOOTSTRAP, COMPARE_BOOTSTRAP):
        lines.append(f"- {n_boot} resamples, careful NumPy / sora-uq: "
                     f"{ratio(('numpy', n_boot, None), ('sora-uq', n_boot, True))} with "
                     "sora-uq's compilation, "
                     f"{ratio(('numpy', n_boot, None), ('sora-uq', n_boot, False))} without.")
    lines.append(f"- Largest difference between sora-uq's and careful NumPy's indices (S1 and "
                 f"ST, every output and assumption; the same design points): {gap:.4f} "
                 f"({where}).")
    if theirs is None:
        lines += ["", "SALib comparison NOT run: SALib is not installed "
                      "(`pip install -e '.[bench]'`)."]
        return "\n".join(lines) + "\n"
    salib = ("salib", COMPARE_BOOTSTRAP, None)
    gap, where = _max_difference(ours, theirs)
    stages = ", ".join(f"{k} {wall:.2f} s wall, {cpu:.2f} s CPU"
                       for k, (wall, cpu) in times.items())
    lines += [
        f"- {COMPARE_BOOTSTRAP} resamples, SALib / careful NumPy: "
        f"{ratio(salib, ('numpy', COMPARE_BOOTSTRAP, None))}; SALib / sora-uq: "
        f"{ratio(salib, ('sora-uq', COMPARE_BOOTSTRAP, True))} with sora-uq's compilation, "
        f"{ratio(salib, ('sora-uq', COMPARE_BOOTSTRAP, False))} without.",
        f"- Largest difference between sora-uq's and SALib's indices: {gap:.4f} ({where}).",
        "", f"SALib stages (one run): {stages}.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
