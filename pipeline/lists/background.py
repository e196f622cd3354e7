"""List files parsed in a second process, each entry's arXiv id told as the parse finds it.

Started by ``pipeline/prefetch.py`` as ``python -m pipeline.lists.background PARSED_DIR
FILE...``, so that a large list is parsed on one core while its first ids are fetched on
the other. It parses each file as ``load.load_cached`` does, which writes the file's parse
cache: the parent then reads the entries back instead of parsing them again. On stdout it
writes one JSON array per line:

    ["ids", [id, ...]]            ids of entries, in list order, each once
    ["log", logger, level, text]  a log record of the parse, for the parent to log
    ["done"]                      every file parsed

A file that cannot be read is passed over: the parent reads it itself and names the
problem as it always does. Nothing here writes to stderr, and an interrupted or failed
worker exits without a traceback; the parent parses whatever the worker did not.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from pipeline.errors import InputError
from pipeline.lists.load import load_cached
from pipeline.models import ListEntry

CHUNK = 500
"""Ids per message: a quarter of a batch, so the parent's batch fills soon after its last
id is parsed, without a message per entry."""


class _Stream:
    """The JSON lines of one worker, and the ids already told."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._told: set[str] = set()
        self._ids: list[str] = []

    def send(self, *message: Any) -> None:
        self._out.write(json.dumps(message) + "\n")
        self._out.flush()

    def entry(self, entry: ListEntry) -> None:
        arxiv_id = entry.arxiv_id
        if arxiv_id and arxiv_id not in self._told:
            self._told.add(arxiv_id)
            self._ids.append(arxiv_id)
            if len(self._ids) >= CHUNK:
                self.flush()

    def flush(self) -> None:
        if self._ids:
            self.send("ids", self._ids)
            self._ids = []


class _Forward(logging.Handler):
    """Log records of the parse (an overlong line, say) go to the parent, which logs them
    where its own go: the worker has no terminal of its own."""

    def __init__(self, stream: _Stream) -> None:
        super().__init__(logging.INFO)
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        self._stream.send("log", record.name, record.levelno, record.getMessage())


def parse_files(paths: Sequence[Path], parsed_dir: Path, out: TextIO) -> None:
    """Parse each file (writing its parse cache), telling ``out`` the ids as they come."""
    stream = _Stream(out)
    logger = logging.getLogger("pipeline")
    logger.addHandler(_Forward(stream))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for path in paths:
        try:
            entries = load_cached(path, parsed_dir, stream.entry)
        except InputError:
            continue
        for entry in entries:  # those the recall pass built at the end of the file
            stream.entry(entry)
        stream.flush()
    stream.send("done")


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str]) -> int:
    # Stopped by the parent (terminate) or by a Ctrl-C to the whole process group: unwind,
    # so a parse cache half written is removed by write_file_atomic.
    signal.signal(signal.SIGTERM, _stop)
    try:
        parse_files([Path(p) for p in argv[1:]], Path(argv[0]), sys.stdout)
    except BaseException:  # stopped, or failed: the parent parses what is left itself
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
