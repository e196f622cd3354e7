"""The format-neutral document model every list reader produces. Pure.

The contract between a reader and entry assembly
-------------------------------------------------
A reader (``markdown.read_markdown``; an HTML page, BibTeX or CSV reader next) turns the
text of a list into a sequence of ``DocumentEvent``s, in document order:

- ``Heading(level, text)``: opens a section; levels nest as in HTML (1 is the outermost).
- ``Block``: something that may be a paper entry. ``kind`` says which:

  - ``"item"``: a list item. ``pieces`` is its own inline content; ``children`` are its
    sub-items (themselves ``"item"`` blocks). A sub-item without a title of its own lends
    its links, venue and year to its parent.
  - ``"row"``: a table row. ``cells`` holds each cell's pieces and ``columns`` says which
    column holds the title, a short name and the venue (``table_columns`` reads a header).
  - ``"para"``: a paragraph or loose text. It is an entry only when it opens with a bold or
    linked title.

  ``line`` is the 1-based line in the list file where the block starts.

Inline content is a flat list of ``Piece``s ("text", "link", "image", "code", "sep"), built
with a ``PieceBuilder`` so every reader merges text and treats nested links alike.
``entries.entries_from_events`` turns the events into ``ListEntry`` records; it knows
nothing of the format they came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "SEPARATOR",
    "Block",
    "DocumentEvent",
    "Heading",
    "Piece",
    "PieceBuilder",
    "TableColumns",
    "block_pieces",
    "collapse_whitespace",
    "plain_text",
    "table_columns",
]


class Piece(NamedTuple):
    """One run of inline content of a block."""

    kind: str
    """"text", "link", "image", "code" or "sep" (a <br> or a table cell boundary)."""
    text: str
    """Visible text; for an image its alt text."""
    href: str = ""
    """Link target or image source."""
    strong: bool = False
    """Text in bold (for a link: bold text inside or around it)."""
    img: str = ""
    """For a link wrapping an image (a badge): the image source."""
    alt: str = ""
    """For a link wrapping an image: the image's alt text."""


SEPARATOR = Piece("sep", "")
"""A boundary inside a block's content: a line break, a cell or sub-block boundary."""


class PieceBuilder:
    """Collects pieces; links do not nest, adjacent text of the same weight is merged.

    Readers call ``text``/``open_link``/``close_link``/``image``/``code``/``separator`` as
    they meet content, raise and lower ``strong`` around bold runs, and take the pieces
    with ``finish``.
    """

    __slots__ = (
        "link_alt",
        "link_href",
        "link_image",
        "link_strong",
        "link_text",
        "out",
        "pending",
        "pending_strong",
        "strong",
    )

    def __init__(self, out: list[Piece] | None = None) -> None:
        self.out: list[Piece] = [] if out is None else out
        self.strong = 0
        """How many bold spans are open here."""
        self.pending: list[str] = []  # text not yet turned into a piece
        self.pending_strong = False
        self.link_href: str | None = None
        """The target of the link being read, None outside a link."""
        self.link_text: list[str] = []
        self.link_strong = False
        self.link_image = ""
        self.link_alt = ""

    def text(self, s: str) -> None:
        if not s:
            return
        if self.link_href is not None:
            self.link_text.append(s)
            self.link_strong = self.link_strong or self.strong > 0
            return
        strong = self.strong > 0
        if self.pending and strong != self.pending_strong:
            self.flush()
        self.pending.append(s)
        self.pending_strong = strong

    def flush(self) -> None:
        if self.pending:
            text, strong = "".join(self.pending), self.pending_strong
            self.pending = []
            out = self.out
            if out and out[-1].kind == "text" and out[-1].strong == strong:
                out[-1] = Piece("text", out[-1].text + text, "", strong)
            else:
                out.append(Piece("text", text, "", strong))

    def open_link(self, href: str) -> None:
        if self.link_href is not None:
            return
        self.flush()
        self.link_href = href
        self.link_text = []
        self.link_strong = self.strong > 0
        self.link_image = ""
        self.link_alt = ""

    def close_link(self) -> None:
        if self.link_href is None:
            return
        text = "".join(self.link_text)
        self.out.append(
            Piece("link", text, self.link_href, self.link_strong, self.link_image, self.link_alt)
        )
        self.link_href = None

    def image(self, alt: str, src: str) -> None:
        if self.link_href is not None:
            if not self.link_image:
                self.link_image, self.link_alt = src, alt
        else:
            self.flush()
            self.out.append(Piece("image", alt, src))

    def separator(self) -> None:
        if self.link_href is not None:
            self.link_text.append(" ")
            return
        self.flush()
        if self.out and self.out[-1].kind != "sep":
            self.out.append(SEPARATOR)

    def code(self, s: str) -> None:
        if self.link_href is not None:
            self.link_text.append(s)
        else:
            self.flush()
            self.out.append(Piece("code", s))

    def finish(self) -> list[Piece]:
        self.close_link()
        self.flush()
        return self.out


class Heading(NamedTuple):
    """A section heading: it names the entries after it until one of the same level."""

    level: int
    text: str


class TableColumns(NamedTuple):
    """Which columns of a table hold the title, a short name (model, method) and the venue."""

    title: int | None
    name: int | None
    venue: int | None


@dataclass
class Block:
    """A list item, a table row or a paragraph: a block that may be a paper entry."""

    kind: str
    """"item" (list item, <li>), "row" (table row) or "para" (paragraph, loose HTML text)."""
    line: int
    """1-based line of the list file where the block starts."""
    pieces: list[Piece] = field(default_factory=list)
    """The block's own inline content (for a row: empty; see ``cells``)."""
    children: list[Block] = field(default_factory=list)
    """Sub-items of a list item."""
    cells: list[list[Piece]] | None = None
    """For a row: each cell's pieces."""
    columns: TableColumns | None = None
    """For a row: what its table's columns hold."""


DocumentEvent = Heading | Block


def collapse_whitespace(s: str) -> str:
    """Whitespace runs collapsed to one space, ends trimmed."""
    return " ".join(s.split())


def plain_text(pieces: Iterable[Piece]) -> str:
    """The visible text of pieces (images left out), whitespace collapsed."""
    return collapse_whitespace(
        "".join(p.text if p.kind != "sep" else " " for p in pieces if p.kind != "image")
    )


def table_columns(headers: list[str]) -> TableColumns:
    """Which table columns hold the title, a short name, and the venue, from the header."""
    low = [h.lower() for h in headers]

    def first(*keys: str, exact: bool = False) -> int | None:
        for i, h in enumerate(low):
            if (h in keys) if exact else any(k in h for k in keys):
                return i
        return None

    title = first("title")
    return TableColumns(
        title=first("paper") if title is None else title,
        name=first("model", "models", "method", "methods", "name", "project", exact=True),
        venue=first("venue", "publication", "conference", "journal", "publish"),
    )


def block_pieces(block: Block) -> list[Piece]:
    """All of a block's content as one run: its pieces, cells and sub-items, separated."""
    out = list(block.pieces)
    for cell in block.cells or ():
        out.append(SEPARATOR)
        out.extend(cell)
    for child in block.children:
        out.append(SEPARATOR)
        out.extend(block_pieces(child))
    return out
