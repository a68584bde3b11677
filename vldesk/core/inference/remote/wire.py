"""The OpenAI chat-completions wire format: requests from conversations, answers from replies."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from vldesk.core.errors import GenerationError
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import LoadedImage, fit_to_token_budget
from vldesk.core.models.catalog import Family

#: Images with (or decoded from) these modes go over the wire as PNG; everything else as JPEG.
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
JPEG_QUALITY = 90

#: Served names as vLLM, SGLang, llama.cpp and vldesk list them ("Qwen/Qwen3-VL-2B-Instruct",
#: "qwen2.5-vl-7b-instruct-q4_k_m.gguf"); the first that matches names the family.
_FAMILY_PATTERNS = (
    (re.compile(r"qwen3[._-]?5", re.IGNORECASE), Family.QWEN3_5),
    (re.compile(r"qwen3[._-]?vl", re.IGNORECASE), Family.QWEN3_VL),
    (re.compile(r"qwen2[._-]?5[._-]?vl", re.IGNORECASE), Family.QWEN2_5_VL),
)


class MalformedReplyError(GenerationError):
    """The server answered with something that is not an OpenAI chat completion."""


@dataclass(frozen=True)
class Reply:
    """What a chat completion says: the text, why it stopped, and its token counts."""

    text: str
    finish_reason: str | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def family_from_model_name(name: str) -> Family | None:
    """The Qwen family a served model's name names, or ``None`` when it names none."""
    for pattern, family in _FAMILY_PATTERNS:
        if pattern.search(name):
            return family
    return None


def image_data_url(loaded: LoadedImage, factor: int, max_tokens: int) -> str:
    """The image resized to the token budget on this side, as a base64 ``data:`` URL (the one
    made ahead for this budget where there is one)."""
    if loaded.wire is not None and loaded.wire[:2] == (factor, max_tokens):
        return loaded.wire[2]
    image = fit_to_token_budget(loaded, factor, max_tokens)
    buffer = io.BytesIO()
    # An image that had alpha (a logo, a screenshot) stays lossless; photos go as JPEG.
    if image.mode in _ALPHA_MODES or loaded.original_mode in _ALPHA_MODES:
        image.save(buffer, format="PNG")
        mime = "image/png"
    else:
        (image if image.mode == "RGB" else image.convert("RGB")).save(
            buffer, format="JPEG", quality=JPEG_QUALITY
        )
        mime = "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def chat_request(
    model: str,
    conversation: Conversation,
    settings: GenerationSettings,
    *,
    factor: int,
    stream: bool,
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/chat/completions`` for ``conversation``."""
    messages: list[dict[str, Any]] = []
    if conversation.system:
        messages.append({"role": "system", "content": conversation.system})
    for turn in conversation.turns:
        if turn.role == "assistant" or not turn.images:
            messages.append({"role": turn.role, "content": turn.text})
            continue
        parts: list[dict[str, Any]] = [
            {
                "type": "image_url",
                "image_url": {"url": image_data_url(image, factor, settings.max_image_tokens)},
            }
            for image in turn.images
        ]
        parts.append({"type": "text", "text": turn.text})
        messages.append({"role": "user", "content": parts})
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_tokens": settings.max_new_tokens,
        "stream": stream,
    }
    if settings.greedy:
        body["temperature"] = 0.0
    else:
        if settings.temperature is not None:
            body["temperature"] = settings.temperature
        if settings.top_p is not None:
            body["top_p"] = settings.top_p
    if settings.seed is not None:
        body["seed"] = settings.seed
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def parse_json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MalformedReplyError(f"The server's {what} is not JSON.") from None


def parse_completion(body: object) -> Reply:
    """The reply of an unstreamed chat completion.

    Raises:
        MalformedReplyError: ``body`` is not a chat completion.
    """
    try:
        choice = body["choices"][0]  # type: ignore[index]
        text = choice["message"]["content"]
        finish = choice.get("finish_reason")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise MalformedReplyError("The server's answer is not a chat completion.") from None
    if not isinstance(text, str) or not (finish is None or isinstance(finish, str)):
        raise MalformedReplyError("The server's answer is not a chat completion.")
    prompt, completion = usage_counts(body)
    return Reply(text, finish, prompt, completion)


def usage_counts(body: object) -> tuple[int | None, int | None]:
    """(prompt tokens, completion tokens) from a reply's ``usage``, where it has them."""
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return None, None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return (
        prompt if isinstance(prompt, int) else None,
        completion if isinstance(completion, int) else None,
    )


def parse_chunk(body: object) -> tuple[str, str | None]:
    """(new text, finish reason) of one streamed chunk; a usage-only chunk gives ``("", None)``."""
    if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
        raise MalformedReplyError("The server streamed something that is not a chat chunk.")
    if not body["choices"]:
        return "", None
    choice = body["choices"][0]
    delta = choice.get("delta") if isinstance(choice, dict) else None
    if not isinstance(delta, dict):
        raise MalformedReplyError("The server streamed something that is not a chat chunk.")
    text = delta.get("content") or ""
    finish = choice.get("finish_reason")
    if not isinstance(text, str):
        raise MalformedReplyError("The server streamed something that is not a chat chunk.")
    return text, finish if isinstance(finish, str) else None


def sse_events(lines: Iterator[str]) -> Iterator[object]:
    """The JSON payloads of a server-sent event stream, up to ``data: [DONE]``."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # comments, event names, keep-alives and blank separators
        data = line[5:].strip()
        if data == "[DONE]":
            return
        payload = parse_json(data.encode(), "stream")
        if isinstance(payload, dict) and "error" in payload:
            raise GenerationError(f"The server failed the answer: {error_message(payload)}")
        yield payload


def parse_model_names(body: object) -> list[str]:
    """The ids ``GET /v1/models`` lists.

    Raises:
        MalformedReplyError: ``body`` is not a model list.
    """
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise MalformedReplyError("The server's model list is not an OpenAI model list.")
    names = [item.get("id") for item in data if isinstance(item, dict)]
    return [name for name in names if isinstance(name, str) and name]


def error_message(body: object) -> str:
    """The message of an OpenAI (or Ollama-style) error body; empty where it has none."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return ""
