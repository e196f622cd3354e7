"""The file edge: bytes in, entries out, and errors that name the file and say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.lists.load import load_cached, load_list_file
from pipeline.lists.locate import expand_list_paths

ENTRY = "* A Paper. NeurIPS 2023, [[pdf]](https://arxiv.org/abs/2304.05977)\n"


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_reads_a_list(tmp_path: Path) -> None:
    path = write(tmp_path / "papers.md", f"# Papers\n\n## Part\n{ENTRY}".encode())
    [entry] = load_list_file(path)
    assert (entry.list, entry.line, entry.section, entry.arxiv_id) == (
        "papers.md",
        4,
        "Part",
        "2304.05977",
    )
    assert load_list_file(path, "https://example.org/list.md")[0].list == (
        "https://example.org/list.md"
    )


def test_not_utf8_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.md", b"# List\n\n" + ENTRY.encode() + b"* Caf\xe9 paper\n")
    with pytest.raises(InputError) as err:
        load_list_file(path)
    assert err.value.path == str(path)
    assert err.value.line == 4
    assert "not UTF-8" in str(err.value)
    assert "0xe9" in str(err.value)
    assert str(err.value).startswith(f"{path}:4: ")


def test_a_truncated_multibyte_character_is_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path / "cut.md", ENTRY.encode() + "é".encode()[:1])
    with pytest.raises(InputError) as err:
        load_list_file(path)
    assert err.value.line == 2


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path / "empty.md", data)
    with pytest.raises(InputError, match="empty") as err:
        load_list_file(path)
    assert err.value.path == str(path)


def test_no_entries_says_what_an_entry_looks_like(tmp_path: Path) -> None:
    path = write(tmp_path / "titles.md", b"# List\n\n* Only a title, no link. NeurIPS 2023\n")
    with pytest.raises(InputError, match="no paper entries found") as err:
        load_list_file(path)
    assert "arxiv.org/abs/" in str(err.value)
    assert err.value.path == str(path)


def test_bom_is_stripped(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.md", b"\xef\xbb\xbf# Title\n\n## Sec\n" + ENTRY.encode())
    [entry] = load_list_file(path)
    assert (entry.section, entry.line, entry.title) == ("Sec", 4, "A Paper")


def test_crlf_line_endings(tmp_path: Path) -> None:
    text = f"# T\n\n## S\n{ENTRY}{ENTRY}"
    lf = write(tmp_path / "lf.md", text.encode())
    crlf = write(tmp_path / "crlf.md", text.replace("\n", "\r\n").encode())
    assert [(e.line, e.title) for e in load_list_file(lf)] == [
        (e.line, e.title) for e in load_list_file(crlf)
    ]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such list file") as err:
        load_list_file(tmp_path / "nope.md")
    assert err.value.path == str(tmp_path / "nope.md")


def test_directory_given_as_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        load_list_file(tmp_path)


def test_expand_directories_to_sorted_list_files(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    for name in ("b.md", "a.md", "notes.docx"):
        write(lists / name, ENTRY.encode())
    (lists / "sub.md").mkdir()  # a directory named like a list is not one
    single = write(tmp_path / "z.md", ENTRY.encode())
    assert expand_list_paths([single, lists, lists / "a.md"]) == [
        single,
        lists / "a.md",
        lists / "b.md",
    ]


def test_expand_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory") as err:
        expand_list_paths([tmp_path / "missing"])
    assert err.value.path == str(tmp_path / "missing")


def test_expand_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no list files \(\*\.md, \*\.bib"):
        expand_list_paths([tmp_path])


def test_the_parse_cache_keeps_one_parse_per_list(tmp_path: Path) -> None:
    parsed = tmp_path / "parsed"
    first = write(tmp_path / "a.md", f"# A\n\n{ENTRY}".encode())
    other = write(tmp_path / "b.md", f"# B\n\n{ENTRY}".encode())
    load_cached(other, parsed)
    for edit in range(5):  # every edit is a new version; the old parses are never read again
        write(first, f"# A\n\n{ENTRY}".encode() + b"\n" * edit)
        assert load_cached(first, parsed)[0].arxiv_id == "2304.05977"
    assert len(list(parsed.glob("*.json"))) == 2
    assert load_cached(first, parsed) == load_list_file(first)  # read back from the cache


def test_an_overlong_line_is_read_for_its_urls_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 1 MB of emphasis delimiters on one line: markdown-it's inline rules are superlinear on
    # them; the line keeps its links and its place, and costs nothing.
    noise = "*_" * 500_000
    text = f"# L\n\n{ENTRY}\n* {noise} [x](https://arxiv.org/abs/2302.00002) {noise}\n"
    path = write(tmp_path / "hostile.md", text.encode())
    entries = load_list_file(path)
    assert [e.arxiv_id for e in entries] == ["2304.05977", "2302.00002"]
    assert entries[1].line == 5
    long_line = text.splitlines()[4]
    assert f"line 5 has {len(long_line)} characters; only its URLs are read" in caplog.text
