"""arXiv's API on top of the shared HTTP layer: its requests, its feed check, its feed parse.

    id_list_query          the query of an id_list request, as arxiv.Client builds it
    check_feed             bytes -> the page checked and read to columns in one walk of
                           the strictly parsed tree (CheckedFeed), or why it is unusable
                           (pure; it is the HTTP layer's validator, so what is cached
                           was read whole)
    parse_feed             a CheckedFeed -> Feed: the page header and its entries as a
                           table stamped fetched_at (pure; Paper records on demand)
    ArxivApi.feed          all network: GET, or POST for long queries; a 400 names the id

No private name of the ``arxiv`` package is used here (nor anywhere in ``pipeline/``): the
package is the reference for what a feed means, and tests/unit/test_arxiv_oracle.py holds
``parse_feed`` equal to its own parse, on every recorded feed and on generated ones.
"""

from __future__ import annotations

import contextlib
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

from pipeline.arrow import column, constant, lists
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


# -- the feed check, and the read of the entries in the same walk (pure) -------------------


@dataclass(frozen=True)
class CheckedFeed:
    """A feed ``check_feed`` accepted, its entries already read in the walk that checked
    them: the header, and every column of ``FETCHED`` but ``fetched_at`` (Arrow arrays, a
    few bytes per value, not the parsed tree: this is what an answer carries until used)."""

    total_results: int
    start_index: int
    items_per_page: int
    columns: dict[str, pa.Array]
    num_rows: int
    warnings: tuple[tuple[str, tuple[Any, ...]], ...]
    """What the ``arxiv`` package warns while reading the page (entries it skips, several
    PDF links): logged by ``parse_feed`` when the page is used, not when an answer is
    judged, so that an answer refused or judged again does not repeat them."""


def check_feed(content: bytes) -> tuple[CheckedFeed | None, str | None]:
    """``content`` read as a complete, usable Atom feed, or why it is not one (the feed is
    None then).

    Strict parse (no recovery) so that half a feed is never taken for a whole one; entities
    are not resolved and no network is touched, so an entity bomb or an external entity
    cannot expand. Each entry is checked (``entry_problem``) and read to columns in the one
    walk over its children; the tree is dropped on return.

    The blank text between elements is not kept (a fifth of the read's time at 2,000
    entries a page): nothing reads it. libxml2 keeps blank text that is all of an element's
    content (``<title> </title>``), what a blank field looks like; it would also drop the
    blanks before a carriage return or a CDATA section in a field (``<name> \\r</name>``),
    so a page with either keeps all its blank text.
    """
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        recover=False,
        load_dtd=False,
        remove_blank_text=b"\r" not in content and b"<![CDATA[" not in content,
    )
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as err:
        return None, f"malformed XML ({err.msg})"
    if root is None or root.tag != f"{_ATOM}feed":
        return None, "not an Atom feed"
    if root.getroottree().docinfo.internalDTD is not None:
        # arXiv never sends a DTD; one here can only declare entities (a bomb, or external).
        return None, "the feed carries a DTD (refused: possible entity bomb)"
    page = _PageReader()
    problem = page.read_all(root)
    if problem is not None:
        return None, problem
    total = _int_text(root, f"{_OPENSEARCH}totalResults")
    start = _int_text(root, f"{_OPENSEARCH}startIndex")
    if not page.entries and total is not None and total > (start or 0):
        return None, f"unexpectedly empty page: 0 entries although totalResults={total}"
    per_page = _header_int(root, f"{_OPENSEARCH}itemsPerPage")
    del root  # the tree is not needed to build the columns: not both in memory at once
    return page.checked(
        0 if total is None else total, 0 if start is None else start, per_page
    ), None


MAX_VERSION = 9_999
"""Versions above this are a broken answer (arXiv's most revised papers have a few dozen);
the tables store versions as int32, so an unchecked ``v99999999999`` stopped every run."""


def entry_problem(entry_id: str, version: int) -> str | None:
    """Why an entry's id (its first ``<id>``'s text, of ``version`` once stripped) would
    break the run downstream (an absurd length, a version out of range), or None;
    ``_entry_dates`` checks its dates.

    Such an entry makes the whole page a broken answer: retried, never cached, and after
    the last attempt a failed run with one line (recorded in runs.parquet). Refusing the
    page rather than one entry, because arXiv builds every entry from the same database:
    an unreadable one means a proxy, a mirror or a fault mangled the answer, and a retry or
    a later run can get it whole; an entry dropped as ``invalid`` would instead publish a
    listed paper as missing. Entries without an id or a date stay what the ``arxiv``
    package makes of them (skipped by ``parse_feed`` with a warning).
    """
    if len(entry_id) > 200:
        return f"an entry id of {len(entry_id)} characters"
    if not 1 <= version <= MAX_VERSION:
        return f"entry {_clip(entry_id)}: version {version} out of range 1-{MAX_VERSION}"
    return None


_Dates = tuple[datetime | None, datetime | None]


def _entry_dates(entry_id: str | None, texts: dict[Any, str | None]) -> _Dates | str:
    """An entry's (published, updated), None where it has no such child, or why a date it
    has (an empty one too) makes its page a broken answer (see ``entry_problem``)."""
    dates: list[datetime | None] = []
    for tag, name in ((_PUBLISHED, "published"), (_UPDATED, "updated")):
        if tag not in texts:
            dates.append(None)
            continue
        text = texts[tag] or ""
        try:
            dates.append(_timestamp(text))
        except (ValueError, OverflowError):
            return f"entry {_clip(entry_id or '?')}: <{name}> {_clip(text)!r} is not a date"
    return dates[0], dates[1]


def _clip(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def feed_verdict(response: requests.Response) -> Verdict:
    """``check_feed`` for the HTTP layer: the page, read, travels with the answer."""
    checked, problem = check_feed(response.content)
    return Verdict(parsed=checked, problem=problem)


def _int_text(root: Any, path: str) -> int | None:
    node = root.find(path)
    try:
        return int(node.text.strip()) if node is not None and node.text else None
    except ValueError:
        return None


def _header_int(root: Any, tag: str) -> int:
    value = _int_text(root, tag)
    return 0 if value is None else value


_Fields = tuple[dict[Any, str | None], list[str], list[list[str]], list[str], list[str], str]


def _entry_fields(entry: Any) -> _Fields:
    """One walk over an entry's children, read as the ``arxiv`` package reads them: the
    text of the first child of each other kind (id, dates, title, ...), each author's
    first name and affiliations, the PDF links, the category terms, the first primary
    category's term."""
    texts: dict[Any, str | None] = {}
    names: list[str] = []
    affiliations: list[list[str]] = []
    pdf_urls: list[str] = []
    categories: list[str] = []
    primary: Any = None
    for child in entry:
        tag = child.tag
        if tag == _AUTHOR:
            name: str | None = None
            affs: list[str] = []
            for part in child:
                kind = part.tag
                if kind == _NAME:
                    if name is None:
                        name = part.text or ""
                elif kind == _AFFILIATION:
                    text = part.text
                    if text is not None:
                        affs.append(text)
            names.append(name or "")
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
                primary = child.get("term") or ""
        elif tag not in texts:
            texts[tag] = child.text
    return texts, names, affiliations, pdf_urls, categories, primary or ""


class _PageReader:
    """A page's entries, checked and read one at a time into columns of raw values
    (cleaned and made Arrow arrays once, by ``checked``)."""

    def __init__(self) -> None:
        self.entries = 0
        self.warnings: list[tuple[str, tuple[Any, ...]]] = []
        self.rows: list[tuple[Any, ...]] = []
        self.names: list[str] = []
        self.author_counts: list[int] = []
        self.affiliations: list[str] = []
        self.affiliation_counts: list[int] = []
        self.categories: list[str] = []
        self.category_counts: list[int] = []

    def read_all(self, root: Any) -> str | None:
        """Reads the feed's entries in order, or says why the first broken one breaks it."""
        for entry in root.iterchildren(_ENTRY):
            problem = self.read(entry)
            if problem is not None:
                return problem
        return None

    def read(self, entry: Any) -> str | None:
        """Reads ``entry`` (skipped with a warning when it has no id or date, as the
        ``arxiv`` package skips it), or says why it breaks its page (``entry_problem``)."""
        self.entries += 1
        texts, names, affiliations, pdf_urls, categories, primary = _entry_fields(entry)
        entry_id = texts.get(_ID)
        if entry_id:
            arxiv_id, version = split_version(entry_id)
            stripped = entry_id.strip()
            checked = version if stripped == entry_id else split_version(stripped)[1]
            problem = entry_problem(entry_id, checked)
            if problem is not None:
                return problem
        dates = _entry_dates(entry_id, texts)
        if isinstance(dates, str):
            return dates
        published, updated = dates
        if not entry_id:
            self.warnings.append(("Skipping entry without <id>", ()))
            return None
        if updated is None or published is None:
            missing = "updated" if updated is None else "published"
            self.warnings.append(("Skipping entry %s missing <%s>", (entry_id, missing)))
            return None
        if len(pdf_urls) > 1:
            self.warnings.append(("Result has multiple PDF links; using %s", (pdf_urls[0],)))
        self.rows.append(
            (
                arxiv_id,
                version,
                texts.get(_TITLE) or "",
                texts.get(_SUMMARY) or "",
                published,
                updated,
                primary,
                texts.get(_DOI),
                texts.get(_JOURNAL_REF) or None,
                texts.get(_COMMENT) or None,
                entry_id,
                pdf_urls[0] if pdf_urls else None,
            )
        )
        self.names += names
        self.author_counts.append(len(names))
        for affs in affiliations:
            self.affiliations += affs
            self.affiliation_counts.append(len(affs))
        self.categories += categories
        self.category_counts.append(len(categories))
        return None

    def checked(self, total_results: int, start_index: int, items_per_page: int) -> CheckedFeed:
        """The entries read, as ``FETCHED`` columns but ``fetched_at``."""
        n = len(self.rows)
        raw: dict[str, Sequence[Any]] = {}
        if n:
            raw = dict(zip(_FLAT, zip(*self.rows, strict=True), strict=True))
        for name in _CLEANED:
            raw[name] = clean_texts(raw.get(name, ()))
        types = {f.name: f.type for f in FETCHED}
        columns = {name: column(raw.get(name, ()), types[name]) for name in _FLAT}
        string = pa.string()
        columns["authors"] = lists(self.author_counts, column(clean_texts(self.names), string))
        columns["categories"] = lists(self.category_counts, column(self.categories, string))
        columns["affiliations"] = lists(
            self.author_counts,
            lists(self.affiliation_counts, column(self.affiliations, string)),
        )
        return CheckedFeed(
            total_results, start_index, items_per_page, columns, n, tuple(self.warnings)
        )


_FLAT = (
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "published",
    "updated",
    "primary_category",
    "doi",
    "journal_ref",
    "comment",
    "abs_url",
    "pdf_url",
)
"""The one-value columns of ``FETCHED``, in the order ``_PageReader`` keeps an entry's."""

_CLEANED = ("title", "abstract", "journal_ref", "comment")
"""The columns ``clean_text`` cleans (and each author's name)."""


# -- the checked page -> a Feed (pure) ------------------------------------------------------


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


def parse_feed(checked: CheckedFeed, fetched_at: datetime) -> Feed:
    """A feed ``check_feed`` accepted -> its header and its entries as a table, each row
    stamped ``fetched_at``; logs the warnings its read gave.

    Read as the ``arxiv`` package reads a feed (the first child of each kind counts; an
    entry without ``<id>``, ``<updated>`` or ``<published>`` is skipped with a warning;
    a naive date is UTC), then cleaned as our tables want it (see ``clean_text``). No
    record per entry: a page goes straight to columns.
    """
    for message, args in checked.warnings:
        log.warning(message, *args)
    if not checked.num_rows:
        table = pa.Table.from_batches([], schema=FETCHED)
        return Feed(checked.total_results, checked.start_index, checked.items_per_page, table)
    columns = dict(checked.columns)
    columns["fetched_at"] = constant(fetched_at, checked.num_rows, _FETCHED_AT)
    return Feed(
        total_results=checked.total_results,
        start_index=checked.start_index,
        items_per_page=checked.items_per_page,
        table=pa.Table.from_arrays([columns[f.name] for f in FETCHED], schema=FETCHED),
    )


_FETCHED_AT = FETCHED.field("fetched_at").type

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
"""``FETCHED``'s columns, in the order a row (``paper_row``) holds them."""


def fetched_table(rows: Sequence[Row]) -> pa.Table:
    """Entry rows (``_ROW`` order) -> a ``FETCHED`` table."""
    if not rows:
        return pa.Table.from_batches([], schema=FETCHED)
    columns = dict(zip(_ROW, zip(*rows, strict=True), strict=True))
    arrays = [column(columns[f.name], f.type) for f in FETCHED]
    return pa.Table.from_arrays(arrays, schema=FETCHED)


def paper_row(paper: Paper) -> Row:
    """A Paper record -> its row (``_ROW`` order), as ``parse_feed`` reads one."""
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


def _timestamp(text: str) -> datetime:
    # RFC 3339; a naive time is UTC; returned in UTC.
    if len(text) == 20 and text[19] == "Z" and text[10] == "T" and text.count("Z") == 1:
        # arXiv's own form, 2023-01-20T20:04:50Z, read as is (fromisoformat takes Z for
        # UTC); what it refuses gets the general reading below.
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(text)
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


def clean_texts(texts: Sequence[str | None]) -> list[str | None]:
    """``clean_text`` of each text (None stays None), without a call per text."""
    return [
        None if t is None else " ".join((html.unescape(t) if "&" in t else t).split())
        for t in texts
    ]


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
