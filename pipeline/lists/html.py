"""HTML inside a list -> document events: ``<li>``, ``<tr>``, headings and loose text. Pure.

Markdown lists embed HTML blocks (tables of papers, ``<details>`` sections) and inline tags
(``<a>``, ``<img>`` badges, ``<br>``, ``<b>``); both read into the same ``document`` model
as Markdown does.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from pipeline.lists.document import (
    Block,
    DocumentEvent,
    Heading,
    PieceBuilder,
    TableColumns,
    plain_text,
    table_columns,
)

__all__ = ["html_events", "inline_tag"]

_ATTR_RE = re.compile(r"""([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^>]*)>", re.DOTALL)


def _attrs(text: str) -> dict[str, str]:
    return {
        m.group(1).lower(): unescape(m.group(2) or m.group(3) or m.group(4) or "")
        for m in _ATTR_RE.finditer(text)
    }


def inline_tag(raw: str, builder: PieceBuilder) -> None:
    """One inline HTML tag (``<a href>``, ``</a>``, ``<img>``, ``<br>``, ``<b>``) into pieces."""
    m = _TAG_RE.match(raw)
    if m is None:
        return
    closing, tag = m.group(1) == "/", m.group(2).lower()
    if tag == "a":
        if closing:
            builder.close_link()
        else:
            href = _attrs(m.group(3)).get("href")
            if href is not None:
                builder.open_link(href)
    elif tag == "img" and not closing:
        attrs = _attrs(m.group(3))
        builder.image(attrs.get("alt", ""), attrs.get("src", ""))
    elif tag == "br":
        builder.separator()
    elif tag in ("b", "strong"):
        builder.strong = max(0, builder.strong + (-1 if closing else 1))


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_BLOCK_TAGS = _words(
    """
    p div ul ol table thead tbody details summary center blockquote section hr dl dt dd
    article header footer nav
    """
)
_SKIP_TAGS = frozenset(("script", "style", "pre", "code", "textarea"))
_MAX_DEPTH = 16
_HEADING_TAGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))


class _HtmlScanner(HTMLParser):
    """An HTML block -> headings and blocks (<li>, <tr>, loose text between block tags)."""

    def __init__(self, first_line: int, events: list[DocumentEvent]) -> None:
        super().__init__(convert_charrefs=True)
        self.first_line = first_line
        self.events = events
        self.skip = 0
        """Depth inside tags whose text is not content (script, pre, code ...)."""
        self.too_deep = 0
        """Depth of <li>s beyond ``_MAX_DEPTH``, read as part of the deepest item."""
        self.items: list[tuple[Block, PieceBuilder]] = []
        self.row: Block | None = None
        self.row_is_header = False
        self.cell: PieceBuilder | None = None
        self.in_thead = False
        self.columns: TableColumns | None = None
        self.heading: tuple[int, PieceBuilder] | None = None
        self.loose: PieceBuilder | None = None
        self.loose_line = 0
        self.spans: list[bool] = []
        """Open <span>s: True for a title span read as bold."""

    def _line(self) -> int:
        return self.first_line + self.getpos()[0] - 1

    def _target(self) -> PieceBuilder:
        if self.heading is not None:
            return self.heading[1]
        if self.row is not None and self.cell is not None:
            return self.cell
        if self.items:
            return self.items[-1][1]
        if self.loose is None:
            self.loose = PieceBuilder()
            self.loose_line = self._line()
        return self.loose

    def _flush_loose(self) -> None:
        if self.loose is not None:
            pieces = self.loose.finish()
            if any(p.kind != "sep" for p in pieces):
                self.events.append(Block("para", self.loose_line, pieces))
            self.loose = None

    def _open_item(self) -> None:
        if len(self.items) >= _MAX_DEPTH:
            self.too_deep += 1  # deeper lists read as part of this item (bounded recursion)
            self._target().separator()
            return
        self._flush_loose()
        item = Block("item", self._line())
        if self.items:
            self.items[-1][0].children.append(item)
        else:
            self.events.append(item)
        self.items.append((item, PieceBuilder(item.pieces)))

    def _block_boundary(self) -> None:
        if self.items or self.row is not None:
            self._target().separator()
        else:
            self._flush_loose()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
            return
        values = {k: v or "" for k, v in attrs}
        if tag == "a":
            if "href" in values:
                self._target().open_link(values["href"])
        elif tag == "img":
            self._target().image(values.get("alt", ""), values.get("src", ""))
        elif tag == "br":
            self._target().separator()
        elif tag in ("b", "strong"):
            self._target().strong += 1
        elif tag == "span":
            # <span class="papertitle">: a web page's way of setting a title in bold
            titled = "title" in values.get("class", "")
            self.spans.append(titled)
            self._target().strong += titled
        elif tag == "li":
            self._open_item()
        elif tag == "tr":
            self._flush_loose()
            self.row = Block("row", self._line(), cells=[])
            self.row_is_header = self.in_thead
            self.cell = None
        elif tag in ("td", "th"):
            if self.row is not None and self.row.cells is not None:
                self.row.cells.append([])
                self.cell = PieceBuilder(self.row.cells[-1])
                self.row_is_header = self.row_is_header or tag == "th"
        elif tag == "thead":
            self.in_thead = True
        elif tag in _HEADING_TAGS:
            self._flush_loose()
            self.heading = (int(tag[1]), PieceBuilder())
        elif tag in _BLOCK_TAGS:
            if tag == "table":
                self.columns = None
            self._block_boundary()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIP_TAGS:
            self.skip -= 1

    def _close_row(self) -> None:
        row = self.row
        if row is not None and row.cells is not None:
            if self.cell is not None:
                self.cell.finish()
            if self.row_is_header:
                self.columns = table_columns([plain_text(c) for c in row.cells])
            else:
                row.columns = self.columns
                self.events.append(row)
        self.row, self.cell = None, None

    def _close_heading(self) -> None:
        if self.heading is not None:
            level, builder = self.heading
            self.heading = None
            self.events.append(Heading(level, plain_text(builder.finish())))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
            return
        if tag == "a":
            self._target().close_link()
        elif tag in ("b", "strong") or (tag == "span" and self.spans and self.spans.pop()):
            # (a plain </span> pops False and falls through to the next branches harmlessly)
            builder = self._target()
            builder.strong = max(0, builder.strong - 1)
        elif tag == "li":
            if self.too_deep:
                self.too_deep -= 1
            elif self.items:
                self.items.pop()[1].finish()
        elif tag in ("td", "th"):
            if self.cell is not None:
                self.cell.finish()
            self.cell = None
        elif tag == "tr":
            self._close_row()
        elif tag == "thead":
            self.in_thead = False
        elif tag in _HEADING_TAGS:
            self._close_heading()
        elif tag in _BLOCK_TAGS:
            self._block_boundary()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.loose is None and not (self.items or self.row or self.heading) and data.isspace():
            return  # layout between tags opens no paragraph (and would give it a wrong line)
        self._target().text(data)

    def finish(self) -> None:
        self.close()
        self._close_heading()
        while self.items:
            self.items.pop()[1].finish()
        if self.row is not None and self.row.cells is not None and not self.row_is_header:
            if self.cell is not None:
                self.cell.finish()
            self.row.columns = self.columns
            self.events.append(self.row)
        self._flush_loose()


def html_events(content: str, line: int, events: list[DocumentEvent]) -> None:
    """Append the events of an HTML block starting at 1-based ``line`` to ``events``."""
    scanner = _HtmlScanner(line, events)
    try:
        scanner.feed(content)
        scanner.finish()
    except (AssertionError, ValueError, IndexError):
        # html.parser gives up on some malformed declarations; what it read so far stands.
        pass
