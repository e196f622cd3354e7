"""Every table's pyarrow schema, in one place.

A column change bumps SCHEMA_VERSION (stored in each file's metadata) and the README's
table section, which tests/unit/test_docs.py keeps in step with this module.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "2"
"""2: ``changes`` gained ``title`` (a removed paper's title is kept there)."""

_UTC = pa.timestamp("us", tz="UTC")

ENTRIES = pa.schema(
    [
        pa.field("list", pa.string(), nullable=False),
        pa.field("line", pa.int32(), nullable=False),
        pa.field("section", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("venue", pa.string()),
        pa.field("year", pa.int32()),
        pa.field("url", pa.string()),
        pa.field("code_url", pa.string()),
        pa.field("arxiv_id", pa.string()),
        pa.field("arxiv_version", pa.int32()),
        pa.field("resolution", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("match_score", pa.float64()),
        pa.field("candidate_id", pa.string()),
        pa.field("candidate_score", pa.float64()),
        pa.field("title_similarity", pa.float64()),
        pa.field("title_mismatch", pa.bool_()),
        pa.field("venue_normalized", pa.string()),
        pa.field("venue_source", pa.string()),
        pa.field("s2_id", pa.string()),
        pa.field("openalex_id", pa.string()),
        pa.field("doi", pa.string()),
    ]
)

PAPERS = pa.schema(
    [
        pa.field("arxiv_id", pa.string(), nullable=False),
        pa.field("version", pa.int32(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("abstract", pa.string(), nullable=False),
        pa.field("authors", pa.list_(pa.string()), nullable=False),
        pa.field("published", _UTC, nullable=False),
        pa.field("updated", _UTC, nullable=False),
        pa.field("primary_category", pa.string(), nullable=False),
        pa.field("categories", pa.list_(pa.string()), nullable=False),
        pa.field("doi", pa.string()),
        pa.field("journal_ref", pa.string()),
        pa.field("comment", pa.string()),
        pa.field("abs_url", pa.string(), nullable=False),
        pa.field("pdf_url", pa.string()),
        pa.field("fetched_at", _UTC, nullable=False),
    ]
)

FETCHED = pa.schema(
    [
        *PAPERS,
        pa.field("affiliations", pa.list_(pa.list_(pa.string())), nullable=False),
    ]
)
"""Not a table: papers as a feed page (and a run's fetch) holds them, PAPERS' columns plus
each author's affiliations in ``authors`` order. The authors table is derived from it."""

AUTHORS = pa.schema(
    [
        pa.field("arxiv_id", pa.string(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("affiliations", pa.list_(pa.string()), nullable=False),
    ]
)

CITATIONS = pa.schema(
    [
        pa.field("arxiv_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("citation_count", pa.int64()),
        pa.field("influential_citation_count", pa.int64()),
        pa.field("venue", pa.string()),
        pa.field("year", pa.int32()),
        pa.field("oa_url", pa.string()),
        pa.field("fetched_at", _UTC, nullable=False),
    ]
)
"""One row per paper and source. All values null: the source was asked and does not know
the paper (it is asked again after ``--cite-max-age`` days)."""


QUALITY = pa.schema(
    [
        pa.field("list", pa.string(), nullable=False),
        pa.field("line", pa.int32(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
    ]
)


CHANGES = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("at", _UTC, nullable=False),
        pa.field("arxiv_id", pa.string(), nullable=False),
        pa.field("list", pa.string()),
        pa.field("change", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("title", pa.string()),
    ]
)

RUNS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("started", _UTC, nullable=False),
        pa.field("finished", _UTC, nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("exit_code", pa.int32(), nullable=False),
        pa.field("lists", pa.int32(), nullable=False),
        pa.field("entries", pa.int32(), nullable=False),
        pa.field("papers", pa.int32(), nullable=False),
        pa.field("requests", pa.int32(), nullable=False),
        pa.field("cache_hits", pa.int32(), nullable=False),
        pa.field("retries", pa.int32(), nullable=False),
        pa.field("seconds_slept", pa.float64(), nullable=False),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "entries": ENTRIES,
    "papers": PAPERS,
    "authors": AUTHORS,
    "quality": QUALITY,
    "citations": CITATIONS,
    "changes": CHANGES,
    "runs": RUNS,
}
"""Table name -> schema; each is written as DIR/enriched/<name>.parquet."""


SUGGESTIONS = pa.schema(
    [
        pa.field("rank", pa.int32(), nullable=False),
        pa.field("arxiv_id", pa.string(), nullable=False),
        pa.field("version", pa.int32(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("authors", pa.list_(pa.string()), nullable=False),
        pa.field("published", _UTC, nullable=False),
        pa.field("primary_category", pa.string(), nullable=False),
        pa.field("abs_url", pa.string(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
        pa.field("closest_arxiv_id", pa.string(), nullable=False),
        pa.field("closest_title", pa.string(), nullable=False),
        pa.field("closest_line", pa.int32(), nullable=False),
        pa.field("closest_score", pa.float64(), nullable=False),
        pa.field("markdown", pa.string(), nullable=False),
        pa.field("list", pa.string(), nullable=False),
        pa.field("query", pa.string(), nullable=False),
        pa.field("suggested_at", _UTC, nullable=False),
    ]
)
"""Written by ``suggest`` as DIR/suggestions.parquet, beside the table set and not in it:
a proposal for a human, replaced by each ``suggest``, never read by a refresh."""
