"""``sora-uq update``: update priors with evidence; write a new prior file and a report."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import jsontext
from ..errors import UserError
from ..report.blocks import Table, table_markdown
from .options import add_priors_option, add_quiet_option, feedback, samples, seed


def cmd_update(args) -> int:
    """Update priors with evidence; write the new prior file (never overwriting) and a report."""
    import tomllib

    from ..files import Provenance, check_output_directory, require_writable
    from ..inference.evidence import load_evidence, quantities_of
    from ..inference.refit import dumps_toml, new_prior_document
    from ..inference.update import update
    from ..priors import load_priors, priors_from_document, resolve_priors_path
    from ..report.update_report import update_document, write_update_report

    out = Path(args.out)
    if out.exists():  # refuse before the work, not after it
        raise UserError(f"{out}: already exists; it is never overwritten, choose a new name")
    if out.suffix != ".toml":
        raise UserError(f"{out}: --out must name a new .toml prior file")
    if not out.parent.is_dir() and any(p.exists() and not p.is_dir() for p in out.parents):
        raise UserError(f"{out}: cannot write here (a file stands where a folder would be)")
    require_writable(out)
    path = resolve_priors_path(args.priors)
    provenance = Provenance.of("update", [path])
    if args.report:
        check_output_directory(Path(args.report), provenance=provenance)
    shown = feedback(args)
    with shown.phase("loading priors and evidence"):
        priors = load_priors(path, model=args.model)
        evidence = [load_evidence(file, quantities_of(priors)) for file in args.evidence]
    result = update(priors, evidence, method=args.method, seed=args.seed, samples=args.samples,
                    feedback=shown)
    for warning in result.warnings:
        print(f"sora-uq: WARNING: {warning}", file=sys.stderr)
    document = new_prior_document(result, name=out.stem, folder=out.parent)
    text = dumps_toml(document, header=f"Written by sora-uq update from {priors.path}; "
                      "see [provenance].")
    # the new file must load, from where it will be, before it exists
    priors_from_document(tomllib.loads(text), text.encode(), out, model=args.model)
    doc = update_document(result, out)
    with shown.phase("figures and writing"):
        _publish(out, text, Path(args.report) if args.report else None,
                 lambda publish: write_update_report(result, doc, Path(args.report),
                                                     before_publish=publish,
                                                     provenance=provenance))
    shown.close()
    if args.json:
        print(jsontext.dumps(doc, indent=1))
    else:
        _print_update(doc, out, args.report, result)
    return 0


def _publish(out: Path, text: str, report: Path | None, write_report) -> None:
    """The new prior file first, the report directory last: the report appears only once the
    file it describes exists, and if the report cannot be put in place the file is removed
    again, so a failed update leaves nothing behind."""
    from ..files import write_new_file

    written = []

    def publish():
        try:
            write_new_file(out, text)
        except OSError as err:
            raise UserError(f"{out}: cannot write ({err.strerror})") from None
        written.append(out)

    if report is None:
        publish()
        return

    try:
        write_report(publish)
    except BaseException:
        if written:
            out.unlink(missing_ok=True)
        raise


def _print_update(doc: dict, out: Path, report: str | None, result) -> None:
    from ..report.update_report import diagnostic_items
    from ..summary import format_value

    headline = result.model.headline
    rows = [[name, *(f"{format_value(doc[g][name]['median'])} "
                     f"({format_value(doc[g][name]['eti_90'][0])} to "
                     f"{format_value(doc[g][name]['eti_90'][1])})" for g in ("prior", "posterior"))]
            for name in headline]
    print(table_markdown(Table(["output", "prior median (90%)", "posterior median (90%)"], rows)))
    print("\n" + ", ".join(diagnostic_items(result)))
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
    add_quiet_option(update)
    update.set_defaults(func=cmd_update)
