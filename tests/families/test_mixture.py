"""A linear opinion pool against its closed-form CDF, sampled through the engine."""

import numpy as np
import pytest
from scipy import optimize, stats

from uncertainty import Model, priors_from_dict, simulate
from uncertainty.errors import PriorError
from uncertainty.families import build

TWO_EXPERTS = {"dist": "mixture", "components": [
    {"dist": "lognormal", "median": 2.0, "sigma": 0.4},
    {"dist": "lognormal", "median": 20.0, "sigma": 0.8}]}


def _pooled_cdf(x):
    return 0.5 * stats.lognorm(0.4, scale=2.0).cdf(x) + 0.5 * stats.lognorm(0.8, scale=20.0).cdf(x)


def test_an_even_pool_of_two_lognormals_has_the_median_that_solves_its_cdf():
    pool = build(TWO_EXPERTS, "x")
    median = optimize.brentq(lambda x: _pooled_cdf(x) - 0.5, 0.1, 1000.0, xtol=1e-12)
    assert pool.quantile(0.5) == pytest.approx(median, rel=1e-4)
    for p in (0.01, 0.1, 0.9, 0.99):
        exact = optimize.brentq(lambda x, p=p: _pooled_cdf(x) - p, 1e-3, 1e4, xtol=1e-12)
        assert pool.quantile(p) == pytest.approx(exact, rel=1e-4)


def test_weights_are_normalised_and_the_density_is_the_weighted_sum():
    spec = {"dist": "mixture", "components": [
        {"dist": "normal", "mean": 0.0, "sd": 1.0, "weight": 3},
        {"dist": "normal", "mean": 5.0, "sd": 2.0, "weight": 1}]}
    pool = build(spec, "x")
    assert pool.weights == pytest.approx((0.75, 0.25))
    x = np.array([-1.0, 0.5, 4.0, 9.0])
    exact = 0.75 * stats.norm(0, 1).pdf(x) + 0.25 * stats.norm(5, 2).pdf(x)
    assert np.exp(np.asarray(pool.log_prob(x))) == pytest.approx(exact, rel=1e-5)


def test_draws_through_the_engine_follow_the_pooled_cdf():
    priors = priors_from_dict({"x": {**TWO_EXPERTS, "source": "test"}},
                              model=Model(lambda a: {"y": a["x"]}, {"y": ""}))
    draws = simulate(priors, n=20_000, seed=2)["prior"]["x"].values.ravel()
    assert stats.kstest(draws, _pooled_cdf).pvalue > 1e-3
    assert priors["x"].dist.strictly_positive


def test_a_pool_may_mix_families_a_metalog_among_them():
    spec = {"dist": "mixture", "components": [
        {"dist": "pert", "low": 1.0, "mode": 2.0, "high": 6.0, "weight": 2},
        {"dist": "metalog", "quantiles": [[0.1, 3.0], [0.5, 5.0], [0.9, 9.0]], "lower": 0.0}]}
    pool = build(spec, "x")
    u = np.linspace(0.001, 0.999, 999)
    x = np.asarray(pool.icdf(u), np.float64)
    assert np.all(np.diff(x) >= 0) and np.max(np.abs(pool.cdf(x) - u)) < 1e-5
    assert pool.density_by_inversion  # through its metalog


@pytest.mark.parametrize("components, message", [
    ([{"dist": "lognormal", "median": 1.0, "sigma": 0.5}], "two or more"),
    ([{"dist": "lognormal", "median": 1.0, "sigma": 0.5, "weight": -1},
      {"dist": "lognormal", "median": 2.0, "sigma": 0.5}],
     r"components\[0\]: 'weight' must be >= 0"),
    ([{"dist": "lognormal", "median": 1.0, "sigma": 0.5, "weight": 0},
      {"dist": "lognormal", "median": 2.0, "sigma": 0.5, "weight": 0}], "must not all be 0"),
    ([{"dist": "lognormal", "median": 1.0, "sigma": 0.5},
      {"dist": "lognorml", "median": 2.0, "sigma": 0.5}], r"components\[1\]: unknown family"),
    ([{"dist": "lognormal", "median": 1.0, "sigma": 0.5},
      {"dist": "lognormal", "median": 2.0, "sigma": -0.5}], r"components\[1\]: lognormal sigma"),
    ([{"dist": "lognormal", "median": 1.0, "sigma": 0.5},
      {"dist": "discrete", "values": [1.0], "weights": [1.0]}], "pools continuous families"),
])
def test_bad_pools_are_refused_naming_the_component(components, message):
    with pytest.raises(PriorError, match="^x: .*" + message):
        build({"dist": "mixture", "components": components}, "x")


def test_priors_show_and_the_report_name_the_components(tmp_path):
    from conftest import run_cli, write_identity_model

    from uncertainty.report.blocks import to_markdown
    from uncertainty.report.sections import assumptions

    write_identity_model(tmp_path)
    path = tmp_path / "pool.toml"
    path.write_text('[meta]\nmodel = "m.py:MODEL"\n[assumptions.x]\ndist = "mixture"\n'
                    'source = "two experts"\ncomponents = [\n'
                    '  { dist = "lognormal", median = 2.0, sigma = 0.4, weight = 1 },\n'
                    '  { dist = "pert", low = 5.0, mode = 20.0, high = 40.0, weight = 3 },\n]\n')
    shown = run_cli("priors", "show", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "mixture(0.25 x lognormal(median=2, sigma=0.4) + 0.75 x pert(" in shown.stdout
    pool = build({"dist": "mixture", "components": [
        {"dist": "lognormal", "median": 2.0, "sigma": 0.4, "weight": 1},
        {"dist": "pert", "low": 5.0, "mode": 20.0, "high": 40.0, "weight": 3}]}, "x")
    row = {"family": "mixture", "params": pool.params(), "median": pool.quantile(0.5),
           "q05": pool.quantile(0.05), "q95": pool.quantile(0.95), "unit": "", "source": "s"}
    page = to_markdown("t", [assumptions({"assumptions": {"x": row}}, ())])
    assert "mixture of 0.25 lognormal + 0.75 pert" in page


def test_a_pools_ppf_inverts_its_pooled_cdf():
    # Two equal experts, lognormals a factor 4 apart: the pool's median is their geometric mean.
    pool = build({"dist": "mixture", "components": [
        {"dist": "lognormal", "median": 1.0, "sigma": 0.5},
        {"dist": "lognormal", "median": 4.0, "sigma": 0.5}]}, "pool")
    assert pool.quantile(0.5) == pytest.approx(2.0, rel=1e-5)
    q = np.array([0.001, 0.05, 0.3, 0.95, 0.999])
    exact = [stats.norm.cdf(np.log(x), 0, 0.5) / 2 + stats.norm.cdf(np.log(x / 4), 0, 0.5) / 2
             for x in pool.ppf(q)]
    np.testing.assert_allclose(exact, q, rtol=1e-4)  # the table: 4097 knots in logit(q)

