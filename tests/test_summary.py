"""Summaries: ArviZ intervals against exact quantiles; MCSE of the default run under 1%."""

import numpy as np
import pytest
from scipy import stats

from uncertainty import priors_from_dict, simulate
from uncertainty.sampling import DEFAULT_SAMPLES
from uncertainty.sora.model import HEADLINE
from uncertainty.summary import format_value, headline_mcse, percentile_words, summarize

Z95 = stats.norm.ppf(0.95)


def test_intervals_of_a_known_distribution():
    priors = priors_from_dict({"x": {"dist": "lognormal", "median": 10.0, "sigma": 0.5,
                                     "source": "t"}})
    n = 200_000
    tree = simulate(priors, n=n, seed=0, model=lambda a: {})
    s = summarize(tree, names=("x",))["x"]
    exact = stats.lognorm(0.5, scale=10.0)
    for key, prob in (("eti_50", 0.5), ("eti_90", 0.9)):
        tail = (1 - prob) / 2
        np.testing.assert_allclose(s[key], exact.ppf([tail, 1 - tail]), rtol=0.01)
    assert s["median"] == pytest.approx(10.0, rel=0.01)
    assert s["mean"] == pytest.approx(exact.mean(), rel=0.01)
    # MCSE of the 5% quantile: sqrt(p(1-p)/n) / density at the quantile, for independent draws.
    q05 = exact.ppf(0.05)
    assert s["mcse_q05"] == pytest.approx(np.sqrt(0.05 * 0.95 / n) / exact.pdf(q05), rel=0.25)
    assert s["ess"] == pytest.approx(n, rel=0.05)
    # The HDI of a positive output is taken on the log scale, where a lognormal is a normal:
    # exp(mu -+ z_0.95 sigma), the ETI's ends, not the linear-scale HDI's far left tail. The
    # shortest interval among draws is a noisy estimator (its ends move together, at the
    # n^(-1/3) rate of a mode): over 30 seeds of 200,000 draws their sd was 0.0087 in log,
    # three times the ETI's. Four of those sds:
    assert s["hdi_90_scale"] == "log"
    np.testing.assert_allclose(s["hdi_90"], 10.0 * np.exp([-0.5 * Z95, 0.5 * Z95]), rtol=0.035)
    np.testing.assert_allclose(s["hdi_90"], s["eti_90"], rtol=0.035)  # symmetric in log


@pytest.mark.parametrize("sigma", [0.3, 1.5])
def test_hdi_of_a_lognormal_output_against_its_closed_form_on_the_log_scale(sigma):
    priors = priors_from_dict({"x": {"dist": "lognormal", "median": 1e6, "sigma": sigma,
                                     "source": "t"}})
    tree = simulate(priors, n=200_000, seed=3, model=lambda a: {"y": 3.0 * a["x"]})
    s = summarize(tree, names=("y",))["y"]
    exact = 3e6 * np.exp(np.array([-1, 1]) * Z95 * sigma)
    errors = np.asarray(s["hdi_90_mcse"])
    # Within 4 of its own Monte Carlo errors, and those errors are honest (not tiny, not huge).
    assert np.all(np.abs(np.asarray(s["hdi_90"]) - exact) <= 4 * errors)
    assert np.all(errors / exact > 1e-4) and np.all(errors / exact < 0.03)
    # The linear-scale HDI of the same draws would start far left of exp(mu - z sigma).
    linear = np.sort(tree["prior"]["y"].values.ravel())
    k = int(0.9 * linear.size)
    start = linear[np.argmin(linear[k:] - linear[:-k])]
    assert start < 0.95 * exact[0]


def test_hdi_is_dropped_where_its_error_is_too_large():
    priors = priors_from_dict({"x": {"dist": "lognormal", "median": 1.0, "sigma": 3.0,
                                     "source": "t"}})
    s = summarize(simulate(priors, n=2_000, seed=0, model=lambda a: {"y": a["x"]}))["y"]
    assert s["hdi_90"] is None and s["hdi_90_mcse"] is None and s["eti_90"][0] > 0


def test_default_sample_count_keeps_headline_mcse_under_one_percent(article_priors):
    tree = simulate(article_priors, n=DEFAULT_SAMPLES, seed=0)
    stats_ = summarize(tree, names=HEADLINE)
    assert headline_mcse(stats_, HEADLINE) < 0.01
    months = stats_["training_gpu_months"]
    assert months["article_range"] == [4211.0, 10528.0]
    draws = tree["prior"]["training_gpu_months"].values
    assert months["article_range_percentiles"][0] == pytest.approx(np.mean(draws <= 4211.0))
    assert stats_["fleet_gpus"]["article_value"] == 720e3


@pytest.mark.parametrize("value, text", [
    (4211.3, "4.21k"), (10528, "10.5k"), (720e3, "720k"), (15.27e6, "15.3M"), (1.08e25, "1.08e25"),
    (0.39, "0.39"), (5.035, "5.04"), (180, "180"), (None, "n/a"), (2.5e9, "2.5B")])
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize("fraction, text", [
    (0.38, "38th percentile"), (0.01, "1st percentile"), (0.22, "22nd percentile"),
    (0.13, "13th percentile"), (0.0, "below the 1st percentile"),
    (1.0, "above the 99th percentile")])
def test_percentile_words(fraction, text):
    assert percentile_words(fraction) == text


@pytest.mark.slow
def test_the_hdi_error_is_calibrated_across_seeds():
    """The HDI's ends move at the cube-root rate: a square-root batch-means error was 1.5x too
    small. Over 32 seeds, the ends' errors in units of the stated MCSE have an sd near 1."""
    priors = priors_from_dict({"x": {"dist": "lognormal", "median": 1.0, "sigma": 0.5,
                                     "source": "t"}})
    exact = np.exp(np.array([-1, 1]) * Z95 * 0.5)
    ratios = []
    for seed in range(32):
        tree = simulate(priors, n=100_000, seed=seed, model=lambda a: {"y": a["x"]})
        s = summarize(tree, names=("y",))["y"]
        ratios.append((np.asarray(s["hdi_90"]) - exact) / np.asarray(s["hdi_90_mcse"]))
    spread = np.std(ratios, axis=0)
    # the sd of 32 standard normals is within [0.7, 1.3] with probability > 0.995
    assert np.all((spread > 0.7) & (spread < 1.3)), spread
