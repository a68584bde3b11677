"""The OpenAI wire format: family from served names, images as data URLs, replies parsed or
refused as garbage."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import LoadedImage
from vldesk.core.inference.remote.wire import (
    MalformedReplyError,
    chat_request,
    family_from_model_name,
    image_data_url,
    parse_chunk,
    parse_completion,
    parse_model_names,
    sse_events,
)
from vldesk.core.models.catalog import Family


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("Qwen/Qwen3-VL-2B-Instruct", Family.QWEN3_VL),
        ("qwen3_vl_4b", Family.QWEN3_VL),
        ("Qwen/Qwen2.5-VL-7B-Instruct-AWQ", Family.QWEN2_5_VL),
        ("qwen2.5-vl-3b-instruct-q4_k_m.gguf", Family.QWEN2_5_VL),
        ("Qwen/Qwen3.5-9B", Family.QWEN3_5),
        ("llava-1.6", None),
    ],
)
def test_the_family_is_read_from_the_served_name(name: str, family: Family | None) -> None:
    assert family_from_model_name(name) is family


def decoded(url: str) -> Image.Image:
    _, data = url.split(",", 1)
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_images_go_as_jpeg_resized_to_the_budget_and_png_with_alpha() -> None:
    photo = LoadedImage(Image.new("RGB", (1000, 500), (10, 20, 30)), "photo.jpg", (1000, 500))
    url = image_data_url(photo, 32, 64)
    assert url.startswith("data:image/jpeg;base64,")
    assert decoded(url).size == (352, 160)  # multiples of 32, at most 64 tokens
    clear = LoadedImage(Image.new("RGBA", (64, 64), (0, 0, 0, 0)), "logo.png", (64, 64), "PNG")
    assert image_data_url(clear, 32, 64).startswith("data:image/png;base64,")
    # Decoded to RGB for the model, but it had alpha: still lossless.
    logo = LoadedImage(Image.new("RGB", (64, 64)), "logo.png", (64, 64), "PNG", "RGBA")
    assert image_data_url(logo, 32, 64).startswith("data:image/png;base64,")


def test_a_request_carries_the_system_prompt_turns_and_greedy_decoding() -> None:
    image = LoadedImage(Image.new("RGB", (64, 64)), "a.png", (64, 64))
    conversation = Conversation(system="Be brief.").ask("What?", [image]).answered("A cat.")
    body = chat_request(
        "m",
        conversation.ask("Colour?"),
        GenerationSettings(max_new_tokens=9),
        factor=32,
        stream=True,
    )
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert body["messages"][1]["content"][1] == {"type": "text", "text": "What?"}
    assert body["temperature"] == 0.0
    assert body["max_tokens"] == 9
    assert body["stream_options"] == {"include_usage": True}
    sampled = chat_request(
        "m",
        conversation,
        GenerationSettings(greedy=False, temperature=0.7),
        factor=32,
        stream=False,
    )
    assert sampled["temperature"] == 0.7
    assert "stream_options" not in sampled


@pytest.mark.parametrize(
    "body",
    [{}, {"choices": []}, {"choices": [{"message": {"content": 3}}]}, ["choices"], "text", None],
)
def test_anything_but_a_chat_completion_is_garbage(body: object) -> None:
    with pytest.raises(MalformedReplyError):
        parse_completion(body)


def test_a_completion_and_a_stream_are_read_with_their_usage() -> None:
    reply = parse_completion(
        {
            "choices": [{"message": {"content": "Hi"}, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1},
        }
    )
    assert (reply.text, reply.finish_reason, reply.prompt_tokens, reply.completion_tokens) == (
        "Hi",
        "length",
        5,
        1,
    )
    lines = iter(
        [
            ": keep-alive",
            'data: {"choices": [{"delta": {"content": "Hel"}, "finish_reason": null}]}',
            "",
            'data: {"choices": [{"delta": {"content": "lo"}, "finish_reason": "stop"}]}',
            'data: {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}',
            "data: [DONE]",
            'data: {"never": "read"}',
        ]
    )
    chunks = [parse_chunk(event) for event in sse_events(lines)]
    assert chunks == [("Hel", None), ("lo", "stop"), ("", None)]
    with pytest.raises(MalformedReplyError):
        list(sse_events(iter(["data: <html>"])))
    with pytest.raises(MalformedReplyError):
        parse_chunk({"object": "something else"})


def test_a_model_list_must_be_one() -> None:
    assert parse_model_names({"data": [{"id": "a"}, {"id": ""}, {"x": 1}, {"id": "b"}]}) == [
        "a",
        "b",
    ]
    with pytest.raises(MalformedReplyError):
        parse_model_names({"models": []})
