"""Figures about a loaded transformers model: its weights, bytes read per token, config sizes."""

from __future__ import annotations

from typing import Any

#: The text decoder's sizes an activation-memory estimate needs.
_TEXT_SIZES = (
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "head_dim",
    "num_key_value_heads",
)
_VISION_SIZES = ("hidden_size", "intermediate_size", "spatial_merge_size")


def _weight_buffers(model: Any) -> list[Any]:
    """Buffers that hold a layer's weights in another form (``weight_scale``,
    ``weight_nibbles`` ... of :mod:`vldesk.core.inference.cpu.quantized_weights`)."""
    return [
        buffer
        for name, buffer in model.named_buffers()
        if name.rsplit(".", 1)[-1].startswith("weight_")
    ]


def weight_figures(model: Any, *, tied_head_packed: bool = False) -> dict[str, int]:
    """``parameters`` and ``weights_bytes`` (quantized layers' scales and values included)."""
    params = list(model.parameters())
    if tied_head_packed:
        # The packed head is the tied embeddings' weight in another layout, not more weights.
        head = model.get_output_embeddings().weight
        params = [p for p in params if p is not head]
    return {
        "parameters": sum(p.numel() for p in params),
        "weights_bytes": sum(
            p.numel() * p.element_size() for p in [*params, *_weight_buffers(model)]
        ),
    }


def decode_bytes_per_token(model: Any) -> int:
    """Bytes of weights one decode step reads: every text-decoder weight and the output head
    (the vision tower is not used, and an untied input embedding reads one row only)."""
    head = model.get_output_embeddings()
    head_weight = head.weight if head is not None else None
    embedding = model.get_input_embeddings().weight
    seen: set[int] = set()
    total = 0
    for name, param in model.named_parameters(remove_duplicate=False):
        if "visual" in name.split(".") or id(param) in seen:
            continue
        if param is embedding and param is not head_weight:
            continue
        seen.add(id(param))
        total += param.numel() * param.element_size()
    return total


def _sizes(config: Any, names: tuple[str, ...]) -> dict[str, int]:
    values = {name: getattr(config, name, None) for name in names}
    return {name: int(v) for name, v in values.items() if isinstance(v, (int, float))}


def config_sizes(config: Any) -> dict[str, dict[str, int]]:
    """The text decoder's and the vision tower's sizes (``text``, ``vision``), as numbers;
    a size the config does not give is left out."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    sizes = {"text": _sizes(text, _TEXT_SIZES)}
    vision = getattr(config, "vision_config", None)
    if vision is not None:
        deepstack = getattr(vision, "deepstack_visual_indexes", None) or []
        sizes["vision"] = {**_sizes(vision, _VISION_SIZES), "deepstack_layers": len(deepstack)}
    return sizes
