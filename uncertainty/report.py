"""The one place that writes an interval report to disk: ``report.md``, ``summary.json``, ``draws.nc``.

:func:`run_report` goes file -> priors -> draws -> summaries -> report; :func:`summary_document`
and :func:`render_markdown` are pure, so a notebook can call them with plain data.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import jax
import xarray as xr

from . import __version__
from .files import check_output_directory, output_directory
from .model import ASSUMPTIONS, HEADLINE, OUTPUTS
from .priors import PriorSet, load_priors
from .reproduce import reproduction_table
from .sensitivity import (
    pin_down_next, sensitivity_markdown, sobol_document, top_driver_check, tornado,
)
from .simulate import simulate
from .summary import format_value, headline_mcse, percentile_words, summarize

__all__ = ["run_report", "summary_document", "render_markdown", "headline_table"]

MCSE_TARGET = 0.01
# Base points of the report's Sobol indices. Compilation, not the 139k model runs, is most of
# their ~3 s of CPU; at 2^13 the headline indices' 95% intervals are about +-0.01 wide
# (`sora-uq sobol --n` goes further).
REPORT_SOBOL_N = 2**13


def _versions() -> dict:
    import arviz
    import numpyro

    return {"sora-uq": __version__, "python": platform.python_version(), "jax": jax.__version__,
            "numpyro": numpyro.__version__, "arviz": arviz.__version__, "xarray": xr.__version__}


def _assumption_rows(priors: PriorSet) -> dict:
    rows = {}
    for name, prior in priors.items():
        dist = prior.dist
        rows[name] = {
            "family": dist.name, "params": dist.params(), "unit": prior.unit,
            "median": dist.quantile(0.5), "q05": dist.quantile(0.05), "q95": dist.quantile(0.95),
            "source": prior.source,
        }
    return rows


def summary_document(priors: PriorSet, tree: xr.DataTree, seed: int, samples: int,
                     wall_seconds: float) -> dict:
    """Everything in ``summary.json``: enough on its own to repeat the run."""
    stats = summarize(tree)
    return {
        "priors": {"name": priors.name, "path": priors.path, "sha256": priors.sha256},
        "seed": seed,
        "samples": samples,
        "command": ["sora-uq", "report", "--priors", str(priors.path), "--samples", str(samples),
                    "--seed", str(seed)],
        "headline": list(HEADLINE),
        "outputs": stats,
        "headline_max_relative_mcse_q05_q95": headline_mcse(stats),
        "assumptions": _assumption_rows(priors),
        "reproduction": reproduction_table(),
        **_sensitivity(priors, seed),
        "run": {"device": tree["prior"].attrs["device"], "sampler": tree["prior"].attrs["sampler"],
                "wall_seconds": round(wall_seconds, 2), "versions": _versions()},
    }


def _sensitivity(priors: PriorSet, seed: int) -> dict:
    """Tornado swings and Sobol indices of the headline outputs, whether they name the same top
    driver, and what to pin down next."""
    swings = tornado(priors, outputs=HEADLINE)
    indices = sobol_document(priors, n_base=REPORT_SOBOL_N, seed=seed, outputs=HEADLINE)
    return {"tornado": swings, "sobol": indices,
            "top_driver": [top_driver_check(swings, indices, name) for name in HEADLINE],
            "pin_down_next": {name: pin_down_next(indices, name) for name in HEADLINE}}


def headline_table(doc: dict) -> str:
    """The headline intervals as a Markdown table (also what `make report` prints)."""
    lines = ["| output | median | 50% interval | 90% interval | article | article's percentile |",
             "|---|---|---|---|---|---|"]
    for name in doc["headline"]:
        s = doc["outputs"][name]
        if s["article_range"]:
            article = " to ".join(format_value(v) for v in s["article_range"])
            where = " to ".join(percentile_words(p) for p in s["article_range_percentiles"])
        else:
            article, where = format_value(s["article_value"]), percentile_words(s["article_percentile"])
        lines.append(
            f"| {OUTPUTS[name].label} ({OUTPUTS[name].unit}) | {format_value(s['median'])} "
            f"| {_interval(s['eti_50'])} | {_interval(s['eti_90'])} | {article} | {where} |")
    return "\n".join(lines)


def _interval(pair) -> str:
    return f"{format_value(pair[0])} to {format_value(pair[1])}"


def _outputs_table(doc: dict) -> str:
    lines = ["| output | unit | mean | median | 50% ETI | 90% ETI | 90% HDI | ESS |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in doc["outputs"].items():
        lines.append(f"| `{name}` | {OUTPUTS[name].unit} | {format_value(s['mean'])} "
                     f"| {format_value(s['median'])} | {_interval(s['eti_50'])} "
                     f"| {_interval(s['eti_90'])} | {_interval(s['hdi_90'])} | {s['ess']:.0f} |")
    return "\n".join(lines)


def _assumptions_table(doc: dict) -> str:
    lines = ["| assumption | family | median | 90% interval | unit | source |",
             "|---|---|---|---|---|---|"]
    for name, row in doc["assumptions"].items():
        unit = row["unit"] or (ASSUMPTIONS[name].unit if name in ASSUMPTIONS else "")
        interval = ("fixed" if row["family"] == "fixed"
                    else f"{format_value(row['q05'])} to {format_value(row['q95'])}")
        source = row["source"].replace("|", "/")
        lines.append(f"| `{name}` | {row['family']} | {format_value(row['median'])} | {interval} "
                     f"| {unit} | {source} |")
    return "\n".join(lines)


def reproduction_markdown(lines: list[dict]) -> str:
    rows = ["| line | article | recomputed | model | consistent | note |", "|---|---|---|---|---|---|"]
    for line in lines:
        flag = "yes" if line["consistent"] else "**NO**"
        label = line["label"] if line["consistent"] else f"**{line['label']}**"
        rows.append(f"| {label} | {format_value(line['article'])} | {format_value(line['recomputed'])} "
                    f"| {format_value(line['model'])} | {flag} | {line['note']} |")
    return "\n".join(rows)


def render_markdown(doc: dict, description: str = "") -> str:
    mcse = doc["headline_max_relative_mcse_q05_q95"]
    mcse_words = (f"{100 * mcse:.2f}%, under the {100 * MCSE_TARGET:.0f}% target" if mcse < MCSE_TARGET
                  else f"{100 * mcse:.2f}%, ABOVE the {100 * MCSE_TARGET:.0f}% target: raise --samples")
    run = doc["run"]
    sections = [
        f"# Sora compute: interval report for priors `{doc['priors']['name']}`",
        description,
        "Every number below is a distribution over the article's chain of guesses, propagated by "
        "Monte Carlo. Intervals are equal-tailed credible intervals (ETI) unless marked HDI.",
        "## Headline intervals", headline_table(doc),
        "A percentile says where the article's figure falls among our draws: the share of draws "
        "at or below it.",
        "## All outputs", _outputs_table(doc),
        "## Assumptions", _assumptions_table(doc),
        sensitivity_markdown(doc["tornado"], doc["sobol"], doc["headline"]) if "sobol" in doc else "",
        "## The article's arithmetic, reproduced",
        "`recomputed` is the article's own arithmetic on its own inputs; `model` is this model at "
        "the article's point inputs (exact parameter ratio, image term kept). Lines in bold are "
        "inconsistent within the article itself (recomputed more than 3% from what it states).",
        reproduction_markdown(doc["reproduction"]),
        "## Run facts",
        "\n".join([
            f"- priors: `{doc['priors']['path']}` (sha256 `{doc['priors']['sha256']}`)",
            f"- seed {doc['seed']}, {doc['samples']:,} draws ({run['sampler']}), device {run['device']}",
            f"- largest relative Monte Carlo standard error of a headline 5% or 95% quantile: {mcse_words}",
            f"- versions: " + ", ".join(f"{k} {v}" for k, v in run["versions"].items()),
            f"- wall time: {run['wall_seconds']} s",
            f"- repeat with: `{' '.join(doc['command'])}`",
        ]),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def run_report(priors_path: str, out: Path, samples: int, seed: int, force: bool = False) -> dict:
    """Load priors, simulate, summarise and write the report directory; return the summary."""
    started = time.perf_counter()
    priors = load_priors(priors_path)
    check_output_directory(out, force)  # refuse before the work, not after
    tree = simulate(priors, n=samples, seed=seed)
    doc = summary_document(priors, tree, seed, samples, time.perf_counter() - started)
    with output_directory(out, force) as staging:
        (staging / "summary.json").write_text(json.dumps(doc, indent=1) + "\n", "utf-8")
        (staging / "report.md").write_text(render_markdown(doc, priors.description), "utf-8")
        tree.to_netcdf(staging / "draws.nc", engine="h5netcdf")
    return doc
