"""Which list files a run reads: the sources named on the command line, or ``DIR/raw``.

Kept apart from the parser (and its Markdown library) because a run that finds nothing
changed needs the file names, not their entries.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import InputError

LIST_SUFFIXES = (
    ".md",
    ".markdown",
    ".mdown",
    ".mkd",
    ".html",
    ".htm",
    ".xhtml",
    ".bib",
    ".bibtex",
    ".txt",
    ".text",
    ".rst",
    ".rest",
    ".csv",
    ".tsv",
    ".tab",
    ".json",
    ".yaml",
    ".yml",
)
"""Suffixes some list reader claims (``readers.FORMATS``; a test holds the two equal): the
files a directory of lists is read for. Kept here so that locating lists stays light."""


def _list_files(directory: Path) -> list[Path]:
    return sorted(
        (f for f in directory.iterdir() if f.suffix.lower() in LIST_SUFFIXES and f.is_file()),
        key=lambda f: f.name,
    )


def is_url(source: str) -> bool:
    return "://" in source


def default_sources(raw_dir: Path) -> list[str]:
    """Every list file in the raw directory, or a clear error when there is none."""
    paths = _list_files(raw_dir) if raw_dir.is_dir() else []
    if not paths:
        raise InputError(
            f"no lists to read: {raw_dir} has no list files (*.md, *.bib, *.csv, ...). Put a "
            "list there or pass --list PATH_OR_URL."
        )
    return [str(p) for p in paths]


def expand_list_paths(paths: list[Path]) -> list[Path]:
    """Files as given, directories replaced by their list files (sorted by name).

    Raises InputError for a path that does not exist or a directory without list files.
    Duplicates are dropped (first occurrence kept).
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        if p.is_dir():
            found = _list_files(p)
            if not found:
                raise InputError(
                    "directory has no list files (*.md, *.bib, *.csv, ...)", path=str(p)
                )
        elif p.is_file():
            found = [p]
        elif p.exists():
            # Reading a pipe or a device would block the run (and its lock) forever.
            raise InputError("is not a regular file: name a list file", path=str(p))
        else:
            raise InputError("no such file or directory; check the path", path=str(p))
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out
