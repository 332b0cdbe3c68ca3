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

  $ sora-uq update --priors article --evidence priors/evidence/demand-2025.toml --out new.toml
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial

from .. import __version__, cache, interrupt
from ..defaults import DEFAULT_SAMPLES
from ..errors import UserError, one_line
from ..progress import Feedback
from . import (
    compare,
    elicit,
    explore,
    priors,
    report,
    reproduce,
    shapley,
    sobol,
    tornado,
    update,
    voi,
)
from .options import Parser, fewer_full_collections

__all__ = ["EXIT_BAD_INPUT", "build_parser", "main"]

EXIT_BAD_INPUT = 2
DESCRIPTION = """\
Credible intervals, not point estimates, for a compute model: every assumption is a prior
distribution in a TOML file (each number with its source), drawn by Monte Carlo through the
model. The default model is the Sora compute model of Factorial Funds' article (training
GPU-months, breakeven video minutes, peak serving fleet); any model runs with --model.

Start here:
  sora-uq report                       draw the article priors and write reports/article/
  sora-uq priors show article          every assumption: family, interval, source
  sora-uq reproduce                    the article's own arithmetic, line by line
  sora-uq tornado --output fleet_gpus  which assumption moves the fleet most
  sora-uq explore                      a live page: move an assumption, watch the intervals

Every command takes --help. Exit status: 0 done, 2 bad input (one line on stderr, nothing
written), 130 interrupted.
"""
# --help lists this order
COMMANDS = (reproduce, report, compare, priors, elicit, tornado, sobol, shapley, voi, update,
            explore)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="sora-uq", description=DESCRIPTION,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"sora-uq {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add(commands)
    for sub in commands.choices.values():
        sub.add_argument("--no-cache", action="store_true",
                         help="compile afresh and keep nothing (also SORA_UQ_NO_CACHE=1); "
                              "compiled programs are kept in the user's cache directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    """The ``sora-uq`` program: parse, run the command, turn every ending into an exit status.

    Run as the program (no ``argv``), the command runs in a worker thread that this, the main
    thread, watches, so that Ctrl-C is answered within about a second even while XLA compiles
    (:func:`~uncertainty.interrupt.run_watched`); called with ``argv`` (tests, scripts) it runs
    here. ``explore`` always runs here: its server handles Ctrl-C itself."""
    interrupt.install()
    parser = build_parser()
    args = _guarded(lambda: _parse(parser, argv))
    if isinstance(args, int):
        return args
    args.program = argv is None  # run as the program, not called by a script or a test
    if args.program:
        fewer_full_collections()
    command = partial(_guarded, partial(_command, args))
    if argv is None and not getattr(args, "main_thread", False):
        return interrupt.run_watched(command, _say_interrupted)
    return command()


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace | int:
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    if getattr(args, "samples", "unset") is None and not getattr(args, "adaptive", False):
        args.samples = DEFAULT_SAMPLES
    return args


def _command(args: argparse.Namespace) -> int:
    if not getattr(args, "no_cache", False):
        cache.enable()  # before the command imports JAX: compile once, ever
    args.feedback = Feedback(show=not getattr(args, "quiet", False), stepwise=True)
    try:
        return args.func(args)
    finally:  # before any message: the display leaves the terminal clean
        args.feedback.close()


def _say_interrupted() -> None:
    print("sora-uq: interrupted; nothing was written", file=sys.stderr, flush=True)


def _guarded(work):
    """``work()``, with every way it can end turned into an exit status and at most one line."""
    try:
        return work()
    except UserError as err:
        print(f"sora-uq: error: {one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        interrupt.announce_once(_say_interrupted)
        return 130
    except BrokenPipeError:
        return 0
    except SystemExit as done:  # --help and --version
        return done.code if isinstance(done.code, int) else 0
    except Exception as err:  # a bug, not bad input: one line, and the way to see more
        if interrupt.requested():  # Ctrl-C that a library turned into another exception
            interrupt.announce_once(_say_interrupted)
            return 130
        if os.environ.get("SORA_UQ_DEBUG"):
            raise
        print(f"sora-uq: internal error: {type(err).__name__}: {one_line(err)} "
              f"(set SORA_UQ_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1
