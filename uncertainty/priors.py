"""Prior files -> validated prior objects.

A prior file is TOML: a ``[meta]`` table and one ``[assumptions.NAME]`` table per assumption
(see the README), optionally ``[platforms.NAME]`` demand tables and a ``[correlations]`` table of
Spearman rank correlations. :func:`priors_from_dict` validates any names and families (the general
engine); :func:`load_priors` reads a Sora prior file and also checks the canonical assumptions are
all there (absent structural ones take the article's neutral value) and that shares lie in (0, 1]
and sizes are > 0. ``[meta] attention`` and ``[meta] gpu`` choose the model's structure and GPU.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .copula import Copula, build_copula, parse_correlations
from .errors import PriorError, UserError
from .families import Family, Fixed, build
from .hardware import Accelerator, lookup_gpu, match_gpu
from .model import (
    ASSUMPTIONS,
    ATTENTION,
    DEFAULT_PLATFORMS,
    NEUTRAL,
    OPTIONAL_ASSUMPTIONS,
    model_for,
    platform_assumptions,
)

__all__ = [
    "DEFAULT_SOURCE",
    "PRIORS_DIR",
    "Prior",
    "PriorSet",
    "load_priors",
    "priors_from_dict",
    "resolve_priors_path",
]

DEFAULT_SOURCE = "default: the article's neutral value (absent from the file)"
PLATFORM_KEYS = ("minutes_per_day", "ai_share")

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
    # Spearman rank correlations {(a, b): rho} and their validated copula (None: independent).
    correlations: Mapping[tuple[str, str], float] = field(default_factory=dict)
    copula: Copula | None = None
    attention: str = "linear"
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    gpu: Accelerator | None = None  # the GPU gpu_peak_flops stands for, when known
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

    @property
    def model(self):
        """The compute model these priors call for (attention, platforms, costs), for one draw."""
        return model_for(self.attention, self.platforms, "gpu_hour_price_usd" in self.priors)


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
                     where: str = "priors", correlations: Mapping | None = None) -> PriorSet:
    """Validate a mapping of assumption name -> spec table, for any names and families.

    ``correlations`` is a ``[correlations]`` table: ``{"a,b": rho}`` (Spearman)."""
    if not isinstance(assumptions, Mapping) or not assumptions:
        raise PriorError(f"{where}: no assumptions given")
    priors = {key: _prior(key, spec, f"{where}: {key}") for key, spec in assumptions.items()}
    pairs, copula = _correlations(correlations, priors, where)
    return PriorSet(MappingProxyType(priors), name=name, description=description,
                    correlations=MappingProxyType(pairs), copula=copula)


def _correlations(table, priors: Mapping[str, Prior], where: str) -> tuple[dict, Copula | None]:
    if not table:
        return {}, None
    uncertain = {n for n, p in priors.items() if not p.is_fixed}
    pairs = parse_correlations(table, priors, uncertain, where)
    return pairs, build_copula(tuple(priors), pairs, where)


def _check_canonical(priors: Mapping[str, Prior], where: str, known: Mapping) -> None:
    for key in priors:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise PriorError(f"{where}: unknown assumption '{key}'{hint}")
    for key, quantity in known.items():
        if key not in priors:
            if key in OPTIONAL_ASSUMPTIONS:
                continue
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


def _platform_tables(platforms, assumptions: dict, where: str) -> tuple[str, ...]:
    """Expand ``[platforms.NAME]`` tables into ``NAME_minutes_per_day`` / ``NAME_ai_share``
    assumptions (in place); return every platform, the canonical two first."""
    if not isinstance(platforms, dict):
        raise PriorError(f"{where}: 'platforms' must hold [platforms.NAME] tables")
    names = list(DEFAULT_PLATFORMS)
    for platform, table in platforms.items():
        here = f"{where}: platforms.{platform}"
        if not platform.isidentifier() or not platform.islower():
            raise PriorError(f"{here}: a platform name must be lower-case letters, digits and _")
        if not isinstance(table, dict):
            raise PriorError(f"{here}: must be a table with {' and '.join(PLATFORM_KEYS)}")
        unknown = sorted(set(table) - set(PLATFORM_KEYS))
        if unknown:
            raise PriorError(f"{here}: unknown key '{unknown[0]}' (allowed: {', '.join(PLATFORM_KEYS)})")
        for key, assumption in zip(PLATFORM_KEYS, platform_assumptions(platform)):
            if key not in table:
                raise PriorError(f"{here}: missing key '{key}'")
            if assumption in assumptions:
                raise PriorError(f"{here}: {key} is also given as [assumptions.{assumption}]; "
                                 "give it once")
            assumptions[assumption] = table[key]
        if platform not in names:
            names.append(platform)
    return tuple(names)


def _known_assumptions(platforms: tuple[str, ...]) -> dict:
    """Every assumption a file may give: canonical, optional, and the platforms' pairs."""
    known = {**ASSUMPTIONS, **OPTIONAL_ASSUMPTIONS}
    for platform in platforms:
        minutes, share = platform_assumptions(platform)
        known.setdefault(minutes, ASSUMPTIONS["tiktok_minutes_per_day"])
        known.setdefault(share, ASSUMPTIONS["tiktok_ai_share"])
    return known


def _choose_gpu(meta: dict, assumptions: dict, gpu: str | None, where: str) -> Accelerator | None:
    """Apply ``--gpu`` (``gpu``) or ``[meta] gpu``: gpu_peak_flops becomes the catalogue's value."""
    if gpu is None and "gpu" in meta:
        if "gpu_peak_flops" in assumptions:
            raise PriorError(f"{where}: give either [meta] gpu or [assumptions.gpu_peak_flops], "
                             "not both")
        gpu = meta["gpu"]
        chosen = lookup_gpu(gpu, f"{where}: meta: gpu")
    elif gpu is not None:
        chosen = lookup_gpu(gpu)
    else:
        return None
    assumptions["gpu_peak_flops"] = {
        "dist": "fixed", "value": chosen.peak_flops, "unit": "FLOP/s",
        "source": f"{chosen.full_name}, dense {chosen.precision.upper()} peak: {chosen.source}"}
    return chosen


def _fill_neutral(priors: dict) -> None:
    """An absent structural assumption takes the article's neutral value, fixed, saying so."""
    for key, value in NEUTRAL.items():
        if key not in priors:
            priors[key] = Prior(name=key, dist=Fixed(float(value)), source=DEFAULT_SOURCE,
                                unit=ASSUMPTIONS[key].unit,
                                spec=MappingProxyType({"dist": "fixed", "value": value}))


def load_priors(path: str | Path, gpu: str | None = None) -> PriorSet:
    """Read, validate and return a Sora prior file (a path, or a name in ``priors/``).

    ``gpu`` (``NAME`` or ``NAME:fp8``, from ``--gpu``) sets ``gpu_peak_flops`` from the accelerator
    catalogue, overriding the file."""
    path = resolve_priors_path(path)
    data, raw = read_toml(path)
    where = str(path)
    tables = ("meta", "assumptions", "platforms", "correlations", "provenance")
    unknown = sorted(set(data) - set(tables))
    if unknown:
        raise PriorError(f"{where}: unknown table '{unknown[0]}' (expected {', '.join(tables)})")
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise PriorError(f"{where}: 'meta' must be a table")
    # Written by `sora-uq update`: where an updated file came from (parent, evidence, hashes).
    provenance = data.get("provenance", {})
    if not isinstance(provenance, dict):
        raise PriorError(f"{where}: 'provenance' must be a table")
    attention = meta.get("attention", "linear")
    if attention not in ATTENTION:
        raise PriorError(f"{where}: meta: attention must be one of "
                         f"{', '.join(repr(a) for a in ATTENTION)}, got {attention!r}")
    assumptions = data.get("assumptions", {})
    if not isinstance(assumptions, dict):
        raise PriorError(f"{where}: no [assumptions.*] tables")
    assumptions = dict(assumptions)
    platforms = _platform_tables(data.get("platforms", {}), assumptions, where)
    if not assumptions:
        raise PriorError(f"{where}: no [assumptions.*] tables")
    if "model_width" in assumptions and attention != "quadratic":
        raise PriorError(f"{where}: model_width is used only with [meta] attention = \"quadratic\"")
    chosen = _choose_gpu(meta, assumptions, gpu, where)
    priors = dict(priors_from_dict(assumptions, where=where).priors)
    known = _known_assumptions(platforms)
    _fill_neutral(priors)
    _check_canonical(priors, where, known)
    ordered = {key: priors[key] for key in known if key in priors}
    pairs, copula = _correlations(data.get("correlations"), ordered, where)
    if chosen is None and priors["gpu_peak_flops"].is_fixed:
        chosen = match_gpu(priors["gpu_peak_flops"].dist.value)
    name = meta.get("name", path.stem)
    _check_text(name, f"{where}: meta", "name")
    if "description" in meta:
        _check_text(meta["description"], f"{where}: meta", "description")
    return PriorSet(MappingProxyType(ordered), name=name, description=meta.get("description", ""),
                    path=str(path), sha256=hashlib.sha256(raw).hexdigest(),
                    meta=MappingProxyType(dict(meta)), correlations=MappingProxyType(pairs),
                    copula=copula, attention=attention, platforms=platforms, gpu=chosen,
                    provenance=MappingProxyType(dict(provenance)))


def is_finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
