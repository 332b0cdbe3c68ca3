"""Packaging: dependency lists agree; importing the package leaves JAX's global config alone."""

import re
import subprocess
import sys
import tomllib

from conftest import ROOT


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
        "import uncertainty, uncertainty.cli, uncertainty.report\n"
        "after = {k: getattr(jax.config, k) for k in before}\n"
        "assert before == after, (before, after)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_console_script_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["sora-uq"] == "uncertainty.cli:main"
    assert "gpu" in project["optional-dependencies"]
