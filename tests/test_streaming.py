"""Streaming: histogram quantiles within their stated bound, exact moments and shares, adaptive
stopping, the MCSE against closed forms, quasi-Monte Carlo against plain Monte Carlo."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from uncertainty import PriorError, priors_from_dict, simulate
from uncertainty.sampling import CHUNK_SIZE
from uncertainty.sora.model import HEADLINE
from uncertainty.streaming import QMC_REPLICATES, SCHEDULE, stream
from uncertainty.summary import summarize

# y = a * b of two lognormals is lognormal: log-median 0 + log 3, sigma sqrt(0.6^2 + 0.8^2) = 1.
PRODUCT = priors_from_dict({
    "a": {"dist": "lognormal", "median": 1.0, "sigma": 0.6, "source": "test"},
    "b": {"dist": "lognormal", "median": 3.0, "sigma": 0.8, "source": "test"},
})
EXACT_Y = stats.lognorm(1.0, scale=3.0)


def _product(a):
    return {"y": a["a"] * a["b"]}


@pytest.fixture(scope="module")
def fixed_run(article_priors):
    # 2.5 chunks, every draw kept: the streamed numbers can be checked against the exact ones.
    n = 2 * CHUNK_SIZE + 50_000
    return stream(article_priors, seed=3, n=n, keep=n, figures=None)


def test_streamed_quantiles_are_within_the_stated_bound(fixed_run):
    assert fixed_run.n == 2 * CHUNK_SIZE + 50_000
    for name in fixed_run.grid.names:
        draws = fixed_run.kept[name]
        assert len(draws) == fixed_run.n
        for p in (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99):
            exact, streamed = np.quantile(draws, p), fixed_run.quantile(name, p)
            bound = fixed_run.bound(name, p)
            assert 0 < bound < 2e-3, (name, p)  # the stated bound is small, and it holds:
            assert abs(streamed - exact) <= bound * abs(exact) * (1 + 1e-6), (name, p)


def test_moments_extremes_and_article_shares_are_exact(fixed_run):
    for name in fixed_run.grid.names:
        draws = fixed_run.kept[name]
        mean, sd = fixed_run.mean_sd(name)
        assert mean == pytest.approx(draws.mean(), rel=1e-5)
        assert sd == pytest.approx(draws.std(ddof=1), rel=1e-4)
        i = fixed_run.grid.names.index(name)
        assert (fixed_run.totals["min"][i] == draws.min()
                and fixed_run.totals["max"][i] == draws.max())
    fleet = fixed_run.kept["fleet_gpus"]
    assert fixed_run.share_below("fleet_gpus", 720e3) == np.mean(fleet <= 720e3)


def test_hdi_holds_its_mass_and_is_no_wider_than_the_eti(fixed_run):
    draws = fixed_run.kept["fleet_gpus"]
    low, high = fixed_run.hdi("fleet_gpus", 0.9)
    assert np.mean((draws >= low) & (draws <= high)) >= 0.9 - 1e-6
    q05, q95 = fixed_run.quantile("fleet_gpus", [0.05, 0.95])
    assert high - low <= (q95 - q05) * (1 + 2e-3)


def test_a_whole_kept_chunk_is_the_pilot_itself_in_float64(article_priors):
    # the default (keep = one chunk): no slice, no concatenation, the same draws
    run = stream(article_priors, seed=3, n=CHUNK_SIZE, keep=CHUNK_SIZE)
    tree = simulate(article_priors, n=CHUNK_SIZE, seed=3)
    for name in ("fleet_gpus", "sora_params"):
        assert run.kept[name].dtype == np.float64 and len(run.kept[name]) == CHUNK_SIZE
        np.testing.assert_array_equal(tree["prior"][name].values[0], run.kept[name])


@pytest.mark.parametrize(("n", "steps"), [(CHUNK_SIZE + 7, 0), (2 * CHUNK_SIZE, 2)])
def test_the_pilot_is_counted_where_its_program_is_loaded_anyway(article_priors, monkeypatch,
                                                                  n, steps):
    # On one CPU device: a partial last chunk is counted by _block_statistics, which then
    # counts the pilot too (no step draws chunk 0 again); whole chunks need only the step.
    import uncertainty.streaming as streaming

    if streaming._mesh().size * streaming._chunks_per_device() != 1:
        pytest.skip("one chunk per step only on a single CPU device")
    calls = {"step": 0, "block": 0}

    def counted(name, function):
        def call(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return call

    monkeypatch.setattr(streaming, "_mc_step", counted("step", streaming._mc_step))
    monkeypatch.setattr(streaming, "_block_statistics",
                        counted("block", streaming._block_statistics))
    run = stream(article_priors, seed=3, n=n, keep=10)
    assert calls == {"step": steps, "block": 2 if n % CHUNK_SIZE else 0}
    assert int(run.totals["counts"][0, 0].sum()) == n


def test_kept_draws_are_the_first_draws_of_simulate(article_priors):
    run = stream(article_priors, seed=3, n=CHUNK_SIZE + 7, keep=1000)
    assert run.n == CHUNK_SIZE + 7 and all(len(v) == 1000 for v in run.kept.values())
    assert int(run.totals["counts"][0, 0].sum()) == CHUNK_SIZE + 7  # the partial chunk masked
    tree = simulate(article_priors, n=1000, seed=3)
    np.testing.assert_array_equal(tree["prior"]["fleet_gpus"].values[0],
                                  run.kept["fleet_gpus"].astype(np.float32))


def test_lognormal_quantiles_and_mcse_match_closed_forms():
    run = stream(PRODUCT, seed=0, n=4 * CHUNK_SIZE, model=_product, keep=10)
    for p in (0.05, 0.5, 0.95):
        exact = EXACT_Y.ppf(p)
        # iid quantile standard error: sqrt(p (1 - p) / n) / density at the quantile
        closed = math.sqrt(p * (1 - p) / run.n) / EXACT_Y.pdf(exact)
        assert run.mcse("y", p) == pytest.approx(closed, rel=0.15)
        assert abs(run.quantile("y", p) - exact) < 4 * closed
    mean, sd = run.mean_sd("y")
    assert mean == pytest.approx(EXACT_Y.mean(), rel=0.02)


def test_adaptive_run_stops_at_the_first_check_within_rtol(article_priors):
    rtol = 0.01
    run = stream(article_priors, seed=1, rtol=rtol, keep=10)
    sizes = [n for n, _ in run.history]
    assert sizes == [c * CHUNK_SIZE for c in SCHEDULE[:len(sizes)]]
    assert run.history[-1][1] <= rtol and all(error > rtol for _, error in run.history[:-1])
    assert run.n == sizes[-1] and run.relative_mcse(HEADLINE) == run.history[-1][1]


def test_adaptive_run_stops_at_max_n_when_it_cannot_converge(article_priors):
    run = stream(article_priors, seed=1, rtol=1e-5, max_n=CHUNK_SIZE + 3, keep=10)
    assert run.n == CHUNK_SIZE + 3 and run.history[-1][1] > 1e-5


def test_qmc_is_unbiased_and_beats_mc_at_the_same_size():
    n = QMC_REPLICATES * 2**13
    qmc = stream(PRODUCT, seed=0, n=n, sampler="qmc", model=_product, keep=10)
    mc = stream(PRODUCT, seed=0, n=n, sampler="mc", model=_product, keep=10)
    assert qmc.n == n and qmc.replicates == QMC_REPLICATES
    for p in (0.05, 0.5, 0.95):
        error = qmc.mcse("y", p)
        assert abs(qmc.quantile("y", p) - EXACT_Y.ppf(p)) < 4 * error + 1e-3 * EXACT_Y.ppf(p)
        assert error < mc.mcse("y", p) / 2
    summary = summarize(qmc, names=("y",))["y"]
    assert summary["ess"] > 4 * n  # worth more than four times as many plain MC draws
    # the MCSE is the spread of the replicates' own quantiles, each read from its own histogram
    each = qmc.replicate_quantiles("y", [0.05, 0.5, 0.95])
    assert each.shape == (QMC_REPLICATES, 3)
    assert np.array_equal(each[:, 1], [qmc.quantile("y", 0.5, r) for r in range(QMC_REPLICATES)])
    assert qmc.mcse("y", 0.5) == np.std(each[:, 1], ddof=1) / np.sqrt(QMC_REPLICATES)
    assert len(qmc._edge_cache) <= len(qmc.grid.names)  # one set of bin edges per output, at most


def test_summary_rows_have_the_arviz_summary_keys(fixed_run):
    row = summarize(fixed_run)["fleet_gpus"]
    assert {"mean", "sd", "median", "eti_50", "eti_90", "hdi_90", "mcse_median", "mcse_q05",
            "mcse_q95", "ess", "article_percentile", "quantile_bound"} <= set(row)
    assert row["ess"] == fixed_run.n and row["article_percentile"] == \
        fixed_run.share_below("fleet_gpus", 720e3)


def test_a_model_without_outputs_is_refused_clearly():
    with pytest.raises(ValueError, match="no outputs"):
        stream(PRODUCT, n=10, model=lambda a: {})


# exp(a) overflows float32 above a = 88.7: with a ~ normal(0, 30), P(Z > 2.96) = 0.15%, about
# 200 draws of the first chunk. b is a bystander, from the same draws.
OVERFLOWING = priors_from_dict({
    "a": {"dist": "normal", "mean": 0.0, "sd": 30.0, "source": "test"},
    "b": {"dist": "lognormal", "median": 1.0, "sigma": 1.0, "source": "test"},
})


@pytest.mark.parametrize("sampler", ["mc", "qmc"])
def test_an_output_that_overflows_is_refused_naming_it_and_the_assumption_behind_it(sampler):
    def model(x):
        return {"y": jnp.exp(x["a"]) * x["b"], "z": x["b"]}

    with pytest.raises(PriorError, match=(
            r"^priors: output 'y' overflows for some draws \(inf\): the model computes in "
            r"32-bit floats.*; in the kept draws where it is not, 'a' lies above the 99th "
            r"percentile of its prior \(median\)$")):
        stream(OVERFLOWING, n=CHUNK_SIZE, model=model, figures={}, sampler=sampler)


def test_an_output_that_is_nan_is_refused_and_an_overflow_after_the_kept_draws_is_caught():
    def model(x):  # log of a negative a: NaN for a < 0, half the draws
        return {"y": jnp.log(x["a"]), "z": x["b"]}

    with pytest.raises(PriorError, match=r"output 'y' is not a number \(NaN\).*'a' lies at the "
                                         r"(2[0-9])th percentile"):
        stream(OVERFLOWING, n=CHUNK_SIZE, model=model, figures={})

    def late(x):  # inf where a > 88.72: 0.15% of draws, none of the kept ones (so no hint)
        return {"y": jnp.exp(x["a"]), "z": x["b"]}

    a = stream(OVERFLOWING, n=CHUNK_SIZE, model=lambda x: {"z": x["b"]}, figures={}).kept["a"]
    with np.errstate(over="ignore"):
        keep = int(np.argmax(np.isinf(np.exp(a.astype(np.float32)))))  # the first that overflows
    assert 0 < keep < CHUNK_SIZE
    with pytest.raises(PriorError,
                       match=r"output 'y' overflows for some draws \(inf\): .*reaches that far$"):
        stream(OVERFLOWING, n=CHUNK_SIZE, keep=keep, model=late, figures={})
