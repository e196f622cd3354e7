"""Venues: one vocabulary of known venues, and the normalisation of what each source names (pure).

``normalize_venue`` picks an entry's venue from its sources in order of trust; ``known_venue``,
``venue_kind`` and ``is_preprint`` expose the same vocabulary to readers of venue names (the
list parser, the BibTeX export), so that every part of the pipeline agrees on what "NIPS",
"CVPRW" or "IEEE Trans. Pattern Anal. Mach. Intell." is.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Mapping
from typing import Literal

ARXIV_VENUE = "arXiv"
LIST = "list"
JOURNAL_REF = "journal_ref"
COMMENT = "comment"
ENTRY_VENUE_SOURCES: tuple[str, ...] = (LIST, JOURNAL_REF, COMMENT)
"""The entry's own venue fields, in order of trust: the list is the curator's citation;
``journal_ref`` the authors' formal record; the comment their note ("Accepted to ...").
Citation sources' venues come after them: curated, but they lag and sometimes name a series
(LNCS) for a conference."""

VenueKind = Literal["journal", "proceedings"]


def _acronym(pattern: str) -> str:
    # Letters may not touch the acronym (NAACL is not ACL) but digits and quotes may
    # (NeurIPS2020, AAAI20, KDD'16); a trailing W marks a workshop (CVPRW, ICCVW).
    return rf"(?<![A-Za-z])(?:{pattern})(?P<w>W)?(?![A-Za-z])"


def _acro_strict(pattern: str) -> str:
    # For acronyms that are also words (CHI, ACL, UAI): exact case, no workshop suffix.
    return rf"(?<![A-Za-z])(?-i:{pattern})(?![A-Za-z])"


# (canonical, patterns), most specific first: the first canonical with a match wins.
_VENUE_TABLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SIGGRAPH Asia", (r"siggraph[\s-]*asia",)),
    ("TACL", (_acronym("tacl"), r"transactions of the association for computational ling")),
    ("NAACL", (_acronym("naacl"), r"north american chapter of the association for comput")),
    ("EACL", (_acronym("eacl"), r"european chapter of the association for computational")),
    ("EMNLP", (_acronym("emnlp"), r"empirical methods in natural language processing")),
    (
        "ACL",
        (
            _acro_strict("ACL"),
            r"annual meeting of the association for computational linguistics",
            r"findings of the association for computational linguistics",
        ),
    ),
    ("COLING", (_acronym("coling"), r"international conference on computational linguistics")),
    (
        "NeurIPS",
        (
            # The NeruIPS typo is real (the alignment list, 2025); NIPS is the old name.
            _acronym(r"neu?r[iu]?ps|neru?ips|nuer?ips|nips"),
            r"neural information processing systems",
        ),
    ),
    (
        "ICML",
        (
            _acronym("icml"),
            r"international conference on machine learning(?!\s*(?:and|&|,)\s*\w)",
        ),
    ),
    ("ICLR", (_acronym("iclr"), r"international conference on learning representations")),
    ("AISTATS", (_acronym("aistats"), r"artificial intelligence and statistics")),
    ("UAI", (_acro_strict("UAI"), r"uncertainty in artificial intelligence")),
    ("COLT", (_acro_strict("COLT"), r"conference on learning theory")),
    ("CoRL", (_acronym("corl"), r"conference on robot learning")),
    (
        "TMLR",
        (
            _acronym("tmlr"),
            r"transactions on machine learning research",
            r"trans\.?\s*mach\.?\s*learn\.?\s*res",
        ),
    ),
    (
        "JMLR",
        (
            _acronym("jmlr"),
            r"journal of machine learning research",
            r"j\.?\s*mach\.?\s*learn\.?\s*res",
        ),
    ),
    (
        "TPAMI",
        (
            _acronym("t-?pami"),
            _acro_strict("PAMI"),
            r"transactions on pattern analysis and machine intelligence",
            r"trans\.?\s*pattern\s*anal\.?\s*mach\.?\s*intell",
        ),
    ),
    ("IJCV", (_acronym("ijcv"), r"international journal of computer vision")),
    ("CVPR", (_acronym("cvpr"), r"computer vision and pattern recognition")),
    (
        "ICCV",
        (_acronym("iccv"), r"international conference on computer vision(?!\s*theory)"),
    ),
    ("ECCV", (_acronym("eccv"), r"european conference on computer vision")),
    ("WACV", (_acronym("wacv"), r"winter conference on applications of computer vision")),
    ("BMVC", (_acronym("bmvc"), r"british machine vision conference")),
    ("AAAI", (_acronym("aaai"),)),
    ("IJCAI", (_acronym("ijcai"), r"international joint conference on artificial intelligence")),
    ("PAKDD", (_acronym("pakdd"), r"pacific-asia conference on knowledge discovery")),
    (
        "ECML PKDD",
        (
            _acronym(r"ecml(?:[\s/-]*pkdd)?"),
            r"european conference on machine learning",
            r"principles and practice of knowledge discovery in databases",
        ),
    ),
    (
        "KDD",
        (
            _acro_strict("KDD"),
            _acronym("(?:acm[\\s-]*)?sigkdd"),
            r"knowledge discovery and data mining",
        ),
    ),
    ("WWW", (_acro_strict("WWW"), r"the web conference", r"world wide web conference")),
    ("SIGIR", (_acronym("sigir"), r"research and development in information retrieval")),
    ("CIKM", (_acronym("cikm"), r"conference on information and knowledge management")),
    ("SIGMOD", (_acronym("sigmod"), r"international conference on management of data")),
    ("VLDB", (_acronym("p?vldb"), r"very large data bases")),
    ("SIGGRAPH", (_acronym("siggraph"), r"computer graphics and interactive techniques")),
    ("TOG", (_acro_strict("TOG"), r"acm transactions on graphics", r"acm trans\.?\s*graph")),
    ("CHI", (_acro_strict("CHI"), r"human factors in computing systems")),
    (
        "ACM MM",
        (_acronym(r"acm\s*mm"), r"acm multimedia", r"acm international conference on multimedia"),
    ),
    ("ICRA", (_acronym("icra"), r"international conference on robotics and automation")),
    ("IROS", (_acronym("iros"), r"intelligent robots and systems")),
    ("RSS", (_acro_strict("RSS"), r"robotics:?\s*science and systems")),
    ("INTERSPEECH", (_acronym("interspeech"),)),
    ("ICASSP", (_acronym("icassp"), r"acoustics,?\s*speech,?\s*and signal processing")),
    ("TIP", (_acro_strict("TIP"), r"ieee transactions on image processing")),
    ("TNNLS", (_acronym("tnnls"), r"transactions on neural networks and learning systems")),
    ("Nature", (r"^nature$",)),
    ("Science", (r"^science$",)),
)
_VENUE_PATTERNS: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = tuple(
    (canonical, tuple(re.compile(p, re.IGNORECASE) for p in patterns))
    for canonical, patterns in _VENUE_TABLE
)
CANONICAL_VENUES: tuple[str, ...] = tuple(name for name, _ in _VENUE_TABLE)
"""The short names ``normalize_venue`` gives known venues (qualified as "X Workshop",
"Findings of X", "NeurIPS Datasets and Benchmarks")."""
_JOURNALS = frozenset(
    {"TACL", "TMLR", "JMLR", "TPAMI", "IJCV", "TOG", "TIP", "TNNLS", "Nature", "Science"}
)
"""The known venues that are journals; every other one (and its workshops) is proceedings."""
_ACL_FAMILY = frozenset({"ACL", "EMNLP", "NAACL", "EACL"})
_FINDINGS = re.compile(r"\bfindings\b", re.IGNORECASE)
_WORKSHOP = re.compile(r"\bworkshops?\b", re.IGNORECASE)
_DATASETS_TRACK = re.compile(r"datasets\s*(?:and|&)\s*benchmarks", re.IGNORECASE)
_PLACEHOLDER = re.compile(
    r"^(?:arxiv\b.*|corr\b.*|e-?print.*|preprint|arxiv\s*\(cornell university\))$", re.I
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)|'\d{2}\b")
_ORDINAL = re.compile(r"\b\d+(?:st|nd|rd|th)\b", re.IGNORECASE)
_CLAUSE = re.compile(r"(?<=[.;!?])\s+|\n")
# Words of a comment that make a venue named after them the paper's own venue, or not.
_ACCEPTED = re.compile(
    r"\b(?:accept\w*|publish\w*|to appear|appear\w*|proceedings|camera[\s-]*ready|"
    r"presented|oral|spotlight|poster)\b",
    re.IGNORECASE,
)
_NOT_THIS_PAPER = re.compile(
    r"\b(?:submitted|submission|under review|withdrawn|extended version|extension of|"
    r"supplement\w*|rejected|look at|preliminary|earlier version|previous|short version|"
    r"based on)\b",
    re.IGNORECASE,
)
_JOURNAL_ACRONYM = re.compile(r"\((?P<a>[A-Za-z][A-Za-z0-9/&-]{1,15})(?:[\s']*\d{2,4})?\)")
_JOURNAL_LEAD = re.compile(
    r"^(?:in\s+|proc\.?\s+|proceedings\s+of\s+(?:the\s+)?|published\s+in\s+)+", re.IGNORECASE
)
_JOURNAL_CUT = re.compile(r"[,;(:]|\s\d|(?<=\.)\d|\s+vol\b|\s+pp\b", re.IGNORECASE)
_TRAILING = re.compile(r"[\s,;:(\-]+$|\s+(?:in|of|the|and|at|on)$", re.IGNORECASE)


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", html.unescape(text)).split())


def _strip_years(text: str) -> str:
    text = _ORDINAL.sub(" ", _YEAR.sub(" ", text))
    text = " ".join(text.split())
    previous = None
    while previous != text:
        previous, text = text, _TRAILING.sub("", text).strip()
    return text.lstrip(",;:-. ")


def _qualified(canonical: str, context: str, match: re.Match[str]) -> str:
    if canonical in _ACL_FAMILY and _FINDINGS.search(context):
        return f"Findings of {canonical}"
    if canonical == "NeurIPS" and _DATASETS_TRACK.search(context):
        return "NeurIPS Datasets and Benchmarks"
    if match.groupdict().get("w") or _WORKSHOP.search(context):
        return f"{canonical} Workshop"
    return canonical


def _known_mentions(text: str) -> list[tuple[str, re.Match[str]]]:
    """Every canonical venue ``text`` names, in table order (most specific first)."""
    found = []
    for canonical, patterns in _VENUE_PATTERNS:
        for pattern in patterns:
            match = pattern.search(text)
            if match:
                found.append((canonical, match))
                break
    return found


def _known_venue(text: str) -> str | None:
    mentions = _known_mentions(text)
    if not mentions:
        return None
    canonical, match = mentions[0]
    return _qualified(canonical, text, match)


def _comment_venue(comment: str) -> str | None:
    """A venue the comment says *this* paper appeared at, or None.

    A venue counts when its clause starts with it ("CVPR 2021. Code: ..."), a workshop
    names it, or an acceptance word precedes it ("Accepted to ..."); never after words that
    point elsewhere ("Submitted to", "Extended version of the NeurIPS paper", "Look at the
    ICML version"). Unknown venues in comments are ignored: free text, not a venue field.
    """
    for clause in _CLAUSE.split(comment):
        for canonical, match in _known_mentions(clause):
            before = clause[: match.start()]
            if _NOT_THIS_PAPER.search(before):
                continue
            leads = not re.search(r"[A-Za-z]{3}", re.sub(r"(?i)\b(?:in|at)\b", "", before))
            if leads or _ACCEPTED.search(before) or _WORKSHOP.search(clause):
                return _qualified(canonical, clause, match)
    return None


def _journal_ref_venue(text: str) -> str | None:
    """A journal_ref's venue when it names no known one: the acronym it gives in
    parentheses ("... Workshops (ICSTW), pp. 66-69"), else its leading name
    ("Phys. Rev. D 89, 084044 (2014)" -> "Phys. Rev. D")."""
    if re.match(r"^(?:10\.\d{4,9}/|https?://)", text):
        return None  # a DOI or a link, not a venue
    for match in _JOURNAL_ACRONYM.finditer(text):
        acronym = match["a"]
        if sum(c.isupper() for c in acronym) >= 2:
            return acronym
    lead = _JOURNAL_LEAD.sub("", _strip_years(text))
    cut = _JOURNAL_CUT.search(lead)
    name = _strip_years(lead[: cut.start()] if cut else lead)
    return name if len(name) >= 2 and re.search(r"[A-Za-z]", name) else None


@functools.lru_cache(maxsize=16384)
def _venue_from(source: str, text: str) -> str | None:
    # Cached: a list names the same few venues over and over.
    text = _clean(text)
    if not text:
        return None
    if source == COMMENT:
        return _comment_venue(text)
    stripped = _strip_years(text)
    if not stripped or _PLACEHOLDER.match(stripped) or _PLACEHOLDER.match(text):
        return ARXIV_VENUE if re.search(r"(?i)arxiv|corr|print", text) else None
    known = _known_venue(text)
    if known:
        return known
    if source == JOURNAL_REF:
        return _journal_ref_venue(text)
    return stripped


def normalize_venue(texts: Mapping[str, str | None]) -> tuple[str | None, str | None]:
    """(venue, source of the value) for one entry, or (None, None) (pure).

    ``texts`` maps a source to the venue it gives, in order of trust: the entry's own fields
    (``ENTRY_VENUE_SOURCES``), then the citation sources. The first that names a venue
    wins. A comment names a venue only when it says the paper appeared there; a
    ``journal_ref`` that names no known venue gives its acronym or leading name; any other
    source is a venue field, taken as it is. Usual ML venues come back as their short names
    (NeurIPS for "NIPS", "NeruIPS", "Advances in Neural Information Processing Systems";
    TPAMI for "IEEE Trans. Pattern Anal. Mach. Intell."; "Findings of EMNLP", "CVPR
    Workshop", "NeurIPS Datasets and Benchmarks"); other venues keep their name without
    years and ordinals. arXiv (arXiv.org, CoRR, "arXiv preprint", "arXiv (Cornell
    University)") is a venue only when no source names another.
    """
    fallback: tuple[str | None, str | None] = (None, None)
    for source, text in texts.items():
        if not text:
            continue
        value = _venue_from(source, text)
        if value is None:
            continue
        if value == ARXIV_VENUE:
            if fallback[0] is None:
                fallback = (ARXIV_VENUE, source)
            continue
        return value, source
    return fallback


# -- the vocabulary, for readers of venue names ------------------------------------------------


@functools.lru_cache(maxsize=4096)
def known_venue(text: str) -> str | None:
    """The canonical name of the known venue ``text`` names ("NIPS 2017" -> "NeurIPS",
    "CVPRW" -> "CVPR Workshop", "EMNLP Findings" -> "Findings of EMNLP"), "arXiv" for a
    preprint placeholder ("arXiv preprint", "CoRR"), else None (pure)."""
    text = _clean(text)
    stripped = _strip_years(text)
    if text and (not stripped or _PLACEHOLDER.match(stripped) or _PLACEHOLDER.match(text)):
        return ARXIV_VENUE if re.search(r"(?i)arxiv|corr|print", text) else None
    return _known_venue(text)


def is_preprint(text: str) -> bool:
    """Whether ``text`` names no venue but arXiv or a preprint ("arXiv", "CoRR abs/...")."""
    return known_venue(text) == ARXIV_VENUE


def venue_kind(text: str) -> VenueKind | None:
    """ "journal" or "proceedings" for a known venue (workshops and Findings are
    proceedings), None for arXiv and for venues outside the vocabulary (pure)."""
    name = known_venue(text)
    if name is None or name == ARXIV_VENUE:
        return None
    return "journal" if name in _JOURNALS else "proceedings"
