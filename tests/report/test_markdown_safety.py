"""Reports carry a prior file's names, sources and units: none of them may become markup in
report.md (raw HTML, remote images, javascript: links, headings), and no cell may make the HTML
renderer's number test slow."""

import re
import time

from conftest import run_cli, write_identity_model

from uncertainty.report.blocks import Bullets, Section, Table, Text, md_safe, to_markdown
from uncertainty.report.html import _is_number

HOSTILE = ('<img src=x onerror=alert(1)> ![pixel](https://example.com/p.png) '
           '[click](javascript:alert(1))\n# Injected heading\n> quote')


def _inert(markdown: str) -> None:
    assert "<img" not in markdown and "<script" not in markdown
    assert "](https://example.com" not in markdown and "](javascript:" not in markdown
    assert not re.search(r"^\s*# Injected", markdown, re.M)
    assert not re.search(r"^\s*> quote", markdown, re.M)


def test_md_safe_leaves_the_reports_own_marks():
    assert md_safe("**WARNING**: `fleet_gpus` 0.65 [0.65, 0.71]") == \
        "**WARNING**: `fleet_gpus` 0.65 [0.65, 0.71]"
    assert md_safe("# x") == "\\# x" and md_safe("[a]: javascript:x") == "\\[a]: javascript:x"


def test_every_block_is_rendered_inert():
    sections = [Section("s", HOSTILE, [Text(HOSTILE), Bullets([HOSTILE]),
                                       Table([HOSTILE, "b"], [[HOSTILE, "x | y"]],
                                             caption=HOSTILE)])]
    markdown = to_markdown(HOSTILE, sections, [Text(HOSTILE)])
    _inert(markdown)
    table_rows = [line for line in markdown.splitlines() if line.startswith("|")]
    assert all(line.count(" | ") == 1 for line in table_rows if "---" not in line)


def test_a_report_of_hostile_names_sources_and_units_is_inert(tmp_path):
    write_identity_model(tmp_path)
    source = HOSTILE.replace("\n", "\\n")
    priors = tmp_path / "p.toml"
    priors.write_text(f'[meta]\nmodel = "m.py:MODEL"\ndescription = "{source}"\n\n'
                      f'[assumptions.x]\ndist = "lognormal"\nmedian = 2.0\nsigma = 0.5\n'
                      f'unit = "{source}"\nsource = "{source}"\n')
    out = tmp_path / "report"
    result = run_cli("report", "--priors", str(priors), "--samples", "2000", "--out", str(out),
                     "--no-sensitivity", "--quiet")
    assert result.returncode == 0, result.stderr
    markdown = (out / "report.md").read_text()
    assert "onerror" in markdown  # the text is there, escaped
    _inert(markdown)
    page = (out / "report.html").read_text()
    assert "<img src=x" not in page and 'href="javascript:' not in page


def test_number_test_is_linear_on_long_runs_of_spaces():
    started = time.perf_counter()
    for cell in ("1" + " " * 3000 + "x", " " * 30_000, "1" + " " * 30_000 + "e5x",
                 "~" * 20_000 + "1"):
        _is_number(cell)
    assert time.perf_counter() - started < 0.5
    assert _is_number("1.2k") and _is_number("~ 3.4M") and _is_number("12 to 40")
    assert _is_number("1.5e+09") and not _is_number("x1") and not _is_number("fixed")
