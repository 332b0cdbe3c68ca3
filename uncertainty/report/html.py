"""Report sections -> one self-contained HTML page (standard library only).

The page needs nothing but itself: the CSS is inline, every figure is an SVG embedded as a
``data:`` URI, there is no script and no external request, and an ``@media print`` block makes
it print cleanly. Text is escaped with :func:`html.escape`; the two inline marks of
:mod:`uncertainty.report.blocks` (```code``` and ``**strong**``) become ``<code>`` and ``<strong>``.

Example
-------
>>> from uncertainty.report.blocks import Section, Text
>>> page = to_html("A & B", [Section("s", "Part", [Text("x < `y`")])], {})
>>> "<title>A &amp; B</title>" in page and "x &lt; <code>y</code>" in page
True
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence

from .blocks import Block, Bullets, Cell, Image, Section, Table, Text

__all__ = ["CSS", "inline", "to_html"]

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dee7; --band: #f4f6fa; --accent: #0173b2;
        --flag: #fff1e6; --flag-edge: #d55e00; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, \
sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 20px 28px 48px; }
h1 { font-size: 1.55rem; margin: 0 0 4px; line-height: 1.25; }
h2 { font-size: 1.2rem; margin: 32px 0 8px; padding-top: 10px; border-top: 1px solid var(--line); }
p { margin: 8px 0; }
.lede { color: var(--muted); margin: 0 0 12px; }
code { font: 0.88em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: var(--band); padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 10px 0 6px; font-size: 0.9rem; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; \
border-bottom: 1px solid var(--line); }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.flag td { background: var(--flag); }
tr.flag td:first-child { box-shadow: inset 4px 0 0 var(--flag-edge); font-weight: 600; }
.caption { color: var(--muted); font-size: 0.85rem; margin: 2px 0 12px; }
figure { margin: 14px 0; break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 0.85rem; }
td img.sketch { display: block; width: 170px; max-width: none; height: auto; }
table.headline { font-size: 1rem; }
table.headline td:first-child { font-weight: 600; }
ul { margin: 6px 0; padding-left: 22px; }
nav { font-size: 0.85rem; color: var(--muted); margin: 6px 0 10px; }
nav a { color: var(--accent); text-decoration: none; margin-right: 12px; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; }
  table, figure, tr { break-inside: avoid; }
  tr.flag td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; }
}
"""

_NUM, _FLAG = ' class="num"', ' class="flag"'
_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
# Matched against the cell with its whitespace collapsed to single spaces, with possessive
# quantifiers and no two adjacent optional runs of one character class: linear time on any cell
# (the earlier "\s*(e..)?\s*" backtracked cubically on a long run of spaces).
_NUMERIC = re.compile(r"[~<>≈ -]*+[-+]?\d[\d.,]*+ ?(?:e[-+]?\d++)?+ ?[kMBT%]?(?: to .*)?")


def inline(text: str) -> str:
    """Escape ``text`` and turn ```code``` and ``**strong**`` into HTML."""
    escaped = html.escape(str(text), quote=False)
    # <wbr> after underscores lets long names wrap at a word joint, never mid-word.
    escaped = _CODE.sub(lambda m: f"<code>{m.group(1).replace('_', '_<wbr>')}</code>", escaped)
    return _STRONG.sub(lambda m: f"<strong>{m.group(1)}</strong>", escaped)


def _img(image: Image, svgs: Mapping[str, str], css_class: str = "") -> str:
    data = base64.b64encode(svgs[image.name].encode("utf-8")).decode("ascii")
    cls = f' class="{css_class}"' if css_class else ""
    return f'<img{cls} src="data:image/svg+xml;base64,{data}" alt="{html.escape(image.alt)}">'


def _is_number(cell: Cell) -> bool:
    return isinstance(cell, str) and _NUMERIC.fullmatch(" ".join(cell.split())) is not None


def _cell(cell: Cell, svgs: Mapping[str, str], numeric: bool) -> str:
    if isinstance(cell, Image):
        return f"<td>{_img(cell, svgs, 'sketch') if cell.name in svgs else ''}</td>"
    return f"<td{_NUM if numeric else ''}>{inline(cell)}</td>"


def _table(table: Table, svgs: Mapping[str, str], css_class: str = "") -> str:
    flags = list(table.flags) + [False] * (len(table.rows) - len(table.flags))
    # A column of numbers is right-aligned, header included, so digits line up.
    numeric = [all(_is_number(row[i]) or row[i] in ("", "fixed") for row in table.rows)
               and any(_is_number(row[i]) for row in table.rows) for i in range(len(table.header))]
    head = "".join(f"<th{_NUM if num else ''}>{inline(h)}</th>"
                   for h, num in zip(table.header, numeric, strict=True))
    body = "\n".join(
        f"<tr{_FLAG if flagged else ''}>"
        + "".join(_cell(c, svgs, num) for c, num in zip(row, numeric, strict=False)) + "</tr>"
        for row, flagged in zip(table.rows, flags, strict=False))
    cls = f' class="{css_class}"' if css_class else ""
    caption = f'<p class="caption">{inline(table.caption)}</p>' if table.caption else ""
    return (f"<table{cls}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n"
            f"</table>{caption}")


def _block(block: Block, svgs: Mapping[str, str], section_id: str) -> str:
    if isinstance(block, Text):
        return f"<p>{inline(block.text)}</p>"
    if isinstance(block, Table):
        return _table(block, svgs, "headline" if section_id == "headline" else "")
    if isinstance(block, Image):
        if block.name not in svgs:
            return ""
        caption = f"<figcaption>{inline(block.caption)}</figcaption>" if block.caption else ""
        return f"<figure>{_img(block, svgs)}{caption}</figure>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{inline(item)}</li>" for item in block.items) + "</ul>"
    raise TypeError(f"not a report block: {block!r}")


def to_html(title: str, sections: Sequence[Section], svgs: Mapping[str, str],
            intro: Sequence[Block] = ()) -> str:
    """One HTML page: the title, the intro blocks, a contents line, then the sections in order.

    ``svgs`` maps figure names to SVG text; an :class:`~uncertainty.report.blocks.Image` whose
    figure is absent is left out rather than shown broken.
    """
    nav = "".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in sections)
    parts = [f'<h1>{inline(title)}</h1>']
    parts += [_block(b, svgs, "intro").replace("<p>", '<p class="lede">', 1) for b in intro]
    parts.append(f"<nav>{nav}</nav>")
    for section in sections:
        parts.append(f'<section id="{html.escape(section.id)}">\n<h2>{inline(section.title)}</h2>')
        parts += [_block(b, svgs, section.id) for b in section.blocks]
        parts.append("</section>")
    body = "\n".join(p for p in parts if p)
    plain_title = html.escape(title.replace("`", "").replace("**", ""))
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{plain_title}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")
