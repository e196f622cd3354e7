"""arXiv identifiers: validate, normalise, and find them in URLs and text (pure).

The identifier rules are arXiv's own (https://info.arxiv.org/help/arxiv_identifier.html):

- new style, from April 2007: ``YYMM.NNNN`` for 0704-1412 and ``YYMM.NNNNN`` from 1501 on,
  ``MM`` a month 01-12;
- old style, August 1991 to March 2007: ``archive/YYMMNNN`` (``hep-th/9901001``), sometimes
  written with a subject class (``math.GT/0309136``), which is not part of the identity;
- either with an optional version ``vN`` (N >= 1).

``normalize_id`` is lenient about how an id is written and returns the canonical id (no
subject class, no version) plus the version; ``is_valid_id`` is strict and accepts only
canonical ids, with or without a version, which is what the API's ``id_list`` takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote, urlsplit

from pipeline.urls import netloc_host, without_prefix

__all__ = [
    "OLD_STYLE_ARCHIVES",
    "ArxivMatch",
    "ArxivRef",
    "LinkKind",
    "UrlClass",
    "classify_url",
    "find_arxiv_refs",
    "is_valid_id",
    "normalize_id",
]

OLD_STYLE_ARCHIVES: frozenset[str] = frozenset(
    {
        "acc-phys",
        "adap-org",
        "alg-geom",
        "ao-sci",
        "astro-ph",
        "atom-ph",
        "bayes-an",
        "chao-dyn",
        "chem-ph",
        "cmp-lg",
        "comp-gas",
        "cond-mat",
        "cs",
        "dg-ga",
        "funct-an",
        "gr-qc",
        "hep-ex",
        "hep-lat",
        "hep-ph",
        "hep-th",
        "math",
        "math-ph",
        "mtrl-th",
        "nlin",
        "nucl-ex",
        "nucl-th",
        "patt-sol",
        "physics",
        "plasm-ph",
        "q-alg",
        "q-bio",
        "quant-ph",
        "solv-int",
        "supr-con",
    }
)
"""Archives that had old-style identifiers (the ones arXiv lists; later archives such as
``stat`` or ``q-fin`` only ever had new-style ids)."""

# hep-lat/9107001 is the oldest identifier arXiv has; 0703 is the last old-style month.
_OLD_FIRST_YYMM = (1991, 7)
_OLD_LAST_YYMM = (2007, 3)
_NEW_FIRST_YYMM = 704
_NEW_FIVE_DIGITS_FROM = 1501

_NEW_RE = re.compile(r"(\d{2})(\d{2})\.(\d+)(?:v(\d+))?", re.ASCII)
_OLD_RE = re.compile(
    r"([a-z]+(?:-[a-z]+)?)(?:\.([A-Za-z]+(?:-[A-Za-z]+)?))?/(\d{2})(\d{2})(\d+)(?:v(\d+))?",
    re.ASCII,
)
_NEW_SHAPE_RE = re.compile(r"\d{4}\.\d+(?:v\d+)?", re.ASCII)
_PREFIX_RE = re.compile(r"arxiv:\s?", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True)
class ArxivRef:
    """A validated arXiv reference."""

    arxiv_id: str
    """Canonical id without version: ``2304.05977``, ``hep-th/9901001``."""
    version: int | None = None
    """The version the reference names (``v2`` -> 2), None when it names none."""

    @property
    def versioned(self) -> str:
        """The id with its version suffix when it has one (``2310.03739v2``)."""
        return self.arxiv_id if self.version is None else f"{self.arxiv_id}v{self.version}"

    def __str__(self) -> str:
        return self.versioned


MAX_VERSION = 9999
"""No arXiv paper comes near it (the most revised have a few dozen versions); a larger number
is a typo, and would not fit the tables' 32-bit version columns."""


def _version(text: str | None) -> int | None:
    if text is None:
        return None
    if text.startswith("0"):
        raise ValueError(f"version 'v{text}' must be a positive number without leading zeros")
    if len(text) > len(str(MAX_VERSION)) or int(text) > MAX_VERSION:
        raise ValueError(f"version 'v{text}' is past any arXiv version (at most v{MAX_VERSION})")
    return int(text)


def _parse_new(text: str) -> ArxivRef:
    m = _NEW_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"{text!r} is not YYMM.NNNNN")
    return _new_ref(*m.groups())


def _new_ref(yy: str, mm: str, number: str, version: str | None) -> ArxivRef:
    """A new-style id from its parts as written (``_NEW_RE``'s groups), validated."""
    month = int(mm)
    if not 1 <= month <= 12:
        raise ValueError(f"month {mm} is not 01-12")
    yymm = int(yy + mm)
    if yymm < _NEW_FIRST_YYMM:
        raise ValueError(f"new-style ids start at 0704 (April 2007), not {yy}{mm}")
    digits = 5 if yymm >= _NEW_FIVE_DIGITS_FROM else 4
    if len(number) != digits:
        raise ValueError(f"ids of {yy}{mm} have a {digits}-digit number, not {len(number)} digits")
    if int(number) == 0:
        raise ValueError("paper number 0 does not exist")
    return ArxivRef(f"{yy}{mm}.{number}", _version(version))


def _parse_old(text: str) -> ArxivRef:
    m = _OLD_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"{text!r} is not archive/YYMMNNN")
    archive, _subject, yy, mm, number, version = m.groups()
    if archive not in OLD_STYLE_ARCHIVES:
        raise ValueError(f"{archive!r} is not an arXiv archive with old-style ids")
    month = int(mm)
    if not 1 <= month <= 12:
        raise ValueError(f"month {mm} is not 01-12")
    year = (1900 if int(yy) >= 91 else 2000) + int(yy)
    if not _OLD_FIRST_YYMM <= (year, month) <= _OLD_LAST_YYMM:
        raise ValueError(f"old-style ids run from 9107 to 0703, not {yy}{mm}")
    if len(number) != 3:
        raise ValueError(f"old-style ids have a 3-digit number, not {len(number)} digits")
    if int(number) == 0:
        raise ValueError("paper number 000 does not exist")
    return ArxivRef(f"{archive}/{yy}{mm}{number}", _version(version))


def _parse(text: str) -> ArxivRef:
    """Validate an id as written (subject class and version allowed, nothing else)."""
    if "/" in text:
        return _parse_old(text)
    if _NEW_SHAPE_RE.fullmatch(text):
        return _parse_new(text)
    raise ValueError(f"{text!r} is neither YYMM.NNNNN nor archive/YYMMNNN")


def normalize_id(text: str) -> ArxivRef:
    """Parse an id as people write it: ``arXiv:2304.05977v2``, `` math.GT/0309136 ``.

    Surrounding whitespace and an ``arXiv:`` prefix are allowed; the result is the canonical
    id (old-style subject class dropped) and the version. Raises ValueError saying why the
    text is not an arXiv id.
    """
    stripped = text.strip()
    prefix = _PREFIX_RE.match(stripped)
    if prefix:
        stripped = stripped[prefix.end() :]
    return _parse(stripped)


def is_valid_id(text: str) -> bool:
    """True when ``text`` is exactly a canonical arXiv id, optionally with ``vN``.

    No prefix, whitespace, subject class or URL: what ``ListEntry.arxiv_id`` holds and the
    API's ``id_list`` accepts.
    """
    try:
        ref = _parse(text)
    except ValueError:
        return False
    return ref.versioned == text


@dataclass(frozen=True)
class ArxivMatch:
    """One arXiv reference found in text."""

    ref: ArxivRef
    start: int
    """Offset of the whole reference (URL, ``arXiv:`` mention or DOI) in the text."""
    end: int
    raw: str
    """``text[start:end]``."""
    raw_id: str
    """The id as written there, subject class kept and version dropped."""


_NEW_ID = r"\d{4}\.\d{4,5}(?!\d)"
_OLD_ID = r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[A-Za-z]+)?)?/\d{7}(?!\d)"
_ID = rf"(?P<id>{_NEW_ID}|{_OLD_ID})(?:v(?P<v>\d+))?"
# A paper URL ends after the id (a ".pdf", a slash, a query or fragment may follow); a
# further path segment (arxiv.org/html/2402.09773v1/x1.png) names a file inside the paper.
_URL_END = r"(?:\.pdf)?/?(?![\w/.-]*[\w/])"
_FIND_RE = re.compile(
    rf"""
    (?:
      (?<![\w.-])(?:https?://)?(?:www\.|export\.|browse\.)?arxiv\.org/(?:abs|pdf|html|ps|format)/+
    | (?<![\w.-])(?:https?://)?(?:www\.)?(?:alphaxiv\.org/(?:abs|overview)|huggingface\.co/papers)/
    | (?<![\w.-])(?:(?:https?://)?(?:dx\.)?doi\.org/)?10\.48550/arxiv\.
    | (?<!\w)arxiv:\s?
    )
    {_ID}{_URL_END}
    """,
    re.IGNORECASE | re.VERBOSE | re.ASCII,
)

_FIND_HINTS = ("arxiv.org/", "arxiv:", "alphaxiv.org/", "huggingface.co/papers/", "10.48550/")
"""What every ``_FIND_RE`` match holds, lower-cased (the regex folds ASCII case only)."""


def find_arxiv_refs(text: str) -> list[ArxivMatch]:
    """Every valid arXiv reference in ``text``, in order.

    Recognised: arXiv URLs (``abs``, ``pdf``, ``html``; ``www.``/``export.`` hosts; with or
    without scheme, ``.pdf``, version, query or fragment), ``huggingface.co/papers/ID``,
    ``alphaxiv.org/abs/ID``, DOIs ``10.48550/arXiv.ID`` and ``arXiv:ID`` mentions. Ids that
    fail validation (month 13, wrong digit count) are skipped, as are files inside a paper
    (``arxiv.org/html/IDv1/x1.png``) and badge images that merely spell an id.
    """
    found: list[ArxivMatch] = []
    low = text.lower()
    if not any(hint in low for hint in _FIND_HINTS):
        return found  # a few string scans instead of the regex's lookbehinds at every offset
    for m in _FIND_RE.finditer(text):
        raw_id = m.group("id")
        # IGNORECASE lets "ARXIV" match; ids themselves are case-sensitive.
        try:
            ref = _parse(raw_id + (f"v{m.group('v')}" if m.group("v") else ""))
        except ValueError:
            continue
        found.append(ArxivMatch(ref, m.start(), m.end(), m.group(0), raw_id))
    return found


class LinkKind(Enum):
    """What a URL is, as far as arXiv goes."""

    PAPER = "paper"
    """Names an arXiv paper (abstract, PDF, HTML, DOI, mirror page)."""
    MALFORMED = "malformed"
    """Points at an arXiv paper page but the id in it is not valid."""
    OTHER = "other"
    """Anything else, including arXiv listing pages and files inside a paper."""


@dataclass(frozen=True)
class UrlClass:
    """The classification of one URL."""

    kind: LinkKind
    ref: ArxivRef | None = None
    """The paper, for ``PAPER``."""
    problem: str | None = None
    """What is wrong, for ``MALFORMED``."""


_OTHER = UrlClass(LinkKind.OTHER)
_PLAIN_ABS_RE = re.compile(
    r"(?:https?://)?(?:www\.)?arxiv\.org/(?:abs|pdf)/"
    r"(\d{2})(\d{2})\.(\d{4,5})(?:v(\d+))?(?:\.pdf)?",
    re.IGNORECASE | re.ASCII,
)
"""The usual arXiv link, its id already in ``_NEW_RE``'s parts: no second match to parse it."""
_PAPER_PATHS = {
    "arxiv.org": ("abs", "pdf", "html", "ps", "format"),
    "alphaxiv.org": ("abs", "overview"),
    "huggingface.co": ("papers",),
}


def _host(netloc: str) -> str:
    # arxiv.org answers under several names; a trailing dot is the same host.
    return without_prefix(netloc_host(netloc).rstrip("."), ("www.", "export.", "browse.", "dx."))


def _classify_token(token: str, url: str) -> UrlClass:
    """Classify what follows ``/abs/`` (or the DOI prefix) in a paper URL."""
    candidate = unquote(token).rstrip("/")
    if candidate[-4:].lower() == ".pdf":
        candidate = candidate[:-4]
    if not candidate:
        return UrlClass(LinkKind.MALFORMED, problem=f"no arXiv id in {url}")
    try:
        return UrlClass(LinkKind.PAPER, ref=_parse(candidate))
    except ValueError as err:
        reason = str(err)
    # A valid id followed by more path names a file inside the paper (a figure image),
    # which is not a link to the paper. New-style ids are one segment, old-style two.
    segments = candidate.split("/")
    for n in (1, 2):
        if len(segments) > n:
            try:
                _parse("/".join(segments[:n]))
            except ValueError:
                continue
            return _OTHER
    return UrlClass(
        LinkKind.MALFORMED, problem=f"malformed arXiv id {candidate!r} in {url} ({reason})"
    )


def classify_url(url: str) -> UrlClass:
    """Say whether ``url`` is an arXiv paper link, a malformed one, or something else.

    Paper links: ``arxiv.org/{abs,pdf,html,ps,format}/ID`` (any of ``www.``/``export.``,
    ``http``/``https``, no scheme, ``//`` before the id, ``.pdf``, version, query, fragment),
    ``doi.org/10.48550/arXiv.ID``, ``huggingface.co/papers/ID``, ``alphaxiv.org/abs/ID``.
    Such a URL whose id does not validate is ``MALFORMED`` with the reason; other arXiv pages
    (listings, help, search) and files inside a paper (``/html/IDv1/x1.png``) are ``OTHER``.
    """
    text = url.strip()
    low = text.lower()
    if "arxiv" not in low and "huggingface.co" not in low and "alphaxiv" not in low:
        return _OTHER  # most links of a list; skip the URL parsing
    fast = _PLAIN_ABS_RE.fullmatch(text)
    if fast is not None:
        try:
            return UrlClass(LinkKind.PAPER, ref=_new_ref(*fast.groups()))
        except ValueError:
            pass  # let the general path say what is wrong
    if "://" not in text:
        text = "//" + text.lstrip("/")
    try:
        parts = urlsplit(text)
    except ValueError:
        return _OTHER
    host = _host(parts.netloc)
    path = parts.path
    if host == "doi.org":
        doi = path.lstrip("/")
        if doi[:15].lower() == "10.48550/arxiv.":
            return _classify_token(doi[15:], url)
        return _OTHER
    prefixes = _PAPER_PATHS.get(host)
    if prefixes is None:
        return _OTHER
    segments = path.lstrip("/").split("/", 1)
    if segments[0].lower() not in prefixes:
        return _OTHER
    token = segments[1].lstrip("/") if len(segments) > 1 else ""
    return _classify_token(token, url)
