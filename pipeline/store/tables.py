"""Records -> pyarrow tables (pure), and the one place that writes and publishes them.

Publishing is atomic for the whole set: each run writes a complete new set in
``DIR/.sets/<run>/``, then swaps the ``DIR/enriched`` symlink to it with one rename. A
reader of ``DIR/enriched/*.parquet`` sees the old set or the new one, never a mix, and a
run killed at any moment leaves the previous set in place.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import shutil
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from pipeline.models import Paper
from pipeline.schemas import AUTHORS, CITATIONS, PAPERS, SCHEMA_VERSION

if TYPE_CHECKING:
    from pipeline.services.citations import Citation

KEEP_SETS = 2
"""Sets kept on disk: the current one and the one it replaced, for readers still holding it."""
_READ_ONLY = 0o444
log = logging.getLogger(__name__)
_META = {b"pipeline.schema_version": SCHEMA_VERSION.encode()}


def build_table(rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows -> a table of exactly ``schema`` (never what pandas would guess)."""
    rows = list(rows)
    # Column by column: faster than Table.from_pylist on 100,000 rows, and it does not
    # import pandas the way from_pylist does (see _from_columns).
    return _from_columns({f.name: [row.get(f.name) for row in rows] for f in schema}, schema)


def citations_table(rows: Iterable[Citation]) -> pa.Table:
    """Citation records -> a ``CITATIONS`` table."""
    return build_table((asdict(row) for row in rows), CITATIONS)


def citation_records(table: pa.Table | None) -> list[Citation]:
    """A ``CITATIONS`` table (None: no previous run) -> its records."""
    # Imported here: a run with nothing to do reads tables and never loads the services.
    from pipeline.services.citations import Citation

    if table is None:
        return []
    return [Citation(**row) for row in table.select(CITATIONS.names).cast(CITATIONS).to_pylist()]


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns, types and metadata."""
    table = table.select(schema.names).cast(schema)
    return table.replace_schema_metadata({**(schema.metadata or {}), **_META})


def row_table(row: Mapping[str, Any], schema: pa.Schema) -> pa.Table:
    """One row -> a one-row table of exactly ``schema`` (see ``_from_columns``)."""
    return _from_columns({name: [row.get(name)] for name in schema.names}, schema)


def string_array(values: Sequence[str]) -> pa.Array:
    """``pa.array(values, pa.string())``, built as ``_from_columns`` builds columns."""
    column = _from_columns({"value": list(values)}, _STRINGS).column(0)
    return column.combine_chunks()


def paper_rows(papers: Iterable[Paper]) -> list[dict[str, Any]]:
    return [
        {
            "arxiv_id": p.arxiv_id,
            "version": p.version,
            "title": p.title,
            "abstract": p.abstract,
            "authors": [a.name for a in p.authors],
            "published": p.published,
            "updated": p.updated,
            "primary_category": p.primary_category,
            "categories": list(p.categories),
            "doi": p.doi,
            "journal_ref": p.journal_ref,
            "comment": p.comment,
            "abs_url": p.abs_url,
            "pdf_url": p.pdf_url,
            "fetched_at": p.fetched_at,
        }
        for p in papers
    ]


def author_rows(papers: Iterable[Paper]) -> list[dict[str, Any]]:
    return [
        {
            "arxiv_id": p.arxiv_id,
            "position": position,
            "name": author.name,
            "affiliations": list(author.affiliations),
        }
        for p in papers
        for position, author in enumerate(p.authors)
    ]


def papers_table(papers: Iterable[Paper]) -> pa.Table:
    """``build_table(paper_rows(papers), PAPERS)``, built column by column straight from
    the records: no row dicts (five times faster at 100,000 papers)."""
    papers = list(papers)
    if not papers:
        return build_table([], PAPERS)
    columns: dict[str, list[Any]] = {
        "arxiv_id": [p.arxiv_id for p in papers],
        "version": [p.version for p in papers],
        "title": [p.title for p in papers],
        "abstract": [p.abstract for p in papers],
        "authors": [[a.name for a in p.authors] for p in papers],
        "published": [p.published for p in papers],
        "updated": [p.updated for p in papers],
        "primary_category": [p.primary_category for p in papers],
        "categories": [list(p.categories) for p in papers],
        "doi": [p.doi for p in papers],
        "journal_ref": [p.journal_ref for p in papers],
        "comment": [p.comment for p in papers],
        "abs_url": [p.abs_url for p in papers],
        "pdf_url": [p.pdf_url for p in papers],
        "fetched_at": [p.fetched_at for p in papers],
    }
    return _from_columns(columns, PAPERS)


def authors_table(papers: Iterable[Paper]) -> pa.Table:
    """``build_table(author_rows(papers), AUTHORS)``, column by column like papers_table."""
    papers = list(papers)
    columns: dict[str, list[Any]] = {
        "arxiv_id": [p.arxiv_id for p in papers for _ in p.authors],
        "position": [i for p in papers for i in range(len(p.authors))],
        "name": [a.name for p in papers for a in p.authors],
        "affiliations": [list(a.affiliations) for p in papers for a in p.authors],
    }
    if not columns["arxiv_id"]:
        return build_table([], AUTHORS)
    return _from_columns(columns, AUTHORS)


SMALL_TABLE_ROWS = 20_000
"""Tables up to this many rows are built through pyarrow's JSON reader, larger ones with
``pa.array``.

pyarrow imports pandas on its first ``pa.array`` of a Python list: a fifth of a second,
as much as everything else a cold run of a 100-paper list does, and all a run with
nothing to do would spend. Its JSON reader imports nothing. Past about 20,000 rows
encoding the JSON costs more than the import, so large tables take the direct way.
"""
_STRINGS = pa.schema([pa.field("value", pa.string())])


def _from_columns(columns: Mapping[str, list[Any]], schema: pa.Schema) -> pa.Table:
    rows = len(columns[schema.names[0]])
    if rows == 0:
        table = pa.Table.from_batches([], schema=schema)  # an empty array imports pandas too
    elif rows <= SMALL_TABLE_ROWS and _json_safe(columns, schema):
        table = _through_json(columns, schema)
    else:
        arrays = [pa.array(columns[f.name], type=f.type) for f in schema]
        table = pa.Table.from_arrays(arrays, schema=schema)
    return table.replace_schema_metadata({**(schema.metadata or {}), **_META})


def _json_safe(columns: Mapping[str, list[Any]], schema: pa.Schema) -> bool:
    # JSON has no NaN or infinity; such a float takes the pa.array way.
    return all(
        value is None or math.isfinite(value)
        for f in schema
        if pa.types.is_floating(f.type)
        for value in columns[f.name]
    )


def _through_json(columns: Mapping[str, list[Any]], schema: pa.Schema) -> pa.Table:
    names = schema.names
    values = [
        [None if v is None else v.isoformat() for v in columns[f.name]]
        if pa.types.is_timestamp(f.type)
        else columns[f.name]
        for f in schema
    ]
    encode = json.JSONEncoder(allow_nan=False).encode
    lines = (encode(dict(zip(names, row, strict=True))) for row in zip(*values, strict=True))
    data = "\n".join(lines).encode("ascii")  # the encoder escapes everything else
    table = pa_json.read_json(
        io.BytesIO(data),
        # One block: an object may not straddle two, and these tables are small.
        read_options=pa_json.ReadOptions(use_threads=False, block_size=len(data) + 1),
        parse_options=pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="error"
        ),
    )
    return table.select(names).cast(schema)


# -- the edge: reading and publishing -----------------------------------------------------


def read_table(enriched_dir: Path, name: str, schema: pa.Schema) -> pa.Table | None:
    """The current ``name`` table cast to ``schema``, or None when there is none yet.

    A file that cannot be read (truncated, damaged, written over by hand) counts as absent,
    with a warning: the run then rebuilds it in a full pass instead of failing every night.
    """
    path = enriched_dir / f"{name}.parquet"
    if not path.exists():
        return None
    try:
        # ParquetFile, not pq.read_table: the latter goes through pyarrow.dataset, which
        # imports pandas.
        table = pq.ParquetFile(path).read()
    except (OSError, pa.ArrowException) as err:
        log.warning("%s cannot be read (%s); it is rebuilt as if absent", path, _first_line(err))
        return None
    if set(table.column_names) != set(schema.names):
        # An older schema: the next run rewrites it, so start afresh rather than guess.
        return None
    try:
        return table.select(schema.names).cast(schema)
    except pa.ArrowException as err:
        log.warning("%s has unexpected types (%s); it is rebuilt", path, _first_line(err))
        return None


def readable(path: Path) -> bool:
    """Whether a published Parquet file still opens (its footer and schema read back)."""
    try:
        pq.read_metadata(path)
    except (OSError, pa.ArrowException):
        return False
    return True


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]


def publish_set(
    enriched_link: Path,
    sets_dir: Path,
    run_id: str,
    tables: Mapping[str, pa.Table],
    carry: Iterable[str] = (),
    files: Mapping[str, bytes] | None = None,
    carry_files: Iterable[str] = (),
) -> Path:
    """Write ``tables`` as a new set and make it current in one atomic rename.

    ``carry`` names tables to take unchanged from the current set (hard links, so a large
    table that did not change costs nothing); ``files`` are other files of the set, by name,
    and ``carry_files`` names such files to take from the current set when it has them.
    Published files are read-only: a hard link shares its bytes with the previous set, so
    a file rewritten in place (``df.to_parquet`` over it) would damage both.
    """
    sets_dir.mkdir(parents=True, exist_ok=True)
    staging = sets_dir / f".tmp-{run_id}"
    final = sets_dir / run_id
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for name, table in tables.items():
        pq.write_table(table, staging / f"{name}.parquet", compression="zstd")
    for name, data in (files or {}).items():
        (staging / name).write_bytes(data)
    for name in carry:
        source = enriched_link / f"{name}.parquet"
        if name not in tables and source.exists():
            _link_or_copy(source.resolve(), staging / source.name)
    for name in carry_files:
        source = enriched_link / name
        if name not in (files or {}) and source.exists():
            _link_or_copy(source.resolve(), staging / name)
    _fsync_dir_files(staging)
    staging.rename(final)
    before = _migrate_plain_dir(enriched_link, sets_dir) or current_set(enriched_link)
    new_link = enriched_link.with_name(f".{enriched_link.name}.tmp-{run_id}")
    with contextlib.suppress(FileNotFoundError):
        new_link.unlink()
    new_link.symlink_to(os.path.relpath(final, enriched_link.parent), target_is_directory=True)
    new_link.replace(enriched_link)
    _fsync_dir(enriched_link.parent)
    prune_sets(sets_dir, keep={final, *([before] if before else [])})
    _remove_stray_links(enriched_link)
    return final


def current_set(enriched_link: Path) -> Path | None:
    """The set directory ``enriched_link`` points at, if it is a link to one."""
    if not enriched_link.is_symlink():
        return None
    return enriched_link.resolve()


def prune_sets(sets_dir: Path, keep: Collection[Path]) -> None:
    """Delete every set but those in ``keep`` (the new current set and the one it replaced,
    for readers still holding it), and leftovers of killed runs.

    By what is current, not by name: a set left by a crash, or named by a skewed clock,
    must never push out the set a reader may still have open.
    """
    kept = {path.resolve() for path in keep}
    for path in sets_dir.iterdir():
        if path.name.startswith(".tmp-") or (path.is_dir() and path.resolve() not in kept):
            shutil.rmtree(path, ignore_errors=True)


def _remove_stray_links(enriched_link: Path) -> None:
    # A run killed between creating its new link and renaming it leaves the link behind.
    for stray in enriched_link.parent.glob(f".{enriched_link.name}.tmp-*"):
        with contextlib.suppress(OSError):
            stray.unlink()


def write_file_atomic(path: Path, data: bytes) -> None:
    """Write one file so that readers see the old or the new content, never half; a failed
    write (disk full) leaves no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_dead_temporaries(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _sweep_dead_temporaries(path: Path) -> None:
    # A process killed mid-write leaves its temporary file; the pid in its name says whether
    # that process can still be writing it.
    for stale in path.parent.glob(f".{path.name}.tmp-*"):
        pid = stale.name.rpartition("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                stale.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _migrate_plain_dir(enriched_link: Path, sets_dir: Path) -> Path | None:
    # A real directory at DIR/enriched (made by hand, or by an older version) becomes a set.
    if enriched_link.is_dir() and not enriched_link.is_symlink():
        taken = sets_dir / "0-previous"
        enriched_link.rename(taken)
        return taken
    return None


def _fsync_dir_files(directory: Path) -> None:
    for path in directory.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
        path.chmod(_READ_ONLY)
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
