"""Every way a prior file can be wrong (tests/data/invalid/): exit 2, one line naming the file,
the place and the rule, and nothing written.

Each file states the message it must produce in its first line (``# expect: ...``) or, for files
that cannot hold a comment, in a ``FILE.expect`` sidecar.
"""

from pathlib import Path

import pytest
from conftest import run_cli

CORPUS = Path(__file__).parent / "data" / "invalid"
PRIOR_FILES = sorted(CORPUS.glob("*.toml"))


def expected_message(path: Path) -> str:
    sidecar = path.with_name(path.name + ".expect")
    if sidecar.exists():
        return sidecar.read_text().strip()
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), path
    return first.removeprefix("# expect: ")


def test_corpus_is_complete():
    assert len(PRIOR_FILES) >= 25


@pytest.mark.parametrize("path", PRIOR_FILES, ids=lambda p: p.stem)
def test_invalid_prior_file(path, tmp_path):
    out = tmp_path / "out"
    result = run_cli("report", "--priors", str(path), "--out", str(out), "--samples", "100")
    assert result.returncode == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"sora-uq: error: {path}"), message
    assert expected_message(path) in message
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert run_cli("priors", "validate", str(path)).stderr == result.stderr


def test_syntax_error_gives_the_line():
    result = run_cli("priors", "validate", str(CORPUS / "syntax-error.toml"))
    assert "(at line " in result.stderr


EVIDENCE_FILES = sorted((CORPUS / "evidence").glob("*.toml"))


def test_evidence_corpus_is_complete():
    assert len(EVIDENCE_FILES) >= 8


@pytest.mark.parametrize("path", EVIDENCE_FILES, ids=lambda p: p.stem)
def test_invalid_evidence_file(path, tmp_path):
    out = tmp_path / "new.toml"
    result = run_cli("update", "--priors", "article", "--evidence", str(path), "--out", str(out))
    assert result.returncode == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"sora-uq: error: {path}"), message
    assert expected_message(path) in message
    assert list(tmp_path.iterdir()) == []
