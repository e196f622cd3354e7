"""arXiv ids: the validity rules, every way lists write a reference, and what is not one."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.arxiv_ids import (
    OLD_STYLE_ARCHIVES,
    ArxivRef,
    LinkKind,
    classify_url,
    find_arxiv_refs,
    is_valid_id,
    normalize_id,
)

# -- validity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "0704.0001",  # the first new-style month
        "0912.1234",
        "1412.9999",  # last month with 4-digit numbers
        "1501.00001",  # first month with 5-digit numbers
        "2304.05977",
        "2310.03739v2",
        "9912.12345v10",
        "hep-th/9901001",
        "hep-lat/9107001",  # the oldest id arXiv has
        "math/0309136v2",
        "cs/9605103v1",
        "quant-ph/0703999",  # the last old-style month
        "q-bio/0309001",
    ],
)
def test_valid_ids(text: str) -> None:
    assert is_valid_id(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0703.1234", "start at 0704"),
        ("0701.0001", "start at 0704"),
        ("1412.12345", "4-digit number"),
        ("1501.0001", "5-digit number"),
        ("2401.123456789", "5-digit number"),
        ("2313.01234", "month 13"),
        ("2300.01234", "month 00"),
        ("2301.00000", "number 0"),
        ("2301.00001v0", "version"),
        ("2301.00001v01", "version"),
        ("abc", "neither"),
        ("hep-th/0704001", "9107 to 0703"),
        ("hep-th/9106001", "9107 to 0703"),
        ("hep-th/9913001", "month 13"),
        ("hep-th/99010011", "3-digit number"),
        ("hep-th/9901000", "number 000"),
        ("stat/0601001", "not an arXiv archive"),  # stat only ever had new-style ids
        ("foo-bar/9901001", "not an arXiv archive"),
    ],
)
def test_invalid_ids_say_why(text: str, reason: str) -> None:
    assert not is_valid_id(text)
    with pytest.raises(ValueError, match=reason):
        normalize_id(text)


@pytest.mark.parametrize(
    "text",
    [" 2304.05977", "arXiv:2304.05977", "2304.05977 ", "math.GT/0309136", "HEP-TH/9901001"],
)
def test_is_valid_id_accepts_only_canonical_ids(text: str) -> None:
    """The fetch stage sends what passes straight to the API: no prefix, spaces, subject."""
    assert not is_valid_id(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2304.05977", ArxivRef("2304.05977")),
        ("  arXiv:2310.03739v2 ", ArxivRef("2310.03739", 2)),
        ("ARXIV: 2310.03739", ArxivRef("2310.03739")),
        ("math.GT/0309136", ArxivRef("math/0309136")),  # subject class is not identity
        ("cs/9605103v1", ArxivRef("cs/9605103", 1)),
    ],
)
def test_normalize_id(text: str, expected: ArxivRef) -> None:
    assert normalize_id(text) == expected


def test_versioned_rendering() -> None:
    assert ArxivRef("2310.03739", 2).versioned == "2310.03739v2"
    assert str(ArxivRef("hep-th/9901001")) == "hep-th/9901001"


def test_old_style_archives_are_the_real_list() -> None:
    assert {"hep-th", "math", "cs", "quant-ph", "cond-mat", "astro-ph"} <= OLD_STYLE_ARCHIVES
    assert not {"stat", "q-fin", "eess", "econ"} & OLD_STYLE_ARCHIVES  # new-style only


# -- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "arxiv_id", "version"),
    [
        ("https://arxiv.org/abs/2304.05977", "2304.05977", None),
        ("http://arxiv.org/abs/2304.05977", "2304.05977", None),
        ("https://arxiv.org/pdf/2304.05977", "2304.05977", None),
        ("https://arxiv.org/pdf/2304.05977.pdf", "2304.05977", None),
        ("https://arxiv.org/pdf/2304.05977v2", "2304.05977", 2),
        ("https://arxiv.org/pdf/2304.05977v2.pdf", "2304.05977", 2),
        ("https://arxiv.org/html/2402.09773v1", "2402.09773", 1),
        ("https://export.arxiv.org/abs/2304.05977", "2304.05977", None),
        ("https://www.arxiv.org/pdf/2502.15734", "2502.15734", None),
        ("https://browse.arxiv.org/pdf/2402.00782", "2402.00782", None),
        ("arxiv.org/abs/2304.05977", "2304.05977", None),
        ("https://arxiv.org/abs//2304.05977", "2304.05977", None),  # a real-list quirk
        ("https://arxiv.org/abs/2410.18311#", "2410.18311", None),
        ("https://arxiv.org/abs/2304.05977?context=cs.CV", "2304.05977", None),
        ("https://arxiv.org/abs/2304.05977/", "2304.05977", None),
        ("https://doi.org/10.48550/arXiv.2302.04023", "2302.04023", None),
        ("https://dx.doi.org/10.48550/arxiv.2302.04023", "2302.04023", None),
        ("https://huggingface.co/papers/2305.18290", "2305.18290", None),
        ("https://alphaxiv.org/abs/2305.18290v3", "2305.18290", 3),
        ("http://arxiv.org/pdf/cs/9605103v1.pdf", "cs/9605103", 1),
        ("https://arxiv.org/pdf/quant-ph/0201144.pdf", "quant-ph/0201144", None),
        ("https://arxiv.org/abs/math.GT/0309136", "math/0309136", None),
        ("https://arxiv.org/pdf/1409.3097.pdf", "1409.3097", None),
    ],
)
def test_paper_urls(url: str, arxiv_id: str, version: int | None) -> None:
    cls = classify_url(url)
    assert cls.kind is LinkKind.PAPER
    assert cls.ref == ArxivRef(arxiv_id, version)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "https://arxiv.org/abs/2401.123456789",
            "malformed arXiv id '2401.123456789' in https://arxiv.org/abs/2401.123456789",
        ),
        ("https://arxiv.org/abs/abc", "malformed arXiv id 'abc'"),
        ("https://arxiv.org/abs/2313.01234", "month 13 is not 01-12"),
        ("https://arxiv.org/abs/2407.11681mini", "malformed arXiv id '2407.11681mini'"),
        ("https://arxiv.org/abs/", "no arXiv id"),
        ("https://doi.org/10.48550/arXiv.9999.99", "malformed arXiv id '9999.99'"),
    ],
)
def test_malformed_paper_urls_say_what_is_wrong(url: str, problem: str) -> None:
    cls = classify_url(url)
    assert cls.kind is LinkKind.MALFORMED
    assert cls.ref is None
    assert cls.problem is not None
    assert problem in cls.problem


@pytest.mark.parametrize(
    "url",
    [
        "https://arxiv.org/html/2402.09773v1/x1.png",  # a figure inside the paper
        "https://arxiv.org/html/hep-th/9901001v1/fig1.png",
        "https://arxiv.org/list/cs.CL/recent",
        "https://arxiv.org/a/smith_j_1",
        "https://arxiv.org/",
        "https://img.shields.io/badge/arXiv-2211.06220-b31b1b.svg",  # a badge, not a link
        "https://github.com/org/repo",
        "https://openreview.net/forum?id=abc",
        "https://doi.org/10.1145/3503161.3547818",
        "https://notarxiv.org/abs/2304.05977",
        "http://[::1",  # unparsable
        "",
    ],
)
def test_other_urls(url: str) -> None:
    assert classify_url(url).kind is LinkKind.OTHER


# -- finding references in text --------------------------------------------------------------


def test_find_every_form_in_text() -> None:
    text = (
        "See arXiv:2106.07139 2021, [pdf](https://arxiv.org/pdf/2304.05977v2.pdf), "
        "http://export.arxiv.org/abs/hep-th/9901001 and doi 10.48550/arXiv.2305.13711; "
        "huggingface.co/papers/2305.18290 alphaxiv.org/abs/2401.00001 "
        "arxiv.org/abs//2301.00001?x=1"
    )
    found = find_arxiv_refs(text)
    assert [(m.ref.arxiv_id, m.ref.version) for m in found] == [
        ("2106.07139", None),
        ("2304.05977", 2),
        ("hep-th/9901001", None),
        ("2305.13711", None),
        ("2305.18290", None),
        ("2401.00001", None),
        ("2301.00001", None),
    ]
    for m in found:
        assert text[m.start : m.end] == m.raw
        assert m.raw_id in m.raw


@pytest.mark.parametrize(
    "text",
    [
        "https://arxiv.org/html/2402.09773v1/x1.png",
        "![badge](https://img.shields.io/badge/arXiv-2211.06220-b31b1b.svg)",
        "arxiv.org/abs/2401.123456789",
        "arxiv.org/abs/2313.01234",
        "arXiv 2024.07253",  # no colon: not a reference form
        "fakearxiv.org/abs/2304.05977",
        "version 2304.05977 alone is just a number",
    ],
)
def test_find_skips_what_is_not_a_paper_reference(text: str) -> None:
    assert find_arxiv_refs(text) == []


def test_find_keeps_subject_class_in_raw_id() -> None:
    [m] = find_arxiv_refs("arxiv.org/abs/math.GT/0309136v2")
    assert m.raw_id == "math.GT/0309136"
    assert m.ref == ArxivRef("math/0309136", 2)


# -- properties ------------------------------------------------------------------------------

_ID_TEXT = st.one_of(
    st.from_regex(r"\A\d{4}\.\d{4,5}(v\d{1,2})?\Z"),
    st.from_regex(r"\A(hep-th|math|cs|quant-ph)(\.[A-Z]{2})?/\d{7}(v\d)?\Z"),
)
_AROUND = st.text(alphabet="arxiv.org/abspdf:10.48550 []()v-#?htps", max_size=30)


def _appears(arxiv_id: str, raw_id: str, text: str) -> bool:
    if "/" not in arxiv_id:
        return arxiv_id in text
    archive, number = arxiv_id.split("/")
    return raw_id.startswith(archive) and raw_id.endswith(number) and raw_id in text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_find_never_raises_on_any_text(text: str) -> None:
    for m in find_arxiv_refs(text):
        assert text[m.start : m.end] == m.raw
        assert _appears(m.ref.arxiv_id, m.raw_id, text)
        assert is_valid_id(m.ref.versioned)


@settings(max_examples=300, deadline=None)
@given(_AROUND, _ID_TEXT, _AROUND)
def test_found_ids_appear_in_the_input(before: str, ident: str, after: str) -> None:
    text = before + ident + after
    for m in find_arxiv_refs(text):
        assert _appears(m.ref.arxiv_id, m.raw_id, text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_ID_TEXT, st.text(max_size=20)))
def test_normalize_is_idempotent(text: str) -> None:
    try:
        ref = normalize_id(text)
    except ValueError:
        return
    assert normalize_id(ref.versioned) == ref
    assert is_valid_id(ref.versioned)
    assert is_valid_id(ref.arxiv_id)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_classify_never_raises(url: str) -> None:
    cls = classify_url(url)
    assert (cls.ref is not None) == (cls.kind is LinkKind.PAPER)
    assert (cls.problem is not None) == (cls.kind is LinkKind.MALFORMED)


def test_new_style_digit_rule_matches_the_month() -> None:
    """Every month 0704-1412 takes 4 digits and every month from 1501 on takes 5."""
    for yy in range(7, 100):
        for mm in range(1, 13):
            yymm = f"{yy:02d}{mm:02d}"
            if int(yymm) < 704:
                continue
            four, five = f"{yymm}.0001", f"{yymm}.00001"
            assert is_valid_id(four) == (int(yymm) <= 1412), four
            assert is_valid_id(five) == (int(yymm) >= 1501), five
    assert not re.search(r"\s", "".join(OLD_STYLE_ARCHIVES))


@pytest.mark.parametrize("version", ["v10000", "v2147483648", "v99999999999"])
def test_a_version_past_any_arxiv_version_is_refused(version: str) -> None:
    with pytest.raises(ValueError, match="past any arXiv version"):
        normalize_id(f"2301.00001{version}")
