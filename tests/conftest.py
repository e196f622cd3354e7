"""Shared fixtures: the seed list and a fake arXiv API that knows its papers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.lists.load import load_list_file
from tests.fake_arxiv import FakeArxiv, FakePaper

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "lists" / "awesome-alignment-of-diffusion-models.md"


def seed_papers() -> list[FakePaper]:
    """One synthetic arXiv paper per id of the seed list, titled as the list titles it."""
    papers: dict[str, FakePaper] = {}
    for entry in load_list_file(SEED):
        if entry.arxiv_id and entry.arxiv_id not in papers:
            papers[entry.arxiv_id] = FakePaper.synthetic(entry.arxiv_id, title=entry.title)
    return list(papers.values())


@pytest.fixture
def seed_arxiv() -> Iterator[FakeArxiv]:
    """A started fake arXiv API holding every paper of the seed list."""
    with FakeArxiv() as fake:
        fake.add(*seed_papers())
        yield fake


@pytest.fixture
def seed_data_dir(tmp_path: Path) -> Path:
    """A data directory laid out as a fresh clone has it: the seed list in raw/."""
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / SEED.name).write_bytes(SEED.read_bytes())
    return tmp_path / "data"


@pytest.fixture
def settings(seed_data_dir: Path, seed_arxiv: FakeArxiv) -> Settings:
    """Settings of a seed-list run against the fake API, with no waiting between requests."""
    return Settings(data_dir=seed_data_dir, api_url=seed_arxiv.url, delay=0.0)
