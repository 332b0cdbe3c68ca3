"""Readable axes: round ticks, labelled as the tables write numbers, and a check for texts that
overlap or run off the figure."""

import pytest
from matplotlib.figure import Figure

from uncertainty.report.axes import (
    linear_ticks,
    log_ticks,
    overlapping_texts,
    readable_ticks,
    tick_text,
)


@pytest.mark.parametrize("value,text", [
    (5e9, "5B"), (8e10, "80B"), (2.5e5, "250k"), (0.3, "0.3"), (0.30000001, "0.3"),
    (1e21, "1e21"), (1.25e21, "1.25e21"), (2.5e-4, "2.5e-4"), (0.0, "0"), (-1.5e6, "-1.5M"),
])
def test_tick_text_writes_numbers_as_the_tables_do(value, text):
    assert tick_text(value) == text


@pytest.mark.parametrize("low,high,most,ticks", [
    (5e9, 1.2e11, 4, [1e10, 3e10, 1e11]),   # under two decades: 1 and 3 per decade
    (4.6e6, 6.3e7, 3, [1e7, 3e7]),          # 1, 2, 5 would give four: two rather than too many
    (1e3, 1e9, 4, [1e3, 1e5, 1e7, 1e9]),    # six decades thinned to four
    (1.5, 1.9, 4, []),                      # no two round numbers: the caller goes linear
])
def test_log_ticks_are_few_round_numbers(low, high, most, ticks):
    assert log_ticks(low, high, most) == pytest.approx(ticks)


def test_linear_ticks_stay_within_the_range_and_the_count():
    for low, high, most in [(33.0, 59.0, 3), (33.0, 59.0, 5), (0.3, 0.7, 3), (7e20, 1.5e21, 4)]:
        ticks = linear_ticks(low, high, most)
        assert 2 <= len(ticks) <= most and all(low <= t <= high for t in ticks)


def test_a_log_axis_gets_no_minor_labels_and_distinct_major_ones():
    fig = Figure(figsize=(3, 1), layout="constrained")
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_xlim(6e6, 5e7)
    ticks = readable_ticks(ax.xaxis, 6e6, 5e7, log=True, most=4)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10M", "20M", "50M"]
    assert ticks == [1e7, 2e7, 5e7]
    assert all(t.get_text() == "" for t in ax.xaxis.get_minorticklabels())
    assert overlapping_texts(fig) == []


def test_overlapping_texts_finds_collisions_and_texts_off_the_figure():
    fig = Figure(figsize=(3, 1))
    ax = fig.subplots()
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, "5B parameters")
    ax.text(0.52, 0.5, "80B parameters")
    ax.text(1.3, 0.5, "off the edge")
    assert sorted(overlapping_texts(fig)) == [("5B parameters", "80B parameters"),
                                              ("off the edge", "<edge>")]


def test_a_log_axis_minor_ticks_are_matplotlibs_own_drawn_as_one_line_per_axes():
    # matplotlib's minor ticks of a plain log axis over the same range, for reference
    plain = Figure(figsize=(4, 2)).subplots()
    plain.set_xscale("log")
    plain.set_xlim(3e2, 2e5)
    expected = [v for v in plain.xaxis.get_minorticklocs() if 3e2 <= v <= 2e5]

    fig = Figure(figsize=(4, 2))
    top, bottom = fig.subplots(2, 1, sharex=True)
    bottom.set_xscale("log")
    bottom.set_xlim(3e2, 2e5)
    readable_ticks(bottom.xaxis, 1e3, 1e5, log=True)  # a first, narrower range: replaced
    readable_ticks(bottom.xaxis, 3e2, 2e5, log=True)
    fig.draw_without_rendering()
    for ax in (top, bottom):  # both axes sharing the axis carry the marks, once
        marks = [line for line in ax.lines if line.get_gid() == "minor-x"]
        assert len(marks) == 1
        assert list(marks[0].get_xdata()) == pytest.approx(expected)
        assert marks[0].get_marker() == plain.xaxis.get_minor_ticks()[0].tick1line.get_marker()
    assert len(expected) == 7 + 8 + 8 + 1  # 3e2..9e2, 2e3..9e3, 2e4..9e4 and 2e5, the end
    # no Tick per minor mark: matplotlib has nothing to place on a minor tick
    assert len(bottom.xaxis.get_minorticklocs()) == 0
