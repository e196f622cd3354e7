"""The stages of a full pass, in order: lists -> entries -> papers -> the run's tables.

A refresh is incremental: papers already in the tables and fetched less than ``max_age``
days ago are kept as they are; only new ids, and stale ones, go to arXiv. Stale papers are
re-checked past the HTTP cache, so a cached answer cannot hide a new version.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.changes import list_membership, membership_changes, paper_changes
from pipeline.config import Settings
from pipeline.fetch import FetchResult, Progress, fetch_papers, unique_ids
from pipeline.lists.load import load_entries
from pipeline.models import ListEntry, Paper
from pipeline.quality import findings
from pipeline.resolve import TitleResolution, check_link, resolve_titles
from pipeline.schemas import AUTHORS, CHANGES, CITATIONS, ENTRIES, PAPERS, QUALITY, TABLES
from pipeline.services.arxiv import ArxivApi
from pipeline.services.cite import CiteConfig, normalize_venue, run_cite, source_venues
from pipeline.store.runs import RunReport
from pipeline.store.tables import (
    authors_table,
    build_table,
    conform,
    paper_rows,
    papers_table,
    read_table,
    string_array,
)
from pipeline.store.unchanged import next_due

log = logging.getLogger(__name__)


# -- pure pieces ---------------------------------------------------------------------------


def entry_status(
    entry: ListEntry, papers: Mapping[str, Any] | set[str], fetched: FetchResult | None
) -> tuple[str, str | None]:
    """(status, detail) of one entry against what arXiv answered."""
    if entry.id_problem:
        return "invalid", entry.id_problem
    if entry.arxiv_id is None:
        return "unresolved", None
    if fetched is not None and entry.arxiv_id in fetched.invalid:
        return "invalid", fetched.invalid[entry.arxiv_id]
    if entry.arxiv_id in papers:
        return "enriched", None
    if fetched is None:
        return "pending", "not fetched yet: run `refresh`"
    return "not_found", f"arXiv has no paper {entry.arxiv_id}"


def entry_rows(
    entries: Sequence[ListEntry],
    papers: Mapping[str, str] | set[str],
    fetched: FetchResult | None,
    resolutions: Sequence[TitleResolution | None] | None = None,
    known_checks: Mapping[tuple[str, str], tuple[float, bool]] | None = None,
) -> tuple[list[dict[str, Any]], list[str | None]]:
    """Entries table rows in list order, and each entry's status detail.

    ``papers`` maps each arXiv id with a paper row to its arXiv title (for the link check);
    a plain set of ids skips the check. ``resolutions`` are the title searches' results for
    entries without a link. ``known_checks`` holds link checks of the last run, by (listed
    title, id), still valid for papers not fetched again: a warm run of a large list then
    compares no titles at all.
    """
    rows, details = [], []
    titles = papers if isinstance(papers, Mapping) else None
    for index, entry in enumerate(entries):
        found = resolutions[index] if resolutions else None
        resolution = "link" if entry.arxiv_id else "none"
        if found is not None and found.arxiv_id and entry.arxiv_id is None:
            entry = dataclasses.replace(entry, arxiv_id=found.arxiv_id, arxiv_version=None)
            resolution = "title"
        status, detail = entry_status(entry, papers, fetched)
        similarity: float | None = None
        mismatch: bool | None = None
        if resolution == "title" and found is not None:
            similarity, mismatch = found.match_score, False
        elif resolution == "link" and status == "enriched" and titles is not None:
            key = (entry.title, entry.arxiv_id or "")
            if known_checks and key in known_checks:
                similarity, mismatch = known_checks[key]
            else:
                check = check_link(entry.title, titles[entry.arxiv_id or ""])
                similarity, mismatch = check.title_similarity, check.title_mismatch
        rows.append(
            {
                "list": entry.list,
                "line": entry.line,
                "section": entry.section,
                "title": entry.title,
                "venue": entry.venue,
                "year": entry.year,
                "url": entry.url,
                "code_url": entry.code_url,
                "arxiv_id": entry.arxiv_id,
                "arxiv_version": entry.arxiv_version,
                "resolution": resolution,
                "status": status,
                "match_score": found.match_score if resolution == "title" and found else None,
                "candidate_id": found.candidate_id if resolution == "none" and found else None,
                "candidate_score": (
                    found.candidate_score if resolution == "none" and found else None
                ),
                "title_similarity": similarity,
                "title_mismatch": mismatch,
                "venue_normalized": None,
                "venue_source": None,
                "s2_id": None,
                "openalex_id": None,
                "doi": None,
            }
        )
        details.append(detail)
    return rows, details


@dataclass(frozen=True)
class FetchPlan:
    """Which ids go to arXiv this run."""

    fresh: list[str]
    """In the tables and young enough: kept as they are."""
    stale: list[str]
    """In the tables but older than max-age: re-checked past the HTTP cache."""
    new: list[str]
    """Not in the tables: fetched (a cached answer is fine)."""


def plan_fetch(
    ids: Sequence[str], fetched_at: Mapping[str, int], now: datetime, max_age_days: float
) -> FetchPlan:
    """Split ids by when they were fetched (``fetched_at``: microseconds since the epoch,
    UTC, as the tables store them; ints, because 100,000 datetimes cost a second)."""
    cutoff = _micros(now - timedelta(days=max_age_days))
    fresh: list[str] = []
    stale: list[str] = []
    new: list[str] = []
    for arxiv_id in ids:
        when = fetched_at.get(arxiv_id)
        if when is None:
            new.append(arxiv_id)
        elif max_age_days > 0 and when > cutoff:
            fresh.append(arxiv_id)
        else:
            stale.append(arxiv_id)
    return FetchPlan(fresh=fresh, stale=stale, new=new)


def _micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def ordered(table: pa.Table, ids: Sequence[str], then: str | None = None) -> pa.Table:
    """Rows of ``table`` whose arxiv_id is in ``ids``, in the order of ``ids``."""
    if not ids:
        return table.slice(0, 0)
    if then is None and table.column("arxiv_id").to_pylist() == list(ids):
        return table  # already so: a warm run's tables need no reshuffling
    value_set = string_array(ids)
    rank = pc.index_in(table.column("arxiv_id"), value_set=value_set)
    table = table.append_column("_rank", rank).filter(pc.is_valid(rank))
    keys = [("_rank", "ascending")] + ([(then, "ascending")] if then else [])
    return table.sort_by(keys).drop_columns(["_rank"])


# -- the run -------------------------------------------------------------------------------


def refresh_tables(
    settings: Settings,
    sources: list[str],
    api: ArxivApi,
    report: RunReport,
    now: datetime,
    progress: Progress | None,
) -> tuple[dict[str, pa.Table | None], datetime | None]:
    """The run's tables (None for a table to carry unchanged from the current set), and
    when a run with the same inputs would next have something to do (None: at once)."""
    entries = load_entries(
        sources, api.get_text, settings.cache_dir / "lists", settings.cache_dir / "parsed"
    )
    previous = {n: read_table(settings.enriched_dir, n, s) for n, s in TABLES.items()}
    old_papers = previous["papers"] if previous["papers"] is not None else _empty(PAPERS)
    old_authors = previous["authors"] if previous["authors"] is not None else _empty(AUTHORS)
    old_entries = previous["entries"].to_pylist() if previous["entries"] is not None else []
    fetched_at = dict(
        zip(
            old_papers.column("arxiv_id").to_pylist(),
            old_papers.column("fetched_at").cast(pa.int64()).to_pylist(),
            strict=True,
        )
    )

    link_ids = unique_ids(e.arxiv_id for e in entries if e.arxiv_id)
    link_plan = plan_fetch(link_ids, fetched_at, now, settings.max_age_days)
    # Unresolved titles are searched again as often as papers are re-checked.
    search_due = settings.max_age_days == 0 or bool(link_plan.stale) or not old_entries
    resolutions, by_title = _resolve_titles(settings, api, entries, old_entries, search_due, now)

    ids = unique_ids([*link_ids, *(r.arxiv_id for r in resolutions if r and r.arxiv_id)])
    plan = plan_fetch(ids, fetched_at, now, settings.max_age_days)
    # A title search already brought these papers in full: no need to ask again.
    plan = FetchPlan(
        fresh=[i for i in plan.fresh if i not in by_title],
        stale=[i for i in plan.stale if i not in by_title],
        new=[i for i in plan.new if i not in by_title],
    )
    if settings.offline:
        # No network: what the tables hold is the best there is.
        plan = FetchPlan(fresh=plan.fresh + plan.stale, stale=[], new=plan.new)
    # A run with nothing to fetch says only its summary line (cron mail stays one line).
    log.log(
        logging.INFO if plan.new or plan.stale or by_title else logging.DEBUG,
        "%d ids: %d fresh in the tables, %d stale, %d new, %d found by title",
        len(ids),
        len(plan.fresh),
        len(plan.stale),
        len(plan.new),
        len(by_title),
    )

    result, rechecked = _fetch_planned(settings, api, plan, progress, now)
    # Papers that were in the tables before and were fetched again: compared for changes.
    refetched = {
        p.arxiv_id: p
        for p in [*rechecked.papers.values(), *by_title.values()]
        if p.arxiv_id in fetched_at
    }
    fetched = [*result.papers.values(), *rechecked.papers.values(), *by_title.values()]
    keep = plan.fresh + sorted(rechecked.not_found)

    papers, authors = _merge_papers(old_papers, old_authors, keep, fetched, ids)
    same_papers = papers.column("arxiv_id").equals(old_papers.column("arxiv_id"))
    titles = dict(
        zip(papers.column("arxiv_id").to_pylist(), papers.column("title").to_pylist(), strict=True)
    )
    fetched_now = {p.arxiv_id for p in fetched}
    known_checks = {
        (row["title"], row["arxiv_id"]): (row["title_similarity"], row["title_mismatch"])
        for row in old_entries
        if row["resolution"] == "link"
        and row["title_similarity"] is not None
        and row["arxiv_id"] not in fetched_now
    }
    rows, details = entry_rows(entries, titles, result, resolutions, known_checks)
    citations = _cite(
        settings, api, entries, rows, papers, previous, old_entries, search_due, now, report
    )
    cite_ran = bool(settings.cite_sources) and not settings.offline
    known_venues = {
        (row["venue"], row["arxiv_id"]): (row["venue_normalized"], row["venue_source"])
        for row in ([] if cite_ran else old_entries)
        if row["arxiv_id"] not in fetched_now
    }
    _add_venues(rows, papers, citations, known_venues)
    found = findings(rows, details, titles)
    old_by_id = {row["arxiv_id"]: row for row in ordered(old_papers, list(refetched)).to_pylist()}
    change_rows = membership_changes(
        list_membership(old_entries), list_membership(rows), report.run_id, now
    ) + paper_changes(old_by_id, paper_rows(refetched.values()), report.run_id, now)
    changes = pa.concat_tables(
        [t for t in (previous["changes"], build_table(change_rows, CHANGES)) if t is not None]
    )

    count_rows(report, rows)
    report.papers = papers.num_rows
    report.fetched = len(plan.new) + len(plan.stale)
    report.changes = len(change_rows)
    report.findings = found
    tables: dict[str, pa.Table | None] = {
        "entries": build_table(rows, ENTRIES),
        "papers": conform(papers, PAPERS),
        "authors": conform(authors, AUTHORS),
        "quality": build_table(found, QUALITY),
        "changes": conform(changes, CHANGES),
    }
    if citations is not None:
        tables["citations"] = citations
    if not fetched and previous["papers"] is not None and same_papers:
        # Nothing fetched and the same papers in the same order: the files on disk are
        # these tables already. Linking them saves rewriting them (seconds at 100,000).
        tables["papers"] = tables["authors"] = None
    due = next_due(settings, papers, citations, ids, bool(report.cite_failures))
    return tables, due


def _fetch_planned(
    settings: Settings,
    api: ArxivApi,
    plan: FetchPlan,
    progress: Progress | None,
    now: datetime,
) -> tuple[FetchResult, FetchResult]:
    """New ids (a cached answer will do), then stale ones (past the cache): one progress."""
    total = len(plan.new) + len(plan.stale)

    def run_time() -> datetime:
        return now

    def new_progress(done: int, _: int) -> None:
        if progress:
            progress(done, total)

    def stale_progress(done: int, _: int) -> None:
        if progress:
            progress(len(plan.new) + done, total)

    result = fetch_papers(api, plan.new, settings.batch_size, progress=new_progress, now=run_time)
    rechecked = fetch_papers(
        api, plan.stale, settings.batch_size, refresh=True, progress=stale_progress, now=run_time
    )
    for missing in sorted(rechecked.not_found):
        # A paper arXiv knew before does not vanish; keep what we had and say so.
        log.warning("arXiv did not return %s on re-check; keeping the earlier record", missing)
    result.invalid.update(rechecked.invalid)
    return result, rechecked


def _merge_papers(
    old_papers: pa.Table,
    old_authors: pa.Table,
    keep: Sequence[str],
    fetched: Sequence[Paper],
    ids: Sequence[str],
) -> tuple[pa.Table, pa.Table]:
    """Papers and authors tables: the kept rows of the last run plus the fetched papers,
    in list order."""
    papers = ordered(pa.concat_tables([ordered(old_papers, keep), papers_table(fetched)]), ids)
    if not fetched and papers.column("arxiv_id").equals(old_papers.column("arxiv_id")):
        return papers, old_authors  # the same papers, so the same authors: nothing to sort
    authors = ordered(
        pa.concat_tables([ordered(old_authors, keep, "position"), authors_table(fetched)]),
        ids,
        "position",
    )
    return papers, authors


def count_rows(report: RunReport, rows: Sequence[Mapping[str, Any]]) -> None:
    report.lists = len({row["list"] for row in rows})
    report.entries = len(rows)
    report.by_title = sum(1 for row in rows if row["resolution"] == "title")
    for row in rows:
        report.statuses[row["status"]] = report.statuses.get(row["status"], 0) + 1


def _cite(
    settings: Settings,
    api: ArxivApi,
    entries: Sequence[ListEntry],
    rows: list[dict[str, Any]],
    papers: pa.Table,
    previous: Mapping[str, pa.Table | None],
    old_entries: Sequence[Mapping[str, Any]],
    search_due: bool,
    now: datetime,
    report: RunReport,
) -> pa.Table | None:
    """Citations of the current papers, and external ids of unresolved entries.

    Optional and never fatal: a source that fails keeps its previous rows and is named in
    the report. Without --sources the previous table is kept for the papers still listed.
    """
    ids = papers.column("arxiv_id").to_pylist()
    old = previous.get("citations")
    earlier = {(r["list"], r["title"]): r for r in old_entries}
    for row in rows:
        # External ids found in an earlier run stay until the next due search.
        before = earlier.get((row["list"], row["title"]))
        if before is not None and row["status"] == "unresolved":
            for key in ("s2_id", "openalex_id", "doi"):
                row[key] = before.get(key)
    if not settings.cite_sources or settings.offline:
        return None if old is None else conform(ordered(old, ids, "source"), CITATIONS)
    config = CiteConfig(
        sources=settings.cite_sources,
        s2_url=settings.s2_api_url,
        openalex_url=settings.openalex_api_url,
        s2_api_key=settings.s2_api_key,
        openalex_mailto=settings.openalex_mailto,
        openalex_api_key=settings.openalex_api_key,
        max_age_days=settings.cite_max_age_days,
    )
    unresolved = [
        (i, entries[i].title, entries[i].year, entries[i].url)
        for i, row in enumerate(rows)
        if row["status"] == "unresolved"
        and (search_due or (row["list"], row["title"]) not in earlier)
    ]
    result = run_cite(
        api.http,
        config,
        list(zip(ids, papers.column("doi").to_pylist(), strict=True)),
        unresolved,
        old,
        now,
    )
    for index, external in result.entry_ids.items():
        rows[index].update(s2_id=external.s2_id, openalex_id=external.openalex_id, doi=external.doi)
    report.cite_failures = dict(result.failures)
    return conform(ordered(result.table(), ids, "source"), CITATIONS)


def _add_venues(
    rows: list[dict[str, Any]],
    papers: pa.Table,
    citations: pa.Table | None,
    known: Mapping[tuple[str | None, str | None], tuple[str | None, str | None]],
) -> None:
    """The normalised venue of each entry, from the best source that names one.

    ``known`` holds last run's answers by (listed venue, arxiv id) where none of the inputs
    can have changed (paper not fetched again, no citation source asked): a warm run of a
    large list then normalises nothing.
    """
    refs = dict(
        zip(
            papers.column("arxiv_id").to_pylist(),
            zip(
                papers.column("journal_ref").to_pylist(),
                papers.column("comment").to_pylist(),
                strict=True,
            ),
            strict=True,
        )
    )
    by_source = source_venues(citations.to_pylist()) if citations is not None else {}
    for row in rows:
        if (row["venue"], row["arxiv_id"]) in known:
            row["venue_normalized"], row["venue_source"] = known[(row["venue"], row["arxiv_id"])]
            continue
        journal_ref, comment = refs.get(row["arxiv_id"], (None, None))
        external = by_source.get(row["arxiv_id"], {})
        row["venue_normalized"], row["venue_source"] = normalize_venue(
            row["venue"],
            journal_ref,
            comment,
            external.get("semanticscholar"),
            external.get("openalex"),
        )


def _resolve_titles(
    settings: Settings,
    api: ArxivApi,
    entries: Sequence[ListEntry],
    old_entries: Sequence[Mapping[str, Any]],
    search_due: bool,
    now: datetime,
) -> tuple[list[TitleResolution | None], dict[str, Paper]]:
    """Title resolutions for entries without a link: reused from the last run unless due."""
    out: list[TitleResolution | None] = [None] * len(entries)
    if not settings.resolve:
        return out, {}
    earlier = {
        (row["list"], row["title"]): row
        for row in old_entries
        if row["resolution"] in ("title", "none") and row["status"] != "invalid"
    }
    to_search: list[int] = []
    for index, entry in enumerate(entries):
        if entry.arxiv_id is not None or entry.id_problem is not None:
            continue
        row = earlier.get((entry.list, entry.title))
        if row is None or search_due:
            to_search.append(index)
        else:
            out[index] = TitleResolution(
                arxiv_id=row["arxiv_id"] if row["resolution"] == "title" else None,
                match_score=row["match_score"],
                candidate_id=row["candidate_id"],
                candidate_score=row["candidate_score"],
            )
    if not to_search:
        return out, {}
    # A due search goes past the HTTP cache, as a paper re-check does; a first one need not.
    searched, papers = resolve_titles(
        api,
        [entries[i] for i in to_search],
        now=lambda: now,
        refresh=search_due and bool(old_entries),
    )
    for index, resolution in zip(to_search, searched, strict=True):
        out[index] = resolution
    return out, papers


def _empty(schema: pa.Schema) -> pa.Table:
    # Not schema.empty_table(): that imports pandas.
    return pa.Table.from_batches([], schema=schema)
