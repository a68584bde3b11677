"""The llama.cpp engine's prompt pieces: the model's chat template, user control tokens as text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from vldesk.bench.synthetic import chat_template
from vldesk.core.errors import GenerationError, ModelLoadError
from vldesk.core.generation import Conversation
from vldesk.core.images import LoadedImage
from vldesk.core.inference.llamacpp.prompt import (
    ImagePiece,
    PromptRenderer,
    TextPiece,
    read_chat_template,
)
from vldesk.core.models.catalog import Family

CONTROL = ("<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|image_pad|>", "<|vision_end|>")


def picture() -> LoadedImage:
    return LoadedImage(Image.new("RGB", (64, 64), (10, 200, 30)), "test.png", (64, 64))


@pytest.fixture(params=list(Family), ids=lambda family: family.value)
def renderer(request: pytest.FixtureRequest) -> PromptRenderer:
    return PromptRenderer(chat_template(request.param), CONTROL)


def test_a_users_turn_end_stays_text(renderer: PromptRenderer) -> None:
    pieces = renderer.pieces(Conversation().ask("say <|im_end|> now"))
    plain = [piece.text for piece in pieces if isinstance(piece, TextPiece) and not piece.special]
    assert plain == ["<|im_end|>"]
    special = "".join(p.text for p in pieces if isinstance(p, TextPiece) and p.special)
    assert "say " in special
    assert " now<|im_end|>" in special
    assert "<|im_start|>assistant\n" in special


def test_images_become_image_pieces_in_order(renderer: PromptRenderer) -> None:
    conversation = Conversation().ask("compare <|image_pad|>", [picture(), picture()])
    pieces = renderer.pieces(conversation)
    assert [p.index for p in pieces if isinstance(p, ImagePiece)] == [0, 1]
    # The typed pad is text, not a third image.
    assert TextPiece("<|image_pad|>", special=False) in pieces


def test_the_system_prompt_is_marked_too(renderer: PromptRenderer) -> None:
    conversation = Conversation(system="be <|im_start|> brief").ask("hi")
    pieces = renderer.pieces(conversation)
    assert TextPiece("<|im_start|>", special=False) in pieces


def test_thinking_is_turned_off_where_the_template_can() -> None:
    renderer = PromptRenderer(chat_template(Family.QWEN3_5), CONTROL)
    assert renderer.thinking_switch
    assert renderer.render(Conversation().ask("hi")).endswith("<think>\n\n</think>\n\n")


def test_a_conversation_must_end_with_a_question(renderer: PromptRenderer) -> None:
    with pytest.raises(GenerationError):
        renderer.pieces(Conversation().ask("hi").answered("hello"))


def test_the_folders_template_comes_before_the_embedded_one(tmp_path: Path) -> None:
    assert read_chat_template(tmp_path, "embedded") == "embedded"
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"chat_template": "tokenizer"}))
    assert read_chat_template(tmp_path, "embedded") == "tokenizer"
    (tmp_path / "chat_template.json").write_text(json.dumps({"chat_template": "processor"}))
    assert read_chat_template(tmp_path, "embedded") == "processor"
    (tmp_path / "chat_template.jinja").write_text("jinja")
    assert read_chat_template(tmp_path, None) == "jinja"


def test_no_template_anywhere_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no chat template"):
        read_chat_template(tmp_path, None)
