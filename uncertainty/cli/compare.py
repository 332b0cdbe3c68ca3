"""``sora-uq compare``: the headline outputs under several prior files."""

from __future__ import annotations

import json
from pathlib import Path

from .options import add_model_option, add_run_options


def cmd_compare(args) -> int:
    from ..report.compare import run_compare

    out = Path(args.out) if args.out else Path("reports") / "compare"
    doc = run_compare(args.priors or [], out, samples=args.samples, seed=args.seed,
                      force=args.force, model=args.model)
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        names = ", ".join(s["name"] for s in doc["scenarios"])
        print(f"compared {names}\nwrote {out}/ (compare.html, compare.md, compare.json, figures/)")
    return 0


def add(commands) -> None:
    compare = commands.add_parser("compare", help="the headline outputs under several prior files")
    compare.add_argument("--priors", action="append", metavar="PATH|NAME",
                         help="a prior file or name; give it two or more times")
    add_model_option(compare)
    add_run_options(compare, draws="Monte Carlo draws per prior set", out="reports/compare",
                     json_file="compare.json")
    compare.set_defaults(func=cmd_compare)
