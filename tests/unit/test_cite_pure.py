"""The cite stage's pure core: venue normalisation on real strings, and the parsing of real
Semantic Scholar and OpenAlex answers (tests/fixtures/s2/, tests/fixtures/openalex/; each
file's provenance is in the INDEX.tsv next to it)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import requests

from pipeline.config import Settings
from pipeline.schemas import CITATIONS
from pipeline.services.citations import (
    OPENALEX,
    REGISTRY,
    SEMANTIC_SCHOLAR,
    UnknownSourceError,
    arxiv_doi,
    best_match,
    doi_from_url,
    init_sources,
    normalize_doi,
    source_venues,
)
from pipeline.services.openalex import (
    openalex_list_problem,
    openalex_row,
    openalex_short_id,
    openalex_venue,
    openalex_works,
    pick_work,
    works_by_doi,
)
from pipeline.services.semanticscholar import (
    SemanticScholar,
    parse_s2_batch,
    s2_batch_problem,
    s2_row,
    s2_venue,
)
from pipeline.store.tables import citations_table
from pipeline.venues import normalize_venue

FIXTURES = Path(__file__).parent.parent / "fixtures"
NOW = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)


def _load(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_bytes())


# -- DOIs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "doi"),
    [
        ("https://doi.org/10.1038/s42256-024-00832-8", "10.1038/s42256-024-00832-8"),
        ("http://dx.doi.org/10.1093/nar/gkw1164", "10.1093/nar/gkw1164"),
        ("https://doi.org/10.48550/arXiv.2312.07559", "10.48550/arxiv.2312.07559"),
        # Text-to-Image list links (ACM, with and without /abs/)
        ("https://dl.acm.org/doi/10.1145/3503161.3547818", "10.1145/3503161.3547818"),
        ("https://dl.acm.org/doi/abs/10.1145/3474085.3475391", "10.1145/3474085.3475391"),
        # The seed list's unresolved entries link no DOI.
        ("https://www.jstor.org/stable/2334029", None),
        ("https://openreview.net/pdf?id=IRXyPm9IPW", None),
        ("https://psycnet.apa.org/record/1960-03588-000", None),
        (None, None),
    ],
)
def test_doi_from_url(url: str | None, doi: str | None) -> None:
    assert doi_from_url(url) == doi


def test_arxiv_doi_is_what_the_services_record() -> None:
    s2 = _load("s2/paper_doi_arxiv_prefixed_full.json")
    assert normalize_doi(s2["externalIds"]["DOI"]) == arxiv_doi("2312.07559")
    oa = _load("openalex/list_title_search_arxiv_preprint.json")["results"][0]
    assert normalize_doi(oa["doi"]) == arxiv_doi("2312.07559")


# -- Semantic Scholar answers ------------------------------------------------------------------


def test_batch_answer_with_null_for_an_unknown_id() -> None:
    payload = _load("s2/batch_with_null_full_fields.json")
    records = parse_s2_batch(payload, 4)
    assert records[0] is None
    assert asdict(s2_row("0000.00000", records[0], NOW)) == {
        "arxiv_id": "0000.00000",
        "source": SEMANTIC_SCHOLAR,
        "citation_count": None,
        "influential_citation_count": None,
        "venue": None,
        "year": None,
        "oa_url": None,
        "fetched_at": NOW,
    }
    row = asdict(s2_row("x", records[1], NOW))
    assert (row["citation_count"], row["influential_citation_count"], row["year"]) == (
        10670,
        578,
        2001,
    )
    assert row["venue"] is None  # "venue": "" and publicationVenue null
    assert row["oa_url"] == "http://papers.nber.org/papers/w8841.pdf"
    with pytest.raises(ValueError, match="expected a list of 3 papers, got 4"):
        parse_s2_batch(payload, 3)


def _response(content: bytes, request_json: Any) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = content
    response.request = requests.Request(
        "POST", "https://api.semanticscholar.org/graph/v1/paper/batch", json=request_json
    ).prepare()
    return response


def test_batch_validator_wants_one_answer_per_id() -> None:
    content = (FIXTURES / "s2/batch_with_null_full_fields.json").read_bytes()
    assert s2_batch_problem(_response(content, {"ids": ["a", "b", "c", "d"]})) is None
    assert "4" in str(s2_batch_problem(_response(content, {"ids": ["a", "b", "c"]})))
    assert s2_batch_problem(_response(content[: len(content) // 2], {"ids": ["a"] * 4}))


def test_match_answer_of_an_arxiv_paper() -> None:
    record = _load("s2/match_arxiv_attention.json")["data"][0]
    row = s2_row("1706.03762", record, NOW)
    assert row.oa_url is None  # {"url": "", "status": null}: closed
    assert row.venue == "Neural Information Processing Systems"
    assert normalize_venue({"list": "arXiv", SEMANTIC_SCHOLAR: row.venue}) == (
        "NeurIPS",
        SEMANTIC_SCHOLAR,
    )
    found = best_match("Attention Is All You Need", 2017, [record], "title", "year")
    assert found is not None and found["paperId"] == record["paperId"]
    assert best_match("Attention Is All You Need", 2021, [record], "title", "year") is None


def test_arxiv_only_paper_has_arxiv_as_venue() -> None:
    record = _load("s2/paper_doi_arxiv_prefixed_full.json")
    assert s2_venue(record) == "arXiv.org"
    assert normalize_venue({"list": "ICLR", SEMANTIC_SCHOLAR: s2_venue(record)}) == ("ICLR", "list")
    assert normalize_venue({SEMANTIC_SCHOLAR: s2_venue(record)}) == ("arXiv", SEMANTIC_SCHOLAR)


def test_journal_paper_merged_with_its_preprint() -> None:
    record = _load("s2/paper_doi_journal_with_arxiv_preprint.json")
    row = s2_row("2304.05376", record, NOW)
    assert (row.citation_count, row.venue, row.year) == (500, "Nat. Mac. Intell.", 2023)
    assert row.oa_url == "https://www.nature.com/articles/s42256-024-00832-8.pdf"


def test_every_record_of_a_full_search_page_parses() -> None:
    page = _load("s2/search_full_fields_kubernetes.json")["data"]
    rows = [s2_row(str(i), record, NOW) for i, record in enumerate(page)]
    assert len(rows) == 100
    with_venue = [r for r in page if r["publicationVenue"]]
    assert len(with_venue) == 81  # as the INDEX notes
    assert all(s2_venue(r) == r["publicationVenue"]["name"] for r in with_venue)
    by_arxiv = {
        r["externalIds"]["ArXiv"]: normalize_venue({SEMANTIC_SCHOLAR: s2_venue(r)})[0]
        for r in page
        if "ArXiv" in (r.get("externalIds") or {})
    }
    assert by_arxiv["2303.03640"] == "AAAI"
    assert by_arxiv["2301.07479"] == "arXiv"
    assert by_arxiv["2101.06582"] == "IEEE Conference on Computer Communications"


# -- OpenAlex answers --------------------------------------------------------------------------


def test_pipe_filter_answer() -> None:
    payload = _load("openalex/list_filter_openalex_ids_pipe_cursor_first.json")
    works = works_by_doi(openalex_works(payload))
    preprint = works[arxiv_doi("2007.14454")]
    assert openalex_short_id(preprint) == "W3045921891"
    assert asdict(openalex_row("2007.14454", preprint, NOW)) == {
        "arxiv_id": "2007.14454",
        "source": OPENALEX,
        "citation_count": 0,
        "influential_citation_count": None,
        "venue": "arXiv (Cornell University)",
        "year": 2020,
        "oa_url": "https://arxiv.org/pdf/2007.14454",
        "fetched_at": NOW,
    }
    # 2026 schema: no source record, only the name Crossref gave.
    proceedings = works["10.1145/3383583.3398584"]
    assert openalex_venue(proceedings) == (
        "Proceedings of the ACM/IEEE Joint Conference on Digital Libraries in 2020"
    )
    assert normalize_venue({OPENALEX: openalex_venue(proceedings)}) == (
        "Proceedings of the ACM/IEEE Joint Conference on Digital Libraries",
        OPENALEX,
    )


def test_journal_version_is_preferred_to_its_arxiv_twin() -> None:
    payload = _load("openalex/list_title_search_published_and_arxiv_twin.json")
    works = works_by_doi(openalex_works(payload))
    journal = pick_work(works, "2304.05376", "10.1038/s42256-024-00832-8")
    assert journal is not None
    assert (journal["cited_by_count"], openalex_venue(journal)) == (
        236,
        "Nature Machine Intelligence",
    )
    preprint = pick_work(works, "2304.05376", None)
    assert preprint is not None
    assert (preprint["cited_by_count"], openalex_venue(preprint)) == (
        106,
        "arXiv (Cornell University)",
    )
    # A journal DOI OpenAlex does not know: the preprint is better than nothing.
    assert pick_work(works, "2304.05376", "10.9999/unknown") is preprint


def test_title_search_answer() -> None:
    payload = _load("openalex/list_title_search_arxiv_preprint.json")
    assert openalex_list_problem(_response(json.dumps(payload).encode(), {})) is None
    results = openalex_works(payload)
    title = "PaperQA: Retrieval-Augmented Generative Agent for Scientific Research"
    found = best_match(title, 2023, results, "display_name", "publication_year")
    assert found is not None and openalex_short_id(found) == "W4389761608"
    # Another real paper on the same topic is not taken for it.
    other = "Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks"
    assert best_match(other, 2023, results, "display_name", "publication_year") is None


def test_openalex_validator() -> None:
    assert openalex_list_problem(_response(b'{"results": []}', {})) == "no meta object"
    assert "malformed JSON" in str(openalex_list_problem(_response(b'{"meta": {', {})))
    # An error body is never a usable list (error_400_invalid_filter_field.json).
    error = (FIXTURES / "openalex/error_400_invalid_filter_field.json").read_bytes()
    assert openalex_list_problem(_response(error, {}))


# -- configuration and the table ---------------------------------------------------------------


def test_semantic_scholar_spacing_depends_on_the_key() -> None:
    url = "https://api.semanticscholar.org"
    assert SemanticScholar(url).interval == 3.0
    assert SemanticScholar(url, api_key="k").interval == 1.0
    assert SemanticScholar(url, api_key="k", delay=0.0).interval == 0.0
    with pytest.raises(UnknownSourceError, match="unknown citation source") as raised:
        init_sources(Settings(cite_sources=("crossref",)))
    # A usage error the CLI prints as one line, naming the valid choices.
    assert raised.value.exit_code == 2
    assert str(raised.value).endswith(f"choose from {', '.join(REGISTRY)}")


def test_rows_make_a_table_of_exactly_the_schema() -> None:
    payload = _load("openalex/list_filter_openalex_ids_pipe_cursor_first.json")
    works = works_by_doi(openalex_works(payload))
    rows = [
        s2_row("2007.14454", None, NOW),
        openalex_row("2007.14454", works[arxiv_doi("2007.14454")], NOW),
    ]
    table = citations_table(rows)
    assert table.schema.equals(CITATIONS)
    assert table.schema.field("citation_count").type == pa.int64()
    assert table.schema.field("year").type == pa.int32()
    assert str(table.schema.field("fetched_at").type) == "timestamp[us, tz=UTC]"
    assert source_venues(table.to_pylist()) == {
        "2007.14454": {SEMANTIC_SCHOLAR: None, OPENALEX: "arXiv (Cornell University)"}
    }


def test_service_venues_come_in_trust_order() -> None:
    # The stage orders citation rows by source name, which puts OpenAlex first; the venue
    # of the source asked first (the registry's order) must still be trusted first.
    rows = [
        {"arxiv_id": "1", "source": OPENALEX, "venue": "IEEE Access"},
        {
            "arxiv_id": "1",
            "source": SEMANTIC_SCHOLAR,
            "venue": "Neural Information Processing Systems",
        },
    ]
    venues = source_venues(rows)["1"]
    assert list(venues) == [SEMANTIC_SCHOLAR, OPENALEX] == list(REGISTRY)
    assert normalize_venue(venues) == ("NeurIPS", SEMANTIC_SCHOLAR)
