"""Which assumption drives each output, as plain data: pure estimators first, then documents.

- :mod:`.tornado`: one-at-a-time swings (:func:`tornado`);
- :mod:`.sobol`: first- and total-order Sobol indices (:func:`sobol_indices`,
  :func:`sobol_document`);
- :mod:`.shapley`: Shapley effects, valid under correlated priors (:func:`shapley_effects`);
- :mod:`.voi`: the value of information for a provisioning decision
  (:func:`value_of_information`: EVPI, EVPPI);
- :mod:`.ranking`: what to pin down next, and whether two methods agree on the top driver.

Every function takes the model the same way: ``model=`` (a :class:`~uncertainty.Model` or a
one-draw function), defaulting to the priors' own.
"""

from .ranking import pin_down_by_value, pin_down_next, top_driver_check
from .shapley import shapley_effects
from .sobol import DEFAULT_N_BOOTSTRAP, SAMPLERS, SCALES, sobol_document, sobol_indices
from .tornado import TORNADO_NOTE, tornado
from .voi import value_of_information

__all__ = [
    "DEFAULT_N_BOOTSTRAP",
    "SAMPLERS",
    "SCALES",
    "TORNADO_NOTE",
    "pin_down_by_value",
    "pin_down_next",
    "shapley_effects",
    "sobol_document",
    "sobol_indices",
    "top_driver_check",
    "tornado",
    "value_of_information",
]
