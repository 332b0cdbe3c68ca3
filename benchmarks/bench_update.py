"""Benchmark: a NUTS update of the full default model with every shipped evidence file.

4 chains x 1000 draws (1000 warm-up), vectorised chains on CPU. Target: under 60 s on a 2-core
CPU with r_hat <= 1.01 and no divergences. ``run()`` returns a Markdown section of measured
numbers; run this file to print it.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 1  # one full run is ~1 minute; raise to take the median of several


def run(repeats: int = REPEATS) -> str:
    from uncertainty import load_priors
    from uncertainty.inference.evidence import load_evidence
    from uncertainty.inference.update import update

    priors = load_priors(ROOT / "priors" / "article.toml")
    paths = sorted((ROOT / "priors" / "evidence").glob("*.toml"))
    evidence = [load_evidence(p) for p in paths]
    walls, cpus, result = [], [], None
    for seed in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        result = update(priors, evidence, method="nuts", seed=seed, samples=1000, chains=4)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    d = result.diagnostics
    ok = d["r_hat_max"] <= 1.01 and d["divergences"] == 0 and statistics.median(walls) < 60
    observations = sum(len(e.observations) for e in evidence)
    return "\n".join([
        "## Update (NUTS, full model, all shipped evidence)", "",
        f"{len(paths)} evidence files, {observations} observations; 4 chains x 1000 draws after "
        "1000 warm-up, vectorised; includes compilation, the prior draws and psense.", "",
        "| measure | value |", "|---|---|",
        f"| wall time, median of {repeats} (s) | {statistics.median(walls):.1f} |",
        f"| CPU time, median (s) | {statistics.median(cpus):.1f} |",
        f"| r_hat max | {d['r_hat_max']:.4f} |",
        f"| bulk ESS min | {d['ess_bulk_min']:.0f} |",
        f"| divergences | {d['divergences']} |",
        f"| target (< 60 s, r_hat <= 1.01, 0 divergences) | {'met' if ok else 'NOT met'} |", ""])


if __name__ == "__main__":
    print(run())
