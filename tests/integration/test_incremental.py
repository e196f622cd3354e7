"""Incremental refresh for cron: fetch only what changed, and record what changed."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.config import Settings
from pipeline.outputs.status import render_status
from pipeline.refresh import run_refresh
from tests.fake_arxiv import FakeArxiv, FakePaper

NEW = {
    "2501.00001": "A First Brand New Paper on Reward Models",
    "2501.00002": "A Second Brand New Paper on Preference Data",
    "2501.00003": "A Third Brand New Paper on Guidance",
}


def _list(settings: Settings) -> Path:
    return next(settings.raw_dir.glob("*.md"))


def _read(settings: Settings, name: str) -> list[dict[str, object]]:
    return pq.read_table(settings.enriched_dir / f"{name}.parquet").to_pylist()


def _changes(settings: Settings, run_id: str) -> list[dict[str, object]]:
    return [c for c in _read(settings, "changes") if c["run_id"] == run_id]


def test_added_entries_cost_one_request_naming_only_them(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    run_refresh(settings)
    seed_arxiv.add(*(FakePaper.synthetic(i, title=t) for i, t in NEW.items()))
    path = _list(settings)
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("### DPO"))
    added = [f"* {t}. arXiv 2025, [[pdf]](https://arxiv.org/abs/{i})" for i, t in NEW.items()]
    path.write_text("\n".join([*lines[: at + 1], *added, *lines[at + 1 :]]) + "\n", "utf-8")
    seed_arxiv.clear_log()

    report = run_refresh(settings)

    [request] = seed_arxiv.requests
    assert sorted(request.id_list) == sorted(NEW)
    added_rows = _changes(settings, report.run_id)
    assert [(c["change"], c["arxiv_id"]) for c in added_rows] == [("added", i) for i in sorted(NEW)]
    assert len(_read(settings, "papers")) == 92 + 3
    assert len(_read(settings, "entries")) == 97 + 3


def test_removed_entries_cost_nothing_and_shrink_the_tables(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    run_refresh(settings)
    titles = {p["arxiv_id"]: p["title"] for p in _read(settings, "papers")}
    path = _list(settings)
    text = path.read_text(encoding="utf-8")
    gone = ["2305.16381", "2302.12192"]  # DPOK and "Aligning Text-to-Image Models..."
    kept = [line for line in text.splitlines() if not any(i in line for i in gone)]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    seed_arxiv.clear_log()

    report = run_refresh(settings)

    assert seed_arxiv.requests == []
    assert report.stats.requests == 0
    rows = _changes(settings, report.run_id)
    assert sorted((c["change"], c["arxiv_id"]) for c in rows) == [
        ("removed", i) for i in sorted(gone)
    ]
    # The papers leave the tables; their change rows keep the titles (schema 2).
    assert {c["arxiv_id"]: c["title"] for c in rows} == {i: titles[i] for i in gone}
    papers = {p["arxiv_id"] for p in _read(settings, "papers")}
    authors = {a["arxiv_id"] for a in _read(settings, "authors")}
    assert len(papers) == 90 and not papers & set(gone) and not authors & set(gone)
    assert len(_read(settings, "entries")) == 95


def test_max_age_zero_sees_a_new_version_past_the_cache(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    run_refresh(settings)
    seed_arxiv.publish_new_version("2311.12908", title="Diffusion Model Alignment Using DPO")
    seed_arxiv.clear_log()

    # The cached answer is minutes old; a re-check must not be answered by it.
    report = run_refresh(dataclasses.replace(settings, max_age_days=0))

    assert len(seed_arxiv.id_requests) == 1
    paper = next(p for p in _read(settings, "papers") if p["arxiv_id"] == "2311.12908")
    assert paper["version"] == 2
    assert paper["title"] == "Diffusion Model Alignment Using DPO"
    kinds = {c["change"] for c in _changes(settings, report.run_id)}
    assert {"new_version", "title_changed"} <= kinds
    detail = next(
        c["detail"] for c in _changes(settings, report.run_id) if c["change"] == "new_version"
    )
    assert detail == "v1 -> v2"


def test_stale_papers_are_rechecked_and_fresh_ones_are_not(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    run_refresh(settings, clock=lambda: start)
    seed_arxiv.clear_log()
    run_refresh(settings, clock=lambda: start + timedelta(days=3))
    assert seed_arxiv.requests == []
    run_refresh(settings, clock=lambda: start + timedelta(days=8))
    assert len(seed_arxiv.id_requests) == 1
    assert len(seed_arxiv.id_requests[0].id_list) == 92


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_nothing_new_gives_identical_tables_and_no_request(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    run_refresh(settings)
    first = {n: _digest(settings.enriched_dir / f"{n}.parquet") for n in ("entries", "papers")}
    first |= {n: _digest(settings.enriched_dir / f"{n}.parquet") for n in ("authors", "changes")}
    seed_arxiv.clear_log()

    report = run_refresh(settings)

    assert seed_arxiv.requests == [] and report.stats.requests == 0
    assert report.stats.seconds_slept == 0 and report.changes == 0
    for name, digest in first.items():
        assert _digest(settings.enriched_dir / f"{name}.parquet") == digest, name
    runs = _read(settings, "runs")
    assert [r["status"] for r in runs] == ["ok", "ok"]
    # The first run: one id batch and two title searches for the four entries with no link.
    assert [r["requests"] for r in runs] == [3, 0]


def test_status_shows_runs_sizes_staleness_and_changes(settings: Settings) -> None:
    run_refresh(settings)
    text = render_status(settings)
    for expected in ["entries.parquet", "papers.parquet", "Last runs", "Stale papers", "added"]:
        assert expected in text
    assert "0 of 92" in text


def test_status_without_tables_says_what_to_do(tmp_path: Path) -> None:
    assert "run `make refresh`" in render_status(Settings(data_dir=tmp_path))
