"""Draws and summaries -> matplotlib Figures for the reports (data in, Figure out; never shown).

Figures are built as :class:`matplotlib.figure.Figure` objects, never through ``pyplot``, so no
global state changes; :func:`to_svg` renders one to deterministic SVG text (the same data gives
the same bytes, so committed reports diff cleanly).

Example
-------
>>> import numpy as np
>>> fig = distribution_figure(np.geomspace(1, 100, 1000), {"median": 10, "eti_50": [3, 30],
...     "eti_90": [1.3, 80], "article_value": 20, "article_range": None}, "things", "x")
>>> to_svg(fig).startswith("<?xml")
True
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from ..summary import format_value
from .axes import readable_ticks, tick_text

if TYPE_CHECKING:
    from ..families import Family

__all__ = ["COLORS", "distribution_figure", "forest_figure", "prior_sketch", "to_svg"]

# Colour-blind-safe (seaborn's "colorblind" palette); the report never relies on colour alone.
COLORS = {"draws": "#0173b2", "interval": "#0173b2", "article": "#d55e00", "median": "#029e73",
          "muted": "#949494"}
ECDF_POINTS = 400  # an ECDF through 400 quantiles is smooth and keeps the SVG small
HIST_BINS = 60
SKETCH_CELLS = 240  # grid cells of a prior's density sketch: smooth at 1.8 inches wide
SKETCH_RANGE = (0.001, 0.999)  # the quantiles a sketch spans


def _log_axis(draws: np.ndarray) -> bool:
    """Log scale for positive quantities that span more than a factor of 10."""
    low, high = np.quantile(draws, [0.01, 0.99])
    return bool(low > 0 and high / low > 10)


def _display_range(draws: np.ndarray, log: bool,
                   marks: Sequence[float] = ()) -> tuple[float, float]:
    """The 0.1%-99.9% range of the draws, widened to include ``marks`` (the article's figures)."""
    low, high = np.quantile(draws, [0.001, 0.999])
    low, high = min([low, *marks]), max([high, *marks])
    if log:
        return low / 1.15, high * 1.15
    pad = 0.03 * (high - low or 1.0)
    return low - pad, high + pad


def _shade_intervals(ax, stats: dict) -> None:
    ax.axvspan(*stats["eti_90"], color=COLORS["interval"], alpha=0.12, lw=0, label="90% interval")
    ax.axvspan(*stats["eti_50"], color=COLORS["interval"], alpha=0.25, lw=0, label="50% interval")
    ax.axvline(stats["median"], color=COLORS["median"], lw=1.5, label="median")


def _article_marks(stats: dict) -> list[float]:
    if stats.get("article_range"):
        return [float(v) for v in stats["article_range"]]
    return [float(stats["article_value"])] if stats.get("article_value") is not None else []


def _mark_article(ax, marks: list[float], unit: str, label: bool, whose: str) -> None:
    if not marks:
        return
    words = " to ".join(format_value(v) for v in marks)
    for i, value in enumerate(marks):
        ax.axvline(value, color=COLORS["article"], lw=1.5, ls="--",
                   label=f"{whose}: {words} {unit}" if label and i == 0 else None)


def distribution_figure(draws: np.ndarray, stats: dict, label: str, unit: str,
                        whose: str = "article") -> Figure:
    """Histogram (density per log-bin) over an ECDF, 50%/90% intervals shaded, the model's
    reference figure (``whose``: the article's, for the Sora model) marked.

    Parameters
    ----------
    draws : array
        Monte Carlo draws of one output.
    stats : dict
        That output's entry of :func:`~uncertainty.summary.summarize` (``median``, ``eti_50``,
        ``eti_90``, ``article_value``, ``article_range``).
    label, unit : str
        Axis words.
    """
    draws = np.asarray(draws, dtype=float).ravel()
    marks = _article_marks(stats)
    log = _log_axis(draws)
    low, high = _display_range(draws, log, marks)
    fig = Figure(figsize=(7.0, 4.4), layout="constrained")
    hist_ax, ecdf_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    bins = np.geomspace(low, high, HIST_BINS + 1) if log else np.linspace(low, high, HIST_BINS + 1)
    counts, edges = np.histogram(draws, bins=bins)
    widths = np.diff(np.log10(edges)) if log else np.diff(edges)
    # Density per unit of the axis (per decade on a log axis), so the area under it is the share.
    hist_ax.stairs(counts / (draws.size * widths), edges, fill=True, color=COLORS["draws"],
                   alpha=0.55)
    probs = np.linspace(0.0, 1.0, ECDF_POINTS)
    ecdf_ax.plot(np.quantile(draws, probs), probs, color=COLORS["draws"], lw=1.6)
    for ax, legend in ((hist_ax, True), (ecdf_ax, False)):
        _shade_intervals(ax, stats)
        _mark_article(ax, marks, unit, legend, whose)
        ax.set_xscale("log" if log else "linear")
        ax.set_xlim(low, high)
        ax.grid(True, which="major", alpha=0.3, lw=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    readable_ticks(ecdf_ax.xaxis, low, high, log, most=6)  # shared with the histogram's axis
    hist_ax.set_ylabel("density per decade" if log else "density")
    hist_ax.set_title(label, loc="left", fontsize=11)
    # Below the axes, never over the bars or the marks.
    fig.legend(*hist_ax.get_legend_handles_labels(), loc="outside lower center", ncols=4,
               fontsize=8, frameon=False)
    ecdf_ax.set_ylabel("share of draws ≤ x")
    ecdf_ax.set_ylim(0, 1)
    ecdf_ax.set_xlabel(f"{unit} ({'log scale' if log else 'linear scale'})")
    return fig


def prior_sketch(dist: Family) -> Figure:
    """A small sketch of one assumption's prior from its family's exact distribution, not from
    draws: the density between its 0.1% and 99.9% quantiles (per decade on a log axis), or its
    probabilities as stems for a discrete family. A single value (a fixed assumption) has no
    sketch (ValueError).

    The density of each of :data:`SKETCH_CELLS` grid cells (log-spaced for a positive family) is
    the cell's exact probability, from the family's float64 ``cdf``, over its width; a family
    without a ``cdf`` gives ``exp(log_prob)`` at the cells' centres instead.

    >>> from uncertainty.families import LogNormal
    >>> prior_sketch(LogNormal(median=2e10, sigma=1.0)).axes[0].get_xscale()
    'log'
    """
    if dist.support[0] == dist.support[1]:
        raise ValueError(f"{dist.describe()} is a single value: there is no density to sketch")
    fig = Figure(figsize=(1.8, 0.62), layout="constrained")
    ax = fig.subplots()
    low, high, log, ticks = (_discrete_stems if dist.discrete else _density_curve)(ax, dist)
    ax.set_xscale("log" if log else "linear")  # before the ticks: a scale brings its own
    ax.set_xlim(low, high)
    if ticks:  # a discrete family's values
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FixedFormatter([tick_text(v) for v in ticks]))
        ax.xaxis.set_minor_locator(NullLocator())
    else:
        readable_ticks(ax.xaxis, low, high, log, most=3)
    ax.set_ylim(bottom=0)
    ax.tick_params(axis="x", labelsize=7, pad=1, length=2)
    ax.set_yticks([])
    ax.spines[["top", "right", "left"]].set_visible(False)
    return fig


def _density_curve(ax, dist: Family) -> tuple[float, float, bool, list[float]]:
    low, high = dist.quantile(SKETCH_RANGE[0]), dist.quantile(SKETCH_RANGE[1])
    if not low < high:  # a family so narrow that float32 quantiles coincide
        low, high = low - 0.5 * abs(low or 1.0), high + 0.5 * abs(high or 1.0)
    positive = dist.strictly_positive and low > 0
    log = positive and high / low > 10
    edges = (np.geomspace(low, high, SKETCH_CELLS + 1) if positive
             else np.linspace(low, high, SKETCH_CELLS + 1))
    # The axis's own unit: per decade on a log axis, so the area under the curve is the share.
    widths = np.diff(np.log10(edges)) if log else np.diff(edges)
    centres = np.sqrt(edges[:-1] * edges[1:]) if positive else 0.5 * (edges[:-1] + edges[1:])
    try:
        density = np.diff(dist.cdf(edges)) / widths
    except NotImplementedError:
        density = np.exp(np.asarray(dist.log_prob(centres), np.float64)) * (
            centres * np.log(10.0) if log else 1.0)
    density = np.nan_to_num(np.clip(density, 0.0, None))
    ax.fill_between(centres, density, color=COLORS["draws"], alpha=0.3, lw=0)
    ax.plot(centres, density, color=COLORS["draws"], lw=1)
    return low, high, log, []


def _discrete_stems(ax, dist: Family) -> tuple[float, float, bool, list[float]]:
    values = np.unique(np.asarray(dist.values, np.float64))
    # Each value's probability: the jump of the cdf there.
    probs = np.diff(np.concatenate([[0.0], dist.cdf(values)]))
    log = bool(values[0] > 0 and values[-1] / values[0] > 10)
    ax.vlines(values, 0.0, probs, color=COLORS["draws"], lw=2.5)
    ax.plot(values, probs, "o", color=COLORS["draws"], ms=3)
    ax.set_ylim(0, 1.15 * probs.max())  # room for the markers
    if log:
        pad = (values[-1] / values[0]) ** 0.08
        low, high = values[0] / pad, values[-1] * pad
    else:
        pad = 0.08 * (values[-1] - values[0])
        low, high = values[0] - pad, values[-1] + pad
    # Ticks at the values themselves: every one when few, else the ends and the middle one.
    shown = values if values.size <= 4 else values[[0, values.size // 2, -1]]
    return low, high, log, [float(v) for v in shown]


def forest_figure(rows: Sequence[dict], label: str, unit: str,
                  article: Sequence[float] = (), whose: str = "article") -> Figure:
    """One line per scenario: 90% interval thin, 50% interval thick, median dot; the model's
    reference figure (``whose``: the article's, for the Sora model) marked.

    ``rows`` are dicts with ``name``, ``median``, ``eti_50`` and ``eti_90``, top to bottom.
    """
    fig = Figure(figsize=(7.0, 0.9 + 0.55 * len(rows)), layout="constrained")
    ax = fig.subplots()
    positions = np.arange(len(rows))[::-1]
    for y, row in zip(positions, rows, strict=True):
        ax.hlines(y, *row["eti_90"], color=COLORS["interval"], lw=1.6)
        ax.hlines(y, *row["eti_50"], color=COLORS["interval"], lw=6)
        ax.plot([row["median"]], [y], "o", color="white", mec=COLORS["median"], mew=2, ms=7)
    _mark_article(ax, list(article), unit, True, whose)
    values = [v for row in rows for v in row["eti_90"]] + list(article)
    log = min(values) > 0 and max(values) / min(values) > 10
    ax.set_xscale("log" if log else "linear")
    pad = 0.03 * (max(values) - min(values) or 1.0)
    low, high = ((min(values) / 1.15, max(values) * 1.15) if log
                 else (min(values) - pad, max(values) + pad))
    ax.set_xlim(low, high)
    readable_ticks(ax.xaxis, low, high, log, most=6)
    ax.set_yticks(positions, [row["name"] for row in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(f"{unit} (median, 50% and 90% intervals; {'log' if log else 'linear'} scale)")
    ax.set_title(label, loc="left", fontsize=11)
    ax.grid(True, axis="x", which="major", alpha=0.3, lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    if article:  # above the chart, beside the title: never over an interval
        fig.legend(*ax.get_legend_handles_labels(), fontsize=8, frameon=False,
                   loc="outside upper right")
    return fig


def to_svg(fig: Figure) -> str:
    """SVG text of ``fig``, byte-for-byte the same for the same figure (fixed ids, no date)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "sora-uq"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
