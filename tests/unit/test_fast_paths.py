"""The fast paths of a cold refresh equal the straightforward code they replaced.

Each reference below is the earlier implementation, kept here verbatim so that a later
"optimisation" cannot drift from it unnoticed: the record builder (fetch), the column-wise
tables (tables) and the title comparison (resolve).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import arxiv
import pyarrow as pa
from arxiv import _feed
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from pipeline.models import Author, Paper
from pipeline.resolve import (
    MISMATCH_BELOW,
    SUBTITLE_PENALTY,
    _split_subtitle,
    check_link,
    normalize_title,
    title_similarity,
)
from pipeline.schemas import AUTHORS, PAPERS
from pipeline.services.arxiv import (
    _timestamp,
    check_feed,
    clean_text,
    clean_texts,
    fetched_table,
    paper_row,
    parse_feed,
    split_version,
)
from pipeline.store.tables import authors_table, build_table, conform
from tests import fake_arxiv
from tests.fake_arxiv import FakePaper

FIXTURES = Path(__file__).parent.parent / "fixtures"
FETCHED = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)
_SPACE = re.compile(r"\s+")
_VERSION = re.compile(r"v(\d+)$")

# Pieces of text: every kind of whitespace str.isspace knows, entities, any character.
_SPACES = " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2003\u2028\u3000\u200b"
PIECE = st.sampled_from([*_SPACES, "&amp;", "&lt;", "&#x41;", "&", "a", "\xe9", "$", "v1"]) | (
    st.characters()
)


def _old_clean_text(text: str) -> str:
    if "&" in text:
        text = html.unescape(text)
    return _SPACE.sub(" ", text).strip()


def _old_split_version(entry_id: str) -> tuple[str, int]:
    short = entry_id.split("/abs/", 1)[-1]
    match = _VERSION.search(short)
    if not match:
        return short, 1
    return short[: match.start()], int(match.group(1))


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECE, max_size=12).map("".join))
def test_clean_text_equals_the_regex_version(text: str) -> None:
    assert clean_text(text) == _old_clean_text(text)


def test_str_split_whitespace_is_regex_whitespace() -> None:
    # What clean_text relies on, over every code point.
    every = [chr(c) for c in range(0x110000)]
    assert [c for c in every if c.isspace()] == [c for c in every if _SPACE.fullmatch(c)]


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["http://arxiv.org/abs/", "https://arxiv.org/abs/", "", "x/abs/y/abs/"]),
    st.sampled_from(["2304.05977", "hep-th/9901001", "v", "vv", "", "2304.05977v"]),
    st.sampled_from(["v1", "v12", "v007", "v\u0661\u0662", "v1\n", "v1x", "v", "V2", "", "v²"]),
)
def test_split_version_equals_the_regex_version(prefix: str, short: str, suffix: str) -> None:
    entry_id = prefix + short + suffix
    assert split_version(entry_id) == _old_split_version(entry_id)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.none() | st.lists(PIECE, max_size=12).map("".join), max_size=8))
def test_clean_texts_is_clean_text_of_each(texts: list[str | None]) -> None:
    assert clean_texts(texts) == [None if t is None else clean_text(t) for t in texts]


def _old_timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _reading(read: object, text: str) -> object:
    try:
        return read(text)  # type: ignore[operator]
    except (ValueError, OverflowError) as err:
        return type(err)


_ARXIV_DATES = st.datetimes(
    min_value=datetime(1, 1, 1),  # noqa: DTZ001
    max_value=datetime(9999, 12, 31, 23, 59, 59),  # noqa: DTZ001
).map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d:%H:%M:%S}Z")


@settings(max_examples=500, deadline=None)
@given(
    _ARXIV_DATES,
    st.integers(0, 19),
    st.sampled_from(["", "Z", " ", "T", "0", "9", "+", "-", ":", "\u0661", "\n", "60", "2"]),
)
def test_timestamp_fast_path_equals_the_general_reading(text: str, at: int, put: str) -> None:
    # arXiv's own form, and every one-character change of it (the fast path's edges).
    for variant in (text, text[:at] + put + text[at + 1 :], "  " + text[2:], text[1:] + " "):
        assert _reading(_timestamp, variant) == _reading(_old_timestamp, variant), variant


def _old_paper_from_result(r: arxiv.Result, fetched_at: datetime) -> Paper:
    arxiv_id, version = _old_split_version(r.entry_id)
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=_old_clean_text(r.title),
        abstract=_old_clean_text(r.summary),
        authors=tuple(
            Author(name=_old_clean_text(a.name), affiliations=tuple(a.affiliation))
            for a in r.authors
        ),
        published=r.published.astimezone(UTC),
        updated=r.updated.astimezone(UTC),
        primary_category=r.primary_category,
        categories=tuple(r.categories),
        doi=r.doi,
        journal_ref=_old_clean_text(r.journal_ref) if r.journal_ref else None,
        comment=_old_clean_text(r.comment) if r.comment else None,
        abs_url=r.entry_id,
        pdf_url=r.pdf_url,
        fetched_at=fetched_at,
    )


def _fixture_papers() -> list[Paper]:
    """Every paper of the recorded feeds and of two synthetic fake feeds, each built both ways."""
    bodies = [p.read_bytes() for p in sorted((FIXTURES / "atom").glob("*.xml"))]
    ids = [f"2304.{n:05d}" for n in range(1, 80)] + ["hep-th/9901001", "cond-mat/0102003"]
    papers = [FakePaper.synthetic(i, version=1 + n % 4) for n, i in enumerate(ids)]
    papers.append(FakePaper.synthetic("2304.09999", authors=()))  # no authors at all
    for wrap in (True, False):
        bodies.append(
            fake_arxiv._render_feed(
                search_query="",
                id_list=",".join(p.arxiv_id for p in papers),
                start=0,
                max_results=len(papers),
                total=len(papers),
                now=FETCHED,
                entries=papers,
                wrap=wrap,
            )
        )
    records = []
    for body in bodies:
        root, problem = check_feed(body)
        assert problem is None
        papers = parse_feed(root, FETCHED).papers
        reference = [_old_paper_from_result(r, FETCHED) for r in _feed.parse(body).results]
        assert papers == reference
        records += papers
    assert len(records) > 150
    return records


def test_parse_feed_equals_the_earlier_builder() -> None:
    _fixture_papers()  # asserts record by record


def _assert_identical(fast: pa.Table, slow: pa.Table) -> None:
    assert fast.schema.equals(slow.schema, check_metadata=True)
    assert fast.equals(slow, check_metadata=True)
    assert fast.to_pylist() == slow.to_pylist()


def _paper_rows(papers: list[Paper]) -> list[dict[str, object]]:
    return [
        {
            "arxiv_id": p.arxiv_id,
            "version": p.version,
            "title": p.title,
            "abstract": p.abstract,
            "authors": [a.name for a in p.authors],
            "published": p.published,
            "updated": p.updated,
            "primary_category": p.primary_category,
            "categories": list(p.categories),
            "doi": p.doi,
            "journal_ref": p.journal_ref,
            "comment": p.comment,
            "abs_url": p.abs_url,
            "pdf_url": p.pdf_url,
            "fetched_at": p.fetched_at,
        }
        for p in papers
    ]


def _author_rows(papers: list[Paper]) -> list[dict[str, object]]:
    return [
        {
            "arxiv_id": p.arxiv_id,
            "position": position,
            "name": author.name,
            "affiliations": list(author.affiliations),
        }
        for p in papers
        for position, author in enumerate(p.authors)
    ]


def _fetched(papers: list[Paper]) -> pa.Table:
    return fetched_table([paper_row(p) for p in papers])


def test_papers_and_authors_tables_equal_the_row_built_ones() -> None:
    papers = _fixture_papers()
    fetched = _fetched(papers)
    _assert_identical(conform(fetched, PAPERS), build_table(_paper_rows(papers), PAPERS))
    _assert_identical(authors_table(fetched), build_table(_author_rows(papers), AUTHORS))
    # Several chunks, a slice (offsets not starting at 0), and the empty cases (no papers;
    # papers without authors).
    chunked = pa.concat_tables([_fetched(papers[:7]), _fetched(papers[7:])])
    _assert_identical(authors_table(chunked), build_table(_author_rows(papers), AUTHORS))
    _assert_identical(
        authors_table(fetched.slice(5, 20)), build_table(_author_rows(papers[5:25]), AUTHORS)
    )
    _assert_identical(conform(_fetched([]), PAPERS), build_table([], PAPERS))
    _assert_identical(authors_table(_fetched([])), build_table([], AUTHORS))
    lone = [p for p in papers if not p.authors]
    assert lone
    _assert_identical(authors_table(_fetched(lone)), build_table([], AUTHORS))


def _old_title_similarity(listed: str, arxiv_title: str) -> float:
    a, b = normalize_title(listed), normalize_title(arxiv_title)
    if not a or not b:
        return 0.0
    score = float(fuzz.ratio(a, b))
    split_a, split_b = _split_subtitle(listed), _split_subtitle(arxiv_title)
    pairs = [(a, split_b)] if split_a is None and split_b else []
    pairs += [(b, split_a)] if split_b is None and split_a else []
    for whole, parts in pairs:
        part_ratio = max(fuzz.ratio(whole, part) for part in parts)
        score = max(score, 100.0 - 2 * (100.0 - part_ratio) - SUBTITLE_PENALTY)
    return round(score, 1)


def _recorded_titles() -> list[tuple[str, str]]:
    pairs = []
    for line in (FIXTURES / "titles" / "pairs.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        _, _, a, b, _, _ = line.split("\t")
        pairs += [(a, b), (b, a), (a, a), (b, b)]
    return pairs


def _assert_same_check(listed: str, arxiv_title: str) -> None:
    expected = _old_title_similarity(listed, arxiv_title)
    assert title_similarity(listed, arxiv_title) == expected
    check = check_link(listed, arxiv_title)
    if normalize_title(listed):
        assert (check.title_similarity, check.title_mismatch) == (
            expected,
            expected < MISMATCH_BELOW,
        )
    else:
        assert (check.title_similarity, check.title_mismatch) == (0.0, False)


def test_title_similarity_equals_the_earlier_one_on_recorded_titles() -> None:
    titles = _recorded_titles()
    assert len(titles) > 50
    for listed, arxiv_title in titles:
        _assert_same_check(listed, arxiv_title)


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.sampled_from(list("ab :-\u2013\u2014$\\{}&\xe9 ")), max_size=20),
    st.text(st.sampled_from(list("ab :-\u2013\u2014$\\{}&\xe9 ")), max_size=20),
)
def test_title_similarity_equals_the_earlier_one_on_any_text(a: str, b: str) -> None:
    _assert_same_check(a, b)
    _assert_same_check(a, a)
