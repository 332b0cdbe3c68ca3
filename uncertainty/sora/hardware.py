"""The accelerator catalogue (``data/accelerators.toml``): a GPU name -> its dense peak FLOP/s.

A name is ``H100``, ``H200``, ``B200`` or ``GB200`` (any case), optionally with ``:fp8`` or
``:bf16`` (the default) for the number format.

Example
-------
>>> gpu = lookup_gpu("b200:fp8")
>>> gpu.name, gpu.peak_flops / 1e12
('B200', 4500.0)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ..errors import UserError

__all__ = ["PRECISIONS", "Accelerator", "catalogue", "lookup_gpu", "match_gpu"]

PRECISIONS = ("bf16", "fp8")


@dataclass(frozen=True)
class Accelerator:
    """One GPU at one number format."""

    name: str
    full_name: str
    precision: str
    peak_flops: float
    source: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.full_name}, dense {self.precision.upper()} peak " \
               f"{self.peak_flops / 1e12:,.1f} TFLOP/s)"

    def as_dict(self) -> dict:
        return {"name": self.name, "full_name": self.full_name, "precision": self.precision,
                "peak_flops": self.peak_flops, "source": self.source}


@cache
def catalogue() -> dict[str, dict]:
    """Name -> table of the catalogue file."""
    text = resources.files("uncertainty.sora").joinpath("data/accelerators.toml").read_text("utf-8")
    return tomllib.loads(text)


def lookup_gpu(spec: str, where: str = "--gpu") -> Accelerator:
    """The accelerator named by ``NAME`` or ``NAME:PRECISION``; a UserError lists the known
    names."""
    if not isinstance(spec, str):
        raise UserError(f"{where}: a GPU name must be a string, got {spec!r}")
    name, _, precision = spec.strip().partition(":")
    precision = precision.lower() or "bf16"
    known = {key.lower(): key for key in catalogue()}
    if name.lower() not in known:
        raise UserError(f"{where}: unknown GPU '{spec}' (known: {', '.join(catalogue())}; "
                        "add ':fp8' for the FP8 peak)")
    if precision not in PRECISIONS:
        raise UserError(f"{where}: unknown precision '{precision}' in '{spec}' "
                        f"(known: {', '.join(PRECISIONS)})")
    key = known[name.lower()]
    entry = catalogue()[key]
    return Accelerator(key, entry["full_name"], precision, float(entry[precision]), entry["source"])


def match_gpu(peak_flops: float) -> Accelerator | None:
    """The catalogue entry whose peak equals ``peak_flops`` exactly (first match), if any."""
    for key, entry in catalogue().items():
        for precision in PRECISIONS:
            if float(entry[precision]) == float(peak_flops):
                return lookup_gpu(f"{key}:{precision}")
    return None
