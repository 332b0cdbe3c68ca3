"""Figures: they draw, use the right axis and show the data in the right order."""

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from uncertainty.report.axes import overlapping_texts
from uncertainty.report.plots import evppi_figure, moving_bars, shapley_figure, tornado_figure

# A hand-made tornado entry (the shape tornado() returns), so the test needs no model run.
ENTRY = {
    "base": 1000.0, "low_quantile": 0.05, "high_quantile": 0.95,
    "bars": [
        {"assumption": "big", "input_low": 5e9, "input_high": 8e10, "output_low": 250.0,
         "output_high": 4000.0, "swing_log10": 1.2041199826559248},
        {"assumption": "inverse", "input_low": 4.0, "input_high": 8.0, "output_low": 1500.0,
         "output_high": 750.0, "swing_log10": 0.3010299956639812},
        {"assumption": "small", "input_low": 0.3, "input_high": 0.7, "output_low": 900.0,
         "output_high": 1100.0, "swing_log10": 0.08715017571890013},
        # Both ends above the base case and close: "5B ..." and "80B ..." would share a line.
        {"assumption": "same_side", "input_low": 5e9, "input_high": 8e10, "output_low": 1100.0,
         "output_high": 1300.0, "swing_log10": 0.07255066179233824},
        {"assumption": "inert", "input_low": 1.0, "input_high": 2.0, "output_low": 1000.0,
         "output_high": 1000.0, "swing_log10": 0.0},
        # float32 rounding, not an effect: a hundred-millionth of the base case
        {"assumption": "rounding", "input_low": 1.0, "input_high": 2.0, "output_low": 999.99994,
         "output_high": 1000.00006, "swing_log10": 5.2e-11},
    ],
}
UNITS = {"big": "parameters", "same_side": "parameters", "inverse": "x", "small": "share",
         "y": "GPUs"}
LABELS = {"big": "Sora parameter count", "inverse": "frames per latent frame", "y": "peak fleet"}


@pytest.fixture(scope="module")
def figure():
    return tornado_figure(ENTRY, "y", UNITS, LABELS)


def test_tornado_figure_draws(figure):
    assert isinstance(figure, Figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue()[:4] == b"\x89PNG"


def test_tornado_axis_is_log_with_base_marked(figure):
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    verticals = [line for line in ax.get_lines() if list(line.get_xdata()) == [1000.0, 1000.0]]
    assert verticals, "base case not marked"
    assert ax.get_xlabel() == "peak fleet (GPUs), log scale"
    assert figure.get_suptitle().startswith("peak fleet: one assumption at a time")
    assert "base case 1k GPUs" in figure.get_suptitle()


def test_tornado_bars_largest_on_top_and_labelled(figure):
    ax = figure.axes[0]
    by_height = sorted(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels()),
                           strict=False),
                       reverse=True)
    # The model's labels where it has them; inert and rounding-only bars left out.
    assert [label for _, label in by_height] == ["Sora parameter count",
                                                 "frames per latent frame", "small", "same_side"]
    assert [bar["assumption"] for bar in moving_bars(ENTRY)] == ["big", "inverse", "small",
                                                                 "same_side"]
    ends = {}  # each row's drawn bar ends (the end away from the base case)
    for patch in ax.patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        ends.setdefault(y, []).append(patch.get_x() + patch.get_width())
    swings = [np.log10(max(ends[y]) / min(ends[y])) for y in sorted(ends, reverse=True)]
    assert swings == sorted(swings, reverse=True)
    texts = [t.get_text() for t in ax.texts]
    assert sorted(texts) == sorted(["5B parameters", "80B parameters", "5B parameters",
                                    "80B parameters", "4 x", "8 x", "0.3 share", "0.7 share"])


def test_tornado_labels_never_overlap_and_stay_on_the_figure(figure):
    assert overlapping_texts(figure) == []
    ax = figure.axes[0]
    # Every end label outside its bar's end, away from the base case.
    for text in ax.texts:
        end = text.xy[0]
        assert text.get_ha() == ("left" if end >= ENTRY["base"] else "right")


def test_tornado_of_an_output_with_both_ends_on_one_side_splits_the_row():
    entry = {**ENTRY, "bars": ENTRY["bars"][3:4]}
    ax = tornado_figure(entry, "y", UNITS).axes[0]
    rows = sorted((round(p.get_y() + p.get_height() / 2, 2), p.get_height()) for p in ax.patches)
    assert rows == [(-0.15, 0.28), (0.15, 0.28)]  # high end below, low end above, half height
    assert overlapping_texts(ax.figure) == []


def test_tornado_names_bars_too_short_to_see_under_the_axis_instead_of_drawing_them():
    tiny = {"assumption": "tiny", "input_low": 1.0, "input_high": 2.0, "output_low": 999.0,
            "output_high": 1001.0, "swing_log10": 0.000869}  # 0.07% of the largest bar
    ax = tornado_figure({**ENTRY, "bars": [*ENTRY["bars"], tiny]}, "y", UNITS, LABELS).axes[0]
    assert "tiny" not in [t.get_text() for t in ax.get_yticklabels()]
    assert ax.get_xlabel() == ("peak fleet (GPUs), log scale\nNot drawn, each moving it by under "
                               "1% of the largest bar: tiny.")
    assert overlapping_texts(ax.figure) == []


def test_tornado_on_a_linear_axis_fits_long_labels():
    entry = {"base": 0.0, "low_quantile": 0.05, "high_quantile": 0.95, "bars": [
        {"assumption": "margin", "input_low": -123456.0, "input_high": 654321.0,
         "output_low": -5.0, "output_high": 0.01, "swing_log10": None, "swing": 5.01}]}
    fig = tornado_figure(entry, "profit", {"margin": "USD per unit of something", "profit": "USD"})
    assert fig.axes[0].get_xscale() == "linear"
    assert overlapping_texts(fig) == []


def test_shapley_and_value_of_information_charts_name_assumptions_by_their_labels():
    effects = {"big": {"shapley": 0.6, "shapley_ci": [0.5, 0.7], "first_order": 0.55,
                       "total": 0.65},
               "small": {"shapley": 0.3, "shapley_ci": [0.2, 0.4], "first_order": 0.25,
                         "total": 0.35},
               "negligible": {"shapley": 0.001, "shapley_ci": [0.0, 0.002],
                              "first_order": 0.001, "total": 0.001}}
    shapley = shapley_figure(effects, "peak fleet", LABELS)
    assert [t.get_text() for t in shapley.axes[0].get_yticklabels()] == [
        "Sora parameter count", "small"]
    voi = evppi_figure({"evppi": {"big": 4e6, "inverse": 1e6}, "evpi": 1e7, "output": "y",
                        "provision": 3e6, "unit": "USD"}, "GPUs", LABELS)
    ax = voi.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Sora parameter count",
                                                            "frames per latent frame"]
    assert ax.get_title().startswith("Value of information for providing peak fleet")
    assert overlapping_texts(shapley) == [] and overlapping_texts(voi) == []


def test_the_chart_style_and_palette_are_seaborns_own():
    # The bar charts are drawn in seaborn's look without importing seaborn: the settings must
    # stay those seaborn gives (its colormap setting aside, which only seaborn can resolve).
    import seaborn as sns

    from uncertainty.report.plots import CHART_STYLE, PALETTE

    expected = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.85)}
    expected.pop("image.cmap")
    assert CHART_STYLE == expected
    assert list(PALETTE) == sns.color_palette("colorblind", 3).as_hex()
