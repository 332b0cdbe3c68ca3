"""What the live page asks of the engine, without the web: a prior file, changed in a few
assumptions, summarised at once.

An :class:`Explorer` holds one prior file's parsed tables. :meth:`Explorer.summary` applies
*overrides* (``{NAME: {family fields, as in a prior file}}``) to a copy, validates it exactly as
the command line would (same one-line messages), and runs a fixed number of draws with a fixed
key: common random numbers, so moving one assumption moves the intervals smoothly instead of
making them jitter. Family parameters travel as traced data (see
:meth:`~uncertainty.families.Family.icdf_plan`), so a changed number reuses the compiled
program; only a change of family or of which assumptions are fixed compiles anew.

:meth:`Explorer.save` writes the changed prior file (never over an existing file), each
changed assumption's ``source`` saying what it was changed from.

Example
-------
>>> ex = Explorer("article", samples=4096)
>>> low = ex.summary({"sora_params": {"dist": "lognormal", "ci": [2e9, 5e9]}})
>>> high = ex.summary({"sora_params": {"dist": "lognormal", "ci": [40e9, 90e9]}})
>>> def median(answer): return answer["outputs"]["training_gpu_months"]["median"]
>>> median(low) < median(high)
True
"""

from __future__ import annotations

import copy
import datetime
import difflib
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..defaults import DEFAULT_EXPLORE_SAMPLES
from ..errors import PriorError, UserError
from ..jsontext import carried
from ..priors import (
    PriorSet,
    priors_argument,
    priors_from_document,
    read_toml,
    resolve_priors_path,
)
from ..summary import possessive

__all__ = ["DEFAULT_EXPLORE_SAMPLES", "Explorer", "editable_spec"]

HISTOGRAM_BINS = 60
TORNADO_BARS = 8  # per output: the page shows the drivers, not every assumption
_CACHED_ANSWERS = 64


def editable_spec(prior) -> dict:
    """An assumption's table as the page edits it: a 90% interval for the families stated by
    one (lognormal, normal, beta), the family's own parameters otherwise.

    >>> from uncertainty import load_priors
    >>> editable_spec(load_priors("article")["clip_seconds"])
    {'dist': 'pert', 'low': 20.0, 'mode': 60.0, 'high': 60.0}
    """
    dist = prior.dist
    if dist.interval_form:
        if "ci" in prior.spec and prior.spec.get("level", 0.9) == 0.9:
            return {"dist": dist.name, "ci": [float(v) for v in prior.spec["ci"]]}
        return {"dist": dist.name, "ci": [_quantile(dist, q) for q in (0.05, 0.95)]}
    return {"dist": dist.name, **_plain(dist.params())}


def _quantile(dist, q: float) -> float:
    """The ``q`` quantile in float64 (bisection of the host CDF around the float32 one), to 6
    significant digits: an interval the user can read."""
    guess = dist.quantile(q)
    lo, hi = guess - 1e-3 * abs(guess) - 1e-30, guess + 1e-3 * abs(guess) + 1e-30
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if float(dist.cdf(mid)) < q else (lo, mid)
    return float(f"{0.5 * (lo + hi):.6g}")


def _plain(value):
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class Explorer:
    """One prior file (and its model), ready to be summarised under overrides."""

    def __init__(self, priors: str | Path = "article", model: str | None = None,
                 samples: int = DEFAULT_EXPLORE_SAMPLES, seed: int = 0):
        self.path = resolve_priors_path(priors)
        self.document, self.raw = read_toml(self.path)
        self.model_option = model
        self.samples = samples
        self.seed = seed
        self.base: PriorSet = priors_from_document(self.document, self.raw, self.path, model)
        self.model = self.base.model
        self._answers: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()  # one computation at a time: two cores, one program

    # --- what the page shows first ------------------------------------------------------------
    def description(self) -> dict:
        """The prior file as the page lists it: every assumption's editable table, its source,
        unit and support, and the model's outputs."""
        model = self.model
        assumptions = {}
        for name, prior in self.base.items():
            low = prior.dist.support[0]
            assumptions[name] = {
                "spec": editable_spec(prior), "family": prior.dist.describe(),
                "fixed": prior.is_fixed, "source": prior.source, "unit": self.base.unit(name),
                "label": model.label(name),
                "kind": model.input(name).kind, "nonnegative": low >= 0,
                "editable": _editable(prior),
            }
        return carried({
            "title": model.title or model.name, "priors": self.base.name,
            "path": _shown_path(self.path), "description": self.base.description,
            "samples": self.samples, "seed": self.seed, "headline": list(model.headline),
            "outputs": {name: {"unit": model.unit(name), "label": model.label(name)}
                        for name in model.outputs},
            "marks_label": model.marks_label, "marks_owner": possessive(model.marks_label),
            "assumptions": assumptions,
            "correlations": {f"{a},{b}": rho for (a, b), rho in self.base.correlations.items()},
        })

    # --- the live answer ------------------------------------------------------------------------
    def priors_with(self, overrides: Mapping) -> PriorSet:
        """The loaded priors with ``overrides`` applied and validated like a prior file."""
        document = self._document_with(overrides)
        raw = self.raw + json.dumps(overrides, sort_keys=True).encode()
        return priors_from_document(document, raw, self.path, self.model_option)

    def summary(self, overrides: Mapping) -> dict:
        """Headline intervals, histograms and tornado under ``overrides`` (cached by value)."""
        key = json.dumps(overrides, sort_keys=True)
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
            answer = self._compute(self.priors_with(overrides))
            self._answers[key] = answer
            if len(self._answers) > _CACHED_ANSWERS:
                self._answers.popitem(last=False)
            return answer

    def _compute(self, priors: PriorSet) -> dict:
        from ..sensitivity.tornado import tornado
        from ..streaming import stream
        from ..summary import headline_mcse, summarize

        started = time.perf_counter()
        result = stream(priors, seed=self.seed, n=self.samples, rtol=None, model=self.model,
                        keep=self.samples)
        stats = summarize(result)
        headline = [name for name in self.model.headline if name in stats]
        swings = tornado(priors, model=self.model, outputs=headline) if priors.uncertain else None
        return carried({
            "outputs": stats, "headline": headline, "samples": result.n, "seed": self.seed,
            "relative_mcse": headline_mcse(stats, headline),
            "histograms": {name: _histogram(result.kept[name]) for name in headline},
            "tornado": {name: _top_bars(entry) for name, entry in
                        (swings["outputs"].items() if swings else ())},
            "seconds": round(time.perf_counter() - started, 3),
        })

    # --- saving -------------------------------------------------------------------------------
    def save(self, overrides: Mapping, folder: str | Path = ".") -> Path:
        """Write the changed prior file in ``folder`` as ``<stem>-explored-<n>.toml`` with the
        first free ``n`` (never over an existing file); returns its path."""
        from ..inference.refit import dumps_toml

        self.priors_with(overrides)  # refuse what would not load
        folder = Path(folder)
        document = self._document_with(overrides, folder=folder)
        changed = ", ".join(sorted(overrides)) or "nothing"
        header = (f"Written by sora-uq explore on {datetime.date.today().isoformat()} from "
                  f"{self.path.name} (sha256 {hashlib.sha256(self.raw).hexdigest()[:12]}); "
                  f"changed: {changed}.")
        for n in range(1, 10_000):
            path = folder / f"{self.path.stem}-explored-{n}.toml"
            document["meta"]["name"] = path.stem
            text = dumps_toml(document, header)
            try:
                with open(path, "x", encoding="utf-8") as handle:  # "x": never replace a file
                    handle.write(text)
            except FileExistsError:
                continue
            except OSError as err:
                raise UserError(f"{path}: cannot write the prior file ({err.strerror})") from None
            return path
        raise UserError(f"{folder}: no free name for a new prior file")

    def _document_with(self, overrides: Mapping, folder: Path | None = None) -> dict:
        """A copy of the file's tables with ``overrides`` in place (and, when it is to be
        written in ``folder``, a model file named relative to it)."""
        where = str(self.path)
        if not isinstance(overrides, Mapping):
            raise PriorError(f"{where}: 'assumptions' must be a table of assumption name -> "
                             "{dist = ..., ...}")
        document = copy.deepcopy(self.document)
        document.setdefault("meta", {})
        assumptions = document.setdefault("assumptions", {})
        for name, spec in overrides.items():
            if name not in self.base:
                close = difflib.get_close_matches(str(name), list(self.base), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise PriorError(f"{where}: unknown assumption '{name}'{hint}")
            if not isinstance(spec, Mapping):
                raise PriorError(f"{where}: {name}: must be a table like "
                                 "{dist = \"lognormal\", ci = [low, high]}")
            assumptions[name] = self._changed_table(name, dict(spec))
        if folder is not None and self.base.model_spec:
            from ..inference.refit import _model_relative_to

            document["meta"]["model"] = _model_relative_to(self.base.model_spec, folder)
        return document

    def _changed_table(self, name: str, spec: dict) -> dict:
        """An override as a prior-file table: the file's unit and note kept, and a source that
        says what the assumption was changed from."""
        prior = self.base[name]
        table = {key: value for key, value in spec.items() if key not in ("source", "unit")}
        if prior.unit:
            table["unit"] = prior.unit
        table["source"] = (f"changed in sora-uq explore from {prior.dist.describe()}; "
                           f"the file's source: {prior.source}")
        if prior.note and "note" not in table:
            table["note"] = prior.note
        return table


def _shown_path(path: Path) -> str:
    """A path as the user would type it: a shipped prior file by its name, another relative to
    the working directory when inside it."""
    named = priors_argument(path)
    if named != str(path):
        return named
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _editable(prior) -> list[str]:
    """The keys of the editable table the page shows as sliders (numbers and lists of them)."""
    spec = editable_spec(prior)
    return [key for key, value in spec.items() if key != "dist" and _numeric(value)]


def _numeric(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, list) and all(_numeric(v) for v in value)


def _histogram(values: np.ndarray) -> dict:
    """Bins of the draws for the page's distribution figure: in log10 for positive outputs."""
    finite = values[np.isfinite(values)]
    log = bool(finite.size and np.all(finite > 0))
    x = np.log10(finite) if log else finite
    low, high = np.quantile(x, [0.001, 0.999]) if x.size else (0.0, 1.0)
    if not high > low:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(np.clip(x, low, high), bins=HISTOGRAM_BINS, range=(low, high))
    return {"log10": log, "edges": [float(e) for e in edges],
            "density": [float(c) for c in counts / max(counts.sum(), 1)]}


def _top_bars(entry: dict) -> dict:
    """The largest swings, leaving out the assumptions that do not move the output (beyond
    float32 rounding: an assumption that cancels out, like the parameter count in the
    breakeven, still swings it by a few parts in 1e7)."""
    from ..sensitivity.tornado import moving_bars

    return {"base": entry["base"], "bars": moving_bars(entry)[:TORNADO_BARS]}

