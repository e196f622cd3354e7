"""The list parse's second process, seen from the run: started, listened to, stopped.

A refresh starts it as early as it can (``refresh.py``, before the fetch's libraries are
loaded), when the lists it would parse are large; ``prefetch.py`` then fetches the ids it
reports while it parses. The worker itself is ``lists/background.py``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from queue import Queue
from typing import Any

import pipeline
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.lists.load import parse_is_cached
from pipeline.lists.locate import expand_list_paths, is_url

MIN_LIST_BYTES = 1_000_000
"""Lists smaller than this together parse in well under half a second: not worth a
process of their own (bench/results.md)."""

WORKER = "pipeline.lists.background"
"""The module the second process runs."""

STOP_SECONDS = 5.0
"""How long a stopped worker may take to unwind before it is killed."""


def lists_to_parse(settings: Settings, sources: Sequence[str]) -> list[Path]:
    """The local list files a refresh would parse (no cached parse), when worth a worker:
    none offline (nothing to fetch meanwhile), none when they are small together."""
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


class ParseWorker:
    """``python -m pipeline.lists.background`` on some list files; its messages as they
    come (log records are logged here, not passed on). Leaving the ``with`` block stops it,
    whatever the run is doing (a failed fetch, Ctrl-C)."""

    def __init__(self, parsed_dir: Path, paths: Sequence[Path]) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", WORKER, str(parsed_dir), *map(str, paths)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_child_env(os.environ),
            text=True,
            encoding="utf-8",
        )
        self._lines: Queue[str | None] = Queue()
        # Drained by a thread: the parse outruns the fetch, and a full pipe would stop it.
        self._reader = threading.Thread(
            target=_drain, args=(self._proc.stdout, self._lines.put), daemon=True
        )
        self._reader.start()

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def messages(self) -> Iterator[list[Any]]:
        """``["ids", [...]]`` messages until the worker is done (or gone)."""
        while (line := self._lines.get()) is not None:
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

    def stop(self) -> None:
        proc = self._proc
        try:
            proc.wait(0.2)  # a worker that said "done" is exiting
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._reader.join(STOP_SECONDS)
        if proc.stdout is not None:
            proc.stdout.close()


def start_worker(settings: Settings, sources: Sequence[str]) -> ParseWorker | None:
    """A worker parsing the large lists of ``sources`` that have no cached parse, or None."""
    paths = lists_to_parse(settings, sources)
    return ParseWorker(settings.cache_dir / "parsed", paths) if paths else None


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
