"""A refresh or a parse run, from the lock to the published set.

The stages themselves live in stages.py; this module decides whether they need to run at
all (unchanged.py), records the run (runs.py) and publishes its tables (tables.py).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pipeline.config import Settings
from pipeline.errors import EX_OK, EX_SKIPPED, PipelineError
from pipeline.lists.locate import default_sources
from pipeline.schemas import ENTRIES, PAPERS, TABLES
from pipeline.store.runs import (
    STATE_FILE,
    RunReport,
    append_run,
    data_lock,
    new_run_id,
    record_failed_run,
)
from pipeline.store.tables import publish_set, read_table, records_table
from pipeline.store.unchanged import (
    inputs_fingerprint,
    local_paths,
    record_if_unchanged,
    state_bytes,
)

if TYPE_CHECKING:
    from pipeline.fetch import Progress
    from pipeline.outputs.publish import OutputRequest
    from pipeline.services.http import OnWait, Sleep

__all__ = ["data_lock", "run_parse", "run_refresh"]

Clock = Callable[[], datetime]


def run_refresh(
    settings: Settings,
    sleep: Sleep = time.sleep,
    progress: Progress | None = None,
    clock: Clock = lambda: datetime.now(UTC),
    on_wait: OnWait | None = None,
    outputs: OutputRequest | None = None,
) -> RunReport:
    """Parse the lists, fetch what is new or stale, publish a new table set, then rebuild
    the ``outputs`` asked for (report, exports) in their stable home.

    ``on_wait`` hears of each retry wait before ``sleep`` is asked to wait it (a terminal
    shows a countdown).

    A run whose lists, settings and code are those of the current tables, with nothing due
    for a re-check, only records itself (see unchanged.py); its outputs are rebuilt only
    when missing or made from other tables (see outputs/publish.py).
    """
    started = clock()
    t0 = time.monotonic()
    report = RunReport(run_id=new_run_id(started))
    with data_lock(settings):
        sources = list(settings.lists) or default_sources(settings.raw_dir)
        paths = local_paths(sources)
        # Taken before the lists are read: a list edited during the run then differs from
        # what the next run sees, and that run does the full pass.
        inputs = inputs_fingerprint(settings, paths) if paths is not None else None
        if inputs is not None:
            recorded = record_if_unchanged(settings, inputs, started, clock)
            if recorded is not None:
                _outputs(settings, outputs)
                return recorded
        # A large list starts parsing in a second process now, while the stages and HTTP
        # load (a run that stopped above needs none of them).
        from pipeline.lists.parallel import start_worker

        with start_worker(settings, sources) or contextlib.nullcontext() as worker:
            from pipeline.services.arxiv import ArxivApi
            from pipeline.stages import refresh_tables

            with ArxivApi(settings, sleep=sleep, on_wait=on_wait) as api:
                report.stats = api.stats
                try:
                    tables, due = refresh_tables(
                        settings, sources, api, report, started, progress, worker
                    )
                except PipelineError as err:
                    record_failed_run(settings, report, started, clock(), err)
                    raise
        report.seconds = time.monotonic() - t0
        finished = clock()
        # A list skipped as unreadable: the tables are published, and the run says so.
        exit_code = EX_SKIPPED if report.skipped else EX_OK
        tables["runs"] = append_run(settings, report, started, finished, "ok", exit_code)
        unchanged = [name for name, table in tables.items() if table is None]
        state = {}
        if inputs is not None and due is not None and due > finished:
            state[STATE_FILE] = state_bytes(inputs, due, report)
        publish_set(
            settings.enriched_dir,
            settings.sets_dir,
            report.run_id,
            {name: table for name, table in tables.items() if table is not None},
            carry=unchanged,
            files=state,
        )
        _outputs(settings, outputs)
    return report


def _outputs(settings: Settings, outputs: OutputRequest | None) -> None:
    # Under the lock: another refresh cannot publish a set while these are read.
    if outputs:
        from pipeline.outputs.publish import rebuild_outputs

        rebuild_outputs(settings, outputs)


def run_parse(settings: Settings) -> RunReport:
    """Parse the lists and publish new entries beside the current papers; no network."""
    from pipeline.lists.load import load_entries
    from pipeline.stages import count_entries, pending_entries

    t0 = time.monotonic()
    report = RunReport(run_id=new_run_id(datetime.now(UTC)))
    with data_lock(settings):
        sources = list(settings.lists) or default_sources(settings.raw_dir)
        entries = load_entries(sources, None, settings.cache_dir / "lists", skipped=report.skipped)
        papers = read_table(settings.enriched_dir, "papers", PAPERS)
        known = set(papers.column("arxiv_id").to_pylist()) if papers is not None else set()
        enriched = pending_entries(entries, known)
        publish_set(
            settings.enriched_dir,
            settings.sets_dir,
            report.run_id,
            {"entries": records_table(enriched, ENTRIES)},
            carry=[name for name in TABLES if name != "entries"],
        )
    count_entries(report, enriched)
    report.papers = len(known)
    report.seconds = time.monotonic() - t0
    return report
