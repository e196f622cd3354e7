"""Title, venue and year of a block, from the usual shapes lists write them in. Pure.

"Title. Venue 2023, [[pdf]](u)", "Title, Venue 2023", "**Title** (Venue'23)",
"[Title](u) - Venue 2024", "(Venue 2023) **Title**", "Authors, Title, Venue, Year.", a
"Publish" shields.io badge; a table's Venue column and "Venue: X" / "Year: 2023" sub-items
are read by ``entries`` with the helpers here.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import NamedTuple
from urllib.parse import unquote

from pipeline.lists.document import Piece, collapse_whitespace
from pipeline.lists.links import BARE_URL_RE, iter_label_words, may_hold_url

__all__ = [
    "Description",
    "VenueYear",
    "describe",
    "labelled_venue_year",
    "plausible_venue",
    "text_of",
    "title_like",
    "venue_year",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_GENERIC = _words(
    """
    pdf pdfs paper papers arxiv abs abstract link links url code codes github gitlab project
    projects page pages website homepage home site web demo demos video videos slides slide
    blog post here official html doi dataset datasets data model models weights checkpoint
    checkpoints ckpt huggingface hugging face hf colab notebook poster openreview bib bibtex
    cite citation supp supplementary supplemental appendix thesis book chapter report tech
    technical preprint pub publication article full talk youtube api leaderboard
    paperswithcode with semantic scholar google zhihu twitter tweet version extended
    unofficial implementation pytorch tensorflow jax source repo repository download more
    details news readme license star stars amazon manning microsoft from third party the a
    an and or of for to in on at by my our see view read available open access pwc v
    """
)
_URLISH_RE = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S*$", re.IGNORECASE)
_IDISH_RE = re.compile(
    r"(?:arxiv:?\s*)?(?:[0-9]{4}\.[0-9]{4,5}|[a-z-]+(?:\.[A-Z]{2})?/[0-9]{7})(?:v[0-9]+)?",
    re.IGNORECASE,
)
_SHORTCODE_RE = re.compile(r":[a-z0-9_+-]+:")
_LETTER_RE = re.compile(r"[^\W\d_]")
_EMOJI_TAG_RE = re.compile(r"\[[^\[\]]*\]\s*")
_QUOTES = {'"': '"', "\u201c": "\u201d", "'": "'", "\u2018": "\u2019", "«": "»", "[": "]"}


def _is_junk(ch: str) -> bool:
    """Leading/trailing decoration of a title: emoji, symbols, bullets, dashes."""
    if ch.isspace() or ch in "-\u2013\u2014•·*|>#~_:;,.":
        return True
    return unicodedata.category(ch) in ("So", "Sk", "Sm", "Cf", "Mn", "Co", "Cs")


def _clean_title(raw: str) -> str:
    s = collapse_whitespace(_SHORTCODE_RE.sub(" ", raw) if ":" in raw else raw)
    start, end = 0, len(s)
    while start < end and _is_junk(s[start]):
        start += 1
    while end > start and (_is_junk(s[end - 1]) and s[end - 1] not in ")]"):
        end -= 1
    s = s[start:end]
    tag = _EMOJI_TAG_RE.match(s) if s[:1] == "[" else None
    if tag and tag.end() < len(s) and any(unicodedata.category(c) == "So" for c in tag.group()):
        s = s[tag.end() :]  # "[💬 3D] Title", "[Extent Version👆] Title": a tag, not the title
    if (
        len(s) >= 2
        and s[0] in _QUOTES
        and s[-1] == _QUOTES[s[0]]
        and s.count(s[0]) == 1 + (s[0] == _QUOTES[s[0]])
    ):
        s = _clean_title(s[1:-1])
    return s


def _is_generic(text: str) -> bool:
    """Whether a link text is a label ("pdf", "[Paper]", "Code & Model"), not a title."""
    return len(text) <= 48 and _is_label(text)  # labels are a few words


# Link labels ("[pdf]", "Paper", "code") repeat on every line of a list: remembering the
# answers for short texts saves a sixth of the entry assembly time on a large list.
@functools.lru_cache(maxsize=4096)
def _is_label(text: str) -> bool:
    # A title's first word is seldom a label word: stop there, not after splitting it all.
    return all(w in _GENERIC for w in iter_label_words(text))


def title_like(raw: str) -> str | None:
    """The cleaned title when ``raw`` can be a title (not a label, URL, id or decoration)."""
    return _short_title_like(raw) if len(raw) <= 24 else _title_like(raw)


def _title_like(raw: str) -> str | None:
    s = _clean_title(raw)
    if len(s) < 2 or not _LETTER_RE.search(s):
        return None
    if _URLISH_RE.match(s) or _IDISH_RE.fullmatch(s) or _is_generic(s):
        return None
    return s


_short_title_like = functools.lru_cache(maxsize=4096)(_title_like)


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_SUFFIX_WORDS = (
    r"Workshops?|Findings|Datasets\s+and\s+Benchmarks(?:\s+Track)?|Oral|Spotlight|Poster|"
    r"Demos?|Track|Short|Long|Main|Conference|Proceedings|Special\s+Issue"
)
_VENUE_YEAR_RE = re.compile(
    rf"""
    (?P<venue>.*?)[\s,'\u2019(-]*
    (?:(?<![0-9])(?P<y4>(?:19|20)[0-9]{{2}})(?![0-9])|['\u2019](?P<y2>[0-9]{{2}})(?![0-9]))\)?
    (?P<suffix>(?:\s+(?:{_SUFFIX_WORDS}))*)
    (?:\s*\([^()]*\))?
    """,
    re.VERBOSE,
)
_DATE_RE = re.compile(
    rf"(?:[0-9]{{1,2}}\s+)?{_MONTH}\s+(?:[0-9]{{1,2}},?\s+)?(?P<y>(?:19|20)[0-9]{{2}})",
    re.IGNORECASE,
)
_VENUE_LABEL_RE = re.compile(
    r"(?:venue|conference|journal|publisher|published(?:\s+(?:in|at|by))?|publication|"
    r"accepted\s+(?:at|by|to|in)|proceedings)\s*[:\uff1a]\s*(?P<v>.+)",
    re.IGNORECASE,
)
_YEAR_LABEL_RE = re.compile(r"year\s*[:\uff1a]\s*(?P<y>(?:19|20)[0-9]{2})", re.IGNORECASE)
_VENUE_PREFIX_RE = re.compile(
    r"(?:(?:published|accepted|appeared|presented)\s+(?:in|at|by|to)|in|at)\s+", re.IGNORECASE
)
_NOT_VENUE_START = _words(
    """
    on by for from since until before after during of to and or as with the this that we our
    it is are was were
    """
)
_VENUE_HEAD_RE = re.compile(
    r"(?:Journal|Proceedings|Proc|Transactions|Trans|Annals|Bulletin|Communications|"
    r"Advances|International|IEEE|ACM)\b"
)
# Venues that may stand without a year ("*Authors.* arXiv.", "*Authors*. Preprint.").
_KNOWN_VENUES = _words(
    """
    arxiv preprint corr neurips nips icml iclr cvpr iccv eccv acl emnlp naacl coling eacl aaai
    ijcai kdd www sigir wsdm tpami tmlr jmlr tacl colm corl rss icra iros aistats uai nature
    science interspeech icassp miccai wacv bmvc siggraph tog tip ijcv blog
    """
) | {"arxiv preprint", "tech report", "technical report", "acm mm", "siggraph asia"}


def _two_digit_year(yy: str) -> int:
    # 00-69 -> 2000s, 70-99 -> 1900s: list venues with a two-digit year are recent.
    return (2000 if int(yy) < 70 else 1900) + int(yy)


def _arxiv_word(m: re.Match[str]) -> str:
    return "arXiv" if "/" not in m.group(0) else m.group(0)


def _clean_venue(raw: str) -> str | None:
    v = collapse_whitespace(_IDISH_RE.sub(_arxiv_word, raw) if "." in raw or "/" in raw else raw)
    if v[:1] in "IiAaPp" and (prefix := _VENUE_PREFIX_RE.match(v)):
        v = v[prefix.end() :]  # "In ICML", "Published in ..."
    v = v.strip(" ,;:-\u2013\u2014'\u2019(").strip()
    if v.endswith("(") or v.count("(") > v.count(")"):
        v = v.rstrip("( ")
    return v or None


def plausible_venue(v: str) -> bool:
    if len(v) > 120 or len(v.split()) > 12 or "://" in v or "et al" in v:
        return False
    first = v.split()[0]
    if first.lower() in _NOT_VENUE_START:
        return False
    c = v[0]
    return (
        c.isupper()
        or c.isdigit()
        or v[:5].lower() == "arxiv"
        or (len(v) > 1 and c.islower() and v[1].isupper())
    )


class VenueYear(NamedTuple):
    """A venue and a year as listed; either may be missing."""

    venue: str | None
    year: int | None


@functools.lru_cache(maxsize=4096)  # "NeurIPS 2023" and friends repeat on every other line
def venue_year(segment: str) -> VenueYear | None:
    """A "Venue Year" segment (or a bare year or date) -> venue and year, else None."""
    s = segment.strip(" \t,;:.[]")
    if s.startswith("(") and s.endswith(")") and s.count("(") == 1:
        s = s[1:-1].strip()
    if not s:
        return None
    if s[0].isdigit() and (date := _DATE_RE.fullmatch(s)):
        return VenueYear(None, int(date.group("y")))
    if s[0].isalpha() and s[1:4].islower() and (date := _DATE_RE.fullmatch(s)):
        return VenueYear(None, int(date.group("y")))
    m = _VENUE_YEAR_RE.fullmatch(s)
    if m is None:
        return None
    year = int(m.group("y4")) if m.group("y4") else _two_digit_year(m.group("y2"))
    raw = m.group("venue")
    if not raw.strip(" ,;:-'\u2019("):
        return VenueYear(None, year)
    venue = _clean_venue(raw + (m.group("suffix") or ""))
    if venue is None:
        return VenueYear(None, year)
    if not plausible_venue(venue) or venue.count("(") != venue.count(")"):
        return None
    return VenueYear(venue, year)


_TRAILING_PAREN_RE = re.compile(r"\s*\(([^()]*)\)$")
_SEPARATORS = (". ", ", ", "; ", "? ", "! ", " - ", " \u2013 ", " \u2014 ", " | ")
_TRAIL = " \t,;:-\u2013\u2014|"


def _last_sep(t: str, end: int) -> tuple[int, int] | None:
    """The last separator ("Title. Venue", "Title, Venue", "Title - Venue") before ``end``.

    ``t`` has single spaces. Returns where the separator starts and where the text after it
    starts; a "?" or "!" belongs to the title, so it starts after that.
    """
    best = -1
    width = 0
    for sep in _SEPARATORS:
        i = t.rfind(sep, 1, end)
        if i > best:
            best, width = i, len(sep)
    if best < 0:
        return None
    return (best + 1 if t[best] in "?!" else best), best + width


def _split_title_venue(text: str) -> tuple[str, VenueYear | None]:
    """Split "Title. Venue Year" (and the other usual shapes) into title and venue/year."""
    t = collapse_whitespace(text).strip(_TRAIL).rstrip(_TRAIL + "[(")
    if t.endswith(")") and (m := _TRAILING_PAREN_RE.search(t)):
        found = venue_year(m.group(1))
        if found is not None and found.year is not None:
            return t[: m.start()].rstrip(_TRAIL + "."), found
    last = _last_sep(t, len(t))
    if last is None:
        return t, None
    found = venue_year(t[last[1] :])
    if found is None:
        return t, None
    title = t[: last[0]]
    prev = _last_sep(t, last[0])
    if found.venue is not None:
        if prev is not None and t[last[0]] == ".":
            seg = t[prev[1] : last[0]]
            if _VENUE_HEAD_RE.match(seg) and plausible_venue(seg):
                # "Journal of the Royal Statistical Society. Series C (Applied Statistics)"
                return t[: prev[0]], VenueYear(f"{seg}. {found.venue}", found.year)
        return title, found
    # "Title, Venue, 2012" / "Title, ArXiv, 16 Oct 2015": the venue is the segment before.
    if prev is not None:
        segment_venue = _clean_venue(t[prev[1] : last[0]])
        if segment_venue and plausible_venue(segment_venue) and len(segment_venue.split()) <= 8:
            return t[: prev[0]], VenueYear(segment_venue, found.year)
    return title, found


_SEGMENT_SPLIT_RE = re.compile(r"[.;,|](?:\s+|$)|\s[-\u2013\u2014]\s|[()\[\]]|\s{2,}")
_ET_AL_RE = re.compile(r"\bet\.?\s*al\.?\s*")
_HAS_YEAR_RE = re.compile(r"(?:19|20)[0-9][0-9]|['\u2019][0-9][0-9]")
_ACRONYM_RE = re.compile(r"[A-Z][A-Za-z]*[A-Z][A-Za-z]*")


# What follows a linked or bold title is often the same few words line after line
# (" - NeurIPS 2021", " (CVPR'24)"): remembered, it costs a lookup, not a segmentation.
@functools.lru_cache(maxsize=4096)
def _find_venue_year(text: str) -> VenueYear | None:
    """The first venue/year in free text after a title ("*Authors*. NAACL 2019. [[pdf]]")."""
    if not text or text.isspace():
        return None
    if "//" in text or "www." in text:
        text = BARE_URL_RE.sub(" ", text)
    if "al" in text:
        text = _ET_AL_RE.sub("et al. ", text)
    segments = [s.strip() for s in _SEGMENT_SPLIT_RE.split(text)]
    segments = [s for s in segments if s]
    year_only: VenueYear | None = None
    for i, seg in enumerate(segments):
        if ":" in seg and (lab := _VENUE_LABEL_RE.fullmatch(seg)):
            return venue_year(lab.group("v")) or VenueYear(_clean_venue(lab.group("v")), None)
        if not _HAS_YEAR_RE.search(seg):
            continue
        found = venue_year(seg)
        if found is None:
            continue
        if found.venue is not None:
            return found
        prev = segments[i - 1] if i else ""
        if prev.lower() in _KNOWN_VENUES or _ACRONYM_RE.fullmatch(prev):
            return VenueYear(prev, found.year)
        year_only = year_only or found
    for seg in segments:
        if seg.lower() in _KNOWN_VENUES:
            return VenueYear(seg, year_only.year if year_only else None)
    return year_only


_NAME_STOP = _words(
    """
    deep learning neural network networks model models generative adversarial reinforcement
    language large image images vision visual training policy robot robots robotics control
    graph graphs data attention transformer transformers diffusion survey introduction
    review analysis theory towards toward efficient fast scalable learning-based algorithms
    algorithm optimization game games search systems system agent agents human feedback
    reward rewards text video speech audio knowledge multi-agent methods method approach
    framework
    """
)
_PARTICLES = _words(
    """
    van von de der den da del di la le du dos das bin al
    """
)


_TRAILING_ET_AL_RE = re.compile(r"\s+et\.?\s*al\.?$")
_LEADING_AND_RE = re.compile(r"^and\s+")
_AND_RE = re.compile(r"\s+and\s+|\s*&\s*")
_INITIALS_RE = re.compile(r"(?:[A-Z]\.){1,3}(?:-?[A-Z]\.)?")
_COMMA_RE = re.compile(r",\s*")
_ET_AL_ONLY_RE = re.compile(r"(?:and\s+)?(?:others|et\.?\s*al\.?)", re.IGNORECASE)


def _is_person(seg: str) -> bool:
    """Whether a comma-separated segment is one or more person names ("A. Smith and B. Li")."""
    seg = _TRAILING_ET_AL_RE.sub("", seg.strip())
    seg = _LEADING_AND_RE.sub("", seg)
    for part in _AND_RE.split(seg):
        tokens = part.split()
        if not 2 <= len(tokens) <= 5:
            return False
        for tok in tokens:
            if tok in _PARTICLES:
                continue
            if tok.lower() in _NAME_STOP:
                return False
            if _INITIALS_RE.fullmatch(tok):
                continue
            if not (tok[0].isupper() and tok[1:].replace("-", "").replace("'", "").isalpha()):
                return False
            if len(tok) > 1 and tok[1:].isupper():
                return False
    return True


def _strip_authors(title: str) -> str:
    """Drop the author names an "Authors, Title" entry opens with."""
    cut = 0
    for m in _COMMA_RE.finditer(title):
        seg = title[cut : m.start()]
        if not (_is_person(seg) or _ET_AL_ONLY_RE.fullmatch(seg.strip())):
            break
        cut = m.end()
    rest = title[cut:].strip()
    return rest if cut and len(rest.split()) >= 2 else title


_LEAD_VENUE_RE = re.compile(r"^[^\w(\[]*\((?P<venue_year>[^()]*[0-9]{2}[^()]*)\)")
_LEAD_PAREN_RE = re.compile(r"^[^\w(\[]*\((?P<inner>[^()]+)\)")
_LEAD_DATE_RE = re.compile(r"^[^\w(\[]*\[(?:19|20)[0-9]{2}(?:[/.-][0-9]{1,2}){0,2}\]")
_BADGE_DASH_RE = re.compile(r"(?<!-)-(?!-)")
_UP_TO_YEAR_RE = re.compile(r".*?(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])")
_BADGE_ALTS = frozenset(("publish", "published", "publication", "conference", "venue", "journal"))


def _badge_venue(pieces: Sequence[Piece]) -> VenueYear | None:
    for p in pieces:
        if p.kind == "image":
            src, alt = p.href, p.text
        elif p.kind == "link" and p.img:
            src, alt = p.img, p.alt
        else:
            continue
        k = src.find("shields.io/badge/")
        if k < 0:
            continue
        body = unquote(src[k + len("shields.io/badge/") :].split("?", 1)[0])
        parts = _BADGE_DASH_RE.split(body)
        if len(parts) < 2:
            continue
        label, message = (parts[0], "-".join(parts[1:-1])) if len(parts) >= 3 else ("", parts[0])
        message = message.replace("--", "-").replace("__", "\0").replace("_", " ")
        message = message.replace("\0", "_").strip()
        if alt.strip().lower() in _BADGE_ALTS or label.strip().lower() in _BADGE_ALTS | {
            "workshop"
        }:
            found = venue_year(message)
            if found is not None and found.venue is not None:
                return found
            if message and not any(ch.isdigit() for ch in message):
                return VenueYear(message, None)
    return None


class Description(NamedTuple):
    title: str
    venue: str | None
    year: int | None
    titled: bool
    """The title came from the entry's own structure (a link, bold text or leading text)."""


def text_of(pieces: Sequence[Piece], start: int = 0, end: int | None = None) -> str:
    out = []
    for p in pieces[start:end]:
        if p.kind == "text" or (p.kind == "link" and not _is_generic(p.text)):
            out.append(p.text)
        elif p.kind == "sep":
            out.append(" | ")
        else:
            out.append(" ")
    return "".join(out)


def _strong_run(pieces: Sequence[Piece]) -> tuple[str, int, int] | None:
    """The first bold text (joined across pieces) that can be a title: (title, start, end)."""
    i, n = 0, len(pieces)
    while i < n:
        if pieces[i].strong and pieces[i].kind in ("text", "link"):
            j, parts = i, []
            while j < n and pieces[j].strong and pieces[j].kind in ("text", "link"):
                parts.append(pieces[j].text)
                j += 1
            title = title_like("".join(parts))
            if title is not None:
                return title, i, j
            i = j
        else:
            i += 1
    return None


def _leading_text(pieces: Sequence[Piece]) -> tuple[str, int]:
    """Text before the first real link (badges and leading <br> skipped), and its end."""
    lead: list[str] = []
    for k, p in enumerate(pieces):
        if p.kind == "link" and not (p.img and not p.text.strip()):
            return "".join(lead), k
        if p.kind == "text" and may_hold_url(p.text) and (bare := BARE_URL_RE.search(p.text)):
            # A bare URL ends the lead as a link would: "Title. Venue 2023, https://..."
            lead.append(p.text[: bare.start()])
            return "".join(lead), k + 1
        if p.kind == "text" or p.kind == "code":
            lead.append(p.text)
        elif p.kind == "sep" and "".join(lead).strip():
            return "".join(lead), k
    return "".join(lead), len(pieces)


def _lead_venue(text: str, bare: bool) -> VenueYear | None:
    """The "(Venue Year)" an entry opens with; ``bare`` also takes "(Venue)" without a year."""
    m = _LEAD_PAREN_RE.match(text)
    if m is None:
        return None
    inner = m.group("inner")
    found = venue_year(inner)
    if found is not None:
        return found
    head = _UP_TO_YEAR_RE.match(inner)
    if head is not None and (found := venue_year(head.group(0))) is not None:
        # "(CVPR 2021 AI for Content Creation Workshop)", "(SIGGRAPH Asia 2023 & TOG)"
        return found
    venue = _clean_venue(inner) if bare else None
    if venue and plausible_venue(venue) and len(venue.split()) <= 10:
        return VenueYear(venue, None)
    return None


def describe(pieces: Sequence[Piece], paper_piece: int) -> Description:
    """Title, venue and year of one unit's own pieces.

    The title is, in order: the paper link's text; the first bold text; the text before the
    first link ("Title. Venue 2023, [[pdf]](...)", "Authors, Title, Venue, Year."); the first
    link with a title-like text; failing all, the unit's whole text (``titled`` False).
    """
    title: str | None = None
    split: VenueYear | None = None
    start = end = 0
    from_strong = False
    link_title = title_like(pieces[paper_piece].text) if paper_piece >= 0 else None
    if link_title is not None:
        title, split = _split_title_venue(link_title)
        title, start, end = _clean_title(title), paper_piece, paper_piece + 1
        # "Authors, Book Title [[Summary]](pdf)": a fuller title before the first link wins.
        text, k = _leading_text(pieces)
        if k <= paper_piece and text.strip():
            text = _LEAD_DATE_RE.sub("", _LEAD_VENUE_RE.sub("", text, count=1), count=1)
            head, lead_split = _split_title_venue(text)
            lead = title_like(_strip_authors(head))
            if lead is not None and len(lead) > len(title):
                title, split, start, end = lead, lead_split, 0, k
    elif (run := _strong_run(pieces)) is not None:
        title, start, end = run
        from_strong = True
    else:
        text, k = _leading_text(pieces)
        text = _LEAD_DATE_RE.sub("", _LEAD_VENUE_RE.sub("", text, count=1), count=1)
        head, split = _split_title_venue(text)
        if (t := title_like(_strip_authors(head))) is not None:
            title, end = t, k
        else:
            split = None
            for i, p in enumerate(pieces):
                if p.kind == "link" and (t := title_like(p.text)) is not None:
                    title, split = _split_title_venue(t)
                    title, start, end = _clean_title(title), i, i + 1
                    break
    titled = title is not None
    if title is None:
        text = text_of(pieces).replace(" | ", " ").strip()
        text = _LEAD_DATE_RE.sub("", _LEAD_VENUE_RE.sub("", text, count=1), count=1)
        head, split = _split_title_venue(text)
        title = _clean_title(_strip_authors(head))
        end = len(pieces)
    found = split if split is not None and (split.venue or split.year) else None
    if found is None:
        found = _lead_venue(text_of(pieces, 0, start), from_strong)
    if found is None:
        found = _badge_venue(pieces)
    if found is None:
        found = _find_venue_year(text_of(pieces, end))
    if found is None:
        return Description(title, None, None, titled)
    return Description(title, found.venue, found.year, titled)


def labelled_venue_year(texts: Iterable[str]) -> VenueYear | None:
    """Venue and year from labelled lines ("Venue: X", "Year: 2023"), first of each wins."""
    venue: str | None = None
    year: int | None = None
    for text in texts:
        if venue is None and (m := _VENUE_LABEL_RE.fullmatch(text)):
            found = venue_year(m.group("v"))
            if found is not None and found.venue is not None:
                venue, year = found.venue, year or found.year
            else:
                venue = collapse_whitespace(m.group("v"))
        elif year is None and (y := _YEAR_LABEL_RE.fullmatch(text)):
            year = int(y.group("y"))
    return VenueYear(venue, year) if venue or year else None
