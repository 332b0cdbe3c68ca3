"""Shapley effects against closed forms: the linear Gaussian cases of Iooss & Prieur (2019), a
lognormal product with a correlated pair (exact on the log scale), and independent inputs,
where Shapley effect = first-order = total index."""

import json
import math

import numpy as np
import pytest
from conftest import ROOT, run_cli, write_identity_model

from uncertainty import Model, priors_from_dict
from uncertainty.sensitivity.shapley import linear_gaussian_shapley, shapley_effects

INFORMED = ROOT / "priors" / "informed-2026.toml"
SUM = Model(lambda a: {"y": a["x1"] + a["x2"] + a["x3"]}, {"y": ""}, name="sum")


def _pearson(spearman: float) -> float:
    return 2 * math.sin(math.pi * spearman / 6)


def _two_inputs(s1, s2, rho):
    """Iooss & Prieur (2019), Y = X1 + X2 with corr(X1, X2) = rho."""
    variance = s1**2 + 2 * rho * s1 * s2 + s2**2
    return ((s1**2 * (1 - rho**2 / 2) + rho * s1 * s2 + rho**2 * s2**2 / 2) / variance,
            (s2**2 * (1 - rho**2 / 2) + rho * s1 * s2 + rho**2 * s1**2 / 2) / variance)


@pytest.mark.parametrize("s1, s2, rho", [(1.0, 2.0, 0.25), (1.0, 1.0, 0.9), (2.0, 1.0, -0.5)])
def test_the_exact_sum_over_subsets_is_the_published_two_input_formula(s1, s2, rho):
    cov = np.array([[s1**2, rho * s1 * s2], [rho * s1 * s2, s2**2]])
    assert linear_gaussian_shapley(np.ones(2), cov) == pytest.approx(_two_inputs(s1, s2, rho))


def _normal_sum(sds, spearman):
    specs = {f"x{i + 1}": {"dist": "normal", "mean": 0.0, "sd": sd, "source": "test"}
             for i, sd in enumerate(sds)}
    return priors_from_dict(specs, model=SUM, correlations={"x2,x3": spearman})


def test_three_inputs_one_independent_match_the_closed_form():
    sds, spearman = (1.0, 1.0, 2.0), 0.5
    r = _pearson(spearman)
    variance = 1 + 1 + 4 + 2 * r * 1 * 2
    pair = _two_inputs(1.0, 2.0, r)
    pair_variance = 1 + 4 + 2 * r * 2
    exact = [1 / variance, pair[0] * pair_variance / variance, pair[1] * pair_variance / variance]
    cov = np.array([[1, 0, 0], [0, 1, 2 * r], [0, 2 * r, 4]])
    assert linear_gaussian_shapley(np.ones(3), cov) == pytest.approx(exact)
    result = shapley_effects(_normal_sum(sds, spearman), scale="linear", seed=1,
                             permutations=4000)
    effects = result["outputs"]["y"]
    assert "random permutations" in result["method"]
    assert [effects[n]["shapley"] for n in ("x1", "x2", "x3")] == pytest.approx(exact, abs=0.03)
    assert sum(ix["shapley"] for ix in effects.values()) == pytest.approx(1.0, abs=1e-9)
    for ix in effects.values():
        low, high = ix["shapley_ci"]
        assert low < ix["shapley"] < high
    # full first-order: Var E[Y | X_i] / Var Y, a correlated partner moving along
    first = {"x1": 1 / variance, "x2": (1 + 2 * r) ** 2 / variance,
             "x3": (2 + r) ** 2 / variance}
    assert {n: ix["first_order"] for n, ix in effects.items()} == pytest.approx(first, abs=0.03)


def test_a_lognormal_product_with_a_correlated_pair_is_exact_on_the_log_scale():
    sigmas = {"a": 0.8, "b": 0.5, "c": 0.3}
    specs = {n: {"dist": "lognormal", "median": 1.0, "sigma": s, "source": "test"}
             for n, s in sigmas.items()}
    model = Model(lambda x: {"y": x["a"] * x["b"] ** 2 / x["c"]}, {"y": ""})
    priors = priors_from_dict(specs, model=model, correlations={"a,b": -0.4})
    r = _pearson(-0.4)
    beta = np.array([1.0, 2.0, -1.0])
    s = np.array(list(sigmas.values()))
    cov = np.diag(s**2)
    cov[0, 1] = cov[1, 0] = r * s[0] * s[1]
    exact = linear_gaussian_shapley(beta, cov)
    result = shapley_effects(priors, seed=0)
    assert result["method"].startswith("exact")
    assert [result["outputs"]["y"][n]["shapley"] for n in sigmas] == pytest.approx(exact)
    sampled = shapley_effects(priors, seed=0, method="permutation", permutations=3000)
    for name, value in zip(sigmas, exact, strict=True):
        ix = sampled["outputs"]["y"][name]
        half = (ix["shapley_ci"][1] - ix["shapley_ci"][0]) / 2
        assert abs(ix["shapley"] - value) < 2 * half < 0.07  # within two stated half-widths


def test_a_correlated_group_the_output_does_not_read_gets_exactly_zero():
    """Y = x1 + x2 (a correlated pair); x3 ~ x4 is another correlated pair and x5 stands alone,
    none of them read. The groups that correlations link are independent of each other, so
    x3, x4 and x5 have Shapley effects of exactly 0 (dummies), not noise around it, and x1
    and x2 keep the two-input closed form (a dummy takes no other player's share)."""
    specs = {f"x{i}": {"dist": "normal", "mean": 0.0, "sd": sd, "source": "test"}
             for i, sd in enumerate((1.0, 2.0, 1.0, 1.0, 1.0), start=1)}
    model = Model(lambda a: {"y": a["x1"] + a["x2"]}, {"y": ""}, name="pair",
                  inputs=list(specs))
    priors = priors_from_dict(specs, model=model, correlations={"x1,x2": 0.4, "x3,x4": 0.8})
    effects = shapley_effects(priors, scale="linear", seed=3, permutations=3000)["outputs"]["y"]
    for name in ("x3", "x4", "x5"):
        assert effects[name]["shapley"] == effects[name]["first_order"] == 0.0
        assert effects[name]["shapley_ci"] == [0.0, 0.0]
    exact = _two_inputs(1.0, 2.0, _pearson(0.4))
    assert [effects[n]["shapley"] for n in ("x1", "x2")] == pytest.approx(exact, abs=0.03)


def test_an_outputs_effects_do_not_depend_on_which_others_are_asked_for():
    """The same seed gives an output the same effects alone or beside others (here outputs
    reading different assumptions, estimated in separate runs)."""
    specs = {f"x{i}": {"dist": "lognormal", "median": 1.0, "sigma": 0.5, "source": "test"}
             for i in range(1, 6)}
    model = Model(lambda a: {"y": a["x1"] + a["x2"], "z": a["x3"] * (1 + a["x4"]) + a["x5"]},
                  {"y": "", "z": ""}, name="two")
    priors = priors_from_dict(specs, model=model, correlations={"x1,x2": 0.5, "x3,x4": -0.3})
    alone = shapley_effects(priors, outputs=["z"], seed=4, permutations=200)
    beside = shapley_effects(priors, outputs=["y", "z"], seed=4, permutations=200)
    assert beside["outputs"]["z"] == alone["outputs"]["z"]


def test_independent_inputs_give_shapley_first_order_and_total_alike():
    priors = priors_from_dict({f"x{i + 1}": {"dist": "normal", "mean": 0.0, "sd": sd,
                                             "source": "test"}
                               for i, sd in enumerate((1.0, 2.0, 3.0))}, model=SUM)
    effects = shapley_effects(priors, scale="linear", seed=2, permutations=3000)["outputs"]["y"]
    exact = np.array([1.0, 4.0, 9.0]) / 14.0
    for key in ("shapley", "first_order", "total"):
        assert [effects[f"x{i + 1}"][key] for i in range(3)] == pytest.approx(exact, abs=0.03)


def test_cli_shapley_on_the_evidence_based_priors():
    result = run_cli("shapley", "--priors", str(INFORMED), "--output", "fleet_gpus",
                     "--permutations", "300", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["scale"] == "log" and set(doc["outputs"]) == {"fleet_gpus"}
    fleet = doc["outputs"]["fleet_gpus"]
    assert set(fleet["tiktok_ai_share"]) >= {"shapley", "shapley_ci", "first_order", "total"}
    # checked independently: about 0.25 under the correlated prior, not the 0.12 of the
    # independent-input indices
    assert fleet["tiktok_ai_share"]["first_order"] == pytest.approx(0.25, abs=0.04)
    assert fleet["tiktok_ai_share"]["first_order"] > fleet["tiktok_ai_share"]["total"]


def test_sobol_refuses_correlated_priors_unless_told_they_are_independent():
    refused = run_cli("sobol", "--priors", str(INFORMED), "--output", "fleet_gpus", "--n", "64")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "tiktok_ai_share ~ youtube_ai_share" in refused.stderr
    assert "sora-uq shapley" in refused.stderr
    told = run_cli("sobol", "--priors", str(INFORMED), "--output", "fleet_gpus", "--n", "64",
                   "--independent", "--json")
    assert told.returncode == 0 and "as if the assumptions were independent" in \
        json.loads(told.stdout)["note"]


def test_shapley_needs_two_uncertain_assumptions(tmp_path):
    path = tmp_path / "one.toml"
    path.write_text('[meta]\nmodel = "m.py:MODEL"\n[assumptions.x]\ndist = "lognormal"\n'
                    'median = 1.0\nsigma = 0.5\nsource = "test"\n')
    write_identity_model(tmp_path)
    result = run_cli("shapley", "--priors", str(path))
    assert result.returncode == 2 and "two or more" in result.stderr
