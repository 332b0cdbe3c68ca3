"""``sora-uq explore`` as a person uses it: the server started from the command line, the page
driven in headless Chromium, Ctrl-C to stop."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT

SAMPLES = "16384"


def _wait(condition, timeout=30.0, every=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {condition}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``sora-uq explore --no-browser --port 0`` in a fresh process, and the URL it prints."""
    folder = tmp_path_factory.mktemp("explore-page")
    process = subprocess.Popen(
        [sys.executable, "-m", "uncertainty.cli", "explore", "--priors",
         str(ROOT / "priors" / "article.toml"), "--no-browser", "--port", "0",
         "--samples", SAMPLES],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # printed once the model is compiled and the port bound
    assert "http://127.0.0.1:" in line, process.stderr.read() if process.poll() else line
    url = line.split()[2]
    yield process, url, folder
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def page(browser, server):
    _, url, _ = server
    browser.get("about:blank")
    browser.get_log("browser"), browser.get_log("performance")
    browser.get(url)
    _wait(lambda: browser.execute_script(
        "return document.querySelectorAll('#headline tbody tr').length") == 3)
    return browser


def _median(browser, output):
    return browser.execute_script(
        f"const c = document.querySelector('tr[data-output=\"{output}\"] td[data-median]');"
        "return c ? Number(c.dataset.median) : null")


def _slide(browser, label, position):
    browser.execute_script(
        "const s = document.querySelector(`input[type=range][aria-label=\"${arguments[0]}\"]`);"
        "s.value = String(arguments[1]); s.dispatchEvent(new Event('input'));", label, position)


def test_page_renders_without_console_errors_or_failed_requests(page, server, tmp_path_factory):
    _, url, _ = server
    assert page.title.startswith("Sora compute")
    assert page.execute_script("return document.querySelectorAll('.assumption').length") > 10
    assert page.execute_script("return document.querySelectorAll('#charts svg').length") == 6
    console = page.get_log("browser")
    assert [e for e in console if e["level"] in ("SEVERE", "ERROR", "WARNING")] == []
    network = [json.loads(e["message"])["message"] for e in page.get_log("performance")]
    assert [m for m in network if m["method"] == "Network.loadingFailed"] == []
    urls = [m["params"]["request"]["url"] for m in network
            if m["method"] == "Network.requestWillBeSent"]
    assert urls and all(u.startswith((url, "data:")) for u in urls)  # nothing from elsewhere
    shot = tmp_path_factory.mktemp("shots") / "explore.png"
    assert page.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_the_articles_range_is_shown_whole_as_in_the_reports(page):
    """Training's reference figure is the article's range 4.21k to 10.5k: the table gives both
    ends and where each falls, and its histogram marks both (the page once showed only the
    low end); the fleet's single 720k stays one value and one mark."""
    cells = page.execute_script(
        "return Array.from(document.querySelectorAll('tr[data-output=\"training_gpu_months\"] "
        "td')).map(c => c.textContent)")
    assert cells[4] == "4.21k to 10.5k"
    assert re.fullmatch(r"\d+(st|nd|rd|th) to \d+(st|nd|rd|th)", cells[5]), cells[5]
    fleet = page.execute_script(
        "return Array.from(document.querySelectorAll('tr[data-output=\"fleet_gpus\"] td'))"
        ".map(c => c.textContent)")
    assert fleet[4] == "720k" and " to " not in fleet[5]
    lines = page.execute_script(
        "return Array.from(document.querySelectorAll('#charts svg')).map("
        "s => s.querySelectorAll('line.mark').length)")
    assert lines == [2, 0, 2, 0, 1, 0]  # per output its histogram, then its tornado


def test_moving_a_slider_moves_the_headline_the_right_way(page):
    before = _median(page, "training_gpu_months")
    _slide(page, "sora_params 95%", 1000)  # the 95% point of the parameter count, 10x up
    after = _wait(lambda: (m := _median(page, "training_gpu_months")) != before and m)
    assert after > before
    _slide(page, "sora_params 95%", 0)  # and 10x down from the file's value
    lower = _wait(lambda: (m := _median(page, "training_gpu_months")) != after and m)
    assert lower < before


def test_an_invalid_value_shows_its_error_next_to_the_field(page):
    page.execute_script(
        "const f = document.getElementById('sora_params-ci-0');"
        "f.value = '-5'; f.dispatchEvent(new Event('input'));")
    card = "document.querySelector('.assumption[data-name=\"sora_params\"] .error')"
    message = _wait(lambda: page.execute_script(f"const e = {card}; return e.hidden ? '' : "
                                                "e.textContent"))
    assert "sora_params" in message and "positive" in message
    assert "needs a fix" in page.find_element("id", "status").text
    page.find_element("id", "reset").click()
    _wait(lambda: page.execute_script(f"return {card}.hidden"))


def _shown_headers(browser):
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#headline th'))"
        ".filter(th => getComputedStyle(th).display !== 'none').map(th => th.textContent)")


def test_a_model_without_reference_figures_gets_no_empty_columns(browser, page, tmp_path):
    """The article's page has its figure and percentile columns; a user's model that marks no
    figure (the datacenter example) gets none, not two empty columns."""
    assert _shown_headers(page)[-2:] == ["the article's figure", "its percentile"]
    process = subprocess.Popen(
        [sys.executable, "-m", "uncertainty.cli", "explore", "--priors",
         str(ROOT / "examples" / "datacenter" / "priors.toml"), "--no-browser", "--port", "0",
         "--samples", SAMPLES], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        line = process.stdout.readline()
        assert "http://127.0.0.1:" in line, process.stderr.read() if process.poll() else line
        browser.get(line.split()[2])
        _wait(lambda: browser.execute_script(
            "return document.querySelectorAll('#headline tbody tr').length") == 2)
        assert _shown_headers(browser) == ["output", "median", "50% interval", "90% interval"]
    finally:
        process.kill()
        process.wait()


def test_ctrl_c_stops_the_server_at_once(server, page):
    process = server[0]
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    code = process.wait(timeout=10)
    assert code == 130 and time.monotonic() - started < 3
    assert "Traceback" not in process.stderr.read()


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path):
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        done = subprocess.run([sys.executable, "-m", "uncertainty.cli", "explore", "--no-browser",
                               "--port", str(taken.getsockname()[1]), "--samples", "4096"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              env={**os.environ})
    finally:
        taken.close()
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("sora-uq: error: --host 127.0.0.1 --port")
    assert "Traceback" not in done.stderr
