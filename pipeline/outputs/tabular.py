"""Tables -> CSV and JSON lines (pure): one row per list entry, joined with its paper.

Each row holds the entry's columns followed by its paper's columns prefixed ``paper_``
(empty when the entry has no paper). CSV joins lists with ``"; "``; JSON lines keep real
arrays and nulls. Timestamps are ISO 8601 in UTC with a ``Z`` in both.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pipeline.schemas import ENTRIES, PAPERS

if TYPE_CHECKING:
    from pipeline.store.read import CurrentTables

Record = dict[str, Any]


def export_columns() -> list[str]:
    return [*ENTRIES.names, *(f"paper_{name}" for name in PAPERS.names)]


def joined_records(entries: Iterable[Mapping[str, Any]], papers: Iterable[Record]) -> list[Record]:
    """One record per entry, in table order: entry columns, then ``paper_<column>``."""
    by_id = {p["arxiv_id"]: p for p in papers}
    empty: Record = dict.fromkeys(PAPERS.names)
    rows = []
    for entry in entries:
        paper = by_id.get(entry["arxiv_id"], empty) if entry["arxiv_id"] else empty
        rows.append({**entry, **{f"paper_{k}": v for k, v in paper.items()}})
    return rows


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2023-04-12T17:59:59Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """Joined records as CSV with a header; lists joined with ``"; "``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = export_columns()
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in columns])
    return out.getvalue()


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
    return joined_records(tables.entries.to_pylist(), tables.papers.to_pylist())
