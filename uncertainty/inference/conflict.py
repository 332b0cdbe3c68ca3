"""Prior-data conflict: does an observation contradict the prior, another observation, or the
posterior it produced?

Three checks, each a tail probability of a predictive distribution (Box 1980; Evans & Moshonov
2006), computed from draws already made:

- **prior**: where the observed value falls in its prior predictive distribution (the quantity's
  prior draws plus the observation's noise). An observation in the outer ``TAIL`` of it says
  something the priors held all but impossible.
- **pair**: two observations of the same quantity with the same noise model measure one number;
  their difference, in units of its standard deviation, says whether they can both be right.
- **posterior**: where each observed value falls in its posterior predictive distribution. A
  posterior that fits none of its observations (each in the outer tail) is a compromise between
  pieces of evidence that contradict each other, however small its r_hat.

Each finding is one sentence for the update's warnings. The functions are pure: NumPy in, text
out.

>>> import numpy as np
>>> from uncertainty.inference.evidence import Observation
>>> a = Observation("y", 1.0, "lognormal", 0.1, "a")
>>> b = Observation("y", 100.0, "lognormal", 0.1, "b")
>>> pair_conflicts([a, b])[0][:42]
'observations 1 (y = 1) and 2 (y = 100) of '
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from .evidence import Observation

__all__ = ["TAIL", "conflicts", "pair_conflicts", "predictive_tail"]

# Two-sided tail probability below which an observation is said to conflict: 1 in 1,000, about
# 3.3 standard deviations of a normal.
TAIL = 1e-3


def predictive_tail(obs: Observation, draws: np.ndarray) -> float:
    """P(observed value | draws of its quantity), two-sided: ``2 min(F, 1 - F)`` where ``F`` is
    the predictive CDF at the observed value, the noise integrated exactly per draw."""
    draws = np.asarray(draws, np.float64).ravel()
    if obs.noise == "lognormal":
        draws = draws[draws > 0]
        if draws.size == 0:
            return 0.0
        z = (math.log(obs.value) - np.log(draws)) / obs.sigma if obs.value > 0 else -np.inf
    else:
        z = (obs.value - draws) / obs.sigma
    cdf = float(np.mean(stats.norm.cdf(z)))
    return 2 * min(cdf, 1 - cdf)


def _name(i: int, obs: Observation) -> str:
    return f"{i + 1} ({obs.quantity} = {obs.value:.4g})"


def pair_conflicts(observations: Sequence[Observation], tail: float = TAIL) -> list[str]:
    """Pairs of observations of one quantity, with one noise model, that cannot both be right."""
    found = []
    for i, a in enumerate(observations):
        for j in range(i + 1, len(observations)):
            b = observations[j]
            if a.quantity != b.quantity or a.noise != b.noise:
                continue
            if a.noise == "lognormal":
                if a.value <= 0 or b.value <= 0:
                    continue
                gap = abs(math.log(a.value) - math.log(b.value))
            else:
                gap = abs(a.value - b.value)
            z = gap / math.hypot(a.sigma, b.sigma)
            p = 2 * stats.norm.sf(z)
            if p < tail:
                found.append(f"observations {_name(i, a)} and {_name(j, b)} of the same quantity "
                             f"contradict each other: {z:.1f} standard deviations apart given "
                             f"their sigmas (p = {p:.1g}); widen their sigmas or drop one")
    return found


def conflicts(observations: Sequence[Observation], prior: Mapping[str, np.ndarray],
              posterior: Mapping[str, np.ndarray], tail: float = TAIL) -> list[str]:
    """Every finding, one sentence each: observations the prior held all but impossible, pairs
    that contradict each other, and observations the posterior does not fit.

    ``prior`` and ``posterior`` map each observed quantity to its draws."""
    found = []
    for i, obs in enumerate(observations):
        p = predictive_tail(obs, prior[obs.quantity])
        if p < tail:
            found.append(f"observation {_name(i, obs)} conflicts with the prior: it lies in the "
                         f"outer {_percent(p)} of its prior predictive distribution; check its "
                         "value and unit, or widen its sigma or the prior")
    found += pair_conflicts(observations, tail)
    misfits = [(i, obs, predictive_tail(obs, posterior[obs.quantity]))
               for i, obs in enumerate(observations)]
    misfits = [(i, obs, p) for i, obs, p in misfits if p < tail]
    if misfits:
        names = ", ".join(_name(i, obs) for i, obs, _ in misfits)
        which = ("any of its observations" if len(misfits) == len(observations) > 1
                 else f"observation{'s' if len(misfits) > 1 else ''} {names}")
        worst = max(p for *_, p in misfits)
        found.append(f"the posterior does not fit {which}: "
                     f"{'each lies' if len(misfits) > 1 else 'it lies'} in the outer "
                     f"{_percent(worst)} of its posterior predictive distribution: the evidence "
                     "contradicts itself or the priors"
                     + (", and the posterior is a compromise that matches none of it"
                        if len(misfits) == len(observations) else ""))
    return found


def _percent(p: float) -> str:
    return f"{100 * p:.2g}%" if p >= 1e-6 else "0.0001%"
