"""``suggest``: recent arXiv papers a list would likely want, ranked for a human to pick.

    main_categories  the arXiv categories most of the list's papers are in (pure)
    search_query     one ``search_query`` over them and a submission-date window (pure)
    rank             TF-IDF similarity to the list's titles and abstracts (pure)
    entry_line       a new entry in the list's own style (pure)
    run_suggest      refresh, at most ``MAX_REQUESTS`` searches, then suggestions.parquet
                     and suggestions.md in DIR, each written atomically

TF-IDF over words and word pairs, not a neural model: no download, no GPU, a second for a
list of thousands; a list is a vocabulary ("preference", "reward model", "diffusion"), and
word overlap with its own titles and abstracts is what a maintainer would look for first.
"""

from __future__ import annotations

import io
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.maintain.options import DEFAULT_SINCE_DAYS, MAX_REQUESTS
from pipeline.maintain.style import ListStyle, detect_style
from pipeline.models import Paper

log = logging.getLogger(__name__)

PAGE_SIZE = 200
"""Results per search request."""
MAX_CATEGORIES = 3
MIN_SHARE = 0.1
"""A category is one of the list's main ones when at least this share of its papers is in it."""
TOP_K = 3
"""A candidate's score is its mean similarity to its ``TOP_K`` closest listed papers: one
listed paper that happens to share a phrase does not make a suggestion."""


def main_categories(categories: Sequence[Sequence[str]]) -> list[str]:
    """The (at most ``MAX_CATEGORIES``) categories at least ``MIN_SHARE`` of the papers are in,
    most common first; the single most common one when none reaches it."""
    counts: Counter[str] = Counter(c for paper in categories for c in dict.fromkeys(paper))
    if not counts:
        return []
    main = [c for c, n in counts.most_common() if n / len(categories) >= MIN_SHARE]
    return (main or [counts.most_common(1)[0][0]])[:MAX_CATEGORIES]


def search_query(categories: Sequence[str], since: datetime, until: datetime) -> str:
    """``(cat:A OR cat:B) AND submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]`` (GMT)."""
    cats = " OR ".join(f"cat:{c}" for c in categories)
    window = f"submittedDate:[{since:%Y%m%d%H%M} TO {until:%Y%m%d%H%M}]"
    return f"({cats}) AND {window}"


def request_query(query: str, start: int, size: int = PAGE_SIZE) -> str:
    """The URL query of one page, newest submissions first."""
    return urlencode(
        {
            "search_query": query,
            "sortBy": "submittedDate",
            "sortOrder": "descending",
            "start": str(start),
            "max_results": str(size),
        }
    )


@dataclass(frozen=True)
class Ranked:
    paper: Paper
    score: float
    closest: int
    """Index of the closest listed paper."""
    closest_score: float


def rank(listed: Sequence[str], candidates: Sequence[Paper]) -> list[Ranked]:
    """Candidates by similarity to the listed papers' texts (title and abstract), best first."""
    if not listed or not candidates:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2))
    matrix = vectorizer.fit_transform([*listed, *(f"{p.title}. {p.abstract}" for p in candidates)])
    # Rows are L2-normalised: the linear kernel is the cosine similarity.
    similarity = linear_kernel(matrix[len(listed) :], matrix[: len(listed)])
    out = []
    for paper, row in zip(candidates, similarity, strict=True):
        order = row.argsort()[::-1]
        top = row[order[:TOP_K]]
        out.append(Ranked(paper, float(top.mean()), int(order[0]), float(row[order[0]])))
    return sorted(out, key=lambda r: (-r.score, r.paper.arxiv_id))


def entry_line(style: ListStyle, paper: Paper) -> str:
    """A new entry as the list writes its entries (its template, or a plain fallback)."""
    url = (
        style.link.url(paper.arxiv_id) if style.link else f"https://arxiv.org/abs/{paper.arxiv_id}"
    )
    year = str(paper.published.year)
    if style.template is not None:
        return style.template.format(title=paper.title, url=url, year=year)
    if style.label is None:
        return f"{style.bullet} [{paper.title}]({url}) arXiv {year}"
    separator = style.separator or " "
    return f"{style.bullet} {paper.title}. arXiv {year}{separator}[{style.label}]({url})"


@dataclass(frozen=True)
class Suggestions:
    rows: list[dict[str, Any]]
    candidates: int
    """Papers arXiv returned (before dropping listed ones)."""
    requests: int
    """Search requests sent or answered from the cache."""
    parquet: Path
    markdown: Path


def run_suggest(
    settings: Settings, since: datetime | None, limit: int, now: datetime, **refresh: Any
) -> Suggestions:
    """Refresh, then search, rank and write; ``refresh`` passes on to ``run_refresh``."""
    from pipeline.refresh import run_refresh

    run_refresh(settings, **refresh)
    listed, categories, style, list_name = _the_list(settings)
    start_at = since or now - timedelta(days=DEFAULT_SINCE_DAYS)
    if start_at >= now:
        raise InputError(f"--since {start_at:%Y-%m-%d} is not in the past")
    query = search_query(categories, start_at, now)
    candidates, requests = _search(settings, query, now, refresh.get("sleep", time.sleep))
    known = {row["arxiv_id"] for row in listed}
    fresh = list({p.arxiv_id: p for p in candidates if p.arxiv_id not in known}.values())
    ranked = rank([f"{r['title']}. {r['abstract']}" for r in listed], fresh)[:limit]
    rows = [
        {
            "rank": i,
            "arxiv_id": r.paper.arxiv_id,
            "version": r.paper.version,
            "title": r.paper.title,
            "authors": [a.name for a in r.paper.authors],
            "published": r.paper.published,
            "primary_category": r.paper.primary_category,
            "abs_url": r.paper.abs_url,
            "score": round(r.score, 4),
            "closest_arxiv_id": listed[r.closest]["arxiv_id"],
            "closest_title": listed[r.closest]["title"],
            "closest_line": listed[r.closest]["line"],
            "closest_score": round(r.closest_score, 4),
            "markdown": entry_line(style, r.paper),
            "list": list_name,
            "query": query,
            "suggested_at": now,
        }
        for i, r in enumerate(ranked, start=1)
    ]
    parquet, markdown = _write(settings.data_dir, rows, query, list_name)
    return Suggestions(rows, len(candidates), requests, parquet, markdown)


def _the_list(
    settings: Settings,
) -> tuple[list[dict[str, Any]], list[str], ListStyle, str]:
    """The one list's papers (with title, abstract and line), main categories and style."""
    from pipeline.lists.locate import default_sources, expand_list_paths, is_url
    from pipeline.store.read import read_current

    tables = read_current(settings.enriched_dir)
    entries = tables.entries.to_pylist()
    names = list(dict.fromkeys(row["list"] for row in entries))
    if len(names) != 1:
        raise InputError(
            f"suggest works on one list at a time and the tables hold {len(names)}: "
            "pass --list PATH"
        )
    papers = {
        row["arxiv_id"]: row
        for row in tables.papers.select(["arxiv_id", "title", "abstract", "categories"]).to_pylist()
    }
    listed: list[dict[str, Any]] = []
    for row in entries:
        paper = papers.get(row["arxiv_id"])
        # A link to the wrong paper would teach the ranking another list's subject.
        if paper is not None and row["status"] == "enriched" and not row["title_mismatch"]:
            listed.append({**paper, "line": row["line"]})
    listed = list({row["arxiv_id"]: row for row in listed}.values())
    if not listed:
        raise InputError(f"{names[0]}: no arXiv papers in the list to suggest from")
    sources = list(settings.lists) or default_sources(settings.raw_dir)
    lines: list[str] = []
    local = [Path(s) for s in sources if not is_url(s)]
    for path in expand_list_paths(local) if local else []:
        if path.name == names[0]:
            lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    style = detect_style(entries, lines)
    return listed, main_categories([p["categories"] for p in listed]), style, names[0]


def _search(settings: Settings, query: str, now: datetime, sleep: Any) -> tuple[list[Paper], int]:
    """At most ``MAX_REQUESTS`` pages of the search, newest first."""
    from pipeline.services.arxiv import ArxivApi

    found: list[Paper] = []
    requests = 0
    with ArxivApi(settings, sleep=sleep) as api:
        while requests < MAX_REQUESTS:
            page = api.feed(request_query(query, len(found)), fetched_at=now)
            requests += 1
            found += page.papers
            if len(page.papers) < PAGE_SIZE or len(found) >= page.total_results:
                break
    log.info("suggest: %d candidates from %d search request(s): %s", len(found), requests, query)
    return found, requests


def _write(
    data_dir: Path, rows: list[dict[str, Any]], query: str, list_name: str
) -> tuple[Path, Path]:
    import pyarrow.parquet as pq

    from pipeline.schemas import SUGGESTIONS
    from pipeline.store.files import write_file_atomic
    from pipeline.store.tables import build_table, conform

    buffer = io.BytesIO()
    pq.write_table(conform(build_table(rows, SUGGESTIONS), SUGGESTIONS), buffer)
    parquet = data_dir / "suggestions.parquet"
    write_file_atomic(parquet, buffer.getvalue())
    markdown = data_dir / "suggestions.md"
    write_file_atomic(markdown, snippet(rows, query, list_name).encode("utf-8"))
    return parquet, markdown


def snippet(rows: Sequence[Mapping[str, Any]], query: str, list_name: str) -> str:
    """The entries ready to paste, each with a comment (hidden when rendered) saying why."""
    out = [
        f"<!-- arxiv-list suggest for {list_name}: {len(rows)} paper(s), {query} -->",
        "<!-- paste the lines you want; the comment under each gives its score (cosine "
        "similarity, 0-1) and the closest listed paper -->",
        "",
    ]
    for row in rows:
        out.append(row["markdown"])
        indent = " " * (len(row["markdown"]) - len(row["markdown"].lstrip()) + 2)
        out.append(
            f"{indent}<!-- score {row['score']:.3f}; closest: {_quiet(row['closest_title'])!r} "
            f"({row['closest_arxiv_id']}, line {row['closest_line']}, "
            f"{row['closest_score']:.3f}) -->"
        )
    return "\n".join(out) + "\n"


def _quiet(text: str) -> str:
    """Text safe inside an HTML comment (which ``--`` would end early)."""
    return text.replace("--", "- -")
