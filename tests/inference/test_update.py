"""Updating priors with evidence: closed forms, NUTS vs importance, chaining, and the round trip."""

import hashlib
import json
import math
import tomllib

import numpy as np
import pytest
import xarray as xr
from conftest import ARTICLE, ROOT, run_cli
from scipy import stats

from uncertainty import load_priors, priors_from_dict
from uncertainty.errors import UserError
from uncertainty.inference.evidence import evidence_from_dict
from uncertainty.inference.refit import dumps_toml, new_prior_document, refit_marginal
from uncertainty.inference.update import update

Z95 = stats.norm.ppf(0.95)


def _evidence(*observations, quantities):
    rows = [{"quantity": q, "value": v, "noise": "lognormal", "sigma": s, "source": "test"}
            for q, v, s in observations]
    return evidence_from_dict({"observation": rows}, quantities=quantities)


def _log_stats(result, name):
    logs = np.log(result.tree["posterior"][name].values.ravel())
    return np.median(logs), np.quantile(logs, [0.05, 0.95])


# --- conjugate lognormal: the posterior is lognormal in closed form ------------------------------

PRIOR_MEDIAN, PRIOR_SIGMA, SCALE, OBSERVED, NOISE = 20e9, 0.8, 3.0, 1e11, 0.5


@pytest.fixture(scope="module")
def conjugate():
    priors = priors_from_dict({
        "x": {"dist": "lognormal", "median": PRIOR_MEDIAN, "sigma": PRIOR_SIGMA, "source": "test"},
        "c": {"dist": "fixed", "value": SCALE, "source": "test"}})
    evidence = _evidence(("y", OBSERVED, NOISE), quantities=["x", "c", "y"])
    return update(priors, [evidence], seed=1, samples=600, chains=2,
                  model=lambda a: {"y": a["c"] * a["x"]})


def test_conjugate_lognormal_matches_closed_form(conjugate):
    precision = 1 / PRIOR_SIGMA**2 + 1 / NOISE**2
    mean = (math.log(PRIOR_MEDIAN) / PRIOR_SIGMA**2
            + math.log(OBSERVED / SCALE) / NOISE**2) / precision
    sd = precision**-0.5
    median, (q05, q95) = _log_stats(conjugate, "x")
    # Tolerances on the log scale: ~3 Monte Carlo standard errors at ~1000 effective draws.
    assert median == pytest.approx(mean, abs=0.045)
    assert q05 == pytest.approx(mean - Z95 * sd, abs=0.07)
    assert q95 == pytest.approx(mean + Z95 * sd, abs=0.07)
    # The output is c * x exactly, so its interval is the same shifted by log c.
    y_median, _ = _log_stats(conjugate, "y")
    assert y_median == pytest.approx(median + math.log(SCALE), abs=1e-5)
    # The refitted lognormal is the closed-form posterior.
    fit = refit_marginal(conjugate.priors["x"].dist, conjugate.tree["posterior"]["x"].values)
    assert math.log(fit["median"]) == pytest.approx(mean, abs=0.045)
    assert fit["sigma"] == pytest.approx(sd, rel=0.08)
    d = conjugate.diagnostics
    assert d["r_hat_max"] <= 1.01 and d["divergences"] == 0 and d["ess_bulk_min"] > 300
    assert set(conjugate.tree.children) == {"prior", "posterior", "observed_data",
                                            "log_likelihood", "log_prior"}


# --- NUTS and importance sampling agree (continuous, bounded and discrete priors) ---------------

def _multi_priors():
    return priors_from_dict({
        "a": {"dist": "lognormal", "ci": [1.0, 10.0], "source": "test"},
        "b": {"dist": "beta", "ci": [0.2, 0.8], "source": "test"},
        "c": {"dist": "pert", "low": 1.0, "mode": 2.0, "high": 4.0, "source": "test"},
        "k": {"dist": "discrete", "values": [1.0, 2.0, 4.0], "weights": [0.3, 0.4, 0.3],
              "source": "test"}})


def _multi_model(a):
    return {"out": a["a"] * a["b"] * a["k"] / a["c"], "ratio": a["a"] / a["k"]}


@pytest.fixture(scope="module")
def multi():
    evidence = _evidence(("out", 2.0, 0.4), ("b", 0.6, 0.3), ("ratio", 1.5, 0.6),
                         quantities=["a", "b", "c", "k", "out", "ratio"])
    kw = dict(seed=3, chains=2, model=_multi_model)
    return (update(_multi_priors(), [evidence], method="nuts", samples=800, **kw),
            update(_multi_priors(), [evidence], method="importance", samples=2000, **kw))


def test_nuts_and_importance_sampling_agree(multi):
    nuts, importance = multi
    assert importance.diagnostics["pareto_k"] <= 0.7 and importance.diagnostics["r_hat_max"] is None
    assert nuts.diagnostics["r_hat_max"] <= 1.01 and nuts.diagnostics["divergences"] == 0
    for name in ("a", "b", "c", "out", "ratio"):
        m_nuts, q_nuts = _log_stats(nuts, name)
        m_is, q_is = _log_stats(importance, name)
        assert m_nuts == pytest.approx(m_is, abs=0.08), name
        assert q_nuts == pytest.approx(q_is, abs=0.15), name
    for value in (1.0, 2.0, 4.0):
        assert nuts.discrete_posterior["k"][value] == pytest.approx(
            importance.discrete_posterior["k"][value], abs=0.05)
    # The evidence moved the discrete prior (0.3, 0.4, 0.3), and draws follow its posterior.
    k_draws = nuts.tree["posterior"]["k"].values.ravel()
    assert np.mean(k_draws == 1.0) == pytest.approx(nuts.discrete_posterior["k"][1.0], abs=0.04)


def test_importance_sampling_refuses_when_pareto_k_is_high():
    priors = priors_from_dict({"x": {"dist": "lognormal", "median": 1.0, "sigma": 2.0,
                                     "source": "test"}})
    far = _evidence(("x", 1e4, 0.01), quantities=["x"])
    with pytest.raises(UserError, match="Pareto k = .* > 0.7 .* use --method nuts"):
        update(priors, [far], method="importance", samples=100, chains=1, model=lambda a: {})


# --- A then B is A and B together ---------------------------------------------------------------

def test_a_then_b_matches_a_and_b_together():
    quantities = ["x", "y", "xy"]

    def model(a):
        return {"xy": a["x"] * a["y"]}

    priors = priors_from_dict({
        "x": {"dist": "lognormal", "median": 10.0, "sigma": 1.0, "source": "test"},
        "y": {"dist": "lognormal", "median": 2.0, "sigma": 0.7, "source": "test"}})
    a = _evidence(("x", 30.0, 0.5), quantities=quantities)
    b = _evidence(("xy", 20.0, 0.4), quantities=quantities)
    kw = dict(method="importance", samples=2000, chains=2, model=model)
    first = update(priors, [a], seed=5, **kw)
    middle = priors_from_dict(new_prior_document(first, "middle")["assumptions"])
    chained = update(middle, [b], seed=6, **kw)
    together = update(priors, [a, b], seed=7, **kw)
    for name in ("x", "y", "xy"):
        m_chain, q_chain = _log_stats(chained, name)
        m_joint, q_joint = _log_stats(together, name)
        assert m_chain == pytest.approx(m_joint, abs=0.06), name
        assert q_chain == pytest.approx(q_joint, abs=0.1), name


# --- the new prior file -------------------------------------------------------------------------

def test_toml_writer_round_trips_awkward_values():
    document = {"meta": {"name": "n", "description": 'quote " backslash \\ tab\t newline\n é'},
                "assumptions": {"x": {"dist": "lognormal", "median": 2.5e21, "sigma": 1e-05,
                                      "values": [4.0, 6.0], "flag": True, "count": 3}},
                "provenance": {"rank_correlations": {"a,b": -0.25}, "empty": {}}}
    assert tomllib.loads(dumps_toml(document, header="line one\nline two")) == document


def test_refit_rules_recover_known_parameters():
    rng = np.random.default_rng(0)
    beta = priors_from_dict({"b": {"dist": "beta", "alpha": 2.0, "beta": 5.0, "source": "t"}})["b"]
    fit = refit_marginal(beta.dist, rng.beta(2.0, 5.0, 200_000))
    assert (fit["alpha"] == pytest.approx(2.0, rel=0.03)
            and fit["beta"] == pytest.approx(5.0, rel=0.03))
    pert = priors_from_dict({"p": {"dist": "pert", "low": 1.0, "mode": 2.0, "high": 5.0,
                                   "source": "t"}})["p"].dist
    draws = 1.0 + 4.0 * rng.beta(*pert.shape, 200_000)
    fit = refit_marginal(pert, draws)
    assert (fit["low"], fit["high"]) == (1.0, 5.0) and fit["mode"] == pytest.approx(2.0, abs=0.02)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("update")
    evidence = ROOT / "priors" / "evidence" / "demand-2025.toml"
    out, report = folder / "updated.toml", folder / "report"
    result = run_cli("update", "--priors", str(ARTICLE), "--evidence", str(evidence),
                     "--out", str(out), "--report", str(report), "--method", "importance",
                     "--samples", "250", "--seed", "2", "--json")
    assert result.returncode == 0, result.stderr
    return folder, evidence, out, report, json.loads(result.stdout)


def test_round_trip_new_file_validates_and_hashes_match(round_trip):
    folder, evidence, out, _, doc = round_trip
    new = load_priors(out)
    provenance = new.provenance
    assert provenance["parent_sha256"] == hashlib.sha256(ARTICLE.read_bytes()).hexdigest()
    assert provenance["evidence_sha256"] == [hashlib.sha256(evidence.read_bytes()).hexdigest()]
    assert provenance["method"] == "importance" and provenance["seed"] == 2
    assert provenance["diagnostics"]["pareto_k"] <= 0.7
    assert "sora_params,diffusion_steps" in provenance["rank_correlations"]
    assert new["fps"].dist == load_priors(ARTICLE)["fps"].dist  # fixed stays fixed
    assert new["youtube_minutes_per_day"].source.startswith("posterior of article.toml updated "
                                                           "with demand-2025.toml (importance")
    # The evidence (43.2M/day, sigma 0.15) moved YouTube's median towards it; the refit keeps it.
    assert new["youtube_minutes_per_day"].dist.median == pytest.approx(
        doc["posterior"]["youtube_minutes_per_day"]["median"], rel=0.02)
    # Updates chain: the new file is a valid parent, and an existing file is never overwritten.
    again = run_cli("update", "--priors", str(out), "--evidence", str(evidence),
                    "--out", str(out), "--method", "importance", "--samples", "100")
    assert again.returncode == 2 and "already exists" in again.stderr


def test_round_trip_json_and_report(round_trip):
    _, _, out, report, doc = round_trip
    assert set(doc) == {"method", "prior", "posterior", "diagnostics", "warnings", "new_priors"}
    assert doc["new_priors"] == str(out) and doc["method"] == "importance"
    assert set(doc["diagnostics"]) == {"draws", "r_hat_max", "ess_bulk_min", "divergences",
                                       "pareto_k", "proposals", "ess_weights", "distinct_draws"}
    from uncertainty.sora.model import ASSUMPTIONS, OUTPUTS
    assert set(doc["prior"]) == set(doc["posterior"]) == set(ASSUMPTIONS) | set(OUTPUTS)
    for stat in doc["posterior"].values():
        low, high = stat["eti_90"]
        assert low <= stat["median"] <= high
    files = {p.name for p in report.iterdir()}
    assert {"report.md", "report.html", "update.json", "posterior.nc", "figures"} <= files
    assert (report / "figures" / "prior_vs_posterior.svg").exists()
    text = (report / "report.md").read_text()
    assert "fleet_gpus" in text and "## Diagnostics" in text and "pareto_k" in text
    tree = xr.open_datatree(report / "posterior.nc", engine="h5netcdf")
    assert {"prior", "posterior", "observed_data", "log_likelihood"} <= set(tree.children)


def test_warnings_are_loud_for_rhat_and_divergences(conjugate):
    from uncertainty.inference.update import _warnings

    conjugate_copy = type(conjugate)(**{**conjugate.__dict__,
                                        "diagnostics": {"r_hat_max": 1.05, "divergences": 3}})
    warnings = _warnings(conjugate_copy)
    assert any("r_hat = 1.050 > 1.01" in w for w in warnings)
    assert any("3 divergent transitions" in w for w in warnings)
