"""Last run's tables, read once, and the answers a new run may reuse from them.

A run reuses four kinds of answer from the table set it replaces, each behind a named
lookup with its own validity rule written once here: link checks, title searches, the
external ids of unresolved entries, and normalised venues. Entries are looked up by
(list, listed title): a line number moves whenever an entry is added above it.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.models import ExternalIds, Resolution, Status
from pipeline.resolve import TitleResolution
from pipeline.schemas import AUTHORS, CHANGES, PAPERS, TABLES
from pipeline.store.tables import read_table


@dataclass(frozen=True)
class PreviousRun:
    """The current table set, as the next run sees it (tables absent on a first run)."""

    tables: Mapping[str, pa.Table | None]

    @classmethod
    def read(cls, enriched_dir: Path) -> PreviousRun:
        tables = {name: read_table(enriched_dir, name, s) for name, s in TABLES.items()}
        if tables["changes"] is None:
            tables["changes"] = _changes_v1(enriched_dir)
        return cls(tables)

    def table(self, name: str) -> pa.Table | None:
        return self.tables.get(name)

    @property
    def papers(self) -> pa.Table:
        table = self.tables.get("papers")
        return table if table is not None else _empty(PAPERS)

    @property
    def authors(self) -> pa.Table:
        table = self.tables.get("authors")
        return table if table is not None else _empty(AUTHORS)

    @property
    def has_entries(self) -> bool:
        """Did last run publish any entry?"""
        table = self.tables.get("entries")
        return table is not None and table.num_rows > 0

    def _rows(self, *names: str) -> Iterator[tuple[Any, ...]]:
        """Last run's entries, only the columns named: a dict per row of every column was
        hundreds of MB for a 100,000-entry list, held the whole run."""
        table = self.tables.get("entries")
        if table is None:
            return iter(())
        return zip(*(table.column(name).to_pylist() for name in names), strict=True)

    def entry_column(self, name: str) -> list[Any]:
        """One column of last run's entries table (empty on a first run): what a column
        answers needs no row dicts."""
        table = self.tables.get("entries")
        return table.column(name).to_pylist() if table is not None else []

    @functools.cached_property
    def fetched_at(self) -> dict[str, int]:
        """arXiv id -> when its paper row was fetched, in microseconds since the epoch (UTC),
        as the table stores it: plain ints keep planning 100,000 ids cheap."""
        papers = self.papers
        return dict(
            zip(
                papers.column("arxiv_id").to_pylist(),
                papers.column("fetched_at").cast(pa.int64()).to_pylist(),
                strict=True,
            )
        )

    def link_check(
        self, title: str, arxiv_id: str, refetched: Collection[str]
    ) -> tuple[float, bool] | None:
        """Last run's (similarity, mismatch) of this listed title against this linked paper,
        unless the paper was fetched again (its title may have changed)."""
        if arxiv_id in refetched:
            return None
        return self._link_checks.get((title, arxiv_id))

    def title_search(self, list_name: str, title: str) -> TitleResolution | None:
        """Last run's title search for this entry (found or not), if it was searched."""
        row = self._searches.get((list_name, title))
        if row is None:
            return None
        arxiv_id, resolution, match_score, candidate_id, candidate_score = row
        return TitleResolution(
            arxiv_id=arxiv_id if resolution == Resolution.TITLE else None,
            match_score=match_score,
            candidate_id=candidate_id,
            candidate_score=candidate_score,
        )

    def external_ids(self, list_name: str, title: str) -> ExternalIds | None:
        """Ids another service gave this entry last run (kept until its next due search)."""
        row = self._by_title.get((list_name, title))
        if row is None:
            return None
        s2_id, openalex_id, doi = row
        return ExternalIds(s2_id=s2_id, openalex_id=openalex_id, doi=doi)

    def venue(
        self, venue: str | None, arxiv_id: str | None, refetched: Collection[str]
    ) -> tuple[str | None, str | None] | None:
        """Last run's (normalised venue, its source) for this listed venue and paper, unless
        the paper was fetched again (a new journal_ref may name another venue). The caller
        asks only when no citation source ran: their venues may have changed too."""
        if arxiv_id in refetched:
            return None
        return self._venues.get((venue, arxiv_id))

    @functools.cached_property
    def _link_checks(self) -> dict[tuple[str, str], tuple[float, bool]]:
        rows = self._rows("title", "arxiv_id", "resolution", "title_similarity", "title_mismatch")
        return {
            (title, arxiv_id): (similarity, mismatch)
            for title, arxiv_id, resolution, similarity, mismatch in rows
            if resolution == Resolution.LINK and similarity is not None
        }

    @functools.cached_property
    def _searches(self) -> dict[tuple[str, str], tuple[Any, ...]]:
        """(list, title) -> (arxiv_id, resolution, match_score, candidate_id,
        candidate_score) of entries that were searched by title."""
        names = ("arxiv_id", "resolution", "match_score", "candidate_id", "candidate_score")
        return {
            (row[0], row[1]): row[3:]
            for row in self._rows("list", "title", "status", *names)
            if row[4] in (Resolution.TITLE, Resolution.NONE) and row[2] != Status.INVALID
        }

    @functools.cached_property
    def _by_title(self) -> dict[tuple[str, str], tuple[Any, ...]]:
        """(list, title) -> (s2_id, openalex_id, doi)."""
        rows = self._rows("list", "title", "s2_id", "openalex_id", "doi")
        return {(row[0], row[1]): row[2:] for row in rows}

    @functools.cached_property
    def _venues(self) -> dict[tuple[str | None, str | None], tuple[str | None, str | None]]:
        rows = self._rows("venue", "arxiv_id", "venue_normalized", "venue_source")
        return {(venue, arxiv_id): (name, source) for venue, arxiv_id, name, source in rows}


def _empty(schema: pa.Schema) -> pa.Table:
    # Not schema.empty_table(): that imports pandas.
    return pa.Table.from_batches([], schema=schema)


def _changes_v1(enriched_dir: Path) -> pa.Table | None:
    """A changes table of schema 1 (no ``title``) with null titles: it is a history, which
    an upgrade must carry on, not start afresh as it may the other tables."""
    without = pa.schema([f for f in CHANGES if f.name != "title"])
    table = read_table(enriched_dir, "changes", without)
    if table is None:
        return None
    return table.append_column(CHANGES.field("title"), pa.nulls(table.num_rows, pa.string()))
