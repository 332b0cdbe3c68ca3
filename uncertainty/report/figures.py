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

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ..summary import format_value

__all__ = ["COLORS", "distribution_figure", "forest_figure", "prior_sketch", "to_svg"]

# Colour-blind-safe (seaborn's "colorblind" palette); the report never relies on colour alone.
COLORS = {"draws": "#0173b2", "interval": "#0173b2", "article": "#d55e00", "median": "#029e73",
          "muted": "#949494"}
ECDF_POINTS = 400  # an ECDF through 400 quantiles is smooth and keeps the SVG small
HIST_BINS = 60
SKETCH_DRAWS = 4000  # enough for a density sketch; KDE cost grows with the draws


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
    hist_ax.set_ylabel("density per decade" if log else "density")
    hist_ax.set_title(label, loc="left", fontsize=11)
    hist_ax.legend(fontsize=8, frameon=False, loc="upper right")
    ecdf_ax.set_ylabel("share of draws ≤ x")
    ecdf_ax.set_ylim(0, 1)
    ecdf_ax.set_xlabel(f"{unit} ({'log scale' if log else 'linear scale'})")
    return fig


def prior_sketch(draws: np.ndarray, fixed: bool = False) -> Figure:
    """A small density sketch of one assumption's prior (a spike for a fixed value)."""
    import seaborn as sns

    draws = np.asarray(draws, dtype=float).ravel()
    fig = Figure(figsize=(1.8, 0.62), layout="constrained")
    ax = fig.subplots()
    if fixed or np.ptp(draws) == 0:
        ax.axvline(draws[0], color=COLORS["draws"], lw=2)
        ax.set_xlim(draws[0] * 0.5, draws[0] * 1.5) if draws[0] > 0 else None
    else:
        # Evenly spaced draws, not a random subsample: the sketch needs no key of its own.
        sample = draws[:: max(1, draws.size // SKETCH_DRAWS)]
        log = _log_axis(sample)
        # cut=0 keeps the density inside the draws' range (shares stay in (0, 1]).
        sns.kdeplot(x=sample, ax=ax, fill=True, color=COLORS["draws"], log_scale=log, cut=0,
                    linewidth=1, warn_singular=False)
        low, high = np.quantile(sample, [0.005, 0.995])
        ax.set_xlim(low, high)
        ax.tick_params(axis="x", labelsize=7, pad=1, length=2)
        ax.xaxis.get_offset_text().set_fontsize(7)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # labels would collide
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(3) if not log
                                   else matplotlib.ticker.LogLocator(numticks=3))
    ax.set_yticks([])
    ax.set_ylabel("")
    ax.spines[["top", "right", "left"]].set_visible(False)
    if fixed or np.ptp(draws) == 0:
        ax.set_xticks([])
    return fig


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
    ax.set_yticks(positions, [row["name"] for row in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(f"{unit} (median, 50% and 90% intervals; {'log' if log else 'linear'} scale)")
    ax.set_title(label, loc="left", fontsize=11)
    ax.grid(True, axis="x", which="major", alpha=0.3, lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    if article:
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    return fig


def to_svg(fig: Figure) -> str:
    """SVG text of ``fig``, byte-for-byte the same for the same figure (fixed ids, no date)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "sora-uq"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
