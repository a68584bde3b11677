"""Ollama-style clients (``httpx``): /api/tags, /api/chat and /api/generate, NDJSON streaming."""

from __future__ import annotations

import base64
import json

import httpx

from tests.helpers.fake_engine import FakeEngine
from tests.server.conftest import KEY, StartServer, png_bytes


def b64_image() -> str:
    return base64.b64encode(png_bytes()).decode()


def test_tags_names_the_model(start_server: StartServer) -> None:
    server = start_server(FakeEngine(name="tiny-vl"))
    models = httpx.get(f"{server.url}/api/tags").json()["models"]
    assert [model["name"] for model in models] == ["tiny-vl"]


def test_chat_streams_ndjson_lines_that_add_up(start_server: StartServer) -> None:
    engine = FakeEngine()
    server = start_server(engine)
    body = {
        "model": "fake-model:latest",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "what is here", "images": [b64_image(), b64_image()]},
        ],
    }
    with httpx.stream("POST", f"{server.url}/api/chat", json=body, timeout=30) as response:
        assert response.status_code == 200
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert all(not line["done"] for line in lines[:-1])
    assert lines[-1]["done"] is True
    assert lines[-1]["done_reason"] == "stop"
    text = "".join(line["message"]["content"] for line in lines)
    assert text == "what is here | image 1, image 2"
    assert engine.asked[-1].system == "Be brief."


def test_generate_without_streaming_answers_in_one_object(start_server: StartServer) -> None:
    engine = FakeEngine()
    server = start_server(engine)
    body = {
        "model": "fake-model",
        "prompt": "caption this",
        "images": [b64_image()],
        "stream": False,
        "options": {"num_predict": 2, "temperature": 0},
    }
    reply = httpx.post(f"{server.url}/api/generate", json=body, timeout=30).json()
    assert reply["response"] == "caption this"
    assert reply["done"] is True
    assert reply["done_reason"] == "length"
    assert reply["eval_count"] == 2
    assert engine.settings_seen[-1].greedy


def test_errors_are_ollama_shaped(start_server: StartServer) -> None:
    server = start_server(FakeEngine(), api_key=KEY)
    headers = {"Authorization": f"Bearer {KEY}"}
    unknown = httpx.post(
        f"{server.url}/api/chat",
        json={"model": "llava", "messages": [{"role": "user", "content": "hi"}]},
        headers=headers,
    )
    assert unknown.status_code == 404
    assert "llava" in unknown.json()["error"]
    bad = httpx.post(
        f"{server.url}/api/generate",
        json={"model": "fake-model", "prompt": "q", "images": ["!!!"]},
        headers=headers,
    )
    assert bad.status_code == 400
    assert bad.json() == {"error": "Image 1 is not valid base64."}
    assert httpx.get(f"{server.url}/api/tags").status_code == 401
    assert httpx.get(f"{server.url}/api/nothing-here", headers=headers).json() == {
        "error": "Unknown endpoint."
    }


def test_an_empty_generate_only_checks_that_the_model_is_loaded(start_server: StartServer) -> None:
    engine = FakeEngine()
    server = start_server(engine)
    reply = httpx.post(f"{server.url}/api/generate", json={"model": "fake-model"}).json()
    assert (reply["done"], reply["done_reason"], reply["response"]) == (True, "load", "")
    assert engine.asked == []
