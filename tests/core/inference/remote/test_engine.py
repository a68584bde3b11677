"""RemoteEngine against a real ``vldesk serve`` (a FakeEngine behind it) and stand-ins."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.core.inference.remote.servers import (
    MODEL,
    garbage,
    shade_answer,
    shade_image,
    slow_engine,
    stand_in,
    streamed,
)
from tests.helpers.fake_engine import FakeEngine
from tests.server.conftest import StartServer
from vldesk.core.errors import GenerationError
from vldesk.core.generation import Conversation, GenerationSettings, StopReason
from vldesk.core.images import budget_size, load_image
from vldesk.core.inference.remote import Endpoint, RemoteEngine
from vldesk.core.inference.remote.endpoint import ServerBusyError
from vldesk.core.models.catalog import Family
from vldesk.server.config import Limits

KEY = "remote-key-5678"


def ask_about(path: Path, question: str = "Which shade?") -> Conversation:
    return Conversation().ask(question, [load_image(path)])


def test_connect_reads_the_served_model_and_its_family(start_server: StartServer) -> None:
    server = start_server(FakeEngine(name=MODEL))
    engine = RemoteEngine.connect(Endpoint.parse(server.url))  # /v1 is added
    assert engine.name == MODEL
    assert engine.family is Family.QWEN3_VL
    assert engine.capabilities.patch_factor == 32
    assert engine.placement.backend == "remote"
    assert engine.placement.device == f"{server.url}/v1"
    named = RemoteEngine.connect(Endpoint.parse(server.url), family=Family.QWEN2_5_VL)
    assert named.capabilities.patch_factor == 28


def test_a_server_still_loading_its_model_says_so(start_server: StartServer) -> None:
    loading = start_server()  # vldesk serve before its model is loaded: /v1/models is empty
    with pytest.raises(GenerationError, match="it may still be loading its model") as caught:
        RemoteEngine.connect(Endpoint.parse(loading.url))
    assert str(caught.value).startswith(f"{loading.url}/v1 lists no model yet")


def test_a_streamed_answer_its_figures_and_the_image_resized_here(
    start_server: StartServer, tmp_path: Path
) -> None:
    served = FakeEngine(name=MODEL, answer=shade_answer)
    server = start_server(served)
    shade_image(tmp_path / "big.png", 5, size=(1200, 900))
    engine = RemoteEngine.connect(Endpoint.parse(server.url + "/v1"))
    pieces: list[str] = []
    settings = GenerationSettings(max_image_tokens=64)
    result = engine.generate(ask_about(tmp_path / "big.png"), settings, on_text=pieces.append)
    assert result.text == "shade 5"
    assert pieces == ["shade", " 5"]
    assert result.stop_reason is StopReason.END_OF_TEXT
    assert result.stats.new_tokens == 2  # from the server's usage
    assert result.stats.prompt_tokens > 0
    assert result.stats.device == f"{server.url}/v1"
    (image,) = served.asked[-1].images
    # The wire carried the budgeted image, not the original.
    assert image.size == budget_size((1200, 900), 32, 64)
    assert served.settings_seen[-1].greedy


def test_cancel_closes_the_request_and_keeps_the_text_so_far(
    start_server: StartServer, tmp_path: Path
) -> None:
    cancel = threading.Event()
    served = slow_engine(0.05, answer="one two three four five six seven eight")
    server = start_server(served)
    shade_image(tmp_path / "a.png", 1)
    engine = RemoteEngine.connect(Endpoint.parse(server.url))

    def on_text(piece: str) -> None:
        if piece.strip() == "two":
            cancel.set()

    result = engine.generate(ask_about(tmp_path / "a.png"), on_text=on_text, cancel=cancel)
    assert result.stop_reason is StopReason.CANCELLED
    assert result.text.startswith("one two")
    assert "eight" not in result.text


def test_a_refused_key_says_so_and_the_key_goes_to_its_server_only(
    start_server: StartServer,
) -> None:
    server = start_server(FakeEngine(name=MODEL), api_key=KEY)
    with pytest.raises(GenerationError, match="refused the API key"):
        RemoteEngine.connect(Endpoint.parse(server.url, api_key="wrong"))
    engine = RemoteEngine.connect(Endpoint.parse(server.url, api_key=KEY))
    assert engine.name == MODEL
    assert KEY not in repr(engine.connection.endpoint)
    assert KEY not in engine.describe() + json.dumps(dict(engine.figures()))


def test_429_is_waited_out_as_retry_after_says(tmp_path: Path) -> None:
    def busy_once(count: int) -> tuple[int, dict[str, str], bytes]:
        if count <= 2:
            return 429, {"Retry-After": "0"}, b'{"error": {"message": "busy"}}'
        return 200, {"Content-Type": "text/event-stream"}, streamed("shade 3")

    shade_image(tmp_path / "a.png", 3)
    with stand_in(busy_once) as server:
        engine = RemoteEngine.connect(Endpoint.parse(server.url))
        # answer() leaves retries to the pool, saying how long to wait ...
        with pytest.raises(ServerBusyError) as busy:
            engine.answer(ask_about(tmp_path / "a.png"), GenerationSettings())
        assert busy.value.retry_after_s == 0
        # ... generate() waits and tries again itself.
        assert engine.generate(ask_about(tmp_path / "a.png")).text == "shade 3"
        assert server.chats == 3


def test_garbage_and_dead_servers_are_clear_errors(tmp_path: Path) -> None:
    shade_image(tmp_path / "a.png", 3)
    with stand_in(garbage) as server:
        engine = RemoteEngine.connect(Endpoint.parse(server.url))
        with pytest.raises(GenerationError, match="not JSON"):
            engine.answer(ask_about(tmp_path / "a.png"), GenerationSettings())
        url = server.url
    with pytest.raises(GenerationError, match="did not answer"):
        RemoteEngine.connect(Endpoint.parse(url))


def test_a_full_server_answers_429_through_the_real_scheduler(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server(slow_engine(0.02), limits=Limits(queue=1, retry_after_s=1))
    shade_image(tmp_path / "a.png", 2)
    engine = RemoteEngine.connect(Endpoint.parse(server.url))
    results: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(engine.generate(ask_about(tmp_path / "a.png")).text)
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == ["shade 2"] * 4


def test_endpoint_addresses_hide_credentials_and_warn_about_plain_http() -> None:
    endpoint = Endpoint.parse("http://user:s3cret@10.0.0.5:8000/v1/")
    assert endpoint.url == "http://10.0.0.5:8000/v1"
    assert endpoint.api_key == "s3cret"
    assert "s3cret" not in repr(endpoint)
    warning = endpoint.plain_http_warning()
    assert warning is not None
    assert "unencrypted" in warning
    assert Endpoint.parse("http://127.0.0.1:8000").plain_http_warning() is None
    assert Endpoint.parse("https://gpu.example.org/v1").plain_http_warning() is None
