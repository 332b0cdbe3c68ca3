"""``sora-uq tornado``: one-at-a-time tornado charts and data."""

from __future__ import annotations

from pathlib import Path

from .. import jsontext
from ..errors import UserError
from .options import (
    add_priors_option,
    add_quiet_option,
    chosen_outputs,
    default_out,
    feedback,
    priors_record,
    quantile,
)


def cmd_tornado(args) -> int:
    from ..files import Provenance, check_output_directory, output_directory
    from ..priors import load_priors, resolve_priors_path
    from ..report.figures import to_svg
    from ..report.plots import moving_bars, tornado_figure
    from ..sensitivity import tornado

    if args.low >= args.high:
        raise UserError(f"--low {args.low} must be below --high {args.high}")
    shown = feedback(args)
    path = resolve_priors_path(args.priors)
    with shown.phase("loading priors"):
        priors = load_priors(path, model=args.model)
    outputs = chosen_outputs(args.output, priors.model)
    out = Path(args.out) if args.out else default_out(path, "-tornado")
    provenance = Provenance.of("tornado", [path])
    check_output_directory(out, args.force, provenance)
    with shown.phase("tornado: compiling and evaluating"):
        result = tornado(priors, low=args.low, high=args.high, outputs=outputs)
    result = {"priors": priors_record(priors),
              **result}
    units = {**{name: priors.unit(name) for name in priors},
             **{name: q.unit for name, q in priors.model.outputs.items()}}
    labels = {name: priors.model.label(name) for name in [*priors, *priors.model.outputs]}
    with shown.phase("figures and writing"), \
            output_directory(out, args.force, provenance) as staging:
        for name, entry in result["outputs"].items():
            if not moving_bars(entry):  # no assumption moves it: no chart to draw
                continue
            svg = to_svg(tornado_figure(entry, name, units, labels))  # drawn once, as in reports
            (staging / f"{name}.svg").write_text(svg, "utf-8")
        (staging / "tornado.json").write_text(jsontext.dumps(result, indent=1) + "\n", "utf-8")
    shown.close()
    if args.json:
        print(jsontext.dumps(result, indent=1))
    else:
        for name, entry in result["outputs"].items():
            top = entry["bars"][0]
            print(f"{name}: top driver {top['assumption']} "
                  f"(swing {top['swing_log10'] or 0:.2f} decades)")
        print(f"\nwrote {out}/ (tornado.json and an SVG per output)")
    return 0


def add(commands) -> None:
    tornado = commands.add_parser("tornado", help="one-at-a-time tornado charts and data")
    add_priors_option(tornado)
    tornado.add_argument("--output", default="all", help="an output name, or all (default)")
    tornado.add_argument("--low", type=quantile, default=0.05, help="low quantile (default 0.05)")
    tornado.add_argument("--high", type=quantile, default=0.95, help="high quantile (default 0.95)")
    tornado.add_argument("--out", help="output directory (default: reports/<prior file's name "
                         "without .toml>-tornado)")
    tornado.add_argument("--force", action="store_true",
                         help="replace an existing directory the tool did not write")
    tornado.add_argument("--json", action="store_true", help="print tornado.json to stdout")
    add_quiet_option(tornado)
    tornado.set_defaults(func=cmd_tornado)
