"""The cite stage's pure core: venue normalisation on real strings, and the parsing of real
Semantic Scholar and OpenAlex answers (tests/fixtures/s2/, tests/fixtures/openalex/; each
file's provenance is in the INDEX.tsv next to it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from pipeline.services.cite import (
    CANONICAL_VENUES,
    CITATIONS,
    OPENALEX,
    SEMANTIC_SCHOLAR,
    VENUE_SOURCES,
    CiteConfig,
    CiteResult,
    arxiv_doi,
    best_match,
    doi_from_url,
    normalize_doi,
    normalize_venue,
    openalex_list_problem,
    openalex_row,
    openalex_short_id,
    openalex_venue,
    openalex_works,
    parse_s2_batch,
    pick_work,
    s2_batch_problem,
    s2_row,
    s2_venue,
    source_venues,
    works_by_doi,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
NOW = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)


def _load(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_bytes())


def _listed(value: str) -> tuple[str | None, str | None]:
    return normalize_venue(value, None, None, None, None)


# -- venues ---------------------------------------------------------------------------------

# Venue strings of real list items (tests/fixtures/lists/ and /work/shared/corpus/lists/,
# as pipeline.lists.parse reads them: the year is split off into ListEntry.year) -> canonical.
LISTED = [
    ("NeruIPS 2025", "NeurIPS"),  # alignment list f45f77a3, line 212: the typo of the issue
    ("NeurIPS", "NeurIPS"),
    ("NIPS", "NeurIPS"),  # awesome-rl: "NIPS, 1994"
    ("Neurips", "NeurIPS"),  # Awesome-LLM 006410de, line 84
    ("NeurIPS Datasets and Benchmarks", "NeurIPS Datasets and Benchmarks"),
    ("NeurIPS Workshop", "NeurIPS Workshop"),
    ("ICML Oral", "ICML"),  # a presentation format, not a venue
    ("CVPRW", "CVPR Workshop"),
    ("ICCVW", "ICCV Workshop"),  # Text-to-Image: "(ICCVW 2021)"
    ("ICLRW", "ICLR Workshop"),
    ("EMNLP Findings", "Findings of EMNLP"),
    ("Findings of ACL", "Findings of ACL"),
    ("ACL Findings", "Findings of ACL"),
    ("NAACL Findings", "Findings of NAACL"),
    ("NAACL", "NAACL"),
    ("ACL", "ACL"),
    ("ACMMM", "ACM MM"),  # Text-to-Image: "(ACMMM 2022)"
    ("ACM MM", "ACM MM"),
    ("SIGGRAPH Asia", "SIGGRAPH Asia"),
    ("SIGGRAPH", "SIGGRAPH"),
    ("TPAMI", "TPAMI"),
    ("TMLR", "TMLR"),
    ("JMLR", "JMLR"),
    ("CHI", "CHI"),
    ("KDD", "KDD"),
    ("AAAI", "AAAI"),
    ("IJCAI", "IJCAI"),
    ("AISTATS", "AISTATS"),
    ("ECCV", "ECCV"),
    ("nature", "Nature"),
    ("Biometrika", "Biometrika"),  # unknown venues keep their name
    (
        "Journal of the Royal Statistical Society. Series C (Applied Statistics)",
        "Journal of the Royal Statistical Society. Series C (Applied Statistics)",
    ),
]


@pytest.mark.parametrize(("listed", "expected"), LISTED)
def test_listed_venues_get_their_canonical_name(listed: str, expected: str) -> None:
    assert _listed(listed) == (expected, "list")


@pytest.mark.parametrize("listed", ["arXiv", "arXiv preprint", "Arxiv", "ArXiv", "CoRR"])
def test_arxiv_is_a_venue_only_when_nothing_better_exists(listed: str) -> None:
    assert _listed(listed) == ("arXiv", "list")
    better = normalize_venue(listed, None, None, "Neural Information Processing Systems", None)
    assert better == ("NeurIPS", SEMANTIC_SCHOLAR)
    # Every source saying arXiv: the first one is named.
    assert normalize_venue(None, None, None, "arXiv.org", "arXiv (Cornell University)") == (
        "arXiv",
        SEMANTIC_SCHOLAR,
    )


# Real arXiv comments (the OAI-PMH and Atom recordings of /work/shared/corpus) -> the venue
# they give this paper, or None when they point elsewhere.
COMMENTS = [
    ("CVPR 2021. Codes: https://github.com/TencentARC/GFPGAN", "CVPR"),
    ("Accepted to CVPR 2021", "CVPR"),
    ("accepted by ECCV 2020(oral)", "ECCV"),
    ("Accepted to Findings of EMNLP 2020", "Findings of EMNLP"),
    ("2nd Workshop on Neural Architecture Search at ICLR 2021", "ICLR Workshop"),
    ("NeurIPS'20, 20 pages", "NeurIPS"),
    ("AAAI20. Update code links", "AAAI"),
    ("To be appeared in the Proceedings of KDD'16", "KDD"),
    ("Accepted to KDD 2019, full version, 22 pages", "KDD"),
    ("Published at International Conference on Machine Learning (ICML) 2020", "ICML"),
    ("In proceedings of the 35th AAAI Conference on Artificial Intelligence", "AAAI"),
    ("EMNLP Industry Track 2025", "EMNLP"),
    (
        "NeurIPS 2025 Tackling Climate Change with Machine Learning Workshop version. Non-archival",
        "NeurIPS Workshop",
    ),
    (
        '"NLP Power" workshop at ACL 2022. This work is based on a previous arXiv '
        "submission: arXiv:2008.02577 [cs.AI]",
        "ACL Workshop",
    ),
    ("Submitted to ICML 2020. 9 pages, 3 pdf figures. V2: fixed", None),
    ("Extended version of the NeurIPS paper arXiv:1810.11809", None),
    ("Extended version of a paper accepted to ECML/PKDD 2019", None),
    ("This paper has been withdrawn by the author. Look at the ICML version", None),
    ("Supplementary material for the ICML 2018 paper: Tree Edit Distance Learning", None),
    ("12 pages, submitted to AAAI07 workshop on Intelligent Information", None),
    (
        "final journal version: typos, wordings refined, commas, added missing reference - 15 "
        "pages, 4 figures, accepted to ApJ Changes: fig4b was not the right graph, wrong chi "
        "squared/dof numbers at one place.",
        None,  # "chi" is not CHI
    ),
    ("8 pages, 3 figures, 2 tables", None),
]


@pytest.mark.parametrize(("comment", "expected"), COMMENTS)
def test_comments_name_a_venue_only_when_the_paper_appeared_there(
    comment: str, expected: str | None
) -> None:
    assert normalize_venue(None, None, comment, None, None) == (
        expected,
        "comment" if expected else None,
    )


# Real journal_ref values (the corpus's Atom and .abs recordings).
JOURNAL_REFS = [
    ("In Advances in Neural Information Processing Systems, pp. 10387-10396. 2019", "NeurIPS"),
    (
        "Proceedings of the 19th International Conference on Artificial Intelligence and "
        "Statistics, pp. 342-350, 2016",
        "AISTATS",
    ),
    (
        "Proceedings of the IJCAI-95 Workshop on Data Engineering for Inductive Learning, "
        "Montreal, Quebec, (1995), 50-59",
        "IJCAI Workshop",
    ),
    ("Proc. 28th ACM International Conference on Information and Knowledge Management", "CIKM"),
    ("SIGMOD (2017) 417-432", "SIGMOD"),
    (
        "Proc. 2023 IEEE International Conference on Software Testing, Verification and "
        "Validation Workshops (ICSTW), pp. 66-69",
        "ICSTW",
    ),
    ("Phys. Rev. D 89, 084044 (2014)", "Phys. Rev. D"),
    ("IEEE Access 7, pp. 155625-155636 (2019)", "IEEE Access"),
    ("Statistical Science 2008, Vol. 23, No. 1, 65-68", "Statistical Science"),
    ("FOCS 2020", "FOCS"),
    ("arXiv:2011.02565 [cs.AI]", "arXiv"),
    ("10.1016/j.ipl.2005.10.006", None),  # a DOI, not a venue
]


@pytest.mark.parametrize(("journal_ref", "expected"), JOURNAL_REFS)
def test_journal_refs(journal_ref: str, expected: str | None) -> None:
    assert normalize_venue(None, journal_ref, None, None, None) == (
        expected,
        "journal_ref" if expected else None,
    )


# Venues Semantic Scholar and OpenAlex recorded (the s2/ and openalex/ fixtures).
SERVICE_VENUES = [
    ("Neural Information Processing Systems", "NeurIPS"),
    ("AAAI Conference on Artificial Intelligence", "AAAI"),
    ("IEEE Transactions on Pattern Analysis and Machine Intelligence", "TPAMI"),
    ("Trans. Mach. Learn. Res.", "TMLR"),
    ("J. Mach. Learn. Res.", "JMLR"),
    (
        "2022 IEEE/CVF Conference on Computer Vision and Pattern Recognition Workshops",
        "CVPR Workshop",
    ),
    ("Findings of the Association for Computational Linguistics: EMNLP 2020", "Findings of EMNLP"),
    ("Nat. Mac. Intell.", "Nat. Mac. Intell."),
    (
        "2023 IEEE 26th International Conference on Intelligent Transportation Systems (ITSC)",
        "IEEE International Conference on Intelligent Transportation Systems (ITSC)",
    ),
    # ICMLA is not ICML.
    (
        "International Conference on Machine Learning and Applications",
        "International Conference on Machine Learning and Applications",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("venue", "expected"), SERVICE_VENUES)
def test_service_venues(venue: str, expected: str) -> None:
    assert normalize_venue(None, None, None, venue, None) == (expected, SEMANTIC_SCHOLAR)
    assert normalize_venue(None, None, None, None, venue) == (expected, OPENALEX)


def test_sources_are_trusted_in_order() -> None:
    assert normalize_venue("ICML", "IEEE Access 7", "Accepted to CVPR 2021", "AAAI", None) == (
        "ICML",
        "list",
    )
    assert normalize_venue(None, "IEEE Access 7", "Accepted to CVPR 2021", None, None) == (
        "IEEE Access",
        "journal_ref",
    )
    assert normalize_venue("", "", "8 pages", "", "arXiv (Cornell University)") == (
        "arXiv",
        OPENALEX,
    )
    assert normalize_venue(None, None, None, None, None) == (None, None)


@pytest.mark.parametrize("canonical", CANONICAL_VENUES)
def test_canonical_names_are_fixed_points(canonical: str) -> None:
    assert _listed(canonical) == (canonical, "list")


@given(st.lists(st.one_of(st.none(), st.text(max_size=80)), min_size=5, max_size=5))
def test_any_text_gives_a_value_and_a_known_source_or_nothing(texts: list[str | None]) -> None:
    value, source = normalize_venue(*texts)
    assert (value is None) == (source is None)
    assert source is None or source in VENUE_SOURCES
    if value is not None:
        assert value == value.strip() and value


@given(st.text(max_size=60))
def test_a_listed_value_normalises_to_itself(text: str) -> None:
    value, _ = _listed(text)
    if value is not None:
        assert _listed(value) == (value, "list")


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
    assert s2_row("0000.00000", records[0], NOW) == {
        "arxiv_id": "0000.00000",
        "source": SEMANTIC_SCHOLAR,
        "citation_count": None,
        "influential_citation_count": None,
        "venue": None,
        "year": None,
        "oa_url": None,
        "fetched_at": NOW,
    }
    row = s2_row("x", records[1], NOW)
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
    assert row["oa_url"] is None  # {"url": "", "status": null}: closed
    assert row["venue"] == "Neural Information Processing Systems"
    assert normalize_venue("arXiv", None, None, row["venue"], None) == ("NeurIPS", SEMANTIC_SCHOLAR)
    found = best_match("Attention Is All You Need", 2017, [record], "title", "year")
    assert found is not None and found["paperId"] == record["paperId"]
    assert best_match("Attention Is All You Need", 2021, [record], "title", "year") is None


def test_arxiv_only_paper_has_arxiv_as_venue() -> None:
    record = _load("s2/paper_doi_arxiv_prefixed_full.json")
    assert s2_venue(record) == "arXiv.org"
    assert normalize_venue("ICLR", None, None, s2_venue(record), None) == ("ICLR", "list")
    assert normalize_venue(None, None, None, s2_venue(record), None) == ("arXiv", SEMANTIC_SCHOLAR)


def test_journal_paper_merged_with_its_preprint() -> None:
    record = _load("s2/paper_doi_journal_with_arxiv_preprint.json")
    row = s2_row("2304.05376", record, NOW)
    assert (row["citation_count"], row["venue"], row["year"]) == (500, "Nat. Mac. Intell.", 2023)
    assert row["oa_url"] == "https://www.nature.com/articles/s42256-024-00832-8.pdf"


def test_every_record_of_a_full_search_page_parses() -> None:
    page = _load("s2/search_full_fields_kubernetes.json")["data"]
    rows = [s2_row(str(i), record, NOW) for i, record in enumerate(page)]
    assert len(rows) == 100
    with_venue = [r for r in page if r["publicationVenue"]]
    assert len(with_venue) == 81  # as the INDEX notes
    assert all(s2_venue(r) == r["publicationVenue"]["name"] for r in with_venue)
    by_arxiv = {
        r["externalIds"]["ArXiv"]: normalize_venue(None, None, None, s2_venue(r), None)[0]
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
    assert openalex_row("2007.14454", preprint, NOW) == {
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
    assert normalize_venue(None, None, None, None, openalex_venue(proceedings)) == (
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
    assert CiteConfig().s2_interval == 3.0
    assert CiteConfig(s2_api_key="k").s2_interval == 1.0
    assert CiteConfig(s2_api_key="k", s2_delay=0.0).s2_interval == 0.0
    with pytest.raises(ValueError, match="unknown citation source"):
        CiteConfig(sources=("crossref",))


def test_rows_make_a_table_of_exactly_the_schema() -> None:
    payload = _load("openalex/list_filter_openalex_ids_pipe_cursor_first.json")
    works = works_by_doi(openalex_works(payload))
    rows = [
        s2_row("2007.14454", None, NOW),
        openalex_row("2007.14454", works[arxiv_doi("2007.14454")], NOW),
    ]
    table = CiteResult(rows=rows).table()
    assert table.schema.equals(CITATIONS)
    assert table.schema.field("citation_count").type == pa.int64()
    assert table.schema.field("year").type == pa.int32()
    assert str(table.schema.field("fetched_at").type) == "timestamp[us, tz=UTC]"
    assert source_venues(rows) == {
        "2007.14454": {SEMANTIC_SCHOLAR: None, OPENALEX: "arXiv (Cornell University)"}
    }
