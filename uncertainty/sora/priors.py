"""The Sora model's prior-file extensions, read by :meth:`SoraModel.read_file`.

Beyond the engine's ``[assumptions]`` and ``[correlations]``, a Sora prior file may hold:

- ``[platforms.NAME]`` demand tables (``minutes_per_day``, ``ai_share``), expanded into the
  assumptions ``NAME_minutes_per_day`` and ``NAME_ai_share``;
- ``[meta] attention = "linear" | "quadratic"`` (the model's attention structure), and a
  ``model_width`` prior with quadratic attention;
- ``[meta] gpu = "H100"`` (or ``--gpu``), which sets ``gpu_peak_flops`` from the accelerator
  catalogue;
- a ``gpu_hour_price_usd`` prior, which adds the cost outputs.

The three structural assumptions take the article's neutral value when absent (the model's
input defaults). The result is the :func:`~uncertainty.sora.model.model_for` variant the file
calls for.
"""

from __future__ import annotations

from ..errors import PriorError
from ..model import ModelFile
from .hardware import Accelerator, lookup_gpu, match_gpu
from .model import ARTICLE_POINT, ATTENTION, DEFAULT_PLATFORMS, model_for, platform_assumptions

__all__ = ["PLATFORM_KEYS", "read_sora_file", "structure_lines"]

PLATFORM_KEYS = ("minutes_per_day", "ai_share")
EXTRA_TABLES = ("platforms",)


def read_sora_file(file: ModelFile):
    """(assumption tables, the model variant, structure facts) of a Sora prior file."""
    where, meta = file.where, file.meta
    unknown = sorted(set(file.tables) - set(EXTRA_TABLES))
    if unknown:
        raise PriorError(f"{where}: unknown table '{unknown[0]}' (expected meta, assumptions, "
                         "platforms, correlations, decision, provenance)")
    options = dict(file.options)
    gpu = options.pop("gpu", None)
    if options:
        raise PriorError(f"{where}: the Sora model has no option '{sorted(options)[0]}'")
    attention = meta.get("attention", "linear")
    if attention not in ATTENTION:
        raise PriorError(f"{where}: meta: attention must be one of "
                         f"{', '.join(repr(a) for a in ATTENTION)}, got {attention!r}")
    assumptions = file.assumptions
    platforms = _platform_tables(file.tables.get("platforms", {}), assumptions, where)
    if "model_width" in assumptions and attention != "quadratic":
        raise PriorError(f"{where}: model_width is used only with [meta] attention = \"quadratic\"")
    chosen = _choose_gpu(meta, assumptions, gpu, where) or _named_gpu(assumptions)
    model = model_for(attention, platforms, "gpu_hour_price_usd" in assumptions,
                      "model_width" in assumptions, gpu=chosen)
    structure = {"gpu": chosen.as_dict() if chosen else None, "attention": attention,
                 "platforms": list(platforms)}
    return assumptions, model, structure


def _platform_tables(platforms, assumptions: dict, where: str) -> tuple[str, ...]:
    """Expand ``[platforms.NAME]`` tables into ``NAME_minutes_per_day`` / ``NAME_ai_share``
    assumptions (in place); return every platform, the canonical two first."""
    if not isinstance(platforms, dict):
        raise PriorError(f"{where}: 'platforms' must hold [platforms.NAME] tables")
    names = list(DEFAULT_PLATFORMS)
    for platform, table in platforms.items():
        here = f"{where}: platforms.{platform}"
        if not platform.isidentifier() or not platform.islower():
            raise PriorError(f"{here}: a platform name must be lower-case letters, digits and _")
        if not isinstance(table, dict):
            raise PriorError(f"{here}: must be a table with {' and '.join(PLATFORM_KEYS)}")
        unknown = sorted(set(table) - set(PLATFORM_KEYS))
        if unknown:
            raise PriorError(f"{here}: unknown key '{unknown[0]}' "
                             f"(allowed: {', '.join(PLATFORM_KEYS)})")
        for key, assumption in zip(PLATFORM_KEYS, platform_assumptions(platform), strict=True):
            if key not in table:
                raise PriorError(f"{here}: missing key '{key}'")
            if assumption in assumptions:
                raise PriorError(f"{here}: {key} is also given as [assumptions.{assumption}]; "
                                 "give it once")
            assumptions[assumption] = table[key]
        if platform not in names:
            names.append(platform)
    return tuple(names)


def _choose_gpu(meta, assumptions: dict, gpu: str | None, where: str) -> Accelerator | None:
    """Apply ``--gpu`` (``gpu``) or ``[meta] gpu``: gpu_peak_flops becomes the catalogue's value."""
    if gpu is None and "gpu" in meta:
        if "gpu_peak_flops" in assumptions:
            raise PriorError(f"{where}: give either [meta] gpu or [assumptions.gpu_peak_flops], "
                             "not both")
        chosen = lookup_gpu(meta["gpu"], f"{where}: meta: gpu")
    elif gpu is not None:
        chosen = lookup_gpu(gpu)
    else:
        return None
    assumptions["gpu_peak_flops"] = {
        "dist": "fixed", "value": chosen.peak_flops, "unit": "FLOP/s",
        "source": f"{chosen.full_name}, dense {chosen.precision.upper()} peak: {chosen.source}"}
    return chosen


def _named_gpu(assumptions: dict) -> Accelerator | None:
    """The catalogue GPU a fixed ``gpu_peak_flops`` equals exactly, if any."""
    spec = assumptions.get("gpu_peak_flops")
    if not isinstance(spec, dict) or spec.get("dist") != "fixed":
        return None
    value = spec.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None  # the engine's validation says what is wrong with it
    return match_gpu(float(value))


def _article_gpu_words(gpu: dict | None) -> list[str]:
    """How the article's H100 figures are compared with another GPU's counts."""
    article_peak = ARTICLE_POINT["gpu_peak_flops"]
    if gpu is None or gpu["peak_flops"] == article_peak:
        return []
    ratio = article_peak / gpu["peak_flops"]
    return [f"the article's figures are for H100s at {article_peak / 1e12:,.1f} TFLOP/s; its "
            f"H100-months and H100 fleet are restated in {gpu['name']} terms by the ratio of "
            f"dense peaks, x{ratio:.3g} (the same work at the same utilization); the breakeven "
            "does not depend on the GPU"]


def structure_lines(structure: dict, has_width: bool = True) -> list[str]:
    """The GPU, attention and demand platforms in words (report and ``priors show``)."""
    gpu = structure.get("gpu")
    attention = structure.get("attention", "linear")
    if attention == "linear":
        attention_words = " (compute linear in frames, as in the article)"
    else:
        attention_words = (" (full attention: per token, seq / (6 x width) on top of the linear "
                           "layers)")
        if not has_width:
            attention_words += ("; width from the rule 1152 x param_ratio^(1/3), "
                                "no model_width prior")
    return [
        "GPU: " + (f"{gpu['name']} ({gpu['full_name']}), dense {gpu['precision'].upper()} peak "
                   f"{gpu['peak_flops'] / 1e12:,.1f} TFLOP/s; {gpu['source']}" if gpu
                   else "not named (gpu_peak_flops as given in the prior file)"),
        *_article_gpu_words(gpu),
        f"attention: {attention}{attention_words}",
        "demand platforms: " + ", ".join(structure.get("platforms", [])),
    ]
