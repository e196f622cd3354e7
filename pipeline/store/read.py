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


@dataclass(frozen=True)
class TableFrames:
    """The current table set as DataFrames (``quality`` is None when the stage has not run)."""

    entries: pd.DataFrame
    papers: pd.DataFrame
    authors: pd.DataFrame
    quality: pd.DataFrame | None


@dataclass(frozen=True)
class CurrentTables:
    """The current table set: ``entries``, ``papers`` and ``authors`` of exactly this
    version's schemas, ``quality`` as written (None when the stage has not run)."""

    entries: pa.Table
    papers: pa.Table
    authors: pa.Table
    quality: pa.Table | None

    def to_pandas(self) -> TableFrames:
        return TableFrames(
            entries=self.entries.to_pandas(),
            papers=self.papers.to_pandas(),
            authors=self.authors.to_pandas(),
            quality=None if self.quality is None else self.quality.to_pandas(),
        )


def read_current(enriched_dir: Path) -> CurrentTables:
    """Read ``enriched_dir/*.parquet``; InputError saying what to run when they are unusable."""
    tables: dict[str, pa.Table] = {}
    for name, schema in (("entries", ENTRIES), ("papers", PAPERS), ("authors", AUTHORS)):
        path = enriched_dir / f"{name}.parquet"
        if not path.exists():
            raise InputError(
                f"no tables in {enriched_dir} ({path.name} is missing); run `make refresh` first"
            )
        try:
            table = read_table(enriched_dir, name, schema)
        except (OSError, pa.ArrowException) as err:
            raise InputError(
                f"cannot read {path}: {err}; run `make refresh` to rebuild it"
            ) from err
        if table is None:
            raise InputError(
                f"{path} does not have the columns of this version's {name} table; "
                "run `make refresh` to rebuild it"
            )
        tables[name] = table
    return CurrentTables(**tables, quality=_read_quality(enriched_dir / "quality.parquet"))


def _read_quality(path: Path) -> pa.Table | None:
    if not path.exists():
        return None
    try:
        quality = pq.ParquetFile(path).read()
    except (OSError, pa.ArrowException) as err:
        raise InputError(f"cannot read {path}: {err}; run `make refresh` to rebuild it") from err
    missing = [c for c in QUALITY_COLUMNS if c not in quality.column_names]
    if missing:
        raise InputError(f"{path} lacks the columns {missing}; run `make refresh` to rebuild it")
    return quality


def read_as_written(enriched_dir: Path, name: str) -> pa.Table | None:
    """The ``name`` table with the columns it was written with, or None when there is none."""
    path = enriched_dir / f"{name}.parquet"
    # ParquetFile, as read_table does: pq.read_table would import pandas through datasets.
    return pq.ParquetFile(path).read() if path.exists() else None
