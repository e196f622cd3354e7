"""`export`: the current tables -> a file in a registered format (see ``formats``), atomically.

The default place is ``DIR/export/<the format's file name>``, outside the rotating table
sets, so ``\\bibliography{data/export/papers}`` and scripts keep working across refreshes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.outputs.formats import FORMATS, ExportOptions
from pipeline.store.files import write_file_atomic
from pipeline.store.read import CurrentTables, read_current

STDOUT = Path("-")
"""``--output -``: write to standard output."""


def default_output(data_dir: Path, fmt: str) -> Path:
    return Settings(data_dir=data_dir).export_dir / FORMATS[fmt].default_file


def check_formats(names: Sequence[str]) -> None:
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise InputError(
            f"unknown export format {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(FORMATS)}"
        )


def target(data_dir: Path, fmt: str, output: Path | None) -> Path:
    """Where ``--output`` sends ``fmt``: the default place, a file, or inside a directory."""
    if output is None:
        return default_output(data_dir, fmt)
    if output.is_dir():
        return output / FORMATS[fmt].default_file
    return output


def export_tables(
    data_dir: Path,
    fmt: str,
    output: Path | None = None,
    options: ExportOptions | None = None,
    tables: CurrentTables | None = None,
) -> Path | None:
    """Write the tables of ``data_dir`` in ``fmt`` to ``output`` (atomically) and return
    the path; ``output`` ``-`` writes to standard output and returns None."""
    check_formats([fmt])
    if tables is None:
        tables = read_current(Settings(data_dir=data_dir).enriched_dir)
    text = FORMATS[fmt].render(tables, options or ExportOptions())
    if output == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
        return None
    path = target(data_dir, fmt, output)
    write_file_atomic(path, text.encode("utf-8"))
    return path
