"""Where lists come from: files, directories and URLs -> parsed entries (the file I/O).

Reading, decoding and the parse cache live here; the readers and entry assembly are pure.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import operator
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline import arxiv_ids, models, urls
from pipeline.errors import InputError, PipelineError
from pipeline.lists.entries import OnEntry
from pipeline.lists.locate import expand_list_paths, is_url
from pipeline.lists.readers import format_for, parse_document
from pipeline.lists.recall import ParsedList
from pipeline.models import ListEntry
from pipeline.store.files import write_file_atomic

log = logging.getLogger(__name__)

_GITHUB_REPO = re.compile(r"^/([^/]+)/([^/]+?)(?:\.git)?/?$")
_GITHUB_BLOB = re.compile(r"^/([^/]+)/([^/]+)/blob/(.+)$")


def raw_url(url: str) -> str:
    """A GitHub repository or file page -> the raw Markdown URL; other URLs unchanged."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        shown = urls.redact_url(url)
        raise InputError(f"only http(s) list URLs are supported, not {parts.scheme!r}: {shown}")
    if parts.netloc in ("github.com", "www.github.com"):
        if m := _GITHUB_REPO.match(parts.path):
            return f"https://raw.githubusercontent.com/{m.group(1)}/{m.group(2)}/HEAD/README.md"
        if m := _GITHUB_BLOB.match(parts.path):
            return f"https://raw.githubusercontent.com/{m.group(1)}/{m.group(2)}/{m.group(3)}"
    return url


CACHE_LINE_ENTRIES = 1000
"""Entries per line of a parse cache file."""


@functools.cache
def _parser_fingerprint() -> str:
    """Changes whenever the parser's code does, so cached parses never outlive it."""
    digest = hashlib.sha256()
    # Every module of the lists package, and the id rules, URL hosts and records they use.
    modules = sorted(Path(__file__).parent.rglob("*.py"))
    shared = [Path(m.__file__ or "") for m in (arxiv_ids, urls, models)]
    for path in [*modules, *shared]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def load_cached(
    path: Path, parsed_dir: Path | None, on_entry: OnEntry | None = None
) -> list[ListEntry]:
    """``load_list_file``, skipped when this exact file was parsed before by this parser.

    A large list that did not change is then read back instead of parsed again (seconds at
    100,000 entries); the key is the file's bytes, its name and the parser's code.
    ``on_entry`` hears of each entry a parse makes (a cached parse makes none).
    """
    if parsed_dir is None:
        return load_list_file(path, on_entry=on_entry)
    try:
        cached = _cache_file(path, parsed_dir)
    except OSError:
        return load_list_file(path)  # it raises the InputError that names the problem
    place = cached.name.partition("-")[0]
    if cached.exists():
        try:
            with cached.open("rb") as stored:
                return [_cached_entry(row) for line in stored for row in json.loads(line)]
        except (ValueError, TypeError, LookupError):
            log.debug("ignoring an unreadable parse cache %s", cached)
    entries = load_list_file(path, on_entry=on_entry)
    # One array per entry, its fields in declaration order (models.py is in the parser's
    # fingerprint, so a changed ListEntry never reads an old cache): a dict per entry would
    # hold 65 MB of 100,000 entries at once, arrays a fifth of that. A line per thousand
    # entries: read back a line at a time, only a thousand arrays live at once, not all.
    row = operator.attrgetter(*[f.name for f in dataclasses.fields(ListEntry)])
    lines = (
        json.dumps([row(e) for e in entries[i : i + CACHE_LINE_ENTRIES]])
        for i in range(0, len(entries), CACHE_LINE_ENTRIES)
    )
    write_file_atomic(cached, "\n".join(lines).encode("utf-8"))
    for older in parsed_dir.glob(f"{place}-*.json"):
        if older != cached:  # an earlier version of this list: never read again
            older.unlink(missing_ok=True)
    return entries


def parse_is_cached(path: Path, parsed_dir: Path) -> bool:
    """Would ``load_cached`` read this file's entries back rather than parse it?"""
    try:
        return _cache_file(path, parsed_dir).exists()
    except OSError:
        return False


def _cache_file(path: Path, parsed_dir: Path) -> Path:
    # One cached parse per list file: the file's place names the entry, its bytes the version.
    place = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return parsed_dir / f"{place}-{_cache_key(path)}.json"


# Where the fields whose values repeat across a list sit in a cached row.
_REPEATED = [
    i for i, f in enumerate(dataclasses.fields(ListEntry)) if f.name in ("list", "section", "venue")
]


def _cached_entry(row: list[Any]) -> ListEntry:
    """An entry read back from the parse cache. JSON gives every value a string of its own;
    the list name, section and venue repeat across a list, and the parse shares them, so
    they are shared here too (20 MB of 100,000 entries otherwise)."""
    for i in _REPEATED:
        if isinstance(row[i], str):
            row[i] = sys.intern(row[i])
    return ListEntry(*row)


def _cache_key(path: Path) -> str:
    """The parse cache's key for a list file: its bytes, its name and the parser's code (the
    bytes die here, before the parse reads the file again)."""
    key = hashlib.sha256(path.read_bytes())
    key.update(path.name.encode() + _parser_fingerprint().encode())
    return key.hexdigest()[:32]


def load_entries(
    sources: list[str],
    fetch_text: Callable[[str], str] | None,
    copies_dir: Path,
    parsed_dir: Path | None = None,
    skipped: list[str] | None = None,
) -> list[ListEntry]:
    """Parse every source in order. URLs need ``fetch_text`` (URL -> the list's text, raising
    a PipelineError when the download fails); their last good copy is kept.

    With ``skipped`` given, a local file that cannot be read (not UTF-8, no entries, a
    format we do not read) is left out when other lists remain: its error line is appended
    to ``skipped`` and the others are read. Every file failing still raises.
    """
    entries: list[ListEntry] = []
    local: list[Path] = []
    failed: list[InputError] = []

    def flush_local() -> None:
        paths = expand_list_paths(local)
        for path in paths:
            try:
                entries.extend(load_cached(path, parsed_dir))
            except InputError as err:
                if skipped is None or (len(sources) == 1 and len(paths) == 1):
                    raise  # one list named on its own: its error is the run's
                log.debug("skipping %s", err)
                skipped.append(str(err))
                failed.append(err)
        local.clear()

    for source in sources:
        if is_url(source):
            flush_local()
            entries.extend(_load_remote(source, fetch_text, copies_dir))
        else:
            local.append(Path(source))
    flush_local()
    if failed and not entries:
        raise failed[0]
    return entries


def _load_remote(
    url: str, fetch_text: Callable[[str], str] | None, copies_dir: Path
) -> list[ListEntry]:
    target = raw_url(url)
    # The name the list goes by in tables, findings and messages: never its credentials.
    name = urls.redact_url(url)
    copy = copies_dir / f"{_slug(url)}.md"
    if fetch_text is None:
        raise InputError(f"{name}: a list URL needs the network; `parse` reads local files only")
    try:
        text = fetch_text(target)
    except PipelineError as err:
        if not copy.exists():
            raise InputError(f"{name}: download failed and no earlier copy exists: {err}") from err
        log.warning("%s: download failed (%s); using the last good copy %s", name, err, copy)
        text = copy.read_text(encoding="utf-8")
    fmt = format_for(target, text)
    if isinstance(fmt, str):
        raise InputError(f"{name}: {fmt}")
    entries = parse_document(text, name, fmt).entries
    if not entries:
        shown = urls.redact_url(target)
        raise InputError(f"{name}: no paper entries found in {shown}; is it a paper list?")
    write_file_atomic(copy, text.encode("utf-8"))
    return entries


def _slug(url: str) -> str:
    parts = urlsplit(url)
    # The host and path only: user info and query may hold credentials (the hash tells
    # two URLs that differ there apart).
    readable = re.sub(r"[^A-Za-z0-9]+", "-", (parts.hostname or "") + parts.path).strip("-")[:80]
    return f"{readable}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def explain_lists(sources: list[str]) -> Iterator[str]:
    """For ``parse --explain``: each entry the recall pass built from the nearest text, and
    each arXiv id a list names that is not an entry, with the reason. Local files only."""
    for path in expand_list_paths([Path(s) for s in sources if not is_url(s)]):
        try:
            parsed = read_list_file(path)
        except InputError as err:
            yield f"{path}: skipped: {err}"
            continue
        for e in parsed.entries:
            if e.built_from:
                yield f"{e.list}:{e.line}: built: {e.arxiv_id}: {e.built_from}: {e.title!r}"
        for x in parsed.exclusions:
            yield f"{x.list}:{x.line}: excluded: {x.arxiv_id}: {x.reason}"


def load_list_file(
    path: Path, list_name: str | None = None, on_entry: OnEntry | None = None
) -> list[ListEntry]:
    """Read and parse one list file (UTF-8, optional BOM). ``list`` defaults to the file name.

    The reader is chosen by the file's suffix and content (``readers.format_for``). Raises
    InputError naming the file when it cannot be read, is not UTF-8 (with the line of the
    first bad byte), is empty, is in no format we read, or has no paper entries.
    """
    return read_list_file(path, list_name, on_entry).entries


def read_list_file(
    path: Path, list_name: str | None = None, on_entry: OnEntry | None = None
) -> ParsedList:
    """``load_list_file`` with the exclusions: the ids the file names that are not entries."""
    where = str(path)
    text = _read_text(path)  # the file's bytes are gone by the parse (13 MB of a 100k list)
    if not text.strip():
        raise InputError("the list file is empty; expected a paper list", path=where)
    name = list_name if list_name is not None else path.name
    fmt = format_for(path.name, text)
    if isinstance(fmt, str):
        raise InputError(fmt, path=where)
    parsed = parse_document(text, name, fmt, on_entry)
    if not parsed.entries:
        raise InputError(
            "no paper entries found: expected list items or table rows with an arXiv or paper "
            "link, e.g. '* Title. NeurIPS 2024, [[pdf]](https://arxiv.org/abs/2401.00001)'",
            path=where,
        )
    return parsed


def _read_text(path: Path) -> str:
    """A list file's text (UTF-8, a BOM dropped), or the InputError that names the problem."""
    where = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such list file; check the path", path=where) from None
    except IsADirectoryError:
        raise InputError(
            "is a directory; pass the .md files in it (or let the CLI expand it)", path=where
        ) from None
    except OSError as err:
        raise InputError(f"cannot read the list file: {err.strerror or err}", path=where) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"not UTF-8: byte 0x{data[err.start]:02x} cannot be decoded; re-save the list as UTF-8",
            path=where,
            line=line,
        ) from None
