"""``fix``: the list edited where a fix has one right answer, byte for byte everywhere else.

    plan_edits   a list's bytes and its entries -> the edits (pure)
    apply_edits  bytes + edits -> bytes; untouched lines keep their bytes and endings (pure)
    run_fix      refresh, plan, then a diff (``--dry-run``) or an atomic replace that never
                 overwrites a list changed since it was read

An edit is made only on a line this module understands: the entries table's line of the
entry, a one-line list item that holds the entry's title (and, where the edit concerns it,
its link or venue) exactly once. Anything else is left for a human, as is every wrong link,
unknown or malformed id and out-of-order entry: those have no single right answer.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.maintain.options import FixKind
from pipeline.maintain.published import publication
from pipeline.maintain.style import (
    ARXIV_URL,
    ListStyle,
    detect_style,
    link_form,
    markdown_link,
    understood,
)
from pipeline.models import ENTRY_COLUMNS, EnrichedEntry, Resolution, Status


@dataclass(frozen=True)
class Edit:
    """One line changed or removed."""

    line: int
    """1-based, in the list as read."""
    kinds: tuple[FixKind, ...]
    new: str | None
    """The line's new text without its ending; None removes the line."""
    detail: str


@dataclass
class _Line:
    text: str
    kinds: list[FixKind] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    removed: bool = False


def split_lines(data: bytes) -> list[bytes]:
    """Lines with their endings, split where the list parser counts lines (\\n, \\r\\n, \\r)."""
    return data.splitlines(keepends=True)


def _ending(raw: bytes) -> bytes:
    return raw[len(raw.rstrip(b"\r\n")) :]


def plan_edits(
    data: bytes,
    rows: Sequence[Mapping[str, Any]],
    papers: Mapping[str, Mapping[str, Any]],
    kinds: Sequence[FixKind],
) -> list[Edit]:
    """The edits of one list. ``rows`` are its entries-table rows; ``papers`` maps arXiv id
    -> papers-table values (``journal_ref``, ``doi``)."""
    raw = split_lines(data)
    text = [line.rstrip(b"\r\n").decode("utf-8", "surrogateescape") for line in raw]
    if text and text[0].startswith("\ufeff"):
        text[0] = text[0][1:]
    style = detect_style(rows, text)
    lines: dict[int, _Line] = {}

    def line_of(row: Mapping[str, Any]) -> _Line | None:
        number = int(row["line"])
        if not 0 < number <= len(text) or not understood(row, text[number - 1]):
            return None
        return lines.setdefault(number, _Line(text[number - 1]))

    if FixKind.DUPLICATE in kinds:
        _remove_duplicates(rows, text, line_of)
    for row in rows:
        line = line_of(row)
        if line is None or line.removed:
            continue
        if FixKind.ADD_LINK in kinds:
            _add_link(row, line, style)
        if FixKind.LINK_STYLE in kinds:
            _link_style(row, line, style)
        if FixKind.PUBLISHED in kinds:
            _published(row, line, papers.get(row["arxiv_id"] or ""))
    return [
        Edit(number, tuple(line.kinds), None if line.removed else line.text, "; ".join(details))
        for number, line in sorted(lines.items())
        if line.kinds
        for details in [line.details]
    ]


def _remove_duplicates(
    rows: Sequence[Mapping[str, Any]], text: Sequence[str], line_of: Callable[..., _Line | None]
) -> None:
    seen: dict[tuple[str, str, str], int] = {}
    for row in rows:
        if row["status"] != Status.ENRICHED or not row["arxiv_id"]:
            continue
        number = int(row["line"])
        if not 0 < number <= len(text):
            continue
        key = (row["section"], row["arxiv_id"], text[number - 1].rstrip())
        first = seen.setdefault(key, number)
        if first == number:
            continue
        following = text[number] if number < len(text) else ""
        if following[:1] in (" ", "\t") and following.strip():
            continue  # sub-items belong to the entry: removing one line would orphan them
        line = line_of(row)
        if line is not None:
            line.removed = True
            line.kinds.append(FixKind.DUPLICATE)
            line.details.append(f"removed: the same line as line {first} ({row['arxiv_id']})")


def _add_link(row: Mapping[str, Any], line: _Line, style: ListStyle) -> None:
    if row["resolution"] != Resolution.TITLE or row["status"] != Status.ENRICHED:
        return
    if "arxiv.org/" in line.text.lower() or re.search(r"(?i)arxiv:\s*\d", line.text):
        return  # the line names arXiv already (a link the parser did not take): a human's call
    arxiv_id = row["arxiv_id"]
    url = style.link.url(arxiv_id) if style.link else f"https://arxiv.org/abs/{arxiv_id}"
    if style.label is None:
        # The list links its titles: link this one, when it stands once and unlinked.
        title = row["title"]
        at = line.text.find(title)
        if at < 0 or line.text.count(title) != 1 or line.text[at - 1 : at] == "[":
            return
        line.text = f"{line.text[:at]}[{title}]({url}){line.text[at + len(title) :]}"
    else:
        label = style.label
        if f"[{label}](" in line.text:
            # The label already names another link of this entry ([pdf] to OpenReview).
            label = re.sub(r"[A-Za-z][\w .-]*", "arXiv", label, count=1)
        body = line.text.rstrip()
        separator = " " if body.endswith(")") else style.separator or " "
        line.text = f"{body}{separator}[{label}]({url}){line.text[len(body) :]}"
    line.kinds.append(FixKind.ADD_LINK)
    line.details.append(f"added the arXiv link {url} (found by title)")


def _link_style(row: Mapping[str, Any], line: _Line, style: ListStyle) -> None:
    url = row["url"] or ""
    form = link_form(url)
    if style.link is None or form is None or row["resolution"] != Resolution.LINK:
        return
    if row["status"] != Status.ENRICHED or row["title_mismatch"]:
        return  # a wrong link is reported, not dressed up
    parts = ARXIV_URL.match(url)
    if parts is None or parts["id"] != row["arxiv_id"] or line.text.count(url) != 1:
        return
    wanted = style.link.url(row["arxiv_id"], row["arxiv_version"])
    if (form.form, form.versioned) == (style.link.form, style.link.versioned) or wanted == url:
        return
    if markdown_link(url, line.text) is None:
        return
    line.text = line.text.replace(url, wanted)
    line.kinds.append(FixKind.LINK_STYLE)
    line.details.append(f"link {url} -> {wanted} (the list's form)")


def _published(row: Mapping[str, Any], line: _Line, paper: Mapping[str, Any] | None) -> None:
    values: dict[str, Any] = {k: row.get(k) for k in ENTRY_COLUMNS}
    entry = EnrichedEntry(**values)
    known = publication(entry, paper)
    venue = row["venue"]
    if known is None or known.venue is None or not venue:
        return
    # The venue as a word outside link targets, exactly once.
    masked = re.sub(r"\]\([^)]*\)", lambda m: "]" + "\0" * (len(m.group()) - 1), line.text)
    spots = [m.start() for m in re.finditer(rf"(?<![\w/.]){re.escape(venue)}(?![\w/.])", masked)]
    if len(spots) != 1:
        return
    at = spots[0]
    line.text = f"{line.text[:at]}{known.venue}{line.text[at + len(venue) :]}"
    line.kinds.append(FixKind.PUBLISHED)
    line.details.append(f"venue {venue} -> {known.venue} ({known.evidence})")


def apply_edits(data: bytes, edits: Sequence[Edit]) -> bytes:
    """``data`` with the edits made; every other line's bytes, ending included, unchanged."""
    raw = split_lines(data)
    by_line = {edit.line: edit for edit in edits}
    out: list[bytes] = []
    for number, line in enumerate(raw, start=1):
        edit = by_line.get(number)
        if edit is None:
            out.append(line)
        elif edit.new is not None:
            bom = "\ufeff" if number == 1 and line.startswith(b"\xef\xbb\xbf") else ""
            out.append((bom + edit.new).encode("utf-8", "surrogateescape") + _ending(line))
    return b"".join(out)


def unified_diff(path: str, before: bytes, after: bytes) -> str:
    old = before.decode("utf-8", "replace").splitlines(keepends=True)
    new = after.decode("utf-8", "replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}"))


@dataclass(frozen=True)
class ListFix:
    """What ``fix`` did (or, with ``--dry-run``, would do) to one list."""

    file: str
    """The list's path as given."""
    edits: list[Edit]
    diff: str


def run_fix(
    settings: Settings, kinds: Sequence[FixKind], dry_run: bool, **refresh: Any
) -> list[ListFix]:
    """Refresh (for current tables), then edit each local list; ``refresh`` passes on to
    ``run_refresh``."""
    from pipeline.lists.locate import default_sources, expand_list_paths, is_url
    from pipeline.refresh import run_refresh
    from pipeline.schemas import ENTRIES, PAPERS
    from pipeline.store.tables import read_table

    sources = list(settings.lists) or default_sources(settings.raw_dir)
    paths = expand_list_paths([Path(s) for s in sources if not is_url(s)])
    if not paths:
        raise InputError("fix edits local list files; a URL cannot be edited: pass --list PATH")
    names = [p.name for p in paths]
    if len(set(names)) != len(names):
        raise InputError("fix needs list files with distinct names (the tables key lists by name)")
    read = {path: path.read_bytes() for path in paths}
    run_refresh(settings, **refresh)
    entries = read_table(settings.enriched_dir, "entries", ENTRIES)
    papers = read_table(settings.enriched_dir, "papers", PAPERS)
    if entries is None or papers is None:
        raise InputError(f"no usable tables in {settings.enriched_dir}; run `refresh` first")
    columns = papers.select(["arxiv_id", "journal_ref", "doi"])
    refs = {row["arxiv_id"]: row for row in columns.to_pylist()}
    rows = entries.to_pylist()
    out: list[ListFix] = []
    for path, before in read.items():
        _unchanged_since(path, before)  # the tables must describe these bytes
        mine = [row for row in rows if row["list"] == path.name]
        edits = plan_edits(before, mine, refs, kinds)
        after = apply_edits(before, edits)
        if edits and not dry_run:
            _replace(path, before, after)
        out.append(ListFix(str(path), edits, unified_diff(str(path), before, after)))
    return out


def _unchanged_since(path: Path, before: bytes) -> None:
    if path.read_bytes() != before:
        raise InputError(
            "the list changed while fix was reading it; nothing was written: run fix again",
            path=str(path),
        )


def _replace(path: Path, before: bytes, after: bytes) -> None:
    """Atomically, and only if the file still holds what the edits were planned on."""
    from pipeline.store.files import write_file_atomic

    mode = path.stat().st_mode & 0o7777
    _unchanged_since(path, before)
    write_file_atomic(path, after)
    path.chmod(mode)
