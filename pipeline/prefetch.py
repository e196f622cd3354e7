"""A large list's parse and its first fetches, side by side.

A cold run of a large list spends seconds parsing it, then seconds asking arXiv and reading
the answers, each on one core. Here a second process parses the lists that have no cached
parse (``lists/parallel.py``) while this one asks arXiv for the new ids the parse reports,
a full batch at a time: the requests the fetch stage would make, never more. The parse cache
then gives the stages their entries, and the fetch stage asks only for what was not asked
yet (the list's last part, what the title searches found, stale papers).

Whatever goes wrong with the second process, the run stays what it would have been: the
stages parse what the worker did not, and fetch what was not fetched.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from pipeline.arrow import column
from pipeline.config import Settings
from pipeline.fetch import FetchResult, Progress, fetch_papers
from pipeline.lists.parallel import ParseWorker
from pipeline.services.arxiv import ArxivApi


@dataclass
class Prefetched:
    """What was asked while the lists were parsed."""

    result: FetchResult = field(default_factory=FetchResult)
    asked: set[str] = field(default_factory=set)
    """Every id asked (found, not found or refused)."""

    def take(self, wanted: Sequence[str]) -> FetchResult:
        """The answers about ``wanted`` ids, pages in the order they were fetched: an id the
        final plan does not want (found by title instead, say) is dropped."""
        keep = set(wanted)
        out = FetchResult(
            not_found={i for i in self.result.not_found if i in keep},
            invalid={i: why for i, why in self.result.invalid.items() if i in keep},
        )
        for page in self.result.pages:
            ids = page.column("arxiv_id").to_pylist()
            rows = [row for row, arxiv_id in enumerate(ids) if arxiv_id in keep]
            if len(rows) == len(ids):
                out.pages.append(page)
            elif rows:
                out.pages.append(page.take(column(rows, pa.int64())))
        return out


def fetch_while_parsing(
    settings: Settings,
    worker: ParseWorker,
    api: ArxivApi,
    known: Collection[str],
    fetched_at: datetime,
    progress: Progress | None,
) -> Prefetched:
    """While ``worker`` parses the lists, fetch a full batch at a time the ids it reports
    that are not ``known`` (papers in the tables already)."""
    done = Prefetched()
    pending: list[str] = []
    size = settings.batch_size
    with worker:
        for message in worker.messages():
            if message[0] != "ids":
                continue
            for arxiv_id in message[1]:
                # A malformed id is refused by fetch_papers without a request.
                if arxiv_id not in known and arxiv_id not in done.asked:
                    done.asked.add(arxiv_id)
                    pending.append(arxiv_id)
            while len(pending) >= size:
                batch, pending = pending[:size], pending[size:]
                _add(done.result, fetch_papers(api, batch, size, fetched_at=fetched_at))
                if progress:
                    progress(len(done.asked) - len(pending), 0)  # the total is not known yet
    done.asked.difference_update(pending)  # a part batch waits for the fetch stage
    return done


def _add(into: FetchResult, result: FetchResult) -> None:
    into.pages.extend(result.pages)
    into.not_found.update(result.not_found)
    into.invalid.update(result.invalid)
