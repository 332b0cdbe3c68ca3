"""The interval report's sections, in order: one function per section, summary document in.

Each builder takes the summary document (``summary.json``, see
:func:`uncertainty.report.summary_document`) and the names of the figures that exist, and
returns a :class:`~uncertainty.blocks.Section`. :data:`REPORT_SECTIONS` is the order a reader
meets them; adding a section is adding a function to that tuple.

Figure names: ``dist_<output>`` (distribution), ``prior_<assumption>`` (density sketch) and
``tornado_<output>`` (tornado chart).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from .blocks import Bullets, Image, Section, Table, Text
from .model import ALL_OUTPUTS, ASSUMPTIONS
from .summary import format_value, percentile_words

__all__ = [
    "MCSE_TARGET",
    "REPORT_SECTIONS",
    "article_words",
    "headline_table_block",
    "report_intro",
    "report_title",
    "reproduction_block",
]

MCSE_TARGET = 0.01  # the largest relative MCSE of a headline 5%/95% quantile a report accepts

SectionBuilder = Callable[[dict, Collection[str]], Section]


def _interval(pair) -> str:
    return f"{format_value(pair[0])} to {format_value(pair[1])}"


def _label(name: str) -> str:
    return ALL_OUTPUTS[name].label if name in ALL_OUTPUTS else name


def _unit(name: str) -> str:
    return ALL_OUTPUTS[name].unit if name in ALL_OUTPUTS else ""


def report_title(doc: dict) -> str:
    return f"Sora compute: interval report for priors `{doc['priors']['name']}`"


def _draw_kind(doc: dict) -> str:
    return "quasi-Monte Carlo" if doc["run"]["sampler"].startswith("quasi") else "Monte Carlo"


def report_intro(doc: dict, description: str = "") -> list[Text]:
    lede = (f"Priors `{doc['priors']['name']}`" + (f": {description}. " if description else ". ")
            + f"{doc['samples']:,} {_draw_kind(doc)} draws, seed {doc['seed']}. Every number is a "
            "distribution over the article's chain of guesses; intervals are equal-tailed "
            "credible intervals (ETI) unless marked HDI.")
    return [Text(lede)]


def article_words(name: str, stats: dict) -> str:
    """Where the article's figure falls, in plain words: "... sits at the 26th percentile"."""
    unit = _unit(name)
    if stats.get("article_range"):
        low, high = (format_value(v) for v in stats["article_range"])
        p_low, p_high = (percentile_words(p) for p in stats["article_range_percentiles"])
        return (f"The article's {low} to {high} {unit} ({_label(name)}) spans our distribution "
                f"from the {p_low} to the {p_high}.")
    if stats.get("article_value") is None:
        return f"The article states no figure for {_label(name)}."
    return (f"The article's {format_value(stats['article_value'])} {unit} ({_label(name)}) sits "
            f"at the {percentile_words(stats['article_percentile'])} of our distribution.")


def headline_table_block(doc: dict) -> Table:
    rows = []
    for name in doc["headline"]:
        s = doc["outputs"][name]
        if s["article_range"]:
            article = _interval(s["article_range"])
            where = " to ".join(percentile_words(p) for p in s["article_range_percentiles"])
        else:
            article = format_value(s["article_value"])
            where = percentile_words(s["article_percentile"])
        rows.append([f"{_label(name)} ({_unit(name)})", format_value(s["median"]),
                     _interval(s["eti_50"]), _interval(s["eti_90"]), article, where])
    return Table(["output", "median", "50% interval", "90% interval", "article",
                  "article's percentile"], rows)


def headline(doc: dict, figures: Collection[str]) -> Section:
    words = [article_words(name, doc["outputs"][name]) for name in doc["headline"]]
    return Section("headline", "1. Headline intervals", [
        headline_table_block(doc),
        Bullets(words),
        Text("A percentile is the share of our draws at or below the article's figure: at the "
             "50th the article sits mid-distribution, near the 5th or 95th it sits in a tail."),
    ])


def distributions(doc: dict, figures: Collection[str]) -> Section:
    blocks = []
    for name in doc["headline"]:
        s = doc["outputs"][name]
        blocks.append(Image(
            f"dist_{name}", f"Distribution of {_label(name)}",
            f"{_label(name)}: histogram (top) and cumulative share of draws (bottom), log axis; "
            f"shaded: 50% interval {_interval(s['eti_50'])} and 90% interval "
            f"{_interval(s['eti_90'])} {_unit(name)}; green: median {format_value(s['median'])}; "
            f"dashed: the article's figure."))
    if not any(f"dist_{name}" in figures for name in doc["headline"]):
        blocks = [Text("Figures were not drawn for this report.")]
    return Section("distributions", "2. Distributions of the headline outputs", blocks)


def _cell(value) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: ""}[value]
    if isinstance(value, (int, float)):
        return format_value(float(value))
    return f"`{value}`" if str(value) in ASSUMPTIONS else str(value)


def _rows_table(rows: list[dict]) -> Table:
    """Any list of flat dicts as a table (the columns of the first row, in order)."""
    header = list(rows[0])
    return Table(header, [[_cell(row.get(key)) for key in header] for row in rows])


def _tornado_table(result: dict, name: str) -> Table:
    rows = [[f"`{bar['assumption']}`", _interval((bar["input_low"], bar["input_high"])),
             format_value(bar["output_low"]), format_value(bar["output_high"]),
             f"x{10 ** bar['swing_log10']:.3g}"] for bar in result["bars"]]
    q_low, q_high = (percentile_words(result[k]) for k in ("low_quantile", "high_quantile"))
    return Table(["assumption", "input, low to high", f"{_label(name)} at low",
                  f"{_label(name)} at high", "swing"], rows,
                 caption=f"Each assumption moved from its {q_low} to its {q_high}, the others held "
                         f"at their medians (base {format_value(result['base'])} {_unit(name)}).")


def sensitivity(doc: dict, figures: Collection[str]) -> Section:
    tornado = (doc.get("tornado") or {}).get("outputs", {})
    pin_down = doc.get("pin_down_next") or {}
    if not tornado and not pin_down:
        return Section("sensitivity", "3. What drives the uncertainty", [
            Text("Tornado chart and Sobol indices: not computed for this report.")])
    blocks = []
    for name in doc["headline"]:
        blocks.append(Text(f"**{_label(name)}**"))
        if name in tornado:
            if f"tornado_{name}" in figures:
                blocks.append(Image(f"tornado_{name}", f"Tornado chart of {_label(name)}"))
            blocks.append(_tornado_table(tornado[name], name))
        else:
            blocks.append(Text("Tornado chart: not computed."))
        drivers = {row["output"]: row for row in doc.get("top_driver") or [] if "output" in row}
        if name in drivers and drivers[name].get("explanation"):
            blocks.append(Text(drivers[name]["explanation"]))
        if pin_down.get(name):
            blocks += [Text("What to pin down next (Sobol indices):"), _rows_table(pin_down[name])]
        else:
            blocks.append(Text("What to pin down next (Sobol indices): not computed."))
    for note in ((doc.get("tornado") or {}).get("note"), (doc.get("sobol") or {}).get("note")):
        if note:
            blocks.append(Text(note))
    return Section("sensitivity", "3. What drives the uncertainty", blocks)


def assumptions(doc: dict, figures: Collection[str]) -> Section:
    rows = []
    for name, row in doc["assumptions"].items():
        unit = row["unit"] or (ASSUMPTIONS[name].unit if name in ASSUMPTIONS else "")
        interval = "fixed" if row["family"] == "fixed" else _interval((row["q05"], row["q95"]))
        sketch = (Image(f"prior_{name}", f"prior density of {name}", small=True)
                  if f"prior_{name}" in figures else "")
        rows.append([f"`{name}`", row["family"], format_value(row["median"]), interval, unit,
                     sketch, row["source"]])
    return Section("assumptions", "4. Assumptions", [
        Text("Every assumption, its prior family, median and 90% interval, and where the number "
             "comes from. Sources tagged P are primary, S secondary, D derived."),
        Table(["assumption", "family", "median", "90% interval", "unit", "density", "source"], rows),
    ])


def model_structure(doc: dict, figures: Collection[str]) -> Section:
    """The structural choices behind the numbers: GPU, attention, demand platforms, correlations."""
    structure = doc.get("structure") or {}
    gpu = structure.get("gpu")
    attention = structure.get("attention", "linear")
    lines = [
        "GPU: " + (f"{gpu['name']} ({gpu['full_name']}), dense {gpu['precision'].upper()} peak "
                   f"{gpu['peak_flops'] / 1e12:,.1f} TFLOP/s; {gpu['source']}" if gpu
                   else "not named (gpu_peak_flops as given in the prior file)"),
        f"attention: {attention}" + (" (compute linear in frames, as in the article)"
                                     if attention == "linear" else
                                     " (full attention: per token, seq / (6 x width) on top of the "
                                     "linear layers)"),
        "demand platforms: " + ", ".join(structure.get("platforms", [])),
    ]
    pairs = structure.get("correlations") or []
    lines.append("rank correlations (Spearman, Gaussian copula; marginals unchanged): "
                 + "; ".join(f"`{p['a']}` ~ `{p['b']}` {p['spearman']:+.2f}" for p in pairs)
                 if pairs else "assumptions drawn independently (no [correlations])")
    return Section("structure", "Model structure", [Bullets(lines)])


def reproduction_block(lines: list[dict]) -> Table:
    rows = [[line["label"], format_value(line["article"]), format_value(line["recomputed"]),
             format_value(line["model"]), "yes" if line["consistent"] else "**NO**", line["note"]]
            for line in lines]
    return Table(["line", "article", "recomputed", "model", "consistent", "note"], rows,
                 flags=[not line["consistent"] for line in lines])


def reproduction(doc: dict, figures: Collection[str]) -> Section:
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
        cells = [f"{format_value(value)} ± {format_value(error)} ({100 * error / value:.2f}%)"
                 for value, error in ((s["eti_90"][0], s["mcse_q05"]), (s["median"], s["mcse_median"]),
                                      (s["eti_90"][1], s["mcse_q95"]))]
        bound = s.get("quantile_bound")
        rows.append([_label(name), *cells, f"{s['ess']:,.0f}",
                     f"{100 * bound:.2f}%" if bound is not None else "exact"])
    return Table(["output", "5% quantile", "median", "95% quantile", "ESS", "histogram bound"],
                 rows, caption="Each reported quantile ± its Monte Carlo standard error, and the "
                 "largest error the streamed histogram can add to a reported quantile (relative).")


def run_facts(doc: dict, figures: Collection[str]) -> Section:
    run = doc["run"]
    mcse = doc.get("headline_max_relative_mcse", doc["headline_max_relative_mcse_q05_q95"])
    target = run.get("rtol") or MCSE_TARGET
    words = f"{100 * target:.2f}% target"
    mcse_words = (f"{100 * mcse:.2f}%, within the {words}" if mcse <= target
                  else f"{100 * mcse:.2f}%, ABOVE the {words}: raise --max-samples or --samples")
    return Section("run", "6. Run facts", [
        Bullets([
            f"priors file: `{doc['priors']['path']}`",
            f"priors sha256: `{doc['priors']['sha256']}`",
            f"seed {doc['seed']}; {doc['samples']:,} draws ({run['sampler']})",
            f"device: {run['device']}; wall time {run['wall_seconds']} s",
            f"largest relative Monte Carlo standard error of a headline 5%, 50% or 95% "
            f"quantile: {mcse_words}",
            *_stream_facts(run),
            "versions: " + ", ".join(f"{k} {v}" for k, v in run["versions"].items()),
            f"repeat with: `{' '.join(doc['command'])}`",
        ]),
        _mcse_table(doc),
    ])


def _stream_facts(run: dict) -> list[str]:
    """How the draws were summarised (streamed runs; absent from older summary files)."""
    if "quantile_method" not in run:
        return []
    checks = ", ".join(f"{c['samples']:,} ({100 * c['max_relative_mcse']:.2f}%)"
                       for c in run["checks"])
    return [f"{run['devices']} device(s), {run['processes']} process(es); error checked at "
            f"{checks}",
            f"quantiles: {run['quantile_method']}; figures and draws.nc keep the first "
            f"{run['kept_draws']:,} draws"]


def all_outputs(doc: dict, figures: Collection[str]) -> Section:
    rows = [[f"`{name}`", _unit(name), format_value(s["mean"]), format_value(s["median"]),
             _interval(s["eti_50"]), _interval(s["eti_90"]), _interval(s["hdi_90"]),
             f"{s['ess']:.0f}"] for name, s in doc["outputs"].items()]
    return Section("outputs", "Appendix: every output of the model", [
        Table(["output", "unit", "mean", "median", "50% ETI", "90% ETI", "90% HDI", "ESS"], rows)])


REPORT_SECTIONS: tuple[SectionBuilder, ...] = (
    headline, distributions, sensitivity, assumptions, model_structure, reproduction, run_facts,
    all_outputs)
