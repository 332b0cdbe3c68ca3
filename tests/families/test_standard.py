"""Each family: sampled quantiles match its own icdf and scipy's; ci elicitation round-trips."""

import jax
import numpy as np
import pytest
from conftest import run_python
from scipy import stats

from uncertainty.errors import PriorError
from uncertainty.families import FAMILIES, build

N = 200_000
QS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])

# spec -> the same distribution in scipy
CASES = {
    "lognormal": ({"dist": "lognormal", "median": 20.0, "sigma": 0.8},
                  stats.lognorm(0.8, scale=20.0)),
    "normal": ({"dist": "normal", "mean": 3.0, "sd": 2.0}, stats.norm(3.0, 2.0)),
    "beta": ({"dist": "beta", "alpha": 2.5, "beta": 6.0}, stats.beta(2.5, 6.0)),
    "beta_small_shape": ({"dist": "beta", "alpha": 0.6, "beta": 0.8}, stats.beta(0.6, 0.8)),
    "uniform": ({"dist": "uniform", "low": -1.0, "high": 4.0}, stats.uniform(-1.0, 5.0)),
    "loguniform": ({"dist": "loguniform", "low": 10.0, "high": 1000.0},
                   stats.loguniform(10.0, 1000.0)),
    "triangular": ({"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 5.0},
                   stats.triang(0.25, loc=1.0, scale=4.0)),
    "pert": ({"dist": "pert", "low": 1.0, "mode": 2.0, "high": 5.0},
             stats.beta(1 + 4 * 0.25, 1 + 4 * 0.75, loc=1.0, scale=4.0)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_sampled_quantiles_match_icdf_and_scipy(case):
    spec, reference = CASES[case]
    dist = build(spec, case)
    draws = np.asarray(dist.sample(jax.random.key(1), (N,)), dtype=np.float64)
    own = np.asarray(dist.icdf(QS), dtype=np.float64)
    np.testing.assert_allclose(own, reference.ppf(QS), rtol=2e-4, atol=1e-5)
    # Sampled quantiles agree with the exact ones within a few Monte Carlo standard errors.
    density = reference.pdf(reference.ppf(QS))
    mcse = np.sqrt(QS * (1 - QS) / N) / density
    assert np.all(np.abs(np.quantile(draws, QS) - own) < 5 * mcse + 1e-6)
    assert stats.kstest(draws, reference.cdf).pvalue > 1e-3


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_prob_matches_scipy(case):
    spec, reference = CASES[case]
    dist = build(spec, case)
    x = reference.ppf(np.array([0.1, 0.3, 0.5, 0.7, 0.9]))
    np.testing.assert_allclose(np.asarray(dist.log_prob(x.astype(np.float32))), reference.logpdf(x),
                               rtol=1e-3, atol=1e-3)


def test_discrete_frequencies_quantiles_and_log_prob():
    dist = build({"dist": "discrete", "values": [8, 4, 6], "weights": [5, 3.5, 1.5]}, "d")
    draws = np.asarray(dist.sample(jax.random.key(0), (N,)))
    freq = {v: np.mean(draws == v) for v in (4, 6, 8)}
    np.testing.assert_allclose([freq[4], freq[6], freq[8]], [0.35, 0.15, 0.5], atol=0.005)
    np.testing.assert_array_equal(np.asarray(dist.icdf(np.array([0.1, 0.4, 0.6]))), [4, 6, 8])
    np.testing.assert_allclose(np.asarray(dist.log_prob(np.array([4.0, 5.0]))),
                               [np.log(0.35), -np.inf])


def test_fixed_is_constant():
    dist = build({"dist": "fixed", "value": 24}, "fps")
    assert np.all(np.asarray(dist.sample(jax.random.key(0), (10,))) == 24)


@pytest.mark.parametrize("family", ["lognormal", "normal", "beta", "uniform", "loguniform"])
@pytest.mark.parametrize("level", [0.5, 0.8, 0.9, 0.99])
def test_ci_elicitation_round_trips(family, level):
    low, high = (0.2, 0.6) if family == "beta" else (3.0, 12.0)
    dist = build({"dist": family, "ci": [low, high], "level": level}, family)
    tail = (1 - level) / 2
    np.testing.assert_allclose([dist.quantile(tail), dist.quantile(1 - tail)], [low, high],
                               rtol=1e-4)


def test_every_family_is_in_the_registry():
    assert set(FAMILIES) == {"fixed", "lognormal", "normal", "beta", "uniform", "loguniform",
                             "triangular", "pert", "discrete", "metalog", "mixture"}


@pytest.mark.parametrize("spec, message", [
    ({"dist": "gamma", "ci": [1, 2]}, "unknown family"),
    ({"dist": "lognormal", "ci": [5, 2]}, "interval out of order"),
    ({"dist": "lognormal", "ci": [-1, 2]}, "positive bounds"),
    ({"dist": "lognormal", "median": 1}, "needs 'sigma'"),
    ({"dist": "lognormal", "median": 1, "sigma": 0}, "sigma must be > 0"),
    ({"dist": "lognormal", "ci": [1, 2], "median": 3}, "not both"),
    ({"dist": "uniform", "low": 2, "high": 1}, "interval out of order"),
    ({"dist": "triangular", "low": 1, "mode": 9, "high": 5}, "interval out of order"),
    ({"dist": "pert", "ci": [1, 2]}, "no two-parameter 'ci' form"),
    ({"dist": "beta", "ci": [0.2, 1.5]}, "0 < low < high < 1"),
    ({"dist": "normal", "mean": "three", "sd": 1}, "must be a number"),
    ({"dist": "normal", "mean": float("nan"), "sd": 1}, "must be finite"),
    ({"dist": "normal", "mean": 1, "sd": float("inf")}, "must be finite"),
    ({"dist": "discrete", "values": [1, 2], "weights": [1]}, "2 values but 1 weights"),
    ({"dist": "fixed", "value": 1, "sigma": 2}, "unknown key 'sigma'"),
])
def test_bad_specs_name_the_rule(spec, message):
    with pytest.raises(PriorError, match=message):
        build(spec, "f.toml: x")


# Beta shapes: PERT's (both >= 1), U-shaped, J-shaped and very skewed.
TABLE_SHAPES = [(2.0, 2.0), (1.8, 4.2), (1.0, 5.0), (0.5, 0.5), (0.6, 3.0), (30.0, 2.0)]


def _grid_uniforms() -> np.ndarray:
    """Uniforms as the samplers make them, (k + 0.5) / 2^23: every one of the first and last
    8,192 (the extreme cells, where interpolation is worst) and every 97th in between."""
    k = np.unique(np.concatenate([np.arange(8192), np.arange(0, 2**23, 97),
                                  np.arange(2**23 - 8192, 2**23)]))
    return ((k + 0.5) / 2**23).astype(np.float32)


@pytest.mark.parametrize(("a", "b"), TABLE_SHAPES)
def test_the_beta_table_keeps_its_stated_error_bound(a, b):
    from uncertainty.families.standard import BETA_TABLE_CELLS, _table_icdf, beta_quantile_table

    table = beta_quantile_table(a, b)
    u = _grid_uniforms()
    x = np.asarray(jax.jit(_table_icdf)(u, 0.0, 1.0, table), np.float64)
    exact = stats.beta(a, b)
    # Kolmogorov distance: within one cell's probability everywhere (float32 rounding aside)
    cdf_error = np.abs(exact.cdf(x) - u)
    assert cdf_error.max() <= 1 / BETA_TABLE_CELLS + 1e-6
    # a quantile is off by at most the rise of its cell
    cell = np.minimum((u.astype(np.float64) * BETA_TABLE_CELLS).astype(int), BETA_TABLE_CELLS - 1)
    rise = np.diff(table.astype(np.float64))[cell]
    assert np.all(np.abs(x - exact.ppf(u)) <= rise + 2e-7)
    # and far better away from the extreme cells
    inner = (u > 1e-3) & (u < 1 - 1e-3)
    assert cdf_error[inner].max() < 2e-5


def test_beta_and_pert_share_one_compiled_quantile_function():
    beta = build({"dist": "beta", "alpha": 2.5, "beta": 6.0}, "b")
    pert = build({"dist": "pert", "low": 1.0, "mode": 2.0, "high": 5.0}, "p")
    (beta_fn, beta_params), (pert_fn, pert_params) = beta.icdf_plan(), pert.icdf_plan()
    assert beta_fn is pert_fn
    assert beta_params[2].shape == pert_params[2].shape  # traced tables of one shape


def test_the_normal_quantile_table_is_within_float32_rounding_of_ndtri():
    from scipy import special

    from uncertainty.families.standard import _standard_normal_quantile, normal_quantile_table

    quantile = jax.jit(lambda u: _standard_normal_quantile(u, *normal_quantile_table()))
    u = _grid_uniforms()  # the sampler's own grid, extreme cells included
    deep = np.float32(10.0) ** -np.arange(8, 38, dtype=np.float32)  # beyond it, to 1e-37
    high = (1 - 2.0 ** -np.arange(1, 25)).astype(np.float32)  # every float32 binade below 1
    middle = np.random.default_rng(0).random(100_000).astype(np.float32)
    for points in (u, deep, high, middle):
        z = np.asarray(quantile(points), np.float64)
        exact = special.ndtri(points.astype(np.float64))
        # JAX's own float32 ndtri is off by up to 4e-7 on the grid; the table is as close
        assert np.all(np.abs(z - exact) <= 4e-7 * (1 + np.abs(exact)))
    ends = np.asarray(quantile(np.array([0.0, 0.5, 1.0, np.nan], np.float32)))
    assert ends[0] == -np.inf and ends[1] == 0.0 and ends[2] == np.inf and np.isnan(ends[3])


def test_the_normal_quantile_has_ndtri_s_derivative():
    from uncertainty.families.standard import _standard_normal_quantile, normal_quantile_table

    u = np.array([1e-6, 0.02, 0.3, 0.5, 0.8, 0.999], np.float32)
    grad = jax.vmap(jax.grad(lambda v: _standard_normal_quantile(v, *normal_quantile_table())))
    exact = jax.vmap(jax.grad(jax.scipy.special.ndtri))(u)
    np.testing.assert_allclose(np.asarray(grad(u)), np.asarray(exact), rtol=1e-5)


# The exact quantile function (ppf: NumPy float64, no JAX) from deep in the tails to the middle,
# where tables, figures and `priors show` read it.
PPF_QS = np.array([1e-6, 0.001, 0.05, 0.1587, 0.5, 0.8413, 0.95, 0.999, 1 - 1e-6])


@pytest.mark.parametrize("case", sorted(CASES))
def test_ppf_is_scipys_quantile_function(case):
    spec, reference = CASES[case]
    dist = build(spec, case)
    np.testing.assert_allclose(dist.ppf(PPF_QS), reference.ppf(PPF_QS), rtol=1e-12)
    assert dist.quantile(0.5) == pytest.approx(reference.median(), rel=1e-12)
    # the sampler's float32 icdf agrees with it as closely as with scipy above (tables included)
    inner = PPF_QS[2:-2]
    np.testing.assert_allclose(np.asarray(dist.icdf(inner), np.float64), dist.ppf(inner),
                               rtol=2e-4)


def test_fixed_and_discrete_ppf_are_the_samplers_values():
    assert build({"dist": "fixed", "value": 24.0}, "fps").ppf([0.1, 0.9]).tolist() == [24, 24]
    dist = build({"dist": "discrete", "values": [8, 4, 6], "weights": [0.5, 0.35, 0.15]}, "tc")
    q = np.array([0.1, 0.35, 0.36, 0.5, 0.51, 0.99], np.float32)  # cumulative 0.35, 0.5, 1
    assert dist.ppf(q).tolist() == [4, 4, 6, 6, 8, 8]
    assert dist.ppf(q).tolist() == np.asarray(dist.icdf(q), np.float64).tolist()


def test_the_normal_table_first_made_inside_a_jit_does_not_leak_a_tracer():
    # A fresh process whose first lognormal draw is traced: the cached table must be concrete,
    # or the next program that reads it fails with an UnexpectedTracerError.
    code = ("import jax, numpy as np\n"
            "from uncertainty.families import build\n"
            "d = build({'dist': 'lognormal', 'median': 2.0, 'sigma': 0.5}, 'x')\n"
            "inside = jax.jit(lambda u: d.icdf(u))(np.float32([0.5]))\n"
            "outside = d.icdf(np.float32([0.5]))\n"
            "assert abs(float(inside[0]) - 2.0) < 1e-5 and abs(float(outside[0]) - 2.0) < 1e-5\n")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
