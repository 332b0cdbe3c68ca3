"""Scrambled Sobol' points without scipy.stats: SciPy's own points, bit for bit."""

import warnings

import numpy as np
import pytest
from scipy.stats import qmc

from uncertainty import sobol_sequence
from uncertainty.sobol_sequence import ScrambledSobol


def scipy_points(d, seed, sizes):
    engine = qmc.Sobol(d, scramble=True, rng=np.random.default_rng(seed))
    with warnings.catch_warnings():  # sizes that are not powers of 2 lose balance: fine here
        warnings.simplefilter("ignore", UserWarning)
        return [engine.random(n) for n in sizes]


@pytest.mark.parametrize("d", [1, 2, 7, 30, 250])
@pytest.mark.parametrize("seed", [0, 12345])
def test_the_points_are_scipys_bit_for_bit_whole_and_in_parts(d, seed):
    sizes = [1, 3, 4, 120, 2048]  # the first point alone, odd sizes, then a long stretch
    ours = ScrambledSobol(d, np.random.default_rng(seed))
    for mine, theirs in zip([ours.random(n) for n in sizes], scipy_points(d, seed, sizes),
                            strict=True):
        assert mine.dtype == np.float64 and np.array_equal(mine, theirs)


def test_random_base2_and_the_generator_are_used_as_scipy_uses_them():
    rng = np.random.default_rng(3)
    points = ScrambledSobol(5, rng).random_base2(10)
    engine = qmc.Sobol(5, scramble=True, rng=np.random.default_rng(3))
    assert np.array_equal(points, engine.random_base2(10))
    # SciPy draws from a spawned child: the caller's generator is left where it was
    assert rng.integers(1 << 30) == np.random.default_rng(3).integers(1 << 30)


def test_unscrambled_directions_give_the_textbook_sequence():
    # Without the scramble, dimension 1 is van der Corput's sequence in Gray-code order and
    # dimension 2 follows the primitive polynomial x + 1 (Bratley and Fox's first two columns).
    poly, vinit = sobol_sequence._joe_kuo()
    v = sobol_sequence._directions(2, poly, vinit) / 2.0**sobol_sequence.BITS
    assert list(v[0, :4]) == [0.5, 0.25, 0.125, 0.0625]
    assert list(v[1, :3]) == [0.5, 0.75, 0.625]


def test_without_scipys_data_file_scipys_class_gives_the_same_points(monkeypatch):
    monkeypatch.setattr(sobol_sequence, "_joe_kuo", lambda: None)
    fallback = ScrambledSobol(4, np.random.default_rng(9))
    assert fallback._scipy is not None
    assert np.array_equal(fallback.random(64), scipy_points(4, 9, [64])[0])
