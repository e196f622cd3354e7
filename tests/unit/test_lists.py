"""Where lists come from: GitHub URLs, the default directory, the parse cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.lists.load import load_cached, load_list_file, raw_url
from pipeline.lists.locate import default_sources

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "lists"
SEED_FILE = SEED / "awesome-alignment-of-diffusion-models.md"


@pytest.mark.parametrize(
    ("url", "raw"),
    [
        (
            "https://github.com/xie-lab-ml/awesome-alignment-of-diffusion-models",
            "https://raw.githubusercontent.com/xie-lab-ml/awesome-alignment-of-diffusion-models/HEAD/README.md",
        ),
        (
            "https://github.com/opendilab/awesome-RLHF/blob/main/docs/list.md",
            "https://raw.githubusercontent.com/opendilab/awesome-RLHF/main/docs/list.md",
        ),
        ("https://example.org/papers.md", "https://example.org/papers.md"),
    ],
)
def test_github_urls_become_raw_markdown(url: str, raw: str) -> None:
    assert raw_url(url) == raw


def test_only_http_urls(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="only http"):
        raw_url("file:///etc/passwd")


def test_no_lists_in_raw_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--list"):
        default_sources(tmp_path / "raw")


def test_parse_cache_returns_the_same_entries_and_follows_edits(tmp_path: Path) -> None:
    listing = tmp_path / SEED_FILE.name
    listing.write_bytes(SEED_FILE.read_bytes())
    parsed = tmp_path / "parsed"
    first = load_cached(listing, parsed)
    assert first == load_list_file(listing)
    assert len(list(parsed.glob("*.json"))) == 1
    assert load_cached(listing, parsed) == first  # read back, not parsed
    listing.write_text(
        listing.read_text(encoding="utf-8") + "\n* A New Paper. arXiv 2025, "
        "[[pdf]](https://arxiv.org/abs/2501.00001)\n",
        encoding="utf-8",
    )
    edited = load_cached(listing, parsed)
    assert len(edited) == len(first) + 1 and edited[-1].arxiv_id == "2501.00001"


def test_a_corrupt_cache_file_is_ignored(tmp_path: Path) -> None:
    listing = tmp_path / SEED_FILE.name
    listing.write_bytes(SEED_FILE.read_bytes())
    parsed = tmp_path / "parsed"
    first = load_cached(listing, parsed)
    [cached] = parsed.glob("*.json")
    cached.write_text("{not json", encoding="utf-8")
    assert load_cached(listing, parsed) == first
