"""A realistic table set for the report, export and notebook tests.

The hard cases are here on purpose: accents, ``& % _ # $ ~ ^`` in titles, LaTeX in titles,
names with suffixes and "von" parts, a group author, a non-Latin name, citation-key
collisions, multi-version papers, an old-style id, a paper listed in two sections, and
entries that are unresolved, not found, invalid (one with a ``javascript:`` link) or whose
listed title does not match arXiv's.

Tests compute what they expect from the written tables, never from counts of this sample,
so that the sample can be swapped for the tables of a real refresh.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.schemas import AUTHORS, CHANGES, CITATIONS, ENTRIES, PAPERS
from pipeline.venues import ENTRY_VENUE_SOURCES, normalize_venue

QUALITY = pa.schema(
    [
        pa.field("list", pa.string(), nullable=False),
        pa.field("line", pa.int32(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
    ]
)

FETCHED_AT = datetime(2025, 1, 15, 8, 30, 12, 345678, tzinfo=UTC)

# (id, title, authors, published, versions, days to latest, category, extra fields)
_SPECIAL: list[tuple[str, str, list[str], datetime, int, int, str, dict[str, Any]]] = [
    (
        "2304.05977",
        "ImageReward: Learning and Evaluating Human Preferences for Text-to-Image Generation",
        ["Jiazheng Xu", "Xiao Liu", "Yuchen Wu", "Yuxuan Tong", "Qinkai Li", "Ming Ding"],
        datetime(2023, 4, 12, 17, 59, 59, tzinfo=UTC),
        4,
        220,
        "cs.CV",
        {"comment": "NeurIPS 2023 camera ready; 32 pages"},
    ),
    (
        "2305.16381",
        "Café & Crème: 100% Robust_Learning with #Tags on a $5 Budget",
        ["José García-López", "Zoë Ø'Brien", "Łukasz Kaiser", "Jürgen Schmidhuber"],
        datetime(2023, 5, 25, 9, 0, tzinfo=UTC),
        2,
        41,
        "cs.LG",
        {"doi": "10.1000/robust_learning.2023", "categories": ["cs.LG", "cs.AI", "stat.ML"]},
    ),
    (
        "2402.10210",
        r"$\alpha$-Divergence Preference Optimization for {D}iffusion with $\mathcal{O}(n)$ Cost",
        ["François Fleuret", "Ana Núñez", "Søren Hauberg"],
        datetime(2024, 2, 15, 12, 0, tzinfo=UTC),
        1,
        0,
        "stat.ML",
        {"journal_ref": "Proceedings of ICML 2024, PMLR 235:1-20"},
    ),
    (
        "2310.03739",
        r"Schr\"odinger Bridges Beat Diffusion Models on \emph{Image} Alignment",
        ["Robert Smith Jr.", "Ludwig van der Berg", "Ngọc Trần", "Đorđe Petrović"],
        datetime(2023, 10, 5, 8, 0, tzinfo=UTC),
        3,
        400,
        "cs.LG",
        {},
    ),
    (
        "hep-th/9901001",
        "Gauge Theories on the Noncommutative Torus and the Seiberg-Witten Map",
        ["Nathan Seiberg", "Edward Witten"],
        datetime(1999, 1, 4, 0, 0, tzinfo=UTC),
        3,
        250,
        "hep-th",
        {
            "journal_ref": "JHEP 9909 (1999) 032",
            "doi": "10.1088/1126-6708/1999/09/032",
            "categories": ["hep-th"],
        },
    ),
    (
        "2311.12908",
        "Diffusion Model Alignment Using Direct Preference Optimization",
        ["Wei Wang", "Meihua Dang", "Stefano Ermon"],
        datetime(2023, 11, 21, 18, 0, tzinfo=UTC),
        1,
        0,
        "cs.CV",
        {},
    ),
    (
        "2306.00001",
        "Diffusion Policies Revisited: Scaling to ~1B Images with x^2 Loss",
        ["Wei Wang", "Stefano Ermon"],
        datetime(2023, 6, 1, 10, 0, tzinfo=UTC),
        2,
        15,
        "cs.LG",
        {},
    ),
    (
        "2312.00002",
        "Diffusion: “Aligned” Sampling — A Study of Δ-Tuning",
        ["Xin Wang", "王伟"],
        datetime(2023, 12, 2, 10, 0, tzinfo=UTC),
        1,
        0,
        "cs.AI",
        {},
    ),
    (
        "2401.00003",
        "On the Diffusion of Preferences in LAION-5B",
        ["LAION Collaboration"],
        datetime(2024, 1, 3, 10, 0, tzinfo=UTC),
        1,
        0,
        "cs.CL",
        {"journal_ref": "Transactions on Machine Learning Research (2024)"},
    ),
    (
        "2402.08714",
        "PRDP: Proximal Reward Difference Prediction for Large-Scale Reward Finetuning",
        ["Fei Deng", "Qifei Wang", "Wei Wei", "Matthias Grundmann", "Tingbo Hou", "王伟"],
        datetime(2024, 2, 13, 18, 59, tzinfo=UTC),
        2,
        60,
        "cs.CV",
        {},
    ),
]

_NAMES = [
    "Kevin Black",
    "Michael Janner",
    "Yilun Du",
    "Ilya Kostrikov",
    "Sergey Levine",
    "Kimin Lee",
    "Hao Liu",
    "Pieter Abbeel",
    "Shixiang Shane Gu",
    "Mihir Prabhudesai",
    "Katerina Fragkiadaki",
    "Deepak Pathak",
]
_TOPICS = [
    "Reward Backpropagation",
    "Human Feedback",
    "Preference Alignment",
    "Noise Optimization",
    "Prompt Editing",
    "Policy Gradients",
    "Value Guidance",
    "Self-Play Fine-Tuning",
    "Safety Alignment",
    "Video Generation",
]
_FORMS = ["Aligning Diffusion Models with {}", "{} for Text-to-Image Models", "Scalable {}"]
_CATEGORIES = ["cs.CV", "cs.LG", "cs.AI", "stat.ML", "cs.CL"]
_SECTIONS = [
    "Alignment Techniques / RLHF",
    "Alignment Techniques / DPO",
    "Training-Free Alignment",
    "Benchmarks & Evaluation",
    "Surveys",
]
_VENUES = ["NeurIPS", "ICLR", "CVPR", "ICML", "arXiv", "TMLR", "arXiv", "arXiv"]


def _filler() -> list[tuple[str, str, list[str], datetime, int, int, str, dict[str, Any]]]:
    papers = []
    for i in range(22):
        year = 2021 + i % 5
        published = datetime(year, 1 + (i * 5) % 12, 1 + (i * 7) % 27, 12, tzinfo=UTC)
        authors = [_NAMES[(i * 3 + k) % len(_NAMES)] for k in range(1 + i % 4)]
        versions = 1 + (i * 7) % 4
        papers.append(
            (
                f"{year % 100:02d}{published.month:02d}.{10000 + i * 37:05d}",
                _FORMS[i % 3].format(_TOPICS[i % len(_TOPICS)]) + f" {i}",
                authors,
                published,
                versions,
                0 if versions == 1 else 9 * i + 3,
                _CATEGORIES[i % len(_CATEGORIES)],
                {},
            )
        )
    return papers


def _paper_rows() -> list[dict[str, Any]]:
    rows = []
    for arxiv_id, title, authors, published, version, days, category, extra in _SPECIAL + _filler():
        rows.append(
            {
                "arxiv_id": arxiv_id,
                "version": version,
                "title": title,
                "abstract": (
                    f"We study {title.lower()}. Our method aligns diffusion models with human "
                    "preference data and improves sample quality."
                ),
                "authors": authors,
                "published": published,
                "updated": published + timedelta(days=days, hours=3 if days else 0),
                "primary_category": category,
                "categories": extra.get(
                    "categories", [category, "cs.LG"] if category != "cs.LG" else ["cs.LG"]
                ),
                "doi": extra.get("doi"),
                "journal_ref": extra.get("journal_ref"),
                "comment": extra.get("comment"),
                "abs_url": f"http://arxiv.org/abs/{arxiv_id}v{version}",
                "pdf_url": f"http://arxiv.org/pdf/{arxiv_id}v{version}",
                "fetched_at": FETCHED_AT,
            }
        )
    return rows


def _entry(list_name: str, line: int, section: str, title: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(ENTRIES.names)
    row.update(list=list_name, line=line, section=section, title=title)
    row.update(resolution="none", status="unresolved")
    row.update(fields)
    return row


def _citation_rows(papers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts from both sources for most papers; one paper unknown to OpenAlex, one to
    both (all values null), and ties, as real sources give them."""
    rows = []
    for i, paper in enumerate(papers):
        for source in ("semanticscholar", "openalex"):
            unknown = i == 7 or (source == "openalex" and i == 4)
            count = None if unknown else (i * 37) % 400 + (5 if source == "openalex" else 0)
            rows.append(
                {
                    "arxiv_id": paper["arxiv_id"],
                    "source": source,
                    "citation_count": count,
                    "influential_citation_count": None
                    if unknown or source == "openalex"
                    else (count or 0) // 10,
                    "venue": None,
                    "year": None,
                    "oa_url": None
                    if unknown
                    else f"https://example.org/oa/{paper['arxiv_id']}.pdf",
                    "fetched_at": FETCHED_AT,
                }
            )
    return rows


def _change_rows(papers: list[dict[str, Any]], main: str) -> list[dict[str, Any]]:
    """A first run that added every paper, then a week later: a new version, a title
    change, and a paper removed from the list (no longer in the papers table)."""
    first = datetime(2025, 1, 1, 3, 17, tzinfo=UTC)
    rows = [
        {"run_id": "20250101T031700Z", "at": first, "arxiv_id": p["arxiv_id"], "list": main,
         "change": "added", "detail": None, "title": p["title"]}
        for p in papers
    ]  # fmt: skip
    later, run = FETCHED_AT, "20250115T083012Z"
    rows += [
        {"run_id": run, "at": later, "arxiv_id": papers[0]["arxiv_id"], "list": None,
         "change": "new_version", "detail": "v3 -> v4", "title": papers[0]["title"]},
        {"run_id": run, "at": later, "arxiv_id": papers[1]["arxiv_id"], "list": None,
         "change": "title_changed", "detail": "Old title -> " + papers[1]["title"],
         "title": papers[1]["title"]},
        {"run_id": run, "at": later, "arxiv_id": REMOVED_ID, "list": main,
         "change": "removed", "detail": None, "title": REMOVED_TITLE},
    ]  # fmt: skip
    return rows


REMOVED_ID = "2301.99999"
REMOVED_TITLE = "A Removed Paper on Diffusion Alignment"
"""A paper the latest run saw leave the list: only changes.parquet still names it."""


def write_sample_tables(data_dir: Path, citations: bool = True, changes: bool = True) -> None:
    """Write entries, papers, authors and quality tables under ``data_dir/enriched``, and
    citations and changes unless told not to."""
    papers = _paper_rows()
    main, extra = "awesome-diffusion.md", "reading-group.md"
    entries = []
    line = 10
    for i, paper in enumerate(papers):
        if i % 6 == 0:
            line += 2  # a heading between sections
        venue = _VENUES[i % len(_VENUES)]
        normalized, source = normalize_venue(
            dict(
                zip(
                    ENTRY_VENUE_SOURCES,
                    (venue, paper["journal_ref"], paper["comment"]),
                    strict=True,
                )
            )
        )
        listed_version = 2 if paper["version"] > 1 and i % 2 else None
        suffix = f"v{listed_version}" if listed_version else ""
        entries.append(
            _entry(
                main,
                line,
                _SECTIONS[(i // 6) % len(_SECTIONS)],
                paper["title"] if i != 3 else "Schrodinger Bridges for Alignment",
                venue=venue,
                year=paper["published"].year,
                url=f"https://arxiv.org/pdf/{paper['arxiv_id']}{suffix}",
                code_url="https://github.com/example/repo" if i % 4 == 0 else None,
                arxiv_id=paper["arxiv_id"],
                arxiv_version=listed_version,
                resolution="title" if i == 5 else "link",
                status="enriched",
                venue_normalized=normalized,
                venue_source=source,
            )
        )
        line += 1
    line += 2
    entries += [
        _entry(
            main,
            line,
            "Surveys",
            "A Missing Survey of Diffusion Alignment",
            venue="arXiv",
            year=2024,
            url="https://arxiv.org/abs/2401.99999",
            arxiv_id="2401.99999",
            resolution="link",
            status="not_found",
            detail="arXiv has no paper 2401.99999",
        ),
        _entry(
            main,
            line + 1,
            "Surveys",
            "Unpublished <b>Notes</b> & Slides",
            venue="Blog",
            year=2024,
            url="https://example.org/notes?a=1&b=2",
            detail="no arXiv link and no title match",
        ),
        _entry(
            main,
            line + 2,
            "Benchmarks & Evaluation",
            "A Benchmark with a Broken Link",
            venue="CVPR",
            year=2024,
            url="javascript:alert(1)",
            status="invalid",
            detail="malformed arXiv id '2401.1234x'",
        ),
        _entry(
            extra,
            3,
            "Reading group / 2024",
            papers[0]["title"],
            venue="NeurIPS",
            year=2023,
            url=papers[0]["abs_url"],
            arxiv_id=papers[0]["arxiv_id"],
            resolution="link",
            status="enriched",
        ),
        _entry(
            extra,
            4,
            "Reading group / 2024",
            papers[8]["title"],
            url="https://arxiv.org/abs/" + papers[8]["arxiv_id"],
            arxiv_id=papers[8]["arxiv_id"],
            resolution="link",
            status="enriched",
        ),
    ]
    quality = [
        {"list": e["list"], "line": e["line"], "kind": e["status"], "detail": e["detail"]}
        for e in entries
        if e["status"] != "enriched"
    ]
    quality.append(
        {
            "list": main,
            "line": entries[3]["line"],
            "kind": "title_mismatch",
            "detail": f"arXiv title: {papers[3]['title']}",
        }
    )
    quality.append(
        {
            "list": extra,
            "line": 3,
            "kind": "duplicate",
            "detail": f"{papers[0]['arxiv_id']} is also listed at {main}:{entries[0]['line']}",
        }
    )
    authors = [
        {
            "arxiv_id": p["arxiv_id"],
            "position": pos,
            "name": name,
            "affiliations": ["Stanford University"] if "Ermon" in name else [],
        }
        for p in papers
        for pos, name in enumerate(p["authors"])
    ]
    out = data_dir / "enriched"
    out.mkdir(parents=True, exist_ok=True)
    tables = [
        ("entries", entries, ENTRIES),
        ("papers", papers, PAPERS),
        ("authors", authors, AUTHORS),
        ("quality", quality, QUALITY),
    ]
    if citations:
        tables.append(("citations", _citation_rows(papers), CITATIONS))
    if changes:
        tables.append(("changes", _change_rows(papers, main), CHANGES))
    for name, rows, schema in tables:
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), out / f"{name}.parquet")
