"""JSON the tool writes carries the precision of its numbers, not float32 noise; tables show no
negative zero."""

import json

from conftest import run_cli, write_identity_model

from uncertainty.cli.sobol import _fixed
from uncertainty.jsontext import carried, dumps


def test_floats_rounded_to_seven_significant_digits():
    assert carried(524000002048.0) == 524e9 and carried(1.2500002537495153e+21) == 1.25e21
    assert carried({"a": [0.30000001192092896, 7, True, None, "x"]}) == {
        "a": [0.3, 7, True, None, "x"]}
    assert json.loads(dumps({"nan": float("nan"), "inf": float("inf")})) == {"nan": None,
                                                                              "inf": None}


def test_summary_json_has_no_float32_noise(tmp_path):
    write_identity_model(tmp_path)
    priors = tmp_path / "p.toml"
    priors.write_text('[meta]\nmodel = "m.py:MODEL"\n\n[assumptions.x]\ndist = "fixed"\n'
                      'value = 524e9\nsource = "test"\n')
    out = tmp_path / "r"
    result = run_cli("report", "--priors", str(priors), "--samples", "1000", "--out", str(out),
                     "--quiet", "--no-sensitivity", "--json")
    assert result.returncode == 0, result.stderr
    text = (out / "summary.json").read_text()
    assert "524000002048" not in text and "524000002048" not in result.stdout
    assert json.loads(text)["outputs"]["y"]["median"] == 524e9


def test_no_negative_zero_in_index_tables():
    assert _fixed(-0.0004) == "0.000" and _fixed(-0.0006) == "-0.001" and _fixed(0.5) == "0.500"
