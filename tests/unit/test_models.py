"""The typed records stay in step with the table schemas they fill."""

from __future__ import annotations

from pipeline.models import ENTRY_COLUMNS, ChangeKind, FindingKind, ListEntry, Resolution, Status
from pipeline.schemas import CHANGES, ENTRIES, QUALITY
from pipeline.stages import enrich, pending_entries, place


def test_an_enriched_entry_has_exactly_the_entries_columns() -> None:
    assert list(ENTRY_COLUMNS) == ENTRIES.names


def test_vocabularies_are_the_strings_the_tables_store() -> None:
    assert [str(s) for s in Status] == ["enriched", "not_found", "unresolved", "invalid", "pending"]
    assert [str(r) for r in Resolution] == ["link", "title", "none"]
    assert "kind" in QUALITY.names and "change" in CHANGES.names
    assert set(FindingKind) >= {"unresolved", "not_found", "invalid", "duplicate"}
    assert "new_version" in set(ChangeKind)


def test_parse_writes_pending_entries_keyed_by_place() -> None:
    linked = ListEntry(list="a.md", line=3, section="S", title="T", arxiv_id="2301.00001")
    bare = ListEntry(list="a.md", line=4, section="S", title="U")
    broken = ListEntry(list="a.md", line=5, section="S", title="V", id_problem="bad id 'x'")
    pending, unresolved, invalid = pending_entries([linked, bare, broken], papers=set())
    assert (pending.status, pending.detail) == (Status.PENDING, "not fetched yet: run `refresh`")
    assert (unresolved.status, unresolved.resolution) == (Status.UNRESOLVED, Resolution.NONE)
    assert (invalid.status, invalid.detail) == (Status.INVALID, "bad id 'x'")
    assert pending.key.line == 3 and pending.row()["status"] == "pending"


def test_a_title_match_fills_in_the_id_and_its_score() -> None:
    from pipeline.resolve import TitleResolution

    bare = ListEntry(list="a.md", line=4, section="S", title="U")
    found = TitleResolution(arxiv_id="2301.00002", match_score=97.0, candidate_id="2301.00002")
    placed = place(bare, found, {"2301.00002"}, None)
    entry = enrich(placed, None, None, ("NeurIPS", "list"))
    assert (entry.arxiv_id, entry.resolution, entry.status) == (
        "2301.00002",
        Resolution.TITLE,
        Status.ENRICHED,
    )
    assert (entry.match_score, entry.title_similarity, entry.title_mismatch) == (97.0, 97.0, False)
    assert entry.candidate_id is None  # a candidate is kept only when none was accepted
    assert (entry.venue_normalized, entry.venue_source) == ("NeurIPS", "list")
