"""arXiv's API on top of the shared HTTP layer: feed checks, 400 feeds, the client seam.

SeamClient (arxiv.Client)   paging and Result models from the ``arxiv`` package
ArxivApi.get_parsed_feed    complete feeds only, parsed once; a 400 names the id it refused
HttpClient                  cache, retries, per-host rate limit (pipeline/http.py)
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import arxiv
import requests
from arxiv import _feed as arxiv_feed
from lxml import etree

from pipeline.config import Settings
from pipeline.errors import ArxivBadRequestError
from pipeline.services.http import Clock, HttpClient, HttpSettings, HttpStats, Sleep

__all__ = [
    "ArxivApi",
    "HttpStats",
    "SeamClient",
    "Sleep",
    "check_feed",
    "feed_problem",
    "http_settings",
    "parsed_feed",
]

MAX_GET_URL_LENGTH = 4000
"""Longer queries go as POST: arXiv answers 414 past roughly 700 ids in a query string."""
_ATOM = "{http://www.w3.org/2005/Atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_BAD_ID = re.compile(r"incorrect id format for ([^\s<]+)")
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def feed_problem(content: bytes) -> str | None:
    """Why ``content`` is not a complete, usable Atom feed, or None when it is.

    Strict parse (no recovery) so that half a feed is never taken for a whole one; entities
    are not resolved and no network is touched, so an entity bomb or an external entity
    cannot expand.
    """
    return check_feed(content)[1]


def check_feed(content: bytes) -> tuple[Any, str | None]:
    """``content``'s strictly parsed root and ``feed_problem``'s verdict on it.

    The root is None when the content is not XML at all; use it only when the verdict is
    None (a usable feed).
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=False, load_dtd=False
    )
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as err:
        return None, f"malformed XML ({err.msg})"
    if root is None or root.tag != f"{_ATOM}feed":
        return root, "not an Atom feed"
    if root.getroottree().docinfo.internalDTD is not None:
        # arXiv never sends a DTD; one here can only declare entities (a bomb, or external).
        return root, "the feed carries a DTD (refused: possible entity bomb)"
    no_entries = root.find(_ENTRY) is None
    total = _int_text(root, f"{_OPENSEARCH}totalResults")
    start = _int_text(root, f"{_OPENSEARCH}startIndex")
    if no_entries and total is not None and total > (start or 0):
        return root, f"unexpectedly empty page: 0 entries although totalResults={total}"
    return root, None


def _int_text(root: Any, path: str) -> int | None:
    node = root.find(path)
    try:
        return int(node.text.strip()) if node is not None and node.text else None
    except ValueError:
        return None


def _feed_problem(response: requests.Response) -> str | None:
    root, problem = check_feed(response.content)
    if problem is None:
        # Kept for get_parsed_feed, so that a network answer is parsed once, not twice.
        response._pipeline_feed_root = root  # type: ignore[attr-defined]
    return problem


# -- the checked tree -> arxiv.Result, as arxiv._feed.parse builds them from bytes ------------
#
# arxiv._feed.parse parses the bytes again (leniently) and reads each entry with a dozen
# namespaced ``find`` calls, a tenth of a millisecond an entry: most of a cold fetch. This
# builds the same ParsedFeed from the tree check_feed already made, one pass over each
# entry's children. tests/unit/test_arxiv_seam.py holds it equal to arxiv._feed.parse on
# every recorded feed, so an arxiv upgrade that changes the Result model fails there.

_ARXIV = "{http://arxiv.org/schemas/atom}"
_ENTRY = f"{_ATOM}entry"
_AUTHOR, _NAME, _AFFILIATION = f"{_ATOM}author", f"{_ATOM}name", f"{_ARXIV}affiliation"
_LINK, _CATEGORY, _PRIMARY = f"{_ATOM}link", f"{_ATOM}category", f"{_ARXIV}primary_category"
_ID, _TITLE, _SUMMARY = f"{_ATOM}id", f"{_ATOM}title", f"{_ATOM}summary"
_UPDATED, _PUBLISHED = f"{_ATOM}updated", f"{_ATOM}published"
_COMMENT, _JOURNAL_REF, _DOI = f"{_ARXIV}comment", f"{_ARXIV}journal_ref", f"{_ARXIV}doi"
_WHITESPACE = re.compile(r"\s+")
_arxiv_log = logging.getLogger(arxiv_feed.__name__)


def parsed_feed(root: Any) -> arxiv_feed.ParsedFeed:
    """A feed ``check_feed`` accepted -> the ParsedFeed ``arxiv._feed.parse`` makes of it."""
    header = arxiv_feed.FeedHeader(
        total_results=_header_int(root, f"{_OPENSEARCH}totalResults"),
        items_per_page=_header_int(root, f"{_OPENSEARCH}itemsPerPage"),
        start_index=_header_int(root, f"{_OPENSEARCH}startIndex"),
    )
    results = []
    for entry in root.iterchildren(_ENTRY):
        result = _result(entry)
        if result is not None:
            results.append(result)
    return arxiv_feed.ParsedFeed(header=header, results=results, malformed=False)


def _header_int(root: Any, tag: str) -> int:
    node = root.find(tag)
    try:
        return int(node.text.strip()) if node is not None and node.text is not None else 0
    except ValueError:
        return 0


def _result(entry: Any) -> arxiv.Result | None:
    # Like arxiv._feed._build_result: the first child of each kind counts, a missing id or
    # date skips the entry (with the same warning).
    texts: dict[Any, str | None] = {}
    authors: list[arxiv.Result.Author] = []
    links: list[arxiv.Result.Link] = []
    categories: list[str] = []
    primary: Any = None
    for child in entry:
        tag = child.tag
        if tag == _AUTHOR:
            authors.append(_author(child))
        elif tag == _LINK:
            href = child.get("href")
            if href is not None:
                links.append(
                    arxiv.Result.Link(
                        href=href,
                        title=child.get("title"),
                        rel=child.get("rel") or "",
                        content_type=child.get("type"),
                    )
                )
        elif tag == _CATEGORY:
            term = child.get("term")
            if term is not None:
                categories.append(term)
        elif tag == _PRIMARY:
            if primary is None:
                primary = child
        elif tag not in texts:
            texts[tag] = child.text
    entry_id = texts.get(_ID)
    if not entry_id:
        _arxiv_log.warning("Skipping entry without <id>")
        return None
    updated = _timestamp(texts.get(_UPDATED))
    published = _timestamp(texts.get(_PUBLISHED))
    if updated is None or published is None:
        missing = "updated" if updated is None else "published"
        _arxiv_log.warning("Skipping entry %s missing <%s>", entry_id, missing)
        return None
    return arxiv.Result(
        entry_id=entry_id,
        updated=updated,
        published=published,
        title=_WHITESPACE.sub(" ", texts.get(_TITLE) or ""),
        authors=authors,
        summary=texts.get(_SUMMARY) or "",
        comment=texts.get(_COMMENT),
        journal_ref=texts.get(_JOURNAL_REF),
        doi=texts.get(_DOI),
        primary_category=(primary.get("term") if primary is not None else "") or "",
        categories=categories,
        links=links,
    )


def _author(element: Any) -> arxiv.Result.Author:
    name: str | None = None
    affiliations: list[str] = []
    for child in element:
        tag = child.tag
        if tag == _NAME:
            if name is None:
                name = child.text or ""
        elif tag == _AFFILIATION and child.text is not None:
            affiliations.append(child.text)
    return arxiv.Result.Author(name=name or "", affiliation=affiliations)


def _timestamp(text: str | None) -> datetime | None:
    # arxiv._feed._parse_datetime: RFC 3339, naive taken as UTC, returned in UTC.
    if text is None:
        return None
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def http_settings(settings: Settings) -> HttpSettings:
    return HttpSettings(
        cache_path=settings.http_cache_path,
        cache_ttl_hours=settings.cache_ttl_hours,
        user_agent=settings.user_agent,
        default_delay=settings.delay,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retry_budget=settings.max_retry_seconds,
        offline=settings.offline,
    )


class ArxivApi:
    """All traffic to the arXiv API goes through one of these (and its HttpClient)."""

    def __init__(
        self,
        settings: Settings,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
        http: HttpClient | None = None,
    ) -> None:
        self.settings = settings
        self.url = settings.api_url
        self.http = http or HttpClient(http_settings(settings), sleep, clock, rng)
        self.http.set_delay(self.url, settings.delay)
        self.http.add_validator(self.url, _feed_problem)
        self.stats = self.http.stats

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ArxivApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_feed(self, url: str, refresh: bool = False) -> bytes:
        """The body of a complete Atom feed for ``url``, retrying transient failures.

        ``refresh`` skips a fresh cached answer (a re-check must see new versions).
        """
        return self._feed_response(url, refresh).content

    def get_parsed_feed(self, url: str, refresh: bool = False) -> arxiv_feed.ParsedFeed:
        """``get_feed`` parsed as ``arxiv._feed.parse`` would, reusing the check's parse."""
        response = self._feed_response(url, refresh)
        # A network answer was parsed by its check; a cached one (checked when it was
        # stored) is parsed here, strictly too.
        root = getattr(response, "_pipeline_feed_root", None)
        if root is None:
            root, problem = check_feed(response.content)
            if problem is not None:  # never stored by this version: parse it as before
                return arxiv_feed.parse(response.content)
        return parsed_feed(root)

    def _feed_response(self, url: str, refresh: bool) -> requests.Response:
        kwargs: dict[str, Any] = {}
        method = "GET"
        if len(url) > MAX_GET_URL_LENGTH and "?" in url:
            # Long id lists go as POST with the same form fields; arXiv accepts both.
            url, _, query = url.partition("?")
            method, kwargs = "POST", {"data": query, "headers": _FORM}
        response = self.http.request(
            method, url, service="arXiv", refresh=refresh, final_statuses=(400,), **kwargs
        )
        if response.status_code == 400:
            raise _bad_request(url, response.content)
        return response

    def get_text(self, url: str) -> str:
        """A text document (a remote list) through the same cache, limiter and retries."""
        return self.http.get_text(url, service="the list server")

    def client(self, page_size: int) -> SeamClient:
        return SeamClient(self, page_size)


class SeamClient(arxiv.Client):  # type: ignore[misc]
    """``arxiv.Client`` with its network swapped for ours.

    arxiv.py keeps paging (``_results``) and the Result model; we replace ``_parse_feed``,
    the one method that touches the network, because the stock one has no timeout, retries
    a 400 as if it were transient, and sleeps before cached answers too. The seam is pinned
    by tests/unit/test_arxiv_seam.py so an upgrade that moves it fails loudly.
    """

    def __init__(self, api: ArxivApi, page_size: int) -> None:
        super().__init__(page_size=page_size, delay_seconds=0.0, num_retries=0)
        self.query_url_format = api.url + "?{}"
        self._api = api
        self.refresh = False

    def _parse_feed(
        self, url: str, first_page: bool = True, _try_index: int = 0
    ) -> arxiv_feed.ParsedFeed:
        return self._api.get_parsed_feed(url, refresh=self.refresh)


def _bad_request(url: str, content: bytes) -> ArxivBadRequestError:
    text = content.decode("utf-8", "replace")
    match = _BAD_ID.search(text)
    summary = re.search(r"<summary>(.*?)</summary>", text, re.S)
    message = summary.group(1).strip() if summary else "HTTP 400"
    return ArxivBadRequestError(url, match.group(1) if match else None, message)
