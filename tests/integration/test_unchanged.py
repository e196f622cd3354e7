"""A refresh with nothing to do only records itself, and only when nothing can have changed."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.outputs.status import render_status
from pipeline.refresh import run_parse, run_refresh
from pipeline.store import unchanged
from pipeline.store.runs import STATE_FILE
from tests.fake_arxiv import FakeArxiv, FakePaper
from tests.fake_scholarly import FakeOpenAlex, FakeSemanticScholar

START = datetime(2026, 11, 1, tzinfo=UTC)
TABLES = ("entries", "papers", "authors", "quality", "changes")


def _no_sleep(seconds: float) -> None:
    """Retries of a failing source wait for nothing in these tests."""


def _at(days: float) -> datetime:
    return START + timedelta(days=days)


def _tables(settings: Settings) -> dict[str, list[dict[str, object]]]:
    return {n: pq.read_table(settings.enriched_dir / f"{n}.parquet").to_pylist() for n in TABLES}


def _runs(settings: Settings) -> list[dict[str, object]]:
    return pq.read_table(settings.enriched_dir / "runs.parquet").to_pylist()


def test_a_run_with_nothing_to_do_only_adds_its_row(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    cold = run_refresh(settings, clock=lambda: START)
    assert not cold.unchanged
    files = {n: (settings.enriched_dir / f"{n}.parquet").resolve() for n in TABLES}
    seed_arxiv.clear_log()

    warm = run_refresh(settings, clock=lambda: _at(1))

    assert warm.unchanged and seed_arxiv.requests == [] and warm.stats.requests == 0
    # The same numbers as the run that wrote the tables, so the summary line reads the same.
    assert (warm.lists, warm.entries, warm.papers) == (cold.lists, cold.entries, cold.papers)
    assert warm.statuses == cold.statuses and warm.by_title == cold.by_title
    assert [f["kind"] for f in warm.findings] == [f["kind"] for f in cold.findings]
    assert warm.changes == 0 and warm.fetched == 0
    for name, before in files.items():
        # Carried into the new set as the very same file, not rewritten.
        assert (settings.enriched_dir / f"{name}.parquet").resolve().samefile(before), name
    runs = _runs(settings)
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert runs[1]["started"] == _at(1) and runs[1]["requests"] == 0
    assert runs[1]["entries"] == 97 and runs[1]["papers"] == cold.papers
    # The state goes on with the tables it describes: the next run can skip too.
    assert run_refresh(settings, clock=lambda: _at(2)).unchanged


def test_what_it_records_equals_what_a_full_pass_would_build(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    run_refresh(settings, clock=lambda: START)
    assert run_refresh(settings, clock=lambda: _at(1)).unchanged
    skipped = _tables(settings)
    (settings.enriched_dir / STATE_FILE).unlink()
    seed_arxiv.clear_log()

    full = run_refresh(settings, clock=lambda: _at(1.5))

    assert not full.unchanged and seed_arxiv.requests == []
    assert _tables(settings) == skipped


def test_an_edited_list_gets_the_full_pass(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    run_refresh(settings, clock=lambda: START)
    listing = next(settings.raw_dir.glob("*.md"))
    seed_arxiv.add(FakePaper.synthetic("2411.00001", title="A Paper Added Later"))
    listing.write_text(
        listing.read_text(encoding="utf-8")
        + "\n- A Paper Added Later. [paper](https://arxiv.org/abs/2411.00001)\n",
        encoding="utf-8",
    )
    seed_arxiv.clear_log()

    report = run_refresh(settings, clock=lambda: _at(1))

    assert not report.unchanged and report.entries == 98 and report.changes == 1
    assert [r.id_list for r in seed_arxiv.id_requests] == [["2411.00001"]]


def test_an_edit_that_keeps_the_size_is_seen_too(settings: Settings) -> None:
    run_refresh(settings, clock=lambda: START)
    listing = next(settings.raw_dir.glob("*.md"))
    before = listing.read_bytes()
    listing.write_bytes(before.replace(b"NeurIPS 2023, [[pdf]]", b"NeurIPS 2024, [[pdf]]", 1))
    assert listing.stat().st_size == len(before)

    report = run_refresh(settings, clock=lambda: _at(1))

    assert not report.unchanged
    years = {(e["line"], e["year"]) for e in _tables(settings)["entries"]}
    assert (15, 2024) in years and (74, 2023) in years


def test_papers_falling_due_get_the_full_pass(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    run_refresh(settings, clock=lambda: START)
    assert run_refresh(settings, clock=lambda: _at(6.9)).unchanged
    seed_arxiv.clear_log()

    report = run_refresh(settings, clock=lambda: _at(7))

    assert not report.unchanged and report.fetched == 92
    assert len(seed_arxiv.id_requests) == 1
    # Re-checked now, so due again a week later.
    assert run_refresh(settings, clock=lambda: _at(8)).unchanged


@pytest.mark.parametrize(
    "change",
    [
        {"resolve": False},
        {"max_age_days": 30.0},
        {"offline": True},
        {"api_url": "http://127.0.0.1:9/api/query"},
        {"cite_sources": ("openalex",), "openalex_api_url": "http://127.0.0.1:9"},
    ],
    ids=lambda change: ",".join(change),
)
def test_other_settings_get_the_full_pass(
    settings: Settings, seed_arxiv: FakeArxiv, change: dict[str, object]
) -> None:
    run_refresh(settings, clock=lambda: START)
    report = run_refresh(
        dataclasses.replace(settings, **change),  # type: ignore[arg-type]
        sleep=_no_sleep,
        clock=lambda: _at(1),
    )
    assert not report.unchanged


def test_new_code_gets_the_full_pass(
    settings: Settings, seed_arxiv: FakeArxiv, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_refresh(settings, clock=lambda: START)
    monkeypatch.setattr(unchanged, "code_fingerprint", lambda: "an upgraded pipeline")
    assert not run_refresh(settings, clock=lambda: _at(1)).unchanged


def test_code_fingerprint_follows_every_module_by_content(tmp_path: Path) -> None:
    package = tmp_path / "pipeline"
    shutil.copytree(Path(unchanged.__file__).parents[1], package)
    before = unchanged.code_fingerprint(package)
    assert before == unchanged.code_fingerprint(package)
    nested = package / "lists" / "load.py"
    stat = nested.stat()
    # A touched file with the same bytes is the same code: a checkout keeps the state.
    os.utime(nested, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert unchanged.code_fingerprint(package) == before
    # An edit inside a subpackage is new code.
    nested.write_text(nested.read_text() + "\n# edited\n")
    assert unchanged.code_fingerprint(package) != before
    # So is a new module.
    nested.write_text(nested.read_text().removesuffix("\n# edited\n"))
    assert unchanged.code_fingerprint(package) == before
    (package / "services" / "crossref.py").write_text("NAME = 'crossref'\n")
    assert unchanged.code_fingerprint(package) != before


def test_ids_arxiv_did_not_return_are_asked_on_every_run(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    missing = next(iter(seed_arxiv.papers))
    seed_arxiv.remove(missing)
    run_refresh(settings, clock=lambda: START)
    assert not (settings.enriched_dir / STATE_FILE).exists()
    seed_arxiv.add(FakePaper.synthetic(missing, title="Back on arXiv"))
    # The cached answer (without it) is still fresh; past the cache's TTL it is asked again.
    report = run_refresh(dataclasses.replace(settings, cache_ttl_hours=0), clock=lambda: _at(1))
    assert not report.unchanged and report.statuses.get("not_found") is None


def test_max_age_zero_never_skips(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    always = dataclasses.replace(settings, max_age_days=0.0)
    run_refresh(always, clock=lambda: START)
    seed_arxiv.clear_log()
    assert not run_refresh(always, clock=lambda: _at(0.01)).unchanged
    assert len(seed_arxiv.id_requests) == 1


def test_after_parse_or_a_failed_run(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    run_refresh(settings, clock=lambda: START)
    # A failed run changes no table: the state stays with them.
    seed_arxiv.fail_next(100, status=503)
    failing = dataclasses.replace(settings, max_age_days=0.0, max_retry_seconds=0.0)
    with pytest.raises(Exception, match="503"):
        run_refresh(failing, clock=lambda: _at(1))
    assert [r["status"] for r in _runs(settings)] == ["ok", "failed"]
    seed_arxiv.fail_next(0)
    assert run_refresh(settings, clock=lambda: _at(2)).unchanged
    # `parse` rewrites the entries without the state: the next refresh checks everything.
    run_parse(settings)
    assert not (settings.enriched_dir / STATE_FILE).exists()
    assert not run_refresh(settings, clock=lambda: _at(3)).unchanged


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"format": 1}', b'{"format": 99}'])
def test_an_unreadable_state_gets_the_full_pass(
    settings: Settings, seed_arxiv: FakeArxiv, content: bytes
) -> None:
    run_refresh(settings, clock=lambda: START)
    state = settings.enriched_dir / STATE_FILE
    state.resolve().unlink()  # a hard link shared with the previous set: replace, not edit
    state.write_bytes(content)
    report = run_refresh(settings, clock=lambda: _at(1))
    assert not report.unchanged and report.entries == 97


def test_the_state_says_when_the_next_check_is_due(settings: Settings) -> None:
    run_refresh(settings, clock=lambda: START)
    state = json.loads((settings.enriched_dir / STATE_FILE).read_bytes())
    fetched = pq.read_table(settings.enriched_dir / "papers.parquet").column("fetched_at")
    assert min(fetched.to_pylist()) == START
    assert datetime.fromisoformat(state["due"]) == _at(7)


def test_with_citation_sources_the_oldest_count_sets_the_due_time(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    with FakeSemanticScholar() as s2, FakeOpenAlex() as openalex:
        for paper in seed_arxiv.papers.values():
            s2.add_paper(paper)
            openalex.add_paper(paper)
        cite = dataclasses.replace(
            settings,
            cite_sources=("semanticscholar", "openalex"),
            s2_api_url=s2.url,
            openalex_api_url=openalex.url,
            cite_max_age_days=2.0,
            openalex_mailto="lists@example.org",
        )
        run_refresh(cite, sleep=_no_sleep, clock=lambda: START)
        s2.clear_log()
        assert run_refresh(cite, sleep=_no_sleep, clock=lambda: _at(1)).unchanged
        assert s2.requests == []
        report = run_refresh(cite, sleep=_no_sleep, clock=lambda: _at(2))
        assert not report.unchanged and len(s2.requests) >= 1

        # A source that fails is retried on the next run, not skipped until due.
        s2.fail_next(100, status=503)
        failing = dataclasses.replace(cite, cite_max_age_days=0.5)
        report = run_refresh(failing, sleep=_no_sleep, clock=lambda: _at(3))
        assert "semanticscholar" in report.cite_failures
        assert not (settings.enriched_dir / STATE_FILE).exists()


_REPORT_MODULES = """
import sys
from pipeline.cli import main
code = main(["refresh", "--data-dir", sys.argv[1], "--delay", "0", "--quiet"])
heavy = ("pandas", "arxiv", "requests_cache", "markdown_it", "pipeline.stages",
         "pipeline.lists.markdown", "pipeline.quality", "pipeline.venues",
         "pipeline.maintain.fix", "pipeline.maintain.suggest")
print(code, *sorted(name for name in heavy if name in sys.modules))
"""


def test_a_run_with_nothing_to_do_loads_no_stage(settings: Settings) -> None:
    # What makes it cheap: none of the stages, the parser, the HTTP stack, pandas, or the
    # findings and venue rules that fix and suggest load (the CLI declares their options).
    def cli_run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", _REPORT_MODULES, str(settings.data_dir)],
            capture_output=True,
            text=True,
            env={**os.environ, "ARXIV_API_URL": settings.api_url, "NO_PROXY": "127.0.0.1"},
            timeout=120,
            check=True,
        )
        return done.stdout.split()

    first = cli_run()
    assert first[0] == "0" and "pipeline.stages" in first  # the full pass
    assert "pandas" not in first  # small tables are built without it (pipeline/arrow.py)
    assert cli_run() == ["0"]
    assert [r["status"] for r in _runs(settings)] == ["ok", "ok"]


def test_status_says_until_when_a_refresh_only_records_itself(settings: Settings) -> None:
    run_refresh(settings, clock=lambda: START)
    text = render_status(settings, now=_at(1))
    assert "Next refresh: records itself only" in text and "2026-11-08 00:00 UTC" in text
    assert "Next refresh: a full pass" in render_status(settings, now=_at(7))
    run_parse(settings)
    assert "Next refresh: a full pass" in render_status(settings, now=_at(1))


def test_an_unreadable_list_leaves_the_error_to_the_full_pass(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root reads any file, so the failure is simulated; the full pass names the file.
    listing = next(settings.raw_dir.glob("*.md"))
    real = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path == listing:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert unchanged.inputs_fingerprint(settings, [listing]) is None
    with pytest.raises(InputError, match=f"{listing.name}.*cannot read the list file"):
        run_refresh(settings)
