"""Tables -> one neutral bibliographic record per paper (pure), shared by every export format.

What a paper is (an article, a paper in proceedings, a preprint), where it appeared and which
year to cite are decided here once; a format module (``bibtex``, ``csljson``, ``ris``) only
spells the record in its own syntax.

The container (journal or proceedings) is the normalised venue of the paper's first listing
that names one (``entries.venue_normalized``: the list's venue, else arXiv's
``journal_ref`` or comment, else a citation source), so that every format cites "NeurIPS"
whether the list says "NIPS" or arXiv says "Advances in Neural Information Processing
Systems 36". Its kind comes from ``venues.venue_kind``; a venue outside that vocabulary is
a journal when it came from a ``journal_ref`` (conferences are in the vocabulary; a
``journal_ref`` naming none is mostly a journal) and proceedings otherwise (lists mostly
name conferences).

The year is always that of version 1 on arXiv: the citation key, the ``year`` field and
the RIS/CSL dates agree, and a paper does not change year when a venue is learnt later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pipeline.venues import COMMENT, JOURNAL_REF, is_preprint, normalize_venue, venue_kind

Row = Mapping[str, Any]

ARXIV_DOI_PREFIX = "10.48550/arXiv."
"""Every arXiv paper has the DataCite DOI ``10.48550/arXiv.<id>`` (arXiv registers them)."""


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
    """When version 1 was submitted (arXiv's ``<published>``)."""
    container: str | None
    """The journal or proceedings (the normalised venue); None for a preprint."""
    primary_category: str
    """arXiv's ``<arxiv:primary_category>`` (``cs.LG``)."""
    categories: tuple[str, ...]
    journal_doi: str | None
    """arXiv's ``<arxiv:doi>``, the published version's DOI when the authors gave one."""
    abstract: str
    journal_ref: str | None
    """arXiv's ``<arxiv:journal_ref>`` as the authors wrote it."""
    sections: tuple[str, ...] = ()
    """The list sections that list the paper, in list order: its keywords."""

    @property
    def year(self) -> int:
        """The year to cite: that of version 1 (see the module's docstring)."""
        return self.published.year

    @property
    def doi(self) -> str:
        """The journal DOI when the authors gave one, else arXiv's own DOI."""
        return self.journal_doi or ARXIV_DOI_PREFIX + self.arxiv_id

    @property
    def url(self) -> str:
        """The abstract page without a version: it always shows the latest."""
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.arxiv_id}"

    @property
    def eprint(self) -> str:
        """``arXiv:2402.10210``: the form natbib styles and readers recognise."""
        return f"arXiv:{self.arxiv_id}"


def citations(papers: Iterable[Row], entries: Iterable[Row]) -> list[Citation]:
    """One record per paper (rows of the papers and entries tables), in table order.

    A paper listed twice in ``papers`` is cited once, from its last row.
    """
    rows = list({p["arxiv_id"]: p for p in papers}.values())
    listed = sorted((e for e in entries if e.get("arxiv_id")), key=lambda e: (e["list"], e["line"]))
    venues: dict[str, tuple[str, str | None]] = {}
    sections: dict[str, list[str]] = {}
    for entry in listed:
        arxiv_id = entry["arxiv_id"]
        found = sections.setdefault(arxiv_id, [])
        if entry["section"] and entry["section"] not in found:
            found.append(entry["section"])
        venue = (entry.get("venue_normalized") or "").strip()
        if venue and not is_preprint(venue):
            venues.setdefault(arxiv_id, (venue, entry.get("venue_source")))
    return [
        _citation(p, venues.get(p["arxiv_id"]), tuple(sections.get(p["arxiv_id"], ())))
        for p in rows
    ]


def _citation(
    paper: Row, venue: tuple[str, str | None] | None, sections: tuple[str, ...]
) -> Citation:
    if venue is None:
        # A paper no entry gives a venue for: arXiv's own fields, normalised the same way.
        name, source = normalize_venue(
            {JOURNAL_REF: paper.get("journal_ref"), COMMENT: paper.get("comment")}
        )
        venue = (name, source) if name and not is_preprint(name) else None
    entry_type = EntryType.PREPRINT if venue is None else _kind(*venue)
    return Citation(
        arxiv_id=paper["arxiv_id"],
        version=paper["version"],
        entry_type=entry_type,
        title=paper["title"],
        authors=tuple(paper["authors"]),
        published=paper["published"],
        container=None if venue is None else venue[0],
        primary_category=paper["primary_category"],
        categories=tuple(paper["categories"] or ()),
        journal_doi=paper["doi"],
        abstract=paper["abstract"],
        journal_ref=paper["journal_ref"],
        sections=sections,
    )


def _kind(venue: str, source: str | None) -> EntryType:
    kind = venue_kind(venue)
    if kind == "journal" or (kind is None and source == JOURNAL_REF):
        return EntryType.ARTICLE
    return EntryType.INPROCEEDINGS


# -- names, for the formats that split them ---------------------------------------------------

_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_GROUP_WORDS = re.compile(r"\b(collaboration|consortium|team|group|project)\b", re.IGNORECASE)
CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]")
"""A character of a Chinese, Japanese or Korean script."""


@dataclass(frozen=True)
class Name:
    """An author's name in parts; ``family`` alone (no ``given``) for a group or a name
    that cannot be split."""

    family: str
    given: str = ""
    suffix: str = ""
    literal: bool = False
    """A group ("LAION Collaboration"): one unit, never split or reordered."""


def split_name(name: str) -> Name:
    """``Ludwig van der Berg`` -> family ``van der Berg``, given ``Ludwig``; ``Robert Smith
    Jr.`` -> suffix ``Jr.``; ``王伟`` (written without a space) -> family ``王``, given ``伟``
    (Chinese, Japanese and Korean names written natively put the family name first)."""
    name = " ".join(name.split())
    if _GROUP_WORDS.search(name) or " and " in f" {name.lower()} ":
        return Name(family=name, literal=True)
    if "," in name:
        family, _, rest = name.partition(",")
        return Name(family=family.strip(), given=rest.strip())
    words = name.split(" ")
    suffix = ""
    if len(words) > 2 and words[-1].lower() in _SUFFIXES:
        suffix, words = words[-1], words[:-1]
    if len(words) == 1:
        word = words[0]
        if CJK.match(word) and len(word) > 1:
            return Name(family=word[0], given=word[1:])
        return Name(family=word, suffix=suffix)
    start = len(words) - 1
    while start > 1 and words[start - 1][:1].islower():  # the "von" part
        start -= 1
    return Name(family=" ".join(words[start:]), given=" ".join(words[:start]), suffix=suffix)
