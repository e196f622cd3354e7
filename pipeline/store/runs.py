"""Runs: one at a time per data directory, each with an id, a summary line and a row in
runs.parquet.

Kept apart from the stages (and light on imports) so that a run with nothing to do can be
told, recorded and finished without loading the HTTP stack, the parser or the arxiv
package.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import filelock
import pyarrow as pa

from pipeline.config import Settings
from pipeline.errors import EX_FAILED, LockedError, LockError, PipelineError
from pipeline.models import finding_counts
from pipeline.schemas import RUNS, TABLES
from pipeline.services.stats import HttpStats
from pipeline.store.tables import build_table, conform, publish_set, read_table

log = logging.getLogger(__name__)

STATE_FILE = "refresh-state.json"
"""Left beside the tables by a refresh: what unchanged.py needs to skip the next run."""


@dataclass
class RunReport:
    """What one run did; the CLI prints it as one summary line."""

    run_id: str
    lists: int = 0
    entries: int = 0
    papers: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    fetched: int = 0
    """Papers asked of arXiv this run (new and stale ids)."""
    by_title: int = 0
    changes: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)
    cite_failures: dict[str, str] = field(default_factory=dict)
    """Citation sources that failed this run -> why (their previous values were kept)."""
    stats: HttpStats = field(default_factory=HttpStats)
    seconds: float = 0.0
    unchanged: bool = False
    """Nothing could have changed since the last run, so no stage ran (see unchanged.py)."""
    per_list: dict[str, int] = field(default_factory=dict)
    """Entries of each list read, in the order read."""
    skipped: list[str] = field(default_factory=list)
    """List files left out because they could not be read: one error line each."""

    def summary(self) -> str:
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
        if self.by_title:
            statuses += f", {self.by_title} found by title"
        problems = ", ".join(f"{n} {kind}" for kind, n in finding_counts(self.findings).items())
        lists = f"{self.lists} list(s)"
        if len(self.per_list) > 1:
            lists += " (" + ", ".join(f"{name} {n}" for name, n in self.per_list.items()) + ")"
        if self.skipped:
            lists += f", {len(self.skipped)} skipped"
        return (
            f"{self.entries} entries from {lists}, {self.papers} papers "
            f"({statuses}); findings: {problems or 'none'}; "
            f"{self.fetched} fetched, {self.changes} change(s); "
            f"{self.stats.requests} request(s), {self.stats.cache_hits} cached, "
            f"{self.stats.retries} retries, {self.stats.seconds_slept:.1f} s slept, "
            f"{self.seconds:.1f} s"
        )


def new_run_id(now: datetime) -> str:
    """Sortable, unique enough for one data directory (runs hold a lock)."""
    return now.strftime("%Y%m%dT%H%M%S%fZ")


@contextlib.contextmanager
def data_lock(settings: Settings) -> Iterator[None]:
    """One run per data directory; the OS drops the lock if the process dies.

    A data directory this run had to create is removed again if the run fails before
    writing anything in it: a mistyped --data-dir leaves no trace.
    """
    created = not settings.data_dir.exists()
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(settings.lock_path, timeout=0)
        lock.acquire()
    except filelock.Timeout:
        raise LockedError(
            f"another run holds {settings.lock_path}; it is still working on "
            f"{settings.data_dir}. Nothing was changed. Wait for it to finish."
        ) from None
    except OSError as err:
        raise LockError(
            f"cannot take the lock {settings.lock_path}: {err.strerror or err}; "
            "make it a writable file (or remove it) and run again"
        ) from None
    try:
        yield
    except BaseException:
        lock.release()
        if created:
            _remove_if_untouched(settings)
        raise
    lock.release()


def _remove_if_untouched(settings: Settings) -> None:
    with contextlib.suppress(OSError):
        if [p.name for p in settings.data_dir.iterdir()] == [settings.lock_path.name]:
            settings.lock_path.unlink()
            settings.data_dir.rmdir()


def append_run(
    settings: Settings,
    report: RunReport,
    started: datetime,
    finished: datetime,
    status: str,
    exit_code: int,
) -> pa.Table:
    """The runs table of the current set with this run's row added."""
    row = {
        "run_id": report.run_id,
        "started": started,
        "finished": finished,
        "status": status,
        "exit_code": exit_code,
        "lists": report.lists,
        "entries": report.entries,
        "papers": report.papers,
        "requests": report.stats.requests,
        "cache_hits": report.stats.cache_hits,
        "retries": report.stats.retries,
        "seconds_slept": report.stats.seconds_slept,
    }
    previous = read_table(settings.enriched_dir, "runs", RUNS)
    new = build_table([row], RUNS)
    return new if previous is None else conform(pa.concat_tables([previous, new]), RUNS)


def record_failed_run(
    settings: Settings, report: RunReport, started: datetime, finished: datetime, err: PipelineError
) -> None:
    """Add a run that arXiv failed to runs.parquet; every other table stays as it was.

    Bad input (exit 2) is not recorded: such a run promises to have written nothing.
    """
    if not settings.enriched_dir.exists() or err.exit_code != EX_FAILED:
        return
    try:
        record_run(settings, report, started, finished, "failed", err.exit_code)
    except OSError as publish_error:  # the run's own error is the one to report
        log.warning("could not record the failed run: %s", publish_error)


def record_run(
    settings: Settings,
    report: RunReport,
    started: datetime,
    finished: datetime,
    status: str,
    exit_code: int,
) -> None:
    """Publish a set that differs from the current one only by this run's row in runs.parquet.

    The state file goes on with the tables: they are still the ones it describes.
    """
    publish_set(
        settings.enriched_dir,
        settings.sets_dir,
        report.run_id,
        {"runs": append_run(settings, report, started, finished, status, exit_code)},
        carry=[name for name in TABLES if name != "runs"],
        carry_files=[STATE_FILE],
    )
