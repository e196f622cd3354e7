"""Neutral records -> CSL-JSON (pure), what pandoc (``--bibliography papers.json``),
Zotero and every citeproc processor read.

One item per paper, with the BibTeX export's citation keys as ids (``[@xu2023imagereward]``
cites the same paper in both). Titles and abstracts are Unicode text (their LaTeX decoded),
names split into family and given parts, groups as ``literal``. A preprint is CSL's
``article`` type (CSL 1.0.2's type for preprints) with ``publisher: arXiv`` and its id as
``number``, which is how styles such as APA print an arXiv preprint.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipeline.outputs.bibtex import citation_keys
from pipeline.outputs.citation import CJK, Citation, EntryType, citations, split_name
from pipeline.titles import display_title

if TYPE_CHECKING:
    from pipeline.store.read import CurrentTables

CSL_TYPES = {
    EntryType.ARTICLE: "article-journal",
    EntryType.INPROCEEDINGS: "paper-conference",
    EntryType.PREPRINT: "article",
}


def csl_name(name: str) -> dict[str, str]:
    """CSL's name parts; a group, or a name written in CJK (whose given name has no initials
    to abbreviate), as one ``literal``."""
    parts = split_name(name)
    if CJK.search(name):
        return {"literal": " ".join(name.split())}
    if parts.literal or not parts.given:
        return {"literal": parts.family} if parts.literal else {"family": parts.family}
    out = {"family": parts.family, "given": parts.given}
    if parts.suffix:
        out["suffix"] = parts.suffix
    return out


def csl_item(citation: Citation, key: str) -> dict[str, Any]:
    published = citation.published
    item: dict[str, Any] = {
        "id": key,
        "type": CSL_TYPES[citation.entry_type],
        "title": display_title(citation.title),
        "author": [csl_name(a) for a in citation.authors],
        "issued": {"date-parts": [[published.year, published.month, published.day]]},
    }
    if citation.container:
        item["container-title"] = citation.container
    else:
        item["publisher"] = "arXiv"
        item["number"] = citation.eprint
    item |= {
        "DOI": citation.doi,
        "URL": citation.url,
        "archive": "arXiv",
        "archive_location": citation.arxiv_id,
        "abstract": display_title(citation.abstract),
    }
    if citation.sections:
        item["keyword"] = ", ".join(citation.sections)
    return item


def to_csljson(papers: Sequence[Citation]) -> str:
    """A JSON array of CSL items, ordered by citation key."""
    keys = citation_keys(papers)
    items = sorted((csl_item(c, keys[c.arxiv_id]) for c in papers), key=lambda i: str(i["id"]))
    return json.dumps(items, ensure_ascii=False, indent=1) + "\n"


def render(tables: CurrentTables) -> str:
    """The ``csljson`` export format."""
    return to_csljson(citations(tables.papers.to_pylist(), tables.entries.to_pylist()))
