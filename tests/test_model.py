"""The engine's Model: declared or traced inputs, loading by name, and every entry point taking
the model the same way (the priors' own by default): regressions of the engine issue."""

import json

import jax.numpy as jnp
import pytest
from conftest import ROOT, run_cli

from uncertainty import Model, load_model, load_priors, priors_from_dict, simulate, stream
from uncertainty.errors import UserError
from uncertainty.inference.evidence import evidence_from_dict, quantities_of
from uncertainty.model import as_model, traced_inputs
from uncertainty.sensitivity import sobol_document, tornado
from uncertainty.summary import summarize

INFORMED = ROOT / "priors" / "informed-2026.toml"
UNIFORM = {"x": {"dist": "uniform", "low": 0.0, "high": 1.0, "source": "test"}}


def test_inputs_are_declared_or_traced_with_optional_ones_apart():
    assert traced_inputs(lambda a: {"y": a["x"] * a.get("scale", 2.0)}) == (("x",), ("scale",))
    model = Model(lambda a: {"y": a["x"] * a.get("scale", 2.0)}, {"y": "m"})
    assert model.input_names == ("x", "scale") and model.optional_inputs == {"scale"}
    priors = priors_from_dict(UNIFORM, model=model)  # scale may be left out
    assert summarize(simulate(priors, n=2000, seed=0))["y"]["median"] == pytest.approx(1.0,
                                                                                       abs=0.05)


def test_a_model_must_return_what_it_declares():
    with pytest.raises(UserError, match="does not return declared output 'z'"):
        priors_from_dict(UNIFORM, model=Model(lambda a: {"y": a["x"]}, {"z": ""}))
    with pytest.raises(UserError, match="returns 'w', which is not among its declared outputs"):
        priors_from_dict(UNIFORM, model=Model(lambda a: {"y": a["x"], "w": a["x"]}, {"y": ""}))


def test_a_model_returns_one_number_per_output_and_draw():
    with pytest.raises(UserError, match=r"output 'y' must be one number per draw, got shape "
                                        r"\(2,\)"):
        priors_from_dict(UNIFORM, model=Model(lambda a: {"y": jnp.stack([a["x"]] * 2)}, {"y": ""}))
    constant = Model(lambda a: {"y": a["x"], "c": 5.0}, {"y": "", "c": ""})  # allowed
    assert priors_from_dict(UNIFORM, model=constant).model is constant


def _branching(a):
    return {"y": a["x"] if a["x"] > 0.5 else -a["x"]}


@pytest.mark.parametrize("inputs", [None, ["x"]])  # traced to find its inputs, or declared
def test_a_python_branch_on_a_draw_says_what_to_write_instead(inputs):
    with pytest.raises(UserError, match=r"^model '_branching': it branches on a draw's value in "
                                        r"Python .* use jnp.where\(condition, a, b\)"):
        priors_from_dict(UNIFORM, model=Model(_branching, {"y": ""}, inputs=inputs))


def test_a_plain_function_runs_through_summaries_in_memory_and_streamed():
    priors = priors_from_dict(UNIFORM)

    def double(a):
        return {"y": 2 * a["x"]}

    assert as_model(double) is as_model(double)  # one Model per function: one compilation
    in_memory = summarize(simulate(priors, n=20_000, seed=0, model=double))
    streamed = summarize(stream(priors, seed=0, n=20_000, model=double))
    assert set(in_memory) == set(streamed) == {"y"}
    assert in_memory["y"]["median"] == pytest.approx(1.0, abs=0.03)
    assert streamed["y"]["median"] == pytest.approx(in_memory["y"]["median"], rel=1e-3)


def test_sensitivity_uses_the_priors_own_model_not_the_articles():
    priors = load_priors(INFORMED)
    medians = {name: jnp.float32(prior.dist.quantile(0.5)) for name, prior in priors.items()}
    at_medians = float(priors.model(medians)["training_gpu_months"])
    swings = tornado(priors, outputs=["training_gpu_months", "training_cost_usd"])
    assert swings["outputs"]["training_gpu_months"]["base"] == pytest.approx(at_medians, rel=1e-5)
    indices = sobol_document(priors, n_base=64, outputs=["training_cost_usd"])
    assert set(indices["outputs"]["training_cost_usd"]) == set(priors.uncertain)


def test_evidence_and_outputs_may_name_any_quantity_of_the_priors_model():
    priors = load_priors(INFORMED)
    known = quantities_of(priors)
    for name in ("training_cost_usd", "gpu_hour_price_usd", "tiktok_ai_share", "fleet_gpus"):
        spec = {"observation": [{"quantity": name, "value": 1.0, "noise": "lognormal",
                                 "sigma": 0.5, "source": "test"}]}
        assert evidence_from_dict(spec, quantities=known).observations[0].quantity == name
    result = run_cli("sobol", "--priors", str(INFORMED), "--output", "training_cost_usd",
                     "--n", "64", "--independent", "--json")
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)["outputs"]) == ["training_cost_usd"]


@pytest.mark.parametrize("spec, message", [
    ("nowhere.py:MODEL", "no such model file"),
    ("uncertainty.sora:NOPE", "no name 'NOPE'"),
    ("uncertainty.sora:model_for", "is a function, not an uncertainty.Model"),
    ("no_such_package_x.mod:MODEL", "cannot import no_such_package_x.mod"),
    ("model.py", "name it as FILE.py:NAME or package.module:NAME"),
])
def test_a_model_that_cannot_be_loaded_is_one_clear_error(spec, message):
    with pytest.raises(UserError, match=message):
        load_model(spec)


def test_a_model_file_that_fails_says_where(tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('oops')\n")
    with pytest.raises(UserError, match=r"broken.py: the model file failed to run \(RuntimeError"):
        load_model(f"{tmp_path}/broken.py:MODEL")
    result = run_cli("report", "--priors", "article", "--model", f"{tmp_path}/broken.py:MODEL",
                     "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert not (tmp_path / "r").exists()
