"""One compiled program per prior structure: family parameters travel as traced data."""

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from uncertainty import Model, priors_from_dict
from uncertainty.families import FAMILIES, Family, build
from uncertainty.sampling import _chunk, draw_chunk, plan_of, priors_plan
from uncertainty.sensitivity.tornado import _tornado_cases, tornado


def _model():
    return Model(lambda a: {"total": a["x"] * a["y"] + a["z"]}, outputs={"total": "units"},
                 name="plan-test")


MODEL = _model()


def _priors(x_ci, y_mode, z_value, rho=0.3):
    return priors_from_dict({
        "x": {"dist": "lognormal", "ci": x_ci, "source": "test"},
        "y": {"dist": "pert", "low": 1.0, "mode": y_mode, "high": 9.0, "source": "test"},
        "z": {"dist": "fixed", "value": z_value, "source": "test"},
    }, correlations={"x,y": rho} if rho else None, model=MODEL)


def test_prior_sets_of_one_structure_share_one_plan_and_one_compilation():
    first, second = _priors([1.0, 4.0], 2.0, 0.5), _priors([3.0, 30.0], 7.5, 4.0, rho=-0.6)
    assert priors_plan(first)[0] == priors_plan(second)[0]
    key = jax.random.key(0)
    draw_chunk(first, key, 0, 1024, MODEL)
    compiled = _chunk._cache_size()
    again = draw_chunk(second, key, 0, 1024, MODEL)
    assert _chunk._cache_size() == compiled  # new numbers, no new program
    # ...and the numbers are the second set's own: its fixed value, its interval
    assert np.all(np.asarray(again["z"]) == 4.0)
    x = np.asarray(again["x"])
    assert 2.7 < np.quantile(x, 0.05) < 3.3 and 27 < np.quantile(x, 0.95) < 33


@pytest.mark.parametrize("spec", [
    {"dist": "lognormal", "median": 3.0, "sigma": 0.7},
    {"dist": "normal", "mean": -2.0, "sd": 3.0},
    {"dist": "beta", "alpha": 2.0, "beta": 5.0},
    {"dist": "uniform", "low": 2.0, "high": 5.0},
    {"dist": "loguniform", "low": 0.1, "high": 100.0},
    {"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 6.0},
    {"dist": "pert", "low": 1.0, "mode": 2.0, "high": 6.0},
    {"dist": "discrete", "values": [1.0, 2.0, 4.0], "weights": [1.0, 2.0, 1.0]},
    {"dist": "metalog", "quantiles": [[0.1, 2.0], [0.5, 5.0], [0.9, 12.0]], "lower": 0.0},
    {"dist": "metalog", "quantiles": [[0.1, 0.2], [0.5, 0.5], [0.9, 0.7]], "lower": 0.0,
     "upper": 1.0},
    {"dist": "mixture", "components": [{"dist": "lognormal", "median": 1.0, "sigma": 0.5},
                                       {"dist": "lognormal", "median": 4.0, "sigma": 0.5}]},
])
def test_the_plan_under_jit_gives_the_familys_quantiles(spec):
    dist = build(spec, where="x")
    fn, params = dist.icdf_plan()
    u = jnp.linspace(0.001, 0.999, 257, dtype=jnp.float32)
    traced = jax.jit(lambda u, params: fn(u, *params))(u, params)
    # against the family's host CDF (float64): the quantile lands where it should
    probs = dist.cdf(np.asarray(traced, np.float64))
    if dist.discrete:
        assert np.all(probs >= np.asarray(u) - 1e-6)
    else:
        np.testing.assert_allclose(probs, np.asarray(u), atol=2e-5)


@dataclass(frozen=True)
class Doubling(Family):
    """A family written the short way, with ``icdf`` alone (no plan)."""

    name: ClassVar[str] = "doubling-test"
    scale: float

    def icdf(self, u):
        return 2.0 * self.scale * jnp.asarray(u, jnp.float32)

    def log_prob(self, x):
        return jnp.zeros_like(x)

    @property
    def support(self):
        return (0.0, 2.0 * self.scale)


def test_a_family_with_only_icdf_still_draws(monkeypatch):
    monkeypatch.setitem(FAMILIES, Doubling.name, Doubling)
    plan, params = plan_of((("x", Doubling(3.0)),))
    assert plan == plan_of((("x", Doubling(3.0)),))[0] and params.icdf == ((),)
    priors = priors_from_dict({"x": {"dist": "doubling-test", "scale": 3.0, "source": "test"},
                               "y": {"dist": "fixed", "value": 1.0, "source": "test"},
                               "z": {"dist": "fixed", "value": 0.0, "source": "test"}},
                              model=MODEL)
    x = np.asarray(draw_chunk(priors, jax.random.key(1), 0, 4096, MODEL)["x"])
    assert 0 < x.min() and x.max() < 6 and abs(x.mean() - 3.0) < 0.1


def test_tornado_compiles_once_for_new_fixed_values():
    tornado(_priors([1.0, 4.0], 2.0, 0.5, rho=0.0), model=MODEL)
    compiled = _tornado_cases._cache_size()
    result = tornado(_priors([1.0, 4.0], 2.0, 9.0, rho=0.0), model=MODEL)
    assert _tornado_cases._cache_size() == compiled
    y_median = 1.0 + 8.0 * stats.beta.ppf(0.5, 1.5, 4.5)  # PERT(1, 2, 9): Beta(1.5, 4.5)
    expected = 2.0 * y_median + 9.0  # x's median is sqrt(1 * 4)
    assert result["outputs"]["total"]["base"] == pytest.approx(expected, rel=1e-4)
