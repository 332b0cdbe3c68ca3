"""Hostile input, generated: prior files, evidence files and command-line arguments.

Whatever the input, the command answers 0 (it worked) or 2 (bad input, in one line naming what
is wrong), never 1 (an internal error), and a failed command writes nothing. The runs use a
one-input model and tiny sizes, in this process, so each example takes milliseconds once the
first has compiled."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import run_cli, write_identity_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

# --- values a file might hold: the edges of float32, of int, of text and of TOML's types --------
EDGE_NUMBERS = [0, 1, -1, 0.5, 2.0, 1e39, -1e39, 5e-324, 1e-40, 1e308, 3.4e38, 1.2e-38, 10**400,
                -(10**400), 2**63, math.inf, -math.inf, math.nan, 24, 1e9, 1e-3]
numbers = st.one_of(st.sampled_from(EDGE_NUMBERS), st.floats(allow_nan=True),
                    st.integers(-10**30, 10**30))
texts = st.one_of(st.sampled_from(["", " ", "lognormal", "../../x", "/tmp/x", "<b>x</b>",
                                   "a\nb", "x" * 300, "fixed", "beta", "[x](javascript:1)"]),
                  st.text(max_size=20))
scalars = st.one_of(numbers, texts, st.booleans())
values = st.one_of(scalars, st.lists(scalars, max_size=4),
                   st.dictionaries(texts, scalars, max_size=3))
FAMILY_KEYS = ["dist", "value", "median", "sigma", "ci", "level", "low", "high", "mode", "alpha",
               "beta", "mean", "sd", "values", "weights", "quantiles", "lower", "upper", "terms",
               "components", "source", "unit"]


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def table(name: str, entries: dict) -> str:
    return f"[{name}]\n" + "".join(f"{json.dumps(k)} = {toml_value(v)}\n"
                                   for k, v in entries.items())


VALID_X = {"dist": "lognormal", "median": 2.0, "sigma": 0.5, "source": "fuzz"}
assumption_tables = st.one_of(
    st.dictionaries(st.sampled_from(FAMILY_KEYS), values, max_size=6),
    st.fixed_dictionaries({"dist": st.sampled_from(["fixed", "lognormal", "beta", "uniform",
                                                    "normal", "discrete", "pert"]),
                           "source": st.just("fuzz")},
                          optional={k: values for k in FAMILY_KEYS[1:-2]}),
    st.builds(lambda k, v: {**VALID_X, k: v}, st.sampled_from(FAMILY_KEYS), values))
meta_tables = st.fixed_dictionaries({"model": st.just("m.py:MODEL")},
                                    optional={"name": values, "description": values})


def _check(result, written: list[Path]) -> None:
    assert result.returncode in (0, 2), result.stderr
    if result.returncode == 2:
        message = result.stderr.strip()
        assert len(message.splitlines()) == 1 and message.startswith("sora-uq: "), message
        assert "Traceback" not in message and "internal error" not in message
        assert not [p for p in written if p.exists()], "a failed command wrote something"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    write_identity_model(folder)
    (folder / "p.toml").write_text(table("meta", {"model": "m.py:MODEL"}) + "\n"
                                   + table("assumptions.x", VALID_X))
    return folder


def _fresh(folder: Path, name: str) -> Path:
    counter = len(list(folder.glob(f"{name}-*")))
    return folder / f"{name}-{counter}"


@SETTINGS
@given(meta=meta_tables, x=assumption_tables)
def test_any_prior_file(folder, meta, x):
    priors = _fresh(folder, "priors").with_suffix(".toml")
    priors.write_text(table("meta", meta) + "\n" + table("assumptions.x", x))
    out = _fresh(folder, "report")
    validated = run_cli("priors", "validate", str(priors))
    _check(validated, [])
    result = run_cli("report", "--priors", str(priors), "--samples", "64", "--out", str(out),
                     "--quiet", "--no-sensitivity")
    _check(result, [out])
    assert (validated.returncode == 0) == (result.returncode == 0), result.stderr


observation = st.one_of(
    st.dictionaries(st.sampled_from(["quantity", "value", "noise", "sigma", "source", "tag",
                                     "date", "x"]), values, max_size=6),
    st.fixed_dictionaries({"quantity": st.sampled_from(["x", "y", "z"]),
                           "noise": st.sampled_from(["lognormal", "normal", "t"]),
                           "source": st.just("fuzz")},
                          optional={"value": values, "sigma": values, "tag": values}))


@SETTINGS
@given(observations=st.lists(observation, min_size=0, max_size=3))
def test_any_evidence_file(folder, observations):
    evidence = _fresh(folder, "evidence").with_suffix(".toml")
    evidence.write_text("".join("[[observation]]\n" + "".join(
        f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in obs.items()) + "\n"
        for obs in observations))
    out, report = _fresh(folder, "new").with_suffix(".toml"), _fresh(folder, "update")
    result = run_cli("update", "--priors", str(folder / "p.toml"), "--evidence", str(evidence),
                     "--out", str(out), "--report", str(report), "--method", "importance",
                     "--samples", "20")
    _check(result, [out, report])


ARGUMENT_VALUES = ["", "0", "1", "-1", "64", "1e3", "1e400", "nan", "inf", "-inf", "1.5", "abc",
                   "2^10", "2^99", "9" * 40, "0.5", "1e-40", "H100", "B200:fp8", "nope", "qmc"]
COMMANDS = {
    "report": ["--samples", "--seed", "--rtol", "--max-samples", "--sampler", "--gpu"],
    "sobol": ["--n", "--seed", "--scale", "--output"],
    "tornado": ["--low", "--high", "--output"],
    "voi": ["--samples", "--seed", "--under-cost", "--over-cost", "--output"],
    "elicit": ["--q", "--lower", "--upper", "--terms", "--level", "--family", "--ci"],
}


@SETTINGS
@given(command=st.sampled_from(sorted(COMMANDS)), data=st.data())
def test_any_command_line(folder, command, data):
    options = data.draw(st.lists(st.sampled_from(COMMANDS[command]), max_size=3, unique=True))
    argv = [command]
    for option in options:
        argv += [option, data.draw(st.sampled_from(ARGUMENT_VALUES))]
    out = _fresh(folder, f"cli-{command}")
    if command != "elicit":
        argv += ["--priors", str(folder / "p.toml")]
    if command in ("report", "tornado"):
        argv += ["--out", str(out), "--quiet"] + (["--no-sensitivity"] if command == "report"
                                                   else [])
    if command == "report" and "--samples" not in options and "--rtol" not in options:
        argv += ["--samples", "64"]
    if command == "report" and "--rtol" in options:
        argv += ["--max-samples", "200000"]
    if command == "voi" and "--samples" not in options:
        argv += ["--samples", "1000"]
    if command == "sobol" and "--n" not in options:
        argv += ["--n", "16"]
    _check(run_cli(*argv), [out])


def test_one_draw_is_not_converged(folder):
    out = _fresh(folder, "one")
    result = run_cli("report", "--priors", str(folder / "p.toml"), "--samples", "1", "--out",
                     str(out), "--quiet", "--no-sensitivity")
    assert result.returncode == 0, result.stderr
    doc = json.loads((out / "summary.json").read_text())
    assert doc["run"]["converged"] is False
    assert doc["outputs"]["y"]["hdi_90"] is None
    assert "not stated: too few draws (1)" in (out / "report.md").read_text()
