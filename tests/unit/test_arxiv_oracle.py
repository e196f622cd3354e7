"""Our arXiv requests and feed parse, held equal to the ``arxiv`` package's own.

The ``arxiv`` package stays a dependency as the reference for what a feed means. The
pipeline reads feeds itself (``check_feed`` -> ``parse_feed``, straight to table columns,
``schemas.FETCHED``; ``Feed.papers`` reads Paper records back from those columns); this
oracle parses the same bytes with the package and converts its ``arxiv.Result``s to Papers
the way the pipeline did while it used the package (``reference_paper``), so the
column-wise parse is held equal to it field by field.

Private names used here, in the test only: ``arxiv._feed.parse`` (the package's bytes ->
results parser: its public ``Client`` offers it only behind its own network calls) and
``arxiv.Client._format_url`` (how the client turns a Search into a request). An arxiv
upgrade that moves them fails here, not in the pipeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import arxiv
import pytest
from arxiv import _feed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.models import Author, Paper
from pipeline.schemas import FETCHED as FETCHED_SCHEMA
from pipeline.services.arxiv import (
    Feed,
    check_feed,
    clean_text,
    id_list_query,
    parse_feed,
    split_version,
)
from tests import fake_arxiv
from tests.fake_arxiv import FakePaper

ATOM = Path(__file__).parent.parent / "fixtures" / "atom"
FETCHED = datetime(2026, 11, 29, tzinfo=UTC)


def reference_paper(result: arxiv.Result, fetched_at: datetime) -> Paper:
    """An ``arxiv.Result`` -> Paper, as the pipeline converted them (``paper_from_result``)."""
    arxiv_id, version = split_version(result.entry_id)
    journal_ref, comment = result.journal_ref, result.comment
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=clean_text(result.title),
        abstract=clean_text(result.summary),
        authors=tuple(
            Author(name=clean_text(a.name), affiliations=tuple(a.affiliation))
            for a in result.authors
        ),
        published=result.published.astimezone(UTC),
        updated=result.updated.astimezone(UTC),
        primary_category=result.primary_category,
        categories=tuple(result.categories),
        doi=result.doi,
        journal_ref=clean_text(journal_ref) if journal_ref else None,
        comment=clean_text(comment) if comment else None,
        abs_url=result.entry_id,
        pdf_url=result.pdf_url,
        fetched_at=fetched_at,
    )


@dataclass(frozen=True)
class ReferenceFeed:
    """The ``arxiv`` package's reading of a feed page: its header and Paper records."""

    total_results: int
    start_index: int
    items_per_page: int
    papers: list[Paper]


def reference_feed(content: bytes) -> ReferenceFeed:
    parsed = _feed.parse(content)
    assert not parsed.malformed and parsed.error is None
    return ReferenceFeed(
        total_results=parsed.header.total_results,
        start_index=parsed.header.start_index,
        items_per_page=parsed.header.items_per_page,
        papers=[reference_paper(result, FETCHED) for result in parsed.results],
    )


def ours(content: bytes) -> Feed:
    root, problem = check_feed(content)
    assert problem is None
    feed = parse_feed(root, FETCHED)
    assert feed.table.schema.equals(FETCHED_SCHEMA)
    return feed


def _fields(paper: Paper) -> tuple[object, ...]:
    # Paper's == leaves out nothing the tables hold; compare the tuple for readable diffs.
    return tuple(getattr(paper, name) for name in Paper.__dataclass_fields__ if name != "extra")


def assert_same_as_arxiv(content: bytes, caplog: pytest.LogCaptureFixture) -> Feed:
    caplog.set_level(logging.WARNING)
    mine = ours(content)
    my_warnings = list(caplog.messages)
    caplog.clear()
    theirs = reference_feed(content)
    assert my_warnings == caplog.messages
    caplog.clear()
    assert (mine.total_results, mine.start_index, mine.items_per_page) == (
        theirs.total_results,
        theirs.start_index,
        theirs.items_per_page,
    )
    assert [_fields(p) for p in mine.papers] == [_fields(p) for p in theirs.papers]
    return mine


# -- requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "start", "size"),
    [(["2304.05977"], 0, 1), (["2304.05977v2", "hep-th/9901001", "math.AG/0601001"], 2, 7)],
)
def test_id_list_query_is_the_arxiv_clients(ids: list[str], start: int, size: int) -> None:
    search = arxiv.Search(id_list=ids, max_results=size)
    url = arxiv.Client(page_size=size)._format_url(search, start, size)
    assert url == arxiv.Client.query_url_format.format(id_list_query(ids, start, size))


# -- recorded feeds: old and new formats, an error feed ----------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in ATOM.glob("*.xml")))
def test_parse_equals_the_arxiv_parser_on_recorded_feeds(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert_same_as_arxiv((ATOM / name).read_bytes(), caplog)


def test_error_feed_has_no_paper(caplog: pytest.LogCaptureFixture) -> None:
    # Its one <entry> is the error, without <published>: skipped by both, with a warning.
    feed = assert_same_as_arxiv((ATOM / "recorded_error_400_abc.xml").read_bytes(), caplog)
    assert feed.papers == [] and feed.total_results == 1


def test_old_style_id_with_affiliations_and_journal_ref(caplog: pytest.LogCaptureFixture) -> None:
    body = (ATOM / "recorded_id_astro-ph_0601001.xml").read_bytes()
    [paper] = assert_same_as_arxiv(body, caplog).papers
    assert (paper.arxiv_id, paper.version) == ("astro-ph/0601001", 1)
    assert paper.primary_category == "astro-ph"
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.authors[0].affiliations == ("Ohio State",)
    assert paper.published.tzinfo is not None and paper.published.utcoffset().total_seconds() == 0
    assert "  " not in paper.abstract and "\n" not in paper.abstract


def test_legacy_feed_with_doi(caplog: pytest.LogCaptureFixture) -> None:
    body = (ATOM / "recorded_legacy_id_1710.08557.xml").read_bytes()
    [paper] = assert_same_as_arxiv(body, caplog).papers
    assert paper.arxiv_id == "1710.08557"
    assert paper.doi == "10.1186/s12984-017-0305-3"
    assert paper.primary_category == "cs.RO"
    assert paper.pdf_url is not None and "1710.08557" in paper.pdf_url
    assert paper.fetched_at == FETCHED


def test_split_version() -> None:
    assert split_version("http://arxiv.org/abs/2304.05977v12") == ("2304.05977", 12)
    assert split_version("http://arxiv.org/abs/hep-th/9901001v1") == ("hep-th/9901001", 1)


# -- odd and synthetic feeds -------------------------------------------------------------------

ODD_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"
      xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <opensearch:totalResults> 5 </opensearch:totalResults>
  <opensearch:itemsPerPage>many</opensearch:itemsPerPage>
  <entry>
    <!-- a comment among the children -->
    <id>http://arxiv.org/abs/2304.05977v2</id>
    <id>http://arxiv.org/abs/9999.99999v9</id>
    <title>  Two
      titles &amp; <b>markup</b> tail</title>
    <title>the second title</title>
    <updated>2023-04-12T17:59:46</updated>
    <published>2023-04-12T17:59:46+02:00</published>
    <summary/>
    <author><name>First &amp; Only</name><name>Second name</name>
      <arxiv:affiliation>Uni A</arxiv:affiliation><arxiv:affiliation/>
      <arxiv:affiliation>Uni B</arxiv:affiliation></author>
    <author><arxiv:affiliation>Nameless</arxiv:affiliation></author>
    <author><name/></author>
    <link rel="alternate" href="https://arxiv.org/abs/2304.05977v2"/>
    <link title="pdf" type="application/pdf"/>
    <link href="https://arxiv.org/pdf/2304.05977v2" title="pdf" rel=""/>
    <link href="https://arxiv.org/pdf/other" title="pdf"/>
    <category term="cs.CV"/><category/><category term="cs.LG"/>
    <arxiv:primary_category/>
    <arxiv:primary_category term="cs.LG"/>
    <arxiv:comment>first</arxiv:comment><arxiv:comment>second</arxiv:comment>
    <arxiv:journal_ref></arxiv:journal_ref>
    <arxiv:doi>10.1/x</arxiv:doi>
    <entry><id>http://arxiv.org/abs/nested</id></entry>
  </entry>
  <entry><title>no id</title><updated>2023-04-12T17:59:46Z</updated></entry>
  <entry><id></id><updated>2023-04-12T17:59:46Z</updated></entry>
  <entry><id>http://arxiv.org/abs/2304.00001v1</id><updated>2023-04-12T17:59:46Z</updated></entry>
  <entry><id>http://arxiv.org/abs/2304.00002v1</id>
    <published>2023-04-12T17:59:46Z</published></entry>
  <entry><id>http://arxiv.org/abs/2304.00003v1</id><updated>2023-04-12T17:59:46Z</updated>
    <published>2023-04-12T17:59:46Z</published><updated>garbage</updated></entry>
</feed>"""


def test_parse_equals_the_arxiv_parser_on_odd_entries(caplog: pytest.LogCaptureFixture) -> None:
    # First child of each kind wins, missing ids and dates skip the entry (with the same
    # warnings), naive dates are UTC, several PDF links, empty elements, comments, missing
    # attributes, a malformed header number.
    feed = assert_same_as_arxiv(ODD_FEED, caplog)
    assert [p.arxiv_id for p in feed.papers] == ["2304.05977", "2304.00003"]


def _one_entry(author: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"'
        b' xmlns:arxiv="http://arxiv.org/schemas/atom">\n  <entry>\n'
        b"    <id>http://arxiv.org/abs/2304.05977v1</id>\n"
        b"    <updated>2023-04-12T17:59:46Z</updated>\n"
        b"    <published>2023-04-12T17:59:46Z</published>\n"
        b"    <title> </title>\n    <author>" + author + b"</author>\n  </entry>\n</feed>"
    )


@pytest.mark.parametrize(
    "author",
    [
        b"<name> </name><arxiv:affiliation>\t\n</arxiv:affiliation>",
        b"<name>A</name><arxiv:affiliation> \r</arxiv:affiliation>",
        b"<name>A \r\n B</name><arxiv:affiliation>\r\n</arxiv:affiliation>",
        b"<name> <![CDATA[A]]></name><arxiv:affiliation> <![CDATA[MIT]]></arxiv:affiliation>",
    ],
)
def test_blank_text_in_fields_is_read_as_the_arxiv_parser_reads_it(
    author: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    # The parse drops the blank text between elements (check_feed), never a field's own.
    assert_same_as_arxiv(_one_entry(author), caplog)


@pytest.mark.parametrize("wrap", [True, False])
def test_parse_equals_the_arxiv_parser_on_fake_feeds(
    wrap: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # The fake's synthetic papers: escapes, LaTeX, non-ASCII names, affiliations, DOIs,
    # comments, journal refs, old-style ids; wrapped (pre-2025) and one-line text.
    ids = [f"2304.{n:05d}" for n in range(1, 60)] + ["hep-th/9901001", "math.AG/0601001"]
    papers = [FakePaper.synthetic(i, version=1 + n % 3) for n, i in enumerate(ids)]
    body = fake_arxiv._render_feed(
        search_query="",
        id_list=",".join(ids),
        start=0,
        max_results=len(ids),
        total=len(ids),
        now=FETCHED,
        entries=papers,
        wrap=wrap,
    )
    assert len(assert_same_as_arxiv(body, caplog).papers) == len(ids)


# -- generated feeds ---------------------------------------------------------------------------

# Text as feeds carry it: any XML character, every kind of whitespace, entities arXiv leaves
# double-escaped in titles (``&amp;amp;``), LaTeX.
_XML_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff")
_PIECE = st.sampled_from(
    [" ", "\n", "\t", "\r", "\xa0", "\u2003", "\x85", "&amp;", "&lt;", "&#x41;", "$\\alpha$"]
) | _XML_CHAR.filter(lambda c: c >= " " or c in "\t\n\r")
TEXT = st.lists(_PIECE, max_size=12).map("".join)
ID = st.sampled_from(["2304.05977", "1710.08557", "hep-th/9901001", "math.AG/0601001"])
STAMP = st.sampled_from(
    [
        "2023-04-12T17:59:46Z",
        "2023-04-12T17:59:46",
        "2023-04-12T19:59:46+02:00",
        " 2007-01-01T00:00:00Z ",
    ]
)


def _element(tag: str, text: str | None) -> str:
    return f"<{tag}/>" if text is None else f"<{tag}>{escape(text)}</{tag}>"


@st.composite
def entries(draw: st.DrawFn) -> str:
    parts = []
    if draw(st.booleans()) or draw(st.booleans()):
        version = draw(st.sampled_from(["v1", "v12", "", "v"]))
        parts.append(_element("id", f"http://arxiv.org/abs/{draw(ID)}{version}"))
    for tag in ("updated", "published"):
        if draw(st.integers(0, 9)):
            parts.append(_element(tag, draw(STAMP)))
    for tag in ("title", "summary", "arxiv:comment", "arxiv:journal_ref", "arxiv:doi"):
        for _ in range(draw(st.integers(0, 2))):
            parts.append(_element(tag, draw(st.none() | TEXT)))
    for _ in range(draw(st.integers(0, 3))):
        names = [_element("name", draw(st.none() | TEXT)) for _ in range(draw(st.integers(0, 2)))]
        affiliations = [
            _element("arxiv:affiliation", draw(st.none() | TEXT))
            for _ in range(draw(st.integers(0, 2)))
        ]
        parts.append(f"<author>{''.join(names + affiliations)}</author>")
    for _ in range(draw(st.integers(0, 3))):
        attributes = {
            "href": draw(st.none() | st.sampled_from(["https://arxiv.org/pdf/x", "u"])),
            "title": draw(st.none() | st.sampled_from(["pdf", "doi"])),
            "rel": draw(st.none() | st.sampled_from(["alternate", "related", ""])),
            "type": draw(st.none() | st.just("application/pdf")),
        }
        shown = " ".join(f"{k}={quoteattr(v)}" for k, v in attributes.items() if v is not None)
        parts.append(f"<link {shown}/>")
    for tag in ("category", "arxiv:primary_category"):
        for _ in range(draw(st.integers(0, 2))):
            term = draw(st.none() | st.sampled_from(["cs.LG", "hep-th", ""]))
            parts.append(f"<{tag}/>" if term is None else f"<{tag} term={quoteattr(term)}/>")
    order = draw(st.permutations(parts))
    return f"<entry>{''.join(order)}</entry>"


@st.composite
def feeds(draw: st.DrawFn) -> bytes:
    items = draw(st.lists(entries(), min_size=1, max_size=4))
    total = draw(st.sampled_from(["", "3", " 7 ", "x"]))
    head = f"<opensearch:totalResults>{total}</opensearch:totalResults>" if total else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"'
        ' xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
        f"{head}<opensearch:startIndex>0</opensearch:startIndex>{''.join(items)}</feed>"
    ).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feeds())
def test_parse_equals_the_arxiv_parser_on_generated_feeds(content: bytes) -> None:
    root, problem = check_feed(content)
    assert problem is None
    mine = parse_feed(root, FETCHED)
    assert mine.table.schema.equals(FETCHED_SCHEMA)
    theirs = reference_feed(content)
    assert (mine.total_results, mine.start_index, mine.items_per_page) == (
        theirs.total_results,
        theirs.start_index,
        theirs.items_per_page,
    )
    assert [_fields(p) for p in mine.papers] == [_fields(p) for p in theirs.papers]
