"""The update's prior-vs-posterior figure: readable ticks, discrete priors as bars."""

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm

from uncertainty.report.axes import overlapping_texts
from uncertainty.report.update_plots import prior_posterior_figure

N = 4000
PROBABILITIES = (0.5, 0.2, 0.3)  # of 4, 6 and 8


def _group(shift: float, probabilities) -> xr.Dataset:
    # Evenly spaced quantiles, not random draws: the test needs no random state.
    z = norm.ppf((np.arange(N) + 0.5) / N)
    counts = np.round(np.asarray(probabilities) * N).astype(int)
    return xr.Dataset({
        "fleet": (("chain", "draw"), np.exp(np.log(7e6) + shift + 1.2 * z)[None]),  # decades
        "minutes": (("chain", "draw"), (3e7 + 1e7 * shift + 6e6 * z)[None]),  # a factor of ~3
        "compression": (("chain", "draw"), np.repeat([4.0, 6.0, 8.0], counts)[None]),
    })


@pytest.fixture(scope="module")
def figure():
    tree = xr.DataTree.from_dict({"prior": _group(0.0, PROBABILITIES),
                                  "posterior": _group(0.5, (0.6, 0.3, 0.1))})
    return prior_posterior_figure(
        tree, ["fleet", "minutes", "compression"],
        units={"fleet": "GPUs", "minutes": "min/day", "compression": "x"},
        labels={"fleet": "peak serving fleet", "compression": "frames per latent frame"},
        discrete={"compression"})


def test_tick_labels_are_few_round_and_never_overlap(figure):
    assert overlapping_texts(figure) == []
    fleet, minutes, _ = figure.axes
    assert fleet.get_xscale() == "log" and minutes.get_xscale() == "linear"
    for ax in (fleet, minutes):
        low, high = ax.get_xlim()
        shown = [t.get_text() for t, v in zip(ax.get_xticklabels(), ax.get_xticks(), strict=True)
                 if low <= v <= high]
        assert 2 <= len(shown) <= 5
        assert all("times" not in t and "^" not in t for t in shown)  # 10M, not 1x10^7
    assert all(t.get_text() == "" for t in fleet.xaxis.get_minorticklabels())


def test_a_discrete_prior_is_bars_of_each_values_probability(figure):
    ax = figure.axes[2]
    assert ax.get_xscale() == "linear" and not ax.lines  # bars, never a curve
    assert [t.get_text() for t in ax.get_xticklabels()] == ["4", "6", "8"]
    prior, posterior = ax.containers
    assert (prior.get_label(), posterior.get_label()) == ("prior", "posterior")
    np.testing.assert_allclose([bar.get_height() for bar in prior], PROBABILITIES, atol=1e-3)
    np.testing.assert_allclose([bar.get_height() for bar in posterior], (0.6, 0.3, 0.1), atol=1e-3)
    assert ax.get_ylabel() == "probability"


def test_panels_carry_the_models_labels_and_units(figure):
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["peak serving fleet", "minutes", "frames per latent frame"]
    assert [ax.get_xlabel() for ax in figure.axes] == ["GPUs", "min/day", "x"]
