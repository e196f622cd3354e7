"""Report and exports on tables a real refresh wrote (fake arXiv, seed list), read back by
the tools people use: pandas, DuckDB, bibtexparser, rispy, citeproc-py, lxml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import bibtexparser
import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
import rispy
from lxml import html as lxml_html

from pipeline.config import Settings
from pipeline.refresh import run_refresh

REPO = Path(__file__).resolve().parents[2]
ALL = "bibtex,csv,jsonl,csljson,ris"
FILES = ("papers.bib", "entries.csv", "entries.jsonl", "papers.json", "papers.ris")


@pytest.fixture
def refreshed(settings: Settings) -> Settings:
    run_refresh(settings)
    return settings


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args, "--data-dir", str(settings.data_dir)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "ARXIV_API_URL": settings.api_url, "NO_PROXY": "127.0.0.1"},
        timeout=120,
        check=False,
    )


def _outputs(settings: Settings) -> dict[str, bytes]:
    paths = [settings.site_dir / "index.html", *(settings.export_dir / f for f in FILES)]
    return {p.name: p.read_bytes() for p in paths}


def test_refresh_rebuilds_the_outputs_and_no_op_runs_keep_them(settings: Settings) -> None:
    done = _cli(settings, "refresh", "--delay", "0", "--report", "--export", ALL)
    assert done.returncode == 0, done.stderr
    assert f"outputs: {settings.site_dir / 'index.html'}" in done.stdout
    first = _outputs(settings)
    assert not (settings.enriched_dir / "report").exists(), "nothing inside the rotating set"
    for _ in range(2):  # two runs with nothing to do: the files stay, byte for byte
        again = _cli(settings, "refresh", "--delay", "0", "--report", "--export", ALL)
        assert again.returncode == 0, again.stderr
        assert " 0 fetched" in again.stdout
        assert _outputs(settings) == first
    # Deleted by hand: the next run that has nothing to do rebuilds it anyway.
    (settings.export_dir / "papers.ris").unlink()
    assert _cli(settings, "refresh", "--delay", "0", "--export", "ris").returncode == 0
    assert (settings.export_dir / "papers.ris").read_bytes() == first["papers.ris"]
    runs = pq.read_table(settings.enriched_dir / "runs.parquet")
    assert runs.num_rows == 4


def test_report_command_on_the_seed_tables(refreshed: Settings) -> None:
    done = _cli(refreshed, "report")
    assert done.returncode == 0, done.stderr
    page = refreshed.site_dir / "index.html"
    assert done.stdout.strip() == f"report: {page}"
    assert sorted(p.name for p in page.parent.iterdir()) == ["index.html"]
    tree = lxml_html.fromstring(page.read_bytes())
    assert all(src.startswith("data:image/svg+xml;base64,") for src in tree.xpath("//img/@src"))
    rows = tree.xpath("//table[@id='table-papers']/tbody/tr")
    assert len(rows) == pq.read_metadata(refreshed.enriched_dir / "papers.parquet").num_rows
    # The first run added every paper: the changes section lists them with their titles.
    changes = tree.xpath("//table[@id='table-changes']/tbody/tr")
    assert len(changes) == len(rows) and all(r.xpath("td[2]/a") for r in changes)


def test_report_output_into_a_missing_directory(refreshed: Settings, tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir" / "page.html"
    assert _cli(refreshed, "report", "--output", str(out)).returncode == 0
    assert out.is_file()


def test_csv_keeps_every_id_under_pandas_and_duckdb_defaults(refreshed: Settings) -> None:
    done = _cli(refreshed, "export", "--format", "csv")
    assert done.returncode == 0, done.stderr
    path = refreshed.export_dir / "entries.csv"
    entries = pq.read_table(refreshed.enriched_dir / "entries.parquet").to_pandas()
    ids = [f"arXiv:{i}" if isinstance(i, str) else None for i in entries["arxiv_id"]]
    # Defaults: `arxiv` stays text; `arxiv_id` is what pandas would corrupt (a float).
    frame = pd.read_csv(path)
    assert [None if pd.isna(v) else v for v in frame["arxiv"]] == ids
    # As the README says to read it: every id as written.
    typed = pd.read_csv(path, dtype={"arxiv_id": str, "paper_arxiv_id": str, "candidate_id": str})
    expected = [i if isinstance(i, str) else None for i in entries["arxiv_id"]]
    assert [None if pd.isna(v) else v for v in typed["arxiv_id"]] == expected
    rows = duckdb.sql(f"select arxiv from read_csv_auto('{path}')").fetchall()
    assert [r[0] for r in rows] == ids
    typed_rows = duckdb.sql(
        f"select arxiv_id from read_csv_auto('{path}', types={{'arxiv_id': 'VARCHAR'}})"
    ).fetchall()
    assert [r[0] for r in typed_rows] == expected


def test_bibtex_parses_with_key_years_equal_to_year_fields(refreshed: Settings) -> None:
    assert _cli(refreshed, "export", "--format", "bibtex").returncode == 0
    library = bibtexparser.parse_string(
        (refreshed.export_dir / "papers.bib").read_text(encoding="utf-8")
    )
    assert not library.failed_blocks
    papers = pq.read_table(refreshed.enriched_dir / "papers.parquet").to_pandas()
    assert len(library.entries) == len(papers)
    assert len({e.key for e in library.entries}) == len(papers)
    for entry in library.entries:
        assert entry["year"] in entry.key, entry.key
        assert entry["url"] == f"https://arxiv.org/abs/{entry['eprint']}"
        assert entry["doi"]
        if entry.entry_type == "misc":
            assert f"arXiv:{entry['eprint']}" in entry["howpublished"]


def test_ris_round_trips_through_rispy(refreshed: Settings) -> None:
    assert _cli(refreshed, "export", "--format", "ris").returncode == 0
    records = rispy.loads((refreshed.export_dir / "papers.ris").read_text(encoding="utf-8"))
    papers = pq.read_table(refreshed.enriched_dir / "papers.parquet").to_pandas()
    assert len(records) == len(papers)
    assert {r["accession_number"] for r in records} == {f"arXiv:{i}" for i in papers["arxiv_id"]}
    assert all(r["authors"] and r["title"] and r["year"] for r in records)


def test_export_to_stdout_and_into_a_directory(refreshed: Settings, tmp_path: Path) -> None:
    done = _cli(refreshed, "export", "--format", "csljson", "--output", "-")
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    assert len(items) == pq.read_metadata(refreshed.enriched_dir / "papers.parquet").num_rows
    done = _cli(refreshed, "export", "--format", "ris", "--output", str(tmp_path))
    assert done.returncode == 0 and (tmp_path / "papers.ris").is_file()


def test_export_without_tables_says_to_refresh(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "export",
            "--data-dir",
            str(tmp_path),
            "--format",
            "csv",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "make refresh" in done.stderr and "Traceback" not in done.stderr


def test_notebook_runs_on_refreshed_tables(
    refreshed: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from nbclient import NotebookClient

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
