"""Fetch stage: unique arXiv ids -> Paper records, in batches, through ArxivApi."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import arxiv

from pipeline.arxiv_ids import is_valid_id
from pipeline.errors import ArxivBadRequestError
from pipeline.models import Author, Paper
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


def split_version(entry_id: str) -> tuple[str, int]:
    """``http://arxiv.org/abs/2304.05977v2`` -> (``2304.05977``, 2)."""
    short = entry_id.split("/abs/", 1)[-1]
    head, v, digits = short.rpartition("v")
    if v and digits.isdecimal():  # the usual ``...vN``: what _VERSION finds, without it
        return head, int(digits)
    match = _VERSION.search(short)
    if not match:
        return short, 1
    return short[: match.start()], int(match.group(1))


def clean_text(text: str) -> str:
    """Collapse whitespace and decode entities left in the text; LaTeX stays as it is."""
    if "&" in text:  # unescape only where there is something to decode (most fields)
        text = html.unescape(text)
    # str.split() splits at exactly the characters ``\s`` matches (str.isspace), so this is
    # ``re.sub(r"\s+", " ", text).strip()``, four times faster.
    return " ".join(text.split())


def paper_from_result(result: arxiv.Result, fetched_at: datetime) -> Paper:
    """One ``arxiv.Result`` -> our Paper record (pure)."""
    arxiv_id, version = split_version(result.entry_id)
    journal_ref, comment = result.journal_ref, result.comment
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=clean_text(result.title),
        abstract=clean_text(result.summary),
        authors=tuple(
            [
                Author(name=clean_text(a.name), affiliations=tuple(a.affiliation))
                for a in result.authors
            ]
        ),
        published=result.published.astimezone(UTC),
        updated=result.updated.astimezone(UTC),
        primary_category=result.primary_category,
        categories=tuple(result.categories),
        doi=result.doi,
        journal_ref=clean_text(journal_ref) if journal_ref else None,
        comment=clean_text(comment) if comment else None,
        abs_url=result.entry_id,
        pdf_url=result.pdf_url,
        fetched_at=fetched_at,
    )


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
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FetchResult:
    """Ask arXiv for every id once, ``batch_size`` per request.

    A malformed id would fail its whole batch with a 400, so ids are validated here first;
    if arXiv still refuses one, it is dropped and the rest of the batch asked again.
    ``refresh`` bypasses fresh cached answers (a re-check must see new versions).
    """
    result = FetchResult()
    wanted: list[str] = []
    for arxiv_id in unique_ids(ids):
        if is_valid_id(arxiv_id):
            wanted.append(arxiv_id)
        else:
            result.invalid[arxiv_id] = f"malformed arXiv id {arxiv_id!r}"
    client = api.client(page_size=batch_size)
    client.refresh = refresh
    done = 0
    for batch in batches(wanted, batch_size):
        found = _fetch_batch(client, batch, result, now())
        result.papers.update(found)
        result.not_found.update(i for i in batch if i not in found and i not in result.invalid)
        done += len(batch)
        if progress:
            progress(done, len(wanted))
    return result


def _fetch_batch(
    client: arxiv.Client, batch: list[str], result: FetchResult, fetched_at: datetime
) -> dict[str, Paper]:
    pending = list(batch)
    while pending:
        # max_results and the page size both equal the batch: one request, nothing truncated.
        search = arxiv.Search(id_list=pending, max_results=len(pending))
        client.page_size = len(pending)
        try:
            found: dict[str, Paper] = {}
            for item in client.results(search):
                paper = paper_from_result(item, fetched_at)
                found[paper.arxiv_id] = paper
            result.batches += 1
            return found
        except ArxivBadRequestError as err:
            bad = _strip_version(err.bad_id) if err.bad_id else None
            if bad not in pending:
                raise
            log.warning("arXiv refused id %s (%s); fetching the rest of its batch", bad, err)
            result.invalid[bad] = f"arXiv refused the id: {err}"
            pending.remove(bad)
    return {}


def _strip_version(arxiv_id: str) -> str:
    return _VERSION.sub("", arxiv_id)
