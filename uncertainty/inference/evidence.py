"""Evidence files -> validated observations.

An evidence file is TOML: a ``[meta]`` table and one ``[[observation]]`` table per observed
number (see the README). Each observation says which quantity it measures (any assumption or
any model output), the value, how noisy it is and where it comes from. Errors name the file,
the observation and the rule, like prior files: ``FILE: observation[i] (quantity): rule``.

Example
-------
>>> ev = evidence_from_dict({"observation": [{"quantity": "sora_params", "value": 3e9,
...     "noise": "lognormal", "sigma": 1.0, "source": "a guess"}]}, where="example")
>>> ev.observations[0].quantity
'sora_params'
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from ..errors import PriorError, UserError
from ..families import number  # the same number rule as prior files
from ..priors import read_toml

__all__ = [
    "NOISES",
    "TAGS",
    "EvidenceSet",
    "Observation",
    "evidence_from_dict",
    "load_evidence",
    "quantities_of",
]

NOISES = ("lognormal", "normal")
TAGS = ("P", "S", "D")
REQUIRED = ("quantity", "value", "noise", "sigma", "source")
ALLOWED = frozenset(REQUIRED + ("date", "tag", "note", "unit"))


@dataclass(frozen=True)
class Observation:
    """One observed number: ``value`` measures ``quantity`` with ``noise`` of width ``sigma``.

    ``lognormal``: log(value) ~ Normal(log(quantity), sigma); ``normal``: value ~
    Normal(quantity, sigma), sigma in the quantity's unit.
    """

    quantity: str
    value: float
    noise: str
    sigma: float
    source: str
    date: str = ""
    tag: str = ""
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.quantity} = {self.value:.4g} ({self.noise}, sigma {self.sigma:.3g})"


@dataclass(frozen=True)
class EvidenceSet:
    """The observations of one evidence file, with the file's facts."""

    observations: tuple[Observation, ...]
    description: str = ""
    path: str | None = None
    sha256: str | None = None
    meta: Mapping = field(default_factory=dict, repr=False)


def _text(value, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PriorError(f"{where}: '{key}' must be a non-empty string")
    return value


def _date(value, where: str) -> str:
    # TOML has a date type (date = 2025-11-10); a quoted ISO date is accepted too.
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise PriorError(f"{where}: 'date' must be a date like 2025-11-10, got {value!r}")


def _observation(spec, where: str, quantities: Iterable[str] | None) -> Observation:
    if not isinstance(spec, dict):
        raise PriorError(f"{where}: must be a table, got {spec!r}")
    quantity = spec.get("quantity")
    if quantity is not None:
        where = f"{where} ({quantity})"
    unknown = sorted(set(spec) - ALLOWED)
    if unknown:
        raise PriorError(f"{where}: unknown key '{unknown[0]}' "
                         f"(allowed: {', '.join(sorted(ALLOWED))})")
    for key in REQUIRED:
        if key not in spec:
            extra = " (every number needs one)" if key == "source" else ""
            raise PriorError(f"{where}: missing key '{key}'{extra}")
    if not isinstance(quantity, str) or not quantity.strip():
        raise PriorError(f"{where}: 'quantity' must name an assumption or output of the model")
    quantities = list(quantities) if quantities is not None else [quantity]
    if quantity not in quantities:
        close = difflib.get_close_matches(str(quantity), quantities, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise PriorError(f"{where}: unknown quantity '{quantity}' "
                         f"(any assumption or model output){hint}")
    noise = spec["noise"]
    if noise not in NOISES:
        raise PriorError(f"{where}: 'noise' must be one of {', '.join(NOISES)}, got {noise!r}")
    value = number(spec["value"], where, "value")
    sigma = number(spec["sigma"], where, "sigma")
    if sigma <= 0:
        raise PriorError(f"{where}: 'sigma' must be > 0, got {sigma:g}")
    if noise == "lognormal" and value <= 0:
        raise PriorError(f"{where}: lognormal noise needs a value > 0, got {value:g}")
    tag = spec.get("tag", "")
    if "tag" in spec and tag not in TAGS:
        raise PriorError(f"{where}: 'tag' must be one of {', '.join(TAGS)} "
                         f"(primary, secondary, derived), got {tag!r}")
    for key in ("note", "unit"):
        if key in spec:
            _text(spec[key], where, key)
    return Observation(quantity=quantity, value=value, noise=noise, sigma=sigma,
                       source=_text(spec["source"], where, "source"),
                       date=_date(spec["date"], where) if "date" in spec else "",
                       tag=tag, note=spec.get("note", ""))


def evidence_from_dict(data: Mapping, where: str = "evidence",
                       quantities: Iterable[str] | None = None) -> EvidenceSet:
    """Validate parsed evidence (``{"meta": {...}, "observation": [{...}, ...]}``).

    ``quantities`` are the names an observation may measure: every assumption and output of
    the model (:func:`quantities_of`); None accepts any name, checked later by ``update``.
    """
    known = tuple(quantities) if quantities is not None else None
    unknown = sorted(set(data) - {"meta", "observation"})
    if unknown:
        raise PriorError(f"{where}: unknown table '{unknown[0]}' (expected 'meta', 'observation')")
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise PriorError(f"{where}: 'meta' must be a table")
    if "description" in meta:
        _text(meta["description"], f"{where}: meta", "description")
    rows = data.get("observation")
    if not isinstance(rows, list) or not rows:
        raise PriorError(f"{where}: no [[observation]] tables")
    observations = tuple(_observation(spec, f"{where}: observation[{i}]", known)
                         for i, spec in enumerate(rows))
    return EvidenceSet(observations, description=meta.get("description", ""),
                       meta=MappingProxyType(dict(meta)))


def quantities_of(priors) -> tuple[str, ...]:
    """What evidence about ``priors`` may measure: every assumption, and every output of the
    priors' model."""
    outputs = tuple(priors.model.outputs) if priors.model is not None else ()
    return (*priors, *(name for name in outputs if name not in priors))


def load_evidence(path: str | Path, quantities: Iterable[str] | None = None) -> EvidenceSet:
    """Read and validate an evidence file; a bad one raises :class:`PriorError` (exit 2)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not an evidence file")
    if not path.exists():
        raise UserError(f"{path}: no such file")
    data, raw = read_toml(path)
    evidence = evidence_from_dict(data, where=str(path), quantities=quantities)
    return EvidenceSet(evidence.observations, evidence.description, path=str(path),
                       sha256=hashlib.sha256(raw).hexdigest(), meta=evidence.meta)
