"""Updating metalog and pooled priors: NUTS through the normal score, against a conjugate case;
the posterior refitted to a metalog that loads again."""

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from uncertainty import Model, priors_from_dict
from uncertainty.inference.evidence import evidence_from_dict
from uncertainty.inference.refit import dumps_toml, new_prior_document
from uncertainty.inference.update import update
from uncertainty.priors import priors_from_document

MODEL = Model(lambda a: {"y": a["x"] * 1.0, "v": a["w"] * 1.0}, {"y": "", "v": ""})
# A 3-term log-metalog through a lognormal's 25/50/75% quantiles is close to that lognormal
# (logistic and normal quantiles agree to ~1% of the spread across the middle): log x is near
# N(log 2, 0.5^2), and a lognormal observation of x makes the update nearly conjugate.
Z = stats.norm.ppf(0.75)
QUANTILES = [[0.25, 2 * math.exp(-0.5 * Z)], [0.5, 2.0], [0.75, 2 * math.exp(0.5 * Z)]]
POOL = {"dist": "mixture", "components": [{"dist": "lognormal", "median": 1.0, "sigma": 0.3},
                                          {"dist": "lognormal", "median": 3.0, "sigma": 0.3}]}


@pytest.fixture(scope="module")
def result():
    priors = priors_from_dict({
        "x": {"dist": "metalog", "quantiles": QUANTILES, "lower": 0.0, "source": "test"},
        "w": {**POOL, "source": "test"}}, model=MODEL)
    evidence = evidence_from_dict({"observation": [{
        "quantity": "y", "value": 3.0, "noise": "lognormal", "sigma": 0.5, "source": "test"}]})
    return update(priors, [evidence], seed=0, samples=500, chains=4)


def test_a_metalog_parent_updates_like_its_conjugate_twin(result):
    prior_logs = np.log(result.tree["prior"]["x"].values.ravel())
    mean0, var0 = prior_logs.mean(), prior_logs.var()  # the metalog's own log-moments
    precision = 1 / var0 + 1 / 0.25
    mean = (mean0 / var0 + math.log(3.0) / 0.25) / precision
    posterior = np.log(result.tree["posterior"]["x"].values.ravel())
    assert posterior.mean() == pytest.approx(mean, abs=0.05)
    assert posterior.std() == pytest.approx(precision**-0.5, rel=0.1)
    assert result.diagnostics["divergences"] == 0 and result.diagnostics["r_hat_max"] < 1.02


def test_an_unobserved_pool_keeps_its_prior(result):
    posterior = result.tree["posterior"]["w"].values.ravel()
    prior = result.tree["prior"]["w"].values.ravel()
    assert stats.ks_2samp(posterior, prior).pvalue > 1e-3


def test_the_new_file_keeps_a_metalog_and_summarises_the_pool_by_one(result):
    text = dumps_toml(new_prior_document(result, "next"))
    document = tomllib.loads(text)
    x, w = document["assumptions"]["x"], document["assumptions"]["w"]
    assert x["dist"] == "metalog" and x["lower"] == 0.0
    assert [p for p, _ in x["quantiles"]] == [0.25, 0.5, 0.75]
    assert w["dist"] == "metalog"
    assert [p for p, _ in w["quantiles"]] == [0.05, 0.25, 0.5, 0.75, 0.95]
    again = priors_from_document(document, text.encode(), Path("next.toml"), model=MODEL)
    posterior = result.tree["posterior"]["x"].values.ravel()
    assert again["x"].dist.quantile(0.5) == pytest.approx(np.median(posterior), rel=1e-5)
