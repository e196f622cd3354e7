"""Which list files a run reads: the sources named on the command line, or ``DIR/raw``.

Kept apart from the parser (and its Markdown library) because a run that finds nothing
changed needs the file names, not their entries.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import InputError


def is_url(source: str) -> bool:
    return "://" in source


def default_sources(raw_dir: Path) -> list[str]:
    """Every ``*.md`` in the raw directory, or a clear error when there is none."""
    paths = sorted(raw_dir.glob("*.md")) if raw_dir.is_dir() else []
    if not paths:
        raise InputError(
            f"no lists to read: {raw_dir} has no *.md files. Put a Markdown list there "
            "or pass --list PATH_OR_URL."
        )
    return [str(p) for p in paths]


def expand_list_paths(paths: list[Path]) -> list[Path]:
    """Files as given, directories replaced by their ``*.md`` files (sorted by name).

    Raises InputError for a path that does not exist or a directory without ``.md`` files.
    Duplicates are dropped (first occurrence kept).
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        if p.is_dir():
            found = sorted((f for f in p.glob("*.md") if f.is_file()), key=lambda f: f.name)
            if not found:
                raise InputError("directory has no *.md list files", path=str(p))
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
