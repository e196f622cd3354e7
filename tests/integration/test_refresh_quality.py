"""Title resolution, the link check and the quality findings, inside a seed refresh."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pyarrow.parquet as pq

from pipeline.config import Settings
from pipeline.refresh import run_refresh
from tests.fake_arxiv import FakeArxiv, FakePaper

MLLM = "Multimodal Large Language Models Make Text-to-Image Generative Models Align Better"
DECOYS = [
    # Near misses of the three classics: arXiv papers that must not be taken for them.
    FakePaper.synthetic("2402.00001", title="Individual Choice Behavior of LLM Agents"),
    FakePaper.synthetic("2402.00002", title="The Analysis of Permutations in Neural Networks"),
]


def _rows(settings: Settings, name: str) -> list[dict[str, object]]:
    return pq.read_table(settings.enriched_dir / f"{name}.parquet").to_pylist()


def test_seed_resolution_one_by_title_three_unresolved_two_searches(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    seed_arxiv.add(
        FakePaper.synthetic("2410.00005", title=MLLM, published=datetime(2024, 10, 1, tzinfo=UTC)),
        *DECOYS,
    )
    report = run_refresh(settings)

    entries = _rows(settings, "entries")
    by_title = [e for e in entries if e["resolution"] == "title"]
    assert [(e["title"], e["arxiv_id"], e["status"]) for e in by_title] == [
        (MLLM, "2410.00005", "enriched")
    ]
    assert by_title[0]["match_score"] >= 90 and by_title[0]["arxiv_version"] is None
    unresolved = [e for e in entries if e["status"] == "unresolved"]
    assert [e["title"].split(".")[0] for e in unresolved] == [
        "Rank Analysis of Incomplete Block Designs: I",
        "Individual Choice Behavior",
        "The Analysis of Permutations",
    ]
    assert all(e["arxiv_id"] is None and e["resolution"] == "none" for e in unresolved)
    decoy = next(e for e in unresolved if e["title"] == "Individual Choice Behavior")
    assert decoy["candidate_id"] == "2402.00001" and decoy["candidate_score"] < 90
    assert len(seed_arxiv.search_requests) <= 2
    assert "2410.00005" in {p["arxiv_id"] for p in _rows(settings, "papers")}
    assert report.by_title == 1


def test_link_check_flags_a_wrong_link_and_nothing_else(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    # The list links 2302.09466 as "RePrompt: ..."; make arXiv's paper something else.
    seed_arxiv.add(FakePaper.synthetic("2302.09466", title="Sparse Coding for Galaxy Spectra"))
    run_refresh(settings)
    entries = _rows(settings, "entries")
    linked = [e for e in entries if e["resolution"] == "link" and e["status"] == "enriched"]
    assert all(e["title_similarity"] is not None for e in linked)
    flagged = [e for e in linked if e["title_mismatch"]]
    assert [e["arxiv_id"] for e in flagged] == ["2302.09466"]
    quality = _rows(settings, "quality")
    [mismatch] = [q for q in quality if q["kind"] == "title_mismatch"]
    assert mismatch["line"] == flagged[0]["line"]
    assert "Sparse Coding for Galaxy Spectra" in mismatch["detail"]


def test_quality_table_names_list_and_line_of_each_finding(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    seed_arxiv.remove("2305.16381")
    run_refresh(settings)
    quality = _rows(settings, "quality")
    kinds = {}
    for finding in quality:
        kinds[finding["kind"]] = kinds.get(finding["kind"], 0) + 1
    # Order and publication findings depend on the synthetic dates and journal refs.
    kinds.pop("order", None)
    kinds.pop("published", None)
    assert kinds == {"unresolved": 4, "not_found": 1, "duplicate": 1}
    entries = {(e["list"], e["line"]): e for e in _rows(settings, "entries")}
    for finding in quality:
        assert (finding["list"], finding["line"]) in entries
    [dup] = [q for q in quality if q["kind"] == "duplicate"]
    assert entries[(dup["list"], dup["line"])]["arxiv_id"] == "2304.05977"
    assert "also listed at awesome-alignment-of-diffusion-models.md:" in dup["detail"]


def test_no_resolve_skips_the_searches(settings: Settings, seed_arxiv: FakeArxiv) -> None:
    seed_arxiv.add(FakePaper.synthetic("2410.00005", title=MLLM))
    run_refresh(dataclasses.replace(settings, resolve=False))
    assert seed_arxiv.search_requests == []
    entries = _rows(settings, "entries")
    assert sum(e["status"] == "unresolved" for e in entries) == 4
    assert all(e["candidate_id"] is None for e in entries)


def test_resolutions_are_reused_until_papers_are_due(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    seed_arxiv.add(FakePaper.synthetic("2410.00005", title=MLLM), *DECOYS)
    run_refresh(settings)
    first = _rows(settings, "entries")
    seed_arxiv.clear_log()
    run_refresh(settings)
    assert seed_arxiv.requests == []
    assert _rows(settings, "entries") == first
    run_refresh(dataclasses.replace(settings, max_age_days=0))
    assert 1 <= len(seed_arxiv.search_requests) <= 2
