"""Figures: built from data without touching matplotlib's global state, rendered reproducibly."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import ROOT

from uncertainty.families import Discrete, Fixed, LogNormal, Normal, build
from uncertainty.report.axes import overlapping_texts
from uncertainty.report.figures import distribution_figure, forest_figure, prior_sketch, to_svg

STATS = {"median": 10.0, "eti_50": [5.0, 20.0], "eti_90": [2.0, 50.0], "article_value": 30.0,
         "article_range": None}


def _draws():
    # Evenly spaced lognormal quantiles: deterministic, no random state needed.
    from scipy.stats import norm

    return 10.0 * np.exp(np.log(50 / 2) / (2 * 1.645) * norm.ppf(np.linspace(0.0005, 0.9995, 4000)))


def test_distribution_figure_is_log_scaled_and_marks_intervals_and_article():
    fig = distribution_figure(_draws(), STATS, "things", "units")
    hist_ax, ecdf_ax = fig.axes
    assert hist_ax.get_xscale() == "log" and ecdf_ax.get_xscale() == "log"
    low, high = hist_ax.get_xlim()
    assert low < 2.0 and high > 50.0
    labels = hist_ax.get_legend_handles_labels()[1]
    assert labels == ["90% interval", "50% interval", "median", "article: 30 units"]
    # The ECDF passes through the median at one half.
    x, y = ecdf_ax.lines[0].get_data()
    assert np.interp(0.5, y, x) == pytest.approx(np.median(_draws()), rel=1e-3)


@pytest.mark.parametrize("log", [True, False])
def test_distribution_histogram_is_the_density_per_unit_of_its_axis(log):
    # Lognormal quantiles (log axis: density per decade, a normal's in log10 units) or normal
    # ones (linear axis): at the median the bar's height is the closed-form density.
    from scipy.stats import norm

    z = norm.ppf(np.linspace(0.00005, 0.99995, 200_000))
    draws = 10.0 ** (1.0 + 0.3 * z) if log else 10.0 + 3.0 * z
    if log:  # a few draws at or below 0, off a log axis: left out, and no warning
        draws = np.concatenate([draws, [0.0, -1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist_ax = distribution_figure(draws, STATS, "things", "units").axes[0]
    from matplotlib.patches import StepPatch

    (stairs,) = [p for p in hist_ax.patches if isinstance(p, StepPatch)]
    heights, edges, _ = stairs.get_data()
    on_axis = np.log10(edges) if log else edges
    assert hist_ax.get_xscale() == ("log" if log else "linear")
    at_median = heights[np.searchsorted(on_axis, 1.0 if log else 10.0) - 1]
    assert at_median == pytest.approx(norm.pdf(0) / (0.3 if log else 3.0), rel=0.02)
    # the area is the share of draws inside the axis's range
    share = np.mean((draws >= edges[0]) & (draws <= edges[-1]))
    assert np.sum(heights * np.diff(on_axis)) == pytest.approx(share, rel=1e-9)


def test_distribution_and_forest_axes_write_numbers_as_the_tables_do():
    fig = distribution_figure(_draws() * 1e5, {**STATS, **{k: [v * 1e5 for v in STATS[k]]
                                                          for k in ("eti_50", "eti_90")},
                                               "median": 1e6, "article_value": 3e6},
                              "things", "units")
    rows = [{"name": "a", **STATS}, {"name": "b", **STATS, "median": 12.0}]
    forest = forest_figure(rows, "things", "units", article=[30.0])
    for figure, expected in ((fig, ["100k", "1M", "10M"]), (forest, ["3", "10", "30"])):
        ax = figure.axes[-1]
        low, high = ax.get_xlim()
        assert [t.get_text() for t, v in zip(ax.get_xticklabels(), ax.get_xticks(), strict=True)
                if low <= v <= high] == expected
        assert overlapping_texts(figure) == []


def test_svg_is_byte_for_byte_reproducible():
    first = to_svg(distribution_figure(_draws(), STATS, "things", "units"))
    second = to_svg(distribution_figure(_draws(), STATS, "things", "units"))
    assert first == second and "<dc:date>" not in first


def _curve(fig):
    ax = fig.axes[0]
    x, y = ax.lines[0].get_data()
    return ax, np.asarray(x), np.asarray(y)


def test_prior_sketch_is_the_familys_exact_density_between_its_extreme_quantiles():
    from scipy.stats import lognorm, norm

    dist = LogNormal(median=2e10, sigma=1.0)
    ax, x, y = _curve(prior_sketch(dist))
    assert ax.get_xscale() == "log"
    # Per decade on a log axis: x * pdf(x) * ln 10, the density a reader integrates by eye.
    exact = x * lognorm(1.0, scale=2e10).pdf(x) * np.log(10)
    np.testing.assert_allclose(y, exact, rtol=2e-3)
    low, high = ax.get_xlim()
    assert low == pytest.approx(dist.quantile(0.001), rel=1e-5)
    assert high == pytest.approx(dist.quantile(0.999), rel=1e-5)
    # A linear axis for a narrow family: the density itself.
    ax, x, y = _curve(prior_sketch(Normal(mean=-3.0, sd=0.5)))
    assert ax.get_xscale() == "linear"
    np.testing.assert_allclose(y, norm(-3.0, 0.5).pdf(x), rtol=2e-3)


def test_prior_sketch_of_a_family_without_a_cdf_uses_its_log_prob():
    from scipy.stats import norm

    class NoCdf(Normal):
        def cdf(self, x):
            raise NotImplementedError

    ax, x, y = _curve(prior_sketch(NoCdf(mean=1.0, sd=2.0)))
    np.testing.assert_allclose(y, norm(1.0, 2.0).pdf(x), rtol=1e-4)


def test_a_discrete_prior_is_stems_at_its_values_and_a_fixed_one_has_no_sketch():
    fig = prior_sketch(Discrete(values=(8.0, 4.0, 6.0), weights=(3.0, 5.0, 1.0)))
    ax = fig.axes[0]
    stems = ax.collections[0].get_segments()
    np.testing.assert_allclose([(seg[0][0], seg[1][1]) for seg in stems],
                               [(4.0, 5 / 9), (6.0, 1 / 9), (8.0, 3 / 9)])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["4", "6", "8"]
    assert len(ax.collections) == 1  # no filled density: a discrete prior has none
    with pytest.raises(ValueError, match="single value"):
        prior_sketch(Fixed(value=24.0))


@pytest.mark.parametrize("spec", [
    {"dist": "lognormal", "ci": [8.5e6, 34e6]},  # a log axis within about a decade
    {"dist": "lognormal", "ci": [5e9, 80e9]},
    {"dist": "beta", "ci": [0.05, 0.35]},
    {"dist": "pert", "low": 0.5, "mode": 0.95, "high": 1.0},
    {"dist": "lognormal", "ci": [8e20, 1.25e21]},
    {"dist": "mixture", "components": [{"dist": "lognormal", "ci": [1e9, 6e9]},
                                       {"dist": "lognormal", "ci": [10e9, 30e9], "weight": 3}]},
    {"dist": "discrete", "values": [1, 10, 100, 1000, 1e4], "weights": [1, 2, 3, 2, 1]},
])
def test_prior_sketch_ticks_are_few_round_and_never_overlap(spec):
    fig = prior_sketch(build(spec, "x"))
    assert overlapping_texts(fig) == []
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    labels = [t.get_text() for t, v in zip(ax.get_xticklabels(), ax.get_xticks(), strict=True)
              if low <= v <= high]
    assert 2 <= len(labels) <= 3 and all("times" not in t and "^" not in t for t in labels)


def test_forest_plot():
    rows = [{"name": "a", **STATS}, {"name": "b", **STATS, "median": 12.0}]
    forest = forest_figure(rows, "things", "units", article=[30.0])
    ax = forest.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert ax.get_xscale() == "log"


def test_importing_figures_changes_no_matplotlib_state():
    code = ("import matplotlib\nbefore = (matplotlib.get_backend(), dict(matplotlib.rcParams))\n"
            "import uncertainty.report.figures, uncertainty.report.writer, "
            "uncertainty.report.compare\n"
            "assert (matplotlib.get_backend(), dict(matplotlib.rcParams)) == before\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
