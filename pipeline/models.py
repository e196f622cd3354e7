"""The typed records that flow between stages.

Field meanings for papers follow the arXiv API manual:
https://info.arxiv.org/help/api/user-manual.html#_details_of_atom_results_returned
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """What became of one list entry (the entries table's ``status``)."""

    ENRICHED = "enriched"
    """A paper row exists for its arXiv id."""
    NOT_FOUND = "not_found"
    """arXiv has no paper with the id the entry names."""
    UNRESOLVED = "unresolved"
    """The entry has no arXiv id: no link, and no confident title match."""
    INVALID = "invalid"
    """The listed arXiv link holds a malformed id, or arXiv refused it."""
    PENDING = "pending"
    """Written by ``parse``: the paper is not fetched yet."""


class Resolution(StrEnum):
    """Where an entry's arXiv id came from (the entries table's ``resolution``)."""

    LINK = "link"
    TITLE = "title"
    NONE = "none"


class FindingKind(StrEnum):
    """A problem in a list a maintainer can fix (the quality table's ``kind``)."""

    UNRESOLVED = "unresolved"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    TITLE_MISMATCH = "title_mismatch"
    DUPLICATE = "duplicate"
    ORDER = "order"
    """Out of date order in a section sorted by date (maintain/order.py)."""
    PUBLISHED = "published"
    """Listed as an arXiv preprint, published since (maintain/published.py); information."""
    STRUCTURE = "structure"
    """An entry the list's structure did not give: built from a heading or a line of text."""


def finding_counts(found: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many findings of each kind, in ``FindingKind`` order, kinds without one left out."""
    tally: dict[str, int] = defaultdict(int)
    for finding in found:
        tally[finding["kind"]] += 1
    return {kind: tally[kind] for kind in FindingKind if tally[kind]}


class ChangeKind(StrEnum):
    """What changed between two runs (the changes table's ``change``)."""

    ADDED = "added"
    REMOVED = "removed"
    NEW_VERSION = "new_version"
    TITLE_CHANGED = "title_changed"
    METADATA_CHANGED = "metadata_changed"


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One paper item of a Markdown list, as the list states it."""

    list: str
    """Source name of the list: the file name (``foo.md``) or the URL it came from."""
    line: int
    """1-based line number of the item in the list file."""
    section: str
    """Heading path joined with " / " (the document title excluded)."""
    title: str
    """The paper title as listed, Markdown emphasis and link syntax removed."""
    venue: str | None = None
    """Venue as listed ("NeurIPS", "CVPR", "arXiv"), without the year."""
    year: int | None = None
    """Year as listed next to the venue."""
    url: str | None = None
    """The paper link as listed (the arXiv link when there is one)."""
    arxiv_id: str | None = None
    """Normalised arXiv id without version (``2304.05977``, ``hep-th/9901001``)."""
    arxiv_version: int | None = None
    """The version the link names (``v2`` -> 2), or None when the link names none."""
    code_url: str | None = None
    """A GitHub/GitLab link of the entry, when it has one."""
    id_problem: str | None = None
    """Why an arXiv-looking link could not be turned into a valid id (entry status "invalid")."""
    built_from: str | None = None
    """Set when no list item, row or record gave this entry and the recall pass built it from
    the nearest text ("entry built from a heading", "id found in text only"); a ``structure``
    finding quotes it. Not a column of the entries table."""

    @property
    def key(self) -> EntryKey:
        """Where the entry stands: unique per run, stable while the list does not move it."""
        return EntryKey(self.list, self.line)


@dataclass(frozen=True, order=True, slots=True)
class EntryKey:
    """An entry's place: (list, line). Stages pass answers about entries keyed by this,
    never by position in a sequence."""

    list: str
    line: int


@dataclass(frozen=True, slots=True)
class Author:
    """One author of a paper (Atom ``<author>``)."""

    name: str
    """``<author><name>``."""
    affiliations: tuple[str, ...] = ()
    """``<arxiv:affiliation>`` elements, often absent."""


@dataclass(frozen=True, slots=True)
class Paper:
    """One arXiv paper at its latest version (Atom ``<entry>``)."""

    arxiv_id: str
    """Id without version, from ``<id>``."""
    version: int
    """Latest version number, from the ``vN`` suffix of ``<id>``."""
    title: str
    """``<title>``, whitespace collapsed, entities decoded, LaTeX kept."""
    abstract: str
    """``<summary>``, whitespace collapsed."""
    authors: tuple[Author, ...]
    published: datetime
    """``<published>``: when version 1 was submitted (UTC)."""
    updated: datetime
    """``<updated>``: when the latest version was submitted (UTC)."""
    primary_category: str
    """``<arxiv:primary_category term>``."""
    categories: tuple[str, ...]
    """Every ``<category term>``, primary first as arXiv lists them."""
    doi: str | None
    """``<arxiv:doi>``: the journal DOI, when the authors gave one."""
    journal_ref: str | None
    """``<arxiv:journal_ref>``."""
    comment: str | None
    """``<arxiv:comment>``."""
    abs_url: str
    """The abstract page of the latest version."""
    pdf_url: str | None
    """The PDF link of the latest version."""
    fetched_at: datetime
    """When this record was fetched (UTC)."""


@dataclass(frozen=True, slots=True)
class ExternalIds:
    """Ids other services give an entry that has no arXiv id."""

    s2_id: str | None = None
    """Semantic Scholar paperId."""
    openalex_id: str | None = None
    """OpenAlex work id (``W…``)."""
    doi: str | None = None


@dataclass(frozen=True, slots=True)
class EnrichedEntry:
    """One row of the entries table: a list entry with everything the run learned of it.

    Built by one pure function (``stages.enrich``), one field per ``schemas.ENTRIES``
    column, plus ``detail``, the reason behind a status that the quality findings quote.
    """

    list: str
    line: int
    section: str
    title: str
    """As listed."""
    venue: str | None
    """As listed."""
    year: int | None
    url: str | None
    code_url: str | None
    arxiv_id: str | None
    """From the link, or found by a title search (``resolution`` says which)."""
    arxiv_version: int | None
    resolution: Resolution
    status: Status
    match_score: float | None
    """Title similarity (0-100) of the paper a title search accepted."""
    candidate_id: str | None
    """The best paper a title search found but did not accept."""
    candidate_score: float | None
    title_similarity: float | None
    """Listed title against the linked paper's arXiv title (0-100)."""
    title_mismatch: bool | None
    """The link most likely opens another paper."""
    venue_normalized: str | None
    venue_source: str | None
    """Which source named the normalised venue (the list, arXiv, a citation service)."""
    s2_id: str | None
    openalex_id: str | None
    doi: str | None
    detail: str | None = None
    """Why the status is what it is (not a column: the findings quote it)."""
    structure: str | None = None
    """``ListEntry.built_from`` (not a column: a ``structure`` finding quotes it)."""

    @property
    def key(self) -> EntryKey:
        return EntryKey(self.list, self.line)

    def row(self) -> dict[str, object]:
        """The entries table row (enums as their strings)."""
        return {name: getattr(self, name) for name in ENTRY_COLUMNS}


ENTRY_COLUMNS = tuple(
    name for name in EnrichedEntry.__dataclass_fields__ if name not in ("detail", "structure")
)
"""The entries table's columns in order; tests hold them equal to ``schemas.ENTRIES``."""
