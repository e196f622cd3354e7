"""``order`` findings: entries out of date order in a section that is sorted by date (pure).

A section counts as sorted when most adjacent pairs of its dated entries agree on one
direction and one date: the first version's (``published``) or the latest version's
(``updated``), from the papers table. Lists are kept by hand, so "most" and not "all": one
entry out of place is exactly what this finds. The entries that break the order are those
outside a longest run that keeps it; each finding says where its entry belongs.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.models import EnrichedEntry, FindingKind, Status

AGREEMENT = 0.8
"""Share of adjacent pairs that must agree for a section to count as sorted. The seed list's
sections, ordered by venue and year rather than by arXiv date, agree at 0.5 to 0.7."""
MIN_PAIRS = 4
"""Fewer adjacent dated pairs than this say nothing about an order (three entries in date
order happen by chance one time in three)."""

DATES = {"published": "first version", "updated": "latest version"}
"""The papers table's date columns a section may be sorted by, and how findings name them."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SectionOrder:
    """How one section is sorted."""

    column: str
    """``published`` or ``updated``."""
    descending: bool
    """Newest first."""
    agreement: float
    """Share of adjacent pairs in this order (ties agree with both directions)."""

    def describe(self) -> str:
        return f"{DATES[self.column]}, {'newest' if self.descending else 'oldest'} first"


def detect_order(
    dates: Mapping[str, Sequence[int]], min_pairs: int = MIN_PAIRS
) -> SectionOrder | None:
    """The order most adjacent pairs agree on, or None when the section is not sorted.

    ``dates`` maps a date column to the section's dated entries' dates, in list order. The
    first version's date wins a tie: it is what "sorted by date" usually means.
    """
    best: SectionOrder | None = None
    for column, values in dates.items():
        pairs = len(values) - 1
        if pairs < min_pairs:
            continue
        ascending = sum(a <= b for a, b in itertools.pairwise(values)) / pairs
        descending = sum(a >= b for a, b in itertools.pairwise(values)) / pairs
        for share, newest_first in ((ascending, False), (descending, True)):
            if share >= AGREEMENT and (best is None or share > best.agreement):
                best = SectionOrder(column, newest_first, share)
    return best


def keepers(values: Sequence[int], descending: bool) -> set[int]:
    """Indices of a longest subsequence in the order (non-decreasing, or non-increasing):
    the entries that are where they belong. Patience sorting, O(n log n)."""
    keys = [-v for v in values] if descending else list(values)
    tails: list[int] = []  # tails[k]: the smallest last key of a kept run of length k + 1
    tail_index: list[int] = []
    parent: list[int | None] = []
    for i, key in enumerate(keys):
        k = bisect.bisect_right(tails, key)
        parent.append(tail_index[k - 1] if k else None)
        if k == len(tails):
            tails.append(key)
            tail_index.append(i)
        else:
            tails[k], tail_index[k] = key, i
    kept: set[int] = set()
    at: int | None = tail_index[-1] if tail_index else None
    while at is not None:
        kept.add(at)
        at = parent[at]
    return kept


def order_findings(
    entries: Sequence[EnrichedEntry], paper_dates: Mapping[str, Mapping[str, int]]
) -> list[dict[str, Any]]:
    """One ``order`` finding per entry out of date order in a sorted section.

    ``paper_dates`` maps a date column (``published``, ``updated``) to arXiv id -> the date
    in microseconds since the epoch (UTC), as the papers table stores it. Entries without
    a fetched paper are skipped: they have no date to be out of order by.
    """
    sections: dict[tuple[str, str], list[EnrichedEntry]] = {}
    for entry in entries:
        # A wrong link's date says nothing about where the listed paper belongs.
        if entry.status == Status.ENRICHED and entry.arxiv_id and not entry.title_mismatch:
            sections.setdefault((entry.list, entry.section), []).append(entry)
    found: list[dict[str, Any]] = []
    for (_, section), dated in sections.items():
        columns = {
            column: [by_id.get(e.arxiv_id or "", 0) for e in dated]
            for column, by_id in paper_dates.items()
        }
        order = detect_order(columns)
        if order is None:
            continue
        values = columns[order.column]
        kept_set = keepers(values, order.descending)
        kept = sorted(kept_set)
        for i, entry in enumerate(dated):
            if i in kept_set:
                continue
            detail = _belongs(entry, i, dated, values, kept, order, section)
            where = {"list": entry.list, "line": entry.line}
            found.append({**where, "kind": FindingKind.ORDER, "detail": detail})
    return found


def _belongs(
    entry: EnrichedEntry,
    index: int,
    dated: Sequence[EnrichedEntry],
    values: Sequence[int],
    kept: Sequence[int],
    order: SectionOrder,
    section: str,
) -> str:
    """Where the entry belongs: after the last kept entry it does not precede."""
    mine = values[index]
    before = [k for k in kept if (values[k] >= mine if order.descending else values[k] <= mine)]
    if before:
        anchor = dated[before[-1]]
        where = f"after line {anchor.line} ({anchor.arxiv_id}, {day(values[before[-1]])})"
    else:
        anchor = dated[kept[0]]
        where = f"before line {anchor.line} ({anchor.arxiv_id}, {day(values[kept[0]])})"
    return (
        f"{entry.arxiv_id} ({DATES[order.column]} {day(mine)}) is out of order in section "
        f"{section!r}, sorted by {order.describe()} ({order.agreement:.0%} of pairs agree): "
        f"it belongs {where}"
    )


def day(micros: int) -> str:
    return (_EPOCH + timedelta(microseconds=micros)).strftime("%Y-%m-%d")
