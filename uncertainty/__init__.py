"""sora-uq: honest intervals for the compute needed to train and serve Sora-class video models.

The package is a general engine (any :class:`Model` of one draw, its priors, Monte Carlo,
summaries, sensitivity, Bayesian update, reports) with the Sora compute model as one model on
it (:mod:`uncertainty.sora`, the default model of every command).

The public names below are imported on first use (PEP 562), so importing the package, and
starting the CLI, does not start JAX: ``sora-uq --help`` answers at once, and a Ctrl-C while
JAX loads reaches the CLI's handler instead of printing a traceback.
"""

from importlib import import_module

from .errors import PriorError, UserError

__version__ = "0.1.0"

_LAZY = {
    "Model": "model",
    "Quantity": "model",
    "load_model": "model",
    "Prior": "priors",
    "PriorSet": "priors",
    "load_priors": "priors",
    "priors_from_dict": "priors",
    "simulate": "sampling",
    "stream": "streaming",
    "summarize": "summary",
}

__all__ = [
    "Model",
    "Prior",
    "PriorError",
    "PriorSet",
    "Quantity",
    "UserError",
    "__version__",
    "load_model",
    "load_priors",
    "priors_from_dict",
    "simulate",
    "stream",
    "summarize",
]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
