"""``sora-uq``: a thin command line over the Python API. Parse, call, print.

Exit status 0 on success and 2 on bad input (one line on stderr, never a traceback).

Examples
--------
  $ sora-uq reproduce
  $ sora-uq report --priors article --samples 400000 --seed 0 --out reports/article
  $ sora-uq report --json > summary.json
  $ sora-uq compare --priors article --priors priors/mine.toml --out reports/compare
  $ sora-uq priors validate priors/article.toml
  $ sora-uq priors show article
  $ sora-uq tornado --priors article --output fleet_gpus --out reports/article-tornado
  $ sora-uq sobol --priors article --n 16384 --scale log --json
  $ sora-uq report --priors priors/mine.toml --model my_model.py:MODEL

  $ sora-uq update --priors article --evidence priors/evidence/*.toml --out priors/article-updated.toml
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .. import __version__, interrupt
from ..defaults import DEFAULT_RTOL, DEFAULT_SAMPLES, MAX_SAMPLES
from ..errors import UserError

EXIT_BAD_INPUT = 2


def _samples(text: str) -> int:
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_SAMPLES or (("e" in text.lower()) and float(text) != value):
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_SAMPLES:.0e}, got {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be in [0, 2^32), got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str):
        raise UserError(f"{self.prog}: {message} (see --help)")


def cmd_reproduce(args) -> int:
    from ..report.writer import reproduction_markdown
    from ..sora.reproduce import reproduction_table

    lines = reproduction_table()
    print(json.dumps({"lines": lines}, indent=1) if args.json else reproduction_markdown(lines))
    return 0


def cmd_report(args) -> int:
    from ..distributed import initialize
    from ..priors import resolve_priors_path

    if args.samples is not None and args.rtol is not None:
        raise UserError("give --samples (a fixed number of draws) or --rtol (draw until the "
                        "error is small enough), not both")
    joined = initialize(args.coordinator, args.num_processes, args.process_id)
    from ..report.writer import headline_table, run_report

    path = resolve_priors_path(args.priors)
    out = Path(args.out) if args.out else Path("reports") / _report_name(path, args.gpu, args.model)
    rtol = args.rtol if args.rtol is not None else DEFAULT_RTOL
    doc = run_report(str(path), out, samples=args.samples, seed=args.seed, force=args.force,
                     gpu=args.gpu, rtol=rtol, sampler=args.sampler, max_samples=args.max_samples,
                     progress=Progress(show=not args.quiet), write=_writes(joined),
                     model=args.model, sensitivity=not args.no_sensitivity)
    if not _writes(joined):
        return 0
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(headline_table(doc))
        print(f"\nwrote {out}/ (report.html, report.md, summary.json, figures/, draws.nc)")
    return 0


def _writes(joined: bool) -> bool:
    """In a multi-host run every process computes the summary; only process 0 writes it."""
    if not joined:
        return True
    import jax

    return jax.process_index() == 0


class Progress:
    """One line on stderr, redrawn in place: draws so far and the error reached. Silent when
    stderr is not a terminal, during the first seconds (short runs print nothing), and with
    ``show=False`` (``--quiet``). Called between steps, it is also where a Ctrl-C that a library
    swallowed stops the run (see :mod:`uncertainty.interrupt`)."""

    def __init__(self, after_seconds: float = 2.0, stream=None, show: bool = True):
        self._show = show
        self._clock = time.perf_counter
        self._start = self._clock()
        self._after = after_seconds
        self._stream = stream or sys.stderr
        self._error = None
        self._shown = False

    def __call__(self, draws: int, error: float | None) -> None:
        interrupt.raise_if_requested()
        self._error = error if error is not None else self._error
        elapsed = self._clock() - self._start
        if not self._show or elapsed < self._after or not self._stream.isatty():
            return
        reached = f", relative MCSE {100 * self._error:.2f}%" if self._error is not None else ""
        self._stream.write(f"\rdrawing: {draws:,} draws{reached}, {draws / elapsed:,.0f} draws/s ")
        self._stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()


def cmd_compare(args) -> int:
    from ..report.compare import run_compare

    out = Path(args.out) if args.out else Path("reports") / "compare"
    doc = run_compare(args.priors or [], out, samples=args.samples, seed=args.seed, force=args.force,
                      model=args.model)
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        names = ", ".join(s["name"] for s in doc["scenarios"])
        print(f"compared {names}\nwrote {out}/ (compare.html, compare.md, compare.json, figures/)")
    return 0


MODEL_HELP = ("the model to run: FILE.py:NAME or package.module:NAME, naming an uncertainty.Model "
              "(Python code: loading it runs it). Default: the prior file's [meta] model, else "
              "the Sora model")


def _add_model_option(parser) -> None:
    parser.add_argument("--model", metavar="FILE.py:NAME", help=MODEL_HELP)


def _add_run_options(parser, draws: str, out: str, json_file: str,
                     samples_default: str = "400000") -> None:
    """--samples, --seed, --out, --force and --json, shared by the commands that simulate."""
    parser.add_argument("--samples", type=_samples, default=None,
                        help=f"{draws} (default: {samples_default})")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", help=f"output directory (default: {out})")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing directory the tool did not write")
    parser.add_argument("--json", action="store_true", help=f"print {json_file} to stdout")


def _rtol(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 1e-5 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a relative error from 1e-5 to below 1, got {text}")
    return value


def _add_scale_options(parser) -> None:
    """Adaptive stopping, the sampler, progress, and joining a multi-host run."""
    parser.add_argument("--rtol", type=_rtol, default=None,
                        help=f"draw until the Monte Carlo standard error of the 5%%, 50%% and 95%% "
                             f"quantiles of the headline outputs is at most this, relative "
                             f"(default: {DEFAULT_RTOL}; ignored with --samples)")
    parser.add_argument("--max-samples", type=_samples, default=MAX_SAMPLES,
                        help="stop an --rtol run here even if not converged (default: 1e9)")
    parser.add_argument("--sampler", choices=("mc", "qmc"), default="mc",
                        help="mc: Monte Carlo; qmc: scrambled Sobol points, 16 randomised "
                             "replicates for the error estimate, --samples rounded up to a "
                             "multiple of 16 (default: mc)")
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    group = parser.add_argument_group(
        "multi-host", "join a jax.distributed run (or set JAX_COORDINATOR_ADDRESS and let JAX "
        "read the cluster); every process runs the same command, process 0 writes")
    group.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0")
    group.add_argument("--num-processes", type=int, metavar="N", help="number of processes")
    group.add_argument("--process-id", type=int, metavar="I", help="this process's rank, 0..N-1")


def _add_compare(commands) -> None:
    compare = commands.add_parser("compare", help="the headline outputs under several prior files")
    compare.add_argument("--priors", action="append", metavar="PATH|NAME",
                         help="a prior file or name; give it two or more times")
    _add_model_option(compare)
    _add_run_options(compare, draws="Monte Carlo draws per prior set", out="reports/compare",
                     json_file="compare.json")
    compare.set_defaults(func=cmd_compare)


def _priors_name(path: Path, model: str | None) -> str:
    from ..priors import load_priors

    return load_priors(path, model=model).name


def _report_name(path: Path, gpu: str | None, model: str | None = None) -> str:
    """reports/<priors name>, or <priors name>-<gpu> when --gpu overrides the file's GPU."""
    from ..sora.hardware import lookup_gpu

    if gpu is None:
        return _priors_name(path, model)
    chosen = lookup_gpu(gpu)
    suffix = chosen.name.lower() + ("-fp8" if chosen.precision == "fp8" else "")
    return f"{_priors_name(path, model)}-{suffix}"


def cmd_priors_validate(args) -> int:
    from ..priors import load_priors

    priors = load_priors(args.path, model=args.model)
    print(f"{priors.path}: ok ({len(priors)} assumptions, {len(priors.uncertain)} uncertain; "
          f"model '{priors.model.name}')")
    return 0


def cmd_priors_show(args) -> int:
    from ..priors import load_priors
    from ..summary import format_value

    priors = load_priors(args.path, model=args.model)
    print(f"# {priors.name}: {priors.description}\n")
    print("| assumption | distribution | median | 90% interval | unit | source |")
    print("|---|---|---|---|---|---|")
    for name, prior in priors.items():
        d = prior.dist
        interval = "fixed" if prior.is_fixed else (
            f"{format_value(d.quantile(0.05))} to {format_value(d.quantile(0.95))}")
        print(f"| {name} | {d.describe()} | {format_value(d.quantile(0.5))} | {interval} "
              f"| {priors.unit(name)} | {prior.source} |")
    _print_structure(priors)
    return 0


def _print_structure(priors) -> None:
    """The model, its structure (the Sora model: GPU, attention, platforms) and the rank
    correlations, under the `priors show` table."""
    print(f"\nmodel: {priors.model.name}; outputs: {', '.join(priors.model.outputs)}")
    for line in priors.model.structure_lines(priors.structure, priors):
        print(line)
    if priors.correlations:
        print("rank correlations (Spearman): " + "; ".join(
            f"{a} ~ {b} {rho:+.2f}" for (a, b), rho in priors.correlations.items()))
    else:
        print("rank correlations: none (assumptions independent)")

# --- sensitivity: tornado and sobol ---------------------------------------------------------

MIN_SOBOL_N, MAX_SOBOL_N = 2**4, 2**18


def _quantile(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a quantile level strictly between 0 and 1, "
                                         f"got {text}")
    return value


def _sobol_n(text: str) -> int:
    try:
        value = 2 ** int(text[2:]) if text.startswith("2^") else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number like 16384 or 2^14, "
                                         f"got {text!r}") from None
    if value & (value - 1) or not MIN_SOBOL_N <= value <= MAX_SOBOL_N:
        raise argparse.ArgumentTypeError(f"must be a power of 2 from {MIN_SOBOL_N} to "
                                         f"{MAX_SOBOL_N} (2^18), got {text}")
    return value


def _chosen_outputs(option: str, model) -> list[str]:
    """--output: one output of the model, or all of them."""
    if option == "all":
        return list(model.outputs)
    if option not in model.outputs:
        raise UserError(f"--output: unknown output '{option}' of the model '{model.name}' "
                        f"(known: {', '.join(model.outputs)}, or all)")
    return [option]


def cmd_tornado(args) -> int:
    from ..files import check_output_directory, output_directory
    from ..priors import load_priors, resolve_priors_path
    from ..report.plots import tornado_figure
    from ..sensitivity import tornado

    if args.low >= args.high:
        raise UserError(f"--low {args.low} must be below --high {args.high}")
    priors = load_priors(resolve_priors_path(args.priors), model=args.model)
    outputs = _chosen_outputs(args.output, priors.model)
    out = Path(args.out) if args.out else Path("reports") / f"{priors.name}-tornado"
    check_output_directory(out, args.force)
    result = tornado(priors, low=args.low, high=args.high, outputs=outputs)
    result = {"priors": {"name": priors.name, "path": priors.path, "sha256": priors.sha256},
              **result}
    units = {**{name: priors.unit(name) for name in priors},
             **{name: q.unit for name, q in priors.model.outputs.items()}}
    with output_directory(out, args.force) as staging:
        for name, entry in result["outputs"].items():
            fig = tornado_figure(entry, name, units)
            fig.savefig(staging / f"{name}.png", dpi=120)
            fig.savefig(staging / f"{name}.svg")
        (staging / "tornado.json").write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for name, entry in result["outputs"].items():
            top = entry["bars"][0]
            print(f"{name}: top driver {top['assumption']} "
                  f"(swing {top['swing_log10'] or 0:.2f} decades)")
        print(f"\nwrote {out}/ (tornado.json, a PNG and an SVG per output)")
    return 0


def cmd_sobol(args) -> int:
    from ..priors import load_priors, resolve_priors_path
    from ..sensitivity import sobol_document

    priors = load_priors(resolve_priors_path(args.priors), model=args.model)
    outputs = _chosen_outputs(args.output, priors.model)
    try:
        doc = sobol_document(priors, n_base=args.n, seed=args.seed, scale=args.scale,
                             outputs=outputs)
    except ValueError as err:  # an output that log scale cannot take (zero or negative)
        raise UserError(f"sobol: {err}; use --scale linear for outputs that are not all > 0") \
            from None
    doc = {"priors": {"name": priors.name, "path": priors.path, "sha256": priors.sha256}, **doc}
    if args.json:
        print(json.dumps(doc, indent=1))
        return 0
    print(f"Sobol indices, {doc['scale']} scale, n_base {doc['n_base']}, {doc['sampler']}; "
          f"95% bootstrap intervals")
    for name, indices in doc["outputs"].items():
        print(f"\n{name}\n| assumption | S1 (95% CI) | ST (95% CI) |\n|---|---|---|")
        for assumption, ix in sorted(indices.items(), key=lambda item: -item[1]["ST"]):
            print(f"| {assumption} | {ix['S1']:.3f} ({ix['S1_ci'][0]:.3f} to {ix['S1_ci'][1]:.3f}) "
                  f"| {ix['ST']:.3f} ({ix['ST_ci'][0]:.3f} to {ix['ST_ci'][1]:.3f}) |")
    return 0


def _add_sensitivity_commands(commands) -> None:
    tornado = commands.add_parser("tornado", help="one-at-a-time tornado charts and data")
    tornado.add_argument("--priors", default="article", help="prior file path or name (default: article)")
    _add_model_option(tornado)
    tornado.add_argument("--output", default="all", help="an output name, or all (default)")
    tornado.add_argument("--low", type=_quantile, default=0.05, help="low quantile (default 0.05)")
    tornado.add_argument("--high", type=_quantile, default=0.95, help="high quantile (default 0.95)")
    tornado.add_argument("--out", help="output directory (default: reports/<priors name>-tornado)")
    tornado.add_argument("--force", action="store_true",
                         help="replace an existing directory the tool did not write")
    tornado.add_argument("--json", action="store_true", help="print tornado.json to stdout")
    tornado.set_defaults(func=cmd_tornado)

    sobol = commands.add_parser("sobol", help="first- and total-order Sobol indices")
    sobol.add_argument("--priors", default="article", help="prior file path or name (default: article)")
    _add_model_option(sobol)
    sobol.add_argument("--output", default="all", help="an output name, or all (default)")
    sobol.add_argument("--n", type=_sobol_n, default=2**14,
                       help="base sample size, a power of 2 (default 16384 = 2^14)")
    sobol.add_argument("--scale", choices=("log", "linear"), default="log",
                       help="variance of log(output) (default) or of the output")
    sobol.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    sobol.add_argument("--json", action="store_true", help="print JSON instead of tables")
    sobol.set_defaults(func=cmd_sobol)

def cmd_update(args) -> int:
    """Update priors with evidence; write the new prior file (never overwriting) and a report."""
    import tempfile

    from ..files import check_output_directory, write_new_file
    from ..inference.evidence import load_evidence, quantities_of
    from ..inference.refit import dumps_toml, new_prior_document
    from ..inference.update import update
    from ..priors import load_priors
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
    with tempfile.TemporaryDirectory() as scratch:  # the new file must load before it exists
        check = Path(scratch) / out.name
        check.write_text(text, "utf-8")
        load_priors(check, model=args.model)
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

    print("| output | prior median (90%) | posterior median (90%) |\n|---|---|---|")
    for name in headline:
        cells = [f"{format_value(doc[g][name]['median'])} ({format_value(doc[g][name]['eti_90'][0])}"
                 f" to {format_value(doc[g][name]['eti_90'][1])})" for g in ("prior", "posterior")]
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    d = doc["diagnostics"]
    print("\n" + ", ".join(f"{k} = {v if v is None else round(v, 4)}" for k, v in d.items()))
    print(f"wrote {out}" + (f" and {report}/ (report.md, update.json, posterior.nc)" if report else ""))


def _add_update(commands) -> None:
    update = commands.add_parser("update", help="update priors with evidence; write a new prior file")
    update.add_argument("--priors", required=True, help="prior file path or name")
    _add_model_option(update)
    update.add_argument("--evidence", required=True, nargs="+", metavar="FILE",
                        help="evidence files (TOML, see README)")
    update.add_argument("--out", required=True, help="the new prior file (must not exist)")
    update.add_argument("--report", metavar="DIR", help="write report.md, figures, posterior.nc here")
    update.add_argument("--method", choices=("nuts", "importance"), default="nuts",
                        help="NUTS (default) or Pareto-smoothed importance sampling")
    update.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    update.add_argument("--samples", type=_samples, default=1000,
                        help="posterior draws per chain, 4 chains (default: 1000); importance "
                             "sampling draws 50x as many from the prior")
    update.add_argument("--json", action="store_true", help="print the update as JSON")
    update.set_defaults(func=cmd_update)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sora-uq", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"sora-uq {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    reproduce = commands.add_parser("reproduce", help="the article's figures, recomputed and checked")
    reproduce.add_argument("--json", action="store_true", help="print JSON instead of a table")
    reproduce.set_defaults(func=cmd_reproduce)

    report = commands.add_parser("report", help="simulate and write an interval report")
    report.add_argument("--priors", default="article", help="prior file path or name (default: article)")
    _add_model_option(report)
    report.add_argument("--no-sensitivity", action="store_true",
                        help="skip the tornado and Sobol step (the report says so)")
    _add_run_options(report, draws="a fixed number of draws", out="reports/<priors name>",
                     json_file="summary.json", samples_default="as many as --rtol needs")
    report.add_argument("--gpu", metavar="NAME", help="GPU from the catalogue (H100, H200, B200, "
                        "GB200; NAME:fp8 for the FP8 peak), replacing the file's gpu_peak_flops")
    _add_scale_options(report)
    report.set_defaults(func=cmd_report, adaptive=True)

    _add_compare(commands)

    priors = commands.add_parser("priors", help="validate or show a prior file")
    priors_commands = priors.add_subparsers(dest="priors_command", metavar="ACTION",
                                            parser_class=_Parser, required=True)
    validate = priors_commands.add_parser("validate", help="check a prior file")
    validate.add_argument("path")
    _add_model_option(validate)
    validate.set_defaults(func=cmd_priors_validate)
    show = priors_commands.add_parser("show", help="table of assumptions, intervals and sources")
    show.add_argument("path")
    _add_model_option(show)
    show.set_defaults(func=cmd_priors_show)
    _add_sensitivity_commands(commands)

    _add_update(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    interrupt.install()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_BAD_INPUT
        if getattr(args, "samples", "unset") is None and not getattr(args, "adaptive", False):
            args.samples = DEFAULT_SAMPLES
        return args.func(args)
    except UserError as err:
        print(f"sora-uq: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("sora-uq: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except SystemExit as done:  # --help and --version
        return done.code if isinstance(done.code, int) else 0
    except Exception as err:  # a bug, not bad input: one line, and the way to see more
        if interrupt.requested():  # Ctrl-C that a library turned into another exception
            print("sora-uq: interrupted; nothing was written", file=sys.stderr)
            return 130
        if os.environ.get("SORA_UQ_DEBUG"):
            raise
        print(f"sora-uq: internal error: {type(err).__name__}: {err} "
              f"(set SORA_UQ_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
