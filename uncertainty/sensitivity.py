"""Which assumption drives each output: tornado swings and Sobol indices, as plain data.

:func:`tornado` moves one assumption at a time to a low and a high quantile, the rest held at
their medians. :func:`sobol_indices` is global and variance based: first-order (``S1``) and
total-order (``ST``) indices on a Saltelli A/B/AB design, with bootstrap intervals, for any
JAX-traceable model. :func:`pin_down_next` turns first-order indices into a ranking a reader can
act on, and :func:`sensitivity_markdown` renders all of it for the report.

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
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import qmc

from .model import ASSUMPTIONS, OUTPUTS, compute_outputs
from .priors import PriorSet
from .sampling import CHUNK_SIZE
from .summary import format_value

__all__ = [
    "DEFAULT_N_BOOTSTRAP",
    "SAMPLERS",
    "SCALES",
    "TORNADO_NOTE",
    "pin_down_next",
    "pin_down_summary",
    "sensitivity_markdown",
    "sobol_document",
    "sobol_indices",
    "top_driver_check",
    "tornado",
]

Model = Callable[[dict], dict]

DEFAULT_N_BOOTSTRAP = 500
SCALES = ("log", "linear")
SAMPLERS = ("sobol", "random")
BOOTSTRAP_CHUNK = 50  # bootstrap replicates per matrix product: bounds memory at large n_base
TORNADO_NOTE = ("One assumption moves at a time while every other stays at its median, so the "
                "tornado ignores any correlation or interaction between assumptions by "
                "construction; the Sobol total index does not.")
# Largest float32 below 1: a float64 point closer to 1 would round to 1 and map to infinity.
_U_MAX = float(np.nextafter(np.float32(1), np.float32(0)))
_U_MIN = float(np.finfo(np.float32).tiny)


# --- tornado ----------------------------------------------------------------------------------

def tornado(priors: PriorSet, low: float = 0.05, high: float = 0.95,
            outputs: Sequence[str] | None = None, model: Model = compute_outputs) -> dict:
    """One-at-a-time swings of every output, for every uncertain assumption.

    The base case puts every assumption at its median; each uncertain assumption alone then
    moves to its ``low`` and ``high`` quantile. All ``2k + 1`` cases are one batched, compiled
    call of ``model``. Fixed assumptions keep their value and get no bar.

    Returns
    -------
    dict
        ``{"note": ..., "outputs": {NAME: {"base", "low_quantile", "high_quantile", "bars"}}}``;
        each bar has ``assumption, input_low, input_high, output_low, output_high, swing_log10``
        (``|log10(output_high / output_low)|``; None where an output is not positive), bars
        sorted by swing, largest first.
    """
    if not 0 < low < high < 1:
        raise ValueError(f"need 0 < low < high < 1, got low={low}, high={high}")
    names = priors.uncertain
    if not names:
        raise ValueError("every assumption is fixed: nothing to swing")
    levels = np.full((2 * len(names) + 1, len(names)), 0.5, np.float32)
    for i in range(len(names)):
        levels[1 + 2 * i, i], levels[2 + 2 * i, i] = low, high
    columns = jnp.stack([_icdf(priors[name].dist, levels[:, i]) for i, name in enumerate(names)])
    results = _tornado_cases(columns, names, _fixed(priors), model)
    inputs = dict(zip(names, np.asarray(columns, np.float64)))
    results = {k: np.asarray(v, np.float64) for k, v in results.items()}
    chosen = _chosen_outputs(results, outputs)
    table = {}
    for out in chosen:
        values = results[out]
        bars = [_bar(name, inputs[name], values, i) for i, name in enumerate(names)]
        bars.sort(key=lambda bar: -1.0 if bar["swing_log10"] is None else -bar["swing_log10"])
        table[out] = {"base": float(values[0]), "low_quantile": low, "high_quantile": high,
                      "bars": bars}
    return {"note": TORNADO_NOTE, "outputs": table}


def _fixed(priors: PriorSet) -> tuple:
    return tuple((name, float(p.dist.value)) for name, p in priors.items() if p.is_fixed)


@partial(jax.jit, static_argnames=("names", "fixed", "model"))
def _tornado_cases(columns, names: tuple, fixed: tuple, model: Model) -> dict:
    """The model on the base case and the 2k one-at-a-time cases: one compiled call.

    ``columns`` has one row per uncertain assumption and one column per case."""
    inputs = {name: columns[i] for i, name in enumerate(names)}
    for name, value in fixed:
        inputs[name] = jnp.full(columns.shape[1:], value, jnp.float32)
    return jax.vmap(model)(inputs)


def _bar(name: str, inputs, values: np.ndarray, i: int) -> dict:
    out_low, out_high = float(values[1 + 2 * i]), float(values[2 + 2 * i])
    swing = (abs(math.log10(out_high / out_low)) if out_low > 0 and out_high > 0 else None)
    return {"assumption": name, "input_low": float(inputs[1 + 2 * i]),
            "input_high": float(inputs[2 + 2 * i]), "output_low": out_low,
            "output_high": out_high, "swing_log10": swing}


def _chosen_outputs(results: Mapping, outputs: Sequence[str] | None) -> list[str]:
    if outputs is None:
        return list(results)
    unknown = [o for o in outputs if o not in results]
    if unknown:
        raise ValueError(f"unknown output '{unknown[0]}' (known: {', '.join(results)})")
    return list(outputs)


# --- Sobol indices ----------------------------------------------------------------------------

def _base_points(sampler: str, n_base: int, dims: int, seed: int, key) -> jnp.ndarray:
    """``n_base`` points in the open unit cube of ``dims`` dimensions, float32."""
    if sampler == "sobol":
        generator = np.random.default_rng(seed)
        try:
            engine = qmc.Sobol(dims, scramble=True, rng=generator)
        except TypeError:  # SciPy < 1.15 names it seed
            engine = qmc.Sobol(dims, scramble=True, seed=generator)
        points = engine.random_base2(int(math.log2(n_base)))
        return jnp.clip(jnp.asarray(points, jnp.float32), _U_MIN, _U_MAX)
    return jax.random.uniform(key, (n_base, dims), jnp.float32, minval=_U_MIN, maxval=_U_MAX)


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


def sobol_indices(fn: Model, priors: PriorSet, n_base: int = 2**14, seed: int = 0,
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
    fn : callable
        Dict of named input arrays -> dict of named output arrays, for one draw; JAX-traceable.
    priors : PriorSet
        From :func:`~uncertainty.priors_from_dict` or :func:`~uncertainty.load_priors`.
    n_base : int
        Base sample size N (a power of 2 for ``sampler="sobol"``).
    seed : int
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
    sample_key, boot_key = jax.random.split(jax.random.key(seed))
    u = _base_points(sampler, n_base, 2 * len(names), seed, sample_key)
    run = _design_outputs(_design_inputs(u, priors), names, _fixed(priors), fn)
    chosen = _chosen_outputs(run, outputs)
    stacked = jnp.stack([run[o] for o in chosen])  # (outputs, d + 2, N)
    s1, st, boot_s1, boot_st, finite = _analyse(stacked, boot_key, scale, n_bootstrap)
    bad = [o for o, ok in zip(chosen, np.asarray(finite)) if not ok]
    if bad:
        rule = "> 0 and finite for scale='log'" if scale == "log" else "finite"
        raise ValueError(f"output '{bad[0]}' must be {rule} at every design point")
    return _as_dict(chosen, names, s1, st, boot_s1, boot_st)


def _icdf(dist, u) -> jnp.ndarray:
    """``dist.icdf(u)`` evaluated eagerly in blocks of :data:`CHUNK_SIZE`, padded.

    Not under a jit: each family's icdf is compiled once per block shape and shared by every
    prior of that family, here and in :func:`~uncertainty.sampling.simulate` (same block size),
    which keeps compilation, the dominant cost at report sizes, short."""
    flat = jnp.ravel(jnp.asarray(u, jnp.float32))
    blocks = -(-flat.size // CHUNK_SIZE)
    padded = jnp.concatenate([flat, jnp.full(blocks * CHUNK_SIZE - flat.size, 0.5, jnp.float32)])
    values = [dist.icdf(padded[i * CHUNK_SIZE:(i + 1) * CHUNK_SIZE]) for i in range(blocks)]
    return jnp.concatenate(values)[:flat.size].astype(jnp.float32).reshape(jnp.shape(u))


def _design_inputs(u, priors: PriorSet) -> jnp.ndarray:
    """Base points mapped through each uncertain prior's icdf: shape (d, 2, N), A then B."""
    d = len(priors.uncertain)
    return jnp.stack([_icdf(priors[name].dist, jnp.stack([u[:, j], u[:, d + j]]))
                      for j, name in enumerate(priors.uncertain)])


@partial(jax.jit, static_argnames=("names", "fixed", "fn"))
def _design_outputs(columns, names: tuple, fixed: tuple, fn: Model) -> dict:
    """Evaluate ``fn`` on the rows A, B and AB_1..AB_d in one compiled call: each output comes
    back with shape (d + 2, N)."""
    d, n = columns.shape[0], columns.shape[2]
    rows = jnp.arange(d + 2)[:, None]
    inputs = {}
    for j, name in enumerate(names):
        # Row 0 is A, row 1 is B, row 2 + i is AB_i: A with column i taken from B.
        take_b = (rows == 1) | (rows == 2 + j)
        inputs[name] = jnp.where(take_b, columns[j, 1][None, :], columns[j, 0][None, :]).reshape(-1)
    for name, value in fixed:
        inputs[name] = jnp.full(((d + 2) * n,), value, jnp.float32)
    return {k: v.reshape(d + 2, n) for k, v in jax.vmap(fn)(inputs).items()}


@partial(jax.jit, static_argnames=("scale", "n_bootstrap"))
def _analyse(y, key, scale: str, n_bootstrap: int):
    """Point estimates and bootstrap replicates of S1 and ST; y has shape (outputs, d + 2, N)."""
    z, finite = _standardise(y, scale)
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
                   outputs: Sequence[str] | None = None, model: Model = compute_outputs) -> dict:
    """:func:`sobol_indices` of ``model`` with the facts needed to read and repeat it (the JSON)."""
    indices = sobol_indices(model, priors, n_base=n_base, seed=seed, scale=scale,
                            n_bootstrap=n_bootstrap, sampler=sampler, outputs=outputs)
    design = ("scrambled Sobol sequence, scipy.stats.qmc.Sobol" if sampler == "sobol"
              else "plain random points, jax.random.uniform")
    return {"scale": scale, "n_base": n_base, "seed": seed, "sampler": design,
            "n_bootstrap": n_bootstrap,
            "model_runs": n_base * (len(priors.uncertain) + 2),
            "estimators": "Saltelli 2010 first order, Jansen 1999 total order, A/B/AB design; "
                          "95% intervals from bootstrap resamples of the design rows",
            "outputs": indices}


# --- what to pin down next --------------------------------------------------------------------

def _indices_of(sobol_result: Mapping) -> tuple[Mapping, str | None]:
    """Accept either the bare indices or the document with ``scale`` and ``outputs``."""
    if "outputs" in sobol_result and "scale" in sobol_result:
        return sobol_result["outputs"], sobol_result["scale"]
    return sobol_result, None


def _label(output: str) -> str:
    return OUTPUTS[output].label if output in OUTPUTS else output


def _variance_words(output: str, scale: str | None) -> str:
    if scale == "log":
        return f"the variance of log({_label(output)})"
    if scale == "linear":
        return f"the variance of {_label(output)}"
    return f"the variance of {_label(output)} (on the scale the indices were computed)"


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%" if abs(value) >= 0.01 else f"{100 * value:.1f}%"


def pin_down_next(sobol_result: Mapping, output: str) -> list[dict]:
    """Assumptions ranked by the share of (log-)variance that knowing each exactly would remove.

    That expected share is exactly the first-order index S1. Each row carries a sentence.
    ``sobol_result`` is :func:`sobol_indices`' result or :func:`sobol_document`'s.
    """
    indices, scale = _indices_of(sobol_result)
    if output not in indices:
        raise ValueError(f"no Sobol indices for output '{output}'")
    ranked = sorted(indices[output].items(), key=lambda item: -item[1]["S1"])
    what = _variance_words(output, scale)
    rows = []
    for rank, (name, ix) in enumerate(ranked, start=1):
        lo, hi = ix["S1_ci"]
        if ix["S1"] < 0.01:
            sentence = (f"Knowing `{name}` exactly would remove almost none (under 1%) of {what}.")
        else:
            sentence = (f"Knowing `{name}` exactly would remove about {_pct(ix['S1'])} "
                        f"(95% interval {_pct(lo)} to {_pct(hi)}) of {what}.")
        if ix["ST"] - ix["S1"] > 0.05:
            sentence += (f" Through interactions it touches {_pct(ix['ST'])} in all (total "
                         "index), so pinning it down together with its partners gains more.")
        rows.append({"rank": rank, "assumption": name, "S1": ix["S1"], "S1_ci": ix["S1_ci"],
                     "ST": ix["ST"], "ST_ci": ix["ST_ci"], "sentence": sentence})
    return rows


def pin_down_summary(rows: list[dict], output: str) -> str:
    """One sentence a reader can act on, from :func:`pin_down_next`'s rows."""
    first = rows[0]
    text = (f"To narrow {_label(output)}, pin down `{first['assumption']}` first: knowing it "
            f"exactly would remove about {_pct(first['S1'])} of its (log-)variance.")
    runners = [r for r in rows[1:3] if r["S1"] >= 0.01]
    if runners:
        text += " Next: " + " and ".join(f"`{r['assumption']}` ({_pct(r['S1'])})"
                                          for r in runners) + "."
    additive = sum(r["S1"] for r in rows)
    if additive < 0.9:
        text += (f" First-order shares add up to only {_pct(additive)}: the rest is in "
                 "interactions, which no single assumption removes.")
    return text


def top_driver_check(tornado_result: Mapping, sobol_result: Mapping, output: str) -> dict:
    """Do the tornado and the Sobol total index name the same top driver? If not, say why."""
    indices, _ = _indices_of(sobol_result)
    bars = tornado_result["outputs"][output]["bars"]
    swing = {b["assumption"]: (b["swing_log10"] or 0.0) for b in bars}
    by_total = sorted(indices[output].items(), key=lambda item: -item[1]["ST"])
    tornado_top, sobol_top = bars[0]["assumption"], by_total[0][0]
    if tornado_top == sobol_top:
        explanation = (f"The tornado and the Sobol total index both name `{tornado_top}` as the "
                       f"top driver of {_label(output)}.")
        return {"output": output, "tornado_top": tornado_top, "sobol_top": sobol_top,
                "agree": True, "explanation": explanation}
    t_ix, s_ix = indices[output][tornado_top], indices[output][sobol_top]
    overlap = t_ix["ST_ci"][1] >= s_ix["ST_ci"][0]
    reasons = [
        f"The tornado ranks `{tornado_top}` first (swing {swing[tornado_top]:.2f} decades, "
        f"ST {t_ix['ST']:.2f}) but the Sobol total index ranks `{sobol_top}` first "
        f"(ST {s_ix['ST']:.2f}, swing {swing.get(sobol_top, 0.0):.2f} decades).",
        "A swing looks only at two quantiles of one assumption with the others at their "
        "medians; the total index weighs the whole distribution, tails included, averaged over "
        "every other assumption.",
    ]
    if max(t_ix["ST"] - t_ix["S1"], s_ix["ST"] - s_ix["S1"]) > 0.05:
        reasons.append("Interactions matter here (ST exceeds S1 by more than 0.05), and a "
                       "one-at-a-time swing cannot see them.")
    if overlap:
        reasons.append("The two total indices' 95% intervals overlap: statistically a tie.")
    return {"output": output, "tornado_top": tornado_top, "sobol_top": sobol_top,
            "agree": False, "explanation": " ".join(reasons)}


# --- Markdown ---------------------------------------------------------------------------------

def _unit(name: str) -> str:
    return ASSUMPTIONS[name].unit if name in ASSUMPTIONS else ""


def _tornado_table(result: dict) -> str:
    lines = ["| assumption | input low to high | output at low | output at high | swing (decades) |",
             "|---|---|---|---|---|"]
    for bar in result["bars"]:
        if not bar["swing_log10"]:
            continue
        unit = f" {_unit(bar['assumption'])}" if _unit(bar["assumption"]) else ""
        lines.append(f"| `{bar['assumption']}` | {format_value(bar['input_low'])} to "
                     f"{format_value(bar['input_high'])}{unit} | {format_value(bar['output_low'])} "
                     f"| {format_value(bar['output_high'])} | {bar['swing_log10']:.2f} |")
    return "\n".join(lines)


def _pin_table(rows: list[dict]) -> str:
    lines = ["| rank | assumption | S1: share removed if known (95% CI) | ST: total (95% CI) |",
             "|---|---|---|---|"]
    for row in rows:
        if row["S1"] < 0.005 and row["ST"] < 0.005:
            continue
        lines.append(f"| {row['rank']} | `{row['assumption']}` | {row['S1']:.3f} "
                     f"({row['S1_ci'][0]:.3f} to {row['S1_ci'][1]:.3f}) | {row['ST']:.3f} "
                     f"({row['ST_ci'][0]:.3f} to {row['ST_ci'][1]:.3f}) |")
    return "\n".join(lines)


def sensitivity_markdown(tornado_result: Mapping, sobol_result: Mapping,
                         outputs: Sequence[str]) -> str:
    """The report's sensitivity section: per output a tornado table, the top-driver check and
    the "what to pin down next" table."""
    _, scale = _indices_of(sobol_result)
    first = next(iter(tornado_result["outputs"].values()))
    low, high = first["low_quantile"], first["high_quantile"]
    facts = ""
    if scale is not None:
        facts = (f" Indices on {scale} scale from {sobol_result['n_base']:,} base points "
                 f"({sobol_result['model_runs']:,} model runs, {sobol_result['sampler']}); "
                 f"{sobol_result['estimators']} ({sobol_result['n_bootstrap']} resamples).")
    parts = [
        "## Sensitivity: what drives each result",
        f"**Tornado**: every uncertain assumption at its median, then each alone at its "
        f"{100 * low:g}% and {100 * high:g}% quantile; swing = |log10(output at high / output "
        f"at low)| in decades. {TORNADO_NOTE} Assumptions that do not move an output are left "
        "out of its table.",
        "**What to pin down next** ranks assumptions by the first-order Sobol index S1: the "
        "expected share of the output's (log-)variance that would go away if that assumption "
        "were known exactly. The total index ST adds its interactions." + facts,
    ]
    for output in outputs:
        unit = f" ({OUTPUTS[output].unit})" if output in OUTPUTS else ""
        base = format_value(tornado_result["outputs"][output]["base"])
        rows = pin_down_next(sobol_result, output)
        check = top_driver_check(tornado_result, sobol_result, output)
        parts += [f"### {_label(output)}{unit}", f"Tornado (base case {base}):",
                  _tornado_table(tornado_result["outputs"][output]), check["explanation"],
                  "What to pin down next:", _pin_table(rows), pin_down_summary(rows, output)]
    return "\n\n".join(parts)
