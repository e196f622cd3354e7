"""arXiv's API on top of the shared HTTP layer: its requests, its feed check, its feed parse.

    id_list_query          the query of an id_list request, as arxiv.Client builds it
    check_feed             bytes -> the strictly parsed root, or why it is unusable (pure)
    parse_feed             a checked root -> Feed: the page header and its entries as
                           table columns (pure; Paper records on demand)
    ArxivApi.feed          all network: GET, or POST for long queries; a 400 names the id

No private name of the ``arxiv`` package is used here (nor anywhere in ``pipeline/``): the
package is the reference for what a feed means, and tests/unit/test_arxiv_oracle.py holds
``parse_feed`` equal to its own parse, on every recorded feed and on generated ones.
"""

from __future__ import annotations

import html
import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pyarrow as pa
import requests
from lxml import etree

from pipeline.arrow import column
from pipeline.config import Settings
from pipeline.errors import ArxivBadRequestError
from pipeline.models import Author, Paper
from pipeline.schemas import FETCHED
from pipeline.services.http import Clock, HttpClient, HttpSettings, OnWait, Sleep, Verdict

log = logging.getLogger(__name__)

SERVICE = "arXiv"

MAX_GET_URL_LENGTH = 4000
"""Longer queries go as POST: arXiv answers 414 past roughly 700 ids in a query string."""

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_ENTRY = f"{_ATOM}entry"
_AUTHOR, _NAME, _AFFILIATION = f"{_ATOM}author", f"{_ATOM}name", f"{_ARXIV}affiliation"
_LINK, _CATEGORY, _PRIMARY = f"{_ATOM}link", f"{_ATOM}category", f"{_ARXIV}primary_category"
_ID, _TITLE, _SUMMARY = f"{_ATOM}id", f"{_ATOM}title", f"{_ATOM}summary"
_UPDATED, _PUBLISHED = f"{_ATOM}updated", f"{_ATOM}published"
_COMMENT, _JOURNAL_REF, _DOI = f"{_ARXIV}comment", f"{_ARXIV}journal_ref", f"{_ARXIV}doi"
_BAD_ID = re.compile(r"incorrect id format for ([^\s<]+)")
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_VERSION = re.compile(r"v(\d+)$")


# -- requests (pure) -------------------------------------------------------------------------


def id_list_query(ids: Sequence[str], start: int, max_results: int) -> str:
    """The query string of an id_list request.

    Parameters, order and values are those ``arxiv.Client`` sends for
    ``Search(id_list=ids)``: answers cached by earlier versions stay valid, and arXiv sees
    the request it documents.
    """
    return urlencode(
        {
            "search_query": "",
            "id_list": ",".join(ids),
            "sortBy": "relevance",
            "sortOrder": "descending",
            "start": str(start),
            "max_results": str(max_results),
        }
    )


# -- the feed check (pure) -------------------------------------------------------------------


def check_feed(content: bytes) -> tuple[Any, str | None]:
    """``content``'s strictly parsed root, and why it is not a complete, usable Atom feed
    (None when it is).

    Strict parse (no recovery) so that half a feed is never taken for a whole one; entities
    are not resolved and no network is touched, so an entity bomb or an external entity
    cannot expand. The root is None when the content is not XML at all; use it only when
    the verdict is None.
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=False, load_dtd=False
    )
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as err:
        return None, f"malformed XML ({err.msg})"
    if root is None or root.tag != f"{_ATOM}feed":
        return root, "not an Atom feed"
    if root.getroottree().docinfo.internalDTD is not None:
        # arXiv never sends a DTD; one here can only declare entities (a bomb, or external).
        return root, "the feed carries a DTD (refused: possible entity bomb)"
    for entry in root.iterchildren(_ENTRY):
        problem = entry_problem(entry)
        if problem is not None:
            return root, problem
    no_entries = root.find(_ENTRY) is None
    total = _int_text(root, f"{_OPENSEARCH}totalResults")
    start = _int_text(root, f"{_OPENSEARCH}startIndex")
    if no_entries and total is not None and total > (start or 0):
        return root, f"unexpectedly empty page: 0 entries although totalResults={total}"
    return root, None


MAX_VERSION = 9_999
"""Versions above this are a broken answer (arXiv's most revised papers have a few dozen);
the tables store versions as int32, so an unchecked ``v99999999999`` stopped every run."""


def entry_problem(entry: Any) -> str | None:
    """Why an entry would break the run downstream (a date that does not parse, a version
    out of range), or None.

    Such an entry makes the whole page a broken answer: retried, never cached, and after
    the last attempt a failed run with one line (recorded in runs.parquet). Refusing the
    page rather than one entry, because arXiv builds every entry from the same database:
    an unreadable one means a proxy, a mirror or a fault mangled the answer, and a retry or
    a later run can get it whole; an entry dropped as ``invalid`` would instead publish a
    listed paper as missing. Entries without an id or a date stay what the ``arxiv``
    package makes of them (skipped by ``parse_feed`` with a warning).
    """
    entry_id = entry.findtext(_ID)
    if entry_id:
        if len(entry_id) > 200:
            return f"an entry id of {len(entry_id)} characters"
        _, version = split_version(entry_id.strip())
        if not 1 <= version <= MAX_VERSION:
            return f"entry {_clip(entry_id)}: version {version} out of range 1-{MAX_VERSION}"
    for tag, name in ((_PUBLISHED, "published"), (_UPDATED, "updated")):
        text = entry.findtext(tag)
        if text is None:
            continue
        try:
            _timestamp(text)
        except (ValueError, OverflowError):
            return f"entry {_clip(entry_id or '?')}: <{name}> {_clip(text)!r} is not a date"
    return None


def _clip(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def feed_verdict(response: requests.Response) -> Verdict:
    """``check_feed`` for the HTTP layer: the root travels with the answer, parsed once."""
    root, problem = check_feed(response.content)
    return Verdict(parsed=root if problem is None else None, problem=problem)


def _int_text(root: Any, path: str) -> int | None:
    node = root.find(path)
    try:
        return int(node.text.strip()) if node is not None and node.text else None
    except ValueError:
        return None


# -- the checked tree -> columns (pure) ------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    """One page of an arXiv answer.

    The header follows the API manual's ``opensearch`` elements (a missing or malformed
    number reads 0, as the ``arxiv`` package reads it).
    """

    total_results: int
    """``<opensearch:totalResults>``: results of the whole query, over every page."""
    start_index: int
    """``<opensearch:startIndex>``: the first result on this page, 0-based."""
    items_per_page: int
    """``<opensearch:itemsPerPage>``."""
    table: pa.Table
    """The page's entries in feed order, one ``schemas.FETCHED`` row each; entries without
    an id or a date are skipped."""

    @property
    def papers(self) -> list[Paper]:
        """The page's entries as Paper records (title searches want records)."""
        return papers_from_table(self.table)


Row = tuple[Any, ...]
"""One entry's values in ``_ROW`` order."""

_ROW = (
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "authors",
    "published",
    "updated",
    "primary_category",
    "categories",
    "doi",
    "journal_ref",
    "comment",
    "abs_url",
    "pdf_url",
    "affiliations",
    "fetched_at",
)
"""``FETCHED``'s columns, in the order an entry's row holds them."""


def parse_feed(root: Any, fetched_at: datetime) -> Feed:
    """A feed ``check_feed`` accepted -> its header and its entries as table columns.

    Read as the ``arxiv`` package reads a feed (the first child of each kind counts; an
    entry without ``<id>``, ``<updated>`` or ``<published>`` is skipped with a warning;
    a naive date is UTC), then cleaned as our tables want it (see ``clean_text``), in one
    pass over each entry's children. No record per entry: a page goes straight to columns.
    """
    rows = [
        row
        for entry in root.iterchildren(_ENTRY)
        if (row := _entry_row(entry, fetched_at)) is not None
    ]
    return Feed(
        total_results=_header_int(root, f"{_OPENSEARCH}totalResults"),
        start_index=_header_int(root, f"{_OPENSEARCH}startIndex"),
        items_per_page=_header_int(root, f"{_OPENSEARCH}itemsPerPage"),
        table=fetched_table(rows),
    )


def fetched_table(rows: Sequence[Row]) -> pa.Table:
    """Entry rows (``_ROW`` order) -> a ``FETCHED`` table."""
    if not rows:
        return pa.Table.from_batches([], schema=FETCHED)
    columns = dict(zip(_ROW, zip(*rows, strict=True), strict=True))
    arrays = [column(columns[f.name], f.type) for f in FETCHED]
    return pa.Table.from_arrays(arrays, schema=FETCHED)


def paper_row(paper: Paper) -> Row:
    """A Paper record -> its entry row (``_ROW`` order), as ``parse_feed`` reads one."""
    return (
        paper.arxiv_id,
        paper.version,
        paper.title,
        paper.abstract,
        [a.name for a in paper.authors],
        paper.published,
        paper.updated,
        paper.primary_category,
        list(paper.categories),
        paper.doi,
        paper.journal_ref,
        paper.comment,
        paper.abs_url,
        paper.pdf_url,
        [list(a.affiliations) for a in paper.authors],
        paper.fetched_at,
    )


def papers_from_table(table: pa.Table) -> list[Paper]:
    """``FETCHED`` rows -> Paper records."""
    papers = []
    for row in table.to_pylist():
        names, affiliations = row.pop("authors"), row.pop("affiliations")
        row["authors"] = tuple(
            Author(name, tuple(affs)) for name, affs in zip(names, affiliations, strict=True)
        )
        row["categories"] = tuple(row["categories"])
        papers.append(Paper(**row))
    return papers


def _header_int(root: Any, tag: str) -> int:
    value = _int_text(root, tag)
    return 0 if value is None else value


def _entry_row(entry: Any, fetched_at: datetime) -> Row | None:
    texts: dict[Any, str | None] = {}
    names: list[str] = []
    affiliations: list[list[str]] = []
    pdf_urls: list[str] = []
    categories: list[str] = []
    primary: Any = None
    for child in entry:
        tag = child.tag
        if tag == _AUTHOR:
            name, affs = _author(child)
            names.append(name)
            affiliations.append(affs)
        elif tag == _LINK:
            href = child.get("href")
            if href is not None and child.get("title") == "pdf":
                pdf_urls.append(href)
        elif tag == _CATEGORY:
            term = child.get("term")
            if term is not None:
                categories.append(term)
        elif tag == _PRIMARY:
            if primary is None:
                primary = child
        elif tag not in texts:
            texts[tag] = child.text
    entry_id = texts.get(_ID)
    if not entry_id:
        log.warning("Skipping entry without <id>")
        return None
    updated = _timestamp(texts.get(_UPDATED))
    published = _timestamp(texts.get(_PUBLISHED))
    if updated is None or published is None:
        missing = "updated" if updated is None else "published"
        log.warning("Skipping entry %s missing <%s>", entry_id, missing)
        return None
    if len(pdf_urls) > 1:
        log.warning("Result has multiple PDF links; using %s", pdf_urls[0])
    arxiv_id, version = split_version(entry_id)
    journal_ref, comment = texts.get(_JOURNAL_REF), texts.get(_COMMENT)
    return (
        arxiv_id,
        version,
        clean_text(texts.get(_TITLE) or ""),
        clean_text(texts.get(_SUMMARY) or ""),
        names,
        published,
        updated,
        (primary.get("term") if primary is not None else "") or "",
        categories,
        texts.get(_DOI),
        clean_text(journal_ref) if journal_ref else None,
        clean_text(comment) if comment else None,
        entry_id,
        pdf_urls[0] if pdf_urls else None,
        affiliations,
        fetched_at,
    )


def _author(element: Any) -> tuple[str, list[str]]:
    name: str | None = None
    affiliations: list[str] = []
    for child in element:
        tag = child.tag
        if tag == _NAME:
            if name is None:
                name = child.text or ""
        elif tag == _AFFILIATION and child.text is not None:
            affiliations.append(child.text)
    return clean_text(name or ""), affiliations


def _timestamp(text: str | None) -> datetime | None:
    # RFC 3339; a naive time is UTC; returned in UTC.
    if text is None:
        return None
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def split_version(entry_id: str) -> tuple[str, int]:
    """``http://arxiv.org/abs/2304.05977v2`` -> (``2304.05977``, 2)."""
    short = entry_id.split("/abs/", 1)[-1]
    match = _VERSION.search(short)
    if not match:
        return short, 1
    return short[: match.start()], int(match.group(1))


def clean_text(text: str) -> str:
    """Collapse whitespace and decode entities left in the text; LaTeX stays as it is."""
    # str.split() splits at exactly the characters ``\s`` matches (str.isspace).
    return " ".join(html.unescape(text).split())


# -- the edge --------------------------------------------------------------------------------


def http_settings(settings: Settings) -> HttpSettings:
    return HttpSettings(
        cache_path=settings.http_cache_path,
        cache_ttl_hours=settings.cache_ttl_hours,
        user_agent=settings.user_agent,
        default_delay=settings.delay,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retry_budget=settings.max_retry_seconds,
        offline=settings.offline,
        request_deadline=settings.request_deadline,
        max_response_bytes=settings.max_response_bytes,
    )


class ArxivApi:
    """All traffic to the arXiv API goes through one of these (and its HttpClient)."""

    def __init__(
        self,
        settings: Settings,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
        http: HttpClient | None = None,
        on_wait: OnWait | None = None,
    ) -> None:
        self.settings = settings
        self.url = settings.api_url
        self.http = http or HttpClient(http_settings(settings), sleep, clock, rng, on_wait)
        self.http.set_delay(self.url, settings.delay)
        self.http.add_validator(self.url, feed_verdict)
        self.stats = self.http.stats

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ArxivApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def feed(self, query: str, fetched_at: datetime, refresh: bool = False) -> Feed:
        """The page of a complete Atom feed answering ``query`` (a URL-encoded query string),
        retrying transient failures.

        Sent as GET, or as POST with the same form fields when the URL would be longer than
        ``MAX_GET_URL_LENGTH``. ``refresh`` skips a fresh cached answer (a re-check must see
        new versions). A 400 error feed raises ArxivBadRequestError naming the id arXiv
        refused; it is never retried.
        """
        url = f"{self.url}?{query}"
        kwargs: dict[str, Any] = {}
        method = "GET"
        if len(url) > MAX_GET_URL_LENGTH:
            url, method, kwargs = self.url, "POST", {"data": query, "headers": _FORM}
        answer = self.http.answer(
            method, url, service=SERVICE, refresh=refresh, final_statuses=(400,), **kwargs
        )
        if answer.response.status_code == 400:
            raise bad_request(url, answer.response.content)
        return parse_feed(answer.parsed, fetched_at)

    def get_text(self, url: str) -> str:
        """A text document (a remote list) through the same cache, limiter and retries."""
        return self.http.get_text(url, service="the list server")


def bad_request(url: str, content: bytes) -> ArxivBadRequestError:
    """A 400 error feed -> the error naming the id arXiv refused (when it names one)."""
    text = content.decode("utf-8", "replace")
    match = _BAD_ID.search(text)
    summary = re.search(r"<summary>(.*?)</summary>", text, re.S)
    message = summary.group(1).strip() if summary else "HTTP 400"
    return ArxivBadRequestError(url, match.group(1) if match else None, message)
