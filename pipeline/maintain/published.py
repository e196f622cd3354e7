"""``published`` findings: entries listed as arXiv preprints whose paper has since appeared
somewhere, with the evidence and its source (pure).

Information, not a failure: a list may keep "arXiv" on purpose. ``fix --only published``
writes the published venue into the list when a source names one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.models import EnrichedEntry, FindingKind, Status
from pipeline.venues import ARXIV_VENUE, LIST, is_preprint

SOURCE_NAMES = {
    "journal_ref": "arXiv journal_ref",
    "comment": "arXiv comment",
    "semanticscholar": "Semantic Scholar",
    "openalex": "OpenAlex",
}
"""The venue sources that count as evidence of publication, as findings name them (the
list itself does not: it is what says "arXiv")."""


@dataclass(frozen=True)
class Publication:
    """What says a listed preprint has appeared, and where."""

    venue: str | None
    """The published venue's name, when a source names one (what ``fix`` writes)."""
    evidence: str
    """The finding's detail: what was found, and by which source."""


def publication(entry: EnrichedEntry, paper: Mapping[str, str | None] | None) -> Publication | None:
    """The evidence that ``entry``, listed as an arXiv preprint, has been published.

    ``paper`` holds the paper's ``journal_ref`` and ``doi`` from the papers table. The
    entry's normalised venue already weighs journal_ref, comment and the citation sources
    in order of trust (venues.normalize_venue); a DOI alone shows publication without a name.
    """
    if entry.status != Status.ENRICHED or not entry.venue or not is_preprint(entry.venue):
        return None
    source = entry.venue_source or ""
    named = entry.venue_normalized
    if named and named != ARXIV_VENUE and source != LIST and source in SOURCE_NAMES:
        quoted = (paper or {}).get("journal_ref") if source == "journal_ref" else None
        why = f" ({quoted!r})" if quoted else ""
        return Publication(
            named, f"listed as {entry.venue!r}; {SOURCE_NAMES[source]} says {named}{why}"
        )
    doi = (paper or {}).get("doi")
    if doi:
        return Publication(None, f"listed as {entry.venue!r}; arXiv gives the DOI {doi}")
    return None


def published_findings(
    entries: Sequence[EnrichedEntry], papers: Mapping[str, Mapping[str, str | None]]
) -> list[dict[str, Any]]:
    """One ``published`` finding per listed preprint with evidence of publication.

    ``papers`` maps arXiv id -> {"journal_ref": ..., "doi": ...}.
    """
    found: list[dict[str, Any]] = []
    for entry in entries:
        known = publication(entry, papers.get(entry.arxiv_id or ""))
        if known is not None:
            found.append(
                {
                    "list": entry.list,
                    "line": entry.line,
                    "kind": FindingKind.PUBLISHED,
                    "detail": f"published since: {known.evidence}",
                }
            )
    return found
