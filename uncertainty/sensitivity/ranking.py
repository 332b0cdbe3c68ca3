"""Sensitivity a reader can act on: "what to pin down next" and whether two methods agree.

:func:`pin_down_next` ranks assumptions by the expected share of variance that knowing each
exactly would remove: the first-order Sobol index for independent priors, the full first-order
index of the Shapley document for correlated ones (:func:`shapley_as_indices`), each with a
sentence. :func:`top_driver_check` says whether the tornado and the global index (Sobol total,
or Shapley effect) name the same top driver, and if not, why. ``label`` is the output's
readable name (the model's ``label(output)``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["moves_output", "pin_down_by_value", "pin_down_next", "shapley_as_indices",
           "top_driver_check"]

# A total index (or Shapley effect) and its interval within this of 0: the output does not
# depend on the assumption at all. Its model calls were identical, up to float rounding, with
# the assumption moved or not (Sobol's total index: about 1e-16 then), or it is a dummy whose
# Shapley effect is exactly 0; a real but small effect is far above (Monte Carlo noise alone
# gives the Shapley estimator intervals about 0.01 wide).
NOT_MOVED = 1e-9


def pin_down_by_value(voi: Mapping, format_money: Callable[[float], str],
                      output_unit: str = "") -> list[dict]:
    """Assumptions ranked by their expected value of partial perfect information for the
    decision of :func:`~uncertainty.sensitivity.voi.value_of_information`, each with a
    sentence: what knowing it exactly before choosing would save, in the costs' unit times the
    output's (``output_unit``)."""
    unit = f" ({voi['unit']} x {output_unit or 'output unit'})" if voi.get("unit") else ""
    rows = []
    ranked = sorted(voi["evppi"].items(), key=lambda kv: -kv[1])
    for rank, (name, value) in enumerate(ranked, start=1):
        share = value / voi["evpi"] if voi["evpi"] > 0 else 0.0
        sentence = (f"Knowing `{name}` exactly before choosing how much `{voi['output']}` to "
                    f"provide would save about {format_money(value)}{unit} of expected loss, "
                    f"{_pct(share)} of what perfect information on the output would save.")
        rows.append({"rank": rank, "assumption": name, "evppi": value, "evpi_share": share,
                     "sentence": sentence})
    return rows


def shapley_as_indices(shapley: Mapping) -> dict:
    """A Shapley document read as indices: ``S1`` the full first-order index (correlated
    partners included), ``ST`` the Shapley effect, with ``basis = "shapley"``."""
    return {"scale": shapley["scale"], "basis": "shapley",
            "outputs": {out: {n: {"S1": ix["first_order"], "S1_ci": ix["first_order_ci"],
                                  "ST": ix["shapley"], "ST_ci": ix["shapley_ci"]}
                              for n, ix in effects.items()}
                        for out, effects in shapley["outputs"].items()}}


def _indices_of(sobol_result: Mapping) -> tuple[Mapping, str | None]:
    """Accept either the bare indices or the document with ``scale`` and ``outputs``."""
    if "outputs" in sobol_result and "scale" in sobol_result:
        return sobol_result["outputs"], sobol_result["scale"]
    return sobol_result, None


def _variance_words(label: str, scale: str | None) -> str:
    if scale == "log":
        return f"the variance of log({label})"
    if scale == "linear":
        return f"the variance of {label}"
    return f"the variance of {label} (on the scale the indices were computed)"


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%" if abs(value) >= 0.01 else f"{100 * value:.1f}%"


def moves_output(row: Mapping) -> bool:
    """Whether a :func:`pin_down_next` row's assumption moves the output at all (see
    :data:`NOT_MOVED`).

    >>> moves_output({"S1": 1e-10, "ST": 3e-16, "ST_ci": [3.1e-16, 3.3e-16]})
    False
    >>> moves_output({"first_order": 0.0, "shapley": 0.001, "shapley_ci": [-0.01, 0.012]})
    True
    """
    total = "ST" if "ST" in row else "shapley"
    return max(abs(row[total]), *map(abs, row[f"{total}_ci"])) > NOT_MOVED


def pin_down_next(sobol_result: Mapping, output: str, label: str | None = None) -> list[dict]:
    """Assumptions ranked by the share of (log-)variance that knowing each exactly would remove.

    That expected share is exactly the first-order index S1. Each row carries a sentence.
    ``sobol_result`` is :func:`sobol_indices`' result or :func:`sobol_document`'s.
    """
    indices, scale = _indices_of(sobol_result)
    if output not in indices:
        raise ValueError(f"no Sobol indices for output '{output}'")
    ranked = sorted(indices[output].items(), key=lambda item: -item[1]["S1"])
    what = _variance_words(label or output, scale)
    shapley = sobol_result.get("basis") == "shapley"
    rows = []
    for rank, (name, ix) in enumerate(ranked, start=1):
        lo, hi = ix["S1_ci"]
        if ix["S1"] < 0.01:
            sentence = (f"Knowing `{name}` exactly would remove almost none (under 1%) of {what}.")
        else:
            sentence = (f"Knowing `{name}` exactly would remove about {_pct(ix['S1'])} "
                        f"(95% interval {_pct(lo)} to {_pct(hi)}) of {what}.")
        if shapley and ix["S1"] - ix["ST"] > 0.05:
            sentence += (f" Part of that comes through its correlated partners: its own fair "
                         f"share (Shapley effect) is {_pct(ix['ST'])}.")
        elif not shapley and ix["ST"] - ix["S1"] > 0.05:
            sentence += (f" Through interactions it touches {_pct(ix['ST'])} in all (total "
                         "index), so pinning it down together with its partners gains more.")
        keys = (("first_order", "shapley") if shapley else ("S1", "ST"))
        rows.append({"rank": rank, "assumption": name, keys[0]: ix["S1"],
                     f"{keys[0]}_ci": ix["S1_ci"], keys[1]: ix["ST"],
                     f"{keys[1]}_ci": ix["ST_ci"], "sentence": sentence})
    return rows


def top_driver_check(tornado_result: Mapping, sobol_result: Mapping, output: str,
                     label: str | None = None) -> dict:
    """Do the tornado and the Sobol total index name the same top driver? If not, say why."""
    indices, _ = _indices_of(sobol_result)
    bars = tornado_result["outputs"][output]["bars"]
    swing = {b["assumption"]: (b["swing_log10"] or 0.0) for b in bars}
    by_total = sorted(indices[output].items(), key=lambda item: -item[1]["ST"])
    tornado_top, sobol_top = bars[0]["assumption"], by_total[0][0]
    if not any(b.get("swing", 1.0) for b in bars) and by_total[0][1]["ST"] == 0:
        return {"output": output, "tornado_top": None, "sobol_top": None, "agree": True,
                "explanation": f"No assumption moves {label or output}: it is fixed."}
    index = "Shapley effect" if sobol_result.get("basis") == "shapley" else "Sobol total index"
    if tornado_top == sobol_top:
        explanation = (f"The tornado and the {index} both name `{tornado_top}` as the "
                       f"top driver of {label or output}.")
        return {"output": output, "tornado_top": tornado_top, "sobol_top": sobol_top,
                "agree": True, "explanation": explanation}
    t_ix, s_ix = indices[output][tornado_top], indices[output][sobol_top]
    overlap = t_ix["ST_ci"][1] >= s_ix["ST_ci"][0]
    reasons = [
        f"The tornado ranks `{tornado_top}` first (swing {swing[tornado_top]:.2f} decades, "
        f"{index} {t_ix['ST']:.2f}) but the {index} ranks `{sobol_top}` first "
        f"({s_ix['ST']:.2f}, swing {swing.get(sobol_top, 0.0):.2f} decades).",
        "A swing looks only at two quantiles of one assumption with the others at their "
        f"medians; the {index} weighs the whole distribution, tails included, averaged over "
        "every other assumption" + (", correlations included." if index != "Sobol total index"
                                    else "."),
    ]
    interactions = max(t_ix["ST"] - t_ix["S1"], s_ix["ST"] - s_ix["S1"]) > 0.05
    if index == "Sobol total index" and interactions:
        reasons.append("Interactions matter here (ST exceeds S1 by more than 0.05), and a "
                       "one-at-a-time swing cannot see them.")
    if overlap:
        reasons.append("The two indices' 95% intervals overlap: statistically a tie.")
    return {"output": output, "tornado_top": tornado_top, "sobol_top": sobol_top,
            "agree": False, "explanation": " ".join(reasons)}
