"""Semantic Scholar as a citation source (``CitationSource``): the Graph API's batch endpoint
for papers, its title match for unresolved entries.

Requests per run, for N papers due and T unresolved titles: ceil(N / 500) batch POSTs, plus
one search/match per title whose link names no DOI it knows.

Semantic Scholar merges versions (one paper carries ``ArXiv`` and the journal ``DOI``), so it
is asked by ``ARXIV:<id>`` only. Pure core: ``parse_s2_batch`` -> ``s2_row``, and the answer
checks ``s2_batch_problem`` and ``s2_match_problem``; the edge is ``SemanticScholar.ask``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pipeline.config import Settings
from pipeline.resolve import searchable
from pipeline.services.citations import (
    CITE_RETRY_BUDGET,
    SEMANTIC_SCHOLAR,
    Citation,
    CiteJob,
    Lookup,
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

S2_DELAY_WITH_KEY = 1.0
"""Semantic Scholar gives an API key a dedicated 1 request per second on every endpoint."""
S2_DELAY_SHARED = 3.0
"""Without a key every client shares one pool, documented as 100 requests per 5 minutes
(300 s / 100 = 3 s). Spacing at that rate keeps a run from adding to the 429 storm; a
seed-size run makes a handful of requests, so the wait costs seconds, not minutes."""
S2_BATCH_SIZE = 500
"""Semantic Scholar's limit of ids per ``POST /graph/v1/paper/batch``."""
S2_FIELDS = (
    "paperId,externalIds,citationCount,influentialCitationCount,venue,publicationVenue,year,"
    "openAccessPdf"
)
S2_MATCH_FIELDS = S2_FIELDS + ",title"


# -- answers (pure) ---------------------------------------------------------------------------


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
    return as_str(as_dict(record.get("publicationVenue")).get("name")) or as_str(
        record.get("venue")
    )


def s2_oa_url(record: Mapping[str, Any]) -> str | None:
    # A closed paper comes back as {"url": "", "status": null}: empty means none.
    return as_str(as_dict(record.get("openAccessPdf")).get("url"))


def s2_row(arxiv_id: str, record: Mapping[str, Any] | None, now: datetime) -> Citation:
    """The row of one batch answer (all nulls for ``null``)."""
    record = record or {}
    return Citation(
        arxiv_id=arxiv_id,
        source=SEMANTIC_SCHOLAR,
        citation_count=as_int(record.get("citationCount")),
        influential_citation_count=as_int(record.get("influentialCitationCount")),
        venue=s2_venue(record),
        year=as_int(record.get("year")),
        oa_url=s2_oa_url(record),
        fetched_at=now,
    )


def s2_batch_problem(response: requests.Response) -> str | None:
    """Validator: why a 200 batch answer is unusable (not JSON, wrong length), or None."""
    try:
        body = response.request.body if response.request is not None else None
        ids = json.loads(body or b"{}").get("ids", [])
        parse_s2_batch(json_body(response), len(ids))
    except (ValueError, AttributeError) as err:
        return f"unusable batch answer: {err}"
    return None


def s2_match_problem(response: requests.Response) -> str | None:
    """Validator: a 200 search/match answer is ``{"data": [...]}``."""
    try:
        payload = json_body(response)
    except ValueError as err:
        return f"malformed JSON ({err})"
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        return 'expected {"data": [...]}'
    return None


# -- the source -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SemanticScholar:
    """The Semantic Scholar Graph API as a ``CitationSource``."""

    name: ClassVar[str] = SEMANTIC_SCHOLAR
    label: ClassVar[str] = "Semantic Scholar"

    url: str
    """Base URL of the API (``S2_API_URL``), without ``/graph/v1``."""
    api_key: str | None = None
    """``S2_API_KEY``, sent as the ``x-api-key`` header (redacted from the HTTP cache)."""
    delay: float | None = None
    """Seconds between requests; None: ``S2_DELAY_WITH_KEY`` with a key, ``S2_DELAY_SHARED``
    without (read it through ``interval``)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> SemanticScholar:
        return cls(url=settings.s2_api_url, api_key=settings.s2_api_key)

    @property
    def interval(self) -> float:
        if self.delay is not None:
            return self.delay
        return S2_DELAY_WITH_KEY if self.api_key else S2_DELAY_SHARED

    @property
    def _headers(self) -> dict[str, str]:
        # Header names are case-blind on the wire, but requests-cache redacts only the exact
        # spelling "X-API-Key" from what it stores: any other and the key lands in the cache.
        return {"X-API-Key": self.api_key} if self.api_key else {}

    def register(self, http: HttpClient) -> None:
        http.set_delay(self.url, self.interval)
        http.add_validator(f"{self.url}/graph/v1/paper/batch", s2_batch_problem)
        http.add_validator(f"{self.url}/graph/v1/paper/search/match", s2_match_problem)

    def ask(self, job: CiteJob) -> None:
        self._ask_batches(job)
        for lookup in job.lookups:
            if not job.has_id(lookup) and searchable(lookup.title):
                self._match_title(job, lookup)

    def _ask_batches(self, job: CiteJob) -> None:
        """The due papers by arXiv id, and lookups with a DOI, in batches of 500."""
        # (id sent, paper it answers or lookup it serves)
        wanted: list[tuple[str, str | Lookup]] = [(f"ARXIV:{i}", i) for i in job.due]
        wanted += [(f"DOI:{lookup.doi}", lookup) for lookup in job.lookups if lookup.doi]
        for chunk in chunks(wanted, S2_BATCH_SIZE):
            response = job.http.request(
                "POST",
                f"{self.url}/graph/v1/paper/batch",
                retry_budget=CITE_RETRY_BUDGET,
                service=self.label,
                refresh=any(target in job.stale for _, target in chunk if isinstance(target, str)),
                params={"fields": S2_FIELDS},
                json={"ids": [key for key, _ in chunk]},
                headers=self._headers,
            )
            records = parse_s2_batch(json_body(response), len(chunk))
            for (_, target), record in zip(chunk, records, strict=True):
                if isinstance(target, str):
                    job.out[target] = s2_row(target, record, job.now)
                elif record is not None:
                    found = job.found_id(target, as_str(record.get("paperId")), doi=target.doi)
                    found.found_by = "doi"

    def _match_title(self, job: CiteJob, lookup: Lookup) -> None:
        response = job.http.request(
            "GET",
            f"{self.url}/graph/v1/paper/search/match",
            retry_budget=CITE_RETRY_BUDGET,
            service=self.label,
            # 404 is "Title match not found"; a 400 concerns this one query, not the service.
            final_statuses=(400, 404),
            params={"query": lookup.title, "fields": S2_MATCH_FIELDS},
            headers=self._headers,
        )
        if response.status_code != 200:
            return
        data = json_body(response)
        hits = data.get("data", []) if isinstance(data, dict) else []
        candidates = [hit for hit in hits if isinstance(hit, Mapping)]
        record = best_match(lookup.title, lookup.year, candidates, "title", "year")
        if record is None:
            log.info("Semantic Scholar has no close match for %r", lookup.title)
            return
        found = job.found_id(lookup, as_str(record.get("paperId")))
        found.doi = found.doi or normalize_doi(
            as_str(as_dict(record.get("externalIds")).get("DOI"))
        )
