"""A user's own model (examples/datacenter, the README's example) through every command, each
checked against a closed form: three lognormal inputs, two of them rank-correlated, two outputs.

On the log scale both outputs are sums of correlated normals: log(facility power) has mean
log(median product) and variance sum(s_i^2) + 2 r s_gpus s_watts, with r = 2 sin(pi rho / 6) the
normal-score correlation of Spearman rho. Conditioning on a lognormal observation is then the
conjugate normal update.
"""

import json
import math
import tomllib

import pytest
from conftest import ROOT, run_cli
from scipy import stats

EXAMPLE = ROOT / "examples" / "datacenter"
PRIORS = EXAMPLE / "priors.toml"
EVIDENCE = EXAMPLE / "evidence.toml"
Z90 = stats.norm.ppf(0.95)


def _lognormal(low, high):
    return math.sqrt(low * high), math.log(high / low) / (2 * Z90)


GPUS, WATTS, PUE = _lognormal(1e5, 4e5), _lognormal(900, 1500), _lognormal(1.1, 1.5)
R = 2 * math.sin(math.pi * 0.5 / 6)  # Spearman 0.5 -> normal-score Pearson
IT_SD = math.sqrt(GPUS[1] ** 2 + WATTS[1] ** 2 + 2 * R * GPUS[1] * WATTS[1])
FACILITY_SD = math.sqrt(IT_SD ** 2 + PUE[1] ** 2)
IT_MEDIAN = GPUS[0] * WATTS[0] / 1e6
FACILITY_MEDIAN = IT_MEDIAN * PUE[0]


def _ok(*args):
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "datacenter"
    _ok("report", "--priors", str(PRIORS), "--samples", "131072", "--out", str(out), "--quiet")
    return out, json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize("output, median, sd", [("facility_power_mw", FACILITY_MEDIAN, FACILITY_SD),
                                                ("it_power_mw", IT_MEDIAN, IT_SD)])
def test_report_intervals_match_the_correlated_lognormal(report, output, median, sd):
    _, summary = report
    s = summary["outputs"][output]
    assert s["median"] == pytest.approx(median, rel=0.02)
    low, high = s["eti_90"]
    assert low == pytest.approx(median * math.exp(-Z90 * sd), rel=0.03)
    assert high == pytest.approx(median * math.exp(Z90 * sd), rel=0.03)


def test_report_speaks_of_the_users_model_not_sora(report):
    out, summary = report
    assert summary["headline"] == ["facility_power_mw", "it_power_mw"]
    assert summary["model"]["name"] == "datacenter-power"
    assert "reproduction" not in summary
    page = (out / "report.md").read_text()
    assert page.startswith("# Data-centre power: interval report")
    assert "article" not in page.lower() and "sora compute" not in page.lower()
    assert ("facility power (MW)" in page
            and (out / "figures" / "dist_facility_power_mw.svg").exists())
    assert summary["structure"]["correlations"] == [{"a": "gpus", "b": "watts_per_gpu",
                                                    "spearman": 0.5}]


def test_tornado_swings_are_each_inputs_own_90_percent_range(tmp_path):
    result = _ok("tornado", "--priors", str(PRIORS), "--output", "facility_power_mw",
                 "--out", str(tmp_path / "t"), "--json")
    bars = {b["assumption"]: b["swing_log10"]
            for b in json.loads(result.stdout)["outputs"]["facility_power_mw"]["bars"]}
    # one input from its 5% to its 95% quantile moves the product by exactly its ci's ratio
    assert bars == pytest.approx({"gpus": math.log10(4), "watts_per_gpu": math.log10(1500 / 900),
                                  "pue": math.log10(1.5 / 1.1)}, abs=1e-4)


def test_shapley_effects_are_the_closed_form_of_the_correlated_logs():
    result = _ok("shapley", "--priors", str(PRIORS), "--output", "it_power_mw", "--json")
    doc = json.loads(result.stdout)
    assert doc["method"].startswith("exact")  # a product of lognormals: log-linear
    effects = doc["outputs"]["it_power_mw"]
    # two correlated normal logs (Iooss & Prieur 2019): each one's fair share of Var log Y
    s1, s2, r = GPUS[1], WATTS[1], R
    variance = s1**2 + 2 * r * s1 * s2 + s2**2
    gpus = (s1**2 * (1 - r**2 / 2) + r * s1 * s2 + r**2 * s2**2 / 2) / variance
    assert effects["gpus"]["shapley"] == pytest.approx(gpus, rel=1e-4)
    assert effects["watts_per_gpu"]["shapley"] == pytest.approx(1 - gpus, rel=1e-4)
    assert effects["gpus"]["first_order"] == pytest.approx((s1 + r * s2) ** 2 / variance,
                                                           rel=1e-4)
    assert effects["pue"]["shapley"] == pytest.approx(0.0, abs=1e-9)
    # Sobol indices assume independence: refused for these correlated priors, unless asked
    refused = run_cli("sobol", "--priors", str(PRIORS), "--output", "it_power_mw")
    assert refused.returncode == 2 and "gpus ~ watts_per_gpu" in refused.stderr


def test_update_is_the_conjugate_normal_update_on_the_log_scale(tmp_path):
    out = tmp_path / "two" / "deep" / "updated.toml"  # elsewhere than any scratch folder
    out.parent.mkdir(parents=True)
    result = _ok("update", "--priors", str(PRIORS), "--evidence", str(EVIDENCE), "--out",
                 str(out), "--samples", "500", "--json")
    observed, noise = math.log(250.0), 0.2
    precision = 1 / FACILITY_SD ** 2 + 1 / noise ** 2
    mean = (math.log(FACILITY_MEDIAN) / FACILITY_SD ** 2 + observed / noise ** 2) / precision
    posterior = json.loads(result.stdout)["posterior"]["facility_power_mw"]
    assert posterior["median"] == pytest.approx(math.exp(mean), rel=0.04)
    low, high = posterior["eti_90"]
    assert math.log(high / low) / (2 * Z90) == pytest.approx(precision ** -0.5, rel=0.12)
    # the new file names the model relative to itself, and loads and runs again
    written = tomllib.loads(out.read_text())
    assert written["meta"]["model"].endswith("examples/datacenter/model.py:MODEL")
    assert not written["meta"]["model"].startswith("/")
    _ok("priors", "validate", str(out))


def test_compare_doubling_the_fleet_doubles_the_power_draw_for_draw(tmp_path):
    doubled = tmp_path / "doubled.toml"
    doubled.write_text(PRIORS.read_text().replace("ci = [100000, 400000]", "ci = [200000, 800000]")
                       .replace('model = "model.py:MODEL"', f'model = "{EXAMPLE}/model.py:MODEL"'))
    result = _ok("compare", "--priors", str(PRIORS), "--priors", str(doubled), "--samples",
                 "20000", "--out", str(tmp_path / "c"), "--json")
    first, second = (s["outputs"]["facility_power_mw"]
                     for s in json.loads(result.stdout)["scenarios"])
    # the same seed draws the same uniforms: every draw, hence every quantile, exactly doubles
    assert second["median"] / first["median"] == pytest.approx(2.0, rel=1e-5)
    assert second["eti_90"][1] / first["eti_90"][1] == pytest.approx(2.0, rel=1e-5)
    page = (tmp_path / "c" / "compare.md").read_text()
    assert page.startswith("# Data-centre power: ") and "article" not in page


def test_model_flag_wins_over_the_files_model(tmp_path):
    plain = tmp_path / "plain.toml"
    plain.write_text(PRIORS.read_text().replace('model = "model.py:MODEL"\n', ""))
    refused = run_cli("priors", "validate", str(plain))  # the Sora model reads no 'gpus'
    assert refused.returncode == 2
    assert "unknown assumption 'gpus' (not an input of the model 'sora')" in refused.stderr
    _ok("priors", "validate", str(plain), "--model", f"{EXAMPLE}/model.py:MODEL")


@pytest.mark.parametrize("change, message", [
    (("[assumptions.gpus]", "[assumptions.gpu]"), "unknown assumption 'gpu'; did you mean 'gpus'?"),
    (('model = "model.py:MODEL"', 'model = "nowhere.py:MODEL"'), "no such model file"),
    (('model = "model.py:MODEL"', 'model = "model.py:NOPE"'), "no name 'NOPE'"),
    (('model = "model.py:MODEL"', 'model = "model.py"'), "FILE.py:NAME"),
])
def test_bad_model_or_prior_file_is_one_line_exit_2(tmp_path, change, message):
    bad = tmp_path / "bad.toml"
    (tmp_path / "model.py").write_text((EXAMPLE / "model.py").read_text())
    bad.write_text(PRIORS.read_text().replace(*change))
    result = run_cli("report", "--priors", str(bad), "--out", str(tmp_path / "r"))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_evidence_and_outputs_are_checked_against_the_users_model(tmp_path):
    evidence = tmp_path / "ev.toml"
    evidence.write_text(EVIDENCE.read_text().replace("facility_power_mw", "fleet_gpus"))
    result = run_cli("update", "--priors", str(PRIORS), "--evidence", str(evidence), "--out",
                     str(tmp_path / "u.toml"))
    assert result.returncode == 2 and "unknown quantity 'fleet_gpus'" in result.stderr
    result = run_cli("tornado", "--priors", str(PRIORS), "--output", "fleet_gpus")
    assert result.returncode == 2 and "unknown output 'fleet_gpus'" in result.stderr
    assert not (tmp_path / "u.toml").exists()
