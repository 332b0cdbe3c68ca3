"""The interval report's sections, in order: one function per section, summary document in.

Each builder takes the summary document (``summary.json``, see
:func:`uncertainty.report.writer.summary_document`) and the names of the figures that exist, and
returns a :class:`~uncertainty.report.blocks.Section`. :data:`REPORT_SECTIONS` is the order a reader
meets them; adding a section is adding a function to that tuple.

Figure names: ``dist_<output>`` (distribution), ``prior_<assumption>`` (density sketch) and
``tornado_<output>`` (tornado chart).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from ..summary import (
    at_percentile,
    error_words,
    format_value,
    percentile_words,
    possessive,
    sentence_start,
)
from .blocks import Bullets, Image, Section, Table, Text, table_markdown

__all__ = [
    "REPORT_SECTIONS",
    "article_words",
    "headline_table_block",
    "report_intro",
    "report_title",
    "reproduction_block",
    "reproduction_markdown",
]

SectionBuilder = Callable[[dict, Collection[str]], Section | None]  # None: nothing to say


def _interval(pair) -> str:
    return "n/a" if pair is None else f"{format_value(pair[0])} to {format_value(pair[1])}"


def _model(doc: dict) -> dict:
    """What the summary says of its model (older summaries: the Sora model, by default)."""
    return doc.get("model") or {"title": "Sora compute", "marks_label": "the article"}


def _label(doc: dict, name: str) -> str:
    return _model(doc).get("outputs", {}).get(name, {}).get("label", name)


def _unit(doc: dict, name: str) -> str:
    return _model(doc).get("outputs", {}).get(name, {}).get("unit", "")


def _label_with_unit(doc: dict, name: str) -> str:
    """"peak serving fleet (H100s)"; the unit left out when there is none or the label says it
    ("training H100-months")."""
    label, unit = _label(doc, name), _unit(doc, name)
    return f"{label} ({unit})" if unit and unit not in label else label


def _whose(doc: dict) -> str:
    """Whose figures the marks are, as a possessive: "the article's"."""
    return possessive(_model(doc).get("marks_label", "reference"))


def _marked(doc: dict) -> bool:
    return any(doc["outputs"][name].get("article_value") is not None for name in doc["headline"])


def report_title(doc: dict) -> str:
    title = _model(doc).get("title") or _model(doc).get("name", "model")
    return f"{title}: interval report for priors `{doc['priors']['name']}`"


def _draw_kind(doc: dict) -> str:
    return "quasi-Monte Carlo" if doc["run"]["sampler"].startswith("quasi") else "Monte Carlo"


def report_intro(doc: dict, description: str = "") -> list[Text]:
    lede = (f"Priors `{doc['priors']['name']}`" + (f": {description}. " if description else ". ")
            + f"{doc['samples']:,} {_draw_kind(doc)} draws, seed {doc['seed']}. Every number is a "
            "distribution over the assumptions below (section 4); "
            "intervals are equal-tailed credible intervals (ETI) unless marked HDI.")
    return [Text(lede)]


def article_words(doc: dict, name: str) -> str:
    """Where the marked figure falls, in plain words: "... sits at the 26th percentile"."""
    stats, unit, label = doc["outputs"][name], _unit(doc, name), _label(doc, name)
    whose = _whose(doc)
    if stats.get("article_range"):
        low, high = (format_value(v) for v in stats["article_range"])
        p_low, p_high = (at_percentile(p).removeprefix("at ")
                         for p in stats["article_range_percentiles"])
        return (f"{sentence_start(whose)} {low} to {high} {unit} ({label}) spans our distribution "
                f"from {p_low} to {p_high}.")
    if stats.get("article_value") is None:
        return f"{sentence_start(_model(doc).get('marks_label', 'reference'))} states no " \
               f"figure for {label}."
    return (f"{sentence_start(whose)} {format_value(stats['article_value'])} {unit} ({label}) sits "
            f"{at_percentile(stats['article_percentile'])} of our distribution.")


def headline_table_block(doc: dict) -> Table:
    rows = []
    marked = _marked(doc)
    for name in doc["headline"]:
        s = doc["outputs"][name]
        row = [_label_with_unit(doc, name), format_value(s["median"]),
               _interval(s["eti_50"]), _interval(s["eti_90"])]
        if marked and s["article_range"]:
            row += [_interval(s["article_range"]),
                    " to ".join(percentile_words(p) for p in s["article_range_percentiles"])]
        elif marked:
            row += [format_value(s["article_value"]), percentile_words(s["article_percentile"])]
        rows.append(row)
    whose = _model(doc).get("marks_label", "reference").removeprefix("the ")
    marks = [whose, "its percentile"] if marked else []  # 'article in B200 terms's' would not read
    return Table(["output", "median", "50% interval", "90% interval", *marks], rows)


def headline(doc: dict, figures: Collection[str]) -> Section:
    blocks = [headline_table_block(doc)]
    if _marked(doc):
        label = _model(doc).get("marks_label", "reference")
        blocks += [Bullets([article_words(doc, name) for name in doc["headline"]]),
                   Text(f"A percentile is the share of our draws at or below {_whose(doc)} "
                        f"figure: at the 50th {label} sits mid-distribution, near the 5th or "
                        f"95th it sits in a tail.")]
    return Section("headline", "1. Headline intervals", blocks)


def distributions(doc: dict, figures: Collection[str]) -> Section:
    blocks = []
    for name in doc["headline"]:
        s = doc["outputs"][name]
        blocks.append(Image(
            f"dist_{name}", f"Distribution of {_label(doc, name)}",
            f"{_label(doc, name)}: histogram (top) and cumulative share of draws (bottom); "
            f"shaded: 50% interval {_interval(s['eti_50'])} and 90% interval "
            f"{_interval(s['eti_90'])} {_unit(doc, name)}; green: median "
            f"{format_value(s['median'])}"
            + (f"; dashed: {_whose(doc)} figure." if s.get("article_value") is not None
               else ".")))
    if not any(f"dist_{name}" in figures for name in doc["headline"]):
        blocks = [Text("Figures were not drawn for this report.")]
    return Section("distributions", "2. Distributions of the headline outputs", blocks)


def _swing_words(bar: dict) -> str:
    """x3.2 (the ratio of the two ends) when both are positive, else their difference."""
    if bar["swing_log10"] is not None:
        ratio = 10 ** bar["swing_log10"]
        return f"x{ratio:.2f}" if ratio < 10 else f"x{ratio:.3g}"  # x1.00, not x1, for 1.004
    return f"±{format_value(bar.get('swing', abs(bar['output_high'] - bar['output_low'])) / 2)}"


def _index_words(value: float, interval) -> str:
    """0.84 [0.82, 0.87]: an index and its 95% interval, to the precision they carry."""
    return f"{max(value, 0.0):.2f} [{max(interval[0], 0.0):.2f}, {max(interval[1], 0.0):.2f}]"


def _pin_down_blocks(doc: dict, name: str, rows: list[dict]) -> list:
    """The ranking's table, less the assumptions that do not move the output at all: those
    are named in one sentence under it (``summary.json`` keeps every row)."""
    from ..sensitivity.ranking import moves_output  # the package starts JAX: not for `reproduce`

    if "evppi" in rows[0]:
        return [_pin_down_table(rows)]
    shown = [row for row in rows if moves_output(row)]
    unmoved = [f"`{row['assumption']}`" for row in rows if not moves_output(row)]
    if not shown:
        return [Text(f"No assumption moves {_label(doc, name)}.")]
    blocks = [_pin_down_table(shown)]
    if unmoved:
        why = ("their Shapley effects are exactly 0: it depends on none of them, nor on "
               "anything correlated with them" if "shapley" in rows[0] else
               "their total indices are 0, to rounding: it does not depend on them")
        blocks.append(Text(f"Not listed, as they do not move {_label(doc, name)} at all ({why}): "
                           f"{', '.join(unmoved)}."))
    return blocks


def _pin_down_table(rows: list[dict]) -> Table:
    """Rows ranked by Sobol indices (S1, ST) or, for correlated priors, by the full first-order
    index beside the Shapley effect."""
    if "evppi" in rows[0]:
        return Table(["rank", "assumption", "EVPPI", "share of EVPI", "what it means"],
                     [[str(row["rank"]), f"`{row['assumption']}`", format_value(row["evppi"]),
                       f"{100 * row['evpi_share']:.0f}%", row["sentence"]] for row in rows])
    first, second = ("S1", "ST") if "S1" in rows[0] else ("first_order", "shapley")
    names = {"S1": "S1", "ST": "ST", "first_order": "first-order", "shapley": "Shapley effect"}
    return Table(["rank", "assumption", f"{names[first]} [95% interval]",
                  f"{names[second]} [95% interval]", "what it means"],
                 [[str(row["rank"]), f"`{row['assumption']}`",
                   _index_words(row[first], row[f"{first}_ci"]),
                   _index_words(row[second], row[f"{second}_ci"]), row["sentence"]]
                  for row in rows])


def _value_blocks(doc: dict, name: str, figures: Collection[str]) -> list:
    """The decision on this output, if the prior file states one: best provision, EVPI."""
    voi = doc.get("voi")
    if not voi or voi["output"] != name:
        return []
    unit = f" ({voi['unit']})" if voi.get("unit") else ""
    blocks = [Text(
        f"Decision: how much {_label(doc, name)} to provide, at {format_value(voi['under_cost'])} "
        f"per unit short and {format_value(voi['over_cost'])} per unit idle{unit} (source: "
        f"{voi['source']}). Best provision under these priors: "
        f"{format_value(voi['provision'])} {_unit(doc, name)}, with an expected loss of "
        f"{format_value(voi['expected_loss'])}; knowing {_label(doc, name)} exactly before "
        f"choosing would save all of it (the EVPI). {voi['method']}")]
    if "voi" in figures:
        blocks.append(Image("voi", f"Value of information for providing {_label(doc, name)}"))
    return blocks


def _shapley_blocks(doc: dict, name: str, figures: Collection[str]) -> list:
    """The Shapley effects of one output beside its first-order and independent total indices."""
    effects = ((doc.get("shapley") or {}).get("outputs") or {}).get(name)
    if not effects:
        return []
    blocks = []
    if f"shapley_{name}" in figures:
        blocks.append(Image(f"shapley_{name}", f"Shapley effects of {_label(doc, name)}",
                            "Each assumption's fair share of the variance (Shapley effect, with "
                            "its 95% interval), beside what knowing it would remove (first-order, "
                            "correlated partners included) and its total index as if the "
                            "assumptions were independent."))
    ranked = sorted(effects.items(), key=lambda kv: -kv[1]["shapley"])
    rows = [[f"`{n}`", _index_words(ix["shapley"], ix["shapley_ci"]),
             _index_words(ix["first_order"], ix["first_order_ci"]), f"{max(ix['total'], 0):.2f}"]
            for n, ix in ranked if max(ix["shapley_ci"][1], ix["first_order"]) >= 0.005]
    blocks.append(Table(["assumption", "Shapley effect [95% interval]",
                         "first-order [95% interval]", "total, as if independent"], rows))
    return blocks


def _tornado_table(doc: dict, result: dict, name: str) -> Table:
    from ..sensitivity.tornado import moving_bars  # JAX: not for `reproduce`'s table

    moving = moving_bars(result)  # no row for an assumption that does not move it
    rows = [[f"`{bar['assumption']}`", _interval((bar["input_low"], bar["input_high"])),
             format_value(bar["output_low"]), format_value(bar["output_high"]),
             _swing_words(bar)] for bar in moving]
    q_low, q_high = (percentile_words(result[k]) for k in ("low_quantile", "high_quantile"))
    return Table(["assumption", "input, low to high", "output at the low input",
                  "output at the high input", "swing"], rows,
                 caption=f"Each assumption moved from its {q_low} to its {q_high}, the others held "
                         f"at their medians (base {format_value(result['base'])} "
                         f"{_unit(doc, name)}).")


def sensitivity(doc: dict, figures: Collection[str]) -> Section:
    tornado = (doc.get("tornado") or {}).get("outputs", {})
    pin_down = doc.get("pin_down_next") or {}
    if not tornado and not pin_down:
        return Section("sensitivity", "3. What drives the uncertainty", [
            Text("Tornado chart and Sobol indices: not computed for this report.")])
    blocks = []
    for name in doc["headline"]:
        blocks.append(Text(f"**{_label(doc, name)}**"))
        if name in tornado:
            if f"tornado_{name}" in figures:
                blocks.append(Image(f"tornado_{name}", f"Tornado chart of {_label(doc, name)}"))
            blocks.append(_tornado_table(doc, tornado[name], name))
        else:
            blocks.append(Text("Tornado chart: not computed."))
        blocks += _shapley_blocks(doc, name, figures)
        drivers = {row["output"]: row for row in doc.get("top_driver") or [] if "output" in row}
        if name in drivers and drivers[name].get("explanation"):
            blocks.append(Text(drivers[name]["explanation"]))
        blocks += _value_blocks(doc, name, figures)
        if pin_down.get(name):
            basis = ("first-order indices under the correlated priors" if doc.get("shapley")
                     else "Sobol indices")
            if "evppi" in pin_down[name][0]:
                basis = "the value of information for the decision above, in its costs' unit"
            blocks += [Text(f"What to pin down next ({basis}):"),
                       *_pin_down_blocks(doc, name, pin_down[name])]
        else:
            blocks.append(Text("What to pin down next (Sobol indices): not computed."))
    for note in ((doc.get("tornado") or {}).get("note"), (doc.get("sobol") or {}).get("note")):
        if note:
            blocks.append(Text(note))
    if doc.get("shapley"):
        pairs = ", ".join(f"`{p['a']}` ~ `{p['b']}`"
                          for p in (doc.get("structure") or {}).get("correlations", []))
        blocks.append(Text(
            f"The priors are correlated ({pairs}), so variance does not split into independent "
            "parts: each assumption gets its Shapley effect, its fair share of the variance "
            "(they add up to 1), and its first-order index, the share that knowing it exactly "
            "would remove, its correlated partners' moving with it. "
            f"Method: {doc['shapley']['method']}."))
    return Section("sensitivity", "3. What drives the uncertainty", blocks)


def _family_words(row: dict) -> str:
    """The family's name; a pool of experts with its weighted components."""
    components = row["params"].get("components") if row["family"] == "mixture" else None
    if not components:
        return row["family"]
    return "mixture of " + " + ".join(f"{c['weight']:.2g} {c['dist']}" for c in components)


def assumptions(doc: dict, figures: Collection[str]) -> Section:
    rows = []
    for name, row in doc["assumptions"].items():
        unit = row["unit"] or _model(doc).get("inputs", {}).get(name, "")
        interval = "fixed" if row["family"] == "fixed" else _interval((row["q05"], row["q95"]))
        sketch = (Image(f"prior_{name}", f"prior density of {name}", small=True)
                  if f"prior_{name}" in figures else "")
        rows.append([f"`{name}`", _family_words(row), format_value(row["median"]), interval, unit,
                     sketch, row["source"]])
    return Section("assumptions", "4. Assumptions", [
        Text("Every assumption, its prior family, median and 90% interval, and where the number "
             "comes from. Sources tagged P are primary, S secondary, D derived."),
        Table(["assumption", "family", "median", "90% interval", "unit", "density", "source"],
              rows),
    ])


def model_structure(doc: dict, figures: Collection[str]) -> Section:
    """The structural choices behind the numbers (the model's own words for them), and the
    rank correlations."""
    structure = doc.get("structure") or {}
    lines = list(_model(doc).get("structure_lines", []))
    pairs = structure.get("correlations") or []
    lines.append("rank correlations (Spearman, Gaussian copula; marginals unchanged): "
                 + "; ".join(f"`{p['a']}` ~ `{p['b']}` {p['spearman']:+.2f}" for p in pairs)
                 if pairs else "assumptions drawn independently (no [correlations])")
    return Section("structure", "Model structure", [Bullets(lines)])


def reproduction_markdown(lines: list[dict]) -> str:
    """The reproduction table as Markdown (``sora-uq reproduce``; needs no JAX)."""
    return table_markdown(reproduction_block(lines))


def reproduction_block(lines: list[dict]) -> Table:
    rows = [[line["label"], format_value(line["article"]), format_value(line["recomputed"]),
             format_value(line["model"]), "yes" if line["consistent"] else "**NO**", line["note"]]
            for line in lines]
    return Table(["line", "article", "recomputed", "model", "consistent", "note"], rows,
                 flags=[not line["consistent"] for line in lines])


def reproduction(doc: dict, figures: Collection[str]) -> Section | None:
    """The article's arithmetic (a model's report extra: the Sora model's), when there."""
    if not doc.get("reproduction"):
        return None
    bad = [line for line in doc["reproduction"] if not line["consistent"]]
    return Section("reproduction", "5. The article's arithmetic, reproduced", [
        Text("`recomputed` is the article's own arithmetic on its own inputs; `model` is this "
             "model at the article's point inputs (exact parameter ratio, image term kept). "
             f"Highlighted lines ({len(bad)} of {len(doc['reproduction'])}) are inconsistent "
             "within the article itself: recomputed more than 3% from what it states."),
        reproduction_block(doc["reproduction"]),
    ])


def _mcse_table(doc: dict) -> Table:
    rows = []
    for name in doc["headline"]:
        s = doc["outputs"][name]
        cells = [f"{format_value(value)} ± {format_value(error)}"
                 + (f" ({100 * error / abs(value):.2f}%)" if value else "")
                 for value, error in ((s["eti_90"][0], s["mcse_q05"]),
                                      (s["median"], s["mcse_median"]),
                                      (s["eti_90"][1], s["mcse_q95"]))]
        bound = s.get("quantile_bound")
        rows.append([_label(doc, name), *cells, f"{s['ess']:,.0f}",
                     f"{100 * bound:.2f}%" if bound is not None else "exact"])
    return Table(["output", "5% quantile", "median", "95% quantile", "ESS", "histogram bound"],
                 rows, caption="Each reported quantile ± its Monte Carlo standard error, and the "
                 "largest error the streamed histogram can add to a reported quantile (relative).")


def report_error_words(doc: dict) -> tuple[bool, str]:
    """:func:`~uncertainty.summary.error_words` of a report's summary document."""
    mcse = doc.get("headline_max_relative_mcse", doc["headline_max_relative_mcse_q05_q95"])
    return error_words(mcse, doc["samples"], doc["run"].get("rtol"))


def run_facts(doc: dict, figures: Collection[str]) -> Section:
    run = doc["run"]
    mcse_words = report_error_words(doc)[1]
    return Section("run", "6. Run facts", [
        Bullets([
            f"priors file: `{doc['priors']['path']}`",
            f"priors sha256: `{doc['priors']['sha256']}`",
            f"seed {doc['seed']}; {doc['samples']:,} draws ({run['sampler']})",
            f"device: {run['device']} (timings: `timings.json`, beside this report)",
            f"largest relative Monte Carlo standard error of a headline 5%, 50% or 95% "
            f"quantile: {mcse_words}",
            *_stream_facts(run, doc["samples"]),
            "versions: " + ", ".join(f"{k} {v}" for k, v in run["versions"].items()),
            f"repeat with: `{' '.join(doc['command'])}`",
        ]),
        _mcse_table(doc),
    ])


def _stream_facts(run: dict, doc_samples: int) -> list[str]:
    """How the draws were summarised (streamed runs; absent from older summary files)."""
    if "quantile_method" not in run:
        return []
    checks = ", ".join(f"{c['samples']:,} ({100 * c['max_relative_mcse']:.2f}%)"
                       for c in run["checks"])
    return [f"{run['devices']} device(s), {run['processes']} process(es); error checked at "
            f"{checks}",
            f"quantiles: {run['quantile_method']}",
            _kept_words(run, doc_samples)]


def _kept_words(run: dict, drawn: int) -> str:
    """How many of the run's draws the figures, draws.nc and any export keep."""
    files = ["draws.nc", *(f"draws.{fmt}" for fmt in run.get("exports", []))]
    kept = run["kept_draws"]
    share = (f"the first {kept:,} of the {drawn:,} draws" if kept < drawn
             else f"all {drawn:,} draws")
    return (f"the figures and {', '.join(files)} keep {share}; every summary above uses all "
            f"{drawn:,}")


def all_outputs(doc: dict, figures: Collection[str]) -> Section:
    rows = [[f"`{name}`", _unit(doc, name), format_value(s["mean"]), format_value(s["median"]),
             _interval(s["eti_50"]), _interval(s["eti_90"]), _interval(s["hdi_90"]),
             f"{s['ess']:.0f}"] for name, s in doc["outputs"].items()]
    return Section("outputs", "Appendix: every output of the model", [
        Table(["output", "unit", "mean", "median", "50% ETI", "90% ETI", "90% HDI", "ESS"], rows),
        Text("ETI: equal-tailed interval. HDI: the shortest interval holding 90% of the draws, "
             "on the log scale for an output that is > 0 (the scale it is summarised and drawn "
             "on), so its ends are not far-tail quantiles; n/a where its Monte Carlo error "
             "exceeds 5% (`hdi_90_mcse` in summary.json gives it).")])


REPORT_SECTIONS: tuple[SectionBuilder, ...] = (
    headline, distributions, sensitivity, assumptions, model_structure, reproduction, run_facts,
    all_outputs)
