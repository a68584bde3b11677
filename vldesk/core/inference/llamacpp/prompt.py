"""The prompt as the transformers path renders it, cut into pieces llama.cpp can read in turn."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vldesk.core.errors import GenerationError, ModelLoadError
from vldesk.core.generation import Conversation

#: What the Qwen templates write for one image; llama.cpp's projector adds the vision start
#: and end tokens itself, so the whole run is replaced by the image.
IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"
IMAGE_PAD = "<|image_pad|>"
# transformers' markers (private-use code points) for control tokens typed by the user.
_MARK_START = "\U000f0000"
_MARK_END = "\U000f0001"
#: Template files in the order transformers' processor prefers them.
_TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json", "tokenizer_config.json")


@dataclass(frozen=True)
class TextPiece:
    """Prompt text; ``special`` pieces may hold control tokens, the others are read as text."""

    text: str
    special: bool


@dataclass(frozen=True)
class ImagePiece:
    """The conversation's ``index``-th image (counted over all turns)."""

    index: int


PromptPiece = TextPiece | ImagePiece


def read_chat_template(folder: Path, embedded: str | None) -> str:
    """The folder's own chat template (its tokenizer files), else the one inside the GGUF."""
    for name in _TEMPLATE_FILES:
        path = folder / name
        if not path.is_file():
            continue
        if name.endswith(".jinja"):
            return path.read_text(encoding="utf-8")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        template = data.get("chat_template") if isinstance(data, dict) else None
        if isinstance(template, str) and template:
            return template
    if embedded:
        return embedded
    raise ModelLoadError(f"The model in {folder} has no chat template.")


class PromptRenderer:
    """Renders conversations with the model's chat template like transformers'
    ``apply_chat_template(..., sanitize_control_tokens=True)``: control tokens in the user's text
    are marked before rendering and read back as plain text."""

    def __init__(self, template: str, control_tokens: Iterable[str]) -> None:
        import jinja2
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        def raise_exception(message: str) -> None:
            raise jinja2.exceptions.TemplateError(message)

        def tojson(value: Any, indent: int | None = None, **_: Any) -> str:
            return json.dumps(value, indent=indent, ensure_ascii=False)

        environment = ImmutableSandboxedEnvironment(
            trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
        )
        environment.filters["tojson"] = tojson
        environment.globals["raise_exception"] = raise_exception
        self._template = environment.from_string(template)
        self.thinking_switch = "enable_thinking" in template
        longest_first = sorted(set(control_tokens), key=len, reverse=True)
        alternatives = "|".join(map(re.escape, longest_first)) or "(?!)"
        self._control_re = re.compile(alternatives)
        # A marked token, or a lone marker (a template's string method split a marked token).
        self._marked_re = re.compile(
            f"{_MARK_START}({alternatives}){_MARK_END}|[{_MARK_START}{_MARK_END}]"
        )

    def _mark(self, text: str) -> str:
        text = text.replace(_MARK_START, "").replace(_MARK_END, "")
        return self._control_re.sub(f"{_MARK_START}\\g<0>{_MARK_END}", text)

    def messages(self, conversation: Conversation) -> list[dict[str, Any]]:
        """The conversation as template messages, user strings marked, images as bare items."""
        messages: list[dict[str, Any]] = []
        if conversation.system:
            text = {"type": "text", "text": self._mark(conversation.system)}
            messages.append({"role": "system", "content": [text]})
        for turn in conversation.turns:
            content: list[dict[str, Any]] = [{"type": "image"} for _image in turn.images]
            content.append({"type": "text", "text": self._mark(turn.text)})
            messages.append({"role": turn.role, "content": content})
        return messages

    def render(self, conversation: Conversation) -> str:
        """The rendered prompt with the markers still in (thinking turned off, as vldesk does)."""
        if not conversation.turns or conversation.turns[-1].role != "user":
            raise GenerationError("The conversation must end with a question.")
        extra = {"enable_thinking": False} if self.thinking_switch else {}
        return str(
            self._template.render(
                messages=self.messages(conversation), add_generation_prompt=True, **extra
            )
        )

    def pieces(self, conversation: Conversation) -> list[PromptPiece]:
        """The prompt in reading order: template text, user text and images."""
        rendered = self.render(conversation)
        pieces: list[PromptPiece] = []
        images = 0
        # User text is marked, so a placeholder outside the markers is the template's own.
        for index, part in enumerate(rendered.split(IMAGE_PLACEHOLDER)):
            if index:
                pieces.append(ImagePiece(images))
                images += 1
            pieces.extend(self._text_pieces(part))
        if images != len(conversation.images):
            raise GenerationError(
                f"The chat template placed {images} images for {len(conversation.images)}."
            )
        return pieces

    def _text_pieces(self, text: str) -> list[TextPiece]:
        # Splitting gives [text, marked token or None, text, ...]: odd places are user tokens.
        found: list[TextPiece] = []
        for index, part in enumerate(self._marked_re.split(text)):
            if part:
                found.append(TextPiece(part, special=index % 2 == 0))
        return found
