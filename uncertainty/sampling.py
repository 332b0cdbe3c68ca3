"""key + priors + n -> draws of every assumption and output -> DataTree group ``prior``.

Every random assumption is drawn as ``icdf(u)`` of its own family from a uniform ``u``: one
fused, jitted program turns a block of uniforms into every assumption and output. The same path
serves plain Monte Carlo (uniforms from Philox-4x32-10 bits keyed by ``jax.random``,
:mod:`uncertainty.philox`), quasi-Monte Carlo (scrambled Sobol points,
:mod:`uncertainty.streaming`) and correlated priors (the copula moves the uniforms of the
correlated assumptions through normal scores, ``Phi(L Phi^-1(u))``, which keeps each marginal).
Inverse-CDF sampling is also what makes it fast on a CPU: JAX's own beta and gamma samplers are
rejection loops, ~35x slower than NumPy's here.

Sampling is chunked: chunk ``i`` uses ``fold_in(key, i)``, so memory stays bounded, the first
``m`` draws of a run do not depend on ``n``, and the numbers for a seed do not depend on how the
chunks are spread over devices. This module imports neither ArviZ nor any plotting library.

Example
-------
>>> from uncertainty import load_priors, simulate
>>> tree = simulate(load_priors("article"), n=1000, seed=0)
>>> tree["prior"]["fleet_gpus"].dims
('chain', 'draw')
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy import special

from . import __version__
from .copula import Copula
from .defaults import DEFAULT_SAMPLES
from .model import Model, as_model
from .philox import FIELD_BITS, random_fields
from .priors import PriorSet

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "CHUNK_SIZE",
    "GRID_HIGH",
    "GRID_LOW",
    "DEFAULT_SAMPLES",
    "as_key",
    "seed_record",
    "draw_chunk",
    "draws_from_uniforms",
    "Plan",
    "PlanParams",
    "plan_of",
    "priors_plan",
    "mc_uniforms",
    "random_names",
    "simulate",
]

CHUNK_SIZE = 1 << 17

# Uniforms on a 2^-23 grid shifted by half a step: (k + 0.5) / 2^23 for k < 2^23 lies strictly
# inside (0, 1) in float32 (its largest value, 1 - 2^-24, is exactly representable), so icdf is
# finite for every family; the tails are cut at 6e-8 on both sides alike. The copula and QMC
# points are clipped to the same ends, so every sampler's draws share one range.
_MANTISSA_BITS = FIELD_BITS
GRID_LOW = 0.5 / 2**_MANTISSA_BITS
GRID_HIGH = 1.0 - GRID_LOW


def as_key(seed) -> jax.Array:
    """A JAX key from a seed (an int) or a key itself: every random entry point takes either.

    >>> bool((jax.random.key_data(as_key(3)) == jax.random.key_data(jax.random.key(3))).all())
    True
    """
    if isinstance(seed, jax.Array) and jax.dtypes.issubdtype(seed.dtype, jax.dtypes.prng_key):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or a jax.random.key, got {seed!r}")
    return jax.random.key(int(seed))


def seed_record(seed) -> int | list[int]:
    """A seed as written down (JSON, netCDF): the int itself, or a key's raw words.

    NumPy and SciPy generators (QMC scrambling) are seeded from it too, so a key gives the
    same numbers wherever it is used."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    return [int(word) for word in np.asarray(jax.random.key_data(as_key(seed))).ravel()]


def mc_uniforms(key, rows: int, size: int) -> list[jax.Array]:
    """``rows`` rows of ``size`` independent uniforms on (0, 1): ``(k + 0.5) / 2^23`` for
    23-bit fields ``k`` of Philox-4x32-10 blocks (:func:`uncertainty.philox.random_fields`)
    keyed from ``key``. A list of rows, not one array: each row feeds its own quantile
    function, and stacking them was a copy of every uniform."""
    return [(bits.astype(jnp.float32) + 0.5) * (1.0 / 2**_MANTISSA_BITS)
            for bits in random_fields(key, rows, size)]


def random_names(dists: tuple) -> tuple[str, ...]:
    """The assumptions that need a uniform (all but the fixed ones), in the priors' order."""
    return tuple(name for name, dist in dists if dist.name != "fixed")


@dataclass(frozen=True)
class Plan:
    """The static half of a prior set in a compiled program: what decides the program's shape.

    Two prior files with the same assumptions, families (of the same form) and correlated
    subset have equal plans, whatever their numbers: those travel apart, as traced
    :class:`PlanParams`, so one compilation serves both (and a live page can move a prior
    without recompiling)."""

    names: tuple[str, ...]  # every assumption, in the priors' order
    icdfs: tuple[Callable, ...]  # each one's quantile function (Family.icdf_plan)
    random: tuple[bool, ...]  # False for a fixed assumption: it takes no uniform
    correlated: tuple[int, ...]  # rows (among the random ones) the copula moves

    @property
    def random_names(self) -> tuple[str, ...]:
        return tuple(name for name, drawn in zip(self.names, self.random, strict=True) if drawn)


class PlanParams(NamedTuple):
    """The traced half: each assumption's icdf parameters, and the copula's Cholesky factor."""

    icdf: tuple[tuple, ...]
    cholesky: np.ndarray | None


def plan_of(dists: tuple, copula: Copula | None = None) -> tuple[Plan, PlanParams]:
    """Split ``(name, family)`` pairs and a copula into a :class:`Plan` and its parameters."""
    icdf_plans = [dist.icdf_plan() for _, dist in dists]
    names = tuple(name for name, _ in dists)
    random = tuple(dist.name != "fixed" for _, dist in dists)
    drawn = [name for name, is_random in zip(names, random, strict=True) if is_random]
    correlated = tuple(drawn.index(name) for name in copula.names) if copula else ()
    cholesky = np.asarray(copula.cholesky, np.float32) if copula else None
    plan = Plan(names, tuple(fn for fn, _ in icdf_plans), random, correlated)
    # On the device once: NumPy tables passed to every step were copied at every call (a
    # millisecond of dispatch per 131,072-draw step, ~7% of it).
    return plan, jax.device_put(PlanParams(tuple(params for _, params in icdf_plans), cholesky))


def priors_plan(priors: PriorSet) -> tuple[Plan, PlanParams]:
    """:func:`plan_of` for a prior set: its families and its copula."""
    return plan_of(distributions(priors), priors.copula)


def _correlate(rows: list, which: tuple[int, ...], cholesky) -> list:
    """Gaussian copula on rows ``which``: normal scores times the Cholesky factor, back to (0, 1).

    The other rows are returned untouched, so adding a correlation changes only the correlated
    assumptions' draws."""
    lower = jnp.asarray(cholesky, jnp.float32)
    scores = lower @ special.ndtri(jnp.stack([rows[i] for i in which]))
    moved = jnp.clip(special.ndtr(scores), GRID_LOW, GRID_HIGH)
    rows = list(rows)
    for i, row in zip(which, moved, strict=True):
        rows[i] = row
    return rows


def draws_from_uniforms(u, plan: Plan, params: PlanParams, model: Model,
                        size: int | None = None) -> dict:
    """``u``: one row of uniforms per random assumption of ``plan`` (an array ``(rows, size)``,
    or a sequence of rows: then they are never stacked into one array) -> every assumption and
    output, float32. ``size``: the number of draws, needed only when ``u`` is an empty sequence
    (every assumption fixed).

    Pure ``jax.numpy``: call it inside ``jit`` or ``vmap``."""
    rows = list(u)
    size = u.shape[-1] if hasattr(u, "shape") else rows[0].shape[-1] if rows else size
    if plan.correlated:
        rows = _correlate(rows, plan.correlated, params.cholesky)
    rows = iter(rows)
    middle = jnp.full((size,), 0.5, jnp.float32)  # a fixed assumption's icdf ignores u
    inputs = {name: icdf(next(rows) if drawn else middle, *values).astype(jnp.float32)
              for name, icdf, drawn, values in zip(plan.names, plan.icdfs, plan.random,
                                                   params.icdf, strict=True)}
    return {**inputs, **jax.vmap(model)(inputs)}


@partial(jax.jit, static_argnames=("plan", "model", "size"))
def _chunk(key, params: PlanParams, plan: Plan, model: Model, size: int) -> dict:
    return draws_from_uniforms(mc_uniforms(key, len(plan.random_names), size), plan, params,
                               model, size)


def distributions(priors: PriorSet) -> tuple:
    """The priors as a hashable tuple of ``(name, family)`` pairs, in file order."""
    return tuple((name, prior.dist) for name, prior in priors.items())


def draw_chunk(priors: PriorSet, key, index: int, size: int = CHUNK_SIZE,
               model: Model | None = None, plan: tuple[Plan, PlanParams] | None = None) -> dict:
    """Draws of chunk ``index`` of a run with base ``key``: every assumption and output.

    ``plan``: the priors' :func:`priors_plan`, when the caller draws many chunks (made once,
    its parameters put on the device once)."""
    plan, params = plan or priors_plan(priors)
    return _chunk(jax.random.fold_in(key, index), params, plan=plan,
                  model=as_model(model, priors.model), size=size)


def simulate(priors: PriorSet, n: int = DEFAULT_SAMPLES, seed=0,
             model: Model | Callable | None = None) -> xr.DataTree:
    """Monte Carlo draws of every assumption and every output of ``model``.

    Parameters
    ----------
    priors : PriorSet
        From :func:`~uncertainty.load_priors` or :func:`~uncertainty.priors_from_dict`.
    n : int
        Number of draws.
    seed : int or jax.random.key
        The base key, or the seed of one; the same seed gives the same numbers.
    model : Model or callable, optional
        The :class:`~uncertainty.model.Model` to run (a plain one-draw function is wrapped);
        defaults to the priors' own (``priors.model``, the Sora model for its prior files).

    Returns
    -------
    xarray.DataTree
        Group ``prior`` holds one variable per assumption and output, dims ``("chain", "draw")``
        with one chain, as float64 (squares of 1e25 overflow float32).
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    started = time.perf_counter()
    model = as_model(model, priors.model)
    key = as_key(seed)
    chunks = -(-n // CHUNK_SIZE)
    plan = priors_plan(priors)
    # One chunk dispatched ahead: the device draws the next while the host copies this one.
    ahead = draw_chunk(priors, key, 0, CHUNK_SIZE, model, plan)
    draws = {name: np.empty(n, np.float64) for name in ahead}
    for index in range(chunks):
        chunk, start = ahead, index * CHUNK_SIZE
        if index + 1 < chunks:
            ahead = draw_chunk(priors, key, index + 1, CHUNK_SIZE, model, plan)
        for name, values in jax.device_get(chunk).items():  # one transfer per chunk
            draws[name][start:start + CHUNK_SIZE] = values[:n - start]
    return to_datatree(draws, priors, model, seed=seed, seconds=time.perf_counter() - started)


def _units(name: str, priors: PriorSet, model: Model) -> dict:
    if name in priors:
        return {"units": priors.unit(name), "role": "assumption",
                "family": priors[name].dist.describe()}
    attrs = {"units": model.unit(name), "long_name": model.label(name), "role": "output"}
    if name in model.marks:  # reference figures travel with the draws, for summarize
        attrs["marks"] = list(model.marks[name])
    return attrs


def to_datatree(draws: dict, priors: PriorSet, model: Model, seed, seconds: float,
                total: int | None = None, sampler: str = "mc") -> xr.DataTree:
    """Wrap draws as an ArviZ-style DataTree: group ``prior``, dims ``(chain, draw)``.

    ``total``: the run's number of draws when ``draws`` keeps only its first ones (a streamed
    run); the attributes then say so."""
    import xarray as xr  # here: the commands that draw no DataTree (sobol, tornado) skip it

    n = len(next(iter(draws.values())))
    variables = {
        name: xr.DataArray(values[np.newaxis, :], dims=("chain", "draw"),
                           attrs=_units(name, priors, model))
        for name, values in draws.items()
    }
    dataset = xr.Dataset(variables, coords={"chain": [0], "draw": np.arange(n)})
    dataset.attrs = {
        "priors_name": priors.name,
        "priors_path": priors.path or "",
        "priors_sha256": priors.sha256 or "",
        "seed": seed_record(seed),
        "model": model.name,
        "samples": n,
        "sampler": ("quasi-Monte Carlo (scrambled Sobol), first replicates" if sampler == "qmc"
                    else "monte carlo, Philox-4x32-10 uniforms (keys from jax.random) through "
                         f"icdf, chunks of {CHUNK_SIZE}"),
        "subsample": (f"the first {n} of {total} draws of the run; its summaries cover all"
                      if total and total > n else "every draw of the run"),
        "device": jax.devices()[0].platform,
        "wall_seconds": round(seconds, 3),
        "inference_library": "jax",
        "inference_library_version": jax.__version__,
        "creation_library": "sora-uq",
        "creation_library_version": __version__,
    }
    return xr.DataTree.from_dict({"prior": dataset})
