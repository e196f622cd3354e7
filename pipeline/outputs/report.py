"""Tables -> one self-contained HTML page: the maintainer's weekly dashboard.

One file: the figures are SVG data URIs, the script and styles inline, nothing fetched
(no CDN), so the page can be mailed, copied or opened offline, and replacing it is one
atomic rename (a reader never sees a page with missing figures). It shows what changed
recently (``changes.parquet``, with titles), the most cited papers when
``citations.parquet`` exists, the figures, the quality findings (linked to the list's line
on GitHub when the list came from there), a view per section, and every paper with its
arXiv id, PDF, code link, citations and abstract (expanding in place), behind a filter
that searches abstracts too and says how many rows it shows.

The numbers behind every figure come from pure functions over DataFrames, and each figure
is followed by a table of the same numbers, so a reader (or a test) can check the plot and
a screen reader gets the data. ``build_report`` is the only function that touches files.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import math
import re
import warnings
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import matplotlib as mpl
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pipeline.config import Settings
from pipeline.store.files import write_file_atomic
from pipeline.store.read import TableFrames, read_current
from pipeline.titles import display_title

ENRICHED_STATUS = "enriched"
MAX_STACKED_SECTIONS = 10
"""Sections drawn in their own colour; smaller ones are stacked as one "other" band."""
TOP_AUTHORS = 20
TOP_CATEGORIES = 15
AUTHORS_SHOWN = 4
"""Authors named in the paper table before "+ N more" (the full list is in the tooltip)."""
KIND_LABELS = {
    "unresolved": "Unresolved: no arXiv id found",
    "not_found": "Not found on arXiv",
    "invalid": "Malformed arXiv links",
    "title_mismatch": "Listed title differs from arXiv's",
    "duplicate": "Listed more than once",
}
"""Finding kinds in the order the report shows them; other kinds follow alphabetically."""


# -- the numbers (pure) ---------------------------------------------------------------------


def first_sections(entries: pd.DataFrame) -> pd.Series:
    """arxiv_id -> the section of its first listing (by list, then line).

    A paper listed in several sections is counted once, under the first, so that the
    stacked bars add up to the number of papers.
    """
    listed = entries[entries["status"] == ENRICHED_STATUS].sort_values(["list", "line"])
    return listed.drop_duplicates("arxiv_id").set_index("arxiv_id")["section"]


def section_order(entries: pd.DataFrame) -> list[str]:
    """Sections in the order the lists give them."""
    return list(entries.sort_values(["list", "line"])["section"].drop_duplicates())


def papers_per_year(papers: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """Rows: sections in list order; columns: years of the arXiv v1; values: paper counts."""
    section = first_sections(entries).reindex(papers["arxiv_id"]).fillna("(not in a list)")
    frame = pd.DataFrame(
        {"section": section.to_numpy(), "year": papers["published"].dt.year.to_numpy()}
    )
    table = pd.crosstab(frame["section"], frame["year"])
    order = [s for s in [*section_order(entries), "(not in a list)"] if s in table.index]
    return table.reindex(order).astype(int)


@dataclass(frozen=True)
class VersionStats:
    papers: int
    several: int
    """Papers with more than one arXiv version."""
    by_count: dict[int, int]
    """Number of versions -> papers."""
    days: list[float]
    """Days from version 1 to the latest, for each paper with several versions."""

    @property
    def median_days(self) -> float | None:
        return float(pd.Series(self.days).median()) if self.days else None


def version_stats(papers: pd.DataFrame) -> VersionStats:
    several = papers[papers["version"] > 1]
    days = (several["updated"] - several["published"]).dt.total_seconds() / 86400
    counts = papers["version"].value_counts().sort_index()
    return VersionStats(
        papers=len(papers),
        several=len(several),
        by_count=dict(zip(counts.index.tolist(), counts.tolist(), strict=True)),
        days=[float(d) for d in days],
    )


def _counts(values: pd.Series, label: str) -> pd.DataFrame:
    """Counts sorted by count (descending), ties by name, as a two-column frame."""
    counts = values.value_counts().rename_axis(label).reset_index(name="papers")
    return counts.sort_values(["papers", label], ascending=[False, True], ignore_index=True)


def primary_categories(papers: pd.DataFrame) -> pd.DataFrame:
    """Columns category, papers: every primary category."""
    return _counts(papers["primary_category"], "category")


def top_authors(authors: pd.DataFrame, papers: pd.DataFrame, n: int = TOP_AUTHORS) -> pd.DataFrame:
    """Columns name, papers: the ``n`` authors of most listed papers (exact name match)."""
    listed = authors[authors["arxiv_id"].isin(papers["arxiv_id"])]
    return _counts(listed.drop_duplicates(["arxiv_id", "name"])["name"], "name").head(n)


def findings(entries: pd.DataFrame, quality: pd.DataFrame | None) -> pd.DataFrame:
    """One row per finding with the entry it is about: kind, list, line, section, title,
    url, arxiv_id, the title search's candidate, detail. Without a quality table, the
    entries' own statuses are used."""
    keys = ["list", "line"]
    shown = [*keys, "section", "title", "url", "arxiv_id", "candidate_id", "candidate_score"]
    about = entries[[c for c in shown if c in entries]]
    if quality is None:
        problems = entries[entries["status"] != ENRICHED_STATUS]
        found = pd.DataFrame(
            {
                "kind": problems["status"],
                "list": problems["list"],
                "line": problems["line"],
                "detail": problems.get("detail"),
            }
        )
    else:
        found = quality[["kind", *keys, "detail"]]
    merged = found.merge(about, on=keys, how="left", validate="many_to_one")
    rank = {kind: i for i, kind in enumerate(KIND_LABELS)}
    merged["_rank"] = merged["kind"].map(lambda k: rank.get(k, len(rank)))
    merged = merged.sort_values(["_rank", "kind", *keys], ignore_index=True)
    return merged.drop(columns="_rank")


CHANGES_WINDOW_DAYS = 7
"""The "changed since" section shows the changes of the week before the newest one."""
CHANGES_SHOWN = 200
CHANGES_OPEN = 20
"""Up to this many recent changes are shown open; more start folded."""
MOST_CITED = 20


def citation_counts(citations: pd.DataFrame | None) -> pd.DataFrame:
    """One row per cited paper: ``arxiv_id``, one ``citations_<source>`` column per source,
    and ``citations``, the largest count any source gives (sources count differently; the
    largest is the one least likely to miss citations)."""
    if citations is None or citations.empty:
        return pd.DataFrame({"arxiv_id": pd.Series(dtype=str), "citations": pd.Series(dtype=float)})
    wide = citations.pivot_table(
        index="arxiv_id", columns="source", values="citation_count", aggfunc="max"
    )
    wide.columns = [f"citations_{c}" for c in wide.columns]
    wide["citations"] = wide.max(axis=1)
    return wide.reset_index()


def most_cited(papers: pd.DataFrame, counts: pd.DataFrame, n: int = MOST_CITED) -> pd.DataFrame:
    """The ``n`` papers with most citations (ties by newest first): arxiv_id, title,
    published, citations and the per-source columns."""
    known = counts.dropna(subset=["citations"])
    ranked = papers[["arxiv_id", "title", "published"]].merge(known, on="arxiv_id")
    ranked = ranked.sort_values(["citations", "published"], ascending=[False, False])
    return ranked.head(n).reset_index(drop=True)


def recent_changes(
    changes: pd.DataFrame | None, papers: pd.DataFrame, days: int = CHANGES_WINDOW_DAYS
) -> tuple[pd.Timestamp | None, pd.DataFrame]:
    """(since, rows): the changes of the ``days`` before the newest one, newest first, each
    with the paper's title (the change's own, else the paper's, for changes written before
    the ``title`` column)."""
    if changes is None or changes.empty:
        return None, pd.DataFrame(columns=["at", "change", "arxiv_id", "list", "detail", "title"])
    since = changes["at"].max() - timedelta(days=days)
    recent = changes[changes["at"] >= since].copy()
    titles = papers.set_index("arxiv_id")["title"]
    own = recent["title"] if "title" in recent else pd.Series(None, index=recent.index)
    recent["title"] = own.where(own.notna(), recent["arxiv_id"].map(titles))
    recent = recent.sort_values(["at", "change", "arxiv_id"], ascending=[False, True, True])
    return since, recent.reset_index(drop=True)


_RAW_GITHUB = re.compile(r"^https?://raw\.githubusercontent\.com/([^/]+)/([^/]+)/(.+)$")
_GITHUB_REPO = re.compile(r"^https?://(?:www\.)?github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$")
_GITHUB_BLOB = re.compile(r"^https?://(?:www\.)?github\.com/([^/]+)/([^/]+)/blob/(.+)$")


def list_line_url(list_name: str, line: int) -> str | None:
    """The list's line on GitHub (plain view, so the line anchor works) when the list came
    from a GitHub URL; None for a local file or another site."""
    source = list_name.split("#")[0].split("?")[0]
    if m := _GITHUB_REPO.match(source):
        path = f"{m[1]}/{m[2]}/blob/HEAD/README.md"
    elif m := (_GITHUB_BLOB.match(source) or _RAW_GITHUB.match(source)):
        path = f"{m[1]}/{m[2]}/blob/{m[3]}"
    else:
        return None
    return f"https://github.com/{path}?plain=1#L{int(line)}"


@dataclass(frozen=True)
class PaperRow:
    arxiv_id: str
    title: str
    url: str
    pdf_url: str | None
    code_urls: list[str]
    abstract: str
    authors: list[str]
    published: str
    sections: list[str]
    venues: list[str]
    category: str
    citations: int | None


def paper_rows(
    papers: pd.DataFrame, entries: pd.DataFrame, counts: pd.DataFrame | None = None
) -> list[PaperRow]:
    """The paper table's rows, newest first; sections, venues and code links from every
    listing; citations from ``citation_counts``."""
    listed = entries[entries["status"] == ENRICHED_STATUS].sort_values(["list", "line"])
    sections: dict[str, list[str]] = {}
    venues: dict[str, list[str]] = {}
    code: dict[str, list[str]] = {}
    for entry in listed.to_dict("records"):
        arxiv_id = str(entry["arxiv_id"])
        _add(sections.setdefault(arxiv_id, []), entry["section"])
        _add(code.setdefault(arxiv_id, []), entry.get("code_url"))
        venue = entry.get("venue_normalized")
        venue = venue if isinstance(venue, str) else entry["venue"]
        if isinstance(venue, str):
            year = f" {int(entry['year'])}" if pd.notna(entry["year"]) else ""
            _add(venues.setdefault(arxiv_id, []), f"{venue}{year}")
    cited = (
        {} if counts is None else dict(zip(counts["arxiv_id"], counts["citations"], strict=True))
    )
    ordered = papers.sort_values(["published", "arxiv_id"], ascending=[False, True])
    rows = []
    for p in ordered.to_dict("records"):
        arxiv_id = str(p["arxiv_id"])
        count = cited.get(arxiv_id)
        rows.append(
            PaperRow(
                arxiv_id=arxiv_id,
                title=display_title(str(p["title"])),
                url=f"https://arxiv.org/abs/{arxiv_id}",
                pdf_url=f"https://arxiv.org/pdf/{arxiv_id}",
                code_urls=code.get(arxiv_id, []),
                abstract=display_title(str(p["abstract"])),
                authors=[str(a) for a in p["authors"]],
                published=p["published"].strftime("%Y-%m-%d"),
                sections=sections.get(arxiv_id, []),
                venues=venues.get(arxiv_id, []),
                category=str(p["primary_category"]),
                citations=None if count is None or pd.isna(count) else int(count),
            )
        )
    return rows


def _add(values: list[str], value: object) -> None:
    if isinstance(value, str) and value not in values:
        values.append(value)


# -- the figures (pure: a Figure per plot, never saved here) --------------------------------

_FIG_WIDTH = 9.0
LEGEND_WIDTH = 100
"""Characters of a section name shown in the legend; longer ones end in an ellipsis."""
_DPI = 130
_FALLBACK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Arial Unicode MS",
)
"""Tried after DejaVu Sans for glyphs it lacks (CJK author names), when installed."""


@contextlib.contextmanager
def plot_style() -> Iterator[None]:
    """Wrap creating and saving figures: fonts with fallbacks, and no warning per glyph.

    Without a CJK font installed, a CJK name shows as boxes in a plot; matplotlib would also
    warn once per missing glyph, which says nothing the picture does not.
    """
    installed = {font.name for font in font_manager.fontManager.ttflist}
    families = ["DejaVu Sans", *(f for f in _FALLBACK_FONTS if f in installed)]
    with mpl.rc_context({"font.family": families}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        yield


def _shorten(text: str, width: int = 55) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def plot_papers_per_year(counts: pd.DataFrame) -> Figure:
    fig = Figure(figsize=(_FIG_WIDTH, 5.2), layout="constrained")
    ax = fig.add_subplot()
    if counts.empty:
        ax.text(0.5, 0.5, "no papers", ha="center", va="center", transform=ax.transAxes)
        return fig
    stacked = counts
    if len(counts) > MAX_STACKED_SECTIONS:
        keep = counts.sum(axis=1).nlargest(MAX_STACKED_SECTIONS - 1).index
        rest = counts.drop(index=keep)
        stacked = counts.loc[[s for s in counts.index if s in keep]]
        stacked.loc[f"other sections ({len(rest)})"] = rest.sum()
    years = [str(y) for y in stacked.columns]
    bottom = [0] * len(years)
    colors = [f"C{i}" for i in range(len(stacked))]
    for (section, row), color in zip(stacked.iterrows(), colors, strict=True):
        values = [int(v) for v in row]
        # Whole section names (up to LEGEND_WIDTH): the legend wraps to one column for them.
        label = _shorten(str(section), LEGEND_WIDTH)
        ax.bar(years, values, bottom=bottom, label=label, color=color)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for x, total in enumerate(bottom):
        ax.annotate(
            str(total),
            (x, total),
            ha="center",
            va="bottom",
            xytext=(0, 2),
            textcoords="offset points",
            fontsize=9,
        )
    ax.set_xlabel("Year of first arXiv version")
    ax.set_ylabel("Papers")
    ax.set_ylim(0, max(bottom) * 1.12 + 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(years) > 12:
        ax.tick_params(axis="x", labelrotation=45)
    ax.spines[["top", "right"]].set_visible(False)
    longest = max((len(_shorten(str(s), LEGEND_WIDTH)) for s in stacked.index), default=0)
    fig.legend(
        loc="outside lower center",
        ncols=2 if longest <= 40 else 1,
        fontsize=9,
        frameon=False,
        title="Section (first listing)",
        title_fontsize=9,
    )
    return fig


def plot_versions(stats: VersionStats) -> Figure:
    fig = Figure(figsize=(_FIG_WIDTH, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.6])
    labels = [str(k) for k in stats.by_count]
    left.bar(labels, list(stats.by_count.values()), color="C0")
    left.set_xlabel("arXiv versions")
    left.set_ylabel("Papers")
    left.set_title("Papers by number of versions", fontsize=11)
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    if stats.days:
        right.hist(stats.days, bins=min(20, max(5, len(stats.days) // 2)), color="C1")
        right.set_xlabel("Days from version 1 to the latest version")
        right.set_ylabel("Papers")
        right.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        right.text(
            0.5,
            0.5,
            "no paper has several versions",
            ha="center",
            va="center",
            transform=right.transAxes,
        )
        right.set_axis_off()
    right.set_title(f"Time to latest version ({stats.several} papers with several)", fontsize=11)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    return fig


def plot_ranking(counts: pd.DataFrame, label: str, xlabel: str, limit: int) -> Figure:
    """Horizontal bars, largest on top, for the first ``limit`` rows of a ``_counts`` frame."""
    shown = counts.head(limit)
    fig = Figure(figsize=(_FIG_WIDTH, 1.0 + 0.32 * max(len(shown), 1)), layout="constrained")
    ax = fig.add_subplot()
    names = [_shorten(str(n), 40) for n in shown[label]][::-1]
    values = [int(v) for v in shown["papers"]][::-1]
    bars = ax.barh(names, values, color="C2")
    ax.bar_label(bars, padding=3, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_xlim(0, max(values, default=0) * 1.1 + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    return fig


# -- the page (pure) -------------------------------------------------------------------------


def _e(value: object) -> str:
    """Escaped text; empty for a missing value (None, NaN or NA after a join)."""
    missing = value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
    return "" if missing else html.escape(str(value))


def safe_href(url: object) -> str | None:
    """The URL when it is http(s): lists are contributed text, so no ``javascript:`` links."""
    if not isinstance(url, str):
        return None
    return url if urlsplit(url.strip()).scheme in {"http", "https"} else None


def _link(text: object, url: object, attrs: str = "") -> str:
    href = safe_href(url)
    extra = f" {attrs}" if attrs else ""
    return f'<a href="{_e(href)}"{extra}>{_e(text)}</a>' if href else _e(text)


def _table(
    table_id: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    caption: str = "",
    attrs: str = "",
) -> str:
    """A table of pre-escaped cells; the first column is a row header."""
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + f'<th scope="row">{row[0]}</th>'
        + "".join(f"<td>{c}</td>" for c in row[1:])
        + "</tr>\n"
        for row in rows
    )
    return (
        f'<div class="scroll"><table id="{table_id}"{" " + attrs if attrs else ""}>'
        + (f"<caption>{_e(caption)}</caption>" if caption else "")
        + f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table></div>"
    )


def _figure(src: str, alt: str, caption: str, data_table: str) -> str:
    return (
        f'<figure><img src="{src}" alt="{_e(alt)}"><figcaption>{_e(caption)}</figcaption>'
        f"</figure>\n<details><summary>The numbers</summary>\n{data_table}\n</details>"
    )


@dataclass(frozen=True)
class Images:
    """The figures as the page references them (``data:`` URIs)."""

    per_year: str
    versions: str
    categories: str
    authors: str


def _summary(
    tables: TableFrames, stats: VersionStats, found: pd.DataFrame, counts: pd.DataFrame
) -> str:
    entries, papers = tables.entries, tables.papers
    median = stats.median_days
    share = f" ({stats.several / stats.papers:.0%})" if stats.papers else ""
    fetched = papers["fetched_at"].max()
    recent = recent_changes(tables.changes, papers)[1]
    items = [
        ("lists", "Lists", str(entries["list"].nunique())),
        ("sections", "Sections", str(entries["section"].nunique())),
        ("entries", "Listed entries", str(len(entries))),
        ("papers", "Papers with arXiv metadata", str(len(papers))),
        ("several-versions", "Papers with several versions", f"{stats.several}{share}"),
        (
            "median-days",
            "Median days to latest version (multi-version papers)",
            "n/a" if median is None else f"{median:.0f}",
        ),
        ("findings", "Quality findings", str(len(found))),
        ("changes", "Changes in the last week of changes", str(len(recent))),
        (
            "fetched",
            "Metadata fetched up to",
            "n/a" if pd.isna(fetched) else fetched.strftime("%Y-%m-%d %H:%M UTC"),
        ),
    ]
    if tables.citations is not None:
        known = counts["citations"].dropna()
        items.append(("cited", "Papers with a citation count", f"{len(known)} of {len(papers)}"))
    return "".join(
        f'<div><dt>{_e(label)}</dt><dd data-key="{key}">{_e(value)}</dd></div>'
        for key, label, value in items
    )


def _paper_link(arxiv_id: object, title: object) -> str:
    if not isinstance(arxiv_id, str):
        return _e(title)
    return _link(title if isinstance(title, str) else arxiv_id, f"https://arxiv.org/abs/{arxiv_id}")


def _changes_html(tables: TableFrames) -> str:
    since, recent = recent_changes(tables.changes, tables.papers)
    if since is None:
        return (
            "<p>No changes recorded yet: <code>changes.parquet</code> fills from the next "
            "refresh.</p>"
        )
    kinds = recent["change"].value_counts()
    summary = ", ".join(f"{n} {_e(k).replace('_', ' ')}" for k, n in kinds.items()) or "none"
    rows = [
        [
            _e(r["at"].strftime("%Y-%m-%d %H:%M")),
            _e(str(r["change"]).replace("_", " ")),
            _paper_link(
                r["arxiv_id"], display_title(r["title"]) if isinstance(r["title"], str) else None
            ),
            _e(r["arxiv_id"]),
            _e(r["list"]),
            _e(r["detail"]),
        ]
        for r in recent.head(CHANGES_SHOWN).to_dict("records")
    ]
    more = len(recent) - CHANGES_SHOWN
    note = f'<p class="note">{more} more in <code>changes.parquet</code>.</p>' if more > 0 else ""
    headers = ["When (UTC)", "Change", "Paper", "arXiv", "List", "Detail"]
    # A first run adds every paper: a long list starts folded, so the dashboard stays short.
    opened = " open" if len(recent) <= CHANGES_OPEN else ""
    return (
        f"<p>Since {since:%Y-%m-%d %H:%M} UTC (the week before the newest change): "
        f"{summary}. Removed papers keep the title they had.</p>\n"
        f"<details{opened}><summary>{len(recent)} change(s)</summary>\n"
        + _table("table-changes", headers, rows)
        + note
        + "</details>"
    )


def _most_cited_html(papers: pd.DataFrame, counts: pd.DataFrame) -> str:
    top = most_cited(papers, counts)
    if top.empty:
        return "<p>No citation counts yet: the sources did not know these papers.</p>"
    sources = [c for c in top.columns if c.startswith("citations_")]
    rows = [
        [
            str(i + 1),
            _paper_link(r["arxiv_id"], display_title(str(r["title"]))),
            str(int(r["citations"])),
            *(_e("" if pd.isna(r[c]) else int(r[c])) for c in sources),
            r["published"].strftime("%Y"),
        ]
        for i, r in enumerate(top.to_dict("records"))
    ]
    names = [c.removeprefix("citations_") for c in sources]
    return _table(
        "table-most-cited",
        ["#", "Paper", "Citations", *names, "Year"],
        rows,
        "Most cited papers: the largest count any source gives",
    )


def _sections_html(entries: pd.DataFrame, papers: pd.DataFrame) -> str:
    listed = entries[entries["status"] == ENRICHED_STATUS]
    rows = []
    for section in section_order(entries):
        in_section = entries[entries["section"] == section]
        ids = listed[listed["section"] == section]["arxiv_id"].dropna().unique()
        years = papers[papers["arxiv_id"].isin(ids)]["published"].dt.year
        span = f"{years.min()} to {years.max()}" if len(years) else ""
        button = (
            f'<button type="button" class="show-section" data-section="{_e(section)}">'
            f"{_e(section)}</button>"
        )
        rows.append([button, str(len(in_section)), str(len(ids)), _e(span)])
    return "<p>Pick a section to see only its papers in the table below.</p>\n" + _table(
        "table-sections", ["Section", "Entries", "Papers", "Years"], rows
    )


def _per_year_table(counts: pd.DataFrame) -> str:
    years = [str(y) for y in counts.columns]
    rows = [
        [_e(section), *(str(int(v)) for v in row), str(int(row.sum()))]
        for section, row in counts.iterrows()
    ]
    rows.append(["Total", *(str(int(v)) for v in counts.sum()), str(int(counts.to_numpy().sum()))])
    return _table(
        "table-per-year",
        ["Section", *years, "Total"],
        rows,
        "Papers per year of first arXiv version and section of first listing",
    )


def _findings_html(found: pd.DataFrame, derived: bool) -> str:
    parts = []
    if derived:
        parts.append(
            '<p class="note">No quality table (<code>quality.parquet</code>) yet: these '
            "findings come from the entries' statuses. Title mismatches and duplicates need "
            "the quality stage of <code>make refresh</code>.</p>"
        )
    if found.empty:
        parts.append("<p>No findings: every entry resolved to an arXiv paper.</p>")
    for kind, group in found.groupby("kind", sort=False):
        label = KIND_LABELS.get(str(kind), str(kind).replace("_", " ").capitalize())
        rows = [_finding_row(r) for r in group.to_dict("records")]
        parts.append(
            f'<h3 id="finding-{_e(kind)}">{_e(label)} <span class="count">{len(group)}</span></h3>'
        )
        headers = ["Where", "Section", "Listed title", "arXiv", "Candidate", "Detail"]
        attrs = f'class="findings" data-kind="{_e(kind)}"'
        parts.append(_table(f"findings-{_e(kind)}", headers, rows, attrs=attrs))
    return "\n".join(parts)


def _finding_row(r: Mapping[Hashable, Any]) -> list[str]:
    where = f"{r['list']}:{r['line']}"
    line = r["line"]
    url = list_line_url(str(r["list"]), int(line)) if isinstance(line, int | float) else None
    arxiv_id, candidate = r["arxiv_id"], r.get("candidate_id")
    score = r.get("candidate_score")
    shown = (
        f"{candidate} ({score:.0f})"
        if isinstance(score, float) and not math.isnan(score)
        else candidate
    )
    return [
        _link(where, url),
        _e(r["section"]),
        _link(r["title"], r["url"]),
        _link(arxiv_id, f"https://arxiv.org/abs/{arxiv_id}") if isinstance(arxiv_id, str) else "",
        _link(shown, f"https://arxiv.org/abs/{candidate}") if isinstance(candidate, str) else "",
        _e(r["detail"]),
    ]


def _paper_cells(r: PaperRow, with_citations: bool) -> str:
    shown = ", ".join(r.authors[:AUTHORS_SHOWN])
    more = len(r.authors) - AUTHORS_SHOWN
    if more > 0:
        shown += f" + {more} more"
    links = [_link("PDF", r.pdf_url)] + [
        _link("code" if i == 0 else f"code {i + 1}", url) for i, url in enumerate(r.code_urls)
    ]
    title_link = _link(r.title, r.url, 'class="title"')
    title = (
        f'<td data-sort="{_e(r.title)}">{title_link}'
        f"<details><summary>abstract</summary><p>{_e(r.abstract)}</p></details></td>"
    )
    cited = ""
    if with_citations:
        value = "" if r.citations is None else str(r.citations)
        cited = (
            f'<td class="num" data-sort="{-1 if r.citations is None else r.citations}">{value}</td>'
        )
    ids = f"{_link(r.arxiv_id, r.url)}<br>{' · '.join(link for link in links if link)}"
    return (
        title
        + f'<td class="ids">{ids}</td>'
        + f'<td title="{_e(", ".join(r.authors))}">{_e(shown)}</td>'
        + f"<td>{_e(r.published)}</td>"
        + f"<td>{_e('; '.join(r.sections))}</td>"
        + f"<td>{_e('; '.join(r.venues))}</td>"
        + cited
        + f"<td>{_e(r.category)}</td>"
    )


def _papers_table(rows: list[PaperRow], with_citations: bool) -> str:
    headers = ["Title", "arXiv", "Authors", "Published", "Section", "Venue"]
    headers += ["Citations"] if with_citations else []
    headers += ["Category"]
    head = "".join(f'<th scope="col"><button type="button">{h}</button></th>' for h in headers)
    body = [
        f'<tr data-arxiv-id="{_e(r.arxiv_id)}" data-sections="{_e(chr(31).join(r.sections))}">'
        f"{_paper_cells(r, with_citations)}</tr>\n"
        for r in rows
    ]
    return (
        '<div class="scroll"><table id="table-papers" class="sortable">'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{''.join(body)}</tbody></table></div>"
    )


def _papers_html(tables: TableFrames, counts: pd.DataFrame) -> str:
    rows = paper_rows(tables.papers, tables.entries, counts)
    options = "".join(
        f'<option value="{_e(s)}">{_e(s)}</option>' for s in section_order(tables.entries)
    )
    return (
        '<p class="controls"><label>Filter: <input type="search" id="paper-filter" '
        'placeholder="title, author, abstract, id…"></label> '
        '<label>Section: <select id="section-filter"><option value="">all sections</option>'
        f"{options}</select></label> "
        f'<output id="paper-count" for="paper-filter section-filter">{len(rows)} of {len(rows)} '
        'shown</output></p>\n<p class="note">Click a column header to sort; '
        "<em>abstract</em> opens a paper's abstract in place.</p>\n"
        + _papers_table(rows, tables.citations is not None)
    )


_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:0 auto;
max-width:1200px;padding:0 1rem 3rem}
h1{margin:1.5rem 0 .2rem}h2{margin-top:2.5rem;border-bottom:1px solid #d0d7de}
nav{display:flex;flex-wrap:wrap;gap:.2rem 1rem}figure{margin:1rem 0}
img{max-width:100%;height:auto}
figcaption,.note,caption{color:#57606a;font-size:.9rem}caption{text-align:left}
dl{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.6rem}
dl div{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem}dt{color:#57606a;
font-size:.85rem}dd{margin:0;font-size:1.4rem;font-weight:600}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.5rem 0}
th{white-space:nowrap}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
tbody tr:nth-child(even){background:#f6f8fa}#table-per-year td,#table-per-year th+th,td.num{
text-align:right}.count{color:#57606a;font-weight:400}
#table-papers td:first-child{min-width:16rem}td.ids{white-space:nowrap}
details summary{cursor:pointer;color:#57606a;font-size:.85rem}details p{margin:.3rem 0}
.sortable thead th{position:sticky;top:0;background:#fff}
.sortable button{all:unset;cursor:pointer;font-weight:600}
.sortable button::after{content:" \\2195";color:#8c959f}
th[aria-sort=ascending] button::after{content:" \\2191"}
th[aria-sort=descending] button::after{content:" \\2193"}
button.show-section{all:unset;cursor:pointer;color:#0969da;text-decoration:underline}
.controls{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
input[type=search],select{font:inherit;padding:.3rem .5rem;max-width:100%}
input[type=search]{width:20rem}#paper-count{color:#57606a}
@media (max-width:600px){dl{grid-template-columns:1fr 1fr}dd{font-size:1.1rem}
th{white-space:normal}#table-papers td:first-child{min-width:12rem}}
"""

_JS = """
// Click a header to sort by that column, again to reverse. The box and the section menu
// filter the rows (the box searches all of a row's text, abstract included).
for (const table of document.querySelectorAll("table.sortable")) {
  const headers = [...table.tHead.rows[0].cells], body = table.tBodies[0];
  headers.forEach((th, col) => th.querySelector("button").addEventListener("click", () => {
    const up = th.getAttribute("aria-sort") !== "ascending";
    headers.forEach((h) => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    const key = (row) => row.cells[col].dataset.sort ?? row.cells[col].textContent.trim();
    const rows = [...body.rows].sort((a, b) =>
      key(a).localeCompare(key(b), undefined, {numeric: true, sensitivity: "base"}));
    body.append(...(up ? rows : rows.reverse()));
  }));
}
const filter = document.getElementById("paper-filter");
const section = document.getElementById("section-filter");
const count = document.getElementById("paper-count");
const rows = [...document.querySelectorAll("#table-papers tbody tr")];
function apply() {
  const q = filter.value.toLowerCase(), s = section.value;
  let shown = 0;
  for (const row of rows) {
    const hit = row.textContent.toLowerCase().includes(q) &&
      (!s || row.dataset.sections.split("\\u001f").includes(s));
    row.hidden = !hit;
    shown += hit;
  }
  count.textContent = `${shown} of ${rows.length} shown`;
}
filter.addEventListener("input", apply);
section.addEventListener("change", apply);
for (const button of document.querySelectorAll("button.show-section"))
  button.addEventListener("click", () => {
    section.value = button.dataset.section;
    apply();
    document.getElementById("papers").scrollIntoView();
  });
"""


def render_html(tables: TableFrames, images: Images) -> str:
    """The whole page; ``images`` are the figures as the page references them."""
    stats = version_stats(tables.papers)
    found = findings(tables.entries, tables.quality)
    counts = citation_counts(tables.citations)
    lists = ", ".join(sorted(tables.entries["list"].unique()))
    sections = _sections(tables, images, stats, found, counts)
    nav = "".join(f'<a href="#{key}">{_e(title)}</a>' for key, title, _ in sections)
    body = "\n".join(
        f'<section id="{key}">\n<h2>{_e(title)}</h2>\n{content}\n</section>'
        for key, title, content in sections
    )
    summary = _summary(tables, stats, found, counts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Paper list report: {_e(lists)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<header>\n<h1>Paper list report</h1>\n<p>{_e(lists)}</p>\n</header>\n"
        f"<nav>{nav}</nav>\n"
        f'<section id="summary">\n<h2>Summary</h2>\n<dl>{summary}</dl>\n'
        f"</section>\n{body}\n<script>{_JS}</script>\n</body>\n</html>\n"
    )


def _sections(
    tables: TableFrames,
    images: Images,
    stats: VersionStats,
    found: pd.DataFrame,
    counts: pd.DataFrame,
) -> list[tuple[str, str, str]]:
    """``(anchor, heading, HTML)`` for each section after the summary, in page order."""
    entries, papers = tables.entries, tables.papers
    per_year = papers_per_year(papers, entries)
    categories = primary_categories(papers)
    authors = top_authors(tables.authors, papers)
    versions_table, categories_table, authors_table = _number_tables(stats, categories, authors)
    cited = (
        [("most-cited", "Most cited", _most_cited_html(papers, counts))]
        if tables.citations is not None
        else []
    )
    return [
        ("changes", "Changed recently", _changes_html(tables)),
        *cited,
        (
            "per-year",
            "Papers per year",
            _figure(
                images.per_year,
                "Stacked bar chart of papers per year by section",
                "Papers by year of their first arXiv version, stacked by the section that first "
                "lists them.",
                _per_year_table(per_year),
            ),
        ),
        ("by-section", "Sections", _sections_html(entries, papers)),
        (
            "versions",
            "Versions",
            _figure(
                images.versions,
                "Bar chart of version counts and histogram of days to latest",
                f"{stats.several} of {stats.papers} papers have more than one arXiv version.",
                versions_table,
            ),
        ),
        (
            "categories",
            "Primary categories",
            _figure(
                images.categories,
                "Bar chart of papers per primary category",
                f"The {min(TOP_CATEGORIES, len(categories))} most frequent of "
                f"{len(categories)} primary categories.",
                categories_table,
            ),
        ),
        (
            "authors",
            "Top authors",
            _figure(
                images.authors,
                "Bar chart of authors with most listed papers",
                "Authors counted by the listed papers they sign; spellings are not merged.",
                authors_table,
            ),
        ),
        ("quality", "Quality findings", _findings_html(found, tables.quality is None)),
        ("papers", "All papers", _papers_html(tables, counts)),
    ]


def _number_tables(
    stats: VersionStats, categories: pd.DataFrame, authors: pd.DataFrame
) -> tuple[str, str, str]:
    """The tables under the versions, categories and authors figures."""
    versions_table = _table(
        "table-versions",
        ["Versions", "Papers"],
        [[str(k), str(v)] for k, v in stats.by_count.items()],
        "Papers by number of arXiv versions",
    )
    categories_table = _table(
        "table-categories",
        ["Primary category", "Papers"],
        [
            [_e(c), str(n)]
            for c, n in zip(categories["category"], categories["papers"], strict=True)
        ],
        "Papers by primary arXiv category",
    )
    authors_table = _table(
        "table-authors",
        ["Author", "Papers"],
        [[_e(a), str(n)] for a, n in zip(authors["name"], authors["papers"], strict=True)],
        f"The {len(authors)} authors with most listed papers (names as arXiv gives them)",
    )
    return versions_table, categories_table, authors_table


def figures(tables: TableFrames) -> dict[str, Figure]:
    """File stem -> figure, for every plot of the page."""
    papers = tables.papers
    return {
        "papers_per_year": plot_papers_per_year(papers_per_year(papers, tables.entries)),
        "versions": plot_versions(version_stats(papers)),
        "categories": plot_ranking(
            primary_categories(papers), "category", "Papers", TOP_CATEGORIES
        ),
        "authors": plot_ranking(
            top_authors(tables.authors, papers, 15), "name", "Listed papers", 15
        ),
    }


# -- the edge --------------------------------------------------------------------------------


def default_output(data_dir: Path) -> Path:
    return Settings(data_dir=data_dir).site_dir / "index.html"


def svg_data_uri(fig: Figure) -> str:
    """The figure as an SVG ``data:`` URI: text drawn as paths (the page looks the same
    whatever fonts the reader has), fixed ids and no date (the same tables give the same
    bytes), and a tight box, so no label is cut."""
    buffer = io.BytesIO()
    with mpl.rc_context({"svg.fonttype": "path", "svg.hashsalt": "report"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def render_report(tables: TableFrames) -> str:
    """The page for ``tables``, figures embedded (pure but for matplotlib's work)."""
    with plot_style():
        uris = {stem: svg_data_uri(fig) for stem, fig in figures(tables).items()}
    images = Images(
        per_year=uris["papers_per_year"],
        versions=uris["versions"],
        categories=uris["categories"],
        authors=uris["authors"],
    )
    return render_html(tables, images)


def build_report(
    data_dir: Path, output: Path | None = None, tables: TableFrames | None = None
) -> Path:
    """Write the report of ``data_dir``'s tables to ``output`` (default
    ``DIR/site/index.html``; a directory gets ``index.html`` inside) in one atomic
    replace, and return its path. Raises InputError when there are no tables."""
    if tables is None:
        tables = read_current(Settings(data_dir=data_dir).enriched_dir).to_pandas()
    output = output or default_output(data_dir)
    if output.is_dir():
        output = output / "index.html"
    write_file_atomic(output, render_report(tables).encode("utf-8"))
    return output
