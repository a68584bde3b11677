"""What the machine is and how busy it is: CPU load from other processes, memory in use."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from typing import Any


def _cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat (Linux only)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return total - idle, total


@dataclass
class LoadMeter:
    """The share of the machine's CPU time that *other* processes used between :meth:`start`
    and :meth:`stop`: 0.5 on a 2-core machine means one core was taken from the benchmark."""

    _start: tuple[int, int] | None = None
    _own_start: float = 0.0

    def start(self) -> LoadMeter:
        self._start = _cpu_jiffies()
        self._own_start = _own_cpu_seconds()
        return self

    def stop(self) -> float | None:
        end = _cpu_jiffies()
        if self._start is None or end is None:
            return None
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        busy = (end[0] - self._start[0]) / ticks
        total = (end[1] - self._start[1]) / ticks
        own = _own_cpu_seconds() - self._own_start
        if total <= 0:
            return None
        return max(0.0, min(1.0, (busy - own) / total))


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def other_load(seconds: float = 0.5) -> float | None:
    """Other processes' share of the CPU over the next ``seconds``."""
    meter = LoadMeter().start()
    time.sleep(seconds)
    return meter.stop()


def wait_for_quiet(limit: float = 0.1, timeout: float = 30.0) -> float | None:
    """Wait (up to ``timeout`` s) until other processes use less than ``limit`` of the CPU;
    returns the last load seen. Benchmarks on a shared machine start on a quiet moment."""
    deadline = time.monotonic() + timeout
    load = other_load(0.3)
    while load is not None and load > limit and time.monotonic() < deadline:
        load = other_load(0.3)
    return load


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine() -> dict[str, Any]:
    """The facts a reader needs to compare two benchmark files."""
    import torch

    from vldesk.core.inference.device import HardwareProbe
    from vldesk.core.models.machine import total_memory_bytes

    probe = HardwareProbe.detect()
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "physical_cores": probe.physical_cores,
        "cpu_feature": probe.cpu_feature,
        "cpu_bf16_fast": probe.cpu_bf16_fast,
        "gpu": probe.cuda_name or ("Apple MPS" if probe.mps_available else None),
        "memory_bytes": total_memory_bytes(),
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "platform": platform.platform(),
    }
