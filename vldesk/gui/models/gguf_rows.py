"""The model manager's GGUF rows (one per quantization) and what speed to expect on this CPU."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from vldesk.core.inference.cpu import capabilities
from vldesk.core.inference.cpu.capabilities import CpuCapabilities
from vldesk.core.inference.engine_choice import (
    LLAMA_CPP,
    PEER_INSTALL,
    faster_on_cpu,
    llama_cpp_installed,
    speed_for,
)
from vldesk.core.models.catalog import ModelSpec, Precision, gguf_variants
from vldesk.core.models.machine import FitHint, fit_hint
from vldesk.core.models.store import InstallState, ModelStore
from vldesk.gui.i18n import mark_translatable


def _tr(text: str) -> str:
    return QCoreApplication.translate("CpuSpeed", text)


#: The measured figures of docs/performance.md as the core words them, for translation.
SPEED_WORDS = (
    mark_translatable("CpuSpeed", "AMX"),
    mark_translatable("CpuSpeed", "AVX-512-BF16"),
    mark_translatable("CpuSpeed", "AVX2 only"),
    mark_translatable("CpuSpeed", "Intel Xeon with AMX, 2 cores (session 1)"),
    mark_translatable("CpuSpeed", "AMD EPYC Zen 4, 2 cores (sessions 5-6)"),
    mark_translatable("CpuSpeed", "AMD Zen 3 (issue 13)"),
    mark_translatable("CpuSpeed", "5.5 tokens/s (bfloat16)"),
    mark_translatable("CpuSpeed", "not measured"),
    mark_translatable("CpuSpeed", "6.8 tokens/s full, 8.1 int8, 11.4 int4"),
    mark_translatable("CpuSpeed", "11.8 tokens/s F16, 14.2 Q8_0, 26.6 Q4_K_M"),
    mark_translatable("CpuSpeed", "0.04-0.24x llama.cpp's speed (float32)"),
    mark_translatable("CpuSpeed", "4-25x transformers' speed"),
)


def show_gguf_rows(caps: CpuCapabilities | None = None, installed: bool | None = None) -> bool:
    """Offer every GGUF quantization where llama.cpp is installed and faster on this CPU."""
    caps = caps or capabilities.detect(ask_torch=False)
    ready = llama_cpp_installed() if installed is None else installed
    return ready and faster_on_cpu(caps)[0] == LLAMA_CPP


def variant_rows(
    store: ModelStore,
    spec: ModelSpec,
    ram: int | None,
    vram: int | None,
    cpu_precision: Precision,
    show_all: bool,
) -> list[tuple[ModelSpec, InstallState, int, str | None, FitHint]]:
    """The GGUF variants of ``spec`` to list: all where ``show_all``, else those on disk."""
    rows = []
    for variant in gguf_variants(spec):
        status = store.status(variant)
        if show_all or status.state is not InstallState.NOT_INSTALLED:
            on_disk = status.size_on_disk if status.state is InstallState.INSTALLED else None
            hint = fit_hint(variant, ram, vram, cpu_precision, file_bytes=on_disk)
            rows.append((variant, status.state, status.size_on_disk, status.problem, hint))
    return rows


def variant_summary(spec: ModelSpec) -> str:
    return _tr("{model} as GGUF {quant}, run by llama.cpp on the CPU.").format(
        model=spec.display_name.removesuffix(f" GGUF {spec.gguf_quant}"), quant=spec.gguf_quant
    )


def cpu_speed_text(caps: CpuCapabilities | None = None, installed: bool | None = None) -> str:
    """What decode speed to expect on this kind of CPU, the faster engine and what to do."""
    caps = caps or capabilities.detect(ask_torch=False)
    ready = llama_cpp_installed() if installed is None else installed
    row = speed_for(caps)
    faster = faster_on_cpu(caps)[0]
    text = _tr(
        "This CPU: {kind}. Qwen3-VL-2B decodes at transformers {transformers}, llama.cpp "
        "{llama} (measured on {machine}). Faster here: {engine}."
    ).format(
        kind=_tr(row.kind),
        transformers=_tr(row.transformers),
        llama=_tr(row.llama_cpp),
        machine=_tr(row.machine),
        engine=faster,
    )
    if faster == LLAMA_CPP and not ready:
        text += " " + _tr("Install llama.cpp for vldesk to use it: {command}").format(
            command=PEER_INSTALL
        )
    elif faster == LLAMA_CPP:
        text += " " + _tr("Download a GGUF version (the rows marked llama.cpp) to use it.")
    return text
