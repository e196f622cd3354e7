"""The seam with the ``arxiv`` package: if an upgrade moves it, these fail first."""

from __future__ import annotations

import inspect
import logging
from datetime import UTC, datetime
from pathlib import Path

import arxiv
import pytest
from arxiv import _feed

from pipeline.fetch import paper_from_result, split_version
from pipeline.services.arxiv import check_feed, parsed_feed
from tests import fake_arxiv
from tests.fake_arxiv import FakePaper

ATOM = Path(__file__).parent.parent / "fixtures" / "atom"
FETCHED = datetime(2026, 11, 29, tzinfo=UTC)


def test_client_has_the_one_network_method_we_override() -> None:
    # SeamClient replaces Client._parse_feed(url, first_page, _try_index) -> ParsedFeed.
    params = list(inspect.signature(arxiv.Client._parse_feed).parameters)
    assert params[:3] == ["self", "url", "first_page"]
    source = inspect.getsource(arxiv.Client._results)
    assert "self._parse_feed(" in source
    assert "self._format_url(" in source
    assert arxiv.Client.query_url_format.endswith("?{}")


def test_search_sends_max_results_as_the_page_size() -> None:
    client = arxiv.Client(page_size=7)
    url = client._format_url(arxiv.Search(id_list=["2304.05977"], max_results=7), 0, 7)
    assert "max_results=7" in url and "id_list=2304.05977" in url


def test_feed_parser_builds_results_from_bytes() -> None:
    feed = _feed.parse((ATOM / "recorded_id_astro-ph_0601001.xml").read_bytes())
    assert isinstance(feed, _feed.ParsedFeed)
    assert len(feed.results) == 1 and isinstance(feed.results[0], arxiv.Result)


def test_old_style_id_with_affiliations_and_journal_ref() -> None:
    feed = _feed.parse((ATOM / "recorded_id_astro-ph_0601001.xml").read_bytes())
    paper = paper_from_result(feed.results[0], FETCHED)
    assert (paper.arxiv_id, paper.version) == ("astro-ph/0601001", 1)
    assert paper.primary_category == "astro-ph"
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.authors[0].affiliations == ("Ohio State",)
    assert paper.published.tzinfo is not None and paper.published.utcoffset().total_seconds() == 0
    assert "  " not in paper.abstract and "\n" not in paper.abstract


def test_legacy_feed_with_doi() -> None:
    feed = _feed.parse((ATOM / "recorded_legacy_id_1710.08557.xml").read_bytes())
    paper = paper_from_result(feed.results[0], FETCHED)
    assert paper.arxiv_id == "1710.08557"
    assert paper.doi == "10.1186/s12984-017-0305-3"
    assert paper.primary_category == "cs.RO"
    assert paper.pdf_url is not None and "1710.08557" in paper.pdf_url
    assert paper.fetched_at == FETCHED


def test_split_version() -> None:
    assert split_version("http://arxiv.org/abs/2304.05977v12") == ("2304.05977", 12)
    assert split_version("http://arxiv.org/abs/hep-th/9901001v1") == ("hep-th/9901001", 1)


# -- parsed_feed: the checked tree -> the ParsedFeed arxiv._feed.parse makes of the bytes ------

ODD_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"
      xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <opensearch:totalResults> 5 </opensearch:totalResults>
  <opensearch:itemsPerPage>many</opensearch:itemsPerPage>
  <entry>
    <!-- a comment among the children -->
    <id>http://arxiv.org/abs/2304.05977v2</id>
    <id>http://arxiv.org/abs/9999.99999v9</id>
    <title>  Two
      titles &amp; <b>markup</b> tail</title>
    <title>the second title</title>
    <updated>2023-04-12T17:59:46</updated>
    <published>2023-04-12T17:59:46+02:00</published>
    <summary/>
    <author><name>First &amp; Only</name><name>Second name</name>
      <arxiv:affiliation>Uni A</arxiv:affiliation><arxiv:affiliation/>
      <arxiv:affiliation>Uni B</arxiv:affiliation></author>
    <author><arxiv:affiliation>Nameless</arxiv:affiliation></author>
    <author><name/></author>
    <link rel="alternate" href="https://arxiv.org/abs/2304.05977v2"/>
    <link title="pdf" type="application/pdf"/>
    <link href="https://arxiv.org/pdf/2304.05977v2" title="pdf" rel=""/>
    <link href="https://arxiv.org/pdf/other" title="pdf"/>
    <category term="cs.CV"/><category/><category term="cs.LG"/>
    <arxiv:primary_category/>
    <arxiv:primary_category term="cs.LG"/>
    <arxiv:comment>first</arxiv:comment><arxiv:comment>second</arxiv:comment>
    <arxiv:journal_ref></arxiv:journal_ref>
    <arxiv:doi>10.1/x</arxiv:doi>
    <entry><id>http://arxiv.org/abs/nested</id></entry>
  </entry>
  <entry><title>no id</title><updated>2023-04-12T17:59:46Z</updated></entry>
  <entry><id></id><updated>2023-04-12T17:59:46Z</updated></entry>
  <entry><id>http://arxiv.org/abs/2304.00001v1</id><updated>2023-04-12T17:59:46Z</updated></entry>
  <entry><id>http://arxiv.org/abs/2304.00002v1</id>
    <published>2023-04-12T17:59:46Z</published></entry>
  <entry><id>http://arxiv.org/abs/2304.00003v1</id><updated>2023-04-12T17:59:46Z</updated>
    <published>2023-04-12T17:59:46Z</published><updated>garbage</updated></entry>
</feed>"""


def _fields(result: arxiv.Result) -> tuple[object, ...]:
    # Every attribute of arxiv.Result, compared by value (Result.__eq__ compares ids only).
    return (
        result.entry_id,
        result.updated,
        result.published,
        result.title,
        [(a.name, a.affiliation) for a in result.authors],
        result.summary,
        result.comment,
        result.journal_ref,
        result.doi,
        result.primary_category,
        result.categories,
        [(link.href, link.title, link.rel, link.content_type) for link in result.links],
        result.pdf_url,
        sorted(vars(result)),
    )


def _same_as_arxiv(content: bytes) -> None:
    root, problem = check_feed(content)
    assert problem is None
    ours, theirs = parsed_feed(root), _feed.parse(content)
    assert ours.header == theirs.header
    assert (ours.malformed, ours.error) == (theirs.malformed, theirs.error) == (False, None)
    assert [_fields(r) for r in ours.results] == [_fields(r) for r in theirs.results]
    assert all(type(r) is arxiv.Result for r in ours.results)


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in ATOM.glob("*.xml")),
)
def test_parsed_feed_equals_the_arxiv_parser_on_recorded_feeds(name: str) -> None:
    _same_as_arxiv((ATOM / name).read_bytes())


def test_parsed_feed_equals_the_arxiv_parser_on_odd_entries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # First child of each kind wins, missing ids and dates skip the entry (with the same
    # warnings), naive dates are UTC, empty elements, comments, missing attributes, a
    # malformed header number.
    caplog.set_level(logging.WARNING)
    root, _ = check_feed(ODD_FEED)
    ours = parsed_feed(root)
    our_warnings, _ = list(caplog.messages), caplog.clear()
    theirs = _feed.parse(ODD_FEED)
    assert our_warnings == caplog.messages and len(our_warnings) == 5
    assert [r.entry_id for r in ours.results] == [r.entry_id for r in theirs.results]
    assert len(theirs.results) == 2
    _same_as_arxiv(ODD_FEED)


@pytest.mark.parametrize("wrap", [True, False])
def test_parsed_feed_equals_the_arxiv_parser_on_fake_feeds(wrap: bool) -> None:
    # The fake's synthetic papers: escapes, LaTeX, non-ASCII names, affiliations, DOIs,
    # comments, journal refs, old-style ids; wrapped (pre-2025) and one-line text.
    ids = [f"2304.{n:05d}" for n in range(1, 60)] + ["hep-th/9901001", "math.AG/0601001"]
    papers = [FakePaper.synthetic(i, version=1 + n % 3) for n, i in enumerate(ids)]
    body = fake_arxiv._render_feed(
        search_query="",
        id_list=",".join(ids),
        start=0,
        max_results=len(ids),
        total=len(ids),
        now=FETCHED,
        entries=papers,
        wrap=wrap,
    )
    _same_as_arxiv(body)
