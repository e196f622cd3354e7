"""What a run cost the services it asked: counted by the HTTP layer, reported by the run.

A module of its own, free of imports, because every run report carries one: a run with
nothing to do records zeros without loading requests, requests-cache or tenacity
(services/http.py, which counts into it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class HttpStats:
    """What a run cost the services it asked, and us."""

    requests: int = 0
    """Requests that went to the network."""
    cache_hits: int = 0
    """Answers taken from the HTTP cache."""
    retries: int = 0
    """Failed attempts that were tried again."""
    seconds_slept: float = 0.0
    """Time spent waiting: rate limits and back-off."""
