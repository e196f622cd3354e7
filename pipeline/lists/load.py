"""Where lists come from: files, directories and URLs -> parsed entries."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pipeline import arxiv_ids, models
from pipeline.errors import InputError, PipelineError
from pipeline.lists.locate import expand_list_paths, is_url
from pipeline.lists.parse import load_list_file, parse_markdown
from pipeline.models import ListEntry
from pipeline.store.tables import write_file_atomic

if TYPE_CHECKING:  # the HTTP stack is loaded only by runs that download a list
    from pipeline.services.arxiv import ArxivApi

log = logging.getLogger(__name__)

_GITHUB_REPO = re.compile(r"^/([^/]+)/([^/]+?)(?:\.git)?/?$")
_GITHUB_BLOB = re.compile(r"^/([^/]+)/([^/]+)/blob/(.+)$")


def raw_url(url: str) -> str:
    """A GitHub repository or file page -> the raw Markdown URL; other URLs unchanged."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InputError(f"only http(s) list URLs are supported, not {parts.scheme!r}: {url}")
    if parts.netloc in ("github.com", "www.github.com"):
        if m := _GITHUB_REPO.match(parts.path):
            return f"https://raw.githubusercontent.com/{m.group(1)}/{m.group(2)}/HEAD/README.md"
        if m := _GITHUB_BLOB.match(parts.path):
            return f"https://raw.githubusercontent.com/{m.group(1)}/{m.group(2)}/{m.group(3)}"
    return url


@functools.cache
def _parser_fingerprint() -> str:
    """Changes whenever the parser's code does, so cached parses never outlive it."""
    digest = hashlib.sha256()
    # Every reader of the lists package, and the id rules and records they produce.
    modules = sorted(Path(__file__).parent.rglob("*.py"))
    for path in [*modules, Path(arxiv_ids.__file__ or ""), Path(models.__file__ or "")]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def load_cached(path: Path, parsed_dir: Path | None) -> list[ListEntry]:
    """``load_list_file``, skipped when this exact file was parsed before by this parser.

    A large list that did not change is then read back instead of parsed again (seconds at
    100,000 entries); the key is the file's bytes, its name and the parser's code.
    """
    if parsed_dir is None:
        return load_list_file(path)
    try:
        data = path.read_bytes()
    except OSError:
        return load_list_file(path)  # it raises the InputError that names the problem
    key = hashlib.sha256(data + path.name.encode() + _parser_fingerprint().encode())
    cached = parsed_dir / f"{key.hexdigest()}.json"
    if cached.exists():
        try:
            return [ListEntry(**row) for row in json.loads(cached.read_bytes())]
        except (ValueError, TypeError):
            log.debug("ignoring an unreadable parse cache %s", cached)
    entries = load_list_file(path)
    # vars(), not dataclasses.asdict: the fields are flat, and asdict deep-copies each one
    # (five seconds for 100,000 entries).
    write_file_atomic(cached, json.dumps([vars(e) for e in entries]).encode("utf-8"))
    return entries


def load_entries(
    sources: list[str], api: ArxivApi | None, copies_dir: Path, parsed_dir: Path | None = None
) -> list[ListEntry]:
    """Parse every source in order. URLs need ``api``; their last good copy is kept."""
    entries: list[ListEntry] = []
    local: list[Path] = []

    def flush_local() -> None:
        for path in expand_list_paths(local):
            entries.extend(load_cached(path, parsed_dir))
        local.clear()

    for source in sources:
        if is_url(source):
            flush_local()
            entries.extend(_load_remote(source, api, copies_dir))
        else:
            local.append(Path(source))
    flush_local()
    return entries


def _load_remote(url: str, api: ArxivApi | None, copies_dir: Path) -> list[ListEntry]:
    target = raw_url(url)
    copy = copies_dir / f"{_slug(url)}.md"
    if api is None:
        raise InputError(f"{url}: a list URL needs the network; `parse` reads local files only")
    try:
        text = api.get_text(target)
    except PipelineError as err:
        if not copy.exists():
            raise InputError(f"{url}: download failed and no earlier copy exists: {err}") from err
        log.warning("%s: download failed (%s); using the last good copy %s", url, err, copy)
        text = copy.read_text(encoding="utf-8")
    entries = parse_markdown(text, url)
    if not entries:
        raise InputError(f"{url}: no paper entries found in {target}; is it a Markdown list?")
    write_file_atomic(copy, text.encode("utf-8"))
    return entries


def _slug(url: str) -> str:
    parts = urlsplit(url)
    readable = re.sub(r"[^A-Za-z0-9]+", "-", parts.netloc + parts.path).strip("-")[:80]
    return f"{readable}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"
