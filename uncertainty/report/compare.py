"""Scenario comparison: the headline outputs under several prior files, side by side.

:func:`run_compare` loads each prior file, simulates it with the same seed and sample count,
summarises it, and writes ``compare.html``, ``compare.md``, ``compare.json`` and
``figures/forest_<output>.svg`` into one output directory, atomically. :func:`comparison_document`
and :func:`comparison_sections` are pure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import UserError
from ..files import check_output_directory, output_directory
from ..priors import PriorSet, load_priors, resolve_priors_path
from ..sampling import simulate
from ..summary import format_value, percentile_words, summarize
from .blocks import Image, Section, Table, Text, to_markdown
from .figures import forest_figure
from .html import to_html
from .writer import write_figures

__all__ = ["comparison_document", "comparison_figures", "comparison_sections", "run_compare"]


def _scenario_names(prior_sets: Sequence[PriorSet]) -> list[str]:
    """The priors' names, made unique with the file name where two share one."""
    names = [p.name for p in prior_sets]
    return [f"{p.name} ({Path(p.path).name})" if names.count(p.name) > 1 and p.path else p.name
            for p in prior_sets]


def comparison_document(prior_sets: Sequence[PriorSet], stats: Sequence[dict], seed: int,
                        samples: int, wall_seconds: Sequence[float],
                        model_spec: str | None = None) -> dict:
    """Everything in ``compare.json``: per scenario, the priors' facts and headline statistics."""
    model = prior_sets[0].model
    scenarios = [{"name": name, "path": p.path, "sha256": p.sha256, "description": p.description,
                  "wall_seconds": round(seconds, 2),
                  "outputs": {out: s[out] for out in model.headline}}
                 for name, p, s, seconds in zip(_scenario_names(prior_sets), prior_sets, stats,
                                                wall_seconds, strict=True)]
    command = ["sora-uq", "compare", *[a for p in prior_sets for a in ("--priors", str(p.path))],
               "--samples", str(samples), "--seed", str(seed)]
    command += ["--model", model_spec] if model_spec else []
    return {"headline": list(model.headline), "seed": seed, "samples": samples,
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


def comparison_sections(doc: dict) -> list[Section]:
    """One section per headline output (forest plot and table), then the scenarios' facts."""
    sections = []
    whose = doc.get("model", {}).get("marks_label", "the article")
    for i, out in enumerate(doc["headline"], start=1):
        label, unit = _label_unit(doc, out)
        marks = _article(doc["scenarios"][0]["outputs"][out])
        article = " to ".join(format_value(v) for v in marks)
        rows = [[s["name"], format_value(s["outputs"][out]["median"]),
                 _interval(s["outputs"][out]["eti_50"]), _interval(s["outputs"][out]["eti_90"])]
                + ([_where(s["outputs"][out])] if marks else []) for s in doc["scenarios"]]
        caption = "Median (circle), 50% (thick) and 90% (thin) intervals per prior set" + (
            f"; dashed: {whose}'s {article} {unit}." if marks else ".")
        sections.append(Section(out, f"{i}. {label} ({unit})", [
            Image(f"forest_{out}", f"Forest plot of {label} under each prior set", caption),
            Table(["priors", "median", "50% interval", "90% interval"]
                  + ([f"{whose.removeprefix('the ')}'s {article} sits at"] if marks else []),
                  rows),
        ]))
    facts = [[f"`{s['name']}`", s["description"], f"`{s['path']}`", f"`{s['sha256'][:16]}…`",
              f"{s['wall_seconds']} s"] for s in doc["scenarios"]]
    sections.append(Section("scenarios", f"{len(sections) + 1}. The prior sets", [
        Table(["priors", "description", "file", "sha256 (start)", "wall time"], facts),
        Text(f"Each set: {doc['samples']:,} draws, seed {doc['seed']}. Repeat with "
             f"`{' '.join(doc['command'])}`."),
    ]))
    return sections


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


def run_compare(priors_paths: Sequence[str], out: Path, samples: int, seed: int,
                force: bool = False, model: str | None = None) -> dict:
    """Simulate each prior file and write the comparison directory; return ``compare.json``.

    ``model`` (``FILE.py:NAME``) replaces every prior file's own model."""
    if len(priors_paths) < 2:
        raise UserError(f"compare: needs at least two --priors, got {len(priors_paths)}")
    prior_sets = [load_priors(resolve_priors_path(p), model=model) for p in priors_paths]
    _common_headline(prior_sets)
    check_output_directory(out, force)  # refuse before the work, not after
    stats, seconds = [], []
    headline = prior_sets[0].model.headline
    for priors in prior_sets:
        started = time.perf_counter()
        stats.append(summarize(simulate(priors, n=samples, seed=seed), headline))
        seconds.append(time.perf_counter() - started)
    doc = comparison_document(prior_sets, stats, seed, samples, seconds, model)
    figures = comparison_figures(doc)
    sections = comparison_sections(doc)
    intro = [Text(f"The headline outputs under {len(prior_sets)} prior sets, each propagated "
                  f"with {samples:,} Monte Carlo draws (seed {seed}). Intervals are equal-tailed.")]
    with output_directory(out, force) as staging:
        svgs = write_figures(staging, figures)
        (staging / "compare.json").write_text(json.dumps(doc, indent=1) + "\n", "utf-8")
        (staging / "compare.md").write_text(to_markdown(_title(doc), sections, intro), "utf-8")
        (staging / "compare.html").write_text(to_html(_title(doc), sections, svgs, intro), "utf-8")
    return doc
