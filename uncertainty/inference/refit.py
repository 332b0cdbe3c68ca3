"""Posterior draws -> a new prior file (TOML text) that loads like any other, so updates chain.

Each marginal is refitted in its own family and support, by a rule chosen to be exact where the
posterior stays in the family:

==============  ==============================================================================
family          rule
==============  ==============================================================================
fixed           unchanged
lognormal       median = exp(mean of log draws), sigma = sd of log draws (exact for a lognormal)
normal          mean and sd of the draws
beta            method of moments: k = m (1 - m) / v - 1, alpha = m k, beta = (1 - m) k
uniform         bounds mean +/- sqrt(3) sd (moments of a uniform), clipped to the parent's bounds
loguniform      the same on the log scale
triangular      bounds kept (they are the support); mode from the mean, (low + mode + high) / 3
pert            bounds kept; mode from the mean, (low + 4 mode + high) / 6
discrete        values kept; weights = posterior probabilities
==============  ==============================================================================

The dependence between the refitted marginals is written as a ``[correlations]`` table (a
Gaussian copula, as ``simulate`` and ``update`` read it; :func:`correlations_table`), so a chained
update starts from the posterior's dependence, not from independence. It is exact when the
posterior is a Gaussian copula of its marginals (e.g. a bivariate lognormal). Every pair's
posterior Spearman rank correlation is also recorded under ``[provenance.rank_correlations]``.
"""

from __future__ import annotations

import datetime
import math
import os
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

from ..copula import build_copula, nearest_correlation, pearson_to_spearman, spearman_to_pearson
from ..errors import PriorError
from ..priors import PriorSet, priors_argument
from ..sampling import seed_record

__all__ = [
    "correlations_table",
    "dumps_toml",
    "new_prior_document",
    "rank_correlations",
    "refit_marginal",
]

# A pair is written when its posterior Spearman correlation is further from 0 than
# NOISE_SDS Monte Carlo standard errors, or the Bonferroni bound for the number of pairs when that
# is larger (~3.7 for the 190 pairs of the Sora priors), so that few pairs enter on noise alone.
# The standard error is that of a mean of the Spearman summands (standardised rank products)
# with the ESS of that product: for NUTS it is often well under the marginals' bulk ESS.
NOISE_SDS = 3.0
FAMILY_WISE_RATE = 0.05
# The written copula's normal-score matrix keeps its smallest eigenvalue >= this, so it stays
# positive definite after rounding each rho to CORRELATION_DIGITS.
MIN_EIGENVALUE = 1e-2
CORRELATION_DIGITS = 4


def _clip(value: float, low: float, high: float) -> float:
    return float(min(max(value, low), high))


def refit_marginal(family, draws: np.ndarray, discrete_posterior: dict | None = None) -> dict:
    """The family's parameters fitted to posterior draws (see the module's table of rules)."""
    x = np.asarray(draws, np.float64).ravel()
    name = family.name
    if name == "fixed":
        return {"value": family.value}
    if name == "lognormal":
        logs = np.log(x)
        return {"median": float(np.exp(logs.mean())), "sigma": float(logs.std(ddof=1))}
    if name == "normal":
        return {"mean": float(x.mean()), "sd": float(x.std(ddof=1))}
    if name == "beta":
        m, v = float(x.mean()), float(x.var(ddof=1))
        k = m * (1 - m) / v - 1
        return {"alpha": m * k, "beta": (1 - m) * k}
    if name in ("uniform", "loguniform"):
        y = np.log(x) if name == "loguniform" else x
        lo, hi = (math.log(family.low), math.log(family.high)) if name == "loguniform" else (
            family.low, family.high)
        half = math.sqrt(3) * float(y.std(ddof=1))
        low, high = _clip(y.mean() - half, lo, hi), _clip(y.mean() + half, lo, hi)
        if name == "loguniform":
            low, high = math.exp(low), math.exp(high)
        return {"low": low, "high": high}
    if name in ("triangular", "pert"):
        spread = 3 if name == "triangular" else 6
        middle = 1 if name == "triangular" else 4
        mode = (spread * float(x.mean()) - family.low - family.high) / middle
        return {"low": family.low, "mode": _clip(mode, family.low, family.high),
                "high": family.high}
    if name in ("metalog", "mixture"):
        return _refit_metalog(family, x)
    if name == "discrete":
        probs = discrete_posterior or {}
        values = list(family.values)
        return {"values": values, "weights": [round(float(probs.get(v, 0.0)), 6) for v in values]}
    raise ValueError(f"no refit rule for family '{name}'")


# A pool's posterior is summarised by a metalog through these quantiles of the draws.
POOL_PROBABILITIES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _refit_metalog(family, x: np.ndarray) -> dict:
    """A metalog through the draws' quantiles at the parent's probabilities, with its bounds
    and terms (a metalog parent stays a metalog; a pool becomes one, through 5 quantiles and
    its support's finite bounds). When the draws' quantiles give no valid metalog with that many
    terms, fewer terms, down to 3, by least squares."""
    from ..families.metalog import Metalog

    if family.name == "metalog":
        probs, lower, upper, terms = ([p for p, _ in family.quantiles], family.lower,
                                      family.upper, family.terms)
    else:
        low, high = family.support
        lower = low if math.isfinite(low) else None
        upper = high if lower is not None and math.isfinite(high) else None
        probs, terms = list(POOL_PROBABILITIES), None
    values = np.quantile(x, probs)
    quantiles = tuple((float(p), float(v)) for p, v in zip(probs, values, strict=True))
    for k in range(terms or len(probs), 2, -1):
        fitted = Metalog(quantiles, lower, upper, k if k < len(probs) else None)
        try:
            fitted.check("refit")
        except PriorError:
            continue
        return {k_: v for k_, v in fitted.params().items()}
    raise PriorError("refit: the posterior's quantiles give no valid metalog, even with 3 terms")


def rank_correlations(posterior, names: list[str], digits: int = 3) -> dict[str, float]:
    """Spearman rank correlation of each pair of ``names`` in the posterior: ``{"a,b": rho}``."""
    ranks = np.vstack([scipy_stats.rankdata(np.asarray(posterior[n].values).ravel())
                       for n in names])
    rho = np.corrcoef(ranks)  # Pearson correlation of ranks (average ranks for ties) = Spearman
    out = {}
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            value = float(rho[i, j])
            out[f"{a},{names[j]}"] = round(value, digits) if math.isfinite(value) else 0.0
    return out


def _standardised_ranks(posterior, names: list[str]) -> np.ndarray:
    """(name, chain, draw) ranks scaled to mean 0, sd 1: Spearman's rho is the mean of a product."""
    out = []
    for n in names:
        values = np.asarray(posterior[n].values, np.float64)
        ranks = scipy_stats.rankdata(values.ravel()).reshape(values.shape)
        out.append((ranks - ranks.mean()) / ranks.std())
    return np.stack(out)


def _significant(scores: np.ndarray, max_effective: float) -> tuple[np.ndarray, float]:
    """Spearman matrix with the pairs within Monte Carlo noise set to 0, and the z used."""
    from arviz_stats.base import array_stats

    k = len(scores)
    pairs = k * (k - 1) // 2
    z = max(NOISE_SDS, float(scipy_stats.norm.isf(FAMILY_WISE_RATE / 2 / max(pairs, 1))))
    rho = np.eye(k)
    for i, j in zip(*np.triu_indices(k, 1), strict=True):
        product = scores[i] * scores[j]
        effective = min(float(array_stats.ess(product, method="mean")), max_effective)
        value = float(product.mean())
        if abs(value) > z * float(product.std()) / math.sqrt(max(effective, 1.0)):
            rho[i, j] = rho[j, i] = value
    return rho, z


def correlations_table(posterior, names: list[str], max_effective: float,
                       source: str) -> tuple[dict, dict]:
    """``[correlations]`` for the new prior file, and what ``[provenance]`` says about it.

    Rule: every pair of ``names`` (the uncertain continuous assumptions) whose posterior Spearman
    correlation is beyond its Monte Carlo noise (see ``NOISE_SDS``; ``max_effective`` caps the
    ESS, e.g. importance sampling's). When the normal-score matrix of those pairs (``2 sin(pi
    rho / 6)``, the others 0) is not positive definite with room for rounding, it is projected to
    the nearest correlation matrix that is (:func:`~uncertainty.copula.nearest_correlation`),
    every pair of the names involved is written from it, and the provenance says so."""
    kept, z = _significant(_standardised_ranks(posterior, names), max_effective) \
        if len(names) > 1 else (np.eye(len(names)), NOISE_SDS)
    involved = [i for i in range(len(names)) if np.count_nonzero(kept[i]) > 1]  # 1 = diagonal
    written = kept[np.ix_(involved, involved)]
    pearson = spearman_to_pearson(written)
    projected = bool(involved) and bool(np.linalg.eigvalsh(pearson).min() < MIN_EIGENVALUE)
    if projected:
        written = pearson_to_spearman(nearest_correlation(pearson, MIN_EIGENVALUE))
    pairs = {}
    for i, j in zip(*np.triu_indices(len(involved), 1), strict=True):
        value = round(float(written[i, j]), CORRELATION_DIGITS)
        if value != 0.0:
            pairs[(names[involved[i]], names[involved[j]])] = value
    build_copula(tuple(names), pairs, where="the refitted [correlations]")  # PD after rounding
    rule = (f"posterior Spearman rank correlations more than {z:.2f} Monte Carlo standard errors "
            "from 0")
    info = {"rule": rule, "projected": projected}
    if projected:
        info["note"] = ("the rank correlations above the threshold did not form a positive "
                        "definite Gaussian copula; projected to the nearest correlation matrix "
                        "that does "
                        f"(Higham 2002, smallest eigenvalue {MIN_EIGENVALUE:g})")
    table = {f"{a},{b}": value for (a, b), value in pairs.items()}
    return ({"source": f"{source}: {rule}", **table} if table else {}), info


def new_prior_document(result, name: str, date: datetime.date | None = None,
                       folder: Path | None = None) -> dict:
    """The new prior file as nested dicts: ``meta``, ``assumptions``, ``provenance``.

    ``folder``: where the file will be written, so that a model file it names is named
    relative to it."""
    priors: PriorSet = result.priors
    posterior = result.tree["posterior"]
    date = (date or datetime.date.today()).isoformat()
    evidence_names = ", ".join(Path(e.path).name if e.path else "evidence" for e in result.evidence)
    parent = Path(priors.path).name if priors.path else priors.name
    assumptions = {}
    for key, prior in priors.items():
        # a pool of experts is summarised, after the evidence, by a metalog of its posterior
        spec = {"dist": "metalog" if prior.dist.name == "mixture" else prior.dist.name}
        spec.update(refit_marginal(prior.dist, posterior[key].values,
                                   result.discrete_posterior.get(key)))
        if prior.unit:
            spec["unit"] = prior.unit
        spec["source"] = prior.source if prior.is_fixed else (
            f"posterior of {parent} updated with {evidence_names} ({result.method}, {date}); "
            f"parent source: {prior.source}")
        if prior.note:
            spec["note"] = prior.note
        assumptions[key] = spec
    uncertain = [k for k in priors.uncertain if float(posterior[k].std()) > 0]
    diagnostics = {k: v for k, v in result.diagnostics.items() if v is not None}
    # Discrete assumptions stay out of the copula: update sums them out independently.
    continuous = [k for k in uncertain if not priors[k].dist.discrete]
    # Importance sampling resamples its weighted prior draws: no more effective draws than the
    # weights' ESS, however many draws the resample has.
    correlations, correlation_info = correlations_table(
        posterior, continuous, diagnostics.get("ess_bulk_min", math.inf),
        f"posterior of {parent} updated with {evidence_names} ({result.method}, {date})")
    provenance = {
        "parent": priors_argument(priors.path) or priors.name,
        "parent_sha256": priors.sha256 or "",
        "evidence": [e.path or "" for e in result.evidence],
        "evidence_sha256": [e.sha256 or "" for e in result.evidence],
        "method": result.method, "date": date, "seed": seed_record(result.seed),
        "diagnostics": diagnostics,
        "rank_correlations": rank_correlations(posterior, uncertain) if len(uncertain) > 1 else {},
        "correlations": correlation_info,
    }
    description = (f"{priors.description or priors.name}; updated with {evidence_names}")
    # The parent's structural choices stay; a GPU chosen by name is now gpu_peak_flops.
    meta = {key: value for key, value in priors.meta.items()
            if key not in ("name", "description", "gpu", "model")}
    if priors.model_spec:
        meta["model"] = _model_relative_to(priors.model_spec, folder)
    document = {"meta": {"name": name, "description": description, **meta},
                "assumptions": assumptions}
    if correlations:
        document["correlations"] = correlations
    if priors.decision is not None:  # the decision does not change with the evidence
        decision = priors.decision
        document["decision"] = {"output": decision.output, "under_cost": decision.under_cost,
                                "over_cost": decision.over_cost,
                                **({"unit": decision.unit} if decision.unit else {}),
                                "source": decision.source}
    return {**document, "provenance": provenance}


def _model_relative_to(spec: str, folder: Path | None) -> str:
    """A model file (absolute ``FILE.py:NAME``) named relative to ``folder``, so the new prior
    file and the model can move together."""
    where, _, name = spec.rpartition(":")
    if folder is None or not where.endswith(".py"):
        return spec
    return f"{Path(os.path.relpath(where, Path(folder).resolve())).as_posix()}:{name}"


# --- a tiny TOML writer for this flat structure (tomllib reads, nothing in the stdlib writes) ---

def _string(text: str) -> str:
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b",
               "\f": "\\f"}
    out = []
    for ch in text:
        if ch in escapes:
            out.append(escapes[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # shortest round-trip form; TOML reads 1e+21, 0.25, 1e-05 alike
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _key(key: str) -> str:
    bare = key and all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in key)
    return key if bare else _string(key)


def dumps_toml(document: dict, header: str = "") -> str:
    """Nested dicts of scalars and lists -> TOML text: plain keys first, then sub-tables."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]

    def table(path: list[str], body: dict) -> None:
        plain = {k: v for k, v in body.items() if not isinstance(v, dict)}
        if path:
            lines.extend(["", "[" + ".".join(_key(p) for p in path) + "]"])
        lines.extend(f"{_key(k)} = {_value(v)}" for k, v in plain.items())
        for k, v in body.items():
            if isinstance(v, dict):
                table(path + [k], v)

    table([], document)
    return "\n".join(lines).lstrip("\n") + "\n"
