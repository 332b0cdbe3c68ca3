"""``sora-uq update``: update priors with evidence; write a new prior file and a report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import UserError
from ..report.blocks import Table, table_markdown
from .options import add_priors_option, samples, seed


def cmd_update(args) -> int:
    """Update priors with evidence; write the new prior file (never overwriting) and a report."""
    import tomllib

    from ..files import check_output_directory, write_new_file
    from ..inference.evidence import load_evidence, quantities_of
    from ..inference.refit import dumps_toml, new_prior_document
    from ..inference.update import update
    from ..priors import load_priors, priors_from_document
    from ..report.update_report import update_document, write_update_report

    out = Path(args.out)
    if out.exists():  # refuse before the work, not after it
        raise UserError(f"{out}: already exists; it is never overwritten, choose a new name")
    if out.suffix != ".toml":
        raise UserError(f"{out}: --out must name a new .toml prior file")
    if args.report:
        check_output_directory(Path(args.report))
    priors = load_priors(args.priors, model=args.model)
    evidence = [load_evidence(path, quantities_of(priors)) for path in args.evidence]
    result = update(priors, evidence, method=args.method, seed=args.seed, samples=args.samples)
    for warning in result.warnings:
        print(f"sora-uq: WARNING: {warning}", file=sys.stderr)
    document = new_prior_document(result, name=out.stem, folder=out.parent)
    text = dumps_toml(document, header=f"Written by sora-uq update from {priors.path}; "
                      "see [provenance].")
    # the new file must load, from where it will be, before it exists
    priors_from_document(tomllib.loads(text), text.encode(), out, model=args.model)
    doc = update_document(result, out)
    if args.report:
        write_update_report(result, doc, Path(args.report))
    write_new_file(out, text)
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        _print_update(doc, out, args.report, result.model.headline)
    return 0


def _print_update(doc: dict, out: Path, report: str | None, headline) -> None:
    from ..summary import format_value

    rows = [[name, *(f"{format_value(doc[g][name]['median'])} "
                     f"({format_value(doc[g][name]['eti_90'][0])} to "
                     f"{format_value(doc[g][name]['eti_90'][1])})" for g in ("prior", "posterior"))]
            for name in headline]
    print(table_markdown(Table(["output", "prior median (90%)", "posterior median (90%)"], rows)))
    d = doc["diagnostics"]
    print("\n" + ", ".join(f"{k} = {v if v is None else round(v, 4)}" for k, v in d.items()))
    print(f"wrote {out}" + (f" and {report}/ (report.html, report.md, update.json, figures/, "
                            "posterior.nc)" if report else ""))


def add(commands) -> None:
    update = commands.add_parser("update",
                                 help="update priors with evidence; write a new prior file")
    add_priors_option(update, required=True)
    update.add_argument("--evidence", required=True, nargs="+", metavar="FILE",
                        help="evidence files (TOML, see README)")
    update.add_argument("--out", required=True, help="the new prior file (must not exist)")
    update.add_argument("--report", metavar="DIR",
                        help="write report.md, figures, posterior.nc here")
    update.add_argument("--method", choices=("nuts", "importance"), default="nuts",
                        help="NUTS (default) or Pareto-smoothed importance sampling")
    update.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    update.add_argument("--samples", type=samples, default=1000,
                        help="posterior draws per chain, 4 chains (default: 1000); importance "
                             "sampling draws 50x as many from the prior")
    update.add_argument("--json", action="store_true", help="print the update as JSON")
    update.set_defaults(func=cmd_update)
