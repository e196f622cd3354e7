"""The one reader of the current table set for everything that reports on it.

``read_current`` gives the tables the outputs (exports, report) need as Arrow tables of this
version's schemas, with ``to_pandas()`` for code that computes with DataFrames; it says what
to run when they are missing or unusable. ``read_as_written`` gives any one table as it is on
disk, for ``status``, which shows whatever is there. Both build on ``tables.read_table``'s way
of reading a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import InputError
from pipeline.schemas import AUTHORS, ENTRIES, PAPERS
from pipeline.store.tables import read_table

if TYPE_CHECKING:
    import pandas as pd

QUALITY_COLUMNS = ("list", "line", "kind", "detail")
"""The columns of ``quality`` that outputs use; a table with more is still read."""
CITATION_COLUMNS = ("arxiv_id", "source", "citation_count", "influential_citation_count")
CHANGE_COLUMNS = ("run_id", "at", "arxiv_id", "list", "change", "detail")
"""The columns of ``changes`` outputs need; ``title`` (schema 2) is added as nulls when an
older table lacks it."""


@dataclass(frozen=True)
class TableFrames:
    """The current table set as DataFrames (``quality`` is None when the stage has not run)."""

    entries: pd.DataFrame
    papers: pd.DataFrame
    authors: pd.DataFrame
    quality: pd.DataFrame | None
    citations: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None


@dataclass(frozen=True)
class CurrentTables:
    """The current table set: ``entries``, ``papers`` and ``authors`` of exactly this
    version's schemas, ``quality`` as written (None when the stage has not run)."""

    entries: pa.Table
    papers: pa.Table
    authors: pa.Table
    quality: pa.Table | None
    citations: pa.Table | None = None
    """With ``--sources``: one row per paper and source (None without)."""
    changes: pa.Table | None = None
    """Every change so far, with a ``title`` column (null where an older table lacked it)."""

    def to_pandas(self) -> TableFrames:
        return TableFrames(
            entries=self.entries.to_pandas(),
            papers=self.papers.to_pandas(),
            authors=self.authors.to_pandas(),
            quality=None if self.quality is None else self.quality.to_pandas(),
            citations=None if self.citations is None else self.citations.to_pandas(),
            changes=None if self.changes is None else self.changes.to_pandas(),
        )


def read_current(enriched_dir: Path) -> CurrentTables:
    """Read ``enriched_dir/*.parquet``; InputError saying what to run when they are unusable.

    Every table comes from one set: the link is resolved once, so a refresh that switches
    it meanwhile cannot mix two runs' tables. If that set is pruned while it is being read
    (two refreshes went by), the new current set is read instead.
    """
    current = enriched_dir.resolve()
    try:
        return _read_set(current, enriched_dir)
    except InputError:
        if current.exists() or enriched_dir.resolve() == current:
            raise
        return _read_set(enriched_dir.resolve(), enriched_dir)


def _read_set(set_dir: Path, enriched_dir: Path) -> CurrentTables:
    tables: dict[str, pa.Table] = {}
    for name, schema in (("entries", ENTRIES), ("papers", PAPERS), ("authors", AUTHORS)):
        path = set_dir / f"{name}.parquet"
        if not path.exists():
            raise InputError(
                f"no tables in {enriched_dir} ({path.name} is missing); run `make refresh` first"
            )
        table = read_table(set_dir, name, schema)
        if table is None:
            raise InputError(
                f"{enriched_dir / path.name} cannot be read as this version's {name} table; "
                "run `make refresh` to rebuild it"
            )
        tables[name] = table
    changes = _read_optional(set_dir / "changes.parquet", CHANGE_COLUMNS)
    if changes is not None and "title" not in changes.column_names:
        changes = changes.append_column("title", pa.nulls(changes.num_rows, pa.string()))
    return CurrentTables(
        **tables,
        quality=_read_optional(set_dir / "quality.parquet", QUALITY_COLUMNS),
        citations=_read_optional(set_dir / "citations.parquet", CITATION_COLUMNS),
        changes=changes,
    )


def _read_optional(path: Path, columns: tuple[str, ...]) -> pa.Table | None:
    """A table that only some runs write, as written; None when there is none."""
    if not path.exists():
        return None
    try:
        table = pq.ParquetFile(path).read()
    except (OSError, pa.ArrowException) as err:
        raise InputError(f"cannot read {path}: {err}; run `make refresh` to rebuild it") from err
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InputError(f"{path} lacks the columns {missing}; run `make refresh` to rebuild it")
    return table


def read_as_written(enriched_dir: Path, name: str) -> pa.Table | None:
    """The ``name`` table with the columns it was written with, or None when there is none."""
    path = enriched_dir / f"{name}.parquet"
    # ParquetFile, as read_table does: pq.read_table would import pandas through datasets.
    return pq.ParquetFile(path).read() if path.exists() else None
