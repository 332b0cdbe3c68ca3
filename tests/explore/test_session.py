"""The explorer without the web: overrides -> validated priors -> the same summary a report
gives; saving never overwrites. Checked on a one-input model against closed forms."""

import math
import tomllib

import pytest
from conftest import write_identity_priors

from uncertainty import load_priors
from uncertainty.errors import PriorError
from uncertainty.explore import Explorer, editable_spec
from uncertainty.sampling import _chunk

SAMPLES = 1 << 14
Z95 = 1.6448536269514722


@pytest.fixture()
def tiny(tmp_path):
    """``y = x`` with x lognormal, 90% in [2, 8] (median 4)."""
    return write_identity_priors(tmp_path, unit="widgets")


def _median(answer):
    return answer["outputs"]["y"]["median"]


def test_no_overrides_give_the_files_own_numbers(tiny):
    answer = Explorer(tiny, samples=SAMPLES).summary({})
    y = answer["outputs"]["y"]
    mcse = 4 * y["mcse_median"]
    assert _median(answer) == pytest.approx(4.0, abs=mcse)  # sqrt(2 * 8)
    assert y["eti_90"][0] == pytest.approx(2.0, rel=0.03)
    assert y["eti_90"][1] == pytest.approx(8.0, rel=0.03)
    assert {"mean", "sd", "median", "eti_50", "eti_90", "hdi_90", "mcse_median"} <= set(y)
    assert answer["samples"] == SAMPLES and answer["headline"] == ["y"]


def test_the_page_names_a_shipped_prior_file_by_its_name(tmp_path, monkeypatch):
    """From a folder outside the checkout `--priors informed-2026` reads the package's own file;
    the page names it as the user did, not by the installation's path."""
    monkeypatch.chdir(tmp_path)
    assert Explorer("informed-2026", samples=SAMPLES).description()["path"] == "informed-2026"


def test_an_override_moves_the_interval_to_its_closed_form(tiny):
    explorer = Explorer(tiny, samples=SAMPLES)
    answer = explorer.summary({"x": {"dist": "lognormal", "ci": [10.0, 40.0]}})
    assert _median(answer) == pytest.approx(20.0, rel=0.02)
    # Common random numbers: the same draws scaled by 5, so the answer is exactly 5x (float32)
    base = explorer.summary({})
    assert _median(answer) / _median(base) == pytest.approx(5.0, rel=1e-5)


def test_a_changed_number_compiles_nothing_new(tiny):
    explorer = Explorer(tiny, samples=SAMPLES)
    explorer.summary({"x": {"dist": "lognormal", "ci": [1.0, 3.0]}})
    compiled = _chunk._cache_size()
    for high in (5.0, 7.0, 9.0):
        explorer.summary({"x": {"dist": "lognormal", "ci": [1.0, high]}})
    assert _chunk._cache_size() == compiled


@pytest.mark.parametrize(("overrides", "message"), [
    ({"xx": {"dist": "lognormal", "ci": [1, 2]}}, "unknown assumption 'xx' (did you mean 'x'?)"),
    ({"x": {"dist": "lognormal", "ci": [-1, 2]}}, "x: lognormal needs positive bounds"),
    ({"x": {"dist": "lognormal", "ci": ["1", 2]}}, "x: 'ci' must be a number"),
    ({"x": [1, 2]}, "x: must be a table"),
    ({"x": {"dist": "no-such-family"}}, "x: unknown family"),
    ({"x": {"dist": "lognormal"}}, "x: lognormal needs 'median'"),
    ({"x": {"dist": "lognormal", "ci": [1e39, 2e39]}}, "x: "),
])
def test_a_bad_override_gets_the_clis_one_line_message(tiny, overrides, message):
    with pytest.raises(PriorError) as caught:
        Explorer(tiny, samples=SAMPLES).summary(overrides)
    text = str(caught.value)
    assert message in text and "\n" not in text and text.startswith(str(tiny))


def test_saving_never_overwrites_and_says_what_changed(tiny, tmp_path):
    explorer = Explorer(tiny, samples=SAMPLES)
    folder = tmp_path / "saved"
    folder.mkdir()
    overrides = {"x": {"dist": "lognormal", "ci": [10.0, 40.0]}}
    first = explorer.save(overrides, folder)
    first_text = first.read_text()
    second = explorer.save(overrides, folder)
    assert (first.name, second.name) == ("tiny-explored-1.toml", "tiny-explored-2.toml")
    assert first.read_text() == first_text  # untouched by the second save
    table = tomllib.loads(first_text)["assumptions"]["x"]
    assert table["ci"] == [10.0, 40.0] and table["unit"] == "widgets"
    assert table["source"].startswith("changed in sora-uq explore from lognormal(median=4")
    assert "a test" in table["source"]  # what it was changed from, and the file's source
    # the new file loads from its own folder: its model named relative to it
    saved = load_priors(first)
    assert saved["x"].dist.median == pytest.approx(20.0)
    assert saved.name == "tiny-explored-1"


def test_saving_refuses_what_would_not_load(tiny, tmp_path):
    with pytest.raises(PriorError):
        Explorer(tiny).save({"x": {"dist": "lognormal", "ci": [3, 1]}}, tmp_path)
    assert not list(tmp_path.glob("*-explored-*.toml"))


def test_the_page_edits_intervals_in_the_files_own_terms():
    article = load_priors("article")
    assert editable_spec(article["sora_params"]) == {"dist": "lognormal", "ci": [5e9, 80e9]}
    # an 80% interval in the file is shown as the 90% one it implies
    spec = editable_spec(article["dataset_multiplier"])
    dist = article["dataset_multiplier"].dist
    median, sigma = dist.median, dist.sigma
    assert spec["ci"] == pytest.approx([median * math.exp(-Z95 * sigma),
                                        median * math.exp(Z95 * sigma)], rel=1e-5)
    assert editable_spec(article["clip_seconds"]) == {"dist": "pert", "low": 20.0, "mode": 60.0,
                                                      "high": 60.0}


def test_the_sora_priors_answer_in_the_right_direction():
    explorer = Explorer("article", samples=SAMPLES)
    small = explorer.summary({"sora_params": {"dist": "lognormal", "ci": [1e9, 5e9]}})
    large = explorer.summary({"sora_params": {"dist": "lognormal", "ci": [40e9, 90e9]}})
    training = "training_gpu_months"
    assert small["outputs"][training]["median"] < large["outputs"][training]["median"]
    assert small["tornado"][training]["bars"] and small["histograms"][training]["log10"]
    assert "article_percentile" in small["outputs"]["fleet_gpus"]
