"""Report, exports and the notebook on tables a real refresh wrote (fake arXiv, seed list)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import bibtexparser
import nbformat
import pyarrow.parquet as pq
import pytest
from lxml import html as lxml_html
from nbclient import NotebookClient

from pipeline.config import Settings
from pipeline.refresh import run_refresh
from tests.fake_arxiv import FakeArxiv

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def refreshed(settings: Settings, seed_arxiv: FakeArxiv) -> Settings:
    run_refresh(settings)
    return settings


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def test_report_command_on_the_seed_tables(refreshed: Settings) -> None:
    done = _cli("report", "--data-dir", str(refreshed.data_dir))
    assert done.returncode == 0, done.stderr
    page = refreshed.enriched_dir / "report" / "index.html"
    assert done.stdout.strip() == f"report: {page}"
    tree = lxml_html.fromstring(page.read_bytes())
    for src in tree.xpath("//img/@src"):
        assert (page.parent / src).is_file(), src
    papers = pq.read_table(refreshed.enriched_dir / "papers.parquet")
    rows = tree.xpath("//table[@id='table-papers']/tbody/tr")
    assert len(rows) == papers.num_rows == 92
    links = {a for a in tree.xpath("//table[@id='table-papers']//a/@href") if "/abs/" in a}
    assert len(links) == 92


def test_bibtex_export_parses_with_one_entry_per_paper(refreshed: Settings) -> None:
    out = refreshed.data_dir / "refs.bib"
    done = _cli(
        "export", "--data-dir", str(refreshed.data_dir), "--format", "bibtex", "--output", str(out)
    )
    assert done.returncode == 0, done.stderr
    library = bibtexparser.parse_string(out.read_text(encoding="utf-8"))
    assert not library.failed_blocks
    assert len(library.entries) == 92
    keys = [entry.key for entry in library.entries]
    assert len(set(keys)) == 92
    eprints = {entry.fields_dict["eprint"].value for entry in library.entries}
    ids = set(
        pq.read_table(refreshed.enriched_dir / "papers.parquet").column("arxiv_id").to_pylist()
    )
    assert eprints == ids


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_csv_and_jsonl_have_one_row_per_entry(refreshed: Settings, fmt: str) -> None:
    done = _cli("export", "--data-dir", str(refreshed.data_dir), "--format", fmt)
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip().removeprefix("export: "))
    text = path.read_text(encoding="utf-8")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 97
    assert {r["status"] for r in rows} == {"enriched", "unresolved"}


def test_export_without_tables_says_to_refresh(tmp_path: Path) -> None:
    done = _cli("export", "--data-dir", str(tmp_path), "--format", "csv")
    assert done.returncode == 2
    assert "make refresh" in done.stderr and "Traceback" not in done.stderr


def test_notebook_runs_on_refreshed_tables(
    refreshed: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(refreshed.data_dir))
    notebook_path = REPO / "notebooks" / "explore.ipynb"
    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=60,
        resources={"metadata": {"path": str(notebook_path.parent)}},
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    first = "".join(str(o.get("text", "")) for o in notebook.cells[1].outputs)
    assert "97 entries, 92 papers" in first
