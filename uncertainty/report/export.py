"""The draws and the summary table as CSV or Parquet, for a spreadsheet or a data frame.

``draws.csv`` / ``draws.parquet``: one column per assumption and output, one row per kept draw
(the draws ``draws.nc`` keeps; the report states how many of the run's draws that is).
``summary.csv`` / ``summary.parquet``: one row per output, one column per statistic of
``summary.json`` (an interval's two ends as ``<name>_low`` and ``<name>_high``).

CSV needs nothing beyond NumPy; Parquet needs ``pyarrow`` (``pip install 'sora-uq[parquet]'``),
checked before any work by :func:`check_exports`. The engine computes in float32; CSV writes 9
significant digits, which read back as float32 give its values bit for bit (Parquet keeps the
float64 copies of them that ``draws.nc`` holds).

Example
-------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> doc = {"outputs": {"y": {"median": 2.0, "eti_90": [1.0, 4.0]}},
...        "model": {"outputs": {"y": {"unit": "m"}}}}
>>> write_exports(folder, ["csv"], {"x": np.array([1.0, 2.0]), "y": np.array([2.0, 4.0])}, doc)
['draws.csv', 'summary.csv']
>>> (folder / "summary.csv").read_text()
'output,unit,median,eti_90_low,eti_90_high\\ny,m,2,1,4\\n'
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..jsontext import carried

__all__ = ["FORMATS", "check_exports", "summary_table", "write_exports"]

FORMATS = ("csv", "parquet")


def check_exports(formats: Collection[str]) -> None:
    """Refuse, before any work, a format this installation cannot write."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise UserError(f"--export: unknown format '{unknown[0]}' (known: {', '.join(FORMATS)})")
    if "parquet" in formats:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UserError("--export parquet: needs pyarrow; install it with "
                            "pip install 'sora-uq[parquet]', or use --export csv") from None


def summary_table(doc: dict) -> tuple[list[str], list[list]]:
    """Column names and one row per output of ``summary.json``'s ``outputs``, with its numbers
    (rounded to the precision they carry, as summary.json writes them)."""
    outputs = carried(doc["outputs"])
    units = doc.get("model", {}).get("outputs", {})
    keys: list[str] = []
    pairs: set[str] = set()
    for stats in outputs.values():
        for key, value in stats.items():
            if key not in keys and (value is None or isinstance(value, int | float | list)):
                keys.append(key)
            if isinstance(value, list) and len(value) == 2:
                pairs.add(key)
    columns = ["output", "unit"]
    for key in keys:
        columns += [f"{key}_low", f"{key}_high"] if key in pairs else [key]
    rows = []
    for name, stats in outputs.items():
        row = [name, units.get(name, {}).get("unit", "")]
        for key in keys:
            value = stats.get(key)
            if key in pairs:
                row += list(value) if isinstance(value, list) and len(value) == 2 else [None, None]
            else:
                row.append(None if isinstance(value, list) else value)
        rows.append(row)
    return columns, rows


def _number(value) -> str:
    return "" if value is None else f"{value:.9g}" if isinstance(value, float) else str(value)


def _csv(columns: list[str], rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_number(v) for v in row] for row in rows)
    return buffer.getvalue()


def _draws_csv(path: Path, draws: Mapping[str, np.ndarray]) -> None:
    names = list(draws)
    matrix = np.column_stack([np.asarray(draws[name], np.float64) for name in names])
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(names) + "\n")
        np.savetxt(handle, matrix, fmt="%.9g", delimiter=",")


def _parquet(path: Path, columns: Mapping[str, list | np.ndarray]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(dict(columns)), path)


def write_exports(folder: Path, formats: Collection[str], draws: Mapping[str, np.ndarray],
                  doc: dict) -> list[str]:
    """Write the draws and the summary table in each format; return the files' names."""
    written = []
    columns, rows = summary_table(doc)
    for fmt in FORMATS:
        if fmt not in formats:
            continue
        if fmt == "csv":
            _draws_csv(folder / "draws.csv", draws)
            (folder / "summary.csv").write_text(_csv(columns, rows), "utf-8")
        else:
            _parquet(folder / "draws.parquet",
                     {name: np.asarray(values, np.float64) for name, values in draws.items()})
            _parquet(folder / "summary.parquet",
                     {column: [row[i] for row in rows] for i, column in enumerate(columns)})
        written += [f"draws.{fmt}", f"summary.{fmt}"]
    return written
