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

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

__all__ = ["moved_most", "prior_posterior_figure"]


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


def prior_posterior_figure(tree: xr.DataTree, names: list[str],
                           units: dict | None = None) -> Figure:
    """One panel per name: prior and posterior histograms (density), log x-axis when positive."""
    import seaborn as sns

    units = units or {}
    figure = Figure(figsize=(4.2 * len(names), 3.2), layout="constrained")
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    palette = sns.color_palette("colorblind", 2)
    for ax, name in zip(axes, names, strict=True):
        prior, posterior = _values(tree, "prior", name), _values(tree, "posterior", name)
        _, _, log = _scale(prior, posterior)
        low, high = np.quantile(np.concatenate([prior, posterior]), [0.005, 0.995])
        bins = np.geomspace(low, high, 50) if log and low > 0 else np.linspace(low, high, 50)
        for values, label, color in ((prior, "prior", palette[0]),
                                     (posterior, "posterior", palette[1])):
            ax.hist(values, bins=bins, density=True, histtype="stepfilled", alpha=0.45,
                    color=color, label=label)
        if log and low > 0:
            ax.set_xscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(units.get(name, ""))
        ax.set_yticks([])
    axes[0].legend(frameon=False, fontsize=8)
    return figure
