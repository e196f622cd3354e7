"""Tables -> CSV and JSON lines (pure): one row per list entry, joined with its paper.

Each row holds the entry's columns, then ``arxiv`` (the id as ``arXiv:2402.10210``), its
paper's columns prefixed ``paper_`` (empty when the entry has no paper), then the citation
counts of ``citations.parquet`` (empty without ``--sources``). CSV joins lists with ``"; "``
and quotes every text cell; JSON lines keep real arrays and nulls. Timestamps are ISO 8601
in UTC with a ``Z`` in both.

Why ``arxiv``: new-style ids look like numbers, and pandas' ``read_csv`` and DuckDB's
``read_csv_auto`` read ``arxiv_id`` as a float by default (``2402.10210`` -> ``2402.1021``),
quoted or not. ``arxiv`` is text under every reader's defaults; ``arxiv_id`` stays for
readers told its type (``dtype={"arxiv_id": str}``; see the README).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pipeline.config import CITE_SOURCES
from pipeline.schemas import ENTRIES, PAPERS

if TYPE_CHECKING:
    from pipeline.store.read import CurrentTables

Record = dict[str, Any]


CITATION_COLUMNS = (
    *(f"citations_{source}" for source in CITE_SOURCES),
    "influential_citations_semanticscholar",
    "citation_count",
    "oa_url",
)
"""Per paper: each source's count, Semantic Scholar's influential count, the largest count
of any source, and an open-access link (the first source that gives one)."""


def export_columns() -> list[str]:
    return [*ENTRIES.names, "arxiv", *(f"paper_{name}" for name in PAPERS.names), *CITATION_COLUMNS]


def citation_values(rows: Iterable[Mapping[str, Any]]) -> dict[str, Record]:
    """arxiv_id -> the ``CITATION_COLUMNS`` of rows of ``citations.parquet``."""
    found: dict[str, Record] = {}
    for row in rows:
        values = found.setdefault(row["arxiv_id"], dict.fromkeys(CITATION_COLUMNS))
        count = row["citation_count"]
        values[f"citations_{row['source']}"] = count
        if row["source"] == "semanticscholar":
            values["influential_citations_semanticscholar"] = row["influential_citation_count"]
        if count is not None:
            best = values["citation_count"]
            values["citation_count"] = count if best is None else max(best, count)
        values["oa_url"] = values["oa_url"] or row.get("oa_url")
    return found


def joined_records(
    entries: Iterable[Mapping[str, Any]],
    papers: Iterable[Record],
    cited: Iterable[Mapping[str, Any]] = (),
) -> list[Record]:
    """One record per entry, in table order: entry columns, ``arxiv``, ``paper_<column>``,
    then the citation columns."""
    by_id = {p["arxiv_id"]: p for p in papers}
    counts = citation_values(cited)
    empty: Record = dict.fromkeys(PAPERS.names)
    no_counts: Record = dict.fromkeys(CITATION_COLUMNS)
    rows = []
    for entry in entries:
        arxiv_id = entry["arxiv_id"]
        paper = by_id.get(arxiv_id, empty) if arxiv_id else empty
        rows.append(
            {
                **entry,
                "arxiv": f"arXiv:{arxiv_id}" if arxiv_id else None,
                **{f"paper_{k}": v for k, v in paper.items()},
                **counts.get(arxiv_id, no_counts),
            }
        )
    return rows


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2023-04-12T17:59:59Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _csv_cell(value: Any) -> str | int | float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """Joined records as CSV with a header; lists joined with ``"; "``; text quoted, numbers
    and empty cells (missing values) bare."""
    # By hand: Python 3.11's csv module cannot quote text and leave empty cells bare (an
    # empty cell is a missing value to pandas and DuckDB; a quoted "" is an empty string).
    columns = export_columns()
    lines = [",".join(_quoted(c) for c in columns)]
    for row in rows:
        lines.append(",".join(_csv_text(_csv_cell(row[c])) for c in columns))
    return "".join(f"{line}\n" for line in lines)


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _csv_text(value: str | int | float | None) -> str:
    if value is None:
        return ""
    return _quoted(value) if isinstance(value, str) else str(value)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return iso_utc(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_jsonl(rows: Iterable[Mapping[str, Any]]) -> str:
    """Joined records as JSON lines: real arrays, null for missing, ISO timestamps."""
    lines = [json.dumps(row, ensure_ascii=False, default=_json_default) for row in rows]
    return "".join(f"{line}\n" for line in lines)


def render_csv(tables: CurrentTables) -> str:
    """The ``csv`` export format."""
    return to_csv(_joined(tables))


def render_jsonl(tables: CurrentTables) -> str:
    """The ``jsonl`` export format."""
    return to_jsonl(_joined(tables))


def _joined(tables: CurrentTables) -> list[Record]:
    cited = [] if tables.citations is None else tables.citations.to_pylist()
    return joined_records(tables.entries.to_pylist(), tables.papers.to_pylist(), cited)
