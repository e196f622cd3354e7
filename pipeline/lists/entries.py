"""Document events -> ``ListEntry`` records: which blocks are entries, and what each says. Pure.

Knows nothing of the list's format (see ``document`` for the contract). A block is an entry
when it references a paper (``links``). Sub-items that carry no title of their own
("Code: [...]", "[[pdf]](...)", "Venue: ...") belong to their parent; a sub-item that is
itself a paper reference with a title is its own entry. A paragraph is an entry only when
it opens with a bold or linked title. Title, venue and year come from ``fields``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from itertools import islice
from typing import NamedTuple

from pipeline.lists.document import (
    SEPARATOR,
    Block,
    DocumentEvent,
    Heading,
    Piece,
    TableColumns,
    collapse_whitespace,
    plain_text,
)
from pipeline.lists.fields import (
    Description,
    VenueYear,
    describe,
    labelled_venue_year,
    plausible_venue,
    text_of,
    title_like,
    venue_year,
)
from pipeline.lists.links import Reference, RefKind, references_in
from pipeline.models import ListEntry

OnEntry = Callable[[ListEntry], None]
"""Told of each entry as the parse makes it."""

__all__ = ["entries_from_events"]


class _EntryDraft(NamedTuple):
    """An entry before its list name and section are known."""

    line: int
    title: str
    venue: str | None
    year: int | None
    url: str | None
    arxiv_id: str | None
    arxiv_version: int | None
    code_url: str | None
    id_problem: str | None


class _TitledDraft(NamedTuple):
    draft: _EntryDraft
    titled: bool
    """The title came from the block's own structure (a sub-item without one belongs to its
    parent)."""


def _paper_reference(refs: Sequence[Reference]) -> Reference | None:
    """The entry's paper: the first arXiv link, else an arXiv mention, else a malformed
    arXiv link, else another paper link."""
    best: Reference | None = None
    for ref in refs:
        if ref.kind <= RefKind.PAPER and (best is None or ref.kind < best.kind):
            best = ref
            if ref.kind == RefKind.ARXIV_URL:
                break
    return best


def _title_cell(
    cells: list[list[Piece]], columns: TableColumns, paper: Reference
) -> Description | None:
    """The description of a row's Title/Paper (or Model/Name) cell, when it has a title."""
    for column in (columns.title, columns.name):
        if column is not None and column < len(cells):
            cell = cells[column]
            paper_piece = -1
            if paper.url is not None:
                paper_piece = next(
                    (i for i, p in enumerate(cell) if p.kind == "link" and p.href == paper.url),
                    -1,
                )
            description = describe(cell, paper_piece)
            if description.titled and description.title:
                return description
    return None


def _venue_cell(cells: list[list[Piece]], columns: TableColumns) -> VenueYear | str | None:
    """What a row's Venue cell says: a venue and year, a venue alone (a string), or nothing."""
    if columns.venue is None or columns.venue >= len(cells):
        return None
    text = collapse_whitespace(text_of(cells[columns.venue]).replace(" | ", " "))
    found = venue_year(text)
    if found is not None and (found.venue or found.year):
        return found
    if text and text not in ("-", "\u2013") and plausible_venue(text) and len(text) < 60:
        return text
    return None


def _row_fields(
    cells: list[list[Piece]], columns: TableColumns, pieces: Sequence[Piece], paper: Reference
) -> tuple[str, str | None, int | None]:
    """A table row's title from its Title/Paper (or Model/Name) column, venue from Venue.

    What those do not say comes from the whole row read as one block (``pieces``), which is
    read only then: when both answer, as they usually do, it would cost as much again.
    """
    title_cell = _title_cell(cells, columns, paper)
    stated = _venue_cell(cells, columns)
    if title_cell is not None and isinstance(stated, VenueYear) and stated.venue:
        return title_cell.title, stated.venue, stated.year
    whole = describe(pieces, paper.piece)
    title, venue, year = whole.title, whole.venue, whole.year
    if title_cell is not None:
        title = title_cell.title
        if venue is None and year is None:
            venue, year = title_cell.venue, title_cell.year
    if isinstance(stated, VenueYear):
        venue, year = stated.venue or venue, stated.year
    elif stated is not None:
        venue = stated
    return title, venue, year


def _paper_and_code(refs: Sequence[Reference]) -> tuple[Reference, str | None] | None:
    """A block's paper reference and code link; None when it references no paper."""
    paper = _paper_reference(refs)
    if paper is None:
        return None
    code = next((r.url for r in refs if r.kind == RefKind.CODE and r.url != paper.url), None)
    return paper, code


def _entry_draft(
    block: Block,
    paper: Reference,
    code: str | None,
    fields: tuple[str, str | None, int | None],
) -> _EntryDraft:
    arxiv = paper.arxiv
    return _EntryDraft(
        block.line,
        *fields,
        paper.url,
        arxiv.arxiv_id if arxiv else None,
        arxiv.version if arxiv else None,
        code,
        paper.problem,
    )


def _draft(
    block: Block,
    pieces: Sequence[Piece],
    own: list[Reference],
    lent: Sequence[Reference] = (),
    labelled: Sequence[Block] = (),
) -> _TitledDraft | None:
    """The entry an item or a paragraph makes (None when it references no paper). ``lent``
    are the references of its untitled sub-items, ``labelled`` those sub-items ("Venue: X")."""
    found = _paper_and_code([*own, *lent] if lent else own)
    if found is None:
        return None
    paper, code = found
    description = describe(pieces, paper.piece)
    title, venue, year = description.title, description.venue, description.year
    if venue is None and year is None and labelled:
        stated = labelled_venue_year(plain_text(child.pieces) for child in labelled)
        if stated is not None:
            venue, year = stated
    return _TitledDraft(_entry_draft(block, paper, code, (title, venue, year)), description.titled)


def _row_draft(row: Block) -> _EntryDraft | None:
    """The entry a table row makes (None when it references no paper)."""
    pieces = _row_pieces(row)
    found = _paper_and_code(references_in(pieces))
    if found is None:
        return None
    paper, code = found
    if row.cells is None or row.columns is None:
        description = describe(pieces, paper.piece)
        fields = description.title, description.venue, description.year
    else:
        fields = _row_fields(row.cells, row.columns, pieces, paper)
    return _entry_draft(row, paper, code, fields)


def _row_pieces(row: Block) -> list[Piece]:
    out: list[Piece] = []
    for cell in row.cells or ():
        if out:
            out.append(SEPARATOR)
        out.extend(cell)
    return out


class _ItemOutcome(NamedTuple):
    own: _TitledDraft | None
    """The item's own entry, if it makes one."""
    below: list[_EntryDraft]
    """The entries its sub-items make."""
    refs: list[Reference]
    """What it lends its parent when it has no title of its own."""


def _item(item: Block) -> _ItemOutcome:
    """A list item: its own draft, the entries below it, and what it lends its parent."""
    below: list[_EntryDraft] = []
    lent: list[Reference] = []
    labelled: list[Block] = []
    for child in item.children:
        outcome = _item(child)
        if outcome.own is not None and outcome.own.titled:
            below.append(outcome.own.draft)
            below.extend(outcome.below)
        else:
            below.extend(outcome.below)
            lent.extend(r._replace(piece=-1) if r.piece >= 0 else r for r in outcome.refs)
            labelled.append(child)
    own = references_in(item.pieces)
    draft = _draft(item, item.pieces, own, lent, labelled)
    return _ItemOutcome(draft, below, own + lent if lent else own)


def _para_opens_with_title(pieces: Sequence[Piece]) -> bool:
    """A paragraph is an entry only when it starts like one: a bold or linked title."""
    for p in pieces:
        if p.kind == "text" and not p.text.strip():
            continue
        if p.kind == "text":
            return p.strong and title_like(p.text) is not None
        if p.kind == "link":
            return title_like(p.text) is not None
        return False
    return False


def _block_drafts(block: Block) -> list[_EntryDraft]:
    """The entries a list item (with its sub-items), table row or paragraph makes."""
    if block.kind == "item":
        outcome = _item(block)
        return ([outcome.own.draft] if outcome.own else []) + outcome.below
    if block.kind == "row":
        row = _row_draft(block)
        return [row] if row else []
    if _para_opens_with_title(block.pieces):
        made = _draft(block, block.pieces, references_in(block.pieces))
        return [made.draft] if made else []
    return []


class _Sections:
    """Heading paths and their section names, the document title left out.

    The first heading is the document title when it is a level-1 heading at the top: no
    entry before it and none directly under it. The first entry settles the first two;
    an entry directly under it later makes it a section after all (``demote_title``).
    """

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.stack: list[tuple[int, int]] = []  # (level, heading index) of the open headings
        self.path: tuple[int, ...] = ()
        """Indexes of the headings the next entry is under, outermost first."""
        self.title_id: int | None = None
        """0 when the first heading is the document title, -1 when not, None before an entry."""
        self.first_level = 0
        self.names: dict[tuple[int, ...], str] = {}

    def heading(self, heading: Heading) -> None:
        while self.stack and self.stack[-1][0] >= heading.level:
            self.stack.pop()
        if not self.texts:
            self.first_level = heading.level
        self.stack.append((heading.level, len(self.texts)))
        self.texts.append(heading.text)
        self.path = tuple(h for _, h in self.stack)

    def current(self) -> str:
        """The section of an entry at this point, deciding about the title at the first one."""
        if self.title_id is None:
            self.title_id = 0 if self.texts and self.first_level == 1 else -1
        if self.title_id == 0 and self.path == (0,):
            self.title_id = -1
            self.names.clear()
        return self.name(self.path)

    def name(self, path: tuple[int, ...]) -> str:
        section = self.names.get(path)
        if section is None:
            texts, title_id = self.texts, self.title_id
            section = " / ".join(texts[h] for h in path if h != title_id and texts[h])
            self.names[path] = section
        return section


def _read_ahead(events: Iterable[DocumentEvent], size: int = 256) -> Iterator[DocumentEvent]:
    """The events, pulled from the reader a batch at a time.

    Reading a few hundred blocks, then assembling their entries, keeps each phase warm in
    the CPU caches (an eighth faster on a 10 MB list than one block at a time), while the
    blocks of a batch still die young, so the garbage collector never walks a whole list
    of them.
    """
    it = iter(events)
    while batch := list(islice(it, size)):
        yield from batch


def entries_from_events(
    events: Iterable[DocumentEvent], list_name: str, on_entry: OnEntry | None = None
) -> list[ListEntry]:
    """Entries in document order, each with its heading path as its section; ``list_name``
    names the list. ``on_entry`` hears of each entry as it is made (its section may still
    be renamed), so a caller can act on a large list's first ids before its last line."""
    sections = _Sections()
    out: list[ListEntry] = []
    paths: list[tuple[int, ...]] = []
    for event in _read_ahead(events):
        if isinstance(event, Heading):
            sections.heading(event)
            continue
        for draft in _block_drafts(event):
            was_title = sections.title_id == 0
            section = sections.current()
            if was_title and sections.title_id == -1:
                # The first heading turned out to be a section: name it in earlier entries.
                for k, path in enumerate(paths):
                    if path and path[0] == 0:
                        out[k] = replace(out[k], section=sections.name(path))
            paths.append(sections.path)
            out.append(
                ListEntry(
                    list=list_name,
                    line=draft.line,
                    section=section,
                    title=draft.title,
                    # Venues repeat across a list ("NeurIPS"): one string each, not one
                    # per entry, for as long as the entries live.
                    venue=None if draft.venue is None else sys.intern(draft.venue),
                    year=draft.year,
                    url=draft.url,
                    arxiv_id=draft.arxiv_id,
                    arxiv_version=draft.arxiv_version,
                    code_url=draft.code_url,
                    id_problem=draft.id_problem,
                )
            )
            if on_entry is not None:
                on_entry(out[-1])
    return out
