"""DataTree of draws -> intervals and Monte Carlo errors, as plain data (ArviZ does the statistics).

Example
-------
>>> from uncertainty import load_priors, simulate
>>> stats = summarize(simulate(load_priors("article"), n=20_000, seed=0))
>>> sorted(stats["fleet_gpus"])[:3]
['article_percentile', 'article_range', 'article_range_percentiles']
"""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import xarray as xr

from .model import ALL_OUTPUTS, HEADLINE
from .reproduce import article_data

__all__ = ["article_figures", "format_value", "headline_mcse", "percentile_words", "summarize", "summarize_stream"]

GROUP = "prior"


def article_figures() -> dict[str, tuple[float, ...]]:
    """Output name -> the article's stated figure(s): one value, or a (low, high) range."""
    data = article_data()
    return {name: tuple(float(data["stated"][key]) for key in keys)
            for name, keys in data["outputs"].items()}


def _per_var(result: xr.DataTree | xr.Dataset) -> dict[str, np.ndarray]:
    dataset = result.to_dataset() if isinstance(result, xr.DataTree) else result
    return {name: np.asarray(dataset[name].values, dtype=float) for name in dataset.data_vars}


def _interval(result: dict, name: str) -> list[float]:
    return [float(v) for v in result[name]]


def summarize(tree: xr.DataTree, names: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Statistics of each variable in ``names`` (default: every model output in the tree).

    mean, sd, median; equal-tailed intervals ``eti_50``/``eti_90`` and ``hdi_90`` (ArviZ); the
    Monte Carlo standard errors of the median and the 5%/95% quantiles and the bulk ESS (ArviZ);
    and where the article states a figure, where it falls in the distribution.
    """
    names = tuple(n for n in (names or tuple(ALL_OUTPUTS)) if n in tree[GROUP].data_vars)
    kw = {"group": GROUP, "var_names": list(names)}
    eti_50 = _per_var(az.eti(tree, prob=0.5, **kw))
    eti_90 = _per_var(az.eti(tree, prob=0.9, **kw))
    hdi_90 = _per_var(az.hdi(tree, prob=0.9, **kw))
    median = _per_var(az.median(tree, round_to="none", **kw))  # ArviZ rounds to 2g by default
    mcse = {q: _per_var(az.mcse(tree, method="quantile", prob=q, **kw)) for q in (0.05, 0.5, 0.95)}
    ess = _per_var(az.ess(tree, method="bulk", **kw))
    figures = article_figures()
    stats = {}
    for name in names:
        draws = np.asarray(tree[GROUP][name].values, dtype=np.float64).ravel()
        figure = figures.get(name)
        stats[name] = {
            "mean": float(draws.mean()),
            "sd": float(draws.std(ddof=1)),
            "median": float(median[name]),
            "eti_50": _interval(eti_50, name),
            "eti_90": _interval(eti_90, name),
            "hdi_90": _interval(hdi_90, name),
            "mcse_median": float(mcse[0.5][name]),
            "mcse_q05": float(mcse[0.05][name]),
            "mcse_q95": float(mcse[0.95][name]),
            "ess": float(ess[name]),
            "article_value": figure[0] if figure else None,
            "article_percentile": _percentile(draws, figure[0]) if figure else None,
            "article_range": list(figure) if figure and len(figure) == 2 else None,
            "article_range_percentiles": ([_percentile(draws, v) for v in figure]
                                          if figure and len(figure) == 2 else None),
        }
    return stats


def summarize_stream(result, names: tuple[str, ...] | None = None) -> dict[str, dict]:
    """The same statistics as :func:`summarize`, from a streamed run
    (:class:`~uncertainty.stream.StreamResult`), so a report does not care which it got.

    Quantiles and intervals come from the run's histograms: each is within
    ``quantile_bound`` (relative) of the exact quantile of the draws. The MCSE is ArviZ's rule for
    independent draws (plain MC) or the spread of the randomised replicates (QMC); ``ess`` is the
    number of draws for plain MC, and for QMC the number of plain MC draws that would give the
    same MCSE of the median."""
    names = tuple(n for n in (names or tuple(ALL_OUTPUTS)) if n in result.grid.names)
    figures = article_figures()
    stats = {}
    for name in names:
        q05, q25, median, q75, q95 = (float(v) for v in
                                      result.quantile(name, [0.05, 0.25, 0.5, 0.75, 0.95]))
        mean, sd = result.mean_sd(name)
        mcse = {p: result.mcse(name, p) for p in (0.05, 0.5, 0.95)}
        bounds = result.bound(name, [0.05, 0.25, 0.5, 0.75, 0.95])
        if not result.grid.log[result.grid.names.index(name)]:  # absolute on a linear grid
            bounds = bounds / np.maximum(np.abs([q05, q25, median, q75, q95]), 1e-300)
        figure = figures.get(name)
        stats[name] = {
            "mean": mean, "sd": sd, "median": median,
            "eti_50": [q25, q75], "eti_90": [q05, q95],
            "hdi_90": list(result.hdi(name, 0.9)),
            "mcse_median": mcse[0.5], "mcse_q05": mcse[0.05], "mcse_q95": mcse[0.95],
            "ess": _stream_ess(result, name, mcse[0.5]),
            "quantile_bound": float(np.max(bounds)),
            "article_value": figure[0] if figure else None,
            "article_percentile": result.share_below(name, figure[0]) if figure else None,
            "article_range": list(figure) if figure and len(figure) == 2 else None,
            "article_range_percentiles": ([result.share_below(name, v) for v in figure]
                                          if figure and len(figure) == 2 else None),
        }
    return stats


def _stream_ess(result, name: str, mcse_median: float) -> float:
    if result.replicates == 1 or mcse_median <= 0:
        return float(result.n)
    step = math.sqrt(0.25 / result.n)
    low, high = result.quantile(name, [0.5 - step, 0.5 + step])
    plain = float(high - low) / 2  # what plain MC's MCSE would be at this n
    return float(result.n * (plain / mcse_median) ** 2)


def _percentile(draws: np.ndarray, value: float) -> float:
    """Share of draws at or below ``value`` (the figure's percentile, as a fraction)."""
    return float(np.mean(draws <= value))


def headline_mcse(stats: dict) -> float:
    """Largest relative MCSE of the 5% and 95% quantiles over the headline outputs."""
    worst = 0.0
    for name in HEADLINE:
        low, high = stats[name]["eti_90"]
        worst = max(worst, stats[name]["mcse_q05"] / low, stats[name]["mcse_q95"] / high)
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
