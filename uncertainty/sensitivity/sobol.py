"""Global, variance-based sensitivity: first- and total-order Sobol indices, as plain data.

:func:`sobol_indices` computes first-order (``S1``) and total-order (``ST``) indices on a
Saltelli A/B/AB design, with bootstrap intervals, for any JAX-traceable model;
:func:`sobol_document` adds what is needed to read and repeat them (the JSON).

Example
-------
>>> from uncertainty import priors_from_dict
>>> priors = priors_from_dict({
...     "x1": {"dist": "normal", "mean": 0.0, "sd": 1.0, "source": "test"},
...     "x2": {"dist": "normal", "mean": 0.0, "sd": 2.0, "source": "test"}})
>>> res = sobol_indices(lambda a: {"y": a["x1"] + a["x2"]}, priors, n_base=2**12, scale="linear")
>>> round(res["y"]["x2"]["S1"], 1)   # 4 / (1 + 4)
0.8
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import PriorError, not_finite
from ..families import U_MAX, U_MIN
from ..model import Model, as_model
from ..priors import PriorSet
from ..sampling import as_key, seed_record
from ..sobol_sequence import ScrambledSobol
from .tornado import chosen_outputs, fixed_values, icdf_blocks

__all__ = ["DEFAULT_N_BOOTSTRAP", "SAMPLERS", "SCALES", "sobol_document", "sobol_indices"]

DEFAULT_N_BOOTSTRAP = 500
INDEPENDENT_NOTE = ("The priors are correlated; these Sobol indices are computed as if the "
                    "assumptions were independent (same marginals), so they measure sensitivity "
                    "under independence and do not split the variance of the correlated joint "
                    "prior: Shapley effects do (sora-uq shapley).")
SCALES = ("log", "linear")
SAMPLERS = ("sobol", "random")
BOOTSTRAP_CHUNK = 50  # bootstrap replicates per matrix product: bounds memory at large n_base


def _base_points(sampler: str, n_base: int, dims: int, seed: int, key):
    """``n_base`` points in the open unit cube of ``dims`` dimensions, float32."""
    if sampler == "sobol":
        # scipy.stats.qmc.Sobol's points, without importing scipy.stats (0.4 CPU-seconds)
        engine = ScrambledSobol(dims, np.random.default_rng(seed_record(seed)))
        points = engine.random_base2(int(math.log2(n_base)))
        # open_unit in NumPy: the same float32 numbers without an XLA program for the clip
        return np.clip(points.astype(np.float32), np.float32(U_MIN), np.float32(U_MAX))
    return jax.random.uniform(key, (n_base, dims), jnp.float32, minval=U_MIN, maxval=U_MAX)


def _check_sobol_args(n_base: int, scale: str, sampler: str, n_bootstrap: int) -> None:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    if not isinstance(n_base, int) or n_base < 16:
        raise ValueError(f"n_base must be an integer >= 16, got {n_base!r}")
    if sampler == "sobol" and n_base & (n_base - 1):
        raise ValueError(f"n_base must be a power of 2 for the Sobol sequence, got {n_base}")
    if not isinstance(n_bootstrap, int) or n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be a positive integer, got {n_bootstrap!r}")


def sobol_indices(fn: Model | Callable, priors: PriorSet, n_base: int = 2**14, seed: int = 0,
                  scale: str = "log", n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
                  sampler: str = "sobol", outputs: Sequence[str] | None = None) -> dict:
    """First-order and total-order Sobol indices of every output, with bootstrap 95% intervals.

    Design: ``n_base`` points of a ``2d``-dimensional scrambled Sobol sequence (or plain random
    points) give matrices A and B; AB_i is A with column i from B; each point is mapped through
    the priors' ``icdf``. That is ``n_base * (d + 2)`` model runs in one compiled call, for ``d``
    uncertain assumptions (fixed ones are held at their value and get no index). Estimators:
    Saltelli et al. (2010) first order, Jansen (1999) total order, for all inputs and outputs at
    once in ``jax.numpy``. Intervals: 2.5% and 97.5% quantiles of ``n_bootstrap`` resamples of
    the rows of the design.

    Parameters
    ----------
    fn : Model or callable
        The model: dict of named input arrays -> dict of named output arrays, for one draw;
        JAX-traceable.
    priors : PriorSet
        From :func:`~uncertainty.priors_from_dict` or :func:`~uncertainty.load_priors`.
    n_base : int
        Base sample size N (a power of 2 for ``sampler="sobol"``).
    seed : int or jax.random.key
        Seeds the scrambling (or the random points) and the bootstrap.
    scale : {"log", "linear"}
        ``log`` analyses the variance of log(output) (outputs must be > 0); ``linear`` the
        variance of the output, standardised first (squares of 1e25 overflow float32).
    n_bootstrap : int
        Bootstrap resamples for the intervals.
    sampler : {"sobol", "random"}
    outputs : sequence of str, optional
        Outputs to analyse (default: every output of ``fn``).

    Returns
    -------
    dict
        ``{output: {assumption: {"S1", "S1_ci": [lo, hi], "ST", "ST_ci": [lo, hi]}}}``. An
        output that does not vary gets all indices 0.
    """
    _check_sobol_args(n_base, scale, sampler, n_bootstrap)
    names = priors.uncertain
    if not names:
        raise ValueError("every assumption is fixed: nothing to analyse")
    fn = as_model(fn)
    sample_key, boot_key = jax.random.split(as_key(seed))
    u = _base_points(sampler, n_base, 2 * len(names), seed, sample_key)
    fixed = fixed_values(priors)
    run = _design_outputs(_design_inputs(u, priors), tuple(value for _, value in fixed),
                          names=names, fixed=tuple(name for name, _ in fixed), fn=fn)
    chosen = chosen_outputs(run, outputs)
    s1, st, boot_s1, boot_st, finite = _analyse(tuple(run[o] for o in chosen), boot_key, scale,
                                                n_bootstrap)
    bad = [o for o, ok in zip(chosen, np.asarray(finite), strict=True) if not ok]
    if bad:
        values = np.asarray(run[bad[0]])
        if not np.isfinite(values).all():  # no scale helps: the priors or the model must change
            kind, why = not_finite(values)
            raise PriorError(f"{priors.path or priors.name}: output '{bad[0]}' is {kind} at "
                             f"some design points: {why}")
        rule = "> 0 and finite for scale='log'" if scale == "log" else "finite"
        raise ValueError(f"output '{bad[0]}' must be {rule} at every design point")
    return _as_dict(chosen, names, s1, st, boot_s1, boot_st)


def _design_inputs(u, priors: PriorSet) -> np.ndarray:
    """Base points mapped through each uncertain prior's icdf: shape (d, 2, N), A then B
    (on the host: see :func:`~uncertainty.sensitivity.tornado.icdf_blocks`)."""
    d, u = len(priors.uncertain), np.asarray(u)
    return np.stack([icdf_blocks(priors[name].dist, np.stack([u[:, j], u[:, d + j]]))
                     for j, name in enumerate(priors.uncertain)])


@partial(jax.jit, static_argnames=("names", "fixed", "fn"))
def _design_outputs(columns, fixed_values: tuple, names: tuple, fixed: tuple, fn: Model) -> dict:
    """Evaluate ``fn`` on the rows A, B and AB_1..AB_d in one compiled call: each output comes
    back with shape (d + 2, N)."""
    d, n = columns.shape[0], columns.shape[2]
    rows = jnp.arange(d + 2)[:, None]
    inputs = {}
    for j, name in enumerate(names):
        # Row 0 is A, row 1 is B, row 2 + i is AB_i: A with column i taken from B.
        take_b = (rows == 1) | (rows == 2 + j)
        inputs[name] = jnp.where(take_b, columns[j, 1][None, :], columns[j, 0][None, :]).reshape(-1)
    for name, value in zip(fixed, fixed_values, strict=True):
        inputs[name] = jnp.full(((d + 2) * n,), value, jnp.float32)
    return {k: v.reshape(d + 2, n) for k, v in jax.vmap(fn)(inputs).items()}


@partial(jax.jit, static_argnames=("scale", "n_bootstrap"))
def _analyse(outputs: tuple, key, scale: str, n_bootstrap: int):
    """Point estimates and bootstrap replicates of S1 and ST; ``outputs`` are arrays of shape
    (d + 2, N), one per output."""
    z, finite = _standardise(jnp.stack(outputs), scale)
    stats = _row_statistics(z)  # (N, outputs, 4 + 2d)
    n = stats.shape[0]
    s1, st = _indices(stats.mean(axis=0))
    keys = jax.random.split(key, -(-n_bootstrap // BOOTSTRAP_CHUNK))

    def replicate_chunk(chunk_key):
        picks = jax.random.randint(chunk_key, (BOOTSTRAP_CHUNK, n), 0, n)
        counts = jax.vmap(lambda p: jnp.bincount(p, length=n))(picks).astype(jnp.float32)
        # Mean of resampled rows = counts @ rows / n: one matrix product per chunk of replicates.
        means = jnp.einsum("bn,nm->bm", counts, stats.reshape(n, -1)) / n
        return _indices(means.reshape(BOOTSTRAP_CHUNK, *stats.shape[1:]))

    boot_s1, boot_st = jax.lax.map(replicate_chunk, keys)
    shape = (-1, *s1.shape)
    return (s1, st, boot_s1.reshape(shape)[:n_bootstrap], boot_st.reshape(shape)[:n_bootstrap],
            finite)


def _standardise(y, scale: str):
    """Log or linear outputs, centred and scaled to unit variance (float32-safe)."""
    if scale == "log":
        z = jnp.log(y)
    else:  # divide by the largest magnitude before any square: 1e25**2 overflows float32
        z = y / jnp.maximum(jnp.max(jnp.abs(y), axis=(1, 2), keepdims=True), 1e-30)
    finite = jnp.all(jnp.isfinite(z), axis=(1, 2))
    base = z[:, :2, :]  # A and B: independent draws of the output
    mean = base.mean(axis=(1, 2), keepdims=True)
    sd = base.std(axis=(1, 2), keepdims=True)
    return (z - mean) / jnp.where(sd > 0, sd, 1.0), finite


def _row_statistics(z):
    """Per design row: f_A, f_B, f_A^2, f_B^2, and for each input the two estimator terms."""
    f_a, f_b, f_ab = z[:, 0, :], z[:, 1, :], z[:, 2:, :]
    first = f_b[:, None, :] * (f_ab - f_a[:, None, :])  # Saltelli 2010
    total = (f_a[:, None, :] - f_ab) ** 2  # Jansen 1999
    moments = jnp.stack([f_a, f_b, f_a**2, f_b**2], axis=1)
    return jnp.concatenate([moments, first, total], axis=1).transpose(2, 0, 1)


def _indices(means):
    """S1 and ST from row means (..., outputs, 4 + 2d)."""
    d = (means.shape[-1] - 4) // 2
    mean = 0.5 * (means[..., 0] + means[..., 1])
    var = 0.5 * (means[..., 2] + means[..., 3]) - mean**2
    var = var[..., None]
    ok = var > 1e-12
    safe = jnp.where(ok, var, 1.0)
    s1 = jnp.where(ok, means[..., 4:4 + d] / safe, 0.0)
    st = jnp.where(ok, 0.5 * means[..., 4 + d:] / safe, 0.0)
    return s1, st


def _as_dict(outputs, names, s1, st, boot_s1, boot_st) -> dict:
    s1, st = np.asarray(s1, np.float64), np.asarray(st, np.float64)
    s1_ci = np.quantile(np.asarray(boot_s1, np.float64), [0.025, 0.975], axis=0)
    st_ci = np.quantile(np.asarray(boot_st, np.float64), [0.025, 0.975], axis=0)
    return {out: {name: {"S1": float(s1[o, j]), "S1_ci": [float(s1_ci[0, o, j]),
                                                           float(s1_ci[1, o, j])],
                         "ST": float(st[o, j]), "ST_ci": [float(st_ci[0, o, j]),
                                                          float(st_ci[1, o, j])]}
                  for j, name in enumerate(names)}
            for o, out in enumerate(outputs)}


def sobol_document(priors: PriorSet, n_base: int = 2**14, seed: int = 0, scale: str = "log",
                   n_bootstrap: int = DEFAULT_N_BOOTSTRAP, sampler: str = "sobol",
                   outputs: Sequence[str] | None = None,
                   model: Model | Callable | None = None) -> dict:
    """:func:`sobol_indices` of ``model`` (default: the priors' own) with the facts needed to
    read and repeat it (the JSON)."""
    model = as_model(model, priors.model)
    indices = sobol_indices(model, priors, n_base=n_base, seed=seed, scale=scale,
                            n_bootstrap=n_bootstrap, sampler=sampler, outputs=outputs)
    design = ("scrambled Sobol sequence, scipy.stats.qmc.Sobol" if sampler == "sobol"
              else "plain random points, jax.random.uniform")
    note = ({"note": INDEPENDENT_NOTE} if priors.correlations else {})
    return {"scale": scale, "n_base": n_base, "seed": seed_record(seed), "sampler": design,
            **note,
            "n_bootstrap": n_bootstrap,
            "model_runs": n_base * (len(priors.uncertain) + 2),
            "estimators": "Saltelli 2010 first order, Jansen 1999 total order, A/B/AB design; "
                          "95% intervals from bootstrap resamples of the design rows",
            "outputs": indices}
