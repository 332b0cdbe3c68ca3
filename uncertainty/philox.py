"""Philox-4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3",
SC 2011), exactly as Random123 defines it, in ``jax.numpy``: the bit generator of every Monte
Carlo draw.

Why not ``jax.random.bits``: JAX's Threefry-2x32 (20 rounds of 32-bit adds, rotations and
xors per two words) was the most expensive part of a draw on a CPU, ~13 ns per 32-bit word on
XLA:CPU against NumPy's PCG64 at ~2. Philox needs ten rounds of two 32x32 -> 64-bit multiplies
per *four* words: about 1.2 ns per word inside a streamed step here. A uniform needs 23 bits
(:func:`uncertainty.sampling.mc_uniforms`), so each block's 128 bits give five of them, not
four: the 15 rows of 131,072 uniforms the article priors need take three passes of the block
function instead of four (1.9 CPU-ms per step instead of 2.4). Keys still come from
``jax.random`` (a chunk's key is ``fold_in(key, chunk)``), so the same seed gives the same
draws on any number of devices; only the bits made from a key are Philox's.

Known-answer vectors (Random123, ``tests/kat_vectors``; counter, key -> output):

>>> import numpy as np
>>> words = philox4x32([np.uint32(0)] * 4, (np.uint32(0), np.uint32(0)))
>>> [f"{int(w):08x}" for w in words]
['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["FIELD_BITS", "ROUNDS", "philox4x32", "random_fields"]

ROUNDS = 10
FIELD_BITS = 23  # a float32 uniform's mantissa
FIELDS_PER_BLOCK = 128 // FIELD_BITS  # five, and 13 bits of each block unused
_MULTIPLIERS = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))
_WEYL = (np.uint64(0x9E3779B9), np.uint64(0xBB67AE85))  # the key's bump after each round
_LOW = np.uint64(0xFFFFFFFF)
_HIGH = np.uint64(32)


def philox4x32(counter, key, rounds: int = ROUNDS) -> tuple:
    """The Philox-4x32 block function: four uint32 counter words (arrays of one shape) and two
    key words -> four uint32 output words (Random123's ``philox4x32_R``).

    Each round needs the high and low halves of two 32x32-bit products. JAX without 64-bit mode
    has no 64-bit integers (and splitting into 16-bit halves costs four multiplies per product),
    so 64-bit types are switched on for this function alone: a scoped, thread-local setting at
    trace time, so the caller's program and JAX's global configuration stay 32-bit."""
    with jax.enable_x64(True):
        return tuple(word.astype(jnp.uint32) for word in _rounds(counter, key, rounds))


def _rounds(counter, key, rounds: int = ROUNDS) -> tuple:
    """The block function on 64-bit lanes (top halves zero) from the first round to the last:
    converting between 32- and 64-bit lanes in each round cost XLA:CPU as much as the rounds.
    Call with 64-bit types on."""
    c0, c1, c2, c3 = (jnp.asarray(word, jnp.uint32).astype(jnp.uint64) for word in counter)
    k0, k1 = (jnp.asarray(word, jnp.uint32).astype(jnp.uint64) for word in key)
    for round_ in range(rounds):
        if round_:
            k0, k1 = (k0 + _WEYL[0]) & _LOW, (k1 + _WEYL[1]) & _LOW
        p0, p1 = c0 * _MULTIPLIERS[0], c2 * _MULTIPLIERS[1]  # exact: both factors < 2^32
        c0, c1, c2, c3 = (p1 >> _HIGH) ^ c1 ^ k0, p1 & _LOW, (p0 >> _HIGH) ^ c3 ^ k1, p0 & _LOW
    return c0, c1, c2, c3


def random_fields(key: jax.Array, rows: int, size: int) -> list[jax.Array]:
    """``rows`` rows of ``size`` random 23-bit integers (uint32) from a ``jax.random`` key:
    Philox-4x32-10 keyed by two words drawn from ``key``. Entry ``j`` of row ``r`` is field
    ``r mod 5`` of the 128-bit output of the block with counter ``(j, r div 5, 0, 0)``: its
    four words read as one little-endian integer ``V``, field ``i`` is bits ``23 i`` to
    ``23 i + 22`` of ``V``. Each group of five rows is one pass of the block function over
    ``size`` counters.

    >>> a = random_fields(jax.random.key(0), 7, 3)
    >>> b = random_fields(jax.random.key(0), 2, 3)
    >>> len(a), a[0].dtype, a[0].shape, all(bool((x == y).all()) for x, y in zip(a, b))
    (7, dtype('uint32'), (3,), True)
    >>> max(int(row.max()) for row in a) < 2**23
    True
    """
    k0, k1 = jax.random.bits(key, (2,), jnp.uint32)
    j = jnp.arange(size, dtype=jnp.uint32)
    zero = jnp.zeros_like(j)
    fields = []
    with jax.enable_x64(True):
        for group in range(-(-rows // FIELDS_PER_BLOCK)):
            c0, c1, c2, c3 = _rounds((j, jnp.full_like(j, group), zero, zero), (k0, k1))
            # XLA computes each array it materialises element by element, so every field cut
            # from the words would repeat the ten rounds. Packed two to a 64-bit word (V's low
            # and high halves), the rounds run twice per block instead of once per field; the
            # barrier keeps the halves whole (unfused into each field).
            halves = jax.lax.optimization_barrier((c0 | (c1 << _HIGH), c2 | (c3 << _HIGH)))
            fields += [_field(*halves, i).astype(jnp.uint32) for i in range(FIELDS_PER_BLOCK)]
    return fields[:rows]


_MASK = np.uint64((1 << FIELD_BITS) - 1)


def _field(low, high, i: int):
    """Bits ``23 i`` to ``23 i + 22`` of the 128-bit ``high:low`` (64-bit lanes)."""
    first = FIELD_BITS * i
    if first + FIELD_BITS <= 64:
        return (low >> np.uint64(first)) & _MASK
    if first >= 64:
        return (high >> np.uint64(first - 64)) & _MASK
    return ((low >> np.uint64(first)) | (high << np.uint64(64 - first))) & _MASK
