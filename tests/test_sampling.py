"""Draws: layout of the DataTree, determinism, chunk independence."""

import numpy as np
import pytest

from uncertainty import priors_from_dict, simulate
from uncertainty.sampling import CHUNK_SIZE
from uncertainty.sora.model import ASSUMPTIONS, OUTPUTS


@pytest.fixture(scope="module")
def tree(article_priors):
    return simulate(article_priors, n=50_000, seed=0)


def test_prior_group_has_every_assumption_and_output(tree):
    ds = tree["prior"]
    assert set(ds.data_vars) == set(ASSUMPTIONS) | set(OUTPUTS)
    for name in ds.data_vars:
        assert ds[name].dims == ("chain", "draw")
        assert ds[name].shape == (1, 50_000)
    assert ds.attrs["seed"] == 0 and ds.attrs["samples"] == 50_000


def test_outputs_are_finite_and_positive(tree):
    for name in OUTPUTS:
        values = tree["prior"][name].values
        assert np.all(np.isfinite(values)) and np.all(values > 0), name


def test_same_seed_same_numbers_different_seed_different_numbers(article_priors, tree):
    again = simulate(article_priors, n=50_000, seed=0)
    other = simulate(article_priors, n=50_000, seed=1)
    for name in ("fleet_gpus", "sora_params", "video_fraction"):
        np.testing.assert_array_equal(tree["prior"][name].values, again["prior"][name].values)
        assert not np.array_equal(tree["prior"][name].values, other["prior"][name].values)


def test_first_draws_do_not_depend_on_n(article_priors):
    short = simulate(article_priors, n=1_000, seed=5)
    long = simulate(article_priors, n=CHUNK_SIZE + 10, seed=5)
    np.testing.assert_array_equal(short["prior"]["fleet_gpus"].values,
                                  long["prior"]["fleet_gpus"].values[:, :1_000])


def test_general_engine_draws_any_names():
    priors = priors_from_dict({"x": {"dist": "uniform", "low": 0.0, "high": 1.0, "source": "test"}})
    tree = simulate(priors, n=1_000, seed=0, model=lambda a: {"y": 2 * a["x"]})
    np.testing.assert_allclose(tree["prior"]["y"].values, 2 * tree["prior"]["x"].values, rtol=1e-6)


def test_assumptions_are_independent(tree):
    a = tree["prior"]["sora_params"].values.ravel()
    b = tree["prior"]["diffusion_steps"].values.ravel()
    assert abs(np.corrcoef(np.log(a), np.log(b))[0, 1]) < 0.02
