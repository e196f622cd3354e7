"""Records -> pyarrow tables (pure), and the one place that writes and publishes them.

Publishing is atomic for the whole set: each run writes a complete new set in
``DIR/.sets/<run>/``, then swaps the ``DIR/enriched`` symlink to it with one rename. A
reader of ``DIR/enriched/*.parquet`` sees the old set or the new one, never a mix, and a
run killed at any moment leaves the previous set in place.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.arrow import column
from pipeline.schemas import AUTHORS, CITATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    from pipeline.services.citations import Citation

KEEP_SETS = 2
"""Sets kept on disk: the current one and the one it replaced, for readers still holding it."""
_READ_ONLY = 0o444
log = logging.getLogger(__name__)
_META = {b"pipeline.schema_version": SCHEMA_VERSION.encode()}


def build_table(rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows -> a table of exactly ``schema`` (never what pandas would guess); a missing key
    is null, a key the schema lacks an error (a misspelt column would be lost)."""
    rows = list(rows)
    if unknown := {key for row in rows for key in row}.difference(schema.names):
        raise pa.ArrowInvalid(f"columns not in the schema: {sorted(unknown)}")
    arrays = [column([row.get(f.name) for row in rows], f.type) for f in schema]
    table = pa.Table.from_arrays(arrays, schema=schema)
    return table.replace_schema_metadata({**(schema.metadata or {}), **_META})


def columns_table(columns: Mapping[str, Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """Columns by name -> a table of exactly ``schema``, as ``build_table`` makes of the
    same values as rows; a missing column is null, a name the schema lacks an error."""
    if unknown := set(columns).difference(schema.names):
        raise pa.ArrowInvalid(f"columns not in the schema: {sorted(unknown)}")
    n = len(next(iter(columns.values()), ()))
    arrays = [column(columns.get(f.name, [None] * n), f.type) for f in schema]
    table = pa.Table.from_arrays(arrays, schema=schema)
    return table.replace_schema_metadata({**(schema.metadata or {}), **_META})


def records_table(records: Sequence[object], schema: pa.Schema) -> pa.Table:
    """Records with an attribute per column -> a table of exactly ``schema``, column by
    column: no row dict per record (their memory: bench/results.md)."""
    arrays = [column(list(map(attrgetter(f.name), records)), f.type) for f in schema]
    table = pa.Table.from_arrays(arrays, schema=schema)
    return table.replace_schema_metadata({**(schema.metadata or {}), **_META})


def consumed_records_table(records: list[Any], schema: pa.Schema, part: int = 10_000) -> pa.Table:
    """``records_table`` of ``records``, emptying the list a ``part`` at a time as its rows
    become the table's: the records and the table are not both whole at once (at 100,000
    entries, 55 MB of records beside a table of 27 MB)."""
    tables = []
    while records:
        chunk = records[:part]
        del records[:part]
        tables.append(records_table(chunk, schema))
        del chunk
    return pa.concat_tables(tables) if tables else records_table([], schema)


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


def authors_table(fetched: pa.Table) -> pa.Table:
    """The authors table's rows of ``schemas.FETCHED`` papers: one per author, in order."""
    names = fetched.column("authors").combine_chunks()
    parents = pc.list_parent_indices(names)
    # An author's position is its index among the names minus its paper's first one (Arrow
    # compute, not numpy's: Array.to_numpy imports pandas, see pipeline/arrow.py).
    index = np.arange(len(parents), dtype=np.int32) + names.offsets[0].as_py()
    firsts = pc.take(names.offsets, parents)
    columns = {
        "arxiv_id": fetched.column("arxiv_id").take(parents),
        "position": pc.subtract(
            pa.Array.from_buffers(pa.int32(), len(index), [None, pa.py_buffer(index)]), firsts
        ),
        "name": pc.list_flatten(names),
        "affiliations": pc.list_flatten(fetched.column("affiliations").combine_chunks()),
    }
    table = pa.Table.from_arrays([columns[name] for name in AUTHORS.names], schema=AUTHORS)
    return table.replace_schema_metadata({**(AUTHORS.metadata or {}), **_META})


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
