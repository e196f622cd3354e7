"""Quality findings a list maintainer can act on, each with its list file and line (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.schemas import QUALITY_KINDS as KINDS

Row = Mapping[str, Any]


def findings(
    rows: Sequence[Row], details: Sequence[str | None], titles: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One finding per problem, in list order.

    ``details`` holds each entry's status detail (why invalid, not found...); ``titles`` the
    arXiv title of each enriched paper, for mismatch messages.
    """
    found: list[dict[str, Any]] = []
    first_seen: dict[str, Row] = {}
    for row, detail in zip(rows, details, strict=True):
        status = row["status"]
        if status == "unresolved":
            if row.get("candidate_id"):
                text = (
                    f"no arXiv link and no confident title match; best candidate "
                    f"{row['candidate_id']} ({row['candidate_score']:.0f}/100)"
                )
            else:
                text = "no arXiv link and no title match on arXiv"
            found.append(_finding(row, "unresolved", f"{text}: {row['title']!r}"))
        elif status in ("not_found", "invalid"):
            found.append(_finding(row, status, detail or status))
        if row.get("title_mismatch"):
            arxiv_id = row["arxiv_id"]
            found.append(
                _finding(
                    row,
                    "title_mismatch",
                    f"listed as {row['title']!r} but {arxiv_id} is "
                    f"{titles.get(arxiv_id, '?')!r} (similarity {row['title_similarity']:.0f})",
                )
            )
        arxiv_id = row.get("arxiv_id")
        if arxiv_id and status == "enriched":
            earlier = first_seen.setdefault(arxiv_id, row)
            if earlier is not row:
                where = f"{earlier['list']}:{earlier['line']}"
                if earlier["section"] != row["section"]:
                    where += f" (section {earlier['section']!r})"
                found.append(_finding(row, "duplicate", f"{arxiv_id} is also listed at {where}"))
    return found


def counts(found: Sequence[Row]) -> dict[str, int]:
    tally: dict[str, int] = defaultdict(int)
    for finding in found:
        tally[finding["kind"]] += 1
    return {kind: tally[kind] for kind in KINDS if tally[kind]}


def _finding(row: Row, kind: str, detail: str) -> dict[str, Any]:
    return {"list": row["list"], "line": row["line"], "kind": kind, "detail": detail}
