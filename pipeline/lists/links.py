"""What a link or a mention in a list is: an arXiv paper, another paper, code, or nothing. Pure.

A block is a paper entry when it references a paper: an arXiv link or mention (valid or
malformed), or a link to a paper host (OpenReview, ACL Anthology, DOI, ...), a ``.pdf``, or
a link labelled "pdf"/"paper". Badges, ``#anchors``, files of the list's own repository and
project pages are not references.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from enum import IntEnum
from typing import NamedTuple

from pipeline.arxiv_ids import ArxivRef, LinkKind, classify_url, find_arxiv_refs, normalize_id
from pipeline.lists.document import Piece
from pipeline.urls import host_and_path, without_prefix

__all__ = [
    "BARE_ID_URL_RE",
    "BARE_URL_RE",
    "RefKind",
    "Reference",
    "bare_id_url",
    "classify_link",
    "iter_label_words",
    "label_words",
    "may_hold_url",
    "references_in",
    "trim_url",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


class RefKind(IntEnum):
    """Kinds of reference, in order of preference for an entry's paper link."""

    ARXIV_URL = 0
    ARXIV_TEXT = 1
    """``arXiv:ID`` or ``10.48550/arXiv.ID`` written in text."""
    MALFORMED = 2
    """An arXiv link whose id does not validate."""
    PAPER = 3
    """A paper that is not on arXiv (by host, ``.pdf`` or label)."""
    CODE = 4
    """A GitHub/GitLab repository."""


class Reference(NamedTuple):
    """One thing in a block that points at a paper or its code."""

    kind: RefKind
    url: str | None
    """The link as written (None for a mention in text)."""
    arxiv: ArxivRef | None
    """The arXiv id and version it names, when it names a valid one."""
    problem: str | None
    """Why an arXiv-looking link has no valid id."""
    piece: int
    """Index of the link piece it came from in its block, -1 for text and sub-items."""


_PAPER_HOSTS = _words(
    """
    openreview.net jstor.org psycnet.apa.org doi.apa.org dl.acm.org acm.org
    ieeexplore.ieee.org computer.org aclanthology.org aclweb.org doi.org nature.com
    sciencedirect.com springer.com springeropen.com wiley.com tandfonline.com science.org
    sciencemag.org cell.com pnas.org plos.org biorxiv.org medrxiv.org chemrxiv.org ssrn.com
    researchgate.net semanticscholar.org ncbi.nlm.nih.gov europepmc.org jmlr.org mlr.press
    papers.nips.cc papers.neurips.cc thecvf.com ecva.net aaai.org ijcai.org isca-speech.org
    usenix.org vldb.org mdpi.com frontiersin.org iop.org aps.org oup.com cambridge.org
    royalsocietypublishing.org annualreviews.org projecteuclid.org jair.org hal.science
    archives-ouvertes.fr sagepub.com emerald.com worldscientific.com siam.org ams.org
    elsevier.com citeseerx.ist.psu.edu academic.oup.com bmj.com thelancet.com nejm.org
    jamanetwork.com
    """
)
_CODE_HOSTS = frozenset(("github.com", "gitlab.com"))
_PAPER_LABELS = _words(
    """
    pdf paper arxiv doi thesis report article publication preprint openreview abstract abs
    """
)
BARE_URL_RE = re.compile(
    r"""(?:https?://|www\.)[^\s<>"'`]+|(?<![\w.@/-])(?:export\.)?arxiv\.org/[^\s<>"'`]+""",
    re.IGNORECASE,
)
"""A URL written as text (``https://...``, ``www....``, ``arxiv.org/...``)."""


def may_hold_url(text: str) -> bool:
    """False when ``BARE_URL_RE`` cannot match in ``text``: a test in a few string scans,
    where the regex's lookbehind makes a search cost as much as the rest of a line's fields.
    (".org/", not "arxiv.org/": the regex ignores case, and then a dotless i matches "i".)"""
    if "://" in text:
        return True
    low = text.lower()
    return "www." in low or ".org/" in low


BARE_ID_URL_RE = re.compile(
    r"""(?<![\w.-])(?:https?://)?(?:www\.)?arxiv\.org/+(?P<id>\d{4}\.\d{4,5}(?:v\d+)?)"""
    r"""(?:\.pdf)?/?(?![\w/.-]*[\w/])""",
    re.IGNORECASE | re.ASCII,
)
"""An arXiv link without ``abs/`` or ``pdf/`` (``http://arxiv.org/1412.6980``): arxiv.org
redirects it to the abstract page, and old lists copied from one another are full of it."""


def bare_id_url(href: str) -> ArxivRef | None:
    """The paper a bare ``arxiv.org/ID`` link opens, None for any other URL."""
    if "arxiv.org" not in href.lower():
        return None  # most links of a list: no need to cut and match it
    m = BARE_ID_URL_RE.fullmatch(href.strip().split("#")[0].split("?")[0])
    if m is None:
        return None
    try:
        return normalize_id(m.group("id"))
    except ValueError:
        return None


_NON_WORD_RE = re.compile(r"[\W\d_]+")
_WORD_RE = re.compile(r"[^\W\d_]+")


def label_words(text: str) -> list[str]:
    """The lower-case words of a link label, digits and punctuation dropped."""
    return _NON_WORD_RE.sub(" ", text.lower()).split()


def iter_label_words(text: str) -> Iterator[str]:
    """``label_words`` one at a time, for a test that can stop at the first word."""
    return (m.group(0) for m in _WORD_RE.finditer(text.lower()))


def _paper_host(host: str) -> bool:
    if host.startswith("proceedings."):
        return True
    parts = host.split(".")
    return any(".".join(parts[i:]) in _PAPER_HOSTS for i in range(len(parts) - 1))


def classify_link(href: str, text: str, piece: int) -> Reference | None:
    """What a link is to an entry: an arXiv paper, a malformed arXiv link, another paper
    (a paper host, a ``.pdf``, or a link labelled "pdf"/"paper"), code, or nothing."""
    if not href or href.startswith("#"):
        return None
    cls = classify_url(href)
    if cls.kind is LinkKind.PAPER:
        return Reference(RefKind.ARXIV_URL, href, cls.ref, None, piece)
    if cls.kind is LinkKind.MALFORMED:
        return Reference(RefKind.MALFORMED, href, None, cls.problem, piece)
    if (bare := bare_id_url(href)) is not None:
        return Reference(RefKind.ARXIV_URL, href, bare, None, piece)
    host, path = host_and_path(href)
    host = without_prefix(host)
    if "." not in host:
        return None  # a file of the list's own repository or a placeholder, not a paper
    is_pdf = path.lower().endswith(".pdf")
    if host in _CODE_HOSTS and not is_pdf:
        return Reference(RefKind.CODE, href, None, None, piece)
    if host.endswith("arxiv.org") or host.endswith("shields.io"):
        return None
    if is_pdf or _paper_host(host):
        return Reference(RefKind.PAPER, href, None, None, piece)
    words = label_words(text)
    if words and words[0] in _PAPER_LABELS and host:  # "[[Paper]](…)", "[PDF1](…)"
        return Reference(RefKind.PAPER, href, None, None, piece)
    return None


def trim_url(url: str) -> str:
    """A bare URL without the sentence punctuation or unbalanced bracket that follows it."""
    url = url.rstrip(".,;:!?'\"")
    while (
        url
        and url[-1] in ")]}"
        and url.count(url[-1]) > url.count({")": "(", "]": "[", "}": "{"}[url[-1]])
    ):
        url = url[:-1].rstrip(".,;:!?'\"")
    return url


def _references_in_text(text: str, out: list[Reference]) -> None:
    """References written in text: bare URLs, ``arXiv:ID`` and ``10.48550/arXiv.ID``."""
    low = text.lower()
    if "arxiv" not in low and "http" not in low and "www." not in low and "10.48550" not in low:
        return
    spans: list[tuple[int, int]] = []
    for m in BARE_URL_RE.finditer(text) if may_hold_url(text) else ():
        url = trim_url(m.group(0))
        spans.append((m.start(), m.start() + len(url)))
        ref = classify_link(url, "", -1)
        if ref is not None:
            out.append(ref)
    if "arxiv" in low:
        for mention in find_arxiv_refs(text):
            if not any(s <= mention.start < e for s, e in spans):
                out.append(Reference(RefKind.ARXIV_TEXT, None, mention.ref, None, -1))


def references_in(pieces: Sequence[Piece]) -> list[Reference]:
    """Every reference of a block's pieces, in order (images are never references)."""
    out: list[Reference] = []
    for i, p in enumerate(pieces):
        if p.kind == "link":
            ref = classify_link(p.href, p.text, i)
            if ref is not None:
                out.append(ref)
            if ref is None or ref.kind == RefKind.CODE:
                _references_in_text(p.text, out)
        elif p.kind == "text":
            _references_in_text(p.text, out)
    return out
