"""Property tests: valid priors give finite positive outputs; the loader only ever raises its
own validation error; the model is monotone where it must be."""

import math
import tempfile
from pathlib import Path

import numpy as np
from conftest import dumps_priors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uncertainty import PriorError, UserError, load_priors, simulate
from uncertainty.sora.model import ARTICLE_POINT, ASSUMPTIONS, compute_outputs

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- arbitrary TOML-shaped data --------------------------------------------------------------
scalars = st.one_of(
    st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.text(max_size=12), st.sampled_from(["lognormal", "beta", "fixed", "pert", "discrete", "ci"]))
keys = st.one_of(st.text(min_size=1, max_size=12),
                 st.sampled_from(["dist", "ci", "level", "source", "value", "median", "sigma",
                                  "low", "mode", "high", "values", "weights", "alpha", "beta",
                                  "mean", "sd"]))
toml_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=12)


def _load(document: dict):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.toml"
        path.write_text(_emit(document))
        return load_priors(path)


def _emit(document: dict) -> str:
    import json

    # TOML inline tables and arrays are close enough to JSON for these shapes; mixed-type arrays
    # and odd keys are quoted. Anything TOML cannot express is caught as a syntax error.
    def value(v):
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf
                                                 else repr(v))
        return json.dumps(v)

    return "\n".join(f"{json.dumps(k)} = {value(v)}" for k, v in document.items()) + "\n"


@SETTINGS
@given(st.dictionaries(st.sampled_from(["meta", "assumptions", "x"]), toml_values, max_size=3))
def test_loader_raises_only_its_own_error_on_arbitrary_documents(document):
    try:
        _load(document)
    except UserError:
        pass


@SETTINGS
@given(st.dictionaries(st.sampled_from(list(ASSUMPTIONS) + ["sora_param"]),
                       st.dictionaries(keys, toml_values, max_size=6), min_size=1, max_size=6))
def test_loader_raises_only_its_own_error_on_arbitrary_assumption_tables(tables):
    base = {name: {"dist": "fixed", "value": float(v), "source": "t"}
            for name, v in ARTICLE_POINT.items()}
    try:
        _load({"meta": {"name": "p"}, "assumptions": {**base, **tables}})
    except UserError:
        pass


# --- valid priors within the families' domains ----------------------------------------------
def _valid_spec(name: str, centre: float):
    share = ASSUMPTIONS[name].kind == "share"
    if share:
        low = st.floats(0.01, 0.5)
        return st.one_of(
            st.builds(lambda lo, w: {"dist": "beta", "ci": [lo, min(lo + w, 0.99)]}, low,
                      st.floats(0.05, 0.45)),
            st.builds(lambda lo, w: {"dist": "uniform", "low": lo, "high": min(lo + w, 1.0)}, low,
                      st.floats(0.01, 0.5)),
            st.builds(lambda v: {"dist": "fixed", "value": v}, st.floats(0.01, 1.0)))
    factor = st.floats(0.2, 5.0)
    return st.one_of(
        st.builds(lambda f, s: {"dist": "lognormal", "median": centre * f, "sigma": s}, factor,
                  st.floats(0.01, 1.5)),
        st.builds(lambda f, w: {"dist": "loguniform", "low": centre * f, "high": centre * f * w},
                  factor, st.floats(1.01, 10.0)),
        st.builds(lambda f, a, b: {"dist": "pert", "low": centre * f, "mode": centre * f * a,
                                   "high": centre * f * a * b},
                  factor, st.floats(1.0, 3.0), st.floats(1.01, 3.0)),
        st.builds(lambda f, a, b: {"dist": "triangular", "low": centre * f, "mode": centre * f * a,
                                   "high": centre * f * a * b},
                  factor, st.floats(1.0, 3.0), st.floats(1.01, 3.0)),
        st.builds(lambda f: {"dist": "discrete", "values": [centre * f, centre * f * 2],
                             "weights": [1, 2]}, factor),
        st.builds(lambda f: {"dist": "fixed", "value": centre * f}, factor))


valid_priors = st.fixed_dictionaries({name: _valid_spec(name, v)
                                      for name, v in ARTICLE_POINT.items()})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_priors, st.integers(0, 2**31))
def test_valid_priors_give_finite_positive_outputs(specs, seed):
    document = {"meta": {"name": "p"},
                "assumptions": {k: {**v, "source": "property test"} for k, v in specs.items()}}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.toml"
        path.write_text(dumps_priors(document))
        priors = load_priors(path)
    tree = simulate(priors, n=2_000, seed=seed)
    for name, values in tree["prior"].data_vars.items():
        assert np.all(np.isfinite(values.values)) and np.all(values.values > 0), name


# --- monotonicity -------------------------------------------------------------------------------
positive = st.floats(0.1, 10.0)


@SETTINGS
@given(positive, positive)
def test_more_parameters_never_mean_fewer_training_flops(f1, f2):
    small, large = sorted((f1, f2))
    low = compute_outputs({**ARTICLE_POINT, "sora_params": 20e9 * small})["training_flops"]
    high = compute_outputs({**ARTICLE_POINT, "sora_params": 20e9 * large})["training_flops"]
    assert high >= low


@SETTINGS
@given(positive, positive)
def test_more_steps_never_mean_more_video_minutes_per_gpu_hour(f1, f2):
    few, many = sorted((f1, f2))
    with_few = compute_outputs({**ARTICLE_POINT, "diffusion_steps": 250 * few})
    with_many = compute_outputs({**ARTICLE_POINT, "diffusion_steps": 250 * many})
    assert with_many["video_minutes_per_gpu_hour"] <= with_few["video_minutes_per_gpu_hour"]
    assert with_many["fleet_gpus"] >= with_few["fleet_gpus"]


def test_prior_error_is_a_user_error():
    assert issubclass(PriorError, UserError)
