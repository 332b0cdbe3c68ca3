"""What several commands share: argument types, options, the progress display, output names.

Argument types raise ``argparse.ArgumentTypeError`` (argparse turns it into a usage error);
every usage error is one line and exit status 2 (:class:`Parser`).
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from ..defaults import DEFAULT_RTOL, MAX_SAMPLES
from ..errors import UserError

__all__ = ["MODEL_HELP", "Parser", "add_model_option", "add_priors_option", "add_quiet_option",
           "add_run_options", "add_scale_options", "add_stopping_options", "chosen_outputs",
           "default_out", "feedback", "fewer_full_collections", "integer_from",
           "log_scale_error", "port", "priors_record", "quantile", "rtol", "samples", "seed",
           "sobol_n", "writes"]


def samples(text: str) -> int:
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except (ValueError, OverflowError):  # OverflowError: 1e400 is an infinite float
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_SAMPLES or (("e" in text.lower()) and float(text) != value):
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_SAMPLES:.0e}, got {text}")
    return value


def integer_from(text: str, low: int, high: int, not_integer: str, outside: str) -> int:
    """``text`` as an integer in ``[low, high]``; the messages are formats of ``text`` and
    ``value``.

    >>> integer_from("7", 0, 9, "must be an integer, got {text!r}", "got {value}")
    7
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(not_integer.format(text=text)) from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(outside.format(value=value))
    return value


def seed(text: str) -> int:
    return integer_from(text, 0, 2**32 - 1, "must be an integer, got {text!r}",
                        "must be in [0, 2^32), got {value}")


def port(text: str) -> int:
    return integer_from(text, 0, 65535, "expected a port number, got '{text}'",
                        "a port is 0 to 65535, got {value}")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str):
        # "sora-uq: error: explore: argument --port: ...": the program is named once
        command = self.prog.removeprefix("sora-uq").strip()
        raise UserError(f"{command + ': ' if command else ''}{message} (see --help)")


def add_quiet_option(parser) -> None:
    """--quiet: no progress display (it shows only when stderr is a terminal anyway)."""
    parser.add_argument("--quiet", action="store_true",
                        help="no progress display on stderr (shown only on a terminal)")


def feedback(args):
    """The command's progress display (``main`` makes it from --quiet; see
    :mod:`uncertainty.progress`), or a silent one.

    Commands ask for it once they have imported what they use, before the long work. So this is
    also where the program moves the objects made so far (mostly the imported modules') to the
    garbage collector's permanent generation (:func:`gc.freeze`): they live as long as the
    program, and every full collection (matplotlib's figures cause several) scanned them all
    again. A warm report: 5.8 -> 5.0 CPU seconds. Only when run as the program: a caller of
    ``main(argv)`` (a script, a test) keeps its collector as it was."""
    from ..progress import Feedback

    if getattr(args, "program", False):
        gc.freeze()
    return getattr(args, "feedback", None) or Feedback(show=False)


# Young (generation 1) collections between two full ones, for the program: Python's default is
# 10. See :func:`fewer_full_collections`.
FULL_COLLECTION_EVERY = 1000


def fewer_full_collections() -> None:
    """Let the garbage collector's full collections wait 100 times longer, when run as the
    program: each one scans every object not yet frozen (:func:`feedback` freezes those of the
    imports), and a command makes over a million, with JAX, xarray and matplotlib imported
    and a few hundred programs traced. Four to nine full collections a command took 0.14 CPU
    seconds of a warm report and 0.5 of an update, and found almost nothing to free: the
    cycles they free (a drawn Figure's, a traced function's) are mostly young and found by the
    young collections, which run as before. An update: 5% less CPU, the same peak memory.

    >>> import gc
    >>> before = gc.get_threshold()
    >>> fewer_full_collections()
    >>> gc.get_threshold()[2]
    1000
    >>> gc.set_threshold(*before)
    """
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def default_out(priors_path, suffix: str = "") -> Path:
    """``reports/<prior file's stem><suffix>``: named by the file itself, never by its
    ``[meta] name``, so a copied prior file never writes over the original's report."""
    return Path("reports") / f"{Path(priors_path).stem}{suffix}"


MODEL_HELP = ("the model to run: FILE.py:NAME or package.module:NAME, naming an uncertainty.Model "
              "(Python code: loading it runs it). Default: the prior file's [meta] model, else "
              "the Sora model")


def add_model_option(parser) -> None:
    parser.add_argument("--model", metavar="FILE.py:NAME", help=MODEL_HELP)


def add_priors_option(parser, required: bool = False) -> None:
    """--priors (a prior file or a shipped name) and --model."""
    if required:
        parser.add_argument("--priors", required=True, help="prior file path or name")
    else:
        parser.add_argument("--priors", default="article",
                            help="prior file path or name (default: article)")
    add_model_option(parser)


def add_run_options(parser, draws: str, out: str, json_file: str,
                     samples_default: str = "400000") -> None:
    """--samples, --seed, --out, --force and --json, shared by the commands that simulate."""
    parser.add_argument("--samples", type=samples, default=None,
                        help=f"{draws} (default: {samples_default})")
    parser.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", help=f"output directory (default: {out})")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing directory the tool did not write")
    parser.add_argument("--json", action="store_true", help=f"print {json_file} to stdout")


def rtol(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 1e-5 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a relative error from 1e-5 to below 1, got {text}")
    return value


def add_stopping_options(parser) -> None:
    """Adaptive stopping, the sampler and --quiet: how much a run draws, and how."""
    parser.add_argument("--rtol", type=rtol, default=None,
                        help=f"draw until the Monte Carlo standard error of the 5%%, 50%% and 95%% "
                             f"quantiles of the headline outputs is at most this, relative "
                             f"(default: {DEFAULT_RTOL}; ignored with --samples)")
    parser.add_argument("--max-samples", type=samples, default=MAX_SAMPLES,
                        help="stop an --rtol run here even if not converged (default: 1e9)")
    parser.add_argument("--sampler", choices=("mc", "qmc"), default="mc",
                        help="mc: Monte Carlo; qmc: scrambled Sobol points, 16 randomised "
                             "replicates for the error estimate, --samples rounded up to a "
                             "multiple of 16 (default: mc)")
    add_quiet_option(parser)


def add_scale_options(parser) -> None:
    """Adaptive stopping, the sampler, progress, and joining a multi-host run."""
    add_stopping_options(parser)
    group = parser.add_argument_group(
        "multi-host", "join a jax.distributed run (or set JAX_COORDINATOR_ADDRESS and let JAX "
        "read the cluster); every process runs the same command, process 0 writes")
    group.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0")
    group.add_argument("--num-processes", type=int, metavar="N", help="number of processes")
    group.add_argument("--process-id", type=int, metavar="I", help="this process's rank, 0..N-1")


def writes(joined: bool) -> bool:
    """In a multi-host run every process computes the summary; only process 0 writes it."""
    if not joined:
        return True
    import jax

    return jax.process_index() == 0


MIN_SOBOL_N, MAX_SOBOL_N = 2**4, 2**18


def quantile(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a quantile level strictly between 0 and 1, "
                                         f"got {text}")
    return value


def sobol_n(text: str) -> int:
    try:
        # 2^K with K bounded first: 2^99999999999 would take the memory it names
        value = (2 ** min(int(text[2:]), 64)) if text.startswith("2^") else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number like 16384 or 2^14, "
                                         f"got {text!r}") from None
    if value & (value - 1) or not MIN_SOBOL_N <= value <= MAX_SOBOL_N:
        raise argparse.ArgumentTypeError(f"must be a power of 2 from {MIN_SOBOL_N} to "
                                         f"{MAX_SOBOL_N} (2^18), got {text}")
    return value


def chosen_outputs(option: str, model) -> list[str]:
    """--output: one output of the model, or all of them."""
    if option == "all":
        return list(model.outputs)
    if option not in model.outputs:
        raise UserError(f"--output: unknown output '{option}' of the model '{model.name}' "
                        f"(known: {', '.join(model.outputs)}, or all)")
    return [option]


def priors_record(priors) -> dict:
    """Which prior file a result is of (the ``"priors"`` entry of every JSON document)."""
    return {"name": priors.name, "path": priors.path, "sha256": priors.sha256}


def log_scale_error(command: str, err: ValueError) -> UserError:
    """An output that the log scale cannot take (zero or negative), in one line."""
    return UserError(f"{command}: {err}; use --scale linear for outputs that are not all > 0")


def warn_error_above_target(within: bool, words: str, whose: str = "") -> None:
    """The stderr warning of ``report`` and ``compare`` (``whose``: a prior set's name) when a
    run's headline error ended above its target (:func:`~uncertainty.summary.error_words`)."""
    if not within:  # the numbers printed beside it would look as sure as any others
        print(f"sora-uq: WARNING: {whose + ': ' if whose else ''}largest relative Monte Carlo "
              f"error of a headline 5%, 50% or 95% quantile: {words}", file=sys.stderr)
