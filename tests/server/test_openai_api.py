"""The official ``openai`` client against a running server (a FakeEngine behind it)."""

from __future__ import annotations

import logging

import httpx
import openai
import pytest

from tests.helpers.fake_engine import FakeEngine
from tests.server.conftest import KEY, StartServer, data_url, png_bytes
from vldesk.core.errors import GenerationError
from vldesk.server.config import Limits
from vldesk.server.runner import Server


def client(server: Server, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=30)


def image_part(data: bytes | None = None) -> dict[str, object]:
    return {"type": "image_url", "image_url": {"url": data_url(data)}}


def ask(text: str, *images: dict[str, object]) -> list[dict[str, object]]:
    return [{"role": "user", "content": [{"type": "text", "text": text}, *images]}]


def test_models_lists_the_loaded_model(start_server: StartServer) -> None:
    server = start_server(FakeEngine(name="tiny-vl"))
    assert [model.id for model in client(server).models.list()] == ["tiny-vl"]


def test_a_plain_answer_has_its_text_finish_reason_and_usage(start_server: StartServer) -> None:
    engine = FakeEngine()
    server = start_server(engine)
    reply = client(server).chat.completions.create(
        model="fake-model", messages=ask("what is this", image_part())
    )
    assert reply.choices[0].message.content == "what is this | image 1"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 6  # words: the FakeEngine streams words
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + 6
    assert engine.settings_seen[-1].greedy


def test_a_streamed_answer_arrives_in_pieces_that_add_up(start_server: StartServer) -> None:
    server = start_server(FakeEngine())
    stream = client(server).chat.completions.create(
        model="fake-model",
        messages=ask("stream me please", image_part()),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) > 1
    assert "".join(pieces) == "stream me please | image 1"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(pieces)


def test_several_images_turns_and_a_system_prompt_reach_the_engine(
    start_server: StartServer,
) -> None:
    engine = FakeEngine()
    server = start_server(engine)
    messages = [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": [{"type": "text", "text": "first"}, image_part()]},
        {"role": "assistant", "content": "premier"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "compare"},
                image_part(),
                image_part(png_bytes(color=(0, 0, 255))),
            ],
        },
    ]
    reply = client(server).chat.completions.create(model="fake-model", messages=messages)
    assert reply.choices[0].message.content == "compare | image 1, image 2, image 3"
    conversation = engine.asked[-1]
    assert conversation.system == "Answer in French."
    assert [(t.role, t.text, len(t.images)) for t in conversation.turns] == [
        ("user", "first", 1),
        ("assistant", "premier", 0),
        ("user", "compare", 2),
    ]
    assert conversation.images[2].image.getpixel((0, 0)) == (0, 0, 255)


def test_sampling_values_seed_and_length_reach_the_settings(start_server: StartServer) -> None:
    engine = FakeEngine()
    server = start_server(engine)
    reply = client(server).chat.completions.create(
        model="fake-model",
        messages=ask("one two three four five"),
        temperature=0.7,
        top_p=0.9,
        seed=7,
        max_completion_tokens=3,
    )
    settings = engine.settings_seen[-1]
    assert (settings.greedy, settings.temperature, settings.top_p, settings.seed) == (
        False,
        0.7,
        0.9,
        7,
    )
    assert settings.max_new_tokens == 3
    assert reply.choices[0].message.content == "one two three"
    assert reply.choices[0].finish_reason == "length"


@pytest.mark.parametrize("stream", [False, True])
def test_a_stop_sequence_cuts_the_answer(start_server: StartServer, stream: bool) -> None:
    server = start_server(FakeEngine(answer="alpha beta STOP gamma delta"))
    kwargs = {"model": "fake-model", "messages": ask("q"), "stop": ["STOP"]}
    if stream:
        chunks = list(client(server).chat.completions.create(stream=True, **kwargs))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        text = client(server).chat.completions.create(**kwargs).choices[0].message.content or ""
    assert text == "alpha beta "


def test_a_bad_image_is_a_400_that_says_why(start_server: StartServer) -> None:
    server = start_server(FakeEngine())
    with pytest.raises(openai.BadRequestError) as caught:
        client(server).chat.completions.create(
            model="fake-model", messages=ask("q", image_part(b"not an image at all"))
        )
    assert "image 1" in caught.value.message
    assert "not an image" in caught.value.message


@pytest.mark.parametrize(
    "url",
    ["https://example.com/cat.jpg", "http://10.0.0.1/a.png", "/etc/passwd", "file:///etc/passwd"],
)
def test_urls_and_paths_are_refused_not_fetched(start_server: StartServer, url: str) -> None:
    engine = FakeEngine()
    server = start_server(engine)
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]
    with pytest.raises(openai.BadRequestError) as caught:
        client(server).chat.completions.create(model="fake-model", messages=messages)
    assert "base64 data: URL" in caught.value.message
    assert engine.asked == []


def test_an_oversize_body_is_a_413_naming_the_limit(start_server: StartServer) -> None:
    server = start_server(FakeEngine(), limits=Limits(body_bytes=64 * 1024))
    big = png_bytes((400, 400)) + bytes(100 * 1024)
    with pytest.raises(openai.APIStatusError) as caught:
        client(server).chat.completions.create(
            model="fake-model", messages=ask("q", image_part(big))
        )
    assert caught.value.status_code == 413
    assert "limit of 64 KiB" in caught.value.message


def test_too_many_images_and_too_many_pixels_are_413s(start_server: StartServer) -> None:
    server = start_server(FakeEngine(), limits=Limits(images_per_request=2, image_pixels=10_000))
    with pytest.raises(openai.APIStatusError) as many:
        client(server).chat.completions.create(
            model="fake-model", messages=ask("q", image_part(), image_part(), image_part())
        )
    assert many.value.status_code == 413
    assert "at most 2" in many.value.message
    with pytest.raises(openai.APIStatusError) as huge:
        client(server).chat.completions.create(
            model="fake-model", messages=ask("q", image_part(png_bytes((200, 100))))
        )
    assert huge.value.status_code == 413
    assert "megapixels" in huge.value.message


def test_a_wrong_or_missing_key_is_a_401(start_server: StartServer) -> None:
    engine = FakeEngine()
    server = start_server(engine, api_key=KEY)
    with pytest.raises(openai.AuthenticationError):
        client(server, key="wrong").chat.completions.create(model="fake-model", messages=ask("q"))
    assert httpx.get(f"{server.url}/v1/models").status_code == 401
    assert client(server).chat.completions.create(model="fake-model", messages=ask("q")).choices
    assert len(engine.asked) == 1


def test_an_unknown_model_or_endpoint_is_a_404_error_object(start_server: StartServer) -> None:
    server = start_server(FakeEngine())
    with pytest.raises(openai.NotFoundError) as caught:
        client(server).chat.completions.create(model="gpt-4o", messages=ask("q"))
    assert "fake-model" in caught.value.message
    response = httpx.post(f"{server.url}/v1/embeddings", json={})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Unknown endpoint."


def test_a_failed_answer_is_a_500_without_internals(start_server: StartServer) -> None:
    engine = FakeEngine(
        failures={
            "boom": RuntimeError("secret internals at 0xdeadbeef"),
            "oom": GenerationError("The device ran out of memory."),
        }
    )
    server = start_server(engine)
    with pytest.raises(openai.InternalServerError) as caught:
        client(server).chat.completions.create(model="fake-model", messages=ask("boom"))
    body = caught.value.response.text
    assert "0xdeadbeef" not in body
    assert "Traceback" not in body
    with pytest.raises(openai.InternalServerError) as clear:
        client(server).chat.completions.create(model="fake-model", messages=ask("oom"))
    assert "ran out of memory" in clear.value.message
    assert client(server).chat.completions.create(model="fake-model", messages=ask("fine")).choices


def test_while_the_model_loads_the_answer_is_503_with_retry_after(
    start_server: StartServer,
) -> None:
    server = start_server(None)
    response = httpx.post(
        f"{server.url}/v1/chat/completions", json={"model": "x", "messages": ask("q")}
    )
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert "loading" in response.json()["error"]["message"]
    server.scheduler.attach(FakeEngine(name="x"))
    assert client(server).chat.completions.create(model="x", messages=ask("q")).choices


def test_bad_json_and_missing_messages_are_400s(start_server: StartServer) -> None:
    server = start_server(FakeEngine())
    url = f"{server.url}/v1/chat/completions"
    assert httpx.post(url, content=b"{not json").status_code == 400
    response = httpx.post(url, json={"model": "fake-model"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_cors_is_off_by_default(start_server: StartServer) -> None:
    server = start_server(FakeEngine())
    response = httpx.get(f"{server.url}/v1/models", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_the_key_never_reaches_the_logs(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = start_server(FakeEngine(failures={"boom": RuntimeError("x")}), api_key=KEY)
    with pytest.raises(openai.InternalServerError):
        client(server).chat.completions.create(model="fake-model", messages=ask("boom"))
    with pytest.raises(openai.AuthenticationError):
        client(server, key=KEY + "-wrong").models.list()
    assert caplog.records  # the failure was logged ...
    assert KEY not in caplog.text  # ... without the key
