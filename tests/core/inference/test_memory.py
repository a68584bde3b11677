"""The memory readings: this process's resident set now and at its peak."""

from __future__ import annotations

import sys

import pytest

from vldesk.core.inference.memory import (
    memory_in_use,
    peak_memory,
    peak_resident_bytes,
    resident_bytes,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@linux_only
def test_the_peak_is_at_least_what_is_resident_now() -> None:
    now = resident_bytes()
    assert now is not None
    assert now > 0
    block = b"\x01" * (64 * 1024**2)  # written, so resident until it is freed
    peak = peak_resident_bytes()
    assert peak is not None
    assert peak >= now + len(block) // 2


@linux_only
def test_the_cpu_device_reads_the_process() -> None:
    in_use, peak = memory_in_use("cpu"), peak_memory("cpu")
    assert in_use is not None
    assert peak is not None
    assert 0 < in_use <= peak
