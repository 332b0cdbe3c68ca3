"""``sora-uq priors validate|show``: check a prior file, or show it as a table."""

from __future__ import annotations

from .. import jsontext
from ..report.blocks import Table, table_markdown
from .options import Parser, add_model_option


def cmd_priors_validate(args) -> int:
    from ..priors import load_priors

    priors = load_priors(args.path, model=args.model)
    print(f"{priors.path}: ok ({len(priors)} assumptions, {len(priors.uncertain)} uncertain; "
          f"model '{priors.model.name}')")
    return 0


def cmd_priors_show(args) -> int:
    from ..priors import load_priors
    from ..summary import format_value

    # A table: no model run, so no JAX (priors validate and every drawing command check the
    # model's outputs); the quantiles are the families' exact ones, on the host.
    priors = load_priors(args.path, model=args.model, check_model=False)
    if args.json:
        print(jsontext.dumps(_priors_document(priors), indent=1))
        return 0
    print(f"# {priors.name}: {priors.description}\n")
    rows = []
    for name, prior in priors.items():
        d = prior.dist
        interval = "fixed" if prior.is_fixed else (
            f"{format_value(d.quantile(0.05))} to {format_value(d.quantile(0.95))}")
        rows.append([name, d.describe(), format_value(d.quantile(0.5)), interval,
                     priors.unit(name), prior.source])
    print(table_markdown(Table(["assumption", "distribution", "median", "90% interval", "unit",
                                "source"], rows)))
    _print_structure(priors)
    return 0


def _priors_document(priors) -> dict:
    """What the table shows, as data: the assumptions as in a report's ``summary.json``, the
    model, its structure and correlations, and the decision the file states (or null)."""
    from dataclasses import asdict

    from ..priors import assumptions_record, priors_argument, structure_record

    return {"priors": {"name": priors.name, "path": priors_argument(priors.path),
                       "sha256": priors.sha256, "description": priors.description},
            "model": {"name": priors.model.name, "outputs": list(priors.model.outputs)},
            "assumptions": assumptions_record(priors), "structure": structure_record(priors),
            "decision": asdict(priors.decision) if priors.decision is not None else None}


def _print_structure(priors) -> None:
    """The model, its structure (the Sora model: GPU, attention, platforms) and the rank
    correlations, under the `priors show` table."""
    print(f"\nmodel: {priors.model.name}; outputs: {', '.join(priors.model.outputs)}")
    if priors.decision is not None:
        d = priors.decision
        print(f"decision: provide {d.output}; {d.under_cost:g} per unit short, {d.over_cost:g} "
              f"per unit idle{f' ({d.unit})' if d.unit else ''}; source: {d.source}")
    for line in priors.model.structure_lines(priors.structure, priors):
        print(line)
    if priors.correlations:
        print("rank correlations (Spearman): " + "; ".join(
            f"{a} ~ {b} {rho:+.2f}" for (a, b), rho in priors.correlations.items()))
    else:
        print("rank correlations: none (assumptions independent)")


def add(commands) -> None:
    priors = commands.add_parser("priors", help="validate or show a prior file")
    actions = priors.add_subparsers(dest="priors_command", metavar="ACTION", required=True,
                                    parser_class=Parser)
    validate = actions.add_parser("validate", help="check a prior file")
    validate.add_argument("path")
    add_model_option(validate)
    validate.set_defaults(func=cmd_priors_validate)
    show = actions.add_parser("show", help="table of assumptions, intervals and sources")
    show.add_argument("path")
    add_model_option(show)
    show.add_argument("--json", action="store_true",
                      help="print JSON (the assumptions as in a report's summary.json) instead "
                           "of the table")
    show.set_defaults(func=cmd_priors_show)
