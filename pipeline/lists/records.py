"""Lists kept as data: CSV/TSV rows, JSON/YAML records, BibTeX entries -> document events. Pure.

Each record becomes a table row (``Block("row")``) of three cells, title / venue and year /
links, so entry assembly reads it as it reads a Markdown table. Which field holds the title
and which the paper link is decided by name ("title", "paper_url", "arxiv", ...) and, when
no name says, by content (the column of longest prose; values that are URLs or arXiv ids).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pipeline.arxiv_ids import normalize_id
from pipeline.lists.document import Block, DocumentEvent, Piece, TableColumns
from pipeline.lists.links import BARE_URL_RE, bare_id_url

__all__ = [
    "bibtex_events",
    "bibtex_problem",
    "csv_events",
    "json_events",
    "json_problem",
    "record_row",
    "tsv_events",
    "yaml_events",
    "yaml_problem",
]

_COLUMNS = TableColumns(title=0, name=None, venue=1)
_TITLE_KEYS = ("title", "paper_title", "papertitle", "name", "paper", "article")
_VENUE_KEYS = ("venue", "journal", "booktitle", "conference", "publication", "publisher")
_YEAR_KEYS = ("year", "date", "published", "published_iso", "pub_date")
_LINK_HINTS = ("arxiv", "paper", "pdf", "url", "link", "href", "doi", "eprint")
_BARE_ID_RE = re.compile(r"^(?:arxiv:\s?)?(\d{4}\.\d{4,5}(?:v\d+)?)$", re.I)
_YEAR_RE = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")


def _flat(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """One level of nesting flattened: ``urls: {arxiv: ...}`` -> ``urls.arxiv``."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{str(key).strip().lower()}"
        if isinstance(value, Mapping) and not prefix:
            out.update(_flat(value, name + "."))
        else:
            out[name] = value
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return " ".join(str(value).replace("{", "").replace("}", "").split())


def _is_url(text: str) -> bool:
    return bool(BARE_URL_RE.fullmatch(text))


def _field(record: Mapping[str, Any], keys: Sequence[str]) -> str:
    for key in keys:
        for name, value in record.items():
            if name.rsplit(".", 1)[-1] == key and (text := _text(value)) and not _is_url(text):
                return text
    return ""


def _links(record: Mapping[str, Any]) -> list[str]:
    """The record's links, arXiv ones first, then those under a paper-like name."""
    urls: list[tuple[int, str]] = []
    for name, value in record.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            text = _text(v)
            if not text or len(text) > 400:
                continue
            if (m := _BARE_ID_RE.match(text)) and name.rsplit(".", 1)[-1] in (
                "id",
                "eprint",
                "arxiv",
            ):
                try:
                    text = f"https://arxiv.org/abs/{normalize_id(m.group(1))}"
                except ValueError:
                    continue
            if not _is_url(text):
                continue
            arxiv = "arxiv.org/" in text.lower() or bare_id_url(text) is not None
            hinted = any(h in name for h in _LINK_HINTS)
            urls.append((0 if arxiv else 1 if hinted else 2, text))
    return [u for _, u in sorted(urls, key=lambda x: x[0])]


def record_row(record: Mapping[str, Any], line: int) -> Block | None:
    """A record (field name -> value) as a table row; None without a title or a link."""
    flat = _flat(record)
    title = _field(flat, _TITLE_KEYS)
    if not title:
        # No field is called a title: the longest prose value that is not a URL.
        prose = [t for v in flat.values() if (t := _text(v)) and not _is_url(t) and " " in t]
        title = max(prose, key=len, default="")
        title = title if len(title) <= 300 else ""
    links = _links(flat)
    if not title or not links:
        return None
    venue = _field(flat, _VENUE_KEYS)
    year = _YEAR_RE.search(_field(flat, _YEAR_KEYS))
    when = (
        f"{venue} {year.group(0)}" if venue and year else venue or (year.group(0) if year else "")
    )
    cells: list[list[Piece]] = [
        [Piece("text", title)],
        [Piece("text", when)],
        [Piece("link", "paper", url) for url in links],
    ]
    return Block("row", line, cells=cells, columns=_COLUMNS)


def _delimited(text: str, dialect: str) -> Iterator[DocumentEvent]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if dialect == "tsv" else ",")
    header: list[str] | None = None
    start = 1
    for row in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [h.strip() for h in row]
            continue
        block = record_row(dict(zip(header, row, strict=False)), line)
        if block is not None:
            yield block


def csv_events(text: str) -> Iterator[DocumentEvent]:
    """A CSV list with a header row: one row per record."""
    return _delimited(text, "csv")


def tsv_events(text: str) -> Iterator[DocumentEvent]:
    """A TSV list with a header row: one row per record."""
    return _delimited(text, "tsv")


def _records(data: Any) -> list[Mapping[str, Any]]:
    """The largest list of records anywhere in the data (``papers:``, the top level ...)."""
    best: list[Mapping[str, Any]] = []
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list):
            records = [v for v in value if isinstance(v, Mapping)]
            if len(records) > len(best):
                best = records
            stack.extend(records)
    return best


def _located(text: str, records: list[Mapping[str, Any]]) -> Iterator[DocumentEvent]:
    """Rows for records, each at the line where its first link appears in the text."""
    pos = 0
    for record in records:
        block = record_row(record, 1)
        if block is None or block.cells is None:
            continue
        href = block.cells[2][0].href
        needles = [href, *(_text(v) for v in _flat(record).values() if isinstance(v, str))]
        at = -1
        for needle in needles:
            if needle and (at := text.find(needle.replace("/", "\\/"), pos)) < 0:
                at = text.find(needle, pos)
            if at >= 0:
                break
        if at >= 0:
            pos = at
        block.line = text.count("\n", 0, pos) + 1
        yield block


def json_problem(text: str) -> str | None:
    try:
        json.loads(text)
    except ValueError as err:
        return f"not valid JSON ({err})"
    return None


def json_events(text: str) -> Iterator[DocumentEvent]:
    """A JSON list of paper records (an array, or the largest array of objects inside)."""
    try:
        data = json.loads(text)
    except ValueError:
        return iter(())
    return _located(text, _records(data))


def yaml_problem(text: str) -> str | None:
    import yaml

    try:
        yaml.safe_load(text)
    except yaml.YAMLError as err:
        return f"not valid YAML ({' '.join(str(err).split())[:200]})"
    return None


def yaml_events(text: str) -> Iterator[DocumentEvent]:
    """A YAML list of paper records; each row at its record's line (from the YAML nodes)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return
    best: list[yaml.MappingNode] = []
    stack: list[yaml.Node] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            stack.extend(v for _, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            maps = [v for v in node.value if isinstance(v, yaml.MappingNode)]
            if len(maps) > len(best):
                best = maps
            stack.extend(maps)
    loader = yaml.SafeLoader("")
    for node in best:
        try:
            record = loader.construct_mapping(node, deep=True)
        except (yaml.YAMLError, TypeError):
            continue
        block = record_row(record, node.start_mark.line + 1)
        if block is not None:
            yield block


def bibtex_problem(text: str) -> str | None:
    if not re.search(r"@\w+\s*[{(]", text):
        return "no BibTeX entries (@article{...}) in it"
    return None


def bibtex_events(text: str) -> Iterator[DocumentEvent]:
    """BibTeX entries (read with bibtexparser); arXiv ids from eprint, doi, url or journal."""
    from bibtexparser.entrypoint import parse_string

    library = parse_string(text)
    for entry in library.entries:
        fields = {f.key.lower(): f.value for f in entry.fields}
        record: dict[str, Any] = {
            "title": fields.get("title", ""),
            "venue": fields.get("journal") or fields.get("booktitle") or "",
            "year": fields.get("year", ""),
        }
        eprint = _text(fields.get("eprint"))
        archive = _text(fields.get("archiveprefix")).lower()
        if eprint and (archive in ("", "arxiv") and _BARE_ID_RE.match(eprint)):
            record["eprint"] = eprint
        if doi := _text(fields.get("doi")):
            record["doi"] = doi if _is_url(doi) else f"https://doi.org/{doi}"
        for key in ("url", "pdf", "link"):
            if key in fields:
                record[key] = _text(fields[key])
        # "arXiv preprint arXiv:2311.09735" in journal: the id with nothing else to name it.
        for key in ("journal", "note", "howpublished"):
            if m := re.search(r"arxiv:\s?(\d{4}\.\d{4,5}(?:v\d+)?)", _text(fields.get(key)), re.I):
                record.setdefault("eprint", m.group(1))
        if record["venue"] and "arxiv" in _text(record["venue"]).lower():
            record["venue"] = "arXiv"
        block = record_row(record, (entry.start_line or 0) + 1)
        if block is not None:
            yield block
