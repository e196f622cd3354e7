"""Tables -> one neutral bibliographic record per paper (pure), shared by every export format.

What a paper is (an article, a paper in proceedings, a preprint), where it appeared and which
year to cite are decided here once; a format module (``bibtex``, and any later CSL-JSON or RIS
writer) only spells the record in its own syntax.

The container (journal or proceedings) is the paper's arXiv ``journal_ref`` when it has one,
else the first non-preprint venue a list gives for it (by list, then line). Its kind follows
the words in it: proceedings words without journal words make ``inproceedings``; a listed
venue without journal words is taken for a conference, as most venues in the lists are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

Row = Mapping[str, Any]

_JOURNAL_LIKE = re.compile(
    r"journal|transactions|letters|review|magazine|\b(?:tmlr|jmlr|tpami|ijcv|tip|tog|pami|"
    r"nature|science|pnas|plos)\b",
    re.IGNORECASE,
)
_PROCEEDINGS_LIKE = re.compile(
    r"proc\.|proceedings|conference|workshop|symposium|\b(?:neurips|nips|icml|iclr|cvpr|"
    r"iccv|eccv|aaai|ijcai|acl|emnlp|naacl|kdd|siggraph|uai|aistats|colt|corl|icra|iros)\b",
    re.IGNORECASE,
)
_PREPRINT_VENUES = frozenset({"arxiv", "preprint", "corr", "arxiv preprint"})


class EntryType(StrEnum):
    """What kind of publication a paper is cited as."""

    ARTICLE = "article"
    """In a journal: ``container`` names it."""
    INPROCEEDINGS = "inproceedings"
    """In the proceedings of a conference or workshop: ``container`` names them."""
    PREPRINT = "preprint"
    """Only on arXiv as far as the tables know; no ``container``."""


@dataclass(frozen=True)
class Citation:
    """One paper as every export format cites it. Text fields are as arXiv or the list has
    them (titles may hold LaTeX); escaping is the format's business."""

    arxiv_id: str
    """The arXiv identifier without version (``2303.08774``, ``hep-th/9901001``)."""
    version: int
    """The latest version the tables hold (arXiv's ``<id>`` ends in ``v<version>``)."""
    entry_type: EntryType
    title: str
    """arXiv's ``<title>``."""
    authors: tuple[str, ...]
    """arXiv's ``<author><name>``s, in order."""
    published: datetime
    """When version 1 was submitted (arXiv's ``<published>``); citation keys use its year."""
    year: int
    """The year to cite: the container's year when known, else that of version 1."""
    container: str | None
    """The journal or proceedings (``journal_ref`` or listed venue); None for a preprint."""
    primary_category: str
    """arXiv's ``<arxiv:primary_category>`` (``cs.LG``)."""
    categories: tuple[str, ...]
    doi: str | None
    """arXiv's ``<arxiv:doi>``, the published version's DOI when the authors gave one."""
    url: str
    """The paper's abstract page on arXiv."""
    abstract: str
    journal_ref: str | None
    """arXiv's ``<arxiv:journal_ref>`` as the authors wrote it."""


def citations(papers: Iterable[Row], entries: Iterable[Row]) -> list[Citation]:
    """One record per paper (rows of the papers and entries tables), in table order.

    A paper listed twice in ``papers`` is cited once, from its last row.
    """
    rows = list({p["arxiv_id"]: p for p in papers}.values())
    venues = _listed_venues(entries)
    return [_citation(paper, venues.get(paper["arxiv_id"])) for paper in rows]


def _citation(paper: Row, venue: tuple[str, int | None] | None) -> Citation:
    entry_type, container, year = _type_container_year(paper, venue)
    return Citation(
        arxiv_id=paper["arxiv_id"],
        version=paper["version"],
        entry_type=entry_type,
        title=paper["title"],
        authors=tuple(paper["authors"]),
        published=paper["published"],
        year=year,
        container=container,
        primary_category=paper["primary_category"],
        categories=tuple(paper["categories"] or ()),
        doi=paper["doi"],
        url=paper["abs_url"],
        abstract=paper["abstract"],
        journal_ref=paper["journal_ref"],
    )


def _listed_venues(entries: Iterable[Row]) -> dict[str, tuple[str, int | None]]:
    """arxiv_id -> (venue, year) of its first listed entry with a non-preprint venue."""
    venues: dict[str, tuple[str, int | None]] = {}
    for entry in sorted(entries, key=lambda e: (e["list"], e["line"])):
        venue = (entry["venue"] or "").strip()
        if entry["arxiv_id"] and venue and venue.lower() not in _PREPRINT_VENUES:
            venues.setdefault(entry["arxiv_id"], (venue, entry["year"]))
    return venues


def _year_in(text: str) -> int | None:
    years = re.findall(r"\b(?:19|20)\d\d\b", text)
    return int(years[-1]) if years else None


def _type_container_year(
    paper: Row, venue: tuple[str, int | None] | None
) -> tuple[EntryType, str | None, int]:
    arxiv_year: int = paper["published"].year
    ref: str | None = paper["journal_ref"]
    if ref:
        year = _year_in(ref) or (venue[1] if venue else None) or arxiv_year
        if _PROCEEDINGS_LIKE.search(ref) and not _JOURNAL_LIKE.search(ref):
            return EntryType.INPROCEEDINGS, ref, year
        return EntryType.ARTICLE, ref, year
    if venue:
        name, year = venue[0], venue[1] or arxiv_year
        if _JOURNAL_LIKE.search(name):
            return EntryType.ARTICLE, name, year
        return EntryType.INPROCEEDINGS, name, year
    return EntryType.PREPRINT, None, arxiv_year
