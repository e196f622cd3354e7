"""State that went wrong between runs: damaged tables, crash leftovers, in-place writes.

A nightly job meets these without anyone watching; each must be repaired by the next run,
never make every later run fail.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings
from pipeline.refresh import run_refresh
from pipeline.store.files import write_file_atomic
from tests.fake_arxiv import FakeArxiv

START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _at(days: float) -> datetime:
    return START + timedelta(days=days)


def _damage(path: Path) -> None:
    path.chmod(0o644)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a truncated file: the footer is gone


@pytest.mark.parametrize("name", ["papers", "entries", "changes"])
def test_a_damaged_table_is_rebuilt_with_a_warning(
    settings: Settings, seed_arxiv: FakeArxiv, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    run_refresh(settings, clock=lambda: START)
    first = pq.read_table(settings.enriched_dir / "papers.parquet").num_rows
    _damage(settings.enriched_dir / f"{name}.parquet")
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        # An hour later: nothing is due, yet the damaged set must not be carried on.
        report = run_refresh(settings, clock=lambda: _at(1 / 24))
    assert not report.unchanged
    assert any("cannot be read" in r.getMessage() for r in caplog.records)
    for table in ("papers", "entries", "changes", "runs"):
        pq.read_table(settings.enriched_dir / f"{table}.parquet")  # every table reads again
    assert pq.read_table(settings.enriched_dir / "papers.parquet").num_rows == first


def test_published_tables_are_read_only(settings: Settings) -> None:
    # A hard link shares bytes with the previous set: an in-place write would damage both.
    run_refresh(settings, clock=lambda: START)
    run_refresh(settings, clock=lambda: _at(1 / 24))
    for path in settings.enriched_dir.glob("*.parquet"):
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path


def test_a_crash_left_set_never_pushes_out_the_previous_one(settings: Settings) -> None:
    run_refresh(settings, clock=lambda: START)
    first = settings.enriched_dir.resolve()
    # A set a killed run left half-renamed, named by a clock far ahead.
    stray = settings.sets_dir / "29990101T000000000000Z"
    stray.mkdir()
    (stray / "papers.parquet").write_bytes(b"not parquet")
    run_refresh(settings, clock=lambda: _at(1 / 24))
    current = settings.enriched_dir.resolve()
    assert sorted(p.name for p in settings.sets_dir.iterdir()) == sorted([first.name, current.name])
    assert (first / "papers.parquet").exists()  # a reader holding the old set still can


def test_stray_temporary_links_are_swept(settings: Settings) -> None:
    run_refresh(settings, clock=lambda: START)
    stray = settings.data_dir / ".enriched.tmp-20260101T000000000000Z"
    stray.symlink_to(".sets/nowhere", target_is_directory=True)
    run_refresh(settings, clock=lambda: _at(1 / 24))
    assert not stray.is_symlink()


def test_a_failed_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "papers.bib"
    target.parent.mkdir()
    target.mkdir()  # replacing a directory by a file fails after the data was written
    with pytest.raises(OSError):
        write_file_atomic(target, b"@misc{x}")
    assert [p.name for p in target.parent.iterdir()] == ["papers.bib"]
    assert list(target.iterdir()) == []


def test_temporaries_of_killed_writers_are_swept(tmp_path: Path) -> None:
    target = tmp_path / "export" / "papers.bib"
    target.parent.mkdir()
    killed = target.with_name(f".papers.bib.tmp-{_exited_pid()}")
    killed.write_bytes(b"half a file")
    # A writer still alive (here: the process that started the tests) keeps its file.
    writing = target.with_name(f".papers.bib.tmp-{os.getppid()}")
    writing.write_bytes(b"being written")
    write_file_atomic(target, b"@misc{x}")
    assert target.read_bytes() == b"@misc{x}"
    assert not killed.exists()
    assert writing.exists()


def _exited_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
