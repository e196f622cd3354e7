"""Settings: every path, URL and delay of a run, derived from one data directory.

This is the only module that reads environment variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass(frozen=True)
class Settings:
    """One run's configuration. Paths all derive from ``data_dir``."""

    data_dir: Path = Path("data")
    lists: tuple[str, ...] = ()
    """Paths, directories or URLs of lists; empty means every ``*.md`` in ``raw_dir``."""
    api_url: str = field(default_factory=env_api_url)
    delay: float = DEFAULT_DELAY
    batch_size: int = DEFAULT_BATCH_SIZE
    cache_ttl_hours: float = DEFAULT_CACHE_TTL_HOURS
    offline: bool = False
    resolve: bool = True
    """Search arXiv by title for entries without an arXiv link."""
    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    """Papers fetched longer ago than this are re-checked; 0 re-checks everything."""
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    max_retry_seconds: float = DEFAULT_RETRY_BUDGET
    """Give up on a request after this long in retries (a cron run must end)."""
    user_agent: str = USER_AGENT
    cite_sources: tuple[str, ...] = ()
    """Citation sources asked besides arXiv: any of CITE_SOURCES."""
    s2_api_url: str = field(default_factory=env_s2_api_url)
    openalex_api_url: str = field(default_factory=env_openalex_api_url)
    s2_api_key: str | None = field(default_factory=lambda: _env("S2_API_KEY"), repr=False)
    openalex_mailto: str | None = field(default_factory=lambda: _env("OPENALEX_MAILTO"))
    openalex_api_key: str | None = field(
        default_factory=lambda: _env("OPENALEX_API_KEY"), repr=False
    )
    cite_max_age_days: float = DEFAULT_CITE_MAX_AGE_DAYS
    """Citation rows younger than this are kept without asking again."""

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def enriched_dir(self) -> Path:
        """What readers open: a link to the current table set."""
        return self.data_dir / "enriched"

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
