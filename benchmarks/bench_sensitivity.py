"""Benchmark: Sobol indices of every output of the default priors at 2^16 base points.

sora-uq (JAX: icdf mapping, one compiled model call, batched estimators and bootstrap) against
SALib (its Sobol sampler, the same compute model evaluated by NumPy on scipy ppf-mapped inputs,
and ``SALib.analyze.sobol.analyze`` per output), at the same N and the same number of
bootstrap resamples; then the largest difference between their indices.

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

import jax
import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uncertainty import load_priors
from uncertainty.sensitivity import DEFAULT_N_BOOTSTRAP, sobol_indices
from uncertainty.sora.model import compute_outputs

__all__ = ["run"]

N_BASE = 2**16
COMPARE_BOOTSTRAP = 100  # SALib's default num_resamples; both tools use it in the comparison
REPEATS = 3
SEED = 0


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def _ours(priors, n_bootstrap: int, compile_included: bool) -> tuple[float, dict]:
    if compile_included:
        jax.clear_caches()  # drop every compiled executable: the next call traces and compiles
    return _timed(lambda: sobol_indices(compute_outputs, priors, n_base=N_BASE, seed=SEED,
                                        n_bootstrap=n_bootstrap))


def _median_time(priors, n_bootstrap: int, compile_included: bool) -> tuple[float, dict]:
    runs = [_ours(priors, n_bootstrap, compile_included) for _ in range(REPEATS)]
    return statistics.median(t for t, _ in runs), runs[-1][1]


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
    times = {}
    times["sample"], u = _timed(lambda: sobol_sample.sample(
        problem, N_BASE, calc_second_order=False, scramble=True, seed=SEED))

    def to_inputs():
        inputs = {name: SCIPY_PPF[priors[name].dist.name](priors[name].dist, u[:, j])
                  for j, name in enumerate(names)}
        for name, prior in priors.items():
            if prior.is_fixed:
                inputs[name] = np.full(len(u), prior.dist.value)
        return inputs

    times["icdf (scipy ppf)"], inputs = _timed(to_inputs)
    times["model (NumPy)"], outputs = _timed(lambda: compute_outputs(inputs))

    def analyze():
        return {out: sobol_analyze.analyze(problem, np.log(values), calc_second_order=False,
                                           num_resamples=n_bootstrap, conf_level=0.95, seed=SEED)
                for out, values in outputs.items()}

    times["analyze"], results = _timed(analyze)
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
    cold, _ = _median_time(priors, DEFAULT_N_BOOTSTRAP, compile_included=True)
    warm, _ = _median_time(priors, DEFAULT_N_BOOTSTRAP, compile_included=False)
    cold_cmp, _ = _median_time(priors, COMPARE_BOOTSTRAP, compile_included=True)
    warm_cmp, ours = _median_time(priors, COMPARE_BOOTSTRAP, compile_included=False)
    lines = [
        "## Sensitivity: Sobol indices of every output, default priors",
        "",
        f"{N_BASE:,} base points (2^16), {d} uncertain assumptions, {len(ours)} outputs: "
        f"{N_BASE * (d + 2):,} model runs; log scale; scrambled Sobol points; 95% bootstrap "
        f"intervals. Wall times are medians of {REPEATS} runs. Machine: {os.cpu_count()} CPU "
        f"cores, {platform.machine()}, JAX {jax.__version__} on {jax.devices()[0].platform}; "
        f"load average {load[0]:.1f} at the start (other work on the machine slows every "
        f"figure here).",
        "",
        "| run | bootstrap resamples | JIT compile | wall time (s) |",
        "|---|---|---|---|",
        f"| sora-uq | {DEFAULT_N_BOOTSTRAP} (default) | included | {cold:.2f} |",
        f"| sora-uq | {DEFAULT_N_BOOTSTRAP} (default) | excluded | {warm:.2f} |",
        f"| sora-uq | {COMPARE_BOOTSTRAP} | included | {cold_cmp:.2f} |",
        f"| sora-uq | {COMPARE_BOOTSTRAP} | excluded | {warm_cmp:.2f} |",
    ]
    try:
        import SALib  # noqa: F401
    except ImportError:
        lines += ["", "SALib comparison NOT run: SALib is not installed "
                      "(`pip install -e '.[bench]'`)."]
        return "\n".join(lines) + "\n"
    times, theirs = _salib(priors, COMPARE_BOOTSTRAP)
    total = sum(times.values())
    gap, where = _max_difference(ours, theirs)
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
    lines += [
        f"| SALib (sampler, NumPy model, `sobol.analyze`) | {COMPARE_BOOTSTRAP} | n/a "
        f"| {total:.2f} |",
        "",
        f"SALib stages (one run): {stages}.",
        f"Speed-up at the same N and resamples, end to end: {total / cold_cmp:.1f}x with "
        f"sora-uq's compile included, {total / warm_cmp:.1f}x excluded.",
        f"Largest difference between the two tools' indices (S1 and ST, every output and "
        f"assumption): {gap:.4f} ({where}).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())
