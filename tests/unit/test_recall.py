"""The recall floor, the readers beyond Markdown, and several lists at once (issue 14)."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.lists.load import load_entries, load_list_file, read_list_file
from pipeline.lists.locate import LIST_SUFFIXES, expand_list_paths
from pipeline.lists.readers import FORMATS, format_for, parse_markdown
from pipeline.lists.recall import BUILT_FROM_HEADING, BUILT_FROM_TEXT
from pipeline.models import FindingKind, ListEntry, Status
from pipeline.quality import findings
from pipeline.stages import pending_entries

TESTS = Path(__file__).parents[1]
LISTS = TESTS / "fixtures" / "lists"


def _bench_recall():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "bench_recall", TESTS.parent / "bench" / "recall.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_recall"] = module
    spec.loader.exec_module(module)
    return module


RECALL = _bench_recall()
FIXTURES = [p.name for p in RECALL.lists_in([str(LISTS)]) if not p.name.endswith("4935ebcd.md")]


@pytest.mark.parametrize("name", FIXTURES)
def test_every_id_the_file_names_is_an_entry_or_excluded(name: str) -> None:
    """The closing note's floors, over the fixture copies of the corpus."""
    r = RECALL.measure(LISTS / name)
    assert r["with_excl"] == 1.0, r["missed"]
    assert r["recall"] >= 0.995, r["missed"]
    assert r["invented"] == []
    assert r["titled"] >= 0.98


def _one(markdown: str) -> ListEntry:
    [entry] = parse_markdown(markdown, "t.md")
    return entry


@pytest.mark.parametrize(
    ("markdown", "title", "venue", "year", "built"),
    [
        (
            "# L\n\n##### • [\\[arXiv:2206.07117\\]](https://arxiv.org/abs/2206.07117) TriHorn-Net:"
            " Hand Pose [\\[PDF\\]](https://arxiv.org/pdf/2206.07117)\n",
            "TriHorn-Net: Hand Pose",
            None,
            None,
            BUILT_FROM_HEADING,
        ),
        (
            "##### • [2021 BMVC] HandTailor: Monocular Hand Reconstruction "
            "[\\[PDF\\]](https://arxiv.org/pdf/2102.09244)\n",
            "HandTailor: Monocular Hand Reconstruction",
            "BMVC",
            2021,
            BUILT_FROM_HEADING,
        ),
        (
            '    <a href="https://arxiv.org/abs/2404.04319" title="SpatialTracker: Tracking Any '
            '2D Pixels in 3D Space"><img src="t.png"></a><br>[<a href="https://arxiv.org/abs/'
            '2404.04319">paper</a>] [<a href="https://github.com/a/b">code</a>]\n',
            "SpatialTracker: Tracking Any 2D Pixels in 3D Space",
            None,
            None,
            BUILT_FROM_TEXT,
        ),
        (
            '**[5]** Simonyan, Karen. "**Very deep convolutional networks for large-scale image '
            'recognition**." arXiv preprint arXiv:1409.1556 (2014). [[pdf]](https://x.org/a.pdf)\n',
            "Very deep convolutional networks for large-scale image recognition",
            None,
            2014,
            BUILT_FROM_TEXT,
        ),
        (
            "## Papers\n### 1. Street Gaussians for Dynamic Scenes\n**Authors**: A. B\n\n"
            "  [📄 Paper](https://arxiv.org/pdf/2401.01339.pdf) | [💻 Code](https://github.com/a/b)\n",
            "Street Gaussians for Dynamic Scenes",
            None,
            None,
            BUILT_FROM_HEADING,
        ),
        (
            "**Segment Anything in High Quality**\n- https://arxiv.org/abs/2306.01567\n",
            "Segment Anything in High Quality",
            None,
            None,
            None,
        ),
        (
            "1) Segment Anything in High Quality, NeurIPS 2023. https://arxiv.org/abs/2306.01567\n",
            "Segment Anything in High Quality",
            "NeurIPS",
            2023,
            None,
        ),
        (
            "🔥 [Segment Anything in High Quality](https://arxiv.org/abs/2306.01567) "
            "NeurIPS 2023\n",
            "Segment Anything in High Quality",
            "NeurIPS",
            2023,
            BUILT_FROM_TEXT,
        ),
    ],
)
def test_shapes_without_list_structure_still_make_entries(
    markdown: str, title: str, venue: str | None, year: int | None, built: str | None
) -> None:
    entry = _one(markdown)
    assert (entry.title, entry.venue, entry.year, entry.built_from) == (title, venue, year, built)
    assert entry.arxiv_id is not None and entry.arxiv_id in markdown


def test_heading_entries_are_under_the_headings_above_them() -> None:
    text = (
        "# Paper list\n\n## Pose\n\n### [ICCV 2019] Camera Distance-aware Pose Estimation "
        "[[pdf]](https://arxiv.org/abs/1907.11346)\n_A. Moon_\n\n### [arxiv 2019] XNect: "
        "Real-time Pose [[pdf]](https://arxiv.org/abs/1907.00837)\n"
    )
    entries = parse_markdown(text, "t.md")
    assert [(e.line, e.section, e.venue, e.year) for e in entries] == [
        (5, "Pose", "ICCV", 2019),
        (8, "Pose", "arxiv", 2019),
    ]


@pytest.mark.parametrize(
    ("markdown", "reason"),
    [
        (
            "* [A Title](https://arxiv.org/abs/2104.00001)\n```\n@misc{x, eprint={2409.07253}}\n"
            "arXiv:2409.07253\n```\n",
            "inside a code block",
        ),
        (
            "* [A Title](https://arxiv.org/abs/2104.00001)\n<!-- arXiv:2409.07253 -->\n",
            "inside an HTML comment",
        ),
        (
            "* [A Title](https://arxiv.org/abs/2104.00001) ![f](https://arxiv.org/pdf/2409.07253)\n",
            "the source of an image",
        ),
        (
            "* [A Title](https://arxiv.org/abs/2104.00001), [ext](https://arxiv.org/abs/2409.07253)\n",
            "a further arXiv id on line 1, whose entry is 2104.00001",
        ),
        (
            "# My list\nSee our survey [Our Survey Title](https://arxiv.org/abs/2409.07253).\n\n"
            "## Papers\n* [A Title](https://arxiv.org/abs/2104.00001)\n",
            "introduction",
        ),
    ],
)
def test_ids_left_out_are_recorded_with_their_reason(
    tmp_path: Path, markdown: str, reason: str
) -> None:
    path = tmp_path / "l.md"
    path.write_text(markdown, encoding="utf-8")
    parsed = read_list_file(path)
    assert [e.arxiv_id for e in parsed.entries] == ["2104.00001"]
    [exclusion] = parsed.exclusions
    assert exclusion.arxiv_id == "2409.07253" and reason in exclusion.reason


BIB = """@article{a, title = {GEO: Generative Engine {Optimization}}, journal = {arXiv preprint
  arXiv:2311.09735}, year = {2023}}
@inproceedings{b, title={From eprint}, booktitle={NeurIPS}, year={2022}, eprint={2201.00001},
  archivePrefix={arXiv}}
@misc{c, title={Learning From an arXiv DOI}, year={2021}, doi={10.48550/arXiv.2101.00002}}
@article{d, title={Only a DOI}, journal={Nature}, year={2020}, doi={10.1038/s41586-020-1}}
@misc{e, title={From a URL}, url={https://arxiv.org/abs/2001.00003v2}}
"""


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "l.bib",
            BIB,
            [
                ("GEO: Generative Engine Optimization", "arXiv", 2023, "2311.09735"),
                ("From eprint", "NeurIPS", 2022, "2201.00001"),
                ("Learning From an arXiv DOI", None, 2021, "2101.00002"),
                ("Only a DOI", "Nature", 2020, None),
                ("From a URL", None, None, "2001.00003"),
            ],
        ),
        (
            "l.csv",
            'year,title,venue,paper_url\r\n2025,"Critiques of World Models, Again",arXiv,'
            "https://arxiv.org/abs/2507.05169\r\n1943,The Nature of Explanation,CUP,"
            "https://archive.org/details/x\r\n",
            [
                ("Critiques of World Models, Again", "arXiv", 2025, "2507.05169"),
                ("The Nature of Explanation", "CUP", 1943, None),
            ],
        ),
        (
            "l.tsv",
            "name\tlink\nA Tab Separated Paper\thttps://arxiv.org/pdf/2301.00004.pdf\n",
            [("A Tab Separated Paper", None, None, "2301.00004")],
        ),
        (
            "l.json",
            '[{"id": "2603.29844v1", "title": "DIAL: Decoupling Intent", "published": '
            '"2026-03-31", "summary": "We build on arXiv:2510.26742."}]',
            [("DIAL: Decoupling Intent", None, 2026, "2603.29844")],
        ),
        (
            "l.yaml",
            "date: 2026\npapers:\n- id: x\n  title: Growing Neural Cellular Automata\n"
            "  year: '2020-09-19'\n  urls:\n    arxiv: https://arxiv.org/abs/2009.09347\n"
            "    code: https://github.com/a/b\n",
            [("Growing Neural Cellular Automata", None, 2020, "2009.09347")],
        ),
        (
            "l.txt",
            "# my reading list\n2304.05977\nhttps://arxiv.org/abs/2401.00001v2  A Title\n",
            [("", None, None, "2304.05977"), ("A Title", None, None, "2401.00001")],
        ),
        (
            "llms.txt",
            "Key papers:\n- GEO: Generative Engine Optimization. https://arxiv.org/abs/2311.09735\n",
            [("GEO: Generative Engine Optimization", None, None, "2311.09735")],
        ),
        (
            "l.rst",
            "Papers\n======\n\n- Distilling the knowledge in a neural network (2015), G. Hinton "
            "et al. `[pdf] <http://arxiv.org/1503.02531>`__\n",
            [("Distilling the knowledge in a neural network", None, 2015, "1503.02531")],
        ),
        (
            "l.html",
            '<html><body><table><tr><td><a href="https://p.io/"><span class="papertitle">CAT4D:'
            " Create Anything</span></a><br><strong>J. Barron</strong><br><em>CVPR</em>, 2025"
            '<br><a href="https://arxiv.org/abs/2411.18613">arXiv</a></td></tr></table>',
            [("CAT4D: Create Anything", "CVPR", 2025, "2411.18613")],
        ),
    ],
)
def test_readers_beyond_markdown(
    tmp_path: Path, name: str, text: str, expected: list[tuple[object, ...]]
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    entries = load_list_file(path)
    assert [(e.title, e.venue, e.year, e.arxiv_id) for e in entries] == expected


def test_a_doi_only_entry_keeps_its_title_for_resolution(tmp_path: Path) -> None:
    path = tmp_path / "l.bib"
    path.write_text(BIB, encoding="utf-8")
    entry = next(e for e in load_list_file(path) if e.title == "Only a DOI")
    assert entry.arxiv_id is None and entry.url == "https://doi.org/10.1038/s41586-020-1"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("l.docx", "* [T](https://arxiv.org/abs/2304.05977)", "no reader for '.docx' files"),
        ("l.json", "{not json", "not valid JSON"),
        ("l.yaml", "a: [b", "not valid YAML"),
        ("l.bib", "just words", "no BibTeX entries"),
    ],
)
def test_a_file_no_reader_accepts_is_refused_naming_the_formats(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_list_file(path)
    assert str(path) in str(err.value) and message in str(err.value)
    if name == "l.docx":
        assert "Markdown (.md" in str(err.value) and "BibTeX (.bib" in str(err.value)


def test_formats_are_chosen_by_content_when_the_name_has_no_suffix() -> None:
    fmt = format_for("https://example.org/papers", "<!DOCTYPE html><html></html>")
    assert not isinstance(fmt, str) and fmt.name == "HTML"
    fmt = format_for("README", "* [T](https://arxiv.org/abs/2304.05977)")
    assert not isinstance(fmt, str) and fmt.name == "Markdown"
    fmt = format_for("export", '[{"title": "T", "url": "https://arxiv.org/abs/2304.05977"}]')
    assert not isinstance(fmt, str) and fmt.name == "JSON"


def test_directories_hold_every_format_we_read() -> None:
    assert set(LIST_SUFFIXES) == {s for f in FORMATS for s in f.suffixes}


def test_an_unreadable_file_in_a_directory_is_skipped_and_reported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("* [T](https://arxiv.org/abs/2304.05977)\n", encoding="utf-8")
    (tmp_path / "b.md").write_bytes(b"\xff\xfe broken")
    (tmp_path / "notes.png").write_bytes(b"\x89PNG")
    assert [p.name for p in expand_list_paths([tmp_path])] == ["a.md", "b.md"]
    skipped: list[str] = []
    entries = load_entries([str(tmp_path)], None, tmp_path / "copies", skipped=skipped)
    assert [e.list for e in entries] == ["a.md"]
    [line] = skipped
    assert "b.md" in line and "not UTF-8" in line
    with pytest.raises(InputError):  # one file named on its own: its error is the run's
        load_entries([str(tmp_path / "b.md")], None, tmp_path / "copies", skipped=[])


def test_a_paper_in_two_lists_is_not_a_duplicate_but_twice_in_one_is() -> None:
    def entry(name: str, line: int) -> ListEntry:
        return ListEntry(name, line, "", "T", arxiv_id="2304.05977")

    enriched = pending_entries([entry("a.md", 1), entry("b.md", 1), entry("b.md", 9)], set())
    enriched = [dataclasses.replace(e, status=Status.ENRICHED) for e in enriched]
    found = findings(enriched, {})
    assert [(f["list"], f["line"], f["kind"]) for f in found] == [
        ("b.md", 9, FindingKind.DUPLICATE)
    ]


def test_entries_built_from_structure_are_structure_findings() -> None:
    [entry] = parse_markdown(
        "### Title of a Paper [[pdf]](https://arxiv.org/abs/2304.05977)\n", "t.md"
    )
    [finding] = findings(pending_entries([entry], set()), {})
    assert finding["kind"] == FindingKind.STRUCTURE
    assert BUILT_FROM_HEADING in finding["detail"] and "Title of a Paper" in finding["detail"]
