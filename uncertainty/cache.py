"""Compile once, ever: JAX's persistent compilation cache for the command line.

A fresh ``sora-uq`` process would otherwise spend most of its time compiling the same XLA
programs as the last one. The command line points JAX's persistent cache at the user's cache
directory (``$XDG_CACHE_HOME/sora-uq/jax`` on Linux, the platform's own elsewhere), caching
every program whatever its compile time, bounded in size with least-recently-used eviction
under a file lock (JAX's own, through ``filelock``), so concurrent runs share it safely.

``SORA_UQ_CACHE_DIR`` chooses another directory; ``SORA_UQ_NO_CACHE=1`` or ``--no-cache``
turns it off. The library never does this on import (no global JAX setting changes behind a
notebook's back); a script can opt in with :func:`enable`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["CACHE_MAX_BYTES", "ENV_DIR", "ENV_OFF", "cache_dir", "enable"]

ENV_DIR = "SORA_UQ_CACHE_DIR"
ENV_OFF = "SORA_UQ_NO_CACHE"
CACHE_MAX_BYTES = 1 << 30  # 1 GiB; a full report's programs take about 20 MB

# JAX's options and the value each gets (the directory is added by enable).
_SETTINGS = {
    "jax_persistent_cache_min_compile_time_secs": 0.0,  # every program, not only slow ones
    "jax_persistent_cache_min_entry_size_bytes": 0,
    "jax_compilation_cache_max_size": CACHE_MAX_BYTES,
}


def cache_dir(environ=os.environ) -> Path | None:
    """Where compiled programs are kept, or None when the cache is turned off.

    >>> str(cache_dir({"SORA_UQ_CACHE_DIR": "/tmp/c"}))
    '/tmp/c'
    >>> cache_dir({"SORA_UQ_NO_CACHE": "1"}) is None
    True
    """
    if environ.get(ENV_OFF, "").strip().lower() not in ("", "0", "false", "no"):
        return None
    if environ.get(ENV_DIR):
        return Path(environ[ENV_DIR]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("sora-uq", appauthor=False)) / "jax"


def enable(directory: Path | str | None = None, environ=os.environ) -> Path | None:
    """Turn the persistent cache on (in ``directory``, default :func:`cache_dir`); returns the
    directory, or None when it is off or cannot be created (a run never fails for its cache).

    Settings the user gave JAX directly (``JAX_COMPILATION_CACHE_DIR``, ...) win. Before JAX
    is imported this sets JAX's environment variables (so ``--help`` still imports no JAX);
    after, it updates JAX's configuration."""
    if directory is None and environ.get("JAX_COMPILATION_CACHE_DIR"):
        directory = environ["JAX_COMPILATION_CACHE_DIR"]  # the user's own setting
    directory = Path(directory) if directory is not None else cache_dir(environ)
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    settings = {**_SETTINGS, "jax_compilation_cache_dir": str(directory)}
    user_set = {name for name in settings if name.upper() in environ}
    if "jax" in sys.modules:
        import jax

        for name, value in settings.items():
            if name not in user_set:
                jax.config.update(name, value)
    else:
        for name, value in settings.items():
            environ.setdefault(name.upper(), str(value))
    return directory
