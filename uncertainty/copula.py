"""Rank-correlated assumptions through a Gaussian copula: every marginal is kept exactly.

A prior file states Spearman rank correlations (``[correlations]``, ``"a,b" = rho``). For a
Gaussian copula the normal scores' Pearson correlation that gives Spearman ``rho`` is
``r = 2 sin(pi rho / 6)``; the correlated normals ``z = L e`` (``L`` the Cholesky factor, ``e``
independent standard normals) become uniforms ``u = Phi(z)``, and each correlated assumption is
drawn as ``icdf(u)`` of its own family, so its marginal is unchanged whatever the correlation.

Example
-------
>>> c = build_copula(("a", "b"), {("a", "b"): 0.5}, where="test")
>>> c.names, round(c.cholesky[1][0], 4)   # 2 sin(pi 0.5 / 6)
(('a', 'b'), 0.5176)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from .errors import PriorError
from .families import open_unit
from .lazy import module

special = module("jax.scipy.special")

__all__ = [
    "Copula",
    "build_copula",
    "correlation_matrix",
    "nearest_correlation",
    "parse_correlations",
    "pearson_to_spearman",
    "scores_to_uniforms",
    "spearman_to_pearson",
]

class Copula(NamedTuple):
    """The correlated subset: names in prior order and the Cholesky factor as nested tuples
    (hashable, so a copula can be a static argument)."""

    names: tuple[str, ...]
    cholesky: tuple[tuple[float, ...], ...]


def spearman_to_pearson(rho):
    """Pearson correlation of a Gaussian copula's normal scores with Spearman correlation
    ``rho``."""
    return 2.0 * np.sin(np.pi * np.asarray(rho, np.float64) / 6.0)


def pearson_to_spearman(r):
    """Spearman correlation of a Gaussian copula whose normal scores have Pearson correlation ``r``
    (the inverse of :func:`spearman_to_pearson`)."""
    return 6.0 / np.pi * np.arcsin(np.asarray(r, np.float64) / 2.0)


def correlation_matrix(names: tuple[str, ...],
                       spearman: Mapping[tuple[str, str], float]) -> np.ndarray:
    """The normal-score (Pearson) correlation matrix over ``names``."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.eye(len(names))
    for (a, b), rho in spearman.items():
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = spearman_to_pearson(rho)
    return matrix


def build_copula(order: tuple[str, ...], spearman: Mapping[tuple[str, str], float],
                 where: str) -> Copula | None:
    """Cholesky factor of the copula over the correlated assumptions (``None`` when there are none).

    ``order`` fixes the order of the names (the priors' order). Raises PriorError when the
    matrix is not positive definite."""
    involved = {name for pair in spearman for name in pair}
    names = tuple(name for name in order if name in involved)
    if not names:
        return None
    matrix = correlation_matrix(names, spearman)
    try:
        cholesky = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        cholesky = None
    if cholesky is None or np.min(np.diag(cholesky)) < 1e-6:
        smallest = float(np.linalg.eigvalsh(matrix).min())
        raise PriorError(f"{where}: [correlations]: the correlation matrix over "
                         f"{', '.join(names)} is not positive definite (smallest eigenvalue "
                         f"{smallest:.3g}): these correlations cannot hold together; weaken them")
    return Copula(names, tuple(tuple(float(x) for x in row) for row in cholesky))


def scores_to_uniforms(normals):
    """Normal scores -> uniforms ``Phi(z)``, clipped inside (0, 1) exactly as the sampler clips
    them.

    Differentiable in ``z`` (zero slope only beyond the clip, ~5.3 sigma up), so a gradient-based
    sampler can work on the scores (see :mod:`uncertainty.inference.update`)."""
    return open_unit(special.ndtr(normals))


def parse_correlations(table, names: Mapping, uncertain: set[str], where: str) -> dict:
    """Validate a ``[correlations]`` table: ``"a,b" = rho`` -> ``{(a, b): rho}``.

    Each name must be an assumption (``names``) that is uncertain, ``|rho| <= 1``, and each pair
    appears once. An optional ``source`` string says where the correlations come from."""
    where = f"{where}: [correlations]"
    if not isinstance(table, Mapping):
        raise PriorError(f"{where}: must be a table of \"a,b\" = rho")
    pairs: dict[tuple[str, str], float] = {}
    for key, rho in table.items():
        if key in ("source", "note"):
            if not isinstance(rho, str) or not rho.strip():
                raise PriorError(f"{where}: '{key}' must be a non-empty string")
            continue
        parts = [part.strip() for part in key.split(",")]
        if len(parts) != 2 or not all(parts):
            raise PriorError(f"{where}: key '{key}' must name two assumptions as \"a,b\"")
        a, b = parts
        for name in parts:
            if name not in names:
                raise PriorError(f"{where}: '{key}': unknown assumption '{name}'")
            if name not in uncertain:
                raise PriorError(f"{where}: '{key}': '{name}' is fixed; only uncertain "
                                 "assumptions can be correlated")
        if a == b:
            raise PriorError(f"{where}: '{key}': an assumption cannot be correlated with itself")
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not math.isfinite(rho):
            raise PriorError(f"{where}: '{key}' must be a number, got {rho!r}")
        if abs(rho) > 1:
            raise PriorError(f"{where}: '{key}' = {rho}: a rank correlation must lie in [-1, 1]")
        pair = tuple(sorted((a, b), key=list(names).index))
        if pair in pairs:
            raise PriorError(f"{where}: '{key}': the pair {pair[0]}, {pair[1]} is given twice")
        pairs[pair] = float(rho)
    return pairs


def nearest_correlation(matrix, min_eigenvalue: float = 1e-3, iterations: int = 200) -> np.ndarray:
    """The nearest correlation matrix (unit diagonal) with eigenvalues >= ``min_eigenvalue``.

    Higham (2002), "Computing the nearest correlation matrix", alternating projections with
    Dykstra's correction, in the Frobenius norm; a positive definite ``matrix`` whose smallest
    eigenvalue is already >= ``min_eigenvalue`` comes back unchanged.

    >>> m = nearest_correlation([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]])
    >>> bool(np.linalg.eigvalsh(m).min() >= 1e-3 - 1e-9)
    True
    """
    y = np.array(matrix, np.float64)
    if np.linalg.eigvalsh(y).min() >= min_eigenvalue:
        return y
    correction = np.zeros_like(y)
    for _ in range(iterations):
        r = y - correction
        values, vectors = np.linalg.eigh(r)
        x = (vectors * np.maximum(values, min_eigenvalue)) @ vectors.T  # nearest with eig floor
        correction = x - r
        y = x.copy()
        np.fill_diagonal(y, 1.0)  # nearest with unit diagonal
        if np.linalg.eigvalsh(y).min() >= min_eigenvalue * (1 - 1e-6):
            break
    # A last floor-and-rescale guarantees the floor (up to rounding) if the loop stopped early.
    values, vectors = np.linalg.eigh(y)
    y = (vectors * np.maximum(values, min_eigenvalue)) @ vectors.T
    scale = 1.0 / np.sqrt(np.diag(y))
    return (y * scale[:, None]) * scale[None, :]
