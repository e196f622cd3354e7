"""A large list is parsed in a second process while its first ids are fetched (prefetch.py,
lists/parallel.py).

The seed list is small; ``parallel.MIN_LIST_BYTES`` is lowered so that it counts as large. Whatever
the worker does, a run's tables and requests are those of a run without it.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pipeline import prefetch, stages
from pipeline.config import Settings
from pipeline.errors import UpstreamHTTPError
from pipeline.fetch import FetchResult
from pipeline.lists import background, parallel
from pipeline.lists.load import load_cached, load_list_file, parse_is_cached
from pipeline.lists.markdown import MAX_LINE
from pipeline.models import Author, Paper
from pipeline.refresh import run_refresh
from pipeline.services.arxiv import fetched_table, paper_row
from tests.fake_arxiv import FakeArxiv

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
COMPARED = ("entries", "papers", "authors", "quality")
BATCH = 20


def _run(settings: Settings, now: datetime = NOW) -> dict[str, list[dict[str, Any]]]:
    run_refresh(settings, sleep=lambda s: None, clock=lambda: now)
    return {t: pq.read_table(settings.enriched_dir / f"{t}.parquet").to_pylist() for t in COMPARED}


@pytest.fixture
def small(settings: Settings) -> Settings:
    # No title searches: the id requests are then the whole traffic.
    return dataclasses.replace(settings, resolve=False, batch_size=BATCH)


@pytest.fixture
def early(monkeypatch: pytest.MonkeyPatch) -> list[prefetch.Prefetched]:
    """Every list counts as large; what each run fetched early is recorded."""
    monkeypatch.setattr(parallel, "MIN_LIST_BYTES", 0)
    seen: list[prefetch.Prefetched] = []

    def recorded(*args: Any, **kwargs: Any) -> prefetch.Prefetched:
        seen.append(prefetch.fetch_while_parsing(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(stages, "fetch_while_parsing", recorded)
    return seen


def _without_worker(small: Settings, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "raw").mkdir()
    for path in small.raw_dir.iterdir():
        (alone / "raw" / path.name).write_bytes(path.read_bytes())
    return _run(dataclasses.replace(small, data_dir=alone))


def test_the_tables_and_requests_are_those_of_a_run_without_the_worker(
    small: Settings, seed_arxiv: FakeArxiv, early: list[prefetch.Prefetched], tmp_path: Path
) -> None:
    tables = _run(small)
    [fetched] = early
    ids = len({p["arxiv_id"] for p in tables["papers"]})
    # Every full batch was asked while the list was parsed; the rest after.
    assert len(fetched.asked) == ids // BATCH * BATCH > 0
    requests = [r.id_list for r in seed_arxiv.id_requests]
    assert len(requests) == -(-ids // BATCH)  # arXiv's floor, not one more
    assert sorted(i for r in requests for i in r) == sorted(p["arxiv_id"] for p in tables["papers"])

    early.clear()
    parallel.MIN_LIST_BYTES = 10**12  # restored by monkeypatch
    assert _without_worker(small, tmp_path) == tables
    assert early == []


def test_a_second_run_parses_nothing_in_a_worker(
    small: Settings, seed_arxiv: FakeArxiv, early: list[prefetch.Prefetched]
) -> None:
    _run(small)
    assert parse_is_cached(next(small.raw_dir.iterdir()), small.cache_dir / "parsed")
    _run(dataclasses.replace(small, max_age_days=0), NOW + timedelta(days=1))
    assert len(early) == 1  # the list's parse was cached: no worker the second time


def test_a_worker_that_fails_leaves_the_run_as_it_would_be(
    small: Settings,
    seed_arxiv: FakeArxiv,
    early: list[prefetch.Prefetched],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(parallel, "WORKER", "pipeline.no_such_module")
    tables = _run(small)
    assert early[0].asked == set()
    assert "Traceback" not in capfd.readouterr().err
    monkeypatch.setattr(parallel, "MIN_LIST_BYTES", 10**12)
    assert _without_worker(small, tmp_path) == tables


def _interrupt(done: int, total: int) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("stop", ["failed fetch", "Ctrl-C"])
def test_a_run_that_stops_stops_the_worker(
    small: Settings,
    seed_arxiv: FakeArxiv,
    early: list[prefetch.Prefetched],
    monkeypatch: pytest.MonkeyPatch,
    stop: str,
) -> None:
    started: list[subprocess.Popen[str]] = []
    real_popen = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[str]:
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(parallel.subprocess, "Popen", popen)
    if stop == "failed fetch":
        seed_arxiv.fail_next(100, status=503)
        with pytest.raises(UpstreamHTTPError):
            run_refresh(small, sleep=lambda s: None)
    else:
        with pytest.raises(KeyboardInterrupt):
            run_refresh(small, sleep=lambda s: None, progress=_interrupt)
    [worker] = started
    assert worker.returncode is not None  # stopped and reaped, not left running
    assert not (small.enriched_dir / "entries.parquet").exists()
    assert list((small.cache_dir / "parsed").glob(".*tmp*")) == []


def test_the_worker_tells_each_id_once_in_list_order_and_caches_the_parse(
    tmp_path: Path,
) -> None:
    lst = tmp_path / "list.md"
    lst.write_text(
        "# L\n\n"
        "* First. [[pdf]](https://arxiv.org/abs/2401.00001)\n"
        "* Second. [[pdf]](https://arxiv.org/abs/2401.00002)\n"
        "* First again. [[pdf]](https://arxiv.org/abs/2401.00001)\n"
        "* Third. [[pdf]](https://arxiv.org/abs/2401.00003)\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    background.parse_files([lst, tmp_path / "missing.md"], tmp_path / "parsed", out)
    messages = [json.loads(line) for line in out.getvalue().splitlines()]
    assert messages == [["ids", ["2401.00001", "2401.00002", "2401.00003"]], ["done"]]
    assert parse_is_cached(lst, tmp_path / "parsed")
    assert load_cached(lst, tmp_path / "parsed") == load_list_file(lst)


def test_the_worker_sends_the_parse_warnings_to_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lst = tmp_path / "list.md"
    long_line = "* " + "x" * MAX_LINE + " https://arxiv.org/abs/2401.00009"
    lst.write_text(f"# L\n\n{long_line}\n", encoding="utf-8")
    with parallel.ParseWorker(tmp_path / "parsed", [lst]) as worker:
        told = list(worker.messages())
    assert told == [["ids", ["2401.00009"]]]
    assert caplog.text.count(f"line 3 has {len(long_line)} characters") == 1


def test_ids_the_plan_does_not_want_are_dropped() -> None:
    rows = [paper_row(_paper(i)) for i in ("2401.00001", "2401.00002", "2401.00003")]
    fetched = FetchResult(pages=[fetched_table(rows)], not_found={"2401.00004"})
    done = prefetch.Prefetched(result=fetched, asked={f"2401.0000{n}" for n in range(1, 5)})
    taken = done.take(["2401.00003", "2401.00001", "2401.00004"])
    assert taken.ids == ["2401.00001", "2401.00003"]  # in the order fetched
    assert taken.not_found == {"2401.00004"}
    assert done.take(["2401.00002"]).not_found == set()


def _paper(arxiv_id: str) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        version=1,
        title=f"Paper {arxiv_id}",
        abstract="",
        authors=(Author("A. Author", ()),),
        published=NOW,
        updated=NOW,
        primary_category="cs.LG",
        categories=("cs.LG",),
        doi=None,
        journal_ref=None,
        comment=None,
        abs_url=f"http://arxiv.org/abs/{arxiv_id}v1",
        pdf_url=None,
        fetched_at=NOW,
    )
