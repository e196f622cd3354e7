"""The report and exports a refresh keeps up to date in their stable home.

``refresh --report --export bibtex,csv`` rebuilds ``DIR/site/index.html`` and
``DIR/export/<file>`` after its tables are published. Each output remembers which tables it
was made from (a stamp of their sizes and modification times: a set carries unchanged
tables over as hard links or copies that keep both), so a refresh with nothing to do, which
publishes the same tables again, rebuilds only outputs that are missing or were made from
other tables (or with other options): it stays a fraction of a second, and the files stay
in place and valid.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import __version__
from pipeline.config import Settings
from pipeline.errors import OutputsError, PipelineError
from pipeline.outputs.formats import FORMATS, ExportOptions
from pipeline.schemas import TABLES
from pipeline.store.files import write_file_atomic

STAMPS = ".built-from.json"
"""In ``DIR/site/`` and ``DIR/export/``: output file name -> stamp of its tables."""


@dataclass(frozen=True)
class OutputRequest:
    """What a refresh should keep up to date besides its tables."""

    report: bool = False
    formats: tuple[str, ...] = ()
    options: ExportOptions = field(default_factory=ExportOptions)

    def __bool__(self) -> bool:
        return self.report or bool(self.formats)


def tables_stamp(enriched_dir: Path, options: ExportOptions) -> str:
    """Changes whenever a table an output shows does (``runs`` excluded: every run adds to
    it), or the pipeline's version or the options do."""
    digest = hashlib.sha256(f"{__version__}\0{options}".encode())
    for name in TABLES:
        if name == "runs":
            continue
        path = enriched_dir / f"{name}.parquet"
        if path.exists():
            info = path.stat()
            digest.update(f"{name}:{info.st_size}:{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _read_stamps(directory: Path) -> dict[str, str]:
    try:
        stamps = json.loads((directory / STAMPS).read_bytes())
    except (OSError, ValueError):
        return {}
    return stamps if isinstance(stamps, dict) else {}


def rebuild_outputs(settings: Settings, request: OutputRequest) -> list[Path]:
    """Rebuild the requested outputs that are missing or stale; return those written.

    Raises OutputsError naming the output that failed (the others already written stay).
    """
    from pipeline.outputs.export import export_tables
    from pipeline.outputs.report import build_report
    from pipeline.store.read import read_current

    stamp = tables_stamp(settings.enriched_dir, request.options)
    # (path, export format); None for the report.
    jobs: list[tuple[Path, str | None]] = []
    if request.report:
        jobs.append((settings.site_dir / "index.html", None))
    jobs += [(settings.export_dir / FORMATS[f].default_file, f) for f in request.formats]
    due = [
        (path, fmt)
        for path, fmt in jobs
        if not path.exists() or _read_stamps(path.parent).get(path.name) != stamp
    ]
    if not due:
        return []
    try:
        tables = read_current(settings.enriched_dir)
    except PipelineError as err:
        raise OutputsError(str(due[0][0]), str(err)) from err
    frames = tables.to_pandas() if request.report else None
    written = []
    for path, fmt in due:
        try:
            if fmt is None:
                build_report(settings.data_dir, path, tables=frames)
            else:
                export_tables(settings.data_dir, fmt, path, request.options, tables=tables)
        except (OSError, PipelineError) as err:
            raise OutputsError(str(path), getattr(err, "strerror", None) or str(err)) from err
        stamps = _read_stamps(path.parent) | {path.name: stamp}
        write_file_atomic(path.parent / STAMPS, json.dumps(stamps, indent=1).encode() + b"\n")
        written.append(path)
    return written
