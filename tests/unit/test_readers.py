"""The seams of the lists package: a reader per suffix, and the one URL host parser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.lists.document import Block, DocumentEvent, Heading, Piece
from pipeline.lists.load import load_list_file
from pipeline.lists.markdown import read_markdown
from pipeline.lists.readers import READERS, reader_for
from pipeline.urls import host_and_path, host_of, without_prefix


def _one_line_per_paper(text: str) -> Iterator[DocumentEvent]:
    """A toy format: "url<TAB>title" lines under one heading."""
    yield Heading(2, "Papers")
    for number, line in enumerate(text.splitlines(), start=1):
        url, title = line.split("\t")
        yield Block("item", number, [Piece("link", title, url)])


def test_a_registered_reader_is_chosen_by_suffix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(READERS, ".tsv", _one_line_per_paper)
    path = tmp_path / "papers.tsv"
    line = "https://arxiv.org/abs/2304.05977v2\tDiffusion Models Beat GANs\n"
    path.write_text(line, encoding="utf-8")
    [entry] = load_list_file(path)
    assert (entry.list, entry.line, entry.section, entry.title) == (
        "papers.tsv",
        1,
        "Papers",
        "Diffusion Models Beat GANs",
    )
    assert (entry.arxiv_id, entry.arxiv_version) == ("2304.05977", 2)


def test_lists_are_markdown_unless_a_reader_claims_the_suffix() -> None:
    assert reader_for("list.md") is read_markdown
    assert reader_for("README") is read_markdown
    assert reader_for("https://github.com/a/b") is read_markdown


@pytest.mark.parametrize(
    ("url", "host", "path"),
    [
        ("https://www.ArXiv.org/abs/1", "www.arxiv.org", "/abs/1"),
        ("arxiv.org/abs/1", "arxiv.org", "/abs/1"),
        ("//user@host.org:8080/p?q#f", "host.org", "/p"),
        ("http://doi.org", "doi.org", ""),
    ],
)
def test_host_and_path(url: str, host: str, path: str) -> None:
    assert host_and_path(url) == (host, path)
    assert host_of(url) == host


def test_without_prefix_drops_one_prefix() -> None:
    assert without_prefix("www.export.arxiv.org", ("www.", "export.")) == "export.arxiv.org"
    assert without_prefix("arxiv.org") == "arxiv.org"
