"""An answer's result and figures, built alike by every engine that decodes tokens itself."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from vldesk.core.generation import (
    GenerationResult,
    GenerationSettings,
    GenerationStats,
    StopReason,
)
from vldesk.core.inference.thinking import strip_think


def build_result(
    text: str,
    reason: StopReason,
    *,
    model: str,
    device: str,
    dtype: str,
    prompt_tokens: int,
    image_tokens: int,
    new_tokens: int,
    started: float,
    first_token_at: float | None,
    finished: float,
    sampling: Mapping[str, object],
    thinking: bool = False,
    reused_tokens: int = 0,
    peak_memory_bytes: int | None = None,
    extra: Mapping[str, object] | None = None,
) -> GenerationResult:
    """The answer ``text`` (stripped, and its think block dropped where the model thinks) with
    its figures; the times are one clock's readings, ``first_token_at`` None where no token came.
    """
    first = first_token_at or finished
    stats = GenerationStats(
        prompt_tokens=prompt_tokens,
        image_tokens=image_tokens,
        new_tokens=new_tokens,
        time_to_first_token_s=first - started,
        # The first token's time is the prompt's: the decode rate counts those after it.
        decode_tokens_per_s=decode_rate(new_tokens - 1, finished - first),
        total_s=finished - started,
        device=device,
        dtype=dtype,
        peak_memory_bytes=peak_memory_bytes,
        model=model,
        reused_tokens=reused_tokens,
        sampling=dict(sampling),
    )
    if thinking:
        text = strip_think(text)
    return GenerationResult(text.strip(), reason, stats, dict(extra or {}))


def token_stop_reason(
    new_ids: Sequence[int],
    stop_ids: Sequence[int],
    settings: GenerationSettings,
    cancel: threading.Event,
) -> StopReason:
    """Why decoding ``new_ids`` stopped: cancelled, a stop token (unless ignored), or the limit."""
    if cancel.is_set():
        return StopReason.CANCELLED
    if new_ids and new_ids[-1] in stop_ids and not settings.ignore_eos:
        return StopReason.END_OF_TEXT
    return StopReason.MAX_TOKENS


def decode_rate(count: int, seconds: float) -> float:
    """Tokens per second, 0 where there is nothing to measure."""
    return count / seconds if count > 0 and seconds > 0 else 0.0
