"""How much memory a run may take: the weights plus an estimate of the image activations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The target: peak memory at most this many times the weights, plus the image activations.
WEIGHTS_FACTOR = 1.3


def _get(sizes: Mapping[str, int], name: str, default: int = 0) -> int:
    return int(sizes.get(name, default))


def activation_bytes(
    sizes: Mapping[str, Mapping[str, int]], image_tokens: int, prompt_tokens: int, dtype_bytes: int
) -> int:
    """An estimate of the largest set of live activations while one image is read.

    ``sizes`` are the engine's ``config_sizes`` figure: the text decoder's (``text``) and the
    vision tower's (``vision``). Vision tower, per block: the patch states, q/k/v, the attention
    output and the MLP intermediate (SDPA never forms the full attention matrix). Text prefill:
    the residual stream, q/k/v, the MLP gate/up/intermediate, the KV cache of every layer and the
    deepstack features. Whichever of the two is larger, plus the KV cache, which stays.
    """
    text = sizes.get("text", {})
    vision = sizes.get("vision")
    hidden = _get(text, "hidden_size")
    inter = _get(text, "intermediate_size")
    layers = _get(text, "num_hidden_layers")
    heads = _get(text, "num_attention_heads", 1)
    head_dim = _get(text, "head_dim", hidden // max(heads, 1))
    kv_heads = _get(text, "num_key_value_heads", heads)
    kv_cache = 2 * layers * prompt_tokens * kv_heads * head_dim * dtype_bytes
    text_live = prompt_tokens * (6 * hidden + 3 * inter) * dtype_bytes
    vision_live = 0
    if vision is not None:
        merge = _get(vision, "spatial_merge_size", 2)
        patches = image_tokens * merge * merge
        vision_hidden = _get(vision, "hidden_size")
        vision_inter = _get(vision, "intermediate_size")
        vision_live = patches * (6 * vision_hidden + vision_inter) * dtype_bytes
        text_live += _get(vision, "deepstack_layers") * image_tokens * hidden * dtype_bytes
    return kv_cache + max(text_live, vision_live)


def memory_check(weights: int, activations: int, peak_over_runtime: int) -> dict[str, Any]:
    """Peak memory above the bare runtime against ``1.3 x weights + activations``."""
    allowance = int(WEIGHTS_FACTOR * weights + activations)
    return {
        "weights_bytes": weights,
        "activation_estimate_bytes": activations,
        "allowance_bytes": allowance,
        "peak_over_runtime_bytes": peak_over_runtime,
        "peak_over_weights": peak_over_runtime / weights if weights else None,
        "met": peak_over_runtime <= allowance,
    }
