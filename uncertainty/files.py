"""Writing outputs safely: a whole directory appears at once or not at all; no user file is lost.

A report directory is built in a hidden temporary sibling and moved into place with one rename.
Each directory the tool writes carries a manifest: the files it wrote, and which command wrote
them for which prior files (:class:`Provenance`). Without ``--force`` the tool replaces only a
directory whose manifest says the same command wrote it for the same prior files, and that holds
no file the manifest does not list; anything else is the user's. What the tool creates honours
the umask.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .interrupt import publishing, temporary

__all__ = ["MANIFEST", "Provenance", "check_output_directory", "output_directory",
           "require_writable", "write_new_file"]

MANIFEST = "manifest.json"
TOOL = "sora-uq"
# What a file browser leaves behind; never a reason to refuse a directory.
_BROWSER_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


@dataclass(frozen=True)
class Provenance:
    """Which command, run on which prior files, writes a directory.

    The manifest records the prior files relative to the directory itself, so the record stays
    true wherever the command is run from and names no machine's folders."""

    command: str
    priors: tuple[Path, ...] = ()

    @classmethod
    def of(cls, command: str, priors: Sequence[str | Path] = ()) -> Provenance:
        return cls(command, tuple(Path(p) for p in priors))

    def record(self, out: Path) -> dict:
        base = out.resolve()
        return {"command": self.command,
                "priors": [os.path.relpath(p.resolve(), base) for p in self.priors]}

    def same_as(self, manifest: dict, out: Path) -> bool:
        theirs = {(out / p).resolve() for p in manifest.get("priors", [])}
        return (manifest.get("command") == self.command
                and theirs == {p.resolve() for p in self.priors})


def _manifest(path: Path) -> dict | None:
    """The directory's manifest if the tool wrote it, else None."""
    try:
        manifest = json.loads((path / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("tool") == TOOL else None


def _unlisted(out: Path, manifest: dict) -> list[str]:
    """Files in ``out`` that its manifest does not list: the user's, never deleted unasked."""
    listed = set(manifest.get("files", [])) | {MANIFEST}
    found = (str(p.relative_to(out)) for p in out.rglob("*")
             if not p.is_dir() and p.name not in _BROWSER_FILES)
    return sorted(name for name in found if name not in listed)


def _command_words(command: str, priors: Sequence[Path]) -> str:
    """``sora-uq report --priors priors/a.toml``, paths as seen from here."""
    return " ".join([TOOL, command, *(f"--priors {os.path.relpath(p)}" for p in priors)])


def check_output_directory(out: Path, force: bool = False,
                           provenance: Provenance | None = None) -> None:
    """Refuse, before any work is done, a target the tool must not replace.

    Without ``force``, an existing non-empty directory is replaced only if the tool wrote it
    (it has a manifest), it holds no file the manifest does not list, and, when ``provenance``
    is given and the manifest records one, the same command wrote it for the same prior files.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a directory; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not force:
        _refuse_unless_replaceable(out, provenance)
    require_writable(out)


def require_writable(target: Path) -> None:
    """Refuse, before any work, a ``target`` (a file or directory to create) whose folder, or
    nearest existing ancestor, cannot take a new entry. Tested by creating and removing an
    empty directory there: permission bits say nothing to root, to ACLs or to pseudo file
    systems (``/proc``), and an answer from the file system itself is the one that holds.

    >>> import tempfile
    >>> require_writable(Path(tempfile.gettempdir()) / "not-yet" / "report")  # no error
    """
    target = Path(target)
    existing = target.parent if str(target.parent) else Path(".")
    while not existing.exists():
        existing = existing.parent
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".tmp-probe-", dir=existing))
    except OSError as err:
        raise UserError(f"{target}: cannot write here ({existing}: {err.strerror})") from None


def _refuse_unless_replaceable(out: Path, provenance: Provenance | None) -> None:
    manifest = _manifest(out)
    if manifest is None:
        raise UserError(f"{out}: directory exists and was not written by {TOOL}; "
                        f"choose another --out or pass --force to replace it")
    unlisted = _unlisted(out, manifest)
    if unlisted:
        more = f" and {len(unlisted) - 1} more" if len(unlisted) > 1 else ""
        raise UserError(f"{out}: holds {unlisted[0]}{more}, which {TOOL} did not write; move it "
                        f"away, choose another --out, or pass --force to replace the directory")
    if provenance is not None and "command" in manifest and not provenance.same_as(manifest, out):
        theirs = _command_words(str(manifest["command"]),
                                [out / p for p in manifest.get("priors", [])])
        ours = _command_words(provenance.command, provenance.priors)
        raise UserError(f"{out}: written by `{theirs}`, not by this run (`{ours}`); choose "
                        f"another --out, or pass --force to replace it")


@contextmanager
def output_directory(out: Path, force: bool = False,
                     provenance: Provenance | None = None) -> Iterator[Path]:
    """Yield a fresh temporary directory; on success, it replaces ``out`` in one rename.

    If the body raises (or the process is interrupted), ``out`` is left exactly as it was and
    the temporary directory is removed; one left by a killed run is removed by the next run.
    ``out`` given as a symbolic link replaces the directory it points to (the link stays).
    ``provenance`` is checked (see :func:`check_output_directory`) and recorded in the manifest.
    """
    out = Path(out)
    check_output_directory(out, force, provenance)
    if out.is_symlink():
        out = Path(os.path.realpath(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(out)
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{out.name}-{os.getpid()}-",
                                        dir=out.parent))
        staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the result should not be
    except OSError as err:
        raise _not_written(out, err) from None
    try:
        with temporary(staging):
            yield staging
            files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*")
                           if p.is_file())
            record = {"tool": TOOL, **(provenance.record(out) if provenance else {}),
                      "files": files}
            (staging / MANIFEST).write_text(json.dumps(record, indent=1) + "\n")
            with publishing():  # not once Ctrl-C was pressed, even if a library swallowed it
                _swap_into_place(staging, out)
    except OSError as err:  # the body only writes: a full disk, a vanished folder, ...
        raise _not_written(out, err) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _not_written(out: Path, err: OSError) -> UserError:
    return UserError(f"{out}: could not be written ({err.strerror or err}); it is left as it "
                     "was")


def _umask() -> int:
    """The process's umask (reading it means setting it; it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes it private; a new file should not be
        with temporary(Path(tmp)), os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            with publishing():
                os.link(tmp, path)  # fails if `path` appeared meanwhile: never an overwrite
    except FileExistsError:
        raise UserError(f"{path}: already exists; it is never overwritten, choose a new name") \
            from None
    finally:
        os.unlink(tmp)
