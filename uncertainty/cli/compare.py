"""``sora-uq compare``: the headline outputs under several prior files."""

from __future__ import annotations

from pathlib import Path

from .. import jsontext
from ..defaults import DEFAULT_RTOL
from ..errors import UserError
from .options import (
    add_model_option,
    add_run_options,
    add_stopping_options,
    feedback,
    warn_error_above_target,
)


def cmd_compare(args) -> int:
    from ..report.compare import comparison_tables, run_compare

    if args.samples is not None and args.rtol is not None:
        raise UserError("give --samples (a fixed number of draws) or --rtol (draw until the "
                        "error is small enough), not both")
    priors = args.priors or []
    out = Path(args.out) if args.out else _default_out(priors)
    shown = feedback(args)
    doc = run_compare(priors, out, samples=args.samples, seed=args.seed, force=args.force,
                      model=args.model, rtol=args.rtol if args.rtol is not None else DEFAULT_RTOL,
                      sampler=args.sampler, max_samples=args.max_samples, feedback=shown)
    shown.close()
    _warn_above_target(doc)
    if args.json:
        print(jsontext.dumps(doc, indent=1))
    else:
        print(comparison_tables(doc))
        draws = ", ".join(f"{s['name']} {s['samples']:,}" for s in doc["scenarios"])
        print(f"\ndraws: {draws}\nwrote {out}/ (compare.html, compare.md, compare.json, "
              f"figures/; timings.json)")
    return 0


def _warn_above_target(doc: dict) -> None:
    """A stderr warning for each prior set whose headline error ended above the target
    (``--rtol``, or 1% for ``--samples``), as ``report`` gives."""
    from ..summary import error_words

    for s in doc["scenarios"]:
        warn_error_above_target(*error_words(s["max_relative_mcse"], s["samples"],
                                             doc.get("rtol")), s["name"])


def _default_out(priors: list[str]) -> Path:
    """reports/compare-<stem>-<stem>...: one directory per set of prior files."""
    return Path("reports") / "-".join(["compare", *(Path(p).stem for p in priors)])


def add(commands) -> None:
    compare = commands.add_parser("compare", help="the headline outputs under several prior files")
    compare.add_argument("--priors", action="append", metavar="PATH|NAME",
                         help="a prior file or name; give it two or more times")
    add_model_option(compare)
    add_run_options(compare, draws="Monte Carlo draws per prior set",
                    out="reports/compare-<each prior file's name without .toml>",
                    json_file="compare.json", samples_default="as many as --rtol needs")
    add_stopping_options(compare)
    compare.set_defaults(func=cmd_compare, adaptive=True)
