"""The Markdown fast path (pipeline/lists/markdown_fast.py) reads lists as markdown-it does.

Every test parses the same text twice, with the fast path and with markdown-it alone
(``fast_path=False``), and wants the same entries: on every real list in the fixtures, on
a large generated list in every entry shape, and on Hypothesis-generated Markdown.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from pipeline.lists.readers import parse_markdown
from tests.unit.test_parse_lists import CORPUS, LISTS, SEED_NAME, generated_list
from tests.unit.test_parse_properties import _DOC


@pytest.mark.parametrize("name", [*CORPUS, SEED_NAME])
def test_fast_path_equals_markdown_it(name: str) -> None:
    raw = (LISTS / name).read_text(encoding="utf-8")
    assert parse_markdown(raw, name) == parse_markdown(raw, name, fast_path=False)


def test_generated_shapes_parse_the_same_without_the_fast_path() -> None:
    text = generated_list(60_000, seed=1)
    assert parse_markdown(text, "g.md") == parse_markdown(text, "g.md", fast_path=False)


def test_fast_path_gives_the_same_entries() -> None:
    text = (LISTS / SEED_NAME).read_text(encoding="utf-8")
    assert parse_markdown(text, SEED_NAME) == parse_markdown(text, SEED_NAME, fast_path=False)


@settings(max_examples=400, deadline=None)
@given(_DOC)
def test_fast_path_reads_markdown_as_markdown_it_does(text: str) -> None:
    """The shortcut for simple items, tables and inline text gives markdown-it's entries."""
    assert parse_markdown(text, "p.md") == parse_markdown(text, "p.md", fast_path=False)
