"""Rank correlations through a Gaussian copula: marginals kept, target correlations hit."""

import jax
import numpy as np
import pytest
from conftest import run_cli, write_priors
from scipy import stats

from uncertainty import load_priors, priors_from_dict
from uncertainty.copula import build_copula, spearman_to_pearson
from uncertainty.errors import PriorError
from uncertainty.sampling import draw_chunk

N = 30_000  # the SE of a Spearman rho is <= 1/sqrt(N) = 0.006: a 0.02 tolerance is > 3 SE
SPECS = {
    "size": {"dist": "lognormal", "median": 20e9, "sigma": 0.8, "source": "test"},
    "share": {"dist": "beta", "alpha": 2.0, "beta": 5.0, "source": "test"},
    "steps": {"dist": "pert", "low": 10.0, "mode": 50.0, "high": 250.0, "source": "test"},
    "free": {"dist": "uniform", "low": 0.0, "high": 1.0, "source": "test"},
    "fixed": {"dist": "fixed", "value": 3.0, "source": "test"},
}
TARGET = {"size,share": 0.6, "share,steps": -0.4, "size,steps": 0.2}


@pytest.fixture(scope="module")
def draws():
    priors = priors_from_dict(SPECS, correlations=TARGET)
    chunk = draw_chunk(priors, jax.random.key(11), 0, N, model=_no_outputs)
    return {name: np.asarray(chunk[name], np.float64) for name in SPECS}


def _no_outputs(a):
    return {}


def test_spearman_to_pearson_closed_form():
    assert spearman_to_pearson(1.0) == pytest.approx(1.0)
    assert spearman_to_pearson(0.5) == pytest.approx(2 * np.sin(np.pi / 12))
    assert spearman_to_pearson(-0.3) == pytest.approx(-spearman_to_pearson(0.3))


def test_marginals_are_kept(draws):
    exact = {
        "size": stats.lognorm(0.8, scale=20e9).cdf,
        "share": stats.beta(2.0, 5.0).cdf,
        "steps": stats.beta(1 + 4 * 40 / 240, 1 + 4 * 200 / 240, loc=10, scale=240).cdf,
        "free": stats.uniform(0, 1).cdf,
    }
    for name, cdf in exact.items():
        assert stats.kstest(draws[name], cdf).pvalue > 0.001, name


def test_rank_correlations_hit_their_targets(draws):
    for key, rho in TARGET.items():
        a, b = key.split(",")
        assert abs(stats.spearmanr(draws[a], draws[b]).statistic - rho) < 0.02, key
    assert abs(stats.spearmanr(draws["size"], draws["free"]).statistic) < 0.02


def test_uncorrelated_assumptions_draw_the_same_numbers():
    # Cheap families at the fixture's size, so the samplers compiled there serve here too.
    specs = {"size": SPECS["size"], "free": SPECS["free"], "other": SPECS["size"]}
    key = jax.random.key(4)
    plain = draw_chunk(priors_from_dict(specs), key, 0, N, model=_no_outputs)
    correlated = draw_chunk(priors_from_dict(specs, correlations={"size,other": 0.5}), key, 0,
                            N, model=_no_outputs)
    np.testing.assert_array_equal(plain["free"], correlated["free"])
    assert not np.array_equal(plain["size"], correlated["size"])


@pytest.mark.parametrize("table, match", [
    ({"size,share": 1.5}, r"must lie in \[-1, 1\]"),
    ({"size,nope": 0.5}, "unknown assumption 'nope'"),
    ({"size,fixed": 0.5}, "'fixed' is fixed"),
    ({"size,size": 0.5}, "with itself"),
    ({"size": 0.5}, "must name two assumptions"),
    ({"size,share": 0.5, "share,size": 0.4}, "given twice"),
    ({"size,share": "high"}, "must be a number"),
    ({"size,share": 0.9, "share,steps": 0.9, "size,steps": -0.9}, "not positive definite"),
    ({"size,share": 1.0}, "not positive definite"),
])
def test_bad_correlations_are_one_line_errors(table, match):
    with pytest.raises(PriorError, match=match) as info:
        priors_from_dict(SPECS, correlations=table)
    assert "\n" not in str(info.value) and "[correlations]" in str(info.value)


def test_copula_orders_names_by_the_priors():
    copula = build_copula(("a", "b", "c"), {("c", "a"): 0.5}, where="t")
    assert copula.names == ("a", "c")
    assert copula.cholesky[1][0] == pytest.approx(spearman_to_pearson(0.5))


def test_correlations_in_a_prior_file(tmp_path):
    extra = '\n[correlations]\n"sora_params,dataset_multiplier" = 0.5\n'
    priors = load_priors(write_priors(tmp_path / "c.toml", extra=extra))
    assert priors.correlations == {("sora_params", "dataset_multiplier"): 0.5}
    bad = write_priors(tmp_path / "bad.toml", extra='\n[correlations]\n"sora_params,fps" = 0.5\n')
    result = run_cli("priors", "validate", str(bad))
    assert result.returncode == 2 and "'fps' is fixed" in result.stderr
    assert result.stderr.count("\n") == 1
