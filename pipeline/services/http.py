"""The one HTTP layer every remote call goes through: cache, retries, rate limits, timeouts.

Layers, from the caller down:

    HttpClient.answer        tenacity retries for 429, 5xx, timeouts, broken answers; returns
                             the response with its validator's parse of it (an Answer)
    CachedSession            requests-cache, SQLite; only answers their validator accepts
    RateLimitedAdapter       spaces out *network* calls per host; a cache hit never waits

The limiter sits below the cache on purpose: a limiter above it (as arxiv.py's own delay)
sleeps before cached answers too, which makes a warm run of a large list take minutes.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import requests_cache
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from pipeline.errors import (
    MalformedAnswerError,
    OfflineCacheMissError,
    TransientError,
    UpstreamHTTPError,
    UpstreamUnavailableError,
)
from pipeline.services.stats import HttpStats

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Verdict:
    """A validator's judgement of a 200 answer's body."""

    parsed: Any
    """The body as the validator parsed it, handed to the caller so it is parsed once."""
    problem: str | None = None
    """Why the answer is unusable (truncated, empty when it should not be), or None."""


Validator = Callable[[requests.Response], "Verdict | str | None"]
"""Judges a 200 answer: a Verdict (which may carry the validator's parse of the body for the
caller), or just why the answer is unusable (a str), or None when it is fine."""


@dataclass(frozen=True)
class Answer:
    """A usable answer: the response, and its validator's parse of the body (None when no
    validator covers its URL)."""

    response: requests.Response
    parsed: Any = None


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
    """Transport adapter: a rate limit per host, default timeouts, request counting."""

    def __init__(
        self,
        limiter_for: Callable[[str], RateLimiter],
        stats: HttpStats,
        timeout: tuple[float, float],
    ) -> None:
        super().__init__()
        self._limiter_for = limiter_for
        self._stats = stats
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        limiter = self._limiter_for(urlsplit(request.url or "").netloc)
        limiter.wait()
        self._stats.requests += 1
        try:
            return super().send(request, **kwargs)
        finally:
            limiter.mark()


RETRYABLE = (TransientError, requests.ConnectionError, requests.Timeout)


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

    After a 429 the service wants real distance (arXiv rate-limits even at 3-4 s spacing
    since its 2025 backend): start at 30 s and double up to 5 minutes. Other transient
    failures start at the host's delay (at least 2 s) and double up to 2 minutes.
    ``Retry-After`` is a floor. ``jitter`` in [0, 1) spreads clients that failed together.
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


@dataclass(frozen=True)
class HttpSettings:
    """How the HTTP layer behaves; built from the run's Settings."""

    cache_path: Path
    cache_ttl_hours: float
    user_agent: str
    default_delay: float
    connect_timeout: float
    read_timeout: float
    retry_budget: float
    offline: bool = False


class HttpClient:
    """A cached, rate-limited, retrying session shared by every service a run asks."""

    def __init__(
        self,
        settings: HttpSettings,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.stats = HttpStats()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._delays: dict[str, float] = {}
        self._limiters: dict[str, RateLimiter] = {}
        self._validators: list[tuple[str, Validator]] = []
        # Verdicts by response identity, each dropped with its response. Not a
        # WeakKeyDictionary: requests-cache's OriginalResponse is unhashable.
        self._verdicts: dict[int, Verdict] = {}
        self._lock = threading.Lock()
        settings.cache_path.parent.mkdir(parents=True, exist_ok=True)
        self.session = requests_cache.CachedSession(
            str(settings.cache_path),
            backend="sqlite",
            expire_after=timedelta(hours=settings.cache_ttl_hours),
            allowable_codes=(200,),
            allowable_methods=("GET", "POST"),
            filter_fn=self._cacheable,
            # The services send no validators worth honouring; the TTL is ours to choose.
            cache_control=False,
            only_if_cached=settings.offline,
            stale_if_error=settings.offline,
        )
        self.session.headers["User-Agent"] = settings.user_agent
        adapter = RateLimitedAdapter(
            self.limiter_for, self.stats, (settings.connect_timeout, settings.read_timeout)
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()  # type: ignore[no-untyped-call]

    # -- configuration ----------------------------------------------------------------------

    def set_delay(self, url: str, delay: float) -> None:
        """Space network calls to ``url``'s host at least ``delay`` seconds apart."""
        host = urlsplit(url).netloc
        with self._lock:
            self._delays[host] = delay
            if host in self._limiters:
                self._limiters[host].delay = delay

    def delay_for(self, url: str) -> float:
        return self._delays.get(urlsplit(url).netloc, self.settings.default_delay)

    def limiter_for(self, host: str) -> RateLimiter:
        with self._lock:
            if host not in self._limiters:
                delay = self._delays.get(host, self.settings.default_delay)
                self._limiters[host] = RateLimiter(delay, self.stats, self._sleep, self._clock)
            return self._limiters[host]

    def add_validator(self, url_prefix: str, validator: Validator) -> None:
        """Answers under ``url_prefix`` are cached and returned only when ``validator``
        finds nothing wrong with their body; otherwise they are retried. Its parse of the
        body comes back with the answer (``Answer.parsed``)."""
        self._validators.append((url_prefix, validator))

    # -- requests -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        service: str,
        refresh: bool = False,
        final_statuses: tuple[int, ...] = (),
        retry_budget: float | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """``answer(...).response``, for callers that parse the body themselves."""
        return self.answer(
            method,
            url,
            service=service,
            refresh=refresh,
            final_statuses=final_statuses,
            retry_budget=retry_budget,
            **kwargs,
        ).response

    def answer(
        self,
        method: str,
        url: str,
        *,
        service: str,
        refresh: bool = False,
        final_statuses: tuple[int, ...] = (),
        retry_budget: float | None = None,
        **kwargs: Any,
    ) -> Answer:
        """One logical request, retried through transient failures.

        Returns a 200 answer its validator accepts, with the validator's parse of it, or a
        response whose status is in ``final_statuses`` (for the caller to interpret, e.g.
        arXiv's 400 error feed; not parsed); raises a ServiceError for anything else.
        ``refresh`` skips a fresh cached answer; ``retry_budget`` shortens the settings'
        (seconds of back-off before giving up).
        """
        answer: Answer = self._with_retries(
            url,
            service,
            lambda: self._once(method, url, service, refresh, final_statuses, kwargs),
            retry_budget,
        )
        return answer

    def get_text(self, url: str, *, service: str) -> str:
        response = self.request("GET", url, service=service)
        response.encoding = response.encoding or "utf-8"
        return response.text

    def _once(
        self,
        method: str,
        url: str,
        service: str,
        refresh: bool,
        final_statuses: tuple[int, ...],
        kwargs: Mapping[str, Any],
    ) -> Answer:
        response = self.session.request(method, url, force_refresh=refresh, **kwargs)
        verdict = self._verdict(response)
        if response.status_code == 200 and getattr(response, "from_cache", False):
            if verdict.problem is None:
                self.stats.cache_hits += 1
                return Answer(response, verdict.parsed)
            # Stored under an older check that this one refuses: ask the service again.
            log.debug("%s: cached answer for %s refused: %s", service, url, verdict.problem)
            response = self.session.request(method, url, force_refresh=True, **kwargs)
            verdict = self._verdict(response)
        status = response.status_code
        if self.settings.offline and status == 504 and response.reason == "Not Cached":
            raise OfflineCacheMissError(service, url)
        if status == 429 or status >= 500:
            raise TransientError(
                service,
                url,
                f"HTTP {status}",
                status=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status in final_statuses:
            return Answer(response)
        if status != 200:
            raise UpstreamHTTPError(service, url, status, 1)
        if verdict.problem:
            raise TransientError(service, url, verdict.problem, status=200)
        return Answer(response, verdict.parsed)

    def _validator(self, url: str) -> Validator | None:
        for prefix, validator in self._validators:
            if url.startswith(prefix):
                return validator
        return None

    def _verdict(self, response: requests.Response) -> Verdict:
        """The validator's verdict on a 200 answer, computed once per response object.

        requests-cache asks ``_cacheable`` before storing an answer and again when it
        returns it; the verdict (with its parse) is kept for the response's lifetime.
        """
        if response.status_code != 200:
            return _NO_VERDICT
        key = id(response)
        verdict = self._verdicts.get(key)
        if verdict is None:
            validator = self._validator(response.url or "")
            judged = validator(response) if validator else None
            verdict = judged if isinstance(judged, Verdict) else Verdict(None, judged)
            self._verdicts[key] = verdict
            weakref.finalize(response, self._verdicts.pop, key, None)
        return verdict

    def _cacheable(self, response: requests.Response) -> bool:
        if getattr(response, "from_cache", False):
            return True  # judged when it was stored (and again by _once when returned)
        return response.status_code == 200 and self._verdict(response).problem is None

    def _with_retries(
        self, url: str, service: str, call: Callable[[], Any], budget: float | None = None
    ) -> Any:
        # A caller's budget can only shorten the run's, never lengthen it.
        budget = (
            self.settings.retry_budget
            if budget is None
            else min(budget, self.settings.retry_budget)
        )
        delay = self.delay_for(url)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if error is None:  # tenacity waits only after a failure
                return delay
            return backoff_seconds(error, state.attempt_number, delay, self._rng())

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
                "%s: %s for %s (attempt %d); retrying in %.0f s",
                service,
                describe(error),
                short_url(url),
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
                raise UpstreamHTTPError(service, url, err.status, attempts) from err
            raise MalformedAnswerError(service, url, attempts, describe(err)) from err
        except (requests.ConnectionError, requests.Timeout) as err:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise UpstreamUnavailableError(service, url, attempts, describe(err)) from err


_NO_VERDICT = Verdict(parsed=None)


def describe(error: BaseException | None) -> str:
    if isinstance(error, TransientError):
        return error.cause or "failed"
    if isinstance(error, requests.Timeout):
        return "timed out"
    if isinstance(error, requests.ConnectionError):
        return "connection failed"
    return repr(error)


def short_url(url: str, limit: int = 160) -> str:
    return url if len(url) <= limit else url[: limit - 3] + "..."
