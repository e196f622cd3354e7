"""The cite stage against fake Semantic Scholar and OpenAlex servers on 127.0.0.1, through the
real HTTP stack (``HttpClient``: requests-cache, per-host rate limits, tenacity retries).

Waits are recorded, never slept: the client gets ``sleep=slept.append``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from pipeline.config import CITE_SOURCES as SOURCES
from pipeline.config import Settings
from pipeline.schemas import CITATIONS
from pipeline.services.arxiv import http_settings
from pipeline.services.citations import (
    OPENALEX,
    SEMANTIC_SCHOLAR,
    Citation,
    CiteResult,
    ExternalIds,
    run_cite,
)
from pipeline.services.http import HttpClient
from pipeline.services.openalex import OPENALEX_SELECT
from pipeline.services.semanticscholar import S2_FIELDS
from pipeline.store.tables import citations_table
from tests.conftest import seed_papers
from tests.fake_arxiv import FakePaper
from tests.fake_scholarly import (
    FakeOpenAlex,
    FakeSemanticScholar,
    fixture_bytes,
    openalex_work,
    s2_record,
)

NOW = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
MAILTO = "lists@example.org"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# The seed list's entries without an arXiv link (tests/fixtures/lists/, as parsed).
CLASSIC = "Rank Analysis of Incomplete Block Designs: I. The Method of Paired Comparisons"
NEAR_MISS = "Individual Choice Behavior"


@pytest.fixture
def s2() -> Iterator[FakeSemanticScholar]:
    with FakeSemanticScholar(api_key="s2-test-key") as fake:
        yield fake
    assert fake.errors == [], "\n".join(fake.errors)


@pytest.fixture
def openalex() -> Iterator[FakeOpenAlex]:
    with FakeOpenAlex() as fake:
        yield fake
    assert fake.errors == [], "\n".join(fake.errors)


@pytest.fixture
def slept() -> list[float]:
    return []


def _client(tmp_path: Path, slept: list[float], **settings: Any) -> HttpClient:
    options = {"data_dir": tmp_path, "delay": 0, **settings}
    return HttpClient(http_settings(Settings(**options)), sleep=slept.append)


@pytest.fixture
def http(tmp_path: Path, slept: list[float]) -> Iterator[HttpClient]:
    client = _client(tmp_path, slept)
    yield client
    client.close()


@pytest.fixture
def config(tmp_path: Path, s2: FakeSemanticScholar, openalex: FakeOpenAlex) -> Settings:
    return Settings(
        data_dir=tmp_path,
        cite_sources=SOURCES,
        s2_api_url=s2.url,
        openalex_api_url=openalex.url,
        s2_api_key=None,
        openalex_api_key=None,
        openalex_mailto=MAILTO,
    )


@pytest.fixture
def seed(s2: FakeSemanticScholar, openalex: FakeOpenAlex) -> list[FakePaper]:
    """Both services know every paper of the seed list (92 ids; half with a journal DOI)."""
    papers = seed_papers()
    for paper in papers:
        s2.add_paper(paper)
        openalex.add_paper(paper)
    return papers


def _papers(papers: list[FakePaper]) -> list[tuple[str, str | None]]:
    return [(p.arxiv_id, p.doi) for p in papers]


def _rows(result: CiteResult, source: str) -> dict[str, dict[str, Any]]:
    return {row.arxiv_id: asdict(row) for row in result.rows if row.source == source}


# -- requests per source -----------------------------------------------------------------------


def test_seed_list_is_one_request_per_source(
    http: HttpClient,
    config: Settings,
    seed: list[FakePaper],
    s2: FakeSemanticScholar,
    openalex: FakeOpenAlex,
) -> None:
    assert len(seed) == 92
    result = run_cite(http, config, _papers(seed), [], [], NOW)

    assert result.requests == {SEMANTIC_SCHOLAR: 1, OPENALEX: 1}
    assert result.failures == {}
    (batch,) = s2.requests
    assert (batch.method, batch.path, batch.params["fields"]) == (
        "POST",
        "/graph/v1/paper/batch",
        S2_FIELDS,
    )
    assert batch.ids == [f"ARXIV:{p.arxiv_id}" for p in seed]
    (works,) = openalex.requests
    assert len(works.filter_values) == 92  # one DOI per paper: the journal one when known
    assert (works.params["per-page"], works.params["select"]) == ("200", OPENALEX_SELECT)

    table = citations_table(result.rows)
    assert table.num_rows == 2 * 92
    assert table.schema.equals(CITATIONS)
    s2_rows, oa_rows = _rows(result, SEMANTIC_SCHOLAR), _rows(result, OPENALEX)
    for paper in seed:
        record = s2.get(f"ARXIV:{paper.arxiv_id}")
        assert record is not None
        assert s2_rows[paper.arxiv_id]["citation_count"] == record["citationCount"]
        assert s2_rows[paper.arxiv_id]["fetched_at"] == NOW
        # A paper with a journal DOI gets its journal version's counts and venue.
        expected = [w for w in openalex.works if w["doi"].endswith((paper.doi or "!").lower())]
        row = oa_rows[paper.arxiv_id]
        if paper.doi:
            assert row["citation_count"] == expected[0]["cited_by_count"]
            assert row["venue"] == "IEEE Trans. Pattern Anal. Mach. Intell."
        else:
            assert row["venue"] == "arXiv (Cornell University)"
            assert row["oa_url"] == f"https://arxiv.org/pdf/{paper.arxiv_id}"


def test_600_papers_are_two_semantic_scholar_batches(
    http: HttpClient, config: Settings, s2: FakeSemanticScholar, openalex: FakeOpenAlex
) -> None:
    papers = [FakePaper.synthetic(f"2301.{n:05d}", doi=None) for n in range(1, 601)]
    for paper in papers:
        s2.add_paper(paper)
        openalex.add_paper(paper)
    result = run_cite(http, config, _papers(papers), [], [], NOW)

    assert [len(r.ids) for r in s2.requests] == [500, 100]
    # OpenAlex ORs at most 100 values in one filter (it answers 400 past that).
    assert [len(r.filter_values) for r in openalex.requests] == [100] * 6
    assert result.requests == {SEMANTIC_SCHOLAR: 2, OPENALEX: 6}
    assert len(result.rows) == 1200
    assert all(row.citation_count is not None for row in result.rows)


# -- partial answers ---------------------------------------------------------------------------


def test_unknown_papers_get_rows_of_nulls(
    http: HttpClient, config: Settings, s2: FakeSemanticScholar, openalex: FakeOpenAlex
) -> None:
    known, unknown = FakePaper.synthetic("2401.00001", doi=None), FakePaper.synthetic("2401.00002")
    s2.add_paper(known)
    openalex.add_paper(known)
    result = run_cite(http, config, _papers([known, unknown]), [], [], NOW)

    assert s2.requests[0].status == 200
    for source in SOURCES:
        row = _rows(result, source)[unknown.arxiv_id]
        assert [row[k] for k in ("citation_count", "venue", "year", "oa_url")] == [None] * 4
        assert row["fetched_at"] == NOW  # asked: not again before max_age
        assert _rows(result, source)[known.arxiv_id]["citation_count"] is not None


def test_a_paper_known_before_is_not_erased_by_a_null(
    http: HttpClient, config: Settings, s2: FakeSemanticScholar, openalex: FakeOpenAlex
) -> None:
    paper = FakePaper.synthetic("2401.00003", doi=None)
    openalex.add_paper(paper)
    before = {
        "arxiv_id": paper.arxiv_id,
        "source": SEMANTIC_SCHOLAR,
        "citation_count": 41,
        "influential_citation_count": 2,
        "venue": "Neural Information Processing Systems",
        "year": 2024,
        "oa_url": None,
        "fetched_at": NOW - timedelta(days=30),
    }
    previous = [Citation(**before)]
    result = run_cite(http, config, _papers([paper]), [], previous, NOW)
    assert _rows(result, SEMANTIC_SCHOLAR)[paper.arxiv_id] == before


def test_journal_doi_unknown_to_openalex_falls_back_to_the_preprint(
    http: HttpClient, config: Settings, openalex: FakeOpenAlex
) -> None:
    paper = FakePaper.synthetic("2402.00001", doi="10.1109/TPAMI.2024.0000001")
    openalex.add_paper(paper, cited_by_count=7, journal=False)
    result = run_cite(
        http, replace(config, cite_sources=(OPENALEX,)), _papers([paper]), [], [], NOW
    )

    assert [r.filter_values for r in openalex.requests] == [
        ["10.1109/tpami.2024.0000001"],
        ["10.48550/arxiv.2402.00001"],
    ]
    assert _rows(result, OPENALEX)[paper.arxiv_id]["citation_count"] == 7


# -- faults ----------------------------------------------------------------------------------


def test_429_then_success(
    http: HttpClient,
    config: Settings,
    seed: list[FakePaper],
    s2: FakeSemanticScholar,
    slept: list[float],
) -> None:
    s2.fail_next(1, status=429)
    result = run_cite(http, config, _papers(seed), [], [], NOW)

    assert [r.status for r in s2.requests] == [429, 200]
    assert result.requests[SEMANTIC_SCHOLAR] == 2
    assert result.failures == {}
    assert max(slept) >= 30.0  # the HTTP layer's 429 backoff
    assert len(_rows(result, SEMANTIC_SCHOLAR)) == 92


def test_keyless_429s_degrade_to_the_previous_values(
    http: HttpClient,
    config: Settings,
    seed: list[FakePaper],
    s2: FakeSemanticScholar,
    slept: list[float],
) -> None:
    first = run_cite(http, config, _papers(seed), [], [], NOW)
    s2.fail_next(50, status=429)
    later = NOW + timedelta(days=8)
    result = run_cite(http, config, _papers(seed), [], first.rows, later)

    failure = result.failures[SEMANTIC_SCHOLAR]
    assert "\n" not in failure
    assert "HTTP 429" in failure and "92 keep their previous values" in failure
    assert "set S2_API_KEY" in failure
    assert _rows(result, SEMANTIC_SCHOLAR) == _rows(first, SEMANTIC_SCHOLAR)
    assert {r["fetched_at"] for r in _rows(result, OPENALEX).values()} == {later}
    assert sum(slept) <= 900 + 300  # the HTTP layer's retry budget bounds the wait


@pytest.mark.parametrize("down", SOURCES)
def test_a_source_down_keeps_its_previous_rows_and_says_so(
    http: HttpClient,
    config: Settings,
    seed: list[FakePaper],
    s2: FakeSemanticScholar,
    openalex: FakeOpenAlex,
    down: str,
) -> None:
    first = run_cite(http, config, _papers(seed), [], [], NOW)
    (s2 if down == SEMANTIC_SCHOLAR else openalex).down()
    later = NOW + timedelta(days=8)
    result = run_cite(http, config, _papers(seed), [], first.rows, later)

    up = OPENALEX if down == SEMANTIC_SCHOLAR else SEMANTIC_SCHOLAR
    assert list(result.failures) == [down]
    name = "Semantic Scholar" if down == SEMANTIC_SCHOLAR else "OpenAlex"
    assert result.failures[down].startswith(f"{name} failed: could not reach {name}")
    assert _rows(result, down) == _rows(first, down)
    assert {r["fetched_at"] for r in _rows(result, up).values()} == {later}


def test_timeout_then_success(
    tmp_path: Path,
    config: Settings,
    seed: list[FakePaper],
    openalex: FakeOpenAlex,
    slept: list[float],
) -> None:
    openalex.hang_next(1, 5.0)
    http = _client(tmp_path, slept, read_timeout=0.2)
    try:
        result = run_cite(http, config, _papers(seed), [], [], NOW)
    finally:
        http.close()
    assert [r.fault for r in openalex.requests] == ["hang", None]
    assert result.requests[OPENALEX] == 2 and result.failures == {}
    assert max(slept) >= 2.0  # the backoff after a timeout (the rest is rate-limit spacing)


def test_truncated_answer_is_retried_and_never_cached(
    http: HttpClient, config: Settings, seed: list[FakePaper], s2: FakeSemanticScholar
) -> None:
    s2.truncate_next(1)
    first = run_cite(http, config, _papers(seed), [], [], NOW)
    assert [r.fault for r in s2.requests] == ["truncate", None]
    # A run that has no previous rows asks again and is answered from the cache: the good
    # answer was kept, the truncated one was not.
    again = run_cite(http, config, _papers(seed), [], [], NOW)
    assert again.requests == {SEMANTIC_SCHOLAR: 0, OPENALEX: 0}
    assert again.rows == first.rows


def test_wrong_api_key_fails_at_once(
    http: HttpClient, config: Settings, seed: list[FakePaper], s2: FakeSemanticScholar
) -> None:
    result = run_cite(http, replace(config, s2_api_key="revoked"), _papers(seed), [], [], NOW)
    assert len(s2.requests) == 1  # a 403 is not retried
    assert "HTTP 403" in result.failures[SEMANTIC_SCHOLAR]
    assert "check the API key" in result.failures[SEMANTIC_SCHOLAR]
    assert OPENALEX not in result.failures


# -- freshness, keys, polite pool ------------------------------------------------------------


def test_rows_younger_than_max_age_are_not_asked_again(
    http: HttpClient,
    config: Settings,
    seed: list[FakePaper],
    s2: FakeSemanticScholar,
    openalex: FakeOpenAlex,
) -> None:
    first = run_cite(http, config, _papers(seed), [], [], NOW)
    s2.clear_log()
    openalex.clear_log()
    again = run_cite(http, config, _papers(seed), [], first.rows, NOW + timedelta(days=6))
    assert (s2.requests, openalex.requests) == ([], [])
    assert again.requests == {SEMANTIC_SCHOLAR: 0, OPENALEX: 0}
    assert again.rows == first.rows
    # Past max_age the re-check goes to the services, past the HTTP cache.
    stale = run_cite(http, config, _papers(seed), [], first.rows, NOW + timedelta(days=8))
    assert stale.requests == {SEMANTIC_SCHOLAR: 1, OPENALEX: 1}


def test_a_source_not_asked_keeps_its_rows(
    http: HttpClient, config: Settings, seed: list[FakePaper], s2: FakeSemanticScholar
) -> None:
    first = run_cite(http, config, _papers(seed), [], [], NOW)
    s2.clear_log()
    only = replace(config, cite_sources=(OPENALEX,))
    result = run_cite(http, only, _papers(seed), [], first.rows, NOW + timedelta(days=8))
    assert s2.requests == [] and SEMANTIC_SCHOLAR not in result.requests
    assert _rows(result, SEMANTIC_SCHOLAR) == _rows(first, SEMANTIC_SCHOLAR)


def test_api_key_header_and_spacing(
    http: HttpClient, config: Settings, seed: list[FakePaper], s2: FakeSemanticScholar
) -> None:
    run_cite(http, replace(config, s2_api_key="s2-test-key"), _papers(seed), [], [], NOW)
    assert [r.api_key for r in s2.requests] == ["s2-test-key"]
    assert http.delay_for(s2.url) == 1.0


def test_api_keys_never_reach_the_cache_file(
    tmp_path: Path,
    http: HttpClient,
    config: Settings,
    seed: list[FakePaper],
    openalex: FakeOpenAlex,
) -> None:
    keyed = replace(config, s2_api_key="s2-test-key", openalex_api_key="oa-test-key")
    run_cite(http, keyed, _papers(seed), [], [], NOW)
    assert [r.params.get("api_key") for r in openalex.requests] == ["oa-test-key"]
    http.close()
    stored = b"".join(path.read_bytes() for path in (tmp_path / "cache").iterdir())
    assert stored and b"s2-test-key" not in stored and b"oa-test-key" not in stored


def test_keyless_requests_are_spaced_for_the_shared_pool(
    http: HttpClient, config: Settings, seed: list[FakePaper], s2: FakeSemanticScholar
) -> None:
    run_cite(http, config, _papers(seed), [], [], NOW)
    assert [r.api_key for r in s2.requests] == [None]
    assert http.delay_for(s2.url) == 3.0
    assert http.delay_for(config.openalex_api_url) == 0.1


def test_mailto_is_sent(
    http: HttpClient, config: Settings, seed: list[FakePaper], openalex: FakeOpenAlex
) -> None:
    run_cite(http, config, _papers(seed), [], [], NOW)
    assert [r.params.get("mailto") for r in openalex.requests] == [MAILTO]


# -- unresolved entries ----------------------------------------------------------------------


def test_unresolved_title_found_by_semantic_scholar(
    http: HttpClient, config: Settings, s2: FakeSemanticScholar, openalex: FakeOpenAlex
) -> None:
    record = s2_record(title=CLASSIC, year=1952, doi="10.2307/2334029", venue="Biometrika")
    s2.add(record)
    work = openalex_work(
        title=CLASSIC,
        year=1952,
        doi="10.2307/2334029",
        cited_by_count=5000,
        source_name="Biometrika",
    )
    openalex.add(work)
    unresolved = [(7, CLASSIC, 1952, "https://www.jstor.org/stable/2334029")]
    result = run_cite(http, config, [], unresolved, [], NOW)

    (match,) = s2.requests
    assert (match.path, match.params["query"]) == ("/graph/v1/paper/search/match", CLASSIC)
    # The DOI Semantic Scholar gave saves OpenAlex a title search.
    assert [r.params["filter"] for r in openalex.requests] == ["doi:10.2307/2334029"]
    assert result.entry_ids == {
        7: ExternalIds(
            ids={SEMANTIC_SCHOLAR: record["paperId"], OPENALEX: work["id"].rsplit("/", 1)[1]},
            doi="10.2307/2334029",
            found_by="title",
        )
    }
    assert result.rows == []


def test_an_arxiv_id_a_service_knows_is_never_taken(
    http: HttpClient, config: Settings, s2: FakeSemanticScholar
) -> None:
    # As match_arxiv_attention.json: the match carries ArXiv in externalIds.
    record = s2_record(title="Attention is All you Need", year=2017, arxiv_id="1706.03762")
    s2.add(record)
    unresolved = [(0, "Attention Is All You Need", 2017, None)]
    result = run_cite(
        http, replace(config, cite_sources=(SEMANTIC_SCHOLAR,)), [], unresolved, [], NOW
    )
    found = result.entry_ids[0]
    assert found.ids == {SEMANTIC_SCHOLAR: record["paperId"]}
    assert not hasattr(found, "arxiv_id")
    assert result.rows == []


def test_unresolved_title_found_by_openalex_search(
    http: HttpClient, config: Settings, s2: FakeSemanticScholar, openalex: FakeOpenAlex
) -> None:
    title = "Multimodal Large Language Models Make Text-to-Image Generative Models Align Better"
    work = openalex_work(title=title, year=2024, doi=None, cited_by_count=3, source_name=None)
    openalex.add(work)
    result = run_cite(
        http, config, [], [(1, title, 2024, "https://openreview.net/pdf?id=IRXyPm9IPW")], [], NOW
    )
    assert [r.status for r in s2.requests] == [404]  # "Title match not found"
    (search,) = openalex.requests
    assert search.params["filter"].startswith("title.search:multimodal large language")
    assert result.entry_ids == {
        1: ExternalIds(ids={OPENALEX: work["id"].rsplit("/", 1)[1]}, found_by="title")
    }


def test_unresolved_doi_link_rides_in_the_paper_batches(
    http: HttpClient,
    config: Settings,
    seed: list[FakePaper],
    s2: FakeSemanticScholar,
    openalex: FakeOpenAlex,
) -> None:
    doi = "10.1038/s42256-024-00832-8"
    title = "Augmenting large language models with chemistry tools"
    record = s2_record(title=title, year=2023, doi=doi, venue="Nat. Mac. Intell.")
    s2.add(record)
    work = openalex_work(
        title=title,
        year=2024,
        doi=doi,
        cited_by_count=236,
        source_name="Nature Machine Intelligence",
    )
    openalex.add(work)
    unresolved = [(4, title, 2024, f"https://doi.org/{doi}")]
    result = run_cite(http, config, _papers(seed), unresolved, [], NOW)

    assert result.requests == {SEMANTIC_SCHOLAR: 1, OPENALEX: 1}
    assert s2.requests[0].ids[-1] == f"DOI:{doi}"
    assert openalex.requests[0].filter_values[-1] == doi
    assert result.entry_ids == {
        4: ExternalIds(
            ids={SEMANTIC_SCHOLAR: record["paperId"], OPENALEX: work["id"].rsplit("/", 1)[1]},
            doi=doi,
            found_by="doi",
        )
    }


def test_a_near_miss_title_is_not_taken(
    http: HttpClient, config: Settings, s2: FakeSemanticScholar, openalex: FakeOpenAlex
) -> None:
    # The near miss: a 2024 paper that contains the 1959 book's title.
    other = "Individual Choice Behavior of LLM Agents"
    s2.add(s2_record(title=other, year=2024, arxiv_id="2401.09999"))
    openalex.add(
        openalex_work(
            title=other,
            year=2024,
            doi="10.48550/arxiv.2401.09999",
            cited_by_count=1,
            source_name=None,
        )
    )
    result = run_cite(http, config, [], [(2, NEAR_MISS, 1959, None)], [], NOW)
    assert [r.status for r in s2.requests] == [200]  # the service offered it
    assert len(openalex.requests) == 1
    assert result.entry_ids == {}


# -- the fakes answer in the recorded shapes -------------------------------------------------


def test_fake_records_have_the_recorded_keys(
    s2: FakeSemanticScholar, openalex: FakeOpenAlex
) -> None:
    recorded = json.loads(fixture_bytes("s2/batch_with_null_full_fields.json"))[1]
    paper = FakePaper.synthetic("2304.05977")
    assert set(s2.add_paper(paper)) == set(recorded)
    twin = json.loads(fixture_bytes("openalex/list_title_search_published_and_arxiv_twin.json"))
    recorded_work = twin["results"][1]
    for work in openalex.add_paper(paper):
        assert set(work) <= set(recorded_work)
        assert set(work["primary_location"]) <= set(recorded_work["primary_location"]) | {
            "id",
            "raw_source_name",
        }


def test_fake_error_bodies_are_the_recorded_ones(
    s2: FakeSemanticScholar, openalex: FakeOpenAlex
) -> None:
    batch = f"{s2.url}/graph/v1/paper/batch"
    for status, name in [
        (429, "error_429_unauthenticated_shared_pool.json"),
        (500, "batch_500_internal_server_error.json"),
    ]:
        s2.fail_next(1, status=status)
        answer = requests.post(batch, params={"fields": "title"}, json={"ids": []}, timeout=5)
        assert (answer.status_code, answer.content) == (status, fixture_bytes(f"s2/{name}"))
    forbidden = requests.post(batch, json={"ids": []}, headers={"x-api-key": "wrong"}, timeout=5)
    assert forbidden.content == fixture_bytes("s2/batch_403_forbidden_invalid_api_key.json")
    unknown = requests.post(batch, params={"fields": "unknown"}, json={"ids": []}, timeout=5)
    assert (unknown.status_code, unknown.content) == (
        400,
        fixture_bytes("s2/paper_400_unrecognized_fields.json").strip(),
    )
    miss = requests.get(
        f"{s2.url}/graph/v1/paper/search/match", params={"query": "askldjrq3rjaw938h"}, timeout=5
    )
    assert (miss.status_code, miss.content) == (
        404,
        fixture_bytes("s2/match_404_title_not_found.json"),
    )
    too_many = requests.post(batch, json={"ids": ["ARXIV:1"] * 501}, timeout=5)
    assert too_many.status_code == 400

    works = f"{openalex.url}/works"
    bad = requests.get(works, params={"filter": "DOESNTEXIST:1"}, timeout=5)
    recorded = json.loads(fixture_bytes("openalex/error_400_invalid_filter_field.json"))
    assert bad.status_code == 400
    assert bad.json()["error"] == recorded["error"]
    assert bad.json()["message"].startswith("doesntexist is not a valid field.")
    past_limit = "|".join(f"10.1/{n}" for n in range(101))
    assert requests.get(works, params={"filter": f"doi:{past_limit}"}, timeout=5).status_code == 400
    default_page = requests.get(works, timeout=5).json()["meta"]
    assert default_page["per_page"] == 25
