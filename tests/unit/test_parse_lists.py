"""Real awesome lists (tests/fixtures/lists, provenance in INDEX.tsv) and every entry shape.

The arXiv ids the parser finds are checked against an independent count: a deliberately
simple line regex over the raw text (arXiv ``abs``/``pdf`` URLs, ``10.48550/arXiv.`` DOIs
and ``arXiv:`` mentions on lines that start a list item or a table row, outside code blocks
and HTML comments). It does not see figure images (``arxiv.org/html/.../x1.png``), badge
images, or references in prose paragraphs, none of which are entries. Documented exclusions
are listed in ``EXCLUDED``; ids in malformed links count as surfaced when the entry carries
an ``id_problem``.

Regenerate the goldens after a deliberate change with ``UPDATE_GOLDEN=1 pytest tests/unit``.
"""

from __future__ import annotations

import csv
import os
import random
import re
from pathlib import Path

import pytest

from pipeline.lists.load import load_list_file
from pipeline.lists.readers import parse_markdown
from pipeline.models import ListEntry

TESTS = Path(__file__).parents[1]
LISTS = TESTS / "fixtures" / "lists"
GOLDEN = TESTS / "golden" / "lists"
SEED_NAME = "awesome-alignment-of-diffusion-models.md"


def _index() -> list[dict[str, str]]:
    with (LISTS / "INDEX.tsv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


CORPUS = [row["file"] for row in _index()]

EXCLUDED = {
    ("Hannibal046__Awesome-LLM__006410de.md", "2210.17323"): (
        "second arXiv link of the GPTQ-for-LLaMA tool item, whose paper link is LLaMA"
    ),
    ("Yutong-Zhou-cv__Awesome-Text-to-Image__b2a6b3fa.md", "2104.08910"): (
        "TediGAN's [[Extended Version]] link; the entry's paper is its first link 2012.03308"
    ),
}

_ID = r"\d{4}\.\d{4,5}(?!\d)|[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7}(?!\d)"
_REF = re.compile(
    rf"arxiv\.org/(?:abs|pdf)/+({_ID})|10\.48550/arxiv\.({_ID})|arxiv:\s?({_ID})", re.I
)
_ITEM_LINE = re.compile(r"^\s*(?:[*+-]|\d+[.)])\s|^\s*\|")
_FENCE = re.compile(r"\s*(`{3,}|~{3,})")


def _ids_in(text: str) -> set[str]:
    return {
        re.sub(r"\.[A-Z]{2}/", "/", next(g for g in m.groups() if g)) for m in _REF.finditer(text)
    }


def independent_ids(text: str) -> set[str]:
    """arXiv ids on list-item and table-row lines, outside code blocks and HTML comments."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    found: set[str] = set()
    fence = ""
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
        elif m:
            fence = m.group(1)
        elif _ITEM_LINE.match(line):
            found |= _ids_in(line)
    return found


def appears(arxiv_id: str, raw: str) -> bool:
    if "/" not in arxiv_id:
        return arxiv_id in raw
    archive, number = arxiv_id.split("/")
    return re.search(rf"{re.escape(archive)}(?:\.[A-Za-z-]+)?/{number}", raw) is not None


def parsed(name: str) -> tuple[str, list[ListEntry]]:
    """The raw text and the entries, the reader chosen by suffix and content as a run does."""
    raw = (LISTS / name).read_bytes().decode("utf-8-sig")
    if name.endswith("4935ebcd.md"):  # titles only: load_list_file refuses a list without papers
        return raw, parse_markdown(raw, name)
    return raw, load_list_file(LISTS / name)


def test_index_matches_the_fixtures() -> None:
    on_disk = {p.name for p in LISTS.iterdir()} - {SEED_NAME, "INDEX.tsv"}
    assert set(CORPUS) == on_disk
    for row in _index():
        assert row["source_repo"] and re.fullmatch(r"[0-9a-f]{40}", row["commit"])


@pytest.mark.parametrize("name", CORPUS)
def test_recall_against_an_independent_count(name: str) -> None:
    raw, entries = parsed(name)
    found = {e.arxiv_id for e in entries if e.arxiv_id}
    expected = independent_ids(raw)
    surfaced_invalid = {i for e in entries if e.id_problem for i in _ids_in(e.url or "")}
    excluded = {i for (n, i) in EXCLUDED if n == name}
    assert excluded <= expected - found, "an exclusion is no longer needed"
    wanted = expected - excluded - surfaced_invalid
    missed = wanted - found
    recall = 1 - len(missed) / len(wanted) if wanted else 1.0
    assert recall >= 0.99, f"missed {sorted(missed)}"
    assert not missed, f"missed {sorted(missed)}"
    invented = {i for i in found if not appears(i, raw)}
    assert not invented


@pytest.mark.parametrize("name", CORPUS)
def test_entries_are_plausible(name: str) -> None:
    raw, entries = parsed(name)
    for e in entries:
        assert 2 <= len(e.title) <= 300, e
        assert "://" not in e.title and e.title.lower() not in ("pdf", "code", "paper", "[pdf]")
        assert e.url is not None or e.arxiv_id is not None
        if name.endswith(".md"):  # data formats spell links (doi, eprint, \/) their own way
            assert e.url is None or e.url in raw or e.url.replace("&", "&amp;") in raw, e
        assert e.code_url is None or re.match(
            r"(https?://)?(www\.)?(github|gitlab)\.com/", e.code_url
        )
        assert (e.arxiv_id is None) or (e.id_problem is None)
        assert e.year is None or 1900 <= e.year <= 2099
        assert e.venue is None or (e.venue.strip() == e.venue and e.venue)
        assert e.section == e.section.strip()
    assert [e.line for e in entries] == sorted(e.line for e in entries)


def _golden_tsv(entries: list[ListEntry]) -> str:
    rows = ["line\tarxiv_id\tversion\ttitle\tvenue\tyear\tnon_arxiv_url\tid_problem"]
    for e in entries:
        values = [
            e.line,
            e.arxiv_id,
            e.arxiv_version,
            e.title,
            e.venue,
            e.year,
            None if e.arxiv_id else e.url,
            e.id_problem,
        ]
        rows.append("\t".join("" if v is None else str(v) for v in values))
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("name", CORPUS)
def test_list_golden(name: str) -> None:
    _raw, entries = parsed(name)
    path = GOLDEN / (name.removesuffix(".md") + ".tsv")  # foo.md -> foo.tsv, foo.bib -> foo.bib.tsv
    text = _golden_tsv(entries)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run UPDATE_GOLDEN=1 pytest tests/unit"
    assert path.read_text(encoding="utf-8") == text


def test_titles_only_version_has_no_entries() -> None:
    """The 2024-08 version of the alignment list has titles but no links: nothing to invent."""
    _raw, entries = parsed("xie-lab-ml__awesome-alignment-of-diffusion-models__4935ebcd.md")
    assert entries == []


def test_known_data_errors_are_kept_as_listed() -> None:
    """Two titles share 2503.00897 in awesome-RLHF; the list is reported as it is."""
    _raw, entries = parsed("opendilab__awesome-RLHF__e5942c09.md")
    titles = [e.title for e in entries if e.arxiv_id == "2503.00897"]
    assert titles == [
        "Language Models Learn to Mislead Humans via RLHF",
        "A Simple and Effective Reinforcement Learning Method for Text-to-Image Diffusion "
        "Fine-tuning",
    ]


def test_sub_items_lend_code_and_venue_to_their_parent() -> None:
    _raw, entries = parsed("opendilab__awesome-RLHF__e5942c09.md")
    entry = next(e for e in entries if e.arxiv_id == "2510.26202")
    assert entry.code_url == "https://github.com/rmovva/wimhf"
    assert entry.section == "Papers / 2025"


def test_figure_images_and_badges_are_not_papers() -> None:
    raw, entries = parsed("horseee__Awesome-Efficient-LLM__215a1540.md")
    assert "arxiv.org/html/" in raw
    assert all("/html/" not in (e.url or "") for e in entries)
    sparse = next(e for e in entries if e.arxiv_id == "2301.00774")
    assert (sparse.title, sparse.venue, sparse.year) == (
        "SparseGPT: Massive Language Models Can Be Accurately Pruned in One-Shot",
        "ICML",
        2023,
    )  # title from the linked name, venue from the "Publish" badge
    assert sparse.code_url == "https://github.com/IST-DASLab/sparsegpt"


# -- shapes ----------------------------------------------------------------------------------


def one(markdown: str) -> ListEntry:
    [entry] = parse_markdown(markdown, "t.md")
    assert entry == parse_markdown(markdown, "t.md", fast_path=False)[0]
    return entry


def fields(e: ListEntry) -> tuple[object, ...]:
    return (e.title, e.venue, e.year, e.arxiv_id, e.arxiv_version)


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        (
            "* Title A. NeurIPS 2023, [[pdf]](https://arxiv.org/pdf/2304.05977)",
            ("Title A", "NeurIPS", 2023, "2304.05977", None),
        ),
        (
            "- Title B, CVPR 2024, [[pdf]](https://arxiv.org/abs/2304.05977v3)",
            ("Title B", "CVPR", 2024, "2304.05977", 3),
        ),
        (
            "+ **Title C** (ICML'23) [[paper]](https://arxiv.org/abs/2304.05977)",
            ("Title C", "ICML", 2023, "2304.05977", None),
        ),
        (
            "1. [Title D](https://arxiv.org/abs/2304.05977) - ACL 2024",
            ("Title D", "ACL", 2024, "2304.05977", None),
        ),
        (
            "* Title E. arXiv 2023, [[pdf]](https://arxiv.org/pdf/2304.05977.pdf)",
            ("Title E", "arXiv", 2023, "2304.05977", None),
        ),
        (
            "* (CVPR 2023) [💬 3D] **Title F**, A. Author et al. "
            "[[Paper](https://arxiv.org/abs/2304.05977)]",
            ("Title F", "CVPR", 2023, "2304.05977", None),
        ),
        (
            "1. **Title G**. *A. Author, B. Author*. EMNLP 2019. "
            "[[pdf](https://arxiv.org/pdf/1905.06316.pdf)] (**Nick**)",
            ("Title G", "EMNLP", 2019, "1905.06316", None),
        ),
        (
            "- [2023/09] **Title H.** *A. Author et al. arXiv.* [[paper](https://doi.org/10.48550/arXiv.2302.04023)]",
            ("Title H", "arXiv", None, "2302.04023", None),
        ),
        (
            "  - Richard S. Sutton, Andrew G. Barto, Title I of Things, ICML, 2012. [[Paper]](http://arxiv.org/pdf/1206.4621v1.pdf)",
            ("Title I of Things", "ICML", 2012, "1206.4621", 1),
        ),
        (
            "* *Emphasised* title with `code` J. ICLR 2024, [[pdf]](https://arxiv.org/abs/2304.05977)",
            ("Emphasised title with code J", "ICLR", 2024, "2304.05977", None),
        ),
        (
            "* Title K. NeurIPS 2023, [\\[PDF\\]](https://arxiv.org/abs/2304.05977)",
            ("Title K", "NeurIPS", 2023, "2304.05977", None),
        ),
        (
            "* Title L, see arXiv:2106.07139 (NAACL 2021)",
            ("Title L, see arXiv:2106.07139", "NAACL", 2021, "2106.07139", None),
        ),
        (
            "* Title M https://arxiv.org/abs/2304.05977 (bare URL)",
            ("Title M", None, None, "2304.05977", None),
        ),
    ],
)
def test_item_shapes(markdown: str, expected: tuple[object, ...]) -> None:
    assert fields(one(markdown)) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://arxiv.org/abs/2304.05977",
        "http://arxiv.org/abs/2304.05977",
        "https://arxiv.org/pdf/2304.05977",
        "https://arxiv.org/pdf/2304.05977.pdf",
        "https://arxiv.org/pdf/2304.05977v2",
        "https://arxiv.org/html/2304.05977",
        "https://export.arxiv.org/abs/2304.05977",
        "https://www.arxiv.org/abs/2304.05977",
        "https://arxiv.org/abs//2304.05977",
        "https://arxiv.org/abs/2304.05977?context=cs#x",
        "https://doi.org/10.48550/arXiv.2304.05977",
        "https://huggingface.co/papers/2304.05977",
        "https://alphaxiv.org/abs/2304.05977",
    ],
)
def test_every_link_form(url: str) -> None:
    assert one(f"* Some Title. NeurIPS 2023, [[pdf]]({url})").arxiv_id == "2304.05977"
    assert one(f"* Some Title {url}").arxiv_id == "2304.05977"  # bare, no Markdown link


def test_old_style_ids() -> None:
    e = one("* KnightCap (1999) [[arXiv]](http://arxiv.org/pdf/cs/9901002v1.pdf)")
    assert (e.arxiv_id, e.arxiv_version, e.year) == ("cs/9901002", 1, 1999)
    assert one("* X [abs](https://arxiv.org/abs/math.GT/0309136)").arxiv_id == "math/0309136"


def test_malformed_links_keep_the_entry_and_say_why() -> None:
    e = one("* Broken One. ICML 2024, [[pdf]](https://arxiv.org/abs/2401.123456789)")
    assert (e.title, e.arxiv_id, e.url) == (
        "Broken One",
        None,
        "https://arxiv.org/abs/2401.123456789",
    )
    assert e.id_problem is not None
    assert e.id_problem.startswith(
        "malformed arXiv id '2401.123456789' in https://arxiv.org/abs/2401.123456789"
    )
    assert "month 13" in (one("* M [[pdf]](https://arxiv.org/abs/2313.01234)").id_problem or "")
    assert one("* N [[pdf]](https://arxiv.org/abs/abc)").id_problem


def test_non_arxiv_paper_hosts_are_entries() -> None:
    for url in (
        "https://openreview.net/forum?id=abc",
        "https://www.jstor.org/stable/2334029",
        "https://psycnet.apa.org/record/1960-03588-000",
        "https://dl.acm.org/doi/10.1145/3503161.3547818",
        "https://ieeexplore.ieee.org/document/9666791",
        "https://aclanthology.org/2023.findings-acl.403/",
        "https://proceedings.mlr.press/v235/lee24t.html",
        "https://doi.org/10.1016/S0019-9958(77)90354-0",
        "https://link.springer.com/article/10.1007/s00138-022-01298-7",
        "https://www.nature.com/articles/s41586-019-1724-z",
        "https://www.sciencedirect.com/science/article/pii/S0031320323001589",
        "https://example.org/papers/mine.pdf",
    ):
        e = one(f"* A Paper Title. Some Venue 2020, [link]({url})")
        assert (e.url, e.arxiv_id, e.title) == (url, None, "A Paper Title")


@pytest.mark.parametrize(
    "markdown",
    [
        "* [Table of contents](#section)",
        "* [![Awesome](https://awesome.re/badge.svg)](https://awesome.re)",
        "* [Contributing](CONTRIBUTING.md) and [License](LICENSE)",
        "* [Some Tool](https://github.com/org/tool) - does things",
        "* [Project page](https://project.github.io/)",
        "* ![arXiv](https://img.shields.io/badge/arXiv-2211.06220-b31b1b.svg)",
        "* <img src='https://arxiv.org/html/2402.09773v1/x1.png'>",
        "```\n* Title. NeurIPS 2023, [[pdf]](https://arxiv.org/abs/2304.05977)\n```",
        "<!-- * Title [[pdf]](https://arxiv.org/abs/2304.05977) -->",
        "* Title only, no link. NeurIPS 2023",
    ],
)
def test_not_entries(markdown: str) -> None:
    assert parse_markdown(markdown, "t.md") == []
    assert parse_markdown(markdown, "t.md", fast_path=False) == []


def test_multi_line_item() -> None:
    e = one(
        "* A Long Title That\n  Wraps Onto Two Lines. NeurIPS 2023,\n"
        "  [[pdf]](https://arxiv.org/abs/2304.05977)"
    )
    assert fields(e) == (
        "A Long Title That Wraps Onto Two Lines",
        "NeurIPS",
        2023,
        "2304.05977",
        None,
    )
    assert e.line == 1


def test_nested_items() -> None:
    md = """# List

## Papers

- [Parent Paper](https://arxiv.org/abs/2304.05977)
  - Author One, Author Two
  - Keyword: things
  - Code: [Official](https://github.com/org/parent)
  - [Child Paper](https://arxiv.org/abs/2305.18290) - ICML 2023
    - Code: [GitHub](https://github.com/org/child)
- **Grouped Title** NeurIPS 2022
  - [[pdf]](https://arxiv.org/pdf/2203.02155)
  - [[code]](https://gitlab.com/org/grouped)
- <span>**Not a paper heading**</span>
  - (CVPR 2021) **Nested One** [[Paper](https://arxiv.org/abs/2012.03308)]
"""
    entries = parse_markdown(md, "t.md")
    assert entries == parse_markdown(md, "t.md", fast_path=False)
    got = [(e.line, e.title, e.arxiv_id, e.code_url, e.venue, e.year) for e in entries]
    assert got == [
        (5, "Parent Paper", "2304.05977", "https://github.com/org/parent", None, None),
        (9, "Child Paper", "2305.18290", "https://github.com/org/child", "ICML", 2023),
        (11, "Grouped Title", "2203.02155", "https://gitlab.com/org/grouped", "NeurIPS", 2022),
        (15, "Nested One", "2012.03308", None, "CVPR", 2021),
    ]
    assert {e.section for e in entries} == {"Papers"}


def test_tables() -> None:
    badge = "https://img.shields.io/badge/arXiv-2211.06220-b31b1b.svg"
    md = "\n".join(
        [
            "## Milestones",
            "",
            "| Date | Keywords | Paper | Publication | Code |",
            "|:----:|:--------:|-------|:-----------:|------|",
            "| 2017-06 | Transformers | [Attention Is All You Need](https://arxiv.org/pdf/"
            "1706.03762.pdf) | NeurIPS<br>![badge](https://img.shields.io/badge/x-y-z) | "
            "[code](https://github.com/org/a) |",
            "| 2018-10 | BERT | [BERT: Pre-training](https://aclanthology.org/N19-1423.pdf) "
            "| NAACL | |",
            "| 2020-01 | Nothing | [Blog post](https://openai.com/blog/x) | - | |",
            "",
            "| Model | Size | Origin |",
            "|---|---|---|",
            "|Flan-PaLM| 540B |[Paper](https://arxiv.org/pdf/2210.11416.pdf)|",
            "",
            "| **topic** | **title** | **repository / paper** |",
            "|:---:|:---:|:---:|",
            f"| Segmentation | OneFormer: One Transformer | [![arXiv]({badge})]"
            "(https://arxiv.org/abs/2211.06220) |",
            "",
        ]
    )
    entries = parse_markdown(md, "t.md")
    assert entries == parse_markdown(md, "t.md", fast_path=False)
    got = [
        (e.line, e.title, e.venue, e.arxiv_id, e.url if not e.arxiv_id else e.code_url)
        for e in entries
    ]
    assert got == [
        (5, "Attention Is All You Need", "NeurIPS", "1706.03762", "https://github.com/org/a"),
        (6, "BERT: Pre-training", "NAACL", None, "https://aclanthology.org/N19-1423.pdf"),
        (11, "Flan-PaLM", None, "2210.11416", None),
        (15, "OneFormer: One Transformer", None, "2211.06220", None),
    ]


def test_html_blocks() -> None:
    md = """# Title

<p align="center"><img src="https://example.com/banner.png"></p>

<ul>
  <li><a href="https://arxiv.org/abs/2304.05977">HTML Listed Paper</a>, ICLR 2024</li>
  <li><a href="https://github.com/org/tool">A tool</a></li>
</ul>

<table>
  <tr><th>Title</th><th>Link</th></tr>
  <tr><td>Row Paper</td><td><a href="https://arxiv.org/pdf/2305.18290">pdf</a></td></tr>
</table>

<p>
<a href="https://openreview.net/forum?id=xyz"><b>Paragraph Paper</b></a>
</p>
"""
    entries = parse_markdown(md, "t.md")
    assert entries == parse_markdown(md, "t.md", fast_path=False)
    got = [(e.line, e.title, e.venue, e.year, e.arxiv_id) for e in entries]
    assert got == [
        (6, "HTML Listed Paper", "ICLR", 2024, "2304.05977"),
        (12, "Row Paper", None, None, "2305.18290"),
        (16, "Paragraph Paper", None, None, None),
    ]


def test_sections_and_document_title() -> None:
    md = """# My Awesome List
Intro [![badge](https://img.shields.io/badge/a-b-c)](https://x.org).

- [Contents](#contents)

## Part *One*
### <span id="x">Sub `A`</span>
* P1 [[pdf]](https://arxiv.org/abs/2304.05977)
## Part Two
* P2 [[pdf]](https://arxiv.org/abs/2305.18290)
# Citing
* P3 [[pdf]](https://arxiv.org/abs/2212.08073)
"""
    sections = [e.section for e in parse_markdown(md, "t.md")]
    assert sections == ["Part One / Sub A", "Part Two", "Citing"]
    # A first heading with entries right under it is a section, not the document title.
    md2 = "# Papers\n* P1 [[pdf]](https://arxiv.org/abs/2304.05977)\n# Code\n"
    assert [e.section for e in parse_markdown(md2, "t.md")] == ["Papers"]


def test_line_numbers_and_list_name() -> None:
    md = "\n\n# T\n\n* A [[pdf]](https://arxiv.org/abs/2304.05977)\n\n\n1. B [x](https://openreview.net/forum?id=1)\n"
    entries = parse_markdown(md, "source.md")
    assert [(e.line, e.list) for e in entries] == [(5, "source.md"), (8, "source.md")]


# -- speed -----------------------------------------------------------------------------------

_WORDS = re.findall(
    r"\w+",
    "learning diffusion models alignment reward preference language large vision transformer "
    "efficient scalable robust human feedback policy optimization generation text image video",
)
_VENUES = ["NeurIPS", "ICML", "ICLR", "CVPR", "ACL", "EMNLP", "arXiv", "AAAI"]


def generated_list(size: int, seed: int = 0) -> str:
    """A list of about ``size`` bytes in the shapes of the corpus lists, 20 per section."""
    rnd = random.Random(seed)
    out = ["# Generated paper list", "", "Intro with a [link](https://example.com).", ""]
    total = n = 0
    while total < size:
        shape = rnd.randrange(6)
        block = [f"## Section {n}", ""]
        if shape == 5:
            block += ["| Title | Venue | Code |", "|---|---|---|"]
        for _ in range(20):
            n += 1
            title = f"Model{n}: " + " ".join(rnd.choices(_WORDS, k=rnd.randint(4, 10)))
            venue, year = rnd.choice(_VENUES), rnd.randint(2015, 2025)
            aid = f"{year % 100:02d}{rnd.randint(1, 12):02d}.{rnd.randint(1, 99999):05d}"
            code = f"https://github.com/org/repo{n}"
            block += [
                f"* {title}. {venue} {year}, [[pdf]](https://arxiv.org/pdf/{aid})",
                f"{n % 100 + 1}. **{title}**. *A. Smith, B. Jones*. {venue} {year}. "
                f"[[pdf](https://arxiv.org/pdf/{aid}.pdf)] [[code]({code})]",
                f"- [2023/05] **{title}.** *A. Smith et al. {venue}.* "
                f"[[paper](https://arxiv.org/abs/{aid})] [[code]({code})]",
                f"- [{title}](https://arxiv.org/abs/{aid})\n  - A. Smith, B. Jones\n"
                f"  - Keyword: {rnd.choice(_WORDS)}\n  - Code: [Official]({code})",
                f"* (CVPR {year}) **{title}**, A. Smith et al. [[Paper](https://arxiv.org/abs/{aid})]",
                f"| [{title}](https://arxiv.org/abs/{aid}) | {venue} {year} | [code]({code}) |",
            ][shape : shape + 1]
        text = "\n".join(block) + "\n\n"
        out.append(text)
        total += len(text)
    return "\n".join(out)


def test_a_ten_megabyte_list_parses_whole() -> None:
    # Its speed is measured by `make bench` (parse throughput), never asserted here: these
    # machines are shared and a timed assertion would only flake.
    text = generated_list(10_000_000)
    assert len(text.encode()) >= 10_000_000
    entries = parse_markdown(text, "big.md")
    listed = text.count("arxiv.org/")
    assert len(entries) > 50_000
    assert sum(1 for e in entries if e.arxiv_id) == listed
