"""One-at-a-time tornado swings of a model's outputs, as plain data.

:func:`tornado` moves one assumption at a time to a low and a high quantile, the rest held at
their medians: ``2k + 1`` cases in one compiled, batched call of the model.

Example
-------
>>> from uncertainty import Model, priors_from_dict
>>> priors = priors_from_dict({
...     "x1": {"dist": "lognormal", "ci": [1.0, 4.0], "source": "test"},
...     "x2": {"dist": "lognormal", "ci": [1.0, 100.0], "source": "test"}})
>>> result = tornado(priors, model=Model(lambda a: {"y": a["x1"] * a["x2"]}, {"y": ""}))
>>> [bar["assumption"] for bar in result["outputs"]["y"]["bars"]]
['x2', 'x1']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import PriorError, not_finite
from ..model import Model, as_model
from ..priors import PriorSet
from ..sampling import CHUNK_SIZE

__all__ = ["NO_EFFECT", "TORNADO_NOTE", "chosen_outputs", "fixed_values", "icdf_blocks",
           "moving_bars", "tornado"]

TORNADO_NOTE = ("One assumption moves at a time while every other stays at its median, so the "
                "tornado ignores any correlation or interaction between assumptions by "
                "construction; the Sobol total index does not.")


def tornado(priors: PriorSet, low: float = 0.05, high: float = 0.95,
            outputs: Sequence[str] | None = None, model: Model | Callable | None = None) -> dict:
    """One-at-a-time swings of every output, for every uncertain assumption.

    The base case puts every assumption at its median; each uncertain assumption alone then
    moves to its ``low`` and ``high`` quantile. All ``2k + 1`` cases are one batched, compiled
    call of ``model`` (default: the priors' own). Fixed assumptions keep their value and get
    no bar.

    Returns
    -------
    dict
        ``{"note": ..., "outputs": {NAME: {"base", "low_quantile", "high_quantile", "bars"}}}``;
        each bar has ``assumption, input_low, input_high, output_low, output_high, swing_log10``
        (``|log10(output_high / output_low)|``; None where an output is not positive) and
        ``swing`` (``|output_high - output_low|``), bars sorted by swing, largest first.
    """
    if not 0 < low < high < 1:
        raise ValueError(f"need 0 < low < high < 1, got low={low}, high={high}")
    model = as_model(model, priors.model)
    names = priors.uncertain
    if not names:
        raise ValueError("every assumption is fixed: nothing to swing")
    levels = np.full((2 * len(names) + 1, len(names)), 0.5, np.float32)
    for i in range(len(names)):
        levels[1 + 2 * i, i], levels[2 + 2 * i, i] = low, high
    columns = np.stack([icdf_blocks(priors[name].dist, levels[:, i])
                        for i, name in enumerate(names)])
    fixed = fixed_values(priors)
    results = _tornado_cases(columns, tuple(value for _, value in fixed), names=names,
                             fixed=tuple(name for name, _ in fixed), model=model)
    inputs = dict(zip(names, np.asarray(columns, np.float64), strict=True))
    results = {k: np.asarray(v, np.float64) for k, v in results.items()}
    chosen = chosen_outputs(results, outputs)
    _require_finite_cases(results, chosen, names, inputs, (low, high), priors)
    table = {}
    for out in chosen:
        values = results[out]
        bars = [_bar(name, inputs[name], values, i) for i, name in enumerate(names)]
        bars.sort(key=_swing_order(bars))
        table[out] = {"base": float(values[0]), "low_quantile": low, "high_quantile": high,
                      "bars": bars}
    return {"note": TORNADO_NOTE, "outputs": table}


def _require_finite_cases(results: dict, chosen: list, names: tuple, inputs: dict,
                          levels: tuple[float, float], priors: PriorSet) -> None:
    """Refuse (PriorError) an output that is not finite in some case, naming the first such
    case: an infinite bar end could be neither drawn nor ranked."""
    for out in chosen:
        bad = np.flatnonzero(~np.isfinite(results[out]))
        if bad.size == 0:
            continue
        case = int(bad[0])
        if case == 0:
            where = "with every assumption at its median"
        else:
            name, end = names[(case - 1) // 2], (case - 1) % 2
            where = (f"with '{name}' at its {100 * levels[end]:g}% quantile "
                     f"({inputs[name][case]:.3g})")
        value = results[out][case]
        raise PriorError(f"{priors.path or priors.name}: output '{out}' is {value} {where}: "
                         f"{not_finite(value)[1]}")


def fixed_values(priors: PriorSet) -> tuple:
    return tuple((name, float(p.dist.value)) for name, p in priors.items() if p.is_fixed)


@partial(jax.jit, static_argnames=("names", "fixed", "model"))
def _tornado_cases(columns, fixed_values: tuple, names: tuple, fixed: tuple,
                   model: Model) -> dict:
    """The model on the base case and the 2k one-at-a-time cases: one compiled call.

    ``columns`` has one row per uncertain assumption and one column per case; the fixed
    assumptions' values are traced, so changing one does not compile again."""
    inputs = {name: columns[i] for i, name in enumerate(names)}
    for name, value in zip(fixed, fixed_values, strict=True):
        inputs[name] = jnp.full(columns.shape[1:], value, jnp.float32)
    return jax.vmap(model)(inputs)


def _bar(name: str, inputs, values: np.ndarray, i: int) -> dict:
    out_low, out_high = float(values[1 + 2 * i]), float(values[2 + 2 * i])
    swing = (abs(math.log10(out_high / out_low)) if out_low > 0 and out_high > 0 else None)
    return {"assumption": name, "input_low": float(inputs[1 + 2 * i]),
            "input_high": float(inputs[2 + 2 * i]), "output_low": out_low,
            "output_high": out_high, "swing_log10": swing, "swing": abs(out_high - out_low)}


def _swing_order(bars: list[dict]):
    """Largest first: by the ratio of the two ends (decades) when every end is positive, else by
    their difference (an output that reaches zero or below has no ratio)."""
    if all(bar["swing_log10"] is not None for bar in bars):
        return lambda bar: -bar["swing_log10"]
    return lambda bar: -bar["swing"]


def chosen_outputs(results: Mapping, outputs: Sequence[str] | None) -> list[str]:
    if outputs is None:
        return list(results)
    unknown = [o for o in outputs if o not in results]
    if unknown:
        raise ValueError(f"unknown output '{unknown[0]}' (known: {', '.join(results)})")
    return list(outputs)


def icdf_blocks(dist, u) -> np.ndarray:
    """``dist.icdf(u)`` evaluated eagerly in blocks of :data:`CHUNK_SIZE`, padded (float32,
    on the host).

    Not under a jit: each family's icdf is compiled once per block shape and shared by every
    prior of that family, here and in :func:`~uncertainty.sampling.simulate` (same block size),
    which keeps compilation, the dominant cost at report sizes, short. The padding and slicing
    around it are NumPy: as JAX operations outside a jit, each was an XLA program of its own."""
    flat = np.ravel(np.asarray(u, np.float32))
    blocks = -(-flat.size // CHUNK_SIZE)
    padded = np.concatenate([flat, np.full(blocks * CHUNK_SIZE - flat.size, 0.5, np.float32)])
    values = [np.asarray(dist.icdf(padded[i * CHUNK_SIZE:(i + 1) * CHUNK_SIZE]))
              for i in range(blocks)]
    return np.concatenate(values)[:flat.size].astype(np.float32).reshape(np.shape(u))


# A bar "has no effect" when neither end moves the output by more than this share of the base
# case: the engine computes in float32, so an assumption the output does not read can still
# move it by a few units in the last place.
NO_EFFECT = 1e-5


def moving_bars(output_result: dict) -> list[dict]:
    """The bars of one tornado output that move it (by more than :data:`NO_EFFECT` of its base
    case at either end), largest swing first."""
    base = output_result["base"]
    tolerance = NO_EFFECT * max(abs(base), 1e-30)
    return [bar for bar in output_result["bars"]
            if max(abs(bar["output_low"] - base), abs(bar["output_high"] - base)) > tolerance]
