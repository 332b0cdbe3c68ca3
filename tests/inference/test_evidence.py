"""Evidence files: the shipped ones are valid and cited; bad ones exit 2 in one line, writing
nothing."""

from pathlib import Path

import pytest
from conftest import ARTICLE, ROOT, run_cli

from uncertainty.errors import PriorError
from uncertainty.inference.evidence import evidence_from_dict, load_evidence

SHIPPED = sorted((ROOT / "priors" / "evidence").glob("*.toml"))

GOOD = """[meta]
description = "test"

[[observation]]
quantity = "video_minutes_per_gpu_hour"
value = 0.25
noise = "lognormal"
sigma = 1.0
source = "Forbes, 10 Nov 2025"
date = 2025-11-10
tag = "S"
"""


def test_at_least_three_shipped_files_each_cited_tagged_and_dated():
    assert len(SHIPPED) >= 3
    for path in SHIPPED:
        evidence = load_evidence(path)
        assert evidence.description and len(evidence.sha256) == 64
        for obs in evidence.observations:
            assert obs.source and obs.tag in ("P", "S", "D") and obs.date
            # A secondary or derived figure, or a peer standing in for Sora, is never sharp.
            assert obs.noise == "lognormal" and obs.sigma >= 0.15


def test_a_good_file_loads(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    (obs,) = load_evidence(path).observations
    assert (obs.quantity, obs.value, obs.noise, obs.sigma, obs.date) == (
        "video_minutes_per_gpu_hour", 0.25, "lognormal", 1.0, "2025-11-10")


@pytest.mark.parametrize("change, message", [
    (('quantity = "video_minutes_per_gpu_hour"', 'quantity = "video_minute_per_gpu_hour"'),
     "observation[0] (video_minute_per_gpu_hour): unknown quantity 'video_minute_per_gpu_hour' "
     "(any assumption or model output); did you mean 'video_minutes_per_gpu_hour'?"),
    (("sigma = 1.0", "sigma = 0.0"), "'sigma' must be > 0, got 0"),
    (("sigma = 1.0", "sigma = -1"), "'sigma' must be > 0, got -1"),
    (('source = "Forbes, 10 Nov 2025"\n', ""), "missing key 'source' (every number needs one)"),
    (('noise = "lognormal"', 'noise = "gaussian"'), "'noise' must be one of lognormal, normal"),
    (("value = 0.25", "value = -0.25"), "lognormal noise needs a value > 0"),
    (("value = 0.25", 'value = "0.25"'), "'value' must be a number"),
    (('tag = "S"', 'tag = "X"'), "'tag' must be one of P, S, D"),
    (("date = 2025-11-10", 'date = "10 Nov 2025"'), "'date' must be a date like 2025-11-10"),
    (("sigma = 1.0", "sigma = 1.0\nsigmas = 2"), "unknown key 'sigmas'"),
    (("[[observation]]", "[observations]"), "unknown table 'observations'"),
    (("value = 0.25", "value = 0.25\nvalue = 1"), "TOML syntax error"),
])
def test_bad_evidence_exits_2_in_one_line_and_writes_nothing(tmp_path, change, message):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(*change))
    out = tmp_path / "new.toml"
    result = run_cli("update", "--priors", str(ARTICLE), "--evidence", str(path), "--out", str(out),
                     "--report", str(tmp_path / "report"))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and str(path) in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_observing_a_fixed_assumption_is_refused(tmp_path):
    path = tmp_path / "fixed.toml"
    path.write_text(GOOD.replace("video_minutes_per_gpu_hour", "fps").replace("0.25", "30"))
    result = run_cli("update", "--priors", str(ARTICLE), "--evidence", str(path),
                     "--out", str(tmp_path / "new.toml"))
    assert result.returncode == 2
    assert "observation[0] (fps): the priors fix 'fps'" in result.stderr
    assert not (tmp_path / "new.toml").exists()


def test_missing_file_and_empty_observations():
    with pytest.raises(PriorError, match="no \\[\\[observation\\]\\] tables"):
        evidence_from_dict({"meta": {"description": "x"}}, where="e.toml")
    result = run_cli("update", "--priors", str(ARTICLE), "--evidence", "no/such.toml",
                     "--out", "never.toml")
    assert result.returncode == 2 and "no/such.toml: no such file" in result.stderr
    assert not Path("never.toml").exists()


def test_custom_quantities_for_a_general_model():
    spec = {"observation": [{"quantity": "y", "value": 1.0, "noise": "normal", "sigma": 0.1,
                             "source": "test"}]}
    assert evidence_from_dict(spec, quantities=["x", "y"]).observations[0].noise == "normal"
    with pytest.raises(PriorError, match="unknown quantity 'y'"):
        evidence_from_dict(spec, quantities=["x"])
