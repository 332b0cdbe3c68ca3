"""Scrambled Sobol' points: those of ``scipy.stats.qmc.Sobol``, without importing ``scipy.stats``.

Importing ``scipy.stats`` builds every distribution SciPy has: 0.4 CPU-seconds, a tenth of a
warm ``report``, which needs only this sequence. The points here are SciPy's own, bit for bit
(the tests compare them): its direction numbers (Joe and Kuo's "new-joe-kuo-6.21201", read from
SciPy's data file), its scrambling (a random lower-triangular linear matrix scramble and a
digital shift, drawn from the generator in SciPy's order) and its Gray-code order. Where the
installed SciPy keeps no such file, or more dimensions are asked for than it holds, SciPy's
class is used instead.

Example
-------
>>> import numpy as np
>>> points = ScrambledSobol(3, np.random.default_rng(0)).random_base2(2)
>>> points.shape, bool(((points >= 0) & (points < 1)).all())
((4, 3), True)
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np

__all__ = ["BITS", "ScrambledSobol"]

BITS = 30  # SciPy's default: points are integers of 30 bits over 2^30


@cache
def _joe_kuo() -> tuple[np.ndarray, np.ndarray] | None:
    """(poly, vinit) of every dimension SciPy ships, or None where its file is not found."""
    spec = importlib.util.find_spec("scipy")  # finds SciPy without importing anything
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "stats" / "_sobol_direction_numbers.npz"
    if not path.is_file():
        return None
    with np.load(path) as numbers:
        return numbers["poly"].astype(np.int64), numbers["vinit"].astype(np.int64)


def _directions(d: int, poly: np.ndarray, vinit: np.ndarray) -> np.ndarray:
    """The ``(d, BITS)`` direction numbers of the first ``d`` dimensions, as integers of
    ``BITS`` bits (Bratley and Fox's recurrence, ACM TOMS 14(1), 1988, section 2)."""
    v = np.zeros((d, BITS), np.int64)
    v[0] = 1
    for dim in range(1, d):
        p = int(poly[dim])
        m = p.bit_length() - 1  # the polynomial's degree
        v[dim, :m] = vinit[dim, :m]
        for j in range(m, BITS):
            new = int(v[dim, j - m])
            for k in range(m):
                if (p >> (m - 1 - k)) & 1:
                    new ^= int(v[dim, j - k - 1]) << (k + 1)
            v[dim, j] = new
    return v << (BITS - 1 - np.arange(BITS))  # column j: its bits moved to 2^(BITS-1-j)


def _parity(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x) & 1


def _scramble(v: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Each dimension's direction numbers times its random lower-triangular bit matrix (unit
    diagonal), over GF(2): row ``p`` of the matrix gives bit ``BITS - 1 - p`` of each number."""
    lower = lower.copy()
    lower[:, np.arange(BITS), np.arange(BITS)] = 1
    rows = (lower.astype(np.int64) << (BITS - 1 - np.arange(BITS))).sum(axis=-1)  # (d, BITS)
    bits = _parity(rows[:, :, None] & v[:, None, :])  # (d, row p, number j)
    return (bits << (BITS - 1 - np.arange(BITS))[None, :, None]).sum(axis=1)


class ScrambledSobol:
    """The points of ``scipy.stats.qmc.Sobol(d, scramble=True, rng=rng)``, in the same order,
    from the same draws (SciPy's, as of 1.18: a child of ``rng``, a
    :class:`numpy.random.Generator`, spawned first; ``rng`` itself draws nothing).

    >>> import numpy as np
    >>> whole = ScrambledSobol(2, np.random.default_rng(5)).random(8)
    >>> parts = ScrambledSobol(2, np.random.default_rng(5))
    >>> bool((np.vstack([parts.random(3), parts.random(5)]) == whole).all())
    True
    """

    def __init__(self, d: int, rng: np.random.Generator):
        self.d = d
        numbers = _joe_kuo()
        if numbers is None or d > len(numbers[0]):
            from scipy.stats import qmc  # SciPy's own class: slower to import, same points

            try:
                self._scipy = qmc.Sobol(d, scramble=True, rng=rng)
            except TypeError:  # SciPy < 1.15 names it seed
                self._scipy = qmc.Sobol(d, scramble=True, seed=rng)
            return
        self._scipy = None
        rng = rng.spawn(1)[0]  # as SciPy does: a child generator of its own, then
        # SciPy's order of draws: the shift's bits, then the matrices' (uint32 draws both).
        shift_bits = rng.integers(0, 2, size=(d, BITS), dtype=np.uint32).astype(np.int64)
        lower = np.tril(rng.integers(0, 2, size=(d, BITS, BITS), dtype=np.uint32))
        self._shift = (shift_bits << np.arange(BITS)).sum(axis=1)
        self._v = _scramble(_directions(d, *numbers), lower)
        self._rows = np.ascontiguousarray(self._v.T)  # number j of every dimension: a row
        self._made = 0

    def random(self, n: int) -> np.ndarray:
        """The next ``n`` points, ``(n, d)`` float64 in [0, 1)."""
        if self._scipy is not None:
            return self._scipy.random(n)
        if n < 1:
            return np.empty((0, self.d))
        start = self._made
        # Point k is the shift XOR the direction numbers of gray(k) = k ^ (k >> 1)'s bits. The
        # first point here is made so; each next one differs from its predecessor in the one
        # number whose index is the count of trailing zeros of k (Gray-code order).
        gray = start ^ (start >> 1)
        first = self._shift.copy()
        for b in range(gray.bit_length()):
            if (gray >> b) & 1:
                first ^= self._v[:, b]
        k = np.arange(start + 1, start + n, dtype=np.int64)
        trailing = np.log2(k & -k).astype(np.int64)  # exact: k & -k is a power of two
        points = np.empty((n, self.d), np.int64)
        points[0] = first
        np.take(self._rows, trailing, axis=0, out=points[1:])
        np.bitwise_xor.accumulate(points, axis=0, out=points)
        self._made += n
        return points * 2.0**-BITS

    def random_base2(self, m: int) -> np.ndarray:
        """The next ``2**m`` points."""
        return self.random(2**m)
