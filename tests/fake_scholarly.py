"""Fake Semantic Scholar Graph API and OpenAlex API: real HTTP servers on 127.0.0.1.

The cite stage's integration tests run the real HTTP stack (requests, requests-cache, the
project's ``HttpClient``) against them. What they answer follows the recorded responses in
``tests/fixtures/s2/`` and ``tests/fixtures/openalex/`` (``INDEX.tsv`` there gives each file's
repository, path and commit):

``FakeSemanticScholar``
* ``POST /graph/v1/paper/batch?fields=...`` with ``{"ids": [...]}``: a JSON list in request
  order, ``null`` for an id it does not know (``batch_with_null_full_fields.json``);
  ``paperId`` always present; more than 500 ids is a 400; an unknown field is the recorded
  400 ``{"error":"Unrecognized or unsupported fields: [x]"}``.
* ``GET /graph/v1/paper/search/match?query=...``: ``{"data": [{..., "matchScore": f}]}``
  (``match_arxiv_attention.json``), or the recorded 404 ``{"error":"Title match not found"}``.
* ids: ``ARXIV:<id>``, ``DOI:<doi>`` (case-blind), ``CorpusId:<n>``, the 40-hex paperId.
* a wrong ``x-api-key`` is the recorded 403 ``{"message":"Forbidden"}``; injected 429s and
  500s carry the recorded bodies (``error_429_unauthenticated_shared_pool.json``,
  ``batch_500_internal_server_error.json``).

``FakeOpenAlex``
* ``GET /works?filter=doi:A|B,...&per-page=&page=&select=``: ``{"meta": ..., "results": [...],
  "group_by": []}`` (``list_filter_openalex_ids_pipe_cursor_first.json``), results never in
  request order; ``per-page`` defaults to 25 and may not exceed 200; at most 100 values OR-ed
  in one filter (OpenAlex's documented limit; 400 past it); an unknown filter field is the
  recorded 400 shape (``error_400_invalid_filter_field.json``).
* ``filter=title.search:words``: works whose title holds every word, most relevant first,
  with ``relevance_score`` (``list_title_search_*.json``).
* ``select=a,b``: only those top-level keys.

Both record every request and inject faults: ``fail_next(n, status, retry_after)``,
``hang_next(n, seconds)``, ``truncate_next(n)`` (a 200 cut in half), ``down()`` (the port
refuses connections).

    with FakeSemanticScholar() as s2, FakeOpenAlex() as oa:
        s2.add_paper(FakePaper.synthetic("2304.05977"))
        s2.fail_next(1, status=429)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from tests.fake_http import Answer, FakeHTTPService, Request

FIXTURES = Path(__file__).parent / "fixtures"
JSON_TYPE = "application/json"

S2_MAX_BATCH = 500
S2_FIELDS = frozenset(
    {
        "paperId", "corpusId", "externalIds", "url", "title", "abstract", "venue",
        "publicationVenue", "year", "referenceCount", "citationCount",
        "influentialCitationCount", "isOpenAccess", "openAccessPdf", "fieldsOfStudy",
        "s2FieldsOfStudy", "publicationTypes", "publicationDate", "journal", "citationStyles",
        "authors",
    }
)  # fmt: skip
"""The paper fields of the recorded answers (``search_full_fields_kubernetes.json``)."""
OPENALEX_MAX_OR_VALUES = 100
OPENALEX_MAX_PER_PAGE = 200
OPENALEX_DEFAULT_PER_PAGE = 25
OPENALEX_FILTERS = frozenset(
    {"doi", "title.search", "display_name.search", "openalex", "ids.openalex", "publication_year"}
)
ARXIV_SOURCE_NAME = "arXiv (Cornell University)"
_WORD = re.compile(r"[^\W_]+")


def fixture_bytes(relative: str) -> bytes:
    """A recorded body, e.g. ``s2/match_404_title_not_found.json``."""
    return (FIXTURES / relative).read_bytes()


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def _number(seed: str, below: int) -> int:
    return int.from_bytes(_digest(seed)[:8], "big") % below


def _bare_doi(doi: str) -> str:
    return re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", doi.strip(), flags=re.I).lower()


# --------------------------------------------------------------------------- records


def s2_record(
    *,
    title: str,
    year: int | None,
    arxiv_id: str | None = None,
    doi: str | None = None,
    venue: str = "arXiv.org",
    citation_count: int | None = None,
    influential_citation_count: int | None = None,
    oa_url: str | None = None,
    publication_venue: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Semantic Scholar paper in the recorded shape (every field of ``S2_FIELDS``).

    Citation counts are derived from the title when not given; an arXiv paper without a
    journal DOI gets its DataCite DOI, as in ``paper_doi_arxiv_prefixed_full.json``.
    """
    seed = arxiv_id or doi or title
    paper_id = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
    corpus_id = 200_000_000 + _number(seed, 10**8)
    external: dict[str, Any] = {}
    if arxiv_id:
        external["ArXiv"] = arxiv_id
    if doi or arxiv_id:
        external["DOI"] = doi or f"10.48550/arXiv.{arxiv_id}"
    external["CorpusId"] = corpus_id
    cited = citation_count if citation_count is not None else _number(f"{seed}#c", 2000)
    influential = influential_citation_count
    if influential is None:
        influential = cited // 20
    if oa_url is None and arxiv_id:
        oa_url = f"https://arxiv.org/pdf/{arxiv_id}"
    return {
        "paperId": paper_id,
        "externalIds": external,
        "corpusId": corpus_id,
        "publicationVenue": dict(publication_venue) if publication_venue else None,
        "url": f"https://www.semanticscholar.org/paper/{paper_id}",
        "title": title,
        "abstract": None,
        "venue": venue,
        "year": year,
        "referenceCount": 40,
        "citationCount": cited,
        "influentialCitationCount": influential,
        "isOpenAccess": bool(oa_url),
        "openAccessPdf": {
            "url": oa_url or "",
            "status": "GREEN" if oa_url else None,
            "license": None,
        },
        "fieldsOfStudy": ["Computer Science"],
        "s2FieldsOfStudy": [{"category": "Computer Science", "source": "s2-fos-model"}],
        "publicationTypes": ["JournalArticle"],
        "publicationDate": f"{year}-01-01" if year else None,
        "journal": {"name": venue} if venue else None,
        "citationStyles": {"bibtex": f"@Article{{{paper_id[:8]},\n title = {{{title}}}\n}}\n"},
        "authors": [],
    }


def _journal_name(journal_ref: str | None) -> str:
    # "IEEE Trans. Pattern Anal. Mach. Intell. 45 (2023) 1-12" -> the name before the volume.
    if not journal_ref:
        return "Journal"
    return re.split(r"\s\d", journal_ref, maxsplit=1)[0].strip() or "Journal"


def s2_record_from(paper: Any, **overrides: Any) -> dict[str, Any]:
    """``s2_record`` of a FakePaper-like object (``arxiv_id``, ``title``, ``published``,
    ``doi``, ``journal_ref``): merged with its journal version when it has a DOI, as
    Semantic Scholar merges them."""
    doi = getattr(paper, "doi", None)
    fields: dict[str, Any] = {
        "title": paper.title,
        "year": paper.published.year,
        "arxiv_id": paper.arxiv_id,
        "doi": doi,
        "venue": _journal_name(getattr(paper, "journal_ref", None)) if doi else "arXiv.org",
    }
    return s2_record(**{**fields, **overrides})


def openalex_work(
    *,
    title: str,
    year: int | None,
    doi: str | None,
    cited_by_count: int,
    source_name: str | None,
    source_type: str = "journal",
    work_type: str = "article",
    pdf_url: str | None = None,
    landing_page_url: str | None = None,
    raw_source_name: str | None = None,
) -> dict[str, Any]:
    """An OpenAlex work in the recorded (2025-2026) shape, its id derived from the DOI."""
    seed = doi or title
    work_id = f"https://openalex.org/W{4_000_000_000 + _number(seed, 10**9)}"
    doi_url = f"https://doi.org/{_bare_doi(doi)}" if doi else None
    source: dict[str, Any] | None = None
    if source_name:
        source = {
            "id": f"https://openalex.org/S{4_300_000_000 + _number(source_name, 10**8)}",
            "display_name": source_name,
            "issn_l": None,
            "issn": None,
            "is_oa": source_type == "repository",
            "is_in_doaj": False,
            "is_core": source_type != "repository",
            "host_organization": None,
            "host_organization_name": None,
            "host_organization_lineage": [],
            "host_organization_lineage_names": [],
            "type": source_type,
        }
    location = {
        "id": f"doi:{_bare_doi(doi)}" if doi else None,
        "is_oa": bool(pdf_url or landing_page_url),
        "landing_page_url": landing_page_url or doi_url,
        "pdf_url": pdf_url,
        "source": source,
        "license": None,
        "license_id": None,
        "version": "submittedVersion" if work_type == "preprint" else "publishedVersion",
        "is_accepted": work_type != "preprint",
        "is_published": work_type != "preprint",
        "raw_source_name": raw_source_name or "",
    }
    is_oa = bool(pdf_url or landing_page_url)
    oa_location = location if is_oa else None
    return {
        "id": work_id,
        "doi": doi_url,
        "title": title,
        "display_name": title,
        "publication_year": year,
        "publication_date": f"{year}-01-01" if year else None,
        "ids": {"openalex": work_id, **({"doi": doi_url} if doi_url else {})},
        "language": "en",
        "primary_location": location,
        "type": work_type,
        "indexed_in": ["arxiv"] if work_type == "preprint" else ["crossref"],
        "open_access": {
            "is_oa": is_oa,
            "oa_status": ("green" if work_type == "preprint" else "hybrid") if is_oa else "closed",
            "oa_url": (pdf_url or landing_page_url) if is_oa else None,
            "any_repository_has_fulltext": is_oa,
        },
        "authorships": [],
        "cited_by_count": cited_by_count,
        "biblio": {"volume": None, "issue": None, "first_page": None, "last_page": None},
        "is_retracted": False,
        "is_paratext": False,
        "locations_count": 1,
        "locations": [location],
        "best_oa_location": oa_location,
        "referenced_works_count": 0,
        "referenced_works": [],
        "related_works": [],
        "counts_by_year": [],
        "updated_date": "2025-10-01T00:00:00.000000",
        "created_date": "2023-04-13T00:00:00",
    }


def openalex_works_from(
    paper: Any, cited_by_count: int | None = None, journal: bool = True
) -> list[dict[str, Any]]:
    """The works OpenAlex holds for a FakePaper-like object: its arXiv preprint and, when it
    has a DOI and ``journal``, a separate journal article with more citations (OpenAlex keeps
    the two apart, ``list_title_search_published_and_arxiv_twin.json``)."""
    cited = cited_by_count if cited_by_count is not None else _number(paper.arxiv_id, 1000)
    works = [
        openalex_work(
            title=paper.title,
            year=paper.published.year,
            doi=f"10.48550/arxiv.{paper.arxiv_id}",
            cited_by_count=cited,
            source_name=ARXIV_SOURCE_NAME,
            source_type="repository",
            work_type="preprint",
            pdf_url=f"https://arxiv.org/pdf/{paper.arxiv_id}",
            landing_page_url=f"https://arxiv.org/abs/{paper.arxiv_id}",
        )
    ]
    doi = getattr(paper, "doi", None)
    if doi and journal:
        works.append(
            openalex_work(
                title=paper.title,
                year=paper.published.year,
                doi=doi,
                cited_by_count=2 * cited + 1,
                source_name=_journal_name(getattr(paper, "journal_ref", None)),
            )
        )
    return works


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class RecordedRequest:
    """One request a fake received, and what it answered."""

    method: str
    path: str
    params: dict[str, str]
    """Query parameters (the last value of a repeated one), URL-decoded."""
    body: Any
    """The JSON body, parsed; None without one."""
    api_key: str | None
    """The ``x-api-key`` header."""
    user_agent: str | None
    status: int | None
    """The status answered (decided on arrival, so a hung request shows it too)."""
    fault: str | None
    """The injected fault: fail, hang, truncate; or None."""
    at: float
    """``time.monotonic()`` on arrival."""

    @property
    def ids(self) -> list[str]:
        """The ids of a batch POST."""
        ids = self.body.get("ids", []) if isinstance(self.body, dict) else []
        return list(ids)

    @property
    def filter_values(self) -> list[str]:
        """Every value OR-ed in the ``filter`` parameter (OpenAlex)."""
        values: list[str] = []
        for part in self.params.get("filter", "").split(","):
            values += part.partition(":")[2].split("|") if part else []
        return values


def _json_answer(status: int, payload: Any) -> Answer:
    return _recorded_answer(status, json.dumps(payload, separators=(",", ":")).encode())


def _recorded_answer(status: int, body: bytes) -> Answer:
    return Answer(status=status, body=body, content_type=JSON_TYPE)


_INVALID_JSON = object()


class _FakeService(FakeHTTPService[RecordedRequest]):
    """What both services share on top of FakeHTTPService: JSON bodies and the fault order."""

    server_header = "fake-scholarly/1.0"

    def down(self) -> None:
        """Take the service down: its URL stays the same and refuses connections."""
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the base URL, as the service's default is."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} was never started")
        return f"http://127.0.0.1:{self._port}"

    # ----------------------------------------------------------------- answering

    def _respond(self, request: Request) -> Answer:
        method, path, headers = request.method, request.path, request.headers
        body: Any = None
        if request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                body = _INVALID_JSON
        with self._lock:
            answer, fault = self._decide(method, path, request.params, body, headers)
            self._log.append(
                RecordedRequest(
                    method=method,
                    path=path,
                    params=dict(request.params),
                    body=None if body is _INVALID_JSON else body,
                    api_key=headers.get("x-api-key"),
                    user_agent=headers.get("user-agent"),
                    status=answer.status,
                    fault=fault,
                    at=request.arrival,
                )
            )
            return answer

    def _decide(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: Any,
        headers: Mapping[str, str],
    ) -> tuple[Answer, str | None]:
        if self._hangs:
            answer = self._route(method, path, params, body, headers)
            answer.delay = self._hangs.popleft()
            return answer, "hang"
        failure = self._injected_failure()
        if failure is not None:
            return failure, "fail"
        answer = self._route(method, path, params, body, headers)
        if answer.status == HTTPStatus.OK and self._truncate_next:
            self._truncate_next -= 1
            answer.body = answer.body[: len(answer.body) // 2]
            return answer, "truncate"
        return answer, None

    def _error_answer(self, status: int) -> Answer:
        return _recorded_answer(status, self._error_body(status))

    def _error_body(self, status: int) -> bytes:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return json.dumps({"message": phrase}).encode()

    def _route(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: Any,
        headers: Mapping[str, str],
    ) -> Answer:
        raise NotImplementedError


# --------------------------------------------------------------------------- Semantic Scholar


class FakeSemanticScholar(_FakeService):
    """The fake Semantic Scholar Graph API. ``api_key``: the one key it accepts (requests
    without a key are served from the shared pool, as the real service does)."""

    label = "fake-s2"

    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self._records: list[dict[str, Any]] = []
        self._index: dict[str, dict[str, Any]] = {}
        super().__init__()

    def add(self, *records: Mapping[str, Any]) -> None:
        """Serve these papers (``s2_record`` shape or recorded ones), indexed by every id."""
        with self._lock:
            for record in records:
                stored = dict(record)
                self._records.append(stored)
                self._index[str(stored["paperId"]).lower()] = stored
                external = stored.get("externalIds") or {}
                if external.get("ArXiv"):
                    self._index[f"ARXIV:{external['ArXiv']}".lower()] = stored
                if external.get("DOI"):
                    self._index[f"DOI:{_bare_doi(external['DOI'])}".lower()] = stored
                if external.get("CorpusId") is not None:
                    self._index[f"CORPUSID:{external['CorpusId']}".lower()] = stored

    def add_paper(self, paper: Any, **overrides: Any) -> dict[str, Any]:
        """Serve a FakePaper-like paper (see ``s2_record_from``); returns its record."""
        record = s2_record_from(paper, **overrides)
        self.add(record)
        return record

    def get(self, paper_id: str) -> dict[str, Any] | None:
        """The record an id names (any accepted form), or None."""
        with self._lock:
            return self._lookup(paper_id)

    def _lookup(self, paper_id: str) -> dict[str, Any] | None:
        key = paper_id.strip()
        prefix, colon, value = key.partition(":")
        if not colon:
            if key.startswith("10."):
                return self._index.get(f"doi:{_bare_doi(key)}")
            return self._index.get(key.lower())
        if prefix.upper() == "DOI":
            value = _bare_doi(value)
        elif prefix.upper() == "ARXIV":
            value = re.sub(r"v\d+$", "", value)
        return self._index.get(f"{prefix}:{value}".lower())

    def _error_body(self, status: int) -> bytes:
        recorded = {
            429: "s2/error_429_unauthenticated_shared_pool.json",
            500: "s2/batch_500_internal_server_error.json",
            403: "s2/batch_403_forbidden_invalid_api_key.json",
        }
        if status in recorded:
            return fixture_bytes(recorded[status])
        return super()._error_body(status)

    def _fields(self, params: dict[str, str]) -> list[str] | Answer:
        fields = [f.strip() for f in params.get("fields", "title").split(",") if f.strip()]
        unknown = [f for f in fields if f not in S2_FIELDS]
        if unknown:
            message = f"Unrecognized or unsupported fields: [{', '.join(unknown)}]"
            return _json_answer(400, {"error": message})
        return fields

    @staticmethod
    def _project(record: Mapping[str, Any] | None, fields: Iterable[str]) -> Any:
        if record is None:
            return None
        return {"paperId": record["paperId"], **{f: record.get(f) for f in fields}}

    def _route(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: Any,
        headers: Mapping[str, str],
    ) -> Answer:
        key = headers.get("x-api-key")
        if key is not None and key != self.api_key:
            return self._error_answer(403)
        if path == "/graph/v1/paper/batch":
            if method != "POST":
                return _json_answer(405, {"message": "Method Not Allowed"})
            return self._batch(params, body)
        if path == "/graph/v1/paper/search/match":
            return self._match(params)
        return _json_answer(404, {"error": f"Endpoint {path} not found"})

    def _batch(self, params: dict[str, str], body: Any) -> Answer:
        fields = self._fields(params)
        if isinstance(fields, Answer):
            return fields
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return _json_answer(400, {"error": 'Body must be JSON {"ids": [<paper id>, ...]}'})
        if len(ids) > S2_MAX_BATCH:
            message = f"Cannot process more than {S2_MAX_BATCH} ids at once (got {len(ids)})"
            return _json_answer(400, {"error": message})
        return _json_answer(200, [self._project(self._lookup(i), fields) for i in ids])

    def _match(self, params: dict[str, str]) -> Answer:
        fields = self._fields(params)
        if isinstance(fields, Answer):
            return fields
        query = set(_words(params.get("query", "")))
        if not query:
            return _json_answer(400, {"error": "Missing required parameter: 'query'"})
        best: tuple[float, dict[str, Any]] | None = None
        for record in self._records:
            title = set(_words(str(record.get("title") or "")))
            score = len(query & title) / len(query | title) if title else 0.0
            if score >= 0.5 and (best is None or score > best[0]):
                best = (score, record)
        if best is None:
            return _recorded_answer(404, fixture_bytes("s2/match_404_title_not_found.json"))
        hit = {**self._project(best[1], fields), "matchScore": round(100 + 50 * best[0], 5)}
        return _json_answer(200, {"data": [hit]})


# --------------------------------------------------------------------------- OpenAlex


class FakeOpenAlex(_FakeService):
    """The fake OpenAlex API (``/works`` lists)."""

    label = "fake-openalex"

    def __init__(self) -> None:
        self._works: list[dict[str, Any]] = []
        super().__init__()

    def add(self, *works: Mapping[str, Any]) -> None:
        """Serve these works (``openalex_work`` shape or recorded ones)."""
        with self._lock:
            self._works.extend(dict(work) for work in works)

    def add_paper(
        self, paper: Any, cited_by_count: int | None = None, journal: bool = True
    ) -> list[dict[str, Any]]:
        """Serve a FakePaper-like paper's works (see ``openalex_works_from``)."""
        works = openalex_works_from(paper, cited_by_count, journal)
        self.add(*works)
        return works

    @property
    def works(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(work) for work in self._works]

    def _error_body(self, status: int) -> bytes:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return json.dumps({"error": phrase, "message": phrase}).encode()

    @staticmethod
    def _invalid(message: str) -> Answer:
        # The recorded 400 (error_400_invalid_filter_field.json) has exactly these two keys.
        return _json_answer(400, {"error": "Invalid query parameters error.", "message": message})

    def _route(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: Any,
        headers: Mapping[str, str],
    ) -> Answer:
        if path != "/works" or method != "GET":
            return _json_answer(404, {"error": "Not Found", "message": f"{path} not found"})
        filters: list[tuple[str, list[str]]] = []
        for part in params.get("filter", "").split(","):
            if not part.strip():
                continue
            name, _, value = part.partition(":")
            name = name.strip().replace("-", "_").lower()
            if name.replace("_", ".") in OPENALEX_FILTERS:
                name = name.replace("_", ".")
            if name not in OPENALEX_FILTERS:
                valid = ", ".join(sorted(OPENALEX_FILTERS))
                return self._invalid(
                    f"{name} is not a valid field. Valid fields are underscore or hyphenated "
                    f"versions of: {valid}"
                )
            values = value.split("|")
            if len(values) > OPENALEX_MAX_OR_VALUES:
                return self._invalid(
                    f"Maximum number of values exceeded for {name}. Decrease values to "
                    f"{OPENALEX_MAX_OR_VALUES} or below, or consider downloading the full "
                    "dataset at https://docs.openalex.org/download-snapshot"
                )
            filters.append((name, values))
        raw_per_page = params.get("per-page", params.get("per_page", ""))
        raw_page = params.get("page", "1")
        if not (raw_per_page or str(OPENALEX_DEFAULT_PER_PAGE)).isdigit() or not raw_page.isdigit():
            return self._invalid("per-page and page must be integers")
        per_page = int(raw_per_page or OPENALEX_DEFAULT_PER_PAGE)
        page = int(raw_page)
        if not 1 <= per_page <= OPENALEX_MAX_PER_PAGE or page < 1:
            return self._invalid(f"per-page must be between 1 and {OPENALEX_MAX_PER_PAGE}")
        select = [s.strip() for s in params.get("select", "").split(",") if s.strip()]
        known = {key for work in self._works for key in work} | {"relevance_score"}
        unknown = [s for s in select if s not in known]
        if unknown:
            return self._invalid(f"{unknown[0]} is not a valid select field.")

        searching = any(name.endswith(".search") for name, _ in filters)
        prepared = [(name, self._prepare(name, values)) for name, values in filters]
        scored = []
        for work in self._works:
            score = self._score(work, prepared)
            if score is not None:
                scored.append((score, work))
        if searching:
            scored.sort(key=lambda sw: (-sw[0], str(sw[1]["id"])))
        else:
            # Clients must match answers by DOI: never hand back the request order.
            scored.sort(key=lambda sw: _digest(str(sw[1]["id"])))
        shown = scored[(page - 1) * per_page : page * per_page]
        results = []
        for score, work in shown:
            item = {**work, "relevance_score": round(score, 4)} if searching else dict(work)
            results.append({k: item.get(k) for k in select} if select else item)
        meta = {
            "count": len(scored),
            "db_response_time_ms": 9,
            "page": page,
            "per_page": per_page,
            "groups_count": None,
        }
        return _json_answer(200, {"meta": meta, "results": results, "group_by": []})

    @staticmethod
    def _prepare(name: str, values: list[str]) -> list[set[str]]:
        """Each OR-ed value as the set a work is compared with (once per request)."""
        if name == "doi":
            return [{_bare_doi(v) for v in values}]
        if name in ("openalex", "ids.openalex"):
            return [{v.rsplit("/", 1)[-1].lower() for v in values}]
        if name == "publication_year":
            return [set(values)]
        return [set(_words(v)) for v in values]

    @staticmethod
    def _score(work: Mapping[str, Any], filters: list[tuple[str, list[set[str]]]]) -> float | None:
        """None when ``work`` fails a filter; else its relevance (1.0 without a search)."""
        relevance = 1.0
        for name, prepared in filters:
            if name == "doi":
                if _bare_doi(str(work.get("doi") or "")) not in prepared[0]:
                    return None
            elif name in ("openalex", "ids.openalex"):
                if str(work.get("id", "")).rsplit("/", 1)[-1].lower() not in prepared[0]:
                    return None
            elif name == "publication_year":
                if str(work.get("publication_year")) not in prepared[0]:
                    return None
            else:  # title.search, display_name.search: every word of one OR-ed value
                title = set(_words(str(work.get("display_name") or "")))
                if not any(words and words <= title for words in prepared):
                    return None
                relevance = 1000.0 / max(1, len(title))
        return relevance


__all__ = [
    "ARXIV_SOURCE_NAME",
    "FakeOpenAlex",
    "FakeSemanticScholar",
    "RecordedRequest",
    "fixture_bytes",
    "openalex_work",
    "openalex_works_from",
    "s2_record",
    "s2_record_from",
]
