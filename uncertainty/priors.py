"""Prior files -> validated prior objects.

A prior file is TOML: a ``[meta]`` table and one ``[assumptions.NAME]`` table per assumption
(see the README). :func:`priors_from_dict` validates any names and families (the general engine);
:func:`load_priors` reads a Sora prior file and also checks the canonical assumptions are all there
and that shares lie in (0, 1] and sizes are > 0.

Example
-------
>>> p = priors_from_dict({"x": {"dist": "uniform", "low": 0.0, "high": 2.0, "source": "test"}})
>>> p["x"].dist.describe()
'uniform(low=0, high=2)'
"""

from __future__ import annotations

import difflib
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from .errors import PriorError, UserError
from .families import Family, build
from .model import ASSUMPTIONS

__all__ = ["Prior", "PriorSet", "load_priors", "priors_from_dict", "resolve_priors_path",
           "PRIORS_DIR"]

# The priors shipped with the repository (a checkout's priors/ folder).
PRIORS_DIR = Path(__file__).resolve().parent.parent / "priors"


@dataclass(frozen=True)
class Prior:
    """One assumption: its distribution and what a reader needs to judge it."""

    name: str
    dist: Family
    source: str
    unit: str = ""
    note: str = ""
    spec: Mapping = field(default_factory=dict, repr=False)

    @property
    def is_fixed(self) -> bool:
        return self.dist.name == "fixed"


@dataclass(frozen=True)
class PriorSet(Mapping):
    """An ordered, read-only mapping of assumption name -> :class:`Prior`, with the file's facts."""

    priors: Mapping[str, Prior]
    name: str = "priors"
    description: str = ""
    path: str | None = None
    sha256: str | None = None
    meta: Mapping = field(default_factory=dict, repr=False)
    provenance: Mapping = field(default_factory=dict, repr=False)

    def __getitem__(self, key: str) -> Prior:
        return self.priors[key]

    def __iter__(self):
        return iter(self.priors)

    def __len__(self) -> int:
        return len(self.priors)

    @property
    def uncertain(self) -> tuple[str, ...]:
        return tuple(n for n, p in self.priors.items() if not p.is_fixed)


def _check_text(value, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PriorError(f"{where}: '{key}' must be a non-empty string")
    return value


def _prior(name: str, spec, where: str) -> Prior:
    if not isinstance(spec, dict):
        raise PriorError(f"{where}: must be a table with 'dist' and 'source', got {spec!r}")
    if "dist" not in spec:
        raise PriorError(f"{where}: missing key 'dist'")
    if "source" not in spec:
        raise PriorError(f"{where}: missing key 'source' (every number needs one)")
    _check_text(spec["source"], where, "source")
    for key in ("unit", "note"):
        if key in spec:
            _check_text(spec[key], where, key)
    dist = build(spec, where)
    return Prior(name=name, dist=dist, source=spec["source"], unit=spec.get("unit", ""),
                 note=spec.get("note", ""), spec=MappingProxyType(dict(spec)))


def priors_from_dict(assumptions: Mapping, *, name: str = "priors", description: str = "",
                     where: str = "priors") -> PriorSet:
    """Validate a mapping of assumption name -> spec table, for any names and families."""
    if not isinstance(assumptions, Mapping) or not assumptions:
        raise PriorError(f"{where}: no assumptions given")
    priors = {key: _prior(key, spec, f"{where}: {key}") for key, spec in assumptions.items()}
    return PriorSet(MappingProxyType(priors), name=name, description=description)


def _check_canonical(priors: Mapping[str, Prior], where: str) -> None:
    for key in priors:
        if key not in ASSUMPTIONS:
            close = difflib.get_close_matches(key, ASSUMPTIONS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise PriorError(f"{where}: unknown assumption '{key}'{hint}")
    for key, quantity in ASSUMPTIONS.items():
        if key not in priors:
            raise PriorError(f"{where}: missing assumption '{key}' ({quantity.label})")
        dist = priors[key].dist
        low, high = dist.support
        if quantity.kind == "share" and not (dist.strictly_positive and high <= 1):
            raise PriorError(f"{where}: {key}: a share must lie in (0, 1]; "
                             f"{priors[key].dist.describe()} reaches [{low:g}, {high:g}]")
        if quantity.kind == "positive" and not dist.strictly_positive:
            raise PriorError(f"{where}: {key}: must be > 0; "
                             f"{priors[key].dist.describe()} reaches {low:g}")


def resolve_priors_path(name_or_path: str | Path) -> Path:
    """A path as given, or a bare name looked up as ``priors/NAME.toml``."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    if path.suffix == "" and len(path.parts) == 1:
        for folder in (Path("priors"), PRIORS_DIR):
            candidate = folder / f"{path.name}.toml"
            if candidate.is_file():
                return candidate
        known = sorted(p.stem for p in PRIORS_DIR.glob("*.toml"))
        raise UserError(f"{name_or_path}: no such prior file or name (known names: {', '.join(known)})")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not a prior file")
    raise UserError(f"{path}: no such file")


def read_toml(path: Path) -> tuple[dict, bytes]:
    """Parse a TOML file; errors name the file and, for syntax, the line."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PriorError(f"{path}: not a text file (invalid UTF-8)") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PriorError(f"{path}: TOML syntax error: {err}") from None
    if not data:
        raise PriorError(f"{path}: empty file; expected [meta] and [assumptions.*] tables")
    return data, raw


def load_priors(path: str | Path) -> PriorSet:
    """Read, validate and return a Sora prior file (a path, or a name in ``priors/``)."""
    path = resolve_priors_path(path)
    data, raw = read_toml(path)
    where = str(path)
    unknown = sorted(set(data) - {"meta", "assumptions", "provenance"})
    if unknown:
        raise PriorError(f"{where}: unknown table '{unknown[0]}' "
                         "(expected 'meta', 'assumptions', 'provenance')")
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise PriorError(f"{where}: 'meta' must be a table")
    # Written by `sora-uq update`: where an updated file came from (parent, evidence, hashes).
    provenance = data.get("provenance", {})
    if not isinstance(provenance, dict):
        raise PriorError(f"{where}: 'provenance' must be a table")
    assumptions = data.get("assumptions")
    if not isinstance(assumptions, dict) or not assumptions:
        raise PriorError(f"{where}: no [assumptions.*] tables")
    priors = priors_from_dict(assumptions, where=where).priors
    _check_canonical(priors, where)
    ordered = {key: priors[key] for key in ASSUMPTIONS}
    name = meta.get("name", path.stem)
    _check_text(name, f"{where}: meta", "name")
    return PriorSet(MappingProxyType(ordered), name=name, description=meta.get("description", ""),
                    path=str(path), sha256=hashlib.sha256(raw).hexdigest(),
                    meta=MappingProxyType(dict(meta)),
                    provenance=MappingProxyType(dict(provenance)))


def is_finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
