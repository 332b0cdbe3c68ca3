"""Data -> matplotlib figures in seaborn's look. Functions here build and return a Figure; they
never show or save it, and they change no global matplotlib state (figures are created
directly, styles are applied inside a context).

Example
-------
>>> from uncertainty import load_priors
>>> from uncertainty.sensitivity import tornado
>>> result = tornado(load_priors("article"), outputs=["fleet_gpus"])
>>> fig = tornado_figure(result["outputs"]["fleet_gpus"], "fleet_gpus", {"fleet_gpus": "GPUs"})
>>> fig.axes[0].get_xscale()
'log'
"""

from __future__ import annotations

import math
import textwrap

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..sensitivity.tornado import NO_EFFECT, moving_bars
from ..summary import format_value
from .axes import readable_ticks, tick_text

__all__ = ["CHART_STYLE", "NO_EFFECT", "PALETTE", "SMALL", "evppi_figure", "moving_bars",
           "shapley_figure", "tornado_figure"]

# The bar charts' look: seaborn's "whitegrid" style in its "notebook" context at font scale
# 0.85 (seaborn 0.13), as the matplotlib settings seaborn sets for them. Importing seaborn costs
# half a CPU-second (it imports all of scipy.stats), a tenth of a warm report, for these
# settings alone; a test checks them against seaborn's own. Left out: seaborn's "image.cmap",
# a colormap only seaborn registers (no chart here draws an image).
CHART_STYLE = {
    "figure.facecolor": "white", "axes.facecolor": "white", "axes.labelcolor": ".15",
    "text.color": ".15", "xtick.color": ".15", "ytick.color": ".15", "axes.edgecolor": ".8",
    "xtick.direction": "out", "ytick.direction": "out", "axes.axisbelow": True,
    "axes.grid": True, "grid.color": ".8", "grid.linestyle": "-", "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans",
                        "sans-serif"],
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True,
    "xtick.top": False, "ytick.right": False, "xtick.bottom": False, "ytick.left": False,
    "axes.spines.left": True, "axes.spines.bottom": True, "axes.spines.right": True,
    "axes.spines.top": True,
    "axes.linewidth": 1.25, "grid.linewidth": 1, "lines.linewidth": 1.5, "lines.markersize": 6,
    "patch.linewidth": 1, "xtick.major.width": 1.25, "ytick.major.width": 1.25,
    "xtick.minor.width": 1, "ytick.minor.width": 1, "xtick.major.size": 6,
    "ytick.major.size": 6, "xtick.minor.size": 4, "ytick.minor.size": 4,
    "font.size": 10.2, "axes.labelsize": 10.2, "axes.titlesize": 10.2, "xtick.labelsize": 9.35,
    "ytick.labelsize": 9.35, "legend.fontsize": 9.35, "legend.title_fontsize": 10.2,
}
# seaborn's "colorblind" palette, its first three colours: blue, orange, green
PALETTE = ("#0173b2", "#de8f05", "#029e73")


def _despine(ax) -> None:
    """No frame but the x axis's line (seaborn's ``despine(left=True)``)."""
    ax.spines[["top", "right", "left"]].set_visible(False)


# Bars that move the output by under this share of the largest bar's reach are too short to
# see: they are named under the chart instead of drawn.
SMALL = 0.01
LABEL_GAP = 4  # points between a bar's end and its label
LABEL_WIDTH = 34  # characters per line of an assumption's label on the y axis


def _names(names: list[str], labels: dict | None) -> list[str]:
    """Each name's label (the model's, wrapped), or the name where there is none."""
    return [textwrap.fill((labels or {}).get(name, name), LABEL_WIDTH) for name in names]


def _with_unit(value: float, unit: str) -> str:
    return f"{tick_text(value)} {unit}".strip()  # 5B, 0.3, 8e20: as the axes write numbers


def _visible(bars: list[dict], base: float, log: bool) -> tuple[list[dict], list[dict]]:
    """The bars worth drawing, and those moving the output by under :data:`SMALL` of the
    largest bar (measured along the axis: in decades on a log axis), which a chart could not
    show and are named under it instead."""
    def reach(bar: dict) -> float:
        points = [bar["output_low"], bar["output_high"], base]
        points = [math.log10(v) for v in points] if log else points
        return max(points) - min(points)

    largest = max((reach(bar) for bar in bars), default=0.0)
    return ([bar for bar in bars if reach(bar) >= SMALL * largest],
            [bar for bar in bars if reach(bar) < SMALL * largest])


def _bar_rows(bar: dict, position: float, base: float) -> list[tuple]:
    """``(y, height, end, input value, which end)`` of a bar's two halves. Ends on opposite
    sides of the base case share the row; ends on one side get half a row each (low above),
    so neither bar nor label hides the other."""
    ends = ((bar["output_low"], bar["input_low"], 0), (bar["output_high"], bar["input_high"], 1))
    if (ends[0][0] >= base) != (ends[1][0] >= base):
        return [(position, 0.6, end, value, which) for end, value, which in ends]
    return [(position + (0.15 if which == 0 else -0.15), 0.28, end, value, which)
            for end, value, which in ends]


def _fit_labels(fig: Figure, ax, labels: list, log: bool, ends: list[float]) -> None:
    """Widen the x axis until every end label (``(end, text, right side)``) lies inside the
    axes. The labels' sizes are fixed in points, so the data range that leaves them room is a
    fixed point, reached by a few cheap iterations after one layout."""
    fig.get_layout_engine().execute(fig)  # the axes' place: all a text's width needs
    width = ax.get_window_extent().width
    room = 2 * LABEL_GAP * fig.dpi / 72  # the gap to the bar, and as much beyond the label
    to_axis = math.log10 if log else float
    sizes = [(to_axis(end), text.get_window_extent().width + room, right)
             for end, text, right in labels]
    lows = [(t, w) for t, w, right in sizes if not right]
    highs = [(t, w) for t, w, right in sizes if right]
    first, last = to_axis(min(ends)), to_axis(max(ends))
    span = (last - first) or 1.0
    for _ in range(50):
        per_pixel = span / width
        left = min([first] + [t - per_pixel * w for t, w in lows])
        right = max([last] + [t + per_pixel * w for t, w in highs])
        left, right = left - 0.02 * span, right + 0.02 * span
        if abs((right - left) - span) < 1e-6 * span:
            break
        span = right - left
    ax.set_xlim(*((10**left, 10**right) if log else (left, right)))


def tornado_figure(output_result: dict, output_name: str, units: dict,
                   labels: dict | None = None) -> Figure:
    """Tornado chart of one output: a bar per assumption that moves it, largest swing on top; a
    log axis when every end is positive, else a linear one.

    Parameters
    ----------
    output_result : dict
        One entry of ``tornado(...)["outputs"]``: ``base``, ``low_quantile``, ``high_quantile``
        and ``bars`` sorted by swing.
    output_name : str
        The output, to look up its label and unit.
    units : dict
        Name -> unit, for the assumptions and the output (missing names get no unit).
    labels : dict, optional
        Name -> readable label (the model's), for the assumptions and the output; a name
        without one is shown as it is.

    Returns
    -------
    matplotlib.figure.Figure
        Bars that do not move the output are left out (:func:`moving_bars`), and those that
        move it by under :data:`SMALL` of the largest bar are named under the axis instead of
        drawn. Each bar runs
        from the output at the assumption's low quantile to the output at its high quantile,
        split at the base case (marked by a vertical line); each end is labelled, outside the
        bar, with the input value that gives it, and the x axis is widened until every label
        fits. The axis is labelled with the output's label and unit.
    """
    labels = labels or {}
    base = output_result["base"]
    moving = moving_bars(output_result)
    # A ratio axis only where every end is positive.
    log = min([base] + [v for b in moving for v in (b["output_low"], b["output_high"])]) > 0
    bars, small = _visible(moving, base, log)
    low_q, high_q = output_result["low_quantile"], output_result["high_quantile"]
    colors = PALETTE[:2]
    out_label, out_unit = labels.get(output_name, output_name), units.get(output_name, "")
    fig = Figure(figsize=(9, 1.6 + 0.55 * max(len(bars), 1)), layout="constrained")
    texts = []
    with matplotlib.rc_context(CHART_STYLE):
        ax = fig.add_subplot()
        # Largest swing on top: the first bar gets the highest y position.
        for position, bar in zip(range(len(bars) - 1, -1, -1), bars, strict=True):
            unit = units.get(bar["assumption"], "")
            for y, height, end, value, which in _bar_rows(bar, position, base):
                ax.barh(y, end - base, left=base, height=height, color=colors[which])
                right = end >= base
                text = ax.annotate(_with_unit(value, unit), (end, y),
                                   xytext=(LABEL_GAP if right else -LABEL_GAP, 0),
                                   textcoords="offset points", ha="left" if right else "right",
                                   va="center", fontsize=8)
                texts.append((end, text, right))
        ends = [v for b in bars for v in (b["output_low"], b["output_high"])] + [base]
        ax.set_xscale("log" if log else "linear")
        ax.axvline(base, color="black", linewidth=1.2)
        ax.grid(False, axis="y")  # a line through every row would strike through its labels
        ax.set_yticks(range(len(bars) - 1, -1, -1),
                      _names([b["assumption"] for b in bars], labels))
        ax.set_ylim(-0.6, len(bars) - 0.4)
        scale = f"{'log' if log else 'linear'} scale"
        note = ("" if not small else "\n" + textwrap.fill(
            f"Not drawn, each moving it by under {SMALL:.0%} of the largest bar: "
            + ", ".join(labels.get(b["assumption"], b["assumption"]) for b in small) + ".", 90))
        ax.set_xlabel((f"{out_label} ({out_unit}), {scale}" if out_unit
                       else f"{out_label}, {scale}") + note)
        fig.suptitle(f"{out_label}: one assumption at a time, the others at their medians\n"
                     f"base case {_with_unit(base, out_unit)} (black line)", fontsize=10)
        fig.legend(handles=[
            Patch(color=colors[0], label=f"assumption at its {100 * low_q:g}% quantile"),
            Patch(color=colors[1], label=f"assumption at its {100 * high_q:g}% quantile")],
            loc="outside lower center", ncols=2, fontsize=8, frameon=False)
        _despine(ax)
        if bars:
            # Plain tick labels before the layout is measured (a log axis's default labels
            # are mathtext, slow to lay out), and again for the widened range.
            readable_ticks(ax.xaxis, min(ends), max(ends), log, most=5)
            _fit_labels(fig, ax, texts, log, ends)
            readable_ticks(ax.xaxis, *ax.get_xlim(), log, most=5)
    return fig


def shapley_figure(effects: dict, label: str, labels: dict | None = None) -> Figure:
    """Per assumption (largest Shapley effect on top): its Shapley effect with a 95% interval,
    its first-order index (correlated partners included) and its total index as if the
    assumptions were independent; assumptions under half a percent on every bar are left out.

    ``effects`` is one output of :func:`~uncertainty.sensitivity.shapley.shapley_effects`;
    ``labels`` (name -> the model's label) names the assumptions where given."""
    ranked = [(n, ix) for n, ix in sorted(effects.items(), key=lambda kv: -kv[1]["shapley"])
              if max(ix["shapley"], ix["first_order"], ix["total"]) >= 0.005]
    colors = PALETTE
    fig = Figure(figsize=(9, 1.2 + 0.5 * max(len(ranked), 1)), layout="constrained")
    with matplotlib.rc_context(CHART_STYLE):
        ax = fig.add_subplot()
        height = 0.26
        for row, (_, ix) in enumerate(ranked):
            y = len(ranked) - 1 - row
            low, high = ix["shapley_ci"]
            ax.barh(y + height, ix["shapley"], height, color=colors[0],
                    xerr=[[max(ix["shapley"] - low, 0)], [max(high - ix["shapley"], 0)]],
                    error_kw={"lw": 0.8}, label="Shapley effect (fair share)" if row == 0 else None)
            ax.barh(y, ix["first_order"], height, color=colors[1],
                    label="first-order (what knowing it removes)" if row == 0 else None)
            ax.barh(y - height, ix["total"], height, color=colors[2],
                    label="total, as if independent" if row == 0 else None)
        ax.set_yticks(range(len(ranked) - 1, -1, -1), _names([name for name, _ in ranked], labels))
        ax.grid(False, axis="y")  # a line through every row would strike through its bars
        ax.set_xlabel(f"share of the variance of {label}")
        largest = max((max(ix["shapley_ci"][1], ix["first_order"], ix["total"])
                       for _, ix in ranked), default=1.0)
        ax.set_xlim(0, min(1.0, 1.15 * largest))
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3,
                   fontsize=8, frameon=False)  # below the chart, never over a bar
        _despine(ax)
    return fig


def evppi_figure(voi: dict, output_unit: str = "output unit",
                 labels: dict | None = None) -> Figure:
    """The expected value of partial perfect information of each assumption (largest on top),
    each labelled with its share of the EVPI (what knowing the output itself would save);
    ``labels`` (name -> the model's label) names the assumptions and the output where given."""
    ranked = [(n, v) for n, v in sorted(voi["evppi"].items(), key=lambda kv: -kv[1])
              if v >= 0.005 * voi["evpi"]]
    fig = Figure(figsize=(9, 1.2 + 0.4 * max(len(ranked), 1)), layout="constrained")
    unit = f" ({voi['unit']} x {output_unit})" if voi.get("unit") else ""
    with matplotlib.rc_context(CHART_STYLE):
        ax = fig.add_subplot()
        color = PALETTE[0]
        values = [v for _, v in ranked]
        ax.barh(range(len(ranked) - 1, -1, -1), values, 0.6, color=color)
        for y, value in zip(range(len(ranked) - 1, -1, -1), values, strict=True):
            ax.annotate(f"{format_value(value)} ({100 * value / voi['evpi']:.1f}% of EVPI)",
                        (value, y), xytext=(4, 0), textcoords="offset points", va="center",
                        fontsize=8)
        ax.set_yticks(range(len(ranked) - 1, -1, -1), _names([n for n, _ in ranked], labels))
        ax.grid(False, axis="y")
        ax.set_xlabel(f"expected loss saved by knowing it before choosing{unit}")
        ax.set_xlim(0, 1.35 * max(values, default=1.0))
        ax.xaxis.set_major_formatter(lambda x, _: format_value(x))
        output = (labels or {}).get(voi["output"], voi["output"])
        ax.set_title(f"Value of information for providing {output}: best provision "
                     f"{format_value(voi['provision'])}, EVPI {format_value(voi['evpi'])}",
                     fontsize=10)
        _despine(ax)
    return fig
