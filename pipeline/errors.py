"""The error hierarchy. Every error says what failed, where, and what to do next.

PipelineError                 exit code 1 unless a subclass says otherwise
├── InputError                bad list or option (exit 2): carries path and line
├── LockedError               another run holds the data directory (exit 75)
├── LockError                 the lock file cannot be taken at all (exit 1)
├── UpstreamUnavailableError  a service (arXiv...) could not be reached or kept failing
│   ├── UpstreamHTTPError     a final HTTP error status: carries url, status, attempts
│   └── MalformedAnswerError  200 answers that stayed truncated or empty
├── ArxivBadRequestError      a 400 error feed naming a malformed id (never retried)
└── OfflineCacheMissError     --offline and an answer is not in the cache (exit 1)
"""

from __future__ import annotations

EX_OK = 0
EX_FAILED = 1
EX_USAGE = 2
EX_TEMPFAIL = 75


class PipelineError(Exception):
    """Base class: ``str(err)`` is the one line the CLI prints."""

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


class UpstreamUnavailableError(PipelineError):
    """A remote service could not answer this run."""


class UpstreamHTTPError(UpstreamUnavailableError):
    """The service kept answering with an error status."""

    def __init__(self, service: str, url: str, status: int, attempts: int) -> None:
        self.service = service
        self.url = url
        self.status = status
        self.attempts = attempts
        super().__init__(
            f"{service} answered HTTP {status} for {url} after {attempts} attempt(s); "
            "the previous tables were kept. Try again later, or raise --delay."
        )


class MalformedAnswerError(UpstreamUnavailableError):
    """200 answers that stayed truncated, malformed or unexpectedly empty."""

    def __init__(self, service: str, url: str, reason: str) -> None:
        self.service = service
        self.url = url
        self.reason = reason
        super().__init__(
            f"{service} kept sending unusable answers for {url}: {reason}; "
            "the previous tables were kept."
        )


class ArxivBadRequestError(PipelineError):
    """A 400 error feed: arXiv rejected an id. Retrying cannot help."""

    def __init__(self, url: str, bad_id: str | None, message: str) -> None:
        self.url = url
        self.bad_id = bad_id
        super().__init__(f"arXiv rejected the request {url}: {message}")


class OfflineCacheMissError(PipelineError):
    """--offline was asked and an answer the run needs is not cached."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"--offline: no cached answer for {url}; run once online to fill the cache."
        )
