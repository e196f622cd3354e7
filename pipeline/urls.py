"""URLs, one owner for each thing a URL is asked: what host it names (lists write links
loosely, "arxiv.org/abs/...", "//host/path", so those functions accept a bare ``host/path``
and never raise), and how it may be stored or printed: credentials redacted, queries left
out of messages. Pure.

A list URL can carry a secret (``https://user:token@host/...``, ``?token=...``); every URL
that is stored (tables, the HTTP cache, file names) or printed (log lines, errors) goes
through ``redact_url`` first, and messages use ``url_label``, which also drops the query: a
2,000-id arXiv query is no help in a one-line error.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

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


REDACTED = "REDACTED"

SECRET_PARAMS = re.compile(
    r"^(?:.*[-_])?(?:token|key|apikey|secret|password|passwd|pwd|auth|sig|signature|"
    r"credential|credentials|session|sessionid)$|^(?:access|api|private|client)_?\w*$",
    re.IGNORECASE,
)
"""Query parameter names whose value is a credential (``token``, ``api_key``,
``access_token``, ``X-Amz-Signature`` ...). Over-redacting a harmless parameter costs a
readable URL; under-redacting costs a leaked secret."""


def redact_url(url: str) -> str:
    """``url`` with its user info and the values of secret-named query parameters replaced
    by ``REDACTED``; any other URL comes back unchanged, byte for byte."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(SECRET_PARAMS.match(name) for name, _ in pairs):
            query = urlencode(
                [(name, REDACTED if SECRET_PARAMS.match(name) else value) for name, value in pairs]
            )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_label(url: str, limit: int = 100) -> str:
    """What a message names: the redacted host and path, without scheme or query
    (``export.arxiv.org/api/query``), at most ``limit`` characters."""
    try:
        parts = urlsplit(redact_url(url))
    except ValueError:
        return url[:limit]
    label = f"{parts.netloc}{parts.path}" or url
    return label if len(label) <= limit else label[: limit - 3] + "..."


def authority_of(url: str) -> str:
    """The host and port of ``url`` as written, without user info (what a message names)."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2]
    except ValueError:
        return ""


def strip_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """``https://user:pw@host/x`` -> (``https://host/x``, (user, pw)); the credentials go
    as an Authorization header instead, which the HTTP cache redacts, so the URL it stores
    holds none."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, (unquote(user), unquote(password))
