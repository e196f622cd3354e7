"""Tables come out exactly as ``pa.array`` builds them from the explicit schema, though
``build_table`` builds them from buffers (``pipeline.arrow``), which must not import pandas."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.schemas import TABLES
from pipeline.store.tables import build_table, consumed_records_table, records_table

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
# hypothesis wants naive bounds; the zone comes from ``timezones``.
_EARLIEST = datetime(1900, 1, 1)  # noqa: DTZ001
_LATEST = datetime(2200, 1, 1)  # noqa: DTZ001


def _value(field: pa.Field) -> st.SearchStrategy[Any]:
    kind = field.type
    if pa.types.is_timestamp(kind):
        strategy: st.SearchStrategy[Any] = st.datetimes(
            min_value=_EARLIEST, max_value=_LATEST, timezones=_ZONES
        )
    elif pa.types.is_list(kind):
        strategy = st.lists(st.one_of(st.none(), _TEXT), max_size=4)
    elif pa.types.is_string(kind):
        strategy = _TEXT
    elif pa.types.is_boolean(kind):
        strategy = st.booleans()
    elif pa.types.is_int32(kind):
        strategy = st.integers(-(2**31), 2**31 - 1)
    elif pa.types.is_integer(kind):
        strategy = st.integers(-(2**63), 2**63 - 1)
    else:
        # NaN != NaN would fail the comparison; test_a_nan_and_infinity_survive has it.
        strategy = st.floats(allow_nan=False, allow_infinity=True)
    return st.one_of(st.none(), strategy) if field.nullable else strategy


def _rows(schema: pa.Schema) -> st.SearchStrategy[list[dict[str, Any]]]:
    row = st.fixed_dictionaries({f.name: _value(f) for f in schema})
    return st.lists(row, min_size=1, max_size=6)


def _direct(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    arrays = [pa.array([r.get(f.name) for r in rows], type=f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


@pytest.mark.parametrize("name", sorted(TABLES))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_tables_are_what_pa_array_builds(name: str, data: st.DataObject) -> None:
    schema = TABLES[name]
    rows = data.draw(_rows(schema))
    built = build_table(rows, schema)
    assert built.schema.equals(schema, check_metadata=False)
    assert built.equals(_direct(rows, schema).cast(schema))
    one = build_table(rows[:1], schema)
    assert one.schema.equals(built.schema, check_metadata=True)
    assert one.equals(built.slice(0, 1))
    records = records_table([SimpleNamespace(**row) for row in rows], schema)
    assert records.schema.equals(built.schema, check_metadata=True)
    assert records.equals(built)
    consumed = [SimpleNamespace(**row) for row in rows]
    part = data.draw(st.integers(1, len(rows) + 1))
    by_parts = consumed_records_table(consumed, schema, part=part)
    assert consumed == []  # each record let go once its rows are in the table
    assert by_parts.schema.equals(built.schema, check_metadata=True)
    assert by_parts.equals(built)


def test_no_records_make_an_empty_table() -> None:
    assert records_table([], TABLES["entries"]).equals(build_table([], TABLES["entries"]))
    empty = consumed_records_table([], TABLES["entries"])
    assert empty.equals(build_table([], TABLES["entries"]))
    assert empty.schema.equals(TABLES["entries"].with_metadata(empty.schema.metadata))


def test_a_nan_and_infinity_survive() -> None:
    schema = pa.schema([pa.field("x", pa.float64())])
    built = build_table([{"x": math.nan}, {"x": math.inf}, {"x": None}], schema)
    assert math.isnan(built.column("x")[0].as_py()) and built.column("x")[1].as_py() == math.inf
    assert math.isnan(build_table([{"x": math.nan}], schema).column("x")[0].as_py())


def test_a_run_row_leaves_pandas_unloaded() -> None:
    # pyarrow loads pandas on its first pa.array of a list: a run with nothing to do, which
    # builds only this row, would spend most of its time on that import (so would a small
    # full pass, which builds every table the same way).
    code = (
        "import sys\n"
        "from datetime import datetime, UTC\n"
        "from pipeline.schemas import RUNS\n"
        "from pipeline.store.tables import build_table\n"
        "row = dict(run_id='r', started=datetime.now(UTC), finished=datetime.now(UTC),\n"
        "  status='ok', exit_code=0, lists=1, entries=2, papers=2, requests=1,\n"
        "  cache_hits=0, retries=0, seconds_slept=0.5)\n"
        "build_table([row], RUNS)\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"
