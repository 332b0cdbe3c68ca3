"""The reproduction table, line by line, against section 3 of the domain page."""

import json

import pytest
from conftest import run_cli

from uncertainty.sora.reproduce import reproduction_table

# key -> (article says, recomputed), as printed in the domain page's section 3
SECTION_3 = {
    "dit_h100_months": (0.4, 0.390),
    "dit_h100_days": (12, 11.7),
    "latent_frames": (180, 180),
    "training_flops_low": (1.1e25, 1.08e25),
    "training_flops_high": (2.7e25, 2.70e25),
    "h100_months_low": (4211, 4211.3),
    "h100_months_high": (10528, 10528.3),
    "dit_inference_flops_per_image": (131e12, 131e12),
    "dit_breakeven_images": (7.6e6, 7.63e6),
    "sora_flops_per_step": (2.8e15, 2.83e15),
    "sora_flops_per_video_minute": (708e15, 707e15),
    "video_minutes_per_h100_hour": (5, 5.04),
    "breakeven_minutes_low": (15.3e6, 15.27e6),
    "breakeven_minutes_high": (38.1e6, 38.17e6),
    "ai_minutes_per_day": (15e6, 14.95e6),
    "minutes_per_h100_day": (120, 120.9),
    "fleet_average": (89e3, 124.6e3),
    "fleet_peak": (720e3, 997e3),
}
INCONSISTENT = {"fleet_average", "fleet_peak"}


@pytest.fixture(scope="module")
def table():
    return {line["key"]: line for line in reproduction_table()}


def test_every_line_is_there_in_order(table):
    assert list(table) == list(SECTION_3)


@pytest.mark.parametrize("key", sorted(SECTION_3))
def test_line_matches_section_3(table, key):
    article, recomputed = SECTION_3[key]
    line = table[key]
    assert line["article"] == pytest.approx(article)
    # The page prints 3-4 significant digits.
    assert line["recomputed"] == pytest.approx(recomputed, rel=2e-3)
    assert line["consistent"] is (key not in INCONSISTENT)
    # The model takes no shortcut, but at the article's inputs it stays within 3% of its arithmetic.
    assert line["model"] == pytest.approx(line["recomputed"], rel=0.03)


def test_inconsistent_lines_say_why(table):
    assert "89k" in table["fleet_average"]["note"] and "10.7M" in table["fleet_average"]["note"]
    assert "712k" in table["fleet_peak"]["note"]


def test_reproduce_cli_json():
    result = run_cli("reproduce", "--json")
    assert result.returncode == 0, result.stderr
    lines = json.loads(result.stdout)["lines"]
    assert {tuple(sorted(line)) for line in lines} == {
        ("article", "consistent", "key", "label", "model", "note", "recomputed")}
    assert ([line["key"] for line in lines if not line["consistent"]]
            == ["fleet_average", "fleet_peak"])
