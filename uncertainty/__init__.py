"""sora-uq: honest intervals for the compute needed to train and serve Sora-class video models.

The public names below load on first use (PEP 562), so ``import uncertainty`` and the CLI's
start-up stay light until JAX is actually needed.
"""

import importlib

__version__ = "0.1.0"

from .errors import PriorError, UserError  # noqa: E402

_LAZY = {
    "ASSUMPTIONS": ".model", "HEADLINE": ".model", "OUTPUTS": ".model", "compute_outputs": ".model",
    "Prior": ".priors", "PriorSet": ".priors", "load_priors": ".priors",
    "priors_from_dict": ".priors", "simulate": ".simulate",
}

__all__ = ["__version__", "PriorError", "UserError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'uncertainty' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
