"""Turns OpenAI and Ollama request bodies into a conversation and generation settings."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vldesk.core.errors import ImageLoadError
from vldesk.core.generation import Conversation, GenerationSettings, Turn
from vldesk.core.images import LoadedImage, load_image_bytes
from vldesk.server.config import Limits, size_text
from vldesk.server.errors import ApiError

#: The answer length when a request names none.
DEFAULT_MAX_TOKENS = 512
#: OpenAI allows at most this many stop sequences.
MAX_STOPS = 4


@dataclass(frozen=True)
class Question:
    """What one request asks: the conversation, how to answer it, and where to stop."""

    model: str
    conversation: Conversation
    settings: GenerationSettings
    stream: bool
    stops: tuple[str, ...] = ()
    include_usage: bool = False


class ImageReader:
    """Decodes a request's images, counting them against the per-request caps."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.count = 0

    def from_url(self, url: object) -> LoadedImage:
        """An OpenAI ``image_url``: only base64 ``data:`` URLs; nothing is ever fetched."""
        if not isinstance(url, str) or not url:
            raise ApiError(400, "An image_url needs a 'url' string.", param="messages")
        if url[:5].lower() != "data:":
            what = "URLs" if url.split(":", 1)[0].lower() in ("http", "https", "ftp") else "paths"
            raise ApiError(
                400,
                f"Image {what} are not fetched or read by this server: send each image inline as "
                "a base64 data: URL (data:image/jpeg;base64,...).",
                code="unsupported_image_url",
                param="messages",
            )
        header, _, payload = url.partition(",")
        if not header.lower().endswith(";base64"):
            raise ApiError(400, "Image data: URLs must be base64 encoded.", param="messages")
        return self.from_base64(payload)

    def from_base64(self, payload: object) -> LoadedImage:
        """A base64 image (Ollama's ``images`` entries); a data: URL is accepted too."""
        if not isinstance(payload, str):
            raise ApiError(400, "Images must be base64 strings.", param="images")
        if payload[:5].lower() == "data:":
            return self.from_url(payload)
        self.count += 1
        if self.count > self.limits.images_per_request:
            raise ApiError(
                413,
                f"Too many images: at most {self.limits.images_per_request} per request.",
                code="too_many_images",
            )
        # Base64 takes 4 characters per 3 bytes: refuse before decoding.
        if len(payload) // 4 * 3 > self.limits.image_bytes:
            raise ApiError(
                413,
                f"Image {self.count} is larger than the limit of "
                f"{size_text(self.limits.image_bytes)}.",
                code="image_too_large",
            )
        try:
            data = base64.b64decode(payload.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, f"Image {self.count} is not valid base64.") from None
        source = f"image {self.count}"
        try:
            return load_image_bytes(data, source, max_pixels=self.limits.image_pixels)
        except ImageLoadError as exc:
            if "too large" in str(exc):
                raise ApiError(
                    413,
                    f"{exc} (this server takes images up to "
                    f"{self.limits.image_pixels / 1e6:.0f} megapixels).",
                    code="image_too_large",
                ) from None
            raise ApiError(400, str(exc), code="invalid_image") from None


def _text(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(400, f"{what} must be a string.")
    return value


def _user_content(content: object, reader: ImageReader) -> tuple[str, list[LoadedImage]]:
    """An OpenAI user message's content: a string, or text and image_url parts."""
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise ApiError(400, "A message's content must be a string or a list of parts.")
    texts: list[str] = []
    images: list[LoadedImage] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            texts.append(_text(part.get("text"), "A text part's text"))
        elif kind == "image_url":
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, Mapping) else image_url
            images.append(reader.from_url(url))
        else:
            raise ApiError(400, f"Unsupported content part type: {kind!r}.", param="messages")
    return "\n".join(texts), images


def _finish_conversation(system: list[str], turns: list[Turn]) -> Conversation:
    if not turns or turns[-1].role != "user":
        raise ApiError(400, "The last message must be the user's.", param="messages")
    return Conversation(tuple(turns), "\n\n".join(system) or None)


def _settings(
    max_tokens: object, temperature: object, top_p: object, seed: object, limits: Limits
) -> GenerationSettings:
    def number(value: object, name: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ApiError(400, f"'{name}' must be a number.", param=name)
        return float(value)

    tokens = number(max_tokens, "max_tokens")
    if tokens is not None and (tokens < 1 or tokens != int(tokens)):
        raise ApiError(400, "'max_tokens' must be a whole number of at least 1.")
    wanted = int(tokens) if tokens is not None else DEFAULT_MAX_TOKENS
    new_tokens = min(wanted, limits.max_new_tokens)
    heat = number(temperature, "temperature")
    nucleus = number(top_p, "top_p")
    if nucleus is not None and not 0 < nucleus <= 1:
        raise ApiError(400, "'top_p' must be above 0 and at most 1.", param="top_p")
    if heat is not None and heat < 0:
        raise ApiError(400, "'temperature' must not be negative.", param="temperature")
    seed_value = number(seed, "seed")
    # Without a temperature above 0 the answer is greedy: the same request, the same answer.
    sampling = heat is not None and heat > 0
    return GenerationSettings(
        max_new_tokens=new_tokens,
        greedy=not sampling,
        temperature=heat if sampling else None,
        top_p=nucleus if sampling else None,
        seed=int(seed_value) if seed_value is not None else None,
    )


def _stops(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise ApiError(400, "'stop' must be a string or a list of strings.", param="stop")
    if len(stops) > MAX_STOPS:
        raise ApiError(400, f"At most {MAX_STOPS} stop sequences.", param="stop")
    return tuple(s for s in stops if s)


def _body(body: object) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def openai_chat(body: object, limits: Limits) -> Question:
    """``POST /v1/chat/completions``."""
    body = _body(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list.", param="messages")
    if body.get("n", 1) != 1:
        raise ApiError(400, "Only n=1 is supported.", param="n")
    reader = ImageReader(limits)
    system: list[str] = []
    turns: list[Turn] = []
    for message in messages:
        role = message.get("role") if isinstance(message, Mapping) else None
        content = message.get("content") if isinstance(message, Mapping) else None
        if role in ("system", "developer"):
            text, images = _user_content(content, reader)
            if images:
                raise ApiError(400, "A system message cannot hold images.", param="messages")
            system.append(text)
        elif role == "user":
            text, images = _user_content(content, reader)
            turns.append(Turn("user", text, tuple(images)))
        elif role == "assistant":
            text, _ = _user_content(content or "", ImageReader(Limits(images_per_request=0)))
            turns.append(Turn("assistant", text))
        else:
            raise ApiError(400, f"Unsupported message role: {role!r}.", param="messages")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    options = body.get("stream_options")
    return Question(
        model=_text(body.get("model"), "'model'"),
        conversation=_finish_conversation(system, turns),
        settings=_settings(
            max_tokens, body.get("temperature"), body.get("top_p"), body.get("seed"), limits
        ),
        stream=bool(body.get("stream", False)),
        stops=_stops(body.get("stop")),
        include_usage=isinstance(options, Mapping) and bool(options.get("include_usage")),
    )


def _ollama_settings(
    body: Mapping[str, Any], limits: Limits
) -> tuple[GenerationSettings, tuple[str, ...]]:
    options = body.get("options") or {}
    if not isinstance(options, Mapping):
        raise ApiError(400, "'options' must be an object.")
    settings = _settings(
        options.get("num_predict"),
        options.get("temperature"),
        options.get("top_p"),
        options.get("seed"),
        limits,
    )
    return settings, _stops(options.get("stop"))


def _ollama_images(value: object, reader: ImageReader) -> tuple[LoadedImage, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ApiError(400, "'images' must be a list of base64 strings.")
    return tuple(reader.from_base64(item) for item in value)


def ollama_chat(body: object, limits: Limits) -> Question:
    """``POST /api/chat``."""
    body = _body(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list.")
    reader = ImageReader(limits)
    system: list[str] = []
    turns: list[Turn] = []
    for message in messages:
        if not isinstance(message, Mapping):
            raise ApiError(400, "Each message must be an object.")
        role, text = message.get("role"), _text(message.get("content"), "A message's content")
        if role == "system":
            system.append(text)
        elif role == "user":
            turns.append(Turn("user", text, _ollama_images(message.get("images"), reader)))
        elif role == "assistant":
            turns.append(Turn("assistant", text))
        else:
            raise ApiError(400, f"Unsupported message role: {role!r}.")
    settings, stops = _ollama_settings(body, limits)
    return Question(
        model=_text(body.get("model"), "'model'"),
        conversation=_finish_conversation(system, turns),
        settings=settings,
        stream=body.get("stream", True) is not False,
        stops=stops,
    )


def ollama_generate(body: object, limits: Limits) -> Question:
    """``POST /api/generate``."""
    body = _body(body)
    reader = ImageReader(limits)
    prompt = _text(body.get("prompt"), "'prompt'")
    images = _ollama_images(body.get("images"), reader)
    system = _text(body.get("system"), "'system'")
    settings, stops = _ollama_settings(body, limits)
    return Question(
        model=_text(body.get("model"), "'model'"),
        conversation=Conversation(system=system or None).ask(prompt, images),
        settings=settings,
        stream=body.get("stream", True) is not False,
        stops=stops,
    )
