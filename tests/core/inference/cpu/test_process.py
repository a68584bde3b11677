"""glibc's handling of freed memory: kept while a model runs, glibc's defaults for a load."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from vldesk.core.inference.cpu import process
from vldesk.core.inference.cpu.process import (
    GLIBC_DEFAULT_THRESHOLD,
    default_freed_memory,
    keep_freed_memory,
)

INT_MAX = 2**31 - 1
TRIM, MMAP = -1, -3


class RecordingLibc:
    """Stands in for glibc at the ctypes edge: records ``mallopt`` and ``malloc_trim`` calls."""

    def __init__(self, events: list[Any]) -> None:
        self.events = events

    def mallopt(self, param: int, value: int) -> int:
        self.events.append(("mallopt", param, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.events.append(("malloc_trim", pad))
        return 1


@pytest.fixture
def glibc_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The glibc calls made in the test, in order (a process that never kept freed memory)."""
    events: list[Any] = []
    monkeypatch.setattr(process, "_glibc", lambda: RecordingLibc(events))
    monkeypatch.setattr(process, "_kept", False)
    return events


def test_a_load_after_keeping_freed_memory_gets_glibc_defaults_and_a_trim(
    glibc_calls: list[Any],
) -> None:
    default_freed_memory()
    assert glibc_calls == [("malloc_trim", 0)]  # glibc's own adaptive thresholds stay
    glibc_calls.clear()
    assert keep_freed_memory()
    default_freed_memory()
    assert GLIBC_DEFAULT_THRESHOLD == 128 * 1024
    assert glibc_calls == [
        ("mallopt", TRIM, INT_MAX),
        ("mallopt", MMAP, INT_MAX),
        ("mallopt", TRIM, 128 * 1024),
        ("mallopt", MMAP, 128 * 1024),
        ("malloc_trim", 0),
    ]


def test_without_glibc_nothing_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process, "_glibc", lambda: None)
    assert not keep_freed_memory()
    default_freed_memory()  # nothing to call, nothing raised


#: In a process of its own: 200 MiB of 1 MiB blocks, touched and freed; how much stays resident.
KEPT_AFTER_FREE = """
import ctypes, os, sys
from vldesk.core.inference.cpu.process import default_freed_memory, keep_freed_memory
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
assert keep_freed_memory()
if sys.argv[1] == "default":
    default_freed_memory()
before = resident()
blocks = [libc.malloc(1 << 20) for _ in range(200)]
for block in blocks:
    ctypes.memset(block, 1, 1 << 20)
for block in blocks:
    libc.free(block)
print((resident() - before) >> 20)
"""


@pytest.mark.skipif(process._glibc() is None, reason="glibc only")
def test_real_glibc_keeps_freed_memory_and_gives_it_back_after_the_defaults() -> None:
    def kept_mib(mode: str) -> int:
        run = [sys.executable, "-c", KEPT_AFTER_FREE, mode]
        return int(subprocess.run(run, capture_output=True, text=True, check=True).stdout)

    assert kept_mib("keep") >= 150
    assert kept_mib("default") <= 20
