"""What generate is given: its config, and hooks that stream, cancel, suppress and time."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from vldesk.core.generation import GenerationSettings
from vldesk.core.inference.engine import TextCallback, TokenCallback
from vldesk.core.inference.prompt_interrupt import PromptInterrupt
from vldesk.core.inference.sampling import Sampling
from vldesk.core.inference.thinking import ThinkFilter


class CancelCriteria:
    """A transformers StoppingCriteria that stops every sequence once ``event`` is set."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        return torch.full(
            (input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device
        )


def make_streamer(
    tokenizer: Any,
    on_text: TextCallback,
    think_filter: ThinkFilter | None,
    on_token: TokenCallback | None,
) -> Any:
    """A TextStreamer that forwards decoded text to ``on_text`` and counts tokens (transformers
    calls ``put`` once with the prompt, then once per token); :class:`StepClock` times them."""
    from transformers import TextStreamer

    class CallbackStreamer(TextStreamer):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
            self.tokens = 0

        def put(self, value: Any) -> None:
            is_prompt = self.next_tokens_are_prompt
            super().put(value)
            if is_prompt:
                return
            self.tokens += 1
            if on_token is not None:
                on_token(self.tokens)

        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if think_filter is not None:
                text = think_filter.feed(text) + (think_filter.finish() if stream_end else "")
            if text:
                on_text(text)

    return CallbackStreamer()


class SuppressTokens:
    """A logits processor that makes ``token_ids`` impossible (``ignore_eos``)."""

    def __init__(self, token_ids: Sequence[int]) -> None:
        self.token_ids = list(token_ids)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        scores[:, self.token_ids] = float("-inf")
        return scores


class StepClock:
    """A StoppingCriteria that never stops; it notes when the first new token was produced,
    which also ends the prompt's between-layer checks (:class:`PromptInterrupt`)."""

    def __init__(self, interrupt: PromptInterrupt) -> None:
        self.interrupt = interrupt
        self.first_step_at: float | None = None

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        if self.first_step_at is None:
            self.first_step_at = time.perf_counter()
            self.interrupt.prompt_read()
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


def generation_config(
    settings: GenerationSettings,
    recommended: Sampling,
    stop_ids: list[int],
    pad_id: int,
    static_cache: bool,
) -> Any:
    """A fresh GenerationConfig: the settings' values, the model's recommended sampling where
    a setting is ``None``, and nothing else from the model's own generation config."""
    from transformers import GenerationConfig

    sampling = not settings.greedy
    used = settings.sampling(recommended)
    # Unset (None) fields are filled from the model's generation_config.json (sampling values),
    # which makes transformers warn under greedy decoding: greedy gets the neutral values.
    return GenerationConfig(
        max_new_tokens=settings.max_new_tokens,
        do_sample=sampling,
        temperature=used.temperature if sampling else 1.0,
        top_p=used.top_p if sampling else 1.0,
        top_k=used.top_k if sampling else 50,
        repetition_penalty=used.repetition_penalty,
        eos_token_id=stop_ids,
        pad_token_id=pad_id,
        cache_implementation="static" if static_cache else None,
    )
