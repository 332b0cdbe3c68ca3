"""The metalog against its own definition and published values, sampled through the engine."""

import numpy as np
import pytest
from conftest import run_cli, write_identity_model
from scipy import stats

from uncertainty import Model, priors_from_dict, simulate
from uncertainty.errors import PriorError
from uncertainty.families import build
from uncertainty.families.metalog import build_metalog

CASES = {  # terms -> (probabilities, values)
    3: ([0.1, 0.5, 0.9], [4.0, 6.0, 10.0]),
    4: ([0.05, 0.3, 0.6, 0.95], [1.0, 3.0, 5.0, 11.0]),
    5: ([0.05, 0.25, 0.5, 0.75, 0.95], [1.0, 2.5, 4.0, 6.0, 11.0]),
}


@pytest.mark.parametrize("terms", sorted(CASES))
@pytest.mark.parametrize("bounds", [{}, {"lower": 0.0}, {"lower": 0.0, "upper": 20.0}])
def test_a_fit_gives_back_the_quantiles_it_was_given(terms, bounds):
    probs, values = CASES[terms]
    dist = build_metalog(list(zip(probs, values, strict=True)), **bounds)
    assert [dist.quantile(p) for p in probs] == pytest.approx(values, rel=1e-6)


def test_the_unbounded_three_term_fit_keeps_its_scale():
    # a fit that drops the a3 scale factor gives back (4.91, 5, 5.21) for these
    dist = build_metalog([[0.1, 2.0], [0.5, 5.0], [0.9, 12.0]])
    assert [dist.quantile(p) for p in (0.1, 0.5, 0.9)] == pytest.approx([2, 5, 12], rel=1e-6)


def test_the_bounded_fit_of_a_share_has_its_published_tails():
    dist = build_metalog([[0.1, 0.25], [0.5, 0.38], [0.9, 0.55]], lower=0.0, upper=1.0)
    assert dist.quantile(0.01) == pytest.approx(0.149, abs=1e-3)
    assert dist.quantile(0.99) == pytest.approx(0.726, abs=1e-3)
    assert dist.support == (0.0, 1.0) and dist.strictly_positive


@pytest.mark.parametrize("bounds", [{}, {"lower": 0.0}, {"lower": 0.0, "upper": 20.0}])
def test_cdf_and_density_are_the_quantile_functions_inverse_and_slope(bounds):
    dist = build_metalog([[0.1, 4.0], [0.5, 6.0], [0.9, 10.0]], **bounds)
    p = np.array([0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
    x = np.array([dist.quantile(q) for q in p], np.float64)
    assert dist.cdf(x) == pytest.approx(p, abs=2e-6)  # x is float32: ~1e-7 relative
    step = 1e-4 * np.abs(x)
    slope = (dist.cdf(x + step) - dist.cdf(x - step)) / (2 * step)
    assert np.exp(np.asarray(dist.log_prob(x), np.float64)) == pytest.approx(slope, rel=1e-4)


@pytest.mark.parametrize("bounds", [{}, {"lower": 0.0}, {"lower": 0.0, "upper": 1.0}])
def test_draws_through_the_engine_follow_the_quantile_function(bounds):
    values = [0.2, 0.3, 0.5] if "upper" in bounds else [4.0, 6.0, 10.0]
    spec = {"dist": "metalog", "quantiles": [[0.1, values[0]], [0.5, values[1]],
                                             [0.9, values[2]]], "source": "test", **bounds}
    priors = priors_from_dict({"x": spec}, model=Model(lambda a: {"y": a["x"]}, {"y": ""}))
    draws = simulate(priors, n=20_000, seed=1)["prior"]["x"].values.ravel()
    assert stats.kstest(draws, priors["x"].dist.cdf).pvalue > 1e-3


@pytest.mark.parametrize("spec, message", [
    ({"quantiles": [[0.1, 4.0], [0.9, 10.0]]}, "at least 3"),
    ({"quantiles": [[0.0, 4.0], [0.5, 6.0], [0.9, 10.0]]}, "strictly between 0 and 1"),
    ({"quantiles": [[0.5, 4.0], [0.1, 6.0], [0.9, 10.0]]}, "probabilities must increase"),
    ({"quantiles": [[0.1, 6.0], [0.5, 4.0], [0.9, 10.0]]}, "values must increase"),
    ({"quantiles": [[0.1, 4.0], [0.5, 6.0], [0.9, 10.0]], "lower": 5.0}, "above lower"),
    ({"quantiles": [[0.1, 0.4], [0.5, 0.6], [0.9, 1.2]], "lower": 0.0, "upper": 1.0},
     "below upper"),
    ({"quantiles": [[0.1, 4.0], [0.5, 6.0], [0.9, 10.0]], "upper": 20.0}, "goes with 'lower'"),
    ({"quantiles": [[0.1, 1.0], [0.5, 9.9], [0.9, 10.0]]}, "no valid metalog"),
    ({"quantiles": [[0.1, 4.0], [0.5, 6.0], [0.9, 10.0]], "terms": 5}, "'terms' must be"),
    ({"quantiles": [[0.1, "4"], [0.5, 6.0], [0.9, 10.0]]}, "must be a number"),
    ({"quantiles": [0.1, 0.5, 0.9]}, "[probability, value] pairs"),
])
def test_bad_quantiles_are_refused_naming_the_rule(spec, message):
    with pytest.raises(PriorError, match="^x: .*" + message.replace("[", r"\[")):
        build({"dist": "metalog", **spec}, "x")


def test_an_infeasible_metalog_in_a_prior_file_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[meta]\nmodel = "m.py:MODEL"\n[assumptions.x]\ndist = "metalog"\n'
                    'quantiles = [[0.1, 1.0], [0.5, 9.9], [0.9, 10.0]]\nsource = "test"\n')
    write_identity_model(tmp_path)
    result = run_cli("priors", "validate", str(path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "bad.toml: x: these quantiles give no valid metalog" in result.stderr
    assert "move the middle value" in result.stderr


@pytest.mark.parametrize(("lower", "upper"), [(None, None), (0.0, None), (0.0, 1.0)])
def test_metalog_ppf_gives_back_its_quantiles_and_inverts_its_cdf(lower, upper):
    pairs = [[0.05, 0.32], [0.5, 0.40], [0.9, 0.48], [0.99, 0.66]]
    dist = build_metalog(pairs, lower=lower, upper=upper)
    p, value = np.array(pairs).T
    np.testing.assert_allclose(dist.ppf(p), value, rtol=1e-9)
    q = np.array([0.01, 0.2, 0.7, 0.995])
    np.testing.assert_allclose(dist.cdf(dist.ppf(q)), q, rtol=1e-9)
