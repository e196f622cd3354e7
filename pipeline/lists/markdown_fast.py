"""The Markdown fast path: blocks and inline text read without markdown-it, when that is safe.

markdown-it-py parses about 2 MB/s here, too slow for a 10 MB list in 5 s. So blocks whose
meaning does not depend on their neighbours skip its block parser: one-line top-level list
items with one level of one-line sub-items, and simple GFM tables, each preceded by a blank
line, a heading or another such block, and followed likewise. Inline text is read here when
it holds only plain text, ``[text](url)`` links, literal ``[brackets]`` and unambiguous
``**bold**`` / ``*em*`` runs.

Everything here must read Markdown exactly as markdown-it does, or decline (return None).
The tests hold it to that on every real list in the fixtures and on Hypothesis-generated
Markdown (tests/unit/test_markdown_fast.py, and the ``fast_path=False`` comparisons in the
parser tests). ``markdown.read_markdown`` decides when to use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from markdown_it.token import Token

from pipeline.lists.document import Piece

try:  # markdown-it-py 4 trims paragraphs with the CommonMark whitespace set, 3 with strip()
    from markdown_it.common.utils import mdTrim as _md_trim
except ImportError:  # pragma: no cover - markdown-it-py 3

    def _md_trim(string: str) -> str:
        return string.strip()


__all__ = [
    "QuickItem",
    "QuickTable",
    "fast_inline",
    "quick_blocks",
    "quick_headings",
    "references_matter",
    "region_closed",
]

# --------------------------------------------------------------------------------------------
# Inline text
# --------------------------------------------------------------------------------------------

# A subset of inline Markdown that markdown-it would turn into exactly these pieces: plain
# text, [label](url) links (also wrapped as [[label](url)]), literal [bracketed] text, and
# **bold** / *em* runs whose neighbours make them unambiguous. Anything else (code, HTML,
# escapes, entities, images, underscores, intraword or nested emphasis) goes to markdown-it.
_PLAIN_CHAR = r"[^\[\]\\`*_<\n]"
# Runs of plain characters, not one character per repetition: a third of the time on a link,
# and possessive (they end at a bracket anyway), so a failing label is not re-split.
_LABEL = rf"(?:{_PLAIN_CHAR}++|\[{_PLAIN_CHAR}++\](?![(\[]))+"
_DEST = r"[^\s()<>\\`\[\]]+"
_EMPH = r"[A-Za-z0-9][^\[\]\\`*_<\n]*?"
_FAST_INLINE_RE = re.compile(
    rf"""
    (?P<text>{_PLAIN_CHAR}+)
    | \[(?P<label>{_LABEL})\]\((?P<dest>{_DEST})\)
    | \[\[(?P<wlabel>{_LABEL})\]\((?P<wdest>{_DEST})\)\](?![(\[])
    | (?P<btext>\[{_PLAIN_CHAR}+\])(?![(\[:])
    | (?P<stars>\*\*?)(?P<emph>{_EMPH})(?P=stars)
    """,
    re.VERBOSE,
)
_BAD_PROTO_RE = re.compile(r"(?:vbscript|javascript|file|data):", re.IGNORECASE)
_ENTITY_RE = re.compile(r"&(?:#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});")
_EMPH_BEFORE = frozenset(" (\"'")
_EMPH_AFTER = frozenset(" .,;:)")
_EMPH_LAST = frozenset(".?!)")


def _emphasis_is_unambiguous(content: str, match: re.Match[str]) -> bool:
    """An emphasis run pairs as written only when its delimiters are unambiguously an opener
    (after start/space/bracket, before a letter) and a closer (after a letter or closing
    punctuation, before end/space/punctuation); ASCII keeps that exact."""
    start, end = match.start(), match.end()
    inner = match.group("emph")
    after = content[end] if end < len(content) else " "
    return not (
        (start and content[start - 1] not in _EMPH_BEFORE)
        or after not in _EMPH_AFTER
        or not (inner[-1].isascii() and (inner[-1].isalnum() or inner[-1] in _EMPH_LAST))
    )


def _add_text(out: list[Piece], text: str, strong: bool) -> None:
    """Text appended as ``PieceBuilder`` would: merged into a text piece of the same weight."""
    if out and out[-1].kind == "text" and out[-1].strong == strong:
        out[-1] = Piece("text", out[-1].text + text, "", strong)
    else:
        out.append(Piece("text", text, "", strong))


def fast_inline(content: str) -> list[Piece] | None:
    """Pieces of simple inline text without markdown-it, or None when it is not simple.

    The subset has no nesting (links hold plain text, emphasis holds no link), so pieces are
    made directly rather than through a ``PieceBuilder``: a third of the time of this call.
    """
    if "![" in content or ("&" in content and _ENTITY_RE.search(content)):
        return None
    out: list[Piece] = []
    pos, end = 0, len(content)
    match = _FAST_INLINE_RE.match
    while pos < end:
        m = match(content, pos)
        if m is None:
            return None
        kind = m.lastgroup
        if kind == "text" or kind == "btext":
            _add_text(out, m.group(0), False)
        elif kind == "dest":
            if _BAD_PROTO_RE.match(m.group("dest")):
                return None
            out.append(Piece("link", m.group("label"), m.group("dest")))
        elif kind == "wdest":
            if _BAD_PROTO_RE.match(m.group("wdest")):
                return None
            _add_text(out, "[", False)
            out.append(Piece("link", m.group("wlabel"), m.group("wdest")))
            out.append(Piece("text", "]"))
        else:
            if not _emphasis_is_unambiguous(content, m):
                return None
            _add_text(out, m.group("emph"), len(m.group("stars")) == 2)
        pos = m.end()
    return out


# --------------------------------------------------------------------------------------------
# Link reference definitions
# --------------------------------------------------------------------------------------------

_REFDEF_RE = re.compile(r"^[ \t>*+\-0-9.)]*\[([^\]\n]*)\]:", re.MULTILINE)
_OPEN_LABEL_RE = re.compile(r"^[ \t>*+\-0-9.)]*\[[^\]\n]*$", re.MULTILINE)
_BRACKET_RE = re.compile(r"\[([^\[\]\n]+)\]")


def _label(text: str) -> str:
    return " ".join(text.split()).casefold()


def references_matter(text: str, is_blockless: Callable[[str], bool]) -> bool:
    """Whether a link reference definition could change how some text is read.

    Regions are parsed separately, so a definition in one could not resolve ``[label]`` in
    another; when no bracketed text anywhere names a defined label (footnote-style "[^1]:"
    lines that nothing cites, say), that cannot happen. A candidate definition counts as one
    only when it stands alone after a blank line and markdown-it reads it so
    (``is_blockless(line)``: its block parser makes no block of it); otherwise its
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
        if line[:1] == "[" and not before.strip(" \t") and is_blockless(line):
            confirmed.add(m.start())
    return any(
        m.start() not in confirmed and _label(m.group(1)) in labels
        for m in _BRACKET_RE.finditer(text)
    )


# --------------------------------------------------------------------------------------------
# Blocks: which lines need no block parser
# --------------------------------------------------------------------------------------------

_FAST_ITEM_RE = re.compile(r"(?:[*+-]|[0-9]{1,9}[.)]) (?=\S)")
_ATX_RE = re.compile(r"#{1,6}(?:[ \t]|$)")
_OPENS_BLOCK_RE = re.compile(
    r"""[>< \t]|\#{1,6}(?:[ \t]|$)|```|~~~|(?:[*+-]|[0-9]{1,9}[.)])(?:[ \t]|$)|\[[^\]]*\]:
    |\*(?:[ \t]*\*){2,}[ \t]*$|-(?:[ \t]*-){2,}[ \t]*$|_(?:[ \t]*_){2,}[ \t]*$""",
    re.VERBOSE,
)
_CHILD_RE = re.compile(r"( +)(?:[*+-]|([0-9]{1,9})[.)]) (?=\S)")
_DELIM_CELL_RE = re.compile(r":?-+:?")
_MAX_AUTOCOMPLETED_CELLS = 0x10000  # markdown-it stops a table that pads more cells


def _fast_content(line: str) -> tuple[int, str] | None:
    """(content column, inline text) of a single-line list item that opens no block of its
    own."""
    m = _FAST_ITEM_RE.match(line)
    if m is None:
        return None
    content = line[m.end() :]
    if _OPENS_BLOCK_RE.match(content):
        return None  # a quote, HTML, heading, fence, nested list or rule inside the item
    return m.end(), _md_trim(content)


def region_closed(tokens: list[Token], n_lines: int, last_line: str) -> bool:
    """Whether parsing more lines after this region could not change it (nothing open)."""
    last = n_lines - 1
    ends_ok = not last_line.strip(" \t")
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


def _child_item(line: str, content_column: int) -> tuple[int, str] | None:
    """(indent, inline text) of a single-line sub-item indented within the parent's content
    column (``content_column`` to ``content_column + 3`` spaces); a negative indent marks an
    ordered sub-item that cannot start the sub-list."""
    m = _CHILD_RE.match(line)
    if m is None or not content_column <= len(m.group(1)) <= content_column + 3:
        return None
    content = line[m.end() :]
    if _OPENS_BLOCK_RE.match(content):
        return None
    if m.group(2) is not None and m.group(2) != "1":
        return (-len(m.group(1)), _md_trim(content))  # only "1." may start the sub-list
    return (len(m.group(1)), _md_trim(content))


class QuickItem(NamedTuple):
    """A one-line list item with one-line sub-items, read without the block parser."""

    end: int
    """0-based line after the item."""
    members: list[tuple[int, str]]
    """(0-based line, inline text) of the item, then of each sub-item."""


class QuickTable(NamedTuple):
    """A simple GFM table, read without the block parser."""

    end: int
    """0-based line after the table."""
    header: list[str]
    """Inline text of each header cell."""
    rows: list[tuple[int, list[str]]]
    """(0-based line, cell texts) of each body row."""


_SIMPLE_HEADING_RE = re.compile(r"(#{1,6})[ \t]([^#]*)")


def quick_headings(lines: list[str], i: int, j: int) -> list[tuple[int, str]] | None:
    """(level, inline text) of each heading in lines ``i`` to ``j`` when the others are blank
    and each is an ATX heading at column 0 with no "#" in its text (so no closing run to cut),
    as markdown-it's heading rule reads it; None for any other region. The lines between a
    list's sections are mostly that, and need no block parser then."""
    found: list[tuple[int, str]] = []
    for k in range(i, j):
        line = lines[k]
        if not line.strip(" \t"):
            continue
        m = _SIMPLE_HEADING_RE.fullmatch(line)
        if m is None or not (text := _md_trim(m.group(2))):
            return None
        found.append((len(m.group(1)), text))
    return found


def _row_cells(line: str) -> list[str]:
    cells = _md_trim(line).split("|")
    if cells and cells[0] == "":
        cells.pop(0)
    if cells and cells[-1] == "":
        cells.pop()
    return cells


def _delimiter_count(delim: str) -> int | None:
    """How many columns a table's delimiter row ("|---|:-:|") declares; None if it is not one."""
    if len(delim) < 2 or delim[0] not in "|-:" or delim[1] not in "|-: \t":
        return None
    if (delim[0] == "-" and delim[1] in " \t") or delim.strip("|-: \t"):
        return None
    columns = delim.split("|")
    count = 0
    for k, col in enumerate(columns):
        cell = _md_trim(col)
        if not cell:
            if 0 < k < len(columns) - 1:
                return None
            continue
        if not _DELIM_CELL_RE.fullmatch(cell):
            return None
        count += 1
    return count


def _quick_table(lines: list[str], i: int) -> QuickTable | None:
    """A GFM table at line ``i`` read as markdown-it's table rule reads it, when simple.

    Simple: every line starts with "|" or the delimiter row at column 0, no backslash
    (escaped pipes), and a blank line or the end right after the last row (markdown-it
    would take any other line as one more row).
    """
    n = len(lines)
    if i + 1 >= n or "\\" in lines[i]:
        return None
    count = _delimiter_count(lines[i + 1])
    if count is None:
        return None
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
    return QuickTable(j, [_md_trim(h) for h in header], rows)


def _sub_items(lines: list[str], i: int, content_column: int) -> list[tuple[int, str]]:
    """The one-line sub-items right after the item at line ``i``, all at one indent."""
    members: list[tuple[int, str]] = []
    indent = None
    j = i + 1
    while j < len(lines) and lines[j][:1] == " ":
        child = _child_item(lines[j], content_column)
        if child is None or (indent is None and child[0] < 0):
            break
        if indent is not None and abs(child[0]) != indent:
            break
        indent = abs(child[0])
        members.append((j, child[1]))
        j += 1
    return members


def _item_head(lines: list[str], i: int) -> tuple[int, str] | None:
    """(content column, inline text) of line ``i`` when it is a quick top-level item, None
    for any other line and past the end."""
    if i >= len(lines) or lines[i][:1] not in "*+-0123456789":
        return None
    return _fast_content(lines[i])


def _item_ends_cleanly(lines: list[str], j: int, item_next: bool) -> bool:
    """Whether the item group ending before line ``j`` is followed by the end, a heading,
    another item (``item_next``), or blank lines and then a line at column 0."""
    n = len(lines)
    if j == n or item_next or _ATX_RE.match(lines[j]):
        return True
    if lines[j].strip(" \t"):
        return False
    k = j
    while k < n and not lines[k].strip(" \t"):
        k += 1
    return k == n or lines[k][:1] not in (" ", "\t")


def quick_blocks(lines: list[str]) -> Iterator[tuple[int, QuickItem | QuickTable]]:
    """Top-level list items and tables that need no block parser, with their first (0-based)
    line, in document order.

    An item group is a one-line item at column 0 with its one-line sub-items, all at the
    same indent within the item's content column (+3). A block is taken only when nothing
    around it can change its meaning: before it a blank line, a heading or another quick
    block; after it the end, a heading, another item, or blank lines and then a line at
    column 0 (for a table: a blank line or the end). A generator, so the blocks of a large
    list are read and dropped one at a time rather than all kept alive at once.
    """
    n = len(lines)
    prev_ok = True  # the line before i ends cleanly (start, blank, heading, quick block)
    i = 0
    head = _item_head(lines, 0)  # of line i; an item's next line is looked at once, not twice
    while i < n:
        line = lines[i]
        if prev_ok and line[:1] == "|" and (table := _quick_table(lines, i)) is not None:
            yield i, table
            i = table.end
            head = _item_head(lines, i)
            continue
        if head is None or not prev_ok:
            prev_ok = not line.strip(" \t") or bool(_ATX_RE.match(line))
            i += 1
            head = _item_head(lines, i)
            continue
        content_column, text = head
        members = [(i, text), *_sub_items(lines, i, content_column)]
        j = members[-1][0] + 1
        head_j = _item_head(lines, j)
        if _item_ends_cleanly(lines, j, head_j is not None):
            yield i, QuickItem(j, members)
            prev_ok = True
            i, head = j, head_j
        else:
            prev_ok = False
            i += 1
            head = _item_head(lines, i)
