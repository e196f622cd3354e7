"""Settings: every path, URL and delay of a run, derived from one data directory.

This is the only module that reads environment variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Final

from pipeline import __version__

DEFAULT_API_URL = "https://export.arxiv.org/api/query"
PROJECT_URL = "https://github.com/arxiv-list-pipeline/arxiv-list-pipeline"
USER_AGENT = f"arxiv-list-pipeline/{__version__} (+{PROJECT_URL})"

DEFAULT_DELAY = 3.0
"""arXiv's terms of use: no more than one request every three seconds."""
MAX_BATCH_SIZE = 2000
"""arXiv's limit of results per request. Batches whose query string would be too long for
GET (arXiv answers 414 past roughly 700 ids) are sent as POST, which arXiv accepts."""
DEFAULT_BATCH_SIZE = MAX_BATCH_SIZE
"""The fewest requests arXiv's terms allow, ceil(ids / 2000): at one request per 3 s, 2.5
minutes for 100,000 papers, where pages of 100 would take 50."""
DEFAULT_CACHE_TTL_HOURS = 24.0
DEFAULT_MAX_AGE_DAYS = 7.0
DEFAULT_RETRY_BUDGET = 900.0
"""Seconds a request may spend waiting between retries before the run gives up."""
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
"""arXiv can take tens of seconds for a large id_list; beyond a minute the connection is dead."""
REQUEST_DEADLINE = 180.0
"""Seconds one whole request may take, connect to last byte: the read timeout bounds each
read only, and a server dripping a byte a second would otherwise hold a run (and its lock)
forever."""
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""Bytes one answer may hold once decompressed: a full 2,000-entry feed is a few MB."""


DEFAULT_S2_API_URL = "https://api.semanticscholar.org"
DEFAULT_OPENALEX_API_URL = "https://api.openalex.org"
CITE_SOURCES = ("semanticscholar", "openalex")
"""What ``--sources`` accepts besides arxiv: the names of ``services.citations.REGISTRY``, in its
order (a test holds them equal). Listed here so the CLI can check them without loading a
service module."""
DEFAULT_CITE_MAX_AGE_DAYS = 7.0


def env_api_url() -> str:
    """The API URL from ARXIV_API_URL, or arXiv's own."""
    return os.environ.get("ARXIV_API_URL") or DEFAULT_API_URL


def env_s2_api_url() -> str:
    return os.environ.get("S2_API_URL") or DEFAULT_S2_API_URL


def env_openalex_api_url() -> str:
    return os.environ.get("OPENALEX_API_URL") or DEFAULT_OPENALEX_API_URL


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


SHAPES_TABLES: Final = {"shapes_tables": True}
"""Field metadata: a different value can build different tables from the same lists, so a
refresh must not skip its work when it changes (store/unchanged.py hashes these fields)."""
KEEPS_TABLES: Final = {"shapes_tables": False}
"""Field metadata: how or where a run works (pacing, timeouts, credentials), never what its
tables hold."""


@dataclass(frozen=True)
class Settings:
    """One run's configuration. Paths all derive from ``data_dir``.

    Every field says in its metadata whether it shapes the tables (``SHAPES_TABLES``) or
    not (``KEEPS_TABLES``); ``tables_shaping`` reads that, and a test fails on a field that
    says neither, so an option added later cannot be forgotten by the unchanged check.
    """

    data_dir: Path = field(default=Path("data"), metadata=KEEPS_TABLES)
    """Where the tables are is not what they hold."""
    lists: tuple[str, ...] = field(default=(), metadata=KEEPS_TABLES)
    """Paths, directories or URLs of lists; empty means every ``*.md`` in ``raw_dir``.
    The unchanged check hashes the files these name, and their bytes, instead."""
    api_url: str = field(default_factory=env_api_url, metadata=SHAPES_TABLES)
    delay: float = field(default=DEFAULT_DELAY, metadata=KEEPS_TABLES)
    batch_size: int = field(default=DEFAULT_BATCH_SIZE, metadata=KEEPS_TABLES)
    cache_ttl_hours: float = field(default=DEFAULT_CACHE_TTL_HOURS, metadata=KEEPS_TABLES)
    offline: bool = field(default=False, metadata=SHAPES_TABLES)
    resolve: bool = field(default=True, metadata=SHAPES_TABLES)
    """Search arXiv by title for entries without an arXiv link."""
    max_age_days: float = field(default=DEFAULT_MAX_AGE_DAYS, metadata=SHAPES_TABLES)
    """Papers fetched longer ago than this are re-checked; 0 re-checks everything."""
    connect_timeout: float = field(default=CONNECT_TIMEOUT, metadata=KEEPS_TABLES)
    read_timeout: float = field(default=READ_TIMEOUT, metadata=KEEPS_TABLES)
    request_deadline: float = field(default=REQUEST_DEADLINE, metadata=KEEPS_TABLES)
    max_response_bytes: int = field(default=MAX_RESPONSE_BYTES, metadata=KEEPS_TABLES)
    max_retry_seconds: float = field(default=DEFAULT_RETRY_BUDGET, metadata=KEEPS_TABLES)
    """Give up on a request after this long in retries (a cron run must end)."""
    user_agent: str = field(default=USER_AGENT, metadata=KEEPS_TABLES)
    cite_sources: tuple[str, ...] = field(default=(), metadata=SHAPES_TABLES)
    """Citation sources asked besides arXiv: any of CITE_SOURCES."""
    s2_api_url: str = field(default_factory=env_s2_api_url, metadata=SHAPES_TABLES)
    openalex_api_url: str = field(default_factory=env_openalex_api_url, metadata=SHAPES_TABLES)
    s2_api_key: str | None = field(
        default_factory=lambda: _env("S2_API_KEY"), repr=False, metadata=KEEPS_TABLES
    )
    openalex_mailto: str | None = field(
        default_factory=lambda: _env("OPENALEX_MAILTO"), metadata=KEEPS_TABLES
    )
    openalex_api_key: str | None = field(
        default_factory=lambda: _env("OPENALEX_API_KEY"), repr=False, metadata=KEEPS_TABLES
    )
    cite_max_age_days: float = field(default=DEFAULT_CITE_MAX_AGE_DAYS, metadata=SHAPES_TABLES)
    """Citation rows younger than this are kept without asking again."""

    def tables_shaping(self) -> dict[str, object]:
        """The values of every field that shapes the tables, JSON-ready, by field name.

        Raises ``KeyError`` for a field whose metadata does not say (a programming error
        that tests/unit/test_config.py catches before it ships).
        """
        return {
            spec.name: _jsonable(getattr(self, spec.name))
            for spec in fields(self)
            if spec.metadata["shapes_tables"]
        }

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def enriched_dir(self) -> Path:
        """What readers open: a link to the current table set."""
        return self.data_dir / "enriched"

    @property
    def site_dir(self) -> Path:
        """The report's stable home (``index.html``): outside the rotating sets, so a
        bookmark survives every refresh."""
        return self.data_dir / "site"

    @property
    def export_dir(self) -> Path:
        """The exports' stable home (``papers.bib``...), for ``\\bibliography`` and scripts."""
        return self.data_dir / "export"

    @property
    def sets_dir(self) -> Path:
        """Where table sets live; ``enriched`` points at one of them."""
        return self.data_dir / ".sets"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def http_cache_path(self) -> Path:
        return self.cache_dir / "http_cache.sqlite"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / ".refresh.lock"


def _jsonable(value: object) -> object:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return value
