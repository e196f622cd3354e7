"""Runs with nothing to do: told apart before any stage runs, and recorded without one.

A refresh is a function of the lists' bytes, the settings that shape the tables, the
pipeline's code and the clock (papers and citation counts fall due for a re-check). When
the lists, settings and code are those of the run that wrote the current tables and
nothing has fallen due since, a full pass would ask nothing and rebuild the same tables.
Such a run only adds its row to runs.parquet: no parse, no HTTP stack, no table rebuilt,
so a cron job on a large list finishes in a fraction of a second.

The run that wrote the tables leaves ``refresh-state.json`` beside them, in the same set:
the fingerprint of its inputs and the moment something next falls due. Anything that
could make a full pass do work leaves no state (an id arXiv did not return is asked again
on every run, a failed citation source is retried), and only a successful refresh writes
one (a failed run, which changes no table, carries it), so after a `parse` or with a set
made by hand the next run does the full pass.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

import pipeline
from pipeline import __version__
from pipeline.config import Settings
from pipeline.lists.locate import expand_list_paths, is_url
from pipeline.schemas import SCHEMA_VERSION, TABLES
from pipeline.store.runs import STATE_FILE, RunReport, new_run_id, record_run
from pipeline.store.tables import read_table, readable

log = logging.getLogger(__name__)

STATE_FORMAT = 1
"""Bumped when the state's meaning changes: an older state then never matches."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def code_fingerprint(package: Path | None = None) -> str:
    """Changes whenever any module of the pipeline does, in any subpackage (an upgrade, or
    an edit in a development checkout): new code may build other tables from the same
    inputs. By content, not mtime, so a checkout or copy that keeps the code keeps the state."""
    digest = hashlib.sha256(__version__.encode())
    package = package or Path(pipeline.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(f"{path.relative_to(package).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_fingerprint(settings: Settings, paths: Sequence[Path]) -> str | None:
    """The lists' bytes and every setting that shapes the tables, as one digest; None when
    a list cannot be read (the full pass then says why, naming the file)."""
    shaping = {
        "format": STATE_FORMAT,
        "schema": SCHEMA_VERSION,
        "code": code_fingerprint(),
        "lists": [str(path) for path in paths],
        "settings": settings.tables_shaping(),
    }
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True).encode())
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        digest.update(f"{len(data)}:".encode())
        digest.update(data)
    return digest.hexdigest()


def next_due(
    settings: Settings,
    papers: pa.Table,
    citations: pa.Table | None,
    wanted: Sequence[str],
    cite_failed: bool,
) -> datetime | None:
    """When a full pass would next have something to ask; None if it would at once.

    ``papers`` and ``citations`` are the tables just built; ``wanted`` the arXiv ids the
    lists name (by link or found by title).
    """
    # Here, not at the top: a run with nothing to do never gets this far (50 ms to import).
    import pyarrow.compute as pc

    if settings.max_age_days <= 0 or cite_failed:
        return None
    paper_ids = papers.column("arxiv_id")
    if not set(wanted) <= set(paper_ids.to_pylist()):
        return None  # ids arXiv did not return (or refused) are asked again every run
    moments = [_oldest(papers, "fetched_at", settings.max_age_days)]
    if settings.cite_sources and not settings.offline:
        if settings.cite_max_age_days <= 0 or citations is None:
            return None
        for source in settings.cite_sources:
            rows = citations.filter(pc.equal(citations.column("source"), source))
            if not set(paper_ids.to_pylist()) <= set(rows.column("arxiv_id").to_pylist()):
                return None  # a paper without a row for a source is asked every run
            moments.append(_oldest(rows, "fetched_at", settings.cite_max_age_days))
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else datetime.max.replace(tzinfo=UTC)


def _oldest(table: pa.Table, column: str, max_age_days: float) -> datetime | None:
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return None
    micros = pc.min(table.column(column).cast(pa.int64())).as_py()
    return _EPOCH + timedelta(microseconds=micros) + timedelta(days=max_age_days)


def state_bytes(fingerprint: str, due: datetime, report: RunReport) -> bytes:
    """What the next run needs to skip, and to say what the tables hold."""
    state = {
        "format": STATE_FORMAT,
        "inputs": fingerprint,
        "due": due.isoformat(),
        "report": {
            "lists": report.lists,
            "entries": report.entries,
            "papers": report.papers,
            "statuses": report.statuses,
            "by_title": report.by_title,
        },
    }
    return json.dumps(state, indent=1, sort_keys=True).encode("utf-8") + b"\n"


def _read_state(enriched_dir: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((enriched_dir / STATE_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        return None
    return state


def skip_until(enriched_dir: Path) -> datetime | None:
    """Until when a refresh with the inputs of the current tables only records itself;
    None when the next refresh makes a full pass whatever happens."""
    state = _read_state(enriched_dir)
    try:
        return None if state is None else datetime.fromisoformat(state["due"])
    except (KeyError, TypeError, ValueError):
        return None


def record_if_unchanged(
    settings: Settings,
    inputs: str,
    started: datetime,
    clock: Callable[[], datetime],
) -> RunReport | None:
    """Record this run and return its report if nothing can have changed; else None.

    Call it holding the data lock, with ``inputs`` the run's ``inputs_fingerprint``.
    """
    t0 = time.monotonic()
    state = _read_state(settings.enriched_dir)
    if state is None or not all(
        (settings.enriched_dir / f"{name}.parquet").exists() for name in ("entries", "papers")
    ):
        return None
    tables = [settings.enriched_dir / f"{name}.parquet" for name in TABLES]
    if not all(readable(path) for path in tables if path.exists()):
        # Carried as they are, damaged tables would stay damaged until something falls due.
        log.warning("a table of the current set cannot be read; making a full pass")
        return None
    try:
        due = datetime.fromisoformat(state["due"])
        counted = state["report"]
        if started >= due or state["inputs"] != inputs:
            return None
        report = RunReport(
            run_id=new_run_id(started),
            lists=int(counted["lists"]),
            entries=int(counted["entries"]),
            papers=int(counted["papers"]),
            statuses={str(k): int(v) for k, v in counted["statuses"].items()},
            by_title=int(counted["by_title"]),
            unchanged=True,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        log.debug("ignoring an unreadable %s", STATE_FILE)
        return None
    quality = read_table(settings.enriched_dir, "quality", TABLES["quality"])
    report.findings = [] if quality is None else quality.to_pylist()
    log.debug("the lists, settings and code are those of the current tables; nothing is due")
    report.seconds = time.monotonic() - t0
    record_run(settings, report, started, clock(), "ok", 0)
    return report


def local_paths(sources: Sequence[str]) -> list[Path] | None:
    """The list files behind ``sources``; None when one is a URL (it must be downloaded to
    know whether it changed, and that is a full pass)."""
    if any(is_url(source) for source in sources):
        return None
    return expand_list_paths([Path(source) for source in sources])
