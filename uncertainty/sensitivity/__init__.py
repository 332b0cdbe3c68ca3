"""Which assumption drives each output, as plain data: pure estimators first, then documents.

- :mod:`.tornado`: one-at-a-time swings (:func:`tornado`);
- :mod:`.sobol`: first- and total-order Sobol indices (:func:`sobol_indices`,
  :func:`sobol_document`);
- :mod:`.ranking`: what to pin down next, and whether the two agree on the top driver.

Every function takes the model the same way: ``model=`` (a :class:`~uncertainty.Model` or a
one-draw function), defaulting to the priors' own.
"""

from .ranking import pin_down_next, top_driver_check
from .sobol import DEFAULT_N_BOOTSTRAP, SAMPLERS, SCALES, sobol_document, sobol_indices
from .tornado import TORNADO_NOTE, tornado

__all__ = [
    "DEFAULT_N_BOOTSTRAP",
    "SAMPLERS",
    "SCALES",
    "TORNADO_NOTE",
    "pin_down_next",
    "sobol_document",
    "sobol_indices",
    "top_driver_check",
    "tornado",
]
