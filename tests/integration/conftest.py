"""Integration fixtures: the project's fake arXiv API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_arxiv import FakeArxiv


@pytest.fixture
def fake_arxiv() -> Iterator[FakeArxiv]:
    """A started, empty fake arXiv API; stopped (every thread joined) after the test."""
    with FakeArxiv() as fake:
        yield fake
    # An exception inside a request handler is a bug in the fake, not in the client under test.
    assert fake.errors == [], "\n".join(fake.errors)
