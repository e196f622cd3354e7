"""`refresh --sources ...`: citations.parquet beside the arXiv tables, and a source that
fails never costs the run."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings
from pipeline.refresh import run_refresh
from pipeline.schemas import CITATIONS, ENTRIES
from tests.fake_arxiv import FakeArxiv
from tests.fake_scholarly import FakeOpenAlex, FakeSemanticScholar

BOTH = ("semanticscholar", "openalex")


@pytest.fixture
def s2(seed_arxiv: FakeArxiv) -> Iterator[FakeSemanticScholar]:
    with FakeSemanticScholar() as fake:
        for paper in seed_arxiv.papers.values():
            fake.add_paper(paper)
        yield fake


@pytest.fixture
def openalex(seed_arxiv: FakeArxiv) -> Iterator[FakeOpenAlex]:
    with FakeOpenAlex() as fake:
        for paper in seed_arxiv.papers.values():
            fake.add_paper(paper)
        yield fake


@pytest.fixture
def cite_settings(settings: Settings, s2: FakeSemanticScholar, openalex: FakeOpenAlex) -> Settings:
    return dataclasses.replace(
        settings,
        cite_sources=BOTH,
        s2_api_url=s2.url,
        openalex_api_url=openalex.url,
        s2_api_key=None,
        openalex_mailto="lists@example.org",
    )


def _rows(settings: Settings, name: str) -> list[dict[str, object]]:
    return pq.read_table(settings.enriched_dir / f"{name}.parquet").to_pylist()


def test_citations_cost_one_request_per_source_for_the_seed(
    cite_settings: Settings, s2: FakeSemanticScholar, openalex: FakeOpenAlex
) -> None:
    slept: list[float] = []
    report = run_refresh(cite_settings, sleep=slept.append)

    table = pq.read_table(cite_settings.enriched_dir / "citations.parquet")
    assert table.schema.equals(CITATIONS, check_metadata=False)
    rows = table.to_pylist()
    assert {r["source"] for r in rows} == set(BOTH)
    assert len(rows) == 2 * 92
    assert all(r["citation_count"] is not None for r in rows if r["source"] == "openalex")
    batches = [r for r in s2.requests if r.path.endswith("/paper/batch")]
    assert len(batches) == 1 and len(batches[0].ids) == 92
    # Paper lookups are batched; the four entries without a link are looked up by title.
    works = [r for r in openalex.requests if r.params.get("filter", "").startswith("doi:")]
    assert len(works) == 1
    assert report.cite_failures == {}
    # Every entry has a normalised venue with its source; the list's own venue comes first.
    entries = _rows(cite_settings, "entries")
    assert pq.read_table(cite_settings.enriched_dir / "entries.parquet").schema.equals(
        ENTRIES, check_metadata=False
    )
    image_reward = next(e for e in entries if e["arxiv_id"] == "2304.05977")
    assert (image_reward["venue_normalized"], image_reward["venue_source"]) == ("NeurIPS", "list")


def test_fresh_citations_are_not_asked_again(
    cite_settings: Settings, s2: FakeSemanticScholar, openalex: FakeOpenAlex
) -> None:
    run_refresh(cite_settings, sleep=lambda s: None)
    s2.clear_log()
    openalex.clear_log()
    run_refresh(cite_settings, sleep=lambda s: None)
    assert s2.requests == [] and openalex.requests == []
    assert len(_rows(cite_settings, "citations")) == 2 * 92


def test_a_source_down_still_writes_the_arxiv_tables_and_says_so(
    cite_settings: Settings, s2: FakeSemanticScholar
) -> None:
    s2.down()
    report = run_refresh(cite_settings, sleep=lambda s: None)
    assert "semanticscholar" in report.cite_failures
    assert len(_rows(cite_settings, "papers")) == 92
    sources = {r["source"] for r in _rows(cite_settings, "citations")}
    assert sources == {"openalex"}


def test_cli_names_the_failed_source(
    cite_settings: Settings, openalex: FakeOpenAlex, seed_arxiv: FakeArxiv
) -> None:
    # A two-paper list keeps the real (subprocess) waits short.
    small = cite_settings.data_dir / "small.md"
    small.write_text(
        "# Small\n* ImageReward. NeurIPS 2023, https://arxiv.org/abs/2304.05977\n"
        "* DPOK. NeurIPS 2023, https://arxiv.org/abs/2305.16381\n",
        encoding="utf-8",
    )
    openalex.fail_next(100, status=500)
    env = {
        **os.environ,
        "ARXIV_API_URL": seed_arxiv.url,
        "S2_API_URL": cite_settings.s2_api_url,
        "OPENALEX_API_URL": openalex.url,
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "refresh",
            "--data-dir",
            str(cite_settings.data_dir),
            "--delay",
            "0",
            "--sources",
            "arxiv,semanticscholar,openalex",
            "--retry-budget",
            "3",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert "warning: openalex failed, its previous values were kept" in done.stderr
    assert (cite_settings.data_dir / "enriched" / "citations.parquet").exists()


def test_unknown_source_is_bad_usage(seed_data_dir: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "refresh",
            "--data-dir",
            str(seed_data_dir),
            "--sources",
            "arxiv,scholar",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2 and "unknown source(s) scholar" in done.stderr
