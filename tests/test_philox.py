"""Philox-4x32-10 against Random123's published known-answer vectors, and the bits it feeds."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from uncertainty.philox import philox4x32, random_fields
from uncertainty.sampling import GRID_HIGH, GRID_LOW, mc_uniforms

# Random123 (github.com/DEShawResearch/random123), tests/kat_vectors, the "philox4x32 10"
# lines: counter (4 words), key (2 words), expected output (4 words).
KNOWN_ANSWERS = [
    ([0x00000000] * 4, [0x00000000] * 2, [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KNOWN_ANSWERS)
def test_known_answer_vectors_eagerly_and_under_jit(counter, key, expected):
    words = [np.uint32(w) for w in counter], [np.uint32(w) for w in key]
    assert [int(w) for w in philox4x32(*words)] == expected
    jitted = jax.jit(lambda c, k: philox4x32(c, k))(*words)
    assert [int(w) for w in jitted] == expected


def test_known_answers_elementwise_in_one_array():
    counters = np.array([c for c, _, _ in KNOWN_ANSWERS], np.uint32).T  # (4, 3)
    # one key per column: the block function is elementwise in counter and key alike
    keys = np.array([k for _, k, _ in KNOWN_ANSWERS], np.uint32).T
    out = np.stack([np.asarray(w) for w in jax.jit(philox4x32)(tuple(counters), tuple(keys))])
    np.testing.assert_array_equal(out.T, np.array([e for _, _, e in KNOWN_ANSWERS], np.uint32))


def _reference_philox(counter, key, rounds=10):
    """Python integers, Random123's order: bump the key before every round but the first."""
    c, k = list(counter), list(key)
    for r in range(rounds):
        if r:
            k = [(k[0] + 0x9E3779B9) & 0xFFFFFFFF, (k[1] + 0xBB67AE85) & 0xFFFFFFFF]
        p0, p1 = c[0] * 0xD2511F53, c[2] * 0xCD9E8D57
        c = [(p1 >> 32) ^ c[1] ^ k[0], p1 & 0xFFFFFFFF, (p0 >> 32) ^ c[3] ^ k[1],
             p0 & 0xFFFFFFFF]
    return c


def test_random_fields_are_philox_of_counters_keyed_from_jax_random():
    key = jax.random.key(7)
    k0, k1 = (int(w) for w in jax.random.bits(key, (2,), jnp.uint32))

    def block(j, group):  # the block's four words as one little-endian 128-bit integer
        words = _reference_philox([j, group, 0, 0], [k0, k1])
        return sum(word << (32 * i) for i, word in enumerate(words))

    # entry j of row r: bits 23 (r % 5) .. 23 (r % 5) + 22 of block (j, r // 5, 0, 0)
    rows = np.stack([np.asarray(r) for r in random_fields(key, 12, 3)])
    expected = [[(block(j, r // 5) >> (23 * (r % 5))) & (2**23 - 1) for j in range(3)]
                for r in range(12)]
    np.testing.assert_array_equal(rows, expected)


def test_tracing_leaves_jax_32_bit():
    jax.jit(lambda k: random_fields(k, 2, 8)).lower(jax.random.key(0))
    assert not jax.config.jax_enable_x64
    assert jnp.arange(3).dtype == jnp.int32


def test_uniforms_are_uniform_on_the_grid():
    # ten rows: every field of a block (one crosses its halves), from two blocks
    u = np.stack([np.asarray(r, np.float64) for r in mc_uniforms(jax.random.key(1), 10, 1 << 15)])
    assert u.min() >= GRID_LOW and u.max() <= GRID_HIGH
    # mean and variance of 327,680 uniforms: 6 standard errors
    assert abs(u.mean() - 0.5) < 6 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 6 * np.sqrt(1 / 180 / u.size)
    # rows are independent streams: their correlation is within noise
    assert abs(np.corrcoef(u)[np.triu_indices(len(u), 1)]).max() < 6 / np.sqrt(u.shape[1])
    # all 23 bits are used: each of 256 cells of the top 8 bits, and of the low 8 bits, is hit
    # near 1/256 of the time
    k = np.round(u.ravel() * 2**23 - 0.5).astype(np.int64)
    expected = u.size / 256
    for cells in (k >> 15, k & 255):
        counts = np.bincount(cells, minlength=256)
        assert ((counts - expected) ** 2 / expected).sum() < 255 + 6 * np.sqrt(2 * 255)
