"""Shapley effects of every Sora output under the evidence-based, correlated priors; the value of
information of its fleet decision; the report's whole sensitivity section.

sora-uq's estimator (random permutations with conditional sampling from the Gaussian copula,
every model call of a run batched and compiled in JAX) against the same estimator in NumPy: the
same permutations, the same conditional draws (the very functions of
``uncertainty.sensitivity.shapley``), with only the model calls made the way a careful NumPy user
would, in float64: the families' exact quantile functions (``Family.ppf``, SciPy's closed forms)
for the marginals and the Sora model itself with ``jnp`` bound to NumPy. Both report model
evaluations, wall and CPU seconds.

Run alone: ``python benchmarks/bench_shapley.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy import special

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uncertainty import load_priors, stream
from uncertainty.progress import Feedback
from uncertainty.report import writer
from uncertainty.sensitivity import shapley as shapley_module
from uncertainty.sensitivity.voi import value_of_information

ROOT = Path(__file__).resolve().parent.parent
PRIORS = load_priors(ROOT / "priors" / "informed-2026.toml")


def _numpy_evaluate(z: np.ndarray, outputs) -> np.ndarray:
    """Normal scores of every uncertain assumption -> log outputs, the NumPy way."""
    names = PRIORS.uncertain
    fixed = {n: p.dist.value for n, p in PRIORS.items() if p.is_fixed}
    u = np.clip(special.ndtr(z), 1e-12, 1 - 1e-12)
    x = {n: PRIORS[n].dist.ppf(u[i]) for i, n in enumerate(names)}  # SciPy's, float64
    values = PRIORS.model({**{n: np.full(z.shape[1], v) for n, v in fixed.items()}, **x})
    return np.log(np.stack([np.asarray(values[o], np.float64) for o in outputs]))


def _timed(fn):
    c, w = time.process_time(), time.perf_counter()
    value = fn()
    return value, time.process_time() - c, time.perf_counter() - w


def run() -> str:
    outputs = list(PRIORS.model.outputs)
    shapley_module.shapley_effects(PRIORS, outputs=outputs, permutations=100)  # compile
    result, cpu, wall = _timed(lambda: shapley_module.shapley_effects(PRIORS, outputs=outputs))
    runs = result["model_runs"]
    matrix = shapley_module.normal_score_correlation(PRIORS)
    def numpy_estimator():  # the same streams as shapley_effects(seed=0)
        shapley_module._permutation(PRIORS, PRIORS.model, outputs, "log", matrix,
                                    np.atleast_1d(0), shapley_module.PERMUTATIONS,
                                    evaluate=_numpy_evaluate)

    _, np_cpu, np_wall = _timed(numpy_estimator)
    top = {o: max(result["outputs"][o].items(), key=lambda kv: kv[1]["shapley"])[0]
           for o in PRIORS.model.headline}
    value_of_information(PRIORS, samples=1000)  # compile
    voi, voi_cpu, voi_wall = _timed(lambda: value_of_information(PRIORS))
    run_ = stream(PRIORS, seed=0, n=1 << 17)
    _, section_cpu, section_wall = _timed(
        lambda: writer._sensitivity(PRIORS, run_, Feedback(show=False)))
    return "\n".join([
        "## Shapley effects under correlated priors (informed-2026)", "",
        f"Every output of the Sora model ({len(outputs)}), every uncertain assumption "
        f"({len(PRIORS.uncertain)}), "
        f"{shapley_module.PERMUTATIONS} permutations per group of outputs with the same "
        f"assumptions: {runs:,} model evaluations (variance, permutation prefixes, first-order "
        "indices), plus 2^12 Sobol base points for the independent total index (both sides: "
        "the same code, only the model calls differ).", "",
        "| estimator | CPU s | wall s |", "|---|---|---|",
        f"| sora-uq (JAX, batched and compiled) | {cpu:.1f} | {wall:.1f} |",
        f"| the same estimator, model calls in NumPy/SciPy float64 | {np_cpu:.1f} | "
        f"{np_wall:.1f} |", "",
        f"Ratio NumPy / sora-uq: {np_cpu / cpu:.2f}x CPU, {np_wall / wall:.2f}x wall. "
        "Top Shapley effect: " + "; ".join(f"{o}: `{a}`" for o, a in top.items()) + ".", "",
        f"Value of information of the `[decision]` on `{voi['output']}` ({voi['samples']:,} "
        f"draws, {len(voi['evppi'])} EVPPIs by regression): {voi_cpu:.1f} CPU s, "
        f"{voi_wall:.1f} wall s. The report's whole sensitivity section (tornado, Shapley "
        f"effects of the 3 headline outputs, value of information), warm: {section_cpu:.1f} "
        f"CPU s, {section_wall:.1f} wall s (target: under 30 s).", ""])


if __name__ == "__main__":
    print(run())
