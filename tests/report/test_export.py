"""``report --export csv|parquet``: the kept draws and the summary table, in the report directory,
and the report says how many of the run's draws they keep."""

import csv
import json
import sys

import numpy as np
import pytest
from conftest import run_cli

SAMPLES = 140_000  # more than the 131,072 draws a report keeps


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "r"
    result = run_cli("report", "--samples", str(SAMPLES), "--no-sensitivity", "--export", "csv",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, json.loads((out / "summary.json").read_text())


def test_csv_holds_the_kept_draws_and_the_summary_table(exported):
    out, doc = exported
    kept = doc["run"]["kept_draws"]
    assert kept < doc["samples"] == SAMPLES
    with (out / "draws.csv").open() as handle:
        header = handle.readline().strip().split(",")
        first = np.array(handle.readline().split(","), float)
    assert set(header) == set(doc["assumptions"]) | set(doc["outputs"])
    draws = np.loadtxt(out / "draws.csv", delimiter=",", skiprows=1)
    assert draws.shape == (kept, len(header)) and np.array_equal(draws[0], first)
    import xarray as xr

    tree = xr.open_datatree(out / "draws.nc")
    fleet = tree["prior"]["fleet_gpus"].values[0]
    # the engine's float32 values, exactly, once read back as float32
    np.testing.assert_array_equal(draws[:, header.index("fleet_gpus")].astype(np.float32),
                                  fleet.astype(np.float32))
    rows = {row["output"]: row for row in csv.DictReader((out / "summary.csv").open())}
    assert set(rows) == set(doc["outputs"])
    stats = doc["outputs"]["fleet_gpus"]
    assert float(rows["fleet_gpus"]["median"]) == pytest.approx(stats["median"], rel=1e-8)
    assert float(rows["fleet_gpus"]["eti_90_high"]) == pytest.approx(stats["eti_90"][1], rel=1e-8)
    assert rows["fleet_gpus"]["unit"] == doc["model"]["outputs"]["fleet_gpus"]["unit"]


def test_the_report_states_how_many_draws_the_files_keep(exported):
    out, doc = exported
    words = (f"the figures and draws.nc, draws.csv keep the first "
             f"{doc['run']['kept_draws']:,} of the {SAMPLES:,} draws")
    assert words in (out / "report.md").read_text()
    assert words in (out / "report.html").read_text()
    assert doc["run"]["exports"] == ["csv"]
    assert {"draws.csv", "summary.csv"} <= set(json.loads((out / "manifest.json").read_text())
                                               ["files"])


def test_parquet_matches_csv(tmp_path):
    pyarrow = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "r"
    result = run_cli("report", "--samples", "2000", "--no-sensitivity", "--export", "parquet",
                     "--export", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = pyarrow.read_table(out / "draws.parquet")
    draws = np.loadtxt(out / "draws.csv", delimiter=",", skiprows=1)
    assert table.num_rows == 2000
    np.testing.assert_array_equal(table.column("fleet_gpus").to_numpy().astype(np.float32),
                                  draws[:, table.column_names.index("fleet_gpus")]
                                  .astype(np.float32))
    summary = pyarrow.read_table(out / "summary.parquet").to_pylist()
    assert {row["output"] for row in summary} == set(
        json.loads((out / "summary.json").read_text())["outputs"])


def test_parquet_without_pyarrow_is_one_line_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    out = tmp_path / "r"
    result = run_cli("report", "--samples", "2000", "--export", "parquet", "--out", str(out))
    assert result.returncode == 2 and "pip install 'sora-uq[parquet]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()
