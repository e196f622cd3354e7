"""Settings: every field says whether it shapes the tables, so the unchanged check follows."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pipeline.config import Settings

_OTHER_VALUES: dict[str, object] = {
    "data_dir": Path("elsewhere"),
    "lists": ("other.md",),
    "api_url": "http://127.0.0.1:1/api/query",
    "delay": 0.5,
    "batch_size": 10,
    "cache_ttl_hours": 1.0,
    "offline": True,
    "resolve": False,
    "max_age_days": 0.0,
    "connect_timeout": 1.0,
    "read_timeout": 1.0,
    "max_retry_seconds": 1.0,
    "request_deadline": 1.0,
    "max_response_bytes": 1000,
    "user_agent": "test/1",
    "cite_sources": ("openalex",),
    "s2_api_url": "http://127.0.0.1:2",
    "openalex_api_url": "http://127.0.0.1:3",
    "s2_api_key": "secret",
    "openalex_mailto": "me@example.org",
    "openalex_api_key": "secret",
    "cite_max_age_days": 0.5,
}


def test_every_field_says_whether_it_shapes_the_tables() -> None:
    unclassified = [
        spec.name
        for spec in dataclasses.fields(Settings)
        if not isinstance(spec.metadata.get("shapes_tables"), bool)
    ]
    assert unclassified == [], (
        "mark each Settings field with metadata=SHAPES_TABLES or KEEPS_TABLES: "
        "a field that shapes the tables but is missed makes refresh skip its work"
    )


def test_the_test_knows_every_field() -> None:
    # A new field needs a value here, so the two tests below cover it too.
    assert set(_OTHER_VALUES) == {spec.name for spec in dataclasses.fields(Settings)}


@pytest.mark.parametrize("name", sorted(_OTHER_VALUES))
def test_a_field_changes_the_fingerprint_exactly_when_it_shapes_the_tables(name: str) -> None:
    base = Settings()
    other = dataclasses.replace(base, **{name: _OTHER_VALUES[name]})  # type: ignore[arg-type]
    spec = next(s for s in dataclasses.fields(Settings) if s.name == name)
    changed = base.tables_shaping() != other.tables_shaping()
    assert changed == spec.metadata["shapes_tables"]
    json.dumps(other.tables_shaping())  # the digest is taken over this JSON


def test_an_unclassified_field_fails_loudly() -> None:
    @dataclasses.dataclass(frozen=True)
    class Extended(Settings):
        new_option: int = 1

    with pytest.raises(KeyError):
        Extended().tables_shaping()


def test_secrets_never_reach_the_fingerprint() -> None:
    shaping = Settings(s2_api_key="k1", openalex_api_key="k2").tables_shaping()
    assert "k1" not in json.dumps(shaping)
    assert "k2" not in json.dumps(shaping)
