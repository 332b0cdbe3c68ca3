"""``sora-uq reproduce``: the article's figures, recomputed and checked (the Sora model)."""

from __future__ import annotations

import json


def cmd_reproduce(args) -> int:
    from ..report.sections import reproduction_markdown
    from ..sora.reproduce import reproduction_table

    lines = reproduction_table()
    print(json.dumps({"lines": lines}, indent=1) if args.json else reproduction_markdown(lines))
    return 0


def add(commands) -> None:
    reproduce = commands.add_parser("reproduce",
                                    help="the article's figures, recomputed and checked")
    reproduce.add_argument("--json", action="store_true", help="print JSON instead of a table")
    reproduce.set_defaults(func=cmd_reproduce)
