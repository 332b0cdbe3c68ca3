"""Sensitivity: Sobol indices against closed forms, tornado swings, the pin-down ranking, the
CLI."""

import json
import math

import jax.numpy as jnp
import pytest
from conftest import run_cli
from scipy import stats

from uncertainty import priors_from_dict
from uncertainty.sensitivity import (
    pin_down_next,
    sobol_document,
    sobol_indices,
    top_driver_check,
    tornado,
)
from uncertainty.sora import MODEL
from uncertainty.sora.model import ARTICLE_POINT, ASSUMPTIONS, HEADLINE, compute_outputs

Z95 = stats.norm.ppf(0.95)


def _check_interval(ix):
    for key in ("S1", "ST"):
        lo, hi = ix[f"{key}_ci"]
        assert lo <= ix[key] <= hi


# --- Ishigami: a=7, b=0.1, inputs uniform on [-pi, pi] -----------------------------------------

def ishigami_closed_form(a, b):
    """Partial variances of y = sin x1 + a sin^2 x2 + b x3^4 sin x1 (Ishigami & Homma 1990).

    E[sin^2] = 1/2, Var[sin^2 x] = 1/8, E[x^4] = pi^4/5, E[x^8] = pi^8/9 for x ~ U(-pi, pi).
    """
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 0.5 * b**2 * (math.pi**8 / 9 - math.pi**8 / 25)  # Var[x3^4] E[sin^2 x1]
    total = v1 + v2 + v13
    return {"x1": (v1 / total, (v1 + v13) / total), "x2": (v2 / total, v2 / total),
            "x3": (0.0, v13 / total)}


@pytest.fixture(scope="module")
def ishigami():
    spec = {"dist": "uniform", "low": -math.pi, "high": math.pi, "source": "test function"}
    priors = priors_from_dict({"x1": spec, "x2": spec, "x3": spec})
    a, b = 7.0, 0.1

    def fn(x):
        return {"y": _ishigami(x, a, b)}

    return sobol_indices(fn, priors, n_base=2**14, seed=0, scale="linear"), (a, b)


def _ishigami(x, a, b):
    import jax.numpy as jnp

    return (jnp.sin(x["x1"]) + a * jnp.sin(x["x2"]) ** 2
            + b * x["x3"] ** 4 * jnp.sin(x["x1"]))


def test_ishigami_matches_closed_form(ishigami):
    result, (a, b) = ishigami
    exact = ishigami_closed_form(a, b)
    assert set(result) == {"y"} and set(result["y"]) == {"x1", "x2", "x3"}
    for name, (s1, st) in exact.items():
        assert result["y"][name]["S1"] == pytest.approx(s1, abs=0.01), name
        assert result["y"][name]["ST"] == pytest.approx(st, abs=0.01), name
        _check_interval(result["y"][name])
        assert result["y"][name]["ST_ci"][1] - result["y"][name]["ST_ci"][0] < 0.05


# --- linear model with independent normal inputs ---------------------------------------------

LINEAR = {"x1": (1.0, 2.0, 1.0), "x2": (-3.0, 0.5, 4.0), "x3": (0.5, 10.0, 0.3)}  # mean, sd, a_i


def _linear_priors():
    return priors_from_dict({k: {"dist": "normal", "mean": m, "sd": s, "source": "test"}
                             for k, (m, s, _) in LINEAR.items()})


def _linear(x):
    return {"y": sum(a * x[k] for k, (_, _, a) in LINEAR.items())}


@pytest.mark.parametrize("sampler,tolerance", [("sobol", 0.01), ("random", 0.03)])
def test_linear_normal_model_matches_closed_form(sampler, tolerance):
    result = sobol_indices(_linear, _linear_priors(), n_base=2**13, seed=1, scale="linear",
                           sampler=sampler)
    total = sum((a * s) ** 2 for _, s, a in LINEAR.values())
    for name, (_, s, a) in LINEAR.items():
        exact = (a * s) ** 2 / total
        assert result["y"][name]["S1"] == pytest.approx(exact, abs=tolerance)
        assert result["y"][name]["ST"] == pytest.approx(exact, abs=tolerance)
        _check_interval(result["y"][name])


def test_same_seed_same_numbers_and_seed_matters():
    first = sobol_indices(_linear, _linear_priors(), n_base=2**8, seed=3, scale="linear")
    again = sobol_indices(_linear, _linear_priors(), n_base=2**8, seed=3, scale="linear")
    other = sobol_indices(_linear, _linear_priors(), n_base=2**8, seed=4, scale="linear")
    assert first == again
    assert first != other


# --- the Sora model with only lognormal assumptions on a pure product ------------------------

SIGMAS = {"dit_training_flops": 0.15, "sora_params": 0.8, "dit_params": 0.05,
          "dataset_multiplier": 0.35, "clip_seconds": 0.25, "temporal_compression": 0.3,
          "gpu_peak_flops": 0.1, "dit_step_flops": 0.2, "diffusion_steps": 0.55}
# Pure products when video_fraction = 1 (each input a single factor, power +1 or -1):
PRODUCTS = {
    "training_gpu_months": ("dit_training_flops", "sora_params", "dit_params",
                            "dataset_multiplier", "clip_seconds", "temporal_compression",
                            "gpu_peak_flops"),
    "breakeven_video_minutes": ("dit_training_flops", "dataset_multiplier", "clip_seconds",
                                "dit_step_flops", "diffusion_steps"),
}


@pytest.fixture(scope="module")
def lognormal_priors():
    specs = {}
    for name in ASSUMPTIONS:
        if name in SIGMAS:
            specs[name] = {"dist": "lognormal", "median": ARTICLE_POINT[name],
                           "sigma": SIGMAS[name], "source": "test"}
        else:
            value = 1.0 if name == "video_fraction" else ARTICLE_POINT[name]
            specs[name] = {"dist": "fixed", "value": value, "source": "test"}
    return priors_from_dict(specs, model=MODEL)


@pytest.fixture(scope="module")
def lognormal_sobol(lognormal_priors):
    return sobol_document(lognormal_priors, n_base=2**13, seed=0, outputs=list(PRODUCTS))


@pytest.mark.parametrize("output", sorted(PRODUCTS))
def test_pure_product_log_indices_are_variance_shares(lognormal_sobol, output):
    factors = PRODUCTS[output]
    total = sum(SIGMAS[f] ** 2 for f in factors)
    indices = lognormal_sobol["outputs"][output]
    assert set(indices) == set(SIGMAS)  # fixed assumptions get no index
    for name in SIGMAS:
        exact = SIGMAS[name] ** 2 / total if name in factors else 0.0
        assert indices[name]["S1"] == pytest.approx(exact, abs=0.01), name
        assert indices[name]["ST"] == pytest.approx(exact, abs=0.01), name


@pytest.mark.parametrize("output", sorted(PRODUCTS))
def test_pure_product_tornado_swings_are_exact(lognormal_priors, output):
    result = tornado(lognormal_priors, outputs=[output])
    entry = result["outputs"][output]
    assert entry["low_quantile"] == 0.05 and entry["high_quantile"] == 0.95
    assert "correlation" in result["note"]
    swings = {bar["assumption"]: bar["swing_log10"] for bar in entry["bars"]}
    assert set(swings) == set(SIGMAS)
    for name in PRODUCTS[output]:
        assert swings[name] == pytest.approx(2 * Z95 * SIGMAS[name] / math.log(10), rel=1e-4)
    ordered = [bar["swing_log10"] for bar in entry["bars"]]
    assert ordered == sorted(ordered, reverse=True)
    base = compute_outputs({k: p.dist.quantile(0.5) for k, p in lognormal_priors.items()})[output]
    assert entry["base"] == pytest.approx(float(base), rel=1e-5)


def test_pin_down_ranks_by_first_order_index(lognormal_sobol):
    rows = pin_down_next(lognormal_sobol, "training_gpu_months", "training GPU-months")
    assert [r["rank"] for r in rows] == list(range(1, len(SIGMAS) + 1))
    assert [r["S1"] for r in rows] == sorted((r["S1"] for r in rows), reverse=True)
    factors = sorted(PRODUCTS["training_gpu_months"], key=lambda f: -SIGMAS[f])
    assert [r["assumption"] for r in rows[:3]] == factors[:3]
    assert ("sora_params" in rows[0]["sentence"]
            and "log(training GPU-months)" in rows[0]["sentence"])
    assert "almost none" in rows[-1]["sentence"]


# --- default priors: tornado vs Sobol total index ---------------------------------------------

@pytest.fixture(scope="module")
def default_sensitivity(article_priors):
    return (tornado(article_priors, outputs=HEADLINE),
            sobol_document(article_priors, n_base=2**12, seed=0, outputs=HEADLINE))


def test_default_priors_top_driver_agrees_or_is_explained(default_sensitivity):
    swings, indices = default_sensitivity
    for output in HEADLINE:
        check = top_driver_check(swings, indices, output)
        by_total = max(indices["outputs"][output].items(), key=lambda item: item[1]["ST"])[0]
        assert check["tornado_top"] == swings["outputs"][output]["bars"][0]["assumption"]
        assert check["sobol_top"] == by_total
        if check["agree"]:
            assert check["tornado_top"] == check["sobol_top"]
        else:
            assert check["tornado_top"] in check["explanation"]
            assert check["sobol_top"] in check["explanation"]


def test_disagreement_is_explained():
    """A rare large value beyond the 95% quantile: invisible to the tornado, not to Sobol."""
    priors = priors_from_dict({
        "rare_jump": {"dist": "discrete", "values": [1.0, 1000.0], "weights": [0.96, 0.04],
                      "source": "test"},
        "steady": {"dist": "lognormal", "median": 1.0, "sigma": 0.5, "source": "test"}})

    def model(x):
        return {"y": x["rare_jump"] * x["steady"]}

    swings = tornado(priors, model=model)
    indices = sobol_document(priors, n_base=2**12, model=model)
    check = top_driver_check(swings, indices, "y")
    assert swings["outputs"]["y"]["bars"][0]["assumption"] == "steady"
    assert not check["agree"] and check["sobol_top"] == "rare_jump"
    assert "rare_jump" in check["explanation"] and "tails" in check["explanation"]


# --- scales, bad arguments --------------------------------------------------------------------

def test_linear_scale_survives_outputs_near_1e25(article_priors):
    result = sobol_indices(compute_outputs, article_priors, n_base=2**10, scale="linear",
                           n_bootstrap=50, outputs=["training_flops"])
    values = [v for ix in result["training_flops"].values() for v in (ix["S1"], ix["ST"])]
    assert all(math.isfinite(v) for v in values)
    assert max(ix["ST"] for ix in result["training_flops"].values()) > 0.3


def test_bad_arguments_raise():
    priors = _linear_priors()
    with pytest.raises(ValueError, match="power of 2"):
        sobol_indices(_linear, priors, n_base=1000)
    with pytest.raises(ValueError, match="scale"):
        sobol_indices(_linear, priors, n_base=64, scale="cubic")
    with pytest.raises(ValueError, match="output 'y' must be > 0"):
        sobol_indices(_linear, priors, n_base=64, scale="log")
    with pytest.raises(ValueError, match="low < high"):
        tornado(priors, low=0.9, high=0.1, model=_linear)


def test_an_output_that_is_not_finite_is_refused_with_its_cause():
    # exp(x) overflows float32 above x = 88.72: x's 95% quantile, 99.7, goes past it; the
    # median, 1, does not. log(x) is NaN for x < 0, as at its 5% quantile.
    from uncertainty import Model, PriorError

    priors = priors_from_dict({
        "x": {"dist": "normal", "mean": 1.0, "sd": 60.0, "source": "test"},
        "w": {"dist": "lognormal", "median": 1.0, "sigma": 0.5, "source": "test"}})
    overflowing = Model(lambda a: {"y": jnp.exp(a["x"]) * a["w"]}, {"y": ""})
    undefined = Model(lambda a: {"y": jnp.log(a["x"]) + a["w"]}, {"y": ""})
    with pytest.raises(PriorError, match=r"^priors: output 'y' is inf with 'x' at its 95% "
                                         r"quantile \(99\.7\): the model computes in 32-bit"):
        tornado(priors, model=overflowing)
    with pytest.raises(PriorError, match=r"output 'y' is nan with 'x' at its 5% quantile "
                                         r"\(-97\.7\): the model is undefined there"):
        tornado(priors, model=undefined)
    # Sobol: no scale would help, so the message says what would, on either scale.
    for scale in ("log", "linear"):
        with pytest.raises(PriorError, match="output 'y' is inf at some design points: the "
                                             "model computes in 32-bit floats"):
            sobol_indices(overflowing, priors, n_base=64, scale=scale)
    with pytest.raises(PriorError, match="output 'y' is NaN at some design points: the model "
                                         "is undefined there"):
        sobol_indices(undefined, priors, n_base=64, scale="linear")


# --- CLI --------------------------------------------------------------------------------------

def test_cli_tornado_writes_figures_and_json(tmp_path):
    out = tmp_path / "tornado"
    result = run_cli("tornado", "--output", "fleet_gpus", "--low", "0.1", "--high", "0.9",
                     "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert {p.name for p in out.iterdir()} == {"fleet_gpus.svg", "tornado.json",
                                              "manifest.json"}
    doc = json.loads((out / "tornado.json").read_text())
    assert json.loads(result.stdout) == doc
    entry = doc["outputs"]["fleet_gpus"]
    assert entry["low_quantile"] == 0.1 and entry["high_quantile"] == 0.9
    assert set(entry["bars"][0]) == {"assumption", "input_low", "input_high", "output_low",
                                     "output_high", "swing_log10", "swing"}
    svg = (out / "fleet_gpus.svg").read_text("utf-8")
    assert svg.startswith("<?xml") and "peak serving fleet (H100s), log scale" in svg


def test_cli_sobol_json(article_priors):
    result = run_cli("sobol", "--output", "training_gpu_months", "--n", "2^10", "--seed", "2",
                     "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["scale"] == "log" and doc["n_base"] == 1024 and doc["seed"] == 2
    indices = doc["outputs"]["training_gpu_months"]
    assert set(indices) == set(article_priors.uncertain)
    assert set(indices["sora_params"]) == {"S1", "S1_ci", "ST", "ST_ci"}
    table = run_cli("sobol", "--output", "fleet_gpus", "--n", "256", "--scale", "linear")
    assert table.returncode == 0 and "| sora_params |" in table.stdout


@pytest.mark.parametrize("args,fragment", [
    (("tornado", "--output", "fleet"), "unknown output 'fleet'"),
    (("tornado", "--low", "0.9", "--high", "0.5"), "--low 0.9 must be below --high 0.5"),
    (("tornado", "--low", "0"), "strictly between 0 and 1"),
    (("tornado", "--high", "1.2"), "strictly between 0 and 1"),
    (("tornado", "--priors", "no-such-priors"), "no such prior file"),
    (("sobol", "--n", "1000"), "power of 2"),
    (("sobol", "--n", "2^30"), "power of 2"),
    (("sobol", "--n", "lots"), "whole number"),
    (("sobol", "--output", "nope"), "unknown output 'nope'"),
    (("sobol", "--scale", "cubic"), "invalid choice"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, args, fragment):
    out = tmp_path / "never"
    extra = ("--out", str(out)) if args[0] == "tornado" else ()
    result = run_cli(*args, *extra)
    assert result.returncode == 2
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
