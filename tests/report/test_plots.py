"""Figures: they draw, use the right axis and show the data in the right order."""

import io

import pytest
from matplotlib.figure import Figure

from uncertainty.report.plots import tornado_figure

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
        {"assumption": "inert", "input_low": 1.0, "input_high": 2.0, "output_low": 1000.0,
         "output_high": 1000.0, "swing_log10": 0.0},
    ],
}
UNITS = {"big": "parameters", "inverse": "x", "small": "share", "y": "GPUs"}


@pytest.fixture(scope="module")
def figure():
    return tornado_figure(ENTRY, "y", UNITS)


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
    assert "GPUs" in ax.get_xlabel()


def test_tornado_bars_largest_on_top_and_labelled(figure):
    ax = figure.axes[0]
    by_height = sorted(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels()),
                           strict=False),
                       reverse=True)
    assert [label for _, label in by_height] == ["big", "inverse", "small"]  # inert left out
    widths = {}
    for patch in ax.patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        widths[y] = widths.get(y, 0.0) + abs(patch.get_width())
    tops = sorted(widths, reverse=True)
    assert [widths[y] for y in tops] == sorted(widths.values(), reverse=True)
    texts = {t.get_text() for t in ax.texts}
    assert {"5B parameters", "80B parameters", "4 x", "8 x", "0.3 share", "0.7 share"} <= texts
