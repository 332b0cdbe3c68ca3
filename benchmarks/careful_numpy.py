"""The article priors and the Sora model as a careful NumPy user would write them: the baseline.

Not a strawman: the choices a competent NumPy user makes for speed, and nothing sora-uq has
that NumPy lacks.

- float32 throughout, in chunks of 2^16 draws (each chunk's temporaries stay in the caches);
- every uncertain assumption is its quantile function of a uniform from
  ``rng.random(dtype=np.float32)`` (PCG64), raised to the smallest normal float32 so that it
  lies in (0, 1): no rejection loops;
- fixed assumptions are Python scalars (NumPy broadcasts them; no array of a constant);
- lognormal and normal: ``exp(mu + sigma * ndtri(u))`` with ``scipy.special.ndtri`` (its float32
  loop), in place;
- beta and PERT: SciPy's exact ``betaincinv`` on a uniform grid of :data:`TABLE_CELLS` cells,
  made once per prior, read by linear interpolation. The values are ``np.interp``'s; on a
  uniform grid the cell is ``floor(u * cells)``, so no binary search (5x faster than
  ``np.interp`` on 2^16 draws);
- discrete: the number of cumulative weights below ``u`` (``searchsorted(side="left")``'s
  answer; for a few values, summed comparisons are several times faster than the search).

This module imports only NumPy and SciPy, so it also runs as a script in a fresh process, with
no JAX: ``python benchmarks/careful_numpy.py TASK.json`` reads the priors' parameters (``spec``),
the check sizes, ``rtol`` and ``seed``, draws until the relative Monte Carlo error of the 5, 50
and 95% quantiles of the headline outputs is at most ``rtol`` at one of the sizes (sora-uq's
rule on exact quantiles), and prints ``{"n", "error"}`` as JSON. For that it evaluates
:func:`sora_outputs`, a line-for-line NumPy transcription of
``uncertainty.sora.model.compute_outputs`` (linear attention, TikTok and YouTube; importing the
package's model would import JAX); ``bench_sampling.py`` checks that the two agree.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy import special

CHUNK = 1 << 16
TABLE_CELLS = 8192
QUANTILES = (0.05, 0.5, 0.95)
TINY = np.float32(np.finfo(np.float32).tiny)


def spec_of(priors) -> list[dict]:
    """A prior set's families and parameters as plain data (JSON), in the file's order."""
    spec = []
    for name, prior in priors.items():
        d = prior.dist
        if d.name == "fixed":
            spec.append({"name": name, "family": "fixed", "value": float(d.value)})
        elif d.name == "lognormal":
            spec.append({"name": name, "family": "normal", "log": True,
                         "mean": math.log(d.median), "sd": float(d.sigma)})
        elif d.name == "normal":
            spec.append({"name": name, "family": "normal", "log": False,
                         "mean": float(d.mean), "sd": float(d.sd)})
        elif d.name == "beta":
            spec.append({"name": name, "family": "beta", "a": float(d.alpha),
                         "b": float(d.beta), "low": 0.0, "width": 1.0})
        elif d.name == "pert":
            a, b = d.shape
            spec.append({"name": name, "family": "beta", "a": float(a), "b": float(b),
                         "low": float(d.low), "width": float(d.high - d.low)})
        elif d.name == "discrete":
            spec.append({"name": name, "family": "discrete",
                         "values": [float(v) for v in d.values],
                         "weights": [float(w) for w in d.weights]})
        else:
            raise NotImplementedError(f"{name}: no careful NumPy sampler for {d.name}")
    return spec


def beta_table(a: float, b: float, low: float = 0.0, width: float = 1.0,
               cells: int = TABLE_CELLS) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of ``low + width * Beta(a, b)`` at ``k / cells`` and each cell's rise."""
    values = (low + width * special.betaincinv(a, b, np.linspace(0.0, 1.0, cells + 1)))
    values = values.astype(np.float32)
    return values[:-1].copy(), np.diff(values)


def read_table(u: np.ndarray, start: np.ndarray, rise: np.ndarray) -> np.ndarray:
    """Linear interpolation in a uniform-grid table at ``u`` in (0, 1), float32."""
    fraction, cell = np.modf(u * np.float32(len(start)))
    cell = cell.astype(np.intp)
    out = rise.take(cell)
    out *= fraction
    out += start.take(cell)
    return out


def _normal_column(mean: float, sd: float, log: bool):
    mean, sd = np.float32(mean), np.float32(sd)

    def icdf(u):
        z = special.ndtri(u)
        z *= sd
        z += mean
        return np.exp(z, out=z) if log else z

    return icdf


def _discrete_column(values, weights):
    order = np.argsort(values)
    values = np.asarray(values, np.float32)[order]
    probs = np.asarray(weights, np.float64)[order] / sum(weights)
    cuts = np.cumsum(probs)[:-1].astype(np.float32)

    def icdf(u):
        if len(cuts) > 8:
            return values.take(np.searchsorted(cuts, u))
        index = np.zeros(u.shape, np.intp)
        for cut in cuts:
            index += u > cut
        return values.take(index)

    return icdf


class Sampler:
    """Draws of every assumption of ``spec`` (see :func:`spec_of`): Python floats for fixed
    ones, float32 arrays for the others; tables made once, here."""

    def __init__(self, spec: list[dict], cells: int = TABLE_CELLS):
        self.constants, self.columns = {}, []
        for entry in spec:
            family, name = entry["family"], entry["name"]
            if family == "fixed":
                self.constants[name] = entry["value"]
            elif family == "normal":
                self.columns.append((name, _normal_column(entry["mean"], entry["sd"],
                                                          entry["log"])))
            elif family == "beta":
                table = beta_table(entry["a"], entry["b"], entry["low"], entry["width"], cells)
                self.columns.append((name, lambda u, t=table: read_table(u, *t)))
            elif family == "discrete":
                self.columns.append((name, _discrete_column(entry["values"], entry["weights"])))
            else:
                raise NotImplementedError(family)

    def draw(self, rng: np.random.Generator, n: int) -> dict:
        u = rng.random((len(self.columns), n), dtype=np.float32)
        np.maximum(u, TINY, out=u)  # [0, 1) -> (0, 1): ndtri(0) is -inf
        return {**self.constants, **{name: icdf(row)
                                     for (name, icdf), row in zip(self.columns, u, strict=True)}}


def sora_outputs(a: dict) -> dict:
    """``uncertainty.sora.model.compute_outputs`` with linear attention and the TikTok and
    YouTube platforms, in NumPy: the same operations in the same order (float32 in, out)."""
    flops_per_mac = a.get("flops_per_mac", 1.0)
    cfg_passes = a.get("cfg_passes", 1.0)
    tokens_multiplier = a.get("tokens_per_frame_multiplier", 1.0)
    param_ratio = a["sora_params"] / a["dit_params"]
    latent_frames_per_clip = a["clip_seconds"] * a["fps"] / a["temporal_compression"]
    latent_frames_per_min = 60.0 * a["fps"] / a["temporal_compression"]
    tokens_per_frame = 1024 * tokens_multiplier
    sequence_tokens = latent_frames_per_clip * tokens_per_frame
    # linear attention: the per-token factor is 1.0 (kept, as compute_outputs multiplies by it)
    frames_per_sample = tokens_multiplier * (
        a["video_fraction"] * latent_frames_per_clip * 1.0 + (1.0 - a["video_fraction"]) * 1.0)
    training_flops = (a["dit_training_flops"] * flops_per_mac * param_ratio
                      * a["dataset_multiplier"] * frames_per_sample)
    training_gpu_months = training_flops / (
        a["gpu_peak_flops"] * a["training_utilization"] * (30 * 24 * 3600))
    inference_flops_per_video_minute = (
        a["dit_step_flops"] * flops_per_mac * param_ratio * latent_frames_per_min
        * tokens_multiplier * 1.0 * a["diffusion_steps"] * cfg_passes)
    video_minutes_per_gpu_hour = (a["gpu_peak_flops"] * a["inference_utilization"] * 3600.0
                                  / inference_flops_per_video_minute)
    daily_ai_video_minutes = (a["tiktok_minutes_per_day"] * a["tiktok_ai_share"]
                              + a["youtube_minutes_per_day"] * a["youtube_ai_share"])
    return {
        "param_ratio": param_ratio,
        "latent_frames_per_clip": latent_frames_per_clip,
        "latent_frames_per_min": latent_frames_per_min,
        "sequence_tokens": sequence_tokens,
        "training_flops": training_flops,
        "training_gpu_months": training_gpu_months,
        "inference_flops_per_video_minute": inference_flops_per_video_minute,
        "video_minutes_per_gpu_hour": video_minutes_per_gpu_hour,
        "breakeven_video_minutes": training_flops / inference_flops_per_video_minute,
        "daily_ai_video_minutes": daily_ai_video_minutes,
        "fleet_gpus": (daily_ai_video_minutes * a["generations_per_upload"]
                       * a["peak_to_average"] / (video_minutes_per_gpu_hour * 24.0)),
    }


def draw_outputs(sampler: Sampler, model, n: int, seed: int = 0) -> None:
    """``n`` draws of every assumption and output, chunk by chunk (nothing kept)."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, CHUNK):
        model(sampler.draw(rng, min(CHUNK, n - start)))


def summarise_outputs(sampler: Sampler, model, n: int, seed: int = 0, names=None,
                      bins: int = 1 << 14) -> dict:
    """``n`` draws summarised as ``stream`` summarises them, chunk by chunk: a histogram of
    every output on a log grid fixed by the first chunk's range (``bins`` bins, ``np.bincount``),
    sums of x / scale and its square, the extremes. The like-for-like baseline: the same statistics
    from the same draws, so that a quantile can be read off at any size."""
    rng = np.random.default_rng(seed)
    totals, grid = None, None
    for start in range(0, n, CHUNK):
        outputs = model(sampler.draw(rng, min(CHUNK, n - start)))
        names = names or [name for name, value in outputs.items() if np.ndim(value)]
        if grid is None:  # the first chunk fixes the grid: log(range) widened by half a range
            logs = [np.log(np.asarray(outputs[name], np.float32)) for name in names]
            low = np.array([v.min() for v in logs]) - 0.5 * np.ptp(logs, axis=1)
            width = 2.0 * np.ptp(logs, axis=1) / bins
            scale = np.array([np.abs(np.asarray(outputs[name])).max() for name in names])
            grid = (low.astype(np.float32), (1.0 / width).astype(np.float32),
                    (1.0 / scale).astype(np.float32))  # squares of x / scale fit float32
            totals = {"counts": np.zeros((len(names), bins + 2), np.int64),
                      "sum": np.zeros(len(names)), "sum_sq": np.zeros(len(names)),
                      "min": np.full(len(names), np.inf), "max": np.full(len(names), -np.inf)}
        for i, name in enumerate(names):
            x = np.asarray(outputs[name], np.float32)
            position = np.log(x)
            position -= grid[0][i]
            position *= grid[1][i]
            cells = np.clip(position, -1, bins, out=position).astype(np.intp) + 1
            totals["counts"][i] += np.bincount(cells, minlength=bins + 2)
            scaled = x * grid[2][i]
            totals["sum"][i] += scaled.sum(dtype=np.float64)
            totals["sum_sq"][i] += np.dot(scaled, scaled)
            totals["min"][i] = min(totals["min"][i], x.min())
            totals["max"][i] = max(totals["max"][i], x.max())
    return totals


def relative_mcse(values: np.ndarray) -> float:
    """sora-uq's rule on exact quantiles: (Q(p + s) - Q(p - s)) / 2 / Q(p), s = sqrt(p(1-p)/n),
    the largest over :data:`QUANTILES`."""
    steps = [math.sqrt(p * (1 - p) / len(values)) for p in QUANTILES]
    probs = [q for p, s in zip(QUANTILES, steps, strict=True) for q in (p - s, p, p + s)]
    low, mid, high = np.quantile(values, probs).reshape(-1, 3).T
    return float(np.max((high - low) / 2 / np.abs(mid)))


def until_converged(sampler: Sampler, model, headline, sizes, rtol: float,
                    seed: int = 0) -> tuple[int, float]:
    """Draw more at each check size (never redrawing), keep the headline outputs, and stop at
    the first size whose relative MCSE is at most ``rtol``; ``(draws, error)``."""
    rng = np.random.default_rng(seed)
    kept, done, error = {name: [] for name in headline}, 0, math.inf
    for size in sizes:
        for start in range(done, size, CHUNK):
            outputs = model(sampler.draw(rng, min(CHUNK, size - start)))
            for name in headline:
                kept[name].append(outputs[name])
        done = size
        error = max(relative_mcse(np.concatenate(kept[name])) for name in headline)
        if error <= rtol:
            break
    return done, error


def main(task_path: str) -> int:
    task = json.loads(Path(task_path).read_text())
    n, error = until_converged(Sampler(task["spec"]), sora_outputs, task["headline"],
                               task["sizes"], task["rtol"], task["seed"])
    print(json.dumps({"n": n, "error": error}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
