"""Outputs of any sign and scale: a linear sum of normals that crosses zero, and a constant.

balance = a + 2 b - c with a ~ N(0, 1), b ~ N(1, 1), c ~ N(1, 1) is N(1, sqrt(6)) exactly, and
its variance shares are 1/6, 4/6 and 1/6.
"""

import json
import math

import pytest
from conftest import ROOT, run_cli
from scipy import stats

from uncertainty import load_priors
from uncertainty.streaming import stream

PRIORS = ROOT / "tests" / "data" / "models" / "signs.toml"
BALANCE = stats.norm(1.0, math.sqrt(6.0))


def test_an_adaptive_run_stops_on_an_output_that_crosses_zero():
    run = stream(load_priors(PRIORS), seed=0, rtol=0.01)
    # judged against the output's spread, not its near-zero median: it converges early
    assert run.n < 2_000_000 and run.history[-1][1] <= 0.01
    assert run.quantile("balance", [0.5])[0] == pytest.approx(1.0, abs=0.05)
    assert run.quantile("constant", [0.05, 0.95]).tolist() == pytest.approx([3.0, 3.0])


def test_report_of_outputs_of_any_sign(tmp_path):
    out = tmp_path / "signs"
    result = run_cli("report", "--priors", str(PRIORS), "--samples", "200000", "--out", str(out),
                     "--quiet")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    balance, constant = summary["outputs"]["balance"], summary["outputs"]["constant"]
    assert balance["median"] == pytest.approx(1.0, abs=0.03)
    assert balance["eti_90"] == pytest.approx(BALANCE.ppf([0.05, 0.95]).tolist(), abs=0.05)
    assert balance["mean"] == pytest.approx(1.0, abs=0.03)
    assert balance["sd"] == pytest.approx(math.sqrt(6.0), rel=0.01)
    assert 0 < balance["quantile_bound"] < 0.01
    assert constant["median"] == 3.0 and constant["eti_90"] == [3.0, 3.0]
    assert constant["sd"] == pytest.approx(0.0, abs=1e-6) and constant["mcse_median"] == 0.0
    # variance shares of a linear sum, on the output's own (linear) scale: 1/6, 4/6, 1/6
    assert summary["sobol"]["scale"] == "linear"
    shares = {name: ix["S1"] for name, ix in summary["sobol"]["outputs"]["balance"].items()}
    assert shares == pytest.approx({"a": 1 / 6, "b": 4 / 6, "c": 1 / 6}, abs=0.03)
    assert all(ix["ST"] == 0.0 for ix in summary["sobol"]["outputs"]["constant"].values())
    assert "nan" not in (out / "report.md").read_text().lower()


def test_log_scale_sobol_says_why_it_cannot_apply():
    result = run_cli("sobol", "--priors", str(PRIORS), "--output", "balance", "--n", "256")
    assert result.returncode == 2
    assert "> 0" in result.stderr and "--scale linear" in result.stderr
    assert result.stderr.count("\n") == 1
