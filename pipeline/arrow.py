"""Python values -> Arrow arrays of a given type, built from their buffers.

Not ``pa.array``: pyarrow imports pandas on its first conversion (to ask whether the values
are a pandas object), 0.2 s, as long as the rest of a small refresh, for a library the
refresh never uses (tests/integration/test_unchanged.py holds it out). The types are those
of ``schemas``: strings, 32/64-bit integers, floats, booleans, UTC timestamps in
microseconds, and lists of any of them; None is null.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NUMPY = {pa.int32(): np.int32, pa.int64(): np.int64, pa.float64(): np.float64}


def column(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    """``values`` (None for null) as an array of ``type_``."""
    n = len(values)
    validity = _validity(values)
    if pa.types.is_list(type_):
        offsets = _offsets([0 if v is None else len(v) for v in values])
        child = column([x for v in values if v is not None for x in v], type_.value_type)
        return pa.ListArray.from_buffers(type_, n, [validity, offsets], children=[child])
    if pa.types.is_string(type_):
        texts = values if validity is None else ["" if v is None else v for v in values]
        joined = "".join(texts)
        if joined.isascii():
            # One character, one byte: the lengths are the strings' own, and the text is
            # encoded once, not string by string.
            data, lengths = joined.encode(), map(len, texts)
        else:
            encoded = list(map(str.encode, texts))
            data, lengths = b"".join(encoded), map(len, encoded)
        return pa.Array.from_buffers(type_, n, [validity, _offsets(lengths), pa.py_buffer(data)])
    if pa.types.is_boolean(type_):
        truth = np.fromiter(map(operator.is_, values, itertools.repeat(True)), bool, n)
        bits = np.packbits(truth, bitorder="little")
        return pa.Array.from_buffers(type_, n, [validity, pa.py_buffer(bits)])
    if pa.types.is_timestamp(type_):
        micros = np.fromiter((_micros(v) for v in values), np.int64, n)
        return pa.Array.from_buffers(type_, n, [validity, pa.py_buffer(micros)])
    dtype = _NUMPY[type_]
    numbers = values if validity is None else [0 if v is None else v for v in values]
    array = np.array(numbers, dtype=dtype)
    return pa.Array.from_buffers(type_, n, [validity, pa.py_buffer(array)])


def mapping(
    table: pa.Table, key: str, value: str, only: Collection[str] | None = None
) -> dict[Any, Any]:
    """``key`` column -> ``value`` column of ``table``: of every row, or at least of those
    whose key is in ``only`` (Python objects made only for the rows asked for)."""
    if only is not None and len(only) < table.num_rows:
        wanted = pc.is_in(
            table.column(key), value_set=column(list(only), table.schema.field(key).type)
        )
        table = table.select([key, value]).filter(wanted)
    return dict(zip(table.column(key).to_pylist(), table.column(value).to_pylist(), strict=True))


def _validity(values: Sequence[Any]) -> pa.Buffer | None:
    """The validity bitmap, or None when no value is null (Arrow's way to say so)."""
    if None not in values:
        return None
    valid = np.fromiter(map(operator.is_not, values, itertools.repeat(None)), bool, len(values))
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def _offsets(lengths: Any) -> pa.Buffer:
    """Where each value starts in its child data, and where the last one ends."""
    offsets = np.zeros(1, dtype=np.int32)
    ends = np.fromiter(lengths, np.int64)
    if ends.size and int(ends.sum()) > np.iinfo(np.int32).max:
        raise OverflowError("a column's data exceeds 2 GiB")
    return pa.py_buffer(np.concatenate([offsets, np.cumsum(ends, dtype=np.int32)]))


def _micros(value: datetime | None) -> int:
    """Microseconds since the epoch; a naive datetime is UTC, as pyarrow reads one."""
    if value is None:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MICROSECOND


def lists(counts: Sequence[int], values: pa.Array) -> pa.Array:
    """``values`` cut into lists of ``counts`` values each, in order (no list is null)."""
    type_ = pa.list_(values.type)
    return pa.ListArray.from_buffers(
        type_, len(counts), [None, _offsets(counts)], children=[values]
    )


def constant(value: Any, n: int, type_: pa.DataType) -> pa.Array:
    """``n`` times ``value`` as an array of ``type_``."""
    if value is not None and pa.types.is_timestamp(type_):
        micros = np.full(n, _micros(value), np.int64)
        return pa.Array.from_buffers(type_, n, [None, pa.py_buffer(micros)])
    return column([value] * n, type_)
