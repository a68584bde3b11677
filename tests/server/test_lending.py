"""A model lent to the server (the desktop app's): taken back and given again, and stopping."""

from __future__ import annotations

import threading
import time

import httpx

from tests.helpers.fake_engine import FakeEngine
from tests.server.conftest import StartServer
from tests.server.test_concurrency import HANG_S, Gate, chat_body, wait_for


def post_in_thread(url: str, prompt: str) -> tuple[threading.Thread, list[httpx.Response]]:
    responses: list[httpx.Response] = []

    def post() -> None:
        body = chat_body(prompt, stream=False)
        responses.append(httpx.post(f"{url}/v1/chat/completions", json=body, timeout=HANG_S))

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread, responses


def test_a_model_taken_back_answers_the_waiting_503_and_a_new_one_answers(
    start_server: StartServer,
) -> None:
    gate = Gate()
    server = start_server(FakeEngine(before_word=gate, max_batch=1))
    first, first_response = post_in_thread(server.url, "first")
    assert gate.entered.wait(HANG_S)
    second, second_response = post_in_thread(server.url, "second")
    assert wait_for(lambda: server.scheduler.in_flight() == 2)

    server.scheduler.detach("No model is loaded in the app.")
    second.join(HANG_S)
    assert second_response[0].status_code == 503
    assert second_response[0].json()["error"]["message"] == "No model is loaded in the app."
    assert second_response[0].headers["retry-after"]
    refused = httpx.post(f"{server.url}/v1/chat/completions", json=chat_body("x", stream=False))
    assert refused.status_code == 503
    assert httpx.get(f"{server.url}/v1/models").json()["data"] == []

    gate.open.set()  # the answer under way was already the engine's: it finishes
    first.join(HANG_S)
    assert first_response[0].status_code == 200
    assert wait_for(lambda: server.scheduler.in_flight() == 0)

    server.scheduler.attach(FakeEngine(name="fake-model"))
    again = httpx.post(f"{server.url}/v1/chat/completions", json=chat_body("again", stream=False))
    assert again.json()["choices"][0]["message"]["content"] == "again | image 1"


def test_stopping_cancels_a_batch_under_way(start_server: StartServer) -> None:
    words = {"said": 0}
    entered = threading.Event()

    def slow_word(index: int) -> None:
        words["said"] += 1
        entered.set()
        time.sleep(0.01)

    long_answer = " ".join(f"w{i}" for i in range(300))
    engine = FakeEngine(answer=long_answer, before_word=slow_word, max_batch=4)
    server = start_server(engine)
    post_in_thread(server.url, "blocker")
    assert entered.wait(HANG_S)
    # These wait behind the blocker, then go to the engine as one batch.
    waiting = [post_in_thread(server.url, f"batched {n}") for n in range(3)]
    assert wait_for(lambda: len(engine.batches) == 1)
    # The scheduler alone, its clients still connected: only stopping can cancel the batch.
    server.scheduler.stop(timeout_s=HANG_S)
    assert server.scheduler.in_flight() == 0
    for thread, responses in waiting:
        thread.join(HANG_S)
        text = responses[0].json()["choices"][0]["message"]["content"]
        assert len(text.split()) < 300  # cut short between words
    assert words["said"] < 1200
