"""Prior files -> validated prior objects, for any :class:`~uncertainty.model.Model`.

A prior file is TOML: a ``[meta]`` table and one ``[assumptions.NAME]`` table per assumption
(see the README), optionally a ``[correlations]`` table of Spearman rank correlations and a
``[decision]`` table (how much of one output to provide: :mod:`uncertainty.decision`). The model
comes from ``--model`` (the ``model`` argument), else ``[meta] model = "FILE.py:NAME"`` (a path
relative to the prior file), else the default model (the Sora model); a model with prior-file
extensions of its own reads them (:meth:`Model.read_file`). The assumptions are then checked
against the model's inputs: an unknown or missing one is an error naming the key, an input
with a default takes it when absent, and shares and positive sizes must stay in range.

Example
-------
>>> p = priors_from_dict({"x": {"dist": "uniform", "low": 0.0, "high": 2.0, "source": "test"}})
>>> p["x"].dist.describe()
'uniform(low=0, high=2)'
"""

from __future__ import annotations

import difflib
import hashlib
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from .copula import Copula, build_copula, parse_correlations
from .decision import Decision, parse_decision
from .defaults import DEFAULT_MODEL
from .errors import PriorError, UserError
from .families import Family, Fixed, build
from .families.base import shown
from .model import Model, ModelFile, Quantity, load_model

__all__ = [
    "Prior",
    "PriorSet",
    "assumptions_record",
    "default_model",
    "load_priors",
    "priors_argument",
    "priors_from_dict",
    "priors_from_document",
    "read_toml",
    "resolve_model",
    "resolve_priors_path",
    "structure_record",
]

ENGINE_TABLES = ("meta", "assumptions", "correlations", "provenance", "decision")


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
    # The model these priors are for (None: priors alone, from priors_from_dict without one),
    # and the structural facts it read from the file (the Sora model's GPU, attention, ...).
    model: Model | None = field(default=None, repr=False)
    model_spec: str = ""  # how a model other than the default was named, to write it again
    structure: Mapping = field(default_factory=dict, repr=False)
    provenance: Mapping = field(default_factory=dict, repr=False)
    # The file's [decision] table: how much of one output to provide (None: the file has none).
    decision: Decision | None = None

    def __getitem__(self, key: str) -> Prior:
        return self.priors[key]

    def __iter__(self):
        return iter(self.priors)

    def __len__(self) -> int:
        return len(self.priors)

    @property
    def uncertain(self) -> tuple[str, ...]:
        return tuple(n for n, p in self.priors.items() if not p.is_fixed)

    def unit(self, name: str) -> str:
        """The unit of an assumption: the prior file's, else the model's."""
        unit = self.priors[name].unit if name in self.priors else ""
        return unit or (self.model.unit(name) if self.model is not None else "")


def _check_text(value, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PriorError(f"{where}: '{key}' must be a non-empty string")
    return value


def _check_name(value, where: str) -> str:
    """``[meta] name``: a label that may head a report or a folder, so never a path."""
    _check_text(value, where, "name")
    bad = (any(c in value for c in "/\\") or value.startswith(".") or len(value) > 100
           or any(not c.isprintable() for c in value))
    if bad:
        raise PriorError(f"{where}: 'name' must be a plain name of at most 100 printable "
                         f"characters, not a path (no '/' or '\\', no leading '.'), "
                         f"got {shown(value)}")
    return value


def _prior(name: str, spec, where: str) -> Prior:
    if not isinstance(spec, dict):
        raise PriorError(f"{where}: must be a table with 'dist' and 'source', got {shown(spec)}")
    if "dist" not in spec:
        raise PriorError(f"{where}: missing key 'dist'")
    if not isinstance(spec["dist"], str):
        raise PriorError(f"{where}: 'dist' must be the name of a family (text), "
                         f"got {shown(spec['dist'])}")
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
                     where: str = "priors", correlations: Mapping | None = None,
                     model: Model | None = None) -> PriorSet:
    """Validate a mapping of assumption name -> spec table, for any names and families.

    ``correlations`` is a ``[correlations]`` table: ``{"a,b": rho}`` (Spearman). With a
    ``model``, the assumptions are checked against its inputs (and put in its order)."""
    if not isinstance(assumptions, Mapping) or not assumptions:
        raise PriorError(f"{where}: no assumptions given")
    priors = {key: _prior(key, spec, f"{where}: {key}") for key, spec in assumptions.items()}
    if model is not None:
        priors = _against_model(priors, model, where)
    pairs, copula = _correlations(correlations, priors, where)
    return PriorSet(MappingProxyType(priors), name=name, description=description,
                    correlations=MappingProxyType(pairs), copula=copula, model=model)


def _correlations(table, priors: Mapping[str, Prior], where: str) -> tuple[dict, Copula | None]:
    if not table:
        return {}, None
    uncertain = {n for n, p in priors.items() if not p.is_fixed}
    pairs = parse_correlations(table, priors, uncertain, where)
    return pairs, build_copula(tuple(priors), pairs, where)


def _against_model(priors: dict[str, Prior], model: Model, where: str,
                   check_outputs: bool = True) -> dict[str, Prior]:
    """The priors checked against the model's inputs, defaults filled in, in the model's order;
    and, with ``check_outputs``, the outputs the model returns for them (traced: JAX)."""
    inputs = model.input_names
    for key in priors:
        if key not in inputs:
            close = difflib.get_close_matches(key, inputs, n=1)
            hint = (f"; did you mean '{close[0]}'?" if close
                    else f" (not an input of the model '{model.name}')")
            raise PriorError(f"{where}: unknown assumption '{key}'{hint}")
    filled = dict(priors)
    for key in inputs:
        quantity = model.input(key)
        if key not in filled:
            if quantity.default is not None:
                filled[key] = _default_prior(key, quantity)
            elif key in model.optional_inputs:
                continue
            else:
                label = f" ({quantity.label})" if quantity.label else ""
                raise PriorError(f"{where}: missing assumption '{key}'{label}")
        _check_kind(filled[key], quantity, where)
    ordered = {key: filled[key] for key in inputs if key in filled}
    if check_outputs:
        model.check_outputs(ordered)
    return ordered


def _default_prior(name: str, quantity: Quantity) -> Prior:
    """An absent input with a default: fixed at it, the source saying so."""
    value = float(quantity.default)
    return Prior(name=name, dist=Fixed(value), source=quantity.default_source or
                 "default: the model's value (absent from the file)", unit=quantity.unit,
                 spec=MappingProxyType({"dist": "fixed", "value": quantity.default}))


def _check_kind(prior: Prior, quantity: Quantity, where: str) -> None:
    dist, key = prior.dist, prior.name
    low, high = dist.support
    if quantity.kind == "share" and not (dist.strictly_positive and high <= 1):
        raise PriorError(f"{where}: {key}: a share must lie in (0, 1]; "
                         f"{dist.describe()} reaches [{low:g}, {high:g}]")
    if quantity.kind == "positive" and not dist.strictly_positive:
        raise PriorError(f"{where}: {key}: must be > 0; {dist.describe()} reaches {low:g}")


# --- finding prior files and models ---------------------------------------------------------

@cache
def default_model() -> Model:
    """The model a prior file gets when neither ``--model`` nor ``[meta] model`` names one."""
    return load_model(DEFAULT_MODEL)


def resolve_model(model: Model | str | None, meta: Mapping | None = None,
                  path: Path | None = None) -> tuple[Model, str]:
    """The model and how to name it again (a file made absolute; "" for the default).

    ``--model`` (a Model or its name) wins; then ``[meta] model`` (relative to the prior file's
    folder); then :func:`default_model`."""
    if isinstance(model, Model):
        return model, model.spec
    if model is not None:
        return load_model(model), _absolute(model, Path.cwd())
    named = (meta or {}).get("model")
    if named is None:
        return default_model(), ""
    where = f"{path}: meta: model" if path else "meta: model"
    if not isinstance(named, str) or not named.strip():
        raise PriorError(f"{where}: must be a string like \"model.py:NAME\"")
    folder = path.parent if path else Path.cwd()
    try:
        return load_model(named, relative_to=folder), _absolute(named, folder)
    except UserError as err:
        raise PriorError(f"{where}: {err}") from None


def _absolute(spec: str, folder: Path) -> str:
    where, _, name = spec.rpartition(":")
    return f"{(folder / where).resolve()}:{name}" if where.endswith(".py") else spec


def shipped_priors() -> list:
    """The prior files that ship with the package (``uncertainty/shipped_priors``: in a
    checkout, a link to the repository's ``priors/``, where they are read and edited)."""
    folder = resources.files("uncertainty").joinpath("shipped_priors")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name) \
        if folder.is_dir() else []


def assumptions_record(priors: PriorSet) -> dict:
    """Each assumption as ``summary.json`` and ``priors show --json`` give it: its family and
    parameters, exact median and 90% interval (the family's own quantiles), unit and source."""
    rows = {}
    for name, prior in priors.items():
        dist = prior.dist
        rows[name] = {
            "family": dist.name, "params": dist.params(), "unit": prior.unit,
            "median": dist.quantile(0.5), "q05": dist.quantile(0.05), "q95": dist.quantile(0.95),
            "source": prior.source,
        }
    return rows


def structure_record(priors: PriorSet) -> dict:
    """The model's structural choices (what its file reader found) and the correlations."""
    return {
        **priors.structure,
        "correlations": [{"a": a, "b": b, "spearman": rho}
                         for (a, b), rho in priors.correlations.items()],
    }


def priors_argument(path: str | Path | None) -> str:
    """How a command line names a prior file: one of the package's own by its name (it
    resolves so wherever the package is installed, from any folder), any other by its path as
    given. Reports write it in their repeat commands and documents, so that these read the same
    on every machine, not with the path of one installation.

    >>> shipped = {f.name: f for f in shipped_priors()}
    >>> priors_argument(shipped["informed-2026.toml"])  # where `--priors informed-2026` leads
    'informed-2026'
    >>> priors_argument("my-priors/article.toml")
    'my-priors/article.toml'
    """
    if path is None:
        return ""
    path = Path(path)
    shipped = {Path(os.path.abspath(f)): f.name[:-5] for f in shipped_priors()
               if isinstance(f, Path)}
    return shipped.get(Path(os.path.abspath(path)), str(path)) if path.is_absolute() \
        else str(path)


def resolve_priors_path(name_or_path: str | Path) -> Path:
    """A path as given, or a bare name: ``priors/NAME.toml`` here, else a shipped prior file."""
    path = Path(name_or_path)
    if path.is_file() or (path.exists() and not path.is_dir()):
        return path  # a pipe or a device too: read_toml refuses it by name, without reading it
    if path.suffix == "" and len(path.parts) == 1:
        candidate = Path("priors") / f"{path.name}.toml"
        if candidate.is_file():
            return candidate
        shipped = {f.name[:-5]: f for f in shipped_priors()}
        if path.name in shipped:
            with resources.as_file(shipped[path.name]) as found:
                return Path(found)
        raise UserError(f"{name_or_path}: no such prior file or name "
                        f"(known names: {', '.join(shipped)})")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not a prior file")
    raise UserError(f"{path}: no such file")


# A prior or evidence file is a few kilobytes; anything past this is not one.
MAX_FILE_BYTES = 16 * 2**20


def read_regular_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes, else a
    one-line :class:`UserError`. A FIFO, a device or a socket is refused without blocking on it
    (opened non-blocking, checked by ``fstat`` on the open descriptor), and a file that grows
    while read stops at ``limit`` + 1 bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UserError(f"{path}: is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{path}: not a regular file (a pipe, device or socket cannot be read)")
        if info.st_size > limit:
            raise UserError(f"{path}: too large ({info.st_size:,} bytes; at most {limit:,})")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(2**20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UserError(f"{path}: too large (more than {limit:,} bytes)")
        return b"".join(chunks)
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror})") from None
    finally:
        os.close(fd)


def read_toml(path: Path) -> tuple[dict, bytes]:
    """Parse a TOML file; errors name the file and, for syntax, the line."""
    raw = read_regular_file(Path(path))
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


def _table(data: dict, key: str, where: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise PriorError(f"{where}: '{key}' must be a table")
    return value


def load_priors(path: str | Path, model: Model | str | None = None, *, check_model: bool = True,
                **options) -> PriorSet:
    """Read, validate and return a prior file (a path, or a name in ``priors/``).

    ``model``: a :class:`Model` or its name (``FILE.py:NAME``), winning over ``[meta] model``.
    ``check_model=False`` skips tracing the model to check the outputs it returns (a JAX
    program): ``priors show`` prints a table without starting JAX; ``priors validate`` and every
    command that draws check them. ``options`` go to the model's file reader: the Sora model
    takes ``gpu`` (``NAME`` or ``NAME:fp8``, from ``--gpu``), which sets ``gpu_peak_flops``
    from its GPU catalogue."""
    path = resolve_priors_path(path)
    data, raw = read_toml(path)
    return priors_from_document(data, raw, path, model, check_model=check_model, **options)


def priors_from_document(data: dict, raw: bytes, path: Path, model: Model | str | None = None,
                         *, check_model: bool = True, **options) -> PriorSet:
    """:func:`load_priors` of a file's parsed ``data`` (and its bytes, for the hash), as if it
    were at ``path``: a file about to be written can be checked before it exists."""
    where = str(path)
    meta = _table(data, "meta", where)
    # Written by `sora-uq update`: where an updated file came from (parent, evidence, hashes).
    provenance = _table(data, "provenance", where)
    assumptions = data.get("assumptions", {})
    if not isinstance(assumptions, dict):
        raise PriorError(f"{where}: no [assumptions.*] tables")
    model, model_spec = resolve_model(model, meta, path)
    extra = {key: value for key, value in data.items() if key not in ENGINE_TABLES}
    options = {key: value for key, value in options.items() if value is not None}
    specs, model, structure = model.read_file(
        ModelFile(where, MappingProxyType(meta), MappingProxyType(extra), dict(assumptions),
                  MappingProxyType(options)))
    if not specs:
        raise PriorError(f"{where}: no [assumptions.*] tables")
    priors = {key: _prior(key, spec, f"{where}: {key}") for key, spec in specs.items()}
    ordered = _against_model(priors, model, where, check_model)
    pairs, copula = _correlations(data.get("correlations"), ordered, where)
    decision = parse_decision(data["decision"], model, where) if "decision" in data else None
    name = meta.get("name", path.stem)
    _check_name(name, f"{where}: meta")
    if "description" in meta:
        _check_text(meta["description"], f"{where}: meta", "description")
    return PriorSet(MappingProxyType(ordered), name=name, description=meta.get("description", ""),
                    path=str(path), sha256=hashlib.sha256(raw).hexdigest(),
                    meta=MappingProxyType(dict(meta)), correlations=MappingProxyType(pairs),
                    copula=copula, model=model, model_spec=model_spec,
                    structure=MappingProxyType(structure),
                    provenance=MappingProxyType(dict(provenance)), decision=decision)
