"""Loading with transformers: offline environment, logging, weight formats and CPU kernels."""

from __future__ import annotations

import gc
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vldesk.core.errors import DeviceError, ModelLoadError, OutOfMemoryError
from vldesk.core.inference.cpu import linear_attention
from vldesk.core.inference.cpu.attention import use_cpu_attention
from vldesk.core.inference.cpu.kernels import KernelChoice, install_decode_kernels, loading_dtype
from vldesk.core.inference.cpu.patch_linear import use_patch_linear
from vldesk.core.inference.cpu.process import (
    default_freed_memory,
    keep_freed_memory,
    set_cpu_threads,
)
from vldesk.core.inference.cpu.quantized_weights import WEIGHT_CHOICES, WeightFormat
from vldesk.core.inference.device import DeviceChoice, HardwareProbe, choose_device
from vldesk.core.inference.memory_errors import is_out_of_memory
from vldesk.core.inference.model_folder import ModelInfo, inspect_model_folder, stored_in_bfloat16
from vldesk.core.messages import core_text

log = logging.getLogger(__name__)


def _offline_environment() -> None:
    """Belt and braces on top of ``local_files_only``: the hub libraries must never go online."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _route_transformers_logging() -> None:
    """Send transformers' messages through Python logging (the app's log file, the CLI's -v)
    instead of its own stderr handler, and drop its progress bars (stderr may be None)."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_default_handler()
    hf_logging.enable_propagation()
    hf_logging.disable_progress_bar()


def _use_cpu_kernels(model: Any, weights: WeightFormat, dtype: Any) -> KernelChoice:
    patches = use_patch_linear(model)
    attention = use_cpu_attention(model)
    linear = linear_attention.has_linear_attention(model) and linear_attention.install() > 0
    log.info(
        "CPU kernels: %d patch embeddings as linear layers; decode-step attention: %s; "
        "linear-attention decode steps: %s",
        patches,
        "two products" if attention else "unchanged",
        "vldesk's" if linear else "unchanged",
    )
    return install_decode_kernels(model, weights, dtype)


def _weight_format(value: str | WeightFormat | None) -> WeightFormat:
    if isinstance(value, WeightFormat):
        return value
    try:
        return WeightFormat((value or WeightFormat.FULL.value).strip().lower())
    except ValueError:
        choices = ", ".join(WEIGHT_CHOICES)
        raise DeviceError(f"Unknown weights '{value}': choose one of {choices}.") from None


def free_device_memory() -> None:
    if "torch" not in sys.modules:
        return
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def short_error(exc: BaseException) -> str:
    """The first line of an exception's message, for a one-line user error."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) <= 300 else first[:297] + "..."


@dataclass(frozen=True)
class LoadedModel:
    """What :func:`load_model` read: the model, its processor, and where and how it runs."""

    model: Any
    processor: Any
    info: ModelInfo
    choice: DeviceChoice
    #: The decode kernels measured and installed on CPU (None elsewhere).
    cpu_kernels: KernelChoice | None


def load_model(
    model_dir: Path,
    *,
    device: str | None,
    dtype: str | None,
    name: str | None,
    probe: HardwareProbe | None,
    weights: str | WeightFormat | None,
) -> LoadedModel:
    """Load weights and processor from a local folder (see ``TransformersEngine.load``)."""
    info = inspect_model_folder(Path(model_dir), name)
    probe = probe if probe is not None else HardwareProbe.detect()
    choice = choose_device(device, dtype, probe)
    wanted_weights = _weight_format(weights)
    if wanted_weights is not WeightFormat.FULL and choice.kind != "cpu":
        log.info("%s weights apply on the CPU only: %s keeps its own", weights, choice.device)
    _offline_environment()
    from vldesk.core.inference.processor_loading import load_processor, torchvision_usable

    # transformers imports torchvision inside its image code whenever it is installed, so a
    # broken one must be ruled out before the model classes are resolved.
    torchvision_usable()
    import torch
    from transformers import AutoModelForImageTextToText

    _route_transformers_logging()
    if choice.kind == "cpu":
        set_cpu_threads(probe.physical_cores)
        # A model loaded before (a switch in the app) left freed memory kept in the heap.
        default_freed_memory()

    attention = "sdpa"
    if choice.kind == "cuda":
        try:
            import flash_attn  # noqa: F401

            attention = "flash_attention_2"
        except ImportError:
            pass
    log.info("loading %s on %s with %s attention", info.path, choice.describe(), attention)
    dtype = getattr(torch, choice.dtype.value)
    # A float32 model is converted (or quantized) from the mapped file's bfloat16 one tensor
    # at a time, never loaded as a whole float32 copy beside the file (13.5 GB for the 2B).
    load_dtype = dtype
    if choice.kind == "cpu":
        load_dtype = loading_dtype(wanted_weights, dtype, stored_in_bfloat16(info.path))
    try:
        model = AutoModelForImageTextToText.from_pretrained(
            info.path,
            local_files_only=True,
            use_safetensors=True,
            trust_remote_code=False,
            dtype=load_dtype,
            attn_implementation=attention,
            device_map=choice.device if choice.kind != "cpu" else None,
        )
        model.eval()
        cpu_kernels = None
        if choice.kind == "cpu":
            converted_to = dtype if load_dtype != dtype else None
            cpu_kernels = _use_cpu_kernels(model, wanted_weights, converted_to)
            # Only now: while weights are converted or packed, a freed copy kept in the heap
            # would stay resident beside its replacement.
            keep_freed_memory()
        processor = load_processor(info.path)
    except Exception as exc:
        if is_out_of_memory(exc):
            free_device_memory()
            raise OutOfMemoryError(
                core_text(
                    "Engine",
                    "Not enough memory to load {model} on {device} in {dtype}. Try a smaller "
                    "model or another device.",
                    model=info.name,
                    device=choice.device,
                    dtype=choice.dtype.value,
                )
            ) from exc
        raise ModelLoadError(
            core_text(
                "Engine",
                "The model in {path} could not be loaded: {reason}",
                path=str(info.path),
                reason=short_error(exc),
            )
        ) from exc
    return LoadedModel(model, processor, info, choice, cpu_kernels)
