"""Neutral records -> RIS (pure), what Zotero, Mendeley and EndNote import.

One record per paper, keyed (``ID``) by the BibTeX export's citation keys: ``JOUR`` for a
journal article, ``CPAPER`` for a paper in proceedings, ``UNPB`` for a preprint (Zotero and
Mendeley import it as a preprint / unpublished work). Text is Unicode (LaTeX decoded);
authors are ``Family, Given``; the arXiv id goes in ``AN`` (accession number) and ``N1``;
categories and sections are keywords. Lines end in CRLF, as the RIS specification asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.outputs.bibtex import citation_keys
from pipeline.outputs.citation import Citation, EntryType, citations, split_name
from pipeline.titles import display_title

if TYPE_CHECKING:
    from pipeline.store.read import CurrentTables

RIS_TYPES = {
    EntryType.ARTICLE: "JOUR",
    EntryType.INPROCEEDINGS: "CPAPER",
    EntryType.PREPRINT: "UNPB",
}
_CONTAINER_TAGS = {EntryType.ARTICLE: "JO", EntryType.INPROCEEDINGS: "T2"}


def ris_name(name: str) -> str:
    parts = split_name(name)
    if parts.literal or not parts.given:
        return parts.family
    return ", ".join(p for p in (parts.family, parts.given, parts.suffix) if p)


def _line(tag: str, value: str) -> str:
    return f"{tag}  - {' '.join(value.split())}"


def ris_record(citation: Citation, key: str) -> list[str]:
    published = citation.published
    lines = [_line("TY", RIS_TYPES[citation.entry_type]), _line("ID", key)]
    lines.append(_line("TI", display_title(citation.title)))
    lines += [_line("AU", ris_name(a)) for a in citation.authors]
    lines.append(_line("PY", str(citation.year)))
    lines.append(_line("DA", f"{published:%Y/%m/%d}"))
    tag = _CONTAINER_TAGS.get(citation.entry_type)
    if tag and citation.container:
        lines.append(_line(tag, citation.container))
    if citation.entry_type == EntryType.PREPRINT:
        lines.append(_line("PB", "arXiv"))
    lines += [
        _line("DO", citation.doi),
        _line("UR", citation.url),
        _line("L1", citation.pdf_url),
        _line("AN", citation.eprint),
        _line("N1", f"{citation.eprint} [{citation.primary_category}]"),
        _line("AB", display_title(citation.abstract)),
    ]
    lines += [_line("KW", k) for k in (*citation.categories, *citation.sections)]
    lines.append("ER  - ")
    return lines


def to_ris(papers: Sequence[Citation]) -> str:
    keys = citation_keys(papers)
    ordered = sorted(papers, key=lambda c: keys[c.arxiv_id])
    return "".join("\r\n".join(ris_record(c, keys[c.arxiv_id])) + "\r\n\r\n" for c in ordered)


def render(tables: CurrentTables) -> str:
    """The ``ris`` export format."""
    return to_ris(citations(tables.papers.to_pylist(), tables.entries.to_pylist()))
