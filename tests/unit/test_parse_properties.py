"""Properties of the parser: total on any text, honest about ids, exact on its own output."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.arxiv_ids import classify_url
from pipeline.lists.readers import parse_markdown
from pipeline.models import ListEntry
from tests.render_list import render_markdown

# -- never raises; ids come from the input ---------------------------------------------------

_INLINE = st.sampled_from(
    [
        "Title",
        " ",
        "Some Words",
        "**bold**",
        "*em*",
        "_u_",
        "__uu__",
        "***",
        "`code`",
        "[pdf]",
        "[[pdf]](https://arxiv.org/abs/2304.05977)",
        "[Title](https://arxiv.org/pdf/2305.18290v2.pdf)",
        "[x](https://github.com/a/b)",
        "[y](https://openreview.net/forum?id=1)",
        "[bad](https://arxiv.org/abs/2401.123456789)",
        "[fig](https://arxiv.org/html/2402.09773v1/x1.png)",
        "![img](https://img.shields.io/badge/arXiv-2211.06220-b31b1b.svg)",
        "[![b](https://img.shields.io/badge/Conference-ICML'23-blue)]()",
        "<a href='https://arxiv.org/abs/2212.08073'>",
        "</a>",
        "<br>",
        "<b>",
        "</b>",
        "&amp;",
        "&",
        "\\[",
        "\\*",
        "!",
        "[2023/09]",
        ". NeurIPS 2023",
        ", ",
        "(ICML'23)",
        "(CVPR 2021)",
        "arXiv:2106.07139",
        "https://arxiv.org/abs/hep-th/9901001v1",
        "10.48550/arXiv.2302.04023",
        "|",
        "<!--",
        "-->",
        "(",
        ")",
        "[",
        "]",
        "\u00a0",
        "\x1c",
        "é",
        "🔥",
    ]
)
_PREFIX = st.sampled_from(
    [
        "",
        "",
        "* ",
        "- ",
        "+ ",
        "1. ",
        "2) ",
        "  - ",
        "  * ",
        "   - ",
        "    * ",
        "     1. ",
        "   ",
        "    ",
        "\t",
        "# ",
        "## ",
        "> ",
        "| ",
        "|---|---|",
        "| --- |",
        "```",
        "~~~",
        "<div>",
        "</div>",
        "<details>",
        "<pre>",
        "</pre>",
        "- [ ] ",
        "* * *",
        "---",
        "===",
        "[ref]: https://arxiv.org/abs/2304.05977",
        "[^1]: note",
    ]
)
_LINE = st.builds(lambda p, parts: p + "".join(parts), _PREFIX, st.lists(_INLINE, max_size=6))
_DOC = st.lists(st.one_of(_LINE, st.just("")), max_size=25).map("\n".join)


def _appears(arxiv_id: str, text: str) -> bool:
    if "/" not in arxiv_id:
        return arxiv_id in text
    archive, number = arxiv_id.split("/")
    return re.search(rf"{re.escape(archive)}(?:\.[A-Za-z-]+)?/{number}", text) is not None


def _check(text: str) -> list[ListEntry]:
    entries = parse_markdown(text, "p.md")
    for e in entries:
        assert e.list == "p.md"
        assert 1 <= e.line <= text.count("\n") + 1
        if e.arxiv_id is not None:
            assert _appears(e.arxiv_id, text)
    return entries


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text(text: str) -> None:
    _check(text)


@settings(max_examples=300, deadline=None)
@given(_DOC)
def test_markdown_like_text(text: str) -> None:
    _check(text)


@pytest.mark.parametrize(
    "text",
    [
        "<ul>" + "<li>" * 3000 + "<a href='https://arxiv.org/abs/2304.05977'>Deep</a>",
        "> " * 2000 + "* [Deep](https://arxiv.org/abs/2304.05977)",
        "".join("  " * i + "- x\n" for i in range(300))
        + "- [Deep](https://arxiv.org/abs/2304.05977)",
        "[" * 5000 + "](https://arxiv.org/abs/2304.05977)" + "]" * 5000,
        "*" * 10000 + "[[pdf]](https://arxiv.org/abs/2304.05977)",
        "<!DOCTYPE" + "<![CDATA[" * 100,
        "| a |\n|---|\n" + "| x |\n" * 2000,
    ],
)
def test_deep_and_degenerate_input(text: str) -> None:
    _check(text)
    assert parse_markdown(text, "p.md") == parse_markdown(text, "p.md", fast_path=False)


# -- render -> parse round trip --------------------------------------------------------------

_WORD = st.builds(
    lambda w, n: w + n,
    st.sampled_from(["Deep", "Aligning", "Reward", "Zeta", "Omni", "Kernel", "Go", "Ab", "Xi"]),
    st.sampled_from(["", "", "2", "x", "net"]),
)
_TITLE = st.builds(
    lambda head, words, seps: (
        head + "".join(s + w for s, w in zip(seps, words, strict=False)) + " Zorblax"
    ),
    _WORD,
    st.lists(_WORD, max_size=6),
    st.lists(st.sampled_from([" ", ": ", ", ", " - ", " & ", "? ", " (", ") ", "/"]), max_size=6),
).map(lambda t: " ".join(t.split()))
_SECTION = st.one_of(
    st.just(""),
    st.lists(
        st.builds(
            lambda a, b: f"{a} {b}".strip(), _WORD, st.sampled_from(["", "RLHF", "3.1", "#1"])
        ),
        min_size=1,
        max_size=7,
    ).map(" / ".join),
)
_VENUE = st.one_of(
    st.none(),
    st.sampled_from(["NeurIPS", "ICML", "arXiv", "Nature Machine Intelligence", "ACM MM"]),
    st.builds(lambda a, b: f"{a} {b} Workshop", _WORD, _WORD),
)
_YEAR = st.one_of(st.none(), st.integers(1990, 2030))
_NEW_ID = st.builds(
    lambda y, m, n: f"{y:02d}{m:02d}.{n:05d}",
    st.integers(15, 29),
    st.integers(1, 12),
    st.integers(1, 99999),
)
_CODE = st.one_of(st.none(), st.builds(lambda a, b: f"https://github.com/{a}/{b}", _WORD, _WORD))


@st.composite
def _paper(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(st.sampled_from(["abs", "pdf", "text", "other", "malformed"]))
    arxiv_id = draw(_NEW_ID)
    version = draw(st.one_of(st.none(), st.integers(1, 9)))
    suffix = f"v{version}" if version else ""
    if kind == "abs":
        return {
            "url": f"https://arxiv.org/abs/{arxiv_id}{suffix}",
            "arxiv_id": arxiv_id,
            "arxiv_version": version,
        }
    if kind == "pdf":
        return {
            "url": f"https://arxiv.org/pdf/{arxiv_id}{suffix}.pdf",
            "arxiv_id": arxiv_id,
            "arxiv_version": version,
        }
    if kind == "text":
        return {"url": None, "arxiv_id": arxiv_id, "arxiv_version": version}
    if kind == "other":
        host = draw(st.sampled_from(["openreview.net/forum?id=", "www.jstor.org/stable/"]))
        return {"url": f"https://{host}{draw(_WORD)}", "arxiv_id": None, "arxiv_version": None}
    url = f"https://arxiv.org/abs/{arxiv_id}{draw(st.sampled_from(['9', 'x']))}1"
    problem = classify_url(url).problem
    return {"url": url, "arxiv_id": None, "arxiv_version": None, "id_problem": problem}


_ENTRY = st.builds(
    lambda section, title, venue, year, paper, code: ListEntry(
        list="r.md",
        line=0,
        section=section,
        title=title,
        venue=venue,
        year=year,
        code_url=code,
        **paper,  # type: ignore[arg-type]
    ),
    _SECTION,
    _TITLE,
    _VENUE,
    _YEAR,
    _paper(),
    _CODE,
)


def _comparable(entries: list[ListEntry]) -> list[ListEntry]:
    # built_from says how the source was shaped; a rendered list makes every entry an item.
    return [dataclasses.replace(e, line=0, list="r.md", built_from=None) for e in entries]


@settings(max_examples=200, deadline=None)
@given(st.lists(_ENTRY, max_size=12))
def test_render_then_parse_gives_the_same_entries(entries: list[ListEntry]) -> None:
    text = render_markdown(entries)
    assert _comparable(parse_markdown(text, "other.md")) == entries


def test_render_round_trips_every_corpus_shape() -> None:
    """Entries parsed from a real list survive render -> parse (not just generated ones)."""
    from pathlib import Path

    for path in sorted((Path(__file__).parents[1] / "fixtures" / "lists").glob("*.md")):
        name = path.name
        entries = parse_markdown(path.read_text(encoding="utf-8"), name)
        again = parse_markdown(render_markdown(entries), name)
        assert _comparable(again) == _comparable(entries)
