"""A conversation as chat messages in the processor's format."""

from __future__ import annotations

from typing import Any

from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import fit_to_token_budget


def chat_messages(
    conversation: Conversation, settings: GenerationSettings, patch_factor: int
) -> list[dict[str, Any]]:
    """Chat messages in the processor's format. Images go in as PIL objects, never strings,
    so no path or URL from the user can reach transformers' image fetcher."""
    messages: list[dict[str, Any]] = []
    if conversation.system:
        messages.append(
            {"role": "system", "content": [{"type": "text", "text": conversation.system}]}
        )
    for turn in conversation.turns:
        content: list[dict[str, Any]] = [
            {
                "type": "image",
                "image": fit_to_token_budget(image, patch_factor, settings.max_image_tokens),
            }
            for image in turn.images
        ]
        content.append({"type": "text", "text": turn.text})
        messages.append({"role": turn.role, "content": content})
    return messages
