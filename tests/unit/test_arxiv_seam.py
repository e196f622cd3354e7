"""The seam with the ``arxiv`` package: if an upgrade moves it, these fail first."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path

import arxiv
from arxiv import _feed

from pipeline.fetch import paper_from_result, split_version

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
