"""``sora-uq compare``: several prior sets side by side, checked against exact scaling laws."""

import json

import pytest
from conftest import ARTICLE, ROOT, run_cli, write_priors

SAMPLES = "5000"
SCALE = 0.25  # the variant's Sora parameter count: the article's interval times this


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """The article priors against a copy whose Sora size interval is scaled by SCALE.

    A lognormal fitted to a scaled interval has the same sigma and a scaled median, so with the
    same seed every draw of ``sora_params`` is scaled by SCALE and every other draw is the same.
    Training compute and the serving fleet are proportional to the parameter count; the
    breakeven is a ratio of the two, in which it cancels.
    """
    tmp = tmp_path_factory.mktemp("compare")
    variant = write_priors(tmp / "smaller.toml", {"sora_params": {
        "dist": "lognormal", "ci": [SCALE * 5e9, SCALE * 80e9], "unit": "parameters",
        "source": "test variant: the article's interval scaled by 1/4"}},
    )
    text = variant.read_text().replace('name = "article"', 'name = "smaller-sora"')
    variant.write_text(text)
    out = tmp / "cmp"
    result = run_cli("compare", "--priors", str(ARTICLE), "--priors", str(variant),
                     "--samples", SAMPLES, "--seed", "5", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, json.loads((out / "compare.json").read_text()), result.stdout


def test_writes_html_markdown_json_and_one_forest_plot_per_headline_output(compared):
    out, doc, _ = compared
    assert {p.name for p in out.iterdir()} == {"compare.html", "compare.md", "compare.json",
                                              "figures", "manifest.json", "timings.json"}
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(
        f"forest_{name}.svg" for name in doc["headline"])
    assert [s["name"] for s in doc["scenarios"]] == ["article", "smaller-sora"]
    page = (out / "compare.html").read_text()
    assert page.count("<img ") == len(doc["headline"]) and "<script" not in page
    markdown = (out / "compare.md").read_text()
    for text in (page, markdown):
        assert "smaller-sora" in text and "article" in text
    assert markdown.count("](figures/forest_") == len(doc["headline"])


def test_intervals_follow_the_exact_scaling_of_the_parameter_count(compared):
    _, doc, _ = compared
    article, smaller = (s["outputs"] for s in doc["scenarios"])
    for name, factor in (("training_gpu_months", SCALE), ("fleet_gpus", SCALE),
                         ("breakeven_video_minutes", 1.0)):
        # The scaled draws agree to float32 rounding, which can move a draw across a
        # histogram bin's edge: an interpolated quantile then moves by at most the bin's
        # width, the summary's stated bound (the same relative width everywhere on a log grid).
        bound = article[name]["quantile_bound"]
        assert 0 < bound < 2e-3
        for key in ("median", "eti_50", "eti_90"):
            assert smaller[name][key] == pytest.approx(
                (factor * article[name][key]) if key == "median"
                else [factor * v for v in article[name][key]], rel=bound), (name, key)
    # The article's fleet figure sits higher in the smaller fleet's distribution.
    assert smaller["fleet_gpus"]["article_percentile"] > article["fleet_gpus"]["article_percentile"]


def test_two_files_with_one_name_are_told_apart(tmp_path):
    copy = write_priors(tmp_path / "copy.toml")
    result = run_cli("compare", "--priors", str(ARTICLE), "--priors", str(copy), "--samples", "500",
                     "--out", str(tmp_path / "out"), "--json")
    assert result.returncode == 0, result.stderr
    names = [s["name"] for s in json.loads(result.stdout)["scenarios"]]
    assert names == ["article (article.toml)", "article (copy.toml)"]


def test_shipped_prior_files_are_named_by_name_from_any_folder(tmp_path, monkeypatch):
    """Outside the checkout, `--priors article` reads the package's own file; the documents
    and repeat commands name it `article`, not by one installation's path, so the same command
    reads the same everywhere and repeats anywhere."""
    monkeypatch.chdir(tmp_path)
    result = run_cli("compare", "--priors", "article", "--priors", "informed-2026", "--samples",
                     "500", "--out", "out", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [s["path"] for s in doc["scenarios"]] == ["article", "informed-2026"]
    assert doc["command"][:6] == ["sora-uq", "compare", "--priors", "article", "--priors",
                                  "informed-2026"]
    assert "sora-uq compare --priors article --priors informed-2026" in \
        (tmp_path / "out" / "compare.md").read_text("utf-8")
    assert str(ROOT) not in (tmp_path / "out" / "compare.md").read_text("utf-8")


def test_each_set_above_its_error_target_is_warned_about(tmp_path):
    """2,000 draws a set: each set's headline error is far above the 1% a fixed size is held
    to, and stderr says so per set, as `report` does."""
    result = run_cli("compare", "--priors", str(ARTICLE), "--priors", "informed-2026",
                     "--samples", "2000", "--out", str(tmp_path / "out"), "--quiet")
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert result.stderr.splitlines() == [
        f"sora-uq: WARNING: {s['name']}: largest relative Monte Carlo error of a headline 5%, "
        f"50% or 95% quantile: {100 * s['max_relative_mcse']:.2f}%, ABOVE the 1.00% target: "
        "raise --max-samples or --samples" for s in doc["scenarios"]]


def test_too_few_draws_state_no_error_in_the_page(tmp_path):
    """Under 1,000 draws a set's error cannot be estimated: the scenarios table says so, as a
    report's run facts and the warning do, instead of a percentage that looks measured."""
    result = run_cli("compare", "--priors", str(ARTICLE), "--priors", "informed-2026",
                     "--samples", "500", "--out", str(tmp_path / "out"), "--quiet")
    assert result.returncode == 0, result.stderr
    assert all("not stated: too few draws (500)" in line for line in result.stderr.splitlines())
    page = (tmp_path / "out" / "compare.md").read_text("utf-8")
    rows = [line for line in page.splitlines() if line.startswith(("| `article`",
                                                                   "| `informed-2026`"))]
    assert len(rows) == 2
    assert all(row.endswith("| 500 | not stated: too few draws |") for row in rows), rows


def test_bad_input_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    one = run_cli("compare", "--priors", str(ARTICLE), "--out", str(out))
    assert one.returncode == 2 and "at least two --priors" in one.stderr
    broken = write_priors(tmp_path / "broken.toml", {"fps": {"dist": "fixed", "value": 24}})
    bad = run_cli("compare", "--priors", str(ARTICLE), "--priors", str(broken), "--out", str(out))
    assert bad.returncode == 2 and "broken.toml" in bad.stderr and "fps" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_prints_one_table_per_headline_output(compared):
    _, doc, stdout = compared
    for name in doc["headline"]:
        label = doc["model"]["outputs"][name]["label"]
        assert label in stdout
    assert stdout.count("| priors | median | 50% interval | 90% interval |") == len(doc["headline"])
    assert "| smaller-sora | " in stdout and "| article | " in stdout
    assert "wrote " in stdout


def test_stops_by_error_like_report_and_shows_the_same_numbers(tmp_path):
    # compare used a fixed 400,000 draws while report stopped by error, so one prior set
    # showed slightly different numbers in each.
    variant = write_priors(tmp_path / "variant.toml")
    compared = run_cli("compare", "--priors", str(ARTICLE), "--priors", str(variant),
                       "--rtol", "0.03", "--out", str(tmp_path / "cmp"), "--json")
    assert compared.returncode == 0, compared.stderr
    reported = run_cli("report", "--priors", str(ARTICLE), "--rtol", "0.03", "--no-sensitivity",
                       "--out", str(tmp_path / "rep"), "--json")
    assert reported.returncode == 0, reported.stderr
    doc, summary = json.loads(compared.stdout), json.loads(reported.stdout)
    article = doc["scenarios"][0]
    assert doc["rtol"] == 0.03 and "--rtol" in doc["command"] and "--samples" not in doc["command"]
    assert article["samples"] == summary["samples"] and article["max_relative_mcse"] <= 0.03
    for name in doc["headline"]:
        assert article["outputs"][name] == summary["outputs"][name], name
