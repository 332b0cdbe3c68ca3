"""How big a run is unless the user says otherwise.

Kept apart from the sampling code so that the CLI can state them in ``--help`` without
importing JAX (``sora-uq --help`` and ``--version`` answer at once).
"""

__all__ = ["DEFAULT_EXPLORE_SAMPLES", "DEFAULT_MODEL", "DEFAULT_RTOL", "DEFAULT_SAMPLES",
           "MAX_SAMPLES", "MCSE_TARGET", "MIN_ERROR_SAMPLES"]

# 400k draws keep the relative MCSE of the 5% and 95% quantiles of the headline outputs of the
# article priors under 1% (measured in tests/test_summary.py and stated in every report).
DEFAULT_SAMPLES = 400_000
# An adaptive run draws until the MCSE of the 5/50/95% quantiles of the headline outputs is
# below this, relative to the quantile...
DEFAULT_RTOL = 0.005
# ...and stops here even if not converged.
MAX_SAMPLES = 10**9
# Below this many draws no Monte Carlo error is claimed, and no run is "converged": the error of
# a 5% quantile is estimated from the draws around it, and 1,000 draws put 50 in each tail.
MIN_ERROR_SAMPLES = 1_000
# The largest relative MCSE of a headline quantile a fixed-size run (--samples) is held to: above
# it, the report's run facts and a warning on stderr say so.
MCSE_TARGET = 0.01

# The live page (sora-uq explore) answers every change with one chunk of draws: one compiled
# program, ~0.2 s on two CPU cores for the Sora model, a few per cent of Monte Carlo error on
# the 90% intervals' ends (stated on the page).
DEFAULT_EXPLORE_SAMPLES = 1 << 17

# The model a prior file gets when neither --model nor [meta] model names one: named, not
# imported, so the engine never imports the application (the same loader reads a user's model).
DEFAULT_MODEL = "uncertainty.sora:MODEL"
