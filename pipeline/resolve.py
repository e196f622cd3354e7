"""Resolve stage: find arXiv papers for entries the list does not link, by title; and check
that a linked paper carries the listed title.

Pure core: ``normalize_title`` -> ``title_similarity`` -> ``check_link`` and the ranking of
candidates; ``title_queries`` builds the search strings. One edge, ``resolve_titles``, asks
arXiv through ``ArxivApi.feed`` (cached, rate-limited, retried like every request).

Searching happens in two rounds, both batched (several titles OR-ed into one request):

1. ``ti:"phrase"`` of each title. arXiv matches a phrase on words (stemmed, stop words
   ignored, punctuation dropped), so case and punctuation variants and an arXiv subtitle the
   list left out are all found, and a phrase is selective enough that a batch rarely fills
   its page.
2. Only for titles still without an acceptable match: ``ti:(w1 AND w2 ...)`` over the
   content words of the main title (before a ``:``), or of the whole title when the main
   one is too short to be selective. This finds titles whose words were reordered, or whose
   list version carries a subtitle arXiv does not. (Real arXiv accepts explicit operators
   inside a field group; a bare space there would mean OR.)

Answers are split back per title by scoring every returned paper against every title of its
batch (not by re-running the query locally: arXiv stems and tokenises in ways we cannot
reproduce exactly). The thresholds are justified by real title pairs in
``tests/fixtures/titles/pairs.tsv`` (see ``tests/unit/test_resolve_titles.py``).
"""

from __future__ import annotations

import functools
import html
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote_plus, urlencode

from rapidfuzz import fuzz

from pipeline.models import ListEntry, Paper
from pipeline.services.arxiv import ArxivApi
from pipeline.titles import latex_to_text

log = logging.getLogger(__name__)

ACCEPT_SCORE = 90.0
"""A title search result is taken as the entry's paper only at or above this similarity.

Evidence (``tests/fixtures/titles/pairs.tsv``, real titles from the corpus lists): the same
paper listed with case, punctuation, Unicode-space or dash differences scores 100, with a
subtitle on one side only 95. The closest *different* papers among the corpus's 839
distinct titles score 82-85 ("High-Resolution Image Synthesis with Latent Diffusion Models"
vs "Align your Latents: High-Resolution Video Synthesis with Latent Diffusion Models": 85),
and the near miss of the issue ("Individual Choice Behavior" vs "... of LLM Agents") 78.8.
90 sits in that gap. A title below it stays unresolved with its best candidate kept for
review: the cheap failure, where a wrong id would be the expensive one.
"""

MISMATCH_BELOW = 65.0
"""A linked paper whose title scores below this against the listed title is flagged.

Lower than ``ACCEPT_SCORE`` because the list already names the id: only a clearly
different title is evidence of a wrong link. Evidence (``pairs.tsv``): the five real wrong
links (one id listed for two papers: awesome-RLHF 2503.00897, the alignment list
2501.06655, Face-Editing 1912.04958, LLM-Agent 2305.16291, Text-to-Image 2306.02236) score
33-44; the lowest same-paper pair, a new subtitle between versions ("MaxMin-RLHF:
Alignment with Diverse Human Preferences" vs "MaxMin-RLHF: Towards equitable alignment of
..."), 70.7. Of the 86,419 pairs of different papers within one corpus list (what a
copy-paste slip links to), 99.6 % score below 65. Papers rewritten on arXiv (SPO
2406.04314: 47.8) are flagged, which a reviewer wants to see anyway.
"""

SUBTITLE_PENALTY = 5.0
"""Subtracted when only one side has a subtitle and the other matches one part of it.

Lists drop subtitles ("ImageReward" for "ImageReward: Learning and Evaluating ...") and
versions drop main titles ("Human Preference Score: Better Aligning ..." listed as
"Better Aligning ..."); such a match scores 95, above ``ACCEPT_SCORE`` but below an exact
match, so among several candidates the one with the listed subtitle wins.
"""

MIN_TITLE_WORDS = 3
"""Titles with fewer words are not searched.

One or two words ("T5", "OPT", "Diffusion Models") name a model or a field, not a paper:
arXiv returns hundreds of titles containing them and the best scoring one is a guess.
"""

TIE_MARGIN = 2.0
"""Candidates within this many points of the best are indistinguishable by title alone
(a hyphen or a plural costs 1-2 points); the listed year decides between them."""

YEAR_TOLERANCE = 1
"""A paper's first version may precede or follow the listed (venue) year by this much."""

MAX_YEARS_AFTER = 2
"""A title match posted more than this many years after the listed year is not taken.

A preprint can precede its venue by years, but a paper appearing on arXiv long after it was
published is a different paper reusing the title (a 2024 "Individual Choice Behavior" is
not Luce's 1959 book) or, rarely, a late upload; either way a reviewer decides.
"""

MAX_QUERY_LEN = 1500
"""Default budget, in URL-encoded characters, of one ``search_query``.

``ArxivApi`` switches to POST past 4000 characters and arXiv answers 414 near 8000; 1500
keeps every title search an ordinary, cacheable GET with room to spare.
"""

MAX_TITLES_PER_QUERY = 10
"""Titles per request: with 50 results per answer each title still has 5 places."""

MAX_QUERY_WORDS = 12
"""Words of a title put into its query: a prefix phrase still matches, and a list title
with a venue or note appended past this point does not spoil the search."""

QueryStyle = Literal["phrase", "words"]

# Words arXiv's search ignores; dropping them keeps AND-of-words queries valid and short.
# fmt: off
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
})
# fmt: on
_SUBTITLE = re.compile(r"\s*(?::|\s[-\u2010-\u2015\u2212]{1,3}\s)\s*")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d]")
_APOSTROPHES = re.compile(r"['\u2018\u2019\u201b\u02bc\u0060\u00b4]")
_NON_WORD = re.compile(r"[\W_]+")
_LATEX_OR_ENTITY = re.compile(r"[&\\${}~%_^]")
"""Characters that may start LaTeX or an HTML entity: a title without them needs no pass
but lower-casing (``_plain``)."""
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")
_GREEK_NAME = re.compile(r"GREEK (?:SMALL|CAPITAL) LETTER ([A-Z]+)")


# -- normalisation and similarity (pure) ---------------------------------------------------


def _delatex(text: str) -> str:
    return latex_to_text(text)


def _greek_name(char: str) -> str:
    # "GREEK SMALL LETTER ALPHA" -> " alpha ": arXiv writes $\alpha$, lists paste the letter.
    match = _GREEK_NAME.fullmatch(unicodedata.name(char, ""))
    return f" {match[1].lower()} " if match else char


def _plain(text: str) -> str:
    """Case-folded, LaTeX, entities and Unicode variants removed; punctuation kept."""
    if text.isascii() and not _LATEX_OR_ENTITY.search(text):
        # Most titles are plain ASCII: none of the passes below would change anything.
        return text.lower()
    text = unicodedata.normalize("NFKC", _delatex(html.unescape(text))).casefold()
    # NFKD then dropping combining marks folds accents: Schrödinger == Schr\"odinger. Case
    # is folded first, since folding can add a mark (U+0130 -> i + U+0307).
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = "".join(_greek_name(c) if "\u0370" <= c <= "\u03ff" else c for c in text)
    return _DASHES.sub("-", text)


def _plain_with_words(text: str) -> bool:
    """True when ``text`` is plain ASCII (``_plain`` only lower-cases it) with a letter or
    digit, so that ``normalize_title(text)`` is not empty: a cheap sufficient test."""
    return text.isascii() and not _LATEX_OR_ENTITY.search(text) and bool(_ASCII_WORD.search(text))


def _words_of(plain: str) -> str:
    text = _APOSTROPHES.sub("", plain).replace("&", " and ")
    return " ".join(_NON_WORD.split(text)).strip()


@functools.lru_cache(maxsize=65536)
def normalize_title(text: str) -> str:
    """A title reduced to lower-case ASCII-folded words separated by single spaces.

    LaTeX is rendered (``$\\alpha$`` -> alpha, ``Schr\\"odinger`` -> schrodinger), HTML
    entities decoded, Unicode compatibility forms folded (no-break and narrow spaces, the
    U+2011 hyphen, ligatures), Greek letters spelled out, accents dropped, apostrophes
    removed (``don't`` -> dont) and every other punctuation mark turned into a space, so a
    hyphenated word and its spaced form agree (``text-to-image`` -> ``text to image``).
    """
    return _words_of(_plain(text))


def _split_subtitle(text: str) -> tuple[str, str] | None:
    """(main title, subtitle) normalised, when the title has both."""
    return _split_plain(_plain(text))


def _split_plain(plain: str) -> tuple[str, str] | None:
    parts = _SUBTITLE.split(plain, maxsplit=1)
    if len(parts) < 2:
        return None
    head, tail = _words_of(parts[0]), _words_of(parts[1])
    return (head, tail) if head and tail else None


def title_similarity(listed: str, arxiv_title: str) -> float:
    """How alike two titles are, 0-100, after ``normalize_title``.

    Character-level ``fuzz.ratio``, not ``token_set_ratio``: a token set scores a title
    that merely contains the other at 100 ("Individual Choice Behavior" within "Individual
    Choice Behavior of LLM Agents"), which is exactly the near miss to reject; ``ratio``
    charges every added character (78 there). A subtitle on one side only is the common
    legitimate difference, so when exactly one title has a subtitle, the other is also
    compared with its main title and with its subtitle alone (lists drop either), less
    ``SUBTITLE_PENALTY``. When both have subtitles, the whole titles are compared.
    """
    # The usual cases first, with one normalisation per title and no subtitle split: lists
    # paste arXiv's title, and equal normalised titles score 100 whatever their subtitles.
    a = normalize_title(listed)
    if listed == arxiv_title:
        return 100.0 if a else 0.0
    b = normalize_title(arxiv_title)
    if not a or not b:
        return 0.0
    if a == b:
        return 100.0
    split_a, split_b = _split_subtitle(listed), _split_subtitle(arxiv_title)
    score = float(fuzz.ratio(a, b))
    pairs = [(a, split_b)] if split_a is None and split_b else []
    pairs += [(b, split_a)] if split_b is None and split_a else []
    for whole, parts in pairs:
        # Twice as strict inside a part: "High-Resolution Image Synthesis with Latent
        # Diffusion Models" is one word away from the subtitle of "Align your Latents:
        # High-Resolution Video Synthesis ...", a different paper.
        part_ratio = max(fuzz.ratio(whole, part) for part in parts)
        score = max(score, 100.0 - 2 * (100.0 - part_ratio) - SUBTITLE_PENALTY)
    return round(score, 1)


@dataclass(frozen=True)
class LinkCheck:
    """Whether a linked paper carries the title the list gives it."""

    title_similarity: float
    """``title_similarity(listed, arXiv's title)``, 0-100."""
    title_mismatch: bool
    """The similarity is below ``MISMATCH_BELOW``: the link likely points at another paper."""


def check_link(listed_title: str, paper_title: str) -> LinkCheck:
    """Compare a listed title with the linked paper's title on arXiv (pure).

    An entry listed without a title (a bare link) has nothing to compare: similarity 0 but
    no mismatch, since a missing title is no evidence of a wrong link.
    """
    if listed_title == paper_title and _plain_with_words(listed_title):
        # The usual case, a list that pastes arXiv's title, without normalising it: a large
        # cold run compares 100,000 titles, more than normalize_title's cache holds.
        return LinkCheck(title_similarity=100.0, title_mismatch=False)
    if not normalize_title(listed_title):
        return LinkCheck(title_similarity=0.0, title_mismatch=False)
    score = title_similarity(listed_title, paper_title)
    return LinkCheck(title_similarity=score, title_mismatch=score < MISMATCH_BELOW)


# -- query building (pure) -----------------------------------------------------------------


def searchable(title: str) -> bool:
    """Whether a title is worth a search: at least ``MIN_TITLE_WORDS`` words."""
    return len(normalize_title(title).split()) >= MIN_TITLE_WORDS


def _ascii_words(text: str) -> list[str]:
    # arXiv indexes titles as ASCII words; anything else could only break the query syntax.
    return [w for w in normalize_title(text).encode("ascii", "ignore").decode().split() if w]


def _content_words(text: str) -> list[str]:
    return list(dict.fromkeys(w for w in _ascii_words(text) if w not in _STOPWORDS))


def title_clause(title: str, style: QueryStyle = "phrase") -> str | None:
    """One title's clause: ``ti:"w1 w2 ..."`` or ``ti:(w1 AND w2 ...)``; None if unsearchable.

    Only ASCII words go in (quotes, colons and parentheses would be query syntax), at most
    ``MAX_QUERY_WORDS`` of them. The ``words`` style ANDs content words (no stop words:
    arXiv ignores them), those of the main title when it has ``MIN_TITLE_WORDS`` of them,
    else the whole title's (a main title like ``Diffusion Models`` matches thousands).
    """
    if not searchable(title):
        return None
    if style == "phrase":
        words = _ascii_words(title)[:MAX_QUERY_WORDS]
        return f'ti:"{" ".join(words)}"' if words else None
    words = _content_words(title)
    split = _SUBTITLE.split(_plain(title), maxsplit=1)
    if len(split) == 2 and len(_content_words(split[0])) >= MIN_TITLE_WORDS:
        words = _content_words(split[0])
    words = words[:MAX_QUERY_WORDS]
    if not words:
        return None
    return f"ti:({' AND '.join(words)})" if len(words) > 1 else f"ti:{words[0]}"


def _encoded_len(query: str) -> int:
    return len(quote_plus(query))


def title_queries(
    titles: Sequence[str],
    max_len: int = MAX_QUERY_LEN,
    *,
    style: QueryStyle = "phrase",
    max_titles: int = MAX_TITLES_PER_QUERY,
) -> list[tuple[str, list[int]]]:
    """``search_query`` strings that OR the clauses of several titles, with their indexes.

    Titles are packed in order while the URL-encoded query stays within ``max_len`` and a
    batch holds at most ``max_titles``; a title whose clause alone exceeds ``max_len`` gets
    a request of its own. Unsearchable titles (see ``searchable``) are in no batch; equal
    clauses are asked once and answer for every index that has them.
    """
    batches: list[tuple[str, list[int]]] = []
    clauses: list[str] = []
    indexes: list[list[int]] = []

    def flush() -> None:
        if clauses:
            batches.append((" OR ".join(clauses), [i for group in indexes for i in group]))
            clauses.clear()
            indexes.clear()

    seen: dict[str, list[int]] = {}
    for index, title in enumerate(titles):
        clause = title_clause(title, style)
        if clause is None:
            continue
        if clause in seen:
            seen[clause].append(index)
            continue
        candidate = " OR ".join([*clauses, clause])
        if clauses and (len(clauses) >= max_titles or _encoded_len(candidate) > max_len):
            flush()
        group = [index]
        seen[clause] = group
        clauses.append(clause)
        indexes.append(group)
    flush()
    return [(query, sorted(group)) for query, group in batches]


# -- choosing a candidate (pure) -----------------------------------------------------------


@dataclass(frozen=True)
class TitleResolution:
    """What the title search found for one entry.

    ``candidate_*`` describe the best candidate seen, accepted or not; ``arxiv_id`` and
    ``match_score`` are set only when it was accepted. All are None for an entry that was
    not searched (it links arXiv already, or its title is too short) or found nothing.
    """

    arxiv_id: str | None = None
    """The accepted paper's id (entry resolution "title"), or None (entry stays unresolved)."""
    match_score: float | None = None
    """``title_similarity`` of the accepted paper, 0-100."""
    candidate_id: str | None = None
    """The best candidate's id, kept for review when it was not accepted."""
    candidate_score: float | None = None
    candidate_title: str | None = None


@dataclass(frozen=True)
class Candidate:
    """One search result scored against one listed title."""

    paper: Paper
    score: float


def _year_fits(paper: Paper, year: int | None) -> bool:
    return year is not None and abs(paper.published.year - year) <= YEAR_TOLERANCE


def choose(candidates: Sequence[Candidate], year: int | None) -> TitleResolution:
    """The entry's resolution from its scored candidates (pure).

    The best score wins; candidates within ``TIE_MARGIN`` of it are tied, and the listed
    year (``YEAR_TOLERANCE``) breaks the tie. A tie the year cannot break, a best match
    below ``ACCEPT_SCORE`` or one posted long after the listed year
    (``MAX_YEARS_AFTER``) is not accepted: it is kept as the candidate for review.
    """
    if not candidates:
        return TitleResolution()
    ranked = sorted(candidates, key=lambda c: (-c.score, c.paper.arxiv_id))
    tied = [c for c in ranked if c.score >= ranked[0].score - TIE_MARGIN]
    fitting = [c for c in tied if _year_fits(c.paper, year)]
    contenders = fitting or tied
    best = contenders[0]
    ambiguous = len(contenders) > 1
    too_late = year is not None and best.paper.published.year > year + MAX_YEARS_AFTER
    accepted = best.score >= ACCEPT_SCORE and not ambiguous and not too_late
    return TitleResolution(
        arxiv_id=best.paper.arxiv_id if accepted else None,
        match_score=best.score if accepted else None,
        candidate_id=best.paper.arxiv_id,
        candidate_score=best.score,
        candidate_title=best.paper.title,
    )


# -- the edge: searching arXiv ---------------------------------------------------------------


def search_params(query: str, max_results: int) -> str:
    """The query string of one search; fixed parameter order keeps its cache key stable."""
    return urlencode({"search_query": query, "start": "0", "max_results": str(max_results)})


def search_url(api_url: str, query: str, max_results: int) -> str:
    """The request for one search."""
    return f"{api_url}?{search_params(query, max_results)}"


def _search(
    api: ArxivApi, query: str, max_results: int, fetched_at: datetime, refresh: bool = False
) -> tuple[list[Paper], bool]:
    """The papers one search returns, and whether arXiv had more than it sent."""
    feed = api.feed(search_params(query, max_results), fetched_at, refresh=refresh)
    return feed.papers, feed.total_results > len(feed.papers)


def resolve_titles(
    api: ArxivApi,
    entries: Sequence[ListEntry],
    max_results_per_query: int = 50,
    fetched_at: datetime | None = None,
    refresh: bool = False,
) -> tuple[list[TitleResolution], dict[str, Paper]]:
    """Search arXiv by title for every entry without an arXiv id (a link that could not be
    read as one included).

    Returns one resolution per entry, in order, and the Paper records of accepted matches
    (so the fetch stage need not ask for them again). ``refresh`` asks arXiv again past
    fresh cached answers (a due re-check may find newly posted papers). Entries sharing a
    title share its searches. A batch whose answer was cut at ``max_results_per_query`` is
    asked again title by title for the titles it left without a match, so batching never
    costs a result. ``fetched_at`` (default: now) stamps the Paper records.
    """
    fetched_at = fetched_at or datetime.now(UTC)
    keys = [normalize_title(e.title) if e.arxiv_id is None else "" for e in entries]
    titles: list[str] = []  # one listed spelling per distinct normalised title
    title_of_key: dict[str, int] = {}
    for entry, key in zip(entries, keys, strict=True):
        if key and key not in title_of_key and searchable(entry.title):
            title_of_key[key] = len(titles)
            titles.append(entry.title)
    pools: list[dict[str, Candidate]] = [{} for _ in titles]

    def settled(index: int) -> bool:
        return any(c.score >= ACCEPT_SCORE for c in pools[index].values())

    def run(style: QueryStyle, wanted: list[int]) -> None:
        subset = [titles[i] for i in wanted]
        for query, members in title_queries(subset, style=style):
            batch = [wanted[m] for m in members]
            papers, cut = _search(api, query, max_results_per_query, fetched_at, refresh)
            _score_into(pools, titles, batch, papers)
            if cut and len(batch) > 1:
                for index in batch:
                    if not settled(index):
                        for single, _ in title_queries([titles[index]], style=style):
                            papers, _ = _search(
                                api, single, max_results_per_query, fetched_at, refresh
                            )
                            _score_into(pools, titles, [index], papers)

    run("phrase", list(range(len(titles))))
    run("words", [i for i in range(len(titles)) if not settled(i)])

    resolutions: list[TitleResolution] = []
    accepted: dict[str, Paper] = {}
    for entry, key in zip(entries, keys, strict=True):
        index = title_of_key.get(key) if key else None
        if index is None:
            resolutions.append(TitleResolution())
            continue
        resolution = choose(list(pools[index].values()), entry.year)
        resolutions.append(resolution)
        if resolution.arxiv_id is not None:
            accepted[resolution.arxiv_id] = pools[index][resolution.arxiv_id].paper
    log.info(
        "title search: %d of %d entries searched by title resolved",
        sum(1 for r in resolutions if r.arxiv_id),
        sum(1 for key in keys if key in title_of_key),
    )
    return resolutions, accepted


def _score_into(
    pools: list[dict[str, Candidate]], titles: list[str], batch: list[int], papers: list[Paper]
) -> None:
    for index in batch:
        for paper in papers:
            pools[index][paper.arxiv_id] = Candidate(
                paper, title_similarity(titles[index], paper.title)
            )
