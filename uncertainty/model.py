"""What any model declares to the engine: :class:`Model`, and how one is named and loaded.

A model is a pure ``jax.numpy`` function of ONE draw (a dict of named arrays -> a dict of named
outputs, elementwise), the outputs it returns with their units, which of them a report leads
with (``headline``), and reference figures to place in their distributions (``marks``). The
engine (priors, sampling, streaming, summaries, sensitivity, update, report) takes a ``Model``
and knows nothing else about it.

A model is named on the command line (``--model``) or in a prior file (``[meta] model``) as
``path/to/file.py:NAME`` or ``package.module:NAME``; :func:`load_model` imports it. Loading a
model file runs it: it is Python code.

Example
-------
>>> import jax.numpy as jnp
>>> m = Model(lambda a: {"area": a["width"] * a["height"]}, {"area": "m^2"}, name="rectangle")
>>> m.input_names
('width', 'height')
>>> float(m({"width": jnp.float32(2.0), "height": jnp.float32(3.0)})["area"])
6.0
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import PriorError, UserError

# JAX is imported in the functions that trace a model: reading a model's names, units and
# labels (`sora-uq reproduce`) starts no JAX.

__all__ = ["KINDS", "Model", "ModelFile", "Quantity", "as_model", "load_model"]

KINDS = ("real", "positive", "share")


@dataclass(frozen=True)
class Quantity:
    """A named number of a model: its unit, what values it may take, and a readable label.

    ``kind``: ``"real"`` (any value), ``"positive"`` (> 0) or ``"share"`` (in (0, 1]); the
    priors of an input must respect it. ``default`` (inputs only) is the value an input takes,
    fixed, when a prior file leaves it out, with ``default_source`` as its source."""

    unit: str = ""
    kind: str = "real"
    label: str = ""
    default: float | None = None
    default_source: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")


def _quantity(spec: Any, where: str) -> Quantity:
    """A unit string, a mapping of Quantity's fields, or a Quantity -> Quantity."""
    if isinstance(spec, Quantity):
        return spec
    if isinstance(spec, str):
        return Quantity(unit=spec)
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - {"unit", "kind", "label", "default", "default_source"})
        if unknown:
            raise ValueError(f"{where}: unknown key '{unknown[0]}' (allowed: unit, kind, label)")
        return Quantity(**spec)
    raise ValueError(f"{where}: give a unit string or a table of unit, kind, label; got {spec!r}")


def _quantities(specs: Mapping | None, what: str) -> Mapping[str, Quantity] | None:
    if specs is None:
        return None
    if not isinstance(specs, Mapping):  # a list of names, units unknown
        specs = {name: "" for name in specs}
    return MappingProxyType({str(name): _quantity(spec, f"{what} '{name}'")
                             for name, spec in specs.items()})


@dataclass(frozen=True)
class ModelFile:
    """What a model may read from a prior file beyond ``[assumptions]`` and ``[correlations]``.

    ``assumptions`` is a fresh copy the model may extend (for example from tables of its own);
    ``options`` come from the command line (for example the Sora model's ``--gpu``)."""

    where: str
    meta: Mapping
    tables: Mapping  # the file's top-level tables the engine does not read itself
    assumptions: dict
    options: Mapping


@dataclass(frozen=True, eq=False)  # compared by identity: a jit static argument, hashed cheaply
class Model:
    """A model of one draw: ``fn(assumptions) -> outputs``, with what a report needs to know.

    Parameters
    ----------
    fn : callable
        Dict of named JAX arrays -> dict of named outputs, for one draw, pure ``jax.numpy``
        (the engine vectorises it with ``vmap``).
    outputs : mapping
        Output name -> its unit (a string) or a :class:`Quantity` (unit, kind, label). Every
        name ``fn`` returns must be listed.
    headline : sequence of str, optional
        What reports lead with and adaptive stopping watches (default: every output).
    name : str, optional
        A short name for messages and reports (default: ``fn``'s name).
    marks : mapping, optional
        Output name -> a reference figure or a ``(low, high)`` range, placed in the
        distribution (the article's figures are the Sora model's marks).
    inputs : mapping or sequence, optional
        The assumptions ``fn`` reads, with units and kinds; by default found by tracing ``fn``.
    marks_label : str
        Whose figures the marks are, in reports ("the article").
    title : str
        The heading of its reports (default: ``name``).
    """

    fn: Callable[[dict], dict]
    outputs: Mapping[str, Quantity]
    _: KW_ONLY
    headline: tuple[str, ...] | None = None
    name: str | None = None
    marks: Mapping[str, tuple[float, ...]] | None = None
    inputs: Mapping[str, Quantity] | None = None
    marks_label: str = "reference"
    title: str = ""  # a report's heading ("Sora compute"); default: the name
    spec: str = field(default="", compare=False)  # how the user named it (FILE.py:NAME), if so

    def __post_init__(self):
        if not callable(self.fn):
            raise TypeError(f"Model: fn must be callable, got {self.fn!r}")
        outputs = _quantities(self.outputs, "output")  # none: draw the priors alone
        headline = tuple(self.headline) if self.headline is not None else tuple(outputs)
        for name in headline:
            if name not in outputs:
                raise ValueError(f"Model: headline output '{name}' is not among the outputs")
        marks = {}
        for name, figure in (self.marks or {}).items():
            if name not in outputs:
                raise ValueError(f"Model: mark for '{name}', which is not an output")
            values = tuple(float(v) for v in (figure if isinstance(figure, (list, tuple))
                                              else (figure,)))
            if len(values) not in (1, 2):
                raise ValueError(f"Model: a mark is one figure or a (low, high) range; "
                                 f"'{name}' has {len(values)}")
            marks[name] = values
        set_ = object.__setattr__
        set_(self, "outputs", outputs)
        set_(self, "headline", headline)
        set_(self, "name", self.name or getattr(self.fn, "__name__", "model"))
        set_(self, "marks", MappingProxyType(marks))
        set_(self, "inputs", _quantities(self.inputs, "input"))

    def __call__(self, assumptions: dict) -> dict:
        return self.fn(assumptions)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name!r}, outputs={list(self.outputs)}, "
                f"headline={list(self.headline)})")

    # --- what the model reads ----------------------------------------------------------------
    @cached_property
    def input_names(self) -> tuple[str, ...]:
        """The assumptions ``fn`` reads: as declared, else found by tracing ``fn`` once."""
        if self.inputs is not None:
            return tuple(self.inputs)
        required, optional = traced_inputs(self.fn)
        return required + tuple(name for name in optional if name not in required)

    @cached_property
    def optional_inputs(self) -> frozenset[str]:
        """Inputs a prior file may leave out: declared with a default, or (found by tracing)
        read only through ``a.get(name, default)`` or tested with ``name in a``."""
        if self.inputs is not None:
            return frozenset(n for n, q in self.inputs.items() if q.default is not None)
        required, optional = traced_inputs(self.fn)
        return frozenset(optional) - set(required)

    def input(self, name: str) -> Quantity:
        return (self.inputs or {}).get(name, Quantity())

    def unit(self, name: str) -> str:
        """Unit of an output or input, "" when the model does not say."""
        if name in self.outputs:
            return self.outputs[name].unit
        return self.input(name).unit

    def label(self, name: str) -> str:
        quantity = self.outputs.get(name) or self.input(name)
        return quantity.label or name

    def read_file(self, file: ModelFile) -> tuple[dict, Model, dict]:
        """A prior file's assumptions -> (assumption tables, the model to run, structure facts).

        A plain model reads nothing beyond ``[assumptions]``; a model with file extensions of
        its own (the Sora model's ``[platforms]``, ``[meta] attention``) overrides this."""
        if file.tables:
            table = sorted(file.tables)[0]
            raise PriorError(f"{file.where}: unknown table '{table}' (expected meta, assumptions, "
                             "correlations, decision, provenance)")
        if file.options:
            option = sorted(file.options)[0]
            raise UserError(f"--{option}: the model '{self.name}' has no such option")
        return file.assumptions, self, {}

    def structure_lines(self, structure: Mapping, priors) -> list[str]:
        """The structural facts :meth:`read_file` found, in words (reports, ``priors show``)."""
        return [f"{key}: {value}" for key, value in structure.items()]

    def report_extras(self) -> dict:
        """Extra top-level entries of a report's ``summary.json`` (the Sora model: the article's
        arithmetic, reproduced); none by default."""
        return {}

    def describe(self) -> dict:
        """Name, marks and every output's unit and label, for a report's JSON."""
        return {"name": self.name, "title": self.title or self.name,
                "marks_label": self.marks_label,
                "headline": list(self.headline),
                "outputs": {name: {"unit": q.unit, "label": q.label or name}
                            for name, q in self.outputs.items()}}

    def check_outputs(self, assumptions: Mapping) -> None:
        """Raise UserError when ``fn`` does not return exactly the declared outputs."""
        import jax
        import jax.numpy as jnp

        probe = {name: jax.ShapeDtypeStruct((), jnp.float32) for name in assumptions}
        try:
            shapes = jax.eval_shape(self.fn, probe)
        except KeyError as err:
            raise UserError(f"model '{self.name}': reads assumption {err}, which the priors "
                            "do not give") from None
        except jax.errors.ConcretizationTypeError:
            raise UserError(f"model '{self.name}': {PYTHON_BRANCH}") from None
        returned = set(shapes) if isinstance(shapes, Mapping) else None
        if returned is None:
            raise UserError(f"model '{self.name}': must return a dict of outputs")
        missing = [n for n in self.outputs if n not in returned]
        extra = sorted(returned - set(self.outputs))
        if missing or extra:
            what = (f"does not return declared output '{missing[0]}'" if missing
                    else f"returns '{extra[0]}', which is not among its declared outputs")
            raise UserError(f"model '{self.name}': {what}")
        for name, shape in shapes.items():
            if getattr(shape, "shape", None) != ():
                raise UserError(f"model '{self.name}': output '{name}' must be one number per "
                                f"draw, got shape {getattr(shape, 'shape', type(shape).__name__)}")


# A model runs on traced arrays (one draw, vectorised by the engine): a Python branch on a value
# cannot be traced. What to write instead.
PYTHON_BRANCH = ("it branches on a draw's value in Python (if, and, or, bool(), int()), which "
                 "cannot run on the engine's traced arrays: use jnp.where(condition, a, b), "
                 "jnp.minimum or jnp.maximum instead")


class _Recorder(dict):
    """A dict of abstract inputs that remembers which keys the model asked for: those it must
    have (``a[name]``) and those it can do without (``a.get(name)``, ``name in a``)."""

    def __init__(self):
        super().__init__()
        self.required: list[str] = []
        self.optional: list[str] = []

    def __getitem__(self, key):
        import jax.numpy as jnp

        if key not in self.required:
            self.required.append(key)
        return jnp.ones((), jnp.float32)

    def get(self, key, default=None):
        if key not in self.optional:
            self.optional.append(key)
        return default

    def __contains__(self, key):
        self.get(key)
        return False


def traced_inputs(fn: Callable[[dict], dict]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keys ``fn`` reads from its argument, in the order it first reads them: those it
    indexes (required) and those it reads with ``a.get`` or tests with ``in`` (optional).

    >>> traced_inputs(lambda a: {"y": a["x"] * a.get("scale", 1.0)})
    (('x',), ('scale',))
    """
    import jax

    recorder = _Recorder()
    name = getattr(fn, "__name__", fn)
    try:
        jax.eval_shape(lambda: fn(recorder))
    except jax.errors.ConcretizationTypeError:
        raise UserError(f"model {name!r}: {PYTHON_BRANCH}") from None
    except Exception as err:  # noqa: BLE001 - any failure of user code becomes one line
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise UserError(f"model {name!r}: could not be traced to find its inputs "
                        f"({type(err).__name__}: {first}); declare them with "
                        "Model(..., inputs=[...])") from None
    return tuple(recorder.required), tuple(recorder.optional)


def as_model(model: Model | Callable | None, fallback: Model | None = None) -> Model:
    """``model`` as a :class:`Model`: a Model as it is; a plain one-draw function wrapped, with
    its outputs found by tracing; None -> ``fallback`` (the prior set's own model)."""
    if model is None:
        if fallback is None:
            raise UserError("no model: these priors name none; pass model=Model(...)")
        return fallback
    if isinstance(model, Model):
        return model
    if callable(model):
        return _wrap(model)
    raise TypeError(f"model must be a Model or a function, got {model!r}")


_WRAPPED: dict[int, tuple[Callable, Model]] = {}


def _wrap(fn: Callable) -> Model:
    """One Model per function (so a function passed twice compiles once)."""
    import jax
    import jax.numpy as jnp

    cached = _WRAPPED.get(id(fn))
    if cached is not None and cached[0] is fn:
        return cached[1]
    names, _ = traced_inputs(fn)
    shapes = jax.eval_shape(fn, {name: jax.ShapeDtypeStruct((), jnp.float32) for name in names})
    model = Model(fn, {name: "" for name in shapes}, name=getattr(fn, "__name__", "model"))
    _WRAPPED[id(fn)] = (fn, model)
    return model


def load_model(spec: str, relative_to: Path | None = None) -> Model:
    """The :class:`Model` named ``FILE.py:NAME`` or ``package.module:NAME``.

    A relative FILE is read from ``relative_to`` (a prior file's folder) when given, else from
    the working directory. The file is imported as a module: it is Python code and it runs."""
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise UserError(f"model '{spec}': name it as FILE.py:NAME or package.module:NAME")
    where, name = spec.rsplit(":", 1)
    module = (_module_from_file(where, relative_to) if where.endswith(".py")
              else _module(where, spec))
    if not hasattr(module, name):
        known = [k for k, v in vars(module).items() if isinstance(v, Model)]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else (
            f" (Models there: {', '.join(known)})" if known else " (it defines no Model)")
        raise UserError(f"model '{spec}': no name '{name}' in {where}{hint}")
    model = getattr(module, name)
    if not isinstance(model, Model):
        raise UserError(f"model '{spec}': '{name}' is a {type(model).__name__}, not an "
                        "uncertainty.Model")
    return model


def _module(dotted: str, spec: str):
    try:
        return importlib.import_module(dotted)
    except ImportError as err:
        raise UserError(f"model '{spec}': cannot import {dotted} ({err})") from None


_FILE_MODULES: dict[Path, Any] = {}


def _module_from_file(file: str, relative_to: Path | None):
    path = Path(file)
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    path = path.resolve()
    if path in _FILE_MODULES:  # one module per file: its Model objects keep their identity
        return _FILE_MODULES[path]
    if not path.is_file():
        raise UserError(f"{path}: no such model file")
    module_name = f"sora_uq_user_model_{len(_FILE_MODULES)}_{path.stem}"
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - the user's code failed: say where, one line
        del sys.modules[module_name]
        raise UserError(f"{path}: the model file failed to run ({type(err).__name__}: {err})") \
            from None
    _FILE_MODULES[path] = module
    return module
