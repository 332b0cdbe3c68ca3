"""The article's reproduction table: its stated figures, its own arithmetic, and the model.

The inputs and stated figures are data (``data/article.toml``); each line here says how the
article computed it and which model quantity it corresponds to. ``recomputed`` follows the
article's shortcuts (parameter ratio rounded to 30, the image term dropped, its rounded 120
minutes per H100-day); ``model`` is :func:`~uncertainty.sora.model.compute_outputs` at the article's
point inputs, which takes none of them.

Example
-------
>>> lines = {line["key"]: line for line in reproduction_table()}
>>> lines["fleet_peak"]["consistent"]
False
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .model import SECONDS_PER_MONTH, compute_outputs

__all__ = ["TOLERANCE", "article_data", "reproduction_table"]

TOLERANCE = 0.03  # a recomputed figure within 3% of the stated one is consistent


@cache
def article_data() -> dict:
    """The article's inputs, arithmetic shortcuts, stated figures and output map."""
    text = resources.files("uncertainty.sora").joinpath("data/article.toml").read_text("utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    recompute: Callable[[dict, dict, dict], float]  # (inputs, arithmetic, recomputed so far)
    model: Callable[[Callable[..., dict]], float]  # given run(**overrides) -> model outputs
    note: str = ""


def _h100_months(flops, i):
    return flops / (i["gpu_peak_flops"] * i["training_utilization"] * SECONDS_PER_MONTH)


def _sora_training_flops(i, r, multiplier):
    latent_frames = i["clip_seconds"] * i["fps"] / i["temporal_compression"]
    return (i["dit_training_flops"] * r["param_ratio"] * multiplier * latent_frames
            * i["video_fraction"])


def _per_video_minute(i, r):
    return (i["dit_step_flops"] * r["param_ratio"] * 60 * i["fps"] / i["temporal_compression"]
            * i["diffusion_steps"])


DIT_ONLY = {"sora_params": None, "dataset_multiplier": 1.0, "video_fraction": 0.0}
FULL_UTIL = {"inference_utilization": 1.0}

LINES = (
    Line("dit_h100_months", "DiT-XL training, H100-months",
         lambda i, r, c: _h100_months(i["dit_training_flops"], i),
         lambda run: run(**DIT_ONLY)["training_gpu_months"]),
    Line("dit_h100_days", "DiT-XL training, days on one H100",
         lambda i, r, c: i["dit_training_flops"] / i["gpu_peak_flops"] / 86400,
         lambda run: run(**DIT_ONLY)["training_gpu_months"] * 30),
    Line("latent_frames", "latent frames in one minute",
         lambda i, r, c: 60 * i["fps"] / i["temporal_compression"],
         lambda run: run()["latent_frames_per_min"]),
    Line("training_flops_low", "Sora training FLOPs, low",
         lambda i, r, c: _sora_training_flops(i, r, r["dataset_multiplier_low"]),
         lambda run: run(dataset_multiplier="low")["training_flops"],
         "model: exact ratio 29.6 and the image term (90.5 frames per sample, not 90)"),
    Line("training_flops_high", "Sora training FLOPs, high",
         lambda i, r, c: _sora_training_flops(i, r, r["dataset_multiplier_high"]),
         lambda run: run(dataset_multiplier="high")["training_flops"]),
    Line("h100_months_low", "H100-months, low",
         lambda i, r, c: _h100_months(c["training_flops_low"], i),
         lambda run: run(dataset_multiplier="low")["training_gpu_months"]),
    Line("h100_months_high", "H100-months, high",
         lambda i, r, c: _h100_months(c["training_flops_high"], i),
         lambda run: run(dataset_multiplier="high")["training_gpu_months"]),
    Line("dit_inference_flops_per_image", "DiT inference FLOPs per image",
         lambda i, r, c: i["dit_step_flops"] * i["diffusion_steps"],
         lambda run: (lambda o: o["inference_flops_per_video_minute"] / o["latent_frames_per_min"])(
             run(**DIT_ONLY))),
    Line("dit_breakeven_images", "DiT breakeven, images",
         lambda i, r, c: i["dit_training_flops"] / c["dit_inference_flops_per_image"],
         lambda run: (lambda o: o["breakeven_video_minutes"] * o["latent_frames_per_min"])(
             run(**DIT_ONLY))),
    Line("sora_flops_per_step", "Sora FLOPs per denoising step (one minute of video)",
         lambda i, r, c: _per_video_minute(i, r) / i["diffusion_steps"],
         lambda run: run()["inference_flops_per_video_minute"] / run()["diffusion_steps"]),
    Line("sora_flops_per_video_minute", "Sora FLOPs per video minute",
         lambda i, r, c: _per_video_minute(i, r),
         lambda run: run()["inference_flops_per_video_minute"]),
    Line("video_minutes_per_h100_hour", "video minutes per H100-hour (100% utilization)",
         lambda i, r, c: i["gpu_peak_flops"] * 3600 / c["sora_flops_per_video_minute"],
         lambda run: run(**FULL_UTIL)["video_minutes_per_gpu_hour"]),
    Line("breakeven_minutes_low", "breakeven, video minutes, low",
         lambda i, r, c: c["training_flops_low"] / c["sora_flops_per_video_minute"],
         lambda run: run(dataset_multiplier="low")["breakeven_video_minutes"]),
    Line("breakeven_minutes_high", "breakeven, video minutes, high",
         lambda i, r, c: c["training_flops_high"] / c["sora_flops_per_video_minute"],
         lambda run: run(dataset_multiplier="high")["breakeven_video_minutes"]),
    Line("ai_minutes_per_day", "AI video minutes per day",
         lambda i, r, c: (i["tiktok_minutes_per_day"] * i["tiktok_ai_share"]
                          + i["youtube_minutes_per_day"] * i["youtube_ai_share"]),
         lambda run: run()["daily_ai_video_minutes"]),
    Line("minutes_per_h100_day", "video minutes per H100-day",
         lambda i, r, c: c["video_minutes_per_h100_hour"] * 24,
         lambda run: run(**FULL_UTIL)["video_minutes_per_gpu_hour"] * 24),
    Line("fleet_average", "H100s, average demand, 100% utilization",
         lambda i, r, c: c["ai_minutes_per_day"] / r["minutes_per_h100_day"],
         lambda run: run(**FULL_UTIL, generations_per_upload=1.0,
                         peak_to_average=1.0)["fleet_gpus"],
         "15M / 120 is 125k, not 89k: the article's 89k implies 10.7M AI minutes per day"),
    Line("fleet_peak", "H100s at peak (x2 utilization, x2 peak, x2 generations)",
         lambda i, r, c: (c["fleet_average"] / i["inference_utilization"] * i["peak_to_average"]
                          * i["generations_per_upload"]),
         lambda run: run()["fleet_gpus"],
         "89k x 8 = 712k; the article's own inputs give about 1.0M"),
)


def _model_runner(data: dict) -> Callable[..., dict]:
    """run(**overrides) -> every input and output of the model at the article's point inputs.

    ``dataset_multiplier`` may be "low"/"high" (the article's range); ``sora_params=None`` means
    "as big as DiT", which turns the model into DiT itself."""
    inputs, arithmetic = data["inputs"], data["arithmetic"]

    def run(**overrides) -> dict:
        point = {**inputs, "dataset_multiplier": arithmetic["dataset_multiplier_low"], **overrides}
        if point["dataset_multiplier"] in ("low", "high"):
            point["dataset_multiplier"] = arithmetic[
                f"dataset_multiplier_{point['dataset_multiplier']}"]
        if point["sora_params"] is None:
            point["sora_params"] = point["dit_params"]
        point = {k: float(v) for k, v in point.items()}
        return {**point, **compute_outputs(point)}

    return run


def reproduction_table() -> list[dict]:
    """One dict per line: key, label, article, recomputed, model, consistent, note."""
    data = article_data()
    stated, run = data["stated"], _model_runner(data)
    recomputed: dict[str, float] = {}
    table = []
    for line in LINES:
        recomputed[line.key] = line.recompute(data["inputs"], data["arithmetic"], recomputed)
        article = float(stated[line.key])
        consistent = abs(recomputed[line.key] / article - 1) <= TOLERANCE
        table.append({
            "key": line.key, "label": line.label, "article": article,
            "recomputed": recomputed[line.key], "model": float(line.model(run)),
            "consistent": consistent, "note": line.note,
        })
    return table
