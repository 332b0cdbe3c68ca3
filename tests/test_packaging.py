"""Packaging: dependency lists agree; importing the package leaves JAX's global config alone;
an installed wheel works from any directory."""

import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ARTICLE, ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    listed, in_dependencies = set(), False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if not line.startswith(" "):
            in_dependencies = line.startswith("dependencies:")
            continue
        match = re.match(r"\s+- ([A-Za-z0-9_.-]+)", line)
        if in_dependencies and match and match.group(1) != "python":
            listed.add(match.group(1).lower())
    assert listed == wanted


def test_import_changes_no_global_jax_config():
    code = (
        "import jax\n"
        "before = {k: getattr(jax.config, k) for k in ('jax_enable_x64', 'jax_platforms', "
        "'jax_default_matmul_precision', 'jax_default_prng_impl')}\n"
        "import uncertainty, uncertainty.cli, uncertainty.report.writer\n"
        "after = {k: getattr(jax.config, k) for k in before}\n"
        "assert before == after, (before, after)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_console_script_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # the program's first lines install the Ctrl-C handler, then import the command line
    assert project["scripts"]["sora-uq"] == "uncertainty._program:main"
    assert "gpu" in project["optional-dependencies"]


@pytest.mark.slow
def test_an_installed_wheel_finds_its_prior_files_from_any_directory(tmp_path):
    """Build the wheel, install it (not editable) in a fresh virtual environment, and write a
    report from an empty folder: the shipped prior files and data come from the package.

    The new environment borrows this one's dependencies through a .pth line (installing jax
    and friends again would take minutes and a network); the package itself comes only from
    the wheel: this checkout's editable hook is never loaded there."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("sora_uq-*.whl")
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                                "'purelib'))"], check=True, capture_output=True, text=True)
                .stdout.strip())
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (site / "borrowed-dependencies.pth").write_text("\n".join(deps) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "-q", str(wheel)], check=True, capture_output=True, timeout=300)
    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run([str(python), "-c", "import uncertainty; print(uncertainty.__file__)"],
                           cwd=empty, check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(site)), where  # the wheel's package, not this checkout
    run = subprocess.run([str(env_dir / "bin" / "sora-uq"), "report", "--priors", "article",
                          "--samples", "20000", "--no-sensitivity", "--quiet"],
                         cwd=empty, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    summary = json.loads((empty / "reports" / "article" / "summary.json").read_text())
    assert summary["priors"]["sha256"] == hashlib.sha256(ARTICLE.read_bytes()).hexdigest()
    assert summary["reproduction"] and summary["samples"] == 20000
    # named as the user named it, not by the installation's path: the command works anywhere
    assert summary["priors"]["path"] == "article"
    assert summary["command"][:4] == ["sora-uq", "report", "--priors", "article"]
    shown = subprocess.run([str(env_dir / "bin" / "sora-uq"), "priors", "show", "informed-2026"],
                           cwd=empty, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0 and "rank correlations" in shown.stdout, shown.stderr
