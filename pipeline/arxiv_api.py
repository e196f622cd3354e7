"""The one HTTP layer: cached session, retries, rate limit, and the ``arxiv`` client seam.

Layers, from the caller down:

    SeamClient (arxiv.Client)   paging and Result models from the ``arxiv`` package
    ArxivApi.get                tenacity retries; 400/429/5xx/malformed-feed decisions
    CachedSession               requests-cache, SQLite; only complete feeds are stored
    RateLimitedAdapter          spaces out *network* calls; a cache hit never waits

The limiter sits below the cache on purpose: arxiv.py's own delay sleeps before every
request, cached or not, which makes a warm refresh of a large list take minutes for nothing.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import arxiv
import requests
import requests_cache
from arxiv import _feed as arxiv_feed
from lxml import etree
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from pipeline.config import Settings
from pipeline.errors import (
    ArxivBadRequestError,
    ArxivHTTPError,
    ArxivUnavailableError,
    MalformedFeedError,
    OfflineCacheMissError,
)

log = logging.getLogger(__name__)

MAX_GET_URL_LENGTH = 4000
"""Longer queries go as POST: arXiv answers 414 past roughly 700 ids in a query string."""
MAX_ATTEMPTS = 8
_ATOM = "{http://www.w3.org/2005/Atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_BAD_ID = re.compile(r"incorrect id format for ([^\s<]+)")

T = TypeVar("T")
Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass
class HttpStats:
    """What a run cost arXiv, and us."""

    requests: int = 0
    """Requests that went to the network."""
    cache_hits: int = 0
    retries: int = 0
    seconds_slept: float = 0.0


class RateLimiter:
    """At most one network call per ``delay`` seconds; waits only when a call is due."""

    def __init__(self, delay: float, stats: HttpStats, sleep: Sleep, clock: Clock) -> None:
        self.delay = delay
        self._stats = stats
        self._sleep = sleep
        self._clock = clock
        self._last: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            if self._last is None or self.delay <= 0:
                return
            due = self._last + self.delay - self._clock()
            if due > 0:
                log.debug("rate limit: sleeping %.2f s", due)
                self._stats.seconds_slept += due
                self._sleep(due)

    def mark(self) -> None:
        with self._lock:
            self._last = self._clock()


class RateLimitedAdapter(HTTPAdapter):
    """Transport adapter: rate limit, default timeouts, request counting."""

    def __init__(
        self, limiter: RateLimiter, stats: HttpStats, timeout: tuple[float, float]
    ) -> None:
        super().__init__()
        self._limiter = limiter
        self._stats = stats
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        self._limiter.wait()
        self._stats.requests += 1
        try:
            return super().send(request, **kwargs)
        finally:
            self._limiter.mark()


class TransientError(Exception):
    """A failure worth retrying: 429, 5xx, an empty or truncated feed."""

    def __init__(
        self, url: str, reason: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


RETRYABLE = (TransientError, requests.ConnectionError, requests.Timeout)


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


def _cacheable(response: requests.Response) -> bool:
    """requests-cache filter: store only complete 200 feeds (asked again for cached ones)."""
    if getattr(response, "from_cache", False):
        return True
    verdict = getattr(response, "_pipeline_problem", ...)
    if verdict is ...:
        verdict = feed_problem(response.content) if response.status_code == 200 else "status"
        response._pipeline_problem = verdict  # type: ignore[attr-defined]
    return verdict is None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, float((when - (now or datetime.now(UTC))).total_seconds()))


def backoff_seconds(error: BaseException, attempt: int, delay: float, jitter: float) -> float:
    """How long to wait before attempt ``attempt + 1``.

    After a 429 arXiv wants real distance (it rate-limits even at 3-4 s spacing since its
    2025 backend): start at 30 s and double up to 5 minutes. Other transient failures start
    at the run's delay (at least 2 s) and double up to 2 minutes. ``Retry-After`` is a floor.
    ``jitter`` in [0, 1) spreads clients that failed together.
    """
    status = getattr(error, "status", None)
    if status == 429:
        base = min(30.0 * 2.0 ** (attempt - 1), 300.0)
    else:
        base = min(max(delay, 2.0) * 2.0 ** (attempt - 1), 120.0)
    wait = base * (1 + 0.25 * jitter)
    if isinstance(error, TransientError) and error.retry_after is not None:
        wait = max(wait, error.retry_after)
    return wait


class ArxivApi:
    """All traffic to the arXiv API (and list downloads) goes through one of these."""

    def __init__(
        self,
        settings: Settings,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.url = settings.api_url
        self.stats = HttpStats()
        self._sleep = sleep
        self._rng = rng
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
        self.session = requests_cache.CachedSession(
            str(settings.http_cache_path),
            backend="sqlite",
            expire_after=timedelta(hours=settings.cache_ttl_hours),
            allowable_codes=(200,),
            allowable_methods=("GET", "POST"),
            filter_fn=_cacheable,
            # arXiv sends no validators worth honouring; the TTL is ours to choose.
            cache_control=False,
            only_if_cached=settings.offline,
            stale_if_error=settings.offline,
        )
        self.session.headers["User-Agent"] = settings.user_agent
        self.limiter = RateLimiter(settings.delay, self.stats, sleep, clock)
        adapter = RateLimitedAdapter(
            self.limiter, self.stats, (settings.connect_timeout, settings.read_timeout)
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()  # type: ignore[no-untyped-call]

    def __enter__(self) -> ArxivApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------

    def get_feed(self, url: str, refresh: bool = False) -> bytes:
        """The body of a complete Atom feed for ``url``, retrying transient failures.

        ``refresh`` skips a fresh cached answer (a re-check must see new versions).
        """
        return self._with_retries(url, lambda: self._get_feed_once(url, refresh))

    def get_text(self, url: str) -> str:
        """A text document (a remote list) through the same cache, limiter and retries."""
        return self._with_retries(url, lambda: self._get_text_once(url))

    def client(self, page_size: int) -> SeamClient:
        return SeamClient(self, page_size)

    def _send(self, url: str, refresh: bool) -> requests.Response:
        # Long id lists go as POST with the same form fields; arXiv accepts both.
        if len(url) > MAX_GET_URL_LENGTH and "?" in url:
            base, _, query = url.partition("?")
            return self.session.post(
                base,
                data=query,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                force_refresh=refresh,
            )
        return self.session.get(url, force_refresh=refresh)

    def _get_feed_once(self, url: str, refresh: bool) -> bytes:
        response = self._send(url, refresh)
        self._check_status(url, response)
        if response.status_code == 400:
            raise _bad_request(url, response.content)
        if response.status_code != 200:
            raise ArxivHTTPError(url, response.status_code, 1)
        problem = getattr(response, "_pipeline_problem", ...)
        if problem is ...:
            cached = getattr(response, "from_cache", False)
            problem = None if cached else feed_problem(response.content)
        if problem:
            raise TransientError(url, problem, status=200)
        return response.content

    def _get_text_once(self, url: str) -> str:
        response = self.session.get(url)
        self._check_status(url, response)
        if response.status_code != 200:
            raise ArxivHTTPError(url, response.status_code, 1)
        response.encoding = response.encoding or "utf-8"
        return response.text

    def _check_status(self, url: str, response: requests.Response) -> None:
        if getattr(response, "from_cache", False):
            self.stats.cache_hits += 1
        if (
            self.settings.offline
            and response.status_code == 504
            and response.reason == "Not Cached"
        ):
            raise OfflineCacheMissError(url)
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(
                url,
                f"HTTP {response.status_code}",
                status=response.status_code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )

    def _with_retries(self, url: str, call: Callable[[], T]) -> T:
        budget = self.settings.max_retry_seconds

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            assert error is not None  # tenacity only waits after a failure
            return backoff_seconds(error, state.attempt_number, self.settings.delay, self._rng())

        def stop(state: RetryCallState) -> bool:
            return (
                state.attempt_number >= MAX_ATTEMPTS
                or state.idle_for + state.upcoming_sleep > budget
            )

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            self.stats.retries += 1
            self.stats.seconds_slept += state.upcoming_sleep
            log.warning(
                "arXiv: %s for %s (attempt %d); retrying in %.0f s",
                _describe(error),
                _short(url),
                state.attempt_number,
                state.upcoming_sleep,
            )

        retrying = Retrying(
            retry=retry_if_exception_type(RETRYABLE),
            wait=wait,
            stop=stop,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(call)
        except TransientError as err:
            attempts = retrying.statistics.get("attempt_number", 1)
            if err.status and err.status != 200:
                raise ArxivHTTPError(url, err.status, attempts) from err
            raise MalformedFeedError(url, f"{err.reason} (after {attempts} attempts)") from err
        except (requests.ConnectionError, requests.Timeout) as err:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise ArxivUnavailableError(
                f"could not reach {_host(url)} for {url} after {attempts} attempt(s): "
                f"{_describe(err)}; the previous tables were kept. Try again later."
            ) from err


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


def _describe(error: BaseException | None) -> str:
    if isinstance(error, TransientError):
        return error.reason
    if isinstance(error, requests.Timeout):
        return "timed out"
    if isinstance(error, requests.ConnectionError):
        return "connection failed"
    return repr(error)


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _short(url: str, limit: int = 160) -> str:
    return url if len(url) <= limit else url[: limit - 3] + "..."
