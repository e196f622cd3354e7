"""LaTeX in titles -> text: one owner for the title search, the report and the BibTeX export."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.titles import display_title, escape_specials, latex_to_text


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Plain Title: 100% & More", "Plain Title: 100% & More"),
        (r"Schr\"odinger Bridges", "Schrödinger Bridges"),
        (r"$\alpha$-Divergence at 50% Cost", "α-Divergence at 50% Cost"),  # noqa: RUF001
        ("A $5 Budget", "A $5 Budget"),
    ],
)
def test_display_title_decodes_latex_without_losing_text(title: str, shown: str) -> None:
    assert display_title(title) == shown


def test_a_bare_percent_does_not_comment_out_the_rest() -> None:
    assert latex_to_text(r"$k$-Means at 50% of the Cost") == "k-Means at 50% of the Cost"
    assert latex_to_text(r"A \& B # 2") == "A & B # 2"


def test_display_title_joins_whitespace_and_keeps_titles_that_decode_to_nothing() -> None:
    assert display_title("Line\nbreak  $a$") == "Line break a"
    assert latex_to_text("Line\nbreak  $a$") != "Line break a"  # only the display joins
    assert display_title(r"\LaTeX") == r"\LaTeX"


def test_escape_specials_leaves_escaped_ones_alone() -> None:
    assert escape_specials(r"50% \& #1") == r"50\% \& \#1"


_PIECES = [*"ab $\\{}%&#^_~\n'\"é", "\\alpha", "\\emph{", "\\'e"]
_LATEXISH = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)


@given(_LATEXISH)
def test_any_text_decodes_without_raising(text: str) -> None:
    assert isinstance(latex_to_text(text), str)
    assert isinstance(display_title(text), str)
    if "\\" not in text and text.count("$") < 2:
        assert latex_to_text(text) == display_title(text) == text
