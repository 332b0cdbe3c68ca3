"""Updating priors with evidence: evidence files, the NumPyro update, and the refit of a
posterior into a new prior file.

- :mod:`.evidence`: evidence files (observations of any assumption or output of the model);
- :mod:`.update`: NUTS or Pareto-smoothed importance sampling of the posterior;
- :mod:`.refit`: the posterior as a new prior file (families, correlations, provenance).
"""
