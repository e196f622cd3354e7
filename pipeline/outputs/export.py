"""Tables -> BibTeX, CSV and JSON lines (pure), and the edge that reads and writes files.

BibTeX: one entry per paper. ``@article`` / ``@inproceedings`` when the paper's
``journal_ref`` or its listed venue names where it appeared, ``@misc`` otherwise; every entry
carries ``eprint``, ``archivePrefix = {arXiv}`` and ``primaryClass`` so that biblatex and
natbib styles can print the arXiv identifier. Citation keys are ``<lastname><year><word>``
from the first author, the year of version 1 and the first significant title word.

CSV / JSON lines: one row per list entry, the entry's columns followed by its paper's
columns prefixed ``paper_`` (empty when the entry has no paper).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd
import pyarrow as pa

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.schemas import AUTHORS, ENTRIES, PAPERS
from pipeline.store.tables import read_table, write_file_atomic

Format = Literal["bibtex", "csv", "jsonl"]
FORMATS: tuple[str, ...] = get_args(Format)

DEFAULT_FILES: dict[str, str] = {
    "bibtex": "papers.bib",
    "csv": "entries.csv",
    "jsonl": "entries.jsonl",
}
"""Format -> file name under ``DIR/enriched/export/``."""

Record = dict[str, Any]


# -- reading the tables (edge) --------------------------------------------------------------


@dataclass(frozen=True)
class EnrichedTables:
    """The current table set as DataFrames (``quality`` is None when the stage has not run)."""

    entries: pd.DataFrame
    papers: pd.DataFrame
    authors: pd.DataFrame
    quality: pd.DataFrame | None


QUALITY_COLUMNS = ("list", "line", "kind", "detail")


def read_tables(data_dir: Path) -> EnrichedTables:
    """Read ``DIR/enriched/*.parquet``; InputError saying what to run when they are unusable."""
    enriched = Settings(data_dir=data_dir).enriched_dir
    frames: dict[str, pd.DataFrame] = {}
    for name, schema in (("entries", ENTRIES), ("papers", PAPERS), ("authors", AUTHORS)):
        path = enriched / f"{name}.parquet"
        if not path.exists():
            raise InputError(
                f"no tables in {enriched} ({path.name} is missing); run `make refresh` first"
            )
        try:
            table = read_table(enriched, name, schema)
        except (OSError, pa.ArrowException) as err:
            raise InputError(
                f"cannot read {path}: {err}; run `make refresh` to rebuild it"
            ) from err
        if table is None:
            raise InputError(
                f"{path} does not have the columns of this version's {name} table; "
                "run `make refresh` to rebuild it"
            )
        frames[name] = table.to_pandas()
    quality = None
    quality_path = enriched / "quality.parquet"
    if quality_path.exists():
        try:
            quality = pd.read_parquet(quality_path)
        except (OSError, pa.ArrowException) as err:
            raise InputError(
                f"cannot read {quality_path}: {err}; run `make refresh` to rebuild it"
            ) from err
        missing = [c for c in QUALITY_COLUMNS if c not in quality.columns]
        if missing:
            raise InputError(
                f"{quality_path} lacks the columns {missing}; run `make refresh` to rebuild it"
            )
    return EnrichedTables(frames["entries"], frames["papers"], frames["authors"], quality)


def records(df: pd.DataFrame, schema: pa.Schema) -> list[Record]:
    """Rows as plain Python values typed by ``schema``: None for missing, lists, datetimes.

    Going through the schema undoes what pandas did on the way in (an int column with a
    gap read back as float, NaN for None, numpy arrays for lists).
    """
    missing = [name for name in schema.names if name not in df.columns]
    if missing:
        raise InputError(f"the table lacks the columns {missing}; run `make refresh` first")
    table = pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)
    rows: list[Record] = table.to_pylist()
    return rows


# -- CSV and JSON lines (pure) ------------------------------------------------------------


def joined_records(entries: pd.DataFrame, papers: pd.DataFrame) -> list[Record]:
    """One record per entry, in table order: entry columns, then ``paper_<column>``."""
    by_id = {p["arxiv_id"]: p for p in records(papers, PAPERS)}
    empty: Record = dict.fromkeys(PAPERS.names)
    rows = []
    for entry in records(entries, ENTRIES):
        paper = by_id.get(entry["arxiv_id"], empty) if entry["arxiv_id"] else empty
        rows.append(entry | {f"paper_{k}": v for k, v in paper.items()})
    return rows


def export_columns() -> list[str]:
    return [*ENTRIES.names, *(f"paper_{name}" for name in PAPERS.names)]


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2023-04-12T17:59:59Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def to_csv(entries: pd.DataFrame, papers: pd.DataFrame) -> str:
    """The joined rows as CSV with a header; lists joined with ``"; "``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = export_columns()
    writer.writerow(columns)
    for row in joined_records(entries, papers):
        writer.writerow([_csv_cell(row[c]) for c in columns])
    return out.getvalue()


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return iso_utc(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_jsonl(entries: pd.DataFrame, papers: pd.DataFrame) -> str:
    """The joined rows as JSON lines: real arrays, null for missing, ISO timestamps."""
    lines = [
        json.dumps(row, ensure_ascii=False, default=_json_default)
        for row in joined_records(entries, papers)
    ]
    return "".join(f"{line}\n" for line in lines)


# -- BibTeX (pure) --------------------------------------------------------------------------

_ACCENTS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u0308": '"',
    "\u030a": "r",
    "\u030b": "H",
    "\u030c": "v",
    "\u0323": "d",
    "\u0327": "c",
    "\u0328": "k",
}
"""Unicode combining mark -> LaTeX accent command."""
_ABOVE = set("\u0300\u0301\u0302\u0303\u0304\u0306\u0308\u030a\u030b\u030c")
"""Accents drawn above the letter: on i and j they take the dotless \\i and \\j."""
_LETTERS = {
    "ß": r"{\ss}",
    "ø": r"{\o}",
    "Ø": r"{\O}",
    "æ": r"{\ae}",
    "Æ": r"{\AE}",
    "œ": r"{\oe}",
    "Œ": r"{\OE}",
    "ł": r"{\l}",
    "Ł": r"{\L}",
    "å": r"{\aa}",
    "Å": r"{\AA}",
    "\u0131": r"{\i}",  # dotless i
    "\u2013": "--",  # en dash
    "\u2014": "---",  # em dash
    "\u2018": "`",
    "\u2019": "'",
    "\u201c": "``",
    "\u201d": "''",
    "\u00a0": "~",
}
_SPECIAL = {
    "&": r"\&",
    "%": r"\%",
    "_": r"\_",
    "#": r"\#",
    "$": r"\$",
    "^": r"\^{}",
    "~": r"{\textasciitilde}",
    "\\": r"{\textbackslash}",
}
"""Characters LaTeX reads as syntax in running text."""
_ASCII_FOLD = {
    "ß": "ss",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "ł": "l",
    "đ": "d",
    "þ": "th",
    "\u0131": "i",
}
"""Letters NFKD does not split into an ASCII base letter, for citation keys."""
_STOPWORDS = frozenset(
    {
        "a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "via", "from", "by",
        "at", "as", "is", "are", "towards", "toward", "do", "does", "can", "how", "what",
        "when", "why",
    }
)  # fmt: skip
"""Words skipped for the title word of a citation key, as Google Scholar's keys do."""
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_GROUP_WORDS = re.compile(r"\b(collaboration|consortium|team|group|project)\b", re.IGNORECASE)
_LATEX_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)|[{}]|[^\\{}]", re.DOTALL)
_COMMAND = re.compile(r"\\(?:[A-Za-z]+|.)")
_JOURNAL_LIKE = re.compile(
    r"journal|transactions|letters|review|magazine|\b(?:tmlr|jmlr|tpami|ijcv|tip|tog|pami|"
    r"nature|science|pnas|plos)\b",
    re.IGNORECASE,
)
_PROCEEDINGS_LIKE = re.compile(
    r"proc\.|proceedings|conference|workshop|symposium|\b(?:neurips|nips|icml|iclr|cvpr|"
    r"iccv|eccv|aaai|ijcai|acl|emnlp|naacl|kdd|siggraph|uai|aistats|colt|corl|icra|iros)\b",
    re.IGNORECASE,
)
_PREPRINT_VENUES = frozenset({"arxiv", "preprint", "corr", "arxiv preprint"})


def _latex_char(ch: str) -> str:
    """One non-ASCII character in LaTeX, or itself when LaTeX has no ASCII spelling of it."""
    if ch in _LETTERS:
        return _LETTERS[ch]
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    if not (base.isascii() and base.isalpha() and marks and all(m in _ACCENTS for m in marks)):
        return ch  # Greek, CJK, symbols: kept as UTF-8, which biber and bibtex8 pass through.
    body = "\\" + base if base in "ij" and marks[0] in _ABOVE else base
    for depth, mark in enumerate(marks):
        cmd = _ACCENTS[mark]
        # Letter commands (\c, \v) need a space before a bare letter; nested ones a group.
        if depth:
            body = f"\\{cmd}{{{body}}}"
        else:
            body = f"\\{cmd} {body}" if cmd.isalpha() else f"\\{cmd}{body}"
    return "{" + body + "}"


def _escape_text(text: str) -> str:
    """Running text -> LaTeX, keeping the LaTeX commands and brace groups arXiv titles carry."""
    out = []
    for token in _LATEX_TOKEN.findall(text):
        if token.startswith("\\") and len(token) > 1:
            out.append(token)  # already LaTeX: \emph, \"o, \&
        elif token in "{}":
            out.append(token)
        elif token in _SPECIAL:
            out.append(_SPECIAL[token])
        elif token.isascii():
            out.append(token)
        else:
            out.append(_latex_char(token))
    return "".join(out)


def _escape_math(math: str) -> str:
    # Inside $...$ only these three are errors: % would even comment out the rest.
    return re.sub(r"(?<!\\)([%&#])", r"\\\1", math)


def braces_balanced(text: str) -> bool:
    """What BibTeX demands of a braced field value (it counts ``\\{`` as a brace too)."""
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _split_math(text: str) -> list[tuple[bool, str]]:
    """``(is_math, segment)`` pairs; an unpaired ``$`` stays text (and gets escaped)."""
    dollars = [m.start() for m in re.finditer(r"(?<!\\)\$", text)]
    if len(dollars) % 2:
        dollars = dollars[:-1]
    parts: list[tuple[bool, str]] = []
    pos = 0
    for start, end in zip(dollars[::2], dollars[1::2], strict=True):
        parts.append((False, text[pos:start]))
        parts.append((True, text[start : end + 1]))
        pos = end + 1
    parts.append((False, text[pos:]))
    return [(is_math, seg) for is_math, seg in parts if seg]


def _needs_protection(word: str) -> bool:
    """True for acronyms and mixed case (DPO, ImageReward, GPT-4), which styles would lowercase.

    Title-case words (Learning) are left to the style, so that sentence-case styles work.
    """
    letters = [c for c in _COMMAND.sub("", word) if c.isalpha()]
    return any(c.isupper() for c in letters[1:])


def latex_title(title: str) -> str:
    """A title as a BibTeX field value: specials escaped, accents as LaTeX, capitals kept."""
    title = " ".join(title.split())
    if not braces_balanced(_COMMAND.sub("", title)):
        title = title.replace("{", "").replace("}", "")  # broken LaTeX: keep the words
    out = []
    for is_math, segment in _split_math(title):
        if is_math:
            out.append("{" + _escape_math(segment) + "}")  # case changes would corrupt math
            continue
        for word in re.split(r"(\s+)", segment):
            escaped = _escape_text(word)
            if _needs_protection(word) and braces_balanced(escaped):
                escaped = "{" + escaped + "}"
            out.append(escaped)
    value = "".join(out)
    return (
        value if braces_balanced(value) else _escape_text(title.replace("{", "").replace("}", ""))
    )


def latex_name(name: str) -> str:
    """One author for BibTeX's ``and``-list: ``Last, Jr., First`` for suffixes, groups braced."""
    name = " ".join(name.replace("{", "").replace("}", "").split())
    words = name.split(" ")
    if _GROUP_WORDS.search(name) or " and " in f" {name.lower()} ":
        # A group name is one unit: BibTeX must not split it into first/last or at "and".
        return "{" + _escape_text(name) + "}"
    if len(words) > 2 and "," not in name and words[-1].lower() in _SUFFIXES:
        name = f"{words[-2]}, {words[-1]}, {' '.join(words[:-2])}"
    return _escape_text(name)


def _ascii_fold(text: str) -> str:
    text = "".join(_ASCII_FOLD.get(c, c) for c in text.lower())
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii())


def _last_name(name: str) -> str:
    name = " ".join(name.split())
    if "," in name:
        return name.split(",")[0]
    words = [w for w in name.split(" ") if w.lower() not in _SUFFIXES]
    if not words:
        return ""
    if _GROUP_WORDS.search(name):
        return words[0]
    last = [words[-1]]
    for word in reversed(words[:-1]):  # the "von" part: van der Berg -> vanderberg
        if not word[:1].islower():
            break
        last.insert(0, word)
    return "".join(last)


_ACCENT_COMMAND = re.compile(r"\\[`'^\"~=.]|\\[cvuHdkrbt](?=\s*\{?[A-Za-z])\s*")
"""An accent command: dropped for keys so that ``Schr\\"odinger`` stays one word."""


def _first_word(title: str) -> str:
    plain = re.sub(r"\$[^$]*\$", " ", title)
    plain = _COMMAND.sub(" ", _ACCENT_COMMAND.sub("", plain))
    for word in re.split(r"[^a-z0-9]+", _ascii_fold(plain)):
        if word and word not in _STOPWORDS:
            return word
    return "untitled"


def base_key(first_author: str | None, year: int, title: str) -> str:
    """``firstauthorYEARfirstword``: lowercase ASCII letters and digits only."""
    last = re.sub(r"[^a-z0-9]", "", _ascii_fold(_last_name(first_author or "")))
    return f"{last or 'anon'}{year}{_first_word(title)}"


def _suffixes() -> Iterator[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    yield from letters[1:]
    for first in letters:
        for second in letters:
            yield first + second


def citation_keys(papers: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """arxiv_id -> key, unique. On a collision the paper first submitted keeps the bare key
    and later ones get ``b``, ``c``...: adding a newer paper never renames a key already
    cited, and the order does not depend on the order of the table's rows."""
    ordered = sorted(papers, key=lambda p: (p["published"], p["arxiv_id"]))
    bases = {
        p["arxiv_id"]: base_key(
            p["authors"][0] if p["authors"] else None, p["published"].year, p["title"]
        )
        for p in ordered
    }
    taken = set(bases.values())
    keys: dict[str, str] = {}
    used: set[str] = set()
    for paper in ordered:
        base = bases[paper["arxiv_id"]]
        key = base
        if key in used:
            key = next(base + s for s in _suffixes() if base + s not in taken | used)
        used.add(key)
        keys[paper["arxiv_id"]] = key
    return keys


def _venues(entries: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, int | None]]:
    """arxiv_id -> (venue, year) of its first listed entry with a non-preprint venue."""
    venues: dict[str, tuple[str, int | None]] = {}
    for entry in sorted(entries, key=lambda e: (e["list"], e["line"])):
        venue = (entry["venue"] or "").strip()
        if entry["arxiv_id"] and venue and venue.lower() not in _PREPRINT_VENUES:
            venues.setdefault(entry["arxiv_id"], (venue, entry["year"]))
    return venues


def _year_in(text: str) -> int | None:
    years = re.findall(r"\b(?:19|20)\d\d\b", text)
    return int(years[-1]) if years else None


def _kind_and_venue(
    paper: Mapping[str, Any], venue: tuple[str, int | None] | None
) -> tuple[str, dict[str, str], int]:
    """Entry type, its venue field, and the year to cite."""
    arxiv_year: int = paper["published"].year
    ref: str | None = paper["journal_ref"]
    if ref:
        year = _year_in(ref) or (venue[1] if venue else None) or arxiv_year
        if _PROCEEDINGS_LIKE.search(ref) and not _JOURNAL_LIKE.search(ref):
            return "inproceedings", {"booktitle": _escape_text(ref)}, year
        return "article", {"journal": _escape_text(ref)}, year
    if venue:
        name, year = venue[0], venue[1] or arxiv_year
        if _JOURNAL_LIKE.search(name):
            return "article", {"journal": _escape_text(name)}, year
        return "inproceedings", {"booktitle": _escape_text(name)}, year
    return "misc", {}, arxiv_year


def _raw(value: str) -> str:
    # DOIs and URLs are verbatim fields in biblatex: escaping would break the links.
    return value.replace("{", "%7B").replace("}", "%7D").strip()


def bibtex_entries(papers: pd.DataFrame, entries: pd.DataFrame) -> list[tuple[str, str]]:
    """``(key, entry text)`` per paper, ordered by key."""
    paper_rows = list({p["arxiv_id"]: p for p in records(papers, PAPERS)}.values())
    keys = citation_keys(paper_rows)
    venues = _venues(records(entries, ENTRIES))
    out = []
    for paper in paper_rows:
        kind, venue_field, year = _kind_and_venue(paper, venues.get(paper["arxiv_id"]))
        fields: dict[str, str] = {
            "author": " and ".join(latex_name(a) for a in paper["authors"]) or "{Anonymous}",
            "title": latex_title(paper["title"]),
            **venue_field,
            "year": str(year),
            "eprint": paper["arxiv_id"],
            "archivePrefix": "arXiv",
            "primaryClass": paper["primary_category"],
        }
        if paper["doi"]:
            fields["doi"] = _raw(paper["doi"])
        fields["url"] = _raw(paper["abs_url"])
        key = keys[paper["arxiv_id"]]
        body = ",\n".join(f"  {name:<13} = {{{value}}}" for name, value in fields.items())
        out.append((key, f"@{kind}{{{key},\n{body}\n}}\n"))
    return sorted(out)


def to_bibtex(papers: pd.DataFrame, entries: pd.DataFrame) -> str:
    """Every paper as one BibTeX entry; venues come from the entries that list it."""
    texts = [text for _, text in bibtex_entries(papers, entries)]
    header = f"% {len(texts)} papers exported by arxiv-list-pipeline from arXiv metadata.\n"
    return "\n".join([header, *texts])


# -- the edge -------------------------------------------------------------------------------

_RENDERERS: dict[str, Callable[[EnrichedTables], str]] = {
    "bibtex": lambda t: to_bibtex(t.papers, t.entries),
    "csv": lambda t: to_csv(t.entries, t.papers),
    "jsonl": lambda t: to_jsonl(t.entries, t.papers),
}


def default_output(data_dir: Path, fmt: Format) -> Path:
    return Settings(data_dir=data_dir).enriched_dir / "export" / DEFAULT_FILES[fmt]


def export_tables(data_dir: Path, fmt: Format, output: Path | None = None) -> Path:
    """Write the tables of ``data_dir`` in ``fmt`` to ``output`` (atomically); return the path."""
    if fmt not in _RENDERERS:
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    text = _RENDERERS[fmt](read_tables(data_dir))
    path = output or default_output(data_dir, fmt)
    write_file_atomic(path, text.encode("utf-8"))
    return path
