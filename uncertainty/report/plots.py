"""Data -> matplotlib/seaborn figures. Functions here build and return a Figure; they never show
or save it, and they change no global matplotlib state (figures are created directly, styles
are applied inside a context).

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

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..summary import format_value

__all__ = ["evppi_figure", "shapley_figure", "tornado_figure"]


def _with_unit(value: float, unit: str) -> str:
    return f"{format_value(value)} {unit}".strip()


def tornado_figure(output_result: dict, output_name: str, units: dict) -> Figure:
    """Tornado chart of one output: a bar per assumption, largest swing on top; a log axis when
    every end is positive, else a linear one.

    Parameters
    ----------
    output_result : dict
        One entry of ``tornado(...)["outputs"]``: ``base``, ``low_quantile``, ``high_quantile``
        and ``bars`` sorted by swing.
    output_name : str
        Used in the title and to look up the output's unit.
    units : dict
        Name -> unit, for the assumptions and the output (missing names get no unit).

    Returns
    -------
    matplotlib.figure.Figure
        Bars that do not move the output are left out. Each bar runs from the output at the
        assumption's low quantile to the output at its high quantile, split at the base case
        (marked by a vertical line), and is labelled with the input values at its two ends.
    """
    import seaborn as sns

    bars = [b for b in output_result["bars"] if b.get("swing", b["swing_log10"])]
    base = output_result["base"]
    low_q, high_q = output_result["low_quantile"], output_result["high_quantile"]
    colors = sns.color_palette("colorblind", 2)
    fig = Figure(figsize=(9, 1.2 + 0.55 * max(len(bars), 1)), layout="constrained")
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.85):
        ax = fig.add_subplot()
        # Largest swing on top: the first bar gets the highest y position.
        for position, bar in zip(range(len(bars) - 1, -1, -1), bars, strict=True):
            for end, color in ((bar["output_low"], colors[0]), (bar["output_high"], colors[1])):
                ax.barh(position, end - base, left=base, height=0.6, color=color)
            unit = units.get(bar["assumption"], "")
            for end, value in ((bar["output_low"], bar["input_low"]),
                               (bar["output_high"], bar["input_high"])):
                right_side = end >= base
                ax.annotate(_with_unit(value, unit), (end, position),
                            xytext=(4 if right_side else -4, 0), textcoords="offset points",
                            ha="left" if right_side else "right", va="center", fontsize=8)
        ends = [v for b in bars for v in (b["output_low"], b["output_high"])] + [base]
        log = min(ends) > 0  # a ratio axis only where every end is positive
        ax.set_xscale("log" if log else "linear")
        ax.axvline(base, color="black", linewidth=1.2)
        ax.set_yticks(range(len(bars) - 1, -1, -1), [b["assumption"] for b in bars])
        out_unit = units.get(output_name, "")
        ax.set_xlabel(f"{output_name} ({out_unit})" if out_unit else output_name)
        ax.set_title(f"{output_name}: one assumption at a time, base case "
                     f"{_with_unit(base, out_unit)} (black line)", fontsize=10)
        # Room on both sides for the input labels (a log axis: pad by a factor).
        pad = (max(ends) - min(ends)) * 0.6 or 1.0
        ax.set_xlim(*((min(ends) / 4, max(ends) * 4) if log
                      else (min(ends) - pad, max(ends) + pad)))
        ax.legend(handles=[
            Patch(color=colors[0], label=f"input at its {100 * low_q:g}% quantile"),
            Patch(color=colors[1], label=f"input at its {100 * high_q:g}% quantile")],
            loc="lower right", fontsize=8)
        sns.despine(ax=ax, left=True)
    return fig


def shapley_figure(effects: dict, label: str) -> Figure:
    """Per assumption (largest Shapley effect on top): its Shapley effect with a 95% interval,
    its first-order index (correlated partners included) and its total index as if the
    assumptions were independent; assumptions under half a percent on every bar are left out.

    ``effects`` is one output of :func:`~uncertainty.sensitivity.shapley.shapley_effects`."""
    import seaborn as sns

    ranked = [(n, ix) for n, ix in sorted(effects.items(), key=lambda kv: -kv[1]["shapley"])
              if max(ix["shapley"], ix["first_order"], ix["total"]) >= 0.005]
    colors = sns.color_palette("colorblind", 3)
    fig = Figure(figsize=(9, 1.2 + 0.5 * max(len(ranked), 1)), layout="constrained")
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.85):
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
        ax.set_yticks(range(len(ranked) - 1, -1, -1), [name for name, _ in ranked])
        ax.set_xlabel(f"share of the variance of {label}")
        largest = max((max(ix["shapley_ci"][1], ix["first_order"], ix["total"])
                       for _, ix in ranked), default=1.0)
        ax.set_xlim(0, min(1.0, 1.15 * largest))
        ax.legend(loc="lower right", fontsize=8)
        sns.despine(ax=ax, left=True)
    return fig


def evppi_figure(voi: dict, output_unit: str = "output unit") -> Figure:
    """The expected value of partial perfect information of each assumption (largest on top),
    each labelled with its share of the EVPI (what knowing the output itself would save)."""
    import seaborn as sns

    ranked = [(n, v) for n, v in sorted(voi["evppi"].items(), key=lambda kv: -kv[1])
              if v >= 0.005 * voi["evpi"]]
    fig = Figure(figsize=(9, 1.2 + 0.4 * max(len(ranked), 1)), layout="constrained")
    unit = f" ({voi['unit']} x {output_unit})" if voi.get("unit") else ""
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.85):
        ax = fig.add_subplot()
        color = sns.color_palette("colorblind", 1)[0]
        values = [v for _, v in ranked]
        ax.barh(range(len(ranked) - 1, -1, -1), values, 0.6, color=color)
        for y, value in zip(range(len(ranked) - 1, -1, -1), values, strict=True):
            ax.annotate(f"{format_value(value)} ({100 * value / voi['evpi']:.1f}% of EVPI)",
                        (value, y), xytext=(4, 0), textcoords="offset points", va="center",
                        fontsize=8)
        ax.set_yticks(range(len(ranked) - 1, -1, -1), [n for n, _ in ranked])
        ax.set_xlabel(f"expected loss saved by knowing it before choosing{unit}")
        ax.set_xlim(0, 1.35 * max(values, default=1.0))
        ax.xaxis.set_major_formatter(lambda x, _: format_value(x))
        ax.set_title(f"Value of information for providing {voi['output']}: best provision "
                     f"{format_value(voi['provision'])}, EVPI {format_value(voi['evpi'])}",
                     fontsize=10)
        sns.despine(ax=ax, left=True)
    return fig
