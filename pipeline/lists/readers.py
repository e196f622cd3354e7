"""One reader per list format, chosen by file suffix and content, and text -> entries.

A reader turns a list's text into document events (``document`` describes the contract);
``entries.entries_from_events`` does the rest, whatever the format, and ``recall.reconcile``
makes sure every arXiv id the text names ends up in an entry or a recorded exclusion.
Adding a format is a module that yields events and one ``ListFormat`` in ``FORMATS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import PurePath
from typing import NamedTuple
from urllib.parse import urlsplit

from pipeline.lists.document import DocumentEvent
from pipeline.lists.entries import OnEntry, entries_from_events
from pipeline.lists.html import html_events
from pipeline.lists.markdown import read_markdown
from pipeline.lists.plain import read_plain_text, read_rst
from pipeline.lists.recall import ParsedList, reconcile
from pipeline.lists.records import (
    bibtex_events,
    bibtex_problem,
    csv_events,
    json_events,
    json_problem,
    tsv_events,
    yaml_events,
    yaml_problem,
)
from pipeline.models import ListEntry

__all__ = [
    "FORMATS",
    "READERS",
    "ListFormat",
    "Reader",
    "format_for",
    "formats_we_read",
    "parse_document",
    "parse_markdown",
    "parse_text",
    "reader_for",
]

Reader = Callable[[str], Iterable[DocumentEvent]]
"""A list's whole text -> its document events, in document order. Pure; never raises."""


def _any_text(text: str) -> str | None:
    return None


def read_html_page(text: str) -> Iterable[DocumentEvent]:
    """A list published as a web page: the whole page through the HTML scanner."""
    events: list[DocumentEvent] = []
    html_events(text, 1, events)
    return events


def _html_problem(text: str) -> str | None:
    return None if "<" in text[:4096] else "no HTML tags in it"


class ListFormat(NamedTuple):
    """A list format: its name, file suffixes, reader and content check."""

    name: str
    suffixes: tuple[str, ...]
    reader: Reader
    problem: Callable[[str], str | None] = _any_text
    """Why a text is not in this format (None when it may be)."""
    markup: bool = True
    """Code blocks and HTML comments mean something (their ids are not entries)."""


MARKDOWN = ListFormat("Markdown", (".md", ".markdown", ".mdown", ".mkd"), read_markdown)
HTML_PAGE = ListFormat("HTML", (".html", ".htm", ".xhtml"), read_html_page, _html_problem)
FORMATS: tuple[ListFormat, ...] = (
    MARKDOWN,
    HTML_PAGE,
    ListFormat("BibTeX", (".bib", ".bibtex"), bibtex_events, bibtex_problem, markup=False),
    ListFormat("plain text", (".txt", ".text"), read_plain_text),
    ListFormat("reStructuredText", (".rst", ".rest"), read_rst),
    ListFormat("CSV", (".csv",), csv_events, markup=False),
    ListFormat("TSV", (".tsv", ".tab"), tsv_events, markup=False),
    ListFormat("JSON", (".json",), json_events, json_problem, markup=False),
    ListFormat("YAML", (".yaml", ".yml"), yaml_events, yaml_problem, markup=False),
)
READERS: dict[str, Reader] = {s: f.reader for f in FORMATS for s in f.suffixes}
"""Readers by lower-case file suffix."""

_BY_SUFFIX = {s: f for f in FORMATS for s in f.suffixes}
_BY_NAME = {f.name: f for f in FORMATS}
_HTML_START_RE = re.compile(r"\s*(?:<!doctype html|<html|<head|<body)", re.IGNORECASE)


def formats_we_read() -> str:
    """ "Markdown (.md, .markdown, ...), HTML (.html, ...), ..." for error messages."""
    return ", ".join(f"{f.name} ({', '.join(f.suffixes)})" for f in FORMATS)


def _sniff(text: str) -> ListFormat:
    """The format of a text whose name has no suffix (README, a URL): by its content."""
    head = text.lstrip()[:1]
    if _HTML_START_RE.match(text):
        return HTML_PAGE
    if head in ("[", "{") and json_problem(text) is None:
        return _BY_NAME["JSON"]
    if head == "@" and bibtex_problem(text) is None:
        return _BY_NAME["BibTeX"]
    return MARKDOWN


def _suffix(name: str) -> str:
    path = urlsplit(name).path if "://" in name else name
    return PurePath(path).suffix.lower()


def format_for(name: str, text: str) -> ListFormat | str:
    """The format of list ``name`` with ``text``: by suffix, then by content; a string saying
    why no reader accepts it otherwise."""
    suffix = _suffix(name)
    if not suffix or not suffix[1:].isalpha() or ("://" in name and suffix not in _BY_SUFFIX):
        # README, a URL of a page, "notes.2024": the content decides.
        return _sniff(text)
    found = _BY_SUFFIX.get(suffix)
    if found is None:
        return f"no reader for {suffix!r} files; the formats we read: {formats_we_read()}"
    if found is MARKDOWN and _HTML_START_RE.match(text):
        return HTML_PAGE  # a web page saved under .md
    problem = found.problem(text)
    if problem is not None:
        return f"{problem}; expected {found.name} for a {suffix} file"
    reader = READERS.get(suffix, found.reader)  # READERS is the registry: a plug-in wins
    return found if reader is found.reader else found._replace(reader=reader)


def reader_for(name: str) -> Reader:
    """The reader for a list file or URL named ``name``, by its suffix (Markdown when it has
    none a reader claims)."""
    found = _BY_SUFFIX.get(_suffix(name))
    return found.reader if found is not None else read_markdown


def parse_document(
    text: str, list_name: str, fmt: ListFormat = MARKDOWN, on_entry: OnEntry | None = None
) -> ParsedList:
    """Entries and exclusions of a list's text in format ``fmt``. Pure; never raises.

    ``on_entry`` hears of the entries as the reader's blocks make them; those the recall
    pass builds at the end are only in the result."""
    entries = entries_from_events(fmt.reader(text), list_name, on_entry)
    return reconcile(text, entries, list_name, markup=fmt.markup)


def parse_text(text: str, list_name: str, reader: Reader = read_markdown) -> list[ListEntry]:
    """The paper entries of a list's text, in document order. Pure; never raises.

    ``list_name`` goes into every entry's ``list``.
    """
    fmt = next((f for f in FORMATS if f.reader is reader), MARKDOWN._replace(reader=reader))
    return parse_document(text, list_name, fmt).entries


def parse_markdown(text: str, list_name: str, *, fast_path: bool = True) -> list[ListEntry]:
    """The paper entries of a Markdown list, in document order. Pure; never raises.

    ``list_name`` goes into every entry's ``list``. ``fast_path=False`` sends the whole
    document through markdown-it (slower; the same entries, which the tests check).
    """
    entries = entries_from_events(read_markdown(text, fast_path=fast_path), list_name)
    return reconcile(text, entries, list_name).entries
