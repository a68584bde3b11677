"""Text-decoder attention for CPUs: fast decode steps, and batches that give every answer the
same bits as when it is answered alone.

PyTorch's fused attention on the CPU is built for many queries at once; with the single query of
a decode step it spends most of its time on set-up. On a 2-core AMD Zen 4 CPU it took 2.3 ms per
layer with 1,000 tokens in the cache, two matrix products 0.48 ms with the same accuracy, so a
28-layer model spent 65 ms of each token there instead of 13 (docs/performance.md).

In a left-padded batch the fused kernel splits each row's keys into blocks at other places than
for the row alone, so the sums run in another order and the bits differ; greedy answers then
drift apart now and then. Here each row of a batch attends over its own tokens only, with
exactly the call it would get alone. The vision tower keeps SDPA.
"""

from __future__ import annotations

import functools
from typing import Any

#: The name the text decoder's attention is registered under with transformers.
ATTENTION_NAME = "vldesk_cpu"
#: Cached tokens whose keys are converted to float32 at a time in a decode step.
SCORE_CHUNK = 1024


def text_attention(
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
    """transformers' attention-function signature: ``(batch, queries, heads, dim)`` out.

    On the CPU, with a mask that is left padding (or none), decode steps take
    :func:`_attend_one` and each row of a batched prompt runs alone; anything else is SDPA's.
    """
    import torch

    queries, length = query.shape[2], key.shape[2]
    starts = None
    if (
        query.device.type == "cpu"
        and not dropout
        and all(kwargs.get(name) is None for name in ("position_bias", "cache", "softcap"))
    ):
        starts = _row_starts(attention_mask, query.shape[0], queries, length)
    if starts is None or (queries > 1 and starts == [0] and attention_mask is None):
        return _sdpa(module, query, key, value, attention_mask, dropout, scaling, is_causal, kwargs)
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    rows = []
    for row, start in enumerate(starts):
        own_key = key[row : row + 1, :, start:]
        own_value = value[row : row + 1, :, start:].contiguous()
        if queries == 1:
            rows.append(_attend_one(query[row : row + 1], own_key, own_value, scale))
            continue
        # A prompt: its padded positions come first; their outputs are never attended to.
        own_query = query[row : row + 1, :, start:].contiguous()
        out, _ = _sdpa(
            module, own_query, own_key.contiguous(), own_value, None, 0.0, scaling, is_causal, {}
        )
        rows.append(torch.nn.functional.pad(out, (0, 0, 0, 0, start, 0)))
    return (rows[0] if len(rows) == 1 else torch.cat(rows)), None


def _sdpa(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    mask: Any,
    dropout: float,
    scaling: float | None,
    is_causal: bool | None,
    kwargs: dict[str, Any],
) -> tuple[Any, Any]:
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    return sdpa_attention_forward(  # type: ignore[no-any-return]
        module,
        query,
        key,
        value,
        mask,
        dropout=dropout,
        scaling=scaling,
        is_causal=is_causal,
        **kwargs,
    )


def _row_starts(mask: Any, batch: int, queries: int, length: int) -> list[int] | None:
    """How many leading key positions each row skips, when ``mask`` (transformers' boolean or
    additive mask) is causal attention over left-padded rows of a fresh prompt or a decode step,
    or absent; else ``None``."""
    import torch

    if mask is None:
        return [0] * batch
    if mask.dim() != 4 or mask.shape[1] != 1 or mask.shape[2] != queries:
        return None
    keep = mask[:, 0, :, -length:]
    if keep.dtype != torch.bool:
        keep = keep > torch.finfo(keep.dtype).min / 2
    keep = keep.expand(batch, -1, -1)
    offset = length - queries  # keys cached before these queries
    if queries > 1 and offset:
        return None
    starts = (~keep[:, -1, :]).sum(dim=-1)
    columns = torch.arange(length)
    causal = columns[None, :] <= torch.arange(queries)[:, None] + offset
    result = []
    for row, start in enumerate(starts.tolist()):
        first_query = max(0, start - offset)
        expected = causal[first_query:] & (columns >= start)
        if not torch.equal(keep[row, first_query:], expected):
            return None
        result.append(int(start))
    return result


def _attend_one(query: Any, key: Any, value: Any, scale: float) -> Any:
    """One query per row attending to every key: ``(batch, 1, heads, dim)``.

    Scores are computed and normalised in float32 whatever the cache's precision, as the fused
    kernel does: bfloat16 scores would shift the softmax by about 2 %.
    """
    import torch

    batch, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    # Query heads grouped under the key/value head they share: no copies of the cache.
    grouped = query.reshape(batch, kv_heads, heads // kv_heads, dim).float()
    # Keys converted to float32 a cache-sized chunk at a time: converting a long cache at once
    # writes it all to memory and reads it back (at 9,400 tokens 15.5 ms a layer, chunked 3.1).
    length = key.shape[2]
    scores = (
        torch.cat(
            [
                torch.matmul(
                    grouped, key[:, :, start : start + SCORE_CHUNK].float().transpose(-1, -2)
                )
                for start in range(0, length, SCORE_CHUNK)
            ],
            dim=-1,
        )
        * scale
    )
    probabilities = torch.softmax(scores, dim=-1).to(value.dtype)
    return torch.matmul(probabilities, value).reshape(batch, 1, heads, dim)


@functools.cache
def _register() -> None:
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    ALL_ATTENTION_FUNCTIONS.register(ATTENTION_NAME, text_attention)
    # The same masks as SDPA, which it hands everything else to.
    ALL_MASK_ATTENTION_FUNCTIONS.register(ATTENTION_NAME, sdpa_mask)


def use_cpu_attention(model: Any) -> bool:
    """Route the text decoder's attention (not the vision tower's) through
    :func:`text_attention` when it runs SDPA; returns whether it did."""
    text = model.config.get_text_config()
    if getattr(text, "_attn_implementation", None) != "sdpa":
        return False
    _register()
    text._attn_implementation = ATTENTION_NAME
    return True
