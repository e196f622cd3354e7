"""OpenAlex as a citation source (``CitationSource``): ``/works`` filtered by DOI for papers,
a title search for unresolved entries.

Requests per run, for N papers due and T unresolved titles: ceil(N / 100) DOI filters, plus
one title search per title no source before it found with a DOI.

OpenAlex keeps a journal article and its arXiv preprint as two works with separate citation
counts (tests/fixtures/openalex/list_title_search_published_and_arxiv_twin.json: 236 vs 106).
A paper with a journal DOI is asked by that DOI (the version of record); only when OpenAlex
does not know it is the arXiv DOI asked, in a second round. So each paper costs one filter
value, and a list of N papers costs ceil(N / 100) requests, not ceil(2N / 100).

Pure core: ``openalex_works`` -> ``openalex_row``, ``works_by_doi``, ``pick_work`` and the
answer check ``openalex_list_problem``; the edge is ``OpenAlex.ask``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pipeline.config import Settings
from pipeline.resolve import normalize_title, searchable
from pipeline.services.citations import (
    CITE_RETRY_BUDGET,
    OPENALEX,
    Citation,
    CiteJob,
    Lookup,
    arxiv_doi,
    as_dict,
    as_int,
    as_str,
    best_match,
    chunks,
    json_body,
    normalize_doi,
)

if TYPE_CHECKING:
    import requests

    from pipeline.services.http import HttpClient

log = logging.getLogger(__name__)

OPENALEX_DELAY = 0.1
"""OpenAlex's polite pool (``mailto``) allows 10 requests per second; with the 2026 key
model the cap is 100 per second, so 0.1 s is within both."""
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


# -- answers (pure) ---------------------------------------------------------------------------


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
        return openalex_problem(json_body(response))
    except ValueError as err:
        return f"malformed JSON ({err})"


def openalex_venue(work: Mapping[str, Any]) -> str | None:
    """The primary location's source, else its ``raw_source_name`` (2026 schema: conference
    proceedings often have no source record, only the name Crossref gave)."""
    location = as_dict(work.get("primary_location"))
    return as_str(as_dict(location.get("source")).get("display_name")) or as_str(
        location.get("raw_source_name")
    )


def openalex_oa_url(work: Mapping[str, Any]) -> str | None:
    best = as_dict(work.get("best_oa_location"))
    return (
        as_str(best.get("pdf_url"))
        or as_str(best.get("landing_page_url"))
        or as_str(as_dict(work.get("open_access")).get("oa_url"))
    )


def openalex_short_id(work: Mapping[str, Any]) -> str | None:
    """``https://openalex.org/W4389761608`` -> ``W4389761608``."""
    work_id = as_str(work.get("id"))
    return work_id.rsplit("/", 1)[-1] if work_id else None


def openalex_row(arxiv_id: str, work: Mapping[str, Any] | None, now: datetime) -> Citation:
    """The row of one work (all nulls for None). OpenAlex has no influential citation
    count."""
    work = work or {}
    return Citation(
        arxiv_id=arxiv_id,
        source=OPENALEX,
        citation_count=as_int(work.get("cited_by_count")),
        influential_citation_count=None,
        venue=openalex_venue(work),
        year=as_int(work.get("publication_year")),
        oa_url=openalex_oa_url(work),
        fetched_at=now,
    )


def works_by_doi(works: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Works keyed by ``normalize_doi``; the first of two records with one DOI wins."""
    out: dict[str, Mapping[str, Any]] = {}
    for work in works:
        doi = normalize_doi(as_str(work.get("doi")))
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


# -- the source -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenAlex:
    """The OpenAlex API as a ``CitationSource``."""

    name: ClassVar[str] = OPENALEX
    label: ClassVar[str] = "OpenAlex"

    url: str
    """Base URL of the API (``OPENALEX_API_URL``)."""
    mailto: str | None = None
    """``OPENALEX_MAILTO``: the ``mailto`` parameter of OpenAlex's polite pool."""
    api_key: str | None = None
    """``api_key`` parameter: OpenAlex asks for a free key since February 2026 (a keyless
    client gets a small daily allowance). Also kept out of cache keys."""
    delay: float = OPENALEX_DELAY

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAlex:
        return cls(
            url=settings.openalex_api_url,
            mailto=settings.openalex_mailto,
            api_key=settings.openalex_api_key,
        )

    def register(self, http: HttpClient) -> None:
        http.set_delay(self.url, self.delay)
        http.add_validator(f"{self.url}/works", openalex_list_problem)

    def ask(self, job: CiteJob) -> None:
        # Round 1: the version of record when the paper has a journal DOI, else the arXiv DOI.
        first: dict[str, str | None] = {}
        for arxiv_id in job.due:
            first[arxiv_id] = _filter_value(job.journal_doi.get(arxiv_id) or arxiv_doi(arxiv_id))
        lookup_dois: dict[int, tuple[Lookup, str]] = {}
        for lookup in job.lookups:
            known = job.found.get(lookup.index)
            doi = lookup.doi or (known.doi if known is not None else None)
            if doi and _filter_value(doi):
                lookup_dois[lookup.index] = (lookup, doi)
        stale = {doi for arxiv_id, doi in first.items() if doi and arxiv_id in job.stale}
        values = [doi for doi in first.values() if doi] + [d for _, d in lookup_dois.values()]
        works = self._by_doi(job, values, stale)

        # Round 2, rare: a journal DOI OpenAlex does not know (or a malformed one); the arXiv
        # record is better than nothing.
        second = [
            arxiv_id
            for arxiv_id, doi in first.items()
            if (doi is None or doi not in works) and doi != arxiv_doi(arxiv_id)
        ]
        if second:
            refresh = {arxiv_doi(i) for i in second if i in job.stale}
            works.update(self._by_doi(job, [arxiv_doi(i) for i in second], refresh))
        for arxiv_id in first:
            work = pick_work(works, arxiv_id, job.journal_doi.get(arxiv_id))
            job.out[arxiv_id] = openalex_row(arxiv_id, work, job.now)

        for lookup, doi in lookup_dois.values():
            work = works.get(doi)
            if work is not None:
                job.found_id(lookup, openalex_short_id(work), doi=doi, by="doi")
        for lookup in job.lookups:
            if not job.has_id(lookup) and searchable(lookup.title):
                self._search_title(job, lookup)

    def _params(self, **extra: str | int) -> dict[str, str | int]:
        params: dict[str, str | int] = {**extra, "select": OPENALEX_SELECT}
        if self.mailto:
            params["mailto"] = self.mailto
        if self.api_key:
            params["api_key"] = self.api_key
        return params

    def _by_doi(
        self, job: CiteJob, dois: Sequence[str], refresh: set[str]
    ) -> dict[str, Mapping[str, Any]]:
        works: dict[str, Mapping[str, Any]] = {}
        for chunk in chunks(list(dict.fromkeys(dois)), OPENALEX_BATCH_SIZE):
            response = job.http.request(
                "GET",
                f"{self.url}/works",
                retry_budget=CITE_RETRY_BUDGET,
                service=self.label,
                refresh=any(doi in refresh for doi in chunk),
                params=self._params(
                    filter="doi:" + "|".join(chunk), **{"per-page": OPENALEX_PER_PAGE}
                ),
            )
            payload = json_body(response)
            answered = openalex_works(payload)
            count = as_int(as_dict(as_dict(payload).get("meta")).get("count"))
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

    def _search_title(self, job: CiteJob, lookup: Lookup) -> None:
        # The words only: "," and "|" would split the filter, ":" ends its name.
        query = normalize_title(lookup.title)
        response = job.http.request(
            "GET",
            f"{self.url}/works",
            retry_budget=CITE_RETRY_BUDGET,
            service=self.label,
            params=self._params(
                filter=f"title.search:{query}", **{"per-page": OPENALEX_SEARCH_PER_PAGE}
            ),
        )
        results = openalex_works(json_body(response))
        work = best_match(lookup.title, lookup.year, results, "display_name", "publication_year")
        if work is None:
            log.info("OpenAlex has no close match for %r", lookup.title)
            return
        found = job.found_id(lookup, openalex_short_id(work))
        found.doi = found.doi or normalize_doi(as_str(work.get("doi")))
