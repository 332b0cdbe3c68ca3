"""Drawing metalog and pooled (mixture) priors against lognormal ones, through the engine.

The same four-input product model, drawn with ``stream`` at a fixed size, once with every input
lognormal and once with two of them a metalog (closed-form quantile function) and two a pool of
two experts (a quantile table read by interpolation). Rates are draws per CPU-second (robust on
a shared machine) and per wall-second, medians of repeats after a warm-up that compiles.

Run alone: ``python benchmarks/bench_families.py``.
"""

from __future__ import annotations

import statistics
import time

from uncertainty import Model, priors_from_dict, stream

N = 1 << 22
REPEATS = 5
MODEL = Model(lambda a: {"y": a["a"] * a["b"] * a["c"] * a["d"]}, {"y": ""}, name="product")
LOGNORMAL = {"dist": "lognormal", "ci": [4.0, 10.0], "level": 0.8, "source": "bench"}
METALOG = {"dist": "metalog", "quantiles": [[0.1, 4.0], [0.5, 6.0], [0.9, 10.0]], "lower": 0.0,
           "source": "bench"}
POOL = {"dist": "mixture", "source": "bench", "components": [
    {"dist": "lognormal", "ci": [2.0, 8.0]}, {"dist": "pert", "low": 3.0, "mode": 6.0,
                                                  "high": 20.0, "weight": 2}]}


def _rates(priors) -> tuple[float, float]:
    stream(priors, seed=0, n=N)  # compile
    cpu, wall = [], []
    for seed in range(1, REPEATS + 1):
        c, w = time.process_time(), time.perf_counter()
        stream(priors, seed=seed, n=N)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return N / statistics.median(cpu), N / statistics.median(wall)


def run() -> str:
    plain = priors_from_dict({k: LOGNORMAL for k in "abcd"}, model=MODEL)
    elicited = priors_from_dict({"a": METALOG, "b": METALOG, "c": POOL, "d": POOL}, model=MODEL)
    (plain_cpu, plain_wall), (new_cpu, new_wall) = _rates(plain), _rates(elicited)
    return "\n".join([
        "## Metalog and pooled priors: drawing rate", "",
        f"`stream` of a four-input product at n = {N:,} (median of {REPEATS}, after a warm-up "
        "that compiles): every input lognormal, against two metalogs and two pools of two "
        "experts (a lognormal and a PERT).", "",
        "| priors | draws per CPU-second | draws per wall-second |", "|---|---|---|",
        f"| 4 lognormal | {plain_cpu:,.0f} | {plain_wall:,.0f} |",
        f"| 2 metalog + 2 mixture | {new_cpu:,.0f} | {new_wall:,.0f} |",
        "",
        f"Ratio (metalog and mixture / lognormal), per CPU-second: {new_cpu / plain_cpu:.2f}; "
        f"per wall-second: {new_wall / plain_wall:.2f} (target: at least 0.5).", ""])


if __name__ == "__main__":
    print(run())
