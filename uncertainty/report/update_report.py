"""An update's results as data (the JSON document) and on disk (report.md, figures, posterior.nc).

:func:`update_document` and :func:`render_markdown` are pure; :func:`write_update_report` is the
one function here that writes, through :func:`uncertainty.files.output_directory`.
"""

from __future__ import annotations

import json
from pathlib import Path

import arviz as az
import numpy as np
import xarray as xr

from ..files import output_directory
from ..summary import format_value
from .update_plots import moved_most, prior_posterior_figure

__all__ = ["intervals", "render_markdown", "update_document", "write_update_report"]

DIAGNOSTIC_KEYS = ("r_hat_max", "ess_bulk_min", "divergences", "pareto_k")
FIGURE_COUNT = 4


def intervals(tree: xr.DataTree, group: str, names: list[str]) -> dict[str, dict]:
    """ArviZ median and 90% equal-tailed interval of each name in ``group``."""
    eti = az.eti(tree, prob=0.9, group=group, var_names=names)
    median = az.median(tree, group=group, var_names=names, round_to="none")
    return {name: {"median": float(median[name]), "eti_90": [float(v) for v in eti[name].values]}
            for name in names}


def _names(tree: xr.DataTree) -> list[str]:
    return [n for n in tree["posterior"].data_vars if n in tree["prior"].data_vars]


def update_document(result, new_priors: str | Path | None) -> dict:
    """The JSON of ``sora-uq update --json``: every assumption and output, before and after."""
    names = _names(result.tree)
    return {
        "method": result.method,
        "prior": intervals(result.tree, "prior", names),
        "posterior": intervals(result.tree, "posterior", names),
        "diagnostics": {k: result.diagnostics.get(k) for k in DIAGNOSTIC_KEYS},
        "new_priors": str(new_priors) if new_priors is not None else None,
    }


def _interval(stat: dict) -> str:
    low, high = stat["eti_90"]
    return f"{format_value(stat['median'])} ({format_value(low)} to {format_value(high)})"


def _table(doc: dict, names: list[str]) -> list[str]:
    lines = ["| quantity | prior median (90% interval) | posterior median (90% interval) |",
             "|---|---|---|"]
    for name in names:
        lines.append(f"| {name} | {_interval(doc['prior'][name])} | "
                     f"{_interval(doc['posterior'][name])} |")
    return lines


def _diagnostics(result) -> list[str]:
    d = result.diagnostics
    fmt = {"r_hat_max": ".4f", "ess_bulk_min": ".0f", "pareto_k": ".3f", "divergences": "d"}
    lines = [f"- {k}: " + ("n/a" if d.get(k) is None else format(d[k], fmt[k]))
             for k in DIAGNOSTIC_KEYS]
    if result.warnings:
        lines = ["**WARNING**: " + w for w in result.warnings] + [""] + lines
    return lines


def _sensitivity(result) -> list[str]:
    lines = ["Power-scaling sensitivity (ArviZ `psense`): how much the posterior moves when the",
             "prior or the likelihood is raised to a power near 1. Both >= 0.05 flags a potential",
             "prior-data conflict (or a prior and evidence that are both informative); a sensitive",
             "prior with a weak likelihood means the evidence says little about that quantity.", "",
             "| variable | prior | likelihood | diagnosis |", "|---|---|---|---|"]
    for row in result.sensitivity:
        lines.append(f"| {row['name']} | {row.get('prior', 'n/a')} | {row.get('likelihood', 'n/a')} "
                     f"| {row['diagnosis']} |")
    return lines


def _evidence(result) -> list[str]:
    lines = ["| file | quantity | value | noise | sigma | tag | date | source |",
             "|---|---|---|---|---|---|---|---|"]
    for ev in result.evidence:
        for obs in ev.observations:
            lines.append(f"| {Path(ev.path).name if ev.path else ''} | {obs.quantity} | "
                         f"{format_value(obs.value)} | {obs.noise} | {obs.sigma:g} | {obs.tag} | "
                         f"{obs.date} | {obs.source} |")
    return lines


def _correlations(result) -> list[str]:
    """The parent's rank correlations and the posterior's, pair by pair (none: no section)."""
    from ..inference.refit import rank_correlations

    pairs = dict(result.priors.correlations)
    if not pairs:
        return []
    involved = {name for pair in pairs for name in pair}
    names = [name for name in result.priors if name in involved]  # the pairs' own order
    after = rank_correlations(result.tree["posterior"], names)
    lines = ["## Rank correlations, before and after", "",
             "Spearman rank correlations of the parent's `[correlations]` (a Gaussian copula, "
             "kept exactly in the prior density) and of the posterior draws. The new prior "
             "file's `[correlations]` keeps the posterior pairs that stand out of Monte Carlo "
             "noise (`[provenance.correlations]` says by what rule).", "",
             "| pair | prior | posterior |", "|---|---|---|"]
    for (a, b), rho in pairs.items():
        lines.append(f"| {a}, {b} | {rho:+.2f} | {after[f'{a},{b}']:+.2f} |")
    return lines + [""]


def render_markdown(result, doc: dict, figure: str | None, moved: list[str]) -> str:
    """report.md: headline and assumption intervals before and after, evidence, diagnostics."""
    priors = result.priors
    assumptions = [n for n in priors if n in doc["posterior"]]
    outputs = [n for n in doc["posterior"] if n not in priors]
    headline = [n for n in result.model.headline if n in doc["posterior"]] or outputs
    lines = [f"# Update of `{priors.name}` ({result.method})", "",
             f"Priors: `{priors.path or priors.name}` (sha256 `{priors.sha256 or 'n/a'}`); "
             f"seed {result.seed}; new prior file: `{doc['new_priors']}`.", "",
             "## Headline outputs, before and after", "", *_table(doc, headline), "",
             "## Diagnostics", "", *_diagnostics(result), "",
             "## Evidence", "", *_evidence(result), ""]
    if figure:
        lines += ["## What the evidence moved most", "",
                  "Prior (blue) and posterior (orange) of the inputs whose distribution moved "
                  "most: " + ", ".join(f"`{m}`" for m in moved) + ".", "", f"![prior vs posterior]({figure})", ""]
    lines += [*_correlations(result), "## Every assumption", "", *_table(doc, assumptions), "",
              "## Every output", "", *_table(doc, outputs), "",
              "## Prior sensitivity", "", *_sensitivity(result), "",
              "Intervals are ArviZ equal-tailed 90% intervals; the prior from Monte Carlo draws of "
              "the parent priors, the posterior from the sampler's draws (`posterior.nc`).", ""]
    return "\n".join(lines)


def write_update_report(result, doc: dict, out: Path, force: bool = False) -> None:
    """Write report.md, update.json, posterior.nc and a prior-vs-posterior figure to ``out``."""
    priors = result.priors
    inputs = [n for n in priors.uncertain if n in doc["posterior"]]
    moved = moved_most(result.tree, inputs, FIGURE_COUNT)
    units = {n: priors.unit(n) for n in priors} | {n: q.unit for n, q in result.model.outputs.items()}
    with output_directory(Path(out), force=force) as staging:
        figure = None
        if moved:
            figure = "prior_vs_posterior.png"
            prior_posterior_figure(result.tree, moved, units).savefig(staging / figure, dpi=110)
        (staging / "report.md").write_text(render_markdown(result, doc, figure, moved), "utf-8")
        (staging / "update.json").write_text(json.dumps(doc, indent=1, default=_plain) + "\n")
        result.tree.to_netcdf(staging / "posterior.nc", engine="h5netcdf")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
