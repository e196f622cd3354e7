"""The export format registry: the extension point the CLI reads its ``--format`` from."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.cli import build_parser, main
from pipeline.outputs.formats import FORMATS, ExportFormat, ExportOptions, register
from pipeline.store.read import CurrentTables, read_current
from tests.sample_tables import write_sample_tables


def _count_papers(tables: CurrentTables, options: ExportOptions) -> str:
    return f"{tables.papers.num_rows} papers, {tables.entries.num_rows} entries\n"


@pytest.fixture
def dummy() -> Iterator[ExportFormat]:
    fmt = ExportFormat("dummy", _count_papers, "counts.txt", "how many papers and entries")
    register(fmt)
    yield fmt
    FORMATS.pop(fmt.name)  # registration is process-wide: leave the registry as it was


def test_a_registered_format_is_offered_by_export_help(
    dummy: ExportFormat, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["export", "--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert "{bibtex,csv,jsonl,csljson,ris,dummy}" in shown
    assert "bibtex, csv, jsonl, csljson, ris or dummy" in shown
    assert "dummy    counts.txt: how many papers and entries" in shown
    assert "papers.json, papers.ris or counts.txt" in " ".join(shown.split())


def test_a_registered_format_is_written_by_export(dummy: ExportFormat, tmp_path: Path) -> None:
    write_sample_tables(tmp_path)
    assert main(["export", "--format", "dummy", "--data-dir", str(tmp_path), "--quiet"]) == 0
    written = (tmp_path / "export" / "counts.txt").read_text(encoding="utf-8")
    assert written == _count_papers(read_current(tmp_path / "enriched"), ExportOptions())


def test_a_name_is_registered_once(dummy: ExportFormat) -> None:
    with pytest.raises(ValueError, match="'dummy' is already registered"):
        register(dummy)
    assert list(FORMATS) == ["bibtex", "csv", "jsonl", "csljson", "ris", "dummy"]


def test_the_cli_parser_reads_the_registry_without_loading_the_renderers() -> None:
    # Every command builds the parser, and a run with nothing to do must stay light.
    code = (
        "import sys; from pipeline.cli import build_parser; build_parser(); "
        "print(*sorted(m for m in ('pandas', 'pyarrow', 'pylatexenc', 'pipeline.outputs.bibtex',"
        " 'pipeline.outputs.tabular', 'pipeline.outputs.csljson', 'pipeline.outputs.ris',"
        " 'pipeline.store.read') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == []
