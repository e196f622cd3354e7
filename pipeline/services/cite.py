"""Cite stage: citation counts, venues and open-access links from Semantic Scholar and OpenAlex.

Pure core: ``normalize_venue``; ``parse_s2_batch`` -> ``s2_row``; ``openalex_works`` ->
``openalex_row``; ``doi_from_url``; the answer checks ``s2_batch_problem`` and
``openalex_list_problem``. One edge, ``run_cite``, asks both services through the run's
``HttpClient`` (cache, per-host rate limit, retries, timeouts). It never raises for a service
that is down or rate-limited: that source keeps its previous rows and the failure is reported.

Requests per run, for N papers due (older than ``max_age_days``) and T unresolved titles:

    Semantic Scholar  ceil(N / 500) batch POSTs           + one search/match per title
    OpenAlex          ceil(N / 100) DOI filters (see below) + one title search per title
                      Semantic Scholar did not find with a DOI

OpenAlex keeps a journal article and its arXiv preprint as two works with separate citation
counts (tests/fixtures/openalex/list_title_search_published_and_arxiv_twin.json: 236 vs 106).
A paper with a journal DOI is asked by that DOI (the version of record); only when OpenAlex
does not know it is the arXiv DOI asked, in a second round. So each paper costs one filter
value, and a list of N papers costs ceil(N / 100) requests, not ceil(2N / 100).

Semantic Scholar merges versions (one paper carries ``ArXiv`` and the journal ``DOI``), so it
is asked by ``ARXIV:<id>`` only.

Unresolved entries (no arXiv id) are looked up by the DOI of their link, or by title. What is
found is recorded as external ids on the entry (``ExternalIds``); an arXiv id is never taken
from these services: every arXiv id in the tables comes from a list link or arXiv's own
search, and so was confirmed by arXiv.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import requests

from pipeline.errors import (
    MalformedAnswerError,
    OfflineCacheMissError,
    UpstreamHTTPError,
    UpstreamUnavailableError,
)
from pipeline.resolve import ACCEPT_SCORE, YEAR_TOLERANCE, normalize_title, searchable
from pipeline.resolve import title_similarity as _title_similarity
from pipeline.schemas import CITATIONS
from pipeline.services.http import HttpClient
from pipeline.store.tables import build_table

log = logging.getLogger(__name__)

SEMANTIC_SCHOLAR: Final = "semanticscholar"
OPENALEX: Final = "openalex"
SOURCES: tuple[str, ...] = (SEMANTIC_SCHOLAR, OPENALEX)
"""Sources in the order they are asked (and rows are written): Semantic Scholar first, so
that a DOI it finds for an unresolved title saves OpenAlex a title search."""
SERVICE_NAMES = {SEMANTIC_SCHOLAR: "Semantic Scholar", OPENALEX: "OpenAlex"}

DEFAULT_S2_URL = "https://api.semanticscholar.org"
DEFAULT_OPENALEX_URL = "https://api.openalex.org"

S2_DELAY_WITH_KEY = 1.0
"""Semantic Scholar gives an API key a dedicated 1 request per second on every endpoint."""
S2_DELAY_SHARED = 3.0
"""Without a key every client shares one pool, documented as 100 requests per 5 minutes
(300 s / 100 = 3 s). Spacing at that rate keeps a run from adding to the 429 storm; a
seed-size run makes a handful of requests, so the wait costs seconds, not minutes."""
OPENALEX_DELAY = 0.1
CITE_RETRY_BUDGET = 120.0
"""Seconds of back-off a citation request may spend before its source is given up for this
run: citations are optional, and a keyless Semantic Scholar answering 429 would otherwise
hold a cron run for the full arXiv budget (15 minutes)."""
"""OpenAlex's polite pool (``mailto``) allows 10 requests per second; with the 2026 key
model the cap is 100 per second, so 0.1 s is within both."""
DEFAULT_MAX_AGE_DAYS = 7.0
"""Citation counts move weekly, not hourly: re-asking a paper more often buys nothing."""

S2_BATCH_SIZE = 500
"""Semantic Scholar's limit of ids per ``POST /graph/v1/paper/batch``."""
S2_FIELDS = (
    "paperId,externalIds,citationCount,influentialCitationCount,venue,publicationVenue,year,"
    "openAccessPdf"
)
S2_MATCH_FIELDS = S2_FIELDS + ",title"
OPENALEX_BATCH_SIZE = 100
"""OpenAlex's limit of values OR-ed with ``|`` in one filter (it answers 400 past it)."""
OPENALEX_PER_PAGE = 200
"""OpenAlex's largest page. 100 DOIs rarely match more than 100 works, but a DOI shared by
two records (a merge in progress) must not push another paper's work to a second page."""
OPENALEX_SEARCH_PER_PAGE = 10
"""Works a title search returns: the right one is at the top, or the title is too vague."""
OPENALEX_SELECT = (
    "id,doi,display_name,publication_year,cited_by_count,primary_location,best_oa_location,"
    "open_access,type"
)
"""Only what the rows need: a full work is 10-25 KB (authorships, references), 200 of them
several megabytes per answer."""


# -- configuration and results ----------------------------------------------------------------


@dataclass(frozen=True)
class CiteConfig:
    """What the cite stage asks, where, and how often."""

    sources: tuple[str, ...] = SOURCES
    """Which of ``SOURCES`` to ask; the others keep the rows they have."""
    s2_url: str = DEFAULT_S2_URL
    """Base URL of the Semantic Scholar API (``S2_API_URL``), without ``/graph/v1``."""
    openalex_url: str = DEFAULT_OPENALEX_URL
    """Base URL of the OpenAlex API (``OPENALEX_API_URL``)."""
    s2_api_key: str | None = None
    """``S2_API_KEY``, sent as the ``x-api-key`` header (redacted from the HTTP cache)."""
    openalex_mailto: str | None = None
    """``OPENALEX_MAILTO``: the ``mailto`` parameter of OpenAlex's polite pool."""
    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    """A paper's row younger than this is kept without asking; 0 asks every paper."""
    s2_delay: float | None = None
    """Seconds between Semantic Scholar requests; None: ``S2_DELAY_WITH_KEY`` with a key,
    ``S2_DELAY_SHARED`` without (read it through ``s2_interval``)."""
    openalex_delay: float = OPENALEX_DELAY
    openalex_api_key: str | None = None
    """``api_key`` parameter: OpenAlex asks for a free key since February 2026 (a keyless
    client gets a small daily allowance). Also kept out of cache keys."""

    def __post_init__(self) -> None:
        unknown = [s for s in self.sources if s not in SOURCES]
        if unknown:
            raise ValueError(
                f"unknown citation source(s) {', '.join(unknown)}; choose from {', '.join(SOURCES)}"
            )

    @property
    def s2_interval(self) -> float:
        if self.s2_delay is not None:
            return self.s2_delay
        return S2_DELAY_WITH_KEY if self.s2_api_key else S2_DELAY_SHARED


@dataclass(frozen=True)
class ExternalIds:
    """Ids another service holds for an entry arXiv could not resolve."""

    s2_id: str | None = None
    """Semantic Scholar ``paperId`` (40 hex digits)."""
    openalex_id: str | None = None
    """OpenAlex work id, short form (``W4389761608``)."""
    doi: str | None = None
    """The DOI, lower case, without ``https://doi.org/``."""
    found_by: str = "title"
    """``doi`` (the entry's link holds a DOI) or ``title`` (a title search matched)."""


@dataclass
class CiteResult:
    """What one cite run produced."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    """``CITATIONS`` rows for every paper: new answers, plus previous rows kept (fresh,
    source failed, source not asked this run)."""
    entry_ids: dict[int, ExternalIds] = field(default_factory=dict)
    """Entry index (as given in ``unresolved``) -> ids found for it."""
    failures: dict[str, str] = field(default_factory=dict)
    """Source -> one line on why it failed; its previous rows were kept."""
    requests: dict[str, int] = field(default_factory=dict)
    """Source -> network requests made (retries included, cache hits not)."""

    def table(self) -> pa.Table:
        return build_table(self.rows, CITATIONS)


# -- small pure helpers ----------------------------------------------------------------------

_T = TypeVar("_T")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI_PATH = re.compile(r"/doi/(?:abs/|full/|pdf/|epdf/|book/)?(10\.\d{4,9}/[^?#\s]+)", re.I)


def _chunks(items: Sequence[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def normalize_doi(text: str | None) -> str | None:
    """``https://doi.org/10.48550/ARXIV.1`` -> ``10.48550/arxiv.1`` (DOIs are case-blind)."""
    if not text:
        return None
    doi = _DOI_PREFIX.sub("", text.strip()).strip().lower()
    return doi if _DOI.fullmatch(doi) else None


def arxiv_doi(arxiv_id: str) -> str:
    """The DOI DataCite registered for every arXiv paper, in ``normalize_doi`` form."""
    return f"10.48550/arxiv.{arxiv_id}".lower()


def doi_from_url(url: str | None) -> str | None:
    """The DOI a link names: ``doi.org/...`` or a publisher's ``/doi/...`` path, else None.

    Other links (JSTOR, OpenReview, a PDF) hold no DOI we could read without guessing.
    """
    if not url:
        return None
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    path = unquote(parts.path)
    if host in ("doi.org", "dx.doi.org"):
        return normalize_doi(path.lstrip("/"))
    match = _DOI_PATH.search(path)
    return normalize_doi(match.group(1)) if match else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def best_match(
    title: str,
    year: int | None,
    records: Sequence[Mapping[str, Any]],
    title_key: str,
    year_key: str,
) -> Mapping[str, Any] | None:
    """The record a title search found for a listed (title, year), or None (pure).

    The same bar as arXiv's title resolution (``pipeline.resolve.ACCEPT_SCORE``): a
    service's best guess for a vague title is still a guess. A record more than
    ``YEAR_TOLERANCE`` years from the listed year is another paper with the same title.
    """
    best: tuple[float, Mapping[str, Any]] | None = None
    for record in records:
        found_title, found_year = record.get(title_key), _int(record.get(year_key))
        if not isinstance(found_title, str):
            continue
        if year is not None and found_year is not None and abs(found_year - year) > YEAR_TOLERANCE:
            continue
        score = _title_similarity(title, found_title)
        if score >= ACCEPT_SCORE and (best is None or score > best[0]):
            best = (score, record)
    return best[1] if best else None


# -- Semantic Scholar (pure) -------------------------------------------------------------------


def parse_s2_batch(payload: object, expected: int) -> list[Mapping[str, Any] | None]:
    """The batch answer as one record or None per requested id, in request order.

    Raises ValueError when the answer is not a list of that length (the service answers
    positionally, with ``null`` for an id it does not know).
    """
    if not isinstance(payload, list) or len(payload) != expected:
        got = len(payload) if isinstance(payload, list) else type(payload).__name__
        raise ValueError(f"expected a list of {expected} papers, got {got}")
    if not all(item is None or isinstance(item, Mapping) for item in payload):
        raise ValueError("a batch item is neither a paper object nor null")
    return list(payload)


def s2_venue(record: Mapping[str, Any]) -> str | None:
    """``publicationVenue.name`` (S2's curated venue), else the free-text ``venue``."""
    return _str(_dict(record.get("publicationVenue")).get("name")) or _str(record.get("venue"))


def s2_oa_url(record: Mapping[str, Any]) -> str | None:
    # A closed paper comes back as {"url": "", "status": null}: empty means none.
    return _str(_dict(record.get("openAccessPdf")).get("url"))


def s2_row(arxiv_id: str, record: Mapping[str, Any] | None, now: datetime) -> dict[str, Any]:
    """The ``CITATIONS`` row of one batch answer (all nulls for ``null``)."""
    record = record or {}
    return {
        "arxiv_id": arxiv_id,
        "source": SEMANTIC_SCHOLAR,
        "citation_count": _int(record.get("citationCount")),
        "influential_citation_count": _int(record.get("influentialCitationCount")),
        "venue": s2_venue(record),
        "year": _int(record.get("year")),
        "oa_url": s2_oa_url(record),
        "fetched_at": now,
    }


def _json(response: requests.Response) -> object:
    return json.loads(response.content)


def s2_batch_problem(response: requests.Response) -> str | None:
    """Validator: why a 200 batch answer is unusable (not JSON, wrong length), or None."""
    try:
        body = response.request.body if response.request is not None else None
        ids = json.loads(body or b"{}").get("ids", [])
        parse_s2_batch(_json(response), len(ids))
    except (ValueError, AttributeError) as err:
        return f"unusable batch answer: {err}"
    return None


def s2_match_problem(response: requests.Response) -> str | None:
    """Validator: a 200 search/match answer is ``{"data": [...]}``."""
    try:
        payload = _json(response)
    except ValueError as err:
        return f"malformed JSON ({err})"
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        return 'expected {"data": [...]}'
    return None


# -- OpenAlex (pure) ---------------------------------------------------------------------------


def openalex_works(payload: object) -> list[Mapping[str, Any]]:
    """The ``results`` of a list answer. Raises ValueError for anything else."""
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
        raise ValueError('expected {"meta": ..., "results": [...]}')
    return [work for work in payload["results"] if isinstance(work, Mapping)]


def openalex_problem(payload: object) -> str | None:
    try:
        openalex_works(payload)
    except ValueError as err:
        return str(err)
    if not isinstance(payload, dict) or not isinstance(payload.get("meta"), dict):
        return "no meta object"
    return None


def openalex_list_problem(response: requests.Response) -> str | None:
    """Validator: a 200 ``/works`` answer is JSON with ``meta`` and ``results``."""
    try:
        return openalex_problem(_json(response))
    except ValueError as err:
        return f"malformed JSON ({err})"


def openalex_venue(work: Mapping[str, Any]) -> str | None:
    """The primary location's source, else its ``raw_source_name`` (2026 schema: conference
    proceedings often have no source record, only the name Crossref gave)."""
    location = _dict(work.get("primary_location"))
    return _str(_dict(location.get("source")).get("display_name")) or _str(
        location.get("raw_source_name")
    )


def openalex_oa_url(work: Mapping[str, Any]) -> str | None:
    best = _dict(work.get("best_oa_location"))
    return (
        _str(best.get("pdf_url"))
        or _str(best.get("landing_page_url"))
        or _str(_dict(work.get("open_access")).get("oa_url"))
    )


def openalex_short_id(work: Mapping[str, Any]) -> str | None:
    """``https://openalex.org/W4389761608`` -> ``W4389761608``."""
    work_id = _str(work.get("id"))
    return work_id.rsplit("/", 1)[-1] if work_id else None


def openalex_row(arxiv_id: str, work: Mapping[str, Any] | None, now: datetime) -> dict[str, Any]:
    """The ``CITATIONS`` row of one work (all nulls for None). OpenAlex has no influential
    citation count."""
    work = work or {}
    return {
        "arxiv_id": arxiv_id,
        "source": OPENALEX,
        "citation_count": _int(work.get("cited_by_count")),
        "influential_citation_count": None,
        "venue": openalex_venue(work),
        "year": _int(work.get("publication_year")),
        "oa_url": openalex_oa_url(work),
        "fetched_at": now,
    }


def works_by_doi(works: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Works keyed by ``normalize_doi``; the first of two records with one DOI wins."""
    out: dict[str, Mapping[str, Any]] = {}
    for work in works:
        doi = normalize_doi(_str(work.get("doi")))
        if doi and doi not in out:
            out[doi] = work
    return out


def pick_work(
    works: Mapping[str, Mapping[str, Any]], arxiv_id: str, journal_doi: str | None
) -> Mapping[str, Any] | None:
    """The work whose counts a paper gets: its journal version (the version of record, where
    OpenAlex attributes citations of the published paper) when OpenAlex knows it, else its
    arXiv preprint (pure)."""
    journal = works.get(journal_doi) if journal_doi else None
    return journal if journal is not None else works.get(arxiv_doi(arxiv_id))


def _filter_value(doi: str) -> str | None:
    # "," separates filters and "|" values: a DOI holding one cannot be asked this way.
    return None if ("," in doi or "|" in doi) else doi


# -- venues (pure) -----------------------------------------------------------------------------

ARXIV_VENUE = "arXiv"
VENUE_SOURCES = ("list", "journal_ref", "comment", SEMANTIC_SCHOLAR, OPENALEX)
"""Where ``normalize_venue`` looks, in order of trust: the list is the curator's citation;
``journal_ref`` the authors' formal record; the comment their note ("Accepted to ..."); the
services' venues are curated but lag and sometimes name a series (LNCS) for a conference."""


def _acronym(pattern: str) -> str:
    # Letters may not touch the acronym (NAACL is not ACL) but digits and quotes may
    # (NeurIPS2020, AAAI20, KDD'16); a trailing W marks a workshop (CVPRW, ICCVW).
    return rf"(?<![A-Za-z])(?:{pattern})(?P<w>W)?(?![A-Za-z])"


def _acro_strict(pattern: str) -> str:
    # For acronyms that are also words (CHI, ACL, UAI): exact case, no workshop suffix.
    return rf"(?<![A-Za-z])(?-i:{pattern})(?![A-Za-z])"


# (canonical, patterns), most specific first: the first canonical with a match wins.
_VENUE_TABLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SIGGRAPH Asia", (r"siggraph[\s-]*asia",)),
    ("TACL", (_acronym("tacl"), r"transactions of the association for computational ling")),
    ("NAACL", (_acronym("naacl"), r"north american chapter of the association for comput")),
    ("EACL", (_acronym("eacl"), r"european chapter of the association for computational")),
    ("EMNLP", (_acronym("emnlp"), r"empirical methods in natural language processing")),
    (
        "ACL",
        (
            _acro_strict("ACL"),
            r"annual meeting of the association for computational linguistics",
            r"findings of the association for computational linguistics",
        ),
    ),
    ("COLING", (_acronym("coling"), r"international conference on computational linguistics")),
    (
        "NeurIPS",
        (
            # The NeruIPS typo is real (the alignment list, 2025); NIPS is the old name.
            _acronym(r"neu?r[iu]?ps|neru?ips|nuer?ips|nips"),
            r"neural information processing systems",
        ),
    ),
    (
        "ICML",
        (
            _acronym("icml"),
            r"international conference on machine learning(?!\s*(?:and|&|,)\s*\w)",
        ),
    ),
    ("ICLR", (_acronym("iclr"), r"international conference on learning representations")),
    ("AISTATS", (_acronym("aistats"), r"artificial intelligence and statistics")),
    ("UAI", (_acro_strict("UAI"), r"uncertainty in artificial intelligence")),
    ("COLT", (_acro_strict("COLT"), r"conference on learning theory")),
    ("CoRL", (_acronym("corl"), r"conference on robot learning")),
    (
        "TMLR",
        (
            _acronym("tmlr"),
            r"transactions on machine learning research",
            r"trans\.?\s*mach\.?\s*learn\.?\s*res",
        ),
    ),
    (
        "JMLR",
        (
            _acronym("jmlr"),
            r"journal of machine learning research",
            r"j\.?\s*mach\.?\s*learn\.?\s*res",
        ),
    ),
    (
        "TPAMI",
        (
            _acronym("t-?pami"),
            _acro_strict("PAMI"),
            r"transactions on pattern analysis and machine intelligence",
            r"trans\.?\s*pattern\s*anal\.?\s*mach\.?\s*intell",
        ),
    ),
    ("IJCV", (_acronym("ijcv"), r"international journal of computer vision")),
    ("CVPR", (_acronym("cvpr"), r"computer vision and pattern recognition")),
    (
        "ICCV",
        (_acronym("iccv"), r"international conference on computer vision(?!\s*theory)"),
    ),
    ("ECCV", (_acronym("eccv"), r"european conference on computer vision")),
    ("WACV", (_acronym("wacv"), r"winter conference on applications of computer vision")),
    ("BMVC", (_acronym("bmvc"), r"british machine vision conference")),
    ("AAAI", (_acronym("aaai"),)),
    ("IJCAI", (_acronym("ijcai"), r"international joint conference on artificial intelligence")),
    ("PAKDD", (_acronym("pakdd"), r"pacific-asia conference on knowledge discovery")),
    (
        "ECML PKDD",
        (
            _acronym(r"ecml(?:[\s/-]*pkdd)?"),
            r"european conference on machine learning",
            r"principles and practice of knowledge discovery in databases",
        ),
    ),
    (
        "KDD",
        (
            _acro_strict("KDD"),
            _acronym("(?:acm[\\s-]*)?sigkdd"),
            r"knowledge discovery and data mining",
        ),
    ),
    ("WWW", (_acro_strict("WWW"), r"the web conference", r"world wide web conference")),
    ("SIGIR", (_acronym("sigir"), r"research and development in information retrieval")),
    ("CIKM", (_acronym("cikm"), r"conference on information and knowledge management")),
    ("SIGMOD", (_acronym("sigmod"), r"international conference on management of data")),
    ("VLDB", (_acronym("p?vldb"), r"very large data bases")),
    ("SIGGRAPH", (_acronym("siggraph"), r"computer graphics and interactive techniques")),
    ("TOG", (_acro_strict("TOG"), r"acm transactions on graphics", r"acm trans\.?\s*graph")),
    ("CHI", (_acro_strict("CHI"), r"human factors in computing systems")),
    (
        "ACM MM",
        (_acronym(r"acm\s*mm"), r"acm multimedia", r"acm international conference on multimedia"),
    ),
    ("ICRA", (_acronym("icra"), r"international conference on robotics and automation")),
    ("IROS", (_acronym("iros"), r"intelligent robots and systems")),
    ("RSS", (_acro_strict("RSS"), r"robotics:?\s*science and systems")),
    ("INTERSPEECH", (_acronym("interspeech"),)),
    ("ICASSP", (_acronym("icassp"), r"acoustics,?\s*speech,?\s*and signal processing")),
    ("TIP", (_acro_strict("TIP"), r"ieee transactions on image processing")),
    ("TNNLS", (_acronym("tnnls"), r"transactions on neural networks and learning systems")),
    ("Nature", (r"^nature$",)),
    ("Science", (r"^science$",)),
)
_VENUE_PATTERNS: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = tuple(
    (canonical, tuple(re.compile(p, re.IGNORECASE) for p in patterns))
    for canonical, patterns in _VENUE_TABLE
)
CANONICAL_VENUES: tuple[str, ...] = tuple(name for name, _ in _VENUE_TABLE)
"""The short names ``normalize_venue`` gives known venues (qualified as "X Workshop",
"Findings of X", "NeurIPS Datasets and Benchmarks")."""
_ACL_FAMILY = frozenset({"ACL", "EMNLP", "NAACL", "EACL"})
_FINDINGS = re.compile(r"\bfindings\b", re.IGNORECASE)
_WORKSHOP = re.compile(r"\bworkshops?\b", re.IGNORECASE)
_DATASETS_TRACK = re.compile(r"datasets\s*(?:and|&)\s*benchmarks", re.IGNORECASE)
_PLACEHOLDER = re.compile(
    r"^(?:arxiv\b.*|corr\b.*|e-?print.*|preprint|arxiv\s*\(cornell university\))$", re.I
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)|'\d{2}\b")
_ORDINAL = re.compile(r"\b\d+(?:st|nd|rd|th)\b", re.IGNORECASE)
_CLAUSE = re.compile(r"(?<=[.;!?])\s+|\n")
# Words of a comment that make a venue named after them the paper's own venue, or not.
_ACCEPTED = re.compile(
    r"\b(?:accept\w*|publish\w*|to appear|appear\w*|proceedings|camera[\s-]*ready|"
    r"presented|oral|spotlight|poster)\b",
    re.IGNORECASE,
)
_NOT_THIS_PAPER = re.compile(
    r"\b(?:submitted|submission|under review|withdrawn|extended version|extension of|"
    r"supplement\w*|rejected|look at|preliminary|earlier version|previous|short version|"
    r"based on)\b",
    re.IGNORECASE,
)
_JOURNAL_ACRONYM = re.compile(r"\((?P<a>[A-Za-z][A-Za-z0-9/&-]{1,15})(?:[\s']*\d{2,4})?\)")
_JOURNAL_LEAD = re.compile(
    r"^(?:in\s+|proc\.?\s+|proceedings\s+of\s+(?:the\s+)?|published\s+in\s+)+", re.IGNORECASE
)
_JOURNAL_CUT = re.compile(r"[,;(:]|\s\d|(?<=\.)\d|\s+vol\b|\s+pp\b", re.IGNORECASE)
_TRAILING = re.compile(r"[\s,;:(\-]+$|\s+(?:in|of|the|and|at|on)$", re.IGNORECASE)


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", html.unescape(text)).split())


def _strip_years(text: str) -> str:
    text = _ORDINAL.sub(" ", _YEAR.sub(" ", text))
    text = " ".join(text.split())
    previous = None
    while previous != text:
        previous, text = text, _TRAILING.sub("", text).strip()
    return text.lstrip(",;:-. ")


def _qualified(canonical: str, context: str, match: re.Match[str]) -> str:
    if canonical in _ACL_FAMILY and _FINDINGS.search(context):
        return f"Findings of {canonical}"
    if canonical == "NeurIPS" and _DATASETS_TRACK.search(context):
        return "NeurIPS Datasets and Benchmarks"
    if match.groupdict().get("w") or _WORKSHOP.search(context):
        return f"{canonical} Workshop"
    return canonical


def _known_mentions(text: str) -> list[tuple[str, re.Match[str]]]:
    """Every canonical venue ``text`` names, in table order (most specific first)."""
    found = []
    for canonical, patterns in _VENUE_PATTERNS:
        for pattern in patterns:
            match = pattern.search(text)
            if match:
                found.append((canonical, match))
                break
    return found


def _known_venue(text: str) -> str | None:
    mentions = _known_mentions(text)
    if not mentions:
        return None
    canonical, match = mentions[0]
    return _qualified(canonical, text, match)


def _comment_venue(comment: str) -> str | None:
    """A venue the comment says *this* paper appeared at, or None.

    A venue counts when its clause starts with it ("CVPR 2021. Code: ..."), a workshop
    names it, or an acceptance word precedes it ("Accepted to ..."); never after words that
    point elsewhere ("Submitted to", "Extended version of the NeurIPS paper", "Look at the
    ICML version"). Unknown venues in comments are ignored: free text, not a venue field.
    """
    for clause in _CLAUSE.split(comment):
        for canonical, match in _known_mentions(clause):
            before = clause[: match.start()]
            if _NOT_THIS_PAPER.search(before):
                continue
            leads = not re.search(r"[A-Za-z]{3}", re.sub(r"(?i)\b(?:in|at)\b", "", before))
            if leads or _ACCEPTED.search(before) or _WORKSHOP.search(clause):
                return _qualified(canonical, clause, match)
    return None


def _journal_ref_venue(text: str) -> str | None:
    """A journal_ref's venue when it names no known one: the acronym it gives in
    parentheses ("... Workshops (ICSTW), pp. 66-69"), else its leading name
    ("Phys. Rev. D 89, 084044 (2014)" -> "Phys. Rev. D")."""
    if re.match(r"^(?:10\.\d{4,9}/|https?://)", text):
        return None  # a DOI or a link, not a venue
    for match in _JOURNAL_ACRONYM.finditer(text):
        acronym = match["a"]
        if sum(c.isupper() for c in acronym) >= 2:
            return acronym
    lead = _JOURNAL_LEAD.sub("", _strip_years(text))
    cut = _JOURNAL_CUT.search(lead)
    name = _strip_years(lead[: cut.start()] if cut else lead)
    return name if len(name) >= 2 and re.search(r"[A-Za-z]", name) else None


@functools.lru_cache(maxsize=16384)
def _venue_from(source: str, text: str) -> str | None:
    # Cached: a list names the same few venues over and over.
    text = _clean(text)
    if not text:
        return None
    if source == "comment":
        return _comment_venue(text)
    stripped = _strip_years(text)
    if not stripped or _PLACEHOLDER.match(stripped) or _PLACEHOLDER.match(text):
        return ARXIV_VENUE if re.search(r"(?i)arxiv|corr|print", text) else None
    known = _known_venue(text)
    if known:
        return known
    if source == "journal_ref":
        return _journal_ref_venue(text)
    return stripped


def normalize_venue(
    listed: str | None,
    journal_ref: str | None,
    comment: str | None,
    s2_venue: str | None,
    openalex_venue: str | None,
) -> tuple[str | None, str | None]:
    """(venue, source of the value) for one entry, or (None, None) (pure).

    The first source (in ``VENUE_SOURCES`` order) that names a venue wins. Usual ML venues
    come back as their short names (NeurIPS for "NIPS", "NeruIPS", "Advances in Neural
    Information Processing Systems"; TPAMI for "IEEE Trans. Pattern Anal. Mach. Intell.";
    "Findings of EMNLP", "CVPR Workshop", "NeurIPS Datasets and Benchmarks"); other venues
    keep their name without years and ordinals. arXiv (arXiv.org, CoRR, "arXiv preprint",
    "arXiv (Cornell University)") is a venue only when no source names another.
    """
    fallback: tuple[str | None, str | None] = (None, None)
    texts = (listed, journal_ref, comment, s2_venue, openalex_venue)
    for source, text in zip(VENUE_SOURCES, texts, strict=True):
        if not text:
            continue
        value = _venue_from(source, text)
        if value is None:
            continue
        if value == ARXIV_VENUE:
            if fallback[0] is None:
                fallback = (ARXIV_VENUE, source)
            continue
        return value, source
    return fallback


def source_venues(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, str | None]]:
    """arxiv_id -> {source: venue} from ``CITATIONS`` rows, for ``normalize_venue``."""
    out: dict[str, dict[str, str | None]] = {}
    for row in rows:
        out.setdefault(row["arxiv_id"], {})[row["source"]] = row["venue"]
    return out


# -- the edge ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lookup:
    """An unresolved entry to look up: by the DOI of its link, else by title."""

    index: int
    title: str
    year: int | None
    doi: str | None


@dataclass
class _Found:
    s2_id: str | None = None
    openalex_id: str | None = None
    doi: str | None = None
    found_by: str = "title"

    def frozen(self) -> ExternalIds:
        return ExternalIds(self.s2_id, self.openalex_id, self.doi, self.found_by)


@dataclass
class _Run:
    http: HttpClient
    config: CiteConfig
    now: datetime
    due: list[str]
    stale: set[str]
    """Due papers that have a previous row: asked past the HTTP cache, as a re-check."""
    journal_doi: dict[str, str]
    lookups: list[_Lookup]
    found: dict[int, _Found]
    out: dict[str, dict[str, Any]] = field(default_factory=dict)
    """arxiv_id -> the new row, filled batch by batch so a failure keeps what came."""


def register(http: HttpClient, config: CiteConfig) -> None:
    """Per-host spacing and answer checks for the configured sources."""
    if SEMANTIC_SCHOLAR in config.sources:
        http.set_delay(config.s2_url, config.s2_interval)
        http.add_validator(f"{config.s2_url}/graph/v1/paper/batch", s2_batch_problem)
        http.add_validator(f"{config.s2_url}/graph/v1/paper/search/match", s2_match_problem)
    if OPENALEX in config.sources:
        http.set_delay(config.openalex_url, config.openalex_delay)
        http.add_validator(f"{config.openalex_url}/works", openalex_list_problem)


def run_cite(
    http: HttpClient,
    config: CiteConfig,
    papers: Sequence[tuple[str, str | None]],
    unresolved: Sequence[tuple[int, str, int | None, str | None]],
    previous: pa.Table | None,
    now: datetime,
) -> CiteResult:
    """Ask the configured sources about ``papers`` (arxiv_id, journal DOI) and look up the
    ``unresolved`` entries (index, title, year, url); never raises for a failing source.

    Every entry in ``unresolved`` is looked up (by DOI within the paper batches, by title
    otherwise): pass only those whose search is due. ``previous`` is the last
    ``citations`` table; ``now`` (UTC) stamps the new rows.
    """
    register(http, config)
    ids = list(dict.fromkeys(arxiv_id for arxiv_id, _ in papers))
    journal_doi: dict[str, str] = {}
    for arxiv_id, doi in papers:
        normalized = normalize_doi(doi)
        if normalized and not normalized.startswith("10.48550/"):
            journal_doi[arxiv_id] = normalized
    old = _previous_rows(previous)
    lookups = [
        _Lookup(index, title, year, doi_from_url(url)) for index, title, year, url in unresolved
    ]
    found: dict[int, _Found] = {}
    result = CiteResult()
    new: dict[str, dict[str, dict[str, Any]]] = {}
    max_age = timedelta(days=config.max_age_days)

    for source in SOURCES:
        if source not in config.sources:
            continue
        due = [i for i in ids if not _fresh(old.get((i, source)), now, max_age)]
        run = _Run(
            http,
            config,
            now,
            due,
            {i for i in due if (i, source) in old},
            journal_doi,
            lookups,
            found,
        )
        new[source] = run.out
        before = http.stats.requests
        try:
            if source == SEMANTIC_SCHOLAR:
                _ask_semantic_scholar(run)
            else:
                _ask_openalex(run)
        except (UpstreamUnavailableError, OfflineCacheMissError) as err:
            unanswered = [i for i in due if i not in run.out]
            kept = sum(1 for i in unanswered if (i, source) in old)
            result.failures[source] = _failure_line(source, err, config, len(unanswered), kept)
            log.warning("%s", result.failures[source])
        finally:
            result.requests[source] = http.stats.requests - before
        log.info(
            "%s: %d papers fresh, %d asked, %d answered, %d requests",
            SERVICE_NAMES[source],
            len(ids) - len(due),
            len(due),
            len(run.out),
            result.requests[source],
        )

    for arxiv_id in ids:
        for source in SOURCES:
            row = new.get(source, {}).get(arxiv_id)
            before_row = old.get((arxiv_id, source))
            if row is not None and before_row is not None and _lost(row, before_row):
                # A paper the source knew does not vanish; keep it and ask next run.
                log.warning(
                    "%s did not return %s this time; keeping its earlier values",
                    SERVICE_NAMES[source],
                    arxiv_id,
                )
                row = before_row
            row = row if row is not None else before_row
            if row is not None:
                result.rows.append(row)
    result.entry_ids = {index: ids_.frozen() for index, ids_ in sorted(found.items())}
    return result


def _previous_rows(previous: pa.Table | None) -> dict[tuple[str, str], dict[str, Any]]:
    if previous is None:
        return {}
    rows = previous.select(CITATIONS.names).cast(CITATIONS).to_pylist()
    return {(row["arxiv_id"], row["source"]): row for row in rows}


def _fresh(row: Mapping[str, Any] | None, now: datetime, max_age: timedelta) -> bool:
    return row is not None and now - row["fetched_at"] < max_age


def _empty(row: Mapping[str, Any]) -> bool:
    return all(row[name] is None for name in CITATIONS.names[2:-1])


def _lost(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """The source answered null for a paper it had values for."""
    return _empty(new) and not _empty(old)


def _failure_line(
    source: str,
    err: UpstreamUnavailableError | OfflineCacheMissError,
    config: CiteConfig,
    unanswered: int,
    kept: int,
) -> str:
    if isinstance(err, OfflineCacheMissError):
        what = "--offline and an answer is not cached"
    elif isinstance(err, MalformedAnswerError):
        what = f"unusable answers ({err.cause} (after {err.attempts} attempts))"
    elif isinstance(err, UpstreamHTTPError):
        what = f"HTTP {err.status} after {err.attempts} attempt(s)"
    else:
        what = (
            f"could not reach {err.service} at {err.host} for {err.url} after "
            f"{err.attempts} attempt(s): {err.cause}"
        )
    line = (
        f"{SERVICE_NAMES[source]} failed: {what}; {unanswered} paper(s) not updated, "
        f"{kept} keep their previous values"
    )
    if source == SEMANTIC_SCHOLAR and err.status == 429 and not config.s2_api_key:
        line += " (the keyless pool is rate-limited: set S2_API_KEY)"
    if err.status in (401, 403):
        line += " (check the API key)"
    return line


def _ask_semantic_scholar(run: _Run) -> None:
    config = run.config
    url = f"{config.s2_url}/graph/v1/paper/batch"
    # Header names are case-blind on the wire, but requests-cache redacts only the exact
    # spelling "X-API-Key" from what it stores: any other and the key lands in the cache file.
    headers = {"X-API-Key": config.s2_api_key} if config.s2_api_key else {}
    # (id sent, paper it answers or lookup it serves)
    wanted: list[tuple[str, str | _Lookup]] = [(f"ARXIV:{i}", i) for i in run.due]
    wanted += [(f"DOI:{lookup.doi}", lookup) for lookup in run.lookups if lookup.doi]
    for chunk in _chunks(wanted, S2_BATCH_SIZE):
        response = run.http.request(
            "POST",
            url,
            retry_budget=CITE_RETRY_BUDGET,
            service=SERVICE_NAMES[SEMANTIC_SCHOLAR],
            refresh=any(target in run.stale for _, target in chunk if isinstance(target, str)),
            params={"fields": S2_FIELDS},
            json={"ids": [key for key, _ in chunk]},
            headers=headers,
        )
        records = parse_s2_batch(_json(response), len(chunk))
        for (_, target), record in zip(chunk, records, strict=True):
            if isinstance(target, str):
                run.out[target] = s2_row(target, record, run.now)
            elif record is not None:
                found = run.found.setdefault(target.index, _Found(doi=target.doi))
                found.s2_id, found.found_by = _str(record.get("paperId")), "doi"

    match_url = f"{config.s2_url}/graph/v1/paper/search/match"
    for lookup in run.lookups:
        known = run.found.get(lookup.index)
        if (known is not None and known.s2_id) or not searchable(lookup.title):
            continue
        response = run.http.request(
            "GET",
            match_url,
            retry_budget=CITE_RETRY_BUDGET,
            service=SERVICE_NAMES[SEMANTIC_SCHOLAR],
            # 404 is "Title match not found"; a 400 concerns this one query, not the service.
            final_statuses=(400, 404),
            params={"query": lookup.title, "fields": S2_MATCH_FIELDS},
            headers=headers,
        )
        if response.status_code != 200:
            continue
        data = _json(response)
        hits = data.get("data", []) if isinstance(data, dict) else []
        candidates = [hit for hit in hits if isinstance(hit, Mapping)]
        record = best_match(lookup.title, lookup.year, candidates, "title", "year")
        if record is None:
            log.info("Semantic Scholar has no close match for %r", lookup.title)
            continue
        found = run.found.setdefault(lookup.index, _Found())
        found.s2_id = _str(record.get("paperId"))
        found.doi = found.doi or normalize_doi(_str(_dict(record.get("externalIds")).get("DOI")))


def _openalex_params(config: CiteConfig, **extra: str | int) -> dict[str, str | int]:
    params: dict[str, str | int] = {**extra, "select": OPENALEX_SELECT}
    if config.openalex_mailto:
        params["mailto"] = config.openalex_mailto
    if config.openalex_api_key:
        params["api_key"] = config.openalex_api_key
    return params


def _openalex_by_doi(
    run: _Run, dois: Sequence[str], refresh: set[str]
) -> dict[str, Mapping[str, Any]]:
    url = f"{run.config.openalex_url}/works"
    works: dict[str, Mapping[str, Any]] = {}
    for chunk in _chunks(list(dict.fromkeys(dois)), OPENALEX_BATCH_SIZE):
        response = run.http.request(
            "GET",
            url,
            retry_budget=CITE_RETRY_BUDGET,
            service=SERVICE_NAMES[OPENALEX],
            refresh=any(doi in refresh for doi in chunk),
            params=_openalex_params(
                run.config, filter="doi:" + "|".join(chunk), **{"per-page": OPENALEX_PER_PAGE}
            ),
        )
        payload = _json(response)
        answered = openalex_works(payload)
        count = _int(_dict(_dict(payload).get("meta")).get("count"))
        if count is not None and count > len(answered):
            log.warning(
                "OpenAlex matched %d works for %d DOIs but sent %d; the rest wait for next run",
                count,
                len(chunk),
                len(answered),
            )
        for doi, work in works_by_doi(answered).items():
            works.setdefault(doi, work)
    return works


def _ask_openalex(run: _Run) -> None:
    # Round 1: the version of record when the paper has a journal DOI, else the arXiv DOI.
    first: dict[str, str | None] = {}
    for arxiv_id in run.due:
        first[arxiv_id] = _filter_value(run.journal_doi.get(arxiv_id) or arxiv_doi(arxiv_id))
    lookup_dois: dict[int, str] = {}
    for lookup in run.lookups:
        doi = lookup.doi or (run.found[lookup.index].doi if lookup.index in run.found else None)
        if doi and _filter_value(doi):
            lookup_dois[lookup.index] = doi
    stale = {doi for arxiv_id, doi in first.items() if doi and arxiv_id in run.stale}
    values = [doi for doi in first.values() if doi] + list(lookup_dois.values())
    works = _openalex_by_doi(run, values, stale)

    # Round 2, rare: a journal DOI OpenAlex does not know (or a malformed one); the arXiv
    # record is better than nothing.
    second = [
        arxiv_id
        for arxiv_id, doi in first.items()
        if (doi is None or doi not in works) and doi != arxiv_doi(arxiv_id)
    ]
    if second:
        refresh = {arxiv_doi(i) for i in second if i in run.stale}
        works.update(_openalex_by_doi(run, [arxiv_doi(i) for i in second], refresh))
    for arxiv_id in first:
        work = pick_work(works, arxiv_id, run.journal_doi.get(arxiv_id))
        run.out[arxiv_id] = openalex_row(arxiv_id, work, run.now)

    for index, doi in lookup_dois.items():
        work = works.get(doi)
        if work is not None:
            found = run.found.setdefault(index, _Found(doi=doi, found_by="doi"))
            found.openalex_id = openalex_short_id(work)

    url = f"{run.config.openalex_url}/works"
    for lookup in run.lookups:
        known = run.found.get(lookup.index)
        if (known is not None and known.openalex_id) or not searchable(lookup.title):
            continue
        # The words only: "," and "|" would split the filter, ":" ends its name.
        query = normalize_title(lookup.title)
        response = run.http.request(
            "GET",
            url,
            retry_budget=CITE_RETRY_BUDGET,
            service=SERVICE_NAMES[OPENALEX],
            params=_openalex_params(
                run.config,
                filter=f"title.search:{query}",
                **{"per-page": OPENALEX_SEARCH_PER_PAGE},
            ),
        )
        results = openalex_works(_json(response))
        work = best_match(lookup.title, lookup.year, results, "display_name", "publication_year")
        if work is None:
            log.info("OpenAlex has no close match for %r", lookup.title)
            continue
        found = run.found.setdefault(lookup.index, _Found())
        found.openalex_id = openalex_short_id(work)
        found.doi = found.doi or normalize_doi(_str(work.get("doi")))
