"""JAX at first use, not at import: the prior families and the copula are read by commands that
draw nothing (``sora-uq priors show`` prints a table in a fraction of a second, without starting
JAX), and by every command that draws.

A module written against ``jnp = module("jax.numpy")`` and ``@jit`` reads exactly like one that
imports JAX at its top; the import happens when a function first runs (or is traced). The
library ``lazy_loader`` cannot do this for submodules such as ``jax.numpy`` (it imports them at
once, with a warning).

>>> stats = module("statistics")
>>> stats.median([3, 1, 2])
2
>>> @jit
... def double(x):
...     return 2 * x
>>> double.__name__, int(double(3))
('double', 6)
"""

from __future__ import annotations

import functools
import importlib
import types
from collections.abc import Callable

__all__ = ["jit", "module"]


class _Module(types.ModuleType):
    """Stands for the module ``name`` until an attribute is read; then imports it, and takes its
    attributes, so later reads are plain lookups."""

    def __getattr__(self, attribute: str):
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)
        return getattr(real, attribute)


def module(name: str) -> types.ModuleType:
    """The module ``name``, imported when one of its attributes is first read."""
    return _Module(name)


class _Jit:
    """``jax.jit(fn, **options)``, made at the first call. One object per function, hashed by
    identity like a jitted function, so compiled programs that take it as static still share."""

    def __init__(self, fn: Callable, options: dict):
        functools.update_wrapper(self, fn)
        self._fn, self._options, self._jitted = fn, options, None

    def __call__(self, *args, **kwargs):
        if self._jitted is None:
            import jax

            self._jitted = jax.jit(self._fn, **self._options)
        return self._jitted(*args, **kwargs)


def jit(fn: Callable | None = None, **options):
    """``jax.jit`` as a decorator (``@jit`` or ``@jit(static_argnames=...)``) that imports JAX at
    the function's first call."""
    if fn is None:
        return functools.partial(jit, **options)
    return _Jit(fn, options)
