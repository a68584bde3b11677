"""Choose how many images go through the model at once from the memory that is free."""

from __future__ import annotations

import logging
import os
from typing import Any

from vldesk.core.generation import GenerationSettings
from vldesk.core.models.machine import available_memory_bytes

log = logging.getLogger(__name__)

#: Batches at most this large: beyond it decoding is no longer memory-bound and gains nothing.
MAX_BATCH = {"cuda": 16, "mps": 4, "cpu": 4}
#: Used when free memory cannot be measured.
FALLBACK_BATCH = {"cuda": 4, "mps": 2, "cpu": 2}
#: Only this share of the free memory is planned for; the rest absorbs estimation error.
USABLE_SHARE = 0.5
#: Chat template, system prompt and question tokens around the image, generously.
PROMPT_TOKENS = 256
#: Prefill keeps several hidden-state-sized tensors per token alive (MLP, norms, attention).
ACTIVATION_COPIES = 12


def available_memory(device: str) -> int | None:
    """Free bytes on ``device`` ("cuda:0", "mps", "cpu"), or ``None`` when it cannot be told."""
    try:
        if device.startswith("cuda"):
            import torch

            free, _total = torch.cuda.mem_get_info(torch.device(device))
            return int(free)
        if device == "mps":
            import torch

            limit = int(torch.mps.recommended_max_memory())
            return max(0, limit - int(torch.mps.driver_allocated_memory()))
    except Exception as exc:  # old torch, a driver hiccup: fall back to the default size
        log.info("cannot read free memory on %s: %s", device, exc)
        return None
    return system_available_memory()


def system_available_memory() -> int | None:
    """The system's available RAM; where the OS gives no such figure, its free pages."""
    available = available_memory_bytes()
    if available is not None:
        return available
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return int(pages * page_size) if pages > 0 and page_size > 0 else None


def bytes_per_image(model_config: Any, settings: GenerationSettings, dtype_bytes: int) -> int:
    """Memory one more image in the batch needs: its KV cache plus prefill activations."""
    text = model_config.get_text_config() if hasattr(model_config, "get_text_config") else None
    text = text or model_config
    hidden = int(text.hidden_size)
    layers = int(text.num_hidden_layers)
    heads = int(text.num_attention_heads)
    kv_heads = int(getattr(text, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(text, "head_dim", None) or hidden // heads)
    intermediate = int(getattr(text, "intermediate_size", None) or 4 * hidden)
    tokens = settings.max_image_tokens + PROMPT_TOKENS + settings.max_new_tokens
    kv_cache = 2 * layers * kv_heads * head_dim * tokens * dtype_bytes
    activations = tokens * (ACTIVATION_COPIES * hidden + 2 * intermediate) * dtype_bytes
    vision = getattr(model_config, "vision_config", None)
    if vision is not None:
        # The vision tower sees four patches per visual token (2x2 merge) before merging.
        patches = 4 * settings.max_image_tokens
        vision_hidden = int(getattr(vision, "hidden_size", None) or hidden)
        activations += patches * ACTIVATION_COPIES * vision_hidden * dtype_bytes
    return kv_cache + activations


def choose_batch_size(
    model_config: Any, device: str, dtype_bytes: int, settings: GenerationSettings
) -> int:
    """A batch size for a model with ``model_config`` on ``device`` under ``settings`` that fits
    in half the free memory."""
    kind = device.split(":")[0]
    kind = kind if kind in MAX_BATCH else "cpu"
    free = available_memory(device)
    if free is None:
        return FALLBACK_BATCH[kind]
    try:
        per_image = bytes_per_image(model_config, settings, dtype_bytes)
    except (AttributeError, TypeError, ValueError, ZeroDivisionError) as exc:
        log.info("cannot estimate memory per image: %s", exc)
        return FALLBACK_BATCH[kind]
    fitting = int(free * USABLE_SHARE) // max(per_image, 1)
    size = max(1, min(MAX_BATCH[kind], fitting))
    log.info(
        "batch size %d: %.1f GB free, about %.0f MB per image",
        size,
        free / 1e9,
        per_image / 1e6,
    )
    return size
