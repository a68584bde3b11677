"""Memory readings: this process's resident memory now and at its peak, and the device's."""

from __future__ import annotations

import os
import sys


def resident_bytes() -> int | None:
    """This process's resident memory now (Linux), else ``None``."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def peak_resident_bytes() -> int | None:
    """This process's peak resident memory since it started.

    Linux's ``VmHWM`` belongs to the process image; ``ru_maxrss`` survives ``exec`` and would
    report a parent's peak in a worker, so it is only the fallback (macOS).
    """
    if sys.platform == "win32":
        return None
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def memory_in_use(device: str) -> int | None:
    """Bytes the model's device holds now: CUDA allocations, else this process's resident set
    (its peak where the current figure cannot be read cheaply)."""
    if device.startswith("cuda") and "torch" in sys.modules:
        import torch

        return int(torch.cuda.memory_allocated())
    now = resident_bytes()
    return now if now is not None else peak_resident_bytes()


def peak_memory(device: str) -> int | None:
    """The most the model's device has held: CUDA's peak allocation, else the process's peak."""
    if device.startswith("cuda") and "torch" in sys.modules:
        import torch

        return int(torch.cuda.max_memory_allocated())
    return peak_resident_bytes()
