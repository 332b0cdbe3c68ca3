import contextlib
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "priors" / "article.toml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
VIEWPORT = (1280, 900)


@pytest.fixture(scope="session", autouse=True)
def compile_cache(tmp_path_factory):
    """Every command the tests run (in this process or a fresh one) shares one persistent
    compilation cache of its own: never the user's, and warm after its first use."""
    import os

    folder = tmp_path_factory.mktemp("compile-cache")
    os.environ["SORA_UQ_CACHE_DIR"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def article_priors():
    from uncertainty import load_priors

    return load_priors(ARTICLE)


def run_cli(*args: str, subprocess_: bool = False,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``sora-uq ARGS``: in this process through ``main`` (fast), or in a fresh process."""
    if subprocess_:
        return subprocess.run([sys.executable, "-m", "uncertainty.cli", *args], capture_output=True,
                              text=True, cwd=ROOT, timeout=timeout)
    from uncertainty.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def run_python(code: str, **kwargs) -> subprocess.CompletedProcess:
    """``python -c CODE`` in a fresh interpreter from the repository root, output captured."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=False, **kwargs)


def write_priors(path: Path, overrides: dict | None = None, drop: tuple = (),
                 extra: str = "") -> Path:
    """A copy of the article priors with some assumption tables replaced or removed."""
    import tomllib

    data = tomllib.loads(ARTICLE.read_text())
    assumptions = data["assumptions"]
    for name in drop:
        assumptions.pop(name)
    assumptions.update(overrides or {})
    path.write_text(dumps_priors(data) + extra)
    return path


def _toml_value(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value).replace("inf", "inf").replace("nan", "nan")
    return str(value)


def dumps_priors(data: dict) -> str:
    lines = ["[meta]"] + [f"{k} = {_toml_value(v)}" for k, v in data.get("meta", {}).items()]
    for name, spec in data["assumptions"].items():
        lines += ["", f"[assumptions.{name}]"] + [f"{k} = {_toml_value(v)}"
                                                  for k, v in spec.items()]
    return "\n".join(lines) + "\n"


def write_identity_model(folder: Path) -> Path:
    """``folder/m.py`` defining ``MODEL``: one input ``x``, one output ``y = x`` (for prior
    files that name it as ``model = "m.py:MODEL"``)."""
    path = folder / "m.py"
    path.write_text("from uncertainty import Model\n"
                    "MODEL = Model(lambda a: {'y': a['x']}, {'y': ''})\n")
    return path


def write_identity_priors(folder: Path, ci: tuple[float, float] = (2.0, 8.0),
                          name: str = "tiny.toml", unit: str = "") -> Path:
    """``folder/name``: a prior file for :func:`write_identity_model`'s model (written too),
    with ``x`` lognormal, 90% in ``ci`` (so ``y``'s median is the geometric mean of its ends)."""
    write_identity_model(folder)
    path = folder / name
    path.write_text('[meta]\nmodel = "m.py:MODEL"\n\n[assumptions.x]\ndist = "lognormal"\n'
                    f"ci = [{ci[0]}, {ci[1]}]\n" + (f'unit = "{unit}"\n' if unit else "")
                    + 'source = "a test"\n')
    return path


# Headless Chromium through selenium and the system chromedriver, for the pages people look at
# (report.html, the explore page). Without them the browser tests skip with the reason.
@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Chromium and chromedriver not installed (apt-get install chromium "
                    "chromium-driver; CI installs them)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (the test extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # Without the background-networking flags Chromium phones home and, offline, logs failures.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage",
                 f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}"):
        options.add_argument(flag)
    user_data = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    options.add_argument(f"--user-data-dir={user_data}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()
    shutil.rmtree(user_data, ignore_errors=True)
