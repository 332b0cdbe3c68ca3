"""The Sora compute model (Plappert, Factorial Funds, March 2024) for ONE draw, in pure jax.numpy.

``compute_outputs`` maps a dict of assumptions to a dict of outputs. It is elementwise, so it
works on scalars and is vectorised with ``jax.vmap`` by :mod:`uncertainty.sampling`.

Beyond the article, four structural assumptions make its hidden choices explicit. Each takes the
article's neutral value when absent from ``a`` (see ``NEUTRAL``), so the article is reproduced:

- ``flops_per_mac`` scales DiT's published compute (training and per step alike): 2 if DiT's
  "Gflops" count multiply-accumulates.
- ``cfg_passes``: forward passes per denoising step (2 with classifier-free guidance).
- ``tokens_per_frame_multiplier``: spatial tokens per latent frame relative to DiT at 512x512
  (1,024 tokens); compute per frame scales with it, for video frames and images alike.
- attention, chosen by closure (:func:`model_for`): ``"linear"`` (the article: compute linear in
  frames) or ``"quadratic"``. Per token, full attention costs ``4 * seq * width`` FLOPs per layer
  against ``24 * width**2`` for the linear layers, so it adds ``seq / (6 * width)`` of the linear
  cost. DiT-XL/2's published compute already includes its own (1,024 tokens at width 1,152), so a
  sequence of ``seq`` tokens costs, per token, ``attention_factor(seq)`` times what the linear
  scaling gives::

      attention_factor(seq) = (1 + seq / (6 * width)) / (1 + 1024 / (6 * 1152))

  The sequence is one clip: ``latent_frames_per_clip * 1024 * tokens_per_frame_multiplier``
  (an image is one frame). ``width`` is the ``model_width`` assumption when the priors give one,
  else the stated depth/width rule: depth and width grow together (DiT-XL/2's shape kept), so
  parameters grow as width cubed and ``width = 1152 * param_ratio ** (1/3)``.

Demand is a sum over platforms (closure): ``daily_ai_video_minutes = sum_p
p_minutes_per_day * p_ai_share``. With ``gpu_hour_price_usd`` among the assumptions,
:func:`model_for` adds the cost outputs (``COST_OUTPUTS``).

Example
-------
>>> outputs = compute_outputs(ARTICLE_POINT)
>>> round(float(outputs["training_gpu_months"]))
4182
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache, partial

from ..model import Model, Quantity

__all__ = [
    "ALL_OUTPUTS",
    "ARTICLE_POINT",
    "ASSUMPTIONS",
    "ATTENTION",
    "ATTENTION_OUTPUTS",
    "COST_OUTPUTS",
    "DEFAULT_PLATFORMS",
    "DEFAULT_SOURCE",
    "DIT_TOKENS_PER_FRAME",
    "DIT_WIDTH",
    "HEADLINE",
    "NEUTRAL",
    "OPTIONAL_ASSUMPTIONS",
    "OUTPUTS",
    "SECONDS_PER_MONTH",
    "STRUCTURAL",
    "SoraModel",
    "article_marks",
    "compute_outputs",
    "cost_outputs",
    "model_for",
    "platform_assumptions",
    "sora_inputs",
]

SECONDS_PER_MONTH = 30 * 24 * 3600  # a month is 30 days: the article's H100-month figures need it
HOURS_PER_MONTH = SECONDS_PER_MONTH / 3600
DIT_TOKENS_PER_FRAME = 1024  # DiT-XL/2 at 512x512: 64x64 latent, 2x2 patches
DIT_WIDTH = 1152  # DiT-XL/2 hidden size (DiT paper, Table 1)
DEFAULT_PLATFORMS = ("tiktok", "youtube")


def _positive(unit: str, label: str) -> Quantity:
    return Quantity(unit, "positive", label)


def _share(label: str) -> Quantity:
    return Quantity("share", "share", label)


NEUTRAL = {"flops_per_mac": 1.0, "cfg_passes": 1.0, "tokens_per_frame_multiplier": 1.0}
DEFAULT_SOURCE = "default: the article's neutral value (absent from the file)"


def _structural(unit: str, label: str, name: str) -> Quantity:
    return Quantity(unit, "positive", label, default=NEUTRAL[name], default_source=DEFAULT_SOURCE)


# The structural assumptions, neutral at the article's reading: a prior file may leave them out.
STRUCTURAL: dict[str, Quantity] = {
    "flops_per_mac": _structural("x", "FLOPs per DiT-published 'flop' (2 if they count MACs)",
                                 "flops_per_mac"),
    "cfg_passes": _structural("passes", "forward passes per denoising step (2 with CFG)",
                              "cfg_passes"),
    "tokens_per_frame_multiplier": _structural("x", "tokens per latent frame vs DiT at 512x512",
                                               "tokens_per_frame_multiplier"),
}

ASSUMPTIONS: dict[str, Quantity] = {
    "dit_training_flops": _positive("FLOP", "DiT-XL/2 total training compute"),
    "dit_params": _positive("parameters", "DiT-XL/2 parameter count"),
    "dit_step_flops": _positive("FLOP", "one DiT-XL/2 denoising step, 512x512 image"),
    "sora_params": _positive("parameters", "Sora parameter count"),
    "dataset_multiplier": _positive("x", "training compute from a larger data set, vs DiT"),
    "video_fraction": _share("share of training samples that are video"),
    "fps": _positive("frames/s", "frame rate"),
    "clip_seconds": _positive("s", "length of one training (and generated) video"),
    "temporal_compression": _positive("x", "frames per latent frame"),
    "diffusion_steps": _positive("steps", "denoising steps per generated video"),
    "gpu_peak_flops": _positive("FLOP/s", "GPU dense peak"),
    "training_utilization": _share("achieved / peak FLOP/s in training"),
    "inference_utilization": _share("achieved / peak FLOP/s in serving"),
    "tiktok_minutes_per_day": _positive("min/day", "TikTok upload minutes per day"),
    "youtube_minutes_per_day": _positive("min/day", "YouTube upload minutes per day"),
    "tiktok_ai_share": _share("share of TikTok uploads that are AI-generated"),
    "youtube_ai_share": _share("share of YouTube uploads that are AI-generated"),
    "generations_per_upload": _positive("x", "videos generated per video uploaded"),
    "peak_to_average": _positive("x", "peak over average serving demand"),
    **STRUCTURAL,
}

# Present only when a prior file gives them; each changes the model (see model_for).
OPTIONAL_ASSUMPTIONS: dict[str, Quantity] = {
    "model_width": _positive("hidden units", "Sora transformer width, for quadratic attention"),
    "gpu_hour_price_usd": _positive("USD/GPU-hour", "GPU rental price"),
}

OUTPUTS: dict[str, Quantity] = {
    "param_ratio": _positive("x", "Sora parameters / DiT parameters"),
    "latent_frames_per_clip": _positive("frames", "latent frames in one training clip"),
    "latent_frames_per_min": _positive("frames", "latent frames in one minute of video"),
    "sequence_tokens": _positive("tokens", "tokens in one clip (the attention sequence)"),
    "training_flops": _positive("FLOP", "Sora training compute"),
    "training_gpu_months": _positive("GPU-months", "training GPU-months"),
    "inference_flops_per_video_minute": _positive("FLOP", "inference compute per video minute"),
    "video_minutes_per_gpu_hour": _positive("min/GPU-hour", "video minutes per GPU-hour"),
    "breakeven_video_minutes": _positive("min", "breakeven, generated video minutes"),
    "daily_ai_video_minutes": _positive("min/day", "AI video minutes uploaded per day"),
    "fleet_gpus": _positive("GPUs", "peak serving fleet"),
}
ATTENTION_OUTPUTS: dict[str, Quantity] = {
    "model_width": _positive("hidden units", "transformer width used for attention"),
    "attention_factor": _positive("x", "per-token cost of one clip vs linear scaling"),
}
COST_OUTPUTS: dict[str, Quantity] = {
    "training_cost_usd": _positive("USD", "training cost at the rental price"),
    "cost_per_video_minute_usd": _positive("USD/min", "serving cost per generated video minute"),
    "daily_serving_cost_usd": _positive("USD/day", "daily cost of the peak serving fleet"),
}
ALL_OUTPUTS: dict[str, Quantity] = {**OUTPUTS, **ATTENTION_OUTPUTS, **COST_OUTPUTS}

HEADLINE = ("training_gpu_months", "breakeven_video_minutes", "fleet_gpus")

# The article's point inputs (the low end of its dataset range): for doctests and quick checks.
# The reproduction table reads the full set, with stated figures, from data/article.toml.
ARTICLE_POINT = {
    "dit_training_flops": 1e21, "dit_params": 675e6, "dit_step_flops": 524e9,
    "sora_params": 20e9, "dataset_multiplier": 4.0, "video_fraction": 0.5, "fps": 24.0,
    "clip_seconds": 60.0, "temporal_compression": 8.0, "diffusion_steps": 250.0,
    "gpu_peak_flops": 989.4e12, "training_utilization": 1.0, "inference_utilization": 0.5,
    "tiktok_minutes_per_day": 17e6, "youtube_minutes_per_day": 43e6, "tiktok_ai_share": 0.5,
    "youtube_ai_share": 0.15, "generations_per_upload": 2.0, "peak_to_average": 2.0, **NEUTRAL,
}


def platform_assumptions(platform: str) -> tuple[str, str]:
    """The two assumption names of a demand platform: minutes uploaded per day, AI share."""
    return f"{platform}_minutes_per_day", f"{platform}_ai_share"


def _linear_attention(a: dict, sequence_tokens, param_ratio) -> tuple[Callable, dict]:
    """The article: compute is linear in the number of tokens (no attention term)."""
    return (lambda seq: 1.0), {}


def _quadratic_attention(a: dict, sequence_tokens, param_ratio) -> tuple[Callable, dict]:
    """Full attention: per token it adds seq / (6 * width) of the linear layers' cost."""
    # Depth/width rule when no width prior: depth grows with width (DiT-XL/2's aspect kept), so
    # parameters ~ width**3 and width = 1152 * param_ratio**(1/3).
    import jax.numpy as jnp  # here, not at import: `sora-uq reproduce` starts no JAX

    width = a["model_width"] if "model_width" in a else DIT_WIDTH * jnp.cbrt(param_ratio)
    dit_own = 1.0 + DIT_TOKENS_PER_FRAME / (6.0 * DIT_WIDTH)  # already in DiT's published FLOPs

    def factor(seq):
        return (1.0 + seq / (6.0 * width)) / dit_own

    return factor, {"model_width": width, "attention_factor": factor(sequence_tokens)}


ATTENTION = {"linear": _linear_attention, "quadratic": _quadratic_attention}


def compute_outputs(a: dict, attention: str = "linear",
                    platforms: tuple[str, ...] = DEFAULT_PLATFORMS) -> dict:
    """Every output of the compute model for one draw of the assumptions ``a``.

    ``attention`` and ``platforms`` are static: bind them with :func:`model_for` (a closure), never
    trace them. A structural assumption absent from ``a`` takes its neutral value (``NEUTRAL``).

    Float32 is enough: the largest value, training FLOPs, is ~1e26 (float32 max 3.4e38). Products
    are formed in an order that keeps intermediates below that.
    """
    s = {name: a.get(name, value) for name, value in NEUTRAL.items()}
    param_ratio = a["sora_params"] / a["dit_params"]
    latent_frames_per_clip = a["clip_seconds"] * a["fps"] / a["temporal_compression"]
    latent_frames_per_min = 60.0 * a["fps"] / a["temporal_compression"]
    tokens_per_frame = DIT_TOKENS_PER_FRAME * s["tokens_per_frame_multiplier"]
    sequence_tokens = latent_frames_per_clip * tokens_per_frame
    per_token, attention_outputs = ATTENTION[attention](a, sequence_tokens, param_ratio)
    # Video samples cost one DiT image per latent frame (times the tokens per frame and the
    # attention over the clip); the rest of the samples are images, one frame each.
    frames_per_sample = s["tokens_per_frame_multiplier"] * (
        a["video_fraction"] * latent_frames_per_clip * per_token(sequence_tokens)
        + (1.0 - a["video_fraction"]) * per_token(tokens_per_frame))
    training_flops = (a["dit_training_flops"] * s["flops_per_mac"] * param_ratio
                      * a["dataset_multiplier"] * frames_per_sample)
    training_gpu_months = training_flops / (
        a["gpu_peak_flops"] * a["training_utilization"] * SECONDS_PER_MONTH)
    inference_flops_per_video_minute = (
        a["dit_step_flops"] * s["flops_per_mac"] * param_ratio * latent_frames_per_min
        * s["tokens_per_frame_multiplier"] * per_token(sequence_tokens)
        * a["diffusion_steps"] * s["cfg_passes"])
    video_minutes_per_gpu_hour = (
        a["gpu_peak_flops"] * a["inference_utilization"] * 3600.0
        / inference_flops_per_video_minute)
    breakeven_video_minutes = training_flops / inference_flops_per_video_minute
    daily_ai_video_minutes = sum(a[minutes] * a[share]
                                 for minutes, share in map(platform_assumptions, platforms))
    fleet_gpus = (daily_ai_video_minutes * a["generations_per_upload"] * a["peak_to_average"]
                  / (video_minutes_per_gpu_hour * 24.0))
    return {
        "param_ratio": param_ratio,
        "latent_frames_per_clip": latent_frames_per_clip,
        "latent_frames_per_min": latent_frames_per_min,
        "sequence_tokens": sequence_tokens,
        "training_flops": training_flops,
        "training_gpu_months": training_gpu_months,
        "inference_flops_per_video_minute": inference_flops_per_video_minute,
        "video_minutes_per_gpu_hour": video_minutes_per_gpu_hour,
        "breakeven_video_minutes": breakeven_video_minutes,
        "daily_ai_video_minutes": daily_ai_video_minutes,
        "fleet_gpus": fleet_gpus,
        **attention_outputs,
    }


def cost_outputs(a: dict, outputs: dict) -> dict:
    """Costs at ``gpu_hour_price_usd``: GPU-hours are achieved hours (utilization included)."""
    price = a["gpu_hour_price_usd"]
    return {
        "training_cost_usd": outputs["training_gpu_months"] * HOURS_PER_MONTH * price,
        "cost_per_video_minute_usd": price / outputs["video_minutes_per_gpu_hour"],
        "daily_serving_cost_usd": outputs["fleet_gpus"] * 24.0 * price,
    }


def _priced(a: dict, model: Callable[[dict], dict]) -> dict:
    outputs = model(a)
    return {**outputs, **cost_outputs(a, outputs)}


class SoraModel(Model):
    """The Sora compute model on the engine: a :class:`~uncertainty.model.Model` that also reads
    the Sora prior-file extensions (``[platforms]``, ``[meta] attention``, ``[meta] gpu`` and
    ``--gpu``); see :mod:`uncertainty.sora.priors`."""

    def read_file(self, file):
        from .priors import read_sora_file

        return read_sora_file(file)

    def structure_lines(self, structure, priors) -> list[str]:
        from .priors import structure_lines

        return structure_lines(structure, "model_width" in priors)

    def report_extras(self) -> dict:
        """The article's arithmetic, reproduced: the report's reproduction section."""
        from .reproduce import reproduction_table

        return {"reproduction": reproduction_table()}


def sora_inputs(platforms: tuple[str, ...] = DEFAULT_PLATFORMS, width: bool = False,
                priced: bool = False) -> dict[str, Quantity]:
    """The assumptions a variant reads, in the order prior files are kept in."""
    inputs = dict(ASSUMPTIONS)
    if width:
        inputs["model_width"] = OPTIONAL_ASSUMPTIONS["model_width"]
    if priced:
        inputs["gpu_hour_price_usd"] = OPTIONAL_ASSUMPTIONS["gpu_hour_price_usd"]
    for platform in platforms:
        minutes, share = platform_assumptions(platform)
        inputs.setdefault(minutes, ASSUMPTIONS["tiktok_minutes_per_day"])
        inputs.setdefault(share, ASSUMPTIONS["tiktok_ai_share"])
    return inputs


def article_marks() -> dict[str, tuple[float, ...]]:
    """Output name -> the article's stated figure(s): one value, or a (low, high) range."""
    from .reproduce import article_data

    data = article_data()
    return {name: tuple(float(data["stated"][key]) for key in keys)
            for name, keys in data["outputs"].items()}


# Outputs that count GPUs: their unit names the GPU, and the article's H100 figures for them
# are restated for another GPU by the ratio of dense peaks (the same work at the same
# utilization); the breakeven and every FLOP count do not depend on the GPU.
GPU_COUNTS = {"training_gpu_months": ("{gpu}-months", "training {gpu}-months"),
              "video_minutes_per_gpu_hour": ("min/{gpu}-hour", "video minutes per {gpu}-hour"),
              "fleet_gpus": ("{gpu}s", "peak serving fleet")}
ARTICLE_GPU = "H100"


def model_for(attention: str = "linear", platforms: tuple[str, ...] = DEFAULT_PLATFORMS,
              priced: bool = False, width: bool = False, gpu=None) -> SoraModel:
    """The Sora model specialised by closure: one object per variant, however it is asked for,
    so each variant compiles once. ``width``: a ``model_width`` prior is given (quadratic
    attention only). ``gpu``: the catalogue :class:`~uncertainty.sora.hardware.Accelerator`
    the file names (``[meta] gpu``, ``--gpu``, or a ``gpu_peak_flops`` equal to its peak): the
    GPU-count outputs are in its unit (``B200-months``), and the article's H100 figures for them
    are converted to it by the ratio of dense peaks, saying so in the marks' label.

    >>> model_for() is model_for("linear", ["tiktok", "youtube"], priced=False)
    True
    >>> model_for().headline
    ('training_gpu_months', 'breakeven_video_minutes', 'fleet_gpus')
    """
    gpu_key = (gpu.name, float(gpu.peak_flops), gpu.precision) if gpu is not None else None
    return _variant(attention, tuple(platforms), bool(priced), bool(width), gpu_key)


def _gpu_counts(outputs: dict, marks: dict, gpu: tuple[str, float, str] | None) -> tuple:
    """Outputs, marks and the marks' label for the GPU counted (see :func:`model_for`)."""
    if gpu is None:
        return outputs, marks, "the article"
    name, peak, precision = gpu
    outputs = {key: (replace(q, unit=GPU_COUNTS[key][0].format(gpu=name),
                             label=GPU_COUNTS[key][1].format(gpu=name))
                     if key in GPU_COUNTS else q) for key, q in outputs.items()}
    ratio = ARTICLE_POINT["gpu_peak_flops"] / peak
    if ratio == 1.0:
        return outputs, marks, "the article"
    marks = {key: tuple(v * ratio for v in values) if key in GPU_COUNTS else values
             for key, values in marks.items()}
    shown = name if precision == "bf16" else f"{name} {precision.upper()}"
    return outputs, marks, f"the article in {shown} terms"


@cache
def _variant(attention: str, platforms: tuple[str, ...], priced: bool, width: bool,
             gpu: tuple[str, float, str] | None = None) -> SoraModel:
    if attention not in ATTENTION:
        raise ValueError(f"attention must be one of {', '.join(ATTENTION)}, got {attention!r}")
    fn = partial(compute_outputs, attention=attention, platforms=tuple(platforms))
    if priced:
        fn = partial(_priced, model=fn)
    outputs = {**OUTPUTS, **(ATTENTION_OUTPUTS if attention == "quadratic" else {}),
               **(COST_OUTPUTS if priced else {})}
    outputs, marks, marks_label = _gpu_counts(outputs, article_marks(), gpu)
    return SoraModel(fn, outputs, headline=HEADLINE, name="sora", marks=marks,
                     inputs=sora_inputs(tuple(platforms), width, priced),
                     marks_label=marks_label, title="Sora compute",
                     spec="uncertainty.sora:MODEL")
