"""The stages of a full pass, in order: lists -> entries -> papers -> the run's tables.

A refresh is incremental: papers already in the tables and fetched less than ``max_age``
days ago are kept as they are; only new ids, and stale ones, go to arXiv. Stale papers are
re-checked past the HTTP cache, so a cached answer cannot hide a new version.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.arrow import column, mapping
from pipeline.changes import change_columns, list_membership, membership_pairs, paper_changes
from pipeline.config import Settings
from pipeline.fetch import FetchResult, Progress, fetch_papers, unique_ids
from pipeline.heap import release_freed
from pipeline.lists.load import load_entries
from pipeline.lists.parallel import ParseWorker
from pipeline.models import (
    EnrichedEntry,
    EntryKey,
    ExternalIds,
    ListEntry,
    Paper,
    Resolution,
    Status,
)
from pipeline.prefetch import Prefetched, fetch_while_parsing
from pipeline.previous import PreviousRun
from pipeline.quality import list_findings
from pipeline.resolve import TitleResolution, check_link, resolve_titles
from pipeline.schemas import AUTHORS, CHANGES, CITATIONS, ENTRIES, PAPERS, QUALITY
from pipeline.services.arxiv import ArxivApi, fetched_table, paper_row
from pipeline.services.citations import entry_id_values, run_cite, source_venues
from pipeline.store.runs import RunReport
from pipeline.store.tables import (
    authors_table,
    build_table,
    citation_records,
    citations_table,
    columns_table,
    conform,
    consumed_records_table,
)
from pipeline.store.unchanged import next_due
from pipeline.venues import ARXIV_VENUE, normalize_venue

log = logging.getLogger(__name__)


# -- pure pieces ---------------------------------------------------------------------------


def entry_status(
    entry: ListEntry, papers: Collection[str], fetched: FetchResult | None
) -> tuple[Status, str | None]:
    """(status, detail) of one entry against what arXiv answered."""
    if entry.id_problem:
        return Status.INVALID, entry.id_problem
    if entry.arxiv_id is None:
        return Status.UNRESOLVED, None
    if fetched is not None and entry.arxiv_id in fetched.invalid:
        return Status.INVALID, fetched.invalid[entry.arxiv_id]
    if entry.arxiv_id in papers:
        return Status.ENRICHED, None
    if fetched is None:
        return Status.PENDING, "not fetched yet: run `refresh`"
    return Status.NOT_FOUND, f"arXiv has no paper {entry.arxiv_id}"


@dataclass(frozen=True, slots=True)
class Placement:
    """Which arXiv paper an entry names, and with what confidence: everything about an
    entry that is known before its paper's metadata is."""

    entry: ListEntry
    """The entry, with the id a title search found filled in."""
    resolution: Resolution
    status: Status
    detail: str | None
    search: TitleResolution | None


def place(
    entry: ListEntry,
    search: TitleResolution | None,
    papers: Collection[str],
    fetched: FetchResult | None,
) -> Placement:
    """An entry's id (its link's, or the one its title search accepted) and status."""
    resolution = Resolution.LINK if entry.arxiv_id else Resolution.NONE
    if search is not None and search.arxiv_id and entry.arxiv_id is None:
        entry = dataclasses.replace(entry, arxiv_id=search.arxiv_id, arxiv_version=None)
        resolution = Resolution.TITLE
    status, detail = entry_status(entry, papers, fetched)
    return Placement(entry, resolution, status, detail, search)


def enrich(
    placed: Placement,
    link_check: tuple[float, bool] | None,
    external: ExternalIds | None,
    venue: tuple[str | None, str | None],
) -> EnrichedEntry:
    """The entries table's row for one entry, from everything the run learned of it."""
    entry, search = placed.entry, placed.search
    by_title = placed.resolution == Resolution.TITLE and search is not None
    unfound = placed.resolution == Resolution.NONE and search is not None
    similarity, mismatch = link_check if link_check is not None else (None, None)
    if by_title and search is not None:
        similarity, mismatch = search.match_score, False
    external = external or _NO_IDS
    return EnrichedEntry(
        list=entry.list,
        line=entry.line,
        section=entry.section,
        title=entry.title,
        venue=entry.venue,
        year=entry.year,
        url=entry.url,
        code_url=entry.code_url,
        arxiv_id=entry.arxiv_id,
        arxiv_version=entry.arxiv_version,
        resolution=placed.resolution,
        status=placed.status,
        match_score=search.match_score if by_title and search else None,
        candidate_id=search.candidate_id if unfound and search else None,
        candidate_score=search.candidate_score if unfound and search else None,
        title_similarity=similarity,
        title_mismatch=mismatch,
        venue_normalized=venue[0],
        venue_source=venue[1],
        s2_id=external.s2_id,
        openalex_id=external.openalex_id,
        doi=external.doi,
        detail=placed.detail,
        structure=entry.built_from,
    )


_NO_IDS = ExternalIds()


def pending_entries(entries: Sequence[ListEntry], papers: Collection[str]) -> list[EnrichedEntry]:
    """Entries as ``parse`` writes them: no network, so no search, check or venue."""
    return [enrich(place(e, None, papers, None), None, None, (None, None)) for e in entries]


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
    UTC, as the tables store them; ints keep 100,000 ids cheap: bench/results.md)."""
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
    value_set = column(ids, pa.string())
    rank = pc.index_in(table.column("arxiv_id"), value_set=value_set)
    table = table.append_column("_rank", rank).filter(pc.is_valid(rank))
    keys = [("_rank", "ascending")] + ([(then, "ascending")] if then else [])
    return table.sort_by(keys).drop_columns(["_rank"])


# -- the run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunPlan:
    """What a run will ask arXiv, decided before it asks anything."""

    ids: list[str]
    """Every id the lists name, by link or found by title, in list order."""
    fetch: FetchPlan
    searches: dict[EntryKey, TitleResolution]
    """Title searches for entries without a link: this run's, or reused from the last."""
    by_title: dict[str, Paper]
    """Papers a title search brought in full: no need to ask for them again."""
    search_due: bool
    """Searches (and external-id lookups) are due again, as paper re-checks are."""


@dataclass(frozen=True)
class Fetched:
    """What arXiv answered this run."""

    new: FetchResult
    """New ids (a cached answer will do); holds every id refused as invalid."""
    rechecked: FetchResult
    """Stale ids, asked past the HTTP cache."""
    by_title: dict[str, Paper]

    @property
    def table(self) -> pa.Table:
        """Every paper fetched this run, one ``schemas.FETCHED`` row each."""
        found = fetched_table([paper_row(p) for p in self.by_title.values()])
        return pa.concat_tables([self.new.table, self.rechecked.table, found])

    @functools.cached_property
    def again(self) -> frozenset[str]:
        """The ids fetched this run that the last run's tables may hold: re-checked papers
        and papers found by title. New ids never are, so a cold run's 100,000 are not
        gathered into a set (10 MB at the run's peak) only to be looked up in an empty one."""
        return frozenset([*self.rechecked.ids, *self.by_title])

    @property
    def anything(self) -> bool:
        """Was any paper fetched this run?"""
        pages = [*self.new.pages, *self.rechecked.pages]
        return bool(self.by_title) or any(page.num_rows for page in pages)


def refresh_tables(
    settings: Settings,
    sources: list[str],
    api: ArxivApi,
    report: RunReport,
    now: datetime,
    progress: Progress | None,
    worker: ParseWorker | None = None,
) -> tuple[dict[str, pa.Table | None], datetime | None]:
    """The run's tables (None for a table to carry unchanged from the current set), and
    when a run with the same inputs would next have something to do (None: at once).

    ``worker``, parsing the large lists in a second process (``lists/parallel.py``), tells
    the ids to fetch while it parses."""
    previous = PreviousRun.read(settings.enriched_dir)
    early = None
    if worker is not None:
        early = fetch_while_parsing(settings, worker, api, previous.fetched_at, now, progress)
        # After each stage, what it freed goes back to the system (heap.py).
        release_freed()
    entries = load_entries(
        sources,
        api.get_text,
        settings.cache_dir / "lists",
        settings.cache_dir / "parsed",
        skipped=report.skipped,
    )
    release_freed()
    # The entries and the previous tables live the whole pass: frozen, the collector stops
    # scanning them again at every full collection (0.5 s of a cold 100,000-paper run).
    gc.freeze()
    try:
        plan = plan_run(settings, api, entries, previous, now)
        fetched = fetch_planned(settings, api, plan, progress, now, early)
        del early  # its set of the ids asked (10 MB at 100,000) is not needed past here
        papers, authors = merge_papers(previous, plan, fetched)
        release_freed()
        enriched, citations = enrich_entries(
            settings, api, entries, previous, plan, fetched, papers, now, report
        )
        del entries  # the records hold what is left to tell of them
        release_freed()
        tables = assemble_tables(previous, plan, fetched, enriched, papers, authors, now, report)
    finally:
        gc.unfreeze()  # a caller in the same process (tests) gets them collected again
    if citations is not None:
        tables["citations"] = citations
    due = next_due(settings, papers, citations, plan.ids, bool(report.cite_failures))
    release_freed()  # before the tables are written
    return tables, due


def plan_run(
    settings: Settings,
    api: ArxivApi,
    entries: Sequence[ListEntry],
    previous: PreviousRun,
    now: datetime,
) -> RunPlan:
    """Search titles that are due, then split every wanted id into fresh, stale and new."""
    link_ids = unique_ids(e.arxiv_id for e in entries if e.arxiv_id)
    link_plan = plan_fetch(link_ids, previous.fetched_at, now, settings.max_age_days)
    # Unresolved titles are searched again as often as papers are re-checked.
    search_due = settings.max_age_days == 0 or bool(link_plan.stale) or not previous.has_entries
    searches, by_title = search_titles(settings, api, entries, previous, search_due, now)
    found = (s.arxiv_id for s in searches.values() if s.arxiv_id)
    ids = unique_ids([*link_ids, *found])
    plan = plan_fetch(
        [i for i in ids if i not in by_title], previous.fetched_at, now, settings.max_age_days
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
    return RunPlan(ids, plan, searches, by_title, search_due)


def search_titles(
    settings: Settings,
    api: ArxivApi,
    entries: Sequence[ListEntry],
    previous: PreviousRun,
    search_due: bool,
    now: datetime,
) -> tuple[dict[EntryKey, TitleResolution], dict[str, Paper]]:
    """Title searches for entries without a link: reused from the last run unless due."""
    if not settings.resolve:
        return {}, {}
    out: dict[EntryKey, TitleResolution] = {}
    to_search: list[ListEntry] = []
    for entry in entries:
        if entry.arxiv_id is not None or entry.id_problem is not None:
            continue
        earlier = previous.title_search(entry.list, entry.title)
        if earlier is None or search_due:
            to_search.append(entry)
        else:
            out[entry.key] = earlier
    if not to_search:
        return out, {}
    # A due search goes past the HTTP cache, as a paper re-check does; a first one need not.
    searched, papers = resolve_titles(
        api, to_search, fetched_at=now, refresh=search_due and previous.has_entries
    )
    for entry, resolution in zip(to_search, searched, strict=True):
        if resolution is not None:
            out[entry.key] = resolution
    return out, papers


def fetch_planned(
    settings: Settings,
    api: ArxivApi,
    plan: RunPlan,
    progress: Progress | None,
    now: datetime,
    early: Prefetched | None = None,
) -> Fetched:
    """New ids (a cached answer will do), then stale ones (past the cache): one progress.
    Ids ``early`` asked while the lists were parsed are not asked again."""
    new, stale = plan.fetch.new, plan.fetch.stale
    total = len(new) + len(stale)
    result = early.take(new) if early else FetchResult()
    to_ask = [i for i in new if i not in early.asked] if early else new
    asked = len(new) - len(to_ask)

    def new_progress(done: int, _: int) -> None:
        if progress:
            progress(asked + done, total)

    def stale_progress(done: int, _: int) -> None:
        if progress:
            progress(len(new) + done, total)

    if progress and total:
        progress(asked, total)  # something on screen before arXiv's first answer
    rest = fetch_papers(api, to_ask, settings.batch_size, progress=new_progress, fetched_at=now)
    result.pages.extend(rest.pages)
    result.not_found.update(rest.not_found)
    result.invalid.update(rest.invalid)
    rechecked = fetch_papers(
        api, stale, settings.batch_size, refresh=True, progress=stale_progress, fetched_at=now
    )
    for missing in sorted(rechecked.not_found):
        # A paper arXiv knew before does not vanish; keep what we had and say so.
        log.warning("arXiv did not return %s on re-check; keeping the earlier record", missing)
    result.invalid.update(rechecked.invalid)
    return Fetched(result, rechecked, plan.by_title)


def merge_papers(
    previous: PreviousRun, plan: RunPlan, fetched: Fetched
) -> tuple[pa.Table, pa.Table]:
    """Papers and authors tables: the kept rows of the last run plus the fetched papers,
    in list order."""
    keep = plan.fetch.fresh + sorted(fetched.rechecked.not_found)
    old_papers, old_authors = previous.papers, previous.authors
    now = fetched.table
    combined = pa.concat_tables([ordered(old_papers, keep), now.select(PAPERS.names)])
    papers = ordered(combined, plan.ids)
    if not now.num_rows and papers.column("arxiv_id").equals(old_papers.column("arxiv_id")):
        return papers, old_authors  # the same papers, so the same authors: nothing to sort
    authors = pa.concat_tables([ordered(old_authors, keep, "position"), authors_table(now)])
    if papers is not combined:  # authors follow their papers: sorted only if those were
        authors = ordered(authors, plan.ids, "position")
    return papers, authors


@contextlib.contextmanager
def _acyclic() -> Iterator[None]:
    """The collector paused while a stage makes 100,000 records that hold no cycles: it
    would otherwise scan the growing list of them every few thousand allocations, for
    nothing to free (a tenth of a cold 100,000-entry pass after the fetch)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def enrich_entries(
    settings: Settings,
    api: ArxivApi,
    entries: Sequence[ListEntry],
    previous: PreviousRun,
    plan: RunPlan,
    fetched: Fetched,
    papers: pa.Table,
    now: datetime,
    report: RunReport,
) -> tuple[list[EnrichedEntry], pa.Table | None]:
    """Every entry placed, link-checked, looked up elsewhere and given its venue; and the
    citations table when a citation source is configured (or kept from the last run)."""
    searches = plan.searches

    def placed(part: Sequence[ListEntry]) -> Iterator[tuple[Placement, dict[str, str]]]:
        titles = paper_titles(papers, part, searches)
        for entry in part:
            search = searches.get(entry.key) if searches else None
            yield place(entry, search, titles, fetched.new), titles

    # Only an entry with neither an id nor a problem with one can stay unresolved: placed
    # here for the citation sources, and again below with all the others.
    maybe = [p for p, _ in placed([e for e in entries if not (e.arxiv_id or e.id_problem)])]
    refetched = fetched.again
    externals, citations = cite(settings, api, maybe, papers, previous, plan, now, report)
    venue_of = entry_venues(papers, citations, previous, settings, refetched)
    # Each entry placed and its answers used as they come: no placements, link checks or
    # venues held beside the records; arXiv's titles read a part of the list at a time
    # (their memory: bench/results.md).
    enriched: list[EnrichedEntry] = []
    with _acyclic():
        for start in range(0, len(entries), ENRICH_PART):
            enriched += [
                enrich(
                    p,
                    _link_check(p, titles, previous, refetched),
                    externals.get(p.entry.key) if externals else None,
                    venue_of(p.entry),
                )
                for p, titles in placed(entries[start : start + ENRICH_PART])
            ]
    return enriched, citations


ENRICH_PART = 10_000
"""Entries enriched with one dict of arXiv titles: 100,000 titles at once were 20 MB at a
cold run's peak; a part's are read from the papers table in a few milliseconds."""


def paper_titles(
    papers: pa.Table, entries: Sequence[ListEntry], searches: Mapping[EntryKey, TitleResolution]
) -> dict[str, str]:
    """arXiv id -> the paper's title on arXiv, for the papers ``entries`` name (by link, or
    by the title search that found them)."""
    ids = {e.arxiv_id for e in entries if e.arxiv_id}
    if searches:
        found = (searches.get(e.key) for e in entries)
        ids.update(s.arxiv_id for s in found if s is not None and s.arxiv_id)
    return mapping(papers, "arxiv_id", "title", ids)


def _link_check(
    placed: Placement,
    titles: Mapping[str, str],
    previous: PreviousRun,
    refetched: Collection[str],
) -> tuple[float, bool] | None:
    """Does the linked paper's arXiv title match the listed one? Last run's answer where
    the paper was not fetched again: a warm run of a large list compares no titles."""
    entry = placed.entry
    if placed.resolution != Resolution.LINK or placed.status != Status.ENRICHED:
        return None
    arxiv_id = entry.arxiv_id or ""
    known = previous.link_check(entry.title, arxiv_id, refetched)
    if known is not None:
        return known
    check = check_link(entry.title, titles[arxiv_id])
    return check.title_similarity, check.title_mismatch


def change_titles(
    previous: PreviousRun,
    enriched: Sequence[EnrichedEntry],
    papers: pa.Table,
    ids: Collection[str],
) -> dict[str, str]:
    """id -> title for the change rows of ``ids``: arXiv's title (now, else last run's),
    else the listed one (this run's, else last run's; the last entry that lists it)."""
    named = mapping(papers, "arxiv_id", "title", ids)
    missing = set(ids).difference(named)
    if missing:
        named = mapping(previous.papers, "arxiv_id", "title", missing) | named
        missing.difference_update(named)
    if missing:
        listed = {e.arxiv_id: e.title for e in enriched if e.arxiv_id in missing}
        listed |= {
            arxiv_id: title
            for arxiv_id, title in zip(
                previous.entry_column("arxiv_id"), previous.entry_column("title"), strict=True
            )
            if arxiv_id in missing and arxiv_id not in listed
        }
        named = listed | named
    return named


def change_table(
    previous: PreviousRun,
    plan: RunPlan,
    fetched: Fetched,
    enriched: Sequence[EnrichedEntry],
    papers: pa.Table,
    now: datetime,
    run_id: str,
) -> tuple[pa.Table, int]:
    """The changes table (last run's rows, then this run's), and how many rows this run
    added: list membership, then what changed in papers fetched again."""
    pairs = membership_pairs(
        list_membership(
            zip(previous.entry_column("list"), previous.entry_column("arxiv_id"), strict=True)
        ),
        list_membership((e.list, e.arxiv_id) for e in enriched),
    )
    titles = change_titles(previous, enriched, papers, {i for _, i, _ in pairs})
    # Papers fetched again: only these are compared, as rows, for what changed.
    refetched = [i for i in plan.ids if i in fetched.again and i in previous.fetched_at]
    old_by_id = {row["arxiv_id"]: row for row in ordered(previous.papers, refetched).to_pylist()}
    new_rows = ordered(papers, refetched).to_pylist()
    rows = paper_changes(old_by_id, new_rows, run_id, now)
    columns = change_columns(pairs, titles, run_id, now, rows)
    del pairs, titles, old_by_id, new_rows, rows
    added = columns_table(columns, CHANGES)
    earlier = previous.table("changes")
    changes = added if earlier is None else pa.concat_tables([earlier, added])
    return conform(changes, CHANGES), added.num_rows


def assemble_tables(
    previous: PreviousRun,
    plan: RunPlan,
    fetched: Fetched,
    enriched: list[EnrichedEntry],
    papers: pa.Table,
    authors: pa.Table,
    now: datetime,
    report: RunReport,
) -> dict[str, pa.Table | None]:
    """The run's tables from its records, with the findings and what changed since the
    last run; the report's counts too. ``enriched`` is consumed: the list is emptied as
    its records become the entries table."""
    # One table at a time, each one's Python values dropped before the next is made; the
    # records last, freed as their table is made.
    with _acyclic():
        found = list_findings(enriched, papers)
        changes, report.changes = change_table(
            previous, plan, fetched, enriched, papers, now, report.run_id
        )
        count_entries(report, enriched)
        entries = consumed_records_table(enriched, ENTRIES)
    report.papers = papers.num_rows
    report.fetched = len(plan.fetch.new) + len(plan.fetch.stale)
    report.findings = found
    tables: dict[str, pa.Table | None] = {
        "entries": entries,
        "papers": conform(papers, PAPERS),
        "authors": conform(authors, AUTHORS),
        "quality": build_table(found, QUALITY),
        "changes": changes,
    }
    same_papers = papers.column("arxiv_id").equals(previous.papers.column("arxiv_id"))
    if not fetched.anything and previous.table("papers") is not None and same_papers:
        # Nothing fetched and the same papers in the same order: the files on disk are
        # these tables already. Linking them saves rewriting them (bench/results.md).
        tables["papers"] = tables["authors"] = None
    return tables


def count_entries(report: RunReport, enriched: Sequence[EnrichedEntry]) -> None:
    report.per_list = {}
    for entry in enriched:
        report.per_list[entry.list] = report.per_list.get(entry.list, 0) + 1
    report.lists = len(report.per_list)
    report.entries = len(enriched)
    report.by_title = sum(1 for e in enriched if e.resolution == Resolution.TITLE)
    for entry in enriched:
        report.statuses[entry.status] = report.statuses.get(entry.status, 0) + 1


def cite(
    settings: Settings,
    api: ArxivApi,
    placed: Sequence[Placement],
    papers: pa.Table,
    previous: PreviousRun,
    plan: RunPlan,
    now: datetime,
    report: RunReport,
) -> tuple[dict[EntryKey, ExternalIds], pa.Table | None]:
    """External ids of unresolved entries, and the citations of the current papers.

    Optional and never fatal: a source that fails keeps its previous rows and is named in
    the report. Without --sources the previous table is kept for the papers still listed.
    """
    ids = papers.column("arxiv_id").to_pylist()
    old = previous.table("citations")
    unresolved = [p.entry for p in placed if p.status == Status.UNRESOLVED]
    # External ids found in an earlier run stay until the next due search.
    externals: dict[EntryKey, ExternalIds] = {}
    for entry in unresolved:
        earlier = previous.external_ids(entry.list, entry.title)
        if earlier is not None:
            externals[entry.key] = earlier
    if not settings.cite_sources or settings.offline:
        return externals, None if old is None else conform(ordered(old, ids, "source"), CITATIONS)
    due = [
        e for e in unresolved if plan.search_due or previous.external_ids(e.list, e.title) is None
    ]
    result = run_cite(
        api.http,
        settings,
        list(zip(ids, papers.column("doi").to_pylist(), strict=True)),
        [(index, e.title, e.year, e.url) for index, e in enumerate(due)],
        citation_records(old),
        now,
    )
    for index, found in result.entry_ids.items():
        externals[due[index].key] = ExternalIds(**entry_id_values(found))
    report.cite_failures = dict(result.failures)
    return externals, conform(ordered(citations_table(result.rows), ids, "source"), CITATIONS)


def entry_venues(
    papers: pa.Table,
    citations: pa.Table | None,
    previous: PreviousRun,
    settings: Settings,
    refetched: Collection[str],
) -> Callable[[ListEntry], tuple[str | None, str | None]]:
    """The normalised venue of an entry, and which source named it.

    Last run's answer where none of its inputs can have changed (paper not fetched again,
    no citation source asked): a warm run of a large list then normalises nothing.
    """
    cite_ran = bool(settings.cite_sources) and not settings.offline
    by_source = source_venues(citations.to_pylist()) if citations is not None else {}
    refs = functools.cache(functools.partial(_venue_refs, papers))
    # The list's own venue comes first: when it names one (not arXiv), the paper's fields
    # cannot change the answer, and a list names the same few venues over and over.
    listed = functools.cache(lambda venue: normalize_venue({"list": venue}))

    def venue_of(entry: ListEntry) -> tuple[str | None, str | None]:
        known = None if cite_ran else previous.venue(entry.venue, entry.arxiv_id, refetched)
        if known is not None:
            return known
        external = by_source.get(entry.arxiv_id or "", {}) if by_source else {}
        if not external:
            own: tuple[str | None, str | None] = listed(entry.venue)
            if own[0] is not None and own[0] != ARXIV_VENUE:
                return own
        journal_ref, comment = refs().get(entry.arxiv_id or "", (None, None))
        return normalize_venue(
            {"list": entry.venue, "journal_ref": journal_ref, "comment": comment, **external}
        )

    return venue_of


def _venue_refs(papers: pa.Table) -> dict[str, tuple[str | None, str | None]]:
    """arXiv id -> (journal_ref, comment) of the papers that have either."""
    either = pc.or_(
        pc.is_valid(papers.column("journal_ref")), pc.is_valid(papers.column("comment"))
    )
    some = papers.select(["arxiv_id", "journal_ref", "comment"]).filter(either)
    refs = zip(
        some.column("journal_ref").to_pylist(), some.column("comment").to_pylist(), strict=True
    )
    return dict(zip(some.column("arxiv_id").to_pylist(), refs, strict=True))
