"""The pure decisions of the HTTP layer: what is a usable feed, how long to wait."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests

from pipeline.errors import TransientError
from pipeline.services.arxiv import bad_request, check_feed, feed_verdict
from pipeline.services.http import (
    HttpClient,
    HttpSettings,
    backoff_seconds,
    parse_retry_after,
)

ATOM = Path(__file__).parent.parent / "fixtures" / "atom"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol9;</title></feed>"""


def feed_problem(content: bytes) -> str | None:
    return check_feed(content)[1]


EMPTY_PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <title>arXiv Query: id_list=2304.05977</title>
  <opensearch:totalResults>5</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <opensearch:itemsPerPage>5</opensearch:itemsPerPage>
</feed>"""


@pytest.mark.parametrize(
    "name",
    [
        "recorded_id_astro-ph_0601001.xml",
        "recorded_legacy_id_1710.08557.xml",
        # Zero entries and totalResults 0: a real "no such paper", not an empty page.
        "recorded_id_0808.05394_zero_results.xml",
    ],
)
def test_recorded_feeds_are_usable(name: str) -> None:
    assert feed_problem((ATOM / name).read_bytes()) is None


def test_truncated_feed_is_refused() -> None:
    body = (ATOM / "recorded_id_astro-ph_0601001.xml").read_bytes()
    problem = feed_problem(body[: len(body) // 2])
    assert problem is not None and problem.startswith("malformed XML")


def test_unexpectedly_empty_page_is_refused() -> None:
    assert feed_problem(EMPTY_PAGE) == (
        "unexpectedly empty page: 0 entries although totalResults=5"
    )


def test_entity_bomb_is_refused_without_expanding() -> None:
    problem = feed_problem(BILLION_LAUGHS)
    assert problem is not None and "DTD" in problem


def test_non_feed_is_refused() -> None:
    assert feed_problem(b"<html><body>Service Unavailable</body></html>") == "not an Atom feed"
    assert feed_problem(b"") is not None


def test_error_feed_names_the_bad_id() -> None:
    err = bad_request(
        "http://x/api/query?id_list=abc", (ATOM / "recorded_error_400_abc.xml").read_bytes()
    )
    assert err.bad_id == "abc"
    assert "incorrect id format for abc" in str(err)


API = "http://arxiv.test/api/query"


def _response(status: int, body: bytes, url: str = API + "?id_list=x") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.url = url
    return response


def test_only_complete_200_answers_are_cached(tmp_path: Path) -> None:
    settings = HttpSettings(
        cache_path=tmp_path / "cache.sqlite",
        cache_ttl_hours=1,
        user_agent="test",
        default_delay=0,
        connect_timeout=1,
        read_timeout=1,
        retry_budget=1,
    )
    client = HttpClient(settings)
    client.add_validator(API, feed_verdict)
    try:
        good = (ATOM / "recorded_id_astro-ph_0601001.xml").read_bytes()
        cacheable = client._cacheable
        assert cacheable(_response(200, good))
        assert not cacheable(_response(200, good[:500]))
        assert not cacheable(_response(200, EMPTY_PAGE))
        assert not cacheable(_response(400, (ATOM / "recorded_error_400_abc.xml").read_bytes()))
        assert not cacheable(_response(503, b"busy"))
        # Other services' answers are judged by their own validators (none here).
        assert cacheable(_response(200, b"# A list", url="http://lists.test/README.md"))
    finally:
        client.close()


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
    later = datetime(2026, 11, 29, 12, 1, 30, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(format_datetime(later, usegmt=True), now=now) == 90.0
    assert parse_retry_after("in a while") is None
    assert parse_retry_after(None) is None


def test_429_backs_off_for_tens_of_seconds_growing_to_minutes() -> None:
    error = TransientError("s", "u", "HTTP 429", status=429)
    waits = [backoff_seconds(error, attempt, delay=3.0, jitter=0.0) for attempt in range(1, 7)]
    assert waits == [30.0, 60.0, 120.0, 240.0, 300.0, 300.0]


def test_5xx_backs_off_from_the_delay() -> None:
    error = TransientError("s", "u", "HTTP 503", status=503)
    waits = [backoff_seconds(error, attempt, delay=3.0, jitter=0.0) for attempt in range(1, 8)]
    assert waits == [3.0, 6.0, 12.0, 24.0, 48.0, 96.0, 120.0]


def test_jitter_adds_at_most_a_quarter() -> None:
    error = TransientError("s", "u", "HTTP 503", status=503)
    assert backoff_seconds(error, 1, delay=4.0, jitter=0.999) == pytest.approx(4.0 * 1.24975)


def test_retry_after_is_a_floor() -> None:
    error = TransientError("s", "u", "HTTP 503", status=503, retry_after=45.0)
    assert backoff_seconds(error, 1, delay=3.0, jitter=0.0) == 45.0
    small = TransientError("s", "u", "HTTP 429", status=429, retry_after=5.0)
    assert backoff_seconds(small, 1, delay=3.0, jitter=0.0) == 30.0
