"""Markdown lists -> document events, through markdown-it-py. Pure.

markdown-it-py (CommonMark, tables on) gives the block structure: headings make the section
path; list items, table rows and HTML ``<li>``/``<tr>`` become blocks; code blocks are
skipped. Blocks that ``markdown_fast`` can read exactly as markdown-it would skip its block
parser; the rest goes through it in regions, and a region that could leave a fence or HTML
block open is re-parsed with everything after it. A document where a link reference
definition is used goes through markdown-it whole. ``fast_path=False`` turns all of that
off; the tests check that both give the same entries.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

from pipeline.lists.document import (
    SEPARATOR,
    Block,
    DocumentEvent,
    Heading,
    Piece,
    PieceBuilder,
    TableColumns,
    block_pieces,
    plain_text,
    table_columns,
)
from pipeline.lists.html import html_events, inline_tag
from pipeline.lists.links import BARE_URL_RE
from pipeline.lists.markdown_fast import (
    QuickItem,
    QuickTable,
    fast_inline,
    quick_blocks,
    quick_headings,
    references_matter,
    region_closed,
)

__all__ = ["inline_pieces", "read_markdown"]


class _Markdown(MarkdownIt):
    """CommonMark with tables, keeping link targets as written.

    "The paper link as listed" should not come back percent-encoded; encoding would also
    cost a sixth of the parse time.
    """

    def normalizeLink(self, url: str) -> str:
        return url

    def normalizeLinkText(self, link: str) -> str:
        return link


def _make_md() -> MarkdownIt:
    return _Markdown("commonmark").enable("table")


log = logging.getLogger(__name__)
_MD = _make_md()
_MD_BLOCK = _make_md().disable("inline")  # block structure only; inline text read by _inline


def _pieces(children: Sequence[Token] | None) -> list[Piece]:
    """markdown-it inline tokens -> pieces."""
    builder = PieceBuilder()
    for tok in children or ():
        t = tok.type
        if t == "text" or t == "text_special":
            builder.text(tok.content)
        elif t == "softbreak" or t == "hardbreak":
            builder.text(" ")
        elif t == "link_open":
            href = tok.attrGet("href")
            builder.open_link(href if isinstance(href, str) else "")
        elif t == "link_close":
            builder.close_link()
        elif t == "strong_open":
            builder.strong += 1
        elif t == "strong_close":
            builder.strong = max(0, builder.strong - 1)
        elif t == "image":
            src = tok.attrGet("src")
            builder.image(tok.content, src if isinstance(src, str) else "")
        elif t == "code_inline":
            builder.code(tok.content)
        elif t == "html_inline":
            inline_tag(tok.content, builder)
    return builder.finish()


def _inline(content: str, fast: bool) -> list[Piece]:
    if fast:
        pieces = fast_inline(content)
        if pieces is not None:
            return pieces
    tokens: list[Token] = []
    _MD.inline.parse(content, _MD, {}, tokens)
    return _pieces(tokens)


def inline_pieces(content: str) -> list[Piece]:
    """One line of Markdown (inline HTML allowed) -> its pieces, as a list item would read."""
    return _inline(content, True)


def _is_blockless(line: str) -> bool:
    """Whether markdown-it's block parser makes no block of ``line`` (a reference definition)."""
    return not _MD_BLOCK.parse(line)


class _TokenWalker:
    """markdown-it block tokens -> events; one handler per token type that matters.

    With ``fast`` the tokens come from the block parser alone and inline text is read here
    (``_inline``); otherwise markdown-it has parsed it into ``children``.
    """

    def __init__(self, offset: int, events: list[DocumentEvent], fast: bool) -> None:
        self.offset = offset
        """0-based line of the first token."""
        self.events = events
        self.fast = fast
        self.items: list[Block] = []
        """The open list items, outermost first."""
        self.heading: int | None = None
        """The level of the heading being read."""
        self.para_line = 0
        self.row: Block | None = None
        self.in_thead = False
        self.header: list[str] = []
        self.columns: TableColumns | None = None
        self.handlers: dict[str, Callable[[Token], None]] = {
            "inline": self.inline,
            "paragraph_open": self.paragraph_open,
            "list_item_open": self.list_item_open,
            "list_item_close": self.list_item_close,
            "heading_open": self.heading_open,
            "heading_close": self.heading_close,
            "table_open": self.table_open,
            "thead_open": self.thead_open,
            "thead_close": self.thead_close,
            "tr_open": self.tr_open,
            "th_open": self.cell_open,
            "td_open": self.cell_open,
            "tr_close": self.tr_close,
            "html_block": self.html_block,
        }

    def walk(self, tokens: list[Token]) -> None:
        handlers = self.handlers
        for tok in tokens:
            handler = handlers.get(tok.type)
            if handler is not None:
                handler(tok)

    def _line(self, tok: Token) -> int:
        return self.offset + (tok.map[0] if tok.map else 0) + 1

    def _pieces_of(self, tok: Token) -> list[Piece]:
        return _inline(tok.content, True) if self.fast else _pieces(tok.children)

    def inline(self, tok: Token) -> None:
        if self.heading is not None:
            self.events.append(Heading(self.heading, plain_text(self._pieces_of(tok))))
        elif self.row is not None and self.row.cells is not None:
            if self.row.cells:
                self.row.cells[-1].extend(self._pieces_of(tok))
        elif self.items:
            target = self.items[-1].pieces
            if target:
                target.append(SEPARATOR)
            target.extend(self._pieces_of(tok))
        else:
            self.events.append(Block("para", self.para_line, self._pieces_of(tok)))

    def paragraph_open(self, tok: Token) -> None:
        self.para_line = self._line(tok)

    def list_item_open(self, tok: Token) -> None:
        item = Block("item", self._line(tok))
        if self.items:
            self.items[-1].children.append(item)
        else:
            self.events.append(item)
        self.items.append(item)

    def list_item_close(self, tok: Token) -> None:
        if self.items:
            self.items.pop()

    def heading_open(self, tok: Token) -> None:
        self.heading = int(tok.tag[1:]) if tok.tag[1:].isdigit() else 1

    def heading_close(self, tok: Token) -> None:
        self.heading = None

    def table_open(self, tok: Token) -> None:
        self.columns, self.header = None, []

    def thead_open(self, tok: Token) -> None:
        self.in_thead = True

    def thead_close(self, tok: Token) -> None:
        self.in_thead = False
        self.columns = table_columns(self.header)

    def tr_open(self, tok: Token) -> None:
        self.row = Block("row", self._line(tok), cells=[])

    def cell_open(self, tok: Token) -> None:
        if self.row is not None and self.row.cells is not None:
            self.row.cells.append([])

    def tr_close(self, tok: Token) -> None:
        row = self.row
        if row is not None and row.cells is not None:
            if self.in_thead:
                self.header = [plain_text(c) for c in row.cells]
            else:
                row.columns = self.columns
                self.events.append(row)
        self.row = None

    def html_block(self, tok: Token) -> None:
        line = self._line(tok)
        if not self.items:
            html_events(tok.content, line, self.events)
            return
        # HTML inside a list item is part of the item's content.
        inside: list[DocumentEvent] = []
        html_events(tok.content, line, inside)
        target = self.items[-1].pieces
        for event in inside:
            if isinstance(event, Block):
                if target:
                    target.append(SEPARATOR)
                target.extend(block_pieces(event))


def _token_events(tokens: list[Token], offset: int, fast: bool = False) -> list[DocumentEvent]:
    events: list[DocumentEvent] = []
    _TokenWalker(offset, events, fast).walk(tokens)
    return events


def _quick_item_block(item: QuickItem) -> Block:
    (line, content), *sub_items = item.members
    block = Block("item", line + 1, _inline(content, True))
    block.children = [Block("item", k + 1, _inline(c, True)) for k, c in sub_items]
    return block


def _quick_table_rows(table: QuickTable) -> Iterator[Block]:
    columns = table_columns([plain_text(_inline(h, True)) for h in table.header])
    for k, cells in table.rows:
        cell_pieces = [_inline(c, True) for c in cells]
        yield Block("row", k + 1, cells=cell_pieces, columns=columns)


def _region_events(lines: list[str], i: int, j: int) -> list[DocumentEvent] | None:
    """Events of lines ``i`` to ``j`` by markdown-it's block parser; None when something (a
    fence, an HTML block) may run on into the lines after, so the region cannot stop here."""
    headings = quick_headings(lines, i, j)
    if headings is not None:  # headings and blank lines, or blank lines alone
        return [Heading(level, plain_text(_inline(text, True))) for level, text in headings]
    tokens = _MD_BLOCK.parse("\n".join(lines[i:j]))
    if j < len(lines) and not region_closed(tokens, j - i, lines[j - 1]):
        return None
    return _token_events(tokens, i, fast=True)


def _fast_events(text: str) -> Iterator[DocumentEvent]:
    """Quick blocks read directly, the regions between them by markdown-it's block parser."""
    lines = text.split("\n")
    i = 0  # the first line not read yet
    for start, block in quick_blocks(lines):
        if i < start:
            events = _region_events(lines, i, start)
            if events is None:
                # Parse the rest of the document as one, as markdown-it would.
                yield from _token_events(_MD_BLOCK.parse("\n".join(lines[i:])), i, fast=True)
                return
            yield from events
        if isinstance(block, QuickItem):
            yield _quick_item_block(block)
        else:
            yield from _quick_table_rows(block)
        i = block.end
    yield from _region_events(lines, i, len(lines)) or ()


MAX_LINE = 20_000
"""Characters a line may have to be read as Markdown. The longest line of any real list we
have seen has 3,452; a longer one is generated or hostile, and markdown-it's inline rules
are superlinear on runs of delimiters (10 MB of ``*_`` on one line took 97 s and 4.6 GB)."""


_ITEM_MARKER = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+")


def _tame_overlong_lines(text: str) -> str:
    """Each overlong line replaced by its list marker and the URLs in it, space-separated:
    its links still make entries, its markup costs nothing. Line numbers stay as they were."""
    if len(text) <= MAX_LINE or max(map(len, text.split("\n"))) <= MAX_LINE:
        return text
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE:
            log.warning("line %d has %d characters; only its URLs are read", number, len(line))
            marker = _ITEM_MARKER.match(line)
            found = (m.group(0) for m in BARE_URL_RE.finditer(line))
            lines[number - 1] = (marker.group(0) if marker else "") + " ".join(found)
    return "\n".join(lines)


def read_markdown(text: str, *, fast_path: bool = True) -> Iterator[DocumentEvent]:
    """The document events of a Markdown list, in document order (a reader; see ``document``).

    Line endings are normalised and NUL replaced, as CommonMark asks. ``fast_path=False``
    sends the whole document through markdown-it (slower; the same events).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    if text.startswith("\ufeff"):
        text = text[1:]
    text = _tame_overlong_lines(text)
    if not fast_path or references_matter(text, _is_blockless):
        return iter(_token_events(_MD.parse(text), 0))
    return _fast_events(text)
