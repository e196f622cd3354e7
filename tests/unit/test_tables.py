"""Tables are built from the explicit schemas and published as one unit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.models import Author, Paper
from pipeline.schemas import AUTHORS, PAPERS, RUNS, SCHEMA_VERSION
from pipeline.services.arxiv import fetched_table, paper_row
from pipeline.store.tables import (
    KEEP_SETS,
    authors_table,
    build_table,
    conform,
    publish_set,
    read_table,
)

T = datetime(2024, 4, 11, 17, 0, tzinfo=UTC)


def _paper(arxiv_id: str = "2304.05977") -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        version=2,
        title="ImageReward",
        abstract="An abstract.",
        authors=(Author("Jiazheng Xu", ("Tsinghua",)), Author("Xiao Liu")),
        published=T,
        updated=T,
        primary_category="cs.CV",
        categories=("cs.CV", "cs.LG"),
        doi=None,
        journal_ref=None,
        comment="NeurIPS 2023",
        abs_url=f"http://arxiv.org/abs/{arxiv_id}v2",
        pdf_url=f"http://arxiv.org/pdf/{arxiv_id}v2",
        fetched_at=T,
    )


def papers_table(papers: list[Paper]) -> pa.Table:
    return conform(fetched_table([paper_row(p) for p in papers]), PAPERS)


def test_tables_have_exactly_the_declared_schema() -> None:
    papers = papers_table([_paper()])
    authors = authors_table(fetched_table([paper_row(_paper())]))
    assert papers.schema.equals(PAPERS, check_metadata=False)
    assert authors.schema.equals(AUTHORS, check_metadata=False)
    assert papers.schema.metadata[b"pipeline.schema_version"] == SCHEMA_VERSION.encode()
    assert authors.to_pylist() == [
        {
            "arxiv_id": "2304.05977",
            "position": 0,
            "name": "Jiazheng Xu",
            "affiliations": ["Tsinghua"],
        },
        {"arxiv_id": "2304.05977", "position": 1, "name": "Xiao Liu", "affiliations": []},
    ]
    assert papers.column("published").type == pa.timestamp("us", tz="UTC")


def _publish(tmp_path: Path, run: str, ids: list[str]) -> Path:
    tables = {"papers": papers_table([_paper(i) for i in ids])}
    return publish_set(tmp_path / "enriched", tmp_path / ".sets", run, tables)


def test_publish_switches_the_whole_set(tmp_path: Path) -> None:
    _publish(tmp_path, "20260101T000000000000Z", ["2304.05977"])
    _publish(tmp_path, "20260102T000000000000Z", ["2304.05977", "2305.16381"])
    link = tmp_path / "enriched"
    assert link.is_symlink()
    assert pq.read_table(link / "papers.parquet").num_rows == 2
    # Readers of data/enriched/*.parquet need no other path.
    assert sorted(p.name for p in link.glob("*.parquet")) == ["papers.parquet"]


def test_failed_publish_keeps_the_previous_set(tmp_path: Path) -> None:
    _publish(tmp_path, "20260101T000000000000Z", ["2304.05977"])
    broken = {"papers": papers_table([_paper("2305.16381")]), "authors": "not a table"}
    with pytest.raises(AttributeError):
        publish_set(tmp_path / "enriched", tmp_path / ".sets", "20260102T000000000000Z", broken)  # type: ignore[dict-item]
    table = read_table(tmp_path / "enriched", "papers", PAPERS)
    assert table is not None and table.column("arxiv_id").to_pylist() == ["2304.05977"]
    # The half-written set is swept by the next run.
    _publish(tmp_path, "20260103T000000000000Z", ["2305.16381"])
    assert not list((tmp_path / ".sets").glob(".tmp-*"))


def test_old_sets_are_pruned(tmp_path: Path) -> None:
    for day in range(1, 6):
        _publish(tmp_path, f"2026010{day}T000000000000Z", ["2304.05977"])
    kept = sorted(p.name for p in (tmp_path / ".sets").iterdir())
    assert len(kept) == KEEP_SETS
    assert kept[-1] == "20260105T000000000000Z"


def test_a_plain_enriched_directory_is_taken_over(tmp_path: Path) -> None:
    plain = tmp_path / "enriched"
    plain.mkdir()
    (plain / "notes.txt").write_text("mine")
    _publish(tmp_path, "20260101T000000000000Z", ["2304.05977"])
    assert (tmp_path / "enriched").is_symlink()
    assert (tmp_path / ".sets" / "0-previous" / "notes.txt").read_text() == "mine"


def test_read_table_ignores_an_older_schema(tmp_path: Path) -> None:
    (tmp_path / "enriched").mkdir()
    pq.write_table(pa.table({"arxiv_id": ["x"]}), tmp_path / "enriched" / "papers.parquet")
    assert read_table(tmp_path / "enriched", "papers", PAPERS) is None
    assert read_table(tmp_path / "enriched", "authors", AUTHORS) is None


@pytest.mark.parametrize(
    "row",
    [
        {
            "run_id": "20261129T120000000000Z",
            "started": datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC),
            "finished": datetime(2026, 11, 29, 12, 0, 3, tzinfo=UTC),
            "status": "ok",
            "exit_code": 0,
            "lists": 2,
            "entries": 97,
            "papers": 92,
            "requests": 3,
            "cache_hits": 1,
            "retries": 0,
            "seconds_slept": 6.25,
        },
        {
            "run_id": "a failed run at a naive-looking microsecond",
            "started": datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            "finished": datetime(2000, 1, 1, tzinfo=UTC),
            "status": 'a "quoted" \u00fcn\u00efcode status',
            "exit_code": 1,
            "lists": 0,
            "entries": 0,
            "papers": 0,
            "requests": 2_000_000_000,
            "cache_hits": 0,
            "retries": 7,
            "seconds_slept": 0.1 + 0.2,
        },
    ],
)
def test_a_run_row_equals_what_pa_array_builds(row: dict[str, object]) -> None:
    one = build_table([row], RUNS)
    assert one.equals(pa.Table.from_pylist([row], schema=RUNS))
    assert one.schema.equals(RUNS, check_metadata=False)
    assert one.schema.metadata[b"pipeline.schema_version"] == SCHEMA_VERSION.encode()


def test_a_table_refuses_a_column_the_schema_lacks() -> None:
    with pytest.raises(pa.ArrowInvalid):
        build_table([{"run_id": "x", "not_a_column": 1}], RUNS)
