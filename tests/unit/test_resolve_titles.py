"""Title matching and title queries (pure): normalisation, similarity, thresholds, batching.

The thresholds are checked against real title pairs from the corpus lists
(``tests/fixtures/titles/pairs.tsv``, provenance in its header), not only against
constructed variants: the same paper listed twice, papers retitled on arXiv, one id listed
for two different papers (wrong links), and the closest different papers in the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz import fuzz

from pipeline.models import Paper
from pipeline.resolve import (
    ACCEPT_SCORE,
    MAX_QUERY_WORDS,
    MISMATCH_BELOW,
    Candidate,
    LinkCheck,
    TitleResolution,
    check_link,
    choose,
    normalize_title,
    search_url,
    title_clause,
    title_queries,
    title_similarity,
)

PAIRS = Path(__file__).parent.parent / "fixtures" / "titles" / "pairs.tsv"

IMAGE_REWARD = "ImageReward: Learning and Evaluating Human Preferences for Text-to-Image Generation"
LUCE = "Individual Choice Behavior"
LUCE_DECOY = "Individual Choice Behavior of LLM Agents"


@dataclass(frozen=True)
class Pair:
    kind: str
    ids: str
    a: str
    b: str
    source: str


def _pairs() -> list[Pair]:
    rows = []
    for line in PAIRS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        kind, ids, a, b, source_a, source_b = line.split("\t")
        rows.append(Pair(kind, ids, a, b, f"{source_a} vs {source_b}"))
    return rows


def _of(kind: str) -> list[Pair]:
    return [p for p in _pairs() if p.kind == kind]


def _ids(pairs: list[Pair]) -> list[str]:
    return [p.ids for p in pairs]


# -- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Training Language Models.", "training language models"),
        ("Text-to-Image", "text to image"),
        ("Text\u2011to\u2011Image \u2013 Models", "text to image models"),  # U+2011, en dash
        ("Golden\u202fNoise\u00a0for Diffusion", "golden noise for diffusion"),  # U+202F, NBSP
        ("\u201cOSWorld\u201d: Don\u2019t Panic", "osworld dont panic"),
        ('"OSWorld: Benchmarking"', "osworld benchmarking"),
        ("Q&amp;A and Q&A", "q and a and q and a"),
        (r"$\alpha$-Divergence", "alpha divergence"),
        ("\u03b1-Divergence", "alpha divergence"),
        (r"Schr\"odinger Bridges", "schrodinger bridges"),
        ("Schr\u00f6dinger Bridges", "schrodinger bridges"),
        (r"\emph{Sparse} \textbf{Models}", "sparse models"),
        (r"$100\%$ Recall", "100 recall"),
        ("100% Recall \\& more", "100 recall and more"),  # a bare % is text, not a comment
        ("\ufb01ne-Tuning", "fine tuning"),  # the fi ligature
        ("  spaced   out\n title ", "spaced out title"),
        ("", ""),
        ("?!", ""),
    ],
)
def test_normalize_title(raw: str, expected: str) -> None:
    assert normalize_title(raw) == expected


@given(st.text())
def test_normalize_title_never_crashes_and_is_idempotent(text: str) -> None:
    once = normalize_title(text)
    assert normalize_title(once) == once
    assert once == once.strip() and "  " not in once


# -- similarity: constructed variants --------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        IMAGE_REWARD,
        IMAGE_REWARD.upper(),
        IMAGE_REWARD.lower() + ".",
        IMAGE_REWARD.replace(":", " -").replace("-to-", " to "),
        IMAGE_REWARD.replace("-", "\u2011"),
        "ImageReward",  # the list dropped the subtitle
        "Learning and Evaluating Human Preferences for Text-to-Image Generation",  # or the name
        r"\textsc{ImageReward}: Learning and Evaluating Human Preferences for Text-to-Image "
        "Generation",
    ],
)
def test_ordinary_variants_are_accepted(variant: str) -> None:
    assert title_similarity(variant, IMAGE_REWARD) >= ACCEPT_SCORE
    assert not check_link(variant, IMAGE_REWARD).title_mismatch


def test_a_near_miss_is_not_accepted() -> None:
    score = title_similarity(LUCE, LUCE_DECOY)
    assert score < ACCEPT_SCORE
    assert score == pytest.approx(78.8)
    # Why not token_set_ratio: a title contained in a longer one scores 100 there.
    assert fuzz.token_set_ratio(normalize_title(LUCE), normalize_title(LUCE_DECOY)) == 100


def test_subtitle_tolerance_does_not_extend_to_a_changed_word() -> None:
    # A different word inside the matched part is charged double: "Image" vs "Video".
    listed = "High-Resolution Image Synthesis with Latent Diffusion Models"
    other = "Align your Latents: High-Resolution Video Synthesis with Latent Diffusion Models"
    assert title_similarity(listed, other) < ACCEPT_SCORE


def test_an_exact_subtitle_beats_a_dropped_one() -> None:
    exact = title_similarity(IMAGE_REWARD, IMAGE_REWARD)
    dropped = title_similarity("ImageReward", IMAGE_REWARD)
    assert exact == 100.0 and ACCEPT_SCORE <= dropped < exact


def test_empty_titles_score_zero() -> None:
    assert title_similarity("", IMAGE_REWARD) == 0.0
    assert title_similarity(IMAGE_REWARD, "---") == 0.0


# -- similarity: real pairs from the corpus --------------------------------------------------


def test_the_fixture_holds_every_kind() -> None:
    kinds = {p.kind for p in _pairs()}
    assert kinds == {"same", "retitled", "wrong", "distinct"}
    assert len(_of("wrong")) == 5


@pytest.mark.parametrize("pair", _pairs(), ids=[f"{p.kind}-{p.ids}" for p in _pairs()])
def test_similarity_is_symmetric_and_bounded(pair: Pair) -> None:
    score = title_similarity(pair.a, pair.b)
    assert 0.0 <= score <= 100.0
    assert score == title_similarity(pair.b, pair.a)


@pytest.mark.parametrize("pair", _of("same"), ids=_ids(_of("same")))
def test_same_paper_listed_differently_is_not_flagged(pair: Pair) -> None:
    check = check_link(pair.a, pair.b)
    assert not check.title_mismatch, pair.source


@pytest.mark.parametrize("pair", _of("wrong"), ids=_ids(_of("wrong")))
def test_one_id_for_two_papers_is_flagged(pair: Pair) -> None:
    # Whichever of the two titles is arXiv's, the other entry's link is wrong.
    assert check_link(pair.a, pair.b).title_mismatch, pair.source
    assert check_link(pair.b, pair.a).title_mismatch, pair.source


@pytest.mark.parametrize("pair", _of("distinct") + _of("retitled"))
def test_different_or_rewritten_titles_are_never_accepted(pair: Pair) -> None:
    assert title_similarity(pair.a, pair.b) < ACCEPT_SCORE, pair.source


def test_the_thresholds_sit_in_the_gaps_of_the_real_data() -> None:
    wrong = max(title_similarity(p.a, p.b) for p in _of("wrong"))
    same = [title_similarity(p.a, p.b) for p in _of("same")]
    distinct = max(title_similarity(p.a, p.b) for p in _of("distinct"))
    # Flagging: every wrong link below, every same-paper pair above, with room both sides.
    assert wrong + 15 < MISMATCH_BELOW < min(same) - 5
    # Accepting: the closest different papers and the near miss below, with room.
    assert max(distinct, title_similarity(LUCE, LUCE_DECOY)) + 4 < ACCEPT_SCORE
    # A title search accepts every same-paper pair but the one whose subtitle was rewritten.
    below = [p.ids for p in _of("same") if title_similarity(p.a, p.b) < ACCEPT_SCORE]
    assert below == ["2402.08925"]
    assert MISMATCH_BELOW < ACCEPT_SCORE


def test_a_bare_link_has_nothing_to_compare() -> None:
    assert check_link("", IMAGE_REWARD) == LinkCheck(title_similarity=0.0, title_mismatch=False)


# -- queries ---------------------------------------------------------------------------------


def test_phrase_clause_keeps_only_words() -> None:
    title = 'Do As I Can, Not As I Say: "Grounding" (Language) AND Robotic Affordances'
    clause = title_clause(title)
    assert clause == 'ti:"do as i can not as i say grounding language and robotic"'
    assert len(clause.removeprefix('ti:"').removesuffix('"').split()) == MAX_QUERY_WORDS


def test_words_clause_uses_the_main_title_without_stop_words() -> None:
    title = "Rank Analysis of Incomplete Block Designs: I. The Method of Paired Comparisons"
    assert (
        title_clause(title, "words")
        == "ti:(rank AND analysis AND incomplete AND block AND designs)"
    )
    # A main title too short to search alone: the whole title's words.
    assert (
        title_clause("Pick-a-Pic: An Open Dataset", "words")
        == "ti:(pick AND pic AND open AND dataset)"
    )


@pytest.mark.parametrize("title", ["", "ImageReward", "Diffusion Models", "T5", "? ? ?"])
def test_short_titles_are_not_searched(title: str) -> None:
    assert title_clause(title) is None
    assert title_queries([title]) == []


def test_queries_or_several_titles_and_keep_their_indexes() -> None:
    titles = [LUCE, "T5", IMAGE_REWARD, "The Analysis of Permutations"]
    [(query, indexes)] = title_queries(titles)
    assert indexes == [0, 2, 3]
    assert query == (
        'ti:"individual choice behavior" OR '
        'ti:"imagereward learning and evaluating human preferences for text to image generation"'
        ' OR ti:"the analysis of permutations"'
    )


def test_equal_titles_are_asked_once() -> None:
    [(query, indexes)] = title_queries([LUCE, LUCE.upper() + ".", IMAGE_REWARD])
    assert indexes == [0, 1, 2]
    assert query.count("individual choice behavior") == 1


def test_queries_stay_within_the_length_budget() -> None:
    titles = [f"Sparse Transformers for Task Number {n} with Long Titles" for n in range(40)]
    batches = title_queries(titles, max_len=300)
    assert len(batches) > 1
    assert all(len(quote_plus(query)) <= 300 for query, _ in batches)
    assert [i for _, indexes in batches for i in indexes] == list(range(40))


def test_queries_hold_at_most_max_titles() -> None:
    titles = [f"Sparse Transformers for Task {n}" for n in range(25)]
    batches = title_queries(titles, max_titles=10)
    assert [len(indexes) for _, indexes in batches] == [10, 10, 5]


def test_a_title_longer_than_the_budget_goes_alone() -> None:
    batches = title_queries([LUCE, IMAGE_REWARD, "The Analysis of Permutations"], max_len=60)
    assert [indexes for _, indexes in batches] == [[0], [1], [2]]


def test_search_url_is_stable() -> None:
    url = search_url("http://x/api/query", 'ti:"a b c" OR ti:"d e f"', 50)
    assert url == (
        "http://x/api/query?search_query=ti%3A%22a+b+c%22+OR+ti%3A%22d+e+f%22"
        "&start=0&max_results=50"
    )


# -- choosing among candidates ---------------------------------------------------------------


def _paper(arxiv_id: str, title: str, year: int) -> Paper:
    when = datetime(year, 6, 1, tzinfo=UTC)
    return Paper(
        arxiv_id=arxiv_id,
        version=1,
        title=title,
        abstract="",
        authors=(),
        published=when,
        updated=when,
        primary_category="cs.LG",
        categories=("cs.LG",),
        doi=None,
        journal_ref=None,
        comment=None,
        abs_url=f"http://arxiv.org/abs/{arxiv_id}v1",
        pdf_url=None,
        fetched_at=when,
    )


def _candidate(arxiv_id: str, title: str, year: int, listed: str) -> Candidate:
    return Candidate(_paper(arxiv_id, title, year), title_similarity(listed, title))


def test_choose_takes_the_best_above_the_threshold() -> None:
    candidates = [
        _candidate("2304.00001", LUCE_DECOY, 2023, LUCE),
        _candidate("2304.05977", IMAGE_REWARD, 2023, IMAGE_REWARD),
    ]
    assert choose(candidates, 2023) == TitleResolution(
        arxiv_id="2304.05977",
        match_score=100.0,
        candidate_id="2304.05977",
        candidate_score=100.0,
        candidate_title=IMAGE_REWARD,
    )


def test_choose_keeps_a_near_miss_as_a_candidate_only() -> None:
    resolution = choose([_candidate("2304.00001", LUCE_DECOY, 2023, LUCE)], 1959)
    assert resolution.arxiv_id is None and resolution.match_score is None
    assert resolution.candidate_id == "2304.00001"
    assert resolution.candidate_score == pytest.approx(78.8)


def test_the_listed_year_breaks_a_tie() -> None:
    twins = [
        _candidate(
            "1905.00001", "Learning to Rank Things Well", 2019, "Learning to Rank Things Well"
        ),
        _candidate(
            "2305.00001", "Learning to Rank Things Well", 2023, "Learning to Rank Things Well"
        ),
    ]
    assert choose(twins, 2023).arxiv_id == "2305.00001"
    assert choose(twins, 2020).arxiv_id == "1905.00001"
    unbroken = choose(twins, None)
    assert unbroken.arxiv_id is None and unbroken.candidate_id == "1905.00001"


def test_a_match_posted_long_after_the_listed_year_is_not_taken() -> None:
    late = [_candidate("2401.00001", LUCE, 2024, LUCE)]
    assert choose(late, 1959).arxiv_id is None
    assert choose(late, 1959).candidate_score == 100.0
    assert choose(late, 2023).arxiv_id == "2401.00001"
    assert choose(late, None).arxiv_id == "2401.00001"


def test_no_candidates_no_resolution() -> None:
    assert choose([], 2020) == TitleResolution()
