"""Prior-vs-posterior figures for an update: data in, matplotlib ``Figure`` out (never shown).

Example
-------
>>> import numpy as np, xarray as xr
>>> draws = lambda loc: xr.Dataset({"x": (("chain", "draw"), np.exp(np.random.default_rng(0)
...     .normal(loc, 1, (1, 500))))})
>>> tree = xr.DataTree.from_dict({"prior": draws(0.0), "posterior": draws(1.0)})
>>> moved_most(tree, ["x"], 1)
['x']
>>> prior_posterior_figure(tree, ["x"]).axes[0].get_xscale()
'log'
"""

from __future__ import annotations

import textwrap
from collections.abc import Collection

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .axes import readable_ticks, tick_text
from .plots import PALETTE

__all__ = ["moved_most", "prior_posterior_figure"]

TITLE_WIDTH = 40  # characters per line of a panel's title


def _values(tree: xr.DataTree, group: str, name: str) -> np.ndarray:
    return np.asarray(tree[group][name].values, np.float64).ravel()


def _scale(prior: np.ndarray, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    # Quantities spanning orders of magnitude are compared and drawn on a log scale.
    positive = prior.min() > 0 and posterior.min() > 0
    return (np.log(prior), np.log(posterior), True) if positive else (prior, posterior, False)


def moved_most(tree: xr.DataTree, names: list[str], count: int = 4) -> list[str]:
    """The ``count`` names whose posterior moved most from the prior.

    Score: shift of the median in prior standard deviations plus the log of the change in
    spread, both on the log scale for positive quantities. Constant variables score 0.
    """
    scores = {}
    for name in names:
        prior, posterior, _ = _scale(_values(tree, "prior", name), _values(tree, "posterior", name))
        sd_prior, sd_post = prior.std(), posterior.std()
        if sd_prior == 0 or sd_post == 0:
            continue
        shift = abs(np.median(posterior) - np.median(prior)) / sd_prior
        scores[name] = shift + abs(np.log(sd_post / sd_prior))
    return sorted(scores, key=scores.get, reverse=True)[:count]


def prior_posterior_figure(tree: xr.DataTree, names: list[str], units: dict | None = None,
                           labels: dict | None = None,
                           discrete: Collection[str] = ()) -> Figure:
    """One panel per name, prior and posterior: histograms (density per unit of the axis, so per
    decade on a log axis) for a continuous quantity, a log axis when it is positive and spans
    more than a factor of ten; side-by-side bars of each value's probability for the names in
    ``discrete``. Panels are titled with ``labels`` (name -> readable label) and their axes
    carry ``units`` and a few round, labelled ticks."""
    units, labels = units or {}, labels or {}
    figure = Figure(figsize=(4.2 * len(names), 3.4), layout="constrained")
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    palette = PALETTE[:2]
    for ax, name in zip(axes, names, strict=True):
        prior, posterior = _values(tree, "prior", name), _values(tree, "posterior", name)
        if name in discrete:
            _probability_bars(ax, prior, posterior, palette)
            ax.set_ylabel("probability")
        else:
            log = _histograms(ax, prior, posterior, palette)
            ax.set_yticks([])
            ax.set_ylabel("density per decade" if log else "density")
        ax.set_title(textwrap.fill(labels.get(name, name), TITLE_WIDTH), fontsize=10)
        ax.set_xlabel(units.get(name, ""))
        ax.spines[["top", "right"]].set_visible(False)
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2,
                  frameon=False, fontsize=9)
    return figure


def _histograms(ax, prior: np.ndarray, posterior: np.ndarray, palette) -> bool:
    """Prior and posterior histograms on shared bins; True when the axis is logarithmic."""
    low, high = np.quantile(np.concatenate([prior, posterior]), [0.005, 0.995])
    log = bool(low > 0 and high / low > 10)
    if not high > low:
        low, high = low - 0.5 * abs(low or 1.0), high + 0.5 * abs(high or 1.0)
    bins = np.geomspace(low, high, 51) if log else np.linspace(low, high, 51)
    widths = np.diff(np.log10(bins)) if log else np.diff(bins)
    for values, label, color in ((prior, "prior", palette[0]),
                                 (posterior, "posterior", palette[1])):
        counts, _ = np.histogram(values, bins)
        ax.stairs(counts / (values.size * widths), bins, fill=True, alpha=0.45, color=color,
                  label=label)
    ax.set_xscale("log" if log else "linear")  # before the ticks: a scale brings its own
    ax.set_xlim(low, high)
    readable_ticks(ax.xaxis, low, high, log, most=5)
    return log


def _probability_bars(ax, prior: np.ndarray, posterior: np.ndarray, palette) -> None:
    """Each value's share of the draws, prior and posterior side by side, one slot per value
    (evenly spaced whatever the values, labelled with them)."""
    values = np.unique(np.concatenate([prior, posterior]))
    slots = np.arange(values.size)
    for offset, draws, label, color in ((-0.2, prior, "prior", palette[0]),
                                        (0.2, posterior, "posterior", palette[1])):
        shares = (draws[:, None] == values[None, :]).mean(axis=0)
        ax.bar(slots + offset, shares, 0.4, color=color, alpha=0.8, label=label)
    ax.set_xticks(slots, [tick_text(v) for v in values])
    ax.set_xlim(-0.6, values.size - 0.4)
