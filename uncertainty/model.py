"""The Sora compute model (Plappert, Factorial Funds, March 2024) for ONE draw, in pure jax.numpy.

``compute_outputs`` maps a dict of assumptions to a dict of outputs. It is elementwise, so it
works on scalars and is vectorised with ``jax.vmap`` by :mod:`uncertainty.simulate`.

Example
-------
>>> outputs = compute_outputs(ARTICLE_POINT)
>>> round(float(outputs["training_gpu_months"]))
4182
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

__all__ = [
    "ASSUMPTIONS", "OUTPUTS", "HEADLINE", "ARTICLE_POINT", "SECONDS_PER_MONTH",
    "Quantity", "compute_outputs",
]

SECONDS_PER_MONTH = 30 * 24 * 3600  # a month is 30 days: the article's H100-month figures need it


@dataclass(frozen=True)
class Quantity:
    unit: str
    kind: str  # "positive": > 0; "share": in (0, 1]
    label: str


def _positive(unit: str, label: str) -> Quantity:
    return Quantity(unit, "positive", label)


def _share(label: str) -> Quantity:
    return Quantity("share", "share", label)


ASSUMPTIONS: dict[str, Quantity] = {
    "dit_training_flops": _positive("FLOP", "DiT-XL/2 total training compute"),
    "dit_params": _positive("parameters", "DiT-XL/2 parameter count"),
    "dit_step_flops": _positive("FLOP", "one DiT-XL/2 denoising step, 512x512 image"),
    "sora_params": _positive("parameters", "Sora parameter count"),
    "dataset_multiplier": _positive("x", "training compute from a larger data set, vs DiT"),
    "video_fraction": _share("share of training samples that are video"),
    "fps": _positive("frames/s", "frame rate"),
    "clip_seconds": _positive("s", "length of one training video"),
    "temporal_compression": _positive("x", "frames per latent frame"),
    "diffusion_steps": _positive("steps", "denoising steps per generated video"),
    "gpu_peak_flops": _positive("FLOP/s", "GPU dense BF16 peak"),
    "training_utilization": _share("achieved / peak FLOP/s in training"),
    "inference_utilization": _share("achieved / peak FLOP/s in serving"),
    "tiktok_minutes_per_day": _positive("min/day", "TikTok upload minutes per day"),
    "youtube_minutes_per_day": _positive("min/day", "YouTube upload minutes per day"),
    "tiktok_ai_share": _share("share of TikTok uploads that are AI-generated"),
    "youtube_ai_share": _share("share of YouTube uploads that are AI-generated"),
    "generations_per_upload": _positive("x", "videos generated per video uploaded"),
    "peak_to_average": _positive("x", "peak over average serving demand"),
}

OUTPUTS: dict[str, Quantity] = {
    "param_ratio": _positive("x", "Sora parameters / DiT parameters"),
    "latent_frames_per_clip": _positive("frames", "latent frames in one training clip"),
    "latent_frames_per_min": _positive("frames", "latent frames in one minute of video"),
    "training_flops": _positive("FLOP", "Sora training compute"),
    "training_gpu_months": _positive("GPU-months", "training GPU-months"),
    "inference_flops_per_video_minute": _positive("FLOP", "inference compute per video minute"),
    "video_minutes_per_gpu_hour": _positive("min/GPU-hour", "video minutes per GPU-hour"),
    "breakeven_video_minutes": _positive("min", "breakeven, generated video minutes"),
    "daily_ai_video_minutes": _positive("min/day", "AI video minutes uploaded per day"),
    "fleet_gpus": _positive("GPUs", "peak serving fleet"),
}

HEADLINE = ("training_gpu_months", "breakeven_video_minutes", "fleet_gpus")

# The article's point inputs (the low end of its dataset range): for doctests and quick checks.
# The reproduction table reads the full set, with stated figures, from data/article.toml.
ARTICLE_POINT = {
    "dit_training_flops": 1e21, "dit_params": 675e6, "dit_step_flops": 524e9,
    "sora_params": 20e9, "dataset_multiplier": 4.0, "video_fraction": 0.5, "fps": 24.0,
    "clip_seconds": 60.0, "temporal_compression": 8.0, "diffusion_steps": 250.0,
    "gpu_peak_flops": 989.4e12, "training_utilization": 1.0, "inference_utilization": 0.5,
    "tiktok_minutes_per_day": 17e6, "youtube_minutes_per_day": 43e6, "tiktok_ai_share": 0.5,
    "youtube_ai_share": 0.15, "generations_per_upload": 2.0, "peak_to_average": 2.0,
}


def compute_outputs(a: dict) -> dict:
    """Every output of the compute model for one draw of the assumptions ``a``.

    Float32 is enough: the largest value, training FLOPs, is ~1e26 (float32 max 3.4e38). Products
    are formed in an order that keeps intermediates below that.
    """
    param_ratio = a["sora_params"] / a["dit_params"]
    latent_frames_per_clip = a["clip_seconds"] * a["fps"] / a["temporal_compression"]
    latent_frames_per_min = 60.0 * a["fps"] / a["temporal_compression"]
    # Video samples cost one DiT image per latent frame; the rest of the samples are images.
    frames_per_sample = (a["video_fraction"] * latent_frames_per_clip + (1.0 - a["video_fraction"]))
    training_flops = a["dit_training_flops"] * param_ratio * a["dataset_multiplier"] * frames_per_sample
    training_gpu_months = training_flops / (
        a["gpu_peak_flops"] * a["training_utilization"] * SECONDS_PER_MONTH)
    inference_flops_per_video_minute = (
        a["dit_step_flops"] * param_ratio * latent_frames_per_min * a["diffusion_steps"])
    video_minutes_per_gpu_hour = (
        a["gpu_peak_flops"] * a["inference_utilization"] * 3600.0 / inference_flops_per_video_minute)
    breakeven_video_minutes = training_flops / inference_flops_per_video_minute
    daily_ai_video_minutes = (a["tiktok_minutes_per_day"] * a["tiktok_ai_share"]
                              + a["youtube_minutes_per_day"] * a["youtube_ai_share"])
    fleet_gpus = (daily_ai_video_minutes * a["generations_per_upload"] * a["peak_to_average"]
                  / (video_minutes_per_gpu_hour * 24.0))
    return {
        "param_ratio": param_ratio,
        "latent_frames_per_clip": latent_frames_per_clip,
        "latent_frames_per_min": latent_frames_per_min,
        "training_flops": training_flops,
        "training_gpu_months": training_gpu_months,
        "inference_flops_per_video_minute": inference_flops_per_video_minute,
        "video_minutes_per_gpu_hour": video_minutes_per_gpu_hour,
        "breakeven_video_minutes": breakeven_video_minutes,
        "daily_ai_video_minutes": daily_ai_video_minutes,
        "fleet_gpus": fleet_gpus,
    }


def as_arrays(a: dict) -> dict:
    """Assumptions as float32 arrays, the dtype the model runs in."""
    return {k: jnp.asarray(v, jnp.float32) for k, v in a.items()}
