"""The model for one draw: closed forms and a lognormal product with known quantiles."""

import math

import jax
import numpy as np
from conftest import ARTICLE
from scipy import stats

from uncertainty import load_priors, priors_from_dict, simulate
from uncertainty.sora import MODEL
from uncertainty.sora.model import (
    ARTICLE_POINT,
    ASSUMPTIONS,
    OUTPUTS,
    SECONDS_PER_MONTH,
    compute_outputs,
)


def test_model_at_the_article_point_inputs():
    out = compute_outputs(ARTICLE_POINT)
    ratio = 20e9 / 675e6
    flops = 1e21 * ratio * 4 * (0.5 * 180 + 0.5)
    assert math.isclose(out["training_flops"], flops, rel_tol=1e-12)
    assert math.isclose(out["training_gpu_months"], flops / (989.4e12 * SECONDS_PER_MONTH),
                        rel_tol=1e-12)
    per_minute = 524e9 * ratio * 180 * 250
    assert math.isclose(out["inference_flops_per_video_minute"], per_minute, rel_tol=1e-12)
    assert math.isclose(out["breakeven_video_minutes"], flops / per_minute, rel_tol=1e-12)
    minutes_per_hour = 989.4e12 * 0.5 * 3600 / per_minute
    assert math.isclose(out["video_minutes_per_gpu_hour"], minutes_per_hour, rel_tol=1e-12)
    assert math.isclose(out["fleet_gpus"], 14.95e6 * 2 * 2 / (minutes_per_hour * 24), rel_tol=1e-12)
    assert set(out) == set(OUTPUTS)


def test_model_is_jax_traceable_and_vmaps():
    batch = {k: np.full(5, v, np.float32) for k, v in ARTICLE_POINT.items()}
    out = jax.jit(jax.vmap(compute_outputs))(batch)
    np.testing.assert_allclose(np.asarray(out["fleet_gpus"]),
                               compute_outputs(ARTICLE_POINT)["fleet_gpus"], rtol=1e-5)


def _lognormal_product_priors(tmp_path):
    """Fix everything at the article's point, except three lognormal factors."""
    specs = {name: {"dist": "fixed", "value": float(v), "source": "test"}
             for name, v in ARTICLE_POINT.items()}
    specs["video_fraction"]["value"] = 1.0
    specs["sora_params"] = {"dist": "lognormal", "median": 20e9, "sigma": 0.6, "source": "test"}
    specs["dataset_multiplier"] = {"dist": "lognormal", "median": 6.0, "sigma": 0.4,
                                   "source": "test"}
    specs["diffusion_steps"] = {"dist": "lognormal", "median": 100.0, "sigma": 0.5,
                                "source": "test"}
    return priors_from_dict(specs, model=MODEL)


def test_lognormal_product_has_known_quantiles(tmp_path):
    priors = _lognormal_product_priors(tmp_path)
    n = 400_000
    tree = simulate(priors, n=n, seed=3)
    point = {**ARTICLE_POINT, "video_fraction": 1.0, "sora_params": 20e9, "dataset_multiplier": 6.0,
             "diffusion_steps": 100.0}
    at_medians = compute_outputs(point)
    cases = {  # output -> (median, log-sd) in closed form
        "training_gpu_months": (at_medians["training_gpu_months"], math.hypot(0.6, 0.4)),
        "breakeven_video_minutes": (at_medians["breakeven_video_minutes"], math.hypot(0.4, 0.5)),
        "fleet_gpus": (at_medians["fleet_gpus"], math.hypot(0.6, 0.5)),
    }
    qs = np.array([0.05, 0.5, 0.95])
    for name, (median, sigma) in cases.items():
        exact = stats.lognorm(sigma, scale=median).ppf(qs)
        draws = tree["prior"][name].values.ravel()
        mcse = np.sqrt(qs * (1 - qs) / n) / stats.lognorm(sigma, scale=median).pdf(exact)
        assert np.all(np.abs(np.quantile(draws, qs) - exact) < 4 * mcse), name


def test_every_canonical_assumption_is_in_the_article_priors():
    priors = load_priors(ARTICLE)
    assert list(priors) == list(ASSUMPTIONS)
