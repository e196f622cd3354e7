"""An answer that carries entries nobody asked for, or asked ones twice, loses no asked id.

A page holds as many results as ids were asked (``max_results`` = the batch), so each
surplus entry pushes an asked one off the page. The answer is matched to the request by
id, surplus entries are dropped, and the ids a page left out are asked again.
"""

from __future__ import annotations

import dataclasses
import logging

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings
from pipeline.refresh import run_refresh
from tests.fake_arxiv import FakeArxiv, FakePaper

UNLISTED = [FakePaper.synthetic(f"2101.{n:05d}") for n in range(1, 31)]
"""Papers the fake serves that the seed list does not name: the surplus it slips in."""


def _refresh(settings: Settings) -> None:
    # No title searches: only id requests, where a lost answer would change the tables.
    run_refresh(dataclasses.replace(settings, resolve=False), sleep=lambda s: None)


def _table(settings: Settings, name: str) -> list[dict[str, object]]:
    return pq.read_table(settings.enriched_dir / f"{name}.parquet").to_pylist()


@pytest.mark.parametrize("duplicates", [False, True], ids=["unrequested", "duplicated"])
def test_surplus_entries_push_no_asked_id_out(
    settings: Settings,
    seed_arxiv: FakeArxiv,
    duplicates: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed_arxiv.add(*UNLISTED)
    seed_arxiv.surplus_next(1, 20, duplicates=duplicates)
    _refresh(settings)

    entries = _table(settings, "entries")
    assert [e for e in entries if e["status"] == "not_found"] == []
    papers = [p["arxiv_id"] for p in _table(settings, "papers")]
    listed = {e["arxiv_id"] for e in entries if e["arxiv_id"]}
    assert sorted(papers) == sorted(listed)  # each asked paper once, nothing unasked
    [first, again] = seed_arxiv.id_requests
    assert len(again.id_list) == 20 and set(again.id_list) < set(first.id_list)
    assert "asking again" in caplog.text


def test_a_server_that_always_adds_surplus_is_asked_again_while_it_helps(
    settings: Settings, seed_arxiv: FakeArxiv, caplog: pytest.LogCaptureFixture
) -> None:
    seed_arxiv.add(*UNLISTED)
    seed_arxiv.surplus_next(100, 30)
    caplog.set_level(logging.WARNING)
    _refresh(settings)

    # The second answer carries only surplus again: a third would be the same (cached).
    [_, again] = seed_arxiv.id_requests
    assert len(again.id_list) == 30
    not_found = [e for e in _table(settings, "entries") if e["status"] == "not_found"]
    assert len(not_found) == 30
    assert "2101.00001" not in {p["arxiv_id"] for p in _table(settings, "papers")}
    assert caplog.text.count("asking again") == 1
    assert "counting those as not found" in caplog.text


def test_each_ask_again_must_bring_asked_ids(
    settings: Settings, seed_arxiv: FakeArxiv, caplog: pytest.LogCaptureFixture
) -> None:
    # Twenty, then ten of the twenty asked again, then none missing.
    seed_arxiv.add(*UNLISTED)
    seed_arxiv.surplus_next(1, 20)
    seed_arxiv.surplus_next(1, 10)
    _refresh(settings)

    assert [len(r.id_list) for r in seed_arxiv.id_requests] == [92, 20, 10]
    assert [e for e in _table(settings, "entries") if e["status"] == "not_found"] == []
