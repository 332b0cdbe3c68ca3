"""Value of information for a provisioning decision: EVPI and EVPPI against closed forms for
lognormal outputs (independent and rank-correlated inputs, a discrete input), bad input, the CLI.

For D = exp(mu + sigma Z) and the loss cu * (D - F)+ + co * (F - D)+, the best provision is the
cu / (cu + co) quantile, F* = exp(mu + sigma z), and EVPI = exp(mu) * l(sigma) with

    l(s) = cu (e^{s^2/2} Phi(s - z) - e^{s z} Phi(-z)) + co (e^{s z} Phi(z) - e^{s^2/2} Phi(z - s)).

Knowing X_i leaves log D normal with variance sigma^2 - V_i, V_i = Var E[log D | X_i], its mean
varying with variance V_i, so EVPPI_i = exp(mu) (l(sigma) - e^{V_i / 2} l(sqrt(sigma^2 - V_i))).
"""

import dataclasses
import json
import math

import pytest
from conftest import ROOT, run_cli
from scipy import optimize, stats

from uncertainty import Model, UserError, jsontext, priors_from_dict
from uncertainty.decision import Decision
from uncertainty.sensitivity.voi import DEFAULT_SAMPLES, value_of_information

SIGMAS = {"a": 0.8, "b": 0.5, "c": 0.3}
PRODUCT = Model(lambda a: {"y": a["a"] * a["b"] * a["c"]}, {"y": "GPUs"}, inputs=list(SIGMAS),
                name="product")
DATACENTER = ROOT / "examples" / "datacenter"
KEYS = ["output", "provision", "expected_loss", "evpi", "evppi", "under_cost", "over_cost", "unit",
        "source", "samples", "seed", "method"]


def l_loss(s: float, cu: float, co: float) -> float:
    """Expected loss of the best provision for exp(s Z), in units of exp(mu)."""
    z = stats.norm.ppf(cu / (cu + co))
    phi = stats.norm.cdf
    return (cu * (math.exp(s * s / 2) * phi(s - z) - math.exp(s * z) * phi(-z))
            + co * (math.exp(s * z) * phi(z) - math.exp(s * s / 2) * phi(z - s)))


def exact(sigma2: float, explained: dict, cu: float, co: float) -> tuple[float, dict]:
    """EVPI and EVPPI of each input, for log D ~ N(0, sigma2) and V_i = explained[i]."""
    sigma = math.sqrt(sigma2)
    evpi = l_loss(sigma, cu, co)
    return evpi, {name: evpi - math.exp(v / 2) * l_loss(math.sqrt(sigma2 - v), cu, co)
                  for name, v in explained.items()}


def lognormal_priors(correlations=None):
    return priors_from_dict({name: {"dist": "lognormal", "median": 1.0, "sigma": s,
                                    "source": "test"} for name, s in SIGMAS.items()},
                            model=PRODUCT, correlations=correlations)


def close(estimate: float, truth: float, rel: float, floor: float = 0.0) -> bool:
    return abs(estimate - truth) <= rel * truth + floor


@pytest.mark.parametrize(("cu", "co"), [(3.0, 1.0), (1.0, 2.0)])
def test_independent_lognormal_product_matches_closed_forms(cu, co):
    result = value_of_information(lognormal_priors(), Decision("y", cu, co), samples=100_000,
                                  seed=0)
    sigma2 = sum(s * s for s in SIGMAS.values())
    evpi, evppi = exact(sigma2, {name: s * s for name, s in SIGMAS.items()}, cu, co)
    quantile = math.exp(math.sqrt(sigma2) * stats.norm.ppf(cu / (cu + co)))
    assert list(result) == KEYS
    assert close(result["provision"], quantile, 0.01)
    assert result["expected_loss"] == result["evpi"]
    assert close(result["evpi"], evpi, 0.02)
    assert list(result["evppi"]) == ["a", "b", "c"]  # largest first: the widest input
    for name, value in result["evppi"].items():
        # 5% relative, and a floor of 0.5% of the EVPI for the smallest
        assert close(value, evppi[name], 0.05, 0.005 * evpi), (name, value, evppi[name])
        assert 0 <= value <= result["evpi"]
    # independent inputs of a product: together they are worth less than perfect information
    assert sum(result["evppi"].values()) < result["evpi"]
    assert (result["under_cost"], result["over_cost"], result["samples"], result["seed"]) == \
        (cu, co, 100_000, 0)


def test_a_correlated_input_is_worth_more_and_matches_its_closed_form():
    cu, co = 3.0, 1.0
    result = value_of_information(lognormal_priors({"a,b": 0.5}), Decision("y", cu, co),
                                  samples=100_000, seed=0)
    r = 2 * math.sin(math.pi * 0.5 / 6)  # the normal scores' Pearson correlation
    sa, sb, sc = SIGMAS.values()
    sigma2 = sa**2 + sb**2 + sc**2 + 2 * r * sa * sb
    # V_i = cov(log D, log X_i)^2 / Var log X_i
    explained = {"a": (sa + r * sb) ** 2, "b": (sb + r * sa) ** 2, "c": sc**2}
    evpi, evppi = exact(sigma2, explained, cu, co)
    _, independent = exact(sigma2, {name: s * s for name, s in SIGMAS.items()}, cu, co)
    assert close(result["provision"],
                 math.exp(math.sqrt(sigma2) * stats.norm.ppf(cu / (cu + co))), 0.01)
    assert close(result["evpi"], evpi, 0.02)
    for name, value in result["evppi"].items():
        assert close(value, evppi[name], 0.05, 0.005 * evpi), (name, value, evppi[name])
    for name in ("a", "b"):  # each carries part of the other's information
        assert evppi[name] > independent[name]
        assert result["evppi"][name] > independent[name] * 1.1


def mixture_loss(s: float, cu: float, co: float) -> tuple[float, float]:
    """Best provision and its expected loss for D = k exp(s Z), k = 1 or 2 with equal odds."""
    def partial_loss(f, scale):  # E[L(f, scale * exp(s Z))]
        w = math.log(f / scale) / s
        mean = scale * math.exp(s * s / 2)
        return (cu * (mean * stats.norm.cdf(s - w) - f * stats.norm.cdf(-w))
                + co * (f * stats.norm.cdf(w) - mean * stats.norm.cdf(w - s)))

    def cdf(f):
        return 0.5 * (stats.norm.cdf(math.log(f) / s) + stats.norm.cdf(math.log(f / 2) / s))

    best = optimize.brentq(lambda f: cdf(f) - cu / (cu + co), 1e-3, 1e3)
    return best, 0.5 * (partial_loss(best, 1.0) + partial_loss(best, 2.0))


def test_a_discrete_input_is_regressed_exactly_and_an_unused_one_is_worth_nothing():
    # D = k x e: k = 1 or 2 with equal odds, x and e lognormal; `unused` does not enter D.
    model = Model(lambda a: {"y": a["k"] * a["x"] * a["e"] + 0 * a["unused"]}, {"y": ""},
                  inputs=["k", "x", "e", "unused"])
    sx, se, cu, co = 0.6, 0.3, 2.0, 1.0
    priors = priors_from_dict({
        "k": {"dist": "discrete", "values": [1.0, 2.0], "weights": [1.0, 1.0], "source": "test"},
        "x": {"dist": "lognormal", "median": 1.0, "sigma": sx, "source": "test"},
        "e": {"dist": "lognormal", "median": 1.0, "sigma": se, "source": "test"},
        "unused": {"dist": "uniform", "low": 0.0, "high": 1.0, "source": "test"}}, model=model)
    result = value_of_information(priors, Decision("y", cu, co), samples=100_000, seed=0)
    best, evpi = mixture_loss(math.hypot(sx, se), cu, co)
    knowing = {"k": 1.5 * l_loss(math.hypot(sx, se), cu, co),  # E[k] l(s)
               "x": math.exp(sx * sx / 2) * mixture_loss(se, cu, co)[1],  # E[x] loss of k e
               "e": math.exp(se * se / 2) * mixture_loss(sx, cu, co)[1]}
    assert close(result["provision"], best, 0.01)
    assert close(result["evpi"], evpi, 0.02)
    for name, loss in knowing.items():
        assert close(result["evppi"][name], evpi - loss, 0.05, 0.005 * evpi), name
    assert result["evppi"]["unused"] <= 0.005 * evpi
    assert list(result["evppi"])[-1] == "unused"


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_an_input_that_determines_the_output_is_worth_nearly_all_of_the_evpi(noise):
    # Its conditional loss has kinks (at F = x); the spline's knots must follow them.
    model = Model(lambda a: {"y": a["x"] * a["e"]}, {"y": ""}, inputs=["x", "e"])
    e = ({"dist": "lognormal", "median": 1.0, "sigma": noise, "source": "test"} if noise
         else {"dist": "fixed", "value": 1.0, "source": "test"})
    priors = priors_from_dict({"x": {"dist": "lognormal", "median": 1.0, "sigma": 0.8,
                                     "source": "test"}, "e": e}, model=model)
    result = value_of_information(priors, Decision("y", 3.0, 1.0), samples=100_000, seed=0)
    evpi, evppi = exact(0.64 + noise**2, {"x": 0.64}, 3.0, 1.0)
    assert close(result["evpi"], evpi, 0.02)
    assert close(result["evppi"]["x"], evppi["x"], 0.04), (result["evppi"]["x"], evppi["x"])


def test_the_prior_files_decision_is_the_default_and_the_seed_repeats():
    decision = Decision("y", 3.0, 1.0, unit="USD per GPU-day", source="a test")
    priors = dataclasses.replace(lognormal_priors(), decision=decision)  # as a [decision] table
    first = value_of_information(priors, samples=20_000, seed=3)
    assert first == value_of_information(priors, decision, samples=20_000, seed=3)
    assert (first["unit"], first["source"], first["seed"]) == ("USD per GPU-day", "a test", 3)
    assert first != value_of_information(priors, decision, samples=20_000, seed=4)


@pytest.mark.parametrize(("decision", "message"), [
    (Decision("z", 1.0, 1.0), "unknown output 'z'"),
    (Decision("yy", 1.0, 1.0), "did you mean 'y'?"),
    (Decision("y", 0.0, 1.0), "under_cost must be a finite number > 0, got 0.0"),
    (Decision("y", 1.0, -2.0), "over_cost must be a finite number > 0, got -2.0"),
    (Decision("y", 1.0, math.inf), "over_cost must be a finite number > 0"),
    (None, "no decision"),
])
def test_bad_decisions_are_one_line_user_errors(decision, message):
    with pytest.raises(UserError) as raised:
        value_of_information(lognormal_priors(), decision, samples=2_000)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_demand_that_is_not_finite_says_why():
    # exp(x) overflows float32 above x = 88.72, which x ~ normal(0, 60) passes in 7% of draws
    import jax.numpy as jnp

    wide = priors_from_dict({"x": {"dist": "normal", "mean": 0.0, "sd": 60.0, "source": "test"}},
                            model=Model(lambda a: {"y": jnp.exp(a["x"])}, {"y": ""}))
    with pytest.raises(UserError, match=r"^value of information: priors: output 'y' is inf for "
                                        r"some draws: the model computes in 32-bit floats"):
        value_of_information(wide, Decision("y", 1.0, 1.0), samples=2_000)


def test_nothing_to_learn_is_a_user_error():
    constant = Model(lambda a: {"y": 0 * a["x"] + 2.0}, {"y": ""}, inputs=["x"])
    uncertain = priors_from_dict({"x": {"dist": "uniform", "low": 0.0, "high": 1.0,
                                        "source": "test"}}, model=constant)
    with pytest.raises(UserError, match="'y' does not vary"):
        value_of_information(uncertain, Decision("y", 1.0, 1.0), samples=2_000)
    fixed = priors_from_dict({"x": {"dist": "fixed", "value": 1.0, "source": "test"}},
                             model=constant)
    with pytest.raises(UserError, match="every assumption is fixed"):
        value_of_information(fixed, Decision("y", 1.0, 1.0), samples=2_000)
    with pytest.raises(UserError, match="at least 1000"):
        value_of_information(uncertain, Decision("y", 1.0, 1.0), samples=999)


# --- the CLI ---------------------------------------------------------------------------------

def test_cli_json_is_the_estimators_dict_and_text_states_each_fact():
    from uncertainty import load_priors
    from uncertainty.cli.voi import VOI_SAMPLES

    assert VOI_SAMPLES == DEFAULT_SAMPLES
    args = ("voi", "--priors", str(DATACENTER / "priors.toml"), "--output", "facility_power_mw",
            "--under-cost", "100000", "--over-cost", "30000", "--unit", "USD per MW-year",
            "--samples", "20000", "--seed", "1")
    result = run_cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert list(doc) == KEYS
    expected = value_of_information(
        load_priors(DATACENTER / "priors.toml"),
        Decision("facility_power_mw", 1e5, 3e4, unit="USD per MW-year",
                 source="command line: --under-cost --over-cost"), samples=20_000, seed=1)
    assert doc == json.loads(jsontext.dumps(expected))  # as the CLI writes JSON: 7 digits
    assert set(doc["evppi"]) == {"gpus", "watts_per_gpu", "pue"}
    text = run_cli(*args)
    assert text.returncode == 0 and text.stderr == ""
    out = text.stdout
    assert "Best provision under today's priors:" in out and "MW" in out
    assert "Expected loss at that provision:" in out
    assert "Expected value of perfect information (EVPI):" in out
    assert "from --under-cost and --over-cost (the command line)" in out
    assert "| assumption | EVPPI (USD per MW-year x MW) | share of EVPI |" in out
    assert out.index("| gpus |") < out.index("| pue |")


def _with_decision(tmp_path, decision: str):
    text = (DATACENTER / "priors.toml").read_text().replace(
        'model = "model.py:MODEL"', f'model = "{DATACENTER / "model.py"}:MODEL"')
    path = tmp_path / "priors.toml"
    path.write_text(text + "\n[decision]\n" + decision)
    return path


DECISION = ('output = "facility_power_mw"\nunder_cost = 90000\nover_cost = 45000\n'
            'unit = "USD per MW-year"\nsource = "test: a lost MW-year of serving vs an idle one"\n')


def test_cli_takes_the_decision_table_and_flags_win(tmp_path):
    path = _with_decision(tmp_path, DECISION)
    table = run_cli("voi", "--priors", str(path), "--samples", "20000", "--json")
    assert table.returncode == 0, table.stderr
    doc = json.loads(table.stdout)
    assert (doc["output"], doc["under_cost"], doc["over_cost"], doc["unit"], doc["source"]) == \
        ("facility_power_mw", 90000, 45000, "USD per MW-year",
         "test: a lost MW-year of serving vs an idle one")
    text = run_cli("voi", "--priors", str(path), "--samples", "20000").stdout
    assert f"from the [decision] table of {path}" in text
    flag = run_cli("voi", "--priors", str(path), "--samples", "20000", "--under-cost", "45000",
                   "--json")
    doc = json.loads(flag.stdout)
    assert (doc["under_cost"], doc["over_cost"]) == (45000, 45000)
    assert doc["source"].startswith("command line: --under-cost; test: a lost")
    text = run_cli("voi", "--priors", str(path), "--samples", "20000", "--under-cost", "45000")
    assert "--under-cost from the command line, the other from the [decision] table" in \
        text.stdout
    # another output: the table's costs price facility power, not IT power
    other = run_cli("voi", "--priors", str(path), "--output", "it_power_mw")
    assert other.returncode == 2 and "prices 'facility_power_mw', not 'it_power_mw'" in \
        other.stderr


def _constant_model(tmp_path):
    (tmp_path / "model.py").write_text(
        "from uncertainty import Model\n"
        "MODEL = Model(lambda a: {'y': 0 * a['x'] + 2.0}, {'y': 'u'}, inputs=['x'])\n")
    path = tmp_path / "constant.toml"
    path.write_text('[meta]\nmodel = "model.py:MODEL"\n\n[assumptions.x]\ndist = "uniform"\n'
                    'low = 0.0\nhigh = 1.0\nsource = "test"\n')
    return path


@pytest.mark.parametrize(("args", "message"), [
    (("--under-cost", "0", "--over-cost", "1"), "argument --under-cost: must be a finite number"),
    (("--under-cost", "1", "--over-cost", "-2"), "argument --over-cost: must be a finite number"),
    (("--under-cost", "x", "--over-cost", "1"), "argument --under-cost: must be a number"),
    (("--under-cost", "nan", "--over-cost", "1"), "argument --under-cost: must be a finite"),
    (("--output", "facility_power", "--under-cost", "1", "--over-cost", "1"),
     "did you mean 'facility_power_mw'?"),
    (("--over-cost", "1"), "--under-cost: required (the prior file has no [decision] table)"),
    (("--under-cost", "1", "--over-cost", "1", "--samples", "500"), "at least 1000 draws"),
    (("--under-cost", "1", "--over-cost", "1", "CONSTANT"), "'y' does not vary"),
])
def test_cli_bad_input_is_one_line_exit_2_nothing_on_stdout(tmp_path, args, message):
    if args[-1] == "CONSTANT":
        args = (*args[:-1], "--priors", str(_constant_model(tmp_path)), "--output", "y")
    else:
        args = ("--priors", str(DATACENTER / "priors.toml"),
                *(() if "--output" in args else ("--output", "facility_power_mw")), *args)
    result = run_cli("voi", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr


def test_article_priors_run_through_the_sora_model():
    from uncertainty import load_priors

    priors = load_priors("article")
    result = value_of_information(priors, Decision("fleet_gpus", 3.0, 1.0), samples=20_000,
                                  seed=0)
    assert set(result["evppi"]) == set(priors.uncertain)
    assert result["evpi"] > 0
    assert all(0 <= v <= result["evpi"] for v in result["evppi"].values())
    assert next(iter(result["evppi"])) == "sora_params"  # the widest prior on the fleet
