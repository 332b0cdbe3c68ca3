"""Scale: results do not depend on the device count; two JAX processes give the one-process
summary; the core runs where ArviZ is not installed. Each case runs in fresh processes, because
the device count and the distributed runtime are fixed when JAX starts."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT

# Each child prints one JSON line: streamed statistics of a fixed-size run of the article priors
# (2.5 chunks: the last one partial, so masking matters), an adaptive run's stopping size, and a
# checksum of simulate()'s draws.
CHILD = textwrap.dedent("""
    import json, sys
    from uncertainty.distributed import initialize
    args = sys.argv[1:]
    if args:
        initialize(args[0], int(args[1]), int(args[2]))
    import jax
    from uncertainty import load_priors, simulate
    from uncertainty.sampling import CHUNK_SIZE
    from uncertainty.streaming import stream
    priors = load_priors("article")
    run = stream(priors, seed=11, n=2 * CHUNK_SIZE + 1234, rtol=None, keep=100)
    adaptive = stream(priors, seed=2, rtol=0.01, keep=10)
    tree = simulate(priors, n=1000, seed=4)
    print(json.dumps({
        "devices": jax.device_count(), "processes": jax.process_count(),
        "median": float(run.quantile("fleet_gpus", 0.5)),
        "eti_90": [float(v) for v in run.quantile("fleet_gpus", [0.05, 0.95])],
        "mean": run.mean_sd("fleet_gpus")[0], "counts": int(run.totals["counts"].sum()),
        "kept": run.kept["fleet_gpus"].tolist()[:5], "adaptive_n": adaptive.n,
        "sum": float(tree["prior"]["training_gpu_months"].values.sum())}))
""")


def _environment(extra: dict) -> dict:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return {**keep, "JAX_PLATFORMS": "cpu", **extra}


def _start(extra: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, *args], cwd=ROOT, text=True,
                            env=_environment(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _result(process: subprocess.Popen, timeout: float = 240) -> dict:
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def one_device():
    return _result(_start({}))


def test_results_do_not_depend_on_the_device_count(one_device):
    four = _result(_start({"XLA_FLAGS": "--xla_force_host_platform_device_count=4"}))
    assert one_device["devices"] == 1 and four["devices"] == 4
    for key in ("median", "eti_90", "mean", "counts", "kept", "adaptive_n", "sum"):
        assert four[key] == one_device[key], key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_give_the_one_process_summary(one_device):
    address = f"127.0.0.1:{_free_port()}"
    ranks = [_start({}, address, "2", str(rank)) for rank in (0, 1)]
    try:
        results = [_result(p) for p in ranks]
    finally:
        for p in ranks:
            if p.poll() is None:
                p.kill()
    for result in results:
        assert result["processes"] == 2 and result["devices"] == 2
        for key in ("median", "eti_90", "mean", "counts", "kept", "adaptive_n", "sum"):
            assert result[key] == one_device[key], key


NO_ARVIZ = textwrap.dedent("""
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "arviz" or name.startswith("arviz."):
                raise ImportError("arviz is blocked in this test")
    sys.meta_path.insert(0, Block())
    from uncertainty import load_priors, simulate
    from uncertainty.streaming import stream
    priors = load_priors("article")
    tree = simulate(priors, n=1000, seed=0)
    run = stream(priors, seed=0, n=5000, keep=10)
    assert "arviz" not in sys.modules and "matplotlib" not in sys.modules
    print(tree["prior"]["fleet_gpus"].shape, round(float(run.quantile("fleet_gpus", 0.5))))
""")


def test_core_runs_without_arviz():
    result = subprocess.run([sys.executable, "-c", NO_ARVIZ], cwd=ROOT, capture_output=True,
                            text=True, timeout=240, env=_environment({}))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("(1, 1000)")
