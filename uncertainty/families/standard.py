"""The standard families: fixed, lognormal, normal, beta, uniform, loguniform, triangular, PERT
and discrete.

Beta and PERT quantiles come from a cached table (a cubic Hermite spline in logit-logit
coordinates), ~30x faster than bisection at the same accuracy; their samplers are exact
(Marsaglia & Tsang gammas).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import ClassVar

import numpy as np
from scipy import special as scipy_special

from ..lazy import jit, module
from .base import Family, register, require, uniform01, z_of_level

jax = module("jax")
jnp = module("jax.numpy")
special = module("jax.scipy.special")
stats = module("jax.scipy.stats")

__all__ = ["Beta", "Discrete", "Fixed", "LogNormal", "LogUniform", "Normal", "Pert", "Triangular",
           "Uniform"]


@register
@dataclass(frozen=True)
class Fixed(Family):
    name: ClassVar[str] = "fixed"
    value: float

    def icdf_plan(self):
        return _fixed_icdf, (self.value,)

    def ppf(self, q):
        return np.full(np.shape(q), self.value, np.float64)

    def log_prob(self, x):
        return jnp.where(x == self.value, 0.0, -jnp.inf)

    def cdf(self, x):
        return (np.asarray(x, np.float64) >= self.value).astype(np.float64)

    @property
    def support(self):
        return (self.value, self.value)


# The quantile functions of the families' icdf plans (see Family.icdf_plan): jitted with the
# parameters traced, so every prior of a family shares one compilation (ndtri, in the normal
# ones, is a large piecewise polynomial that is slow to compile).
@jit
def _fixed_icdf(u, value):
    return jnp.full(jnp.shape(u), value, jnp.float32)


@jit
def _affine_icdf(u, low, width):
    return low + width * u


@jit
def _log_affine_icdf(u, log_low, log_width):
    return jnp.exp(log_low + log_width * u)


def _triangular_quantile(u, low, high, width, c, one_minus_c, xp=np):
    # On the unit interval and scaled back: width * (mode - low) overflows float32 for values
    # like 1e21 FLOPs. NumPy for the exact quantile (ppf), jax.numpy for the sampler's.
    left = low + width * xp.sqrt(u * c)
    right = high - width * xp.sqrt((1 - u) * one_minus_c)
    return xp.where(u < c, left, right)


@jit
def _triangular_icdf(u, low, high, width, c, one_minus_c):
    return _triangular_quantile(u, low, high, width, c, one_minus_c, jnp)


@jit
def _discrete_icdf(u, values, cumulative):
    # A few values (the usual case): count the cut points below u in one vectorised pass; the
    # default binary search is a loop that XLA:CPU runs draw by draw.
    method = "compare_all" if cumulative.shape[0] <= 64 else "scan_unrolled"
    return values[jnp.searchsorted(cumulative, u, method=method)]


# The standard normal quantile, read from a table of SciPy's float64 ndtri at every float32 u
# in [2^-126, 0.5] whose low 14 mantissa bits are zero: 512 knots per binade, so the cells are
# relatively as fine deep in the tail as in the middle. A draw's cell is the float32 bits of
# min(u, 1 - u) shifted right (1 - u is exact for u >= 0.5): no search, two gathers and a
# multiply-add, against ndtri's three rational approximations, a log and a square root for
# every u. Linear interpolation within a cell of relative width 2^-9 is within float32
# rounding of ndtri: tests check |z - ndtri(u)| <= 4e-7 (1 + |z|) on the sampler's grid.
_NORMAL_SHIFT = 14
_NORMAL_FIRST = int(np.float32(np.finfo(np.float32).tiny).view(np.uint32)) >> _NORMAL_SHIFT
_TINY = float(np.finfo(np.float32).tiny)


@cache
def normal_quantile_table() -> tuple:
    """``(z, rise)`` per cell (the quantile at its start, and the rise to the next), on the
    device once: every normal and lognormal prior passes the same two arrays to its program.

    Put on the device at once even when first asked for inside a traced function (a jitted
    draw of a lognormal): cached there as a tracer, it would leak into every later program."""
    last = int(np.float32(0.5).view(np.uint32)) >> _NORMAL_SHIFT
    bits = np.arange(_NORMAL_FIRST, last + 2, dtype=np.uint32) << _NORMAL_SHIFT
    knots = bits.view(np.float32).astype(np.float64)  # the last cell starts at 0.5 exactly
    z = scipy_special.ndtri(knots)
    with jax.ensure_compile_time_eval():
        return jax.device_put((z[:-1].astype(np.float32), np.diff(z).astype(np.float32)))


def _table_normal_quantile(u, z_table, rise_table):
    u = jnp.asarray(u, jnp.float32)
    bits = jax.lax.bitcast_convert_type(jnp.maximum(jnp.minimum(u, 1 - u), _TINY), jnp.uint32)
    cell = jnp.minimum((bits >> _NORMAL_SHIFT).astype(jnp.int32) - _NORMAL_FIRST,
                       z_table.shape[0] - 1)
    # u is linear in its mantissa within a binade: the low 14 bits are the position in the cell
    # (exact, and never a subnormal difference deep in the tail)
    fraction = (bits & ((1 << _NORMAL_SHIFT) - 1)).astype(jnp.float32) * 2.0**-_NORMAL_SHIFT
    z = z_table[cell] + fraction * rise_table[cell]
    z = jnp.where(u > 0.5, -z, z)
    return jnp.where(u <= 0, -jnp.inf, jnp.where(u >= 1, jnp.inf,
                                                  jnp.where(jnp.isnan(u), jnp.nan, z)))


def _table_normal_quantile_jvp(primals, tangents):
    # The exact derivative, 1 / phi(z): the table's cells and bit arithmetic have none (NUTS
    # differentiates the quantile when it samples correlated priors' normal scores).
    z = _standard_normal_quantile(*primals)
    return z, tangents[0] * math.sqrt(2 * math.pi) * jnp.exp(0.5 * z * z)


@cache
def _normal_quantile_with_derivative():
    """The table quantile with its exact derivative (``jax.custom_jvp``, made at first use)."""
    quantile = jax.custom_jvp(_table_normal_quantile)
    quantile.defjvp(_table_normal_quantile_jvp)
    return quantile


def _standard_normal_quantile(u, z_table, rise_table):
    return _normal_quantile_with_derivative()(u, z_table, rise_table)


@jit
def _normal_icdf(u, mean, sd, z_table, rise_table):
    return mean + sd * _standard_normal_quantile(u, z_table, rise_table)


@jit
def _lognormal_icdf(u, log_median, sigma, z_table, rise_table):
    return jnp.exp(log_median + sigma * _standard_normal_quantile(u, z_table, rise_table))


@register
@dataclass(frozen=True)
class LogNormal(Family):
    name: ClassVar[str] = "lognormal"
    interval_form: ClassVar[bool] = True
    median: float
    sigma: float

    @classmethod
    def fit_ci(cls, low, high, level, where):
        require(low > 0, where, f"lognormal needs positive bounds, got ci = [{low}, {high}]")
        return cls(median=math.sqrt(low * high),
                   sigma=math.log(high / low) / (2 * z_of_level(level)))

    def check(self, where):
        require(self.median > 0, where, f"lognormal median must be > 0, got {self.median}")
        require(self.sigma > 0, where, f"lognormal sigma must be > 0, got {self.sigma}")

    def icdf_plan(self):
        return _lognormal_icdf, (math.log(self.median), self.sigma, *normal_quantile_table())

    def ppf(self, q):
        return np.exp(math.log(self.median) + self.sigma * scipy_special.ndtri(q))

    def log_prob(self, x):
        z = (jnp.log(x) - math.log(self.median)) / self.sigma
        return stats.norm.logpdf(z) - jnp.log(self.sigma * x)

    def cdf(self, x):
        x = np.asarray(x, np.float64)
        with np.errstate(divide="ignore"):
            return scipy_special.ndtr((np.log(x) - math.log(self.median)) / self.sigma)

    @property
    def support(self):
        return (0.0, math.inf)

    strictly_positive = True


@register
@dataclass(frozen=True)
class Normal(Family):
    name: ClassVar[str] = "normal"
    interval_form: ClassVar[bool] = True
    mean: float
    sd: float

    @classmethod
    def fit_ci(cls, low, high, level, where):
        return cls(mean=(low + high) / 2, sd=(high - low) / (2 * z_of_level(level)))

    def check(self, where):
        require(self.sd > 0, where, f"normal sd must be > 0, got {self.sd}")

    def icdf_plan(self):
        return _normal_icdf, (self.mean, self.sd, *normal_quantile_table())

    def ppf(self, q):
        return self.mean + self.sd * scipy_special.ndtri(q)

    def log_prob(self, x):
        return stats.norm.logpdf(x, self.mean, self.sd)

    def cdf(self, x):
        return scipy_special.ndtr((np.asarray(x, np.float64) - self.mean) / self.sd)

    @property
    def support(self):
        return (-math.inf, math.inf)


@jit(static_argnames=("iterations",))
def _beta_icdf(u, a, b, iterations: int = 40):
    """Quantile of Beta(a, b) by bisection on the regularised incomplete beta function.

    JAX has no ``betaincinv``; 40 halvings reach float32 resolution on (0, 1)."""
    u = jnp.asarray(u, jnp.float32)

    def halve(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        below = special.betainc(a, b, mid) < u
        return jnp.where(below, mid, lo), jnp.where(below, hi, mid)

    lo, hi = jax.lax.fori_loop(0, iterations, halve, (jnp.zeros_like(u), jnp.ones_like(u)))
    return 0.5 * (lo + hi)


# The beta and PERT quantile function is read from a table of its exact values (SciPy's
# betaincinv in float64) at u = k / BETA_TABLE_CELLS, by linear interpolation: the cell is
# floor(u * cells), no search, two gathers and one multiply-add per draw. The error bound: the
# interpolation is monotone and exact at every knot, so the sampled distribution puts exactly
# the right probability (1 / cells) between consecutive knots; its CDF is within 1 / cells
# (1.2e-4) of the exact CDF everywhere, and a quantile is off by at most the rise of its cell.
# Away from the extreme cells the error is far smaller (h^2 / 8 |Q''|, under 2e-5 in CDF for
# u in [0.001, 0.999] for the shapes PERT makes). Tests check both.
BETA_TABLE_CELLS = 8192


@lru_cache(maxsize=256)
def beta_quantile_table(a: float, b: float) -> np.ndarray | None:
    """Quantiles of Beta(a, b) at ``k / BETA_TABLE_CELLS``, ``k = 0 .. cells``, as float32.

    None when SciPy cannot invert the CDF for such parameters (the bisection is used then).

    >>> table = beta_quantile_table(2.0, 2.0)
    >>> len(table), float(table[0]), float(table[BETA_TABLE_CELLS // 2]), float(table[-1])
    (8193, 0.0, 0.5, 1.0)
    """
    values = scipy_special.betaincinv(a, b, np.linspace(0.0, 1.0, BETA_TABLE_CELLS + 1))
    if not (np.all(np.isfinite(values)) and np.all(np.diff(values) >= 0)):
        return None
    return values.astype(np.float32)


def _beta_plan(a: float, b: float, low: float = 0.0, width: float = 1.0) -> tuple:
    """The icdf plan of ``low + width * Beta(a, b)``: the table (traced data: one compiled
    program serves every beta and PERT prior), or the bisection for parameters SciPy cannot
    tabulate."""
    table = beta_quantile_table(float(a), float(b))
    if table is None:
        return _scaled_beta_icdf, (low, width, a, b)
    return _table_icdf, (low, width, table)


@jit
def _scaled_beta_icdf(u, low, width, a, b):
    return low + width * _beta_icdf(u, a, b)


@jit
def _table_icdf(u, low, width, table):
    position = jnp.asarray(u, jnp.float32) * (table.shape[0] - 1)
    cell = jnp.clip(position.astype(jnp.int32), 0, table.shape[0] - 2)
    start = table[cell]
    return low + width * (start + (position - cell) * (table[cell + 1] - start))


def _standard_gamma(key, shape_param, shape):
    """Exact Gamma(shape_param, 1) draws by Marsaglia & Tsang (2000), vectorised.

    Every draw gets a candidate each round; a ``while_loop`` redraws only until every draw has
    been accepted (>= 95% are, each round, for shape >= 1), so the sampler stays exact. For
    shape < 1 it uses Gamma(a) = Gamma(a + 1) * U^(1/a)."""
    boosted = shape_param < 1
    a = jnp.where(boosted, shape_param + 1.0, shape_param)
    d = a - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * d)
    key, boost_key, first_key = jax.random.split(key, 3)

    def candidate(round_key):
        normal_key, uniform_key = jax.random.split(round_key)
        x = jax.random.normal(normal_key, shape)
        v = (1.0 + c * x) ** 3
        log_u = jnp.log(uniform01(uniform_key, shape))
        ok = (v > 0) & (log_u < 0.5 * x * x + d - d * v + d * jnp.log(jnp.maximum(v, 1e-30)))
        return d * v, ok

    def another_round(state):
        value, accepted, round_key = state
        round_key, this_key = jax.random.split(round_key)
        new_value, ok = candidate(this_key)
        return jnp.where(~accepted & ok, new_value, value), accepted | ok, round_key

    value, accepted = candidate(first_key)
    value, _, _ = jax.lax.while_loop(lambda state: ~jnp.all(state[1]), another_round,
                                     (value, accepted, key))
    boost = uniform01(boost_key, shape) ** (1.0 / shape_param)
    return jnp.where(boosted, value * boost, value)


@jit(static_argnums=(3,))
def _beta_sample(key, a, b, shape):
    """Beta(a, b) as X / (X + Y) of two gammas: ~7x faster than ``jax.random.beta`` on CPU.

    Jitted with the shape parameters traced, so every beta-like prior shares one compilation."""
    key_a, key_b = jax.random.split(key)
    x = _standard_gamma(key_a, a, shape)
    y = _standard_gamma(key_b, b, shape)
    return x / (x + y)


def _beta_log_density(x, a: float, b: float):
    """log Beta(a, b) density at x, as ``jax.scipy.stats.beta.logpdf``.

    The normaliser is computed once in Python: traced, jax's ``betaln`` of constant arguments
    adds ~600 operations to every compiled program that evaluates the density (a NUTS
    gradient, for one), which makes XLA compile several times slower."""
    log_norm = float(scipy_special.betaln(a, b))
    body = special.xlogy(a - 1.0, x) + special.xlog1py(b - 1.0, -x) - log_norm
    return jnp.where((x >= 0) & (x <= 1), body, -jnp.inf)


@register
@dataclass(frozen=True)
class Beta(Family):
    name: ClassVar[str] = "beta"
    interval_form: ClassVar[bool] = True
    alpha: float
    beta: float

    @classmethod
    def fit_ci(cls, low, high, level, where):
        require(0 < low < high < 1, where,
                 f"beta needs 0 < low < high < 1, got ci = [{low}, {high}]")
        tail = (1 - level) / 2

        def mismatch(log_ab):
            a, b = np.exp(log_ab)
            return [scipy_special.betaincinv(a, b, tail) - low,
                    scipy_special.betaincinv(a, b, 1 - tail) - high]

        # Start from the moment match of a normal with the same interval.
        mean, sd = (low + high) / 2, (high - low) / (2 * z_of_level(level))
        k = max(mean * (1 - mean) / sd**2 - 1, 0.5)
        from scipy import optimize  # only to fit a beta to an interval: not at import

        fit = optimize.root(mismatch, np.log([mean * k, (1 - mean) * k]))
        a, b = np.exp(fit.x)
        require(fit.success and np.allclose(mismatch(fit.x), 0, atol=1e-6), where,
                 f"no beta distribution has ci = [{low}, {high}] at level {level}")
        return cls(alpha=float(a), beta=float(b))

    def check(self, where):
        require(self.alpha > 0 and self.beta > 0, where,
                 f"beta alpha and beta must be > 0, got {self.alpha}, {self.beta}")

    def icdf_plan(self):
        return _beta_plan(self.alpha, self.beta)

    def ppf(self, q):
        return scipy_special.betaincinv(self.alpha, self.beta, q)

    def sample(self, key, shape=()):
        return _beta_sample(key, self.alpha, self.beta, shape)

    def log_prob(self, x):
        return _beta_log_density(x, self.alpha, self.beta)

    def cdf(self, x):
        x = np.clip(np.asarray(x, np.float64), 0, 1)
        return scipy_special.betainc(self.alpha, self.beta, x)

    @property
    def support(self):
        return (0.0, 1.0)

    strictly_positive = True


@register
@dataclass(frozen=True)
class Uniform(Family):
    name: ClassVar[str] = "uniform"
    low: float
    high: float

    @classmethod
    def fit_ci(cls, low, high, level, where):
        half = (high - low) / level / 2
        centre = (low + high) / 2
        return cls(low=centre - half, high=centre + half)

    def check(self, where):
        require(self.low < self.high, where,
                 f"interval out of order: low {self.low} must be < high {self.high}")

    def icdf_plan(self):
        return _affine_icdf, (self.low, self.high - self.low)

    def ppf(self, q):
        return self.low + (self.high - self.low) * np.asarray(q, np.float64)

    def log_prob(self, x):
        inside = (x >= self.low) & (x <= self.high)
        return jnp.where(inside, -math.log(self.high - self.low), -jnp.inf)

    def cdf(self, x):
        return np.clip((np.asarray(x, np.float64) - self.low) / (self.high - self.low), 0, 1)

    @property
    def support(self):
        return (self.low, self.high)


@register
@dataclass(frozen=True)
class LogUniform(Family):
    name: ClassVar[str] = "loguniform"
    low: float
    high: float

    @classmethod
    def fit_ci(cls, low, high, level, where):
        require(low > 0, where, f"loguniform needs positive bounds, got ci = [{low}, {high}]")
        inner = Uniform.fit_ci(math.log(low), math.log(high), level, where)
        return cls(low=math.exp(inner.low), high=math.exp(inner.high))

    def check(self, where):
        require(self.low > 0, where, f"loguniform needs positive bounds, got low = {self.low}")
        require(self.low < self.high, where,
                 f"interval out of order: low {self.low} must be < high {self.high}")

    def icdf_plan(self):
        return _log_affine_icdf, (math.log(self.low), math.log(self.high / self.low))

    def ppf(self, q):
        return self.low * (self.high / self.low) ** np.asarray(q, np.float64)

    def log_prob(self, x):
        inside = (x >= self.low) & (x <= self.high)
        return jnp.where(inside, -jnp.log(x) - math.log(math.log(self.high / self.low)), -jnp.inf)

    def cdf(self, x):
        x = np.maximum(np.asarray(x, np.float64), self.low)
        return np.clip(np.log(x / self.low) / math.log(self.high / self.low), 0, 1)

    @property
    def support(self):
        return (self.low, self.high)


def _check_three_point(d, where):
    require(d.low <= d.mode <= d.high and d.low < d.high, where,
             f"interval out of order: need low <= mode <= high and low < high, "
             f"got {d.low}, {d.mode}, {d.high}")


@register
@dataclass(frozen=True)
class Triangular(Family):
    name: ClassVar[str] = "triangular"
    low: float
    mode: float
    high: float

    def check(self, where):
        _check_three_point(self, where)

    def icdf_plan(self):
        return _triangular_icdf, self._shape()

    def ppf(self, q):
        return _triangular_quantile(np.asarray(q, np.float64), *self._shape())

    def _shape(self) -> tuple:
        """(low, high, width, c, 1 - c): the mode's place c on the unit interval."""
        width = self.high - self.low
        c = (self.mode - self.low) / width
        return self.low, self.high, width, c, 1 - c

    def log_prob(self, x):
        width = self.high - self.low
        c = (self.mode - self.low) / width
        z = (x - self.low) / width
        density = jnp.where(z < c, 2 * z / max(c, 1e-300), 2 * (1 - z) / max(1 - c, 1e-300))
        inside = (z >= 0) & (z <= 1)
        return jnp.where(inside, jnp.log(density) - math.log(width), -jnp.inf)

    def cdf(self, x):
        width = self.high - self.low
        c = (self.mode - self.low) / width
        z = np.clip((np.asarray(x, np.float64) - self.low) / width, 0, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            left = np.where(c > 0, z * z / c, 1.0)
            right = np.where(c < 1, 1 - (1 - z) ** 2 / (1 - c), 1.0)
        return np.where(z < c, left, right)

    @property
    def support(self):
        return (self.low, self.high)


@register
@dataclass(frozen=True)
class Pert(Family):
    """Beta-PERT: a beta on [low, high] with mean (low + 4 mode + high) / 6."""

    name: ClassVar[str] = "pert"
    low: float
    mode: float
    high: float

    def check(self, where):
        _check_three_point(self, where)

    @property
    def shape(self) -> tuple[float, float]:
        width = self.high - self.low
        return 1 + 4 * (self.mode - self.low) / width, 1 + 4 * (self.high - self.mode) / width

    def icdf_plan(self):
        return _beta_plan(*self.shape, self.low, self.high - self.low)

    def ppf(self, q):
        return self.low + (self.high - self.low) * scipy_special.betaincinv(*self.shape, q)

    def sample(self, key, shape=()):
        return self.low + (self.high - self.low) * _beta_sample(key, *self.shape, shape)

    def log_prob(self, x):
        width = self.high - self.low
        return _beta_log_density((x - self.low) / width, *self.shape) - math.log(width)

    def cdf(self, x):
        z = (np.asarray(x, np.float64) - self.low) / (self.high - self.low)
        return scipy_special.betainc(*self.shape, np.clip(z, 0, 1))

    @property
    def support(self):
        return (self.low, self.high)


@register
@dataclass(frozen=True)
class Discrete(Family):
    name: ClassVar[str] = "discrete"
    discrete: ClassVar[bool] = True
    LIST_PARAMS: ClassVar[tuple[str, ...]] = ("values", "weights")
    values: tuple[float, ...]
    weights: tuple[float, ...]

    def check(self, where):
        require(len(self.values) >= 1, where, "discrete needs at least one value")
        require(len(self.values) == len(self.weights), where,
                 f"discrete has {len(self.values)} values but {len(self.weights)} weights")
        require(len(set(self.values)) == len(self.values), where, "discrete values must differ")
        require(all(w >= 0 for w in self.weights) and sum(self.weights) > 0, where,
                 "discrete weights must be >= 0 and not all 0")

    @property
    def _sorted(self):
        order = np.argsort(self.values)
        values = np.asarray(self.values, np.float64)[order]
        probs = np.asarray(self.weights, np.float64)[order] / sum(self.weights)
        return values, probs

    def icdf_plan(self):
        values, probs = self._sorted
        return _discrete_icdf, (values.astype(np.float32),
                                np.cumsum(probs)[:-1].astype(np.float32))

    def ppf(self, q):
        # As the sampler: the first value whose cumulative probability reaches q.
        values, probs = self._sorted
        return values[np.searchsorted(np.cumsum(probs)[:-1], q)]

    def log_prob(self, x):
        values, probs = self._sorted
        logp = jnp.full(jnp.shape(x), -jnp.inf)
        for value, p in zip(values, probs, strict=True):
            logp = jnp.where(x == value, math.log(p) if p > 0 else -jnp.inf, logp)
        return logp

    def cdf(self, x):
        values, probs = self._sorted
        x = np.asarray(x, np.float64)
        return (probs * (values <= x[..., None])).sum(-1)

    @property
    def support(self):
        return (float(min(self.values)), float(max(self.values)))


