"""Loading with transformers: offline environment, logging, weight formats and CPU kernels."""

from __future__ import annotations

import gc
import logging
import os
import sys
from typing import Any

from vldesk.core.errors import DeviceError
from vldesk.core.inference.cpu import linear_attention
from vldesk.core.inference.cpu.attention import use_cpu_attention
from vldesk.core.inference.cpu.kernels import (
    KernelChoice,
    install_decode_kernels,
)
from vldesk.core.inference.cpu.patch_linear import use_patch_linear
from vldesk.core.inference.cpu.quantized_weights import WEIGHT_CHOICES, WeightFormat

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


def _free_device_memory() -> None:
    if "torch" not in sys.modules:
        return
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _short(exc: BaseException) -> str:
    """The first line of an exception's message, for a one-line user error."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) <= 300 else first[:297] + "..."
