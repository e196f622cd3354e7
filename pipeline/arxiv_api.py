"""arXiv's API on top of the shared HTTP layer: feed checks, 400 feeds, the client seam.

SeamClient (arxiv.Client)   paging and Result models from the ``arxiv`` package
ArxivApi.get_feed           complete feeds only; a 400 names the id it refused
HttpClient                  cache, retries, per-host rate limit (pipeline/http.py)
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from typing import Any

import arxiv
import requests
from arxiv import _feed as arxiv_feed
from lxml import etree

from pipeline.config import Settings
from pipeline.errors import ArxivBadRequestError
from pipeline.http import Clock, HttpClient, HttpSettings, HttpStats, Sleep

__all__ = ["ArxivApi", "HttpStats", "SeamClient", "Sleep", "feed_problem", "http_settings"]

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
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=False, load_dtd=False
    )
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as err:
        return f"malformed XML ({err.msg})"
    if root is None or root.tag != f"{_ATOM}feed":
        return "not an Atom feed"
    if root.getroottree().docinfo.internalDTD is not None:
        # arXiv never sends a DTD; one here can only declare entities (a bomb, or external).
        return "the feed carries a DTD (refused: possible entity bomb)"
    entries = len(root.findall(f"{_ATOM}entry"))
    total = _int_text(root, f"{_OPENSEARCH}totalResults")
    start = _int_text(root, f"{_OPENSEARCH}startIndex")
    if entries == 0 and total is not None and total > (start or 0):
        return f"unexpectedly empty page: 0 entries although totalResults={total}"
    return None


def _int_text(root: Any, path: str) -> int | None:
    node = root.find(path)
    try:
        return int(node.text.strip()) if node is not None and node.text else None
    except ValueError:
        return None


def _feed_problem(response: requests.Response) -> str | None:
    return feed_problem(response.content)


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
        return response.content

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
        return arxiv_feed.parse(self._api.get_feed(url, refresh=self.refresh))


def _bad_request(url: str, content: bytes) -> ArxivBadRequestError:
    text = content.decode("utf-8", "replace")
    match = _BAD_ID.search(text)
    summary = re.search(r"<summary>(.*?)</summary>", text, re.S)
    message = summary.group(1).strip() if summary else "HTTP 400"
    return ArxivBadRequestError(url, match.group(1) if match else None, message)
