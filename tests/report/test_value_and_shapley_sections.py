"""A report of correlated priors with a decision: Shapley effects instead of Sobol indices, and
"what to pin down next" for the decision's output ranked by the value of information."""

import json

import pytest
from conftest import ROOT, run_cli

EXAMPLE = ROOT / "examples" / "datacenter"
DECISION = '''
[decision]
output = "facility_power_mw"
under_cost = 3e6
over_cost = 1.2e6
unit = "USD per MW-year"
source = "test: illustrative costs"
'''


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decision")
    priors = folder / "priors.toml"
    priors.write_text((EXAMPLE / "priors.toml").read_text().replace(
        'model = "model.py:MODEL"', f'model = "{EXAMPLE}/model.py:MODEL"') + DECISION)
    out = folder / "report"
    result = run_cli("report", "--priors", str(priors), "--samples", "65536", "--out", str(out),
                     "--quiet")
    assert result.returncode == 0, result.stderr
    return out, json.loads((out / "summary.json").read_text())


def test_correlated_priors_get_shapley_effects_not_independent_sobol_indices(report):
    out, summary = report
    assert "sobol" not in summary and summary["shapley"]["correlated"]
    effects = summary["shapley"]["outputs"]["it_power_mw"]
    assert sum(ix["shapley"] for ix in effects.values()) == pytest.approx(1.0, abs=1e-6)
    assert effects["pue"]["shapley"] == pytest.approx(0.0, abs=0.01)  # IT power ignores pue
    assert (out / "figures" / "shapley_facility_power_mw.svg").exists()
    page = (out / "report.md").read_text()
    assert "Shapley effect" in page and "fair share" in page


def test_the_decisions_output_is_ranked_by_the_value_of_information(report):
    out, summary = report
    voi = summary["voi"]
    assert voi["output"] == "facility_power_mw" and voi["under_cost"] == 3e6
    rows = summary["pin_down_next"]["facility_power_mw"]
    assert [row["assumption"] for row in rows][0] == "gpus"
    assert rows[0]["evppi"] == max(voi["evppi"].values()) <= voi["evpi"]
    assert "S1" in summary["pin_down_next"]["it_power_mw"][0] or \
        "first_order" in summary["pin_down_next"]["it_power_mw"][0]
    page = (out / "report.md").read_text()
    assert "Decision: how much facility power to provide" in page
    assert "the value of information for the decision above" in page
    assert (out / "figures" / "voi.svg").exists()
