"""The history's records (conversations, messages, thumbnails) and their conversion from rows."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from PIL import Image

from vldesk.core.generation import StopReason
from vldesk.core.images import to_rgb

#: Longest side of the stored thumbnail, in pixels.
THUMBNAIL_SIZE = 256
THUMBNAIL_QUALITY = 80
#: Characters of the first prompt / last answer kept in list summaries.
PREVIEW_CHARS = 200
#: The stop reason of an answer the user stopped (``StopReason.CANCELLED``'s value).
STOPPED = StopReason.CANCELLED.value


class HistoryWriter(Protocol):
    """The part of :class:`HistoryStore` that chat sessions and batch jobs write with."""

    def start_conversation(
        self,
        image_path: str | os.PathLike[str] | None,
        thumbnail_image: Image.Image | None,
        model: str,
    ) -> int: ...

    def add_message(
        self,
        conversation_id: int,
        role: str,
        text: str,
        *,
        model: str | None = None,
        settings: Mapping[str, Any] | None = None,
        stats: Mapping[str, Any] | None = None,
    ) -> int: ...


class ChatHistory(HistoryWriter, Protocol):
    """What a chat session needs besides writing: replacing answers and questions."""

    def delete_messages_from(self, conversation_id: int, message_id: int) -> int: ...


@dataclass(frozen=True)
class StoredMessage:
    """One prompt or answer as saved."""

    id: int
    conversation_id: int
    role: str
    text: str
    model: str
    settings: dict[str, Any]
    stats: dict[str, Any] | None
    created: datetime
    #: Why an answer ended ("end_of_text", "max_tokens", "cancelled"); ``None`` otherwise.
    stop_reason: str | None = None

    @property
    def stopped(self) -> bool:
        """The user stopped this answer before it was complete."""
        return self.stop_reason == STOPPED


@dataclass(frozen=True)
class ConversationSummary:
    """A row of the history list: enough to show it without loading every message."""

    id: int
    image_path: str | None
    model: str
    created: datetime
    updated: datetime
    #: The first prompt and the last answer, shortened to :data:`PREVIEW_CHARS`.
    title: str
    preview: str
    message_count: int
    #: A JPEG, longest side at most :data:`THUMBNAIL_SIZE`; ``None`` when none was stored.
    thumbnail: bytes | None


@dataclass(frozen=True)
class StoredConversation:
    """A conversation with all its messages, oldest first."""

    id: int
    image_path: str | None
    model: str
    created: datetime
    updated: datetime
    thumbnail: bytes | None
    messages: tuple[StoredMessage, ...]


def make_thumbnail(image: Image.Image, size: int = THUMBNAIL_SIZE) -> bytes:
    """A small JPEG of ``image`` (any mode; transparency on white), longest side <= ``size``."""
    thumb = to_rgb(image).copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return buffer.getvalue()


# --- conversions between rows and records -------------------------------------------------------


def search_words(query: str | None) -> list[str]:
    """Words of a search, with "quoted phrases" kept whole; quotes themselves are not searched."""
    if not query or not query.strip():
        return []
    words = []
    for phrase, word in re.findall(r'"([^"]*)"|(\S+)', query):
        # A stray quote (an unfinished phrase) is not part of the word.
        text = phrase.strip() if phrase else word.strip('"')
        if text:
            words.append(text)
    return list(dict.fromkeys(words))


def to_json(value: Mapping[str, Any]) -> str:
    # default=str: enums, paths and the like become readable text instead of an error.
    return json.dumps(dict(value), ensure_ascii=False, default=str)


def from_json(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def from_timestamp(seconds: float) -> datetime:
    """Stored UTC seconds as an aware datetime in the local time zone."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).astimezone()


def shorten(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def stop_reason_of(stats: Mapping[str, Any] | None) -> str | None:
    """The stop reason kept in an answer's stats (as the chat session writes them)."""
    reason = stats.get("stop_reason") if stats else None
    return reason if isinstance(reason, str) and reason else None
