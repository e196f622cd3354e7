"""`export`: the current tables -> a file in a registered format (see ``formats``), atomically."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.outputs.formats import FORMATS
from pipeline.store.read import read_current
from pipeline.store.tables import write_file_atomic


def default_output(data_dir: Path, fmt: str) -> Path:
    return Settings(data_dir=data_dir).enriched_dir / "export" / FORMATS[fmt].default_file


def export_tables(data_dir: Path, fmt: str, output: Path | None = None) -> Path:
    """Write the tables of ``data_dir`` in ``fmt`` to ``output`` (atomically); return the path."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    text = FORMATS[fmt].render(read_current(Settings(data_dir=data_dir).enriched_dir))
    path = output or default_output(data_dir, fmt)
    write_file_atomic(path, text.encode("utf-8"))
    return path
