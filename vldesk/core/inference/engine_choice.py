"""Which engine runs a local model: transformers, or llama.cpp where it measures faster.

The rule comes from the side-by-side figures in docs/performance.md ("llama.cpp engine"): on a
CPU that multiplies bfloat16 in hardware (AMX, AVX512-BF16) transformers reads the image
1.6-1.9x faster and decodes at 0.43-0.58x llama.cpp's rate, so for answers under about 400
tokens it finishes first (Zen 4, 2 threads, Qwen3-VL-2B, 1,024 image tokens); without those
features torch runs float32 and decodes at 0.04-0.24x llama.cpp's rate (issue 13, Zen 3), so
llama.cpp is faster at any length. A GPU stays with transformers.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vldesk.core.inference.cpu.capabilities import CpuCapabilities

if TYPE_CHECKING:
    from vldesk.core.models.catalog import ModelSpec
    from vldesk.core.models.store import ModelStore

TRANSFORMERS = "transformers"
LLAMA_CPP = "llama.cpp"
#: The ``--engine`` flag's and the ``engine`` setting's choices.
ENGINE_CHOICES = ("auto", TRANSFORMERS, LLAMA_CPP)
#: How to install llama.cpp for vldesk, for messages.
PEER_INSTALL = "pip install 'vldesk[peer]'"

#: The reason given when the engine setting (or ``--engine``) chose llama.cpp.
ASKED = "asked for with --engine or the engine setting"
#: vldesk's weights setting and the GGUF quantization of about the same bits, best first.
QUANT_FOR_WEIGHTS = {"full": ("F16", "BF16"), "int8": ("Q8_0",), "int4": ("Q4_K_M",)}
#: Which installed quantization to take when none matches the weights setting.
QUANT_ORDER = ("Q4_K_M", "Q8_0", "F16")


def llama_cpp_installed() -> bool:
    """llama-cpp-python can be imported (without importing it: that loads the library)."""
    return importlib.util.find_spec("llama_cpp") is not None


def gpu_present() -> bool:
    """A GPU transformers would use, guessed without importing torch: NVIDIA's driver (Linux,
    Windows) or Apple silicon (MPS)."""
    if sys.platform == "darwin":
        return platform.machine() == "arm64"
    return os.path.exists("/proc/driver/nvidia/version") or shutil.which("nvidia-smi") is not None


def faster_on_cpu(caps: CpuCapabilities) -> tuple[str, str]:
    """The engine that answers sooner on this CPU, and why (in words for the user)."""
    if caps.bf16_fast:
        return TRANSFORMERS, (
            f"this CPU has {caps.fast_bf16_feature}: transformers reads images 1.6-1.9x faster "
            "than llama.cpp and finishes first on answers under about 400 tokens"
        )
    feature = caps.matrix_feature or "no AVX2"
    return LLAMA_CPP, (
        f"this CPU ({feature}) has no AMX or AVX512-BF16: transformers would decode in float32 "
        "at 0.04-0.24x llama.cpp's speed"
    )


#: The GGUF quantization offered first where llama.cpp is the faster engine: 8 bits keeps the
#: answers close to full weights (Q4_K_M costs a 2B model more) and decodes about 1.6x faster
#: than F16 (issue 13, Zen 3: 10.2 against 6.54 tokens/s), at 2.6 GB instead of 4.3.
SUGGESTED_QUANT = "Q8_0"


def suggested_download(
    spec: ModelSpec,
    *,
    caps: CpuCapabilities | None = None,
    llama_available: bool | None = None,
    gpu: bool | None = None,
) -> ModelSpec:
    """What to offer a new user for ``spec``: its GGUF version where llama.cpp is installed
    and the faster engine on this CPU (and no GPU), else ``spec`` itself."""
    from vldesk.core.inference.cpu import capabilities
    from vldesk.core.models.catalog import gguf_variant

    if spec.gguf is None or spec.gguf.quant(SUGGESTED_QUANT) is None:
        return spec
    if gpu_present() if gpu is None else gpu:
        return spec
    if not (llama_cpp_installed() if llama_available is None else llama_available):
        return spec
    if faster_on_cpu(caps or capabilities.detect(ask_torch=False))[0] != LLAMA_CPP:
        return spec
    return gguf_variant(spec, SUGGESTED_QUANT)


@dataclass(frozen=True)
class EngineChoice:
    """The folder to load, the engine that runs it, and why."""

    folder: Path
    #: The model's name as the user knows it (catalog id, ``REPO:QUANT``, imported name).
    name: str
    engine: str
    reason: str


def _installed_variant(store: ModelStore, spec: ModelSpec, weights: str) -> ModelSpec | None:
    from vldesk.core.models.catalog import gguf_variants

    installed = {v.gguf_quant: v for v in gguf_variants(spec) if store.is_installed(v)}
    for quant in (*QUANT_FOR_WEIGHTS.get(weights, ()), *QUANT_ORDER, *installed):
        if quant in installed:
            return installed[quant]
    return None


def _download_hint(spec: ModelSpec) -> str:
    if spec.gguf is None:
        return f"{spec.id} has no GGUF version in vldesk's catalog"
    quants = ", ".join(q.name for q in spec.gguf.quants)
    return (
        f"download one with `vldesk models download {spec.id} --gguf Q4_K_M` ({quants}), or "
        "from the Models window"
    )


def choose_engine(
    store: ModelStore,
    ref: str,
    *,
    setting: str = "auto",
    weights: str = "full",
    device: str = "auto",
    caps: CpuCapabilities | None = None,
    llama_available: bool | None = None,
    gpu: bool | None = None,
) -> EngineChoice:
    """The folder and engine for the model ``ref`` (catalog id, ``REPO:QUANT``, imported name or
    folder) under the engine ``setting`` ("auto", "transformers", "llama.cpp").

    A GGUF folder runs on llama.cpp and a safetensors folder on transformers. A catalog model
    with a GGUF variant downloaded runs on llama.cpp under "llama.cpp", and under "auto" where
    llama.cpp is installed, the device is the CPU (no GPU) and :func:`faster_on_cpu` says so.

    Raises:
        ModelNotFoundError, ModelLoadError: the model is not there, or the forced engine cannot
            run it (saying how to get what it needs).
    """
    from vldesk.core.errors import ModelLoadError, ModelNotFoundError
    from vldesk.core.inference.cpu import capabilities
    from vldesk.core.models.catalog import find_model
    from vldesk.core.models.folder_check import validate_model_folder

    spec = find_model(ref)
    on_cpu = device == "cpu" or (device == "auto" and not (gpu_present() if gpu is None else gpu))
    if spec is not None and spec.gguf is not None and setting != TRANSFORMERS:
        variant = _installed_variant(store, spec, weights)
        if setting == LLAMA_CPP and variant is None:
            raise ModelNotFoundError(
                f"No GGUF version of {spec.id} is downloaded for llama.cpp: {_download_hint(spec)}."
            )
        if variant is not None:
            installed = llama_cpp_installed() if llama_available is None else llama_available
            faster, why = faster_on_cpu(caps or capabilities.detect(ask_torch=False))
            folder = store.folder_for(variant)
            if setting == LLAMA_CPP:
                return EngineChoice(folder, variant.ref, LLAMA_CPP, ASKED)
            if not store.is_installed(spec):
                if not installed:
                    raise ModelLoadError(
                        f"Only the GGUF version of {spec.id} is downloaded, and it needs "
                        f"llama.cpp: {PEER_INSTALL}."
                    )
                return EngineChoice(folder, variant.ref, LLAMA_CPP, "only its GGUF is downloaded")
            if installed and on_cpu and faster == LLAMA_CPP:
                return EngineChoice(folder, variant.ref, LLAMA_CPP, why)
    folder = store.resolve(ref)
    engine = validate_model_folder(folder).engine
    if setting not in ("auto", engine):
        what = "GGUF files, which only llama.cpp runs" if engine == LLAMA_CPP else "no GGUF files"
        hint = f"; {_download_hint(spec)}" if spec is not None and engine == TRANSFORMERS else ""
        named = str(folder) if Path(ref).expanduser().is_dir() else f"{ref} ({folder})"
        raise ModelLoadError(f"{named} holds {what}{hint}.")
    reason = "a GGUF model" if engine == LLAMA_CPP else "safetensors weights"
    return EngineChoice(folder, ref, engine, reason)


@dataclass(frozen=True)
class CpuSpeed:
    """Measured decode speeds on one kind of CPU, and where they were measured."""

    kind: str
    machine: str
    transformers: str
    llama_cpp: str
    engine: str

    def matches(self, caps: CpuCapabilities) -> bool:
        if self.kind == "AMX":
            return caps.fast_bf16_feature == "AMX-BF16"
        if self.kind == "AVX-512-BF16":
            return caps.fast_bf16_feature == "AVX512-BF16"
        return not caps.bf16_fast


#: Qwen3-VL-2B decode speeds on 2 threads, from docs/performance.md (random weights of the real
#: size; a CPU with more cores is faster in proportion to its memory bandwidth).
CPU_SPEEDS = (
    CpuSpeed(
        "AMX",
        "Intel Xeon with AMX, 2 cores (session 1)",
        "5.5 tokens/s (bfloat16)",
        "not measured",
        TRANSFORMERS,
    ),
    CpuSpeed(
        "AVX-512-BF16",
        "AMD EPYC Zen 4, 2 cores (sessions 5-6)",
        "6.8 tokens/s full, 8.1 int8, 11.4 int4",
        "11.8 tokens/s F16, 14.2 Q8_0, 26.6 Q4_K_M",
        TRANSFORMERS,
    ),
    CpuSpeed(
        "AVX2 only",
        "AMD Zen 3 (issue 13)",
        "0.04-0.24x llama.cpp's speed (float32)",
        "4-25x transformers' speed",
        LLAMA_CPP,
    ),
)


def speed_for(caps: CpuCapabilities) -> CpuSpeed:
    """The row of :data:`CPU_SPEEDS` for this CPU."""
    return next(row for row in CPU_SPEEDS if row.matches(caps))
