"""The contract every citation source keeps, run against each registered source's fake server
on 127.0.0.1 through the real HTTP stack (as requests-cache runs one base test class over
every backend).

``SourceContract`` holds the promises; ``TestRegisteredSources`` runs them over
``REGISTRY``, one harness per source. ``TestDummySource`` registers a source this module
defines, with its own fake server, and shows that a new source needs nothing but a class and
a registry entry: it passes the same contract, and a refresh that names it writes its rows to
citations.parquet.

Waits are recorded, never slept.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

import pyarrow.parquet as pq
import pytest

from pipeline.config import CITE_SOURCES, Settings
from pipeline.refresh import run_refresh
from pipeline.schemas import ENTRIES
from pipeline.services.arxiv import http_settings
from pipeline.services.citations import (
    CITE_RETRY_BUDGET,
    ENTRY_ID_COLUMNS,
    OPENALEX,
    REGISTRY,
    SEMANTIC_SCHOLAR,
    Citation,
    CiteJob,
    CiteResult,
    chunks,
    run_cite,
)
from pipeline.services.http import HttpClient
from pipeline.services.openalex import OPENALEX_BATCH_SIZE
from pipeline.services.semanticscholar import S2_BATCH_SIZE
from pipeline.venues import ENTRY_VENUE_SOURCES
from tests.fake_arxiv import FakeArxiv, FakePaper
from tests.fake_http import Answer, FakeHTTPService, Request
from tests.fake_scholarly import FakeOpenAlex, FakeSemanticScholar

if TYPE_CHECKING:
    import requests

NOW = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
JSON_TYPE = "application/json"


# -- a dummy source and its fake server ----------------------------------------------------------

DUMMY = "dummy"
DUMMY_BATCH_SIZE = 50
"""The dummy service's limit of ids per ``GET /counts`` (it answers 400 past it)."""
DUMMY_VENUE = "Proceedings of the Dummy Conference"


@dataclass(frozen=True)
class DummyCall:
    """One request the fake dummy service received, and what it answered."""

    ids: list[str]
    status: int | None
    fault: str | None


class FakeDummyCitations(FakeHTTPService[DummyCall]):
    """``GET /counts?ids=a,b`` -> ``{"counts": {"a": 3}}``: ids it does not know are left out."""

    label = "fake-dummy"

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def down(self) -> None:
        self.stop()

    def _respond(self, request: Request) -> Answer:
        ids = [i for i in request.params.get("ids", "").split(",") if i]
        with self._lock:
            answer, fault = self._decide(request.path, ids)
            self._log.append(DummyCall(ids, answer.status, fault))
            return answer

    def _decide(self, path: str, ids: list[str]) -> tuple[Answer, str | None]:
        failure = self._injected_failure()
        if failure is not None:
            return failure, "fail"
        if path != "/counts" or len(ids) > DUMMY_BATCH_SIZE:
            return self._error_answer(400), None
        counts = {i: self.counts[i] for i in ids if i in self.counts}
        body = json.dumps({"counts": counts}).encode()
        if self._truncate_next:
            self._truncate_next -= 1
            return Answer(200, body[: len(body) // 2], JSON_TYPE), "truncate"
        return Answer(200, body, JSON_TYPE), None

    def _error_answer(self, status: int) -> Answer:
        return Answer(status, json.dumps({"error": HTTPStatus(status).phrase}).encode(), JSON_TYPE)


def _counts_problem(response: requests.Response) -> str | None:
    try:
        payload = json.loads(response.content)
    except ValueError as err:
        return f"malformed JSON ({err})"
    if not isinstance(payload, dict) or not isinstance(payload.get("counts"), dict):
        return 'expected {"counts": {...}}'
    return None


@dataclass(frozen=True)
class DummySource:
    """A citation source written as a newcomer would: the protocol and nothing else."""

    name: ClassVar[str] = DUMMY
    label: ClassVar[str] = "Dummy Citations"

    url: str

    def register(self, http: HttpClient) -> None:
        http.set_delay(self.url, 0.5)
        http.add_validator(f"{self.url}/counts", _counts_problem)

    def ask(self, job: CiteJob) -> None:
        for chunk in chunks(job.due, DUMMY_BATCH_SIZE):
            response = job.http.request(
                "GET",
                f"{self.url}/counts",
                service=self.label,
                retry_budget=CITE_RETRY_BUDGET,
                refresh=any(i in job.stale for i in chunk),
                params={"ids": ",".join(chunk)},
            )
            counts = json.loads(response.content)["counts"]
            for arxiv_id in chunk:
                if arxiv_id in counts:
                    job.out[arxiv_id] = Citation(
                        arxiv_id, DUMMY, counts[arxiv_id], None, DUMMY_VENUE, None, None, job.now
                    )
                else:
                    job.out[arxiv_id] = Citation.unknown(arxiv_id, DUMMY, job.now)


# -- one harness per source: its fake, and how to read what it was asked -------------------------


class Harness:
    """A source's fake server, started on enter; checks on exit that the fake had no bug."""

    name: ClassVar[str]
    label: ClassVar[str]
    batch_size: ClassVar[int]
    """The source's documented limit of papers per request."""
    fake: Any

    def __enter__(self) -> Self:
        self.fake.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.fake.stop()
        assert self.fake.errors == [], "\n".join(self.fake.errors)

    @property
    def url(self) -> str:
        return str(self.fake.url)

    def add(self, paper: FakePaper) -> None:
        self.fake.add_paper(paper)

    def settings(self, settings: Settings) -> Settings:
        """``settings`` pointed at the fake."""
        return settings

    def asked(self) -> list[list[str]]:
        """The arXiv ids each paper request carried, in order."""
        raise NotImplementedError


class SemanticScholarHarness(Harness):
    name = SEMANTIC_SCHOLAR
    label = "Semantic Scholar"
    batch_size = S2_BATCH_SIZE

    def __init__(self) -> None:
        self.fake = FakeSemanticScholar()

    def settings(self, settings: Settings) -> Settings:
        return replace(settings, s2_api_url=self.url, s2_api_key=None)

    def asked(self) -> list[list[str]]:
        batches = [r for r in self.fake.requests if r.path.endswith("/paper/batch")]
        return [[i.removeprefix("ARXIV:") for i in r.ids] for r in batches]


class OpenAlexHarness(Harness):
    name = OPENALEX
    label = "OpenAlex"
    batch_size = OPENALEX_BATCH_SIZE

    def __init__(self) -> None:
        self.fake = FakeOpenAlex()

    def settings(self, settings: Settings) -> Settings:
        return replace(settings, openalex_api_url=self.url, openalex_api_key=None)

    def asked(self) -> list[list[str]]:
        return [
            [value.removeprefix("10.48550/arxiv.") for value in r.filter_values]
            for r in self.fake.requests
        ]


class DummyHarness(Harness):
    name = DUMMY
    label = DummySource.label
    batch_size = DUMMY_BATCH_SIZE

    def __init__(self) -> None:
        self.fake = FakeDummyCitations()

    def add(self, paper: FakePaper) -> None:
        self.fake.counts[paper.arxiv_id] = len(self.fake.counts) + 1

    def asked(self) -> list[list[str]]:
        return [call.ids for call in self.fake.requests]


HARNESSES: dict[str, type[Harness]] = {
    SEMANTIC_SCHOLAR: SemanticScholarHarness,
    OPENALEX: OpenAlexHarness,
}


# -- the contract --------------------------------------------------------------------------------


def _papers(first: int, count: int) -> list[FakePaper]:
    # No journal DOI: each paper is one arXiv id (or arXiv DOI) in a request.
    return [FakePaper.synthetic(f"2401.{n:05d}", doi=None) for n in range(first, first + count)]


def _ids(papers: list[FakePaper]) -> list[tuple[str, str | None]]:
    return [(p.arxiv_id, None) for p in papers]


def _own(result: CiteResult, name: str) -> dict[str, Citation]:
    return {row.arxiv_id: row for row in result.rows if row.source == name}


class SourceContract:
    """What every citation source promises. Subclasses provide the ``harness`` fixture."""

    @pytest.fixture
    def slept(self) -> list[float]:
        return []

    @pytest.fixture
    def http(self, tmp_path: Path, slept: list[float]) -> Iterator[HttpClient]:
        client = HttpClient(http_settings(Settings(data_dir=tmp_path, delay=0)), sleep=slept.append)
        yield client
        client.close()

    @pytest.fixture
    def config(self, tmp_path: Path, harness: Harness) -> Settings:
        return harness.settings(Settings(data_dir=tmp_path, cite_sources=(harness.name,)))

    def test_every_due_paper_gets_a_row(
        self, harness: Harness, http: HttpClient, config: Settings
    ) -> None:
        known, unknown = _papers(1, 3), _papers(900, 1)
        for paper in known:
            harness.add(paper)
        result = run_cite(http, config, _ids(known + unknown), [], [], NOW)

        assert result.failures == {}
        rows = _own(result, harness.name)
        assert list(rows) == [p.arxiv_id for p in known + unknown]
        assert all(row.fetched_at == NOW for row in rows.values())
        assert not any(rows[p.arxiv_id].is_empty() for p in known)
        assert rows[unknown[0].arxiv_id] == Citation.unknown(unknown[0].arxiv_id, harness.name, NOW)
        # It spaces its requests: a per-host delay is registered for its URL.
        assert http.delay_for(harness.url) > 0

    def test_asks_only_what_is_due(
        self, harness: Harness, http: HttpClient, config: Settings
    ) -> None:
        old, new = _papers(1, 2), _papers(3, 1)
        for paper in old + new:
            harness.add(paper)
        first = run_cite(http, config, _ids(old), [], [], NOW)
        harness.fake.clear_log()

        again = run_cite(http, config, _ids(old + new), [], first.rows, NOW + timedelta(days=1))
        assert harness.asked() == [[new[0].arxiv_id]]
        assert [_own(again, harness.name)[p.arxiv_id] for p in old] == list(
            _own(first, harness.name).values()
        )
        harness.fake.clear_log()
        later = NOW + timedelta(days=config.cite_max_age_days + 1)
        run_cite(http, config, _ids(old + new), [], again.rows, later)
        assert sorted(i for ids in harness.asked() for i in ids) == [p.arxiv_id for p in old + new]

    def test_batches_stay_within_the_documented_bound(
        self, harness: Harness, http: HttpClient, config: Settings
    ) -> None:
        papers = _papers(1, 2 * harness.batch_size + 1)
        for paper in papers:
            harness.add(paper)
        result = run_cite(http, config, _ids(papers), [], [], NOW)

        assert result.failures == {}
        sizes = [len(ids) for ids in harness.asked()]
        assert sizes == [harness.batch_size, harness.batch_size, 1]
        assert result.requests == {harness.name: 3}

    @pytest.mark.parametrize("status", [500, 503, 429])
    def test_a_failing_service_keeps_previous_rows_and_is_named(
        self, harness: Harness, http: HttpClient, config: Settings, status: int
    ) -> None:
        papers = _papers(1, 3)
        for paper in papers:
            harness.add(paper)
        first = run_cite(http, config, _ids(papers), [], [], NOW)
        harness.fake.fail_next(1000, status=status)
        result = run_cite(http, config, _ids(papers), [], first.rows, NOW + timedelta(days=30))

        failure = result.failures[harness.name]
        assert failure.startswith(f"{harness.label} failed: HTTP {status}")
        assert "3 keep their previous values" in failure and "\n" not in failure
        assert result.rows == first.rows

    def test_an_unreachable_service_keeps_previous_rows_and_is_named(
        self, harness: Harness, http: HttpClient, config: Settings
    ) -> None:
        papers = _papers(1, 2)
        for paper in papers:
            harness.add(paper)
        first = run_cite(http, config, _ids(papers), [], [], NOW)
        harness.fake.down()
        result = run_cite(http, config, _ids(papers), [], first.rows, NOW + timedelta(days=30))

        assert list(result.failures) == [harness.name]
        assert result.failures[harness.name].startswith(
            f"{harness.label} failed: could not reach {harness.label}"
        )
        assert result.rows == first.rows

    def test_answers_are_validated_before_they_are_cached(
        self, harness: Harness, http: HttpClient, config: Settings
    ) -> None:
        papers = _papers(1, 2)
        for paper in papers:
            harness.add(paper)
        harness.fake.truncate_next(1)
        first = run_cite(http, config, _ids(papers), [], [], NOW)
        assert first.failures == {} and first.requests == {harness.name: 2}
        # Without previous rows the papers are asked again, and answered from the cache:
        # the good answer was stored, the truncated one was not.
        again = run_cite(http, config, _ids(papers), [], [], NOW)
        assert again.requests == {harness.name: 0}
        assert again.rows == first.rows


class TestRegisteredSources(SourceContract):
    @pytest.fixture(params=list(REGISTRY))
    def harness(self, request: pytest.FixtureRequest) -> Iterator[Harness]:
        with HARNESSES[request.param]() as harness:
            yield harness


class TestDummySource(SourceContract):
    @pytest.fixture
    def harness(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
        with DummyHarness() as harness:
            url = harness.url
            monkeypatch.setitem(REGISTRY, DUMMY, lambda settings: DummySource(url))
            yield harness


# -- the registry ------------------------------------------------------------------------------


def test_every_registered_source_has_a_contract_harness() -> None:
    assert set(HARNESSES) == set(REGISTRY)


def test_the_registry_is_what_sources_accepts() -> None:
    # --sources is checked against config.CITE_SOURCES before any service module loads.
    assert tuple(REGISTRY) == CITE_SOURCES


def test_source_names_are_not_entry_venue_fields() -> None:
    # normalize_venue takes one mapping of entry fields and sources.
    assert set(REGISTRY).isdisjoint(ENTRY_VENUE_SOURCES)


def test_entry_id_columns_are_entries_columns() -> None:
    assert set(ENTRY_ID_COLUMNS) <= set(REGISTRY)
    assert set(ENTRY_ID_COLUMNS.values()) <= set(ENTRIES.names)


def test_a_registered_dummy_source_reaches_the_tables(
    settings: Settings, seed_arxiv: FakeArxiv, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeDummyCitations() as fake:
        for n, arxiv_id in enumerate(sorted(seed_arxiv.papers), start=1):
            fake.counts[arxiv_id] = n
        url = fake.url
        monkeypatch.setitem(REGISTRY, DUMMY, lambda _: DummySource(url))
        # What `refresh --sources arxiv,dummy` builds.
        slept: list[float] = []
        report = run_refresh(
            dataclasses.replace(settings, cite_sources=(DUMMY,)), sleep=slept.append
        )
    assert fake.errors == []

    assert report.cite_failures == {}
    rows = pq.read_table(settings.enriched_dir / "citations.parquet").to_pylist()
    assert {row["source"] for row in rows} == {DUMMY}
    assert {row["arxiv_id"]: row["citation_count"] for row in rows} == fake.counts
    assert [len(call.ids) for call in fake.requests] == [50, 42]
