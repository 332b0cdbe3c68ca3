"""sora-uq: honest intervals for the compute needed to train and serve Sora-class video models."""

__version__ = "0.1.0"

from .errors import PriorError, UserError  # noqa: E402
from .model import ASSUMPTIONS, HEADLINE, OUTPUTS, compute_outputs  # noqa: E402
from .priors import Prior, PriorSet, load_priors, priors_from_dict  # noqa: E402
from .simulate import simulate  # noqa: E402

__all__ = [
    "__version__", "ASSUMPTIONS", "HEADLINE", "OUTPUTS", "Prior", "PriorError", "PriorSet",
    "UserError", "compute_outputs", "load_priors", "priors_from_dict", "simulate",
]
