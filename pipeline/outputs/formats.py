"""The export formats: the registry ``export`` and the CLI's ``--format`` read.

A format is a function from the current tables to text, a default file name and a line for
``--help``. To add one, write its module (over ``outputs.citation`` records when it cites
papers, as ``bibtex`` does) and register it at the end of this file as the built-ins are;
``register`` works the same from anywhere that runs before the CLI builds its parser.

This module stays light: the CLI builds its parser from it on every run, so each built-in
renderer imports its module only when it is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.store.read import CurrentTables


@dataclass(frozen=True)
class ExportOptions:
    """What a user may ask of a format beyond the defaults (formats ignore what they lack)."""

    abstract: bool = False
    """BibTeX: add each paper's ``abstract`` (large; most styles do not print it)."""
    keywords: bool = False
    """BibTeX: add ``keywords``, the list sections that list the paper."""


@dataclass(frozen=True)
class ExportFormat:
    name: str
    """What ``--format`` takes."""
    render: Callable[[CurrentTables, ExportOptions], str]
    """The whole file's text from the current tables."""
    default_file: str
    """The file name under ``DIR/export/`` (and inside an ``--output`` directory)."""
    description: str
    """One line for ``export --help``."""


FORMATS: dict[str, ExportFormat] = {}
"""Name -> format, in the order they were registered (the order ``--help`` lists them)."""


def register(fmt: ExportFormat) -> None:
    """Offer ``fmt`` to ``export``; a name already taken is a ValueError."""
    if fmt.name in FORMATS:
        raise ValueError(f"export format {fmt.name!r} is already registered")
    FORMATS[fmt.name] = fmt


def _bibtex(tables: CurrentTables, options: ExportOptions) -> str:
    from pipeline.outputs import bibtex

    return bibtex.render(tables, options)


def _csv(tables: CurrentTables, options: ExportOptions) -> str:
    from pipeline.outputs import tabular

    return tabular.render_csv(tables)


def _jsonl(tables: CurrentTables, options: ExportOptions) -> str:
    from pipeline.outputs import tabular

    return tabular.render_jsonl(tables)


def _csljson(tables: CurrentTables, options: ExportOptions) -> str:
    from pipeline.outputs import csljson

    return csljson.render(tables)


def _ris(tables: CurrentTables, options: ExportOptions) -> str:
    from pipeline.outputs import ris

    return ris.render(tables)


register(ExportFormat("bibtex", _bibtex, "papers.bib", "one BibTeX entry per paper"))
register(ExportFormat("csv", _csv, "entries.csv", "one row per list entry, joined with its paper"))
register(ExportFormat("jsonl", _jsonl, "entries.jsonl", "the rows of csv as JSON lines"))
register(
    ExportFormat("csljson", _csljson, "papers.json", "CSL-JSON for pandoc, Zotero and citeproc")
)
register(ExportFormat("ris", _ris, "papers.ris", "RIS for Zotero, Mendeley and EndNote"))
