"""Prior families: one registry, each family a frozen dataclass with sample, icdf and log_prob.

A family states its parameters declaratively and is built from a spec dict (a table of a prior
file) by :func:`build`. Every random method takes an explicit JAX key first. ``icdf`` is pure
``jax.numpy`` so it serves Monte Carlo, quasi-Monte Carlo, the copula and the tornado alike.

- :mod:`.base`: the contract, the registry, the number rules;
- :mod:`.standard`: fixed, lognormal, normal, beta, uniform, loguniform, triangular, PERT,
  discrete;
- :mod:`.metalog`: Keelin's metalog from quantiles (unbounded, semi-bounded, bounded);
- :mod:`.mixture`: a linear opinion pool of any families (several experts).

Example
-------
>>> import jax
>>> d = build({"dist": "lognormal", "ci": [2.0, 8.0]}, where="x")
>>> round(float(d.icdf(0.5)), 6)
4.0
>>> d.sample(jax.random.key(0), (3,)).shape
(3,)
"""

from ..errors import PriorError
from .base import (
    DEFAULT_LEVEL,
    FAMILIES,
    U_MAX,
    U_MIN,
    Family,
    number,
    numbers,
    open_unit,
    unknown_family,
)
from .metalog import Metalog
from .mixture import Mixture
from .standard import (
    Beta,
    Discrete,
    Fixed,
    LogNormal,
    LogUniform,
    Normal,
    Pert,
    Triangular,
    Uniform,
)

__all__ = ["DEFAULT_LEVEL", "FAMILIES", "U_MAX", "U_MIN", "Beta", "Discrete", "Family", "Fixed",
           "LogNormal", "LogUniform", "Metalog", "Mixture", "Normal", "Pert", "Triangular",
           "Uniform", "build", "number", "numbers", "open_unit"]


def build(spec: dict, where: str) -> Family:
    """Validate one assumption's table and return its family object.

    ``where`` names the place for error messages, e.g. ``"priors/a.toml: sora_params"``.
    """
    if not isinstance(spec, dict):
        raise PriorError(f"{where}: must be a table with 'dist' and its parameters")
    name = spec.get("dist")
    if not isinstance(name, str) or name not in FAMILIES:
        raise unknown_family(name, where)
    return FAMILIES[name].from_spec(spec, where)
