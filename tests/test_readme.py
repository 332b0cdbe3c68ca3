"""The README's examples run: every ```python block, in order, in one namespace, and every
``sora-uq`` command of the ```sh blocks, in a scratch copy of the shipped files, with small
sizes so the whole README takes seconds. An example that rots fails here.

What is not run, and why, is decided by rule, not by example: ``make`` (it would run this very
test suite), commands that need a network peer (``curl``, ``explore`` serving a page, the
multi-host ``--coordinator``), and synopses (optional parts in brackets).
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

README = ROOT / "README.md"
BLOCK = re.compile(r"^```(python|sh)\n(.*?)^```", re.M | re.S)

# Python: sizes scaled down (a keyword argument set to a literal).
PYTHON_SIZES = [
    (re.compile(r"\b(n|samples)=([\d_]+)\b"), lambda m: f"{m[1]}={min(int(m[2]), 2000)}"),
    (re.compile(r"\bn_base=2\*\*\d+"), lambda m: "n_base=2**8"),
    (re.compile(r"\brtol=0\.\d+"), lambda m: "rtol=0.05")]
# sora-uq: options added unless the example gives them, and values capped.
ADDED = {"report": [["--samples", "2000"], ["--no-sensitivity"], ["--quiet"]],
         "compare": [["--samples", "2000"]],
         "sobol": [["--n", "64"]],
         "shapley": [["--permutations", "50"]],
         "voi": [["--samples", "1000"]],
         "update": [["--samples", "30"], ["--method", "importance"]]}
CAPPED = {"--samples": 2000, "--n": 64, "--permutations": 50}
NOT_RUN = {"make": "runs the test suite itself", "curl": "needs a running server"}


def blocks(kind: str) -> list[str]:
    return [m[2] for m in BLOCK.finditer(README.read_text()) if m[1] == kind]


def shell_commands() -> list[list[str]]:
    commands = []
    for block in blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(words)
    return commands


def skipped(words: list[str]) -> str | None:
    """Why a command is not run, or None."""
    if words[0] in NOT_RUN:
        return NOT_RUN[words[0]]
    if any(w.startswith("[") for w in words):
        return "a synopsis"
    if words[:2] == ["sora-uq", "explore"]:
        return "serves a page until stopped"
    if "--coordinator" in words:
        return "needs several hosts"
    return None


def small(args: list[str]) -> list[str]:
    args = list(args)
    for i, word in enumerate(args[:-1]):
        if word in CAPPED and args[i + 1].isdigit():
            args[i + 1] = str(min(int(args[i + 1]), CAPPED[word]))
    for option in ADDED.get(args[0], []):
        if option[0] not in args and not (option[0] == "--samples" and "--rtol" in args):
            args += option
    return args


def test_the_readme_has_examples_of_both_kinds():
    assert len(blocks("python")) >= 5 and len(shell_commands()) >= 15
    assert sum(skipped(c) is None for c in shell_commands()) >= 15


def test_python_examples(monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for block in blocks("python"):
        for pattern, replace in PYTHON_SIZES:
            block = pattern.sub(replace, block)
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A working directory with copies of the shipped files the examples name."""
    folder = tmp_path_factory.mktemp("readme")
    for name in ("priors", "examples"):
        shutil.copytree(ROOT / name, folder / name)
    return folder


@pytest.mark.slow  # about a minute: two updates and Shapley effects under informed-2026
def test_shell_examples(scratch, monkeypatch):
    monkeypatch.chdir(scratch)
    ran = 0
    for words in shell_commands():
        if skipped(words):
            continue
        words, target = _redirect(words)
        if words[0] == "cp":
            shutil.copy(words[1], words[2])
            continue
        assert words[0] == "sora-uq", f"README: a command this test cannot run: {words}"
        result = run_cli(*small(words[1:]))
        assert result.returncode == 0, f"README: {shlex.join(words)}\n{result.stderr}"
        if target:
            Path(target).write_text(result.stdout)
        ran += 1
    assert ran >= 15


def _redirect(words: list[str]) -> tuple[list[str], str | None]:
    if len(words) > 2 and words[-2] == ">":
        return words[:-2], words[-1]
    return words, None
