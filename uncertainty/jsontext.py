"""JSON as the tool writes it: numbers rounded to the precision they carry.

The engine draws in float32, whose 24-bit significand carries about 7 significant decimal
digits; printing its values as float64 shows noise (``524000002048.0`` for 524e9). Every JSON
document the tool writes or prints goes through :func:`dumps`, which rounds each float to
``DIGITS`` significant digits (integers, strings and ``null`` pass unchanged; NaN and infinities
become ``null``, which JSON can carry).

>>> dumps({"median": 524000002048.0, "q": [0.30000001192092896, 3], "n": None})
'{"median": 524000000000.0, "q": [0.3, 3], "n": null}'
"""

from __future__ import annotations

import json
import math

import numpy as np

__all__ = ["DIGITS", "carried", "dumps"]

DIGITS = 7


def carried(value, digits: int = DIGITS):
    """``value`` with every float in it rounded to ``digits`` significant digits."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return float(f"{value:.{digits}g}") if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {key: carried(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [carried(item, digits) for item in value]
    return value


def dumps(doc, **options) -> str:
    """``json.dumps`` of :func:`carried` ``(doc)``."""
    return json.dumps(carried(doc), **options)
