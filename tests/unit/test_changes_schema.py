"""changes.parquet gained ``title`` (schema 2): an older history is carried on, not lost."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.changes import membership_changes
from pipeline.previous import PreviousRun
from pipeline.schemas import CHANGES
from pipeline.store.read import read_current
from tests.sample_tables import write_sample_tables

AT = datetime(2025, 1, 1, tzinfo=UTC)


def _v1_changes(path: Path) -> None:
    schema_1 = pa.schema([f for f in CHANGES if f.name != "title"])
    row = {"run_id": "r1", "at": AT, "arxiv_id": "2301.00001", "list": "l.md", "change": "added"}
    pq.write_table(pa.Table.from_pylist([row | {"detail": None}], schema=schema_1), path)


def test_a_schema_1_history_is_carried_with_null_titles(tmp_path: Path) -> None:
    write_sample_tables(tmp_path, changes=False)
    _v1_changes(tmp_path / "enriched" / "changes.parquet")
    carried = PreviousRun.read(tmp_path / "enriched").table("changes")
    assert carried is not None and carried.schema.names == CHANGES.names
    assert carried.to_pylist()[0]["title"] is None and carried.num_rows == 1
    read = read_current(tmp_path / "enriched").changes
    assert read is not None and read.column("title").to_pylist() == [None]


def test_membership_rows_name_their_papers() -> None:
    rows = membership_changes(
        {("l.md", "1")}, {("l.md", "2")}, "r2", AT, {"1": "Old paper", "2": "New paper"}
    )
    assert [(r["change"], r["title"]) for r in rows] == [
        ("added", "New paper"),
        ("removed", "Old paper"),
    ]
