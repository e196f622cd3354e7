"""Fetch stage: unique arXiv ids -> Paper records, in batches, through ArxivApi."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.arxiv_ids import is_valid_id
from pipeline.errors import ArxivBadRequestError
from pipeline.models import Paper
from pipeline.services.arxiv import ArxivApi

log = logging.getLogger(__name__)

_VERSION = re.compile(r"v(\d+)$")

Progress = Callable[[int, int], None]
"""Called after each batch with (ids done, ids total)."""


@dataclass
class FetchResult:
    """What arXiv said about a set of ids."""

    papers: dict[str, Paper] = field(default_factory=dict)
    not_found: set[str] = field(default_factory=set)
    """Well-formed ids that arXiv does not know (absent from its answer)."""
    invalid: dict[str, str] = field(default_factory=dict)
    """Ids refused locally or by arXiv's 400 feed -> why."""
    batches: int = 0


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
        found = _fetch_batch(api, batch, result, fetched_at, refresh)
        result.papers.update(found)
        result.not_found.update(i for i in batch if i not in found and i not in result.invalid)
        done += len(batch)
        if progress:
            progress(done, len(wanted))
    return result


def _fetch_batch(
    api: ArxivApi, batch: list[str], result: FetchResult, fetched_at: datetime, refresh: bool
) -> dict[str, Paper]:
    pending = list(batch)
    while pending:
        try:
            papers = api.papers_by_id(pending, fetched_at, refresh)
        except ArxivBadRequestError as err:
            bad = _strip_version(err.bad_id) if err.bad_id else None
            if bad not in pending:
                raise
            log.warning("arXiv refused id %s (%s); fetching the rest of its batch", bad, err)
            result.invalid[bad] = f"arXiv refused the id: {err}"
            pending.remove(bad)
            continue
        result.batches += 1
        return {paper.arxiv_id: paper for paper in papers}
    return {}


def _strip_version(arxiv_id: str) -> str:
    return _VERSION.sub("", arxiv_id)
