"""Fetch stage: unique arXiv ids -> their papers as table columns, in batches of id_list
requests through ArxivApi.

Answers are matched to the request by id: an entry nobody asked for, or one that repeats,
is dropped, and ids an answer left out while it carried such entries are asked again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from pipeline.arrow import column
from pipeline.arxiv_ids import is_valid_id
from pipeline.errors import ArxivBadRequestError
from pipeline.schemas import FETCHED
from pipeline.services.arxiv import ArxivApi, id_list_query

log = logging.getLogger(__name__)

_VERSION = re.compile(r"v(\d+)$")

MAX_ASKS = 3
"""Requests for one batch's ids: the first, and at most two more for ids an answer left
out while it carried entries not asked for. Each must bring some of the ids asked: the
same question again would get the same answer (from the cache, too)."""

Progress = Callable[[int, int], None]
"""Called after each batch with (ids done, ids total)."""


@dataclass
class FetchResult:
    """What arXiv said about a set of ids."""

    pages: list[pa.Table] = field(default_factory=list)
    """The papers of the ids arXiv answered, one ``schemas.FETCHED`` row per id, a table per
    batch in the order the ids were given (columns, not records: a tenth of the memory)."""
    not_found: set[str] = field(default_factory=set)
    """Well-formed ids that arXiv does not know (absent from its answer)."""
    invalid: dict[str, str] = field(default_factory=dict)
    """Ids refused locally or by arXiv's 400 feed -> why."""

    @property
    def table(self) -> pa.Table:
        """Every fetched paper, one ``FETCHED`` row each, in the order answered."""
        if not self.pages:
            return pa.Table.from_batches([], schema=FETCHED)
        return pa.concat_tables(self.pages)

    @property
    def ids(self) -> list[str]:
        """The ids of the fetched papers, in the order answered."""
        return [i for page in self.pages for i in page.column("arxiv_id").to_pylist()]


def unique_ids(ids: Iterable[str]) -> list[str]:
    """Each id once, in first-seen order."""
    return list(dict.fromkeys(ids))


def batches(ids: Sequence[str], size: int) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def fetch_papers(
    api: ArxivApi,
    ids: Iterable[str],
    batch_size: int,
    refresh: bool = False,
    progress: Progress | None = None,
    fetched_at: datetime | None = None,
) -> FetchResult:
    """Ask arXiv for every id once, ``batch_size`` per request.

    A malformed id would fail its whole batch with a 400, so ids are validated here first;
    if arXiv still refuses one, it is dropped and the rest of the batch asked again.
    ``refresh`` bypasses fresh cached answers (a re-check must see new versions).
    ``fetched_at`` (default: now) stamps every record.
    """
    fetched_at = fetched_at or datetime.now(UTC)
    result = FetchResult()
    wanted: list[str] = []
    for arxiv_id in unique_ids(ids):
        if is_valid_id(arxiv_id):
            wanted.append(arxiv_id)
        else:
            result.invalid[arxiv_id] = f"malformed arXiv id {arxiv_id!r}"
    done = 0
    for batch in batches(wanted, batch_size):
        _fetch_batch(api, batch, result, fetched_at, refresh)
        done += len(batch)
        if progress:
            progress(done, len(wanted))
    return result


def _fetch_batch(
    api: ArxivApi, batch: list[str], result: FetchResult, fetched_at: datetime, refresh: bool
) -> None:
    """Each id of ``batch`` found (a page row in ``result``), not found or invalid."""
    pending = list(batch)
    seen: set[str] = set()
    answered: list[pa.Table] = []
    for ask in range(1, MAX_ASKS + 1):
        pages = _ask_valid(api, pending, result, fetched_at, refresh)
        pending = [i for i in pending if i not in result.invalid]
        surplus = 0
        asked = set(pending)
        for page in pages:
            kept, dropped = _requested(page, asked, seen)
            surplus += dropped
            answered.append(kept)
        missing = [i for i in pending if i not in seen]
        if not missing or not surplus:
            break  # every id answered, or the missing ones are simply unknown to arXiv
        if len(missing) == len(pending) or ask == MAX_ASKS:
            # The same question would get the same (cached) answer: stop here.
            log.warning(
                "arXiv's answers carried %d entries not asked for (or twice) in place of %d "
                "asked ids; counting those as not found",
                surplus,
                len(missing),
            )
            break
        log.warning(
            "arXiv answered %d entries not asked for (or twice) and left out %d asked ids; "
            "asking again for those",
            surplus,
            len(missing),
        )
        pending = missing
    result.not_found.update(i for i in batch if i not in seen and i not in result.invalid)
    if answered:
        result.pages.append(_in_order(answered, batch))


def _ask_valid(
    api: ArxivApi, ids: list[str], result: FetchResult, fetched_at: datetime, refresh: bool
) -> list[pa.Table]:
    """``_ask``, dropping (as invalid) each id arXiv refuses with a 400 and asking again."""
    pending = list(ids)
    while pending:
        try:
            return _ask(api, pending, fetched_at, refresh)
        except ArxivBadRequestError as err:
            bad = _strip_version(err.bad_id) if err.bad_id else None
            if bad not in pending:
                raise
            log.warning("arXiv refused id %s (%s); fetching the rest of its batch", bad, err)
            result.invalid[bad] = f"arXiv refused the id: {err}"
            pending.remove(bad)
    return []


def _ask(api: ArxivApi, ids: list[str], fetched_at: datetime, refresh: bool) -> list[pa.Table]:
    """The pages of one id_list search for ``ids``, paged as ``arxiv.Client`` pages it.

    A page holds as many results as ids were asked, so one request normally answers;
    further pages are asked only while the feed's total says more are due and fewer
    entries than ids have come.
    """
    pages: list[pa.Table] = []
    received = 0
    while True:
        feed = api.feed(id_list_query(ids, received, len(ids)), fetched_at, refresh)
        if not feed.table.num_rows:
            return pages
        pages.append(feed.table)
        received += feed.table.num_rows
        if received >= feed.total_results or received >= len(ids):
            return pages


def _requested(page: pa.Table, wanted: set[str], seen: set[str]) -> tuple[pa.Table, int]:
    """The rows of ``page`` whose id is wanted and not ``seen`` before (adding them to
    ``seen``), and how many rows were dropped."""
    ids = page.column("arxiv_id").to_pylist()
    fresh = set(ids)
    if len(fresh) == len(ids) and fresh <= wanted and seen.isdisjoint(fresh):
        # The usual answer: ids asked, each once, none seen before (set work, no loop).
        seen |= fresh
        return page, 0
    keep: list[int] = []
    for index, arxiv_id in enumerate(ids):
        if arxiv_id in wanted and arxiv_id not in seen:
            seen.add(arxiv_id)
            keep.append(index)
    if len(keep) == page.num_rows:
        return page, 0
    return page.take(column(keep, pa.int64())), page.num_rows - len(keep)


def _in_order(tables: list[pa.Table], ids: list[str]) -> pa.Table:
    """The rows of ``tables`` (one per id) in the order of ``ids``: arXiv answers in its
    own order, and a cold run's papers then need no reordering as a whole (a copy of them
    all). No copy either when the answer already came in that order."""
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    row_of = {arxiv_id: row for row, arxiv_id in enumerate(table.column("arxiv_id").to_pylist())}
    order = [row_of[i] for i in ids if i in row_of]
    if order == list(range(table.num_rows)):
        return table
    return table.take(column(order, pa.int64()))


def _strip_version(arxiv_id: str) -> str:
    return _VERSION.sub("", arxiv_id)
