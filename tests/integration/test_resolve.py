"""Title resolution and the link check against the fake arXiv API, through the real HTTP stack.

Every search goes through ``ArxivApi.feed`` (requests-cache, the rate limiter with no
delay, tenacity) to the fake server, which evaluates ``search_query`` like arXiv: fields,
quoted phrases, AND/OR, parentheses. The request log tells what each resolution cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.fetch import fetch_papers
from pipeline.models import ListEntry
from pipeline.resolve import ACCEPT_SCORE, TitleResolution, check_link, resolve_titles
from pipeline.services.arxiv import ArxivApi, papers_from_table
from tests.fake_arxiv import FakeArxiv, FakePaper

SEED = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "raw"
    / "awesome-alignment-of-diffusion-models.md"
)

IMAGE_REWARD = "ImageReward: Learning and Evaluating Human Preferences for Text-to-Image Generation"
HPS = "Human Preference Score: Better Aligning Text-to-Image Models with Human Preference"
HPS_V2 = (
    "Human Preference Score v2: A Solid Benchmark for Evaluating Human Preferences of "
    "Text-to-Image Synthesis"
)


@pytest.fixture
def api(tmp_path: Path, fake_arxiv: FakeArxiv) -> Iterator[ArxivApi]:
    with ArxivApi(Settings(data_dir=tmp_path, api_url=fake_arxiv.url, delay=0.0)) as api:
        yield api


def entry(title: str, year: int | None = None, arxiv_id: str | None = None) -> ListEntry:
    return ListEntry(list="test.md", line=1, section="S", title=title, year=year, arxiv_id=arxiv_id)


def noise(fake: FakeArxiv) -> None:
    """Unrelated papers, so that a query matching everything would show."""
    fake.add(*(FakePaper.synthetic(f"2301.{n:05d}") for n in range(1, 13)))


# -- resolution ------------------------------------------------------------------------------


def test_exact_title(api: ArxivApi, fake_arxiv: FakeArxiv) -> None:
    noise(fake_arxiv)
    fake_arxiv.add(FakePaper.synthetic("2304.05977", title=IMAGE_REWARD))

    [resolution], papers = resolve_titles(api, [entry(IMAGE_REWARD, 2023)])

    assert resolution.arxiv_id == "2304.05977" and resolution.match_score == 100.0
    assert resolution.candidate_id == "2304.05977"
    assert list(papers) == ["2304.05977"] and papers["2304.05977"].title == IMAGE_REWARD
    assert len(fake_arxiv.search_requests) == 1
    assert fake_arxiv.search_requests[0].search_query.startswith('ti:"imagereward learning')


@pytest.mark.parametrize(
    "listed",
    [
        IMAGE_REWARD.lower(),
        IMAGE_REWARD.upper() + ".",
        "ImageReward - Learning and Evaluating Human Preferences for Text to Image Generation",
        "\u201cImageReward: Learning and Evaluating Human Preferences for Text\u2011to\u2011Image "
        "Generation\u201d",
    ],
)
def test_case_and_punctuation_variants(api: ArxivApi, fake_arxiv: FakeArxiv, listed: str) -> None:
    fake_arxiv.add(FakePaper.synthetic("2304.05977", title=IMAGE_REWARD))

    [resolution], papers = resolve_titles(api, [entry(listed)])

    assert resolution.arxiv_id == "2304.05977" and resolution.match_score == 100.0
    assert "2304.05977" in papers


def test_list_drops_the_subtitle_and_a_sibling_title_is_on_arxiv(
    api: ArxivApi, fake_arxiv: FakeArxiv
) -> None:
    fake_arxiv.add(
        FakePaper.synthetic("2303.14420", title=HPS),
        FakePaper.synthetic("2306.09341", title=HPS_V2),
    )

    [resolution], _ = resolve_titles(api, [entry("Human Preference Score", 2023)])

    assert resolution.arxiv_id == "2303.14420"
    assert resolution.match_score is not None and ACCEPT_SCORE <= resolution.match_score < 100
    assert len(fake_arxiv.search_requests) == 1  # the phrase found both; no second round


def test_list_adds_a_subtitle_arxiv_does_not_have(api: ArxivApi, fake_arxiv: FakeArxiv) -> None:
    # The phrase of the listed title matches nothing; the main title's words do.
    fake_arxiv.add(
        FakePaper.synthetic("2402.00001", title="Rank Analysis of Incomplete Block Designs")
    )
    listed = "Rank Analysis of Incomplete Block Designs: I. The Method of Paired Comparisons"

    [resolution], _ = resolve_titles(api, [entry(listed, 2024)])

    assert resolution.arxiv_id == "2402.00001"
    queries = [r.search_query for r in fake_arxiv.search_requests]
    assert queries == [
        'ti:"rank analysis of incomplete block designs i the method of paired comparisons"',
        "ti:(rank AND analysis AND incomplete AND block AND designs)",
    ]


def test_near_miss_decoy_is_kept_for_review_not_taken(api: ArxivApi, fake_arxiv: FakeArxiv) -> None:
    decoy = "Individual Choice Behavior of LLM Agents"
    fake_arxiv.add(FakePaper.synthetic("2412.00001", title=decoy))

    [resolution], papers = resolve_titles(api, [entry("Individual Choice Behavior", 1959)])

    assert resolution.arxiv_id is None and resolution.match_score is None
    assert resolution.candidate_id == "2412.00001" and resolution.candidate_title == decoy
    assert resolution.candidate_score is not None and resolution.candidate_score < ACCEPT_SCORE
    assert papers == {}


def test_no_results(api: ArxivApi, fake_arxiv: FakeArxiv) -> None:
    noise(fake_arxiv)

    [resolution], papers = resolve_titles(api, [entry("A Title Nobody Ever Wrote", 2020)])

    assert resolution == TitleResolution() and papers == {}
    assert len(fake_arxiv.search_requests) == 2  # the phrase, then the words


def test_several_candidates_best_then_year(api: ArxivApi, fake_arxiv: FakeArxiv) -> None:
    title = "Learning to Rank from Pairwise Preferences"
    fake_arxiv.add(
        FakePaper.synthetic("1905.00001", title=title),
        FakePaper.synthetic("2305.00002", title=title),
        FakePaper.synthetic("2305.00003", title=f"{title} under Label Noise"),
        FakePaper.synthetic("2305.00004", title=f"Deep {title}"),
    )
    entries = [entry(title, 2023), entry(title, 2019), entry(title)]

    resolutions, papers = resolve_titles(api, entries)

    assert [r.arxiv_id for r in resolutions] == ["2305.00002", "1905.00001", None]
    # Without a year two identical titles are a coin toss: kept for review, not taken.
    assert resolutions[2].candidate_score == 100.0 and resolutions[2].candidate_id is not None
    assert set(papers) == {"2305.00002", "1905.00001"}
    assert len(fake_arxiv.search_requests) == 1  # one title, asked once for three entries


def test_entries_with_an_id_or_a_short_title_are_not_searched(
    api: ArxivApi, fake_arxiv: FakeArxiv
) -> None:
    fake_arxiv.add(FakePaper.synthetic("2304.05977", title=IMAGE_REWARD))
    entries = [entry(IMAGE_REWARD, arxiv_id="2304.05977"), entry("ImageReward"), entry("")]

    resolutions, papers = resolve_titles(api, entries)

    assert resolutions == [TitleResolution()] * 3 and papers == {}
    assert fake_arxiv.requests == []


def test_a_cut_batch_is_asked_again_title_by_title(api: ArxivApi, fake_arxiv: FakeArxiv) -> None:
    # Four papers share the first title's words and outrank the second title's only match,
    # so a batch answer of 2 results loses it; the title is then asked alone.
    crowd = "Graph Neural Networks for Chemistry"
    fake_arxiv.add(
        *(FakePaper.synthetic(f"2310.0000{n}", title=f"{crowd} Part {n}") for n in range(1, 5)),
        FakePaper.synthetic("2311.00001", title="Sparse Mixture Routing"),
    )

    resolutions, _ = resolve_titles(
        api, [entry(crowd), entry("Sparse Mixture Routing")], max_results_per_query=2
    )

    assert resolutions[1].arxiv_id == "2311.00001"
    assert resolutions[0].arxiv_id is None
    first = fake_arxiv.search_requests[0].search_query
    assert first == 'ti:"graph neural networks for chemistry" OR ti:"sparse mixture routing"'
    assert 'ti:"sparse mixture routing"' in [r.search_query for r in fake_arxiv.search_requests]


def test_searches_are_cached(api: ArxivApi, fake_arxiv: FakeArxiv) -> None:
    fake_arxiv.add(FakePaper.synthetic("2304.05977", title=IMAGE_REWARD))
    entries = [entry(IMAGE_REWARD), entry("A Title Nobody Ever Wrote")]

    first = resolve_titles(api, entries)
    asked = len(fake_arxiv.requests)
    second = resolve_titles(api, entries)

    assert second[0] == first[0] and set(second[1]) == set(first[1])
    assert len(fake_arxiv.requests) == asked == 2
    assert api.stats.cache_hits == 2


# -- the seed list's four entries without an arXiv link ----------------------------------------

SEED_NON_ARXIV = [
    # (line in the seed list, title, venue year) as the list states them
    (
        84,
        "Multimodal Large Language Models Make Text-to-Image Generative Models Align Better",
        2024,
    ),
    (91, "Rank Analysis of Incomplete Block Designs: I. The Method of Paired Comparisons", 1952),
    (92, "Individual Choice Behavior", 1959),
    (93, "The Analysis of Permutations", 1975),
]


def test_seed_entries_are_the_lists_own() -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    for line, title, year in SEED_NON_ARXIV:
        assert lines[line - 1].startswith(f"* {title}. ") and f" {year}, [[pdf]]" in lines[line - 1]
        assert "arxiv.org" not in lines[line - 1]


def test_seed_list_one_resolved_three_classics_unresolved_in_two_requests(
    api: ArxivApi, fake_arxiv: FakeArxiv
) -> None:
    noise(fake_arxiv)
    fake_arxiv.add(
        FakePaper.synthetic("2404.15100", title=SEED_NON_ARXIV[0][1]),
        # Near misses for every classic: a title that starts like it, or contains it.
        FakePaper.synthetic(
            "2502.00001", title="Rank Analysis of Incomplete Block Designs for Preference Learning"
        ),
        FakePaper.synthetic("2410.00002", title="Individual Choice Behavior of LLM Agents"),
        FakePaper.synthetic("2403.00003", title="The Analysis of Permutations in Sorting Networks"),
    )
    entries = [entry(title, year) for _, title, year in SEED_NON_ARXIV]

    resolutions, papers = resolve_titles(api, entries)

    assert [r.arxiv_id for r in resolutions] == ["2404.15100", None, None, None]
    assert resolutions[0].match_score == 100.0 and list(papers) == ["2404.15100"]
    assert [r.candidate_id for r in resolutions[1:]] == ["2502.00001", "2410.00002", "2403.00003"]
    assert all(
        r.candidate_score is not None and r.candidate_score < ACCEPT_SCORE for r in resolutions[1:]
    )
    assert len(fake_arxiv.search_requests) <= 2


# -- the link check ----------------------------------------------------------------------------


def test_a_deliberately_wrong_link_is_caught(api: ArxivApi, fake_arxiv: FakeArxiv) -> None:
    # LLM-Agent-Paper-List links FireAct to Voyager's id (pairs.tsv); both entries name it.
    voyager = "Voyager: An Open-Ended Embodied Agent with Large Language Models"
    fake_arxiv.add(FakePaper.synthetic("2305.16291", title=voyager))
    right = entry(voyager + ".", arxiv_id="2305.16291")
    wrong = entry("FireAct: Toward Language Agent Fine-tuning.", arxiv_id="2305.16291")

    [paper] = papers_from_table(fetch_papers(api, ["2305.16291"], batch_size=10).table)
    checks = [check_link(e.title, paper.title) for e in (right, wrong)]

    assert [c.title_mismatch for c in checks] == [False, True]
    assert checks[0].title_similarity == 100.0 and checks[1].title_similarity < 50
    assert fake_arxiv.search_requests == []  # linked entries are checked, never searched
