"""What a report says, independent of its format: sections of text, tables, figures and lists.

A report is a title and an ordered list of :class:`Section`; :func:`to_markdown` here and
:func:`uncertainty.report.html.to_html` render the same sections, so ``report.md`` and
``report.html`` say the same thing in the same order. Text uses two inline marks, the Markdown ones:
```code``` and ``**strong**``.

Example
-------
>>> section = Section("totals", "Totals", [Text("Two `things`."), Table(["a", "b"], [["1", "2"]])])
>>> print(to_markdown("Report", [section]))
# Report
<BLANKLINE>
## Totals
<BLANKLINE>
Two `things`.
<BLANKLINE>
| a | b |
|---|---|
| 1 | 2 |
<BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "FIGURES_DIR",
    "Block",
    "Bullets",
    "Cell",
    "Image",
    "Section",
    "Table",
    "Text",
    "md_safe",
    "table_markdown",
    "to_markdown",
]

FIGURES_DIR = "figures"


@dataclass(frozen=True)
class Text:
    """A paragraph."""

    text: str


@dataclass(frozen=True)
class Image:
    """A figure by name (``figures/NAME.svg`` on disk); ``small`` for an inline sketch."""

    name: str
    alt: str
    caption: str = ""
    small: bool = False


Cell = str | Image


@dataclass(frozen=True)
class Table:
    """Rows of cells under a header; a row whose ``flags`` entry is true is highlighted."""

    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    flags: Sequence[bool] = ()
    caption: str = ""


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]


Block = Text | Table | Image | Bullets


@dataclass(frozen=True)
class Section:
    """One numbered part of a report: an anchor id, a heading and its blocks."""

    id: str
    title: str
    blocks: Sequence[Block] = field(default_factory=tuple)


def md_safe(text: str) -> str:
    r"""``text`` as inert Markdown: no raw HTML, links, images or block structure of its own.

    Report text mixes the tool's words with a prior file's names, sources and units, so the
    renderer, not each caller, makes sure none of them becomes markup: ``<`` is escaped (no raw
    HTML, no autolinks), ``](`` and a leading ``[`` are escaped (no inline or reference links
    and images, ``javascript:`` ones included), every line break becomes a space and a leading
    ``#``, ``>`` or ``|`` is escaped (no injected headings, quotes or tables). The two marks
    reports use, ```code``` and ``**strong**``, pass unchanged.

    >>> md_safe("<img src=x> [a](javascript:alert(1))\n# Owned")
    '&lt;img src=x> [a]\\(javascript:alert(1)) # Owned'
    >>> md_safe("# heading")
    '\\# heading'
    """
    text = " ".join(str(text).replace("\r", "\n").split("\n"))
    text = text.replace("<", "&lt;").replace("](", "]\\(")
    if text.lstrip().startswith(("#", ">", "[", "|")):
        text = "\\" + text.lstrip()
    return text


def _md_image(image: Image) -> str:
    return f"![{md_safe(image.alt)}]({FIGURES_DIR}/{image.name}.svg)"


def _md_cell(cell: Cell) -> str:
    if isinstance(cell, Image):
        return _md_image(cell)
    return md_safe(str(cell).replace("|", "/"))


def table_markdown(table: Table) -> str:
    """One table as Markdown; flagged rows get a bold first cell (Markdown has no row colour)."""
    lines = ["| " + " | ".join(_md_cell(h) for h in table.header) + " |",
             "|" + "---|" * len(table.header)]
    flags = list(table.flags) + [False] * (len(table.rows) - len(table.flags))
    for row, flagged in zip(table.rows, flags, strict=False):
        cells = [_md_cell(c) for c in row]
        if flagged and cells:  # Markdown has no row colour: bold the first cell instead
            cells[0] = f"**{cells[0]}**" if not cells[0].startswith("**") else cells[0]
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    return f"{text}\n\n{md_safe(table.caption)}" if table.caption else text


def _md_block(block: Block) -> str:
    if isinstance(block, Text):
        return md_safe(block.text)
    if isinstance(block, Table):
        return table_markdown(block)
    if isinstance(block, Image):
        return _md_image(block) + (f"\n\n*{md_safe(block.caption)}*" if block.caption else "")
    return "\n".join(f"- {md_safe(item)}" for item in block.items)


def to_markdown(title: str, sections: Sequence[Section], intro: Sequence[Block] = ()) -> str:
    """The report as Markdown: ``# title``, the intro blocks, then one ``##`` per section.
    Every piece of text goes through :func:`md_safe`."""
    parts = [f"# {md_safe(title)}", *(_md_block(b) for b in intro)]
    for section in sections:
        parts.append(f"## {md_safe(section.title)}")
        parts.extend(_md_block(b) for b in section.blocks)
    return "\n\n".join(p for p in parts if p) + "\n"
