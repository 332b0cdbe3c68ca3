"""Streaming Monte Carlo: any number of draws in bounded memory, summaries with a stated bound.

Draws are never kept (beyond a bounded subsample for figures). Each step turns chunks of draws
into small statistics on the device, and the host adds them up:

- a histogram of every output on a fixed grid: ``log(x)`` for outputs that are positive in the
  pilot chunk, ``x`` otherwise, :data:`BINS` bins spanning the pilot's range widened by half its
  width on each side, plus one bin below and one above (between the grid and the exact minimum or
  maximum). A quantile is interpolated linearly inside its bin, so it is off by at most one bin
  width: a relative error of ``exp(width) - 1`` on the log grid (about 0.1% for a typical output),
  stated in every summary;
- exact sums for the mean and sd (of ``x / scale``, so squares of 1e25 do not overflow float32),
  the exact minimum and maximum, and exact counts of draws at or below each figure the article
  states (so where the article falls is exact).

Which draws a run contains never depends on the devices: chunk ``i`` always comes from
``fold_in(key, i)`` and each step masks the draws beyond its target. The adaptive run
(``rtol``) checks its Monte Carlo error only at a fixed schedule of sample sizes, so the sample
size where it stops is device-independent too. Steps are sharded over every JAX device (all
hosts' devices after :func:`uncertainty.distributed.initialize`) with ``shard_map``; counts
are summed with ``psum``, and per-chunk sums are gathered and added exactly on the host. The
pilot (chunk 0, which fixes the grid and gives the kept draws) is drawn again by the first
step, which saves a compiled program, except where the run needs that program anyway.

Quasi-Monte Carlo (``sampler="qmc"``) feeds scrambled Sobol points (SciPy) through the same
icdf path; :data:`QMC_REPLICATES` independent scramblings give an honest error estimate (the
spread of their quantiles over sqrt(R)). It runs on one device: it needs few points.

This module imports neither ArviZ nor any plotting library.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .defaults import DEFAULT_RTOL, MAX_SAMPLES
from .errors import FLOAT32_ADVICE, NAN_CAUSES, PriorError
from .model import Model, as_model
from .priors import PriorSet
from .sampling import (
    CHUNK_SIZE,
    GRID_HIGH,
    GRID_LOW,
    as_key,
    draw_chunk,
    draws_from_uniforms,
    mc_uniforms,
    priors_plan,
    seed_record,
)
from .sobol_sequence import ScrambledSobol
from .summary import at_percentile

__all__ = [
    "BINS",
    "DEFAULT_RTOL",
    "KEEP",
    "MAX_SAMPLES",
    "QMC_REPLICATES",
    "QUANTILES",
    "SCHEDULE",
    "StreamResult",
    "stream",
]

BINS = 1 << 14
KEEP = 1 << 17  # draws kept for figures and draws.nc: the pilot chunk
QMC_REPLICATES = 16
QMC_FIRST = 1 << 12  # points per replicate at the first QMC check
QUANTILES = (0.05, 0.5, 0.95)  # the quantiles whose MCSE the adaptive run controls
# Sample sizes (in chunks) where an adaptive run checks its error: x2 then x1.5 alternately, so
# it overshoots the size it needs by at most 50%.
SCHEDULE = tuple(sorted({c * 2**k for k in range(14) for c in (2, 3)} | {1}))
# Chunks each device draws per step: one on a CPU (memory), many on an accelerator (throughput);
# and private histogram copies (see _statistics): a CPU has no atomic contention to spread.
CHUNKS_PER_DEVICE = {"cpu": 1}
ACCELERATOR_CHUNKS = 128
LANES = {"cpu": 1}
ACCELERATOR_LANES = 64


@dataclass(frozen=True)
class Grid:
    """The histogram grid of the tracked outputs, fixed from the pilot chunk."""

    names: tuple[str, ...]
    log: np.ndarray  # bool per name: bins in log(x)
    low: np.ndarray  # lower edge, in the binned scale
    width: np.ndarray  # bin width, in the binned scale
    scale: np.ndarray  # moments are of x / scale
    thresholds: tuple[tuple[int, float], ...]  # (name index, value): exact counts of x <= value

    def device_args(self) -> tuple:
        # device_put of NumPy arrays: no XLA program (a jnp cast outside a jit is one)
        return tuple(jax.device_put(a) for a in (
            np.asarray(self.log), np.asarray(self.low, np.float32),
            np.asarray(self.width, np.float32), np.asarray(self.scale, np.float32)))


@partial(jax.jit, static_argnames="names")
def _pilot_extremes(draws: dict, weight, names: tuple[str, ...]):
    """Smallest and largest finite value of each tracked output among the weighted draws (on the
    device: the pilot never has to travel to the host in full)."""
    x = jnp.stack([draws[name] for name in names])
    finite = jnp.isfinite(x) & weight
    return (jnp.min(jnp.where(finite, x, jnp.inf), axis=1),
            jnp.max(jnp.where(finite, x, -jnp.inf), axis=1))


def make_grid(pilot: dict, weight, names: tuple[str, ...],
              figures: dict[str, tuple[float, ...]]) -> Grid:
    """The grid from the pilot's range: log bins where every pilot draw is positive, widened by
    half the range on each side."""
    smallest, largest = (np.asarray(v, np.float64) for v in _pilot_extremes(pilot, weight, names))
    log = smallest > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(log, np.log(smallest), smallest)
        high = np.where(log, np.log(largest), largest)
    margin = np.maximum(0.5 * (high - low), 1e-3 * np.maximum(np.abs(low), 1.0))
    low, high = low - margin, high + margin
    scale = np.maximum(np.abs(smallest), np.abs(largest))  # keeps (x / scale)^2 within float32
    thresholds = tuple((i, float(v)) for i, name in enumerate(names) for v in figures.get(name, ()))
    return Grid(names, log, low, (high - low) / BINS, np.where(scale > 0, scale, 1.0), thresholds)


# Per-chunk sums stay per chunk (the host adds them exactly with math.fsum), so a mean does not
# depend on how chunks were grouped on devices; counts, extremes and shares are exact anyway.
PER_CHUNK = ("sum", "sum_sq")


def _statistics(draws: dict, weight: jax.Array, group: jax.Array, groups: int, grid_static: tuple,
                log, low, width, scale, lanes: int = 1) -> dict:
    """Statistics of the tracked outputs for draws of shape ``(chunks, size)``: histograms (per
    group), sums per chunk, extremes, exact counts below thresholds.

    Each output is summarised on its own and only the small results are stacked: stacking the
    draws themselves copied every output once more per step (a fifth of a CPU step's time).

    ``lanes`` > 1 spreads the histogram over that many private copies, summed at the end: on a
    GPU, thousands of threads adding to the few bins around a median otherwise queue on the
    same atomic counters (measured on an H100 at 1e9 draws: 0.80 G draws/s with 1 lane, 1.47
    with 32, 1.61 with 128)."""
    names, thresholds = grid_static
    slot = (jnp.arange(weight.shape[-1]) % lanes) * groups + group  # (chunks, size)
    each = [_output_statistics(draws[name], weight, slot, lanes * groups, log[v], low[v],
                               width[v], scale[v]) for v, name in enumerate(names)]
    counts = jnp.stack([e["counts"].reshape(lanes, groups, BINS + 2).sum(axis=0) for e in each],
                       axis=1)
    below = [jnp.sum(weight & (draws[names[i]] <= value)) for i, value in thresholds]
    return {
        "counts": counts,
        **{key: jnp.stack([e[key] for e in each], axis=-1) for key in ("sum", "sum_sq")},
        **{key: jnp.stack([e[key] for e in each]) for key in ("min", "max")},
        "below": jnp.stack(below).astype(jnp.int32) if below else jnp.zeros(0, jnp.int32),
    }


def _output_statistics(x, weight, slot, slots: int, log, low, width, scale) -> dict:
    """One output's histogram (``slots`` copies of it), sums per chunk and extremes; ``x``,
    ``weight`` and ``slot`` are ``(chunks, size)``."""
    t = jnp.where(log, jnp.log(jnp.where(x > 0, x, jnp.nan)), x)
    position = jnp.floor((t - low) * (1 / width))  # a multiply per draw, not a division
    # bin 0: below the grid; 1..BINS: the grid; BINS + 1: above it (and non-finite draws)
    bins = jnp.where(jnp.isfinite(position), jnp.clip(position, -1, BINS) + 1, BINS + 1)
    bins = jnp.where(log & (x <= 0), 0, bins).astype(jnp.int32)
    counts = jnp.zeros(slots * (BINS + 2), jnp.int32).at[(slot * (BINS + 2) + bins).ravel()].add(
        weight.astype(jnp.int32).ravel())
    # A non-finite draw makes its chunk's sums inf or NaN: that is how a run learns of it
    # (_require_finite). The extremes cannot tell: XLA's min and max may drop a NaN.
    scaled = jnp.where(weight, x / scale, 0.0)
    big = jnp.finfo(jnp.float32).max
    return {"counts": counts, "sum": jnp.sum(scaled, axis=-1),
            "sum_sq": jnp.sum(scaled * scaled, axis=-1),
            "min": jnp.min(jnp.where(weight, x, big)), "max": jnp.max(jnp.where(weight, x, -big))}


@partial(jax.jit, static_argnames=("grid_static", "groups"))
def _block_statistics(draws: dict, weight, group, log, low, width, scale, *, grid_static, groups):
    """:func:`_statistics` of one block of draws already made (``name -> (size,)``)."""
    chunk = {name: draws[name][None] for name in grid_static[0]}
    return _statistics(chunk, weight[None], group[None], groups, grid_static, log, low, width,
                       scale)


def _reduce(stats: dict, axis_name: str) -> dict:
    """Combine the statistics of every device (inside shard_map); per-chunk sums are gathered
    in chunk order, so every process holds all of them."""
    return {key: (jax.lax.all_gather(value, axis_name, tiled=True) if key in PER_CHUNK else
                  jax.lax.pmin(value, axis_name) if key == "min" else
                  jax.lax.pmax(value, axis_name) if key == "max" else
                  jax.lax.psum(value, axis_name)) for key, value in stats.items()}


def _merge(total: dict | None, step: dict) -> dict:
    """Host-side running totals in 64 bits (int32 counts per step cannot overflow), added in
    place; per-chunk sums are listed, to be added exactly at the end (concatenating at every
    step would copy O(steps^2) bytes)."""
    step = {key: np.asarray(value) for key, value in step.items()}
    if total is None:
        return {key: [value.astype(np.float64)] if key in PER_CHUNK else
                value.astype(np.float64 if value.dtype.kind == "f" else np.int64)
                for key, value in step.items()}
    for key, value in step.items():
        if key in PER_CHUNK:
            total[key].append(value.astype(np.float64))
        else:
            combine = np.minimum if key == "min" else np.maximum if key == "max" else np.add
            combine(total[key], value, out=total[key])
    return total


@dataclass
class StreamResult:
    """Running totals of a streamed run, and what it needs to turn them into summaries."""

    grid: Grid
    totals: dict
    n: int
    seed: int
    sampler: str
    model: Model
    rtol: float | None
    kept: dict  # the first draws of the run, every assumption and output (float64)
    seconds: float = 0.0
    devices: int = 1
    processes: int = 1
    replicates: int = 1
    history: list = field(default_factory=list)  # (n, max relative MCSE) at each check
    _edge_cache: dict = field(default_factory=dict, repr=False, compare=False)

    # --- quantiles from the histogram -------------------------------------------------------
    def _edges(self, i: int) -> np.ndarray:
        """Bin edges of output ``i`` in value space: the exact min, the grid, the exact max."""
        return self._edges_and_scaled(i)[0]

    def _scaled_edges(self, i: int) -> np.ndarray:
        # interpolation happens in the binned scale (log for positive outputs)
        return self._edges_and_scaled(i)[1]

    def _edges_and_scaled(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        # Kept (one pair per output) until the extremes move: a QMC check asks for every
        # replicate's quantiles, and recomputing 16k exps and logs for each was most of its time.
        low, high = self.totals["min"][i], self.totals["max"][i]
        extremes, edges, scaled = self._edge_cache.get(i, (None, None, None))
        if extremes != (float(low), float(high)):
            grid = self.grid
            t = grid.low[i] + grid.width[i] * np.arange(BINS + 1)
            inner = np.exp(t) if grid.log[i] else t
            edges = np.concatenate([[min(low, inner[0])], inner, [max(high, inner[-1])]])
            scaled = np.log(edges) if grid.log[i] else edges
            self._edge_cache[i] = ((float(low), float(high)), edges, scaled)
        return edges, scaled

    def quantile(self, name: str, p, replicate: int | None = None) -> np.ndarray:
        """Quantile(s) ``p`` of output ``name``, interpolated within the histogram's bins."""
        i = self.grid.names.index(name)
        counts = self.totals["counts"][:, i].sum(axis=0) if replicate is None \
            else self.totals["counts"][replicate, i]
        return self._interpolate(i, counts, p)

    def _interpolate(self, i: int, counts: np.ndarray, p) -> np.ndarray:
        cumulative = np.concatenate([[0], np.cumsum(counts)])
        target = np.clip(np.asarray(p, np.float64), 0, 1) * cumulative[-1]
        value = np.interp(target, cumulative, self._scaled_edges(i))
        value = np.exp(value) if self.grid.log[i] else value
        # never beyond the exact extremes (a constant output's quantiles are that constant)
        return np.clip(value, self.totals["min"][i], self.totals["max"][i])

    def replicate_quantiles(self, name: str, p) -> np.ndarray:
        """``(replicates, len(p))``: quantiles ``p`` of output ``name`` in each replicate."""
        i = self.grid.names.index(name)
        return np.stack([self._interpolate(i, counts, np.atleast_1d(p))
                         for counts in self.totals["counts"][:, i]])

    def bound(self, name: str, p) -> np.ndarray:
        """Largest error of :meth:`quantile` at ``p``: the width of the bin it falls in
        (relative on the log grid, absolute on a linear one)."""
        i = self.grid.names.index(name)
        counts = self.totals["counts"][:, i].sum(axis=0)
        cumulative = np.cumsum(counts)
        j = np.searchsorted(cumulative, np.asarray(p) * cumulative[-1])
        edges = self._edges(i)
        low, high = edges[np.clip(j, 0, BINS + 1)], edges[np.clip(j + 1, 0, BINS + 2)]
        return (high / low - 1) if self.grid.log[i] else (high - low)

    def hdi(self, name: str, prob: float) -> tuple[float, float]:
        """Shortest interval between bin edges holding at least ``prob`` of the draws."""
        i = self.grid.names.index(name)
        counts = self.totals["counts"][:, i].sum(axis=0)
        cumulative = np.concatenate([[0], np.cumsum(counts)])
        edges = self._edges(i)
        upper = np.searchsorted(cumulative, cumulative + prob * cumulative[-1])
        ok = upper < len(cumulative)
        widths = np.where(ok, edges[np.minimum(upper, len(edges) - 1)] - edges, np.inf)
        best = int(np.argmin(widths))
        return float(edges[best]), float(edges[upper[best]])

    # --- Monte Carlo error ------------------------------------------------------------------
    def mcse(self, name: str, p: float) -> float:
        """Monte Carlo standard error of the ``p`` quantile.

        Plain MC: half the spread of the quantiles at ``p -+ sqrt(p (1 - p) / n)`` (the
        binomial standard deviation of the share below a quantile; ArviZ's rule for independent
        draws). QMC: the standard deviation of the replicates' quantiles over sqrt(R)."""
        return float(self._mcses(name, [p])[0])

    def _mcses(self, name: str, ps) -> np.ndarray:
        if self.replicates > 1:
            each = self.replicate_quantiles(name, ps)
            return (np.array([np.std(column, ddof=1) for column in each.T])
                    / math.sqrt(self.replicates))
        steps = [math.sqrt(p * (1 - p) / self.n) for p in ps]
        return np.array([float(high - low) / 2 for low, high in (
            self.quantile(name, [max(p - step, 0.0), min(p + step, 1.0)])
            for p, step in zip(ps, steps, strict=True))])

    def relative_mcse(self, names) -> float:
        """Largest MCSE of the :data:`QUANTILES` of ``names``, relative to the quantile for
        positive outputs (log grid) and to the 90% interval's width for the others (an output
        that crosses zero has quantiles near 0; a constant one has no error at all)."""
        worst = 0.0
        for name in names:
            values = self.quantile(name, QUANTILES)
            scales = (np.abs(values) if self._is_log(name)
                      else np.full(len(values), self._spread(name)))
            for mcse, scale in zip(self._mcses(name, QUANTILES), scales, strict=True):
                worst = max(worst, float(mcse) / scale if scale else
                            (0.0 if mcse == 0 else math.inf))
        return worst

    def relative_bound(self, name: str, p) -> float:
        """Largest :meth:`bound` at ``p``, relative (to the 90% interval's width for an output
        summarised on a linear grid)."""
        bounds = self.bound(name, p)
        if not self._is_log(name):
            spread = self._spread(name)
            bounds = bounds / spread if spread > 0 else np.zeros_like(bounds)
        return float(np.max(bounds))

    def _is_log(self, name: str) -> bool:
        return bool(self.grid.log[self.grid.names.index(name)])

    def _spread(self, name: str) -> float:
        low, high = self.quantile(name, [0.05, 0.95])
        return float(high - low)

    # --- moments and counts -----------------------------------------------------------------
    def mean_sd(self, name: str) -> tuple[float, float]:
        i = self.grid.names.index(name)
        n, scale = self.n, self.grid.scale[i]
        sums, squares = (np.concatenate(self.totals[key])[:, i] for key in PER_CHUNK)
        mean = math.fsum(sums) / n
        variance = max(math.fsum(squares) / n - mean**2, 0.0) * n / max(n - 1, 1)
        return float(mean * scale), float(math.sqrt(variance) * scale)

    def share_below(self, name: str, value: float) -> float:
        """Exact share of draws at or below ``value``, one of the run's ``figures`` (by
        default the model's marks): the run counted it exactly while drawing."""
        i = self.grid.names.index(name)
        if (i, float(value)) not in self.grid.thresholds:
            raise ValueError(f"{name} <= {value:g} was not counted during the run; pass it in "
                             "stream(..., figures={name: [value]})")
        position = self.grid.thresholds.index((i, float(value)))
        return float(self.totals["below"][position] / self.n)


# --- the engine -----------------------------------------------------------------------------------

def _mesh() -> Mesh:
    return Mesh(np.array(jax.devices()), ("devices",))


def _chunks_per_device() -> int:
    return CHUNKS_PER_DEVICE.get(jax.devices()[0].platform, ACCELERATOR_CHUNKS)


def _lanes() -> int:
    return LANES.get(jax.devices()[0].platform, ACCELERATOR_LANES)


@partial(jax.jit, static_argnames=("plan", "model", "size", "grid_static", "mesh", "lanes",
                                   "masked"))
def _mc_step(key, indices, full_chunks, remainder, log, low, width, scale, params, *, plan,
             model, size, grid_static, mesh, lanes, masked=True):
    """Statistics of chunks ``indices`` (sharded over ``mesh``) of the run with base ``key``;
    draws at or beyond chunk ``full_chunks`` + ``remainder`` draws are masked out. A step whose
    chunks all lie before ``full_chunks`` is compiled with ``masked=False``: no mask to compute
    and apply per draw (most steps, and every step of a run whose checks fall on whole chunks).
    """

    def local(indices):
        def one(index):
            draws = draws_from_uniforms(mc_uniforms(jax.random.fold_in(key, index),
                                                    len(plan.random_names), size),
                                        plan, params, model, size)
            if not masked:
                return draws, jnp.ones(size, bool)
            offset = jnp.arange(size)
            weight = (index < full_chunks) | ((index == full_chunks) & (offset < remainder))
            return draws, weight

        if indices.shape[0] == 1:  # one chunk per device (a CPU): no batch axis to carry
            draws, weight = jax.tree.map(lambda a: a[None], one(indices[0]))
        else:
            draws, weight = jax.vmap(one)(indices)
        stats = _statistics(draws, weight, jnp.zeros(weight.shape, jnp.int32), 1, grid_static,
                            log, low, width, scale, lanes)
        return _reduce(stats, "devices")

    return jax.shard_map(local, mesh=mesh, in_specs=PartitionSpec("devices"),
                         out_specs=PartitionSpec(), check_vma=False)(indices)


def _global_indices(start: int, count: int, mesh: Mesh) -> jax.Array:
    """Chunk indices ``start .. start + count`` as one array sharded over ``mesh`` (also across
    processes: each process fills in only its own devices' part)."""
    sharding = NamedSharding(mesh, PartitionSpec("devices"))
    values = np.arange(start, start + count, dtype=np.int32)
    return jax.make_array_from_callback((count,), sharding, lambda index: values[index])


def _schedule(n: int | None, max_n: int) -> list[int]:
    """Sample sizes (draws) at which the run checks its error; the last is where it must stop."""
    if n is not None:
        return [n]
    sizes = [c * CHUNK_SIZE for c in SCHEDULE if c * CHUNK_SIZE < max_n]
    return sizes + [max_n]


def _host(draws: dict, size: int) -> dict:
    """The first ``size`` draws in float64 on the host (sliced on the device first, when not
    all of them: only those travel)."""
    return {name: np.asarray(values if size == values.shape[0] else values[:size], np.float64)
            for name, values in draws.items()}


def _kept_mc(priors: PriorSet, key, model: Model, pilot: dict, keep: int, plan) -> dict:
    """The run's first ``keep`` draws: the pilot chunk, and more chunks only if asked."""
    chunks = [pilot] + [draw_chunk(priors, key, i, CHUNK_SIZE, model, plan)
                        for i in range(1, -(-keep // CHUNK_SIZE))]
    parts = [_host(chunk, min(CHUNK_SIZE, keep - i * CHUNK_SIZE)) for i, chunk in enumerate(chunks)]
    if len(parts) == 1:  # the default: concatenating would copy every kept draw once more
        return parts[0]
    return {name: np.concatenate([part[name] for part in parts]) for name in pilot}


def _require_finite(result: StreamResult, priors: PriorSet) -> None:
    """Refuse a run in which an output was not a finite number for some draw (PriorError):
    its quantiles would still come out, wrong (the histogram puts a NaN above every number),
    and its mean, its extremes and its figure would not. Every draw is covered at no cost: a
    non-finite draw makes its chunk's sums non-finite. The message names one such output (one
    that overflows first: a NaN is often an overflow's consequence, inf / inf), what went wrong
    (from the kept draws, else from the extremes) and which assumption drives it."""
    sums = np.concatenate(result.totals["sum"])  # (chunks, outputs)
    failing = [(i, name) for i, name in enumerate(result.grid.names)
               if not np.isfinite(sums[:, i]).all()]
    if not failing:
        return
    kinds = {name: _failure(np.asarray(result.kept[name]), result.totals["min"][i],
                            result.totals["max"][i]) for i, name in failing}
    name = next((n for n, kind in kinds.items() if kind != "nan"), failing[0][1])
    culprit = _culprit(result.kept, name, priors.uncertain)
    hint = (f"; in the kept draws where it is not, '{culprit[0]}' lies {culprit[1]} of its "
            f"prior (median)" if culprit else "")
    what = (f"is not a number (NaN) for some draws: {NAN_CAUSES}" if kinds[name] == "nan" else
            f"overflows for some draws ({kinds[name]}): {FLOAT32_ADVICE}")
    raise PriorError(f"{priors.path or priors.name}: output '{name}' {what}{hint}")


def _failure(kept: np.ndarray, low: float, high: float) -> str:
    """"nan", "inf" or "-inf": what a non-finite output did, from its kept draws when they show
    it, else from its extremes (which hold an infinity, though XLA may drop a NaN from them)."""
    if np.isnan(kept).any():
        return "nan"
    if np.isinf(kept).any():
        return "-inf" if (kept == -np.inf).any() else "inf"
    return "-inf" if low == -np.inf else "inf" if high == np.inf else "nan"


def _culprit(kept: dict, output: str, uncertain) -> tuple[str, str] | None:
    """The uncertain assumption whose values, among the kept draws where ``output`` is not
    finite, have the median percentile furthest from the 50th (an assumption unrelated to the
    failure sits near it), and that percentile in words; None when every kept draw of
    ``output`` is finite.

    >>> kept = {"a": np.arange(100.0), "b": np.arange(100.0)[::-1] % 7,
    ...         "y": np.where(np.arange(100) > 96, np.inf, 1.0)}
    >>> _culprit(kept, "y", ["a", "b"])
    ('a', 'at the 98th percentile')
    """
    bad = ~np.isfinite(kept[output])
    if not bad.any() or not uncertain:
        return None

    def percentiles(values):  # mid-ranks of the bad draws among all kept ones, in (0, 1)
        ordered = np.sort(values)
        left = np.searchsorted(ordered, values[bad], "left")
        right = np.searchsorted(ordered, values[bad], "right")
        return (left + right) / 2 / values.size

    medians = {name: float(np.median(percentiles(np.asarray(kept[name])))) for name in uncertain}
    name = max(medians, key=lambda n: abs(medians[n] - 0.5))  # an unrelated one sits near 0.5
    return name, at_percentile(medians[name])


def _tracked(draws: dict, priors: PriorSet) -> tuple[str, ...]:
    names = tuple(name for name in draws if name not in priors)
    if not names:
        raise ValueError("the model has no outputs to summarise (a streamed run tracks outputs)")
    return names


def stream(priors: PriorSet, seed=0, n: int | None = None, rtol: float | None = DEFAULT_RTOL,
           max_n: int = MAX_SAMPLES, sampler: str = "mc", model: Model | Callable | None = None,
           keep: int = KEEP, figures: dict | None = None,
           progress: Callable[[int, float | None], None] | None = None) -> StreamResult:
    """Draw until ``n`` draws (when given) or until the relative MCSE of the 5/50/95% quantiles
    of the model's headline outputs is at most ``rtol`` (checked at :data:`SCHEDULE`), at most
    ``max_n``.

    ``model`` defaults to the priors' own. ``figures`` maps output name -> values whose exact
    share below is wanted (default: the model's marks). ``progress`` is called after each step
    with (draws so far, latest relative MCSE or None)."""
    if n is not None and (not isinstance(n, int) or n < 1):
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if sampler not in ("mc", "qmc"):
        raise ValueError(f"sampler must be 'mc' or 'qmc', got {sampler!r}")
    model = as_model(model, priors.model)
    figures = dict(model.marks) if figures is None else figures
    run = _stream_qmc if sampler == "qmc" else _stream_mc
    started = time.perf_counter()
    result = run(priors, seed, n, rtol, max_n, model, keep, figures, progress)
    result.seconds = time.perf_counter() - started
    return result


def _headline(model: Model, names: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(name for name in model.headline if name in names)
    return chosen or names


def _stream_mc(priors, seed, n, rtol, max_n, model, keep, figures, progress) -> StreamResult:
    key = as_key(seed)
    # Chunk 0 is the pilot: it fixes the grid and gives the kept draws. The steps then count it
    # with every other chunk: drawing it twice costs a step's time (12 CPU-ms), counting it on
    # its own a third compiled program (0.13 s to load from the cache, and its memory). Except
    # where a run loads that program anyway, for a lone partial chunk at its end (a fixed
    # ``n`` that is no whole number of chunks, on one CPU device): there the pilot is counted.
    first = min(n or CHUNK_SIZE, CHUNK_SIZE)
    plan, params = priors_plan(priors)  # made once: the pilot, the kept chunks and every step
    chunk = draw_chunk(priors, key, 0, CHUNK_SIZE, model, (plan, params))
    names = _tracked(chunk, priors)
    weight = np.arange(CHUNK_SIZE) < first
    grid = make_grid(chunk, weight, names, figures)
    kept = _kept_mc(priors, key, model, chunk, min(keep, n or keep), (plan, params))
    device_grid = grid.device_args()
    mesh = _mesh()
    # Small steps when only a few chunks are left before a check (a big step would mostly
    # draw masked chunks), big ones otherwise; at most two compiled programs.
    big_step = mesh.size * _chunks_per_device()
    static = dict(plan=plan, model=model, size=CHUNK_SIZE,
                  grid_static=(names, grid.thresholds), mesh=mesh, lanes=_lanes())
    done_chunks, history, totals = 0, [], None
    if big_step == 1 and n is not None and n % CHUNK_SIZE:
        totals = _merge(None, _block_statistics(
            chunk, weight, np.zeros(CHUNK_SIZE, np.int32), *device_grid,
            grid_static=(names, grid.thresholds), groups=1))
        done_chunks = 1
    del chunk  # every variable of 2^17 draws, kept on the host: its device memory can go
    result = StreamResult(grid, {}, 0, seed, "mc", model, rtol if n is None else None, kept,
                          devices=mesh.size, processes=jax.process_count(), history=history)
    for target in _schedule(n, max_n):
        full, remainder = divmod(target, CHUNK_SIZE)
        pending = []
        while done_chunks * CHUNK_SIZE < target:
            left = -(-target // CHUNK_SIZE) - done_chunks
            # a one-chunk step costs a GPU about as much as 1/16 of a big one (latency)
            per_step = mesh.size if left * 16 <= big_step else big_step
            if per_step == 1 and done_chunks == full:
                # A lone partial chunk on one device: drawn and counted on its own, so a run
                # never compiles (or holds in memory) a masked step for it.
                chunk = draw_chunk(priors, key, done_chunks, CHUNK_SIZE, model, (plan, params))
                pending.append(_block_statistics(
                    chunk, np.arange(CHUNK_SIZE) < remainder, np.zeros(CHUNK_SIZE, np.int32),
                    *device_grid, grid_static=(names, grid.thresholds), groups=1))
            else:
                pending.append(_mc_step(key, _global_indices(done_chunks, per_step, mesh), full,
                                        remainder, *device_grid, params,
                                        masked=done_chunks + per_step > full, **static))
            done_chunks += per_step
            if len(pending) > 1:  # the device draws the next step while the host adds this one
                totals = _merge(totals, pending.pop(0))
                if progress:
                    progress(min(done_chunks * CHUNK_SIZE, target), None)
        for step in pending:
            totals = _merge(totals, step)
        # chunks past the target were masked out: the next target draws them again
        done_chunks = -(-target // CHUNK_SIZE)
        result.totals, result.n = totals, target
        _require_finite(result, priors)
        error = result.relative_mcse(_headline(model, names))
        history.append((target, error))
        if progress:
            progress(target, error)
        if n is None and error <= rtol:
            break
    return result


# --- quasi-Monte Carlo ----------------------------------------------------------------------------

_draws = jax.jit(draws_from_uniforms, static_argnames=("plan", "model"))


def _sobol_engines(dimensions: int, seed: int, replicates: int) -> list:
    seeds = np.random.SeedSequence([*np.atleast_1d(seed_record(seed)), 0x5EED]).spawn(replicates)
    return [ScrambledSobol(dimensions, np.random.default_rng(s)) for s in seeds]


def _stream_qmc(priors, seed, n, rtol, max_n, model, keep, figures, progress) -> StreamResult:
    plan, params = priors_plan(priors)
    dimensions = max(len(plan.random_names), 1)
    replicates = QMC_REPLICATES
    engines = _sobol_engines(dimensions, seed, replicates)
    # points per replicate at each check: powers of two keep Sobol's balance
    if n is not None:
        per_replicate = [-(-n // replicates)]
    else:
        per_replicate, m = [], QMC_FIRST
        while m * replicates < max_n:
            per_replicate.append(m)
            m *= 2
        per_replicate.append(-(-max_n // replicates))
    totals, done, history, result, static, device_grid = None, 0, [], None, None, None
    for m in per_replicate:
        with warnings.catch_warnings():  # a fixed n need not be a power of 2: balance is lost,
            warnings.filterwarnings(  # but the replicates' error estimate stays honest
                "ignore", message="The balance properties of Sobol", category=UserWarning)
            block = np.stack([engine.random(m - done) for engine in engines])  # (R, new, d)
        u = np.clip(block.reshape(-1, dimensions).T, GRID_LOW, GRID_HIGH).astype(np.float32)
        group = np.repeat(np.arange(replicates, dtype=np.int32), m - done)
        for start in range(0, u.shape[1], CHUNK_SIZE):
            columns = slice(start, start + CHUNK_SIZE)
            piece, piece_group = _pad(u[:, columns], group[columns])
            size = u[:, columns].shape[1]
            draws = _draws(jnp.asarray(piece), plan=plan, params=params, model=model)
            if result is None:  # the first block is the pilot: it fixes the grid
                pilot = _host(draws, min(size, keep))
                names = _tracked(pilot, priors)
                grid = make_grid(draws, jnp.arange(CHUNK_SIZE) < size, names, figures)
                device_grid = grid.device_args()
                static = dict(grid_static=(names, grid.thresholds), groups=replicates)
                result = StreamResult(grid, {}, 0, seed, "qmc", model, rtol if n is None else None,
                                      pilot,
                                      replicates=replicates, history=history)
            totals = _merge(totals, _block_statistics(draws, jnp.arange(CHUNK_SIZE) < size,
                                                      jnp.asarray(piece_group), *device_grid,
                                                      **static))
        done = m
        result.totals, result.n = totals, m * replicates
        _require_finite(result, priors)
        error = result.relative_mcse(_headline(model, result.grid.names))
        history.append((result.n, error))
        if progress:
            progress(result.n, error)
        if n is None and error <= rtol:
            break
    return result


def _pad(u: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pad a block to :data:`CHUNK_SIZE` columns so one compiled program serves every block."""
    missing = CHUNK_SIZE - u.shape[1]
    if missing == 0:
        return u, group
    return (np.pad(u, ((0, 0), (0, missing)), constant_values=0.5),
            np.pad(group, (0, missing)))
