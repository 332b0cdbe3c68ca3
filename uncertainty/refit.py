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

The dependence the refit cannot carry in independent marginals is recorded as posterior
Spearman rank correlations under ``[provenance.rank_correlations]``.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

from .model import ASSUMPTIONS
from .priors import PriorSet

__all__ = ["refit_marginal", "rank_correlations", "new_prior_document", "dumps_toml",
           "sha256_of"]


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
    if name == "discrete":
        probs = discrete_posterior or {}
        values = list(family.values)
        return {"values": values, "weights": [round(float(probs.get(v, 0.0)), 6) for v in values]}
    raise ValueError(f"no refit rule for family '{name}'")


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


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def new_prior_document(result, name: str, date: datetime.date | None = None) -> dict:
    """The new prior file as nested dicts: ``meta``, ``assumptions``, ``provenance``."""
    priors: PriorSet = result.priors
    posterior = result.tree["posterior"]
    date = (date or datetime.date.today()).isoformat()
    evidence_names = ", ".join(Path(e.path).name if e.path else "evidence" for e in result.evidence)
    parent = Path(priors.path).name if priors.path else priors.name
    assumptions = {}
    for key, prior in priors.items():
        spec = {"dist": prior.dist.name}
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
    provenance = {
        "parent": priors.path or priors.name, "parent_sha256": priors.sha256 or "",
        "evidence": [e.path or "" for e in result.evidence],
        "evidence_sha256": [e.sha256 or "" for e in result.evidence],
        "method": result.method, "date": date, "seed": result.seed,
        "diagnostics": diagnostics,
        "rank_correlations": rank_correlations(posterior, uncertain) if len(uncertain) > 1 else {},
    }
    description = (f"{priors.description or priors.name}; updated with {evidence_names}")
    return {"meta": {"name": name, "description": description}, "assumptions": assumptions,
            "provenance": provenance}


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


def canonical_order(document: dict) -> dict:
    """Assumptions in the model's order when they are the Sora model's (for readable files)."""
    assumptions = document["assumptions"]
    if set(assumptions) == set(ASSUMPTIONS):
        document["assumptions"] = {k: assumptions[k] for k in ASSUMPTIONS}
    return document
