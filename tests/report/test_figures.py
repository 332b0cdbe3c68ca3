"""Figures: built from data without touching matplotlib's global state, rendered reproducibly."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

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


def test_svg_is_byte_for_byte_reproducible():
    first = to_svg(distribution_figure(_draws(), STATS, "things", "units"))
    second = to_svg(distribution_figure(_draws(), STATS, "things", "units"))
    assert first == second and "<dc:date>" not in first


def test_sketch_and_forest_plot():
    fixed = prior_sketch(np.full(100, 24.0), fixed=True)
    assert fixed.axes[0].get_xticks().size == 0
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
