"""`status`: the last runs, table sizes, stale papers and the latest changes, as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline.config import Settings
from pipeline.schemas import TABLES
from pipeline.store.read import read_as_written
from pipeline.store.runs import STATE_FILE
from pipeline.store.unchanged import skip_until

RUNS_SHOWN = 5
CHANGES_SHOWN = 10


def render_status(settings: Settings, now: datetime | None = None) -> str:
    """A plain-text report of the current table set (no colours: it goes to cron mail too)."""
    now = now or datetime.now(UTC)
    enriched = settings.enriched_dir
    if not (enriched / "entries.parquet").exists():
        return f"no tables in {enriched} yet: run `make refresh` (python -m pipeline refresh)."
    parts = [f"tables in {enriched} -> {enriched.resolve().name}", ""]
    parts += [_section("Tables", _sizes(enriched))]

    runs = _read(enriched, "runs")
    if runs is not None and len(runs):
        shown = runs.tail(RUNS_SHOWN).iloc[::-1].copy()
        shown["seconds"] = (shown["finished"] - shown["started"]).dt.total_seconds().round(1)
        columns = ["run_id", "status", "exit_code", "entries", "papers", "requests"]
        columns += ["cache_hits", "retries", "seconds_slept", "seconds"]
        parts.append(_section(f"Last runs ({len(runs)} in all)", shown[columns]))

    papers = _read(enriched, "papers")
    if papers is not None:
        cutoff = now - timedelta(days=settings.max_age_days)
        stale = int((papers["fetched_at"] <= cutoff).sum())
        oldest = papers["fetched_at"].min() if len(papers) else None
        parts.append(
            f"Stale papers (fetched before {cutoff:%Y-%m-%d %H:%M} UTC, "
            f"max-age {settings.max_age_days:g} days): {stale} of {len(papers)}"
            + (f"; oldest fetch {oldest:%Y-%m-%d %H:%M} UTC" if oldest is not None else "")
            + "\n"
        )
    parts.append(_next_pass(enriched, now))

    quality = _read(enriched, "quality")
    if quality is not None:
        listed = quality.assign(where=quality["list"] + ":" + quality["line"].astype(str))
        parts.append(
            _section(f"Quality findings ({len(quality)})", listed[["where", "kind", "detail"]])
        )

    changes = _read(enriched, "changes")
    if changes is not None and len(changes):
        latest = changes.tail(CHANGES_SHOWN).iloc[::-1].copy()
        latest["at"] = latest["at"].dt.strftime("%Y-%m-%d %H:%M")
        # The change's own title (kept for removed papers), else the paper's current one.
        known = (
            {} if papers is None else dict(zip(papers["arxiv_id"], papers["title"], strict=True))
        )
        own = latest["title"] if "title" in latest else pd.Series(None, index=latest.index)
        latest["title"] = own.where(own.notna(), latest["arxiv_id"].map(known))
        columns = ["at", "change", "arxiv_id", "title", "list", "detail"]
        parts.append(_section(f"Latest changes ({len(changes)} in all)", latest[columns]))
    return "\n".join(parts).rstrip() + "\n"


def _next_pass(enriched: Path, now: datetime) -> str:
    until = skip_until(enriched)
    if until is None or until <= now:
        return (
            "Next refresh: a full pass (something is due, ids are to be asked again, or the "
            "tables were not written by a refresh).\n"
        )
    return (
        f"Next refresh: records itself only, unless a list, an option or the pipeline "
        f"changed, until {until:%Y-%m-%d %H:%M} UTC, when the oldest paper (or citation "
        f"count) falls due "
        f"({STATE_FILE}).\n"
    )


def _sizes(enriched: Path) -> pd.DataFrame:
    rows = []
    for name in TABLES:
        path = enriched / f"{name}.parquet"
        if path.exists():
            rows.append(
                {
                    "table": f"{name}.parquet",
                    "rows": pq.ParquetFile(path).metadata.num_rows,
                    "kB": round(path.stat().st_size / 1024, 1),
                }
            )
    return pd.DataFrame(rows)


def _read(enriched: Path, name: str) -> pd.DataFrame | None:
    table = read_as_written(enriched, name)
    return None if table is None else table.to_pandas()


def _section(title: str, frame: pd.DataFrame) -> str:
    frame = frame.astype(object).where(frame.notna(), "")  # blanks, not NaN, for readers
    body = frame.to_string(index=False, max_colwidth=60) if len(frame) else "(none)"
    return f"{title}\n{body}\n"
