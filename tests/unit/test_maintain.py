"""The pure parts of check, fix and suggest: order detection, workflow-command escaping,
byte-exact edits, list style."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.maintain.check import (
    DEFAULT_FAIL_ON,
    escape_data,
    escape_property,
    gate,
    parse_kinds,
    render_github,
)
from pipeline.maintain.fix import apply_edits, plan_edits
from pipeline.maintain.options import FixKind
from pipeline.maintain.order import detect_order, keepers
from pipeline.maintain.style import detect_style
from pipeline.maintain.suggest import main_categories, search_query


def test_a_section_is_sorted_when_most_pairs_agree() -> None:
    assert detect_order({"published": [1, 2, 3, 9, 4, 5, 6]}) is not None
    assert detect_order({"published": [5, 1, 4, 2, 6, 3]}) is None
    newest_first = detect_order({"published": [9, 8, 7, 1, 6, 5]})
    assert newest_first is not None and newest_first.descending
    assert detect_order({"published": [1, 2, 3]}) is None  # too few pairs to say


def test_keepers_leave_out_only_the_entries_out_of_place() -> None:
    assert keepers([1, 2, 3, 9, 4, 5, 6], descending=False) == {0, 1, 2, 4, 5, 6}
    assert keepers([9, 8, 1, 7], descending=True) == {0, 1, 3}


def test_workflow_command_escapes() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    found = [{"list": "x.md", "line": 3, "kind": "duplicate", "detail": "a, b: 50%\nc"}]
    result = gate(found, DEFAULT_FAIL_ON, {"x.md": "lists/x,y.md"})
    assert render_github(result) == (
        "::error file=lists/x%2Cy.md,line=3,title=arxiv-list duplicate::a, b: 50%25%0Ac\n"
    )
    assert result.exit_code == 1
    assert gate(found, (), {}).exit_code == 0


def test_fail_on_names_the_valid_kinds() -> None:
    assert parse_kinds("order, duplicate") == ("order", "duplicate")
    assert parse_kinds("none") == ()
    with pytest.raises(ValueError, match="choose from unresolved, not_found"):
        parse_kinds("dupes")


def _row(line: int, title: str, url: str | None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "list": "l.md",
        "line": line,
        "section": "S",
        "title": title,
        "venue": "arXiv",
        "year": 2024,
        "url": url,
        "code_url": None,
        "arxiv_id": None,
        "arxiv_version": None,
        "resolution": "link",
        "status": "enriched",
        "title_mismatch": False,
        "venue_normalized": None,
        "venue_source": None,
    }
    if url and "arxiv.org" in url:
        row["arxiv_id"] = url.rsplit("/", 1)[1].split("v")[0]
    row.update(values)
    return row


LIST = (
    b"# L\r\n"
    b"* Alpha Paper. arXiv 2024, [[pdf]](https://arxiv.org/pdf/2401.00001)\r\n"
    b"* Beta Paper. arXiv 2024, [[pdf]](https://arxiv.org/pdf/2401.00002v3)  \r\n"
    b"* Gamma Paper. arXiv 2024\r\n"
    b"| Delta Paper | arXiv 2024 |\r\n"
    b"* Alpha Paper. arXiv 2024, [[pdf]](https://arxiv.org/pdf/2401.00001)\r\n"
    b"* Epsilon Paper. arXiv 2024, [[pdf]](https://arxiv.org/pdf/2401.00005)\n"
)
ROWS = [
    _row(2, "Alpha Paper", "https://arxiv.org/pdf/2401.00001"),
    _row(3, "Beta Paper", "https://arxiv.org/pdf/2401.00002v3", arxiv_version=3),
    _row(4, "Gamma Paper", None, arxiv_id="2401.00004", resolution="title"),
    _row(5, "Delta Paper", None, arxiv_id="2401.00009", resolution="title"),
    _row(6, "Alpha Paper", "https://arxiv.org/pdf/2401.00001"),
    _row(
        7,
        "Epsilon Paper",
        "https://arxiv.org/pdf/2401.00005",
        venue_normalized="ICML",
        venue_source="comment",
    ),
]


def test_fix_edits_only_lines_it_understands_and_keeps_every_other_byte() -> None:
    edits = plan_edits(LIST, ROWS, {}, list(FixKind))
    assert {e.line: e.kinds for e in edits} == {
        3: (FixKind.LINK_STYLE,),
        4: (FixKind.ADD_LINK,),
        6: (FixKind.DUPLICATE,),
        7: (FixKind.PUBLISHED,),
    }
    fixed = apply_edits(LIST, edits)
    assert fixed == (
        b"# L\r\n"
        b"* Alpha Paper. arXiv 2024, [[pdf]](https://arxiv.org/pdf/2401.00001)\r\n"
        b"* Beta Paper. arXiv 2024, [[pdf]](https://arxiv.org/pdf/2401.00002)  \r\n"
        b"* Gamma Paper. arXiv 2024, [[pdf]](https://arxiv.org/pdf/2401.00004)\r\n"
        b"| Delta Paper | arXiv 2024 |\r\n"  # a table row: not a line fix understands
        b"* Epsilon Paper. ICML 2024, [[pdf]](https://arxiv.org/pdf/2401.00005)\n"
    )
    assert plan_edits(fixed, [], {}, list(FixKind)) == []


def test_a_wrong_link_is_never_restyled() -> None:
    rows = [*ROWS[:1], {**ROWS[1], "title_mismatch": True}]
    assert plan_edits(LIST, rows, {}, [FixKind.LINK_STYLE]) == []


def test_style_and_snippet_template_come_from_the_list() -> None:
    lines = LIST.decode().splitlines()
    style = detect_style(ROWS, lines)
    assert style.bullet == "*" and style.label == "[pdf]" and style.separator == ", "
    assert style.link is not None and style.link.url("2501.00001") == (
        "https://arxiv.org/pdf/2501.00001"
    )
    assert style.template == "* {title}. arXiv {year}, [[pdf]]({url})"


def test_main_categories_and_the_search_query() -> None:
    assert main_categories([["cs.CV", "cs.LG"], ["cs.CV"], ["cs.CL"]] * 4) == [
        "cs.CV",
        "cs.LG",
        "cs.CL",
    ]

    query = search_query(
        ["cs.CV"], datetime(2025, 1, 2, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)
    )
    assert query == "(cat:cs.CV) AND submittedDate:[202501020000 TO 202502010000]"
