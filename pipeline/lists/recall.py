"""The recall floor: every arXiv id a list names ends up in an entry or in an exclusion. Pure.

Readers and entry assembly work from structure (items, rows, records), and a list in a
shape they do not know would lose papers silently. So after them an independent pass reads
the raw text for arXiv ids (links, link text, ``arXiv:ID``, bare URLs, ``10.48550/arXiv.``
DOIs, bare ``arxiv.org/ID`` links) and reconciles them with the entries. An id no entry took
either becomes an entry built from the nearest text (the heading, the line, a ``title=``
attribute), flagged in ``ListEntry.built_from`` so the run reports a ``structure`` finding,
or is recorded as an ``Exclusion`` with its reason (a code block such as a "cite us"
BibTeX, an HTML comment, an image source, a second id on a line that already holds an
entry). ``pipeline parse --explain`` prints both.

Entries are keyed by (list, line), so a line holds at most one entry; that is why a second
id on an entry's line is an exclusion and not a second entry.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import NamedTuple

from pipeline.arxiv_ids import ArxivRef, find_arxiv_refs, normalize_id
from pipeline.lists.document import Piece, collapse_whitespace, plain_text
from pipeline.lists.fields import VenueYear, describe, title_like, venue_year
from pipeline.lists.links import BARE_ID_URL_RE, BARE_URL_RE, bare_id_url, classify_link
from pipeline.lists.markdown import inline_pieces
from pipeline.models import ListEntry

__all__ = [
    "BUILT_FROM_HEADING",
    "BUILT_FROM_TEXT",
    "Exclusion",
    "Mention",
    "ParsedList",
    "find_mentions",
    "reconcile",
]

BUILT_FROM_HEADING = "entry built from a heading"
BUILT_FROM_TEXT = "id found in text only"


class Exclusion(NamedTuple):
    """An arXiv id the list names that is deliberately not an entry, and why."""

    list: str
    line: int
    arxiv_id: str
    reason: str


class ParsedList(NamedTuple):
    """A list's entries (document order) and the ids it names that are not entries."""

    entries: list[ListEntry]
    exclusions: list[Exclusion]


class Mention(NamedTuple):
    """One arXiv id written somewhere in a list's text."""

    ref: ArxivRef
    start: int
    end: int


def find_mentions(text: str) -> list[Mention]:
    """Every arXiv id the text names, in order: ``find_arxiv_refs`` plus bare
    ``arxiv.org/ID`` links, which arXiv redirects to the paper."""
    found = [Mention(m.ref, m.start, m.end) for m in find_arxiv_refs(text)]
    if "arxiv.org/" in text.lower():
        starts = {m.start for m in found}
        for m in BARE_ID_URL_RE.finditer(text):
            if m.start() in starts:
                continue
            try:
                found.append(Mention(normalize_id(m.group("id")), m.start(), m.end()))
            except ValueError:
                continue
        found.sort(key=lambda m: m.start)
    return found


_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[^\n]*$|\Z)", re.M | re.S)
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_IMAGE_BEFORE_RE = re.compile(r"""(?:!\[[^\]]*\]\(\s*<?|\bsrc\s*=\s*["']?)$""", re.I)
_ATX_RE = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_HTML_HEADING_RE = re.compile(r"<h[1-6]\b", re.I)
_UNDERLINE_RE = re.compile(r"^\s*([=\-~^\"'`#*+])\1{2,}\s*$")
_TITLE_ATTR_RE = re.compile(r"""\btitle\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_LEAD_TAG_RE = re.compile(r"^\s*[\[(]([^\])]{2,40})[\])]\s*")
_LABEL_WORDS = frozenset(
    [
        "code",
        "paper",
        "pdf",
        "project",
        "page",
        "video",
        "website",
        "arxiv",
        "demo",
        "slides",
        "poster",
        "supp",
        "data",
        "survey",
        "here",
        "link",
        "this",
    ]
)
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_LEAD_NUMBER_RE = re.compile(r"^\s*\d{1,4}[.)]\s+")
_LEAD_MARKS_RE = re.compile(r"^[\s>*+\-\u2022\u25cf\u25aa\u2023]*(?:\d{1,4}[.)]\s+)?")


class _Lines:
    """Offsets -> 1-based line numbers and line text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def number(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def line(self, number: int) -> str:
        if not 1 <= number <= len(self.starts):
            return ""
        start = self.starts[number - 1]
        end = self.starts[number] - 1 if number < len(self.starts) else len(self.text)
        return self.text[start:end]


def _spans(text: str, markup: bool) -> list[tuple[int, int, str]]:
    """Stretches of text whose ids are not entries: code blocks and HTML comments."""
    if not markup:
        return []
    spans = (
        [
            (m.start(), m.end(), "inside a code block (a citation or example)")
            for m in _FENCE_RE.finditer(text)
        ]
        if "```" in text or "~~~" in text
        else []
    )
    if "<!--" in text:
        spans += [
            (m.start(), m.end(), "inside an HTML comment") for m in _COMMENT_RE.finditer(text)
        ]
    return spans


def _heading_text(lines: _Lines, number: int) -> str | None:
    """The heading text when line ``number`` is a heading (ATX, HTML or underlined)."""
    line = lines.line(number)
    if m := _ATX_RE.match(line):
        return m.group(2)
    if _HTML_HEADING_RE.search(line):
        return line
    if line.strip() and _UNDERLINE_RE.match(lines.line(number + 1)):
        return line
    return None


class _Draft(NamedTuple):
    title: str
    venue: str | None
    year: int | None
    url: str | None


_ID_TEXT_RE = re.compile(r"^\W*(?:arxiv[:\s]*)?\d{4}\.\d{4,5}(?:v\d+)?\W*$", re.I)


def _is_label(text: str) -> bool:
    """Link text that names no paper: an id, "PDF", "[Code]", an empty image link."""
    words = re.findall(r"[a-z]+", text.lower())
    return bool(_ID_TEXT_RE.match(text)) or all(w in _LABEL_WORDS for w in words)


def _split_lead(content: str) -> tuple[str, VenueYear | None]:
    """ "[ICCV 2019] Title ..." -> ("Title ...", ICCV 2019)."""
    tag = _LEAD_TAG_RE.match(content)
    if tag is None:
        return content, None
    lead = venue_year(tag.group(1))
    if lead is None or not (lead.venue or lead.year):
        # "[2021 BMVC]": the year first
        year = _YEAR_RE.search(tag.group(1))
        if year is None:
            return content, None
        venue = tag.group(1).replace(year.group(0), " ").strip(" ,'-")
        lead = VenueYear(venue or None, int(year.group(0)))
    return content[tag.end() :], lead


def _from_line(line: str, mention: str, ref: ArxivRef) -> _Draft | None:
    """Title, venue and year from the line naming the id, read as a list item would be."""
    content, lead = _split_lead(_LEAD_MARKS_RE.sub("", line.strip(), count=1))
    pieces: list[Piece] = []
    paper, url = -1, None
    for p in inline_pieces(content):
        if p.kind == "link" and _is_label(p.text):
            # "[\\[arXiv:2206.07117\\]](...)", "[PDF](...)": labels, never the title
            url = url or (p.href if ref.arxiv_id in p.href else None)
            continue
        if p.kind == "link" and ref.arxiv_id in p.href and paper < 0:
            paper, url = len(pieces), p.href
        pieces.append(p)
    if url is None:
        url = next((u for u in BARE_URL_RE.findall(line) if ref.arxiv_id in u), None)
        url = url.rstrip(".,;:)]}>'\"") if url else None
    found = describe(pieces, paper)
    title = found.title if found.titled else None
    if paper >= 0 and (linked := title_like(pieces[paper].text)) is not None:
        title = linked  # in running text, the words linked to the paper are its title
    words = title.lower().split() if title else []
    if words and words[0].strip("[]()") in _LABEL_WORDS and len(words) <= 4:
        title = None  # "[Code (not yet)](...)": a label, not this paper's title
    elif any(
        p.kind == "link" and i != paper and title and title in p.text for i, p in enumerate(pieces)
    ):
        title = None  # the text of another link ("Short Presentation"), not this paper's
    at = line.find(mention)
    tag_start, tag_end = line.rfind("<", 0, max(at, 0)), line.find(">", max(at, 0))
    attr = _TITLE_ATTR_RE.search(line[tag_start:tag_end]) if 0 <= tag_start < at < tag_end else None
    if attr is not None:
        title = title_like(attr.group(1) or attr.group(2) or "") or title
    if title is None:
        return None
    venue, year = found.venue, found.year
    if lead is not None and venue is None and year is None:
        venue, year = lead.venue, lead.year
    return _Draft(title, venue, year, url)


def _plain(line: str) -> str:
    text = plain_text(inline_pieces(_LEAD_MARKS_RE.sub("", line.strip(), count=1)))
    return collapse_whitespace(BARE_URL_RE.sub(" ", text))


def _nearest_title(
    lines: _Lines, number: int, limit: int = 12
) -> tuple[str, int, VenueYear | None] | None:
    """The nearest heading or titled line above ``number``: (title, its line when it is a
    heading, else 0)."""
    for k in range(number - 1, max(0, number - 1 - limit), -1):
        if (heading := _heading_text(lines, k)) is not None:
            text, lead = _split_lead(_plain(_LEAD_NUMBER_RE.sub("", heading, count=1)))
            title = title_like(text)
            return (title, k, lead) if title else None
        line = lines.line(k)
        if classify_link_in(line):
            return None  # the nearest text belongs to another paper
        if len(line) > 300 or line.lstrip().startswith(("<", "_", "*Author", "**Author")):
            continue  # an abstract, markup, an author line: not a title
        title = title_like(_plain(line)) if line.strip() else None
        if title is not None:
            return title, 0, None
    return None


def classify_link_in(line: str) -> bool:
    """The line links a paper itself (another entry's text, not a title for this one)."""
    return any(
        (r := classify_link(u, "", -1)) is not None and r.arxiv is not None
        for u in BARE_URL_RE.findall(line)
    ) or any(bare_id_url(u) for u in BARE_URL_RE.findall(line))


def _build(
    lines: _Lines, number: int, mention: Mention, list_name: str, section: Callable[[int], str]
) -> ListEntry | None:
    """An entry for ``mention`` on line ``number``; ``section`` gives the section at a line."""
    where = number
    line = lines.line(number)
    raw = lines.text[mention.start : mention.end]
    heading = _heading_text(lines, number)
    draft = _from_line(heading if heading is not None else line, raw, mention.ref)
    built_from = BUILT_FROM_HEADING if heading is not None else BUILT_FROM_TEXT
    if draft is None:
        near = _nearest_title(lines, number)
        if near is None:
            title = title_like(_plain(line))
            if title is None:
                return None
            draft = _Draft(title, None, None, None)
        else:
            lead = near[2]
            draft = _Draft(near[0], lead.venue if lead else None, lead.year if lead else None, None)
            built_from = BUILT_FROM_HEADING if near[1] else BUILT_FROM_TEXT
            where = near[1] or number  # the section is what is above the title heading
    url = draft.url
    if url is None:
        url = raw if "/" in raw else None  # "arXiv:ID" in text: no link, as entries say
    ref = mention.ref
    link = classify_link(url, "", -1) if url is not None else None
    if link is not None and link.arxiv is not None and link.arxiv.arxiv_id == ref.arxiv_id:
        ref = link.arxiv  # the version the entry's link names
    else:
        url = None  # not a link the entry reader would take for this paper: the id stands alone
    return ListEntry(
        list=list_name,
        line=number,
        section=section(where),
        title=draft.title,
        venue=draft.venue,
        year=draft.year,
        url=url,
        arxiv_id=ref.arxiv_id,
        arxiv_version=ref.version,
        built_from=built_from,
    )


class _Headings:
    """The Markdown heading path at any line (``#`` headings; the document title left out)."""

    def __init__(self, lines: _Lines) -> None:
        self.at: list[int] = []
        self.first_section = 0
        """The line of the first heading below the document title (0: none)."""
        self.paths: list[tuple[str, ...]] = []
        path: list[tuple[int, str]] = []
        for number in range(1, len(lines.starts) + 1):
            line = lines.line(number)
            if line.startswith((" ", "#")) and (m := _ATX_RE.match(line)):
                level = len(m.group(1))
                while path and path[-1][0] >= level:
                    path.pop()
                path.append((level, _plain(m.group(2))))
                self.at.append(number)
                if level >= 2 and not self.first_section:
                    self.first_section = number
                self.paths.append(tuple(t for _, t in path))
        titled = len(self.paths) > 0 and len(self.paths[0]) == 1
        self.skip = 1 if titled and sum(1 for p in self.paths if len(p) == 1) == 1 else 0

    def section(self, number: int) -> str | None:
        """The path of the headings above ``number`` (when ``number`` is a heading, the
        headings it is under); None when the text has none."""
        if not self.at:
            return None
        k = bisect.bisect_left(self.at, number)
        if k < len(self.at) and self.at[k] == number:
            return " / ".join(self.paths[k][self.skip : -1])
        return " / ".join(self.paths[k - 1][self.skip :]) if k > 0 else ""


def _section_at(
    entries: Sequence[ListEntry], lines_of: list[int], number: int, headings: _Headings
) -> str:
    """The heading path above ``number``, else the section of the entry just before it."""
    section = headings.section(number)
    if section is not None:
        return section
    k = bisect.bisect_right(lines_of, number) - 1
    return entries[k].section if k >= 0 else ""


_NEW_SHAPE_RE = re.compile(r"\d{4}\.\d{4,5}(?!\d)", re.ASCII)
_OLD_NUMBER_RE = re.compile(r"/\d{7}(?!\d)", re.ASCII)
_OLD_SHAPE_RE = re.compile(r"([a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z-]+)?/(\d{7})(?!\d)", re.ASCII)


def _all_taken(text: str, taken: set[str]) -> bool:
    """Every string shaped like an arXiv id is an entry's id already: nothing to reconcile.

    A superset of what ``find_mentions`` finds, at regex speed (a tenth of a second on a
    10 MB list, where finding and validating each mention takes over a second); any
    string it cannot account for sends the text through the full pass.
    """
    if not taken.issuperset(_NEW_SHAPE_RE.findall(text)):
        return False
    if _OLD_NUMBER_RE.search(text):  # a literal "/" first: the full pattern is slow
        return all(f"{a}/{n}" in taken for a, n in _OLD_SHAPE_RE.findall(text))
    return True


def reconcile(
    text: str, entries: list[ListEntry], list_name: str, *, markup: bool = True
) -> ParsedList:
    """``entries`` plus an entry for every id they miss, or an exclusion saying why not.

    ``markup`` says the text is Markdown-like (code blocks and HTML comments mean something).
    """
    taken = {e.arxiv_id for e in entries if e.arxiv_id}
    lines = _Lines(text)
    if markup and any("://" in e.title for e in entries):
        entries = _titled_from_above(lines, entries)
    if _all_taken(text, taken):
        return ParsedList(entries, [])
    mentions = find_mentions(text)
    spans = _spans(text, markup)
    by_line = {e.line: e for e in entries}
    lines_of = [e.line for e in entries]
    headings = _Headings(lines) if markup else _Headings(_Lines(""))
    # Prose above the first section and the first entry is the list introducing itself.
    intro_end = min(headings.first_section or 1, lines_of[0]) if lines_of else 1
    pending: dict[str, list[Mention]] = {}
    for m in mentions:
        if m.ref.arxiv_id not in taken:
            pending.setdefault(m.ref.arxiv_id, []).append(m)
    built: list[ListEntry] = []
    exclusions: list[Exclusion] = []
    for arxiv_id, found in pending.items():
        first_reason: tuple[int, str] | None = None
        for m in found:
            number = lines.number(m.start)
            reason = _excluded(text, lines, m, number, spans, by_line)
            if reason is None and number < intro_end and _heading_text(lines, number) is None:
                reason = (
                    "in the list's introduction, before its first section and entry (the "
                    "list's own paper, a 'cite us' pointer)"
                )
            if reason is None and not markup:
                reason = _inside_record(entries, lines_of, number)
            if reason is None:
                entry = _build(
                    lines,
                    number,
                    m,
                    list_name,
                    lambda at: _section_at(entries, lines_of, at, headings),
                )
                if entry is not None:
                    built.append(entry)
                    by_line[number] = entry
                    break
                reason = "no text near it to title an entry with"
            if first_reason is None:
                first_reason = (number, reason)
        else:
            if first_reason is not None:
                exclusions.append(Exclusion(list_name, first_reason[0], arxiv_id, first_reason[1]))
    if not built:
        return ParsedList(entries, exclusions)
    merged = sorted([*entries, *built], key=lambda e: e.line)
    return ParsedList(merged, sorted(exclusions, key=lambda x: x.line))


def _titled_from_above(lines: _Lines, entries: list[ListEntry]) -> list[ListEntry]:
    """Items that are only a bare URL ("**Title**" then "- https://arxiv.org/abs/..."),
    titled by the nearest text above them."""
    out = []
    for e in entries:
        if "://" in e.title and (near := _nearest_title(lines, e.line, limit=4)) is not None:
            e = replace(e, title=near[0])
        out.append(e)
    return out


def _inside_record(entries: Sequence[ListEntry], lines_of: list[int], number: int) -> str | None:
    """In a data file (JSON, YAML, CSV, BibTeX) an id inside another record's text (its
    abstract, its notes) is that record's business, not an entry of its own."""
    k = bisect.bisect_right(lines_of, number) - 1
    if k < 0:
        return None
    holder = entries[k]
    return f"mentioned inside the record at line {holder.line} ({holder.arxiv_id or holder.title})"


def _excluded(
    text: str,
    lines: _Lines,
    m: Mention,
    number: int,
    spans: list[tuple[int, int, str]],
    by_line: dict[int, ListEntry],
) -> str | None:
    """Why this mention of an id makes no entry (None: it should make one)."""
    for start, end, reason in spans:
        if start <= m.start < end:
            return reason
    line_start = lines.starts[number - 1]
    if _IMAGE_BEFORE_RE.search(text[max(line_start, m.start - 300) : m.start]):
        return "the source of an image (a figure or badge), not a link"
    holder = by_line.get(number)
    if holder is not None:
        paper = holder.arxiv_id or holder.url or holder.title
        return f"a further arXiv id on line {number}, whose entry is {paper}"
    return None
