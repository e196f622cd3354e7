"""BibTeX, CSV and JSON lines exports, checked by reading them back with real parsers."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import bibtexparser
import pandas as pd
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors
from pylatexenc.latex2text import LatexNodes2Text

from pipeline.errors import InputError
from pipeline.outputs.bibtex import (
    braces_balanced,
    citation_keys,
    latex_name,
    latex_title,
    to_bibtex,
    transliterate,
)
from pipeline.outputs.citation import EntryType, citations
from pipeline.outputs.export import export_tables
from pipeline.outputs.formats import ExportOptions
from pipeline.schemas import ENTRIES, PAPERS
from pipeline.store.read import read_current
from pipeline.titles import display_title
from pipeline.venues import normalize_venue
from tests.sample_tables import write_sample_tables


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data")
    write_sample_tables(path)
    return path


@pytest.fixture(scope="module")
def entries(data_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(data_dir / "enriched" / "entries.parquet")


@pytest.fixture(scope="module")
def papers(data_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(data_dir / "enriched" / "papers.parquet")


@pytest.fixture(scope="module")
def bibtex(data_dir: Path) -> str:
    return export_tables(data_dir, "bibtex").read_text(encoding="utf-8")


def _parse(text: str, *middlewares: object) -> bibtexparser.Library:
    library = bibtexparser.parse_string(text, append_middleware=list(middlewares))
    assert library.failed_blocks == []
    return library


# -- BibTeX -----------------------------------------------------------------------------


def test_bibtex_parses_into_one_entry_per_paper(bibtex: str, papers: pd.DataFrame) -> None:
    library = _parse(bibtex)
    assert len(library.entries) == len(papers)
    by_id = papers.set_index("arxiv_id")
    assert sorted(e["eprint"] for e in library.entries) == sorted(by_id.index)
    for entry in library.entries:
        paper = by_id.loc[entry["eprint"]]
        assert entry.entry_type in {"misc", "article", "inproceedings"}
        assert entry["archivePrefix"] == "arXiv"
        assert entry["primaryClass"] == paper["primary_category"]
        # Unversioned https: the abstract page of the latest version, whatever it is.
        assert entry["url"] == f"https://arxiv.org/abs/{entry['eprint']}"
        expected_doi = (
            paper["doi"] if pd.notna(paper["doi"]) else f"10.48550/arXiv.{entry['eprint']}"
        )
        assert entry["doi"] == expected_doi
        # The key's year is the year field's: version 1's.
        assert entry["year"] == str(paper["published"].year) and entry["year"] in entry.key
        if entry.entry_type == "misc":  # natbib prints howpublished, not eprint
            assert entry["howpublished"] == f"arXiv:{entry['eprint']} [{paper['primary_category']}]"
        for field in entry.fields:
            assert braces_balanced(field.value), (entry.key, field.key)


def test_bibtex_keys_are_stable_unique_ascii_and_deduplicated(
    bibtex: str, papers: pd.DataFrame
) -> None:
    keys = {e["eprint"]: e.key for e in _parse(bibtex).entries}
    assert len(set(keys.values())) == len(keys)
    published = dict(zip(papers["arxiv_id"], papers["published"], strict=True))
    bases: dict[str, list[str]] = {}
    for arxiv_id, key in keys.items():
        match = re.fullmatch(r"([a-z]+)(\d{4})([a-z0-9]+?)(b|c|d)?", key)
        assert match, key
        assert int(match[2]) == published[arxiv_id].year
        bases.setdefault(key.removesuffix(match[4] or ""), []).append(arxiv_id)
    collisions = {base: ids for base, ids in bases.items() if len(ids) > 1}
    assert collisions, "the sample should hold a key collision"
    for base, ids in collisions.items():
        # The first submitted keeps the bare key; later ones get b, c... in submission order.
        ordered = sorted(ids, key=lambda i: (published[i], i))
        assert [keys[i] for i in ordered] == [base, *(base + s for s in "bcd")][: len(ids)]


def test_citation_keys_do_not_depend_on_row_order_and_survive_a_newer_paper() -> None:
    def paper(arxiv_id: str, day: int) -> dict[str, object]:
        return _paper(arxiv_id) | {
            "authors": ["Jörg Müller", "Ann Other"],
            "published": datetime(2023, 3, day, tzinfo=UTC),
            "title": "The Diffusion of Things",
        }

    rows = citations([paper("2303.00003", 3), paper("2303.00001", 1), paper("2303.00002", 2)], [])
    keys = citation_keys(rows)
    assert keys == {
        "2303.00001": "muller2023diffusion",
        "2303.00002": "muller2023diffusionb",
        "2303.00003": "muller2023diffusionc",
    }
    assert citation_keys(rows[::-1]) == keys
    newer = citations([paper("2303.00009", 9)], [])
    assert citation_keys([*rows, *newer]).items() >= keys.items()


def test_bibtex_escaping_survives_a_latex_decoder(bibtex: str, papers: pd.DataFrame) -> None:
    decoded = _parse(bibtex, SeparateCoAuthors(), LatexDecodingMiddleware())
    by_id = papers.set_index("arxiv_id")
    checked_titles = 0
    for entry in decoded.entries:
        paper = by_id.loc[entry["eprint"]]
        title = paper["title"]
        # Titles that already hold LaTeX (math, commands) decode to something else by design.
        if "\\" not in title and "^" not in title and title.count("$") < 2:
            assert " ".join(entry["title"].replace("{", "").replace("}", "").split()) == title
            checked_titles += 1
        names = entry["author"]
        assert len(names) == len(paper["authors"]), entry.key
        for shown, name in zip(names, paper["authors"], strict=True):
            # "Smith, Jr., Robert" is "Robert Smith Jr." reordered for BibTeX.
            words = sorted(LatexNodes2Text().latex_to_text(shown).replace(",", " ").split())
            # Other scripts are transliterated for pdflatex (王伟 -> Wang, Wei), Đ spelt Dj.
            expected = transliterate(name).replace("Đ", "Dj").replace("đ", "dj")
            assert words == sorted(expected.split()), (shown, name)
    assert checked_titles >= len(papers) // 2


def test_bibtex_escapes_specials_outside_math(bibtex: str, papers: pd.DataFrame) -> None:
    raw = {e["eprint"]: e for e in _parse(bibtex).entries}
    specials = papers[papers["title"].str.contains(r"[&%#_]", regex=True)]
    assert not specials.empty, "the sample should hold titles with & % # _"
    for arxiv_id, title in zip(specials["arxiv_id"], specials["title"], strict=True):
        value = raw[arxiv_id]["title"]
        text = re.sub(r"(?<!\\)\$[^$]*(?<!\\)\$", "", value)  # math may keep _ ^
        assert not re.search(r"(?<!\\)[&%#_]", text), value
        assert value.count("\\&") == title.count("&")


def test_latex_title_protects_capitals_and_math() -> None:
    assert latex_title("DPO for ImageReward: Learning to Rank") == (
        "{DPO} for {ImageReward:} Learning to Rank"
    )
    assert latex_title(r"$\mathcal{O}(n)$ Bounds") == r"{$\mathcal{O}(n)$} Bounds"
    assert latex_title("Café 50% Off") == r"Caf{\'e} 50{\%} Off"
    assert latex_title("Cost $5 & Up") == r"Cost {\$}5 {\&} Up"
    # Greek compiles with pdflatex; quotes and dashes are LaTeX's own.
    assert latex_title("Δ-Tuning — “Aligned”") == (
        r"{{\ensuremath{\Delta}}-Tuning} {\textemdash} "
        r"{\textquotedblleft}Aligned{\textquotedblright}"
    )
    assert latex_title("Broken {Brace") == "Broken Brace"
    assert latex_title(r"Schr\"odinger \emph{Bridges}") == r"Schr\"odinger \emph{Bridges}"


@pytest.mark.parametrize(
    ("name", "latex"),
    [
        # \'i, not \'\i: pandoc reads the latter as a dotless i and an accent.
        ("José García-López", r"Jos{\'e} Garc{\'i}a-L{\'o}pez"),
        ("Søren Hauberg", r"S{\o}ren Hauberg"),
        ("Robert Smith Jr.", "Smith, Jr., Robert"),
        ("LAION Collaboration", "{LAION Collaboration}"),
        ("Research and Development Team", "{Research and Development Team}"),
        ("Ngọc Trần", r"Ng{\d o}c Tr{\`{\^a}}n"),
        ("王伟", "Wang, Wei"),
        ("Đorđe Petrović", r"{Dj}or{dj}e Petrovi{\'c}"),
        ("Иван Петров", "Ivan Petrov"),
    ],
)
def test_latex_name(name: str, latex: str) -> None:
    assert latex_name(name) == latex


def _paper(arxiv_id: str, journal_ref: str | None = None) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(PAPERS.names)
    row.update(
        arxiv_id=arxiv_id,
        version=1,
        title="A Title",
        abstract="",
        authors=["Ada Lovelace"],
        published=datetime(2020, 1, 1, tzinfo=UTC),
        updated=datetime(2020, 1, 1, tzinfo=UTC),
        primary_category="cs.LG",
        categories=["cs.LG"],
        journal_ref=journal_ref,
        abs_url=f"http://arxiv.org/abs/{arxiv_id}v1",
        fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    return row


def _entry(line: int, arxiv_id: str, venue: str | None, year: int | None) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(ENTRIES.names)
    row.update(list="l.md", line=line, section="S", title="A Title", resolution="link")
    normalized, source = normalize_venue({"list": venue})
    row.update(status="enriched", arxiv_id=arxiv_id, venue=venue, year=year)
    row.update(venue_normalized=normalized, venue_source=source)
    return row


def test_entry_type_and_container_follow_the_normalised_venue() -> None:
    papers = [
        _paper("1", "Phys. Rev. Lett. 120 (2018) 1"),
        _paper("2", "Advances in Neural Information Processing Systems 34 (NeurIPS 2021)"),
        _paper("3"),
        _paper("4"),
        _paper("5"),
    ]
    entries = [
        _entry(1, "3", "arXiv", 2020),
        _entry(2, "3", "CVPR 2022", 2022),
        _entry(3, "4", "Transactions on Machine Learning Research", 2023),
        _entry(4, "5", "arXiv", 2020),
    ]
    library = _parse(to_bibtex(citations(papers, entries)))
    found = {e["eprint"]: e for e in library.entries}
    # No entry names paper 1 and 2: arXiv's journal_ref, normalised, decides.
    assert (found["1"].entry_type, found["1"]["journal"]) == ("article", "Phys. Rev. Lett.")
    assert (found["2"].entry_type, found["2"]["booktitle"]) == ("inproceedings", "NeurIPS")
    assert (found["3"].entry_type, found["3"]["booktitle"]) == ("inproceedings", "CVPR")
    assert (found["4"].entry_type, found["4"]["journal"]) == ("article", "TMLR")
    assert (found["5"].entry_type, found["5"]["howpublished"]) == ("misc", "arXiv:5 [cs.LG]")
    # Whatever the venue's year, the year cited is version 1's, as in the key.
    assert {e["year"] for e in library.entries} == {"2020"}
    assert all("2020" in e.key for e in library.entries)


def test_abstract_and_keywords_only_when_asked() -> None:
    papers = [_paper("1") | {"abstract": "We show 50% gains & more."}]
    entries = [_entry(1, "1", "arXiv", 2020)]
    plain = _parse(to_bibtex(citations(papers, entries))).entries[0]
    assert "abstract" not in plain.fields_dict and "keywords" not in plain.fields_dict
    both = ExportOptions(abstract=True, keywords=True)
    rich = _parse(to_bibtex(citations(papers, entries), both)).entries[0]
    assert rich["abstract"] == r"We show 50{\%} gains {\&} more."
    assert rich["keywords"] == "S"


# -- CSV and JSON lines -----------------------------------------------------------------


def _expected_columns() -> list[str]:
    citations = ["citations_semanticscholar", "citations_openalex"]
    citations += ["influential_citations_semanticscholar", "citation_count", "oa_url"]
    return [*ENTRIES.names, "arxiv", *(f"paper_{c}" for c in PAPERS.names), *citations]


def test_csv_has_one_row_per_entry_joined_with_its_paper(
    data_dir: Path, entries: pd.DataFrame, papers: pd.DataFrame
) -> None:
    path = export_tables(data_dir, "csv")
    assert path == data_dir / "export" / "entries.csv"
    assert path.read_text(encoding="utf-8").startswith('"list","line",'), "text is quoted"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) == len(entries)
    assert list(rows[0]) == _expected_columns()
    by_id = papers.set_index("arxiv_id")
    for row, entry in zip(rows, entries.itertuples(), strict=True):
        assert (row["list"], int(row["line"])) == (entry.list, entry.line)
        assert row["year"] == ("" if pd.isna(entry.year) else str(int(entry.year)))
        assert row["arxiv"] == (
            f"arXiv:{entry.arxiv_id}" if isinstance(entry.arxiv_id, str) else ""
        )
        if entry.arxiv_id in by_id.index:
            paper = by_id.loc[entry.arxiv_id]
            assert row["paper_arxiv_id"] == entry.arxiv_id
            assert row["paper_title"] == paper["title"]
            assert row["paper_authors"] == "; ".join(paper["authors"])
            assert row["paper_categories"] == "; ".join(paper["categories"])
            assert row["paper_version"] == str(paper["version"])
            assert row["paper_published"].endswith("Z")
            published = datetime.fromisoformat(row["paper_published"])
            assert published == paper["published"].to_pydatetime()
        else:
            assert all(row[c] == "" for c in _expected_columns() if c.startswith("paper_"))


def test_jsonl_has_real_arrays_nulls_and_utc_timestamps(
    data_dir: Path, entries: pd.DataFrame, papers: pd.DataFrame
) -> None:
    path = export_tables(data_dir, "jsonl")
    assert path == data_dir / "export" / "entries.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(entries)
    by_id = papers.set_index("arxiv_id")
    for line, entry in zip(lines, entries.itertuples(), strict=True):
        row = json.loads(line)
        assert list(row) == _expected_columns()
        assert row["line"] == entry.line
        assert row["year"] == (None if pd.isna(entry.year) else int(entry.year))
        if entry.arxiv_id in by_id.index:
            paper = by_id.loc[entry.arxiv_id]
            assert row["paper_authors"] == list(paper["authors"])
            assert row["paper_categories"] == list(paper["categories"])
            fetched = datetime.fromisoformat(row["paper_fetched_at"])
            assert fetched == paper["fetched_at"].to_pydatetime()
            assert fetched.utcoffset() is not None and not fetched.utcoffset()
        else:
            assert row["paper_arxiv_id"] is None and row["paper_authors"] is None


def test_unicode_is_kept_in_csv_and_jsonl(data_dir: Path, papers: pd.DataFrame) -> None:
    accented = next(n for names in papers["authors"] for n in names if not n.isascii())
    for fmt in ("csv", "jsonl"):
        assert accented in export_tables(data_dir, fmt).read_text(encoding="utf-8")


# -- CSL-JSON and RIS, read by their consumers -------------------------------------------


def test_csljson_renders_through_a_csl_processor(data_dir: Path, papers: pd.DataFrame) -> None:
    from citeproc import Citation as CslCitation
    from citeproc import CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    path = export_tables(data_dir, "csljson")
    assert path == data_dir / "export" / "papers.json"
    items = json.loads(path.read_text(encoding="utf-8"))
    assert len(items) == len(papers)
    keys = {e.key for e in _parse(export_tables(data_dir, "bibtex").read_text()).entries}
    assert {i["id"] for i in items} == keys, "the same keys as the BibTeX export"
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    for item in items:
        bibliography.register(CslCitation([CitationItem(item["id"])]))
    rendered = [str(entry) for entry in bibliography.bibliography()]
    assert len(rendered) == len(papers)
    by_title = {display_title(t) for t in papers["title"]}
    for text in rendered:
        assert any(title in text for title in by_title), text
        assert "https://doi.org/10." in text
    assert any("Schrödinger Bridges" in text for text in rendered), "LaTeX decoded"


def test_ris_round_trips_through_rispy(data_dir: Path, papers: pd.DataFrame) -> None:
    import rispy

    text = export_tables(data_dir, "ris").read_text(encoding="utf-8")
    records = rispy.loads(text)
    by_id = papers.set_index("arxiv_id")
    assert len(records) == len(papers)
    for record in records:
        arxiv_id = record["accession_number"].removeprefix("arXiv:")
        paper = by_id.loc[arxiv_id]
        assert record["title"] == display_title(paper["title"])
        assert len(record["authors"]) == len(paper["authors"])
        assert record["year"] == str(paper["published"].year)
        assert record["urls"] == [f"https://arxiv.org/abs/{arxiv_id}"]
        assert set(paper["categories"]) <= set(record["keywords"])
    assert rispy.loads(rispy.dumps(records)) == records


# -- the edge ---------------------------------------------------------------------------


def test_export_replaces_the_file_atomically_and_leaves_nothing_else(
    data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "refs.bib"
    out.parent.mkdir()
    out.write_text("old", encoding="utf-8")
    assert export_tables(data_dir, "bibtex", out) == out
    assert out.read_text(encoding="utf-8").startswith("%")
    assert [p.name for p in out.parent.iterdir()] == ["refs.bib"]


def test_missing_tables_say_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no tables in .*enriched.*run `make refresh` first"):
        export_tables(tmp_path, "csv")
    assert not (tmp_path / "enriched").exists()


def test_tables_of_another_schema_say_what_to_run(tmp_path: Path) -> None:
    write_sample_tables(tmp_path)
    pd.DataFrame({"arxiv_id": ["1"]}).to_parquet(tmp_path / "enriched" / "papers.parquet")
    with pytest.raises(InputError, match="papers table; run `make refresh`"):
        read_current(tmp_path / "enriched")


def test_unknown_format_lists_the_choices(data_dir: Path) -> None:
    with pytest.raises(InputError, match="bibtex, csv, jsonl, csljson, ris"):
        export_tables(data_dir, "xml")  # type: ignore[arg-type]


# -- the neutral record -----------------------------------------------------------------


def test_one_record_per_paper_says_what_it_is_and_where_it_appeared() -> None:
    papers = [_paper("1", "Proc. ICML 2019"), _paper("2"), _paper("3"), _paper("2")]
    entries = [_entry(1, "2", "Nature Physics", 2021), _entry(2, "2", "ICLR", 2020)]
    found = {c.arxiv_id: c for c in citations(papers, entries)}
    assert list(found) == ["1", "2", "3"]
    assert (found["1"].entry_type, found["1"].container, found["1"].year) == (
        EntryType.INPROCEEDINGS,
        "ICML",
        2020,
    )
    # The first listing that names a venue wins (by list, then line).
    assert (found["2"].entry_type, found["2"].container) == (
        EntryType.INPROCEEDINGS,
        "Nature Physics",
    )
    assert (found["3"].entry_type, found["3"].container, found["3"].doi) == (
        EntryType.PREPRINT,
        None,
        "10.48550/arXiv.3",
    )
    assert found["3"].authors == ("Ada Lovelace",) and found["3"].url == "https://arxiv.org/abs/3"
