"""``sora-uq voi``: what knowing more is worth to a provisioning decision (EVPI, EVPPI)."""

from __future__ import annotations

import argparse
import difflib
import math

from .. import jsontext
from ..errors import UserError
from ..report.blocks import Table, table_markdown
from .options import add_priors_option, add_quiet_option, feedback, samples, seed

# The estimator's default (uncertainty.sensitivity.voi.DEFAULT_SAMPLES), stated here so that
# --help needs no JAX; a test checks that the two agree.
VOI_SAMPLES = 100_000
VOI_MIN_SAMPLES = 1_000


def cost(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def cmd_voi(args) -> int:
    from ..decision import Decision
    from ..priors import load_priors, resolve_priors_path
    from ..sensitivity.voi import value_of_information
    from ..summary import format_value

    if args.samples < VOI_MIN_SAMPLES:
        raise UserError(f"--samples: the regression needs at least {VOI_MIN_SAMPLES} draws, "
                        f"got {args.samples}")
    priors = load_priors(resolve_priors_path(args.priors), model=args.model)
    decision, origin = _decision(args, priors, Decision)
    shown = feedback(args)
    with shown.phase(f"value of information: {args.samples:,} draws and regressions"):
        result = value_of_information(priors, decision, samples=args.samples, seed=args.seed)
    shown.close()
    if args.json:
        print(jsontext.dumps(result, indent=1))
        return 0
    model, output = priors.model, result["output"]
    out_unit = model.unit(output)
    per = f" per {out_unit}" if out_unit else " per unit"
    money = _loss_unit(result["unit"], out_unit)
    ratio = decision.critical_ratio
    evpi = result["evpi"]
    cost_unit = f" ({result['unit']})" if result["unit"] else ""
    provision_unit = f" {out_unit}" if out_unit else ""
    label = f" ({model.label(output)})" if model.label(output) != output else ""
    print(f"Value of information for how much {output}{label} to provide: "
          f"{priors.name} priors, {result['samples']:,} draws, seed {args.seed}.")
    print(f"Costs: {format_value(result['under_cost'])}{per} short and "
          f"{format_value(result['over_cost'])}{per} idle{cost_unit}, {origin}.")
    print(f"Best provision under today's priors: {format_value(result['provision'])}"
          f"{provision_unit}, the {100 * ratio:.3g}% quantile of {output} "
          f"(under_cost / (under_cost + over_cost)).")
    print(f"Expected loss at that provision: {format_value(result['expected_loss'])}{money}.")
    print(f"Expected value of perfect information (EVPI): {format_value(evpi)}{money}: knowing "
          f"{output} exactly before choosing would save this much on average, and no study of "
          f"any assumption is worth more.")
    rows = [[name, format_value(value), f"{100 * value / evpi:.1f}%" if evpi > 0 else "n/a"]
            for name, value in result["evppi"].items()]
    print("\nExpected value of partial perfect information (EVPPI): the expected loss saved by "
          "knowing one assumption exactly before choosing, largest first.\n")
    print(table_markdown(Table(["assumption", f"EVPPI{money}", "share of EVPI"], rows)))
    print()
    if sum(result["evppi"].values()) > evpi:
        print("The EVPPIs add up to more than the EVPI: they are not additive, and assumptions "
              "that are correlated, or act on the output together, share information.")
    print(f"Method: {result['method']}.")
    return 0


def _decision(args, priors, decision_type):
    """The decision the flags and the prior file's [decision] table make, and where each part
    came from, in words. Flags win; the table's costs apply only to its own output."""
    table = priors.decision
    model = priors.model
    output = args.output if args.output is not None else (table.output if table else None)
    if output is None:
        raise UserError("--output: required (the prior file has no [decision] table)")
    if output not in model.outputs:
        close = difflib.get_close_matches(output, list(model.outputs), n=1)
        hint = (f"; did you mean '{close[0]}'?" if close
                else f" (known: {', '.join(model.outputs)})")
        raise UserError(f"--output: unknown output '{output}' of the model '{model.name}'{hint}")
    usable = table if table is not None and table.output == output else None
    costs, flags = {}, []
    for key in ("under_cost", "over_cost"):
        flag = "--" + key.replace("_", "-")
        value = getattr(args, key)
        if value is not None:
            costs[key] = value
            flags.append(flag)
        elif usable is not None:
            costs[key] = getattr(usable, key)
        elif table is not None:
            raise UserError(f"{flag}: required: the prior file's [decision] prices "
                            f"'{table.output}', not '{output}'")
        else:
            raise UserError(f"{flag}: required (the prior file has no [decision] table)")
    unit = args.unit if args.unit is not None else (usable.unit if usable else "")
    where = f"the [decision] table of {priors.path}"
    if usable is None or len(flags) == 2:
        origin = f"from {' and '.join(flags)} (the command line)"
        source = f"command line: {' '.join(flags)}"
    elif flags:
        origin = f"{flags[0]} from the command line, the other from {where}"
        source = f"command line: {flags[0]}; {usable.source}"
    else:
        origin = f"from {where} (source: {usable.source})"
        source = usable.source
    return decision_type(output, costs["under_cost"], costs["over_cost"], unit=unit,
                         source=source), origin


def _loss_unit(cost_unit: str, output_unit: str) -> str:
    """The unit of a loss: the costs' unit times the output's, as words in brackets."""
    if cost_unit and output_unit:
        return f" ({cost_unit} x {output_unit})"
    return f" ({cost_unit})" if cost_unit else ""


def add(commands) -> None:
    voi = commands.add_parser(
        "voi", help="value of information for a provisioning decision (EVPI, EVPPI)",
        description="How much of one output to provide when each unit short costs --under-cost "
                    "and each unit idle --over-cost: the best provision under today's priors, "
                    "its expected loss, the expected value of perfect information (EVPI) and, "
                    "per assumption, of partial perfect information (EVPPI). A [decision] table "
                    "in the prior file gives the defaults; flags win.")
    add_priors_option(voi, required=True)
    voi.add_argument("--output", help="the output to provide (default: [decision] output)")
    voi.add_argument("--under-cost", type=cost, metavar="CU",
                     help="cost of each unit short, > 0 (default: [decision] under_cost)")
    voi.add_argument("--over-cost", type=cost, metavar="CO",
                     help="cost of each unit idle, > 0 (default: [decision] over_cost)")
    voi.add_argument("--unit", metavar="TEXT",
                     help="the costs' unit, e.g. 'USD per GPU-day' (default: [decision] unit)")
    voi.add_argument("--samples", type=samples, default=VOI_SAMPLES,
                     help=f"Monte Carlo draws, at least {VOI_MIN_SAMPLES} "
                          f"(default: {VOI_SAMPLES})")
    voi.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    voi.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_quiet_option(voi)
    voi.set_defaults(func=cmd_voi)
