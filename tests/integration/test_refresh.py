"""`refresh` end to end: the seed list, the real HTTP stack, the fake arXiv API."""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings
from pipeline.refresh import run_parse, run_refresh
from pipeline.schemas import AUTHORS, ENTRIES, PAPERS
from tests.fake_arxiv import FakeArxiv, FakePaper

REPO = Path(__file__).resolve().parents[2]
SEED_IDS = 92
SEED_ENTRIES = 97


def _read(settings: Settings, name: str) -> list[dict[str, object]]:
    return pq.read_table(settings.enriched_dir / f"{name}.parquet").to_pylist()


def test_seed_refresh_writes_the_three_tables(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    report = run_refresh(settings)

    for name, schema in {"entries": ENTRIES, "papers": PAPERS, "authors": AUTHORS}.items():
        table = pq.read_table(settings.enriched_dir / f"{name}.parquet")
        assert table.schema.equals(schema, check_metadata=False), name

    entries = _read(settings, "entries")
    papers = _read(settings, "papers")
    assert len(entries) == SEED_ENTRIES
    assert len(papers) == SEED_IDS
    assert report.papers == SEED_IDS and report.entries == SEED_ENTRIES
    assert [e["line"] for e in entries] == sorted(e["line"] for e in entries)

    statuses = {}
    for entry in entries:
        statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
    assert statuses == {"enriched": 93, "unresolved": 4}

    # ImageReward is listed in two sections: two entries, one paper.
    image_reward = [e for e in entries if e["arxiv_id"] == "2304.05977"]
    assert len(image_reward) == 2
    assert len({e["section"] for e in image_reward}) == 2
    assert sum(p["arxiv_id"] == "2304.05977" for p in papers) == 1


def test_paper_rows_carry_what_arxiv_said(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    run_refresh(settings)
    papers = {p["arxiv_id"]: p for p in _read(settings, "papers")}
    authors = _read(settings, "authors")
    for fake in seed_arxiv.papers.values():
        row = papers[fake.arxiv_id]
        assert row["version"] == fake.version
        assert row["title"] == " ".join(fake.title.split())
        assert row["abstract"] == " ".join(fake.abstract.split())
        assert row["authors"] == [name for name, _ in fake.authors]
        assert row["published"] == fake.published
        assert row["updated"] == fake.updated
        assert row["primary_category"] == fake.primary_category
        assert row["categories"] == list(fake.categories)
        assert row["doi"] == fake.doi and row["journal_ref"] == fake.journal_ref
        assert row["abs_url"].endswith(f"{fake.arxiv_id}v{fake.version}")
    assert len(authors) == sum(len(f.authors) for f in seed_arxiv.papers.values())
    first = next(a for a in authors if a["arxiv_id"] == "2304.05977" and a["position"] == 0)
    assert first["name"] == seed_arxiv.papers["2304.05977"].authors[0][0]


def test_listed_version_is_kept_on_the_entry(settings: Settings) -> None:
    run_refresh(settings)
    entry = next(e for e in _read(settings, "entries") if e["arxiv_id"] == "2310.03739")
    assert entry["arxiv_version"] == 2
    assert entry["resolution"] == "link"
    assert entry["url"] == "https://arxiv.org/pdf/2310.03739v2"


def test_default_batch_is_one_request_naming_every_id(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    run_refresh(settings)
    [request] = seed_arxiv.id_requests
    assert len(request.id_list) == SEED_IDS == len(set(request.id_list))
    # The API defaults to 10 results; the request must ask for the whole batch.
    assert request.max_results == SEED_IDS
    assert request.user_agent.startswith("arxiv-list-pipeline/")
    assert "+http" in request.user_agent


def test_batch_size_ten_sends_ceil_ids_over_ten(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    run_refresh(dataclasses.replace(settings, batch_size=10))
    assert len(seed_arxiv.id_requests) == math.ceil(SEED_IDS / 10)
    asked = [i for r in seed_arxiv.id_requests for i in r.id_list]
    assert len(asked) == len(set(asked)) == SEED_IDS
    assert all(len(r.id_list) <= 10 for r in seed_arxiv.id_requests)
    assert len(_read(settings, "papers")) == SEED_IDS


def test_second_run_is_answered_without_any_request(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    run_refresh(settings)
    first = _read(settings, "papers")
    seed_arxiv.clear_log()
    slept: list[float] = []
    report = run_refresh(dataclasses.replace(settings, delay=3.0), sleep=slept.append)
    assert seed_arxiv.requests == []
    assert report.stats.requests == 0
    assert slept == [] and report.stats.seconds_slept == 0
    assert _read(settings, "papers") == first


def _without_tables(settings: Settings) -> None:
    """Drop the tables and keep the HTTP cache, so only the cache can answer."""
    shutil.rmtree(settings.sets_dir)
    settings.enriched_dir.unlink()


def test_the_http_cache_answers_a_repeated_request(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    run_refresh(settings)
    first = _read(settings, "papers")
    _without_tables(settings)
    seed_arxiv.clear_log()
    slept: list[float] = []
    report = run_refresh(dataclasses.replace(settings, delay=3.0), sleep=slept.append)
    assert seed_arxiv.requests == []
    # One id batch and the two title searches, all from the cache.
    assert report.stats.requests == 0 and report.stats.cache_hits == 3
    assert slept == []
    assert [p["title"] for p in _read(settings, "papers")] == [p["title"] for p in first]


def test_cache_expires_after_the_ttl(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    run_refresh(dataclasses.replace(settings, cache_ttl_hours=0.0))
    _without_tables(settings)
    seed_arxiv.clear_log()
    run_refresh(dataclasses.replace(settings, cache_ttl_hours=0.0))
    assert len(seed_arxiv.id_requests) == 1


def test_unknown_id_is_not_found(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    seed_arxiv.remove("2305.16381")
    run_refresh(settings)
    entry = next(e for e in _read(settings, "entries") if e["arxiv_id"] == "2305.16381")
    assert entry["status"] == "not_found"
    assert "2305.16381" not in {p["arxiv_id"] for p in _read(settings, "papers")}
    assert len(_read(settings, "papers")) == SEED_IDS - 1


def test_rate_limit_spaces_network_calls_only(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    slept: list[float] = []
    no_search = dataclasses.replace(settings, batch_size=30, delay=3.0, resolve=False)
    run_refresh(no_search, sleep=slept.append)
    # Four batches: the first goes at once, each later one waits for the gap to reach 3 s.
    assert len(seed_arxiv.id_requests) == 4
    assert len(slept) == 3 and all(0 < s <= 3.0 for s in slept)


def test_parse_writes_entries_without_network(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    report = run_parse(settings)
    assert seed_arxiv.requests == []
    entries = _read(settings, "entries")
    assert len(entries) == SEED_ENTRIES and report.entries == SEED_ENTRIES
    assert {e["status"] for e in entries} == {"pending", "unresolved"}
    assert not (settings.enriched_dir / "papers.parquet").exists()


def _cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_refresh_uses_the_environment_api_url(
    seed_data_dir: Path, seed_arxiv: FakeArxiv
) -> None:
    done = _cli(
        "refresh",
        "--data-dir",
        str(seed_data_dir),
        "--delay",
        "0",
        env_extra={"ARXIV_API_URL": seed_arxiv.url},
    )
    assert done.returncode == 0, done.stderr
    assert "97 entries from 1 list(s), 92 papers" in done.stdout
    assert (seed_data_dir / "enriched" / "papers.parquet").exists()
    assert len(seed_arxiv.id_requests) == 1


@pytest.mark.parametrize("command", ["refresh", "parse"])
def test_cli_help_explains_every_option(command: str) -> None:
    done = _cli(command, "--help")
    assert done.returncode == 0
    for option in ["--list", "--data-dir", "--quiet", "--verbose", "example:"]:
        assert option in done.stdout
    if command == "refresh":
        for option in ["--api-url", "--delay", "--batch-size", "--cache-ttl", "--offline"]:
            assert option in done.stdout
        assert "75" in done.stdout


def test_cli_rejects_a_batch_size_over_arxivs_limit(seed_data_dir: Path) -> None:
    done = _cli("refresh", "--data-dir", str(seed_data_dir), "--batch-size", "2001")
    assert done.returncode == 2
    assert "at most 2000" in done.stderr


def _big_list(data_dir: Path, ids: list[str]) -> None:
    listing = data_dir / "raw" / "big.md"
    listing.parent.mkdir(parents=True)
    listing.write_text(
        "# Big\n" + "".join(f"* Paper {i}. arXiv 2024, https://arxiv.org/abs/{i}\n" for i in ids),
        encoding="utf-8",
    )


def test_long_batches_go_as_post_and_are_cached(tmp_path: Path) -> None:
    ids = [f"2401.{n:05d}" for n in range(1, 801)]
    _big_list(tmp_path, ids)
    with FakeArxiv() as fake:
        fake.add(*(FakePaper.synthetic(i) for i in ids))
        settings = Settings(data_dir=tmp_path, api_url=fake.url, delay=0.0, batch_size=800)
        run_refresh(settings)
        [request] = fake.requests
        # Over GET this query string would be answered 414.
        assert request.method == "POST" and request.status == 200
        assert len(request.id_list) == 800 and request.max_results == 800
        assert pq.read_table(settings.enriched_dir / "papers.parquet").num_rows == 800
        shutil.rmtree(settings.sets_dir)
        settings.enriched_dir.unlink()
        fake.clear_log()
        report = run_refresh(settings)
        assert fake.requests == [] and report.stats.cache_hits == 1


def test_default_settings_ask_for_the_fewest_requests_arxiv_allows(tmp_path: Path) -> None:
    # ceil(2500 / 2000) = 2: the floor set by arXiv's 2000 results per request.
    ids = [f"2402.{n:05d}" for n in range(1, 2501)]
    _big_list(tmp_path, ids)
    with FakeArxiv() as fake:
        fake.add(*(FakePaper.synthetic(i) for i in ids))
        report = run_refresh(Settings(data_dir=tmp_path, api_url=fake.url, delay=0.0))
        assert [len(r.id_list) for r in fake.requests] == [2000, 500]
        assert report.stats.requests == math.ceil(len(ids) / 2000) and report.papers == 2500
