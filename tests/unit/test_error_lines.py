"""What a service failure becomes: the CLI's line for a failed run, cite's for a source.

The errors carry fields and state the failure only; the sentence about the tables and the
advice are composed by the layer that knows them.
"""

from __future__ import annotations

from pipeline.cli import error_line
from pipeline.errors import (
    AnswerRefusedError,
    ArxivBadRequestError,
    InputError,
    MalformedAnswerError,
    OfflineCacheMissError,
    UpstreamHTTPError,
    UpstreamUnavailableError,
)

URL = "http://127.0.0.1:8000/api/query?id_list=2304.05977"
WHERE = "127.0.0.1:8000/api/query"
"""What messages name: host and path, never the query (a 2,000-id arXiv query)."""


def test_http_error_carries_fields_and_states_the_failure_only() -> None:
    err = UpstreamHTTPError("arXiv", URL, 503, 8)
    assert (err.service, err.url, err.status, err.attempts, err.cause) == (
        "arXiv",
        URL,
        503,
        8,
        "HTTP 503",
    )
    assert str(err) == f"arXiv answered HTTP 503 for {WHERE} after 8 attempt(s)"
    assert "tables" not in str(err)


def test_the_cli_adds_the_consequence_and_the_advice() -> None:
    assert error_line(UpstreamHTTPError("arXiv", URL, 503, 8)) == (
        f"arXiv answered HTTP 503 for {WHERE} after 8 attempt(s); the previous tables were "
        "kept. Try again later, or raise --delay."
    )
    assert error_line(UpstreamHTTPError("arXiv", URL, 429, 3)).endswith("or raise --delay.")
    unreachable = UpstreamUnavailableError("arXiv", URL, 2, "connection refused")
    assert error_line(unreachable) == (
        f"could not reach arXiv at {WHERE}: connection refused, after 2 attempt(s); the "
        "previous tables were kept. Try again later, use --offline (cached answers only) or "
        "ARXIV_API_URL."
    )
    lister = UpstreamUnavailableError("the list server", URL, 2, "DNS lookup failed")
    assert error_line(lister).endswith("kept. Try again later.")
    malformed = MalformedAnswerError("arXiv", URL, 8, "malformed XML (x)")
    assert error_line(malformed) == (
        f"arXiv kept sending unusable answers for {WHERE}: malformed XML (x) (after 8 attempts);"
        " the previous tables were kept."
    )
    refused = AnswerRefusedError("arXiv", URL, "a redirect loop (more than 10 redirects)")
    assert error_line(refused) == (
        f"arXiv at {WHERE}: a redirect loop (more than 10 redirects); the previous tables "
        "were kept."
    )
    # A refused list (404) is not cured by waiting: no advice to.
    assert error_line(UpstreamHTTPError("the list server", URL, 404, 1)).endswith("kept.")


def test_other_errors_pass_through_unchanged() -> None:
    for err in (
        InputError("bad", "list.md", 3),
        ArxivBadRequestError(URL, "abc", "incorrect id format for abc"),
        OfflineCacheMissError("arXiv", URL),
    ):
        assert error_line(err) == str(err)


def test_messages_never_carry_the_query_or_a_credential() -> None:
    secret = "https://user:hunter2@lists.example/a.md?token=hunter2&page=1"
    for err in (
        UpstreamUnavailableError("the list server", secret, 2, "DNS lookup failed"),
        UpstreamHTTPError("the list server", secret, 404, 1),
        MalformedAnswerError("arXiv", secret, 4, "truncated"),
        AnswerRefusedError("the list server", secret, "redirected to a file: URL, not followed"),
        OfflineCacheMissError("the list server", secret),
    ):
        assert "hunter2" not in error_line(err) and "page=1" not in error_line(err)
        assert "lists.example/a.md" in error_line(err)
