"""notebooks/explore.ipynb runs top to bottom on a table set, so it cannot rot unnoticed.

It runs in a real Jupyter kernel (ipykernel, from the environment running pytest), with no
network: the tables are written to a temporary directory named by PIPELINE_DATA_DIR.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from tests.sample_tables import write_sample_tables

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "explore.ipynb"


def test_notebook_is_committed_without_outputs() -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)


def _text(output: nbformat.NotebookNode) -> str:
    if output.output_type == "stream":
        return str(output.text)
    return str(output.get("data", {}).get("text/plain", ""))


@pytest.mark.parametrize("with_quality", [True, False], ids=["quality", "no-quality"])
def test_notebook_runs_on_the_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_quality: bool
) -> None:
    write_sample_tables(tmp_path)
    if not with_quality:
        (tmp_path / "enriched" / "quality.parquet").unlink()
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(tmp_path))  # the kernel inherits it
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # "python3" is the kernel of the interpreter running pytest (ipykernel's native spec),
    # so the notebook sees the same pandas and pyarrow as the project.
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=60,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    entries = pd.read_parquet(tmp_path / "enriched" / "entries.parquet")
    papers = pd.read_parquet(tmp_path / "enriched" / "papers.parquet")
    first = "".join(_text(o) for o in notebook.cells[1].outputs)
    assert f"{len(entries)} entries, {len(papers)} papers" in first
    assert all(cell.outputs for cell in notebook.cells if cell.cell_type == "code")
