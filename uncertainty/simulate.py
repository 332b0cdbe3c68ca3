"""key + priors + n -> draws of every assumption and output -> DataTree group ``prior``.

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
from functools import cache
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from . import __version__
from .copula import correlated_uniforms
from .model import ALL_OUTPUTS, ASSUMPTIONS
from .priors import PriorSet

__all__ = ["simulate", "draw_chunk", "DEFAULT_SAMPLES", "CHUNK_SIZE"]

# 400k draws keep the relative MCSE of the 5% and 95% quantiles of the headline outputs of the
# article priors under 1% (measured in tests/test_summary.py and stated in every report).
DEFAULT_SAMPLES = 400_000
CHUNK_SIZE = 1 << 17

Model = Callable[[dict], dict]


def sample_assumptions(dists: tuple, key, size: int, copula=None) -> dict:
    """One independent draw per assumption; keys split in the priors' order, never reused.

    ``dists`` is a tuple of ``(name, family)`` pairs: hashable, so it can be a static argument.
    Assumptions in ``copula`` (:class:`~uncertainty.copula.Copula`) are drawn as ``icdf`` of
    rank-correlated uniforms from their own key, which keeps every marginal exact."""
    keys = jax.random.split(key, len(dists))
    u = dict(zip(copula.names, correlated_uniforms(jax.random.fold_in(key, len(dists)),
                                                   copula.cholesky, size).T)) if copula else {}
    return {name: (dist.icdf(u[name]) if name in u else dist.sample(k, (size,))).astype(jnp.float32)
            for (name, dist), k in zip(dists, keys)}


@cache
def vectorised(model: Model) -> Callable[[dict], dict]:
    """The one-draw model lifted to arrays with vmap and compiled once per model."""
    return jax.jit(jax.vmap(model))


def _chunk(dists: tuple, model: Model, key, size: int, copula=None) -> dict:
    # Not one jit around everything: each family's sampler is compiled once and shared by every
    # prior of that family (XLA would otherwise compile e.g. one gamma loop per beta prior).
    inputs = sample_assumptions(dists, key, size, copula)
    return {**inputs, **vectorised(model)(inputs)}


def distributions(priors: PriorSet) -> tuple:
    """The priors as a hashable tuple of ``(name, family)`` pairs, in file order."""
    return tuple((name, prior.dist) for name, prior in priors.items())


def draw_chunk(priors: PriorSet, key, index: int, size: int = CHUNK_SIZE,
               model: Model | None = None) -> dict:
    """Draws of chunk ``index`` of a run with base ``key``: every assumption and output."""
    return _chunk(distributions(priors), model or priors.model, jax.random.fold_in(key, index),
                  size, priors.copula)


def simulate(priors: PriorSet, n: int = DEFAULT_SAMPLES, seed: int = 0,
             model: Model | None = None) -> xr.DataTree:
    """Monte Carlo draws of every assumption and every output of ``model``.

    Parameters
    ----------
    priors : PriorSet
        From :func:`~uncertainty.load_priors` or :func:`~uncertainty.priors_from_dict`.
    n : int
        Number of draws.
    seed : int
        Seed of the base ``jax.random.key``; the same seed gives the same numbers.
    model : callable, optional
        Dict of assumption arrays -> dict of output arrays, for one draw. Defaults to the Sora
        compute model the priors call for (``priors.model``); pass ``lambda a: {}`` to draw the
        priors alone.

    Returns
    -------
    xarray.DataTree
        Group ``prior`` holds one variable per assumption and output, dims ``("chain", "draw")``
        with one chain, as float64 (squares of 1e25 overflow float32).
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    started = time.perf_counter()
    key = jax.random.key(seed)
    chunks = []
    for index in range(-(-n // CHUNK_SIZE)):
        chunk = draw_chunk(priors, key, index, CHUNK_SIZE, model)
        keep = min(CHUNK_SIZE, n - index * CHUNK_SIZE)
        chunks.append({k: np.asarray(v[:keep]) for k, v in chunk.items()})
    draws = {k: np.concatenate([c[k] for c in chunks]).astype(np.float64) for k in chunks[0]}
    return to_datatree(draws, priors, seed=seed, seconds=time.perf_counter() - started)


def _units(name: str, priors: PriorSet) -> dict:
    if name in priors:
        unit = priors[name].unit or (ASSUMPTIONS[name].unit if name in ASSUMPTIONS else "")
        return {"units": unit, "role": "assumption", "family": priors[name].dist.describe()}
    if name in ALL_OUTPUTS:
        return {"units": ALL_OUTPUTS[name].unit, "long_name": ALL_OUTPUTS[name].label,
                "role": "output"}
    return {"role": "output"}


def to_datatree(draws: dict, priors: PriorSet, seed: int, seconds: float) -> xr.DataTree:
    """Wrap draws as an ArviZ-style DataTree: group ``prior``, dims ``(chain, draw)``."""
    n = len(next(iter(draws.values())))
    variables = {
        name: xr.DataArray(values[np.newaxis, :], dims=("chain", "draw"), attrs=_units(name, priors))
        for name, values in draws.items()
    }
    dataset = xr.Dataset(variables, coords={"chain": [0], "draw": np.arange(n)})
    dataset.attrs = {
        "priors_name": priors.name,
        "priors_path": priors.path or "",
        "priors_sha256": priors.sha256 or "",
        "seed": seed,
        "samples": n,
        "sampler": "monte carlo, jax.random (threefry), chunks of %d" % CHUNK_SIZE,
        "device": jax.devices()[0].platform,
        "wall_seconds": round(seconds, 3),
        "inference_library": "jax",
        "inference_library_version": jax.__version__,
        "creation_library": "sora-uq",
        "creation_library_version": __version__,
    }
    return xr.DataTree.from_dict({"prior": dataset})
