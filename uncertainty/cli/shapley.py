"""``sora-uq shapley``: Shapley effects, valid when the priors are correlated."""

from __future__ import annotations

from .. import jsontext
from ..errors import UserError
from ..report.blocks import Table, table_markdown
from .options import (
    add_priors_option,
    add_quiet_option,
    chosen_outputs,
    feedback,
    integer_from,
    log_scale_error,
    priors_record,
    seed,
)


def _permutations(text: str) -> int:
    return integer_from(text, 50, 100_000, "must be a whole number, got {text!r}",
                        "must be from 50 to 100000, got {value}")


def cmd_shapley(args) -> int:
    from ..priors import load_priors, resolve_priors_path
    from ..sensitivity.shapley import shapley_effects

    priors = load_priors(resolve_priors_path(args.priors), model=args.model)
    outputs = chosen_outputs(args.output, priors.model)
    if len(priors.uncertain) < 2:
        raise UserError(f"shapley: {priors.path} has {len(priors.uncertain)} uncertain "
                        "assumption(s); Shapley effects share variance among two or more")
    shown = feedback(args)
    try:
        with shown.phase(f"Shapley effects: {args.permutations:,} permutations"):
            doc = shapley_effects(priors, outputs=outputs, scale=args.scale, seed=args.seed,
                                  permutations=args.permutations)
    except ValueError as err:  # an output that log scale cannot take
        raise log_scale_error("shapley", err) from None
    shown.close()
    doc = {"priors": priors_record(priors), **doc}
    if args.json:
        print(jsontext.dumps(doc, indent=1))
        return 0
    pairs = "; ".join(f"{a} ~ {b} {rho:+.2f}" for (a, b), rho in priors.correlations.items())
    print(f"Shapley effects, {doc['scale']} scale; {doc['method']}.\n"
          + (f"Rank correlations: {pairs}." if pairs else "Assumptions independent."))
    for name, effects in doc["outputs"].items():
        rows = [[assumption, _interval(ix["shapley"], ix["shapley_ci"]),
                 _interval(ix["first_order"], ix.get("first_order_ci")), f"{ix['total']:.2f}"]
                for assumption, ix in sorted(effects.items(), key=lambda kv: -kv[1]["shapley"])
                if ix["shapley_ci"][1] >= 0.005 or ix["first_order"] >= 0.005]
        print(f"\n{name}\n" + table_markdown(Table(
            ["assumption", "Shapley effect [95%]", "first-order, correlated [95%]",
             "total, as if independent"], rows)))
    return 0


def _interval(value: float, interval) -> str:
    if not interval or interval[0] == interval[1]:
        return f"{max(value, 0.0):.2f}"
    return f"{max(value, 0.0):.2f} [{max(interval[0], 0.0):.2f}, {max(interval[1], 0.0):.2f}]"


def add(commands) -> None:
    shapley = commands.add_parser(
        "shapley", help="Shapley effects: each assumption's share of the variance, correlations "
        "included")
    add_priors_option(shapley)
    shapley.add_argument("--output", default="all", help="an output name, or all (default)")
    shapley.add_argument("--scale", choices=("log", "linear"), default="log",
                         help="variance of log(output) (default) or of the output")
    shapley.add_argument("--permutations", type=_permutations, default=2000,
                         help="random permutations of the estimator (default 2000; its error "
                              "falls as 1/sqrt of it)")
    shapley.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    shapley.add_argument("--json", action="store_true", help="print JSON instead of tables")
    add_quiet_option(shapley)
    shapley.set_defaults(func=cmd_shapley)
