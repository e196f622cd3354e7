"""Freed memory goes back to the system between a run's stages (pipeline/heap.py)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# In a process of its own: the test runner's heap is not this test's to measure.
_FRAGMENTED = """
import re
from pipeline.heap import release_freed

def rss():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmRSS:\\s+(\\d+)", status.read()).group(1)) * 1024

# 1 KB objects come from the C heap; keeping one in 64 leaves its free pages between them,
# where the heap cannot shrink by itself.
blocks = [bytes(1000) + bytes([i % 256]) for i in range(100_000)]
kept = blocks[::64]
del blocks
before = rss()
released = release_freed()
print(released, before - rss(), len(kept))
"""


@pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc_trim"
)
def test_freed_pages_between_live_values_are_handed_back() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _FRAGMENTED], capture_output=True, text=True, check=True
    )
    released, shrunk, _ = out.stdout.split()
    assert released == "True"
    assert int(shrunk) > 50e6  # about 98 MB of the 100 MB freed sit in whole free pages


def test_release_is_harmless_to_live_values() -> None:
    from pipeline.heap import release_freed

    live = [bytes([i % 256]) * 1000 for i in range(1000)]
    release_freed()
    assert all(block == bytes([i % 256]) * 1000 for i, block in enumerate(live))
