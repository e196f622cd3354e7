"""Hostile servers (tests/fake_hostile.py, on 127.0.0.1): a run ends in bounded time, says why
in one line, caches nothing broken, leaks no credential, and loses no table.

Limits are made small for the tests (a 0.5 s deadline, a 200 kB cap); the defaults are in
pipeline/config.py. Waits between retries are recorded, never slept.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline import cli
from pipeline.config import Settings
from pipeline.errors import (
    AnswerRefusedError,
    InputError,
    MalformedAnswerError,
    UpstreamUnavailableError,
)
from pipeline.fetch import fetch_papers
from pipeline.refresh import run_refresh
from pipeline.services.arxiv import ArxivApi, http_settings
from pipeline.services.citations import run_cite
from pipeline.services.http import HttpClient, RetryWait
from tests.fake_arxiv import FakeArxiv
from tests.fake_hostile import HostileProxy, closed_port, gzip_bomb

SECRET = "hunter2"
LIST = b"# Papers\n\n- [Attention](https://arxiv.org/abs/1706.03762)\n"


@pytest.fixture
def proxy(seed_arxiv: FakeArxiv) -> HostileProxy:
    with HostileProxy(seed_arxiv.url.rsplit("/api/", 1)[0]) as hostile:
        yield hostile


@pytest.fixture
def behind(settings: Settings, proxy: HostileProxy) -> Settings:
    """The seed run with arXiv reached through the proxy, and small limits."""
    return dataclasses.replace(
        settings,
        api_url=f"{proxy.url}/api/query",
        resolve=False,
        request_deadline=0.5,
        max_response_bytes=200_000,
    )


def _runs(settings: Settings) -> list[tuple[str, int]]:
    rows = pq.read_table(settings.enriched_dir / "runs.parquet").to_pylist()
    return [(r["status"], r["exit_code"]) for r in rows]


# -- 1. a whole request has a deadline -------------------------------------------------------


def test_a_dripping_server_ends_the_run_in_bounded_time(
    behind: Settings, proxy: HostileProxy
) -> None:
    proxy.drip(0.05)  # a byte every 50 ms: every read succeeds, the answer never ends
    slept: list[float] = []
    began = time.monotonic()
    with pytest.raises(UpstreamUnavailableError) as caught:
        run_refresh(behind, sleep=slept.append)
    assert time.monotonic() - began < 3
    assert caught.value.attempts == 2 and len(slept) == 1
    assert "no complete answer within 0.5 s" in cli.error_line(caught.value)


def test_a_dripping_list_server_is_bounded_too(behind: Settings, tmp_path: Path) -> None:
    with HostileProxy() as lister:
        lister.serve(LIST)
        lister.drip(0.05)
        began = time.monotonic()
        with pytest.raises(InputError, match=r"no complete answer within 0\.5 s"):
            run_refresh(dataclasses.replace(behind, lists=(f"{lister.url}/l.md",)), lambda s: None)
    assert time.monotonic() - began < 3


# -- 2. validation by the request made, not where a redirect ended ---------------------------


def test_a_broken_answer_behind_a_redirect_is_refused_and_never_cached(
    behind: Settings, proxy: HostileProxy, seed_arxiv: FakeArxiv
) -> None:
    with HostileProxy() as mirror:
        mirror.serve(b"<html><body>Down for maintenance</body></html>")
        proxy.redirect(f"{mirror.url}/api/query")
        with pytest.raises(MalformedAnswerError, match="not an Atom feed"):
            run_refresh(behind, sleep=lambda s: None)
        assert not behind.enriched_dir.exists()  # before: 0 papers published, exit 0
        mirror.heal()
        mirror.upstream = seed_arxiv.url.rsplit("/api/", 1)[0]
        mirror.requests.clear()
        run_refresh(behind, sleep=lambda s: None)
        assert mirror.requests, "the maintenance page was not cached"
    assert _runs(behind) == [("ok", 0)]


def test_semantic_scholar_html_behind_a_redirect_is_that_sources_failure(
    settings: Settings, tmp_path: Path
) -> None:
    with HostileProxy() as s2, HostileProxy() as portal:
        portal.serve(b"<html>Sign in</html>")
        s2.redirect(f"{portal.url}/graph/v1/paper/batch")
        config = dataclasses.replace(
            settings, cite_sources=("semanticscholar",), s2_api_url=s2.url, request_deadline=2
        )
        http = HttpClient(http_settings(config), sleep=lambda s: None)
        try:
            result = run_cite(http, config, [("2304.05977", None)], [], [], datetime.now(UTC))
        finally:
            http.close()
    assert "unusable answers" in result.failures["semanticscholar"]


# -- 3. one malformed entry poisons nothing --------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "cause"),
    [
        (lambda b: re.sub(rb"<published>[^<]*", b"<published>yesterday", b, count=1), "not a date"),
        (lambda b: re.sub(rb"(<id>[^<]*v)\d+<", rb"\g<1>99999999999<", b, count=1), "version"),
    ],
    ids=["published yesterday", "version v99999999999"],
)
def test_a_malformed_entry_fails_the_run_on_record_and_is_never_cached(
    behind: Settings, proxy: HostileProxy, edit: object, cause: str
) -> None:
    run_refresh(behind)
    proxy.poison(edit)  # type: ignore[arg-type]
    stale = dataclasses.replace(behind, max_age_days=0)
    with pytest.raises(MalformedAnswerError, match=cause) as caught:
        run_refresh(stale, sleep=lambda s: None)
    assert caught.value.attempts == 4
    assert _runs(behind) == [("ok", 0), ("failed", 1)]
    proxy.heal()
    proxy.requests.clear()
    run_refresh(stale, sleep=lambda s: None)  # before: every run for 24 h crashed
    assert proxy.requests, "the poisoned page was not cached"
    assert _runs(behind)[-1] == ("ok", 0)


def test_exit_code_and_one_line_for_a_poisoned_feed(
    behind: Settings, proxy: HostileProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy.poison(lambda b: b.replace(b"<published>", b"<published>x", 1))
    argv = ["refresh", "--data-dir", str(behind.data_dir), "--api-url", behind.api_url]
    argv += ["--no-resolve", "--delay", "0", "--retry-budget", "0", "-q"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: arXiv kept sending unusable answers")


# -- 4. a damaged HTTP cache is rebuilt -------------------------------------------------------


def test_a_damaged_http_cache_is_moved_aside_and_rebuilt(
    behind: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    behind.cache_dir.mkdir(parents=True)
    behind.http_cache_path.write_bytes(b"this is not a database" * 100)
    run_refresh(behind)
    assert "HTTP cache" in caplog.text and "damaged" in caplog.text
    assert (behind.cache_dir / "http_cache.sqlite.damaged").exists()
    with sqlite3.connect(behind.http_cache_path) as db:
        assert db.execute("select count(*) from responses").fetchone()[0] > 0


# -- 7. size limits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [(b"<feed>" + b"x" * 1_000_000, {}), (gzip_bomb(20_000_000), {"Content-Encoding": "gzip"})],
    ids=["1 MB body", "gzip bomb of 20 MB"],
)
def test_an_answer_past_the_size_cap_is_refused_naming_the_limit(
    behind: Settings, proxy: HostileProxy, body: bytes, headers: dict[str, str]
) -> None:
    proxy.serve(body, headers)
    with pytest.raises(AnswerRefusedError) as caught:
        run_refresh(behind, sleep=lambda s: None)
    assert "larger than the 200,000-byte limit (max_response_bytes)" in str(caught.value)
    assert len(proxy.requests) == 1  # the same answer would come again: not retried


def test_a_list_past_the_size_cap_is_bad_input(behind: Settings) -> None:
    with HostileProxy() as lister:
        lister.serve(LIST * 100_000)
        with pytest.raises(InputError, match="max_response_bytes"):
            run_refresh(dataclasses.replace(behind, lists=(f"{lister.url}/l.md",)), lambda s: None)


# -- 8. secrets ---------------------------------------------------------------------------------


def test_an_api_key_is_never_sent_to_another_origin(settings: Settings) -> None:
    with HostileProxy() as s2, HostileProxy() as elsewhere:
        # 127.0.0.1 -> localhost: another origin to requests, as another host would be.
        s2.redirect(elsewhere.url.replace("127.0.0.1", "localhost") + "/steal")
        config = dataclasses.replace(
            settings, cite_sources=("semanticscholar",), s2_api_url=s2.url, s2_api_key=SECRET
        )
        http = HttpClient(http_settings(config), sleep=lambda s: None)
        try:
            result = run_cite(http, config, [("2304.05977", None)], [], [], datetime.now(UTC))
        finally:
            http.close()
        assert elsewhere.requests == []  # before: it received X-API-Key: hunter2
        assert s2.requests[0].headers["x-api-key"] == SECRET
    assert "with an API key; not followed" in result.failures["semanticscholar"]


def test_list_url_credentials_stay_out_of_the_http_cache_and_messages(behind: Settings) -> None:
    with HostileProxy() as lister:
        lister.serve(LIST)
        host = lister.url.removeprefix("http://")
        url = f"http://reader:{SECRET}@{host}/l.md?token={SECRET}"
        api = ArxivApi(behind)
        try:
            assert api.get_text(url) == LIST.decode()
        finally:
            api.close()
        assert lister.requests[0].headers["authorization"].startswith("Basic ")
        lister.serve(None)  # a 404 for what is not cached
        with ArxivApi(behind) as api, pytest.raises(UpstreamUnavailableError) as caught:
            api.get_text(url.replace("/l.md", "/gone.md"))
    assert SECRET not in cli.error_line(caught.value)
    assert SECRET.encode() not in behind.http_cache_path.read_bytes()


# -- 9. unreachable: fails fast, names the cause and the way out --------------------------------


def test_refused_connection_fails_fast_with_a_short_line_at_the_defaults(
    seed_data_dir: Path,
) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/api/query"
    slept: list[float] = []
    began = time.monotonic()
    with pytest.raises(UpstreamUnavailableError) as caught:
        run_refresh(Settings(data_dir=seed_data_dir, api_url=dead), sleep=slept.append)
    assert time.monotonic() - began + sum(slept) < 60  # before: 8 attempts over 4-6 minutes
    line = "error: " + cli.error_line(caught.value, "no tables were written")
    assert len(line) < 240, line
    assert "connection refused" in line and "--offline" in line and "ARXIV_API_URL" in line
    assert caught.value.attempts == 2


# -- 10. redirect loops and redirects off http(s) -----------------------------------------------


def test_a_redirect_loop_is_one_line_and_exit_1(
    behind: Settings, proxy: HostileProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy.redirect("{self}/api/query?again")
    argv = ["refresh", "--data-dir", str(behind.data_dir), "--api-url", behind.api_url]
    assert cli.main([*argv, "--no-resolve", "--delay", "0", "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: arXiv at {proxy.url.removeprefix('http://')}/api/query: a redirect loop "
        "(more than 10 redirects); no tables were written."
    ]


def test_a_list_url_redirecting_to_a_file_is_one_line_and_exit_2(
    seed_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with HostileProxy() as lister:
        lister.redirect("file:///etc/passwd")
        argv = ["refresh", "-q", "--data-dir", str(seed_data_dir), "--list", f"{lister.url}/l.md"]
        assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "redirected to a file: URL, not followed" in err[0]


# -- 12. the retry wait is announced, for a countdown ------------------------------------------


def test_each_retry_wait_is_announced_with_cause_host_and_attempt(
    behind: Settings, proxy: HostileProxy, seed_arxiv: FakeArxiv
) -> None:
    seed_arxiv.fail_next(1, status=429)
    waits: list[RetryWait] = []
    with ArxivApi(behind, sleep=lambda s: None, on_wait=waits.append, rng=lambda: 0.0) as api:
        fetch_papers(api, ["2304.05977"], batch_size=10, fetched_at=datetime.now(UTC))
    host = proxy.url.removeprefix("http://")
    assert [w.line() for w in waits] == [f"waiting 30 s (HTTP 429 from {host}), retry 2/8"]
