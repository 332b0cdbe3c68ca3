"""The family contract every prior family meets, the registry, and the rules every number of a
prior file obeys.

A family is a frozen dataclass registered by name (``dist = "NAME"`` in a prior file); it
declares its parameters as fields and implements ``icdf`` (pure ``jax.numpy``: Monte Carlo, QMC,
the copula, tornado and Sobol all draw through it), ``log_prob``, ``support`` and, for mixtures
and host-side checks, ``cdf`` (NumPy, float64). Every random method takes an explicit JAX key.

``ppf`` (SciPy's name) is the exact quantile function on the host (NumPy, float64): what
tables, figures and ``sora-uq priors show`` state. ``icdf`` is the sampler's float32 one, as
fast as the family allows (tables where the exact one is slow), tested against ``ppf``. Reading
a prior file starts no JAX: it is imported when a family first draws (:mod:`uncertainty.lazy`).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
from scipy import special as scipy_special

from ..errors import PriorError
from ..lazy import module

jax = module("jax")
jnp = module("jax.numpy")

__all__ = ["COMMON_KEYS", "DEFAULT_LEVEL", "FAMILIES", "FLOAT32_MAX", "FLOAT32_TINY", "U_MAX",
           "U_MIN", "Family", "number", "numbers", "open_unit", "register", "require", "shown",
           "uniform01", "unknown_key", "z_of_level"]

DEFAULT_LEVEL = 0.9
FAMILIES: dict[str, type[Family]] = {}

# Keys every assumption table may carry besides its family's own parameters.
COMMON_KEYS = frozenset({"dist", "source", "unit", "note", "level", "ci"})


def register(cls: type[Family]) -> type[Family]:
    FAMILIES[cls.name] = cls
    return cls


# The open unit interval in float32, defined once: icdf at exactly 0 or 1 is infinite for
# unbounded families, and a float64 point closer to 1 than U_MAX would round to 1.
U_MIN = float(np.finfo(np.float32).tiny)
U_MAX = float(np.nextafter(np.float32(1), np.float32(0)))


def open_unit(u):
    """``u`` clipped into float32's open unit interval [U_MIN, U_MAX] (float32 out)."""
    return jnp.clip(jnp.asarray(u, jnp.float32), U_MIN, U_MAX)


def uniform01(key, shape, dtype=np.float32):
    return jax.random.uniform(key, shape, dtype, minval=U_MIN, maxval=1.0)


@dataclass(frozen=True)
class Family:
    """Base class: subclasses set ``name``, declare parameters as fields, and implement ``icdf``
    and ``log_prob``. ``fit_ci`` is given for families with two free parameters."""

    name: ClassVar[str]
    discrete: ClassVar[bool] = False
    # True when log_prob inverts the quantile function numerically (no gradient through it): the
    # Bayesian update then samples the assumption's normal score instead (exact, see update).
    density_by_inversion: ClassVar[bool] = False
    LIST_PARAMS: ClassVar[tuple[str, ...]] = ()  # parameters that are lists of numbers
    # True when people state the family by an interval ("90% sure between a and b") rather than
    # by its parameters: the live page edits it as a 'ci'.
    interval_form: ClassVar[bool] = False

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_spec(cls, spec: dict, where: str) -> Family:
        """Validate one assumption's table (its family's parameters, or ``ci`` and ``level``)
        and return the family object; a family with another form overrides this."""
        params = cls.param_names()
        unknown_key(spec, params + ("ci", "level"), cls.name, where)
        if "ci" in spec:
            clash = [p for p in params if p in spec]
            require(not clash, where, f"give either 'ci' or {', '.join(params)}, not both")
            bounds = numbers(spec["ci"], where, "ci")
            require(len(bounds) == 2, where, f"'ci' must be [low, high], got {spec['ci']!r}")
            low, high = bounds
            require(low < high, where, f"interval out of order: ci = [{low}, {high}]")
            level = number(spec.get("level", DEFAULT_LEVEL), where, "level")
            require(0 < level < 1, where, f"'level' must lie in (0, 1), got {level}")
            dist = cls.fit_ci(low, high, level, where)
        else:
            require("level" not in spec, where, "'level' goes with 'ci'")
            missing = [p for p in params if p not in spec]
            if missing:
                alt = " (or 'ci')" if cls.fit_ci.__func__ is not Family.fit_ci.__func__ else ""
                raise PriorError(f"{where}: {cls.name} needs '{missing[0]}'{alt}")
            dist = cls(**{p: (numbers(spec[p], where, p) if p in cls.LIST_PARAMS
                              else number(spec[p], where, p)) for p in params})
        dist.check(where)
        return dist

    @classmethod
    def fit_ci(cls, low: float, high: float, level: float, where: str) -> Family:
        raise PriorError(f"{where}: '{cls.name}' has no two-parameter 'ci' form; give "
                         + ", ".join(cls.param_names()))

    def check(self, where: str) -> None:
        """Raise PriorError when the parameters are outside the family's domain."""

    # --- the contract -------------------------------------------------------------------------
    def icdf_plan(self) -> tuple[Callable, tuple]:
        """``(fn, params)`` with ``icdf(u) == fn(u, *params)``.

        ``fn`` is a module-level pure ``jax.numpy`` function, the same object for every prior of
        the family (of the same form), and ``params`` are numbers or arrays worked out on the
        host. Compiled programs take ``fn`` as static and ``params`` as traced data, so one
        compilation serves every prior file of the same structure, whatever its numbers. A
        family that implements ``icdf`` directly instead is compiled once per parameter value.
        """
        if type(self).icdf is Family.icdf:
            raise NotImplementedError(f"family '{self.name}' implements neither icdf_plan "
                                      "nor icdf")
        return _OwnIcdf(self), ()

    def icdf(self, u):
        fn, params = self.icdf_plan()
        return fn(u, *params)

    def log_prob(self, x):
        raise NotImplementedError

    def cdf(self, x) -> np.ndarray:
        """P(X <= x) in NumPy float64, on the host (mixtures invert it into a quantile table)."""
        raise NotImplementedError(f"{self.name} has no cdf")

    def sample(self, key, shape=()):
        return self.icdf(uniform01(key, shape))

    @property
    def support(self) -> tuple[float, float]:
        """Closed hull of the support, as floats (may be infinite)."""
        raise NotImplementedError

    @property
    def strictly_positive(self) -> bool:
        """True when every value the family can take is > 0."""
        return self.support[0] > 0

    def ppf(self, q) -> np.ndarray:
        """The exact quantile function at probabilities ``q`` (the percent-point function), on
        the host (float64). The standard families give it in closed form (SciPy, no JAX); this
        default, for a family that implements only ``icdf``, evaluates that (float32)."""
        q = np.asarray(q, np.float64)
        return np.asarray(self.icdf(q.astype(np.float32)), np.float64)  # no program for a cast

    def quantile(self, q: float) -> float:
        return float(self.ppf(q))

    def params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}

    def describe(self) -> str:
        inner = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params().items())
        return f"{self.name}({inner})"


@dataclass(frozen=True)
class _OwnIcdf:
    """A family's own ``icdf`` as a plan function: equal for equal families (a bound method is
    equal only for the same object), so a prior file read twice compiles once."""

    family: Family

    def __call__(self, u):
        return self.family.icdf(u)


def _fmt(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def unknown_key(spec: dict, allowed: tuple[str, ...], name: str, where: str) -> None:
    """Refuse a key that is neither the family's nor common to every table (did you mean)."""
    unknown = sorted(set(spec) - COMMON_KEYS - set(allowed))
    if unknown:
        allowed = tuple(dict.fromkeys(allowed + ("unit", "source", "note")))
        close = difflib.get_close_matches(unknown[0], allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise PriorError(f"{where}: unknown key '{unknown[0]}' for {name} "
                         f"({hint}allowed: {', '.join(allowed)})")


def z_of_level(level: float) -> float:
    return float(scipy_special.ndtri(0.5 + level / 2))


def require(condition: bool, where: str, rule: str) -> None:
    if not condition:
        raise PriorError(f"{where}: {rule}")



# The engine draws in float32: a number a prior file states must survive the conversion, neither
# overflowing to infinity nor flushing to zero (float32's subnormals lose their precision).
FLOAT32_MAX = float(np.finfo(np.float32).max)
FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def number(value, where: str, key: str) -> float:
    """``value`` as a float the float32 engine can carry, or a one-line :class:`PriorError`.

    Refused: anything but an int or a float (booleans too), NaN and infinities, and magnitudes
    outside float32's normal range (above about 3.4e38, or below about 1.2e-38 but not 0).

    >>> number(24, "p.toml: fps", "value")
    24.0
    >>> number(1e39, "p.toml: fps", "value")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    uncertainty.errors.PriorError: p.toml: fps: 'value' must be within the engine's float32 ...
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PriorError(f"{where}: '{key}' must be a number, got {shown(value)}")
    try:
        as_float = float(value)
    except OverflowError:  # an integer too large for any float
        as_float = math.inf if value > 0 else -math.inf
    if math.isnan(as_float) or (isinstance(value, float) and math.isinf(value)):
        raise PriorError(f"{where}: '{key}' must be finite, got {value}")
    if abs(as_float) > FLOAT32_MAX:
        got = f"{as_float:.3g}" if math.isfinite(as_float) else shown(value)
        raise PriorError(f"{where}: '{key}' must be within the engine's float32 range "
                         f"(magnitude at most {FLOAT32_MAX:.2g}), got {got}")
    if 0 < abs(as_float) < FLOAT32_TINY:
        raise PriorError(f"{where}: '{key}' is too close to 0 for the engine's float32 "
                         f"(0, or a magnitude of at least {FLOAT32_TINY:.2g}), got {as_float:.3g}")
    return as_float


def _digits(value: int) -> int:
    return len(str(abs(value))) if abs(value) < 10**4000 else int(abs(value).bit_length() * 0.30103)


def unknown_family(name, where: str, exclude: tuple[str, ...] = ()) -> PriorError:
    """The error for a ``dist`` that names no family: what was given, a close match, the list.

    >>> print(str(unknown_family("lognorml", "p.toml: x")).split(";")[0])
    p.toml: x: unknown family dist = "lognorml" (did you mean 'lognormal'?)
    """
    known = sorted(n for n in FAMILIES if n not in exclude)
    given = f'"{name}"' if isinstance(name, str) else shown(name)
    close = difflib.get_close_matches(name, known, n=1) if isinstance(name, str) else []
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return PriorError(f"{where}: unknown family dist = {given}{hint}; known: {', '.join(known)}")


def shown(value) -> str:
    """A value as a message shows it: its TOML type and a short rendering, never a Python repr."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'text "{text}"'
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, int) and abs(value) > 10**15:
        return f"an integer of {_digits(value)} digits"
    return str(value)


def numbers(value, where: str, key: str) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise PriorError(f"{where}: '{key}' must be a list of numbers, got {shown(value)}")
    return tuple(number(v, where, key) for v in value)


