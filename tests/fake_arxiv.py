"""A fake arXiv API: a real HTTP server on 127.0.0.1 that answers ``/api/query`` as arXiv does.

Integration tests run the real HTTP stack (requests, requests-cache, the ``arxiv`` client)
against it, so what it answers follows recorded responses in ``tests/fixtures/atom/``:

* the new (2025+) Atom format: every namespace on the root, an ``arXiv Query:`` title, the
  feed id ``https://arxiv.org/api/<base64 sha1 of the query text>`` (the same hash arXiv uses);
* ``max_results`` defaults to 10 and a page holds at most 2000 entries;
* a malformed id gives HTTP 400 with one error ``<entry>``; a well-formed unknown id is simply
  absent from a 200 answer; answers never come back in request order;
* a GET longer than ``max_url_length`` gives 414, as arXiv does past roughly 700 ids.

On top of that it injects the faults arXiv is known for (5xx and 429 with ``Retry-After``,
unexpectedly empty pages, truncated bodies, resets, hangs) and one it should never send (an
entity bomb), and records every request so tests can assert what a client asked for.

    with FakeArxiv() as fake:
        fake.add(FakePaper.synthetic("2304.05977"))
        fake.fail_next(1, status=503, retry_after=2)
        requests.get(fake.url, params={"id_list": "2304.05977"})
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import textwrap
from collections import deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from lxml import etree

from tests.fake_http import Answer, FakeHTTPService, Request, parse_params

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
ATOM_CONTENT_TYPE = "application/atom+xml; charset=UTF-8"
DEFAULT_MAX_RESULTS = 10
"""What arXiv uses when ``max_results`` is missing: a client that forgets it is truncated."""
PAGE_CAP = 2000
"""arXiv never returns more entries than this in one answer."""

_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7}"
# Only the shape is checked, as arXiv does: 0000.0000 is "well formed" and simply not found.
_BARE_ID_RE = re.compile(rf"{_NEW_ID}|{_OLD_ID}")
_ID_RE = re.compile(rf"(?P<id>{_NEW_ID}|{_OLD_ID})(?:v(?P<version>\d+))?")
_ENTRY_ID_RE = re.compile(r"https?://arxiv\.org/abs/(?P<id>.+?)v(?P<version>\d+)")
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Underscore counts as a separator: arXiv's own examples write au:del_maestro.
_WORD_RE = re.compile(r"[^\W_]+")
_SEARCH_FIELDS = frozenset({"ti", "au", "abs", "co", "jr", "cat", "id", "all"})
_OPERATORS = frozenset({"AND", "OR", "ANDNOT"})


# --------------------------------------------------------------------------- papers


@dataclass(frozen=True)
class FakePaper:
    """One arXiv paper at its latest version, as the fake serves it.

    Field meanings follow the API manual's entry elements:
    https://info.arxiv.org/help/api/user-manual.html#_details_of_atom_results_returned
    """

    arxiv_id: str
    """Identifier without version: new style ``2304.05977`` or old style ``hep-th/9901001``."""
    version: int
    """Latest version number; the entry id is ``http://arxiv.org/abs/<arxiv_id>v<version>``."""
    title: str
    """``<title>``: one line here; the fake wraps it on output when asked to."""
    abstract: str
    """``<summary>``: paragraphs separated by ``"\\n  "`` as the 2025+ API sends them."""
    authors: list[tuple[str, list[str]]]
    """``<author>`` elements in order: (``<name>``, list of ``<arxiv:affiliation>``)."""
    published: datetime
    """``<published>``: when version 1 was submitted (tz-aware UTC; served to the second)."""
    updated: datetime
    """``<updated>``: when the latest version was submitted (tz-aware UTC; to the second)."""
    primary_category: str
    """``<arxiv:primary_category term=...>``, e.g. ``cs.CV``."""
    categories: list[str]
    """Every ``<category term=...>``, the primary one first."""
    doi: str | None = None
    """``<arxiv:doi>``, also rendered as a ``doi`` related link."""
    journal_ref: str | None = None
    """``<arxiv:journal_ref>``."""
    comment: str | None = None
    """``<arxiv:comment>``, the author's free text (pages, figures, venue)."""

    def __post_init__(self) -> None:
        if not _BARE_ID_RE.fullmatch(self.arxiv_id):
            raise ValueError(
                f"FakePaper.arxiv_id must be an arXiv id without version, got {self.arxiv_id!r}"
            )
        if self.version < 1:
            raise ValueError(f"FakePaper.version must be >= 1, got {self.version}")
        for name in ("published", "updated"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"FakePaper.{name} must be timezone-aware (UTC)")

    @classmethod
    def synthetic(
        cls, arxiv_id: str, title: str | None = None, version: int = 1, **fields: Any
    ) -> FakePaper:
        """A deterministic, plausible paper derived from ``arxiv_id``.

        Dates fall in the id's year and month; the abstract has a paragraph break, characters
        XML must escape (``&``, ``<``) and LaTeX (``$\\alpha$``); names and affiliations have
        non-ASCII letters and ``&``. Any other field can be set through ``fields``.
        """
        if not _BARE_ID_RE.fullmatch(arxiv_id):
            raise ValueError(f"synthetic() needs an arXiv id without version, got {arxiv_id!r}")
        pick = _Picker(arxiv_id)
        year, month = _id_year_month(arxiv_id)
        published = datetime(
            year,
            month,
            1 + pick.below(28),
            pick.below(24),
            pick.below(60),
            pick.below(60),
            tzinfo=UTC,
        )
        updated = published
        if version > 1:
            updated = published + timedelta(days=14 * (version - 1), hours=1 + pick.below(23))

        adjective, model, task = pick.choice(_ADJECTIVES), pick.choice(_MODELS), pick.choice(_TASKS)
        if "/" in arxiv_id:
            primary = arxiv_id.split("/")[0]
            categories = [primary] + ([] if pick.below(2) else [pick.choice(_OLD_CROSS_LISTS)])
        else:
            primary = pick.choice(_CATEGORIES)
            others = [c for c in _CATEGORIES if c != primary]
            categories = [primary] + [others[pick.below(len(others))] for _ in range(pick.below(3))]
        categories = list(dict.fromkeys(c for c in categories if c))

        authors = []
        for _ in range(1 + pick.below(4)):
            name = f"{pick.choice(_FIRST_NAMES)} {pick.choice(_LAST_NAMES)}"
            affiliations = [pick.choice(_AFFILIATIONS) for _ in range(pick.below(3))]
            authors.append((name, list(dict.fromkeys(affiliations))))

        doi = journal_ref = None
        if pick.below(2):
            volume = year - 1978
            first_page = 1 + pick.below(900)
            doi = f"10.1109/TPAMI.{year}.{pick.below(10**7):07d}"
            journal_ref = (
                f"IEEE Trans. Pattern Anal. Mach. Intell. {volume} ({year}) "
                f"{first_page}-{first_page + 11}"
            )
        comment = None
        if pick.below(5):
            comment = f"{8 + pick.below(30)} pages, {1 + pick.below(12)} figures"

        abstract = (
            f"We study {model.lower()} for {task.lower()} under an $\\alpha$-divergence "
            f"objective. Our method couples a {adjective.lower()} encoder & a lightweight "
            f"decoder, and stays within <{1 + pick.below(4)}% of an oracle on "
            f"{2 + pick.below(9)} benchmarks while using {2 + pick.below(7)}x less compute."
            "\n  Code & data are released; we discuss limitations and open problems in detail."
        )
        paper = cls(
            arxiv_id=arxiv_id,
            version=version,
            title=title if title is not None else f"{adjective} {model} for {task}",
            abstract=abstract,
            authors=authors,
            published=published,
            updated=updated,
            primary_category=primary,
            categories=categories,
            doi=doi,
            journal_ref=journal_ref,
            comment=comment,
        )
        return replace(paper, **fields) if fields else paper


_ADJECTIVES = [
    "Sparse",
    "Robust",
    "Efficient",
    "Scalable",
    "Self-Supervised",
    "Contrastive",
    "Hierarchical",
    "Equivariant",
]
_MODELS = [
    "Transformers",
    "Diffusion Models",
    "Graph Networks",
    "Neural Fields",
    "State Space Models",
    "Mixture-of-Experts",
]
_TASKS = [
    "Image Segmentation",
    "Long-Context Retrieval",
    "Protein Folding",
    "Video Generation",
    "Robot Manipulation",
    "Speech Recognition",
    "Code Synthesis",
]
_CATEGORIES = ["cs.CV", "cs.LG", "cs.CL", "cs.AI", "cs.RO", "stat.ML", "eess.IV", "q-bio.BM"]
_OLD_CROSS_LISTS = ["math-ph", "gr-qc", "quant-ph", "cond-mat"]
_FIRST_NAMES = ["Ada", "Wei", "Priya", "José", "Łukasz", "Chloé", "Kenji", "Amara", "Søren"]
_LAST_NAMES = ["Nguyen", "Müller", "García", "Okafor", "Kowalski", "Ødegaard", "Chen", "O'Brien"]
_AFFILIATIONS = [
    "Texas A&M University",
    "ETH Zürich",
    "University of Tokyo",
    "Max Planck Institute for Intelligent Systems",
    "Université de Montréal",
]


class _Picker:
    """Deterministic choices from a seed: sha256 is stable across Python versions and runs."""

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._count = 0

    def below(self, n: int) -> int:
        self._count += 1
        digest = hashlib.sha256(f"{self._seed}#{self._count}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % n

    def choice(self, options: list[str]) -> str:
        return options[self.below(len(options))]


def _id_year_month(arxiv_id: str) -> tuple[int, int]:
    digits = arxiv_id.split("/")[-1]
    yy, mm = int(digits[:2]), int(digits[2:4])
    # arXiv started in 1991: old-style 91..99 are the 1990s, everything else this century.
    year = 1900 + yy if yy >= 91 else 2000 + yy
    return year, min(max(mm, 1), 12)


def papers_from_atom(xml: bytes) -> list[FakePaper]:
    """The papers in a recorded arXiv Atom response (legacy or 2025+ format).

    Titles are collapsed to one line. A legacy feed's abstracts were wrapped at 80 columns, so
    they are unwrapped into the 2025+ form (paragraphs joined by ``"\\n  "``); 2025+ abstracts
    are kept verbatim. Raises ValueError on an error feed or an entry without an arXiv id.
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    root = etree.fromstring(xml, parser=parser)
    # The 2025+ format declares every namespace on the root; the legacy one on each element.
    legacy = root.nsmap.get("arxiv") != ARXIV_NS
    ns = {"a": ATOM_NS, "x": ARXIV_NS}
    papers = []
    for entry in root.iter(f"{{{ATOM_NS}}}entry"):
        entry_id = entry.findtext("a:id", "", ns).strip()
        match = _ENTRY_ID_RE.fullmatch(entry_id)
        if match is None:
            raise ValueError(f"entry id {entry_id!r} is not an arXiv abstract URL")
        abstract = entry.findtext("a:summary", "", ns)
        primary = entry.find("x:primary_category", ns)
        papers.append(
            FakePaper(
                arxiv_id=match["id"],
                version=int(match["version"]),
                title=" ".join(entry.findtext("a:title", "", ns).split()),
                abstract=_unwrap(abstract) if legacy else abstract,
                authors=[
                    (
                        author.findtext("a:name", "", ns),
                        [aff.text or "" for aff in author.iterfind("x:affiliation", ns)],
                    )
                    for author in entry.iterfind("a:author", ns)
                ],
                published=_parse_time(entry.findtext("a:published", "", ns)),
                updated=_parse_time(entry.findtext("a:updated", "", ns)),
                primary_category=primary.get("term", "") if primary is not None else "",
                categories=[c.get("term", "") for c in entry.iterfind("a:category", ns)],
                doi=entry.findtext("x:doi", None, ns),
                journal_ref=entry.findtext("x:journal_ref", None, ns),
                comment=entry.findtext("x:comment", None, ns),
            )
        )
    return papers


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).astimezone(UTC)


def _unwrap(text: str) -> str:
    """Legacy wrapped abstract -> 2025+ form: an indented line starts a paragraph."""
    paragraphs: list[str] = []
    for line in text.rstrip().split("\n"):
        if not line.strip():
            continue
        if paragraphs and not line[0].isspace():
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        else:
            paragraphs.append(line.rstrip())
    return "\n".join(paragraphs)


# --------------------------------------------------------------------------- request log


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, and what it answered."""

    method: str
    """``GET`` or ``POST``."""
    path: str
    """The URL path, normally ``/api/query``."""
    params: dict[str, str]
    """Query-string and form parameters (the last value of a repeated one), URL-decoded."""
    id_list: list[str]
    """The comma-separated ``id_list`` split into ids, versions kept."""
    search_query: str
    """``search_query`` as received (URL-decoded), or ``""``."""
    start: int | None
    """``start`` as an int (0 when missing), None when it is not a number."""
    max_results: int | None
    """``max_results`` as an int (10 when missing), None when it is not a number."""
    status: int | None
    """The HTTP status answered (decided on arrival, so a hung request shows the status it
    would have got); None when the connection was reset without an answer."""
    fault: str | None
    """The injected fault: fail, rate_limit, empty, truncate, reset, hang, bomb; or None."""
    user_agent: str | None
    """The ``User-Agent`` header."""
    at: float
    """``time.monotonic()`` when the request arrived."""


# --------------------------------------------------------------------------- server


class FakeArxiv(FakeHTTPService[RecordedRequest]):
    """The fake arXiv API server. Thread-safe; use as a context manager or start()/stop().

    ``wrap_text`` wraps titles and abstracts as the legacy API did (hard newlines before
    column 80, two-space indents; exact on every legacy entry of the recorded corpus), so
    clients must normalise whitespace. The 2025+ API sends one line per paragraph instead,
    which ``wrap_text=False`` reproduces byte for byte.
    """

    label = "fake-arxiv"
    server_header = "fake-arxiv/1.0"

    def __init__(self, *, max_url_length: int = 8000, wrap_text: bool = True) -> None:
        self.max_url_length = max_url_length
        """A GET whose full URL is longer than this is answered 414."""
        self.wrap_text = wrap_text
        self._papers: dict[str, list[FakePaper]] = {}
        self._last_answered: float | None = None
        super().__init__()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/api/query``."""
        if self._server is None:
            raise RuntimeError(
                f"{type(self).__name__} is not running: call start() or use it in a with block"
            )
        return f"http://127.0.0.1:{self._port}/api/query"

    # ----------------------------------------------------------------- papers

    def add(self, *papers: FakePaper) -> None:
        """Serve these papers, replacing any with the same id (and its version history).

        Versions below ``paper.version`` are served too, with the same text and ``updated``
        spread between ``published`` (version 1) and ``paper.updated``.
        """
        with self._lock:
            for paper in papers:
                history = []
                for version in range(1, paper.version):
                    share = (version - 1) / (paper.version - 1)
                    updated = paper.published + (paper.updated - paper.published) * share
                    # Whole seconds: the feed has no finer resolution.
                    updated = updated.replace(microsecond=0)
                    history.append(replace(paper, version=version, updated=updated))
                self._papers[paper.arxiv_id] = [*history, paper]

    def remove(self, arxiv_id: str) -> None:
        """Stop serving a paper (as if withdrawn from the index). KeyError if unknown."""
        with self._lock:
            del self._papers[arxiv_id]

    @property
    def papers(self) -> dict[str, FakePaper]:
        """Every served paper at its latest version, by id (a copy)."""
        with self._lock:
            return {arxiv_id: history[-1] for arxiv_id, history in self._papers.items()}

    def get(self, arxiv_id: str, version: int | None = None) -> FakePaper:
        """The paper as served: its latest version, or the given one. KeyError if unknown."""
        with self._lock:
            history = self._papers[arxiv_id]
            if version is None:
                return history[-1]
            if not 1 <= version <= len(history):
                raise KeyError(f"{arxiv_id}v{version}")
            return history[version - 1]

    def publish_new_version(
        self, arxiv_id: str, title: str | None = None, abstract: str | None = None
    ) -> FakePaper:
        """Add version N+1 (a week after the latest), optionally retitled; returns it."""
        with self._lock:
            history = self._papers[arxiv_id]
            latest = history[-1]
            new = replace(
                latest,
                version=latest.version + 1,
                updated=latest.updated + timedelta(days=7),
                title=latest.title if title is None else title,
                abstract=latest.abstract if abstract is None else abstract,
            )
            history.append(new)
            return new

    # ----------------------------------------------------------------- request log

    @property
    def id_requests(self) -> list[RecordedRequest]:
        """Requests with a non-empty ``id_list``."""
        return [r for r in self.requests if r.id_list]

    @property
    def search_requests(self) -> list[RecordedRequest]:
        """Requests with a non-empty ``search_query``."""
        return [r for r in self.requests if r.search_query.strip()]

    # ----------------------------------------------------------------- faults
    # fail_next, hang_next, truncate_next and clear_faults are FakeHTTPService's.

    def empty_every(self, k: int | None) -> None:
        """Every k-th 200 feed has no entries but the true totalResults (0/None: off)."""
        with self._lock:
            self._empty_every, self._empty_count = k or 0, 0

    def empty_next(self, n: int) -> None:
        """The next ``n`` 200 feeds have no entries but the true totalResults."""
        with self._lock:
            self._empty_next += n

    def truncate_every(self, k: int | None) -> None:
        """Every k-th 200 feed is cut in the middle (malformed XML) (0/None: off)."""
        with self._lock:
            self._truncate_every, self._truncate_count = k or 0, 0

    def min_interval(self, seconds: float | None) -> None:
        """Answer 429 to a request arriving sooner than ``seconds`` after the previous answered
        one (a 429 itself does not count). The clock starts afresh at this call."""
        with self._lock:
            self._min_interval = seconds or 0.0
            self._last_answered = None

    def latency(self, seconds: float | None) -> None:
        """Sleep this long before every answer."""
        with self._lock:
            self._latency = seconds or 0.0

    def reset_next(self, n: int) -> None:
        """Reset the connection (TCP RST, no answer) for the next ``n`` requests."""
        with self._lock:
            self._resets += n

    def bomb_next(self, n: int) -> None:
        """Answer the next ``n`` feed requests with a 200 billion-laughs entity bomb."""
        with self._lock:
            self._bombs += n

    def surplus_next(self, n: int, extra: int, *, duplicates: bool = False) -> None:
        """The next ``n`` id_list feeds put ``extra`` entries nobody asked for (other served
        papers; or, with ``duplicates``, asked ones a second time) ahead of the asked ones,
        so that as many asked entries fall off a page of ``max_results``. totalResults
        counts them all."""
        with self._lock:
            self._surplus.extend([(extra, duplicates)] * n)

    def reject_ids(self, *ids: str) -> None:
        """Answer 400 "incorrect id format" for these ids, as arXiv does for ids whose
        format it refuses although a client's own check let them through."""
        with self._lock:
            self._rejected.update(ids)

    def _reset_faults(self) -> None:
        """clear_faults() here also removes latency, the rate limit and rejected ids."""
        super()._reset_faults()
        self._resets = 0
        self._bombs = 0
        self._empty_next = 0
        self._empty_every = self._empty_count = 0
        self._truncate_every = self._truncate_count = 0
        self._min_interval = 0.0
        self._latency = 0.0
        self._rejected: set[str] = set()
        self._surplus: deque[tuple[int, bool]] = deque()

    # ----------------------------------------------------------------- answering

    def _respond(self, request: Request) -> Answer:
        # arXiv takes a form POST as the same query a GET puts in its URL.
        form: dict[str, str] = {}
        if request.content_type == "application/x-www-form-urlencoded":
            form = parse_params(request.body.decode("utf-8", "replace"))
        method, path, params = request.method, request.path, {**request.params, **form}
        url_length = len(f"http://127.0.0.1:{self._port}{request.target}")
        arrival = request.arrival
        with self._lock:
            start = _int_param(params, "start", 0)
            max_results = _int_param(params, "max_results", DEFAULT_MAX_RESULTS)
            answer, fault = self._decide(method, path, params, url_length, arrival)
            self._log.append(
                RecordedRequest(
                    method=method,
                    path=path,
                    params=dict(params),
                    id_list=_split_ids(params.get("id_list", "")),
                    search_query=params.get("search_query", ""),
                    start=start,
                    max_results=max_results,
                    status=None if answer.status is None else int(answer.status),
                    fault=fault,
                    user_agent=request.headers.get("user-agent"),
                    at=arrival,
                )
            )
            return answer

    def _decide(
        self, method: str, path: str, params: dict[str, str], url_length: int, arrival: float
    ) -> tuple[Answer, str | None]:
        if path != "/api/query":
            return _text_answer(HTTPStatus.NOT_FOUND), None
        # One fault per request, in this order; only resets go unanswered.
        if self._resets:
            self._resets -= 1
            return Answer(status=None), "reset"
        delay = self._latency
        if self._hangs:
            self._last_answered = arrival
            answer, _ = self._query_answer(method, params, url_length)
            answer.delay = delay + self._hangs.popleft()
            return answer, "hang"
        failure = self._injected_failure()
        if failure is not None:
            self._last_answered = arrival
            failure.delay = delay
            return failure, "fail"
        if (
            self._min_interval
            and self._last_answered is not None
            and arrival - self._last_answered < self._min_interval
        ):
            answer = _text_answer(HTTPStatus.TOO_MANY_REQUESTS)
            answer.delay = delay
            return answer, "rate_limit"
        self._last_answered = arrival
        answer, empty_body = self._query_answer(method, params, url_length)
        answer.delay = delay
        if answer.status != HTTPStatus.OK:
            return answer, None
        return self._body_fault(answer, empty_body)

    def _error_answer(self, status: int) -> Answer:
        return _text_answer(status)

    def _body_fault(self, answer: Answer, empty_body: bytes) -> tuple[Answer, str | None]:
        """Corrupt a 200 feed if a body fault is due; every-k counters count every 200 feed."""
        truncate_due = empty_due = False
        if self._truncate_every:
            self._truncate_count += 1
            truncate_due = self._truncate_count % self._truncate_every == 0
        if self._empty_every:
            self._empty_count += 1
            empty_due = self._empty_count % self._empty_every == 0
        if self._bombs:
            self._bombs -= 1
            answer.body = _BILLION_LAUGHS
            return answer, "bomb"
        if self._truncate_next or truncate_due:
            if not truncate_due:
                self._truncate_next -= 1
            answer.body = answer.body[: len(answer.body) // 2]
            return answer, "truncate"
        if self._empty_next or empty_due:
            if not empty_due:
                self._empty_next -= 1
            answer.body = empty_body
            return answer, "empty"
        return answer, None

    def _query_answer(
        self, method: str, params: dict[str, str], url_length: int
    ) -> tuple[Answer, bytes]:
        """The fault-free answer, plus the same feed without entries (for the empty fault)."""
        if method == "GET" and url_length > self.max_url_length:
            return _text_answer(HTTPStatus.REQUEST_URI_TOO_LONG), b""
        now = datetime.now(UTC)
        start = _int_param(params, "start", 0)
        max_results = _int_param(params, "max_results", DEFAULT_MAX_RESULTS)
        message = _paging_error(start, max_results)
        if message is not None or start is None or max_results is None:  # None: narrows types
            return _feed_answer(HTTPStatus.BAD_REQUEST, _render_error(str(message), now)), b""
        raw_ids = _split_ids(params.get("id_list", ""))
        for raw in raw_ids:
            if not _ID_RE.fullmatch(raw) or raw in self._rejected:
                body = _render_error(f"incorrect id format for {raw}", now)
                return _feed_answer(HTTPStatus.BAD_REQUEST, body), b""

        search_query = params.get("search_query", "")
        matches = self._matches(
            raw_ids, search_query, params.get("sortBy", ""), params.get("sortOrder", "")
        )
        if raw_ids and self._surplus:
            matches = self._with_surplus(matches, *self._surplus.popleft())
        page_size = min(max_results, PAGE_CAP)
        render = functools.partial(
            _render_feed,
            search_query=search_query,
            id_list=params.get("id_list", ""),
            start=start,
            max_results=page_size,
            total=len(matches),
            now=now,
        )
        body = render(entries=matches[start : start + page_size], wrap=self.wrap_text)
        return _feed_answer(HTTPStatus.OK, body), render(entries=[], wrap=False)

    def _matches(
        self, raw_ids: list[str], search_query: str, sort_by: str, sort_order: str
    ) -> list[FakePaper]:
        query = _parse_query(search_query) if search_query.strip() else None
        if raw_ids:
            candidates: list[FakePaper] = []
            seen: set[tuple[str, int]] = set()
            for raw in raw_ids:
                match = _ID_RE.fullmatch(raw)
                history = self._papers.get(match["id"]) if match else None
                if match is None or not history:
                    continue
                version = int(match["version"]) if match["version"] else len(history)
                if 1 <= version <= len(history) and (match["id"], version) not in seen:
                    seen.add((match["id"], version))
                    candidates.append(history[version - 1])
        elif search_query.strip():
            candidates = [history[-1] for history in self._papers.values()]
        else:
            candidates = []
        if search_query.strip():
            candidates = [p for p in candidates if query is not None and query.matches(p)]

        descending = sort_order != "ascending"
        if sort_by in ("submittedDate", "lastUpdatedDate"):
            attr = "published" if sort_by == "submittedDate" else "updated"
            ordered = sorted(
                candidates, key=lambda p: (getattr(p, attr), p.arxiv_id), reverse=descending
            )
        else:
            score = query.title_score if query is not None else (lambda p: 0)
            ordered = sorted(candidates, key=lambda p: (-score(p), _shuffle_key(p)))
            if not descending:
                ordered.reverse()
        in_request_order = all(a is b for a, b in zip(ordered, candidates, strict=True))
        if raw_ids and len(ordered) > 1 and in_request_order:
            # Clients must match answers by id: never hand back the request order.
            ordered = ordered[1:] + ordered[:1]
        return ordered

    def _with_surplus(
        self, matches: list[FakePaper], extra: int, duplicates: bool
    ) -> list[FakePaper]:
        if duplicates:
            return matches[:extra] + matches
        asked = {p.arxiv_id for p in matches}
        others = [h[-1] for i, h in sorted(self._papers.items()) if i not in asked]
        return others[:extra] + matches


def _paging_error(start: int | None, max_results: int | None) -> str | None:
    for name, value in (("start", start), ("max_results", max_results)):
        if value is None:
            return f"{name} must be an integer"
        if value < 0:
            return f"{name} must be non-negative"
    return None


def _shuffle_key(paper: FakePaper) -> bytes:
    return hashlib.sha256(f"{paper.arxiv_id}v{paper.version}".encode()).digest()


def _int_param(params: dict[str, str], name: str, default: int) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        return None


def _split_ids(id_list: str) -> list[str]:
    return [part.strip() for part in id_list.split(",") if part.strip()]


def _text_answer(status: int) -> Answer:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return Answer(status=status, body=f"{status} {phrase}\n".encode())


def _feed_answer(status: int, body: bytes) -> Answer:
    return Answer(status=status, body=body, content_type=ATOM_CONTENT_TYPE)


# --------------------------------------------------------------------------- rendering


def _text(value: str) -> str:
    return escape(_XML_ILLEGAL_RE.sub("", value))


def _attr(value: str) -> str:
    return '"' + escape(_XML_ILLEGAL_RE.sub("", value), {'"': "&quot;"}) + '"'


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_FEED_OPEN = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    f'<feed xmlns:opensearch="{OPENSEARCH_NS}" xmlns:arxiv="{ARXIV_NS}" xmlns="{ATOM_NS}">\n'
)


def _render_feed(
    *,
    search_query: str,
    id_list: str,
    start: int,
    max_results: int,
    total: int,
    now: datetime,
    entries: list[FakePaper],
    wrap: bool,
) -> bytes:
    shown_query = search_query
    if re.fullmatch(r'[^\s:()"]+', search_query) and search_query not in _OPERATORS:
        shown_query = f"all:{search_query}"  # arXiv echoes a bare term with its default field
    query_text = (
        f"search_query={shown_query}&id_list={id_list}&start={start}&max_results={max_results}"
    )
    # arXiv's feed id is exactly this hash of the echoed query (checked on recorded feeds).
    digest = hashlib.sha1(query_text.encode(), usedforsecurity=False).digest()
    feed_id = "https://arxiv.org/api/" + base64.b64encode(digest).decode().rstrip("=")
    href = (
        "https://arxiv.org/api/query?search_query="
        + quote(shown_query, safe=":/,").replace("%20", "+")
        + f"&start={start}&max_results={max_results}&id_list={quote(id_list, safe=':/,')}"
    )
    parts = [
        _FEED_OPEN,
        f"  <id>{_text(feed_id)}</id>\n",
        f"  <title>arXiv Query: {_text(query_text)}</title>\n",
        f"  <updated>{_timestamp(now)}</updated>\n",
        f'  <link href={_attr(href)} type="application/atom+xml"/>\n',
        f"  <opensearch:itemsPerPage>{max_results}</opensearch:itemsPerPage>\n",
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n",
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n",
    ]
    parts.extend(_render_entry(paper, wrap) for paper in entries)
    parts.append("</feed>\n")
    return "".join(parts).encode()


def _render_entry(paper: FakePaper, wrap: bool) -> str:
    versioned = f"{paper.arxiv_id}v{paper.version}"
    title = _wrap_title(paper.title) if wrap else paper.title
    summary = _wrap_abstract(paper.abstract) if wrap else paper.abstract
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{_text(versioned)}</id>",
        f"    <title>{_text(title)}</title>",
        f"    <updated>{_timestamp(paper.updated)}</updated>",
        f'    <link href={_attr(f"https://arxiv.org/abs/{versioned}")} rel="alternate"'
        ' type="text/html"/>',
        f'    <link href={_attr(f"https://arxiv.org/pdf/{versioned}")} rel="related"'
        ' type="application/pdf" title="pdf"/>',
        f"    <summary>{_text(summary)}</summary>",
    ]
    lines += [
        f'    <category term={_attr(term)} scheme="http://arxiv.org/schemas/atom"/>'
        for term in paper.categories
    ]
    lines.append(f"    <published>{_timestamp(paper.published)}</published>")
    if paper.comment is not None:
        lines.append(f"    <arxiv:comment>{_text(paper.comment)}</arxiv:comment>")
    lines.append(f"    <arxiv:primary_category term={_attr(paper.primary_category)}/>")
    if paper.journal_ref is not None:
        lines.append(f"    <arxiv:journal_ref>{_text(paper.journal_ref)}</arxiv:journal_ref>")
    for name, affiliations in paper.authors:
        lines += ["    <author>", f"      <name>{_text(name)}</name>"]
        lines += [
            f"      <arxiv:affiliation>{_text(aff)}</arxiv:affiliation>" for aff in affiliations
        ]
        lines.append("    </author>")
    if paper.doi is not None:
        lines.append(f"    <arxiv:doi>{_text(paper.doi)}</arxiv:doi>")
        doi_href = _attr(f"https://doi.org/{paper.doi}")
        lines.append(f'    <link rel="related" href={doi_href} title="doi"/>')
    lines.append("  </entry>\n")
    return "\n".join(lines)


def _render_error(message: str, now: datetime) -> bytes:
    """The 2025+ error feed, byte for byte as recorded apart from the timestamps."""
    error_url = "https://arxiv.org/api/errors#" + message.replace(" ", "_")
    stamp = _timestamp(now)
    return (
        _FEED_OPEN + "  <id>https://arxiv.org/</id>\n"
        "  <title>arXiv Search Results</title>\n"
        f"  <updated>{stamp}</updated>\n"
        "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
        "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        "  <opensearch:startIndex>0</opensearch:startIndex>\n"
        "  <entry>\n"
        f"    <id>{_text(error_url)}</id>\n"
        "    <title>Error</title>\n"
        f"    <updated>{stamp}</updated>\n"
        f'    <link href={_attr(error_url)} rel="alternate" type="text/html"/>\n'
        f"    <summary>{_text(message)}</summary>\n"
        "    <author>\n"
        "      <name>arXiv api core</name>\n"
        "    </author>\n"
        "  </entry>\n"
        "</feed>\n"
    ).encode()


_NO_BREAKS: dict[str, Any] = {"break_long_words": False, "break_on_hyphens": False}


def _wrap_title(title: str) -> str:
    """Legacy API title wrapping: a first line of at most 72 characters, then lines of 79
    indented by two spaces (reproduces every legacy title in the recorded corpus)."""
    words = " ".join(title.split())
    lines = textwrap.wrap(words, width=72, break_long_words=False, break_on_hyphens=False)
    first = lines[0] if lines else ""
    rest = words[len(first) :].strip()
    if not rest:
        return first
    rest = textwrap.fill(rest, width=79, initial_indent="  ", subsequent_indent="  ", **_NO_BREAKS)
    return f"{first}\n{rest}"


def _wrap_abstract(abstract: str) -> str:
    """Legacy API abstract wrapping: each paragraph indented by two spaces and wrapped at 79
    columns, and a final newline (reproduces every legacy abstract in the recorded corpus)."""
    paragraphs = [line.strip() for line in abstract.split("\n") if line.strip()]
    return "".join(
        textwrap.fill(paragraph, width=79, initial_indent="  ", **_NO_BREAKS) + "\n"
        for paragraph in paragraphs
    )


def _billion_laughs() -> bytes:
    entities = ['  <!ENTITY lol0 "lol">']
    entities += [f'  <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE feed [\n'
        + "\n".join(entities)
        + "\n]>\n"
        + _FEED_OPEN.split("\n", 1)[1]
        + "  <title>&lol9;</title>\n"
        "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        "  <entry>\n"
        "    <id>http://arxiv.org/abs/2301.00001v1</id>\n"
        "    <title>&lol9;</title>\n"
        "    <summary>&lol9;</summary>\n"
        "  </entry>\n"
        "</feed>\n"
    ).encode()


_BILLION_LAUGHS = _billion_laughs()


# --------------------------------------------------------------------------- search_query


@dataclass(frozen=True)
class _Leaf:
    field: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class _Op:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Range:
    """``submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]``: version 1 submitted in the window,
    both ends included (GMT, to the minute, as arXiv reads it)."""

    low: str
    high: str

    def matches(self, paper: FakePaper) -> bool:
        return self.low <= paper.published.strftime("%Y%m%d%H%M") <= self.high


_Node = _Leaf | _Op | _Range


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.casefold())


def _contains(haystack: list[str], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(tuple(haystack[i : i + n]) == needle for i in range(len(haystack) - n + 1))


def _field_texts(paper: FakePaper, name: str) -> list[str]:
    if name == "ti":
        return [paper.title]
    if name == "abs":
        return [paper.abstract]
    if name == "au":
        return [author for author, _ in paper.authors]
    if name == "co":
        return [paper.comment or ""]
    if name == "jr":
        return [paper.journal_ref or ""]
    if name == "cat":
        return list(paper.categories)
    if name == "id":
        return [paper.arxiv_id]
    return [
        text
        for other in ("ti", "abs", "au", "co", "jr", "cat")
        for text in _field_texts(paper, other)
    ]


@dataclass(frozen=True)
class _Query:
    """A parsed search_query: boolean tree over (field, phrase) leaves."""

    root: _Node | None

    def matches(self, paper: FakePaper) -> bool:
        return self.root is not None and self._eval(self.root, paper)

    def _eval(self, node: _Node, paper: FakePaper) -> bool:
        if isinstance(node, _Range):
            return node.matches(paper)
        if isinstance(node, _Leaf):
            return any(_contains(_words(t), node.words) for t in _field_texts(paper, node.field))
        left = self._eval(node.left, paper)
        if node.op == "AND":
            return left and self._eval(node.right, paper)
        if node.op == "OR":
            return left or self._eval(node.right, paper)
        return left and not self._eval(node.right, paper)  # ANDNOT

    def title_score(self, paper: FakePaper) -> int:
        """Relevance: how many of the query's (non-negated) words are in the title."""
        title = set(_words(paper.title))
        return len(self._positive_words(self.root) & title)

    def _positive_words(self, node: _Node | None) -> set[str]:
        if node is None:
            return set()
        if isinstance(node, _Range):
            return set()
        if isinstance(node, _Leaf):
            return set(node.words)
        right = set() if node.op == "ANDNOT" else self._positive_words(node.right)
        return self._positive_words(node.left) | right


_TOKEN_RE = re.compile(
    r"\s*(?:(?P<range>submittedDate:\[(?P<low>\d{12})\s+TO\s+(?P<high>\d{12})\])|"
    r'(?P<paren>[()])|"(?P<phrase>[^"]*)"?|(?P<chunk>[^\s()"]+))'
)


def _tokenize(query: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    # A literal "+" is a separator too, as in arXiv's own examples (ti:a+AND+ti:b).
    text = query.replace("+", " ").strip()
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        if match["range"]:
            tokens.append(("range", f"{match['low']} {match['high']}"))
        elif match["paren"]:
            tokens.append((match["paren"], match["paren"]))
        elif match["phrase"] is not None:
            tokens.append(("phrase", match["phrase"]))
        else:
            chunk = match["chunk"]
            prefix, colon, rest = chunk.partition(":")
            if chunk in _OPERATORS:
                tokens.append(("op", chunk))
            elif colon and prefix.lower() in _SEARCH_FIELDS:
                tokens.append(("field", prefix.lower()))
                if rest:
                    tokens.append(("term", rest))
            else:
                tokens.append(("term", chunk))
    return tokens


def _combine(op: str, left: _Node | None, right: _Node | None) -> _Node | None:
    # A side without words (punctuation only, a stray operator) is dropped, as Lucene does.
    if right is None:
        return left
    if left is None:
        return None if op == "ANDNOT" else right
    return _Op(op, left, right)


class _QueryParser:
    """Left to right, all operators equal precedence; adjacent terms are ANDed like arXiv."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def parse(self) -> _Node | None:
        node = self.expression("all")
        while self.pos < len(self.tokens):  # a stray ")" ends an expression early
            self.pos += 1
            node = _combine("AND", node, self.expression("all"))
        return node

    def expression(self, default_field: str) -> _Node | None:
        node = self.operand(default_field)
        while self.pos < len(self.tokens):
            kind, value = self.tokens[self.pos]
            if kind == ")":
                break
            if kind == "op":
                self.pos += 1
                node = _combine(value, node, self.operand(default_field))
            else:
                node = _combine("AND", node, self.operand(default_field))
        return node

    def operand(self, default_field: str) -> _Node | None:
        if self.pos >= len(self.tokens):
            return None
        kind, value = self.tokens[self.pos]
        if kind == ")":
            return None
        self.pos += 1
        if kind == "field":
            return self.operand(value)
        if kind == "(":
            node = self.expression(default_field)
            if self.pos < len(self.tokens) and self.tokens[self.pos][0] == ")":
                self.pos += 1
            return node
        if kind == "range":
            low, high = value.split()
            return _Range(low, high)
        if kind in ("term", "phrase"):
            words = tuple(_words(value))
            return _Leaf(default_field, words) if words else None
        return None  # an operator where an operand belongs


def _parse_query(query: str) -> _Query:
    return _Query(_QueryParser(_tokenize(query)).parse())
