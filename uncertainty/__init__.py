"""sora-uq: honest intervals for the compute needed to train and serve Sora-class video models."""

__version__ = "0.1.0"

from .errors import PriorError, UserError
from .model import ASSUMPTIONS, HEADLINE, OUTPUTS, compute_outputs
from .priors import Prior, PriorSet, load_priors, priors_from_dict
from .simulate import simulate

__all__ = [
    "ASSUMPTIONS",
    "HEADLINE",
    "OUTPUTS",
    "Prior",
    "PriorError",
    "PriorSet",
    "UserError",
    "__version__",
    "compute_outputs",
    "load_priors",
    "priors_from_dict",
    "simulate",
]
