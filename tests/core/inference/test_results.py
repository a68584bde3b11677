"""build_result and token_stop_reason: the figures and stop reason every decoding engine reports."""

from __future__ import annotations

import threading
from typing import Any

from vldesk.core.generation import GenerationResult, GenerationSettings, StopReason
from vldesk.core.inference.results import build_result, token_stop_reason

STOP = [7]


def result_of(text: str, **figures: Any) -> GenerationResult:
    """build_result with a 16-token prompt, 5 tokens, and the given figures."""
    defaults: dict[str, Any] = dict(model="m", device="cpu", dtype="float32", prompt_tokens=16)
    defaults.update(image_tokens=0, new_tokens=5, sampling={})
    return build_result(text, StopReason.END_OF_TEXT, **{**defaults, **figures})


def test_the_decode_rate_counts_the_tokens_after_the_first() -> None:
    result = result_of(
        "  an answer ", started=10.0, first_token_at=12.0, finished=14.0, extra={"ids": [1, 2]}
    )
    assert result.text == "an answer"
    assert result.stats.time_to_first_token_s == 2.0
    assert result.stats.decode_tokens_per_s == 2.0  # 4 tokens after the first, in 2 s
    assert result.stats.total_s == 4.0
    assert (result.stats.model, result.stats.device, result.stats.dtype) == ("m", "cpu", "float32")
    assert result.extra == {"ids": [1, 2]}


def test_no_token_means_no_rate_and_a_thinking_model_loses_its_think_block() -> None:
    result = result_of(
        "<think>hmm</think> yes",
        new_tokens=0,
        started=1.0,
        first_token_at=None,
        finished=3.0,
        thinking=True,
    )
    assert result.text == "yes"
    assert result.stats.time_to_first_token_s == 2.0  # no first token: the whole wait
    assert result.stats.decode_tokens_per_s == 0.0
    assert result.extra == {}


def test_the_stop_reason_is_cancel_then_a_stop_token_then_the_limit() -> None:
    settings, cancel = GenerationSettings(), threading.Event()
    assert token_stop_reason([1, 7], STOP, settings, cancel) is StopReason.END_OF_TEXT
    assert token_stop_reason([1, 2], STOP, settings, cancel) is StopReason.MAX_TOKENS
    assert token_stop_reason([], STOP, settings, cancel) is StopReason.MAX_TOKENS
    ignoring = GenerationSettings(ignore_eos=True)
    assert token_stop_reason([1, 7], STOP, ignoring, cancel) is StopReason.MAX_TOKENS
    cancel.set()
    assert token_stop_reason([1, 7], STOP, settings, cancel) is StopReason.CANCELLED
