"""The command line gives Arrow the system allocator unless the user chose one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_POOL = (
    "from pipeline import cli; cli._one_heap(); "
    "import pyarrow as pa; print(pa.default_memory_pool().backend_name)"
)


@pytest.mark.parametrize(("chosen", "used"), [(None, "system"), ("mimalloc", "mimalloc")])
def test_arrow_allocates_from_the_c_heap_unless_told_otherwise(
    chosen: str | None, used: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    out = subprocess.run(
        [sys.executable, "-c", _POOL], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == used
