"""report.html as a person sees it: rendered in headless Chromium, screenshot saved and checked.

Chromium is driven over the DevTools protocol through Selenium and the system chromedriver
(Debian: ``apt-get install chromium chromium-driver``; ``.ci/run`` installs them). Without them
the browser tests skip with the reason; the HTML-structure tests below run everywhere.
"""

import base64
import html.parser
import json
import re
from pathlib import Path

import pytest
from conftest import ARTICLE, run_cli


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "article"
    result = run_cli("report", "--priors", str(ARTICLE), "--samples", "20000", "--seed", "3",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


class _Page(html.parser.HTMLParser):
    """Tags and attributes of a page and the text of its headings, for checks without a browser."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.headings: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "h2":
            self._in_heading = True
            self.headings.append("")

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_heading = False

    def handle_data(self, data):
        if self._in_heading:
            self.headings[-1] += data


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text("utf-8"))
    return page


def test_report_directory_holds_html_markdown_json_figures(report_dir):
    names = {p.name for p in report_dir.iterdir()}
    assert {"report.html", "report.md", "summary.json", "draws.nc", "figures"} <= names
    doc = json.loads((report_dir / "summary.json").read_text())
    figures = {p.stem for p in (report_dir / "figures").iterdir()}
    uncertain = [n for n, row in doc["assumptions"].items() if row["family"] != "fixed"]
    assert figures == ({f"dist_{n}" for n in doc["headline"]}
                       | {f"prior_{n}" for n in uncertain}  # a fixed value has no density
                       | {f"tornado_{n}" for n in doc["headline"]})
    manifest = json.loads((report_dir / "manifest.json").read_text())
    assert "report.html" in manifest["files"] and "figures/dist_fleet_gpus.svg" in manifest["files"]


def test_html_is_self_contained(report_dir):
    page = _parse(report_dir / "report.html")
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    doc = json.loads((report_dir / "summary.json").read_text())
    uncertain = [n for n, row in doc["assumptions"].items() if row["family"] != "fixed"]
    assert len(images) == 2 * len(doc["headline"]) + len(uncertain)
    for attrs in images:
        assert attrs["src"].startswith("data:image/svg+xml;base64,") and attrs["alt"]
        svg = base64.b64decode(attrs["src"].split(",", 1)[1]).decode("utf-8")
        assert "<svg" in svg and "http://www.w3.org/2000/svg" in svg  # namespace, not a fetch
    text = (report_dir / "report.html").read_text("utf-8")
    for attribute in ('src="http', "src='http", "url(http", "@import"):
        assert attribute not in text
    assert "@media print" in text


def test_html_and_markdown_give_the_sections_in_the_issue_order(report_dir):
    markdown = (report_dir / "report.md").read_text("utf-8")
    headings = [line[3:] for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == _parse(report_dir / "report.html").headings
    starts = ["1. Headline intervals", "2. Distributions", "3. What drives the uncertainty",
              "4. Assumptions", "5. The article's arithmetic", "6. Run facts"]
    numbered = [h for h in headings if h[:1].isdigit()]
    assert [h.startswith(s) for h, s in zip(numbered, starts, strict=False)] == [True] * len(starts)
    assert len(numbered) == len(starts)
    assert "not computed" not in markdown and "Tornado chart of" in markdown
    for line in markdown.splitlines():
        if line.startswith("![") and "](figures/" in line:
            assert (report_dir / line.split("](", 1)[1].split(")", 1)[0]).is_file()


def test_assumption_table_sketches_uncertain_priors_and_leaves_fixed_ones_blank(report_dir):
    lines = (report_dir / "report.md").read_text("utf-8").splitlines()
    fixed = next(line for line in lines if line.startswith("| `fps` | fixed |"))
    uncertain = next(line for line in lines if line.startswith("| `sora_params` | lognormal |"))
    assert "| frames/s |  |" in fixed and "![" not in fixed  # no sketch, no broken image
    assert "| ![prior density of sora_params](figures/prior_sora_params.svg) |" in uncertain


def test_headline_says_the_articles_percentile_in_words(report_dir):
    doc = json.loads((report_dir / "summary.json").read_text())
    fleet = doc["outputs"]["fleet_gpus"]
    percent = round(100 * fleet["article_percentile"])
    suffix = ("th" if 10 <= percent % 100 <= 20
              else {1: "st", 2: "nd", 3: "rd"}.get(percent % 10, "th"))
    # the fleet counts the priors' GPU (H100 for the article priors), as its unit says
    sentence = (f"The article's 720k H100s (peak serving fleet) sits at the {percent}{suffix} "
                "percentile")
    for name in ("report.md", "report.html"):
        assert sentence in (report_dir / name).read_text("utf-8")


def test_a_figure_in_a_tail_reads_as_english():
    """A figure beyond the draws' 1st or 99th percentile: "from below the 1st percentile to
    the 2nd percentile", "sits above the 99th percentile", never "the below the ..."."""
    from uncertainty.report.sections import article_words

    doc = {"model": {"marks_label": "the article", "outputs": {
        "y": {"label": "thing", "unit": "units"}}}, "outputs": {"y": {
            "article_range": [1.0, 2.0], "article_range_percentiles": [0.001, 0.02]}}}
    assert article_words(doc, "y") == ("The article's 1 to 2 units (thing) spans our "
                                       "distribution from below the 1st percentile to the 2nd "
                                       "percentile.")
    doc["outputs"]["y"] = {"article_value": 3.0, "article_percentile": 0.999}
    assert article_words(doc, "y") == ("The article's 3 units (thing) sits above the 99th "
                                       "percentile of our distribution.")


def test_a_qualified_reference_reads_as_english():
    """--gpu B200 restates the article's figures "in B200 terms": the sentences keep the GPU's
    name as written and put the qualifier after the possessive, and the headline table heads
    its percentile column plainly (not "article in B200 terms's percentile")."""
    from uncertainty.report.sections import article_words, headline_table_block

    doc = {"model": {"marks_label": "the article in B200 terms", "outputs": {
        "y": {"label": "thing", "unit": "B200s"}}}, "headline": ["y"], "outputs": {"y": {
            "median": 2.0, "eti_50": [1.0, 3.0], "eti_90": [0.5, 4.0], "article_value": 3.0,
            "article_percentile": 0.26, "article_range": None}}}
    assert article_words(doc, "y") == ("The article's (in B200 terms) 3 B200s (thing) sits at "
                                       "the 26th percentile of our distribution.")
    header = list(headline_table_block(doc).header)
    assert header[-2:] == ["article in B200 terms", "its percentile"]


def test_inconsistent_reproduction_lines_are_highlighted(report_dir):
    doc = json.loads((report_dir / "summary.json").read_text())
    bad = [line for line in doc["reproduction"] if not line["consistent"]]
    assert bad  # the article's fleet lines
    page = _parse(report_dir / "report.html")
    flagged = [attrs for tag, attrs in page.tags if tag == "tr" and attrs.get("class") == "flag"]
    assert len(flagged) == len(bad)
    html_text = (report_dir / "report.html").read_text("utf-8")
    for line in bad:
        assert line["note"] in html_text  # the reason is shown next to the line


@pytest.fixture(scope="module")
def loaded(browser, report_dir):
    """The report opened in Chromium, with the console and network logs of the load."""
    browser.get("about:blank")
    browser.get_log("browser"), browser.get_log("performance")  # drop the start page's logs
    browser.get((report_dir / "report.html").as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    console = browser.get_log("browser")
    network = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    screenshot = report_dir.parent / "report-screenshot.png"
    assert browser.save_screenshot(str(screenshot))
    return browser, console, network, screenshot


def test_page_loads_without_console_errors_or_failed_requests(loaded):
    browser, console, network, _ = loaded
    assert [e for e in console if e["level"] in ("SEVERE", "ERROR", "WARNING")] == []
    failed = [m for m in network if m["method"] == "Network.loadingFailed"]
    assert failed == []
    urls = [m["params"]["request"]["url"] for m in network
            if m["method"] == "Network.requestWillBeSent"]
    assert urls and all(url.startswith(("file:", "data:")) for url in urls)


def test_every_image_decodes_with_a_size(loaded, report_dir):
    browser = loaded[0]
    sizes = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight,"
        " i.getBoundingClientRect().width])")
    doc = json.loads((report_dir / "summary.json").read_text())
    uncertain = [n for n, row in doc["assumptions"].items() if row["family"] != "fixed"]
    assert len(sizes) == 2 * len(doc["headline"]) + len(uncertain)
    for complete, natural_width, natural_height, shown_width in sizes:
        assert complete and natural_width > 0 and natural_height > 0 and shown_width > 0


def test_headline_table_is_in_the_first_screen(loaded):
    browser = loaded[0]
    box = browser.execute_script(
        "const r = document.querySelector('#headline table').getBoundingClientRect();"
        "return [r.top, r.bottom, r.left, r.right, window.innerHeight, window.innerWidth]")
    top, bottom, left, right, height, width = box
    assert 0 <= top < bottom <= height and 0 <= left < right <= width


def test_title_names_the_priors_and_screenshot_is_an_image(loaded):
    browser, _, _, screenshot = loaded
    assert "article" in browser.title and "interval report" in browser.title
    heading = browser.execute_script("return document.querySelector('h1').textContent")
    assert "article" in heading
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_assumptions_that_do_not_move_an_output_are_named_not_tabled(report_dir):
    """The article priors' fleet: the Sobol total indices of the training-only
    assumptions are 0 to rounding, so the ranking names them under its table instead of
    giving each a row of zeros; summary.json keeps every row."""
    doc = json.loads((report_dir / "summary.json").read_text())
    rows = doc["pin_down_next"]["fleet_gpus"]
    idle = {row["assumption"] for row in rows if row["ST"] < 1e-9}
    assert idle >= {"dit_training_flops", "dataset_multiplier", "clip_seconds"}
    section = (report_dir / "report.md").read_text("utf-8").split(
        "**peak serving fleet**")[1].split("## 4.")[0]
    table = [line for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(table) == len(rows) - len(idle)
    assert not any(f"`{name}`" in line for line in table for name in idle)
    note = next(line for line in section.splitlines() if line.startswith("Not listed"))
    assert "do not move peak serving fleet at all" in note
    assert sorted(re.findall(r"`(\w+)`", note)) == sorted(idle)


def test_sensitivity_section_renders_tornado_and_pin_down_data_when_present(report_dir):
    from uncertainty.report.writer import render_html, render_markdown

    doc = json.loads((report_dir / "summary.json").read_text())
    bars = [{"assumption": "sora_params", "input_low": 5e9, "input_high": 80e9,
             "output_low": 2.0e3, "output_high": 3.2e4, "swing_log10": 1.2041}]
    doc["tornado"] = {"outputs": {"fleet_gpus": {"base": 1.5e6, "low_quantile": 0.05,
                                                 "high_quantile": 0.95, "bars": bars}}}
    doc["pin_down_next"] = {"fleet_gpus": [{
        "rank": 1, "assumption": "sora_params", "S1": 0.41234567, "S1_ci": [0.3812345, 0.4467891],
        "ST": 0.45, "ST_ci": [0.40123, 0.50987], "sentence": "Knowing it would remove 41%."}]}
    markdown = render_markdown(doc)
    section = markdown.split("## 3.")[1].split("## 4.")[0]
    assert "| `sora_params` | 5B to 80B | 2k | 32k | x16 |" in section  # 10 ** 1.2041 = 16.0
    assert "| 1 | `sora_params` | 0.41 [0.38, 0.45] | 0.45 [0.40, 0.51] |" in section
    assert not re.search(r"\d\.\d{5,}", section)  # numbers to the precision they carry
    assert "from its 5th percentile to its 95th percentile" in section
    assert section.count("not computed") == 4  # the two outputs without results, two lines each
    page = render_html(doc)
    assert "<code>sora_<wbr>params</code>" in page and "x16" in page
