"""The HTML report: well-formed, its images exist, and its numbers are the tables' numbers.

Expected numbers are computed here with plain pandas from the Parquet files, independently
of pipeline.outputs.report's helpers, so the two must agree rather than share a bug.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import lxml.html
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.errors import InputError
from pipeline.outputs.report import (
    build_report,
    list_line_url,
    papers_per_year,
    top_authors,
    version_stats,
)
from pipeline.schemas import AUTHORS, ENTRIES, PAPERS
from pipeline.titles import display_title
from tests.sample_tables import REMOVED_ID, REMOVED_TITLE, write_sample_tables

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


@dataclass(frozen=True)
class Built:
    data_dir: Path
    path: Path
    text: str
    doc: lxml.html.HtmlElement
    entries: pd.DataFrame
    papers: pd.DataFrame
    authors: pd.DataFrame
    quality: pd.DataFrame | None


def _build(data_dir: Path) -> Built:
    path = build_report(data_dir)
    text = path.read_text(encoding="utf-8")
    enriched = data_dir / "enriched"
    quality = enriched / "quality.parquet"
    return Built(
        data_dir,
        path,
        text,
        lxml.html.document_fromstring(text),
        pd.read_parquet(enriched / "entries.parquet"),
        pd.read_parquet(enriched / "papers.parquet"),
        pd.read_parquet(enriched / "authors.parquet"),
        pd.read_parquet(quality) if quality.exists() else None,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    data_dir = tmp_path_factory.mktemp("data")
    write_sample_tables(data_dir)
    return _build(data_dir)


def _rows(doc: lxml.html.HtmlElement, table_id: str) -> list[list[str]]:
    """Body rows of a table as cell texts (header cells included)."""
    (table,) = doc.xpath(f'//table[@id="{table_id}"]')
    return [
        [" ".join(cell.text_content().split()) for cell in row.xpath("th|td")]
        for row in table.xpath("tbody/tr")
    ]


def _header(doc: lxml.html.HtmlElement, table_id: str) -> list[str]:
    return [c.text_content().strip() for c in doc.xpath(f'//table[@id="{table_id}"]/thead/tr/th')]


class StrictChecker(HTMLParser):
    """Every element closed, in order, and nothing closed that was not open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [v for k, v in attrs if k == "id" and v]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [v for k, v in attrs if k == "id" and v]

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}, at {self.getpos()}")
        else:
            self.stack.pop()


def test_report_is_well_formed_html(built: Built) -> None:
    checker = StrictChecker()
    checker.feed(built.text)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    assert checker.doctype.lower() == "doctype html"
    assert len(checker.ids) == len(set(checker.ids)), "duplicate ids"
    doc = built.doc
    assert doc.get("lang") == "en"
    assert doc.xpath("/html/head/meta/@charset") == ["utf-8"]
    assert doc.xpath("/html/head/title")[0].text_content().startswith("Paper list report")
    assert len(doc.xpath("//h1")) == 1
    for href in doc.xpath("//a/@href"):
        if href.startswith("#"):
            assert href[1:] in checker.ids, href
        else:
            assert href.startswith(("http://", "https://")), href


def test_every_figure_is_an_embedded_svg(built: Built) -> None:
    sources = built.doc.xpath("//img/@src")
    assert len(sources) == 4
    for src in sources:
        assert src.startswith("data:image/svg+xml;base64,"), "figures live inside the page"
        svg = base64.b64decode(src.split(",", 1)[1])
        assert b"<svg" in svg
        assert b'href="http' not in svg and b"<image" not in svg, "an SVG that fetches nothing"
    assert all(img.get("alt") for img in built.doc.xpath("//img"))


def test_the_page_is_one_file_at_its_stable_place(built: Built) -> None:
    assert built.path == built.data_dir / "site" / "index.html"
    assert sorted(p.name for p in built.path.parent.iterdir()) == ["index.html"]
    assert "<script src" not in built.text and "<link" not in built.text, "works offline"


def _summary(doc: lxml.html.HtmlElement, key: str) -> str:
    (value,) = doc.xpath(f'//dd[@data-key="{key}"]')
    return str(value.text_content())


def test_summary_numbers_are_the_tables(built: Built) -> None:
    entries, papers = built.entries, built.papers
    several = int((papers["version"] > 1).sum())
    assert _summary(built.doc, "entries") == str(len(entries))
    assert _summary(built.doc, "papers") == str(len(papers))
    assert _summary(built.doc, "lists") == str(entries["list"].nunique())
    assert _summary(built.doc, "sections") == str(entries["section"].nunique())
    assert _summary(built.doc, "several-versions").split()[0] == str(several)
    assert built.quality is not None
    assert _summary(built.doc, "findings") == str(len(built.quality))


def test_papers_per_year_table_counts_each_paper_once(built: Built) -> None:
    entries, papers = built.entries, built.papers
    listed = entries[entries["status"] == "enriched"].sort_values(["list", "line"])
    first = listed.groupby("arxiv_id", sort=False)["section"].first()
    expected: dict[tuple[str, str], int] = {}
    for arxiv_id, published in zip(papers["arxiv_id"], papers["published"], strict=True):
        key = (first.get(arxiv_id, "(not in a list)"), str(published.year))
        expected[key] = expected.get(key, 0) + 1

    header = _header(built.doc, "table-per-year")
    assert header[0] == "Section" and header[-1] == "Total"
    years = header[1:-1]
    assert years == sorted({str(p.year) for p in papers["published"]})
    rows = _rows(built.doc, "table-per-year")
    *sections, total = rows
    seen = {}
    for section, *counts, row_total in sections:
        for year, count in zip(years, counts, strict=True):
            seen[(section, year)] = int(count)
        assert int(row_total) == sum(int(c) for c in counts)
    assert {k: v for k, v in seen.items() if v} == expected
    assert total[0] == "Total" and int(total[-1]) == len(papers)


def test_versions_categories_and_authors_tables_are_the_tables(built: Built) -> None:
    papers, authors = built.papers, built.authors
    versions = {str(k): str(v) for k, v in papers["version"].value_counts().items()}
    assert dict(_rows(built.doc, "table-versions")) == versions

    categories = papers["primary_category"].value_counts()
    assert {c: int(n) for c, n in _rows(built.doc, "table-categories")} == categories.to_dict()

    per_author = (
        authors[authors["arxiv_id"].isin(papers["arxiv_id"])].groupby("name")["arxiv_id"].nunique()
    )
    shown = {name: int(n) for name, n in _rows(built.doc, "table-authors")}
    assert shown and all(per_author[name] == n for name, n in shown.items())
    left_out = per_author.drop(list(shown))
    assert left_out.empty or left_out.max() <= min(shown.values()), "not the top authors"


def test_findings_are_the_quality_table_with_safe_links(built: Built) -> None:
    assert built.quality is not None
    tables = built.doc.xpath('//table[contains(@class, "findings")]')
    assert {t.get("data-kind") for t in tables} == set(built.quality["kind"])
    for table in tables:
        kind = table.get("data-kind")
        expected = built.quality[built.quality["kind"] == kind]
        where = [" ".join(r.xpath("th")[0].text_content().split()) for r in table.xpath("tbody/tr")]
        assert sorted(where) == sorted(f"{r.list}:{r.line}" for r in expected.itertuples())
    # A listed javascript: link is shown as text, never as a link.
    assert not [h for h in built.doc.xpath("//a/@href") if "javascript" in h.lower()]
    assert "A Benchmark with a Broken Link" in built.doc.text_content()


def test_listed_markup_is_text_not_html(built: Built) -> None:
    title = "Unpublished <b>Notes</b> & Slides"
    assert title in set(built.entries["title"])
    assert title in built.doc.text_content()
    assert not built.doc.xpath("//b")


def test_paper_table_has_one_linked_row_per_paper(built: Built) -> None:
    papers = built.papers.set_index("arxiv_id")
    (table,) = built.doc.xpath('//table[@id="table-papers"]')
    assert "sortable" in table.get("class")
    assert _header(built.doc, "table-papers") == [
        "Title", "arXiv", "Authors", "Published", "Section", "Venue", "Citations", "Category"
    ]  # fmt: skip
    code = built.entries.dropna(subset=["code_url"]).groupby("arxiv_id")["code_url"].first()
    rows = table.xpath("tbody/tr")
    assert sorted(r.get("data-arxiv-id") for r in rows) == sorted(papers.index)
    for row in rows:
        arxiv_id = row.get("data-arxiv-id")
        paper = papers.loc[arxiv_id]
        (link,) = row.xpath("td[1]/a")
        assert link.get("href") == f"https://arxiv.org/abs/{arxiv_id}"
        assert link.text_content() == display_title(paper["title"])
        # The abstract expands in place, and the filter's text search reaches it.
        (abstract,) = row.xpath("td[1]/details/p")
        assert abstract.text_content() == display_title(paper["abstract"])
        ids = {a.text_content(): a.get("href") for a in row.xpath("td[2]/a")}
        assert ids[arxiv_id] == f"https://arxiv.org/abs/{arxiv_id}"
        assert ids["PDF"] == f"https://arxiv.org/pdf/{arxiv_id}"
        assert ids.get("code") == code.get(arxiv_id)
        assert row.xpath("td[4]")[0].text_content() == paper["published"].strftime("%Y-%m-%d")
        assert row.xpath("td[3]/@title")[0] == ", ".join(paper["authors"])
    assert built.doc.xpath("//script") and "localeCompare" in built.text


def test_without_quality_table_findings_come_from_entry_statuses(tmp_path: Path) -> None:
    write_sample_tables(tmp_path)
    (tmp_path / "enriched" / "quality.parquet").unlink()
    built = _build(tmp_path)
    problems = built.entries[built.entries["status"] != "enriched"]
    tables = built.doc.xpath('//table[contains(@class, "findings")]')
    assert {t.get("data-kind") for t in tables} == set(problems["status"])
    assert sum(len(t.xpath("tbody/tr")) for t in tables) == len(problems)
    assert "No quality table" in built.text


def test_custom_output_in_a_missing_directory_or_a_directory(tmp_path: Path) -> None:
    write_sample_tables(tmp_path / "data")
    out = tmp_path / "new" / "site" / "list.html"
    assert build_report(tmp_path / "data", out) == out
    assert {p.name for p in out.parent.iterdir()} == {"list.html"}
    assert build_report(tmp_path / "data", out.parent) == out.parent / "index.html"


def test_empty_tables_still_give_a_page(tmp_path: Path) -> None:
    enriched = tmp_path / "enriched"
    enriched.mkdir()
    for name, schema in (("entries", ENTRIES), ("papers", PAPERS), ("authors", AUTHORS)):
        pq.write_table(pa.Table.from_pylist([], schema=schema), enriched / f"{name}.parquet")
    built = _build(tmp_path)
    assert _summary(built.doc, "papers") == "0"
    assert _rows(built.doc, "table-papers") == []
    assert len(built.doc.xpath("//img/@src")) == 4


def test_missing_tables_say_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no tables in .*enriched.*run `make refresh` first"):
        build_report(tmp_path)
    assert not (tmp_path / "site").exists()


def test_a_failed_report_leaves_the_previous_one_untouched(tmp_path: Path) -> None:
    write_sample_tables(tmp_path)
    page = build_report(tmp_path)
    before = page.read_bytes()
    (tmp_path / "enriched" / "papers.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="make refresh"):
        build_report(tmp_path)
    assert page.read_bytes() == before
    assert sorted(p.name for p in page.parent.iterdir()) == ["index.html"]


def test_rebuilding_replaces_the_page_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    write_sample_tables(tmp_path)
    page = build_report(tmp_path)
    page.write_text("old", encoding="utf-8")
    build_report(tmp_path)
    assert sorted(p.name for p in page.parent.iterdir()) == ["index.html"]
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def _entries(rows: list[tuple[str, int, str, str | None, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["list", "line", "section", "arxiv_id", "status"])


def _papers(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["arxiv_id", "published", "updated", "version"])
    for column in ("published", "updated"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def test_papers_per_year_counts_a_paper_in_two_sections_under_the_first() -> None:
    entries = _entries(
        [
            ("b.md", 1, "Later list", "1", "enriched"),
            ("a.md", 9, "Second", "1", "enriched"),
            ("a.md", 2, "First", "2", "enriched"),
            ("a.md", 3, "First", None, "unresolved"),
        ]
    )
    papers = _papers([("1", "2023-05-01", "2023-05-01", 1), ("2", "2021-01-01", "2021-01-01", 1)])
    table = papers_per_year(papers, entries)
    assert list(table.index) == ["First", "Second"]
    assert table.loc["Second", 2023] == 1 and table.loc["First", 2021] == 1
    assert int(table.to_numpy().sum()) == 2


def test_version_stats_measure_days_for_multi_version_papers_only() -> None:
    papers = _papers(
        [
            ("1", "2023-01-01", "2023-01-11", 2),
            ("2", "2023-01-01", "2023-01-01", 1),
            ("3", "2023-01-01", "2023-01-31", 3),
        ]
    )
    stats = version_stats(papers)
    assert (stats.papers, stats.several, stats.by_count) == (3, 2, {1: 1, 2: 1, 3: 1})
    assert stats.days == [10.0, 30.0] and stats.median_days == 20.0


def test_top_authors_count_papers_not_rows_and_break_ties_by_name() -> None:
    authors = pd.DataFrame(
        {
            "arxiv_id": ["1", "1", "2", "3", "3", "9"],
            "name": ["Bo", "Bo", "Al", "Al", "Bo", "Cy"],
        }
    )
    papers = pd.DataFrame({"arxiv_id": ["1", "2", "3"]})
    top = top_authors(authors, papers, n=5)
    assert list(zip(top["name"], top["papers"], strict=True)) == [("Al", 2), ("Bo", 2)]


# -- what the dashboard shows ----------------------------------------------------------------


def test_changes_section_lists_the_latest_week_with_titles(built: Built) -> None:
    changes = pd.read_parquet(built.data_dir / "enriched" / "changes.parquet")
    latest = changes[changes["at"] >= changes["at"].max() - pd.Timedelta(days=7)]
    rows = built.doc.xpath('//table[@id="table-changes"]/tbody/tr')
    assert len(rows) == len(latest)
    shown = {r.xpath("td[3]")[0].text_content(): r.xpath("td[2]")[0].text_content() for r in rows}
    # A removed paper is no longer in papers.parquet, and still shows by its title.
    assert REMOVED_ID not in set(built.papers["arxiv_id"])
    assert shown[REMOVED_ID] == REMOVED_TITLE
    assert _summary(built.doc, "changes") == str(len(latest))


def test_most_cited_is_the_largest_count_of_any_source(built: Built) -> None:
    citations = pd.read_parquet(built.data_dir / "enriched" / "citations.parquet")
    best = citations.groupby("arxiv_id")["citation_count"].max().dropna()
    rows = _rows(built.doc, "table-most-cited")
    assert len(rows) == min(20, len(best))
    assert [int(r[2]) for r in rows] == sorted(best, reverse=True)[: len(rows)]
    cells = {
        r.get("data-arxiv-id"): r.xpath("td[7]")[0].text_content()
        for r in built.doc.xpath('//table[@id="table-papers"]/tbody/tr')
    }
    assert {k: v for k, v in cells.items() if v} == {k: str(int(v)) for k, v in best.items()}


def test_without_citations_there_is_no_citation_column(tmp_path: Path) -> None:
    write_sample_tables(tmp_path, citations=False, changes=False)
    built = _build(tmp_path)
    assert "Citations" not in _header(built.doc, "table-papers")
    assert not built.doc.xpath('//*[@id="most-cited"]')
    assert "No changes recorded yet" in built.text


def test_filter_controls_count_and_offer_every_section(built: Built) -> None:
    (count,) = built.doc.xpath('//output[@id="paper-count"]')
    assert count.text_content() == f"{len(built.papers)} of {len(built.papers)} shown"
    options = built.doc.xpath('//select[@id="section-filter"]/option/@value')[1:]
    assert options == list(built.entries.sort_values(["list", "line"])["section"].unique())
    buttons = built.doc.xpath('//table[@id="table-sections"]//button/@data-section')
    assert buttons == options
    # Each paper row carries its sections for the menu (the script splits on U+001F).
    rows = built.doc.xpath('//table[@id="table-papers"]/tbody/tr')
    assert all(set(r.get("data-sections").split("\x1f")) <= set(options) for r in rows)


def test_candidates_and_github_lines_are_links(tmp_path: Path) -> None:
    assert list_line_url("https://github.com/o/r", 12) == (
        "https://github.com/o/r/blob/HEAD/README.md?plain=1#L12"
    )
    assert list_line_url("https://github.com/o/r/blob/main/docs/list.md", 3) == (
        "https://github.com/o/r/blob/main/docs/list.md?plain=1#L3"
    )
    assert list_line_url("https://raw.githubusercontent.com/o/r/HEAD/README.md", 5) == (
        "https://github.com/o/r/blob/HEAD/README.md?plain=1#L5"
    )
    assert list_line_url("awesome.md", 3) is None
    assert list_line_url("https://example.org/list.md", 3) is None
    # In the page: a list read from GitHub links its lines; a candidate links to arXiv.
    write_sample_tables(tmp_path)
    enriched = tmp_path / "enriched"
    url = "https://github.com/o/r"
    entries = pd.read_parquet(enriched / "entries.parquet")
    entries.loc[entries["status"] == "unresolved", "candidate_id"] = "2301.00001"
    entries["list"] = entries["list"].replace({"awesome-diffusion.md": url})
    pq.write_table(pa.Table.from_pandas(entries, schema=ENTRIES), enriched / "entries.parquet")
    quality = pd.read_parquet(enriched / "quality.parquet")
    quality["list"] = quality["list"].replace({"awesome-diffusion.md": url})
    quality.to_parquet(enriched / "quality.parquet")
    doc = _build(tmp_path).doc
    (unresolved,) = doc.xpath('//table[@data-kind="unresolved"]/tbody/tr')
    line = int(entries[entries["status"] == "unresolved"]["line"].iloc[0])
    assert unresolved.xpath("th/a/@href") == [f"{url}/blob/HEAD/README.md?plain=1#L{line}"]
    assert unresolved.xpath("td[4]/a/@href") == ["https://arxiv.org/abs/2301.00001"]
