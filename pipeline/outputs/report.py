"""Tables -> one self-contained HTML report with PNG figures beside it.

The numbers behind every figure come from pure functions over DataFrames, and each figure
is followed by a table of the same numbers, so a reader (or a test) can check the plot and
a screen reader gets the data. ``build_report`` is the only function that touches files: it
renders into a temporary directory beside the output and moves the page into place only
when everything rendered, so a failed run never leaves half a page.
"""

from __future__ import annotations

import contextlib
import html
import math
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import matplotlib as mpl
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pipeline.config import Settings
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
    url, arxiv_id, detail. Without a quality table, the entries' own statuses are used."""
    keys = ["list", "line"]
    about = entries[[*keys, "section", "title", "url", "arxiv_id"]]
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


@dataclass(frozen=True)
class PaperRow:
    arxiv_id: str
    title: str
    url: str
    authors: list[str]
    published: str
    sections: list[str]
    venues: list[str]
    category: str


def paper_rows(papers: pd.DataFrame, entries: pd.DataFrame) -> list[PaperRow]:
    """The sortable table's rows, newest first; sections and venues from every listing."""
    listed = entries[entries["status"] == ENRICHED_STATUS].sort_values(["list", "line"])
    sections: dict[str, list[str]] = {}
    venues: dict[str, list[str]] = {}
    for entry in listed.to_dict("records"):
        arxiv_id = str(entry["arxiv_id"])
        _add(sections.setdefault(arxiv_id, []), entry["section"])
        if pd.notna(entry["venue"]):
            year = f" {int(entry['year'])}" if pd.notna(entry["year"]) else ""
            _add(venues.setdefault(arxiv_id, []), f"{entry['venue']}{year}")
    ordered = papers.sort_values(["published", "arxiv_id"], ascending=[False, True])
    return [
        PaperRow(
            arxiv_id=str(p["arxiv_id"]),
            title=display_title(str(p["title"])),
            url=str(p["abs_url"]),
            authors=[str(a) for a in p["authors"]],
            published=p["published"].strftime("%Y-%m-%d"),
            sections=sections.get(str(p["arxiv_id"]), []),
            venues=venues.get(str(p["arxiv_id"]), []),
            category=str(p["primary_category"]),
        )
        for p in ordered.to_dict("records")
    ]


def _add(values: list[str], value: object) -> None:
    if isinstance(value, str) and value not in values:
        values.append(value)


# -- the figures (pure: a Figure per plot, never saved here) --------------------------------

_FIG_WIDTH = 9.0
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
        ax.bar(years, values, bottom=bottom, label=_shorten(str(section)), color=color)
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
    fig.legend(
        loc="outside lower center",
        ncols=2,
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


def _link(text: object, url: object) -> str:
    href = safe_href(url)
    return f'<a href="{_e(href)}">{_e(text)}</a>' if href else _e(text)


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
        f'<table id="{table_id}"{" " + attrs if attrs else ""}>'
        + (f"<caption>{_e(caption)}</caption>" if caption else "")
        + f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>"
    )


def _figure(src: str, alt: str, caption: str, data_table: str) -> str:
    return (
        f'<figure><img src="{_e(src)}" alt="{_e(alt)}"><figcaption>{_e(caption)}</figcaption>'
        f"</figure>\n<details><summary>The numbers</summary>\n{data_table}\n</details>"
    )


@dataclass(frozen=True)
class Images:
    """Relative paths of the figures, as the page references them."""

    per_year: str
    versions: str
    categories: str
    authors: str


def _summary(tables: TableFrames, stats: VersionStats, found: pd.DataFrame) -> str:
    entries, papers = tables.entries, tables.papers
    median = stats.median_days
    share = f" ({stats.several / stats.papers:.0%})" if stats.papers else ""
    fetched = papers["fetched_at"].max()
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
        (
            "fetched",
            "Metadata fetched up to",
            "n/a" if pd.isna(fetched) else fetched.strftime("%Y-%m-%d %H:%M UTC"),
        ),
    ]
    return "".join(
        f'<div><dt>{_e(label)}</dt><dd data-key="{key}">{_e(value)}</dd></div>'
        for key, label, value in items
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
        rows = [
            [
                _e(f"{r['list']}:{r['line']}"),
                _e(r["section"]),
                _link(r["title"], r["url"]),
                _link(r["arxiv_id"], f"https://arxiv.org/abs/{r['arxiv_id']}")
                if isinstance(r["arxiv_id"], str)
                else "",
                _e(r["detail"]),
            ]
            for r in group.to_dict("records")
        ]
        parts.append(
            f'<h3 id="finding-{_e(kind)}">{_e(label)} <span class="count">{len(group)}</span></h3>'
        )
        headers = ["Where", "Section", "Listed title", "arXiv", "Detail"]
        attrs = f'class="findings" data-kind="{_e(kind)}"'
        parts.append(_table(f"findings-{_e(kind)}", headers, rows, attrs=attrs))
    return "\n".join(parts)


def _papers_table(rows: list[PaperRow]) -> str:
    headers = ["Title", "Authors", "Published", "Section", "Venue", "Category"]
    head = "".join(f'<th scope="col"><button type="button">{h}</button></th>' for h in headers)
    body = []
    for r in rows:
        shown = ", ".join(r.authors[:AUTHORS_SHOWN])
        more = len(r.authors) - AUTHORS_SHOWN
        if more > 0:
            shown += f" + {more} more"
        body.append(
            f'<tr data-arxiv-id="{_e(r.arxiv_id)}">'
            f"<td>{_link(r.title, r.url)}</td>"
            f'<td title="{_e(", ".join(r.authors))}">{_e(shown)}</td>'
            f"<td>{_e(r.published)}</td>"
            f"<td>{_e('; '.join(r.sections))}</td>"
            f"<td>{_e('; '.join(r.venues))}</td>"
            f"<td>{_e(r.category)}</td></tr>\n"
        )
    return (
        '<table id="table-papers" class="sortable">'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{''.join(body)}</tbody></table>"
    )


_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:0 auto;
max-width:1100px;padding:0 1.2rem 3rem}
h1{margin:1.5rem 0 .2rem}h2{margin-top:2.5rem;border-bottom:1px solid #d0d7de}
nav a{margin-right:1rem}figure{margin:1rem 0}img{max-width:100%;height:auto}
figcaption,.note,caption{color:#57606a;font-size:.9rem}caption{text-align:left}
dl{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:.6rem}
dl div{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem}dt{color:#57606a;
font-size:.85rem}dd{margin:0;font-size:1.4rem;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.5rem 0}
th{white-space:nowrap}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
tbody tr:nth-child(even){background:#f6f8fa}#table-per-year td,#table-per-year th+th{
text-align:right}.count{color:#57606a;font-weight:400}
.sortable thead th{position:sticky;top:0;background:#fff}
.sortable button{all:unset;cursor:pointer;font-weight:600}
.sortable button::after{content:" \\2195";color:#8c959f}
th[aria-sort=ascending] button::after{content:" \\2191"}
th[aria-sort=descending] button::after{content:" \\2193"}
input[type=search]{font:inherit;padding:.3rem .5rem;width:20rem;max-width:100%}
"""

_JS = """
// Click a header to sort by that column, again to reverse; the box filters rows by text.
for (const table of document.querySelectorAll("table.sortable")) {
  const headers = [...table.tHead.rows[0].cells], body = table.tBodies[0];
  headers.forEach((th, col) => th.querySelector("button").addEventListener("click", () => {
    const up = th.getAttribute("aria-sort") !== "ascending";
    headers.forEach((h) => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    const text = (row) => row.cells[col].textContent.trim();
    const rows = [...body.rows].sort((a, b) =>
      text(a).localeCompare(text(b), undefined, {numeric: true, sensitivity: "base"}));
    body.append(...(up ? rows : rows.reverse()));
  }));
}
const filter = document.getElementById("paper-filter");
filter.addEventListener("input", () => {
  const q = filter.value.toLowerCase();
  for (const row of document.querySelectorAll("#table-papers tbody tr"))
    row.hidden = !row.textContent.toLowerCase().includes(q);
});
"""


def render_html(tables: TableFrames, images: Images) -> str:
    """The whole page; ``images`` are the figures' paths relative to it."""
    stats = version_stats(tables.papers)
    found = findings(tables.entries, tables.quality)
    lists = ", ".join(sorted(tables.entries["list"].unique()))
    sections = _sections(tables, images, stats, found)
    nav = "".join(f'<a href="#{key}">{_e(title)}</a>' for key, title, _ in sections)
    body = "\n".join(
        f'<section id="{key}">\n<h2>{_e(title)}</h2>\n{content}\n</section>'
        for key, title, content in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Paper list report: {_e(lists)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<header>\n<h1>Paper list report</h1>\n<p>{_e(lists)}</p>\n</header>\n"
        f"<nav>{nav}</nav>\n"
        f'<section id="summary">\n<h2>Summary</h2>\n<dl>{_summary(tables, stats, found)}</dl>\n'
        f"</section>\n{body}\n<script>{_JS}</script>\n</body>\n</html>\n"
    )


def _sections(
    tables: TableFrames, images: Images, stats: VersionStats, found: pd.DataFrame
) -> list[tuple[str, str, str]]:
    """``(anchor, heading, HTML)`` for each section after the summary, in page order."""
    entries, papers = tables.entries, tables.papers
    counts = papers_per_year(papers, entries)
    categories = primary_categories(papers)
    authors = top_authors(tables.authors, papers)
    versions_table, categories_table, authors_table = _number_tables(stats, categories, authors)
    return [
        (
            "per-year",
            "Papers per year",
            _figure(
                images.per_year,
                "Stacked bar chart of papers per year by section",
                "Papers by year of their first arXiv version, stacked by the section that first "
                "lists them.",
                _per_year_table(counts),
            ),
        ),
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
        (
            "papers",
            "All papers",
            '<p><label>Filter: <input type="search" id="paper-filter" '
            'placeholder="title, author, section…"></label> Click a column header to sort.</p>\n'
            + _papers_table(paper_rows(papers, entries)),
        ),
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
    return Settings(data_dir=data_dir).enriched_dir / "report" / "index.html"


def build_report(data_dir: Path, output: Path | None = None) -> Path:
    """Write the report of ``data_dir``'s tables to ``output`` (figures in ``<stem>_files/``
    beside it) and return its path. Raises InputError when there are no tables."""
    tables = read_current(Settings(data_dir=data_dir).enriched_dir).to_pandas()
    output = output or default_output(data_dir)
    output.parent.mkdir(parents=True, exist_ok=True)
    assets = f"{output.stem}_files"
    staging = Path(tempfile.mkdtemp(prefix=f".{output.stem}-", dir=output.parent))
    try:
        (staging / assets).mkdir()
        with plot_style():
            for stem, fig in figures(tables).items():
                fig.savefig(staging / assets / f"{stem}.png", dpi=_DPI)
        images = Images(
            per_year=f"{assets}/papers_per_year.png",
            versions=f"{assets}/versions.png",
            categories=f"{assets}/categories.png",
            authors=f"{assets}/authors.png",
        )
        (staging / output.name).write_text(render_html(tables, images), encoding="utf-8")
        _move_into_place(staging, output, assets)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output


def _move_into_place(staging: Path, output: Path, assets: str) -> None:
    # Figures first, then the page: a reader sees the old page or the new one, and at worst
    # the old page with new figures for an instant, never a page with missing figures.
    target = output.parent / assets
    if target.exists():
        target.rename(staging / "previous")
    (staging / assets).rename(target)
    (staging / output.name).replace(output)
