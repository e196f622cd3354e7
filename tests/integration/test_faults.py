"""Faults the real arXiv API shows, injected by the fake: the run rides through or fails
cleanly, and the tables end up equal to a fault-free run's."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings
from pipeline.errors import OfflineCacheMissError, UpstreamHTTPError, UpstreamUnavailableError
from pipeline.refresh import run_refresh
from pipeline.services.http import MAX_ATTEMPTS
from tests.fake_arxiv import FakeArxiv

PAPER_COLUMNS = ["arxiv_id", "version", "title", "abstract", "authors", "published", "updated"]


def _papers(settings: Settings) -> list[dict[str, object]]:
    table = pq.read_table(settings.enriched_dir / "papers.parquet", columns=PAPER_COLUMNS)
    return table.to_pylist()


def _entries(settings: Settings) -> list[tuple[object, ...]]:
    rows = pq.read_table(settings.enriched_dir / "entries.parquet").to_pylist()
    return [tuple(r.values()) for r in rows]


@pytest.fixture
def clean_tables(tmp_path: Path, settings: Settings) -> tuple[list[dict[str, object]], list]:
    """What a fault-free run of the same list against the same server writes."""
    reference = dataclasses.replace(settings, data_dir=tmp_path / "reference")
    (reference.raw_dir).mkdir(parents=True)
    for path in settings.raw_dir.glob("*.md"):
        (reference.raw_dir / path.name).write_bytes(path.read_bytes())
    run_refresh(reference)
    return _papers(reference), _entries(reference)


def _faulty_run(settings: Settings, fake: FakeArxiv, slept: list[float]) -> None:
    # Title searches go through the same layer; leaving them out keeps the faults on the
    # id requests, where a lost or broken answer would change the tables.
    fake.clear_log()
    run_refresh(dataclasses.replace(settings, batch_size=30, resolve=False), sleep=slept.append)


FAULTS: dict[str, Callable[[FakeArxiv], None]] = {
    "503 twice": lambda f: f.fail_next(2, status=503),
    "500 then 502": lambda f: (f.fail_next(1, status=500), f.fail_next(1, status=502)),
    "connection reset": lambda f: f.reset_next(2),
    "unexpectedly empty page": lambda f: f.empty_next(2),
    "truncated feed": lambda f: f.truncate_next(2),
    "every third answer truncated": lambda f: f.truncate_every(3),
    "every second answer empty": lambda f: f.empty_every(2),
    "entity bomb": lambda f: f.bomb_next(1),
}


@pytest.mark.parametrize("inject", FAULTS.values(), ids=FAULTS.keys())
def test_transient_faults_are_retried_to_the_same_tables(
    settings: Settings, seed_arxiv: FakeArxiv, clean_tables: tuple, inject: Callable
) -> None:
    inject(seed_arxiv)
    slept: list[float] = []
    _faulty_run(settings, seed_arxiv, slept)
    assert (_papers(settings), _entries(settings)) == clean_tables
    faulted = [r for r in seed_arxiv.requests if r.fault or r.status != 200]
    assert faulted, "the fault was injected"
    assert len(slept) == len(faulted)  # one wait per failed attempt, none in a tight loop
    assert all(wait >= 2.0 for wait in slept)


def test_429_backs_off_for_tens_of_seconds(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    seed_arxiv.fail_next(3, status=429)
    slept: list[float] = []
    _faulty_run(settings, seed_arxiv, slept)
    assert len(slept) == 3
    assert 30 <= slept[0] < 40 and 60 <= slept[1] < 80 and 120 <= slept[2] < 160


@pytest.mark.parametrize(
    "retry_after", [90, "Wed, 21 Oct 2099 07:28:00 GMT"], ids=["seconds", "http-date"]
)
def test_retry_after_is_honoured(
    settings: Settings, seed_arxiv: FakeArxiv, retry_after: int | str
) -> None:
    seed_arxiv.fail_next(1, status=503, retry_after=retry_after)
    slept: list[float] = []
    if isinstance(retry_after, int):
        _faulty_run(settings, seed_arxiv, slept)
        assert slept[0] >= 90
    else:
        # A date decades away is beyond the retry budget: give up at once, say why.
        with pytest.raises(UpstreamHTTPError) as caught:
            _faulty_run(settings, seed_arxiv, slept)
        assert slept == [] and caught.value.status == 503


def test_a_persistent_error_fails_the_run_naming_url_status_attempts(
    settings: Settings, seed_arxiv: FakeArxiv, clean_tables: tuple
) -> None:
    run_refresh(settings)
    seed_arxiv.clear_log()
    seed_arxiv.fail_next(100, status=503)
    slept: list[float] = []
    with pytest.raises(UpstreamHTTPError) as caught:
        run_refresh(dataclasses.replace(settings, max_age_days=0), sleep=slept.append)
    message = str(caught.value)
    assert seed_arxiv.url.split("://")[1] in message and "HTTP 503" in message
    assert "id_list" not in message  # the host and path, not a query of a thousand ids
    assert f"after {MAX_ATTEMPTS} attempt(s)" in message
    assert len(seed_arxiv.requests) == MAX_ATTEMPTS
    assert sum(slept) <= settings.max_retry_seconds
    # The previous tables are still there, whole, and the failure is on record.
    assert (_papers(settings), _entries(settings)) == clean_tables
    runs = pq.read_table(settings.enriched_dir / "runs.parquet").to_pylist()
    assert [(r["status"], r["exit_code"]) for r in runs] == [("ok", 0), ("failed", 1)]


def test_read_timeout_is_retried(settings: Settings, seed_arxiv: FakeArxiv, clean_tables) -> None:
    seed_arxiv.hang_next(1, seconds=2.0)
    slept: list[float] = []
    fast = dataclasses.replace(settings, read_timeout=0.3)
    run_refresh(fast, sleep=slept.append)
    assert len(slept) == 1
    assert (_papers(settings), _entries(settings)) == clean_tables


def test_arxiv_down_fails_with_one_clear_error(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    run_refresh(settings)
    before = _papers(settings)
    url = seed_arxiv.url
    seed_arxiv.stop()
    with pytest.raises(UpstreamUnavailableError) as caught:
        run_refresh(dataclasses.replace(settings, max_age_days=0), sleep=lambda s: None)
    assert "could not reach arXiv at 127.0.0.1" in str(caught.value)
    assert url.split("://")[1] in str(caught.value)
    assert "connection refused, after 2 attempt(s)" in str(caught.value)
    assert _papers(settings) == before


def test_errors_are_never_cached(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    settings = dataclasses.replace(settings, resolve=False)
    seed_arxiv.truncate_next(1)
    run_refresh(settings, sleep=lambda s: None)
    assert [r.fault for r in seed_arxiv.requests] == ["truncate", None]
    # Start again from no tables: the one good answer is cached, the truncated one was not.
    seed_arxiv.clear_log()
    run_refresh(dataclasses.replace(settings, data_dir=_fresh(settings)), sleep=lambda s: None)
    assert seed_arxiv.requests == []


def _fresh(settings: Settings) -> Path:
    """A second data dir that shares the first one's HTTP cache and lists, but no tables."""
    other = settings.data_dir.parent / "other"
    (other / "raw").mkdir(parents=True)
    for path in settings.raw_dir.glob("*.md"):
        (other / "raw" / path.name).write_bytes(path.read_bytes())
    (other / "cache").symlink_to(settings.cache_dir.resolve(), target_is_directory=True)
    return other


def test_a_rejected_id_is_dropped_and_the_rest_of_its_batch_fetched(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    seed_arxiv.reject_ids("2305.16381")
    report = run_refresh(settings, sleep=lambda s: None)
    rows = pq.read_table(settings.enriched_dir / "entries.parquet").to_pylist()
    entry = next(e for e in rows if e["arxiv_id"] == "2305.16381")
    assert entry["status"] == "invalid"
    quality = pq.read_table(settings.enriched_dir / "quality.parquet").to_pylist()
    [finding] = [q for q in quality if q["kind"] == "invalid"]
    assert finding["line"] == entry["line"] and "2305.16381" in finding["detail"]
    assert "2305.16381" not in {p["arxiv_id"] for p in _papers(settings)}
    assert len(_papers(settings)) == 91
    # The 400 is not retried: one refused request, one for the rest of the batch.
    assert [r.status for r in seed_arxiv.id_requests] == [400, 200]
    assert report.stats.retries == 0


def test_rate_limit_keeps_the_server_happy(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    seed_arxiv.min_interval(0.2)
    run_refresh(dataclasses.replace(settings, batch_size=25, delay=0.25))
    assert len(seed_arxiv.requests) >= 4
    assert {r.status for r in seed_arxiv.requests} == {200}


def test_offline_uses_the_cache_and_never_the_network(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    run_refresh(settings)
    seed_arxiv.clear_log()
    other = _fresh(settings)
    report = run_refresh(dataclasses.replace(settings, data_dir=other, offline=True))
    assert seed_arxiv.requests == [] and report.papers == 92


def test_offline_with_nothing_cached_says_so(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    with pytest.raises(OfflineCacheMissError, match="run once online"):
        run_refresh(dataclasses.replace(settings, offline=True))
    assert seed_arxiv.requests == []
    assert not settings.enriched_dir.exists()


def test_an_interrupted_run_resumes_from_the_cache(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    settings = dataclasses.replace(settings, batch_size=25, resolve=False)

    def interrupt_after_two_batches(done: int, total: int) -> None:
        if done >= 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_refresh(settings, progress=interrupt_after_two_batches)
    assert not settings.enriched_dir.exists()  # nothing half-published
    assert len(seed_arxiv.id_requests) == 2
    seed_arxiv.clear_log()

    report = run_refresh(settings)

    assert len(seed_arxiv.id_requests) == 2  # only the two batches never answered
    assert report.stats.cache_hits == 2
    assert len(_papers(settings)) == 92
