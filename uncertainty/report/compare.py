"""Scenario comparison: the headline outputs under several prior files, side by side.

:func:`run_compare` streams each prior file exactly as ``sora-uq report`` does (same seed, and
either the same fixed number of draws or drawn until the same Monte Carlo error, ``rtol``), so a
prior set shows the same numbers in both; it summarises each and writes ``compare.html``,
``compare.md``, ``compare.json``, ``figures/forest_<output>.svg`` and ``timings.json`` into one
output directory, atomically. :func:`comparison_document` and :func:`comparison_sections` are
pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import jsontext
from ..defaults import DEFAULT_RTOL, MAX_SAMPLES, MIN_ERROR_SAMPLES
from ..errors import UserError
from ..files import Provenance, check_output_directory, output_directory
from ..priors import PriorSet, load_priors, priors_argument, resolve_priors_path
from ..progress import Feedback
from ..streaming import StreamResult, stream
from ..summary import format_value, percentile_words, possessive, summarize
from .blocks import Image, Section, Table, Text, table_markdown, to_markdown
from .figures import forest_figure
from .html import to_html
from .writer import write_figures, write_timings

__all__ = ["comparison_document", "comparison_figures", "comparison_sections",
           "comparison_tables", "run_compare"]


def _scenario_names(prior_sets: Sequence[PriorSet]) -> list[str]:
    """The priors' names, made unique with the file name where two share one."""
    names = [p.name for p in prior_sets]
    return [f"{p.name} ({Path(p.path).name})" if names.count(p.name) > 1 and p.path else p.name
            for p in prior_sets]


def comparison_document(prior_sets: Sequence[PriorSet], runs: Sequence[StreamResult],
                        seed: int, samples: int | None, rtol: float | None = DEFAULT_RTOL,
                        sampler: str = "mc", model_spec: str | None = None) -> dict:
    """Everything in ``compare.json``: per scenario, the priors' facts, the draws it took, the
    Monte Carlo error reached and its headline statistics. Nothing in it differs between two
    runs of the same command (timings go to ``timings.json``)."""
    model = prior_sets[0].model
    headline = tuple(model.headline)
    scenarios = [{"name": name, "path": priors_argument(p.path), "sha256": p.sha256,
                  "description": p.description, "samples": run.n,
                  "max_relative_mcse": round(float(run.relative_mcse(headline)), 6),
                  "outputs": summarize(run, headline)}
                 for name, p, run in zip(_scenario_names(prior_sets), prior_sets, runs,
                                         strict=True)]
    size = ["--samples", str(samples)] if samples else ["--rtol", str(rtol)]
    command = ["sora-uq", "compare",
               *[a for p in prior_sets for a in ("--priors", priors_argument(p.path))],
               *size, "--seed", str(seed)] + (["--sampler", sampler] if sampler != "mc" else [])
    command += ["--model", model_spec] if model_spec else []
    return {"headline": list(headline), "seed": seed, "samples": samples,
            "rtol": None if samples else rtol, "sampler": sampler,
            "command": command, "scenarios": scenarios, "model": model.describe()}


def _article(stats: dict) -> list[float]:
    """The marked figure(s) of an output, [] when the model marks none."""
    if stats["article_value"] is None:
        return []
    return list(stats["article_range"] or [stats["article_value"]])


def _label_unit(doc: dict, out: str) -> tuple[str, str]:
    described = doc.get("model", {}).get("outputs", {}).get(out, {})
    return described.get("label", out), described.get("unit", "")


def comparison_figures(doc: dict) -> dict:
    """``forest_<output>`` -> a forest plot of that output across the scenarios."""
    figures = {}
    for out in doc["headline"]:
        rows = [{"name": s["name"], **s["outputs"][out]} for s in doc["scenarios"]]
        whose = doc.get("model", {}).get("marks_label", "the article").removeprefix("the ")
        figures[f"forest_{out}"] = forest_figure(rows, *_label_unit(doc, out),
                                                 _article(doc["scenarios"][0]["outputs"][out]),
                                                 whose)
    return figures


def _interval(pair) -> str:
    return f"{format_value(pair[0])} to {format_value(pair[1])}"


def _where(stats: dict) -> str:
    if stats["article_range"]:
        return " to ".join(percentile_words(p) for p in stats["article_range_percentiles"])
    return percentile_words(stats["article_percentile"])


def _output_table(doc: dict, out: str) -> Table:
    """One headline output under each prior set: median, intervals, where the marks sit."""
    whose = doc.get("model", {}).get("marks_label", "the article")
    marks = _article(doc["scenarios"][0]["outputs"][out])
    article = " to ".join(format_value(v) for v in marks)
    rows = [[s["name"], format_value(s["outputs"][out]["median"]),
             _interval(s["outputs"][out]["eti_50"]), _interval(s["outputs"][out]["eti_90"])]
            + ([_where(s["outputs"][out])] if marks else []) for s in doc["scenarios"]]
    return Table(["priors", "median", "50% interval", "90% interval"]
                 + ([f"{possessive(whose).removeprefix('the ')} {article} sits at"] if marks
                    else []), rows)


def comparison_tables(doc: dict) -> str:
    """The comparison as Markdown tables, one per headline output (what the command prints)."""
    parts = []
    for out in doc["headline"]:
        label, unit = _label_unit(doc, out)
        parts.append(f"{label} ({unit})\n\n" + table_markdown(_output_table(doc, out)))
    return "\n\n".join(parts)


def _draws_words(doc: dict) -> str:
    """How many draws each set took, and why."""
    if doc.get("samples"):
        return f"Each set: {doc['samples']:,} draws, seed {doc['seed']}."
    return (f"Each set drawn until the Monte Carlo standard error of every headline 5%, 50% and "
            f"95% quantile was within {100 * doc['rtol']:.2f}% (as `sora-uq report` does), "
            f"seed {doc['seed']}.")


def comparison_sections(doc: dict) -> list[Section]:
    """One section per headline output (forest plot and table), then the scenarios' facts."""
    sections = []
    whose = doc.get("model", {}).get("marks_label", "the article")
    for i, out in enumerate(doc["headline"], start=1):
        label, unit = _label_unit(doc, out)
        marks = _article(doc["scenarios"][0]["outputs"][out])
        article = " to ".join(format_value(v) for v in marks)
        caption = "Median (circle), 50% (thick) and 90% (thin) intervals per prior set" + (
            f"; dashed: {possessive(whose)} {article} {unit}." if marks else ".")
        sections.append(Section(out, f"{i}. {label} ({unit})", [
            Image(f"forest_{out}", f"Forest plot of {label} under each prior set", caption),
            _output_table(doc, out),
        ]))
    facts = [[f"`{s['name']}`", s["description"], f"`{s['path']}`", f"`{s['sha256'][:16]}…`",
              f"{s['samples']:,}", _error_cell(s)] for s in doc["scenarios"]]
    sections.append(Section("scenarios", f"{len(sections) + 1}. The prior sets", [
        Table(["priors", "description", "file", "sha256 (start)", "draws",
               "largest relative MCSE"], facts),
        Text(f"{_draws_words(doc)} Repeat with `{' '.join(doc['command'])}`."),
    ]))
    return sections


def _error_cell(scenario: dict) -> str:
    """A prior set's largest relative MCSE, or why there is none (as a report's run facts say:
    too few draws to estimate it).

    >>> _error_cell({"samples": 393_216, "max_relative_mcse": 0.004}), _error_cell(
    ...     {"samples": 500, "max_relative_mcse": 0.02})
    ('0.40%', 'not stated: too few draws')
    """
    if scenario["samples"] < MIN_ERROR_SAMPLES:
        return "not stated: too few draws"
    return f"{100 * scenario['max_relative_mcse']:.2f}%"


def _title(doc: dict) -> str:
    title = doc.get("model", {}).get("title", "Sora compute")
    return f"{title}: " + " vs ".join(f"`{s['name']}`" for s in doc["scenarios"])


def _common_headline(prior_sets: Sequence[PriorSet]) -> None:
    """Every prior set's model must have the first one's headline outputs."""
    first = prior_sets[0]
    for priors in prior_sets[1:]:
        missing = [out for out in first.model.headline if out not in priors.model.outputs]
        if missing:
            raise UserError(f"compare: {priors.path}: its model '{priors.model.name}' has no "
                            f"output '{missing[0]}' (a headline output of {first.path})")


def run_compare(priors_paths: Sequence[str], out: Path, samples: int | None, seed: int,
                force: bool = False, model: str | None = None, rtol: float = DEFAULT_RTOL,
                sampler: str = "mc", max_samples: int = MAX_SAMPLES,
                feedback: Feedback | None = None) -> dict:
    """Stream each prior file as ``sora-uq report`` does and write the comparison directory;
    return ``compare.json``.

    ``samples`` draws per set, or (``None``) until the headline quantiles' relative Monte Carlo
    error is at most ``rtol``, at most ``max_samples``. ``model`` (``FILE.py:NAME``) replaces
    every prior file's own model. ``feedback`` shows and times each phase."""
    feedback = feedback or Feedback(show=False)
    if len(priors_paths) < 2:
        raise UserError(f"compare: needs at least two --priors, got {len(priors_paths)}")
    with feedback.phase("loading priors"):
        paths = [resolve_priors_path(p) for p in priors_paths]
        prior_sets = [load_priors(path, model=model) for path in paths]
    _common_headline(prior_sets)
    provenance = Provenance.of("compare", paths)
    check_output_directory(out, force, provenance)  # refuse before the work, not after
    runs = []
    for priors in prior_sets:
        with feedback.draws(samples, rtol if samples is None else None) as progress:
            runs.append(stream(priors, seed=seed, n=samples, rtol=rtol, max_n=max_samples,
                               sampler=sampler, progress=progress))
    doc = comparison_document(prior_sets, runs, seed, samples, rtol, sampler, model)
    with feedback.phase("figures"):
        figures = comparison_figures(doc)
    sections = comparison_sections(doc)
    intro = [Text(f"The headline outputs under {len(prior_sets)} prior sets, each propagated "
                  f"by {'quasi-' if sampler == 'qmc' else ''}Monte Carlo with seed {seed}. "
                  "Intervals are equal-tailed.")]
    with feedback.phase("writing"), output_directory(out, force, provenance) as staging:
        svgs = write_figures(staging, figures)
        (staging / "compare.json").write_text(jsontext.dumps(doc, indent=1) + "\n", "utf-8")
        (staging / "compare.md").write_text(to_markdown(_title(doc), sections, intro), "utf-8")
        (staging / "compare.html").write_text(to_html(_title(doc), sections, svgs, intro), "utf-8")
        write_timings(staging, feedback)
    return doc
