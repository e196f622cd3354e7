"""A large list's parse and its first fetches, side by side.

A cold run of a large list spends seconds parsing it, then seconds asking arXiv and reading
the answers, each on one core. Here a second process parses the lists that have no cached
parse (``lists/background.py``) while this one asks arXiv for the new ids the parse reports,
a full batch at a time: the requests the fetch stage would make, never more. The parse cache
then gives the stages their entries, and the fetch stage asks only for what was not asked
yet (the list's last part, what the title searches found, stale papers).

Whatever goes wrong with the second process, the run stays what it would have been: the
stages parse what the worker did not, and fetch what was not fetched.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from queue import Queue
from typing import Any

import pyarrow as pa

import pipeline
from pipeline.arrow import column
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.fetch import FetchResult, Progress, fetch_papers
from pipeline.lists.load import parse_is_cached
from pipeline.lists.locate import expand_list_paths, is_url
from pipeline.services.arxiv import ArxivApi

log = logging.getLogger(__name__)

MIN_LIST_BYTES = 1_000_000
"""Lists smaller than this together parse in well under half a second: not worth a
process of their own (bench/results.md)."""

WORKER = "pipeline.lists.background"
"""The module the second process runs."""

STOP_SECONDS = 5.0
"""How long a stopped worker may take to unwind before it is killed."""


@dataclass
class Prefetched:
    """What was asked while the lists were parsed."""

    result: FetchResult = field(default_factory=FetchResult)
    asked: set[str] = field(default_factory=set)
    """Every id asked (found, not found or refused)."""

    def take(self, wanted: Sequence[str]) -> FetchResult:
        """The answers about ``wanted`` ids, pages in the order they were fetched: an id the
        final plan does not want (found by title instead, say) is dropped."""
        keep = set(wanted)
        out = FetchResult(
            not_found={i for i in self.result.not_found if i in keep},
            invalid={i: why for i, why in self.result.invalid.items() if i in keep},
        )
        for page in self.result.pages:
            ids = page.column("arxiv_id").to_pylist()
            rows = [row for row, arxiv_id in enumerate(ids) if arxiv_id in keep]
            if len(rows) == len(ids):
                out.pages.append(page)
            elif rows:
                out.pages.append(page.take(column(rows, pa.int64())))
        return out


def lists_to_parse(settings: Settings, sources: Sequence[str]) -> list[Path]:
    """The local list files a refresh would parse (no cached parse), when worth a worker:
    none offline (nothing to fetch), none when they are small together."""
    if settings.offline:
        return []
    try:
        paths = expand_list_paths([Path(s) for s in sources if not is_url(s)])
        parsed_dir = settings.cache_dir / "parsed"
        todo = [p for p in paths if not parse_is_cached(p, parsed_dir)]
        size = sum(p.stat().st_size for p in todo)
    except (PipelineError, OSError):
        return []  # the stages name the problem when they read the lists
    return todo if size >= MIN_LIST_BYTES else []


def fetch_while_parsing(
    settings: Settings,
    paths: Sequence[Path],
    api: ArxivApi,
    known: Collection[str],
    fetched_at: datetime,
    progress: Progress | None,
) -> Prefetched:
    """Parse ``paths`` in a second process; meanwhile fetch, a full batch at a time, the
    ids it reports that are not ``known`` (papers in the tables already)."""
    done = Prefetched()
    pending: list[str] = []
    size = settings.batch_size
    with _worker(settings.cache_dir / "parsed", paths) as messages:
        for message in messages:
            if message[0] != "ids":
                continue
            for arxiv_id in message[1]:
                # A malformed id is refused by fetch_papers without a request.
                if arxiv_id not in known and arxiv_id not in done.asked:
                    done.asked.add(arxiv_id)
                    pending.append(arxiv_id)
            while len(pending) >= size:
                batch, pending = pending[:size], pending[size:]
                _add(done.result, fetch_papers(api, batch, size, fetched_at=fetched_at))
                if progress:
                    progress(len(done.asked) - len(pending), 0)  # the total is not known yet
    done.asked.difference_update(pending)  # a part batch waits for the fetch stage
    return done


def _add(into: FetchResult, result: FetchResult) -> None:
    into.pages.extend(result.pages)
    into.not_found.update(result.not_found)
    into.invalid.update(result.invalid)


@contextmanager
def _worker(parsed_dir: Path, paths: Sequence[Path]) -> Iterator[Iterator[list[Any]]]:
    """The worker's messages as they come (log records logged here, not yielded); the worker
    is stopped when the caller leaves early (a failed fetch, Ctrl-C)."""
    command = [sys.executable, "-m", WORKER, str(parsed_dir)]
    proc = subprocess.Popen(
        [*command, *map(str, paths)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_child_env(os.environ),
        text=True,
        encoding="utf-8",
    )
    assert proc.stdout is not None
    lines: Queue[str | None] = Queue()
    # Drained by a thread: the parse outruns the fetch, and a full pipe would stop it.
    reader = threading.Thread(target=_drain, args=(proc.stdout, lines.put), daemon=True)
    reader.start()
    try:
        yield _messages(lines)
    finally:
        _stop(proc)
        reader.join(STOP_SECONDS)
        proc.stdout.close()


def _child_env(env: Mapping[str, str]) -> dict[str, str]:
    # The worker imports this very package, wherever it was imported from.
    root = str(Path(pipeline.__file__).resolve().parent.parent)
    paths = env.get("PYTHONPATH", "")
    return {**env, "PYTHONPATH": root + (os.pathsep + paths if paths else "")}


def _drain(stream: Any, put: Callable[[str | None], None]) -> None:
    try:
        for line in stream:
            put(line)
    finally:
        put(None)


def _messages(lines: Queue[str | None]) -> Iterator[list[Any]]:
    while (line := lines.get()) is not None:
        try:
            message = json.loads(line)
        except ValueError:
            return  # not the worker's protocol: stop listening; the stages parse the rest
        if message[0] == "log":
            _, name, level, text = message
            logging.getLogger(name).log(level, "%s", text)
        elif message[0] == "done":
            return
        else:
            yield message


def _stop(proc: subprocess.Popen[str]) -> None:
    try:
        proc.wait(0.2)  # a worker that said "done" is exiting
        return
    except subprocess.TimeoutExpired:
        proc.terminate()
    try:
        proc.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
