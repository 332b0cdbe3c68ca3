"""``sora-uq report``: simulate and write an interval report."""

from __future__ import annotations

from pathlib import Path

from .. import jsontext
from ..defaults import DEFAULT_RTOL
from ..errors import UserError
from .options import (
    add_priors_option,
    add_run_options,
    add_scale_options,
    default_out,
    feedback,
    warn_error_above_target,
    writes,
)


def cmd_report(args) -> int:
    from ..distributed import initialize
    from ..priors import resolve_priors_path

    if args.samples is not None and args.rtol is not None:
        raise UserError("give --samples (a fixed number of draws) or --rtol (draw until the "
                        "error is small enough), not both")
    joined = initialize(args.coordinator, args.num_processes, args.process_id)
    from ..report.export import check_exports
    from ..report.sections import report_error_words
    from ..report.writer import headline_table, run_report

    path = resolve_priors_path(args.priors)
    out = Path(args.out) if args.out else default_out(path, _gpu_suffix(args.gpu))
    rtol = args.rtol if args.rtol is not None else DEFAULT_RTOL
    exports = sorted(set(args.export or ()))
    check_exports(exports)
    shown = feedback(args)
    doc = run_report(str(path), out, samples=args.samples, seed=args.seed, force=args.force,
                     gpu=args.gpu, rtol=rtol, sampler=args.sampler, max_samples=args.max_samples,
                     feedback=shown, write=writes(joined), model=args.model,
                     sensitivity=not args.no_sensitivity, exports=exports)
    shown.close()
    if not writes(joined):
        return 0
    warn_error_above_target(*report_error_words(doc))
    if args.json:
        print(jsontext.dumps(doc, indent=1))
    else:
        print(headline_table(doc))
        extra = "".join(f", draws.{fmt}, summary.{fmt}" for fmt in exports)
        print(f"\nwrote {out}/ (report.html, report.md, summary.json, figures/, draws.nc{extra}; "
              f"timings.json)")
    return 0


def _gpu_suffix(gpu: str | None) -> str:
    """``-<gpu>`` when --gpu overrides the file's GPU: reports/<stem>-b200, -h100-fp8."""
    from ..sora.hardware import lookup_gpu

    if gpu is None:
        return ""
    chosen = lookup_gpu(gpu)
    return "-" + chosen.name.lower() + ("-fp8" if chosen.precision == "fp8" else "")


def add(commands) -> None:
    report = commands.add_parser("report", help="simulate and write an interval report")
    add_priors_option(report)
    report.add_argument("--no-sensitivity", action="store_true",
                        help="skip the tornado and Sobol step (the report says so)")
    add_run_options(report, draws="a fixed number of draws",
                    out="reports/<prior file's name without .toml>",
                    json_file="summary.json", samples_default="as many as --rtol needs")
    report.add_argument("--export", action="append", choices=("csv", "parquet"),
                        help="also write the kept draws and the summary table as draws.FORMAT "
                             "and summary.FORMAT (repeat for both; parquet needs pyarrow: "
                             "pip install 'sora-uq[parquet]')")
    report.add_argument("--gpu", metavar="NAME", help="GPU from the catalogue (H100, H200, B200, "
                        "GB200; NAME:fp8 for the FP8 peak), replacing the file's gpu_peak_flops "
                        "(Sora model)")
    add_scale_options(report)
    report.set_defaults(func=cmd_report, adaptive=True)
