"""The typed records that flow between stages.

Field meanings for papers follow the arXiv API manual:
https://info.arxiv.org/help/api/user-manual.html#_details_of_atom_results_returned
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Author:
    """One author of a paper (Atom ``<author>``)."""

    name: str
    """``<author><name>``."""
    affiliations: tuple[str, ...] = ()
    """``<arxiv:affiliation>`` elements, often absent."""


@dataclass(frozen=True)
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
    extra: dict[str, str] = field(default_factory=dict, compare=False)
