"""Writing outputs safely: a whole directory appears at once or not at all; no user file is lost.

A report directory is built in a hidden temporary sibling and moved into place with one rename.
Each directory the tool writes carries a manifest; a directory without one is the user's and is
never replaced unless they say ``--force``.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import UserError
from .interrupt import raise_if_requested

__all__ = ["MANIFEST", "check_output_directory", "output_directory", "write_new_file"]

MANIFEST = "manifest.json"
TOOL = "sora-uq"


def _is_ours(path: Path) -> bool:
    try:
        return json.loads((path / MANIFEST).read_text("utf-8")).get("tool") == TOOL
    except (OSError, ValueError, AttributeError):
        return False


def check_output_directory(out: Path, force: bool = False) -> None:
    """Refuse, before any work is done, a target the tool must not replace."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a directory; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not _is_ours(out) and not force:
        raise UserError(f"{out}: directory exists and was not written by {TOOL}; "
                        f"choose another --out or pass --force to replace it")
    parent = out.parent if str(out.parent) else Path(".")
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{out}: cannot write here ({existing} is not writable)")


@contextmanager
def output_directory(out: Path, force: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary directory; on success, it replaces ``out`` in one rename.

    If the body raises (or the process is interrupted), ``out`` is left exactly as it was and
    the temporary directory is removed; one left by a killed run is removed by the next run.
    """
    out = Path(out)
    check_output_directory(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(out)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{out.name}-{os.getpid()}-", dir=out.parent))
    try:
        yield staging
        files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
        (staging / MANIFEST).write_text(json.dumps({"tool": TOOL, "files": files}, indent=1) + "\n")
        raise_if_requested()  # a Ctrl-C that a library swallowed still stops the commit
        _swap_into_place(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_stale_staging(out: Path) -> None:
    """Drop staging directories of runs that were killed (their process no longer exists)."""
    for stale in out.parent.glob(f".tmp-{out.name}-*-*"):
        pid = stale.name.removeprefix(f".tmp-{out.name}-").split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def _swap_into_place(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    if _exchange(staging, out):
        return  # `staging` now holds the old report and is removed by the caller
    # Fallback: move the old directory aside, the new one in, then drop the old one. Between
    # the two renames `out` is briefly absent, never half-written.
    retired = Path(tempfile.mkdtemp(prefix=f".old-{out.name}-", dir=out.parent))
    retired.rmdir()
    out.rename(retired)
    try:
        staging.rename(out)
    except BaseException:
        retired.rename(out)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def write_new_file(path: Path, text: str) -> None:
    """Write ``text`` to a file that must not exist yet; atomically, never overwriting."""
    path = Path(path)
    if path.exists():
        raise UserError(f"{path}: already exists; it is never overwritten, choose a new name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        raise_if_requested()
        os.link(tmp, path)  # fails if `path` appeared meanwhile: no overwrite, even in a race
    except FileExistsError:
        raise UserError(f"{path}: already exists; it is never overwritten, choose a new name") \
            from None
    finally:
        os.unlink(tmp)
