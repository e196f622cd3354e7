"""Quality findings a list maintainer can act on, each with its list file and line (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from pipeline.arrow import mapping
from pipeline.maintain.order import DATES, order_findings
from pipeline.maintain.published import published_findings
from pipeline.models import EnrichedEntry, FindingKind, Status
from pipeline.venues import is_preprint


def findings(entries: Sequence[EnrichedEntry], titles: Mapping[str, str]) -> list[dict[str, Any]]:
    """One finding per problem, in list order.

    ``titles`` holds the arXiv title of each enriched paper, for mismatch messages; each
    entry's ``detail`` says why it is invalid or not found. A paper listed twice in one list
    is a ``duplicate``; the same paper in two lists is not (each list stands on its own).
    """
    found: list[dict[str, Any]] = []
    first_seen: dict[tuple[str, str], EnrichedEntry] = {}
    for entry in entries:
        status = entry.status
        if entry.structure:
            where = f" in section {entry.section!r}" if entry.section else ""
            detail = (
                f"{entry.structure}{where}: {entry.title!r} ({entry.arxiv_id}); "
                "make it a list item or table row so its title and venue are read as listed"
            )
            found.append(_finding(entry, FindingKind.STRUCTURE, detail))
        if status == Status.UNRESOLVED:
            if entry.candidate_id:
                text = (
                    f"no arXiv link and no confident title match; best candidate "
                    f"{entry.candidate_id} ({entry.candidate_score or 0:.0f}/100)"
                )
            else:
                text = "no arXiv link and no title match on arXiv"
            found.append(_finding(entry, FindingKind.UNRESOLVED, f"{text}: {entry.title!r}"))
        elif status in (Status.NOT_FOUND, Status.INVALID):
            found.append(_finding(entry, FindingKind(status), entry.detail or status))
        arxiv_id = entry.arxiv_id
        if entry.title_mismatch:
            found.append(
                _finding(
                    entry,
                    FindingKind.TITLE_MISMATCH,
                    f"listed as {entry.title!r} but {arxiv_id} is "
                    f"{titles.get(arxiv_id or '', '?')!r} "
                    f"(similarity {entry.title_similarity or 0:.0f})",
                )
            )
        if arxiv_id and status == Status.ENRICHED:
            earlier = first_seen.setdefault((entry.list, arxiv_id), entry)
            if earlier is not entry:
                where = f"{earlier.list}:{earlier.line}"
                if earlier.section != entry.section:
                    where += f" (section {earlier.section!r})"
                detail = f"{arxiv_id} is also listed at {where}"
                found.append(_finding(entry, FindingKind.DUPLICATE, detail))
    return found


def list_findings(entries: Sequence[EnrichedEntry], papers: pa.Table) -> list[dict[str, Any]]:
    """Every finding of a run, in list order: the entries' own problems, then what the
    papers table tells a maintainer about the list (date order, preprints published since)."""
    # arXiv's titles are quoted only for a title mismatch: only those are read.
    mismatched = {e.arxiv_id for e in entries if e.title_mismatch and e.arxiv_id}
    titles = mapping(papers, "arxiv_id", "title", mismatched)
    # Dates as microseconds: ints compare as well and cost nothing to make (100,000
    # datetimes take a second).
    ids = papers.column("arxiv_id").to_pylist()
    dates = {
        column: dict(zip(ids, papers.column(column).cast(pa.int64()).to_pylist(), strict=True))
        for column in DATES
    }
    del ids
    # Publication evidence is read only for the papers the lists call preprints (a dict per
    # paper of 100,000 was 30 MB at the run's peak).
    preprints = {e.arxiv_id for e in entries if e.arxiv_id and e.venue and is_preprint(e.venue)}
    journal_refs = mapping(papers, "arxiv_id", "journal_ref", preprints)
    dois = mapping(papers, "arxiv_id", "doi", preprints)
    refs = {
        arxiv_id: {"journal_ref": ref, "doi": dois[arxiv_id]}
        for arxiv_id, ref in journal_refs.items()
        if ref or dois[arxiv_id]
    }
    found = findings(entries, titles) + order_findings(entries, dates)
    found += published_findings(entries, refs)
    # Findings in the order of their entries' first appearance (a finding of no entry last):
    # positions only of the places that have findings.
    places = {(f["list"], f["line"]) for f in found}
    position: dict[tuple[str, int], int] = {}
    for i, entry in enumerate(entries):
        place = (entry.list, entry.line)
        if place in places:
            position.setdefault(place, i)
    return sorted(found, key=lambda f: position.get((f["list"], f["line"]), len(entries)))


def _finding(entry: EnrichedEntry, kind: FindingKind, detail: str) -> dict[str, Any]:
    return {"list": entry.list, "line": entry.line, "kind": kind, "detail": detail}
