"""One reader per list format, chosen by file suffix, and the text -> entries entry points.

A reader turns a list's text into document events (``document`` describes the contract);
``entries.entries_from_events`` does the rest, whatever the format. Adding a format is a
module that yields events and one line in ``READERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import PurePath

from pipeline.lists.document import DocumentEvent
from pipeline.lists.entries import entries_from_events
from pipeline.lists.markdown import read_markdown
from pipeline.models import ListEntry

__all__ = ["READERS", "Reader", "parse_markdown", "parse_text", "reader_for"]

Reader = Callable[[str], Iterable[DocumentEvent]]
"""A list's whole text -> its document events, in document order. Pure; never raises."""

READERS: dict[str, Reader] = {".md": read_markdown, ".markdown": read_markdown}
"""Readers by lower-case file suffix."""

DEFAULT_READER: Reader = read_markdown
"""For a suffix no reader claims: lists are Markdown unless they say otherwise."""


def reader_for(name: str) -> Reader:
    """The reader for a list file or URL named ``name``, by its suffix."""
    return READERS.get(PurePath(name).suffix.lower(), DEFAULT_READER)


def parse_text(text: str, list_name: str, reader: Reader = DEFAULT_READER) -> list[ListEntry]:
    """The paper entries of a list's text, in document order. Pure; never raises.

    ``list_name`` goes into every entry's ``list``.
    """
    return entries_from_events(reader(text), list_name)


def parse_markdown(text: str, list_name: str, *, fast_path: bool = True) -> list[ListEntry]:
    """The paper entries of a Markdown list, in document order. Pure; never raises.

    ``list_name`` goes into every entry's ``list``. ``fast_path=False`` sends the whole
    document through markdown-it (slower; the same entries, which the tests check).
    """
    return entries_from_events(read_markdown(text, fast_path=fast_path), list_name)
