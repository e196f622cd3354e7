"""The seed list parses to exactly the entries it lists (golden file checked by reading it).

Regenerate the golden after a deliberate change with ``UPDATE_GOLDEN=1 pytest tests/unit``,
then read the diff line by line against the list before committing it.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from pipeline.lists.load import load_list_file
from pipeline.models import ListEntry

TESTS = Path(__file__).parents[1]
SEED = TESTS / "fixtures" / "lists" / "awesome-alignment-of-diffusion-models.md"
GOLDEN = TESTS / "golden" / "seed_entries.tsv"
COLUMNS = (
    "list",
    "line",
    "section",
    "title",
    "venue",
    "year",
    "url",
    "arxiv_id",
    "arxiv_version",
    "code_url",
    "id_problem",
)


def as_tsv(entries: list[ListEntry]) -> str:
    """One row per entry; None is empty. Titles never hold tabs (whitespace is collapsed)."""
    rows = ["\t".join(COLUMNS)]
    for e in entries:
        values = [getattr(e, c) for c in COLUMNS]
        rows.append("\t".join("" if v is None else str(v) for v in values))
    return "\n".join(rows) + "\n"


def check_golden(path: Path, text: str) -> None:
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run UPDATE_GOLDEN=1 pytest tests/unit"
    assert path.read_text(encoding="utf-8") == text


def seed_entries() -> list[ListEntry]:
    return load_list_file(SEED)


def test_seed_counts() -> None:
    entries = seed_entries()
    assert len(entries) == 97
    assert len({e.arxiv_id for e in entries if e.arxiv_id}) == 92
    assert all(e.list == SEED.name for e in entries)
    assert [e.line for e in entries] == sorted(e.line for e in entries)


def test_image_reward_is_in_two_sections() -> None:
    sections = [e.section for e in seed_entries() if e.arxiv_id == "2304.05977"]
    assert sections == [
        "Alignment Techniques of Diffusion Models / RLHF/RLAIF",
        "Benchmarks and Evaluation",
    ]


def test_non_arxiv_papers_are_entries_with_their_link() -> None:
    others = [e for e in seed_entries() if e.arxiv_id is None]
    assert Counter(e.url.split("/")[2] for e in others if e.url) == {
        "openreview.net": 1,
        "www.jstor.org": 2,
        "psycnet.apa.org": 1,
    }
    assert all(e.id_problem is None for e in others)
    by_line = {e.line: e for e in others}
    assert by_line[93].title == "The Analysis of Permutations"
    assert by_line[93].venue == (
        "Journal of the Royal Statistical Society. Series C (Applied Statistics)"
    )
    assert by_line[93].year == 1975


def test_version_is_kept() -> None:
    [entry] = [e for e in seed_entries() if e.arxiv_id == "2310.03739"]
    assert entry.arxiv_version == 2
    assert entry.url == "https://arxiv.org/pdf/2310.03739v2"
    assert {e.arxiv_version for e in seed_entries()} == {None, 2}


def test_title_venue_year_shapes() -> None:
    by_line = {e.line: e for e in seed_entries()}
    assert (by_line[16].title, by_line[16].venue, by_line[16].year) == (
        "DPOK: Reinforcement Learning for Fine-tuning Text-to-Image Diffusion Models",
        "NeurIPS",
        2023,
    )  # "Title, Venue Year"
    assert by_line[79].venue == "NeurIPS Datasets and Benchmarks"
    assert by_line[91].title == (
        "Rank Analysis of Incomplete Block Designs: I. The Method of Paired Comparisons"
    )
    assert by_line[110].venue == "ICML"  # a tab before the venue
    assert by_line[132].title == "Is DPO Superior to PPO for LLM Alignment? A Comprehensive Study"


def test_nothing_outside_the_paper_lists_is_an_entry() -> None:
    """The survey link in the intro, the badges and the BibTeX block are not entries."""
    entries = seed_entries()
    assert min(e.line for e in entries) == 15
    assert max(e.line for e in entries) == 134
    assert "2409.07253" not in {e.arxiv_id for e in entries}


def test_seed_golden() -> None:
    check_golden(GOLDEN, as_tsv(seed_entries()))
