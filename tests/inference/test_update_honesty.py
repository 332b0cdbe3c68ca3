"""What an update says about itself: importance sampling's ESS of the draws it summarises,
evidence that contradicts itself or the prior, NUTS that cannot start, and publishing the report
only after the new prior file."""

import errno
import json

import numpy as np
import pytest
from conftest import run_cli, write_identity_model

from uncertainty import priors_from_dict
from uncertainty.errors import UserError
from uncertainty.inference.conflict import conflicts, pair_conflicts, predictive_tail
from uncertainty.inference.evidence import Observation, evidence_from_dict
from uncertainty.inference.update import importance_ess, update
from uncertainty.report.update_report import update_document

PRIORS = priors_from_dict({"x": {"dist": "lognormal", "median": 1.0, "sigma": 0.5,
                                 "source": "test"}})


def identity(a):
    return {"y": a["x"]}


def _evidence(*rows):
    return evidence_from_dict({"observation": [
        {"quantity": "y", "value": v, "noise": noise, "sigma": s, "source": "test"}
        for v, s, noise in rows]}, quantities=["x", "y"])


# --- importance sampling: the ESS of the draws summarised ----------------------------------------

def test_importance_ess_is_that_of_the_resampled_draws():
    result = update(PRIORS, [_evidence((1.2, 0.8, "lognormal"))], method="importance", seed=0,
                    samples=100, chains=2, model=identity)
    d = update_document(result, None)["diagnostics"]
    assert d["draws"] == 200 == result.tree["posterior"].sizes["draw"]
    assert d["proposals"] == 200 * 50
    # The weights' own ESS counts the 10,000 proposals; the summaries see 200 draws.
    assert d["ess_weights"] > 1000
    assert d["ess_bulk_min"] <= d["draws"]
    assert d["ess_bulk_min"] == pytest.approx(1 / (1 / d["ess_weights"] + 1 / 200))
    assert d["distinct_draws"] <= 200


def test_importance_ess_closed_form():
    equal = np.full(1000, 1e-3)
    assert importance_ess(equal, np.arange(10))["ess_bulk_min"] == pytest.approx(1 / (1e-3 + 0.1))
    one = np.zeros(1000)
    one[3] = 1.0
    found = importance_ess(one, np.full(50, 3))
    assert found["ess_bulk_min"] == pytest.approx(50 / 51) and found["distinct_draws"] == 1


# --- prior-data conflict ------------------------------------------------------------------------

def test_observations_that_contradict_each_other_are_said_to():
    result = update(PRIORS, [_evidence((1.0, 0.1, "lognormal"), (100.0, 0.1, "lognormal"))],
                    seed=0, samples=150, chains=2, model=identity)
    text = " ".join(result.warnings)
    assert "observations 1 (y = 1) and 2 (y = 100) of the same quantity contradict each other" \
        in text
    assert "the posterior does not fit any of its observations" in text
    assert "conflicts with the prior" in text  # 100 is 9 prior sigmas above the median of 1


def test_agreeing_evidence_raises_no_conflict():
    rng = np.random.default_rng(0)
    prior = {"y": rng.lognormal(0.0, 0.5, 20_000)}
    posterior = {"y": rng.lognormal(0.1, 0.2, 4_000)}
    observations = [Observation("y", 1.1, "lognormal", 0.3, "a"),
                    Observation("y", 1.2, "lognormal", 0.3, "b")]
    assert conflicts(observations, prior, posterior) == []
    assert pair_conflicts([Observation("y", 5.0, "normal", 1.0, "a"),
                           Observation("y", 30.0, "normal", 1.0, "b")])


def test_predictive_tail_closed_form():
    # Draws all at 1, lognormal noise 0.5: the tail of log(2) / 0.5 = 1.386 sigmas, two-sided.
    p = predictive_tail(Observation("y", 2.0, "lognormal", 0.5, "t"), np.ones(100))
    assert p == pytest.approx(0.1657, abs=1e-3)


# --- NUTS that cannot start ---------------------------------------------------------------------

def test_nuts_that_cannot_start_is_bad_input():
    # A normal observation 1e30 away with sigma 1e-20: the log density is -inf at every start.
    with pytest.raises(UserError, match="NUTS cannot start"):
        update(PRIORS, [_evidence((1e30, 1e-20, "normal"))], seed=0, samples=20, chains=2,
               model=identity)


def test_observed_quantity_that_is_not_a_number_is_bad_input():
    with pytest.raises(UserError, match="observed quantity 'y' is not a finite number"):
        update(PRIORS, [_evidence((1.0, 1.0, "normal"))], seed=0, samples=20, chains=2,
               model=lambda a: {"y": a["x"] * np.float32("nan")})


# --- the command: publish last, no Python in what it prints --------------------------------------

@pytest.fixture
def user_files(tmp_path):
    write_identity_model(tmp_path)
    priors = tmp_path / "p.toml"
    priors.write_text('[meta]\nmodel = "m.py:MODEL"\n\n[assumptions.x]\ndist = "lognormal"\n'
                      'median = 1.0\nsigma = 0.5\nsource = "test"\n')
    evidence = tmp_path / "e.toml"
    evidence.write_text('[[observation]]\nquantity = "y"\nvalue = 1.3\nnoise = "lognormal"\n'
                        'sigma = 0.5\nsource = "test"\n')
    return priors, evidence


def _update(priors, evidence, out, report, *extra):
    return run_cli("update", "--priors", str(priors), "--evidence", str(evidence), "--out",
                   str(out), "--report", str(report), "--method", "importance", "--samples",
                   "40", *extra)


def test_update_publishes_its_report_only_after_the_prior_file(user_files, tmp_path,
                                                                 monkeypatch):
    import uncertainty.files

    def full_disk(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(uncertainty.files, "write_new_file", full_disk)
    out, report = tmp_path / "new.toml", tmp_path / "report"
    result = _update(*user_files, out, report)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"sora-uq: error: {out}: cannot write (No space left on device)"
    assert not out.exists() and not report.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_update_prints_diagnostics_in_words(user_files, tmp_path):
    out, report = tmp_path / "new.toml", tmp_path / "report"
    result = _update(*user_files, out, report)
    assert result.returncode == 0, result.stderr
    assert "None" not in result.stdout
    assert "r_hat_max: n/a" in result.stdout and "draws: 160" in result.stdout
    doc = json.loads((report / "update.json").read_text())
    assert doc["diagnostics"]["ess_bulk_min"] <= doc["diagnostics"]["draws"] == 160
    assert out.exists()
