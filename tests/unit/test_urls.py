"""Credentials never reach a stored or printed URL; messages name host and path only."""

from __future__ import annotations

import io
import socket

import requests
import urllib3
from hypothesis import given
from hypothesis import strategies as st

from pipeline.cli import Countdown
from pipeline.services.http import RetryWait, attempts_for, describe
from pipeline.urls import redact_url, strip_userinfo, url_label


def test_user_info_and_secret_parameters_are_redacted() -> None:
    assert redact_url("https://me:pw@host.example/a.md?token=t1&page=2&api_key=k") == (
        "https://REDACTED@host.example/a.md?token=REDACTED&page=2&api_key=REDACTED"
    )
    assert redact_url("https://ghp_secret@github.com/o/r") == "https://REDACTED@github.com/o/r"
    assert "sig" not in redact_url("https://b.example/x?X-Amz-Signature=sig")


def test_urls_without_credentials_are_unchanged_byte_for_byte() -> None:
    for url in (
        "https://export.arxiv.org/api/query?search_query=&id_list=2304.05977&max_results=1",
        "https://api.openalex.org/works?filter=doi:10.1/x&mailto=a@b.org",
        "https://github.com/o/r",
    ):
        assert redact_url(url) == url


@given(st.text())
def test_redact_never_raises(text: str) -> None:
    assert isinstance(redact_url(text), str) and isinstance(url_label(text), str)


def test_the_label_is_host_and_path_without_query() -> None:
    url = "https://u:p@export.arxiv.org/api/query?id_list=" + ",".join(["2304.05977"] * 500)
    assert url_label(url) == "REDACTED@export.arxiv.org/api/query"


def test_user_info_moves_to_auth() -> None:
    assert strip_userinfo("https://u:p%40ss@h.example/x?q=1") == (
        "https://h.example/x?q=1",
        ("u", "p@ss"),
    )
    assert strip_userinfo("https://h.example/x") == ("https://h.example/x", None)


def _wrapped(inner: BaseException) -> requests.ConnectionError:
    # How requests reports it: ConnectionError(MaxRetryError(reason=NewConnectionError)),
    # the socket error as the cause of urllib3's.
    reason = urllib3.exceptions.NewConnectionError(None, "failed")  # type: ignore[arg-type]
    reason.__cause__ = inner
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", reason))  # type: ignore[arg-type]


def test_causes_are_named_and_unreachable_hosts_get_two_attempts() -> None:
    dns = _wrapped(socket.gaierror(-2, "Name or service not known"))
    refused = _wrapped(ConnectionRefusedError(111, "refused"))
    assert (describe(dns), attempts_for(dns)) == ("DNS lookup failed", 2)
    assert (describe(refused), attempts_for(refused)) == ("connection refused", 2)
    assert describe(requests.ReadTimeout()) == "no answer in time (read timeout)"
    assert attempts_for(requests.ReadTimeout()) == 3


def test_the_countdown_counts_down_on_one_line() -> None:
    out = io.StringIO()
    steps: list[float] = []
    countdown = Countdown(out, sleep_step=steps.append)
    countdown.sleep(0.5)  # a rate-limit wait: silent
    countdown.announce(RetryWait(2.5, "arXiv", "export.arxiv.org", "HTTP 429", 2, 8))
    countdown.sleep(2.5)
    assert steps == [0.5, 1.0, 1.0, 0.5]
    shown = [part.removesuffix("\x1b[K") for part in out.getvalue().split("\r") if part]
    assert shown[:3] == [
        "waiting 3 s (HTTP 429 from export.arxiv.org), retry 2/8",
        "waiting 2 s (HTTP 429 from export.arxiv.org), retry 2/8",
        "waiting 1 s (HTTP 429 from export.arxiv.org), retry 2/8",
    ]
