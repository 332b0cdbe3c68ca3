"""``sora-uq sobol``: first- and total-order Sobol indices."""

from __future__ import annotations

from .. import jsontext
from ..errors import UserError
from ..report.blocks import Table, table_markdown
from .options import (
    add_priors_option,
    add_quiet_option,
    chosen_outputs,
    feedback,
    log_scale_error,
    priors_record,
    seed,
    sobol_n,
)


def cmd_sobol(args) -> int:
    from ..priors import load_priors, resolve_priors_path
    from ..sensitivity import sobol_document

    priors = load_priors(resolve_priors_path(args.priors), model=args.model)
    outputs = chosen_outputs(args.output, priors.model)
    if priors.correlations and not args.independent:
        pairs = ", ".join(f"{a} ~ {b} ({rho:+.2f})" for (a, b), rho in priors.correlations.items())
        raise UserError(f"sobol: {priors.path} correlates {pairs}; Sobol indices assume "
                        "independent assumptions, so they would answer another question: use "
                        "`sora-uq shapley` (valid under correlation), or --independent to compute "
                        "them as if the assumptions were independent")
    shown = feedback(args)
    try:
        with shown.phase(f"Sobol indices: {args.n:,} base points"):
            doc = sobol_document(priors, n_base=args.n, seed=args.seed, scale=args.scale,
                                 outputs=outputs)
    except ValueError as err:  # an output that log scale cannot take (zero or negative)
        raise log_scale_error("sobol", err) from None
    shown.close()
    doc = {"priors": priors_record(priors), **doc}
    if args.json:
        print(jsontext.dumps(doc, indent=1))
        return 0
    print(f"Sobol indices, {doc['scale']} scale, n_base {doc['n_base']}, {doc['sampler']}; "
          f"95% bootstrap intervals" + (f"\n{doc['note']}" if doc.get("note") else ""))
    for name, indices in doc["outputs"].items():
        rows = [[assumption, _index(ix, "S1"), _index(ix, "ST")]
                for assumption, ix in sorted(indices.items(), key=lambda item: -item[1]["ST"])]
        print(f"\n{name}\n" + table_markdown(Table(["assumption", "S1 (95% CI)", "ST (95% CI)"],
                                                    rows)))
    return 0


def _index(ix: dict, key: str) -> str:
    low, high = ix[f"{key}_ci"]
    return f"{_fixed(ix[key])} ({_fixed(low)} to {_fixed(high)})"


def _fixed(value: float) -> str:
    """Three decimals, never "-0.000": an estimate that rounds to zero is 0."""
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text


def add(commands) -> None:
    sobol = commands.add_parser("sobol", help="first- and total-order Sobol indices")
    add_priors_option(sobol)
    sobol.add_argument("--output", default="all", help="an output name, or all (default)")
    sobol.add_argument("--n", type=sobol_n, default=2**14,
                       help="base sample size, a power of 2 (default 16384 = 2^14)")
    sobol.add_argument("--scale", choices=("log", "linear"), default="log",
                       help="variance of log(output) (default) or of the output")
    sobol.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    sobol.add_argument("--independent", action="store_true",
                       help="with correlated priors: compute the indices as if the assumptions "
                            "were independent (same marginals); the output says so")
    sobol.add_argument("--json", action="store_true", help="print JSON instead of tables")
    add_quiet_option(sobol)
    sobol.set_defaults(func=cmd_sobol)
