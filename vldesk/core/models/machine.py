"""How much memory this machine has, and whether a model fits in it, without importing torch."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import Enum

from vldesk.core.inference.cpu.quantized_weights import WeightFormat
from vldesk.core.models.catalog import ModelSpec, Precision, gguf_memory_needed_bytes
from vldesk.core.models.files import format_bytes


def total_memory_bytes() -> int | None:
    """Physical RAM, or ``None`` where it cannot be read cheaply."""
    if sys.platform == "win32":
        return _windows_memory()[0]
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def available_memory_bytes() -> int | None:
    """RAM that can be used now without swapping (Linux ``MemAvailable``), else ``None``."""
    if sys.platform == "win32":
        return _windows_memory()[1]
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _windows_memory() -> tuple[int | None, int | None]:
    import ctypes

    class MemoryStatus(ctypes.Structure):
        _fields_ = [  # the ctypes layout of MEMORYSTATUSEX
            ("dwLength", ctypes.c_ulong),
            ("dwMemoryLoad", ctypes.c_ulong),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatus()
    status.dwLength = ctypes.sizeof(MemoryStatus)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
        return None, None
    return int(status.ullTotalPhys), int(status.ullAvailPhys)


class Fit(str, Enum):
    FITS = "fits"
    TIGHT = "tight"
    TOO_BIG = "too_big"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class FitHint:
    """Whether a model is likely to run here, with a one-line explanation (and its figures, for
    interfaces that word it themselves)."""

    fit: Fit
    text: str
    need_bytes: int = 0
    have_bytes: int = 0
    precision: Precision | None = None
    on_gpu: bool = False
    #: The weights as shown beside the need: the precision, or a GGUF file's quantization.
    weights: str = ""


def fit_hint(
    spec: ModelSpec,
    ram_bytes: int | None,
    vram_bytes: int | None = None,
    cpu_precision: Precision = Precision.FLOAT32,
    file_bytes: int | None = None,
    cpu_weights: WeightFormat = WeightFormat.FULL,
) -> FitHint:
    """Compare a model's memory needs with the GPU (bf16) if there is one, else with RAM at
    ``cpu_precision`` with ``cpu_weights`` (int8 and int4 apply on the CPU only).

    A GGUF variant runs on the CPU with llama.cpp at its own quantization: its files
    (``file_bytes`` where they are on disk, else the download's size) and llama.cpp's overhead,
    against RAM. "Tight" leaves under a quarter of the memory for the system and other programs.
    """
    precision: Precision | None
    if spec.is_gguf and ram_bytes:
        where, have, precision = "RAM", ram_bytes, None
        need = gguf_memory_needed_bytes(file_bytes or spec.download_bytes)
        weights = spec.gguf_quant
    elif vram_bytes and not spec.is_gguf:
        where, have, precision = "GPU memory", vram_bytes, Precision.BFLOAT16
        need, weights = spec.memory_needed_bytes(precision), precision.value
    elif ram_bytes and not spec.is_gguf:
        where, have, precision = "RAM", ram_bytes, cpu_precision
        need = spec.memory_needed_bytes(precision, cpu_weights)
        weights = precision.value
        if cpu_weights is not WeightFormat.FULL:
            weights = f"{precision.value}, {cpu_weights.value}"
    else:
        return FitHint(Fit.UNKNOWN, "Memory size unknown.")
    summary = f"needs ~{format_bytes(need)} ({weights}) of {format_bytes(have)} {where}"
    if need > have:
        fit, text = Fit.TOO_BIG, f"Too big: {summary}."
    elif need > have * 0.75:
        fit, text = Fit.TIGHT, f"Tight: {summary}; close other programs."
    else:
        fit, text = Fit.FITS, f"Fits: {summary}."
    return FitHint(fit, text, need, have, precision, on_gpu=where != "RAM", weights=weights)
