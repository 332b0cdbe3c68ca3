"""Keelin's metalog: a distribution fitted to quantiles, the way experts state beliefs.

"10% chance below 4, even odds on 6, 10% chance above 10" is three (probability, value) pairs.
The metalog's quantile function is linear in its coefficients (Keelin 2016, "The Metalog
Distributions", Decision Analysis 13(4)):

    M(y) = a1 + a2 L + a3 (y - 1/2) L + a4 (y - 1/2) + a5 (y - 1/2)^2 + a6 (y - 1/2)^2 L + ...

with ``L = ln(y / (1 - y))``, so ``k`` pairs give ``k`` coefficients by one linear solve (more
pairs than terms: least squares). Bounds transform the value before the fit: ``ln(x - lower)``
(log-metalog, semi-bounded) or ``ln((x - lower) / (upper - x))`` (logit-metalog, bounded), and
``M`` maps back. The quantile function is closed form, so it draws through the engine's one
``icdf`` path like every family. A set of quantiles is refused when ``M`` is not increasing on
(0, 1): the fit would not be a distribution.

Example
-------
>>> d = build_metalog([[0.1, 2.0], [0.5, 5.0], [0.9, 12.0]])
>>> [round(d.quantile(p), 4) for p in (0.1, 0.5, 0.9)]   # it gives back what it was given
[2.0, 5.0, 12.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..errors import PriorError
from ..lazy import jit, module
from .base import Family, number, register, require, unknown_key

jnp = module("jax.numpy")

__all__ = ["MAX_TERMS", "Metalog", "build_metalog", "metalog_basis"]

MAX_TERMS = 16
# Where monotonicity is checked: probabilities from 1e-7 to 1 - 1e-7 (the engine's draws reach
# about 6e-8), dense in logit space so both tails are covered as finely as the middle.
_CHECK_Y = 1.0 / (1.0 + np.exp(-np.linspace(-16.2, 16.2, 20001)))


def metalog_basis(y, terms: int, xp=np):
    """The ``terms`` basis functions of the metalog at probabilities ``y`` (last axis: term)."""
    y = xp.asarray(y)
    logit = xp.log(y) - xp.log1p(-y)
    return xp.stack([xp.ones_like(y), *_basis_columns(logit, y - 0.5, terms)], axis=-1)


def _basis_columns(logit, centred, terms: int) -> list:
    """Basis functions 2..``terms`` (the first is 1) from logit(y) and y - 1/2."""
    columns = [logit, centred * logit, centred]
    for j in range(5, terms + 1):
        power = (j - 1) // 2 if j % 2 else j // 2 - 1
        columns.append(centred**power if j % 2 else centred**power * logit)
    return columns[:terms - 1]


def _basis_slope(y, terms: int) -> np.ndarray:
    """d/dy of each basis function (NumPy, float64): for the monotonicity check and density."""
    y = np.asarray(y, np.float64)
    logit = np.log(y / (1 - y))
    dlogit = 1.0 / (y * (1 - y))
    c = y - 0.5
    columns = [np.zeros_like(y), dlogit, logit + c * dlogit, np.ones_like(y)]
    for j in range(5, terms + 1):
        power = (j - 1) // 2 if j % 2 else j // 2 - 1
        if j % 2:
            columns.append(power * c ** (power - 1))
        else:
            columns.append(power * c ** (power - 1) * logit + c**power * dlogit)
    return np.stack(columns[:terms], axis=-1)


@register
@dataclass(frozen=True)
class Metalog(Family):
    """A metalog through ``quantiles`` ((probability, value) pairs), ``terms`` terms (default:
    one per pair), bounded below by ``lower`` and above by ``upper`` when given."""

    name: ClassVar[str] = "metalog"
    density_by_inversion: ClassVar[bool] = True
    quantiles: tuple[tuple[float, float], ...]
    lower: float | None = None
    upper: float | None = None
    terms: int | None = None
    coefficients: tuple[float, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self):
        if not self.coefficients and len(self.quantiles) >= 2:
            object.__setattr__(self, "coefficients", tuple(self._fit()))

    # --- fit ------------------------------------------------------------------------------
    @property
    def k(self) -> int:
        return self.terms or len(self.quantiles)

    def _to_unbounded(self, x):
        x = np.asarray(x, np.float64)
        if self.lower is None:
            return x
        if self.upper is None:
            return np.log(x - self.lower)
        return np.log((x - self.lower) / (self.upper - x))

    def _fit(self) -> np.ndarray:
        p, x = np.asarray(self.quantiles, np.float64).T
        coefficients, *_ = np.linalg.lstsq(metalog_basis(p, self.k), self._to_unbounded(x),
                                           rcond=None)
        return coefficients

    @classmethod
    def from_spec(cls, spec: dict, where: str) -> Metalog:
        unknown_key(spec, ("quantiles", "lower", "upper", "terms"), cls.name, where)
        require("quantiles" in spec, where,
                "metalog needs 'quantiles' = [[p, value], ...] (three or more pairs)")
        pairs = spec["quantiles"]
        require(isinstance(pairs, list) and all(isinstance(q, list) and len(q) == 2
                                                for q in pairs), where,
                "'quantiles' must be a list of [probability, value] pairs")
        quantiles = tuple((number(p, where, "quantiles"), number(v, where, "quantiles"))
                          for p, v in pairs)
        lower = number(spec["lower"], where, "lower") if "lower" in spec else None
        upper = number(spec["upper"], where, "upper") if "upper" in spec else None
        terms = spec.get("terms")
        if terms is not None:
            require(isinstance(terms, int) and not isinstance(terms, bool), where,
                    f"'terms' must be a whole number, got {terms!r}")
        cls.check_quantiles(quantiles, lower, upper, terms, where)
        dist = cls(quantiles, lower, upper, terms)
        dist.check(where)
        return dist

    @staticmethod
    def check_quantiles(quantiles, lower, upper, terms, where: str) -> None:
        """The rules a set of quantiles must follow before a fit (one line per broken rule)."""
        require(len(quantiles) >= 3, where,
                f"metalog needs at least 3 [probability, value] pairs, got {len(quantiles)}")
        probs = [p for p, _ in quantiles]
        values = [v for _, v in quantiles]
        require(all(0 < p < 1 for p in probs), where,
                "metalog probabilities must lie strictly between 0 and 1")
        require(all(a < b for a, b in zip(probs, probs[1:], strict=False)), where,
                "metalog probabilities must increase from pair to pair")
        require(all(a < b for a, b in zip(values, values[1:], strict=False)), where,
                "metalog values must increase with their probabilities")
        require(upper is None or lower is not None, where,
                "'upper' goes with 'lower' (a bounded metalog needs both)")
        if lower is not None:
            require(values[0] > lower, where, f"every value must lie above lower = {lower:g}")
        if upper is not None:
            require(lower < upper, where, f"lower {lower:g} must be below upper {upper:g}")
            require(values[-1] < upper, where, f"every value must lie below upper = {upper:g}")
        if terms is not None:
            require(2 <= terms <= min(len(quantiles), MAX_TERMS), where,
                    f"'terms' must be from 2 to the number of pairs ({len(quantiles)}, "
                    f"at most {MAX_TERMS}), got {terms}")
        require(len(quantiles) <= MAX_TERMS or terms is not None, where,
                f"give at most {MAX_TERMS} pairs, or fewer 'terms' for a least-squares fit")

    def check(self, where: str) -> None:
        slope = _basis_slope(_CHECK_Y, self.k) @ np.asarray(self.coefficients)
        if not np.all(slope > 0):
            fixes = ("give fewer terms ('terms'), " if self.k > 3 else "") + (
                "add bounds (lower, upper) or move the middle value toward the middle of its "
                "neighbours")
            raise PriorError(f"{where}: these quantiles give no valid metalog (its quantile "
                             f"function would decrease somewhere in (0, 1)): {fixes}")

    # --- the contract ---------------------------------------------------------------------
    def icdf_plan(self):
        coefficients = np.asarray(self.coefficients, np.float32)
        if self.lower is None:
            return _metalog_icdf, (coefficients,)
        if self.upper is None:
            return _log_metalog_icdf, (coefficients, self.lower)
        return _logit_metalog_icdf, (coefficients, self.lower, self.upper - self.lower)

    def ppf(self, q):
        m = metalog_basis(np.asarray(q, np.float64), self.k) @ np.asarray(self.coefficients)
        width = None if self.upper is None else self.upper - self.lower
        return _from_unbounded(m, self.lower, width)

    def _y_of(self, x) -> np.ndarray:
        """The probability at which the quantile function reaches ``x`` (bisection in logit
        space, float64: 60 halvings reach the resolution of float64 probabilities)."""
        target = self._to_unbounded(np.asarray(x, np.float64))
        coefficients = np.asarray(self.coefficients)
        lo, hi = np.full(target.shape, -40.0), np.full(target.shape, 40.0)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            below = metalog_basis(1 / (1 + np.exp(-mid)), self.k) @ coefficients < target
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 1 / (1 + np.exp(-0.5 * (lo + hi)))

    def cdf(self, x) -> np.ndarray:
        x = np.asarray(x, np.float64)
        low, high = self.support
        with np.errstate(invalid="ignore", divide="ignore"):
            inside = self._y_of(np.clip(x, np.nextafter(low, np.inf), np.nextafter(high, -np.inf)))
        return np.where(x <= low, 0.0, np.where(x >= high, 1.0, inside))

    def log_prob(self, x):
        """log density: ``-log dx/dy`` at the probability where the quantile function reaches
        ``x``, found by bisection (host-side, NumPy; no gradient through it, so the update
        samples a metalog assumption through its normal score instead)."""
        x = np.asarray(x, np.float64)
        low, high = self.support
        inside = (x > low) & (x < high)
        y = self._y_of(np.where(inside, x, 0.5 * (low + high) if math.isfinite(low + high)
                                else (low + 1.0 if math.isfinite(low) else 0.0)))
        m = metalog_basis(y, self.k) @ np.asarray(self.coefficients)
        dm = _basis_slope(y, self.k) @ np.asarray(self.coefficients)
        if self.lower is None:
            dx = dm
        elif self.upper is None:
            dx = np.exp(m) * dm
        else:
            s = 1 / (1 + np.exp(-m))
            dx = (self.upper - self.lower) * s * (1 - s) * dm
        return jnp.asarray(np.where(inside, -np.log(dx), -np.inf), jnp.float32)

    @property
    def strictly_positive(self) -> bool:  # a bounded metalog never reaches its lower bound
        return self.lower is not None and self.lower >= 0

    @property
    def support(self):
        low = -math.inf if self.lower is None else self.lower
        high = math.inf if self.upper is None else self.upper
        return (low, high)

    def params(self) -> dict:
        params = {"quantiles": [list(q) for q in self.quantiles]}
        params.update({k: v for k, v in (("lower", self.lower), ("upper", self.upper),
                                          ("terms", self.terms)) if v is not None})
        return params

    def describe(self) -> str:
        pairs = ", ".join(f"{p:g}: {v:.4g}" for p, v in self.quantiles)
        bounds = "" if self.lower is None else (
            f", lower={self.lower:g}" + ("" if self.upper is None else f", upper={self.upper:g}"))
        return f"metalog({pairs}{bounds}{'' if self.terms is None else f', {self.terms} terms'})"


# The quantile functions of the three forms: the number of terms is the coefficients' length
# (a shape, so static), the coefficients and bounds are traced.
@jit
def _metalog_icdf(u, coefficients):
    # A sum of products, not basis @ coefficients: XLA fuses it into the draw's loop, where the
    # matrix product was a call of its own over a materialised (n, terms) basis; and logit(u)
    # as one logarithm of u / (1 - u), not two. Two metalogs and two lognormals drew at 0.63x
    # the rate of four lognormals; now 0.96x.
    u = jnp.asarray(u, jnp.float32)
    columns = _basis_columns(jnp.log(u / (1 - u)), u - 0.5, coefficients.shape[0])
    total = coefficients[0] + sum(coefficients[j] * c for j, c in enumerate(columns, 1))
    return total.astype(jnp.float32)


@jit
def _log_metalog_icdf(u, coefficients, lower):
    return _from_unbounded(_metalog_icdf(u, coefficients), lower, None, jnp).astype(jnp.float32)


@jit
def _logit_metalog_icdf(u, coefficients, lower, width):
    m = _metalog_icdf(u, coefficients)
    return _from_unbounded(m, lower, width, jnp).astype(jnp.float32)


def _from_unbounded(m, lower, width, xp=np):
    """The metalog's value back on its bounds: ``m`` itself (no bounds), ``lower + e^m``
    (log-metalog) or ``lower + width * logistic(m)`` (logit-metalog); NumPy for the exact
    quantile (ppf), jax.numpy for the sampler's."""
    if lower is None:
        return m
    if width is None:
        return lower + xp.exp(m)
    return lower + width / (1.0 + xp.exp(-m))


def build_metalog(quantiles, lower=None, upper=None, terms=None, where: str = "metalog"):
    """A validated metalog from ``[[p, value], ...]``: the prior-file form, from Python."""
    spec = {"dist": "metalog", "quantiles": [list(q) for q in quantiles]}
    spec.update({k: v for k, v in (("lower", lower), ("upper", upper), ("terms", terms))
                 if v is not None})
    return Metalog.from_spec(spec, where)
