"""Draws -> intervals and Monte Carlo errors, as plain data, for in-memory and streamed runs alike.

:func:`summarize` takes a DataTree of draws (:func:`~uncertainty.sampling.simulate`; ArviZ does
the statistics) or a streamed run (:class:`~uncertainty.streaming.StreamResult`; its histograms do)
and builds every output's entry with the one :func:`_entry`, so a report does not care which it
got. Where a model marks a reference figure (the Sora model: the article's), the entry says
where it falls in the distribution.

Example
-------
>>> from uncertainty import load_priors, simulate
>>> stats = summarize(simulate(load_priors("article"), n=20_000, seed=0))
>>> sorted(stats["fleet_gpus"])[:3]
['article_percentile', 'article_range', 'article_range_percentiles']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .hdi import hdi

if TYPE_CHECKING:  # imported where used: format_value and friends serve `reproduce` too
    import xarray as xr

__all__ = ["at_percentile", "error_words", "format_value", "headline_mcse", "percentile_words",
           "possessive", "sentence_start", "summarize"]

GROUP = "prior"


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _entry(mean: float, sd: float, quantiles: Sequence[float], hdi_90: dict,
           mcse: dict[float, float], ess: float, marks: Sequence[float],
           share_below: Callable[[float], float], **extra) -> dict:
    """One output's summary, whichever run it comes from (the keys of ``summary.json``).

    ``quantiles`` are at :data:`QUANTILES`; ``hdi_90`` is :func:`uncertainty.hdi.hdi`'s
    result; ``share_below(v)`` is the share of draws <= v."""
    q05, q25, median, q75, q95 = (float(v) for v in quantiles)
    marks = [float(v) for v in marks]
    return {
        "mean": float(mean), "sd": float(sd), "median": median,
        "eti_50": [q25, q75], "eti_90": [q05, q95],
        "hdi_90": hdi_90["interval"], "hdi_90_mcse": hdi_90["mcse"],
        "hdi_90_scale": hdi_90["scale"],
        "mcse_median": float(mcse[0.5]), "mcse_q05": float(mcse[0.05]),
        "mcse_q95": float(mcse[0.95]),
        "ess": float(ess),
        **extra,
        "article_value": marks[0] if marks else None,
        "article_percentile": share_below(marks[0]) if marks else None,
        "article_range": marks if len(marks) == 2 else None,
        "article_range_percentiles": [share_below(v) for v in marks] if len(marks) == 2 else None,
    }


def summarize(run, names: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Statistics of each output in ``names`` (default: every output of the run).

    ``run`` is a DataTree of draws or a streamed run. Per output: mean, sd, median; equal-tailed
    intervals ``eti_50``/``eti_90``; ``hdi_90``, the 90% highest-density interval on the scale
    the output is summarised on (log for outputs > 0, ``hdi_90_scale``) with its Monte Carlo
    error ``hdi_90_mcse``, or ``None`` where that error is too large to state it
    (:mod:`uncertainty.hdi`); the Monte Carlo standard errors of the median and the 5%/95%
    quantiles and the ESS; and where the model's marks fall.

    In memory, ArviZ computes the intervals, MCSEs and bulk ESS. Streamed, quantiles and
    intervals come from the run's histograms, each within ``quantile_bound`` (relative, or
    relative to the 90% interval's width for outputs that are not positive) of the exact
    quantile of the draws; the MCSE is ArviZ's rule for independent draws (plain MC) or the
    spread of the randomised replicates (QMC); ``ess`` is the number of draws for plain MC, and
    for QMC the number of plain MC draws that would give the same MCSE of the median.
    """
    import xarray as xr

    if isinstance(run, xr.DataTree):
        return _summarize_draws(run, names)
    return _summarize_stream(run, names)


def _per_var(result: xr.DataTree | xr.Dataset) -> dict[str, np.ndarray]:
    import xarray as xr

    dataset = result.to_dataset() if isinstance(result, xr.DataTree) else result
    return {name: np.asarray(dataset[name].values, dtype=float) for name in dataset.data_vars}


def output_names(tree: xr.DataTree) -> tuple[str, ...]:
    """The variables of a run's draws that are model outputs (not assumptions)."""
    group = tree[GROUP]
    return tuple(name for name in group.data_vars if group[name].attrs.get("role") != "assumption")


def _summarize_draws(tree: xr.DataTree, names) -> dict[str, dict]:
    import arviz as az

    available = output_names(tree)
    names = tuple(n for n in (names or available) if n in tree[GROUP].data_vars)
    if not names:
        return {}
    kw = {"group": GROUP, "var_names": list(names)}
    eti_50 = _per_var(az.eti(tree, prob=0.5, **kw))
    eti_90 = _per_var(az.eti(tree, prob=0.9, **kw))
    median = _per_var(az.median(tree, round_to="none", **kw))  # ArviZ rounds to 2g by default
    mcse = {q: _per_var(az.mcse(tree, method="quantile", prob=q, **kw)) for q in (0.05, 0.5, 0.95)}
    ess = _per_var(az.ess(tree, method="bulk", **kw))
    stats = {}
    for name in names:
        draws = np.asarray(tree[GROUP][name].values, dtype=np.float64).ravel()

        stats[name] = _entry(
            draws.mean(), draws.std(ddof=1),
            (eti_90[name][0], eti_50[name][0], median[name], eti_50[name][1], eti_90[name][1]),
            hdi(draws, 0.9),
            {q: mcse[q][name] for q in mcse}, ess[name],
            np.atleast_1d(tree[GROUP][name].attrs.get("marks", [])),
            lambda value, draws=draws: float(np.mean(draws <= value)))
    return stats


def _summarize_stream(result, names) -> dict[str, dict]:
    names = tuple(n for n in (names or result.grid.names) if n in result.grid.names)
    marks = result.model.marks
    stats = {}
    for name in names:
        mean, sd = result.mean_sd(name)
        mcse = {p: result.mcse(name, p) for p in (0.05, 0.5, 0.95)}
        stats[name] = _entry(
            mean, sd, result.quantile(name, QUANTILES),
            hdi(result.kept[name], 0.9, quantile=lambda p, name=name: result.quantile(name, p),
                n=result.n),
            mcse, _stream_ess(result, name, mcse[0.5]), marks.get(name, ()),
            lambda value, name=name: result.share_below(name, value),
            quantile_bound=result.relative_bound(name, QUANTILES))
    return stats


def _stream_ess(result, name: str, mcse_median: float) -> float:
    if result.replicates == 1 or mcse_median <= 0:
        return float(result.n)
    step = math.sqrt(0.25 / result.n)
    low, high = result.quantile(name, [0.5 - step, 0.5 + step])
    plain = float(high - low) / 2  # what plain MC's MCSE would be at this n
    return float(result.n * (plain / mcse_median) ** 2)


def headline_mcse(stats: dict, headline: Sequence[str]) -> float:
    """Largest MCSE of the 5% and 95% quantiles over the ``headline`` outputs, relative to the
    quantile (to the 90% interval's width where a quantile is not positive)."""
    worst = 0.0
    for name in headline:
        low, high = stats[name]["eti_90"]
        for error, value in ((stats[name]["mcse_q05"], low), (stats[name]["mcse_q95"], high)):
            scale = value if low > 0 else high - low
            worst = max(worst, error / scale if scale > 0 else (0.0 if error == 0 else math.inf))
    return worst


_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def format_value(value: float | None, digits: int = 3) -> str:
    """Three significant digits; k/M/B/T for counts, scientific beyond 1e15 or below 1e-3."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e15 or magnitude < 1e-3:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    for scale, suffix in _SUFFIXES:
        if magnitude >= scale:
            return f"{_sig(value / scale, digits)}{suffix}"
    return _sig(value, digits)


def _sig(value: float, digits: int) -> str:
    text = f"{value:.{digits}g}"
    return text if "e" not in text else f"{value:.0f}"


def error_words(error: float, samples: int, rtol: float | None = None) -> tuple[bool, str]:
    """Whether a run's largest relative Monte Carlo error of a headline quantile is within its
    target (``rtol``, or :data:`~uncertainty.defaults.MCSE_TARGET` for a fixed size), and that
    in words: a report's run facts, and the warning a command prints when it is not.

    >>> error_words(0.004, 393_216, 0.005)
    (True, '0.40%, within the 0.50% target')
    >>> error_words(0.1668, 1_000)[1]
    '16.68%, ABOVE the 1.00% target: raise --max-samples or --samples'
    """
    from .defaults import MCSE_TARGET, MIN_ERROR_SAMPLES

    target = rtol or MCSE_TARGET
    if samples < MIN_ERROR_SAMPLES:
        return False, (f"not stated: too few draws ({samples:,}) to estimate it (at least "
                       f"{MIN_ERROR_SAMPLES:,}); every interval here is unreliable")
    if error <= target:
        return True, f"{100 * error:.2f}%, within the {100 * target:.2f}% target"
    return False, (f"{100 * error:.2f}%, ABOVE the {100 * target:.2f}% target: raise "
                   "--max-samples or --samples")


def possessive(label: str) -> str:
    """Whose figure, for a sentence: "the article" -> "the article's"; a label that qualifies
    its owner keeps the qualifier after the apostrophe, in parentheses.

    >>> possessive("the article"), possessive("the article in B200 terms")
    ("the article's", "the article's (in B200 terms)")
    """
    owner, qualified, qualifier = label.partition(" in ")
    return f"{owner}'s (in {qualifier})" if qualified else f"{label}'s"


def sentence_start(text: str) -> str:
    """``text`` with its first letter capital, the rest as it is (str.capitalize would write
    "b200").

    >>> sentence_start("the article's (in B200 terms)")
    "The article's (in B200 terms)"
    """
    return text[:1].upper() + text[1:]


def at_percentile(fraction: float | None) -> str:
    """Where a value sits, for a sentence: 'at the 38th percentile', 'below the 1st percentile'.

    >>> at_percentile(0.06), at_percentile(0.001), at_percentile(0.9999)
    ('at the 6th percentile', 'below the 1st percentile', 'above the 99th percentile')
    """
    words = percentile_words(fraction)
    return words if words.startswith(("below", "above")) else f"at the {words}"


def percentile_words(fraction: float | None) -> str:
    """0.38 -> '38th percentile' (with the right English suffix)."""
    if fraction is None:
        return "n/a"
    p = round(100 * fraction)
    if p <= 0:
        return "below the 1st percentile"
    if p >= 100:
        return "above the 99th percentile"
    suffix = "th" if 10 <= p % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(p % 10, "th")
    return f"{p}{suffix} percentile"
