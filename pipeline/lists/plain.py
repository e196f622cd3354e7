"""Plain text and reStructuredText lists -> document events. Pure.

Plain text (``.txt``): one arXiv id or URL per line (``#`` starts a comment; text after the
id on its line is its title). A ``.txt`` with prose in it (an ``llms.txt``) is read as
Markdown, which is what such files are written in.

reStructuredText (``.rst``): underlined section titles are headings; bullet and enumerated
items (with their continuation lines) are items; `` `text <url>`_ `` links are links.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.arxiv_ids import normalize_id
from pipeline.lists.document import Block, DocumentEvent, Heading, Piece, PieceBuilder
from pipeline.lists.links import BARE_URL_RE
from pipeline.lists.links import trim_url as _trim_url
from pipeline.lists.markdown import read_markdown

__all__ = ["is_id_per_line", "read_plain_text", "read_rst"]

_ID_LINE_RE = re.compile(
    r"^\s*(?P<ref>(?:arxiv:\s?)?(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
    r"|(?:https?://|www\.)\S+)(?:\s+(?P<rest>.*))?$",
    re.IGNORECASE,
)


def _content_lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        if line.strip():
            yield number, line


def is_id_per_line(text: str) -> bool:
    """Every line that is not blank or a comment starts with an id or a URL."""
    lines = list(_content_lines(text))
    return bool(lines) and all(_ID_LINE_RE.match(line) for _, line in lines)


def read_plain_text(text: str) -> Iterator[DocumentEvent]:
    """A ``.txt`` list: one id or URL per line, else (prose) Markdown."""
    if not is_id_per_line(text):
        yield from read_markdown(text)
        return
    for number, line in _content_lines(text):
        m = _ID_LINE_RE.match(line)
        if m is None:
            continue
        ref, rest = m.group("ref"), (m.group("rest") or "").strip(" -\u2013|:")
        if not BARE_URL_RE.fullmatch(ref):
            try:
                ref = f"https://arxiv.org/abs/{normalize_id(ref)}"
            except ValueError:
                continue
        pieces = [Piece("link", rest or "paper", ref)]
        yield Block("item", number, pieces)


_UNDERLINE_RE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
_BULLET_RE = re.compile(r"^(\s*)(?:[-*+\u2022]|\d+[.)]|#\.)\s+(.*)$")
_RST_LINK_RE = re.compile(r"`([^`<]*?)\s*<([^>`]+)>`__?|(?<![\w`])`([^`]+)`(?!_)")
_RST_STRONG_RE = re.compile(r"\*\*([^*]+)\*\*")


_TITLE_YEAR_RE = re.compile(r"^(?P<title>[^`*]{8,}?)\s*\((?P<year>(?:19|20)\d\d)\)(?P<rest>.*)$")


def _rst_pieces(text: str) -> list[Piece]:
    builder = PieceBuilder()
    pos = 0
    if m := _TITLE_YEAR_RE.match(text):
        # "Title (2015), A. Author et al. `[pdf] <url>`__": the title set off as bold
        builder.strong += 1
        builder.text(m.group("title"))
        builder.strong -= 1
        builder.text(f" ({m.group('year')})")
        text = m.group("rest")
    for m in _RST_LINK_RE.finditer(text):
        _rst_text(text[pos : m.start()], builder)
        if m.group(2) is not None:
            builder.open_link(_trim_url(m.group(2).strip()))
            builder.text(m.group(1) or m.group(2))
            builder.close_link()
        else:
            builder.code(m.group(3))
        pos = m.end()
    _rst_text(text[pos:], builder)
    return builder.finish()


def _rst_text(text: str, builder: PieceBuilder) -> None:
    pos = 0
    for m in _RST_STRONG_RE.finditer(text):
        builder.text(text[pos : m.start()])
        builder.strong += 1
        builder.text(m.group(1))
        builder.strong -= 1
        pos = m.end()
    builder.text(text[pos:])


def read_rst(text: str) -> Iterator[DocumentEvent]:
    """A reStructuredText list: sections (by underline style, in order met) and items."""
    lines = text.replace("\r\n", "\n").split("\n")
    levels: list[str] = []
    item: tuple[int, list[str]] | None = None
    in_directive = False
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _UNDERLINE_RE.match(line) or (line.strip() and _UNDERLINE_RE.match(nxt)):
            if item is not None:
                yield Block("item", item[0], _rst_pieces(" ".join(item[1])))
                item = None
            if _UNDERLINE_RE.match(line):
                continue
            style = nxt.strip()[0]
            if style not in levels:
                levels.append(style)
            yield Heading(levels.index(style) + 1, line.strip())
            continue
        if line.startswith(".. "):
            in_directive = True
            continue
        m = _BULLET_RE.match(line)
        if m is not None:
            in_directive = False
            if item is not None:
                yield Block("item", item[0], _rst_pieces(" ".join(item[1])))
            item = (i + 1, [m.group(2)])
        elif not line.strip():
            in_directive = False
        elif item is not None and line[:1].isspace() and not in_directive:
            item[1].append(line.strip())
    if item is not None:
        yield Block("item", item[0], _rst_pieces(" ".join(item[1])))
