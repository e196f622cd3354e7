"""The error hierarchy. Errors carry fields; each says what failed and where.

PipelineError                     exit code 1 unless a subclass says otherwise
├── InputError                    bad list or option (exit 2): carries path and line
├── LockedError                   another run holds the data directory (exit 75)
├── LockError                     the lock file cannot be taken at all (exit 1)
├── OutputsError                  the tables were refreshed, the report or an export was not
└── ServiceError                  a remote service failed: service, url, status, attempts, cause
    ├── TransientError            one retryable failure (429, 5xx, a broken answer); the HTTP
    │                             layer retries it and never lets it out
    ├── UpstreamUnavailableError  could not be reached, or kept failing
    │   ├── UpstreamHTTPError     a final HTTP error status
    │   ├── MalformedAnswerError  200 answers that stayed truncated or empty
    │   └── AnswerRefusedError    an answer we will not take: too large, a redirect to
    │                             another origin with a key or off http(s), a redirect loop
    ├── ArxivBadRequestError      a 400 error feed naming a malformed id (never retried)
    └── OfflineCacheMissError     --offline and an answer is not in the cache

Messages name the host and path of a request (``urls.url_label``), never its query (a
2,000-id arXiv query) nor a credential; the ``url`` field keeps the request as sent.

A service error states the failure only. What it means for the run (the previous tables
were kept) and what to do about it (wait, raise --delay, set a key) are said by the layer
that knows: the CLI for a refresh that failed, the citation stage for a source it skipped.
"""

from __future__ import annotations

from pipeline.urls import authority_of, url_label

EX_OK = 0
EX_FAILED = 1
EX_USAGE = 2
EX_SKIPPED = 3
"""The run published its tables, but some list files could not be read and were left out."""
EX_TEMPFAIL = 75


class PipelineError(Exception):
    """Base class: ``str(err)`` is the one line the CLI prints (with what it adds)."""

    exit_code = EX_FAILED


class InputError(PipelineError):
    """The input (a list file, an option) cannot be used as given."""

    exit_code = EX_USAGE

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")


class LockedError(PipelineError):
    """Another run holds the lock on the data directory."""

    exit_code = EX_TEMPFAIL


class LockError(PipelineError):
    """The lock file cannot be taken at all (it is a directory, or not writable)."""


class OutputsError(PipelineError):
    """A refresh published its tables but could not write a report or export it was asked
    for (exit 1, so that cron says so); ``path`` is the output that failed."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(
            f"the tables were refreshed, but {path} could not be written: {reason}; "
            "the previous copy (if any) was kept"
        )


class ServiceError(PipelineError):
    """A remote service failed a request.

    Like httpx's errors (which carry the request and response) and arxiv.py's
    ``ArxivError(url, retry)``, the fields say what a caller may act on.
    """

    def __init__(
        self,
        message: str,
        *,
        service: str,
        url: str,
        status: int | None = None,
        attempts: int = 1,
        cause: str | None = None,
    ) -> None:
        self.service = service
        """Who failed, as users know it: "arXiv", "Semantic Scholar", "the list server"."""
        self.url = url
        """The request that failed (for a POST, the URL without its form body)."""
        self.status = status
        """The last HTTP status (200 for answers that were unusable), or None when no
        answer came."""
        self.attempts = attempts
        """How many times the request was sent."""
        self.cause = cause
        """The last failure in a few words: "timed out", "malformed XML (...)"."""
        super().__init__(message)

    @property
    def host(self) -> str:
        return authority_of(self.url)

    @property
    def where(self) -> str:
        """The request as messages name it: redacted host and path, no query."""
        return url_label(self.url)


class TransientError(ServiceError):
    """One failure worth retrying: 429, 5xx, a broken or unexpectedly empty answer."""

    def __init__(
        self,
        service: str,
        url: str,
        cause: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        """Seconds the service asked us to wait (``Retry-After``), or None."""
        super().__init__(cause, service=service, url=url, status=status, cause=cause)


class UpstreamUnavailableError(ServiceError):
    """A remote service could not be reached for this run."""

    def __init__(self, service: str, url: str, attempts: int, cause: str) -> None:
        super().__init__(
            f"could not reach {service} at {url_label(url)}: {cause}, after {attempts} attempt(s)",
            service=service,
            url=url,
            attempts=attempts,
            cause=cause,
        )


class UpstreamHTTPError(UpstreamUnavailableError):
    """The service kept answering with an error status."""

    def __init__(self, service: str, url: str, status: int, attempts: int) -> None:
        ServiceError.__init__(
            self,
            f"{service} answered HTTP {status} for {url_label(url)} after {attempts} attempt(s)",
            service=service,
            url=url,
            status=status,
            attempts=attempts,
            cause=f"HTTP {status}",
        )


class MalformedAnswerError(UpstreamUnavailableError):
    """200 answers that stayed truncated, malformed or unexpectedly empty."""

    def __init__(self, service: str, url: str, attempts: int, cause: str) -> None:
        ServiceError.__init__(
            self,
            f"{service} kept sending unusable answers for {url_label(url)}: {cause} "
            f"(after {attempts} attempts)",
            service=service,
            url=url,
            status=200,
            attempts=attempts,
            cause=cause,
        )


class AnswerRefusedError(UpstreamUnavailableError):
    """An answer the HTTP layer will not take, and asking again would not change: larger
    than a limit, a redirect off http(s), to another origin with an API key, or a loop."""

    def __init__(self, service: str, url: str, cause: str) -> None:
        ServiceError.__init__(
            self,
            f"{service} at {url_label(url)}: {cause}",
            service=service,
            url=url,
            cause=cause,
        )


class ArxivBadRequestError(ServiceError):
    """A 400 error feed: arXiv rejected an id. Retrying cannot help."""

    def __init__(self, url: str, bad_id: str | None, message: str) -> None:
        self.bad_id = bad_id
        """The id arXiv names in its error feed, as sent (None when it names none)."""
        super().__init__(
            f"arXiv rejected the request to {url_label(url)}: {message}",
            service="arXiv",
            url=url,
            status=400,
            cause=message,
        )


class OfflineCacheMissError(ServiceError):
    """--offline was asked and an answer the run needs is not cached."""

    def __init__(self, service: str, url: str) -> None:
        super().__init__(
            f"--offline: no cached answer from {url_label(url)}; run once online to fill the "
            "cache.",
            service=service,
            url=url,
            cause="not cached",
        )
