"""The one place that writes an interval report to disk.

``report.html`` (self-contained), ``report.md`` (the same content), ``summary.json``,
``figures/*.svg``, ``draws.nc``, optionally the draws and the summary table as CSV or Parquet
(:mod:`uncertainty.report.export`), and ``timings.json``: the one file that differs between two
runs of the same command, kept apart so the others repeat byte for byte.

:func:`run_report` goes file -> priors -> draws -> summaries -> figures -> report;
:func:`summary_document`, :func:`render_markdown` and :func:`render_html` are pure, so a notebook
can call them with plain data. What the report says, section by section, is
in :mod:`uncertainty.report.sections`.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Collection, Iterator, Mapping
from functools import partial
from importlib import metadata
from pathlib import Path

import jax
import xarray as xr
from matplotlib.figure import Figure

from .. import __version__, jsontext
from ..defaults import MIN_ERROR_SAMPLES
from ..files import Provenance, check_output_directory, output_directory
from ..model import Model
from ..priors import PriorSet, assumptions_record, load_priors, priors_argument, structure_record
from ..progress import Feedback
from ..sampling import CHUNK_SIZE, seed_record, to_datatree
from ..sensitivity import (
    pin_down_by_value,
    pin_down_next,
    shapley_effects,
    sobol_document,
    top_driver_check,
    tornado,
    value_of_information,
)
from ..sensitivity.ranking import shapley_as_indices
from ..streaming import BINS, DEFAULT_RTOL, MAX_SAMPLES, StreamResult, stream
from ..summary import format_value, headline_mcse, summarize
from .blocks import FIGURES_DIR, Section, table_markdown, to_markdown
from .export import write_exports
from .figures import distribution_figure, prior_sketch, to_svg
from .html import to_html
from .plots import evppi_figure, moving_bars, shapley_figure, tornado_figure
from .sections import (
    REPORT_SECTIONS,
    headline_table_block,
    report_intro,
    report_title,
)

# Base points of the report's Sobol indices. Compilation, not the 139k model runs, is most of
# their ~3 s of CPU; at 2^13 the headline indices' 95% intervals are about +-0.01 wide
# (`sora-uq sobol --n` goes further).
REPORT_SOBOL_N = 2**13
TIMINGS = "timings.json"

__all__ = [
    "figure_makers",
    "headline_table",
    "render_html",
    "render_markdown",
    "repeat_command",
    "report_svgs",
    "run_report",
    "summary_document",
    "write_figures",
    "write_timings",
]

def _versions() -> dict:
    # From the installed packages' metadata: importing ArviZ and NumPyro only to read their
    # version took 2-3 CPU-seconds of every report.
    return {"sora-uq": __version__, "python": platform.python_version(), "jax": jax.__version__,
            "numpyro": metadata.version("numpyro"), "arviz": metadata.version("arviz"),
            "xarray": xr.__version__}


def _model_facts(priors: PriorSet, model: Model) -> dict:
    """The model's name, outputs' units and labels, and its structure in words (for reading the
    summary without the model's code)."""
    return {**model.describe(), "inputs": {name: priors.unit(name) for name in priors},
            "structure_lines": model.structure_lines(priors.structure, priors)}


def summary_document(priors: PriorSet, result: StreamResult, command: list[str],
                     sensitivity: bool = True, feedback: Feedback | None = None,
                     exports: Collection[str] = ()) -> dict:
    """Everything in ``summary.json``: enough on its own to repeat the run, and nothing that
    differs between two runs of it (no timings).

    ``result`` is the streamed run (:func:`uncertainty.streaming.stream`); ``command`` repeats it.
    ``sensitivity=False`` skips the tornado and Sobol indices (the report says so). ``exports``
    names the formats the draws are also written in (see :mod:`uncertainty.report.export`)."""
    feedback = feedback or Feedback(show=False)
    model = result.model
    stats = summarize(result)
    error = float(result.relative_mcse(model.headline))
    return {
        "priors": {"name": priors.name, "path": priors_argument(priors.path),
                   "sha256": priors.sha256},
        "seed": seed_record(result.seed),
        "samples": result.n,
        "command": command,
        "structure": structure_record(priors),
        "headline": list(model.headline),
        "outputs": stats,
        "headline_max_relative_mcse_q05_q95": headline_mcse(stats, model.headline),
        "headline_max_relative_mcse": error,
        "assumptions": assumptions_record(priors),
        **model.report_extras(),
        **(_sensitivity(priors, result, feedback) if sensitivity else {}),
        "run": _run_facts(result, error, exports),
        "model": _model_facts(priors, model),
    }


def _run_facts(result: StreamResult, error: float, exports: Collection[str] = ()) -> dict:
    # Too few draws to estimate an error cannot be "converged", whatever the estimate says.
    converged = result.n >= MIN_ERROR_SAMPLES and (result.rtol is None or error <= result.rtol)
    sampler = ("quasi-Monte Carlo: scrambled Sobol points (scipy.stats.qmc) through each prior's "
               f"icdf, {result.replicates} independent scramblings" if result.sampler == "qmc" else
               "Monte Carlo: Philox-4x32-10 uniforms (keys from jax.random) through each "
               "prior's icdf, "
               f"chunks of {CHUNK_SIZE}")
    return {
        "device": jax.devices()[0].platform, "devices": result.devices,
        "processes": result.processes, "sampler": sampler, "rtol": result.rtol,
        "converged": converged,
        "checks": [{"samples": n, "max_relative_mcse": round(float(e), 6)}
                   for n, e in result.history],
        "quantile_method": (f"log-space histograms of {BINS} bins per output, interpolated; "
                            "each quantile within its stated bound of the exact one"),
        "kept_draws": len(next(iter(result.kept.values()))),
        "exports": sorted(exports), "versions": _versions(),
    }


def _sensitivity(priors: PriorSet, result: StreamResult, feedback: Feedback) -> dict:
    """Tornado swings and global indices of the headline outputs, whether they name the same
    top driver, and what to pin down next. Independent priors: Sobol indices. Correlated priors:
    Shapley effects and full first-order indices (Sobol indices would assume independence).
    Indices are of log(output) when every headline output was positive in every draw of the
    run's first chunk, else of the output itself."""
    model, grid = result.model, result.grid
    headline = model.headline
    with feedback.phase("sensitivity: tornado"):
        swings = tornado(priors, outputs=headline, model=model)
    positive = all(grid.log[grid.names.index(name)] for name in headline)
    scale = "log" if positive else "linear"
    if priors.correlations:
        with feedback.phase("sensitivity: Shapley effects"):
            shapley = shapley_effects(priors, model=model, outputs=headline, scale=scale,
                                      seed=result.seed)
        global_doc, indices = {"shapley": shapley}, shapley_as_indices(shapley)
    else:
        with feedback.phase("sensitivity: Sobol indices"):
            indices = sobol_document(priors, n_base=REPORT_SOBOL_N, seed=result.seed,
                                     outputs=headline, model=model, scale=scale)
        global_doc = {"sobol": indices}
    pin_down = {name: pin_down_next(indices, name, model.label(name)) for name in headline}
    value = {}
    if priors.decision is not None:  # for the decision's output, rank by money, not variance
        with feedback.phase("sensitivity: value of information"):
            voi = value_of_information(priors, priors.decision, model=model, seed=result.seed)
        value = {"voi": voi}
        pin_down[voi["output"]] = pin_down_by_value(voi, format_value,
                                                    model.unit(voi["output"]))
    return {"tornado": swings, **global_doc, **value,
            "top_driver": [top_driver_check(swings, indices, name, model.label(name))
                           for name in headline],
            "pin_down_next": pin_down}


def headline_table(doc: dict) -> str:
    """The headline intervals as a Markdown table (also what `make report` prints)."""
    return table_markdown(headline_table_block(doc))


def _sections(doc: dict, figures: Collection[str]) -> list[Section]:
    sections = (build(doc, figures) for build in REPORT_SECTIONS)
    return [section for section in sections if section is not None]


def render_markdown(doc: dict, description: str = "", figures: Collection[str] = ()) -> str:
    """``report.md``: the report's sections in order; figures linked from ``figures/``."""
    return to_markdown(report_title(doc), _sections(doc, figures), report_intro(doc, description))


def render_html(doc: dict, description: str = "", svgs: Mapping[str, str] | None = None) -> str:
    """``report.html``: the same sections as :func:`render_markdown`, figures embedded."""
    svgs = svgs or {}
    return to_html(report_title(doc), _sections(doc, svgs), svgs, report_intro(doc, description))


def report_svgs(doc: dict, tree: xr.DataTree, priors: PriorSet) -> dict[str, str]:
    """Figure name -> SVG text: a distribution per headline output (from the kept draws), a
    sketch of each uncertain assumption's prior (from its family, exactly: none for a fixed
    one), and the sensitivity charts, labelled with the model's labels and units. Each figure
    is drawn, rendered and let go before the next (holding all 21 Figures of a report at once
    cost about 40 MB of peak memory)."""
    return {name: to_svg(make()) for name, make in figure_makers(doc, tree, priors)}


def figure_makers(doc: dict, tree: xr.DataTree,
                  priors: PriorSet) -> Iterator[tuple[str, Callable[[], Figure]]]:
    """(name, function that draws it) for each figure of the report, in order."""
    draws, outputs = tree["prior"], doc["model"]["outputs"]
    whose = doc["model"]["marks_label"].removeprefix("the ")
    for name in doc["headline"]:
        yield f"dist_{name}", partial(distribution_figure, draws[name].values,
                                      doc["outputs"][name], outputs[name]["label"],
                                      outputs[name]["unit"], whose)
    for name in priors.uncertain:
        yield f"prior_{name}", partial(prior_sketch, priors[name].dist)
    units = {name: row["unit"] for name, row in doc["assumptions"].items()} | {
        name: output["unit"] for name, output in outputs.items()}
    labels = {name: priors.model.label(name) if priors.model else name for name in priors} | {
        name: output["label"] for name, output in outputs.items()}
    if doc.get("voi"):
        yield "voi", partial(evppi_figure, doc["voi"],
                             outputs[doc["voi"]["output"]]["unit"], labels)
    for name, effects in (doc.get("shapley") or {}).get("outputs", {}).items():
        yield f"shapley_{name}", partial(shapley_figure, effects, outputs[name]["label"], labels)
    for name, result in (doc.get("tornado") or {}).get("outputs", {}).items():
        if moving_bars(result):  # none for an output no assumption moves
            yield f"tornado_{name}", partial(tornado_figure, result, name, units, labels)


def write_figures(staging: Path, figures: Mapping[str, Figure | str]) -> dict[str, str]:
    """Write ``figures/NAME.svg`` under ``staging`` from Figures or their SVG text (each figure
    is rendered once, here or before); return name -> SVG text."""
    (staging / FIGURES_DIR).mkdir()
    svgs = {name: fig if isinstance(fig, str) else to_svg(fig) for name, fig in figures.items()}
    for name, svg in svgs.items():
        (staging / FIGURES_DIR / f"{name}.svg").write_text(svg, "utf-8")
    return svgs


def repeat_command(priors: PriorSet, seed: int, samples: int | None, rtol: float | None,
                   sampler: str, gpu: str | None, model: str | None = None,
                   sensitivity: bool = True) -> list[str]:
    """The command line that repeats a report run."""
    size = ["--samples", str(samples)] if samples else ["--rtol", str(rtol)]
    return (["sora-uq", "report", "--priors", priors_argument(priors.path), *size, "--seed",
             str(seed)]
            + (["--sampler", sampler] if sampler != "mc" else []) + (["--gpu", gpu] if gpu else [])
            + (["--model", model] if model else [])
            + ([] if sensitivity else ["--no-sensitivity"]))


def run_report(priors_path: str, out: Path, samples: int | None, seed: int, force: bool = False,
               gpu: str | None = None, rtol: float | None = DEFAULT_RTOL, sampler: str = "mc",
               max_samples: int = MAX_SAMPLES, feedback: Feedback | None = None,
               write: bool = True, model: str | Model | None = None, sensitivity: bool = True,
               exports: Collection[str] = ()) -> dict:
    """Load priors, draw (a fixed ``samples``, or until the headline quantiles' relative MCSE is
    at most ``rtol``), summarise and write the report directory; return the summary.

    ``model`` (a :class:`Model` or ``FILE.py:NAME``) replaces the prior file's model. ``gpu``
    (``NAME`` or ``NAME:fp8``) replaces the file's GPU by a catalogue entry (Sora model).
    ``sensitivity=False`` skips the tornado and Sobol step. ``exports`` (``"csv"``,
    ``"parquet"``) also writes the kept draws and the summary table in those formats.
    ``feedback`` shows and times each phase (:mod:`uncertainty.progress`; its timings go to
    ``timings.json``); with ``write=False`` (the other processes of a multi-host run) nothing is
    written."""
    feedback = feedback or Feedback(show=False)
    with feedback.phase("loading priors"):
        priors = load_priors(priors_path, model=model, gpu=gpu)
    provenance = Provenance.of("report", [priors.path or priors_path])
    if write:
        check_output_directory(out, force, provenance)  # refuse before the work, not after
    with feedback.draws(samples, rtol if samples is None else None) as progress:
        result = stream(priors, seed=seed, n=samples, rtol=rtol, max_n=max_samples,
                        sampler=sampler, progress=progress)
    tree = to_datatree(result.kept, priors, result.model, seed=seed, seconds=result.seconds,
                       total=result.n, sampler=result.sampler)
    tree["prior"].attrs.pop("wall_seconds", None)  # timings.json has it: draws.nc repeats
    command = repeat_command(priors, seed, samples, rtol, sampler, gpu,
                             model if isinstance(model, str) else None, sensitivity)
    doc = summary_document(priors, result, command, sensitivity, feedback, exports)
    if not write:
        return doc
    with feedback.phase("figures"):  # drawn and rendered to SVG, the one format used
        figures = report_svgs(doc, tree, priors)
    with output_directory(out, force, provenance) as staging:
        with feedback.phase("writing"):
            svgs = write_figures(staging, figures)
            (staging / "summary.json").write_text(jsontext.dumps(doc, indent=1) + "\n", "utf-8")
            (staging / "report.md").write_text(render_markdown(doc, priors.description, svgs),
                                               "utf-8")
            (staging / "report.html").write_text(render_html(doc, priors.description, svgs),
                                                 "utf-8")
            tree.to_netcdf(staging / "draws.nc", engine="h5netcdf")
            write_exports(staging, exports, result.kept, doc)
        write_timings(staging, feedback, result)  # after "writing", so that it has its time
    return doc


def write_timings(staging: Path, feedback: Feedback, result: StreamResult | None = None) -> None:
    """``timings.json``: wall and CPU seconds, per phase, and the draw rate. It differs on every
    run, so it is kept out of the report's other files (and out of version control)."""
    timings = feedback.timings
    if result is not None:  # the whole streamed run, compilation included
        timings.update(draws=result.n, stream_seconds=round(result.seconds, 3))
    (staging / TIMINGS).write_text(json.dumps(timings, indent=1) + "\n", "utf-8")
