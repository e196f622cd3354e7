"""Citation sources: the protocol every source implements, the registry, and the run over them.

A citation source (``semanticscholar.py``, ``openalex.py``) answers two questions: the
``Citation`` of each paper that is due, and the ids it holds for list entries arXiv could not
resolve (``ExternalIds``). ``run_cite`` asks each source the run's settings name, through the
run's ``HttpClient`` (cache, per-host rate limit, retries, timeouts). It never raises for a
source that is down or rate-limited: that source keeps its previous rows and the failure is
reported by name.

To add a source: a module with a class implementing ``CitationSource``, one line in
``REGISTRY``, its name in ``pipeline.config.CITE_SOURCES`` (what ``--sources`` accepts) and its
settings in ``Settings``; ``tests/integration/test_cite_contract.py`` runs the contract every
source must keep against it.

Unresolved entries are looked up by the DOI of their link, or by title. An arXiv id is never
taken from these services: every arXiv id in the tables comes from a list link or arXiv's own
search, and so was confirmed by arXiv.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from pipeline.config import Settings
from pipeline.errors import (
    InputError,
    MalformedAnswerError,
    OfflineCacheMissError,
    UpstreamHTTPError,
    UpstreamUnavailableError,
)
from pipeline.resolve import ACCEPT_SCORE, YEAR_TOLERANCE
from pipeline.resolve import title_similarity as _title_similarity

if TYPE_CHECKING:
    import requests

    from pipeline.services.http import HttpClient

log = logging.getLogger(__name__)

SEMANTIC_SCHOLAR = "semanticscholar"
OPENALEX = "openalex"

CITE_RETRY_BUDGET = 120.0
"""Seconds of back-off a citation request may spend before its source is given up for this
run: citations are optional, and a keyless Semantic Scholar answering 429 would otherwise
hold a cron run for the full arXiv budget (15 minutes)."""


# -- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    """What one source says about one paper: a row of ``schemas.CITATIONS``."""

    arxiv_id: str
    source: str
    """The source's registry name (``semanticscholar``, ``openalex``)."""
    citation_count: int | None
    influential_citation_count: int | None
    """Semantic Scholar's "highly influential" citations; None where a source has none."""
    venue: str | None
    """The venue as the source names it; ``pipeline.venues`` normalises it."""
    year: int | None
    oa_url: str | None
    """An open-access copy (a PDF when the source knows one)."""
    fetched_at: datetime
    """When the source was asked (UTC); all None values and this mean "asked, unknown"."""

    @classmethod
    def unknown(cls, arxiv_id: str, source: str, now: datetime) -> Citation:
        """The row of a paper the source was asked about and does not know."""
        return cls(arxiv_id, source, None, None, None, None, None, now)

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in _VALUE_FIELDS)


_VALUE_FIELDS = tuple(f.name for f in fields(Citation))[2:-1]


@dataclass(frozen=True)
class Lookup:
    """An unresolved entry to look up: by the DOI of its link, else by title."""

    index: int
    """The entry's index, as the caller gave it in ``unresolved``."""
    title: str
    year: int | None
    doi: str | None
    """The DOI its link names (``doi_from_url``), or None."""


@dataclass(frozen=True)
class ExternalIds:
    """Ids other services hold for an entry arXiv could not resolve."""

    ids: Mapping[str, str] = field(default_factory=dict)
    """Source name -> the source's id (Semantic Scholar ``paperId``; OpenAlex short work id
    ``W4389761608``). ``ENTRY_ID_COLUMNS`` says which entries column holds which."""
    doi: str | None = None
    """The DOI, lower case, without ``https://doi.org/``."""
    found_by: str = "title"
    """``doi`` (the entry's link holds a DOI) or ``title`` (a title search matched)."""


ENTRY_ID_COLUMNS: Mapping[str, str] = {SEMANTIC_SCHOLAR: "s2_id", OPENALEX: "openalex_id"}
"""Source -> the ``schemas.ENTRIES`` column that stores its ids. A source without one still
finds DOIs for the others; storing its own ids is a schema change."""


def entry_id_values(found: ExternalIds) -> dict[str, str | None]:
    """The ``ENTRIES`` columns of what was found for one entry."""
    values: dict[str, str | None] = {
        column: found.ids.get(source) for source, column in ENTRY_ID_COLUMNS.items()
    }
    values["doi"] = found.doi
    return values


@dataclass
class Found:
    """What the sources found for one lookup so far (the mutable twin of ``ExternalIds``):
    a DOI one source finds saves the next one a title search."""

    ids: dict[str, str] = field(default_factory=dict)
    doi: str | None = None
    found_by: str = "title"

    def frozen(self) -> ExternalIds:
        return ExternalIds(dict(self.ids), self.doi, self.found_by)


@dataclass
class CiteJob:
    """What one source is asked in one run, and where its answers go."""

    source: str
    """The source's name: the key of its ids in ``found``."""
    http: HttpClient
    now: datetime
    """Stamps the new rows (UTC)."""
    due: list[str]
    """arXiv ids whose row is missing or older than ``--cite-max-age``: ask only these."""
    stale: set[str]
    """Due papers that have a previous row: ask them past the HTTP cache, as a re-check."""
    journal_doi: Mapping[str, str]
    """arXiv id -> the DOI of its published version, where arXiv has one."""
    lookups: Sequence[Lookup]
    found: dict[int, Found]
    """Lookup index -> ids found, shared by every source of the run."""
    out: dict[str, Citation] = field(default_factory=dict)
    """arXiv id -> the new row. Fill it as answers come, so a failure keeps what came."""

    def has_id(self, lookup: Lookup) -> bool:
        """Whether this source already holds an id for ``lookup`` (no search needed)."""
        known = self.found.get(lookup.index)
        return known is not None and self.source in known.ids

    def found_id(
        self, lookup: Lookup, source_id: str | None, *, doi: str | None = None, by: str = "title"
    ) -> Found:
        """Record this source's id for ``lookup`` (a DOI and how, when first found)."""
        known = self.found.setdefault(lookup.index, Found(doi=doi, found_by=by))
        if source_id:
            known.ids[self.source] = source_id
        return known


class CitationSource(Protocol):
    """A service that gives citation rows for arXiv papers and ids for unresolved entries."""

    @property
    def name(self) -> str:
        """The registry key, the ``source`` column value and the ``--sources`` name."""

    @property
    def label(self) -> str:
        """The service's own name, for logs and failure lines ("Semantic Scholar")."""

    def register(self, http: HttpClient) -> None:
        """Set the per-host spacing and the answer validators this source needs."""

    def ask(self, job: CiteJob) -> None:
        """Fill ``job.out`` with one ``Citation`` per due paper (``Citation.unknown`` for a
        paper the service does not know) and ``job.found`` with ids for ``job.lookups``
        that lack one. Raise what ``http.request`` raises when the service fails."""


SourceFactory = Callable[[Settings], CitationSource]


def _semantic_scholar(settings: Settings) -> CitationSource:
    # Imported on use: the source modules import this one for its records.
    from pipeline.services.semanticscholar import SemanticScholar

    return SemanticScholar.from_settings(settings)


def _openalex(settings: Settings) -> CitationSource:
    from pipeline.services.openalex import OpenAlex

    return OpenAlex.from_settings(settings)


REGISTRY: dict[str, SourceFactory] = {
    SEMANTIC_SCHOLAR: _semantic_scholar,
    OPENALEX: _openalex,
}
"""Source name -> factory from the run's settings. The order is the order sources are asked
and trusted for venues: Semantic Scholar first, so that a DOI it finds for an unresolved
title saves OpenAlex a title search."""


class UnknownSourceError(InputError):
    """A citation source name that is not in ``REGISTRY``."""

    def __init__(self, unknown: Sequence[str]) -> None:
        self.unknown = tuple(unknown)
        super().__init__(
            f"unknown citation source(s) {', '.join(unknown)}; choose from {', '.join(REGISTRY)}"
        )


def init_sources(settings: Settings) -> list[CitationSource]:
    """The sources ``settings.cite_sources`` names, in registry order."""
    unknown = [name for name in settings.cite_sources if name not in REGISTRY]
    if unknown:
        raise UnknownSourceError(unknown)
    return [
        factory(settings) for name, factory in REGISTRY.items() if name in settings.cite_sources
    ]


def in_trust_order(venues: Mapping[str, str | None]) -> dict[str, str | None]:
    """Source -> venue, ordered as ``REGISTRY`` (the order ``normalize_venue`` trusts);
    sources no longer registered come last."""
    rank = {name: n for n, name in enumerate(REGISTRY)}
    return dict(sorted(venues.items(), key=lambda item: rank.get(item[0], len(rank))))


def source_venues(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, str | None]]:
    """arxiv_id -> {source: venue} from ``CITATIONS`` rows, in trust order."""
    out: dict[str, dict[str, str | None]] = {}
    for row in rows:
        out.setdefault(row["arxiv_id"], {})[row["source"]] = row["venue"]
    return {arxiv_id: in_trust_order(venues) for arxiv_id, venues in out.items()}


# -- small pure helpers the sources share ------------------------------------------------------

_T = TypeVar("_T")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI_PATH = re.compile(r"/doi/(?:abs/|full/|pdf/|epdf/|book/)?(10\.\d{4,9}/[^?#\s]+)", re.I)


def chunks(items: Sequence[_T], size: int) -> Iterator[list[_T]]:
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


def as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_str(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def as_dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def json_body(response: requests.Response) -> object:
    return json.loads(response.content)


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
        found_title, found_year = record.get(title_key), as_int(record.get(year_key))
        if not isinstance(found_title, str):
            continue
        if year is not None and found_year is not None and abs(found_year - year) > YEAR_TOLERANCE:
            continue
        score = _title_similarity(title, found_title)
        if score >= ACCEPT_SCORE and (best is None or score > best[0]):
            best = (score, record)
    return best[1] if best else None


# -- the run ----------------------------------------------------------------------------------


@dataclass
class CiteResult:
    """What one cite run produced."""

    rows: list[Citation] = field(default_factory=list)
    """A row per paper and source: new answers, plus previous rows kept (fresh, source
    failed, source not asked this run)."""
    entry_ids: dict[int, ExternalIds] = field(default_factory=dict)
    """Entry index (as given in ``unresolved``) -> ids found for it."""
    failures: dict[str, str] = field(default_factory=dict)
    """Source -> one line on why it failed; its previous rows were kept."""
    requests: dict[str, int] = field(default_factory=dict)
    """Source -> network requests made (retries included, cache hits not)."""


def run_cite(
    http: HttpClient,
    settings: Settings,
    papers: Sequence[tuple[str, str | None]],
    unresolved: Sequence[tuple[int, str, int | None, str | None]],
    previous: Sequence[Citation],
    now: datetime,
) -> CiteResult:
    """Ask the sources ``settings.cite_sources`` names about ``papers`` (arxiv_id, journal
    DOI) and look up the ``unresolved`` entries (index, title, year, url); never raises for
    a failing source (an unknown source name raises ``UnknownSourceError``).

    Every entry in ``unresolved`` is looked up (by DOI within the paper batches, by title
    otherwise): pass only those whose search is due. ``previous`` holds the last run's rows;
    ``now`` (UTC) stamps the new ones.
    """
    sources = init_sources(settings)
    for source in sources:
        source.register(http)
    ids = list(dict.fromkeys(arxiv_id for arxiv_id, _ in papers))
    journal_doi: dict[str, str] = {}
    for arxiv_id, doi in papers:
        normalized = normalize_doi(doi)
        if normalized and not normalized.startswith("10.48550/"):
            journal_doi[arxiv_id] = normalized
    old = {(row.arxiv_id, row.source): row for row in previous}
    lookups = [
        Lookup(index, title, year, doi_from_url(url)) for index, title, year, url in unresolved
    ]
    found: dict[int, Found] = {}
    result = CiteResult()
    new: dict[str, dict[str, Citation]] = {}
    max_age = timedelta(days=settings.cite_max_age_days)
    for source in sources:
        due = [i for i in ids if not _fresh(old.get((i, source.name)), now, max_age)]
        stale = {i for i in due if (i, source.name) in old}
        job = CiteJob(source.name, http, now, due, stale, journal_doi, lookups, found)
        new[source.name] = job.out
        _ask(source, job, old, settings, result)
        log.info(
            "%s: %d papers fresh, %d asked, %d answered, %d requests",
            source.label,
            len(ids) - len(due),
            len(due),
            len(job.out),
            result.requests[source.name],
        )
    result.rows = _merged(ids, new, old, {source.name: source.label for source in sources})
    result.entry_ids = {index: ids_.frozen() for index, ids_ in sorted(found.items())}
    return result


def _ask(
    source: CitationSource,
    job: CiteJob,
    old: Mapping[tuple[str, str], Citation],
    settings: Settings,
    result: CiteResult,
) -> None:
    """Run one source's job; a source that fails keeps its previous rows and is named."""
    before = job.http.stats.requests
    try:
        source.ask(job)
    except (UpstreamUnavailableError, OfflineCacheMissError) as err:
        unanswered = [i for i in job.due if i not in job.out]
        kept = sum(1 for i in unanswered if (i, source.name) in old)
        result.failures[source.name] = _failure_line(source, err, settings, len(unanswered), kept)
        log.warning("%s", result.failures[source.name])
    finally:
        result.requests[source.name] = job.http.stats.requests - before


def _merged(
    ids: Sequence[str],
    new: Mapping[str, Mapping[str, Citation]],
    old: Mapping[tuple[str, str], Citation],
    labels: Mapping[str, str],
) -> list[Citation]:
    """The run's rows: each registered source's new row for each paper, else its previous
    one; a paper a source knew does not vanish on a null answer."""
    rows = []
    for arxiv_id in ids:
        for source in REGISTRY:
            row = new.get(source, {}).get(arxiv_id)
            before_row = old.get((arxiv_id, source))
            if row is not None and before_row is not None and _lost(row, before_row):
                # Keep it and ask next run.
                log.warning(
                    "%s did not return %s this time; keeping its earlier values",
                    labels.get(source, source),
                    arxiv_id,
                )
                row = before_row
            row = row if row is not None else before_row
            if row is not None:
                rows.append(row)
    return rows


def _fresh(row: Citation | None, now: datetime, max_age: timedelta) -> bool:
    return row is not None and now - row.fetched_at < max_age


def _lost(new: Citation, old: Citation) -> bool:
    """The source answered null for a paper it had values for."""
    return new.is_empty() and not old.is_empty()


def _failure_line(
    source: CitationSource,
    err: UpstreamUnavailableError | OfflineCacheMissError,
    config: Settings,
    unanswered: int,
    kept: int,
) -> str:
    """One line on a source that failed, from the error's fields: what went wrong, what it
    cost, and (this layer knows it) what would help."""
    if isinstance(err, OfflineCacheMissError):
        what = "--offline and an answer is not cached"
    elif isinstance(err, MalformedAnswerError):
        what = f"unusable answers ({err.cause} (after {err.attempts} attempts))"
    elif isinstance(err, UpstreamHTTPError):
        what = f"HTTP {err.status} after {err.attempts} attempt(s)"
    else:  # unreachable, or an answer refused: the error's line names host, path, cause
        what = str(err)
    line = (
        f"{source.label} failed: {what}; {unanswered} paper(s) not updated, "
        f"{kept} keep their previous values"
    )
    if source.name == SEMANTIC_SCHOLAR and err.status == 429 and not config.s2_api_key:
        line += " (the keyless pool is rate-limited: set S2_API_KEY)"
    if err.status in (401, 403):
        line += " (check the API key)"
    return line
