"""A prior file's [decision] table: its rules (one line each, naming the key), and the table
loaded onto the prior set for any model (a user's model and the Sora model)."""

import math

import pytest
from conftest import ROOT, run_cli, write_priors

from uncertainty import Model, PriorError, load_priors
from uncertainty.decision import Decision, parse_decision

MODEL = Model(lambda a: {"fleet_gpus": 2 * a["x"], "power_mw": 3 * a["x"]},
              {"fleet_gpus": "GPUs", "power_mw": "MW"}, inputs=["x"], name="fleet")
GOOD = {"output": "fleet_gpus", "under_cost": 18.4, "over_cost": 56.4,
        "unit": "USD per GPU-day", "source": "test: a day of unserved demand vs an idle GPU"}
DATACENTER = ROOT / "examples" / "datacenter"


def test_a_good_table_is_a_decision():
    decision = parse_decision(GOOD, MODEL, "p.toml")
    assert decision == Decision("fleet_gpus", 18.4, 56.4, unit="USD per GPU-day",
                                source="test: a day of unserved demand vs an idle GPU")
    assert math.isclose(decision.critical_ratio, 18.4 / (18.4 + 56.4))
    minimal = parse_decision({"output": "power_mw", "under_cost": 1, "over_cost": 2,
                              "source": "test"}, MODEL, "p.toml")
    assert (minimal.under_cost, minimal.over_cost, minimal.unit) == (1.0, 2.0, "")
    assert isinstance(minimal.under_cost, float)


def test_the_loss_is_the_newsvendors():
    decision = Decision("fleet_gpus", 3.0, 1.0)
    assert decision.loss(10.0, 14.0) == 12.0  # 4 short at 3
    assert decision.loss(10.0, 7.0) == 3.0  # 3 idle at 1
    assert decision.loss(10.0, 10.0) == 0.0
    assert list(decision.loss(10.0, [14.0, 7.0])) == [12.0, 3.0]


@pytest.mark.parametrize(("change", "message"), [
    ({"output": "fleet_gpu"}, "'output' 'fleet_gpu' is not an output of the model 'fleet'; "
                              "did you mean 'fleet_gpus'?"),
    ({"output": "zzz"}, "(its outputs: fleet_gpus, power_mw)"),
    ({"output": 3}, "'output' must be the name of an output of the model, got 3"),
    ({"output": None}, "missing key 'output'"),
    ({"under_cost": None}, "missing key 'under_cost'"),
    ({"over_cost": None}, "missing key 'over_cost'"),
    ({"source": None}, "missing key 'source' (every number needs one)"),
    ({"under_cost": 0}, "'under_cost' must be > 0, got 0"),
    ({"over_cost": -56.4}, "'over_cost' must be > 0, got -56.4"),
    ({"under_cost": "18.4"}, "'under_cost' must be a number, got text \"18.4\""),
    ({"over_cost": True}, "'over_cost' must be a number, got the boolean true"),
    ({"under_cost": math.inf}, "'under_cost' must be finite, got inf"),
    ({"over_cost": math.nan}, "'over_cost' must be finite, got nan"),
    ({"source": ""}, "'source' must be a non-empty string"),
    ({"source": 7}, "'source' must be a non-empty string"),
    ({"unit": ["USD"]}, "'unit' must be a non-empty string"),
    ({"under_costs": 1.0}, "unknown key 'under_costs'; did you mean 'under_cost'?"),
    ({"horizon": 30}, "unknown key 'horizon' (allowed: output, under_cost, over_cost, unit, "
                      "source)"),
])
def test_each_broken_rule_is_one_line_naming_the_key(change, message):
    table = {key: value for key, value in {**GOOD, **change}.items() if value is not None}
    with pytest.raises(PriorError) as raised:
        parse_decision(table, MODEL, "p.toml")
    text = str(raised.value)
    assert text.startswith("p.toml: decision: ") and "\n" not in text
    assert message in text


def test_a_decision_that_is_not_a_table():
    with pytest.raises(PriorError, match=r"^p.toml: decision: must be a table"):
        parse_decision(3, MODEL, "p.toml")


def _datacenter_with(tmp_path, table: str):
    text = (DATACENTER / "priors.toml").read_text().replace(
        'model = "model.py:MODEL"', f'model = "{DATACENTER / "model.py"}:MODEL"')
    path = tmp_path / "priors.toml"
    path.write_text(text + table)
    return path


def test_a_prior_file_with_a_decision_loads_it(tmp_path):
    path = _datacenter_with(tmp_path, '\n[decision]\noutput = "facility_power_mw"\n'
                                      'under_cost = 90000\nover_cost = 45000\n'
                                      'unit = "USD per MW-year"\nsource = "test"\n')
    priors = load_priors(path)
    assert priors.decision == Decision("facility_power_mw", 90000.0, 45000.0,
                                       unit="USD per MW-year", source="test")
    assert list(priors) == ["gpus", "watts_per_gpu", "pue"]  # the rest as before
    assert load_priors(DATACENTER / "priors.toml").decision is None
    assert run_cli("priors", "validate", str(path)).returncode == 0


def test_the_sora_model_reads_its_file_with_a_decision_too(tmp_path):
    path = write_priors(tmp_path / "article.toml",
                        extra='\n[decision]\noutput = "fleet_gpus"\nunder_cost = 18.4\n'
                              'over_cost = 56.4\nsource = "test"\n')
    priors = load_priors(path)
    assert priors.decision == Decision("fleet_gpus", 18.4, 56.4, source="test")
    assert load_priors("article").decision is None


def test_a_broken_decision_in_a_file_is_exit_2_one_line(tmp_path):
    path = _datacenter_with(tmp_path, '\n[decision]\noutput = "facility_power"\n'
                                      'under_cost = 0\nover_cost = 1\nsource = "test"\n')
    result = run_cli("priors", "validate", str(path))
    assert result.returncode == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert message.startswith(f"sora-uq: error: {path}: decision: 'output' 'facility_power'")
    assert "did you mean 'facility_power_mw'?" in message
    # the output is checked against the model the file runs, whichever names it
    path = _datacenter_with(tmp_path, '\n[decision]\noutput = "fleet_gpus"\n'
                                      'under_cost = 1\nover_cost = 1\nsource = "test"\n')
    with pytest.raises(PriorError, match="not an output of the model 'datacenter-power'"):
        load_priors(path)
