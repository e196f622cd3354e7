"""What changed between two runs: list membership and paper metadata (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pipeline.models import ChangeKind

Row = Mapping[str, Any]

METADATA_FIELDS = (
    "abstract",
    "authors",
    "primary_category",
    "categories",
    "doi",
    "journal_ref",
    "comment",
)
"""Paper fields whose change is a "metadata_changed" row (title and version have their own)."""


def list_membership(pairs: Iterable[tuple[str, str | None]]) -> set[tuple[str, str]]:
    """The (list, arxiv_id) pairs of entries that name an id."""
    return {(lst, arxiv_id) for lst, arxiv_id in pairs if arxiv_id}


def membership_pairs(
    before: set[tuple[str, str]], after: set[tuple[str, str]]
) -> list[tuple[str, str, ChangeKind]]:
    """(list, arxiv_id, change) of each "added" pair, then of each "removed" one, sorted."""
    pairs = [(lst, i, ChangeKind.ADDED) for lst, i in sorted(after - before)]
    return pairs + [(lst, i, ChangeKind.REMOVED) for lst, i in sorted(before - after)]


def membership_changes(
    before: set[tuple[str, str]],
    after: set[tuple[str, str]],
    run_id: str,
    at: datetime,
    titles: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """ "added" and "removed" rows, one per list and id. ``titles`` (id -> title) names the
    papers: a removed paper leaves the tables, and its row is then the only place its title
    is kept."""
    titles = titles or {}
    return [
        _row(run_id, at, i, lst, change, None, titles.get(i))
        for lst, i, change in membership_pairs(before, after)
    ]


def change_columns(
    pairs: Sequence[tuple[str, str, ChangeKind]],
    titles: Mapping[str, str],
    run_id: str,
    at: datetime,
    rows: Sequence[Row] = (),
) -> dict[str, list[Any]]:
    """The changes table's columns: the rows ``membership_changes`` makes of ``pairs``, then
    ``rows`` (``paper_changes``); columns, not a dict per row (100,000 on a first run)."""
    columns: dict[str, list[Any]] = {
        "run_id": [run_id] * len(pairs),
        "at": [at] * len(pairs),
        "arxiv_id": [i for _, i, _ in pairs],
        "list": [lst for lst, _, _ in pairs],
        "change": [change for _, _, change in pairs],
        "detail": [None] * len(pairs),
        "title": [titles.get(i) for _, i, _ in pairs],
    }
    for name, values in columns.items():
        values.extend(row[name] for row in rows)
    return columns


def paper_changes(
    old: Mapping[str, Row], new: Iterable[Row], run_id: str, at: datetime
) -> list[dict[str, Any]]:
    """ "new_version", "title_changed" and "metadata_changed" rows for re-fetched papers."""
    rows: list[dict[str, Any]] = []
    for paper in new:
        before = old.get(paper["arxiv_id"])
        if before is None:
            continue
        arxiv_id, title = paper["arxiv_id"], paper["title"]
        if paper["version"] != before["version"]:
            detail = f"v{before['version']} -> v{paper['version']}"
            rows.append(_row(run_id, at, arxiv_id, None, ChangeKind.NEW_VERSION, detail, title))
        if paper["title"] != before["title"]:
            detail = f"{before['title']} -> {paper['title']}"
            rows.append(_row(run_id, at, arxiv_id, None, ChangeKind.TITLE_CHANGED, detail, title))
        changed = ", ".join(f for f in METADATA_FIELDS if _norm(paper[f]) != _norm(before[f]))
        if changed:
            kind = ChangeKind.METADATA_CHANGED
            rows.append(_row(run_id, at, arxiv_id, None, kind, changed, title))
    return rows


def _norm(value: Any) -> Any:
    # Arrow hands lists back as lists, records keep tuples: compare them alike.
    return list(value) if isinstance(value, list | tuple) else value


def _row(
    run_id: str,
    at: datetime,
    arxiv_id: str,
    lst: str | None,
    change: ChangeKind,
    detail: str | None,
    title: str | None = None,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "at": at,
        "arxiv_id": arxiv_id,
        "list": lst,
        "change": change,
        "detail": detail,
        "title": title,
    }
