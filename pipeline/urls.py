"""What host a URL names: the one place that picks a host out of a URL or a netloc. Pure.

Lists write links loosely ("arxiv.org/abs/...", "//host/path", "http://user@host:80/"), so
these accept a bare ``host/path`` as well as a full URL and never raise.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# A scheme is optional; "//" then the authority, then the path up to a query or fragment.
_AUTHORITY_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?//([^/?#]*)([^?#]*)")


def netloc_host(netloc: str) -> str:
    """The host of a netloc, lower case, without user info or port (``u@Host:80`` -> ``host``)."""
    return netloc.rsplit("@", 1)[-1].split(":", 1)[0].lower()


def host_and_path(url: str) -> tuple[str, str]:
    """Host (as ``netloc_host``) and path of a URL; a bare ``host/path`` counts as one.

    ``("", "")`` when nothing looks like an authority.
    """
    m = _AUTHORITY_RE.match(url if "//" in url[:12] else "//" + url)
    if m is None:
        return "", ""
    return netloc_host(m.group(1)), m.group(2)


def host_of(url: str) -> str:
    """The host a URL (or a bare ``host/path``) names, lower case; "" when none."""
    return host_and_path(url)[0]


def without_prefix(host: str, prefixes: tuple[str, ...] = ("www.",)) -> str:
    """``host`` without the first of ``prefixes`` it starts with (one prefix only)."""
    for prefix in prefixes:
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


_SECRET_PARAM = re.compile(
    r"token|key|secret|pass|pwd|auth|sig|credential|session|code", re.IGNORECASE
)
REDACTED = "REDACTED"


def redact_url(url: str) -> str:
    """``url`` fit to store or print: user info dropped, the values of query parameters that
    look like credentials (``token``, ``api_key``, ``sig`` ...) replaced by ``REDACTED``.

    A list URL is written into tables, exports, reports, log lines and file names; a token in
    it must reach none of them.
    """
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = "&".join(
        f"{name}={REDACTED}" if _SECRET_PARAM.search(name) and sep else f"{name}{sep}{value}"
        for name, sep, value in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
