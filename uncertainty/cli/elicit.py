"""``sora-uq elicit``: fit a prior to what an expert states, and print the table to paste into a
prior file.

Two ways to state a belief:

- quantiles, fitted by a metalog: ``--q 0.1=4 --q 0.5=6 --q 0.9=10`` ("10% chance below 4, even
  odds on 6, 10% chance above 10"), optionally bounded (``--lower``, ``--upper``) and with fewer
  terms than pairs (``--terms``: a least-squares fit);
- an interval and a family: ``--ci 4 10 --level 0.9 --family lognormal`` (the family's own ``ci``
  fit, as in a prior file).

It prints the fitted distribution, its 1% to 99% quantiles, a sketch of its density and the
``[assumptions.NAME]`` table, whose ``source`` is a placeholder to replace. ``--compare`` fits the
same quantiles three ways (metalog, lognormal, PERT) to show how much the tails depend on the
choice of family.

Examples
--------
  $ sora-uq elicit --q 0.1=4e9 --q 0.5=2e10 --q 0.9=8e10 --lower 0 --name sora_params
  $ sora-uq elicit --q 0.1=0.25 --q 0.5=0.38 --q 0.9=0.55 --lower 0 --upper 1
  $ sora-uq elicit --q 0.1=4 --q 0.5=6 --q 0.9=10 --compare
  $ sora-uq elicit --ci 4 10 --level 0.9 --family lognormal --json
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys

from ..errors import UserError
from ..report.blocks import Table, table_markdown

__all__ = ["CI_FAMILIES", "QUANTILES", "SOURCE_PLACEHOLDER", "add", "cmd_elicit"]

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)  # the table's rows, with the stated ones
CI_FAMILIES = ("lognormal", "normal", "beta", "uniform", "loguniform")
SOURCE_PLACEHOLDER = ("REPLACE: who stated these numbers, where and when (every number in a "
                      "prior file needs a source)")
DEFAULT_NAME = "my_assumption"
SKETCH_COLUMNS, SKETCH_ROWS = 60, 6
LOG_AXIS_RATIO = 20  # 99% / 1% quantile beyond which the sketch has a log axis
_BLOCKS = " ▁▂▃▄▅▆▇█"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


# --- argument types -------------------------------------------------------------------------
def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def stated_quantile(text: str) -> tuple[float, float]:
    """``P=VALUE`` -> (P, VALUE): the probability of a value at most VALUE is P."""
    probability, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"must be P=VALUE, like 0.1=4, got {text!r}")
    try:
        p, x = float(probability), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be P=VALUE with two numbers, like 0.1=4, "
                                         f"got {text!r}") from None
    if not 0 < p < 1:
        raise argparse.ArgumentTypeError(f"the probability P of P=VALUE must lie strictly "
                                         f"between 0 and 1, got {text!r}")
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"the VALUE of P=VALUE must be finite, got {text!r}")
    return p, x


def _level(text: str) -> float:
    value = _finite(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {text}")
    return value


def _name(text: str) -> str:
    if not _NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"must be an assumption name (letters, digits, _ and -, "
                                         f"not starting with a digit), got {text!r}")
    return text


# --- the command ----------------------------------------------------------------------------
def cmd_elicit(args) -> int:
    from ..summary import format_value

    _check_usage(args)
    fit = _fit_quantiles(args) if args.q else _fit_interval(args)
    toml = _toml_block(args.name, fit["spec"])
    stated = dict(fit["stated"])
    probs = sorted(set(QUANTILES) | set(stated))
    compare = _compare(fit["dist"], args, probs) if args.compare else None
    if args.json:
        doc = {"name": args.name, "family": fit["dist"].name, "params": _jsonable(
            fit["dist"].params()), "describe": fit["dist"].describe(), "feasible": True,
            "stated": {f"{p:g}": x for p, x in stated.items()},
            "quantiles": _quantile_table(fit["dist"], probs), "toml": toml}
        if compare is not None:
            doc["compare"] = {name: entry["json"] for name, entry in compare.items()}
        print(json.dumps(doc, indent=1))  # float64 fits: every digit is carried
        return 0

    print(fit["dist"].describe())
    print(fit["how"])
    print(f"feasible: yes ({fit['feasible']})\n")
    fits = compare or {fit["dist"].name: {"dist": fit["dist"], "miss": None}}
    _print_quantiles(fits, stated, probs, format_value)
    print()
    print(_sketch(fit["dist"], format_value))
    print(f"\nPaste into the prior file, and replace the source with where the numbers come "
          f"from:\n\n{toml}", end="")
    return 0


def _check_usage(args) -> None:
    """The combinations argparse cannot refuse by itself, each one line."""
    if args.q and args.ci:
        raise UserError("elicit: give either --q (quantiles, fitted by a metalog) or --ci with "
                        "--family, not both")
    if not args.q and not args.ci:
        if args.family is not None:
            raise UserError("elicit: --family goes with --ci LOW HIGH (the interval to fit)")
        raise UserError("elicit: give quantiles (--q 0.1=4 --q 0.5=6 --q 0.9=10) or an interval "
                        "with a family (--ci 4 10 --family lognormal)")
    if args.ci:
        only_q = [flag for flag, given in (("--lower", args.lower is not None),
                                           ("--upper", args.upper is not None),
                                           ("--terms", args.terms is not None),
                                           ("--compare", args.compare)) if given]
        if only_q:
            raise UserError(f"elicit: {only_q[0]} goes with --q (a metalog), not with --ci")
        if args.family is None:
            raise UserError(f"elicit: --ci needs --family ({'|'.join(CI_FAMILIES)})")
        return
    if args.family is not None:
        raise UserError("elicit: --family goes with --ci; quantiles (--q) are fitted by a metalog")
    if args.level is not None:
        raise UserError("elicit: --level goes with --ci")
    pairs = args.q
    if len(pairs) < 3:
        raise UserError(f"elicit: give at least 3 --q P=VALUE (a metalog needs three quantiles), "
                        f"got {len(pairs)}")
    for (p0, x0), (p1, x1) in zip(pairs, pairs[1:], strict=False):
        if not p0 < p1:
            raise UserError(f"elicit: --q probabilities must increase from one --q to the next, "
                            f"got {p0:g} then {p1:g}")
        if not x0 < x1:
            raise UserError(f"elicit: --q values must increase with their probabilities, got "
                            f"{p0:g}={x0:g} then {p1:g}={x1:g}")
    if args.upper is not None and args.lower is None:
        raise UserError("elicit: --upper needs --lower (a bounded metalog has both bounds)")
    if args.lower is not None and args.upper is not None and not args.lower < args.upper:
        raise UserError(f"elicit: --lower {args.lower:g} must be below --upper {args.upper:g}")
    if args.lower is not None and not pairs[0][1] > args.lower:
        raise UserError(f"elicit: every --q value must lie above --lower {args.lower:g}, got "
                        f"{pairs[0][0]:g}={pairs[0][1]:g}")
    if args.upper is not None and not pairs[-1][1] < args.upper:
        raise UserError(f"elicit: every --q value must lie below --upper {args.upper:g}, got "
                        f"{pairs[-1][0]:g}={pairs[-1][1]:g}")


# --- fits -----------------------------------------------------------------------------------
def _fit_quantiles(args) -> dict:
    from ..families.metalog import build_metalog
    from ..summary import format_value

    dist = build_metalog([list(q) for q in args.q], lower=args.lower, upper=args.upper,
                         terms=args.terms, where="elicit")
    miss = _max_miss(dist, args.q)
    if dist.k == len(args.q):
        how = f"fit: through all {len(args.q)} stated quantiles ({dist.k} terms)"
    else:
        how = (f"fit: least squares, {dist.k} terms for {len(args.q)} stated quantiles; "
               f"largest miss {format_value(miss)}")
    return {"dist": dist, "spec": {"dist": "metalog", **dist.params()}, "how": how,
            "stated": list(args.q), "feasible": "its quantile function increases on (0, 1)"}


def _fit_interval(args) -> dict:
    from ..families import DEFAULT_LEVEL, build
    from ..summary import format_value

    low, high = args.ci
    level = DEFAULT_LEVEL if args.level is None else args.level
    spec = {"dist": args.family, "ci": [low, high], "level": level}
    dist = build(spec, where="elicit")
    # 0.05 and 0.95, not 0.04999...: rows of the table
    tail, upper_tail = round((1 - level) / 2, 12), round((1 + level) / 2, 12)
    got = dist.ppf((tail, upper_tail))
    how = (f"fit: ci = [{format_value(low)}, {format_value(high)}] at level {level:g}; its "
           f"{_percent(tail)} and {_percent(upper_tail)} quantiles are {format_value(got[0])} "
           f"and {format_value(got[1])}")
    return {"dist": dist, "spec": spec, "how": how, "stated": [(tail, low), (upper_tail, high)],
            "feasible": "a valid " + dist.name}


def _compare(metalog, args, probs) -> dict:
    """The same quantiles fitted three ways: name -> {dist, why, miss, json}."""
    from ..errors import PriorError

    fits = {}
    makers = {
        "metalog": lambda: metalog,
        "lognormal": lambda: _lognormal_least_squares(args.q),
        "pert": lambda: _pert_least_squares(args.q, args.lower, args.upper),
    }
    for name, make in makers.items():
        try:
            dist, why = make(), None
        except (_CannotFit, PriorError) as err:
            dist, why = None, str(err)
        entry = {"dist": dist, "why": why, "miss": None if dist is None else _max_miss(
            dist, args.q)}
        entry["json"] = {
            "family": name, "params": None if dist is None else _jsonable(dist.params()),
            "quantiles": None if dist is None else _quantile_table(dist, probs),
            "max_miss": entry["miss"], "why": why}
        fits[name] = entry
    return fits


class _CannotFit(Exception):
    """A comparison fit that cannot be made for these quantiles (the message says why)."""


def _lognormal_least_squares(pairs):
    """log x = log m + s z(p) by least squares: the closed-form regression of log x on z."""
    import numpy as np
    from scipy import special

    from ..families import build

    p, x = np.asarray(pairs, np.float64).T
    if not np.all(x > 0):
        raise _CannotFit(f"a lognormal needs every value > 0, got {x[0]:g}")
    z, y = special.ndtri(p), np.log(x)
    slope = float(np.sum((z - z.mean()) * (y - y.mean())) / np.sum((z - z.mean()) ** 2))
    intercept = float(y.mean() - slope * z.mean())
    return build({"dist": "lognormal", "median": math.exp(intercept), "sigma": slope},
                 where="elicit --compare: lognormal")


def _pert_least_squares(pairs, lower, upper):
    """PERT (low, mode, high) whose quantiles are closest to the stated ones (least squares,
    scaled by their spread); low below the smallest value, high above the largest, or the
    bounds --lower and --upper when given."""
    import numpy as np
    from scipy import optimize, special
    from scipy import stats as scipy_stats

    from ..families import build

    p, x = np.asarray(pairs, np.float64).T
    spread = x[-1] - x[0]
    free_low, free_high = lower is None, upper is None

    def unpack(theta):
        i = 0
        low, high = lower, upper
        if free_low:
            low, i = x[0] - spread * math.exp(theta[i]), i + 1
        if free_high:
            high, i = x[-1] + spread * math.exp(theta[i]), i + 1
        return low, low + (high - low) * special.expit(theta[i]), high

    def misses(theta):
        low, mode, high = unpack(theta)
        width = high - low
        a, b = 1 + 4 * (mode - low) / width, 1 + 4 * (high - mode) / width
        return (low + width * scipy_stats.beta.ppf(p, a, b) - x) / spread

    best = None
    for log_width in (-2.0, -0.5, 1.0):
        low = lower if not free_low else x[0] - spread * math.exp(log_width)
        high = upper if not free_high else x[-1] + spread * math.exp(log_width)
        middle = float(np.interp(0.5, p, x))
        share = min(max((middle - low) / (high - low), 0.02), 0.98)
        start = [log_width] * (free_low + free_high) + [float(special.logit(share))]
        with np.errstate(all="ignore"):
            fit = optimize.least_squares(misses, start, x_scale=1.0)
        if np.isfinite(fit.cost) and (best is None or fit.cost < best.cost):
            best = fit
    low, mode, high = (float(v) for v in unpack(best.x)) if best is not None else (math.nan,) * 3
    if not all(map(math.isfinite, (low, mode, high))) or not low < high:
        raise _CannotFit("the least-squares fit of a PERT did not converge")
    return build({"dist": "pert", "low": low, "mode": mode, "high": high},
                 where="elicit --compare: pert")


# --- numbers --------------------------------------------------------------------------------
def _quantile_table(dist, probs) -> dict[str, float]:
    return {f"{p:g}": float(v) for p, v in zip(probs, dist.ppf(probs), strict=True)}


def _max_miss(dist, pairs) -> float:
    """The largest distance between a stated quantile and the fit's quantile there; 0 for a
    fit through them (it misses by float64 rounding only, which is no information)."""
    probs, values = zip(*pairs, strict=True)
    miss = max(abs(v - w) for v, w in zip(dist.ppf(probs), values, strict=True))
    return float(miss) if miss > 1e-9 * max(abs(v) for v in values) else 0.0


def _jsonable(params: dict) -> dict:
    def plain(value):
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return float(value) if isinstance(value, float) else value

    return {k: plain(v) for k, v in params.items()}


def _percent(p: float) -> str:
    return f"{100 * p:g}%"


# --- output ---------------------------------------------------------------------------------
def _print_quantiles(fits: dict, stated: dict, probs: list, format_value) -> None:
    """One table: a row per probability (the stated ones among them), a column per fit; with
    several fits, the largest miss of each, the fits that could not be made, and the tails."""
    made = {name: entry for name, entry in fits.items() if entry["dist"] is not None}
    columns = {name: entry["dist"].ppf(probs) for name, entry in made.items()}
    rows = [[_percent(p), format_value(stated[p], digits=6) if p in stated else ""]
            + [format_value(float(columns[name][i])) for name in made]
            for i, p in enumerate(probs)]
    if len(fits) > 1:
        rows.append(["largest miss", ""] + [format_value(made[name]["miss"]) for name in made])
        print("The same quantiles fitted three ways (the tails are where they differ):\n")
    print(table_markdown(Table(["quantile", "stated", *made], rows)))
    if len(fits) == 1:
        return
    print()
    for name, entry in fits.items():
        if entry["dist"] is None:
            print(f"{name}: not fitted: {entry['why']}")
        else:
            print(f"{name}: {entry['dist'].describe()}")
    if len(made) > 1:
        for p in (0.01, 0.99):
            tail = [float(columns[name][probs.index(p)]) for name in made]
            print(f"{_percent(p)} quantile across the fits: {format_value(min(tail))} to "
                  f"{format_value(max(tail))}")


def _sketch(dist, format_value) -> str:
    """The density between the 1% and 99% quantiles as a histogram of the quantile function
    on a fine grid of probabilities (so any family with a quantile function can be drawn); on a
    log axis when the values are positive and span more than a factor LOG_AXIS_RATIO."""
    import numpy as np

    grid = (np.arange(SKETCH_COLUMNS * 400) + 0.5) / (SKETCH_COLUMNS * 400)
    values = dist.ppf(grid)
    low, median, high = (float(v) for v in dist.ppf((0.01, 0.5, 0.99)))
    log_axis = low > 0 and high / low > LOG_AXIS_RATIO
    title = f"density of the {dist.name}, 1% to 99%" + (" (log axis)" if log_axis else "") + ":"
    values = values[(values >= low) & (values <= high)]

    def axis(x):
        return np.log(x) if log_axis else x

    counts, _ = np.histogram(axis(values), bins=SKETCH_COLUMNS, range=(axis(low), axis(high)))
    blocks = _BLOCKS if _can_print(_BLOCKS) else " " + "#" * 8
    steps = len(blocks) - 1
    heights = np.rint(counts / max(counts.max(), 1) * SKETCH_ROWS * steps).astype(int)
    lines = []
    for row in range(SKETCH_ROWS - 1, -1, -1):
        level = np.clip(heights - row * steps, 0, steps)
        lines.append("".join(blocks[h] for h in level).rstrip())
    left, right = f"{format_value(low)} (1%)", f"{format_value(high)} (99%)"
    middle = f"^ {format_value(median)} (median)"
    at = int((axis(median) - axis(low)) / (axis(high) - axis(low)) * SKETCH_COLUMNS)
    labels = left.ljust(SKETCH_COLUMNS)
    if len(left) < at - 1 and at + len(middle) < SKETCH_COLUMNS - len(right) - 1:
        labels = labels[:at] + middle + labels[at + len(middle):]
    labels = labels[:SKETCH_COLUMNS - len(right)].rstrip().ljust(SKETCH_COLUMNS - len(right))
    lines.append(labels + right)
    return "\n".join([title, *lines])


def _can_print(text: str) -> bool:
    """Whether stdout can show ``text`` (a stream with no encoding, like StringIO, can)."""
    encoding = getattr(sys.stdout, "encoding", None)
    try:
        text.encode(encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _toml_block(name: str, spec: dict) -> str:
    """``[assumptions.NAME]`` with the family, its parameters and a placeholder source.

    Written here rather than by the general TOML writer so that numbers read the way people
    write them in a prior file: 4e9 and 0.25, not 4000000000.0."""
    lines = [f"[assumptions.{name}]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in spec.items()]
    lines.append(f"source = {_toml_value(SOURCE_PLACEHOLDER)}")
    return "\n".join(lines) + "\n"


def _toml_value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string of printable text is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"cannot write {value!r} to the prior table")
    if isinstance(value, int) or value == 0 or 1e-4 <= abs(value) < 1e6:
        return repr(value)
    for digits in range(17):  # the shortest scientific form that reads back as the same float
        mantissa, exponent = f"{value:.{digits}e}".split("e")
        if float(f"{mantissa}e{exponent}") == value:
            return f"{mantissa}e{int(exponent)}"
    return repr(value)


def add(commands) -> None:
    elicit = commands.add_parser(
        "elicit", help="fit a prior to an expert's quantiles or interval",
        description=__doc__.replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    stated = elicit.add_argument_group("quantiles, fitted by a metalog")
    stated.add_argument("--q", type=stated_quantile, action="append", metavar="P=VALUE",
                        help="P chance that the quantity is at most VALUE; three or more, in "
                             "increasing order")
    stated.add_argument("--lower", type=_finite, help="lower bound (a semi-bounded metalog)")
    stated.add_argument("--upper", type=_finite,
                        help="upper bound, with --lower (a bounded metalog)")
    stated.add_argument("--terms", type=int, metavar="K",
                        help="metalog terms, 2 to the number of --q (default: one per --q; "
                             "fewer: least squares)")
    stated.add_argument("--compare", action="store_true",
                        help="also fit a lognormal and a PERT to the same quantiles and compare "
                             "their quantiles, above all the tails")
    interval = elicit.add_argument_group("an interval and a family")
    interval.add_argument("--ci", type=_finite, nargs=2, metavar=("LOW", "HIGH"),
                          help="a central interval of the quantity")
    interval.add_argument("--level", type=_level,
                          help="the probability inside --ci (default: 0.9)")
    interval.add_argument("--family", choices=CI_FAMILIES, help="the family to fit to --ci")
    elicit.add_argument("--name", type=_name, default=DEFAULT_NAME,
                        help=f"the assumption's name in the table to paste (default: "
                             f"{DEFAULT_NAME})")
    elicit.add_argument("--json", action="store_true", help="print JSON instead of text")
    elicit.set_defaults(func=cmd_elicit)
