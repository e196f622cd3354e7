"""The one HTTP layer every remote call goes through: cache, retries, rate limits, timeouts.

Layers, from the caller down:

    HttpClient.answer        tenacity retries for 429, 5xx, timeouts, broken answers (a few
                             quick tries only for a host that cannot be reached); returns
                             the response with its validator's parse of it (an Answer)
    _Session                 requests-cache, SQLite; only answers the validator of the
                             request made accepts; refuses redirects off http(s) and
                             redirects that would carry an API key to another origin
    RateLimitedAdapter       spaces out *network* calls per host; a cache hit never waits;
                             bounds each whole request (a deadline from connect to the last
                             byte) and the size of its body, decompressed as it streams

The limiter sits below the cache on purpose: a limiter above it (as arxiv.py's own delay)
sleeps before cached answers too, which makes a warm run of a large list take minutes.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import socket
import sqlite3
import ssl
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import requests_cache
import urllib3
from requests.adapters import HTTPAdapter
from requests_cache.policy.settings import DEFAULT_IGNORED_PARAMS
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from pipeline.errors import (
    AnswerRefusedError,
    MalformedAnswerError,
    OfflineCacheMissError,
    TransientError,
    UpstreamHTTPError,
    UpstreamUnavailableError,
)
from pipeline.services.stats import HttpStats
from pipeline.urls import SECRET_PARAMS, authority_of, strip_userinfo, url_label

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
"""Attempts for a server that answers but is overloaded (429, 5xx): worth minutes."""
UNREACHABLE_ATTEMPTS = 2
"""Attempts for a host that cannot be reached at all (DNS, refused, no route, connect
timeout): a second quick try rides out a blip; minutes of retries would not help."""
TIMEOUT_ATTEMPTS = 3
"""Attempts for a server that accepted the connection and then stalled (read timeout)."""
DEADLINE_ATTEMPTS = 2
"""Attempts for a request that outlived its whole deadline: a server dripping its answer
gets one more chance, not eight deadlines of a cron run."""
BROKEN_ATTEMPTS = 4
"""Attempts for 200 answers that are broken (truncated, malformed, a bad entry)."""
MAX_REDIRECTS = 10
CHUNK = 16_384
"""Bytes read from the socket at a time: at most ~16 MB decompressed per step, even for a
gzip bomb, before the size cap is checked."""
SECRET_HEADERS = ("x-api-key", "authorization")
"""Request headers that carry a credential: never sent to another origin by a redirect."""
CACHE_IGNORED = (*DEFAULT_IGNORED_PARAMS, "token", "key", "apikey", "secret", "password", "sig")
"""Left out of cache keys and redacted from what the HTTP cache stores."""

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


class DeadlineExceeded(requests.Timeout):
    """The whole request (connect, headers and body) took longer than its deadline."""


class Refused(requests.RequestException):
    """An answer not to take, whatever a retry would bring: too large, a redirect off
    http(s) or carrying a key to another origin, an encoding we cannot bound."""


class BrokenAnswer(requests.ConnectionError):
    """The connection broke mid-answer (fewer bytes than announced)."""


_watched = threading.local()
"""The Deadline of the request this thread is sending, for the connection to register with."""


class Deadline:
    """A request's total deadline: when it passes, the socket is shut down, which wakes a
    read blocked on a server that drips one byte at a time (a per-read timeout never fires
    for it). Armed by the adapter around one send, including the body download."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._connection: Any = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Deadline:
        _watched.deadline = self
        self._arm(self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        _watched.deadline = None
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            self._connection = None

    def watch(self, connection: Any) -> None:
        with self._lock:
            self._connection = connection

    def check(self) -> None:
        if self.expired:
            raise DeadlineExceeded(f"no complete answer within {self.seconds:g} s")

    def _arm(self, seconds: float) -> None:
        timer = threading.Timer(seconds, self._fire)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._timer is None:  # disarmed meanwhile
                return
            self.expired = True
            sock = getattr(self._connection, "sock", None)
            if sock is None:  # still connecting (bounded by the connect timeout): look again
                self._arm(0.2)
                return
        with contextlib.suppress(OSError):  # already closed: nothing left to wake
            sock.shutdown(socket.SHUT_RDWR)


class _WatchedConnection(urllib3.connection.HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline: Deadline | None = getattr(_watched, "deadline", None)
        if deadline is not None:
            deadline.watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    request = _WatchedConnection.request


class _WatchedPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def read_body(raw: Any, encoding: str, limit: int, deadline: Deadline) -> bytes:
    """The body of ``raw`` (a urllib3 response, not yet read), decoded from ``encoding``
    as it streams: at most ``limit`` bytes after decompression, which is what a gzip bomb
    inflates; raises Refused past it and DeadlineExceeded past the deadline."""
    decoder = _decoder(encoding)
    parts: list[bytes] = []
    size = 0
    while True:
        try:
            data = raw.read(CHUNK, decode_content=False)
        except (urllib3.exceptions.HTTPError, OSError) as err:
            deadline.check()
            raise BrokenAnswer(f"connection broken mid-answer ({type(err).__name__})") from err
        deadline.check()
        if not data:
            break
        if decoder is not None:
            try:
                data = decoder.decompress(data, limit - size + 1)
            except zlib.error as err:
                raise BrokenAnswer(f"undecodable {encoding} body ({err})") from err
        size += len(data)
        if size > limit:
            raise Refused(f"answer larger than the {limit:,}-byte limit (max_response_bytes)")
        parts.append(data)
    if decoder is not None:
        parts.append(decoder.flush())
    return b"".join(parts)


def _decoder(encoding: str) -> Any:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
    raise Refused(f"unsupported Content-Encoding {encoding!r}")


class RateLimitedAdapter(HTTPAdapter):
    """Transport adapter: a rate limit per host, default timeouts, request counting, a
    deadline on each whole request and a cap on the size of its body."""

    def __init__(
        self,
        limiter_for: Callable[[str], RateLimiter],
        stats: HttpStats,
        timeout: tuple[float, float],
        deadline: float = 180.0,
        max_bytes: int = 64_000_000,
    ) -> None:
        super().__init__()
        self._limiter_for = limiter_for
        self._stats = stats
        self._timeout = timeout
        self._deadline = deadline
        self._max_bytes = max_bytes

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # Connections that register with the request's Deadline, so that it can cut them.
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHTTPSPool}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        kwargs["stream"] = True  # the body is read here, under the deadline and the cap
        limiter = self._limiter_for(urlsplit(request.url or "").netloc)
        limiter.wait()
        self._stats.requests += 1
        try:
            with Deadline(self._deadline) as deadline:
                try:
                    response = super().send(request, **kwargs)
                except requests.ConnectionError:
                    deadline.check()
                    raise
                try:
                    body = read_body(
                        response.raw,
                        response.headers.get("Content-Encoding", ""),
                        self._max_bytes,
                        deadline,
                    )
                except BaseException:
                    response.close()
                    raise
            response._content = body
            # Decoded here: a reader must not decode it again.
            response.headers.pop("Content-Encoding", None)
            return response
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
    request_deadline: float = 180.0
    """Seconds one whole request may take, connect to last byte (one attempt)."""
    max_response_bytes: int = 64_000_000
    """Bytes one answer may hold once decompressed."""


@dataclass(frozen=True)
class RetryWait:
    """A wait before the next attempt, as the HTTP layer announces it (``on_wait``)."""

    seconds: float
    service: str
    host: str
    cause: str
    """What failed: ``HTTP 429``, ``timed out``."""
    attempt: int
    """The attempt that comes after the wait (2 for the first retry)."""
    attempts: int
    """The most attempts this kind of failure gets."""

    def line(self, left: float | None = None) -> str:
        """``waiting 30 s (HTTP 429 from export.arxiv.org), retry 2/8``."""
        seconds = math.ceil(self.seconds if left is None else left)
        at = "from" if self.cause.startswith("HTTP") else "at"  # an answer comes from a host
        return (
            f"waiting {seconds} s ({self.cause} {at} {self.host}), "
            f"retry {self.attempt}/{self.attempts}"
        )


OnWait = Callable[[RetryWait], None]
"""Called before each retry wait, then the wait itself goes to ``sleep``: a terminal shows
a countdown by pairing the two (cli.py), a test records them without sleeping."""


class _Session(requests_cache.CachedSession):
    """The cached session, with the redirect policy: a redirect may not leave http(s)
    (``file://`` would read a local file) nor carry an API key to another origin
    (requests strips only ``Authorization`` when the host changes)."""

    def rebuild_auth(
        self, prepared_request: requests.PreparedRequest, response: requests.Response
    ) -> None:
        target = prepared_request.url or ""
        scheme = urlsplit(target).scheme.lower()
        if scheme not in ("http", "https"):
            raise Refused(f"redirected to a {scheme or 'relative'}: URL, not followed")
        source = response.request.url if response.request is not None else ""
        cross_origin: bool = self.should_strip_auth(source or "", target)  # type: ignore[no-untyped-call]
        if cross_origin and _carries_key(prepared_request):
            raise Refused(
                f"redirected to another origin ({authority_of(target)}) with an API key; "
                "not followed"
            )
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]


def _carries_key(request: requests.PreparedRequest) -> bool:
    if any(name in request.headers for name in SECRET_HEADERS):
        return True
    query = urlsplit(request.url or "").query
    return any(SECRET_PARAMS.match(pair.partition("=")[0]) for pair in query.split("&") if pair)


class HttpClient:
    """A cached, rate-limited, retrying session shared by every service a run asks."""

    def __init__(
        self,
        settings: HttpSettings,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
        on_wait: OnWait | None = None,
    ) -> None:
        self.settings = settings
        self.stats = HttpStats()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._on_wait = on_wait
        self._delays: dict[str, float] = {}
        self._limiters: dict[str, RateLimiter] = {}
        self._validators: list[tuple[str, Validator]] = []
        # Verdicts by response identity, each dropped with its response. Not a
        # WeakKeyDictionary: requests-cache's OriginalResponse is unhashable.
        self._verdicts: dict[int, Verdict] = {}
        # The validator of the request this thread is making: answers are judged by what
        # was asked, not by where a redirect ended (which no validator prefix names).
        self._asking = threading.local()
        self._lock = threading.Lock()
        settings.cache_path.parent.mkdir(parents=True, exist_ok=True)
        session: _Session | None = None
        try:
            session = self._open_session()
            # Reading one key finds a file that is not a database before the first request.
            next(iter(session.cache.responses.keys()), None)
        except sqlite3.DatabaseError as err:
            session = self._rebuild_cache(err, session)
        self.session = session

    def _open_session(self) -> _Session:
        settings = self.settings
        session = _Session(
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
            ignored_parameters=CACHE_IGNORED,
        )
        session.max_redirects = MAX_REDIRECTS
        session.headers["User-Agent"] = settings.user_agent
        # Only encodings read_body can decode under its cap.
        session.headers["Accept-Encoding"] = "gzip, deflate"
        adapter = RateLimitedAdapter(
            self.limiter_for,
            self.stats,
            (settings.connect_timeout, settings.read_timeout),
            settings.request_deadline,
            settings.max_response_bytes,
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def _rebuild_cache(self, err: sqlite3.DatabaseError, old: _Session | None) -> _Session:
        """The cache is disposable: a damaged file is moved aside and a new one started, so
        that one bad file does not fail every run until someone deletes it."""
        path = self.settings.cache_path
        if old is not None:
            old.close()  # type: ignore[no-untyped-call]
        aside = path.with_name(f"{path.name}.damaged")
        for suffix in ("", "-wal", "-shm", "-journal"):
            damaged = path.with_name(path.name + suffix)
            if damaged.exists():
                damaged.replace(aside.with_name(aside.name + suffix))
        log.warning(
            "the HTTP cache %s was damaged (%s); moved it to %s and started a new one",
            path,
            err,
            aside.name,
        )
        return self._open_session()

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
        """Requests made to a URL under ``url_prefix`` have their answers cached and returned
        only when ``validator`` finds nothing wrong with their body (wherever a redirect
        took them); otherwise they are retried. Its parse of the body comes back with the
        answer (``Answer.parsed``)."""
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
        # Credentials in the URL go as a header the cache redacts, never in a stored URL.
        bare, auth = strip_userinfo(url)
        if auth is not None:
            kwargs.setdefault("auth", auth)
        answer: Answer = self._with_retries(
            url,
            service,
            lambda: self._once(method, bare, service, refresh, final_statuses, kwargs),
            retry_budget,
        )
        return answer

    def get_text(self, url: str, *, service: str) -> str:
        response = self.request("GET", url, service=service)
        response.encoding = response.encoding or "utf-8"
        return response.text

    def _send(self, method: str, url: str, refresh: bool, kwargs: Mapping[str, Any]) -> Any:
        try:
            return self.session.request(method, url, force_refresh=refresh, **kwargs)
        except sqlite3.DatabaseError as err:
            if "locked" in str(err):
                raise
            self.session = self._rebuild_cache(err, self.session)
            return self.session.request(method, url, force_refresh=refresh, **kwargs)

    def _once(
        self,
        method: str,
        url: str,
        service: str,
        refresh: bool,
        final_statuses: tuple[int, ...],
        kwargs: Mapping[str, Any],
    ) -> Answer:
        self._asking.validator = self._validator(url)
        try:
            response = self._send(method, url, refresh, kwargs)
            verdict = self._verdict(response)
            if response.status_code == 200 and getattr(response, "from_cache", False):
                if verdict.problem is None:
                    self.stats.cache_hits += 1
                    return Answer(response, verdict.parsed)
                # Stored under an older check that this one refuses: ask the service again.
                log.debug("%s: cached answer refused: %s", service, verdict.problem)
                response = self._send(method, url, True, kwargs)
                verdict = self._verdict(response)
        finally:
            del self._asking.validator
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
            # Outside a request (a direct call): the validator of the request the
            # response answers.
            request = response.request
            asked = request.url if request is not None else response.url
            validator: Validator | None = getattr(
                self._asking, "validator", self._validator(asked or "")
            )
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
        host = authority_of(url)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if error is None:  # tenacity waits only after a failure
                return delay
            return backoff_seconds(error, state.attempt_number, delay, self._rng())

        def stop(state: RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome else None
            return (
                state.attempt_number >= attempts_for(error)
                or state.idle_for + state.upcoming_sleep > budget
            )

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            self.stats.retries += 1
            self.stats.seconds_slept += state.upcoming_sleep
            notice = RetryWait(
                state.upcoming_sleep,
                service,
                host,
                describe(error),
                state.attempt_number + 1,
                attempts_for(error),
            )
            log.warning("%s: %s", service, notice.line())
            if self._on_wait is not None:
                self._on_wait(notice)

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
        except Refused as err:
            raise AnswerRefusedError(service, url, str(err)) from err
        except requests.TooManyRedirects as err:
            raise AnswerRefusedError(
                service, url, f"a redirect loop (more than {MAX_REDIRECTS} redirects)"
            ) from err
        except requests.RequestException as err:  # an invalid URL, a redirect to one
            raise AnswerRefusedError(service, url, describe(err)) from err


_NO_VERDICT = Verdict(parsed=None)


def attempts_for(error: BaseException | None) -> int:
    """How many attempts a failure of this kind is worth (see MAX_ATTEMPTS and below)."""
    if isinstance(error, TransientError):
        return BROKEN_ATTEMPTS if error.status == 200 else MAX_ATTEMPTS
    if unreachable(error):
        return UNREACHABLE_ATTEMPTS
    if isinstance(error, DeadlineExceeded):
        return DEADLINE_ATTEMPTS
    if isinstance(error, requests.ConnectionError | requests.Timeout):
        return TIMEOUT_ATTEMPTS
    return MAX_ATTEMPTS


def _chain(error: BaseException | None) -> list[BaseException]:
    """``error`` and what it wraps: requests wraps urllib3, which wraps the socket error."""
    seen: list[BaseException] = []
    todo = [error]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen) or len(seen) > 20:
            continue
        seen.append(item)
        todo += [a for a in item.args if isinstance(a, BaseException)]
        todo += [getattr(item, "reason", None), item.__cause__, item.__context__]
    return seen


_UNREACHABLE = (socket.gaierror, ConnectionRefusedError, urllib3.exceptions.ConnectTimeoutError)


def unreachable(error: BaseException | None) -> bool:
    """No connection could be made at all: DNS, refused, no route, connect timeout."""
    return any(
        isinstance(
            e, socket.gaierror | ConnectionRefusedError | urllib3.exceptions.ConnectTimeoutError
        )
        or (isinstance(e, OSError) and e.errno in (101, 113))  # ENETUNREACH, EHOSTUNREACH
        for e in _chain(error)
    )


def describe(error: BaseException | None) -> str:
    """The cause of a failure in a few words: what a user can act on, never a URL."""
    if isinstance(error, TransientError):
        return error.cause or "failed"
    if isinstance(error, DeadlineExceeded | Refused | BrokenAnswer):
        return str(error)
    chain = _chain(error)
    for kind, words in (
        (socket.gaierror, "DNS lookup failed"),
        (ConnectionRefusedError, "connection refused"),
        (urllib3.exceptions.ConnectTimeoutError, "connect timed out"),
        (ssl.SSLError, "TLS handshake failed"),
    ):
        if any(isinstance(e, kind) for e in chain):
            return words
    if any(isinstance(e, OSError) and e.errno in (101, 113) for e in chain):
        return "network unreachable"
    if isinstance(error, requests.Timeout):
        return "no answer in time (read timeout)"
    if isinstance(error, requests.ConnectionError):
        if any(isinstance(e, urllib3.exceptions.ProtocolError) for e in chain):
            return "connection broken mid-answer"
        return "connection failed"
    if isinstance(error, requests.RequestException):
        return f"{type(error).__name__}: {url_label(str(error), 120)}"
    return repr(error)
