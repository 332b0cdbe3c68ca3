"""The Shapley benchmark's NumPy baseline computes what sora-uq computes: the same estimator on
the same random streams, only its model calls in NumPy float64 instead of compiled JAX float32,
so the two effects agree to float32 rounding. A comparison of speed means nothing otherwise (and
this keeps the benchmark running as the estimator's signature changes)."""

import importlib.util

import numpy as np
import pytest
from conftest import ROOT

from uncertainty.sensitivity import shapley


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_shapley",
                                                  ROOT / "benchmarks" / "bench_shapley.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_numpy_baseline_gives_sora_uqs_shapley_effects(bench):
    priors, outputs = bench.PRIORS, ["training_gpu_months", "fleet_gpus"]
    matrix = shapley.normal_score_correlation(priors)
    entropy = np.atleast_1d(0)
    ours, _ = shapley._permutation(priors, priors.model, outputs, "log", matrix, entropy, 40)
    theirs, _ = shapley._permutation(priors, priors.model, outputs, "log", matrix, entropy, 40,
                                     evaluate=bench._numpy_evaluate)
    for out in outputs:
        for name, effects in ours[out].items():
            assert effects["shapley"] == pytest.approx(theirs[out][name]["shapley"], abs=2e-3)
            assert effects["first_order"] == pytest.approx(theirs[out][name]["first_order"],
                                                           abs=2e-3)
