"""The fake arXiv API itself: what it serves must look like arXiv to the real client stack.

Recorded answers under tests/fixtures/atom/ are the reference: where the fake holds the same
papers as a recording, it must answer the same bytes (apart from the response time) or at least
the same ids.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import arxiv
import pytest
import requests
from arxiv import _feed
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.fake_arxiv import FakeArxiv, FakePaper, RecordedRequest, papers_from_atom

ATOM = Path(__file__).resolve().parents[1] / "fixtures" / "atom"
NS = {"a": "http://www.w3.org/2005/Atom", "os": "http://a9.com/-/spec/opensearch/1.1/"}
IDS = [f"2301.{n:05d}" for n in range(1, 26)]


def _get(fake: FakeArxiv, timeout: float = 5, **params: str | int) -> requests.Response:
    return requests.get(fake.url, params=params, timeout=timeout)


def _short_ids(response: requests.Response) -> list[str]:
    return [result.get_short_id() for result in _feed.parse(response.content).results]


def _total(response: requests.Response) -> int:
    return _feed.parse(response.content).header.total_results


def _strict(body: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(body, parser=parser)


def _feed_time_removed(body: bytes) -> bytes:
    """The feed's own <updated> is the response time; entries keep theirs."""
    return re.sub(rb"<updated>[^<]*</updated>", b"<updated/>", body, count=1)


def _all_times_removed(body: bytes) -> bytes:
    return re.sub(rb"<updated>[^<]*</updated>", b"<updated/>", body)


def _fields(result: arxiv.Result) -> tuple[object, ...]:
    return (
        result.entry_id,
        result.title,
        result.summary,
        [(a.name, a.affiliation) for a in result.authors],
        result.published,
        result.updated,
        result.primary_category,
        result.categories,
        result.doi,
        result.journal_ref,
        result.comment,
        [(link.href, link.title, link.rel, link.content_type) for link in result.links],
    )


@contextmanager
def _arxiv_client(fake: FakeArxiv, num_retries: int = 0) -> Iterator[arxiv.Client]:
    client = arxiv.Client(page_size=100, delay_seconds=0, num_retries=num_retries)
    client.query_url_format = fake.url + "?{}"
    try:
        yield client
    finally:
        client._session.close()  # arxiv.Client never closes its session itself


@pytest.fixture
def many(fake_arxiv: FakeArxiv) -> FakeArxiv:
    """The fake holding 25 synthetic papers, 2301.00001 to 2301.00025."""
    fake_arxiv.add(*(FakePaper.synthetic(arxiv_id) for arxiv_id in IDS))
    return fake_arxiv


# --------------------------------------------------------------------------- papers


def test_synthetic_paper_is_deterministic_and_plausible() -> None:
    paper = FakePaper.synthetic("2304.05977")
    assert paper == FakePaper.synthetic("2304.05977")
    assert (paper.published.year, paper.published.month) == (2023, 4)
    assert paper.published.utcoffset() is not None and paper.updated == paper.published
    assert "\n" in paper.abstract and "&" in paper.abstract and "$\\alpha$" in paper.abstract
    assert paper.authors and paper.categories[0] == paper.primary_category

    old = FakePaper.synthetic("hep-th/9901001", title="Old", version=3, doi=None)
    assert (old.published.year, old.published.month) == (1999, 1)
    assert old.primary_category == "hep-th" and old.title == "Old" and old.doi is None
    assert old.version == 3 and old.updated > old.published

    for bad in ("2304.05977v2", "abc"):
        with pytest.raises(ValueError, match="without version"):
            FakePaper.synthetic(bad)


def test_feed_parses_into_results_with_every_field(fake_arxiv: FakeArxiv) -> None:
    paper = FakePaper.synthetic(
        "2304.05977",
        title="ImageReward: Learning & Evaluating <Human> Preferences for Text-to-Image",
        version=2,
        authors=[("Jiazheng Xu", ["Tsinghua University", "Zhipu AI"]), ("Xiao Liu", [])],
        categories=["cs.CV", "cs.LG"],
        primary_category="cs.CV",
        doi="10.48550/arXiv.2304.05977",
        journal_ref="NeurIPS 2023",
        comment="24 pages; code & data",
    )
    fake_arxiv.add(paper)

    response = _get(fake_arxiv, id_list="2304.05977")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=UTF-8"
    [result] = _feed.parse(response.content).results
    assert result.entry_id == "http://arxiv.org/abs/2304.05977v2"
    assert result.title == paper.title
    assert " ".join(result.summary.split()) == " ".join(paper.abstract.split())
    assert [(a.name, a.affiliation) for a in result.authors] == paper.authors
    assert (result.published, result.updated) == (paper.published, paper.updated)
    assert result.primary_category == "cs.CV" and result.categories == ["cs.CV", "cs.LG"]
    assert (result.doi, result.journal_ref) == (paper.doi, paper.journal_ref)
    assert result.comment == paper.comment
    assert result.pdf_url == "https://arxiv.org/pdf/2304.05977v2"


def test_served_feed_is_byte_identical_to_the_recorded_one(fake_arxiv: FakeArxiv) -> None:
    recorded = (ATOM / "recorded_id_astro-ph_0601001.xml").read_bytes()
    with FakeArxiv(wrap_text=False) as fake:
        fake.add(*papers_from_atom(recorded))
        # The request the recording was made with (arxiv.py's parameters).
        response = _get(
            fake,
            search_query="",
            id_list="astro-ph/0601001",
            sortBy="relevance",
            sortOrder="descending",
            start=0,
            max_results=100,
        )
    assert _feed_time_removed(response.content) == _feed_time_removed(recorded)


def test_well_formed_unknown_id_gives_the_recorded_empty_feed(fake_arxiv: FakeArxiv) -> None:
    recorded = (ATOM / "recorded_id_0808.05394_zero_results.xml").read_bytes()
    response = _get(fake_arxiv, search_query="", id_list="0808.05394", start=0, max_results=100)
    assert response.status_code == 200
    assert _feed_time_removed(response.content) == _feed_time_removed(recorded)


def test_malformed_id_gives_the_recorded_error_feed(fake_arxiv: FakeArxiv) -> None:
    recorded = (ATOM / "recorded_error_400_abc.xml").read_bytes()
    response = _get(fake_arxiv, id_list="abc", max_results=100)
    assert response.status_code == 400
    assert _all_times_removed(response.content) == _all_times_removed(recorded)


@pytest.mark.parametrize(
    ("id_list", "named"),
    [
        ("2301.00001,abc,def", "abc"),
        ("2301.000001", "2301.000001"),
        ("2301.00001v", "2301.00001v"),
        ("arXiv:2301.00001", "arXiv:2301.00001"),
        ("hep-th/990100", "hep-th/990100"),
        ("HEP-TH/9901001", "HEP-TH/9901001"),
        ("a&b", "a&b"),
    ],
)
def test_first_malformed_id_is_named_in_a_400(
    fake_arxiv: FakeArxiv, id_list: str, named: str
) -> None:
    response = _get(fake_arxiv, id_list=id_list)
    assert response.status_code == 400
    entry = _strict(response.content).find("a:entry", NS)
    assert entry is not None
    assert entry.findtext("a:summary", namespaces=NS) == f"incorrect id format for {named}"
    assert entry.findtext("a:id", namespaces=NS).endswith(f"#incorrect_id_format_for_{named}")


@pytest.mark.parametrize(
    "arxiv_id",
    ["0000.0000", "2301.00001v7", "2301.0001v1", "math.AG/0211159", "cond-mat/9901001v2"],
)
def test_well_formed_ids_are_not_errors(fake_arxiv: FakeArxiv, arxiv_id: str) -> None:
    response = _get(fake_arxiv, id_list=arxiv_id)
    assert response.status_code == 200 and _total(response) == 0


# --------------------------------------------------------------------------- id_list


def test_arxiv_client_fetches_an_id_list(many: FakeArxiv) -> None:
    with _arxiv_client(many) as client:
        results = list(client.results(arxiv.Search(id_list=IDS, max_results=len(IDS))))

    assert sorted(r.get_short_id() for r in results) == [f"{i}v1" for i in IDS]
    [request] = many.requests
    assert request.id_list == IDS and request.max_results == 100
    assert request.user_agent is not None and request.user_agent.startswith("arxiv.py/")


def test_unknown_ids_are_absent(many: FakeArxiv) -> None:
    response = _get(many, id_list="2301.00002,2301.99999,0000.0000,2301.00001")
    assert response.status_code == 200
    assert sorted(_short_ids(response)) == ["2301.00001v1", "2301.00002v1"]
    assert _total(response) == 2


def test_answers_are_never_in_request_order_but_deterministic(many: FakeArxiv) -> None:
    for asked in (IDS, IDS[::-1], IDS[:2], IDS[5:1:-1]):
        response = _get(many, id_list=",".join(asked), max_results=50)
        answered = [i.removesuffix("v1") for i in _short_ids(response)]
        assert sorted(answered) == sorted(asked)
        assert answered != asked
    again = _get(many, id_list=",".join(IDS[:7]))
    assert _short_ids(again) == _short_ids(_get(many, id_list=",".join(IDS[:7])))


def test_max_results_defaults_to_ten(many: FakeArxiv) -> None:
    response = _get(many, id_list=",".join(IDS))
    feed = _feed.parse(response.content)
    assert len(feed.results) == 10
    assert (feed.header.total_results, feed.header.items_per_page) == (25, 10)
    assert many.requests[-1].max_results == 10


def test_paging_with_start_and_max_results(many: FakeArxiv) -> None:
    pages = [_get(many, id_list=",".join(IDS), start=s, max_results=10) for s in (0, 10, 20, 30)]
    ids = [_short_ids(page) for page in pages]
    assert [len(page) for page in ids] == [10, 10, 5, 0]
    assert sorted(i for page in ids for i in page) == [f"{i}v1" for i in IDS]
    assert [_feed.parse(p.content).header.start_index for p in pages] == [0, 10, 20, 30]
    assert all(_total(page) == 25 for page in pages)

    capped = _feed.parse(_get(many, id_list=",".join(IDS), max_results=5000).content)
    assert capped.header.items_per_page == 2000 and len(capped.results) == 25


def test_bad_paging_parameters_are_400(fake_arxiv: FakeArxiv) -> None:
    for params, message in (
        ({"start": "x"}, "start must be an integer"),
        ({"max_results": "-1"}, "max_results must be non-negative"),
    ):
        response = _get(fake_arxiv, id_list="2301.00001", **params)
        assert response.status_code == 400
        assert _strict(response.content).findtext("a:entry/a:summary", namespaces=NS) == message


def test_version_pinning_and_new_versions(fake_arxiv: FakeArxiv) -> None:
    fake_arxiv.add(FakePaper.synthetic("2310.03739", title="First title", version=2))

    [v1] = _feed.parse(_get(fake_arxiv, id_list="2310.03739v1").content).results
    assert v1.entry_id == "http://arxiv.org/abs/2310.03739v1" and v1.updated == v1.published
    assert _short_ids(_get(fake_arxiv, id_list="2310.03739")) == ["2310.03739v2"]
    assert _short_ids(_get(fake_arxiv, id_list="2310.03739v3")) == []

    v3 = fake_arxiv.publish_new_version("2310.03739", title="Second title")
    assert v3.version == 3 and v3.updated > fake_arxiv.get("2310.03739", 2).updated
    [latest] = _feed.parse(_get(fake_arxiv, id_list="2310.03739").content).results
    assert (latest.get_short_id(), latest.title, latest.updated) == (
        "2310.03739v3",
        "Second title",
        v3.updated,
    )
    both = _get(fake_arxiv, id_list="2310.03739v2,2310.03739")
    assert sorted(_short_ids(both)) == ["2310.03739v2", "2310.03739v3"]
    assert {r.title for r in _feed.parse(both.content).results} == {"First title", "Second title"}
    assert fake_arxiv.papers["2310.03739"] == v3


def test_removed_paper_is_absent(many: FakeArxiv) -> None:
    many.remove("2301.00003")
    assert _short_ids(_get(many, id_list="2301.00003")) == []
    with pytest.raises(KeyError):
        many.remove("2301.00003")


# --------------------------------------------------------------------------- search_query


@pytest.fixture
def titled(fake_arxiv: FakeArxiv) -> FakeArxiv:
    """Four papers whose titles and authors the search tests rely on."""
    fake_arxiv.add(
        FakePaper.synthetic(
            "2301.00001", title="Deep Dream Generator for Images", authors=[("Alice Smith", [])]
        ),
        FakePaper.synthetic(
            "2301.00002", title="Dreaming of Deep Networks", authors=[("Bob Jones", [])]
        ),
        FakePaper.synthetic(
            "2301.00003",
            title="Quantum Error-Correction with Deep Codes",
            authors=[("Alice Smith", ["MIT"])],
        ),
        FakePaper.synthetic(
            "2301.00004", title="Protein Folding: Dreams", authors=[("Adrian Del Maestro", [])]
        ),
    )
    return fake_arxiv


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('ti:"deep dream"', {1}),
        ('ti:"Deep-Dream!"', {1}),
        ("ti:deep AND ti:dream", {1}),
        ("ti:deep+AND+ti:dream", {1}),
        ("deep dream", {1}),
        ("ti:deep OR ti:dreams", {1, 2, 3, 4}),
        ("ti:deep ANDNOT au:smith", {2}),
        ("au:smith AND (ti:quantum OR ti:protein)", {3}),
        ("au:smith ANDNOT (ti:quantum OR ti:images)", set()),
        ('au:del_maestro OR ti:"error correction"', {3, 4}),
        ("all:quantum", {3}),
        ("quantum", {3}),
        ("ti:nothing", set()),
    ],
)
def test_search_query_language(titled: FakeArxiv, query: str, expected: set[int]) -> None:
    response = _get(titled, search_query=query, max_results=50)
    assert response.status_code == 200
    assert {int(i[5:10]) for i in _short_ids(response)} == expected
    assert _total(response) == len(expected)
    assert titled.search_requests[-1].search_query == query


def test_search_sorts_by_relevance_and_filters_with_id_list(titled: FakeArxiv) -> None:
    ranked = _short_ids(_get(titled, search_query="ti:deep OR ti:generator OR ti:images"))
    assert ranked[0] == "2301.00001v1" and len(ranked) == 3

    both = _get(titled, search_query="ti:deep", id_list="2301.00002,2301.00003,2301.00004")
    assert sorted(_short_ids(both)) == ["2301.00002v1", "2301.00003v1"]

    oldest_first = _get(
        titled, search_query="ti:deep", sortBy="submittedDate", sortOrder="ascending"
    )
    published = [r.published for r in _feed.parse(oldest_first.content).results]
    assert published == sorted(published)


def _recorded_ids(name: str) -> set[str]:
    return {f"{p.arxiv_id}v{p.version}" for p in papers_from_atom((ATOM / name).read_bytes())}


def test_search_agrees_with_recorded_arxiv_answers(fake_arxiv: FakeArxiv) -> None:
    names = [
        "recorded_legacy_search_au_del_maestro.xml",
        "recorded_legacy_search_au_del_maestro_AND_ti_checkerboard.xml",
        "recorded_legacy_search_au_del_maestro_AND_ti_quantum_criticality.xml",
        "recorded_legacy_search_au_del_maestro_ANDNOT_paren.xml",
    ]
    for name in names:
        fake_arxiv.add(*papers_from_atom((ATOM / name).read_bytes()))
    assert len(fake_arxiv.papers) == 12

    def served(query: str) -> set[str]:
        return set(_short_ids(_get(fake_arxiv, search_query=query, max_results=50)))

    # The fake holds only the 12 papers these recordings show, of arXiv's 31 for au:del_maestro.
    assert served("au:del_maestro") >= _recorded_ids(names[0])
    assert served("au:del_maestro AND ti:checkerboard") == _recorded_ids(names[1])
    assert served('au:del_maestro AND ti:"quantum criticality"') == _recorded_ids(names[2])
    assert served("au:del_maestro ANDNOT (ti:checkerboard OR ti:Pyrochlore)") == _recorded_ids(
        names[3]
    )


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeArxiv]:
    """One server for every Hypothesis example (a function-scoped fixture is not reset)."""
    with FakeArxiv() as fake:
        fake.add(*(FakePaper.synthetic(arxiv_id) for arxiv_id in IDS[:5]))
        yield fake
    assert fake.errors == [], "\n".join(fake.errors)


_ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_PRINTABLE = st.text(
    st.characters(categories=("L", "M", "N", "P", "S", "Zs")), min_size=1, max_size=60
)


@settings(max_examples=60, deadline=None)
@given(query=_ANY_TEXT, id_list=_ANY_TEXT)
def test_any_query_gets_a_well_formed_answer(
    shared_fake: FakeArxiv, query: str, id_list: str
) -> None:
    response = _get(shared_fake, search_query=query, id_list=id_list)
    assert response.status_code in (200, 400)
    _strict(response.content)


@settings(max_examples=60, deadline=None)
@given(title=_PRINTABLE, abstract=_PRINTABLE, name=_PRINTABLE)
def test_any_text_is_escaped_and_comes_back(
    shared_fake: FakeArxiv, title: str, abstract: str, name: str
) -> None:
    shared_fake.add(
        FakePaper.synthetic("2302.00001", title=title, abstract=abstract, authors=[(name, [name])])
    )
    response = _get(shared_fake, id_list="2302.00001")
    [result] = _feed.parse(response.content).results
    assert " ".join(result.title.split()) == " ".join(title.split())
    assert " ".join(result.summary.split()) == " ".join(abstract.split())
    assert [(a.name, a.affiliation) for a in result.authors] == [(name, [name])]


# --------------------------------------------------------------------------- transport


def test_post_form_is_answered_like_get(many: FakeArxiv) -> None:
    params = {"id_list": ",".join(IDS), "max_results": "25"}
    posted = requests.post(many.url, data=params, timeout=5)
    assert posted.status_code == 200
    assert sorted(_short_ids(posted)) == sorted(_short_ids(_get(many, **params)))
    assert [r.method for r in many.requests] == ["POST", "GET"]
    assert many.requests[0].id_list == IDS


def test_long_get_is_414_but_the_same_post_is_answered(fake_arxiv: FakeArxiv) -> None:
    ids = ",".join(f"2301.{n:05d}" for n in range(1, 701))
    assert _get(fake_arxiv, id_list=ids).status_code == 414
    assert requests.post(fake_arxiv.url, data={"id_list": ids}, timeout=5).status_code == 200
    # 500 ids, the pipeline's GET batch limit, still fit.
    short = ",".join(f"2301.{n:05d}" for n in range(1, 501))
    assert _get(fake_arxiv, id_list=short).status_code == 200
    assert [r.status for r in fake_arxiv.requests] == [414, 200, 200]


def test_request_log_records_what_was_asked(fake_arxiv: FakeArxiv) -> None:
    before = time.monotonic()
    requests.get(
        fake_arxiv.url,
        params={"id_list": "2301.00001,2301.00002v2", "start": "5", "sortBy": "relevance"},
        headers={"User-Agent": "arxiv-list-pipeline/0.1 (+https://example.org)"},
        timeout=5,
    )
    _get(fake_arxiv, search_query='ti:"deep dream"')
    requests.get(fake_arxiv.url.replace("/api/query", "/nowhere"), timeout=5)

    first, second, third = fake_arxiv.requests
    assert first == RecordedRequest(
        method="GET",
        path="/api/query",
        params={"id_list": "2301.00001,2301.00002v2", "start": "5", "sortBy": "relevance"},
        id_list=["2301.00001", "2301.00002v2"],
        search_query="",
        start=5,
        max_results=10,
        status=200,
        fault=None,
        user_agent="arxiv-list-pipeline/0.1 (+https://example.org)",
        at=first.at,
    )
    assert before <= first.at <= second.at <= time.monotonic()
    assert (second.search_query, second.id_list) == ('ti:"deep dream"', [])
    assert (third.path, third.status) == ("/nowhere", 404)
    assert fake_arxiv.id_requests == [first] and fake_arxiv.search_requests == [second]
    fake_arxiv.clear_log()
    assert fake_arxiv.requests == []


# --------------------------------------------------------------------------- faults


def test_fail_next_with_retry_after(many: FakeArxiv) -> None:
    date = "Wed, 21 Oct 2026 07:28:00 GMT"
    many.fail_next(2, status=503, retry_after=7)
    many.fail_next(1, status=429, retry_after=date)

    responses = [_get(many, id_list="2301.00001") for _ in range(4)]

    assert [r.status_code for r in responses] == [503, 503, 429, 200]
    assert [r.headers.get("Retry-After") for r in responses] == ["7", "7", date, None]
    assert [r.fault for r in many.requests] == ["fail", "fail", "fail", None]


def test_arxiv_client_retries_through_a_failure(many: FakeArxiv) -> None:
    many.fail_next(1)
    with _arxiv_client(many, num_retries=1) as client:
        results = list(client.results(arxiv.Search(id_list=IDS[:3], max_results=3)))
    assert len(results) == 3
    assert [r.status for r in many.requests] == [503, 200]


def test_empty_pages_keep_the_true_total(many: FakeArxiv) -> None:
    many.empty_next(1)
    empty = _feed.parse(_get(many, id_list=",".join(IDS)).content)
    assert empty.results == [] and empty.header.total_results == 25
    assert len(_short_ids(_get(many, id_list=",".join(IDS)))) == 10

    many.empty_every(2)
    counts = [len(_short_ids(_get(many, id_list=",".join(IDS)))) for _ in range(4)]
    assert counts == [10, 0, 10, 0]
    assert [r.fault for r in many.requests] == ["empty", None, None, "empty", None, "empty"]


def test_truncated_bodies_are_malformed_xml(many: FakeArxiv) -> None:
    whole = _get(many, id_list=",".join(IDS)).content
    many.truncate_next(1)
    cut = _get(many, id_list=",".join(IDS))
    assert cut.status_code == 200 and whole.startswith(cut.content)
    assert len(cut.content) == len(whole) // 2
    with pytest.raises(etree.XMLSyntaxError):
        _strict(cut.content)
    _strict(_get(many, id_list=",".join(IDS)).content)

    many.truncate_every(3)
    many.clear_log()
    for _ in range(3):
        _get(many, id_list="2301.00001")
    assert [r.fault for r in many.requests] == [None, None, "truncate"]


def test_min_interval_answers_429_to_early_requests(many: FakeArxiv) -> None:
    many.min_interval(0.2)
    assert _get(many, id_list="2301.00001").status_code == 200
    assert _get(many, id_list="2301.00001").status_code == 429
    time.sleep(0.25)
    assert _get(many, id_list="2301.00001").status_code == 200
    assert [r.fault for r in many.requests] == [None, "rate_limit", None]


def test_latency_delays_every_answer(many: FakeArxiv) -> None:
    many.latency(0.1)
    started = time.monotonic()
    assert _get(many, id_list="2301.00001").status_code == 200
    assert time.monotonic() - started >= 0.1


def test_reset_closes_the_connection_without_an_answer(many: FakeArxiv) -> None:
    many.reset_next(1)
    with pytest.raises(requests.ConnectionError):
        _get(many, id_list="2301.00001")
    assert _get(many, id_list="2301.00001").status_code == 200
    assert [(r.status, r.fault) for r in many.requests] == [(None, "reset"), (200, None)]


def test_hang_triggers_client_timeouts_and_stop_does_not_wait() -> None:
    with FakeArxiv() as fake:
        fake.add(FakePaper.synthetic("2301.00001"))
        fake.hang_next(1, 30)
        with pytest.raises(requests.ReadTimeout):
            _get(fake, timeout=0.2, id_list="2301.00001")
        assert fake.requests[-1].fault == "hang"
        started = time.monotonic()
    assert time.monotonic() - started < 1.0


def test_bomb_is_an_entity_bomb_that_safe_parsers_survive(many: FakeArxiv) -> None:
    many.bomb_next(1)
    response = _get(many, id_list="2301.00001")
    assert response.status_code == 200 and b"<!ENTITY lol9" in response.content
    started = time.monotonic()
    # libxml2 refuses the amplification even with resolve_entities=False: fast, not fatal.
    with pytest.raises(etree.XMLSyntaxError, match="amplification"):
        _strict(response.content)
    # arxiv.py's recovering parser turns it into an empty feed (not flagged malformed).
    assert _feed.parse(response.content).results == []
    assert time.monotonic() - started < 1.0
    assert many.requests[-1].fault == "bomb"


def test_clear_faults(many: FakeArxiv) -> None:
    many.fail_next(3)
    many.reset_next(1)
    many.empty_every(1)
    many.truncate_next(2)
    many.bomb_next(1)
    many.hang_next(1, 5)
    many.min_interval(10)
    many.latency(5)
    many.clear_faults()
    for _ in range(2):
        response = _get(many, id_list="2301.00001")
        assert response.status_code == 200 and _short_ids(response) == ["2301.00001v1"]


def test_concurrent_requests_are_counted_exactly(many: FakeArxiv) -> None:
    many.fail_next(5)
    many.empty_next(3)
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda _: _get(many, id_list=",".join(IDS)), range(20)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 15 + [503] * 5
    assert (
        sorted(len(_short_ids(r)) for r in responses if r.status_code == 200) == [0] * 3 + [10] * 12
    )
    faults = [r.fault for r in many.requests]
    assert len(faults) == 20
    assert (faults.count("fail"), faults.count("empty"), faults.count(None)) == (5, 3, 12)


def test_stop_joins_every_thread() -> None:
    before = threading.active_count()
    with FakeArxiv() as fake:
        fake.add(FakePaper.synthetic("2301.00001"))
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda _: _get(fake, id_list="2301.00001"), range(8)))
    assert threading.active_count() == before
    fake.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.url


# --------------------------------------------------------------------------- recordings


def test_recorded_entries_round_trip(fake_arxiv: FakeArxiv) -> None:
    recorded = (ATOM / "recorded_search_all_testing.xml").read_bytes()
    papers = papers_from_atom(recorded)
    assert len(papers) == 10 and any(p.doi for p in papers) and any(p.journal_ref for p in papers)
    expected = {r.entry_id: _fields(r) for r in _feed.parse(recorded).results}
    ids = ",".join(p.arxiv_id for p in papers)

    with FakeArxiv(wrap_text=False) as fake:
        fake.add(*papers)
        served = _feed.parse(_get(fake, id_list=ids).content).results
    assert {r.entry_id: _fields(r) for r in served} == expected

    # Wrapped as the legacy API did, only the whitespace of the summary differs.
    fake_arxiv.add(*papers)
    for result in _feed.parse(_get(fake_arxiv, id_list=ids).content).results:
        want = expected[result.entry_id]
        assert " ".join(result.summary.split()) == " ".join(str(want[2]).split())
        assert _fields(result)[3:] == want[3:] and result.title == want[1]


def test_legacy_wrapping_is_reproduced_exactly(fake_arxiv: FakeArxiv) -> None:
    recorded = (ATOM / "recorded_legacy_search_au_agdur.xml").read_bytes()
    papers = papers_from_atom(recorded)
    assert all("\n" not in p.title for p in papers)
    assert any("\n  " in p.abstract for p in papers)  # paragraphs survive the unwrapping
    fake_arxiv.add(*papers)

    response = _get(fake_arxiv, search_query="au:agdur")

    def texts(body: bytes) -> dict[str, tuple[str, str]]:
        return {
            entry.findtext("a:id", namespaces=NS): (
                entry.findtext("a:title", namespaces=NS),
                entry.findtext("a:summary", namespaces=NS),
            )
            for entry in _strict(body).iterfind("a:entry", NS)
        }

    assert texts(response.content) == texts(recorded)
    assert _total(response) == _feed.parse(recorded).header.total_results == 4


def test_category_and_submitted_date_window_newest_first(fake_arxiv: FakeArxiv) -> None:
    def paper(arxiv_id: str, day: int, category: str) -> FakePaper:
        return FakePaper.synthetic(
            arxiv_id,
            published=datetime(2025, 6, day, 12, tzinfo=UTC),
            primary_category=category,
            categories=[category],
        )

    fake_arxiv.add(
        paper("2506.00001", 1, "cs.CV"),
        paper("2506.00002", 10, "cs.CV"),
        paper("2506.00003", 11, "cs.LG"),
        paper("2506.00004", 20, "cs.CV"),
        paper("2506.00005", 15, "q-bio.BM"),
    )
    query = "(cat:cs.CV OR cat:cs.LG) AND submittedDate:[202506020000 TO 202506201200]"
    response = _get(fake_arxiv, search_query=query, sortBy="submittedDate", sortOrder="descending")
    # Both ends are included, to the minute; outside the window or the categories is out.
    assert _short_ids(response) == ["2506.00004v1", "2506.00003v1", "2506.00002v1"]
    assert fake_arxiv.search_requests[-1].search_query == query
