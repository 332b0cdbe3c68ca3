"""A provisioning decision on one output of a model: how much of it to provide.

The decision is the newsvendor's: provide ``F`` of an output ``D`` whose value is uncertain
(GPUs in a fleet, GPU-months of a training budget, megawatts of a hall) when each unit short
costs ``under_cost`` and each unit idle costs ``over_cost``::

    loss(F, D) = under_cost * max(D - F, 0) + over_cost * max(F - D, 0)

A prior file states it in a ``[decision]`` table, which :func:`parse_decision` validates against
the model (``sora-uq voi`` and :func:`uncertainty.sensitivity.voi.value_of_information` read it)::

    [decision]
    output = "fleet_gpus"
    under_cost = 18.4      # per unit short
    over_cost = 56.4       # per unit idle
    unit = "USD per GPU-day"
    source = "..."         # every number needs a source

Example
-------
>>> d = Decision("y", under_cost=3.0, over_cost=1.0)
>>> d.critical_ratio
0.75
>>> d.loss(10.0, 12.0), d.loss(10.0, 9.0)
(6.0, 1.0)
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .errors import PriorError
from .families import number
from .model import Model

__all__ = ["DECISION_KEYS", "Decision", "parse_decision", "positive_cost"]

DECISION_KEYS = ("output", "under_cost", "over_cost", "unit", "source")


@dataclass(frozen=True)
class Decision:
    """How much of ``output`` to provide, each unit short costing ``under_cost`` and each unit
    idle ``over_cost`` (both in ``unit``, per unit of the output); ``source`` says where the
    costs come from."""

    output: str
    under_cost: float
    over_cost: float
    unit: str = ""
    source: str = ""

    @property
    def critical_ratio(self) -> float:
        """``under_cost / (under_cost + over_cost)``: the quantile of the output to provide."""
        return self.under_cost / (self.under_cost + self.over_cost)

    def loss(self, provision, demand):
        """The loss of providing ``provision`` when the output turns out ``demand`` (NumPy,
        broadcast; a float for scalars)."""
        short = np.maximum(np.subtract(demand, provision), 0.0)
        idle = np.maximum(np.subtract(provision, demand), 0.0)
        loss = self.under_cost * short + self.over_cost * idle
        return float(loss) if np.ndim(loss) == 0 else loss


def parse_decision(table, model: Model, where: str) -> Decision:
    """A prior file's ``[decision]`` table -> :class:`Decision`, checked against ``model``.

    Every rule broken is a :class:`~uncertainty.errors.PriorError` of one line,
    ``"{where}: decision: ..."``, naming the key."""
    here = f"{where}: decision"
    if not isinstance(table, Mapping):
        raise PriorError(f"{here}: must be a table (output, under_cost, over_cost, unit, "
                         f"source), got {table!r}")
    for key in table:
        if key not in DECISION_KEYS:
            close = difflib.get_close_matches(str(key), DECISION_KEYS, n=1)
            hint = (f"; did you mean '{close[0]}'?" if close
                    else f" (allowed: {', '.join(DECISION_KEYS)})")
            raise PriorError(f"{here}: unknown key '{key}'{hint}")
    for key in ("output", "under_cost", "over_cost", "source"):
        if key not in table:
            extra = " (every number needs one)" if key == "source" else ""
            raise PriorError(f"{here}: missing key '{key}'{extra}")
    output = table["output"]
    if not isinstance(output, str) or not output.strip():
        raise PriorError(f"{here}: 'output' must be the name of an output of the model, "
                         f"got {output!r}")
    if output not in model.outputs:
        outputs = list(model.outputs)
        close = difflib.get_close_matches(output, outputs, n=1)
        hint = (f"; did you mean '{close[0]}'?" if close
                else f" (its outputs: {', '.join(outputs)})")
        raise PriorError(f"{here}: 'output' '{output}' is not an output of the model "
                         f"'{model.name}'{hint}")
    costs = {key: positive_cost(table[key], here, key) for key in ("under_cost", "over_cost")}
    for key in ("unit", "source"):
        if key in table and (not isinstance(table[key], str) or not table[key].strip()):
            raise PriorError(f"{here}: '{key}' must be a non-empty string")
    return Decision(output, costs["under_cost"], costs["over_cost"], unit=table.get("unit", ""),
                    source=table["source"])


def positive_cost(value, where: str, key: str) -> float:
    """A cost: a finite number > 0 (the prior files' number rule, then the sign)."""
    cost = number(value, where, key)
    if not cost > 0:
        raise PriorError(f"{where}: '{key}' must be > 0, got {value}")
    return cost
