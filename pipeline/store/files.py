"""One file written whole or not at all: the parse cache, remote list copies, exports.

Apart from the tables' module so that a process that only writes files (the list parse's
worker, lists/background.py) need not import pyarrow.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_file_atomic(path: Path, data: bytes) -> None:
    """Write one file so that readers see the old or the new content, never half; a failed
    write (disk full) leaves no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_dead_temporaries(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _sweep_dead_temporaries(path: Path) -> None:
    # A process killed mid-write leaves its temporary file; the pid in its name says whether
    # that process can still be writing it.
    for stale in path.parent.glob(f".{path.name}.tmp-*"):
        pid = stale.name.rpartition("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                stale.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
