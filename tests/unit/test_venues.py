"""Venue normalisation on real strings (pipeline.venues): list items, arXiv comments and
journal_refs, and the venues Semantic Scholar and OpenAlex recorded (tests/fixtures/s2/,
tests/fixtures/openalex/)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import CITE_SOURCES
from pipeline.services.citations import OPENALEX, SEMANTIC_SCHOLAR
from pipeline.venues import (
    CANONICAL_VENUES,
    ENTRY_VENUE_SOURCES,
    is_preprint,
    known_venue,
    normalize_venue,
    venue_kind,
)

VENUE_SOURCES = (*ENTRY_VENUE_SOURCES, *CITE_SOURCES)


def _venue(
    listed: str | None,
    journal_ref: str | None,
    comment: str | None,
    s2: str | None,
    openalex: str | None,
) -> tuple[str | None, str | None]:
    # The sources in trust order, as the refresh passes them.
    texts = (listed, journal_ref, comment, s2, openalex)
    return normalize_venue(dict(zip(VENUE_SOURCES, texts, strict=True)))


def _listed(value: str) -> tuple[str | None, str | None]:
    return _venue(value, None, None, None, None)


# -- venues ---------------------------------------------------------------------------------

# Venue strings of real list items (tests/fixtures/lists/ and /work/shared/corpus/lists/,
# as pipeline.lists.parse reads them: the year is split off into ListEntry.year) -> canonical.
LISTED = [
    ("NeruIPS 2025", "NeurIPS"),  # alignment list f45f77a3, line 212: the typo of the issue
    ("NeurIPS", "NeurIPS"),
    ("NIPS", "NeurIPS"),  # awesome-rl: "NIPS, 1994"
    ("Neurips", "NeurIPS"),  # Awesome-LLM 006410de, line 84
    ("NeurIPS Datasets and Benchmarks", "NeurIPS Datasets and Benchmarks"),
    ("NeurIPS Workshop", "NeurIPS Workshop"),
    ("ICML Oral", "ICML"),  # a presentation format, not a venue
    ("CVPRW", "CVPR Workshop"),
    ("ICCVW", "ICCV Workshop"),  # Text-to-Image: "(ICCVW 2021)"
    ("ICLRW", "ICLR Workshop"),
    ("EMNLP Findings", "Findings of EMNLP"),
    ("Findings of ACL", "Findings of ACL"),
    ("ACL Findings", "Findings of ACL"),
    ("NAACL Findings", "Findings of NAACL"),
    ("NAACL", "NAACL"),
    ("ACL", "ACL"),
    ("ACMMM", "ACM MM"),  # Text-to-Image: "(ACMMM 2022)"
    ("ACM MM", "ACM MM"),
    ("SIGGRAPH Asia", "SIGGRAPH Asia"),
    ("SIGGRAPH", "SIGGRAPH"),
    ("TPAMI", "TPAMI"),
    ("TMLR", "TMLR"),
    ("JMLR", "JMLR"),
    ("CHI", "CHI"),
    ("KDD", "KDD"),
    ("AAAI", "AAAI"),
    ("IJCAI", "IJCAI"),
    ("AISTATS", "AISTATS"),
    ("ECCV", "ECCV"),
    ("nature", "Nature"),
    ("Biometrika", "Biometrika"),  # unknown venues keep their name
    (
        "Journal of the Royal Statistical Society. Series C (Applied Statistics)",
        "Journal of the Royal Statistical Society. Series C (Applied Statistics)",
    ),
]


@pytest.mark.parametrize(("listed", "expected"), LISTED)
def test_listed_venues_get_their_canonical_name(listed: str, expected: str) -> None:
    assert _listed(listed) == (expected, "list")


@pytest.mark.parametrize("listed", ["arXiv", "arXiv preprint", "Arxiv", "ArXiv", "CoRR"])
def test_arxiv_is_a_venue_only_when_nothing_better_exists(listed: str) -> None:
    assert _listed(listed) == ("arXiv", "list")
    better = _venue(listed, None, None, "Neural Information Processing Systems", None)
    assert better == ("NeurIPS", SEMANTIC_SCHOLAR)
    # Every source saying arXiv: the first one is named.
    assert _venue(None, None, None, "arXiv.org", "arXiv (Cornell University)") == (
        "arXiv",
        SEMANTIC_SCHOLAR,
    )


# Real arXiv comments (the OAI-PMH and Atom recordings of /work/shared/corpus) -> the venue
# they give this paper, or None when they point elsewhere.
COMMENTS = [
    ("CVPR 2021. Codes: https://github.com/TencentARC/GFPGAN", "CVPR"),
    ("Accepted to CVPR 2021", "CVPR"),
    ("accepted by ECCV 2020(oral)", "ECCV"),
    ("Accepted to Findings of EMNLP 2020", "Findings of EMNLP"),
    ("2nd Workshop on Neural Architecture Search at ICLR 2021", "ICLR Workshop"),
    ("NeurIPS'20, 20 pages", "NeurIPS"),
    ("AAAI20. Update code links", "AAAI"),
    ("To be appeared in the Proceedings of KDD'16", "KDD"),
    ("Accepted to KDD 2019, full version, 22 pages", "KDD"),
    ("Published at International Conference on Machine Learning (ICML) 2020", "ICML"),
    ("In proceedings of the 35th AAAI Conference on Artificial Intelligence", "AAAI"),
    ("EMNLP Industry Track 2025", "EMNLP"),
    (
        "NeurIPS 2025 Tackling Climate Change with Machine Learning Workshop version. Non-archival",
        "NeurIPS Workshop",
    ),
    (
        '"NLP Power" workshop at ACL 2022. This work is based on a previous arXiv '
        "submission: arXiv:2008.02577 [cs.AI]",
        "ACL Workshop",
    ),
    ("Submitted to ICML 2020. 9 pages, 3 pdf figures. V2: fixed", None),
    ("Extended version of the NeurIPS paper arXiv:1810.11809", None),
    ("Extended version of a paper accepted to ECML/PKDD 2019", None),
    ("This paper has been withdrawn by the author. Look at the ICML version", None),
    ("Supplementary material for the ICML 2018 paper: Tree Edit Distance Learning", None),
    ("12 pages, submitted to AAAI07 workshop on Intelligent Information", None),
    (
        "final journal version: typos, wordings refined, commas, added missing reference - 15 "
        "pages, 4 figures, accepted to ApJ Changes: fig4b was not the right graph, wrong chi "
        "squared/dof numbers at one place.",
        None,  # "chi" is not CHI
    ),
    ("8 pages, 3 figures, 2 tables", None),
]


@pytest.mark.parametrize(("comment", "expected"), COMMENTS)
def test_comments_name_a_venue_only_when_the_paper_appeared_there(
    comment: str, expected: str | None
) -> None:
    assert _venue(None, None, comment, None, None) == (
        expected,
        "comment" if expected else None,
    )


# Real journal_ref values (the corpus's Atom and .abs recordings).
JOURNAL_REFS = [
    ("In Advances in Neural Information Processing Systems, pp. 10387-10396. 2019", "NeurIPS"),
    (
        "Proceedings of the 19th International Conference on Artificial Intelligence and "
        "Statistics, pp. 342-350, 2016",
        "AISTATS",
    ),
    (
        "Proceedings of the IJCAI-95 Workshop on Data Engineering for Inductive Learning, "
        "Montreal, Quebec, (1995), 50-59",
        "IJCAI Workshop",
    ),
    ("Proc. 28th ACM International Conference on Information and Knowledge Management", "CIKM"),
    ("SIGMOD (2017) 417-432", "SIGMOD"),
    (
        "Proc. 2023 IEEE International Conference on Software Testing, Verification and "
        "Validation Workshops (ICSTW), pp. 66-69",
        "ICSTW",
    ),
    ("Phys. Rev. D 89, 084044 (2014)", "Phys. Rev. D"),
    ("IEEE Access 7, pp. 155625-155636 (2019)", "IEEE Access"),
    ("Statistical Science 2008, Vol. 23, No. 1, 65-68", "Statistical Science"),
    ("FOCS 2020", "FOCS"),
    ("arXiv:2011.02565 [cs.AI]", "arXiv"),
    ("10.1016/j.ipl.2005.10.006", None),  # a DOI, not a venue
]


@pytest.mark.parametrize(("journal_ref", "expected"), JOURNAL_REFS)
def test_journal_refs(journal_ref: str, expected: str | None) -> None:
    assert _venue(None, journal_ref, None, None, None) == (
        expected,
        "journal_ref" if expected else None,
    )


# Venues Semantic Scholar and OpenAlex recorded (the s2/ and openalex/ fixtures).
SERVICE_VENUES = [
    ("Neural Information Processing Systems", "NeurIPS"),
    ("AAAI Conference on Artificial Intelligence", "AAAI"),
    ("IEEE Transactions on Pattern Analysis and Machine Intelligence", "TPAMI"),
    ("Trans. Mach. Learn. Res.", "TMLR"),
    ("J. Mach. Learn. Res.", "JMLR"),
    (
        "2022 IEEE/CVF Conference on Computer Vision and Pattern Recognition Workshops",
        "CVPR Workshop",
    ),
    ("Findings of the Association for Computational Linguistics: EMNLP 2020", "Findings of EMNLP"),
    ("Nat. Mac. Intell.", "Nat. Mac. Intell."),
    (
        "2023 IEEE 26th International Conference on Intelligent Transportation Systems (ITSC)",
        "IEEE International Conference on Intelligent Transportation Systems (ITSC)",
    ),
    # ICMLA is not ICML.
    (
        "International Conference on Machine Learning and Applications",
        "International Conference on Machine Learning and Applications",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("venue", "expected"), SERVICE_VENUES)
def test_service_venues(venue: str, expected: str) -> None:
    assert _venue(None, None, None, venue, None) == (expected, SEMANTIC_SCHOLAR)
    assert _venue(None, None, None, None, venue) == (expected, OPENALEX)


def test_sources_are_trusted_in_order() -> None:
    assert _venue("ICML", "IEEE Access 7", "Accepted to CVPR 2021", "AAAI", None) == (
        "ICML",
        "list",
    )
    assert _venue(None, "IEEE Access 7", "Accepted to CVPR 2021", None, None) == (
        "IEEE Access",
        "journal_ref",
    )
    assert _venue("", "", "8 pages", "", "arXiv (Cornell University)") == (
        "arXiv",
        OPENALEX,
    )
    assert _venue(None, None, None, None, None) == (None, None)


@pytest.mark.parametrize("canonical", CANONICAL_VENUES)
def test_canonical_names_are_fixed_points(canonical: str) -> None:
    assert _listed(canonical) == (canonical, "list")


@given(st.lists(st.one_of(st.none(), st.text(max_size=80)), min_size=5, max_size=5))
def test_any_text_gives_a_value_and_a_known_source_or_nothing(texts: list[str | None]) -> None:
    value, source = _venue(*texts)
    assert (value is None) == (source is None)
    assert source is None or source in VENUE_SOURCES
    if value is not None:
        assert value == value.strip() and value


@given(st.text(max_size=60))
def test_a_listed_value_normalises_to_itself(text: str) -> None:
    value, _ = _listed(text)
    if value is not None:
        assert _listed(value) == (value, "list")


# -- the vocabulary, for the list parser and the exports ---------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    [
        ("NIPS 2017", "NeurIPS", "proceedings"),
        ("Advances in Neural Information Processing Systems", "NeurIPS", "proceedings"),
        ("CVPRW", "CVPR Workshop", "proceedings"),
        ("EMNLP Findings", "Findings of EMNLP", "proceedings"),
        ("IEEE Trans. Pattern Anal. Mach. Intell.", "TPAMI", "journal"),
        ("J. Mach. Learn. Res.", "JMLR", "journal"),
        ("Nature", "Nature", "journal"),
        ("arXiv preprint", "arXiv", None),
        ("CoRR abs/1706.03762", "arXiv", None),
        ("Biometrika", None, None),  # a real venue, outside the vocabulary
        ("", None, None),
    ],
)
def test_known_venues_and_their_kind(text: str, name: str | None, kind: str | None) -> None:
    assert known_venue(text) == name
    assert venue_kind(text) == kind
    assert is_preprint(text) == (name == "arXiv")


@pytest.mark.parametrize("canonical", CANONICAL_VENUES)
def test_every_known_venue_has_a_kind(canonical: str) -> None:
    assert known_venue(canonical) == canonical
    assert venue_kind(canonical) in ("journal", "proceedings")


def test_entry_fields_come_before_the_services() -> None:
    assert normalize_venue({"list": None, OPENALEX: "ICML", SEMANTIC_SCHOLAR: "AAAI"}) == (
        "ICML",
        OPENALEX,
    )
    assert set(ENTRY_VENUE_SOURCES).isdisjoint(CITE_SOURCES)
