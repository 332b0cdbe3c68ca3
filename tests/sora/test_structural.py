"""Structural assumptions, attention, costs, platforms and the GPU catalogue: closed forms."""

import math
import tomllib

import pytest
from conftest import ARTICLE, ROOT, run_cli, write_priors

from uncertainty import load_priors
from uncertainty.errors import PriorError, UserError
from uncertainty.sora.hardware import catalogue, lookup_gpu
from uncertainty.sora.model import (
    ARTICLE_POINT,
    DEFAULT_SOURCE,
    DIT_TOKENS_PER_FRAME,
    DIT_WIDTH,
    NEUTRAL,
    STRUCTURAL,
    compute_outputs,
    model_for,
)

INFORMED = ROOT / "priors" / "informed-2026.toml"
BASE = compute_outputs(ARTICLE_POINT)


def _ratio(outputs: dict, name: str) -> float:
    return float(outputs[name]) / float(BASE[name])


def close(a, b, rel=1e-5):
    return math.isclose(float(a), float(b), rel_tol=rel)


def test_absent_structural_terms_are_neutral():
    point = {k: v for k, v in ARTICLE_POINT.items() if k not in STRUCTURAL}
    assert compute_outputs(point) == BASE
    assert all(NEUTRAL[k] == ARTICLE_POINT[k] for k in STRUCTURAL)


def test_flops_per_mac_scales_training_and_inference_alike():
    out = compute_outputs({**ARTICLE_POINT, "flops_per_mac": 2.0})
    for name in ("training_flops", "training_gpu_months", "inference_flops_per_video_minute",
                 "fleet_gpus"):
        assert close(_ratio(out, name), 2.0), name
    assert close(_ratio(out, "breakeven_video_minutes"), 1.0)


def test_cfg_passes_double_inference_only():
    out = compute_outputs({**ARTICLE_POINT, "cfg_passes": 2.0})
    assert close(_ratio(out, "training_flops"), 1.0)
    assert close(_ratio(out, "inference_flops_per_video_minute"), 2.0)
    assert close(_ratio(out, "breakeven_video_minutes"), 0.5)
    assert close(_ratio(out, "fleet_gpus"), 2.0)


def test_tokens_per_frame_multiplier_scales_compute_per_frame():
    out = compute_outputs({**ARTICLE_POINT, "tokens_per_frame_multiplier": 3.5})
    for name in ("training_flops", "inference_flops_per_video_minute", "sequence_tokens"):
        assert close(_ratio(out, name), 3.5), name
    assert close(out["sequence_tokens"], 180 * 1024 * 3.5)  # 60 s x 24 fps / 8, 1,024 tokens each


def _factor(seq, width):
    return (1 + seq / (6 * width)) / (1 + DIT_TOKENS_PER_FRAME / (6 * DIT_WIDTH))


def test_quadratic_attention_matches_its_closed_form():
    point = {**ARTICLE_POINT, "model_width": 4096.0, "tokens_per_frame_multiplier": 2.0}
    linear, quadratic = model_for("linear")(point), model_for("quadratic")(point)
    seq = 180 * 1024 * 2.0
    assert close(quadratic["attention_factor"], _factor(seq, 4096))
    assert close(quadratic["inference_flops_per_video_minute"]
                 / linear["inference_flops_per_video_minute"],
                 _factor(seq, 4096))
    # Training: video samples carry the clip's factor, images (one frame) their own.
    vf, frames = 0.5, 180.0
    expected = ((vf * frames * _factor(seq, 4096) + (1 - vf) * _factor(1024 * 2.0, 4096))
                / (vf * frames + (1 - vf)))
    assert close(quadratic["training_flops"] / linear["training_flops"], expected)
    assert "attention_factor" not in linear


def test_dit_itself_gets_no_attention_correction():
    # At DiT's own width and tokens, its published compute already includes its attention.
    point = {**ARTICLE_POINT, "model_width": float(DIT_WIDTH), "video_fraction": 1e-9,
             "clip_seconds": 8 / 24}  # one latent frame
    quadratic = model_for("quadratic")(point)
    assert close(quadratic["attention_factor"], 1.0)
    assert close(quadratic["training_flops"], model_for("linear")(point)["training_flops"])


def test_width_rule_when_no_width_prior():
    out = model_for("quadratic")(ARTICLE_POINT)
    ratio = 20e9 / 675e6
    assert close(out["model_width"], DIT_WIDTH * ratio ** (1 / 3))
    assert close(out["attention_factor"], _factor(180 * 1024, DIT_WIDTH * ratio ** (1 / 3)))
    same_size = model_for("quadratic")({**ARTICLE_POINT, "sora_params": 675e6})
    assert close(same_size["model_width"], DIT_WIDTH)


def test_cost_outputs_closed_form():
    point = {**ARTICLE_POINT, "gpu_hour_price_usd": 2.5}
    out = model_for(priced=True)(point)
    assert close(out["training_cost_usd"], BASE["training_gpu_months"] * 720 * 2.5)
    assert close(out["cost_per_video_minute_usd"], 2.5 / BASE["video_minutes_per_gpu_hour"])
    assert close(out["daily_serving_cost_usd"], BASE["fleet_gpus"] * 24 * 2.5)
    assert "training_cost_usd" not in model_for()(point)


def test_an_added_platform_adds_its_ai_minutes():
    point = {**ARTICLE_POINT, "reels_minutes_per_day": 10e6, "reels_ai_share": 0.2}
    out = model_for(platforms=("tiktok", "youtube", "reels"))(point)
    assert close(out["daily_ai_video_minutes"], BASE["daily_ai_video_minutes"] + 2e6)
    assert close(out["fleet_gpus"] / BASE["fleet_gpus"], (14.95e6 + 2e6) / 14.95e6)


def test_article_priors_load_with_neutral_defaults(article_priors):
    for name, value in NEUTRAL.items():
        prior = article_priors[name]
        assert prior.is_fixed and prior.dist.value == value and prior.source == DEFAULT_SOURCE
    assert (article_priors.structure["attention"] == "linear"
            and article_priors.structure["platforms"] == ["tiktok", "youtube"])
    # The GPU is matched from gpu_peak_flops = 989.4e12.
    assert article_priors.structure["gpu"]["name"] == "H100"
    result = run_cli("priors", "show", str(ARTICLE))
    assert result.returncode == 0 and DEFAULT_SOURCE in result.stdout


def test_platform_tables_equal_canonical_assumptions(tmp_path):
    data = tomllib.loads(ARTICLE.read_text())
    spec = data["assumptions"]
    table = ("\n[platforms.tiktok]\n"
             "minutes_per_day = { dist = \"fixed\", value = 17e6, source = \"t\" }\n"
             "ai_share = { dist = \"fixed\", value = 0.5, source = \"t\" }\n"
             "[platforms.reels]\n"
             "minutes_per_day = { dist = \"fixed\", value = 1e6, source = \"t\" }\n"
             "ai_share = { dist = \"fixed\", value = 0.1, source = \"t\" }\n")
    path = write_priors(tmp_path / "p.toml", drop=("tiktok_minutes_per_day", "tiktok_ai_share"),
                        extra=table)
    priors = load_priors(path)
    assert priors.structure["platforms"] == ["tiktok", "youtube", "reels"]
    assert priors["tiktok_minutes_per_day"].dist.value == 17e6
    assert priors["reels_ai_share"].dist.value == 0.1
    assert "tiktok_minutes_per_day" in spec  # the canonical form is what article.toml uses
    twice = write_priors(tmp_path / "twice.toml", extra=table)
    with pytest.raises(PriorError, match="give it once"):
        load_priors(twice)


@pytest.mark.parametrize("extra, match", [
    ("\n[platforms.reels]\nminutes_per_day = { dist = \"fixed\", value = 1e6, source = \"t\" }\n",
     "platforms.reels: missing key 'ai_share'"),
    (("\n[platforms.reels]\nminutes_per_day = { dist = \"fixed\", value = 1e6, source = \"t\" }\n"
      "ai_share = { dist = \"fixed\", value = 2.0, source = \"t\" }\n"), "reels_ai_share: a share"),
])
def test_bad_platform_tables(tmp_path, extra, match):
    with pytest.raises(PriorError, match=match):
        load_priors(write_priors(tmp_path / "p.toml", extra=extra))


def test_meta_choices_and_their_errors(tmp_path):
    text = ARTICLE.read_text()
    width = "\n[assumptions.model_width]\ndist = \"fixed\"\nvalue = 4096\nsource = \"t\"\n"
    (tmp_path / "w.toml").write_text(text + width)
    with pytest.raises(PriorError, match="model_width is used only with"):
        load_priors(tmp_path / "w.toml")
    (tmp_path / "q.toml").write_text(
        text.replace("[meta]", "[meta]\nattention = \"quadratic\"") + width)
    assert load_priors(tmp_path / "q.toml").structure["attention"] == "quadratic"
    (tmp_path / "a.toml").write_text(text.replace("[meta]", "[meta]\nattention = \"cubic\""))
    with pytest.raises(PriorError, match="attention must be one of"):
        load_priors(tmp_path / "a.toml")
    (tmp_path / "g.toml").write_text(text.replace("[meta]", "[meta]\ngpu = \"B200\""))
    with pytest.raises(PriorError, match="either \\[meta\\] gpu or"):
        load_priors(tmp_path / "g.toml")


def test_gpu_catalogue_and_override():
    assert set(catalogue()) == {"H100", "H200", "B200", "GB200"}
    for entry in catalogue().values():
        assert entry["fp8"] == pytest.approx(2 * entry["bf16"], rel=0.01) and entry["source"]
    priors = load_priors(ARTICLE, gpu="b200:fp8")
    assert (priors["gpu_peak_flops"].dist.value == 4500e12
            and priors.structure["gpu"]["name"] == "B200")
    with pytest.raises(UserError, match="known: H100, H200, B200, GB200"):
        lookup_gpu("A100")


def test_unknown_gpu_is_a_one_line_exit_2(tmp_path):
    result = run_cli("report", "--gpu", "A100", "--samples", "100", "--out", str(tmp_path / "r"))
    assert (result.returncode == 2 and result.stderr.count("\n") == 1
            and "known: H100" in result.stderr)
    assert not (tmp_path / "r").exists()


def test_informed_priors_load_and_say_where_each_number_comes_from():
    priors = load_priors(INFORMED)
    assert (priors.structure["attention"] == "quadratic"
            and priors.structure["gpu"]["name"] == "H100")
    assert set(priors.model({k: 1.0 for k in priors})) >= {"training_cost_usd", "attention_factor"}
    for name, prior in priors.items():
        assert prior.source != DEFAULT_SOURCE, name  # every assumption, structural ones included
    assert not priors["flops_per_mac"].is_fixed and not priors["cfg_passes"].is_fixed
    assert priors.correlations


def test_report_names_the_gpu_and_shows_costs(tmp_path):
    import json

    out = tmp_path / "r"
    price = {"gpu_hour_price_usd": {"dist": "lognormal", "ci": [1.7, 3.0], "source": "test"}}
    path = write_priors(tmp_path / "priced.toml", overrides=price)
    result = run_cli("report", "--priors", str(path), "--gpu", "B200", "--samples", "2000",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    doc = json.loads((out / "summary.json").read_text())
    assert doc["structure"]["gpu"]["name"] == "B200" and doc["command"][-2:] == ["--gpu", "B200"]
    assert {"training_cost_usd", "cost_per_video_minute_usd", "daily_serving_cost_usd"} <= set(
        doc["outputs"])
    assert doc["assumptions"]["gpu_peak_flops"]["median"] == pytest.approx(2250e12, rel=1e-6)
    report = (out / "report.md").read_text()
    assert "NVIDIA B200" in report and "`training_cost_usd` | USD" in report
    # The headline counts B200s, and the article's H100 figures are restated for them.
    assert "| training B200-months |" in report and "H100-months" not in report.split(
        "## 2.")[0]
    assert "article in B200 terms" in report and "by the ratio of dense peaks" in report
    assert doc["outputs"]["fleet_gpus"]["article_value"] == pytest.approx(720e3 * 989.4 / 2250)


def test_gpu_names_the_unit_of_every_gpu_count_and_converts_the_articles_h100s():
    h100, b200 = load_priors(ARTICLE).model, load_priors(ARTICLE, gpu="B200").model
    assert (h100.outputs["training_gpu_months"].unit, h100.marks_label) == ("H100-months",
                                                                          "the article")
    assert h100.marks["training_gpu_months"] == (4211.0, 10528.0)
    assert b200.outputs["training_gpu_months"].unit == "B200-months"
    assert b200.outputs["fleet_gpus"].unit == "B200s"
    assert b200.outputs["video_minutes_per_gpu_hour"].unit == "min/B200-hour"
    assert b200.marks_label == "the article in B200 terms"
    assert b200.marks["training_gpu_months"] == pytest.approx((4211.0 * 989.4 / 2250,
                                                               10528.0 * 989.4 / 2250))
    assert b200.marks["breakeven_video_minutes"] == h100.marks["breakeven_video_minutes"]
    assert load_priors(ARTICLE, gpu="H100:fp8").model.marks_label == "the article in H100 FP8 terms"


def test_article_priors_call_for_the_article_model(article_priors):
    from uncertainty.sora.reproduce import article_data

    point = {k: float(v) for k, v in article_data()["inputs"].items()}
    point["dataset_multiplier"] = float(article_data()["arithmetic"]["dataset_multiplier_low"])
    full = {**point, **{k: article_priors[k].dist.value for k in NEUTRAL}}
    assert article_priors.model(full) == compute_outputs(point)  # reproduce's model, unchanged
