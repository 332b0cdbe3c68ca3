"""An update's results as data (the JSON document) and on disk (report.md, report.html,
update.json, figures, posterior.nc).

:func:`update_document`, :func:`update_sections` and :func:`render_markdown` are pure; the
sections go through the same block layer as every report (:mod:`.blocks`, :mod:`.html`);
:func:`write_update_report` is the one function here that writes, through
:func:`uncertainty.files.output_directory`.
"""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import xarray as xr

from .. import jsontext
from ..files import output_directory
from ..priors import priors_argument
from ..summary import format_value
from .blocks import Block, Bullets, Image, Section, Table, Text, to_markdown
from .html import to_html
from .update_plots import moved_most, prior_posterior_figure
from .writer import write_figures

__all__ = ["diagnostic_items", "intervals", "render_markdown", "update_document",
           "update_sections", "write_update_report"]

DIAGNOSTIC_KEYS = ("draws", "r_hat_max", "ess_bulk_min", "divergences", "pareto_k")
# Importance sampling's own: the prior draws weighed, the weights' ESS over them, and how many
# distinct prior draws the resampled draws are copies of.
IMPORTANCE_KEYS = ("proposals", "ess_weights", "distinct_draws")
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
        "diagnostics": {k: result.diagnostics.get(k) for k in _diagnostic_keys(result)},
        "warnings": list(result.warnings),
        "new_priors": str(new_priors) if new_priors is not None else None,
    }


def _interval(stat: dict) -> str:
    low, high = stat["eti_90"]
    return f"{format_value(stat['median'])} ({format_value(low)} to {format_value(high)})"


def _table(doc: dict, names: list[str]) -> Table:
    return Table(["quantity", "prior median (90% interval)", "posterior median (90% interval)"],
                 [[f"`{name}`", _interval(doc["prior"][name]), _interval(doc["posterior"][name])]
                  for name in names])


def _diagnostic_keys(result) -> tuple[str, ...]:
    return DIAGNOSTIC_KEYS + (IMPORTANCE_KEYS if result.method == "importance" else ())


def diagnostic_items(result) -> list[str]:
    """``name: value`` per diagnostic, "n/a" where the method has none (no Python ``None``)."""
    d = result.diagnostics
    fmt = {"r_hat_max": ".4f", "ess_bulk_min": ",.0f", "pareto_k": ".3f", "divergences": "d",
           "draws": ",d", "proposals": ",d", "ess_weights": ",.0f", "distinct_draws": ",d"}
    return [f"{k}: " + ("n/a" if d.get(k) is None else format(d[k], fmt[k]))
            for k in _diagnostic_keys(result)]


def _diagnostics(result) -> list[Block]:
    blocks = [Text("**WARNING**: " + w) for w in result.warnings]
    blocks.append(Bullets(diagnostic_items(result)))
    if result.method == "importance":
        blocks.append(Text(
            "Importance sampling weighs `proposals` prior draws by the likelihood and resamples "
            "`draws` of them, which every interval here summarises. `ess_bulk_min` is the "
            "effective sample size of those resampled draws, 1 / (1 / `ess_weights` + 1 / "
            "`draws`): the weights' own (Kish) ESS over the proposals plus the resampling's "
            "error, so never more than `draws`."))
    return blocks


def _sensitivity(result) -> list[Block]:
    return [Text("Power-scaling sensitivity (ArviZ `psense`): how much the posterior moves when "
                 "the prior or the likelihood is raised to a power near 1. Both >= 0.05 flags a "
                 "potential prior-data conflict (or a prior and evidence that are both "
                 "informative); a sensitive prior with a weak likelihood means the evidence says "
                 "little about that quantity."),
            Table(["variable", "prior", "likelihood", "diagnosis"],
                  [[f"`{row['name']}`", str(row.get("prior", "n/a")),
                    str(row.get("likelihood", "n/a")), row["diagnosis"]]
                   for row in result.sensitivity])]


def _evidence(result) -> Table:
    rows = [[Path(ev.path).name if ev.path else "", f"`{obs.quantity}`", format_value(obs.value),
             obs.noise, f"{obs.sigma:g}", obs.tag, obs.date, obs.source]
            for ev in result.evidence for obs in ev.observations]
    return Table(["file", "quantity", "value", "noise", "sigma", "tag", "date", "source"], rows)


def _correlations(result) -> list[Section]:
    """The parent's rank correlations and the posterior's, pair by pair (none: no section)."""
    from ..inference.refit import rank_correlations

    pairs = dict(result.priors.correlations)
    if not pairs:
        return []
    involved = {name for pair in pairs for name in pair}
    names = [name for name in result.priors if name in involved]  # the pairs' own order
    after = rank_correlations(result.tree["posterior"], names)
    return [Section("correlations", "Rank correlations, before and after", [
        Text("Spearman rank correlations of the parent's `[correlations]` (a Gaussian copula, "
             "kept exactly in the prior density) and of the posterior draws. The new prior "
             "file's `[correlations]` keeps the posterior pairs that stand out of Monte Carlo "
             "noise (`[provenance.correlations]` says by what rule)."),
        Table(["pair", "prior", "posterior"],
              [[f"{a}, {b}", f"{rho:+.2f}", f"{after[f'{a},{b}']:+.2f}"]
               for (a, b), rho in pairs.items()]),
    ])]


def _title(result) -> str:
    return f"Update of `{result.priors.name}` ({result.method})"


def update_sections(result, doc: dict, figure: str | None, moved: list[str]) -> list[Section]:
    """The update report's sections: headline and assumption intervals before and after,
    diagnostics, evidence, the figure, correlations and prior sensitivity."""
    priors = result.priors
    assumptions = [n for n in priors if n in doc["posterior"]]
    outputs = [n for n in doc["posterior"] if n not in priors]
    headline = [n for n in result.model.headline if n in doc["posterior"]] or outputs
    sections = [
        Section("headline", "Headline outputs, before and after", [_table(doc, headline)]),
        Section("diagnostics", "Diagnostics", _diagnostics(result)),
        Section("evidence", "Evidence", [_evidence(result)]),
    ]
    if figure:
        sections.append(Section("moved", "What the evidence moved most", [
            Text("Prior (blue) and posterior (orange) of the inputs whose distribution moved "
                 "most: " + ", ".join(f"`{m}`" for m in moved) + "."),
            Image(figure, "prior vs posterior")]))
    sections += [*_correlations(result),
                 Section("assumptions", "Every assumption", [_table(doc, assumptions)]),
                 Section("outputs", "Every output", [
                     _table(doc, outputs),
                     Text("Intervals are ArviZ equal-tailed 90% intervals; the prior from Monte "
                          "Carlo draws of the parent priors, the posterior from the sampler's "
                          "draws (`posterior.nc`).")]),
                 Section("sensitivity", "Prior sensitivity", _sensitivity(result))]
    return sections


def _intro(result, doc: dict) -> list[Text]:
    priors = result.priors
    named = priors_argument(priors.path) or priors.name
    return [Text(f"Priors: `{named}` (sha256 `{priors.sha256 or 'n/a'}`); "
                 f"seed {result.seed}; new prior file: `{doc['new_priors']}`.")]


def render_markdown(result, doc: dict, figure: str | None, moved: list[str]) -> str:
    """report.md: headline and assumption intervals before and after, evidence, diagnostics."""
    return to_markdown(_title(result), update_sections(result, doc, figure, moved),
                       _intro(result, doc))


def write_update_report(result, doc: dict, out: Path, force: bool = False,
                        before_publish=None, provenance=None) -> None:
    """Write report.md, report.html, update.json, posterior.nc and a prior-vs-posterior figure
    (``figures/prior_vs_posterior.svg``) to ``out``.

    ``before_publish``, if given, is called once everything is written but before ``out``
    appears (the new prior file, for ``update``): if it raises, ``out`` is left as it was.
    ``provenance`` (:class:`uncertainty.files.Provenance`) is checked against and recorded in
    the directory's manifest."""
    priors = result.priors
    inputs = [n for n in priors.uncertain if n in doc["posterior"]]
    moved = moved_most(result.tree, inputs, FIGURE_COUNT)
    units = ({n: priors.unit(n) for n in priors}
             | {n: q.unit for n, q in result.model.outputs.items()})
    labels = {n: result.model.label(n) for n in moved}
    discrete = {n for n in moved if priors[n].dist.discrete}
    figures = {"prior_vs_posterior": prior_posterior_figure(result.tree, moved, units, labels,
                                                            discrete)} if moved else {}
    figure = next(iter(figures), None)
    sections = update_sections(result, doc, figure, moved)
    with output_directory(Path(out), force=force, provenance=provenance) as staging:
        svgs = write_figures(staging, figures)
        (staging / "report.md").write_text(
            to_markdown(_title(result), sections, _intro(result, doc)), "utf-8")
        (staging / "report.html").write_text(
            to_html(_title(result), sections, svgs, _intro(result, doc)), "utf-8")
        (staging / "update.json").write_text(jsontext.dumps(doc, indent=1, default=_plain) + "\n")
        result.tree.to_netcdf(staging / "posterior.nc", engine="h5netcdf")
        if before_publish is not None:
            before_publish()


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
