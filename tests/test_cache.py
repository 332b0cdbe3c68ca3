"""The persistent compilation cache: on by default for the command line, off when asked, and
the user's own JAX settings win."""

import os
import subprocess
import sys

import pytest
from conftest import ROOT, run_python, write_identity_priors


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_identity_priors(tmp_path_factory.mktemp("tiny"), ci=(1.0, 4.0), name="p.toml")


def _tornado(priors, *extra, **env):
    out = priors.parent / f"out-{len(os.listdir(priors.parent))}"
    environ = {k: v for k, v in os.environ.items()
               if k not in ("SORA_UQ_CACHE_DIR", "SORA_UQ_NO_CACHE")
               and not k.startswith("JAX_")}
    return subprocess.run([sys.executable, "-m", "uncertainty.cli", "tornado", "--priors",
                           str(priors), "--json", "--out", str(out),
                           *extra], capture_output=True, text=True,
                          cwd=ROOT, env={**environ, **env}, timeout=300)


def _entries(folder):
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_compiled_programs_are_kept_for_the_next_run(tiny, tmp_path):
    done = _tornado(tiny, SORA_UQ_CACHE_DIR=str(tmp_path / "c"))
    assert done.returncode == 0, done.stderr
    assert _entries(tmp_path / "c")


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_the_cache_can_be_turned_off(tiny, tmp_path, how):
    env = {"SORA_UQ_CACHE_DIR": str(tmp_path / "c")}
    extra = ("--no-cache",) if how == "flag" else ()
    if how == "environment":
        env["SORA_UQ_NO_CACHE"] = "1"
    done = _tornado(tiny, *extra, **env)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "c").exists()


def test_the_users_own_jax_cache_directory_wins(tiny, tmp_path):
    done = _tornado(tiny, SORA_UQ_CACHE_DIR=str(tmp_path / "ours"),
                    JAX_COMPILATION_CACHE_DIR=str(tmp_path / "theirs"))
    assert done.returncode == 0, done.stderr
    assert _entries(tmp_path / "theirs") and not (tmp_path / "ours").exists()


def test_enabling_after_jax_is_imported_updates_its_configuration(tmp_path):
    code = ("import jax, uncertainty.cache as c; d = c.enable(environ={'SORA_UQ_CACHE_DIR': "
            f"{str(tmp_path / 'c')!r}}}); print(jax.config.jax_compilation_cache_dir == str(d))")
    done = run_python(code, timeout=120)
    assert done.stdout.strip() == "True", done.stderr
