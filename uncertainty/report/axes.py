"""Readable axes for the reports' figures: a few ticks at round numbers, labelled the way the
tables write numbers (``5B``, ``250k``, ``0.3``, ``1e21``), never matplotlib's ``3x10^7`` minor
labels or a detached ``1e7`` offset; and a check that no two texts of a figure overlap.

Example
-------
>>> log_ticks(5e9, 1.2e11)
[10000000000.0, 30000000000.0, 100000000000.0]
>>> [tick_text(v) for v in (5e9, 2.5e5, 0.3, 1e21, 2.5e-4)]
['5B', '250k', '0.3', '1e21', '2.5e-4']
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import (
    FixedFormatter,
    FixedLocator,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    NullLocator,
)

from ..summary import format_value

__all__ = ["linear_ticks", "log_ticks", "minor_marks", "overlapping_texts", "readable_ticks",
           "tick_text"]

# Round numbers per decade, coarsest first: a log axis takes the coarsest set that gives it
# at least three ticks (two when nothing finer fits in its range).
_LOG_STEPS = ((1,), (1, 3), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9))


def tick_text(value: float, digits: int = 3) -> str:
    """A tick's label: k/M/B/T as in the tables, scientific as ``1e21`` or ``2.5e-4``."""
    magnitude = abs(value)
    if magnitude and (magnitude >= 1e15 or magnitude < 1e-3):
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return format_value(value, digits)


def log_ticks(low: float, high: float, most: int = 4) -> list[float]:
    """Round numbers (1, 2, 3 or 5 times a power of ten) in ``[low, high]``: the coarsest set
    that gives three to ``most`` ticks, else one that gives two, else the decades, thinned to
    ``most``; [] when fewer than two fit.

    >>> log_ticks(4.6e6, 6.3e7, most=3)
    [10000000.0, 30000000.0]
    """
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    two: list[float] = []
    for steps in _LOG_STEPS:
        ticks = [float(f"{step}e{power}") for power in range(first, last + 1) for step in steps]
        ticks = [t for t in ticks if low <= t <= high]
        if len(ticks) > most:  # finer sets only give more
            return two or ticks[::math.ceil(len(ticks) / most)]
        if len(ticks) >= 3:
            return ticks
        if len(ticks) == 2 and not two:
            two = ticks
    return two


def linear_ticks(low: float, high: float, most: int = 4) -> list[float]:
    """Round numbers (1, 2, 2.5 or 5 times a power of ten apart) in ``[low, high]``: three to
    ``most`` of them when a spacing gives that, else two.

    >>> linear_ticks(33.0, 59.0, most=3)
    [40.0, 50.0]
    """
    two: list[float] = []
    for bins in range(2 * most, 0, -1):
        ticks = [float(t) for t in MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10])
                 .tick_values(low, high) if low <= t <= high]
        if 3 <= len(ticks) <= most:
            return ticks
        if len(ticks) == 2 and not two:
            two = ticks
    return two


def _texts(values: Sequence[float]) -> list[str]:
    """Tick labels with the fewest digits (three or more) that tell every tick apart."""
    for digits in range(3, 8):
        texts = [tick_text(v, digits) for v in values]
        if len(set(texts)) == len(texts):
            return texts
    return texts


def readable_ticks(axis, low: float, high: float, log: bool, most: int = 4) -> list[float]:
    """Put at most ``most`` labelled ticks on ``axis`` (an ``ax.xaxis`` or ``ax.yaxis``) within
    ``[low, high]``: round numbers, on a log axis at 1, 2, 3 or 5 times a power of ten; minor
    ticks stay unlabelled (on a log axis: :func:`minor_marks`). Returns the ticks."""
    ticks = log_ticks(low, high, most) if log and low > 0 else []
    if len(ticks) < 2:
        ticks = linear_ticks(low, high, most)
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FixedFormatter(_texts(ticks)))
    axis.set_minor_formatter(NullFormatter())
    if axis.get_scale() == "log" and low > 0:
        minor_marks(axis, low, high)
    return ticks


def minor_marks(axis, low: float, high: float) -> None:
    """A log axis's minor ticks within ``[low, high]``, where matplotlib puts them and as it
    draws them, but as one line of tick markers per axes instead of one ``Tick`` each.

    Matplotlib makes every minor tick a ``Tick`` (two lines, two texts, a grid line): eight per
    decade, on every axes sharing the axis, they were a fifth of the time of a report's figures.
    A tick's mark is a marker on a line either way, so the picture is the same. Called again
    (the range changed), it replaces its marks."""
    locator = LogLocator(subs="auto")  # matplotlib's own minor locator of a log axis
    locator.set_axis(axis)
    places = [v for v in locator.tick_values(low, high) if low <= v <= high]
    look = axis.get_minor_ticks(1)[0].tick1line  # the style a minor tick would be drawn in
    axis.set_minor_locator(NullLocator())
    x = axis.axis_name == "x"
    shared = axis.axes.get_shared_x_axes() if x else axis.axes.get_shared_y_axes()
    for ax in shared.get_siblings(axis.axes):
        for old in [line for line in ax.lines if line.get_gid() == f"minor-{axis.axis_name}"]:
            old.remove()
        if places and look.get_visible():
            transform = ax.get_xaxis_transform() if x else ax.get_yaxis_transform()
            ends = [0.0] * len(places)
            ax.plot(places if x else ends, ends if x else places, linestyle="none",
                    marker=look.get_marker(), markersize=look.get_markersize(),
                    markeredgewidth=look.get_markeredgewidth(), color=look.get_color(),
                    zorder=look.get_zorder(), transform=transform, clip_on=False,
                    gid=f"minor-{axis.axis_name}")


def _shown_texts(fig: Figure) -> list[Text]:
    """Every text a reader sees: titles, labels, annotations, legend entries, and the labels of
    the ticks inside their axis's view."""
    tick_labels, shown = set(), []
    for ax in fig.axes:
        for axis, view in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            low, high = sorted(view)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick_labels.update((tick.label1, tick.label2))
                inside = low - 1e-9 * abs(low) <= tick.get_loc() <= high + 1e-9 * abs(high)
                shown += [label for label in (tick.label1, tick.label2)
                          if inside and label.get_visible() and label.get_text().strip()]
    others = [text for text in fig.findobj(Text) if text not in tick_labels
              and text.get_visible() and text.get_text().strip()]
    return others + shown


def overlapping_texts(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of texts of ``fig`` whose boxes overlap once drawn, and texts that run off the
    figure (paired with ``"<edge>"``): [] for a figure a reader can read."""
    fig.draw_without_rendering()
    page = fig.bbox
    boxes = []
    for text in _shown_texts(fig):
        box = text.get_window_extent()
        if box.width == 0 or box.height == 0:
            continue
        boxes.append((text.get_text(), box))
    found = [(name, "<edge>") for name, box in boxes
             if box.x0 < page.x0 - 1 or box.x1 > page.x1 + 1
             or box.y0 < page.y0 - 1 or box.y1 > page.y1 + 1]
    for i, (name, box) in enumerate(boxes):
        for other, other_box in boxes[i + 1:]:
            # Shrunk by a pixel: boxes that only touch are fine.
            if (box.x0 + 1 < other_box.x1 - 1 and other_box.x0 + 1 < box.x1 - 1
                    and box.y0 + 1 < other_box.y1 - 1 and other_box.y0 + 1 < box.y1 - 1):
                found.append((name, other))
    return found
