"""Markdown paper lists -> ``ListEntry`` records (pure), and the edge that reads list files.

How a list is read
------------------
markdown-it-py (CommonMark, tables on) gives the block structure: headings make the section
path, list items / table rows / HTML ``<li>``/``<tr>`` are the candidate entries, code blocks
are skipped. An item is an entry when it references a paper: an arXiv link or mention (valid
or malformed), or a link to a paper host (OpenReview, ACL Anthology, DOI, ...), a ``.pdf``, or
a link labelled "pdf"/"paper". Items holding only badges, ``#anchors``, code or project links
are not entries. Sub-items that carry no title of their own ("Code: [...]", "[[pdf]](...)",
"Venue: ...") belong to their parent; a sub-item that is itself a paper reference with a title
is its own entry. A top-level paragraph is an entry only when it opens with a bold or linked
title and references a paper.

Title, venue and year come from the item in the usual shapes: "Title. Venue 2023, [[pdf]](u)",
"Title, Venue 2023", "**Title** (Venue'23)", "[Title](u) - Venue 2024", "(Venue 2023) **Title**",
"Authors, Title, Venue, Year.", a "Publish" shields.io badge, a Venue column of a table, and
labelled sub-items ("Venue: X", "Year: 2023").

Speed: markdown-it-py parses about 2 MB/s here, too slow for a 10 MB list in 5 s. So blocks
whose meaning does not depend on their neighbours skip its block parser: one-line top-level
list items with one level of one-line sub-items, and simple GFM tables, each preceded by a
blank line, a heading or another such block, and followed likewise. The rest goes through
markdown-it's block parser in regions; a region that could leave a fence or HTML block open
is re-parsed with everything after it. Inline text is read without markdown-it when it holds
only plain text, ``[text](url)`` links, literal ``[brackets]`` and unambiguous ``**bold**`` /
``*em*`` runs, and by markdown-it's inline parser otherwise. A document where a link
reference definition is used goes through markdown-it whole. ``fast_path=False`` turns all
of this off; the tests check on every real list and on generated Markdown that both give
the same entries.
"""

from __future__ import annotations

import functools
import gc
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token

from pipeline.arxiv_ids import ArxivRef, LinkKind, classify_url, find_arxiv_refs
from pipeline.errors import InputError
from pipeline.models import ListEntry

try:  # markdown-it-py 4 trims paragraphs with the CommonMark whitespace set, 3 with strip()
    from markdown_it.common.utils import mdTrim as _md_trim
except ImportError:  # pragma: no cover - markdown-it-py 3

    def _md_trim(string: str) -> str:
        return string.strip()


__all__ = ["load_list_file", "parse_markdown", "render_markdown"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


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


_MD = _make_md()
_MD_BLOCK = _make_md().disable("inline")  # block structure only; inline text read by _inline

# --------------------------------------------------------------------------------------------
# Inline content as a flat list of pieces
# --------------------------------------------------------------------------------------------


class _Piece(NamedTuple):
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


_SEP = _Piece("sep", "")


class _Builder:
    """Collects pieces; links do not nest, adjacent text of the same weight is merged."""

    __slots__ = ("bstrong", "buf", "href", "lalt", "limg", "lstrong", "ltext", "out", "strong")

    def __init__(self, out: list[_Piece] | None = None) -> None:
        self.out: list[_Piece] = [] if out is None else out
        self.strong = 0
        self.buf: list[str] = []  # text not yet turned into a piece
        self.bstrong = False
        self.href: str | None = None
        self.ltext: list[str] = []
        self.lstrong = False
        self.limg = ""
        self.lalt = ""

    def text(self, s: str) -> None:
        if not s:
            return
        if self.href is not None:
            self.ltext.append(s)
            self.lstrong = self.lstrong or self.strong > 0
            return
        strong = self.strong > 0
        if self.buf and strong != self.bstrong:
            self.flush()
        self.buf.append(s)
        self.bstrong = strong

    def flush(self) -> None:
        if self.buf:
            text, strong = "".join(self.buf), self.bstrong
            self.buf = []
            out = self.out
            if out and out[-1].kind == "text" and out[-1].strong == strong:
                out[-1] = _Piece("text", out[-1].text + text, "", strong)
            else:
                out.append(_Piece("text", text, "", strong))

    def open_link(self, href: str) -> None:
        if self.href is not None:
            return
        self.flush()
        self.href = href
        self.ltext = []
        self.lstrong = self.strong > 0
        self.limg = ""
        self.lalt = ""

    def close_link(self) -> None:
        if self.href is None:
            return
        text = "".join(self.ltext)
        self.out.append(_Piece("link", text, self.href, self.lstrong, self.limg, self.lalt))
        self.href = None

    def image(self, alt: str, src: str) -> None:
        if self.href is not None:
            if not self.limg:
                self.limg, self.lalt = src, alt
        else:
            self.flush()
            self.out.append(_Piece("image", alt, src))

    def sep(self) -> None:
        if self.href is not None:
            self.ltext.append(" ")
            return
        self.flush()
        if self.out and self.out[-1].kind != "sep":
            self.out.append(_SEP)

    def code(self, s: str) -> None:
        if self.href is not None:
            self.ltext.append(s)
        else:
            self.flush()
            self.out.append(_Piece("code", s))

    def finish(self) -> list[_Piece]:
        self.close_link()
        self.flush()
        return self.out


_ATTR_RE = re.compile(r"""([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^>]*)>", re.DOTALL)


def _attrs(text: str) -> dict[str, str]:
    return {
        m.group(1).lower(): unescape(m.group(2) or m.group(3) or m.group(4) or "")
        for m in _ATTR_RE.finditer(text)
    }


def _html_inline(raw: str, b: _Builder) -> None:
    m = _TAG_RE.match(raw)
    if m is None:
        return
    closing, tag = m.group(1) == "/", m.group(2).lower()
    if tag == "a":
        if closing:
            b.close_link()
        else:
            href = _attrs(m.group(3)).get("href")
            if href is not None:
                b.open_link(href)
    elif tag == "img" and not closing:
        a = _attrs(m.group(3))
        b.image(a.get("alt", ""), a.get("src", ""))
    elif tag == "br":
        b.sep()
    elif tag in ("b", "strong"):
        b.strong = max(0, b.strong + (-1 if closing else 1))


def _pieces(children: Sequence[Token] | None, b: _Builder | None = None) -> list[_Piece]:
    """markdown-it inline tokens -> pieces."""
    b = _Builder() if b is None else b
    for tok in children or ():
        t = tok.type
        if t == "text" or t == "text_special":
            b.text(tok.content)
        elif t == "softbreak" or t == "hardbreak":
            b.text(" ")
        elif t == "link_open":
            href = tok.attrGet("href")
            b.open_link(href if isinstance(href, str) else "")
        elif t == "link_close":
            b.close_link()
        elif t == "strong_open":
            b.strong += 1
        elif t == "strong_close":
            b.strong = max(0, b.strong - 1)
        elif t == "image":
            src = tok.attrGet("src")
            b.image(tok.content, src if isinstance(src, str) else "")
        elif t == "code_inline":
            b.code(tok.content)
        elif t == "html_inline":
            _html_inline(tok.content, b)
    return b.finish()


# A subset of inline Markdown that markdown-it would turn into exactly these pieces: plain
# text, [label](url) links (also wrapped as [[label](url)]), literal [bracketed] text, and
# **bold** / *em* runs whose neighbours make them unambiguous. Anything else (code, HTML,
# escapes, entities, images, underscores, intraword or nested emphasis) goes to markdown-it.
_T = r"[^\[\]\\`*_<\n]"
_LABEL = rf"(?:{_T}|\[{_T}+\](?![(\[]))+"
_DEST = r"[^\s()<>\\`\[\]]+"
_EMPH = r"[A-Za-z0-9][^\[\]\\`*_<\n]*?"
_FAST_INLINE_RE = re.compile(
    rf"""
    (?P<text>{_T}+)
    | \[(?P<label>{_LABEL})\]\((?P<dest>{_DEST})\)
    | \[\[(?P<wlabel>{_LABEL})\]\((?P<wdest>{_DEST})\)\](?![(\[])
    | (?P<btext>\[{_T}+\])(?![(\[:])
    | (?P<stars>\*\*?)(?P<emph>{_EMPH})(?P=stars)
    """,
    re.VERBOSE,
)
_BAD_PROTO_RE = re.compile(r"(?:vbscript|javascript|file|data):", re.IGNORECASE)
_ENTITY_RE = re.compile(r"&(?:#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});")
_EMPH_BEFORE = frozenset(" (\"'")
_EMPH_AFTER = frozenset(" .,;:)")
_EMPH_LAST = frozenset(".?!)")


def _fast_inline(content: str) -> list[_Piece] | None:
    """Pieces of simple inline text without markdown-it, or None when it is not simple."""
    if "![" in content or ("&" in content and _ENTITY_RE.search(content)):
        return None
    b = _Builder()
    pos, end = 0, len(content)
    match = _FAST_INLINE_RE.match
    while pos < end:
        m = match(content, pos)
        if m is None:
            return None
        kind = m.lastgroup
        if kind == "text" or kind == "btext":
            b.text(m.group(0))
        elif kind == "dest":
            if _BAD_PROTO_RE.match(m.group("dest")):
                return None
            b.open_link(m.group("dest"))
            b.text(m.group("label"))
            b.close_link()
        elif kind == "wdest":
            if _BAD_PROTO_RE.match(m.group("wdest")):
                return None
            b.text("[")
            b.open_link(m.group("wdest"))
            b.text(m.group("wlabel"))
            b.close_link()
            b.text("]")
        else:
            # An emphasis run pairs as written only when its delimiters are unambiguously an
            # opener (after start/space/bracket, before a letter) and a closer (after a letter
            # or closing punctuation, before end/space/punctuation); ASCII keeps that exact.
            inner = m.group("emph")
            after = content[m.end()] if m.end() < end else " "
            if (
                (pos and content[pos - 1] not in _EMPH_BEFORE)
                or after not in _EMPH_AFTER
                or not (inner[-1].isascii() and (inner[-1].isalnum() or inner[-1] in _EMPH_LAST))
            ):
                return None
            if len(m.group("stars")) == 2:
                b.strong += 1
                b.text(inner)
                b.strong -= 1
            else:
                b.text(inner)
        pos = m.end()
    return b.finish()


def _inline(content: str, fast: bool) -> list[_Piece]:
    if fast:
        pieces = _fast_inline(content)
        if pieces is not None:
            return pieces
    tokens: list[Token] = []
    _MD.inline.parse(content, _MD, {}, tokens)
    return _pieces(tokens)


def _plain_text(pieces: Iterable[_Piece]) -> str:
    return _ws("".join(p.text if p.kind != "sep" else " " for p in pieces if p.kind != "image"))


def _ws(s: str) -> str:
    """Whitespace runs collapsed to one space, ends trimmed."""
    return " ".join(s.split())


# --------------------------------------------------------------------------------------------
# Block structure: headings and units (list items, table rows, paragraphs)
# --------------------------------------------------------------------------------------------


class _Heading(NamedTuple):
    level: int
    text: str


class _Columns(NamedTuple):
    title: int | None
    name: int | None
    venue: int | None


@dataclass
class _Unit:
    kind: str
    """"item" (list item, <li>), "row" (table row) or "para" (paragraph, loose HTML text)."""
    line: int
    pieces: list[_Piece] = field(default_factory=list)
    children: list[_Unit] = field(default_factory=list)
    cells: list[list[_Piece]] | None = None
    columns: _Columns | None = None


_Event = _Heading | _Unit


def _columns(headers: list[str]) -> _Columns:
    """Which table columns hold the title, a short name, and the venue."""
    low = [h.lower() for h in headers]

    def first(*keys: str, exact: bool = False) -> int | None:
        for i, h in enumerate(low):
            if (h in keys) if exact else any(k in h for k in keys):
                return i
        return None

    title = first("title")
    return _Columns(
        title=first("paper") if title is None else title,
        name=first("model", "models", "method", "methods", "name", "project", exact=True),
        venue=first("venue", "publication", "conference", "journal", "publish"),
    )


def _events_from_tokens(
    tokens: list[Token], offset: int, events: list[_Event], fast: bool = False
) -> None:
    """Walk markdown-it block tokens; ``offset`` is the 0-based line of the first token.

    With ``fast`` the tokens come from the block parser alone and inline text is read here
    (``_inline``); otherwise markdown-it has parsed it into ``children``.
    """

    def inline(tok: Token) -> list[_Piece]:
        return _inline(tok.content, True) if fast else _pieces(tok.children)

    items: list[_Unit] = []
    heading: int | None = None
    para_line = 0
    row: _Unit | None = None
    in_thead = False
    header: list[str] = []
    columns: _Columns | None = None
    for tok in tokens:
        t = tok.type
        if t == "inline":
            if heading is not None:
                events.append(_Heading(heading, _plain_text(inline(tok))))
            elif row is not None and row.cells is not None:
                if row.cells:
                    row.cells[-1].extend(inline(tok))
            elif items:
                target = items[-1].pieces
                if target:
                    target.append(_SEP)
                target.extend(inline(tok))
            else:
                events.append(_Unit("para", para_line, inline(tok)))
        elif t == "paragraph_open":
            para_line = offset + (tok.map[0] if tok.map else 0) + 1
        elif t == "list_item_open":
            unit = _Unit("item", offset + (tok.map[0] if tok.map else 0) + 1)
            if items:
                items[-1].children.append(unit)
            else:
                events.append(unit)
            items.append(unit)
        elif t == "list_item_close":
            if items:
                items.pop()
        elif t == "heading_open":
            heading = int(tok.tag[1:]) if tok.tag[1:].isdigit() else 1
        elif t == "heading_close":
            heading = None
        elif t == "table_open":
            columns, header = None, []
        elif t == "thead_open":
            in_thead = True
        elif t == "thead_close":
            in_thead = False
            columns = _columns(header)
        elif t == "tr_open":
            row = _Unit("row", offset + (tok.map[0] if tok.map else 0) + 1, cells=[])
        elif t == "th_open" or t == "td_open":
            if row is not None and row.cells is not None:
                row.cells.append([])
        elif t == "tr_close":
            if row is not None and row.cells is not None:
                if in_thead:
                    header = [_plain_text(c) for c in row.cells]
                else:
                    row.columns = columns
                    events.append(row)
            row = None
        elif t == "html_block":
            line = offset + (tok.map[0] if tok.map else 0) + 1
            if items:
                sub: list[_Event] = []
                _html_events(tok.content, line, sub)
                target = items[-1].pieces
                for ev in sub:
                    if isinstance(ev, _Unit):
                        if target:
                            target.append(_SEP)
                        target.extend(_flatten(ev))
            else:
                _html_events(tok.content, line, events)


def _flatten(unit: _Unit) -> list[_Piece]:
    out = list(unit.pieces)
    for cell in unit.cells or ():
        out.append(_SEP)
        out.extend(cell)
    for child in unit.children:
        out.append(_SEP)
        out.extend(_flatten(child))
    return out


_HTML_BLOCK_TAGS = _words(
    """
    p div ul ol table thead tbody details summary center blockquote section hr dl dt dd
    article header footer nav
    """
)
_HTML_SKIP_TAGS = frozenset(("script", "style", "pre", "code", "textarea"))


_MAX_HTML_DEPTH = 16


class _HtmlScanner(HTMLParser):
    """An HTML block -> headings and units (<li>, <tr>, loose text between block tags)."""

    def __init__(self, first_line: int, events: list[_Event]) -> None:
        super().__init__(convert_charrefs=True)
        self.first_line = first_line
        self.events = events
        self.skip = 0
        self.deep = 0
        self.lis: list[tuple[_Unit, _Builder]] = []
        self.row: _Unit | None = None
        self.row_header = False
        self.cell: _Builder | None = None
        self.in_thead = False
        self.columns: _Columns | None = None
        self.heading: tuple[int, _Builder] | None = None
        self.loose: _Builder | None = None
        self.loose_line = 0

    def _line(self) -> int:
        return self.first_line + self.getpos()[0] - 1

    def _target(self) -> _Builder:
        if self.heading is not None:
            return self.heading[1]
        if self.row is not None and self.cell is not None:
            return self.cell
        if self.lis:
            return self.lis[-1][1]
        if self.loose is None:
            self.loose = _Builder()
            self.loose_line = self._line()
        return self.loose

    def _flush(self) -> None:
        if self.loose is not None:
            pieces = self.loose.finish()
            if any(p.kind != "sep" for p in pieces):
                self.events.append(_Unit("para", self.loose_line, pieces))
            self.loose = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_SKIP_TAGS:
            self.skip += 1
            return
        a = {k: v or "" for k, v in attrs}
        if tag == "a":
            if "href" in a:
                self._target().open_link(a["href"])
        elif tag == "img":
            self._target().image(a.get("alt", ""), a.get("src", ""))
        elif tag == "br":
            self._target().sep()
        elif tag in ("b", "strong"):
            self._target().strong += 1
        elif tag == "li":
            if len(self.lis) >= _MAX_HTML_DEPTH:
                self.deep += 1  # deeper lists read as part of this item (bounded recursion)
                self._target().sep()
                return
            self._flush()
            unit = _Unit("item", self._line())
            if self.lis:
                self.lis[-1][0].children.append(unit)
            else:
                self.events.append(unit)
            self.lis.append((unit, _Builder(unit.pieces)))
        elif tag == "tr":
            self._flush()
            self.row = _Unit("row", self._line(), cells=[])
            self.row_header = self.in_thead
            self.cell = None
        elif tag in ("td", "th"):
            if self.row is not None and self.row.cells is not None:
                self.row.cells.append([])
                self.cell = _Builder(self.row.cells[-1])
                self.row_header = self.row_header or tag == "th"
        elif tag == "thead":
            self.in_thead = True
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self._flush()
            self.heading = (int(tag[1]), _Builder())
        elif tag in _HTML_BLOCK_TAGS:
            if tag == "table":
                self.columns = None
            if self.lis or self.row is not None:
                self._target().sep()
            else:
                self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _HTML_SKIP_TAGS:
            self.skip -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
            return
        if tag == "a":
            self._target().close_link()
        elif tag in ("b", "strong"):
            b = self._target()
            b.strong = max(0, b.strong - 1)
        elif tag == "li":
            if self.deep:
                self.deep -= 1
            elif self.lis:
                self.lis.pop()[1].finish()
        elif tag in ("td", "th"):
            if self.cell is not None:
                self.cell.finish()
            self.cell = None
        elif tag == "tr":
            row = self.row
            if row is not None and row.cells is not None:
                if self.cell is not None:
                    self.cell.finish()
                if self.row_header:
                    self.columns = _columns([_plain_text(c) for c in row.cells])
                else:
                    row.columns = self.columns
                    self.events.append(row)
            self.row, self.cell = None, None
        elif tag == "thead":
            self.in_thead = False
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            if self.heading is not None:
                level, b = self.heading
                self.heading = None
                self.events.append(_Heading(level, _plain_text(b.finish())))
        elif tag in _HTML_BLOCK_TAGS:
            if self.lis or self.row is not None:
                self._target().sep()
            else:
                self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.loose is None and not (self.lis or self.row or self.heading) and data.isspace():
            return  # layout between tags opens no paragraph (and would give it a wrong line)
        self._target().text(data)

    def finish(self) -> None:
        self.close()
        if self.heading is not None:
            level, b = self.heading
            self.events.append(_Heading(level, _plain_text(b.finish())))
            self.heading = None
        while self.lis:
            self.lis.pop()[1].finish()
        if self.row is not None and self.row.cells is not None and not self.row_header:
            if self.cell is not None:
                self.cell.finish()
            self.row.columns = self.columns
            self.events.append(self.row)
        self._flush()


def _html_events(content: str, line: int, events: list[_Event]) -> None:
    scanner = _HtmlScanner(line, events)
    try:
        scanner.feed(content)
        scanner.finish()
    except (AssertionError, ValueError, IndexError):
        # html.parser gives up on some malformed declarations; what it read so far stands.
        pass


# --------------------------------------------------------------------------------------------
# Fast path: which lines need no block parser
# --------------------------------------------------------------------------------------------

_FAST_ITEM_RE = re.compile(r"(?:[*+-]|[0-9]{1,9}[.)]) (?=\S)")
_ATX_RE = re.compile(r"#{1,6}(?:[ \t]|$)")
_REFDEF_RE = re.compile(r"^[ \t>*+\-0-9.)]*\[([^\]\n]*)\]:", re.MULTILINE)
_OPEN_LABEL_RE = re.compile(r"^[ \t>*+\-0-9.)]*\[[^\]\n]*$", re.MULTILINE)
_BRACKET_RE = re.compile(r"\[([^\[\]\n]+)\]")


def _label(text: str) -> str:
    return " ".join(text.split()).casefold()


def _references_matter(text: str) -> bool:
    """Whether a link reference definition could change how some text is read.

    Regions are parsed separately, so a definition in one could not resolve ``[label]`` in
    another; when no bracketed text anywhere names a defined label (footnote-style "[^1]:"
    lines that nothing cites, say), that cannot happen. A candidate definition counts as one
    only when it stands alone after a blank line and markdown-it reads it so; otherwise its
    ``[label]`` is a use too.
    """
    if "]:" not in text:
        return False
    defs = list(_REFDEF_RE.finditer(text))
    if not defs:
        return False
    if _OPEN_LABEL_RE.search(text):
        return True  # a label could run over several lines; stay on the safe side
    labels = {_label(m.group(1)) for m in defs}
    confirmed = set()
    for m in defs:
        end = text.find("\n", m.end())
        line = text[m.start() : end if end >= 0 else len(text)]
        before = text[: max(m.start() - 1, 0)].rsplit("\n", 1)[-1] if m.start() else ""
        if line[:1] == "[" and not before.strip(" \t") and not _MD_BLOCK.parse(line):
            confirmed.add(m.start())
    return any(
        m.start() not in confirmed and _label(m.group(1)) in labels
        for m in _BRACKET_RE.finditer(text)
    )


_OPENS_BLOCK_RE = re.compile(
    r"""[>< \t]|\#{1,6}(?:[ \t]|$)|```|~~~|(?:[*+-]|[0-9]{1,9}[.)])(?:[ \t]|$)|\[[^\]]*\]:
    |\*(?:[ \t]*\*){2,}[ \t]*$|-(?:[ \t]*-){2,}[ \t]*$|_(?:[ \t]*_){2,}[ \t]*$""",
    re.VERBOSE,
)


def _fast_content(line: str) -> str | None:
    """The inline text of a single-line list item that opens no block of its own."""
    m = _FAST_ITEM_RE.match(line)
    if m is None:
        return None
    content = line[m.end() :]
    if _OPENS_BLOCK_RE.match(content):
        return None  # a quote, HTML, heading, fence, nested list or rule inside the item
    return _md_trim(content)


def _is_blank(line: str) -> bool:
    return not line.strip(" \t")


def _region_closed(tokens: list[Token], n_lines: int, last_line: str) -> bool:
    """Whether parsing more lines after this region could not change it (nothing open)."""
    last = n_lines - 1
    ends_ok = _is_blank(last_line)
    # markdown-it does not count an empty last line (the text ends with its newline).
    seen = n_lines - 1 if last_line == "" else n_lines
    for tok in tokens:
        if tok.map is None:
            continue
        if tok.type in ("fence", "html_block", "code_block") and tok.map[1] >= seen:
            return False
        if tok.map[0] == last and tok.type == "heading_open" and tok.level == 0:
            ends_ok = True  # the line before a quick group is blank or a real heading
    return ends_ok


_CHILD_RE = re.compile(r"( +)(?:[*+-]|([0-9]{1,9})[.)]) (?=\S)")


def _child_item(line: str, lo: int) -> tuple[int, str] | None:
    """(indent, inline text) of a single-line sub-item indented ``lo`` to ``lo + 3`` spaces."""
    m = _CHILD_RE.match(line)
    if m is None or not lo <= len(m.group(1)) <= lo + 3:
        return None
    content = line[m.end() :]
    if _OPENS_BLOCK_RE.match(content):
        return None
    if m.group(2) is not None and m.group(2) != "1":
        return (-len(m.group(1)), _md_trim(content))  # only "1." may start the sub-list
    return (len(m.group(1)), _md_trim(content))


class _QuickItem(NamedTuple):
    end: int
    members: list[tuple[int, str]]
    """(line, inline text) of the item, then of each sub-item."""


class _QuickTable(NamedTuple):
    end: int
    header: list[str]
    rows: list[tuple[int, list[str]]]
    """(line, cell texts) of each body row."""


_DELIM_CELL_RE = re.compile(r":?-+:?")
_MAX_AUTOCOMPLETED_CELLS = 0x10000  # markdown-it stops a table that pads more cells


def _row_cells(line: str) -> list[str]:
    cells = _md_trim(line).split("|")
    if cells and cells[0] == "":
        cells.pop(0)
    if cells and cells[-1] == "":
        cells.pop()
    return cells


def _quick_table(lines: list[str], i: int) -> _QuickTable | None:
    """A GFM table at line ``i`` read as markdown-it's table rule reads it, when simple.

    Simple: every line starts with "|" or the delimiter row at column 0, no backslash
    (escaped pipes), and a blank line or the end right after the last row (markdown-it
    would take any other line as one more row).
    """
    n = len(lines)
    if i + 1 >= n or "\\" in lines[i]:
        return None
    delim = lines[i + 1]
    if len(delim) < 2 or delim[0] not in "|-:" or delim[1] not in "|-: \t":
        return None
    if (delim[0] == "-" and delim[1] in " \t") or delim.strip("|-: \t"):
        return None
    columns = delim.split("|")
    count = 0
    for k, col in enumerate(columns):
        t = _md_trim(col)
        if not t:
            if 0 < k < len(columns) - 1:
                return None
            continue
        if not _DELIM_CELL_RE.fullmatch(t):
            return None
        count += 1
    header = _row_cells(lines[i])
    if not header or len(header) != count:
        return None
    rows: list[tuple[int, list[str]]] = []
    padded = 0
    j = i + 2
    while j < n and lines[j][:1] == "|":
        if "\\" in lines[j]:
            return None
        cells = _row_cells(lines[j])
        padded += count - len(cells)
        if padded > _MAX_AUTOCOMPLETED_CELLS:
            return None
        rows.append((j, [_md_trim(cells[k]) if k < len(cells) else "" for k in range(count)]))
        j += 1
    if j < n and lines[j].strip(" \t"):
        return None
    return _QuickTable(j, [_md_trim(h) for h in header], rows)


def _quick_blocks(lines: list[str]) -> dict[int, _QuickItem | _QuickTable]:
    """Top-level list items and tables that need no block parser, by first line.

    An item group is a one-line item at column 0 with its one-line sub-items, all at the
    same indent within the item's content column (+3). A block is taken only when nothing
    around it can change its meaning: before it a blank line, a heading or another quick
    block; after it the end, a heading, another item, or blank lines and then a line at
    column 0 (for a table: a blank line or the end).
    """
    n = len(lines)
    heads = [_fast_content(ln) if ln[:1] in "*+-0123456789" else None for ln in lines]
    blocks: dict[int, _QuickItem | _QuickTable] = {}
    prev_ok = True  # the line before i ends cleanly (start, blank, heading, quick block)
    i = 0
    while i < n:
        line = lines[i]
        head = heads[i]
        if prev_ok and line[:1] == "|" and (table := _quick_table(lines, i)) is not None:
            blocks[i] = table
            i = table.end
            continue
        if head is None or not prev_ok:
            prev_ok = not line.strip(" \t") or bool(_ATX_RE.match(line))
            i += 1
            continue
        lo = _FAST_ITEM_RE.match(line).end()  # type: ignore[union-attr]
        members = [(i, head)]
        j = i + 1
        indent = None
        while j < n and lines[j][:1] == " ":
            child = _child_item(lines[j], lo)
            if child is None or (indent is None and child[0] < 0):
                break
            if indent is not None and abs(child[0]) != indent:
                break
            indent = abs(child[0])
            members.append((j, child[1]))
            j += 1
        ok = j == n or heads[j] is not None or bool(_ATX_RE.match(lines[j]))
        if not ok and not lines[j].strip(" \t"):
            k = j
            while k < n and not lines[k].strip(" \t"):
                k += 1
            ok = k == n or lines[k][:1] not in (" ", "\t")
        if ok:
            blocks[i] = _QuickItem(j, members)
            prev_ok = True
            i = j
        else:
            prev_ok = False
            i += 1
    return blocks


def _events(text: str, fast: bool) -> list[_Event]:
    events: list[_Event] = []
    if not fast or _references_matter(text):
        _events_from_tokens(_MD.parse(text), 0, events)
        return events
    lines = text.split("\n")
    n = len(lines)
    blocks = _quick_blocks(lines)
    i = 0
    while i < n:
        block = blocks.get(i)
        if isinstance(block, _QuickItem):
            unit = _Unit("item", i + 1, _inline(block.members[0][1], True))
            unit.children = [_Unit("item", k + 1, _inline(c, True)) for k, c in block.members[1:]]
            events.append(unit)
            i = block.end
            continue
        if isinstance(block, _QuickTable):
            columns = _columns([_plain_text(_inline(h, True)) for h in block.header])
            for k, cells in block.rows:
                cell_pieces = [_inline(c, True) for c in cells]
                events.append(_Unit("row", k + 1, cells=cell_pieces, columns=columns))
            i = block.end
            continue
        j = i + 1
        while j < n and j not in blocks:
            j += 1
        if all(not lines[k].strip(" \t") for k in range(i, j)):
            i = j  # blank lines between quick blocks hold nothing
            continue
        tokens = _MD_BLOCK.parse("\n".join(lines[i:j]))
        if j < n and not _region_closed(tokens, j - i, lines[j - 1]):
            # Something (a fence, an HTML block) may run on into the lines after: parse the
            # rest of the document as one, as markdown-it would.
            j = n
            tokens = _MD_BLOCK.parse("\n".join(lines[i:]))
        _events_from_tokens(tokens, i, events, fast=True)
        i = j
    return events


# --------------------------------------------------------------------------------------------
# Links: what each one is
# --------------------------------------------------------------------------------------------

# Kinds of paper-ish reference, in order of preference for an entry's paper link.
_ARXIV_URL, _ARXIV_TEXT, _MALFORMED, _PAPER, _CODE = range(5)

_PAPER_HOSTS = _words(
    """
    openreview.net jstor.org psycnet.apa.org doi.apa.org dl.acm.org acm.org
    ieeexplore.ieee.org computer.org aclanthology.org aclweb.org doi.org nature.com
    sciencedirect.com springer.com springeropen.com wiley.com tandfonline.com science.org
    sciencemag.org cell.com pnas.org plos.org biorxiv.org medrxiv.org chemrxiv.org ssrn.com
    researchgate.net semanticscholar.org ncbi.nlm.nih.gov europepmc.org jmlr.org mlr.press
    papers.nips.cc papers.neurips.cc thecvf.com ecva.net aaai.org ijcai.org isca-speech.org
    usenix.org vldb.org mdpi.com frontiersin.org iop.org aps.org oup.com cambridge.org
    royalsocietypublishing.org annualreviews.org projecteuclid.org jair.org hal.science
    archives-ouvertes.fr sagepub.com emerald.com worldscientific.com siam.org ams.org
    elsevier.com citeseerx.ist.psu.edu academic.oup.com bmj.com thelancet.com nejm.org
    jamanetwork.com
    """
)
_CODE_HOSTS = frozenset(("github.com", "gitlab.com"))
_PAPER_LABELS = _words(
    """
    pdf paper arxiv doi thesis report article publication preprint openreview abstract abs
    """
)
_BARE_URL_RE = re.compile(
    r"""(?:https?://|www\.)[^\s<>"'`]+|(?<![\w.@/-])(?:export\.)?arxiv\.org/[^\s<>"'`]+""",
    re.IGNORECASE,
)


_NON_WORD_RE = re.compile(r"[\W\d_]+")


class _Cand(NamedTuple):
    kind: int
    url: str | None
    ref: ArxivRef | None
    problem: str | None
    piece: int
    """Index of the link piece it came from in its unit, -1 for text and sub-items."""


_HOST_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?//([^/?#]*)([^?#]*)")


def _host_of(url: str) -> tuple[str, str]:
    """Host (lower case, no ``www.``) and path of a URL; a bare ``host/path`` counts too."""
    m = _HOST_RE.match(url if "//" in url[:12] else "//" + url)
    if m is None:
        return "", ""
    host = m.group(1).rsplit("@", 1)[-1].split(":", 1)[0].lower()
    return (host[4:] if host.startswith("www.") else host), m.group(2)


def _paper_host(host: str) -> bool:
    if host.startswith("proceedings."):
        return True
    parts = host.split(".")
    return any(".".join(parts[i:]) in _PAPER_HOSTS for i in range(len(parts) - 1))


def _label_words(text: str) -> list[str]:
    return _NON_WORD_RE.sub(" ", text.lower()).split()


def _classify(href: str, text: str, piece: int) -> _Cand | None:
    """What a link is to an entry: an arXiv paper, a malformed arXiv link, another paper
    (a paper host, a ``.pdf``, or a link labelled "pdf"/"paper"), code, or nothing."""
    if not href or href.startswith("#"):
        return None
    cls = classify_url(href)
    if cls.kind is LinkKind.PAPER:
        return _Cand(_ARXIV_URL, href, cls.ref, None, piece)
    if cls.kind is LinkKind.MALFORMED:
        return _Cand(_MALFORMED, href, None, cls.problem, piece)
    host, path = _host_of(href)
    if "." not in host:
        return None  # a file of the list's own repository or a placeholder, not a paper
    is_pdf = path.lower().endswith(".pdf")
    if host in _CODE_HOSTS and not is_pdf:
        return _Cand(_CODE, href, None, None, piece)
    if host.endswith("arxiv.org") or host.endswith("shields.io"):
        return None
    if is_pdf or _paper_host(host):
        return _Cand(_PAPER, href, None, None, piece)
    words = _label_words(text)
    if words and words[0] in _PAPER_LABELS and host:  # "[[Paper]](…)", "[PDF1](…)"
        return _Cand(_PAPER, href, None, None, piece)
    return None


def _trim_url(url: str) -> str:
    """A bare URL without the sentence punctuation or unbalanced bracket that follows it."""
    url = url.rstrip(".,;:!?'\"")
    while (
        url
        and url[-1] in ")]}"
        and url.count(url[-1]) > url.count({")": "(", "]": "[", "}": "{"}[url[-1]])
    ):
        url = url[:-1].rstrip(".,;:!?'\"")
    return url


def _text_cands(text: str, out: list[_Cand]) -> None:
    """References written in text: bare URLs, ``arXiv:ID`` and ``10.48550/arXiv.ID``."""
    low = text.lower()
    if "arxiv" not in low and "http" not in low and "www." not in low and "10.48550" not in low:
        return
    spans: list[tuple[int, int]] = []
    for m in _BARE_URL_RE.finditer(text):
        url = _trim_url(m.group(0))
        spans.append((m.start(), m.start() + len(url)))
        cand = _classify(url, "", -1)
        if cand is not None:
            out.append(cand)
    if "arxiv" in low:
        for am in find_arxiv_refs(text):
            if not any(s <= am.start < e for s, e in spans):
                out.append(_Cand(_ARXIV_TEXT, None, am.ref, None, -1))


def _cands(pieces: Sequence[_Piece]) -> list[_Cand]:
    """Every reference of a unit's pieces, in order (images are never references)."""
    out: list[_Cand] = []
    for i, p in enumerate(pieces):
        if p.kind == "link":
            c = _classify(p.href, p.text, i)
            if c is not None:
                out.append(c)
            if c is None or c.kind == _CODE:
                _text_cands(p.text, out)
        elif p.kind == "text":
            _text_cands(p.text, out)
    return out


# --------------------------------------------------------------------------------------------
# Titles, venues, years
# --------------------------------------------------------------------------------------------

_GENERIC = _words(
    """
    pdf pdfs paper papers arxiv abs abstract link links url code codes github gitlab project
    projects page pages website homepage home site web demo demos video videos slides slide
    blog post here official html doi dataset datasets data model models weights checkpoint
    checkpoints ckpt huggingface hugging face hf colab notebook poster openreview bib bibtex
    cite citation supp supplementary supplemental appendix thesis book chapter report tech
    technical preprint pub publication article full talk youtube api leaderboard
    paperswithcode with semantic scholar google zhihu twitter tweet version extended
    unofficial implementation pytorch tensorflow jax source repo repository download more
    details news readme license star stars amazon manning microsoft from third party the a
    an and or of for to in on at by my our see view read available open access pwc v
    """
)
_URLISH_RE = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S*$", re.IGNORECASE)
_IDISH_RE = re.compile(
    r"(?:arxiv:?\s*)?(?:[0-9]{4}\.[0-9]{4,5}|[a-z-]+(?:\.[A-Z]{2})?/[0-9]{7})(?:v[0-9]+)?",
    re.IGNORECASE,
)
_SHORTCODE_RE = re.compile(r":[a-z0-9_+-]+:")
_LETTER_RE = re.compile(r"[^\W\d_]")
_EMOJI_TAG_RE = re.compile(r"\[[^\[\]]*\]\s*")
_QUOTES = {'"': '"', "\u201c": "\u201d", "'": "'", "\u2018": "\u2019", "«": "»", "[": "]"}


def _is_junk(ch: str) -> bool:
    """Leading/trailing decoration of a title: emoji, symbols, bullets, dashes."""
    if ch.isspace() or ch in "-\u2013\u2014•·*|>#~_:;,.":
        return True
    return unicodedata.category(ch) in ("So", "Sk", "Sm", "Cf", "Mn", "Co", "Cs")


def _clean_title(raw: str) -> str:
    s = _ws(_SHORTCODE_RE.sub(" ", raw) if ":" in raw else raw)
    start, end = 0, len(s)
    while start < end and _is_junk(s[start]):
        start += 1
    while end > start and (_is_junk(s[end - 1]) and s[end - 1] not in ")]"):
        end -= 1
    s = s[start:end]
    tag = _EMOJI_TAG_RE.match(s) if s[:1] == "[" else None
    if tag and tag.end() < len(s) and any(unicodedata.category(c) == "So" for c in tag.group()):
        s = s[tag.end() :]  # "[💬 3D] Title", "[Extent Version👆] Title": a tag, not the title
    if (
        len(s) >= 2
        and s[0] in _QUOTES
        and s[-1] == _QUOTES[s[0]]
        and s.count(s[0]) == 1 + (s[0] == _QUOTES[s[0]])
    ):
        s = _clean_title(s[1:-1])
    return s


_GENERIC_CACHE: dict[str, bool] = {}


def _is_generic(text: str) -> bool:
    """Whether a link text is a label ("pdf", "[Paper]", "Code & Model"), not a title."""
    if len(text) > 48:
        return False  # labels are a few words
    cached = _GENERIC_CACHE.get(text)
    if cached is None:
        words = _label_words(text)
        cached = not words or all(w in _GENERIC for w in words)
        if len(_GENERIC_CACHE) > 4096:
            _GENERIC_CACHE.clear()
        _GENERIC_CACHE[text] = cached
    return cached


_SHORT_CACHE: dict[str, str | None] = {}


def _title_like(raw: str) -> str | None:
    """The cleaned title when ``raw`` can be a title (not a label, URL, id or decoration)."""
    if len(raw) <= 24:
        # Link labels ("[pdf]", "Paper", "code") repeat on every line; remember them.
        if raw in _SHORT_CACHE:
            return _SHORT_CACHE[raw]
        if len(_SHORT_CACHE) > 4096:
            _SHORT_CACHE.clear()
        _SHORT_CACHE[raw] = result = _title_like_uncached(raw)
        return result
    return _title_like_uncached(raw)


def _title_like_uncached(raw: str) -> str | None:
    s = _clean_title(raw)
    if len(s) < 2 or not _LETTER_RE.search(s):
        return None
    if _URLISH_RE.match(s) or _IDISH_RE.fullmatch(s) or _is_generic(s):
        return None
    return s


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_SUFFIX_WORDS = (
    r"Workshops?|Findings|Datasets\s+and\s+Benchmarks(?:\s+Track)?|Oral|Spotlight|Poster|"
    r"Demos?|Track|Short|Long|Main|Conference|Proceedings|Special\s+Issue"
)
_VY_RE = re.compile(
    rf"""
    (?P<venue>.*?)[\s,'\u2019(-]*
    (?:(?<![0-9])(?P<y4>(?:19|20)[0-9]{{2}})(?![0-9])|['\u2019](?P<y2>[0-9]{{2}})(?![0-9]))\)?
    (?P<suffix>(?:\s+(?:{_SUFFIX_WORDS}))*)
    (?:\s*\([^()]*\))?
    """,
    re.VERBOSE,
)
_DATE_RE = re.compile(
    rf"(?:[0-9]{{1,2}}\s+)?{_MONTH}\s+(?:[0-9]{{1,2}},?\s+)?(?P<y>(?:19|20)[0-9]{{2}})",
    re.IGNORECASE,
)
_VENUE_LABEL_RE = re.compile(
    r"(?:venue|conference|journal|publisher|published(?:\s+(?:in|at|by))?|publication|"
    r"accepted\s+(?:at|by|to|in)|proceedings)\s*[:\uff1a]\s*(?P<v>.+)",
    re.IGNORECASE,
)
_YEAR_LABEL_RE = re.compile(r"year\s*[:\uff1a]\s*(?P<y>(?:19|20)[0-9]{2})", re.IGNORECASE)
_VENUE_PREFIX_RE = re.compile(
    r"(?:(?:published|accepted|appeared|presented)\s+(?:in|at|by|to)|in|at)\s+", re.IGNORECASE
)
_NOT_VENUE_START = _words(
    """
    on by for from since until before after during of to and or as with the this that we our
    it is are was were
    """
)
_VENUE_HEAD_RE = re.compile(
    r"(?:Journal|Proceedings|Proc|Transactions|Trans|Annals|Bulletin|Communications|"
    r"Advances|International|IEEE|ACM)\b"
)
# Venues that may stand without a year ("*Authors.* arXiv.", "*Authors*. Preprint.").
_KNOWN_VENUES = _words(
    """
    arxiv preprint corr neurips nips icml iclr cvpr iccv eccv acl emnlp naacl coling eacl aaai
    ijcai kdd www sigir wsdm tpami tmlr jmlr tacl colm corl rss icra iros aistats uai nature
    science interspeech icassp miccai wacv bmvc siggraph tog tip ijcv blog
    """
) | {"arxiv preprint", "tech report", "technical report", "acm mm", "siggraph asia"}


def _two_digit_year(yy: str) -> int:
    # 00-69 -> 2000s, 70-99 -> 1900s: list venues with a two-digit year are recent.
    return (2000 if int(yy) < 70 else 1900) + int(yy)


def _arxiv_word(m: re.Match[str]) -> str:
    return "arXiv" if "/" not in m.group(0) else m.group(0)


def _clean_venue(raw: str) -> str | None:
    v = _ws(_IDISH_RE.sub(_arxiv_word, raw) if "." in raw or "/" in raw else raw)
    if v[:1] in "IiAaPp" and (prefix := _VENUE_PREFIX_RE.match(v)):
        v = v[prefix.end() :]  # "In ICML", "Published in ..."
    v = v.strip(" ,;:-\u2013\u2014'\u2019(").strip()
    if v.endswith("(") or v.count("(") > v.count(")"):
        v = v.rstrip("( ")
    return v or None


def _plausible_venue(v: str) -> bool:
    if len(v) > 120 or len(v.split()) > 12 or "://" in v or "et al" in v:
        return False
    first = v.split()[0]
    if first.lower() in _NOT_VENUE_START:
        return False
    c = v[0]
    return (
        c.isupper()
        or c.isdigit()
        or v[:5].lower() == "arxiv"
        or (len(v) > 1 and c.islower() and v[1].isupper())
    )


class _VY(NamedTuple):
    venue: str | None
    year: int | None


@functools.lru_cache(maxsize=4096)  # "NeurIPS 2023" and friends repeat on every other line
def _venue_year(segment: str) -> _VY | None:
    """A "Venue Year" segment (or a bare year or date) -> venue and year, else None."""
    s = segment.strip(" \t,;:.[]")
    if s.startswith("(") and s.endswith(")") and s.count("(") == 1:
        s = s[1:-1].strip()
    if not s:
        return None
    if s[0].isdigit() and (d := _DATE_RE.fullmatch(s)):
        return _VY(None, int(d.group("y")))
    if s[0].isalpha() and s[1:4].islower() and (d := _DATE_RE.fullmatch(s)):
        return _VY(None, int(d.group("y")))
    m = _VY_RE.fullmatch(s)
    if m is None:
        return None
    year = int(m.group("y4")) if m.group("y4") else _two_digit_year(m.group("y2"))
    raw = m.group("venue")
    if not raw.strip(" ,;:-'\u2019("):
        return _VY(None, year)
    venue = _clean_venue(raw + (m.group("suffix") or ""))
    if venue is None:
        return _VY(None, year)
    if not _plausible_venue(venue) or venue.count("(") != venue.count(")"):
        return None
    return _VY(venue, year)


_TRAILING_PAREN_RE = re.compile(r"\s*\(([^()]*)\)$")
_SEPARATORS = (". ", ", ", "; ", "? ", "! ", " - ", " \u2013 ", " \u2014 ", " | ")
_TRAIL = " \t,;:-\u2013\u2014|"


def _last_sep(t: str, end: int) -> tuple[int, int] | None:
    """The last separator ("Title. Venue", "Title, Venue", "Title - Venue") before ``end``.

    ``t`` has single spaces. Returns where the separator starts and where the text after it
    starts; a "?" or "!" belongs to the title, so it starts after that.
    """
    best = -1
    width = 0
    for sep in _SEPARATORS:
        i = t.rfind(sep, 1, end)
        if i > best:
            best, width = i, len(sep)
    if best < 0:
        return None
    return (best + 1 if t[best] in "?!" else best), best + width


def _split_title_venue(text: str) -> tuple[str, _VY | None]:
    """Split "Title. Venue Year" (and the other usual shapes) into title and venue/year."""
    t = _ws(text).strip(_TRAIL).rstrip(_TRAIL + "[(")
    if t.endswith(")") and (m := _TRAILING_PAREN_RE.search(t)):
        vy = _venue_year(m.group(1))
        if vy is not None and vy.year is not None:
            return t[: m.start()].rstrip(_TRAIL + "."), vy
    last = _last_sep(t, len(t))
    if last is None:
        return t, None
    vy = _venue_year(t[last[1] :])
    if vy is None:
        return t, None
    title = t[: last[0]]
    prev = _last_sep(t, last[0])
    if vy.venue is not None:
        if prev is not None and t[last[0]] == ".":
            seg = t[prev[1] : last[0]]
            if _VENUE_HEAD_RE.match(seg) and _plausible_venue(seg):
                # "Journal of the Royal Statistical Society. Series C (Applied Statistics)"
                return t[: prev[0]], _VY(f"{seg}. {vy.venue}", vy.year)
        return title, vy
    # "Title, Venue, 2012" / "Title, ArXiv, 16 Oct 2015": the venue is the segment before.
    if prev is not None:
        seg_v = _clean_venue(t[prev[1] : last[0]])
        if seg_v and _plausible_venue(seg_v) and len(seg_v.split()) <= 8:
            return t[: prev[0]], _VY(seg_v, vy.year)
    return title, vy


_SEGMENT_SPLIT_RE = re.compile(r"[.;,|](?:\s+|$)|\s[-\u2013\u2014]\s|[()\[\]]|\s{2,}")
_ET_AL_RE = re.compile(r"\bet\.?\s*al\.?\s*")
_HAS_YEAR_RE = re.compile(r"(?:19|20)[0-9][0-9]|['\u2019][0-9][0-9]")
_ACRONYM_RE = re.compile(r"[A-Z][A-Za-z]*[A-Z][A-Za-z]*")


def _find_venue_year(text: str) -> _VY | None:
    """The first venue/year in free text after a title ("*Authors*. NAACL 2019. [[pdf]]")."""
    if not text or text.isspace():
        return None
    if "//" in text or "www." in text:
        text = _BARE_URL_RE.sub(" ", text)
    if "al" in text:
        text = _ET_AL_RE.sub("et al. ", text)
    segments = [s.strip() for s in _SEGMENT_SPLIT_RE.split(text)]
    segments = [s for s in segments if s]
    year_only: _VY | None = None
    for i, seg in enumerate(segments):
        if ":" in seg and (lab := _VENUE_LABEL_RE.fullmatch(seg)):
            return _venue_year(lab.group("v")) or _VY(_clean_venue(lab.group("v")), None)
        if not _HAS_YEAR_RE.search(seg):
            continue
        vy = _venue_year(seg)
        if vy is None:
            continue
        if vy.venue is not None:
            return vy
        prev = segments[i - 1] if i else ""
        if prev.lower() in _KNOWN_VENUES or _ACRONYM_RE.fullmatch(prev):
            return _VY(prev, vy.year)
        year_only = year_only or vy
    for seg in segments:
        if seg.lower() in _KNOWN_VENUES:
            return _VY(seg, year_only.year if year_only else None)
    return year_only


_NAME_STOP = _words(
    """
    deep learning neural network networks model models generative adversarial reinforcement
    language large image images vision visual training policy robot robots robotics control
    graph graphs data attention transformer transformers diffusion survey introduction
    review analysis theory towards toward efficient fast scalable learning-based algorithms
    algorithm optimization game games search systems system agent agents human feedback
    reward rewards text video speech audio knowledge multi-agent methods method approach
    framework
    """
)
_PARTICLES = _words(
    """
    van von de der den da del di la le du dos das bin al
    """
)


_TRAILING_ET_AL_RE = re.compile(r"\s+et\.?\s*al\.?$")
_LEADING_AND_RE = re.compile(r"^and\s+")
_AND_RE = re.compile(r"\s+and\s+|\s*&\s*")
_INITIALS_RE = re.compile(r"(?:[A-Z]\.){1,3}(?:-?[A-Z]\.)?")
_COMMA_RE = re.compile(r",\s*")
_ET_AL_ONLY_RE = re.compile(r"(?:and\s+)?(?:others|et\.?\s*al\.?)", re.IGNORECASE)


def _is_person(seg: str) -> bool:
    """Whether a comma-separated segment is one or more person names ("A. Smith and B. Li")."""
    seg = _TRAILING_ET_AL_RE.sub("", seg.strip())
    seg = _LEADING_AND_RE.sub("", seg)
    for part in _AND_RE.split(seg):
        tokens = part.split()
        if not 2 <= len(tokens) <= 5:
            return False
        for tok in tokens:
            if tok in _PARTICLES:
                continue
            if tok.lower() in _NAME_STOP:
                return False
            if _INITIALS_RE.fullmatch(tok):
                continue
            if not (tok[0].isupper() and tok[1:].replace("-", "").replace("'", "").isalpha()):
                return False
            if len(tok) > 1 and tok[1:].isupper():
                return False
    return True


def _strip_authors(title: str) -> str:
    """Drop the author names an "Authors, Title" entry opens with."""
    cut = 0
    for m in _COMMA_RE.finditer(title):
        seg = title[cut : m.start()]
        if not (_is_person(seg) or _ET_AL_ONLY_RE.fullmatch(seg.strip())):
            break
        cut = m.end()
    rest = title[cut:].strip()
    return rest if cut and len(rest.split()) >= 2 else title


_LEAD_VENUE_RE = re.compile(r"^[^\w(\[]*\((?P<vy>[^()]*[0-9]{2}[^()]*)\)")
_LEAD_PAREN_RE = re.compile(r"^[^\w(\[]*\((?P<inner>[^()]+)\)")
_LEAD_DATE_RE = re.compile(r"^[^\w(\[]*\[(?:19|20)[0-9]{2}(?:[/.-][0-9]{1,2}){0,2}\]")
_BADGE_DASH_RE = re.compile(r"(?<!-)-(?!-)")
_UP_TO_YEAR_RE = re.compile(r".*?(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])")
_BADGE_ALTS = frozenset(("publish", "published", "publication", "conference", "venue", "journal"))


def _badge_venue(pieces: Sequence[_Piece]) -> _VY | None:
    for p in pieces:
        if p.kind == "image":
            src, alt = p.href, p.text
        elif p.kind == "link" and p.img:
            src, alt = p.img, p.alt
        else:
            continue
        k = src.find("shields.io/badge/")
        if k < 0:
            continue
        body = unquote(src[k + len("shields.io/badge/") :].split("?", 1)[0])
        parts = _BADGE_DASH_RE.split(body)
        if len(parts) < 2:
            continue
        label, message = (parts[0], "-".join(parts[1:-1])) if len(parts) >= 3 else ("", parts[0])
        message = message.replace("--", "-").replace("__", "\0").replace("_", " ")
        message = message.replace("\0", "_").strip()
        if alt.strip().lower() in _BADGE_ALTS or label.strip().lower() in _BADGE_ALTS | {
            "workshop"
        }:
            vy = _venue_year(message)
            if vy is not None and vy.venue is not None:
                return vy
            if message and not any(ch.isdigit() for ch in message):
                return _VY(message, None)
    return None


class _Described(NamedTuple):
    title: str
    venue: str | None
    year: int | None
    titled: bool
    """The title came from the entry's own structure (a link, bold text or leading text)."""


def _text_of(pieces: Sequence[_Piece], start: int = 0, end: int | None = None) -> str:
    out = []
    for p in pieces[start:end]:
        if p.kind == "text" or (p.kind == "link" and not _is_generic(p.text)):
            out.append(p.text)
        elif p.kind == "sep":
            out.append(" | ")
        else:
            out.append(" ")
    return "".join(out)


def _strong_run(pieces: Sequence[_Piece]) -> tuple[str, int, int] | None:
    """The first bold text (joined across pieces) that can be a title: (title, start, end)."""
    i, n = 0, len(pieces)
    while i < n:
        if pieces[i].strong and pieces[i].kind in ("text", "link"):
            j, parts = i, []
            while j < n and pieces[j].strong and pieces[j].kind in ("text", "link"):
                parts.append(pieces[j].text)
                j += 1
            title = _title_like("".join(parts))
            if title is not None:
                return title, i, j
            i = j
        else:
            i += 1
    return None


def _leading_text(pieces: Sequence[_Piece]) -> tuple[str, int]:
    """Text before the first real link (badges and leading <br> skipped), and its end."""
    lead: list[str] = []
    for k, p in enumerate(pieces):
        if p.kind == "link" and not (p.img and not p.text.strip()):
            return "".join(lead), k
        if p.kind == "text" and (bare := _BARE_URL_RE.search(p.text)):
            # A bare URL ends the lead as a link would: "Title. Venue 2023, https://..."
            lead.append(p.text[: bare.start()])
            return "".join(lead), k + 1
        if p.kind == "text" or p.kind == "code":
            lead.append(p.text)
        elif p.kind == "sep" and "".join(lead).strip():
            return "".join(lead), k
    return "".join(lead), len(pieces)


def _lead_venue(text: str, bare: bool) -> _VY | None:
    """The "(Venue Year)" an entry opens with; ``bare`` also takes "(Venue)" without a year."""
    m = _LEAD_PAREN_RE.match(text)
    if m is None:
        return None
    inner = m.group("inner")
    vy = _venue_year(inner)
    if vy is not None:
        return vy
    head = _UP_TO_YEAR_RE.match(inner)
    if head is not None and (vy := _venue_year(head.group(0))) is not None:
        return vy  # "(CVPR 2021 AI for Content Creation Workshop)", "(SIGGRAPH Asia 2023 & TOG)"
    venue = _clean_venue(inner) if bare else None
    if venue and _plausible_venue(venue) and len(venue.split()) <= 10:
        return _VY(venue, None)
    return None


def _describe(pieces: Sequence[_Piece], paper_piece: int) -> _Described:
    """Title, venue and year of one unit's own pieces.

    The title is, in order: the paper link's text; the first bold text; the text before the
    first link ("Title. Venue 2023, [[pdf]](...)", "Authors, Title, Venue, Year."); the first
    link with a title-like text; failing all, the unit's whole text (``titled`` False).
    """
    title: str | None = None
    split: _VY | None = None
    start = end = 0
    from_strong = False
    link_title = _title_like(pieces[paper_piece].text) if paper_piece >= 0 else None
    if link_title is not None:
        title, split = _split_title_venue(link_title)
        title, start, end = _clean_title(title), paper_piece, paper_piece + 1
        # "Authors, Book Title [[Summary]](pdf)": a fuller title before the first link wins.
        text, k = _leading_text(pieces)
        if k <= paper_piece and text.strip():
            text = _LEAD_DATE_RE.sub("", _LEAD_VENUE_RE.sub("", text, count=1), count=1)
            head, lead_split = _split_title_venue(text)
            lead = _title_like(_strip_authors(head))
            if lead is not None and len(lead) > len(title):
                title, split, start, end = lead, lead_split, 0, k
    elif (run := _strong_run(pieces)) is not None:
        title, start, end = run
        from_strong = True
    else:
        text, k = _leading_text(pieces)
        text = _LEAD_DATE_RE.sub("", _LEAD_VENUE_RE.sub("", text, count=1), count=1)
        head, split = _split_title_venue(text)
        if (t := _title_like(_strip_authors(head))) is not None:
            title, end = t, k
        else:
            split = None
            for i, p in enumerate(pieces):
                if p.kind == "link" and (t := _title_like(p.text)) is not None:
                    title, split = _split_title_venue(t)
                    title, start, end = _clean_title(title), i, i + 1
                    break
    titled = title is not None
    if title is None:
        text = _text_of(pieces).replace(" | ", " ").strip()
        text = _LEAD_DATE_RE.sub("", _LEAD_VENUE_RE.sub("", text, count=1), count=1)
        head, split = _split_title_venue(text)
        title = _clean_title(_strip_authors(head))
        end = len(pieces)
    vy = split if split is not None and (split.venue or split.year) else None
    if vy is None:
        vy = _lead_venue(_text_of(pieces, 0, start), from_strong)
    if vy is None:
        vy = _badge_venue(pieces)
    if vy is None:
        vy = _find_venue_year(_text_of(pieces, end))
    if vy is None:
        return _Described(title, None, None, titled)
    return _Described(title, vy.venue, vy.year, titled)


# --------------------------------------------------------------------------------------------
# Units -> entries
# --------------------------------------------------------------------------------------------


class _Draft(NamedTuple):
    line: int
    title: str
    venue: str | None
    year: int | None
    url: str | None
    arxiv_id: str | None
    arxiv_version: int | None
    code_url: str | None
    id_problem: str | None


def _pick(cands: Sequence[_Cand]) -> _Cand | None:
    """The entry's paper: the first arXiv link, else an arXiv mention, else a malformed
    arXiv link, else another paper link."""
    best: _Cand | None = None
    for c in cands:
        if c.kind <= _PAPER and (best is None or c.kind < best.kind):
            best = c
            if c.kind == _ARXIV_URL:
                break
    return best


def _labelled(children: Sequence[_Unit]) -> _VY | None:
    """Venue and year from "Venue: X" / "Year: 2023" sub-items."""
    venue: str | None = None
    year: int | None = None
    for child in children:
        text = _plain_text(child.pieces)
        if venue is None and (m := _VENUE_LABEL_RE.fullmatch(text)):
            vy = _venue_year(m.group("v"))
            if vy is not None and vy.venue is not None:
                venue, year = vy.venue, year or vy.year
            else:
                venue = _ws(m.group("v"))
        elif year is None and (y := _YEAR_LABEL_RE.fullmatch(text)):
            year = int(y.group("y"))
    return _VY(venue, year) if venue or year else None


def _draft(
    unit: _Unit,
    pieces: Sequence[_Piece],
    own: list[_Cand],
    extra: Sequence[_Cand] = (),
    attrs: Sequence[_Unit] = (),
) -> tuple[_Draft, bool] | None:
    """The entry a unit makes (None when it references no paper), and whether its title
    came from its own structure (a sub-item without one belongs to its parent)."""
    cands = [*own, *extra] if extra else own
    best = _pick(cands)
    if best is None:
        return None
    code = next((c.url for c in cands if c.kind == _CODE and c.url != best.url), None)
    d = _describe(pieces, best.piece)
    title, venue, year = d.title, d.venue, d.year
    if unit.cells is not None and unit.columns is not None:
        title, venue, year = _row_fields(unit.cells, unit.columns, best, title, venue, year)
    if venue is None and year is None and attrs:
        lab = _labelled(attrs)
        if lab is not None:
            venue, year = lab
    ref = best.ref
    return (
        _Draft(
            unit.line,
            title,
            venue,
            year,
            best.url,
            ref.arxiv_id if ref else None,
            ref.version if ref else None,
            code,
            best.problem,
        ),
        d.titled,
    )


def _row_fields(
    cells: list[list[_Piece]],
    cols: _Columns,
    best: _Cand,
    title: str,
    venue: str | None,
    year: int | None,
) -> tuple[str, str | None, int | None]:
    """A table row's title from its Title/Paper (or Model/Name) column, venue from Venue."""
    for col in (cols.title, cols.name):
        if col is not None and col < len(cells):
            cell = cells[col]
            paper_piece = -1
            if best.url is not None:
                paper_piece = next(
                    (i for i, p in enumerate(cell) if p.kind == "link" and p.href == best.url), -1
                )
            d = _describe(cell, paper_piece)
            if d.titled and d.title:
                title = d.title
                if venue is None and year is None:
                    venue, year = d.venue, d.year
                break
    if cols.venue is not None and cols.venue < len(cells):
        text = _ws(_text_of(cells[cols.venue]).replace(" | ", " "))
        vy = _venue_year(text)
        if vy is not None and (vy.venue or vy.year):
            venue, year = vy.venue or venue, vy.year
        elif text and text not in ("-", "\u2013") and _plausible_venue(text) and len(text) < 60:
            venue = text
    return title, venue, year


def _row_pieces(unit: _Unit) -> list[_Piece]:
    out: list[_Piece] = []
    for cell in unit.cells or ():
        if out:
            out.append(_SEP)
        out.extend(cell)
    return out


class _Result(NamedTuple):
    draft: tuple[_Draft, bool] | None
    entries: list[_Draft]
    cands: list[_Cand]


def _item(unit: _Unit) -> _Result:
    """A list item: its own draft, the entries below it, and what it lends its parent."""
    below: list[_Draft] = []
    extra: list[_Cand] = []
    attrs: list[_Unit] = []
    for child in unit.children:
        res = _item(child)
        if res.draft is not None and res.draft[1]:
            below.append(res.draft[0])
            below.extend(res.entries)
        else:
            below.extend(res.entries)
            extra.extend(c._replace(piece=-1) if c.piece >= 0 else c for c in res.cands)
            attrs.append(child)
    own = _cands(unit.pieces)
    draft = _draft(unit, unit.pieces, own, extra, attrs)
    return _Result(draft, below, own + extra if extra else own)


def _para_opens_with_title(pieces: Sequence[_Piece]) -> bool:
    """A paragraph is an entry only when it starts like one: a bold or linked title."""
    for p in pieces:
        if p.kind == "text" and not p.text.strip():
            continue
        if p.kind == "text":
            return p.strong and _title_like(p.text) is not None
        if p.kind == "link":
            return _title_like(p.text) is not None
        return False
    return False


def _unit_drafts(unit: _Unit) -> list[_Draft]:
    """The entries a list item (with its sub-items), table row or paragraph makes."""
    if unit.kind == "item":
        res = _item(unit)
        return ([res.draft[0]] if res.draft else []) + res.entries
    if unit.kind == "row":
        pieces = _row_pieces(unit)
        d = _draft(unit, pieces, _cands(pieces))
        return [d[0]] if d else []
    if _para_opens_with_title(unit.pieces):
        d = _draft(unit, unit.pieces, _cands(unit.pieces))
        return [d[0]] if d else []
    return []


def _entries(events: list[_Event], list_name: str) -> list[ListEntry]:
    """Entries in document order, each with its heading path."""
    stack: list[tuple[int, int]] = []  # (level, heading index)
    texts: list[str] = []
    levels: list[int] = []
    drafts: list[tuple[_Draft, tuple[int, ...]]] = []
    first_entry_heading = -2  # heading count when the first entry was seen
    path: tuple[int, ...] = ()
    for ev in events:
        if isinstance(ev, _Heading):
            while stack and stack[-1][0] >= ev.level:
                stack.pop()
            stack.append((ev.level, len(texts)))
            texts.append(ev.text)
            levels.append(ev.level)
            path = tuple(h for _, h in stack)
        else:
            for d in _unit_drafts(ev):
                if first_entry_heading == -2:
                    first_entry_heading = len(texts)
                drafts.append((d, path))
    # The first heading is the document title when it is a level-1 heading at the top: no
    # entry before it and none directly under it.
    title_id = -1
    if (
        texts
        and levels[0] == 1
        and first_entry_heading != 0
        and not any(p == (0,) for _, p in drafts)
    ):
        title_id = 0
    sections: dict[tuple[int, ...], str] = {}
    out = []
    for d, p in drafts:
        section = sections.get(p)
        if section is None:
            section = " / ".join(texts[h] for h in p if h != title_id and texts[h])
            sections[p] = section
        out.append(
            ListEntry(
                list=list_name,
                line=d.line,
                section=section,
                title=d.title,
                venue=d.venue,
                year=d.year,
                url=d.url,
                arxiv_id=d.arxiv_id,
                arxiv_version=d.arxiv_version,
                code_url=d.code_url,
                id_problem=d.id_problem,
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def parse_markdown(text: str, list_name: str, *, fast_path: bool = True) -> list[ListEntry]:
    """The paper entries of a Markdown list, in document order. Pure; never raises.

    ``list_name`` goes into every entry's ``list``. ``fast_path=False`` sends the whole
    document through markdown-it (slower; the same entries, which the tests check).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    if text.startswith("\ufeff"):
        text = text[1:]
    # Parsing allocates millions of short-lived objects and makes no reference cycles; the
    # cyclic collector's passes over them would cost a quarter of the time on a big list.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _entries(_events(text, fast_path), list_name)
    finally:
        if enabled:
            gc.enable()


_URL_ESCAPE_RE = re.compile(r"([<>\\])")
_ESCAPE_RE = re.compile(r"([!-/:-@\[-`{-~])")


def _escape(text: str) -> str:
    return _ESCAPE_RE.sub(r"\\\1", text)


def _escape_url(url: str) -> str:
    return "<" + _URL_ESCAPE_RE.sub(r"\\\1", url) + ">"


def render_markdown(entries: Iterable[ListEntry], title: str = "Paper list") -> str:
    """Render entries as a Markdown list that ``parse_markdown`` reads back to the same entries.

    Preserved: order, ``section``, ``title`` (non-empty), ``venue``, ``year``, ``url``,
    ``arxiv_id``, ``arxiv_version``, ``code_url`` and ``id_problem`` (derived again from the
    url). Not preserved: ``line`` (lines of the new text) and ``list`` (the name given when
    parsing). Each section is written as its full heading path, each entry as
    ``* **Title** [[pdf]](url)`` (or ``arXiv:ID`` when the list gave no link) with
    ``Venue:``, ``Year:`` and ``Code:`` sub-items.
    """
    out: list[str] = []
    section: str | None = None
    for e in entries:
        if e.section != section:
            if section is None and e.section:
                out += [f"# {_escape(title)}", ""]
            parts = e.section.split(" / ") if e.section else []
            if len(parts) > 6:
                parts = [*parts[:5], " / ".join(parts[5:])]
            out += [f"{'#' * (i + 1)} {_escape(p)}" for i, p in enumerate(parts)] or ["#"]
            out.append("")
            section = e.section
        ref = f"[[pdf]]({_escape_url(e.url)})" if e.url else ""
        if not ref and e.arxiv_id:
            ref = f"arXiv:{e.arxiv_id}" + (f"v{e.arxiv_version}" if e.arxiv_version else "")
        out.append(f"* **{_escape(e.title)}** {ref}".rstrip())
        if e.venue:
            out.append(f"  * Venue: {_escape(e.venue)}")
        if e.year is not None:
            out.append(f"  * Year: {e.year}")
        if e.code_url:
            out.append(f"  * Code: [code]({_escape_url(e.code_url)})")
    return "\n".join(out) + "\n"


def load_list_file(path: Path, list_name: str | None = None) -> list[ListEntry]:
    """Read and parse one list file (UTF-8, optional BOM). ``list`` defaults to the file name.

    Raises InputError naming the file when it cannot be read, is not UTF-8 (with the line of
    the first bad byte), is empty, or has no paper entries.
    """
    where = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such list file; check the path", path=where) from None
    except IsADirectoryError:
        raise InputError(
            "is a directory; pass the .md files in it (or let the CLI expand it)", path=where
        ) from None
    except OSError as err:
        raise InputError(f"cannot read the list file: {err.strerror or err}", path=where) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"not UTF-8: byte 0x{data[err.start]:02x} cannot be decoded; re-save the list as UTF-8",
            path=where,
            line=line,
        ) from None
    if not text.strip():
        raise InputError("the list file is empty; expected a Markdown paper list", path=where)
    entries = parse_markdown(text, list_name if list_name is not None else path.name)
    if not entries:
        raise InputError(
            "no paper entries found: expected list items or table rows with an arXiv or paper "
            "link, e.g. '* Title. NeurIPS 2024, [[pdf]](https://arxiv.org/abs/2401.00001)'",
            path=where,
        )
    return entries
