"""Decode-step attention for CPUs: one new token per answer attends to the cache with two
matrix products instead of PyTorch's fused CPU kernel.

PyTorch's fused attention on the CPU is built for many queries at once; with the single query of
a decode step it spends most of its time on set-up. On a 2-core AMD Zen 4 CPU it took 2.3 ms per
layer with 1,000 tokens in the cache, the two products 0.48 ms with the same accuracy, so a
28-layer model spent 65 ms of each token there instead of 13 (docs/performance.md). Prompts
(many queries) and the vision tower keep the fused kernel.
"""

from __future__ import annotations

import functools
from typing import Any

#: The name the text decoder's attention is registered under with transformers.
ATTENTION_NAME = "vldesk_cpu_decode"


def decode_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    """transformers' attention-function signature. A decode step on the CPU (one query per
    answer, no dropout or position bias) is computed here; anything else goes to SDPA.

    Scores are computed and normalised in float32 whatever the cache's precision, as the fused
    kernel does: bfloat16 scores would shift the softmax by about 2 %.
    """
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if (
        query.shape[2] != 1
        or query.device.type != "cpu"
        or dropout
        or kwargs.get("position_bias") is not None
        or kwargs.get("cache") is not None
        or kwargs.get("softcap") is not None
    ):
        return sdpa_attention_forward(  # type: ignore[no-any-return]
            module,
            query,
            key,
            value,
            attention_mask,
            dropout=dropout,
            scaling=scaling,
            is_causal=is_causal,
            **kwargs,
        )
    batch, heads, _, dim = query.shape
    kv_heads, length = key.shape[1], key.shape[2]
    groups = heads // kv_heads
    scale = scaling if scaling is not None else dim**-0.5
    # Query heads grouped under the key/value head they share: no copies of the cache.
    grouped = query.reshape(batch, kv_heads, groups, dim).float()
    scores = torch.matmul(grouped, key.float().transpose(-1, -2)) * scale
    if attention_mask is not None:
        mask = attention_mask[..., -length:]
        if mask.dim() == 4 and mask.shape[1] == heads and heads != 1:
            mask = mask.reshape(batch, kv_heads, groups, length)
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask.float()
    probabilities = torch.softmax(scores, dim=-1).to(value.dtype)
    output = torch.matmul(probabilities, value)  # (batch, kv_heads, groups, dim)
    return output.reshape(batch, 1, heads, dim), None


@functools.cache
def _register() -> None:
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    ALL_ATTENTION_FUNCTIONS.register(ATTENTION_NAME, decode_attention)
    # The same masks as SDPA, which prompts still run with.
    ALL_MASK_ATTENTION_FUNCTIONS.register(ATTENTION_NAME, sdpa_mask)


def use_decode_attention(model: Any) -> bool:
    """Route the text decoder's attention (not the vision tower's) through
    :func:`decode_attention` when it runs SDPA; returns whether it did."""
    text = model.config.get_text_config()
    if getattr(text, "_attn_implementation", None) != "sdpa":
        return False
    _register()
    text._attn_implementation = ATTENTION_NAME
    return True
